"""Atomic file writes: a reader never sees half a file, even after a crash."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def _atomic(path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary file sits in the target's folder so that os.replace is a
    # rename within one file system, which POSIX makes atomic. Created with
    # mode 0o666, the kernel applies the process's umask itself, so the file
    # gets the permissions any new file would, without reading (and so
    # briefly changing) the umask, which other threads share.
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return _atomic(path, bytes(data))


def write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically, as UTF-8."""
    return _atomic(path, text.encode("utf-8"))


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    return write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def save_figure(fig, path, dpi=120) -> Path:
    """Save a matplotlib figure as PNG to ``path`` atomically."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return _atomic(path, buf.getvalue())
