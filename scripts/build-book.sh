#!/usr/bin/env bash
# Build the book from a fresh clone: set up .venv with the book's tools, then
# execute every chapter and render the HTML site into _build/html.
#
#   bash scripts/build-book.sh [OUTPUT_DIR]
#
# OUTPUT_DIR (default: the repository root) receives _build/html and
# _build/jupyter_execute. The build starts from scratch every time, treats
# every Sphinx warning as an error (-W), checks every cross-reference (-n),
# and fails when any chapter raises. The log is kept in _build/build.log.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

bash scripts/setup.sh book
bash scripts/install-mathjax.sh   # the site serves its own MathJax: no CDN

out="${1:-$repo}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -rf "$out/_build/html" "$out/_build/jupyter_execute" "$out/_build/.doctrees" \
       "$out/_build/cache"
mkdir -p "$out/_build/cache"
# Chapters 5 and 6 share one sweep through this folder. It starts empty at
# every build, so no result can outlive a change in the package.
export MEMRNN_BOOK_CACHE="$out/_build/cache"

# The chapters' kernels must import the memrnn of this checkout, from .venv.
export PATH="$repo/.venv/bin:$PATH"
# The kernels draw figures with IPython's inline backend, which turns each one
# into a PNG. A backend forced from outside (MPLBACKEND=Agg, as some CI
# set-ups do) would leave "<Figure size ...>" text in place of every figure.
unset MPLBACKEND

# The student edition: each chapter with its solution cells replaced by stubs.
# The chapters offer these notebooks for download, so they are made first.
echo "==> writing the student edition into book/_student"
rm -rf book/_student
.venv/bin/python book/_ext/student_edition.py book/_student

echo "==> building the book into $out/_build/html"
start=$(date +%s)
.venv/bin/jupyter-book build "$repo" --builder html --all -W -n --keep-going \
    --path-output "$out" 2>&1 | tee "$out/_build/build.log"
echo "==> book built in $(( $(date +%s) - start )) s: open $out/_build/html/index.html"
