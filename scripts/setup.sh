#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install
# memrnn into it, editable, with the extras named in $1 (e.g. "test" or "book").
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "memrnn needs Python >= 3.10; '$python' is $("$python" --version 2>&1 || echo missing)." >&2
    echo "Set PYTHON=/path/to/python3.1x and run again." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    # Debian and Ubuntu ship Python's venv module (with ensurepip) as a package of its own.
    if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
        version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        bash scripts/install-system.sh "Python's venv module, to create .venv" "python$version-venv"
    fi
    echo "==> creating .venv with $("$python" --version)"
    "$python" -m venv .venv
fi

target="."
[ -n "$extras" ] && target=".[$extras]"
echo "==> installing memrnn${extras:+ with extras [$extras]} into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$target"
