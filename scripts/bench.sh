#!/usr/bin/env bash
# The benchmark suite (not part of the tests): one SGD step of the plain RNN, the
# fast RNN (float64 with both tanh code paths, float32), the LSTM and PyTorch; what
# each trick of the fast RNN bought; the step time against T, batch and hidden
# size; line profiles. Every timing is made twice over: with NumPy's default
# SIMD kernels and, in a subprocess, with its AVX-512 kernels switched off (an
# AVX2-only CPU, as far as NumPy is concerned; OpenBLAS keeps its own kernels).
# The step and ablation results go to memrnn/results/speed-*.json, shipped with
# the package for the book's "Making it fast"; the rest to benchmarks/results/
# and benchmarks/profiles/. Takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh bench
bash scripts/install-torch.sh

for dispatch in default avx2; do
    .venv/bin/python -m benchmarks.bench_step --dispatch "$dispatch"
    .venv/bin/python -m benchmarks.ablation --dispatch "$dispatch"
done
.venv/bin/python -m benchmarks.scaling
.venv/bin/python -m benchmarks.profile_step --dtype float64
.venv/bin/python -m benchmarks.profile_step --dtype float32
