"""``memrnn grade``: hostile and broken hand-ins, each made from the student edition of chapter 1.

One batch of submissions is graded once per module (about half a minute on
two cores, most of it the one that loops until its timeout), and each test
reads what that run wrote.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from memrnn import _record, _replay, _sandbox, grade, selfcheck

jupytext = pytest.importorskip("jupytext", reason="the fixtures are made from the student edition, "
                                                  "which needs jupytext (memrnn[book])")
nbformat = pytest.importorskip("nbformat")

from tools.grade_fixtures import CORRECT_GENERATOR  # noqa: E402
from tools.student_edition import student_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30.0     # s: generous, so that a loaded machine times out only the loop
MEMORY = "1G"
MARKER = "memrnn-grade-test-sleeper"

GOOD = CORRECT_GENERATOR
LAST = GOOD.replace("yield x, x[0]", "yield x, x[-1]")


def _hostile(escapes: list, port: int) -> dict:
    """Code each fixture adds before the chapter's check, keyed by fixture name."""
    return {
        "loop": "while True:\n    pass\n",
        # 8 GiB, touched page by page: under a 1 GiB cap it stops at the first GiB; if
        # the cap failed, 8 GiB still fit on the 24 GiB machine the tests run on.
        "memory": ("import numpy as np\nblocks = []\nfor _ in range(128):\n"
                   "    block = np.empty(64 * 2**20, dtype=np.uint8)\n"
                   "    block[::4096] = 1\n    blocks.append(block)\n"),
        "exit": "import os\nprint('leaving early')\nos._exit(0)\n",
        "patched": (LAST + "import memrnn\nfrom memrnn import selfcheck\n"
                    "def always_passes(*args, **kwargs):\n"
                    "    report = selfcheck.Report('patched')\n"
                    "    report.add('y is the first element of each sequence', True)\n"
                    "    return report\n"
                    "for name in dir(selfcheck):\n"
                    "    if name.startswith('check_'):\n"
                    "        setattr(selfcheck, name, always_passes)\n"
                    "selfcheck.Report.passed = property(lambda self: True)\n"),
        "home": ("import os\n"
                 "open(os.path.expanduser('~/written-by-a-student'), 'w').write('x')\n"
                 f"for folder in {[str(p) for p in escapes]!r}:\n"
                 "    try:\n"
                 "        open(os.path.join(folder, 'memrnn-grade-escape'), 'w').write('x')\n"
                 "    except OSError as err:\n"
                 "        print('blocked:', err)\n"),
        "network": ("import socket\n"
                    f"socket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'hi')\n"),
        "forks": ("import subprocess\nstarted, refused = [], None\n"
                  "for _ in range(200):\n"
                  "    try:\n"
                  "        started.append(subprocess.Popen(\n"
                  f"            ['/bin/sh', '-c', 'sleep 600; :', '{MARKER}']))\n"
                  "    except OSError as err:\n"
                  "        refused = err\n"
                  "        break\n"
                  "print('processes started:', len(started))\n"
                  "print('alive at the end:', sum(p.poll() is None for p in started))\n"
                  "print('refused:', refused)\n"),
    }


def _write(nb, path: Path, code: str | None = None, *, name="Ada", number="12345", extra=None):
    nb = copy.deepcopy(nb)
    cells = nb.cells
    stub = next(i for i, c in enumerate(cells) if "stub" in c.metadata.get("tags", []))
    if code is not None:
        cells[stub].source = code
    if extra is not None:
        cells.insert(stub + 1, nbformat.v4.new_code_cell(extra))
    student = {"name": name}
    if number is not None:
        student["number"] = number
    nb.metadata["memrnn_student"] = student
    nbformat.write(nb, path)


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def _snapshot(folders) -> dict:
    out = {}
    for folder in folders:
        for path in Path(folder).rglob("*") if Path(folder).is_dir() else []:
            if path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


