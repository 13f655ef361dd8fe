"""Atomic file writes: a reader never sees half a file, even after a crash."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def _atomic(path, write, mode: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary file sits in the target's folder so that os.replace is a
    # rename within one file system, which POSIX makes atomic.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp's 0600 would outlive the rename
        with os.fdopen(fd, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    text = json.dumps(obj, indent=2, allow_nan=False) + "\n"
    return _atomic(path, lambda fh: fh.write(text), "w")


def write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    return _atomic(path, lambda fh: fh.write(text), "w")


def save_figure(fig, path, dpi=120) -> Path:
    """Save a matplotlib figure as PNG to ``path`` atomically."""
    return _atomic(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi), "wb")
