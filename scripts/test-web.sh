#!/usr/bin/env bash
# The browser app's tests: vitest unit tests, then end-to-end tests in headless Chromium
# (playwright-core driving Debian's /usr/bin/chromium) against the real server on loopback.
# Needs the debug server binary (make test builds it first). Screenshots land in
# web/e2e-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-web.sh --force
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
export E2E_SERVER_BIN="${E2E_SERVER_BIN:-$target/debug/tonearm}"
cd web
rm -rf e2e-artifacts
status=0
echo "== web: unit tests (vitest)"
npx vitest run || status=1
echo "== web: end-to-end tests in Chromium"
node --test --test-concurrency=1 e2e/ || status=1
exit $status
