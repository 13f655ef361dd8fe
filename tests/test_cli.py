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
    (["train", "--steps", "-5"], "--steps"),
    (["train", "--steps", "ten"], "ten"),
    (["train", "--lr", "0"], "--lr"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--hidden", "2.5"], "--hidden"),
    (["train", "--dtype", "float16"], "--dtype"),
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
