"""Run one untrusted program in a fresh, limited process: what ``memrnn grade`` uses.

Each run gets

* a new session and process group, and where ``unshare`` works, its own PID
  namespace: at the deadline the whole group is killed, and every process the
  program started dies with it, even one that left the group;
* its own working directory (the caller's temporary folder) and an
  environment with only what Python and NumPy need (``HOME`` and ``TMPDIR``
  point into that folder);
* limits on CPU time, address space, processes, open files and file size
  (``resource.setrlimit``, set in the child before it starts the program);
* no network: its own network namespace, which holds nothing but a loopback
  device that is down (``unshare --net``);
* when the grader runs as root, the user ``nobody`` (``setpriv``), which may
  write only to its working directory and to the world-writable folders. It
  keeps one capability, reading any file (``CAP_DAC_READ_SEARCH``), because
  Python itself may live in root's home.

``isolation()`` says which of these this machine allows, and why not.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

NOBODY = 65534
FILE_SIZE = 64 * 2**20          # bytes one file may grow to
OPEN_FILES = 256
PROCESSES = 64                  # processes and threads of the user the program runs as
#: Variables passed on from the grader's environment when set: they choose the
#: SIMD kernels and cache sizes, which the machine's own settings should decide.
PASS_ON = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "TZ")


@dataclass
class Isolation:
    """What a run is wrapped in on this machine, and what it could not get."""

    prefix: list[str]
    user: int | None                    # the uid it runs as, when changed
    blocks: dict[str, str] = field(default_factory=dict)   # what -> how (or why not)

    def describe(self) -> str:
        return "\n".join(f"  {what}: {how}" for what, how in self.blocks.items())


def _works(argv: list[str]) -> tuple[bool, str]:
    try:
        proc = subprocess.run(argv + ["true"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as err:
        return False, str(err)
    if proc.returncode == 0:
        return True, ""
    lines = proc.stderr.strip().splitlines()
    return False, lines[-1] if lines else f"exit status {proc.returncode}"


@lru_cache(maxsize=1)
def isolation() -> Isolation:
    """Find out once which wrappers this machine allows."""
    unshare, setpriv = shutil.which("unshare"), shutil.which("setpriv")
    blocks = {"memory": "address space capped (RLIMIT_AS)",
              "CPU": "CPU time capped (RLIMIT_CPU) and a wall-clock deadline for the process group"}
    root = os.geteuid() == 0
    if unshare is None:
        why = "no `unshare` command (util-linux)"
        ns_prefix, ok = [], False
    else:
        ns_prefix = [unshare, "--net", "--pid", "--fork", "--kill-child"]
        if not root:
            ns_prefix[1:1] = ["--user", "--map-root-user"]
        ok, why = _works(ns_prefix + ["--"])
    if not ok:
        ns_prefix = []
        blocks["network"] = f"NOT blocked: no network namespace ({why})"
        blocks["processes"] = "process group killed at the deadline; a process that leaves it survives"
    else:
        blocks["network"] = "blocked: own network namespace, with no interface up"
        blocks["processes"] = ("own PID namespace: everything the code starts dies with it; "
                               f"at most {PROCESSES} processes and threads")
    user = None
    prefix = ns_prefix + ["--"] if ns_prefix else []
    if root and setpriv is not None:
        drop = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                "--inh-caps=-all,+dac_read_search", "--ambient-caps=+dac_read_search",
                "--no-new-privs", "--"]
        ok, why = _works(prefix + drop)
        if ok:
            prefix, user = prefix + drop, NOBODY
    if user is not None:
        blocks["files"] = ("writes blocked outside the working directory, except the "
                           "world-writable folders (/tmp, /var/tmp, /dev/shm): runs as nobody; "
                           "reading is not blocked")
    elif root:
        blocks["files"] = ("NOT blocked: runs as root, since `setpriv` is missing or failed "
                           f"({why}); only the working directory and HOME are its own")
    else:
        blocks["files"] = ("NOT blocked beyond your own permissions: it runs as you; only the "
                           "working directory and HOME are its own")
    if not ns_prefix and not root:
        blocks["processes"] += f"; at most {PROCESSES} more processes of your user"
    return Isolation(prefix=prefix, user=user, blocks=blocks)


def clean_environment(workdir: Path) -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir),
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(workdir / ".matplotlib"),
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           # One thread each: several submissions run side by side.
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.setdefault("LANG", "C.UTF-8")
    for name in PASS_ON:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _user_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


@dataclass
class Outcome:
    returncode: int | None
    timed_out: bool
    seconds: float


def run(argv: list[str], workdir: Path, timeout: float, memory: int) -> Outcome:
    """Run ``argv`` in ``workdir`` with the limits; kill everything it started at ``timeout`` s.

    stdout and stderr go to ``workdir/stdout.txt`` and ``stderr.txt`` (each capped by the
    file-size limit).
    """
    iso = isolation()
    workdir = Path(workdir)
    nproc = PROCESSES if (iso.user is not None or os.geteuid() == 0) else _user_processes() + PROCESSES
    cpu = max(1, int(timeout) + 1)

    def limits():
        # In the child, after fork and before exec: the limits hold for everything it starts.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE, FILE_SIZE))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

    if iso.user is not None:
        os.chown(workdir, iso.user, iso.user)
        for path in workdir.iterdir():
            os.chown(path, iso.user, iso.user)
    env = clean_environment(workdir)
    started = time.monotonic()
    with open(workdir / "stdout.txt", "wb") as out, open(workdir / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(iso.prefix + argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True,
                                preexec_fn=limits, close_fds=True)
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            proc.wait()
    return Outcome(proc.returncode, timed_out, time.monotonic() - started)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def python_argv(module: str) -> list[str]:
    """This Python, isolated from the user's site and PYTHON* variables, running ``module``."""
    return [sys.executable, "-I", "-m", module]
