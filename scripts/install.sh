#!/bin/sh
# Install voicebot into ./.venv (created if missing) with its development tools.
#
# Linux: PyPI's torch wheel is the CUDA build (several GB). voicebot runs on the CPU, so this
# installs the CPU-only torch first: a torch wheel in a folder pip is configured to look in
# (find-links) if there is one, otherwise from PyTorch's CPU index. pip then keeps that torch
# and installs its dependencies with voicebot's.
# macOS and Windows: PyPI's torch is already CPU-only; nothing special is done.
#
# Usage: scripts/install.sh            (PYTHON=python3.12 scripts/install.sh for another Python)
set -eu

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH="torch==2.13.0"  # the pin in pyproject.toml (tests/test_install.py keeps them equal)
CPU_INDEX="https://download.pytorch.org/whl/cpu"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "voicebot needs Python 3.11 or newer; run PYTHON=python3.11 $0" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=".venv/bin/pip"

if [ "$(uname -s)" = "Linux" ]; then
    if "$PIP" install --no-index --no-deps "$TORCH" >/dev/null 2>&1; then
        echo "torch: CPU build from a wheel already on this machine"
    else
        echo "torch: CPU-only build from $CPU_INDEX (about 200 MB instead of several GB)"
        "$PIP" install "$TORCH" --index-url "$CPU_INDEX"
    fi
fi
"$PIP" install -e ".[dev]"
echo "installed; try: .venv/bin/voicebot demo"