class _Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    subs, out, home = base / "submissions", base / "out", base / "home"
    subs.mkdir()
    home.mkdir()
    nb = student_notebook("01-data")
    listener = _Listener()
    escapes = [home, subs, Path.home(), ROOT]
    hostile = _hostile(escapes, listener.port)
    _write(nb, subs / "correct.ipynb", GOOD)
    _write(nb, subs / "last.ipynb", LAST)
    _write(nb, subs / "patched.ipynb", hostile.pop("patched"))
    for name, code in hostile.items():
        _write(nb, subs / f"{name}.ipynb", extra=code)
    (subs / "corrupt.ipynb").write_bytes(json.dumps(nbformat.v4.new_notebook())[:40].encode())
    _write(nb, subs / "nonumber.ipynb", number=None)
    before = _snapshot([subs, home])
    real_home = set(os.listdir(Path.home()))
    started = time.monotonic()
    rows = grade.grade(subs, out, timeout=TIMEOUT, memory=grade.parse_size(MEMORY), jobs=2,
                       progress=False)
    seconds = time.monotonic() - started
    time.sleep(0.5)
    listener.close()
    _write_table(rows, seconds)
    yield {"rows": {r.file: r for r in rows}, "out": out, "subs": subs, "home": home,
           "seconds": seconds, "n": len(rows), "listener": listener, "before": before,
           "after": _snapshot([subs, home]), "escapes": escapes,
           "real_home": (real_home, set(os.listdir(Path.home())))}


def _write_table(rows, seconds):
    """The fixture table, for the record: test-artifacts/grade/fixtures.md."""
    folder = Path(os.environ.get("MEMRNN_ARTIFACTS", ROOT / "test-artifacts")) / "grade"
    folder.mkdir(parents=True, exist_ok=True)
    full = grade.max_points(grade.EXERCISES["generator"])
    lines = [f"{len(rows)} fixtures graded in {seconds:.1f} s (2 jobs, timeout {TIMEOUT:g} s, "
             f"memory {MEMORY}); isolation:", _sandbox.isolation().describe(), "",
             "| file | status | points | seconds |", "|---|---|---|---|"]
    lines += [f"| {r.file} | {r.status} | {r.total()}/{full} | {r.seconds:.1f} |" for r in rows]
    (folder / "fixtures.md").write_text("\n".join(lines) + "\n")


EXPECTED = {"correct.ipynb": "ok", "last.ipynb": "ok", "patched.ipynb": "ok",
            "loop.ipynb": "timeout", "memory.ipynb": "memory", "exit.ipynb": "crashed",
            "home.ipynb": "ok", "network.ipynb": "ok", "forks.ipynb": "ok",
            "corrupt.ipynb": "unreadable", "nonumber.ipynb": "missing name/number"}


def test_every_submission_gets_a_row_with_the_right_status(batch):
    with open(batch["out"] / "grades.csv", newline="") as fh:
        rows = {r["file"]: r for r in csv.DictReader(fh)}
    assert {f: r["status"] for f, r in rows.items()} == EXPECTED
    assert rows["correct.ipynb"]["name"] == "Ada" and rows["correct.ipynb"]["student_number"] == "12345"
    assert rows["corrupt.ipynb"]["note"].startswith("not a readable notebook")


def test_only_the_correct_one_gets_full_marks_and_patching_the_check_gains_nothing(batch):
    rows = batch["rows"]
    full = grade.max_points(grade.EXERCISES["generator"])
    assert full >= 5
    assert [f for f, r in rows.items() if r.total() == full] == ["correct.ipynb"]
    # The patched check said "passed"; the package's check, in the grader, says otherwise.
    assert rows["patched.ipynb"].total() == rows["last.ipynb"].total() == full - 1
    feedback = (batch["out"] / "feedback" / "patched.ipynb.md").read_text()
    assert "**not yet**: y is the first element of each sequence" in feedback


def test_the_batch_finishes_within_the_timeouts(batch):
    assert batch["seconds"] <= batch["n"] * TIMEOUT + 60, batch["seconds"]
    # The one that loops was stopped at its deadline, not long after.
    assert TIMEOUT <= batch["rows"]["loop.ipynb"].seconds <= TIMEOUT + 10


