"""The gradient at c_1 by the number of passes through U, for chapter 8.

Every LSTM arm's fresh-seed runs at GRID_LENGTH are probed at initialisation;
the first ``--trained`` runs of the arms named in ``TRAINED`` are trained
again from their seeds (``contest.hop_probe``) and probed after training. The
results go to ``memrnn/results/gating-hops.json``, written atomically after
every run, and a run already there is not done again.

    python scripts/probe-hops.py --trained 2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from memrnn import _io, contest, settings

TRAINED = (("lstm3", "adam"), ("chrono", "adam"), ("lstm3", "sgd"), ("chrono", "sgd"), ("lstm", "adam"))
OUT = Path(contest.__file__).parent / "results" / "gating-hops.json"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trained", type=int, default=2, help="runs per arm to train again (default 2)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--reverse", action="store_true",
                    help="work through the runs from the last (a second process, with its own --out)")
    ap.add_argument("--merge", type=Path, nargs="*", default=[],
                    help="add the probes of these files to --out (once each) and stop")
    args = ap.parse_args(argv)
    rates = contest.chosen_rates(contest.load_experiment()["grid"])
    done = json.loads(args.out.read_text())["probes"] if args.out.exists() else []
    if args.merge:
        keys = {(tuple(p["arm"]), p["repeat"], "final" in p) for p in done}
        for path in args.merge:
            for p in json.loads(path.read_text())["probes"]:
                if (tuple(p["arm"]), p["repeat"], "final" in p) not in keys:
                    keys.add((tuple(p["arm"]), p["repeat"], "final" in p))
                    done.append(p)
        _write(args.out, done)
        return
    have = {(tuple(p["arm"]), p["repeat"], "final" in p) for p in done}
    todo = [(arm, r, False) for arm in sorted(rates) if arm[0] in contest.LSTM_INITS
            for r in range(10)]
    todo += [(arm, r, True) for arm in TRAINED for r in range(args.trained)]
    if args.reverse:
        todo = todo[::-1]
    for arm, r, train in todo:
        if (arm, r, train) in have:
            continue
        probe = contest.hop_probe(arm, rates[arm], r, train=train)
        done.append(probe)
        _write(args.out, done)
        print(arm, r, "trained" if train else "init", probe.get("eval_mse"), f"{probe['cpu_time']:.0f} s",
              flush=True)


def _write(path, probes):
    order = {arm: i for i, arm in enumerate(contest.MODEL_LABELS)}
    probes = sorted(probes, key=lambda p: ("final" in p, order[p["arm"][0]], p["arm"][1], p["repeat"]))
    _io.write_json(path, {"format": "memrnn-hops-1", "length": settings.GRID_LENGTH, "max_hops": 2,
                          "probes": probes})


if __name__ == "__main__":
    main()
