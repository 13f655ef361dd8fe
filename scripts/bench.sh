#!/usr/bin/env bash
# The benchmark suite (not part of the tests): the operations one time step is
# made of, on three NumPy dispatch levels (AVX-512, and emulated AVX2 and SSE);
# what each change of the fast RNN bought, and one that was measured and left
# out, with NumPy's default kernels and, in a subprocess, with its AVX-512
# kernels switched off (an AVX2-only CPU, as far as NumPy is concerned;
# OpenBLAS keeps its own kernels); one SGD step of the plain RNN, the fast RNN
# (float64 with both tanh code paths, float32), the LSTM and PyTorch; the step
# time against T, batch and hidden size; line profiles; `memrnn grade` on 50
# correct notebooks (wall time, one process per core). Every time is CPU time
# of the process, with the wall-clock time and the load average recorded next
# to it. The kernel, ablation and step results go to memrnn/results/speed-*.json,
# shipped with the package for the book's "Making it fast"; the rest to
# benchmarks/results/ and benchmarks/profiles/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh bench,book     # book: jupytext, for grade_batch's student notebooks
bash scripts/install-torch.sh

.venv/bin/python -m benchmarks.kernels
for dispatch in default avx2; do
    .venv/bin/python -m benchmarks.ablation --dispatch "$dispatch"
done
.venv/bin/python -m benchmarks.bench_step
.venv/bin/python -m benchmarks.scaling
.venv/bin/python -m benchmarks.profile_step --dtype float64
.venv/bin/python -m benchmarks.profile_step --dtype float32
.venv/bin/python -m benchmarks.grade_batch --n 50