def test_feedback_names_the_mistake_without_a_traceback(batch):
    text = (batch["out"] / "feedback" / "last.ipynb.md").read_text()
    assert "yours matches the last, x[-1]" in text
    for name in os.listdir(batch["out"] / "feedback"):
        body = (batch["out"] / "feedback" / name).read_text()
        assert "Traceback" not in body and 'File "' not in body, name
    summary = (batch["out"] / "summary.md").read_text()
    assert "| generate_samples (chapter 1) | 10 | 1 | 10% |" in summary
    assert "yours matches the last, x[-1]" in summary


def test_nothing_outside_the_output_changed(batch):
    assert batch["before"] == batch["after"]
    old, new = batch["real_home"]
    assert new == old, new ^ old
    if _sandbox.isolation().user is None:
        pytest.skip("files: this machine runs the notebook as the grading user, so a write to "
                    "a folder of that user is not blocked (see the isolation report)")
    written = [str(p) for p in batch["escapes"] if (p / "memrnn-grade-escape").exists()]
    assert written == []
    log = (batch["out"] / "logs" / "home.ipynb.txt").read_text()
    assert log.count("blocked:") == len(batch["escapes"]), log


def test_no_connection_and_no_process_left_behind(batch):
    if not _sandbox.isolation().blocks["network"].startswith("blocked"):
        pytest.skip(f"network: {_sandbox.isolation().blocks['network']}")
    assert batch["listener"].connections == 0
    assert "Network is unreachable" in (batch["out"] / "feedback" / "network.ipynb.md").read_text()
    assert _processes_with(MARKER) == []
    log = (batch["out"] / "logs" / "forks.ipynb.txt").read_text()
    # The cap is on processes alive at once: a shell that could not start its `sleep` exits
    # and frees its place, so more than the cap may be started one after another.
    assert "refused: [Errno 11]" in log, log
    alive = int(log.split("alive at the end:")[1].split()[0])
    assert alive <= _sandbox.PROCESSES, log


def test_a_second_run_regrades_only_what_changed(batch, monkeypatch, tmp_path):
    calls = []
    original = grade.grade_one

    def counted(path, **kwargs):
        calls.append(path.name)
        return original(path, **kwargs)

    monkeypatch.setattr(grade, "grade_one", counted)
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("correct.ipynb", "last.ipynb", "corrupt.ipynb"):
        (subs / name).write_bytes((batch["subs"] / name).read_bytes())
    out = tmp_path / "out"
    first = grade.grade(subs, out, timeout=TIMEOUT, memory=2**30, progress=False)
    assert sorted(calls) == ["correct.ipynb", "corrupt.ipynb", "last.ipynb"]
    nb = nbformat.read(subs / "last.ipynb", as_version=4)
    next(c for c in nb.cells if "stub" in c.metadata.get("tags", [])).source = GOOD
    nbformat.write(nb, subs / "last.ipynb")
    calls.clear()
    second = grade.grade(subs, out, timeout=TIMEOUT, memory=2**30, progress=False)
    assert calls == ["last.ipynb"]
    assert [r.total() for r in first] == [6, 0, 5] and [r.total() for r in second] == [6, 0, 6]


# ------------------------------------------------ record and replay, in one process
def _round_trip(check, obj, tmp_path, record_check=None):
    recorder = _record.Recorder()
    try:
        (record_check or check)(recorder.wrap(obj, "x"))
    except Exception:
        pass
    recorder.save(tmp_path, {})
    return check(_replay.Replayer(tmp_path).stand_in("x", isinstance(obj, type)))


@pytest.mark.parametrize("key", sorted(grade.EXERCISES))
def test_replayed_answers_get_the_verdicts_of_the_live_check(key, tmp_path):
    exercise = grade.EXERCISES[key]
    live = exercise.check(exercise.reference())
    replayed = _round_trip(exercise.check, exercise.reference(), tmp_path)
    assert live.passed and [i[:2] for i in replayed.items] == [i[:2] for i in live.items]


