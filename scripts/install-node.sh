#!/usr/bin/env bash
# npm, from the system's package manager when it is missing: the site's MathJax and Pyodide
# (scripts/install-mathjax.sh, scripts/install-pyodide.sh) and the accessibility tests'
# axe-core come from the npm registry, checksum-pinned. Idempotent.
set -euo pipefail

if command -v npm >/dev/null 2>&1; then
    exit 0
fi
bash "$(dirname "$0")/install-system.sh" "the assets taken from the npm registry" npm
if ! command -v npm >/dev/null 2>&1; then
    echo "apt installed npm, but npm is not on PATH." >&2
    exit 1
fi
