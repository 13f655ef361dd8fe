"""The figures and tables of "Making it fast", read from the shipped benchmark results.

``benchmarks/`` writes ``memrnn/results/speed-*.json``; every time in them is the
CPU time of the process (``time.process_time``), with the wall-clock time and
the load average recorded next to it.
"""

from __future__ import annotations

import json

import numpy as np

from ._style import PALETTE, SERIES, get_axes

__all__ = ["plot_ablation", "plot_kernel_times", "at_length", "cpu_ms", "cpu_name", "headline"]


def load_speed_results() -> dict:
    """Every shipped ``memrnn/results/speed-<name>.json``, by ``<name>`` (``"kernels"``,
    ``"step-avx512"``, ``"ablation-avx2"``, ...)."""
    from importlib import resources

    folder = resources.files("memrnn") / "results"
    return {f.name[len("speed-"):-len(".json")]: json.loads(f.read_text(encoding="utf-8"))
            for f in folder.iterdir() if f.name.startswith("speed-") and f.name.endswith(".json")}


def at_length(data, T) -> dict:
    """The entry of a step or ablation result for sequence length ``T``."""
    for entry in data["results"]:
        if entry["T"] == T:
            return entry
    raise ValueError(f"no result for T = {T!r}; measured: {[e['T'] for e in data['results']]}")


def cpu_ms(data, T, name, mode="isolated") -> float:
    """Median CPU milliseconds of one training step of contender ``name`` at length ``T``."""
    timing = at_length(data, T)[mode]["timing"]
    if name not in timing:
        raise ValueError(f"no contender {name!r} at T = {T}; measured: {sorted(timing)}")
    return timing[name]["median_cpu_ms"]


