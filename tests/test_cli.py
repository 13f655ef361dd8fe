import json
import subprocess
import sys

import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "memrnn", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_train_end_to_end(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--seq-length", "3", "--steps", "200", "--batch", "128", "--hidden", "6",
                 "--lr", "0.01", "--seed", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "evaluation MSE" in result.stdout
    assert "200/200" in result.stderr            # progress was shown
    for name in ("loss.png", "scatter.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diverged"] is False and summary["steps_done"] == 200
    assert summary["settings"]["seq_length"] == 3 and summary["settings"]["hidden"] == 6
    assert summary["settings"]["model"] == "rnn" and summary["settings"]["repeat"] == 0
    assert summary["record"]["machine"]["numpy"]
    assert 0 < summary["eval_mse"] < 1 / 3
    assert f"{summary['eval_mse']:.4g}" in result.stdout
    assert not list(out.glob(".*.tmp"))          # no temporary files left behind


def test_same_seed_same_result(tmp_path):
    results = []
    for name in ("a", "b"):
        r = run("train", "--seq-length", "2", "--steps", "20", "--batch", "32", "--quiet",
                "--out", str(tmp_path / name))
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""                     # --quiet: no progress bar
        results.append(json.loads((tmp_path / name / "summary.json").read_text())["eval_mse"])
    assert results[0] == results[1]


def test_divergence_exits_one_with_a_summary(tmp_path):
    r = run("train", "--seq-length", "10", "--steps", "100", "--batch", "64", "--lr", "1e6",
            "--quiet", "--out", str(tmp_path))
    assert r.returncode == 1
    assert "diverged" in r.stderr and "Traceback" not in r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["diverged"] is True
    assert not (tmp_path / "scatter.png").exists()


@pytest.mark.parametrize("args, words", [
    (["train", "--steps", "-5"], "steps must be a positive integer, got -5"),
    (["train", "--steps", "ten"], "ten"),
    (["train", "--lr", "0"], "lr must be a finite number > 0, got 0.0"),
    (["train", "--lr", "nan"], "lr must be a finite number > 0, got nan"),
    (["train", "--hidden", "2.5"], "--hidden"),
    (["train", "--dtype", "float16"], "--dtype"),
    (["train", "--model", "gru"], "--model"),
    (["train", "--optimizer", "rmsprop"], "--optimizer"),
    (["train", "--repeat", "-1"], "repeat must be a non-negative integer, got -1"),
    (["train", "--seq-length", "0"], "length must be a positive integer, got 0"),
    (["train", "--forget-bias", "inf"], "forget_bias must be finite"),
    (["train", "--bogus"], "--bogus"),
    (["fly"], "fly"),
    ([], "COMMAND"),
])
def test_bad_arguments_give_one_line_and_no_traceback(args, words):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "error" in lines[0] and words in lines[0]


def test_unwritable_output_is_a_clean_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = run("train", "--steps", "2", "--batch", "8", "--quiet", "--out", str(blocker / "sub"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"]])
def test_help(args):
    r = run(*args)
    assert r.returncode == 0
    assert r.stdout.startswith("usage: python -m memrnn")
    assert ("--seq-length" in r.stdout) == (args[0] == "train")


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("memrnn ")


def test_train_reproduces_a_run_of_a_sweep_exactly(tmp_path):
    """`memrnn train --seq-length T --repeat r` is run (T, r) of a sweep with the same settings."""
    from memrnn.run import run_one
    from memrnn.settings import PROFILES

    opts = ["--steps", "60", "--batch", "64", "--hidden", "5", "--eval-batches", "2",
            "--log-steps", "10", "--seed", "3"]
    r = run("train", "--seq-length", "4", "--repeat", "2", *opts, "--quiet", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    record = json.loads((tmp_path / "summary.json").read_text())["record"]
    settings = PROFILES["reference"].replace(steps=60, batch=64, hidden=5, eval_batches=2,
                                             log_steps=10, seed=3)
    in_sweep = run_one(settings.training(), 4, 2)
    assert record["eval_mse"] == in_sweep["eval_mse"]
    assert record["losses"] == in_sweep["losses"] and record["seed"] == [3, 4, 2]
    other = run_one(settings.training(), 4, 1)
    assert other["eval_mse"] != record["eval_mse"]


def test_train_takes_the_model_and_the_optimizer(tmp_path):
    r = run("train", "--seq-length", "3", "--steps", "30", "--batch", "32", "--hidden", "4",
            "--model", "lstm", "--optimizer", "adam", "--lr", "1e-3", "--quiet",
            "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["settings"]["model"] == "lstm" and summary["settings"]["optimizer"] == "adam"
    assert 0 < summary["eval_mse"] < 1


# ---------------------------------------------------------------------- sweep
def test_sweep_end_to_end_and_resume(tmp_path):
    out = tmp_path / "sweep"
    first = run("sweep", "--profile", "smoke", "--jobs", "2", "--out", str(out))
    assert first.returncode == 0, first.stderr
    # Overall progress: runs done out of the total, with the time left.
    assert "4/4 runs" in first.stderr and "left]" in first.stderr
    assert "| T | runs | solved |" in first.stdout and "Largest length solved reliably" in first.stdout
    data = json.loads((out / "results.json").read_text())
    assert len(data["runs"]) == 4
    for name in ("mse_vs_length.png", "success_rate.png", "loss_curves.png"):
        png = (out / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5000, name
    summary = (out / "summary.md").read_text()
    assert "4 runs trained now, 0 taken from results.json" in summary
    # Same command again: everything comes from the file.
    again = run("sweep", "--profile", "smoke", "--jobs", "1", "--quiet", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "0 runs trained now, 4 taken from results.json" in (out / "summary.md").read_text()
    assert json.loads((out / "results.json").read_text()) == data
    # Options override the profile; more repeats train only the new runs.
    more = run("sweep", "--profile", "smoke", "--repeats", "3", "--jobs", "1", "--quiet",
               "--out", str(out))
    assert more.returncode == 0, more.stderr
    assert "2 runs trained now, 4 taken" in (out / "summary.md").read_text()


def test_sweep_takes_the_model_and_records_it(tmp_path):
    out = tmp_path / "lstm"
    r = run("sweep", "--profile", "smoke", "--model", "lstm", "--hidden", "3", "--optimizer", "adam",
            "--lr", "1e-3", "--jobs", "2", "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads((out / "results.json").read_text())
    assert data["settings"]["model"] == "lstm" and data["settings"]["hidden"] == 3
    assert len(data["runs"]) == 4
    # A resumed sweep with the other model is refused, and the file is left as it was.
    clash = run("sweep", "--profile", "smoke", "--hidden", "3", "--optimizer", "adam", "--lr", "1e-3",
                "--jobs", "1", "--quiet", "--out", str(out))
    assert clash.returncode == 2 and "model 'lstm' (file) vs 'rnn' (now)" in clash.stderr, clash.stderr
    assert json.loads((out / "results.json").read_text()) == data


def test_sweep_refuses_a_results_file_from_other_settings(tmp_path):
    out = tmp_path / "sweep"
    assert run("sweep", "--profile", "smoke", "--lengths", "2", "--repeats", "1", "--quiet",
               "--jobs", "1", "--out", str(out)).returncode == 0
    clash = run("sweep", "--profile", "smoke", "--lengths", "2", "--repeats", "1", "--steps", "41",
                "--quiet", "--jobs", "1", "--out", str(out))
    assert clash.returncode == 2
    lines = clash.stderr.strip().splitlines()
    assert len(lines) == 1 and "different settings: steps 40 (file) vs 41 (now)" in lines[0]
    assert "Traceback" not in clash.stderr


@pytest.mark.parametrize("args, words", [
    (["--lengths", "0"], "each of lengths must be a positive integer, got 0"),
    (["--lengths"], "expected at least one"),
    (["--jobs", "two"], "invalid int value: 'two'"),
    (["--jobs", "0"], "jobs must be a positive integer, got 0"),
    (["--profile", "huge"], "invalid choice"),
    (["--threshold-bits", "-1"], "threshold_bits must be a finite number > 0"),
])
def test_sweep_bad_arguments(args, words, tmp_path):
    r = run("sweep", *args, "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr
