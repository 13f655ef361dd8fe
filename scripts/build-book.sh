#!/usr/bin/env bash
# Build the book from a fresh clone. Until the book's chapters exist, this
# runs the package's demo: one training run at the reference settings, whose
# loss curve, scatter plot and summary land in _build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "==> demo: training at the reference settings (T = 10, 5000 updates)"
.venv/bin/python -m memrnn train --seq-length 10 --steps 5000 --hidden 10 --batch 1024 \
    --lr 1e-2 --seed 0 --out _build/demo
