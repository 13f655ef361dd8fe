#!/usr/bin/env bash
# Recompute the reference results that ship with memrnn (memrnn/results/*.json),
# each with `python -m memrnn sweep --profile NAME` on every core. Resumable:
# run it again after an interruption and only the missing runs are trained.
#
#   bash scripts/make-references.sh [NAME ...]     # default: all of them
#
# The runs go to references/NAME/ first; each finished profile is copied into
# memrnn/results/. On the 2-core machine the book is built on, the RNN
# profiles take about 25 minutes and the LSTM ones about 2 hours.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    mapfile -t names < <(.venv/bin/python -c 'from memrnn.results import REFERENCES; print("\n".join(REFERENCES))')
fi
for name in "${names[@]}"; do
    file="$(.venv/bin/python -c "from memrnn.results import REFERENCES; print(REFERENCES['$name'])")"
    echo "==> $name -> memrnn/results/$file"
    .venv/bin/python -m memrnn sweep --profile "$name" --out "references/$name" --quiet
    cp "references/$name/results.json" "memrnn/results/$file"
done
