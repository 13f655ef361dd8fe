"""The sequence-length sweep: determinism, resuming, refusing, judging, and cleaning up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from memrnn import TRIVIAL_MSE
from memrnn.results import SweepResult, load_results
from memrnn.run import run_one
from memrnn.settings import FORMAT, PROFILES, SweepSettings
from memrnn.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
SMOKE = PROFILES["smoke"]


#: What a run record measures rather than computes: it differs between two runs of one seed.
TIMES = ("wall_time", "cpu_time")


def _results(res):
    """A sweep's results without the times, which are measurements, not results."""
    return [{k: v for k, v in r.items() if k not in TIMES} for r in res.runs]


# ------------------------------------------------------------------ settings
@pytest.mark.parametrize("changes, match", [
    ({"lengths": 5}, "sequence"),
    ({"lengths": ()}, "empty"),
    ({"lengths": (5, 5)}, "duplicates"),
    ({"lengths": (0, 5)}, "length"),
    ({"repeats": 0}, "repeats"),
    ({"lr": -1.0}, "lr"),
    ({"dtype": "float16"}, "dtype"),
    ({"clip": 0.0}, "clip"),
    ({"threshold_bits": 0}, "threshold_bits"),
    ({"reliable": 1.5}, "reliable"),
    ({"seed": -1}, "seed"),
    ({"model": "gru"}, "model"),
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"implementation": "numba"}, "implementation"),
    ({"forget_bias": float("nan")}, "forget_bias"),
])
def test_bad_settings_are_refused(changes, match):
    with pytest.raises((TypeError, ValueError), match=match):
        SMOKE.replace(**changes)


def test_unknown_profile_and_executor_are_refused():
    with pytest.raises(ValueError, match="profile"):
        run_sweep("huge", progress=False)
    with pytest.raises(TypeError, match="Executor"):
        run_sweep(SMOKE, executor=object(), progress=False)


def test_threshold_in_bits():
    assert SMOKE.replace(threshold_bits=1).threshold_mse == pytest.approx(1 / 12)
    assert SMOKE.replace(threshold_bits=0.5).threshold_mse == pytest.approx(TRIVIAL_MSE / 2)


# --------------------------------------------------------------- determinism
@pytest.fixture(scope="module")
def serial():
    return run_sweep(SMOKE, jobs=1, progress=False)


def test_a_run_depends_only_on_its_own_seed(serial):
    alone = run_one(SMOKE.training(), 4, 1)
    in_sweep = next(r for r in serial.runs if (r["length"], r["repeat"]) == (4, 1))
    assert {k: v for k, v in alone.items() if k not in TIMES} == \
           {k: v for k, v in in_sweep.items() if k not in (*TIMES, "success")}
    # Every run says where it was computed.
    assert alone["machine"]["numpy"] == np.__version__ and alone["machine"]["cpu"]
    other = run_one(SMOKE.training(), 4, 0)
    assert other["losses"] != alone["losses"]
    assert alone["seed"] == [SMOKE.seed, 4, 1]


def test_two_worker_processes_give_bitwise_the_same_results(serial):
    parallel = run_sweep(SMOKE, jobs=2, progress=False)
    assert _results(parallel) == _results(serial)
    assert parallel.computed == len(serial.runs) == 4


LSTM_SMOKE = SMOKE.replace(model="lstm", optimizer="adam", lr=1e-3)


#: The cluster runs in a child process, so that its scheduler's and client's sockets live
#: and die there: a socket that reaches pytest's last garbage collection unclosed fails the
#: whole session (filterwarnings = error), not one test.
_ON_DASK = """
import json, sys
import distributed
from memrnn.settings import SweepSettings
from memrnn.sweep import run_sweep

with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, \\
        distributed.Client(cluster) as client:
    for settings, out in zip(sys.argv[1::2], sys.argv[2::2]):
        run_sweep(SweepSettings.from_dict(json.loads(settings)), out,
                  executor=client.get_executor(), progress=False)
    print(json.dumps({"workers": len(client.scheduler_info()["workers"])}))
"""


