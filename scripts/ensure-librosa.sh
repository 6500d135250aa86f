#!/usr/bin/env bash
# Creates .cache/librosa-venv with librosa 0.11.0, the numerical judge of tonearm-analysis
# (scripts/librosa/reference.py) and the librosa half of the analysis benchmark
# (scripts/librosa/bench.py). Idempotent: does nothing when the venv already imports librosa 0.11.0.
# Usage: scripts/ensure-librosa.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/librosa-venv
check='import librosa; assert librosa.__version__ == "0.11.0"'
if "$venv/bin/python" -c "$check" 2>/dev/null; then
  echo "ensure-librosa: $venv already has librosa 0.11.0" >&2
  exit 0
fi
sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
  echo "ensure-librosa: installing python3 and python3-venv" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-venv >/dev/null
fi
echo "ensure-librosa: creating $venv" >&2
rm -rf "$venv"
mkdir -p .cache
python3 -m venv "$venv"
echo "ensure-librosa: installing librosa==0.11.0 (numpy, scipy, soundfile, soxr, numba come with it)" >&2
"$venv/bin/pip" install -q --disable-pip-version-check librosa==0.11.0
"$venv/bin/python" -c "$check"
echo "ensure-librosa: $venv ready ($("$venv/bin/python" -c 'import librosa, numpy, scipy, numba; print("librosa", librosa.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__, "numba", numba.__version__)'))" >&2
