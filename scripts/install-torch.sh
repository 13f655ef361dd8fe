#!/usr/bin/env bash
# Install PyTorch 2.13.0 (CPU) into .venv, but only from a wheel that this
# machine holds locally (pip's find-links, no index): never the multi-GB CUDA
# download. PyTorch is an optional test oracle and benchmark contender; it is
# never a dependency of memrnn. MEMRNN_TORCH=0 skips it. Always exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."

[ "${MEMRNN_TORCH:-1}" = 0 ] && { echo "==> MEMRNN_TORCH=0: not installing PyTorch"; exit 0; }
.venv/bin/python -c 'import torch' 2>/dev/null && exit 0
# First the wheel alone, from local files only: fails at once where there is none.
if .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
        --no-index 'torch==2.13.0' >/dev/null 2>&1; then
    echo "==> installed the local PyTorch 2.13.0 CPU wheel; now its dependencies"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check 'torch==2.13.0' \
        || echo "==> PyTorch's dependencies failed to install: its tests and benchmarks will be skipped"
else
    echo "==> no local PyTorch wheel: its tests and benchmarks will be skipped"
fi
exit 0