def test_a_dask_cluster_gives_bitwise_the_same_results(serial, tmp_path):
    pytest.importorskip("distributed")
    lstm_serial = run_sweep(LSTM_SMOKE, jobs=1, progress=False)
    child = subprocess.run([sys.executable, "-c", _ON_DASK,
                            json.dumps(SMOKE.as_dict()), str(tmp_path / "rnn"),
                            json.dumps(LSTM_SMOKE.as_dict()), str(tmp_path / "lstm")],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert child.returncode == 0, child.stderr[-3000:]
    # The runs really went to the cluster's worker processes.
    assert json.loads(child.stdout.strip().splitlines()[-1]) == {"workers": 2}
    on_dask = load_results(tmp_path / "rnn" / "results.json")
    lstm_on_dask = load_results(tmp_path / "lstm" / "results.json")
    assert _results(on_dask) == _results(serial)
    # Either model: the LSTM's runs are the LSTM's, not the RNN's, and the same on the cluster.
    assert lstm_on_dask.settings.model == "lstm"
    assert _results(lstm_on_dask) == _results(lstm_serial)
    assert [r["losses"] for r in lstm_serial.runs] != [r["losses"] for r in serial.runs]


def test_summary_and_reliable_length(serial):
    rows = serial.summary()
    assert [r["length"] for r in rows] == [2, 4]
    for row in rows:
        runs = serial.by_length()[row["length"]]
        assert row["runs"] == 2
        assert row["successes"] == sum(r["eval_mse"] <= 1 / 12 for r in runs)
        assert row["median_mse"] == pytest.approx(np.median([r["eval_mse"] for r in runs]))
        assert row["rate_low"] <= row["success_rate"] <= row["rate_high"]
    table = serial.summary_table()
    assert table.count("\n") == 4 and "| 2 | 2 |" in table


def test_median_bits_is_the_median_of_each_runs_bits_with_a_diverged_run_at_zero():
    """Chapters 5, 6 and 8 read "median bits" the same way: the median over runs of each run's
    bits, not the bits of the median MSE (which differ when the two middle runs are averaged)."""
    from memrnn.information import bits_remembered

    def fake(repeat, mse):
        return {"length": 5, "repeat": repeat, "eval_mse": mse, "diverged": mse is None}
    mses = [1 / 12, 1 / 48, 0.3, 0.001]
    res = SweepResult(SMOKE.replace(lengths=(5,), repeats=4), [fake(r, m) for r, m in enumerate(mses)])
    row = res.summary()[0]
    per_run = np.median([bits_remembered(m) for m in mses])           # (1 + 2) / 2 = 1.5 bits
    assert row["median_bits"] == pytest.approx(per_run) == pytest.approx(1.5)
    assert row["median_bits"] != pytest.approx(float(bits_remembered(np.median(mses))))
    # a diverged run counts as 0 bits, and still counts in the median
    res = SweepResult(SMOKE.replace(lengths=(5,), repeats=3), [fake(0, None), fake(1, 0.3), fake(2, 1 / 48)])
    assert res.summary()[0]["median_bits"] == pytest.approx(float(bits_remembered(0.3)))
    res = SweepResult(SMOKE.replace(lengths=(5,), repeats=1), [fake(0, None)])
    assert res.summary()[0]["median_bits"] == 0.0 and res.summary()[0]["median_mse"] is None


def test_largest_reliable_length_needs_every_shorter_length():
    def fake(length, repeat, mse):
        return {"length": length, "repeat": repeat, "eval_mse": mse, "diverged": False}
    runs = [fake(5, r, 0.01) for r in range(5)] + \
           [fake(10, r, 0.01 if r < 3 else 0.3) for r in range(5)] + \
           [fake(20, r, 0.01) for r in range(5)]
    res = SweepResult(SMOKE.replace(lengths=(5, 10, 20), repeats=5), runs)
    # 10 succeeds in 3 of 5 runs (60 % < 80 %), so 20 does not count although it succeeded.
    assert res.largest_reliable_length() == 5
    assert SweepResult(res.settings.replace(reliable=0.6), runs).largest_reliable_length() == 20


# ---------------------------------------------------------- files and resume
def test_results_file_is_written_and_resumed_without_recomputing(tmp_path, serial):
    first = run_sweep(SMOKE, out=tmp_path, jobs=1, progress=False)
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["format"] == FORMAT and len(data["runs"]) == 4
    assert _results(first) == _results(serial)
    again = run_sweep(SMOKE, out=tmp_path, jobs=1, progress=False)
    assert again.computed == 0
    assert [r["wall_time"] for r in again.runs] == [r["wall_time"] for r in first.runs]
    # More repeats: only the new ones are trained.
    more = run_sweep(SMOKE.replace(repeats=3), out=tmp_path, jobs=1, progress=False)
    assert more.computed == 2 and len(more.runs) == 6
    # The threshold only judges; changing it is not a different experiment.
    judged = run_sweep(SMOKE.replace(threshold_bits=0.1), out=tmp_path, jobs=1, progress=False)
    assert judged.computed == 0 and all(r["success"] for r in judged.runs)


@pytest.mark.parametrize("change", [{"steps": 41}, {"lr": 0.02}, {"seed": 1}, {"hidden": 5},
                                    {"dtype": "float32"}, {"clip": 1.0}, {"model": "lstm"},
                                    {"optimizer": "adam"}, {"implementation": "plain"},
                                    {"forget_bias": 0.0}])
def test_a_results_file_from_other_settings_is_refused(tmp_path, change):
    run_sweep(SMOKE.replace(lengths=(2,), repeats=1), out=tmp_path, jobs=1, progress=False)
    before = (tmp_path / "results.json").read_text()
    key = next(iter(change))
    with pytest.raises(ValueError, match=f"different settings: {key}"):
        run_sweep(SMOKE.replace(lengths=(2,), repeats=1, **change), out=tmp_path, jobs=1,
                  progress=False)
    assert (tmp_path / "results.json").read_text() == before


def test_a_foreign_file_is_refused(tmp_path):
    (tmp_path / "results.json").write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="not a memrnn sweep results file"):
        run_sweep(SMOKE, out=tmp_path, jobs=1, progress=False)
    (tmp_path / "results.json").write_text("{broken")
    with pytest.raises(ValueError, match="invalid JSON"):
        run_sweep(SMOKE, out=tmp_path, jobs=1, progress=False)


