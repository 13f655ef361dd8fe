"""Run one untrusted program under bubblewrap: what ``memrnn grade`` runs each hand-in in.

Each run gets, from ``bwrap`` (Debian package ``bubblewrap``):

* new mount, PID (with its own ``/proc``), network, IPC, UTS and cgroup
  namespaces, a new session, and death with the grader (``--die-with-parent``);
* a file system that shows read-only only the Python installation, the
  installed ``memrnn`` and its dependencies (``/usr`` too, for the C
  libraries), and as writable only size-capped tmpfs that vanish with it: its
  work folder (``/sandbox``, also ``HOME``), ``/tmp``, ``/var/tmp`` and
  ``/dev/shm``. No ``/root``, no ``/home``, no ``/etc`` beyond the dynamic
  linker's cache, the time zone, fonts and alternatives, no submissions, no
  outputs, no other run;
* an unprivileged user of its own: run as root, the grader gives each job
  slot its own uid (``SLOT_UID + slot``, with no capabilities), so that runs
  side by side share no files, processes or process limit; run as another
  user, each run has a user namespace of its own;
* limits on CPU time, address space, processes, open files and file size.
  The tmpfs count against the memory: the address space gets what they leave.

Nothing of the run is read back from its files. The program writes what it
has to say into a pipe (``result_fd``), and its stdout and stderr into
another; the grader reads both up to a cap, and never opens a path the
program could have planted.

``sandbox()`` says whether this machine can run bubblewrap, and why not.
Without it the grader refuses to run untrusted code unless told
``no_sandbox``: then the run is a plain child process with the limits and
nothing else, and every row says so.
"""

from __future__ import annotations

import fcntl
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__: list[str] = []

FILE_SIZE = 64 * 2**20          # bytes one file may grow to
OPEN_FILES = 256
PROCESSES = 64                  # processes and threads of one run
#: Run as root, job slot k runs as uid and gid SLOT_UID + k: unused by any account
#: (far above the ranges useradd and systemd hand out), so nothing else runs as it.
SLOT_UID = 2_000_000_000
WORK = "/sandbox"               # the run's work folder and HOME, inside the sandbox
#: Share of the memory given to the four tmpfs, each a quarter of it.
TMPFS_SHARE = 0.25
#: Variables passed on from the grader's environment when set: they choose the
#: SIMD kernels and cache sizes, which the machine's own settings should decide.
PASS_ON = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "TZ")
NOT_SANDBOXED = ("NOT sandboxed (--no-sandbox): the notebook ran as the grading user, "
                 "could read and write that user's files and reach the network")


class SandboxUnavailable(OSError):
    """bubblewrap cannot run here, and the caller did not ask for ``no_sandbox``."""


@dataclass(frozen=True)
class Sandbox:
    """How a run is wrapped on this machine: ``bwrap`` and its use, or why not."""

    bwrap: str | None
    why_not: str = ""

    @property
    def works(self) -> bool:
        return self.bwrap is not None

    def describe(self) -> str:
        if not self.works:
            return f"  NO SANDBOX: bubblewrap cannot run here ({self.why_not})"
        user = (f"its own uid per job slot ({SLOT_UID}+slot), no capabilities"
                if os.geteuid() == 0 else "a user namespace of its own")
        return "\n".join(f"  {what}: {how}" for what, how in {
            "sandbox": f"bubblewrap ({self.bwrap}): new mount, PID, network, IPC and UTS "
                       f"namespaces, new session, dies with the grader",
            "files": "sees read-only only Python, memrnn and its dependencies; writes only to "
                     "size-capped tmpfs of its own (work folder, /tmp, /var/tmp, /dev/shm)",
            "user": user,
            "network": "blocked: own network namespace, with only a loopback of its own",
            "processes": f"own PID namespace and /proc; at most {PROCESSES} processes and "
                         f"threads; everything dies with the run",
            "memory": "address space plus tmpfs capped at --memory",
            "CPU": "CPU time capped, and a wall-clock deadline",
        }.items())


def _bwrap_path() -> str | None:
    return os.environ.get("MEMRNN_BWRAP") or shutil.which("bwrap")


