#!/usr/bin/env bash
# Builds the browser app into web/dist (what the server serves at /). Installs its npm packages
# from the lock file first when they are missing or older than the lock; skips the build when
# dist is newer than every source file. Usage: scripts/build-web.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "build-web: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ "${1:-}" != --force ] && [ -f dist/index.html ] && \
   [ -z "$(find src index.html package-lock.json vite.config.ts tsconfig.json -newer dist/index.html -print -quit)" ]; then
  exit 0
fi
echo "build-web: building the web app" >&2
npm run --silent build
