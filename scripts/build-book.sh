#!/usr/bin/env bash
# Build the book from a fresh clone: set up .venv with the book's tools, then
# execute every chapter and render the HTML site into _build/html.
#
#   bash scripts/build-book.sh [--no-pdf] [OUTPUT_DIR]
#
# OUTPUT_DIR (default: the repository root) receives _build/html,
# _build/jupyter_execute and _build/notebooks (the notebooks the site offers, as
# plain Jupyter, with the memrnn wheel they install). The build starts from scratch every time, treats
# every Sphinx warning as an error (-W), checks every cross-reference (-n),
# and fails when any chapter raises. The log is kept in _build/build.log.
# Then it prints the PDF edition (scripts/build-pdf.sh) into _build/pdf, which
# the site offers for download; --no-pdf leaves it out.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

# --- PDF edition (scripts/build-pdf.sh): --no-pdf, anywhere, leaves it out ---
pdf=1
args=()
for arg in "$@"; do
    if [ "$arg" = "--no-pdf" ]; then pdf=0; else args+=("$arg"); fi
done
set -- ${args[@]+"${args[@]}"}
if [ "$pdf" = 1 ]; then
    export MEMRNN_PDF_EDITION=memrnn.pdf   # book/_ext/pdf_edition.py: the site links to it
else
    unset MEMRNN_PDF_EDITION
fi
# --- end PDF edition ---

bash scripts/setup.sh book
bash scripts/install-mathjax.sh   # the site serves its own MathJax: no CDN
# Run buttons (book/_ext/browser_run.py): Pyodide and the chapters' wheels in
# _vendor/pyodide. If they cannot be had, the book still builds, without Run
# buttons, and the build log says why in one line ("[browser-run] ...").
# MEMRNN_BROWSER_RUN=0 leaves the feature out altogether.
unset MEMRNN_PYODIDE_ERROR
if [ "${MEMRNN_BROWSER_RUN:-1}" != 0 ]; then
    pyodide_err="$(mktemp)"
    if ! bash scripts/install-pyodide.sh 2>"$pyodide_err"; then
        export MEMRNN_PYODIDE_ERROR="$(tail -n 1 "$pyodide_err")"
    fi
    cat "$pyodide_err" >&2
    rm -f "$pyodide_err"
fi

out="${1:-$repo}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -rf "$out/_build/html" "$out/_build/jupyter_execute" "$out/_build/.doctrees" \
       "$out/_build/cache" "$out/_build/notebooks"
mkdir -p "$out/_build/cache"
# Chapter 5's sweep and chapter 6's watched runs keep their results in this
# folder. It starts empty at every build, so no result can outlive a change in
# the package.
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
.venv/bin/python tools/student_edition.py book/_student

echo "==> building the book into $out/_build/html"
start=$(date +%s)
.venv/bin/jupyter-book build "$repo" --builder html --all -W -n --keep-going \
    --path-output "$out" 2>&1 | tee "$out/_build/build.log"
echo "==> book built in $(( $(date +%s) - start )) s: open $out/_build/html/index.html"
# book/_ext/plain_notebooks.py: the notebooks the site offers, for JupyterLab too (README).
echo "==> its notebooks, as plain Jupyter, and the memrnn wheel they install: $out/_build/notebooks"

# --- PDF edition: printed from this build, executing no chapter again ---
rm -rf "$out/_build/singlehtml" "$out/_build/pdf"
if [ "$pdf" = 1 ] && ! bash scripts/build-pdf.sh "$out"; then
    echo "The site is built, but its PDF edition failed (above); --no-pdf leaves it out." >&2
    exit 1
fi
# --- end PDF edition ---