@lru_cache(maxsize=1)
def sandbox() -> Sandbox:
    """Find out once whether bubblewrap runs here, with every option a run uses."""
    bwrap = _bwrap_path()
    if bwrap is None:
        return Sandbox(None, "no `bwrap` command: install the package bubblewrap "
                             "(bash scripts/install-sandbox.sh)")
    argv = _bwrap_argv(bwrap, slot=0, memory=256 * 2**20, job=None) + ["/bin/true"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as err:
        return Sandbox(None, f"{bwrap}: {err}")
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        why = lines[-1] if lines else f"exit status {proc.returncode}"
        return Sandbox(None, f"{why}; inside a container, see 'Grading in a container' in the "
                             f"book's appendix 'Using this book in a course'")
    return Sandbox(bwrap)


# ------------------------------------------------------------ what the sandbox shows
def _python_roots() -> list[str]:
    """Folders a fresh ``python -I`` of this interpreter reads, with memrnn: shown read-only."""
    import memrnn

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             str(Path(memrnn.__file__).resolve().parent),
             str(Path(sys.executable).resolve().parent.parent)}
    for entry in _child_sys_path():
        path = Path(entry)
        if path.is_file():          # a zip on sys.path
            path = path.parent
        if path.is_dir():
            roots.add(str(path.resolve()))
    roots = {r for r in roots if r not in ("/", "") and not r.startswith(("/proc", "/dev"))}
    # The outermost of nested folders is enough.
    keep = sorted(roots, key=len)
    out: list[str] = []
    for root in keep:
        if not any(root == k or root.startswith(k.rstrip("/") + "/") for k in out):
            out.append(root)
    return out


