#!/usr/bin/env bash
# The test suite, from a fresh clone: set up .venv, lint, then run pytest.
#
#   bash scripts/test.sh            # everything: what CI runs (about 25 minutes on 2 cores)
#   bash scripts/test.sh --fast     # everything but the book, its notebooks and the browser
#                                   # (a few minutes): for iterating on the package
#
# Extra arguments go to pytest, e.g. `bash scripts/test.sh --fast -k learner`.
set -euo pipefail
cd "$(dirname "$0")/.."

fast=0
if [ "${1:-}" = "--fast" ]; then
    fast=1
    shift
fi

if [ "$fast" = 1 ]; then
    bash scripts/setup.sh test
else
    bash scripts/setup.sh test,lab     # the book's tools and JupyterLab: the tests build the book
    bash scripts/install-browser.sh    # Chromium (and poppler) for the browser and PDF tests
    bash scripts/install-axe.sh        # axe-core (npm, checksum-pinned) for the accessibility tests
fi
bash scripts/install-torch.sh          # optional oracle; the tests using it skip without it
bash scripts/install-sandbox.sh        # bubblewrap, the sandbox of memrnn grade and its tests

echo "==> linting (ruff, configured in pyproject.toml)"
.venv/bin/ruff check .

echo "==> running the tests"
if [ "$fast" = 1 ]; then
    exec .venv/bin/python -m pytest -m "not book and not browser" "$@"
fi
exec .venv/bin/python -m pytest "$@"
