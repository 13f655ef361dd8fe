#!/usr/bin/env bash
# The PDF edition of the book, from the HTML build that scripts/build-book.sh
# made: it calls this script itself after the site is built, so
# `bash scripts/build-book.sh` makes both. Run alone to print the PDF again:
#
#   bash scripts/build-pdf.sh [OUTPUT_DIR]
#
# OUTPUT_DIR is the folder given to build-book.sh (default: the repository
# root). Two steps, about 30 s together:
#  1. Sphinx's singlehtml builder renders the whole book as one page into
#     _build/singlehtml. It runs on the HTML build's Sphinx environment
#     (_build/.doctrees), so no chapter is executed again: the executed
#     notebooks are reused as they are. The log (_build/pdf/build.log) says
#     "0 added, 0 changed"; should it ever say "Executing notebook" (a source
#     changed since the HTML build), that is reported below.
#  2. tools/print_book.py prints that page with the system's Chromium into
#     _build/pdf/memrnn.pdf, and the site serves a copy as _build/html/memrnn.pdf.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

out="${1:-$repo}"
out="$(cd "$out" && pwd)"
build="$out/_build"
if [ ! -f "$build/.doctrees/environment.pickle" ] || [ ! -f "$build/html/index.html" ]; then
    echo "No HTML build in $build: run \`bash scripts/build-book.sh${1:+ $1}\` first." >&2
    exit 1
fi

# Chromium prints the page; poppler-utils' pdftotext numbers the contents.
bash scripts/install-browser.sh

export PATH="$repo/.venv/bin:$PATH"
unset MPLBACKEND
# The chapters' shared sweep folder, as in the HTML build, in case a chapter
# has to be read again.
export MEMRNN_BOOK_CACHE="$build/cache"
mkdir -p "$MEMRNN_BOOK_CACHE"

rm -rf "$build/singlehtml" "$build/pdf"
mkdir -p "$build/pdf"
start=$(date +%s)
echo "==> rendering the book as one page into $build/singlehtml"
.venv/bin/jupyter-book build "$repo" --builder singlehtml -W -n --keep-going \
    --path-output "$out" > "$build/pdf/build.log" 2>&1 || {
    tail -40 "$build/pdf/build.log" >&2
    echo "The single-page build failed; its log is $build/pdf/build.log" >&2
    exit 1
}
executed=$(grep -c "Executing notebook" "$build/pdf/build.log" || true)
if [ "$executed" != 0 ]; then
    echo "==> note: $executed notebooks were executed again (a source changed since the HTML build)"
fi

echo "==> printing it with Chromium into $build/pdf/memrnn.pdf"
.venv/bin/python tools/print_book.py "$build" "$build/pdf/memrnn.pdf"
cp "$build/pdf/memrnn.pdf" "$build/html/memrnn.pdf"
echo "==> PDF edition built in $(( $(date +%s) - start )) s ($executed notebooks executed):" \
     "$build/pdf/memrnn.pdf, served by the site as memrnn.pdf"
