#!/usr/bin/env bash
# Installs what building and testing Tonearm needs and a fresh Debian machine lacks.
# Usage: scripts/ensure-deps.sh build|test
#   build: cmake (libopus is built from source by the opus crate), pkg-config, node/npm (the web
#          app; its packages come from web/package-lock.json via scripts/build-web.sh)
#   test:  the above plus chromium (the web app's end-to-end tests), ffmpeg/ffprobe, the independent judge of every stream we serve, and
#          redis-server (tests start their own on loopback: shared limits and revocation),
#          and a Python venv in .cache/test-venv with python-socketio, the stock Socket.IO
#          client the room protocol tests drive, and s3s-fs (a real S3 server over a folder,
#          `cargo install`ed) for the object-storage tests, and librosa 0.11 in .cache/librosa-venv
#          (scripts/ensure-librosa.sh), the numerical judge of the audio analysis, and
#          fonts-noto-cjk, so the e2e screenshots show CJK names as users see them, not boxes
set -euo pipefail
want=(cmake pkg-config make npm)
[ "${1:-build}" = test ] && want+=(ffmpeg redis-server chromium fonts-noto-cjk)
missing=()
for pkg in "${want[@]}"; do
  case $pkg in
    pkg-config) command -v pkg-config >/dev/null || missing+=(pkg-config) ;;
    npm) command -v npm >/dev/null || missing+=(nodejs npm) ;;
    fonts-*) dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg") ;;
    *) command -v "$pkg" >/dev/null || missing+=("$pkg") ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "ensure-deps: installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The web app's build (Vite 7) needs Node.js 20.19 or newer.
node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number); console.log(a>20||(a===20&&b>=19)?1:0)' 2>/dev/null || echo 0)
if [ "$node_ok" != 1 ]; then
  echo "ensure-deps: Node.js $(node --version 2>/dev/null || echo '(none)') is too old for the web app's build; install Node.js 20.19+ (e.g. from nodejs.org or NodeSource) and run again" >&2
  exit 1
fi

if [ "${1:-build}" = test ]; then
  cd "$(dirname "$0")/.."
  venv=.cache/test-venv
  reqs=crates/tonearm/tests/rooms_client/requirements.txt
  if ! "$venv/bin/python" -c "import socketio, engineio, websocket, requests" 2>/dev/null; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
      echo "ensure-deps: installing python3 and python3-venv" >&2
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-venv >/dev/null
    fi
    echo "ensure-deps: creating $venv for the room protocol tests" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$reqs"
  fi
fi

if [ "${1:-build}" = test ]; then
  "$(dirname "$0")/ensure-librosa.sh"
fi

if [ "${1:-build}" = test ] && ! command -v s3s-fs >/dev/null; then
  echo "ensure-deps: installing s3s-fs (cargo install, a few minutes once)" >&2
  cargo install s3s-fs --version 0.14.1 --features binary --locked --quiet
fi
