#!/usr/bin/env bash
# Chromium for the browser tests (tests/test_browser.py), from the system's
# package manager. Playwright, which drives it, comes with the `test` extra and
# is pointed at this browser: it never downloads one of its own.
# Also poppler-utils (pdftotext, pdfinfo, pdfimages, pdftoppm): the PDF edition
# (scripts/build-pdf.sh) numbers its contents with pdftotext, and
# tests/test_pdf.py reads the PDF with all four.
# Idempotent: with the browser and poppler-utils in place it does nothing.
set -euo pipefail

browser="${MEMRNN_CHROMIUM:-/usr/bin/chromium}"
packages=()
if [ ! -x "$browser" ]; then
    packages+=(chromium)
fi
for tool in pdftotext pdfinfo pdfimages pdftoppm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        packages+=(poppler-utils)
        break
    fi
done
if [ "${#packages[@]}" = 0 ]; then
    exit 0
fi
MEMRNN_APT_HINT="for Chromium, set MEMRNN_CHROMIUM to its executable" \
    bash "$(dirname "$0")/install-system.sh" "the browser tests and the PDF edition" "${packages[@]}"
if [ ! -x "$browser" ]; then
    echo "apt installed chromium, but $browser is not there; set MEMRNN_CHROMIUM." >&2
    exit 1
fi
if ! command -v pdftotext >/dev/null 2>&1; then
    echo "apt installed poppler-utils, but pdftotext is not on PATH." >&2
    exit 1
fi
