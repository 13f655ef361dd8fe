#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set up .venv, then run pytest.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k learner`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh test,lab    # the book's tools and JupyterLab: the tests build the book
bash scripts/install-browser.sh    # Chromium for tests/test_browser.py
bash scripts/install-torch.sh      # optional oracle; the test using it skips without it

echo "==> running the tests"
exec .venv/bin/python -m pytest "$@"
