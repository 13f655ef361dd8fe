#!/usr/bin/env bash
# The benchmark suite (not part of the tests): one SGD step for the baseline,
# memrnn and PyTorch at 1 and 2 threads, then scaling with T, batch, hidden
# size and worker processes, and a line profile. Results go to
# benchmarks/results/ and benchmarks/profiles/. Takes about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh bench
bash scripts/install-torch.sh

.venv/bin/python -m benchmarks.bench_step --threads 1
.venv/bin/python -m benchmarks.bench_step --threads 2
.venv/bin/python -m benchmarks.scaling
.venv/bin/python -m benchmarks.profile_step --dtype float64
.venv/bin/python -m benchmarks.profile_step --dtype float32
