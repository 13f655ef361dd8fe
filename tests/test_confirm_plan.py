"""The confirmatory plan came first: its commit holds the section, and no run of it existed then.

Chapter 8 says that ``experiments/gating/PLAN.md``'s section "Confirmatory
experiment" was committed (``memrnn.confirm.PLAN_COMMIT``) before any of its
runs existed. That is a claim about the repository's history, so it is checked
there: the commit is an ancestor of HEAD, it adds the section, the section is
unchanged since, no run of the experiment is in the commit's tree, and every
commit that adds one descends from it.
"""

import re
import subprocess
from pathlib import Path

import pytest

from memrnn import confirm

ROOT = Path(__file__).resolve().parents[1]
PLAN = "experiments/gating/PLAN.md"
HEADING = "# Confirmatory experiment"
#: Where the experiment's runs live: raw, and shipped.
RUN_PATHS = re.compile(r"^(experiments/gating/runs/(confirm|chrono)-|memrnn/results/confirm/)")


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def history():
    try:
        shallow = git("rev-parse", "--is-shallow-repository").strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the history cannot be read")
    if shallow == "true":
        pytest.skip("a shallow clone: the plan's commit may be missing")
    return git("rev-parse", confirm.PLAN_COMMIT).strip()


def section(text):
    if HEADING not in text:
        return None
    return text[text.index(HEADING):]


def test_the_plan_commit_adds_the_section_and_it_is_unchanged_since(history):
    subprocess.run(["git", "merge-base", "--is-ancestor", history, "HEAD"], cwd=ROOT, check=True)
    before = git("show", f"{history}^:{PLAN}")
    at = git("show", f"{history}:{PLAN}")
    assert section(before) is None and section(at)
    assert section(at) == section((ROOT / PLAN).read_text())


def test_no_run_existed_when_the_plan_was_committed(history):
    tree = git("ls-tree", "-r", "--name-only", history).splitlines()
    assert not [p for p in tree if RUN_PATHS.match(p)]
    commits, current = set(), None
    for line in git("log", "--diff-filter=A", "--format=@@%H", "--name-only", "HEAD").splitlines():
        if line.startswith("@@"):
            current = line[2:]
        elif RUN_PATHS.match(line):
            commits.add(current)
    assert commits, "no commit adds a run of the confirmatory experiment"
    for c in commits:
        assert c != history
        subprocess.run(["git", "merge-base", "--is-ancestor", history, c], cwd=ROOT, check=True)


@pytest.mark.parametrize("path, planted", [
    ("experiments/gating/runs/confirm-lstm-0.0003/results.json", True),
    ("memrnn/results/confirm/chrono-grid-lstmlog-0.01.json", True),
    ("experiments/gating/runs/gating-grid-lstm-adam-0.01/results.json", False),
    ("memrnn/results/gating/confirm-lstm.json", False),
])
def test_the_run_paths_are_the_experiments_own(path, planted):
    assert bool(RUN_PATHS.match(path)) is planted
