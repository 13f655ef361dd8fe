#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set up .venv, then run pytest.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k learner`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh test

# PyTorch is an optional test oracle for the RNN's gradients. Install it only
# when this machine holds the CPU wheel locally (pip's find-links, no index),
# never the multi-GB download; without it the oracle test is skipped.
# MEMRNN_TORCH=0 skips the attempt.
if [ "${MEMRNN_TORCH:-1}" != 0 ] && ! .venv/bin/python -c 'import torch' 2>/dev/null; then
    probe=$(mktemp -d)
    if .venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps \
            --no-index -d "$probe" 'torch==2.13.0' >/dev/null 2>&1; then
        echo "==> installing the local PyTorch 2.13.0 CPU wheel (test oracle)"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check 'torch==2.13.0'
    else
        echo "==> no local PyTorch wheel: the PyTorch oracle test will be skipped"
    fi
    rm -rf "$probe"
fi

echo "==> running the tests"
exec .venv/bin/python -m pytest "$@"