_KILLABLE = SweepSettings(lengths=(3, 5, 7), repeats=3, steps=1500, batch=128, eval_batches=2)


def test_a_killed_sweep_loses_only_the_runs_in_flight(tmp_path):
    script = (
        "import sys\n"
        "from memrnn import sweep\n"
        "if __name__ == '__main__':\n"
        f"    sweep.run_sweep(sweep.SweepSettings(**{_KILLABLE.as_dict()!r}), out=sys.argv[1],\n"
        "                    jobs=1, progress=False)\n")
    results = tmp_path / "results.json"
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and len(json.loads(results.read_text())["runs"]) >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    # The file is whole (atomic writes) and holds the finished runs only.
    kept = json.loads(results.read_text())["runs"]
    total = len(_KILLABLE.lengths) * _KILLABLE.repeats
    assert 3 <= len(kept) < total
    assert not [p for p in os.listdir(tmp_path) if p != "results.json"], "a temporary file was left"

    resumed = run_sweep(_KILLABLE, out=tmp_path, jobs=1, progress=False)
    assert resumed.computed == total - len(kept)
    # The finished runs were kept as they were, not recomputed (same wall time) ...
    by_key = {(r["length"], r["repeat"]): r for r in resumed.runs}
    for r in kept:
        assert by_key[(r["length"], r["repeat"])]["wall_time"] == r["wall_time"]
    # ... and the whole equals an uninterrupted sweep.
    fresh = run_sweep(_KILLABLE, jobs=2, progress=False)
    assert _results(resumed) == _results(fresh)


# ---------------------------------------------------------------- divergence
def test_diverged_runs_are_recorded_as_such(tmp_path):
    wild = SMOKE.replace(lengths=(4,), repeats=2, lr=50.0, steps=200)
    res = run_sweep(wild, out=tmp_path, jobs=1, progress=False)
    assert all(r["diverged"] and r["eval_mse"] is None and not r["success"] for r in res.runs)
    assert all(isinstance(r["diverged_at"], int) for r in res.runs)
    assert all(np.isfinite(r["losses"]).all() for r in res.runs)
    text = (tmp_path / "results.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    row = res.summary()[0]
    assert row["diverged"] == 2 and row["successes"] == 0 and row["median_mse"] is None


# ------------------------------------------------------- a killed main process
def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"              # a zombie has exited; only its entry waits to be reaped


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_exit_when_the_sweep_is_killed_and_finished_runs_are_kept(tmp_path):
    args = ["sweep", "--lengths", "3", "5", "7", "9", "--repeats", "3", "--steps", "3000",
            "--batch", "128", "--eval-batches", "2", "--jobs", "2", "--quiet", "--out", str(tmp_path)]
    results = tmp_path / "results.json"
    proc = subprocess.Popen([sys.executable, "-m", "memrnn", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and len(json.loads(results.read_text())["runs"]) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        helpers = _children(proc.pid)          # the two workers and multiprocessing's tracker
        assert len(helpers) >= 2, helpers
        finished = len(json.loads(results.read_text())["runs"])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(map(_alive, helpers)):
            time.sleep(0.1)
        assert not [p for p in helpers if _alive(p)], "processes outlived the killed sweep"
    finally:
        if proc.poll() is None:
            proc.kill()
    kept = json.loads(results.read_text())["runs"]
    assert len(kept) >= finished
    settings = PROFILES["reference"].replace(lengths=(3, 5, 7, 9), repeats=3, steps=3000, batch=128,
                                             eval_batches=2)
    resumed = run_sweep(settings, out=tmp_path, jobs=1, progress=False)
    assert resumed.computed == 12 - len(kept)
    assert len(resumed.runs) == 12


def test_a_checkpoint_is_what_a_shorter_run_ends_with():
    for kind in ({}, {"model": "lstm", "optimizer": "adam", "lr": 1e-3}):
        long = SMOKE.replace(steps=60, checkpoints=(20, 40), **kind)
        run = run_one(long.training(), 3, 0)
        assert [k for k, _ in run["checkpoints"]] == [20, 40]
        for k, mse in run["checkpoints"]:
            short = run_one(long.replace(steps=k, checkpoints=()).training(), 3, 0)
            assert mse == short["eval_mse"], (kind, k)
        # The logged curve is the one a run without stops logs.
        plain = run_one(long.replace(checkpoints=()).training(), 3, 0)
        assert run["loss_steps"] == plain["loss_steps"] and run["losses"] == plain["losses"]
        assert run["eval_mse"] == plain["eval_mse"]
    with pytest.raises(ValueError, match="below steps"):
        SMOKE.replace(checkpoints=(40,))