def test_replay_keeps_the_side_effects_a_check_looks_at(tmp_path):
    class Twice:                          # applies every update twice
        def __init__(self, model, loss_obj, data_generator):
            self.model, self.loss, self.data = model, loss_obj, data_generator
            self.loss_values = {}

        def train(self, iter_steps, lr, log_steps=50):
            for step in range(iter_steps):
                x, y = next(self.data)
                for _ in range(2):
                    value = self.loss.forward(self.model.forward(x), y)
                    self.model.backward(self.loss.backward())
                    self.model.update(lr)
                if step % log_steps == 0:
                    self.loss_values[step] = value

    live = selfcheck.check_learner(Twice)
    replayed = _round_trip(selfcheck.check_learner, Twice, tmp_path)
    assert "more than asked" in " ".join(live.failures)
    assert [i[:2] for i in replayed.items] == [i[:2] for i in live.items]

    def numerical_gradient(f, x, eps):    # one-sided, and leaves x perturbed
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            f0 = f(x)
            x[i] += eps
            g[i] = (f(x) - f0) / eps
        return g

    live = selfcheck.check_numerical_gradient(numerical_gradient)
    replayed = _round_trip(selfcheck.check_numerical_gradient, numerical_gradient, tmp_path)
    assert [i[:2] for i in replayed.items] == [i[:2] for i in live.items]
    assert not dict((n, ok) for n, ok, _ in live.items)["leaves x as it found it"]


def test_a_check_changed_in_the_students_process_answers_nothing(tmp_path):
    import memrnn

    def other_check(f):                   # asks different questions than the package's check
        return selfcheck.check_generator(f, batch_size=3, seq_length=2)

    report = _round_trip(selfcheck.check_generator, memrnn.generate_samples, tmp_path,
                         record_check=other_check)
    assert not report.passed
    assert "did the notebook change the check?" in report.failures[0]


def test_the_exercises_are_the_chapters_stubs():
    for exercise in grade.EXERCISES.values():
        nb = jupytext.read(ROOT / "book" / f"{exercise.chapter}.md")
        solution = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert [c.metadata["stub"]["name"] for c in solution] == [exercise.name]
    assert sorted(grade.BY_CHAPTER) == sorted(
        p.stem for p in (ROOT / "book").glob("*.md")
        if any("solution" in c.metadata.get("tags", []) for c in jupytext.read(p).cells))


@pytest.mark.parametrize("text, expected", [("1G", 2**30), ("512M", 512 * 2**20),
                                            ("2GiB", 2 * 2**30), ("100000000", 10**8)])
def test_memory_sizes(text, expected):
    assert grade.parse_size(text) == expected


@pytest.mark.parametrize("text", ["lots", "1X", "10M", ""])
def test_a_bad_memory_size_is_a_clear_error(text):
    with pytest.raises(ValueError, match="memory size|at least 64M"):
        grade.parse_size(text)


