#!/usr/bin/env bash
# Installs what building and testing Tonearm needs and a fresh Debian machine lacks.
# Usage: scripts/ensure-deps.sh build|test
#   build: cmake (libopus is built from source by the opus crate), pkg-config
#   test:  the above plus ffmpeg/ffprobe, the independent judge of every stream we serve, and
#          redis-server (tests start their own on loopback: shared limits and revocation)
set -euo pipefail
want=(cmake pkg-config make)
[ "${1:-build}" = test ] && want+=(ffmpeg redis-server)
missing=()
for pkg in "${want[@]}"; do
  case $pkg in
    pkg-config) command -v pkg-config >/dev/null || missing+=(pkg-config) ;;
    *) command -v "$pkg" >/dev/null || missing+=("$pkg") ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "ensure-deps: installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