@lru_cache(maxsize=1)
def _child_sys_path() -> tuple:
    proc = subprocess.run([sys.executable, "-I", "-c", "import sys; print('\\n'.join(sys.path))"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return tuple(line for line in proc.stdout.splitlines() if line)


def _parents(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def tmpfs_size(memory: int) -> int:
    """Bytes of each of the four tmpfs of a run with ``memory`` bytes in all."""
    return max(4 * 2**20, int(memory * TMPFS_SHARE / 4))


def address_space(memory: int) -> int:
    return memory - 4 * tmpfs_size(memory)


def _bwrap_argv(bwrap: str, *, slot: int, memory: int, job: str | None) -> list[str]:
    argv = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    root = os.geteuid() == 0
    if not root:
        argv += ["--unshare-user", "--disable-userns"]
    made = set()

    def mkdirs(path):
        for parent in _parents(path):
            if parent not in made:
                made.add(parent)
                argv.extend(["--perms", "0755", "--dir", parent])

    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    mkdirs("/etc/x")
    for name in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/alternatives",
                 "/etc/fonts"):
        if os.path.exists(name):
            argv += ["--ro-bind", name, name]
    for root_dir in _python_roots():
        if root_dir.startswith(("/usr/", "/bin/", "/lib")) and os.path.realpath(root_dir) == root_dir:
            continue            # already there
        mkdirs(root_dir)
        argv += ["--ro-bind", root_dir, root_dir]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    size = str(tmpfs_size(memory))
    for place in (WORK, "/tmp", "/var/tmp", "/dev/shm"):
        if place == "/var/tmp":
            mkdirs(place)
        argv += ["--perms", "1777" if place != WORK else "0777", "--size", size, "--tmpfs", place]
    if job is not None:
        argv += ["--ro-bind", job, "/job.json"]
    argv += ["--chdir", WORK, "--setenv", "HOME", WORK]
    if root:
        uid = str(SLOT_UID + slot)
        argv += ["--", _setpriv(), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    return argv + ["--"]


def _setpriv() -> str:
    return shutil.which("setpriv") or "/usr/bin/setpriv"


# ------------------------------------------------------------ running
def clean_environment(home: str) -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": "/tmp",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
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
    for entry in os.scandir("/proc"):
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
    result: bytes           # what the program wrote to result_fd, up to the cap
    result_overflow: bool   # it wrote more than the cap
    log: bytes              # the tail of its stdout and stderr


def run(argv_after_python: list[str], *, job_file: str, workdir: str | None, slot: int,
        timeout: float, memory: int, result_cap: int, log_cap: int,
        no_sandbox: bool = False) -> Outcome:
    """Run ``python -I ARGV... --result-fd N`` in the sandbox; kill everything at ``timeout`` s.

    ``job_file`` is shown read-only as ``/job.json`` (or passed by its path
    without a sandbox, where ``workdir`` is the working directory). The
    program's result pipe is read up to ``result_cap`` bytes; past that the
    pipe is closed, and ``result_overflow`` is set.
    """
    box = sandbox()
    root = os.geteuid() == 0
    if no_sandbox:
        nproc = (_user_processes() if not root else 0) + PROCESSES
        space = memory
    else:
        if not box.works:
            raise SandboxUnavailable(box.why_not)
        # Root: the slot's own uid, so the cap counts this run only. Otherwise the cap
        # counts every process of the user, the grader's included.
        nproc = PROCESSES if root else _user_processes() + PROCESSES
        space = address_space(memory)
    cpu = max(1, int(timeout) + 1)
    read_end, write_end = os.pipe()
    log_read, log_write = os.pipe()
    python = [sys.executable, "-I", *argv_after_python, "--result-fd", str(write_end)]
    if no_sandbox:
        argv = python + ["--job", job_file]
        env = clean_environment(workdir)
        env["TMPDIR"] = workdir
        cwd = workdir
    else:
        argv = _bwrap_argv(box.bwrap, slot=slot, memory=memory, job=job_file) + python + [
            "--job", "/job.json"]
        env = clean_environment(WORK)
        cwd = "/"

    def limits():
        # In the child, after fork and before exec: the limits hold for everything it starts.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
        resource.setrlimit(resource.RLIMIT_AS, (space, space))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE, FILE_SIZE))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

    keep = [write_end]
    if not no_sandbox:
        # bwrap reads its options from a pipe, so that the sandbox's /proc/1/cmdline shows
        # no path of the grader's.
        args_read, args_write = os.pipe()
        options = argv[1:argv.index("--")]
        os.write(args_write, b"".join(os.fsencode(o) + b"\0" for o in options))
        os.close(args_write)
        argv = [argv[0], "--args", str(args_read), *argv[argv.index("--"):]]
        keep.append(args_read)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=log_write, stderr=log_write, start_new_session=True,
                                preexec_fn=limits, close_fds=True, pass_fds=tuple(keep))
    finally:
        for fd in (*keep, log_write):
            os.close(fd)
    result, log = bytearray(), bytearray()
    overflow = timed_out = False
    deadline = started + timeout
    open_fds = {read_end: result, log_read: log}

    def take(fd: int, size: int = 1 << 16) -> int:
        """Read up to ``size`` bytes of ``fd`` into its buffer, within the caps: bytes read."""
        nonlocal overflow
        chunk = os.read(fd, size)
        if not chunk:
            os.close(fd)
            del open_fds[fd]
        elif fd == read_end:
            result.extend(chunk)
            if len(result) > result_cap:
                overflow = True
                del result[result_cap:]
                os.close(fd)
                del open_fds[fd]
        else:
            log.extend(chunk)
            if len(log) > 2 * log_cap:
                del log[:-log_cap]
        return len(chunk)

    try:
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select(list(open_fds), [], [], min(left, 0.5))
            if not ready and proc.poll() is not None:
                # It ended, and a process it left behind holds the pipes open. Everything it
                # wrote is in the pipes now, but may have come after select looked: the thread
                # can wait long for a core or the GIL between the two. Take exactly what is
                # there, not what those processes write next.
                for fd in list(open_fds):
                    waiting = _pending(fd)
                    while waiting > 0 and fd in open_fds:     # take() drops it at the cap
                        waiting -= take(fd, min(waiting, 1 << 16))
                break
            for fd in ready:
                take(fd)
        if not timed_out:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        for fd in open_fds:
            os.close(fd)
        _kill_group(proc.pid)
        proc.wait()
    return Outcome(proc.returncode, timed_out, time.monotonic() - started, bytes(result),
                   overflow, bytes(log[-log_cap:]))


def _pending(fd: int) -> int:
    """Bytes waiting to be read in the pipe ``fd``."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