def test_the_command_line_grades_a_folder_and_refuses_a_missing_one(batch, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "correct.ipynb").write_bytes((batch["subs"] / "correct.ipynb").read_bytes())
    cmd = [sys.executable, "-m", "memrnn", "grade", str(subs), "-o", str(tmp_path / "out"),
           "--timeout", "60", "--memory", "1G", "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "correct.ipynb" in (tmp_path / "out" / "grades.csv").read_text()
    assert "network:" in proc.stderr        # the isolation report
    proc = subprocess.run(cmd[:4] + [str(tmp_path / "nowhere"), "-o", str(tmp_path / "o2")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "expected a folder of notebooks" in proc.stderr
    proc = subprocess.run(cmd[:-2] + ["10M"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "expected at least 64M" in proc.stderr, proc.stderr


def test_name_and_number_come_from_the_metadata_or_else_the_first_cell(tmp_path):
    nb = student_notebook("01-data")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("**Handed in by**\n\nName: Ada Lovelace  \n"
                                                     "Student number: 1815\n"))
    nbformat.write(nb, tmp_path / "lab.ipynb")
    sub = grade.read_submission(tmp_path / "lab.ipynb")
    assert (sub.chapter, sub.name, sub.number, sub.problem) == ("01-data", "Ada Lovelace", "1815", "")
    # The cells to run end above the chapter's check, which the grader runs itself.
    assert sub.cells and not any("selfcheck.check_" in c for c in sub.cells)
    nb.metadata["memrnn_student"] = {"name": "Grace Hopper", "number": "1906"}
    nbformat.write(nb, tmp_path / "page.ipynb")
    sub = grade.read_submission(tmp_path / "page.ipynb")
    assert (sub.name, sub.number) == ("Grace Hopper", "1906")
    del nb.metadata["memrnn_student_edition"]
    nbformat.write(nb, tmp_path / "other.ipynb")
    assert "not a chapter of the memrnn student edition" in grade.read_submission(
        tmp_path / "other.ipynb").problem


def test_a_notebook_filled_in_and_saved_in_jupyterlab_grades_as_that_student(tmp_path):
    """The student edition opens with the form the grader reads; no download from the page needed."""
    nb = student_notebook("01-data")
    assert "memrnn_student" not in nb.metadata
    form = nb.cells[0]
    assert form.cell_type == "markdown" and "student-id" in form.metadata["tags"]
    nbformat.write(nb, tmp_path / "untouched.ipynb")
    untouched = grade.read_submission(tmp_path / "untouched.ipynb")
    assert (untouched.name, untouched.number, untouched.problem) == ("", "", "")
    # As a student does in JupyterLab: type after each colon, write the exercise, save.
    form.source = (form.source.replace("- Name: ", "- Name: Ada Lovelace")
                   .replace("- Student number: ", "- Student number: s1815"))
    next(c for c in nb.cells if "stub" in c.metadata.get("tags", [])).source = GOOD
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(nb, subs / "ch1.ipynb")
    rows = grade.grade(subs, tmp_path / "out", timeout=TIMEOUT, memory=grade.parse_size(MEMORY),
                       progress=False)
    assert [(r.name, r.number, r.status) for r in rows] == [("Ada Lovelace", "s1815", "ok")]
    assert rows[0].total() == grade.max_points(grade.EXERCISES["generator"])
    assert "Ada Lovelace, s1815" in (tmp_path / "out" / "feedback" / "ch1.ipynb.md").read_text()


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: SUBMISSIONS_DIR, -o/--out"),
    (["{subs}"], "the following arguments are required: -o/--out"),
    (["{subs}", "-o", "{out}", "--timeout", "soon"], "argument --timeout: invalid float value"),
    (["{subs}", "-o", "{out}", "--timeout", "-1"], "expected a positive timeout"),
    (["{subs}", "-o", "{out}", "--memory", "lots"], "expected a memory size such as 1G"),
    (["{subs}", "-o", "{out}", "--jobs", "0"], "expected a positive number of jobs"),
    (["{subs}", "-o", "{subs}/out"], "must not be inside SUBMISSIONS_DIR"),
    (["{subs}", "-o", "{out}", "--no-such-option"], "unrecognized arguments: --no-such-option"),
])
def test_bad_grade_arguments_exit_2_with_one_line(args, message, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    argv = [a.format(subs=subs, out=out) for a in args]
    proc = subprocess.run([sys.executable, "-m", "memrnn", "grade", *argv], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stdout == "" and not out.exists() and os.listdir(subs) == []


def test_grade_help_names_every_option():
    proc = subprocess.run([sys.executable, "-m", "memrnn", "grade", "--help"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    for word in ("SUBMISSIONS_DIR", "--out OUT_DIR", "--timeout S", "--memory SIZE", "--jobs",
                 "--quiet", "determined attacker"):
        assert word in proc.stdout, word
