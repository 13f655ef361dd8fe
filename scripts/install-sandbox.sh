#!/usr/bin/env bash
# bubblewrap (`bwrap`), the sandbox `memrnn grade` runs every hand-in in, from the
# system's package manager (Debian and Ubuntu: the package bubblewrap). The grading
# tests (tests/test_grade.py) run hostile notebooks in it; without it the grader
# refuses to run untrusted code unless told --no-sandbox.
# Idempotent: with `bwrap` on PATH (or MEMRNN_BWRAP set) it does nothing.
set -euo pipefail

if [ -n "${MEMRNN_BWRAP:-}" ] || command -v bwrap >/dev/null 2>&1; then
    exit 0
fi
MEMRNN_APT_HINT="the package is usually called bubblewrap; or set MEMRNN_BWRAP to its executable" \
    bash "$(dirname "$0")/install-system.sh" "the grader's sandbox (memrnn grade)" bubblewrap
if ! command -v bwrap >/dev/null 2>&1; then
    echo "apt installed bubblewrap, but bwrap is not on PATH; set MEMRNN_BWRAP." >&2
    exit 1
fi