def step_table(data, columns, mode="isolated") -> str:
    """A Markdown table of one training step: a row per length, a column per contender.

    ``columns`` is a list of (heading, contender name); the first is the base.
    Each cell gives the median CPU milliseconds, and the speed-up against the
    base in brackets.
    """
    if not columns:
        raise ValueError("columns is empty")
    base = columns[0][1]
    lines = ["| T | " + " | ".join(head for head, _ in columns) + " |",
             "|---:|" + "---:|" * len(columns)]
    for entry in data["results"]:
        T = entry["T"]
        ref = cpu_ms(data, T, base, mode)
        cells = [f"{cpu_ms(data, T, name, mode):.2f}" + ("" if name == base else
                 f" ({ref / cpu_ms(data, T, name, mode):.2f}×)") for _, name in columns]
        lines.append(f"| {T} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cpu_name(data) -> str:
    """The CPU a result was measured on, as its ``machine`` record names it, without the
    trademark signs ("Intel(R) Xeon(R) Processor" reads "Intel Xeon")."""
    name = data["machine"]["cpu"]
    for mark in ("(R)", "(TM)", "(tm)"):
        name = name.replace(mark, "")
    return " ".join(name.removesuffix(" Processor").split())


def headline(data, T=50, mode="isolated") -> tuple[float, float]:
    """``FastRNN`` in float64 against the plain RNN at length ``T``: the speed-up in CPU time,
    and the load average it was measured at (the mean of before and after the timed rounds)."""
    entry = at_length(data, T)[mode]
    load = (entry["loadavg_before"][0] + entry["loadavg_after"][0]) / 2
    return cpu_ms(data, T, "plain f64", mode) / cpu_ms(data, T, "fast f64 np.tanh", mode), load


TWINS = {"plain_twin": "plain", "fast_twin": "tanh_by_cpu"}


def twin_noise(ablations, twins=tuple(TWINS), modes=("isolated", "in_process")) -> list:
    """How far each twin's CPU time lies from its original's, in percent (twin over original, minus 1).

    A twin runs the same code as its original (``plain_twin`` and ``plain``,
    ``fast_twin`` and ``tanh_by_cpu``) in the same rounds, so the differences
    are the noise of the measurement. ``ablations`` is an iterable of ablation
    results; ``twins`` picks the twins, ``modes`` the ways of running them.
    """
    unknown = set(twins) - set(TWINS)
    if unknown:
        raise ValueError(f"unknown twins {sorted(unknown)}; there are {sorted(TWINS)}")
    out = []
    for data in ablations:
        for entry in data["results"]:
            for mode in modes:
                t = entry[mode]["timing"]
                for twin in twins:
                    out.append(100 * (t[twin]["median_cpu_ms"] / t[TWINS[twin]]["median_cpu_ms"] - 1))
    if not out:
        raise ValueError("no twins in these results")
    return out


def change_in_words(ratio, noise_pct=0.5) -> str:
    """A time ratio (before over after) in words: "12 % faster", "7 % slower", or, within
    ``noise_pct`` percent, "no faster and no slower"."""
    if not ratio > 0:
        raise ValueError(f"ratio must be a positive number, got {ratio!r}")
    pct = abs(ratio - 1) * 100
    if pct < noise_pct:
        return "no faster and no slower"
    return f"{pct:.0f} % {'faster' if ratio > 1 else 'slower'}"


def plot_ablation(panels, rungs, axes=None):
    """Speed-up against the plain RNN as each change of FastRNN is added.

    Parameters
    ----------
    panels : dict str -> dict int -> sequence of float
        Panel title (a NumPy dispatch path) -> sequence length T -> the
        speed-up after each rung, in the order of ``rungs``.
    rungs : sequence of str
        The names of the rungs, from the plain model (speed-up 1) down.

    Returns
    -------
    ndarray of matplotlib Axes, one per panel, sharing the rungs.
    """
    if not panels:
        raise ValueError("panels is empty")
    for title, lines in panels.items():
        for T, values in lines.items():
            if len(values) != len(rungs):
                raise ValueError(f"panel {title!r}, T = {T}: {len(values)} speed-ups for "
                                 f"{len(rungs)} rungs")
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(1, len(panels), figsize=(4.0 * len(panels), 4.2), sharey=True,
                               layout="constrained", squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    ypos = np.arange(len(rungs))[::-1]
    for ax, (title, lines) in zip(axes, panels.items()):
        for k, (T, values) in enumerate(lines.items()):
            colour, marker, ls = SERIES[k % len(SERIES)]
            ax.plot(values, ypos, color=PALETTE[colour], marker=marker, ls=ls, label=f"T = {T}")
        ax.axvline(1.0, color=PALETTE["black"], lw=1, ls=":")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("speed-up in CPU time against the plain RNN (×)")
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].set_yticks(ypos, list(rungs), fontsize="small")
    axes[-1].legend(loc="lower right", frameon=False, fontsize="small")
    return axes


def plot_kernel_times(series, operations, ax=None):
    """Time per call of a few NumPy operations, one bar per series.

    Parameters
    ----------
    series : dict str -> sequence of float
        Label (a NumPy dispatch path) -> CPU microseconds per call of each operation.
    operations : sequence of str
        The operations' labels, in the order of each series.
    """
    if not series:
        raise ValueError("series is empty")
    for label, values in series.items():
        if len(values) != len(operations):
            raise ValueError(f"series {label!r} has {len(values)} times for "
                             f"{len(operations)} operations")
    ax = get_axes(ax, figsize=(7.0, 4.2))
    y = np.arange(len(operations))[::-1]
    h = 0.8 / len(series)
    hatches = (None, "//", "..", "xx")
    for i, (label, values) in enumerate(series.items()):
        colour = SERIES[i % len(SERIES)][0]
        ax.barh(y + (len(series) / 2 - 0.5 - i) * h, values, height=h, color=PALETTE[colour],
                hatch=hatches[i % len(hatches)], edgecolor=PALETTE["black"], linewidth=0.5,
                label=label)
    ax.set_yticks(y, list(operations), fontsize="small")
    ax.set_xlabel("CPU time per call on a (1024, 10) array (µs)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower right", frameon=False, fontsize="small")
    return ax
