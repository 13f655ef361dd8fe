"""Draw the README's figure from the shipped reference runs: how often the RNN remembers, by length.

    python tools/readme_figure.py [OUTPUT.png]      # default: docs/success-rate.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from memrnn import plots, results

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "docs" / "success-rate.png"


def draw(out: Path = DEFAULT) -> Path:
    reference = results.reference_results("reference")
    ax = plots.plot_success_rate(reference, label="RNN, H = 10, 5000 updates of SGD")
    ax.set_title("Runs that remember the first number (at least 1 bit), of 20 per length",
                 fontsize="medium")
    out.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(out, dpi=110)
    return out


if __name__ == "__main__":
    print(draw(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
