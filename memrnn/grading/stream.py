"""What a graded run sends back: named frames of bytes in one pipe, and their bounded reading.

The child (``memrnn.grading.child``) writes ``MAGIC`` and then frames, each a
4-byte big-endian header length, a JSON header ``{"name": ..., "size": n}``
(with ``dtype`` and ``shape`` for an array) and ``n`` bytes. The grader reads
the pipe up to a cap and parses it here, trusting nothing: every length is
checked against what is left and against its own bound, an array must be
numeric and exactly as long as its dtype and shape say, and anything else is
``InvalidRecord``.
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np

__all__: list[str] = []

MAGIC = b"MEMRNN-RECORD-1\n"
MAX_HEADER = 4096               # bytes of one frame's header
MAX_JSON = 16 * 2**20           # bytes of the events or the outcome
MAX_TEXT = 200_000              # bytes of the notebook's printed output
MAX_ARRAYS = 256 * 2**20        # bytes of all arrays together
MAX_FRAMES = 100_000
MAX_NDIM = 32
NUMERIC_KINDS = "biuf"          # array dtypes that travel (no objects, no strings)


class InvalidRecord(ValueError):
    """The run's record breaks a bound or the format."""


def frame(name: str, data: bytes, **header) -> bytes:
    head = json.dumps({"name": name, "size": len(data), **header}).encode()
    return struct.pack(">I", len(head)) + head + data


def encode(outcome: dict, events: dict, output: str, arrays: dict) -> bytes:
    parts = [MAGIC, frame("outcome", json.dumps(outcome).encode()),
             frame("output", output.encode("utf-8", errors="replace")[:MAX_TEXT]),
             frame("events", json.dumps(events).encode())]
    for key, a in arrays.items():
        a = np.ascontiguousarray(a)
        parts.append(frame("array", a.tobytes(), key=key, dtype=a.dtype.str, shape=list(a.shape)))
    return b"".join(parts)


def decode(data: bytes) -> dict:
    """``{"outcome": dict, "output": str, "events": dict, "arrays": {key: read-only array}}``.

    Raises InvalidRecord for anything but what ``encode`` writes within the bounds.
    """
    if not data.startswith(MAGIC):
        raise InvalidRecord("it does not start as a record")
    view = memoryview(data)
    at, frames = len(MAGIC), 0
    out: dict = {"arrays": {}}
    array_bytes = 0
    while at < len(data):
        frames += 1
        if frames > MAX_FRAMES:
            raise InvalidRecord(f"more than {MAX_FRAMES} frames")
        if at + 4 > len(data):
            raise InvalidRecord("a frame is cut short")
        (head_len,) = struct.unpack(">I", view[at:at + 4])
        if head_len > MAX_HEADER or at + 4 + head_len > len(data):
            raise InvalidRecord(f"a frame header of {head_len} bytes")
        try:
            head = json.loads(bytes(view[at + 4:at + 4 + head_len]))
        except (ValueError, RecursionError) as err:
            raise InvalidRecord(f"a frame header is not JSON ({err})") from None
        if not isinstance(head, dict) or not isinstance(head.get("size"), int):
            raise InvalidRecord("a frame header without a size")
        size, start = head["size"], at + 4 + head_len
        if size < 0 or start + size > len(data):
            raise InvalidRecord(f"a frame of {size} bytes where {len(data) - start} are left")
        body = view[start:start + size]
        at = start + size
        name = head.get("name")
        if name in ("outcome", "events"):
            if name in out:
                raise InvalidRecord(f"two {name} frames")
            if size > MAX_JSON:
                raise InvalidRecord(f"{name} is {size} bytes, more than {MAX_JSON}")
            try:
                value = json.loads(bytes(body).decode("utf-8"))
            except RecursionError:
                raise InvalidRecord(f"{name} is nested too deeply") from None
            except ValueError as err:
                raise InvalidRecord(f"{name} is not JSON ({err})") from None
            if not isinstance(value, dict):
                raise InvalidRecord(f"{name} is not a JSON object")
            out[name] = value
        elif name == "output":
            if size > MAX_TEXT:
                raise InvalidRecord(f"the output is {size} bytes, more than {MAX_TEXT}")
            out["output"] = bytes(body).decode("utf-8", errors="replace")
        elif name == "array":
            key, dtype, shape = head.get("key"), head.get("dtype"), head.get("shape")
            if not isinstance(key, str) or key in out["arrays"]:
                raise InvalidRecord("an array without a key of its own")
            try:
                dtype = np.dtype(dtype)
            except (TypeError, ValueError):
                raise InvalidRecord(f"array {key[:40]!r} has no dtype") from None
            if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.fields:
                raise InvalidRecord(f"array {key[:40]!r} has dtype {dtype}, not a number")
            if (not isinstance(shape, list) or len(shape) > MAX_NDIM
                    or not all(isinstance(n, int) and 0 <= n for n in shape)):
                raise InvalidRecord(f"array {key[:40]!r} has no valid shape")
            if math.prod(shape) * dtype.itemsize != size:
                raise InvalidRecord(f"array {key[:40]!r} is {size} bytes, not its shape's")
            array_bytes += size
            if array_bytes > MAX_ARRAYS:
                raise InvalidRecord(f"the arrays are more than {MAX_ARRAYS} bytes")
            a = np.frombuffer(body, dtype=dtype).reshape(shape)
            out["arrays"][key] = a          # read-only: a view of the record
        else:
            raise InvalidRecord(f"a frame named {str(name)[:40]!r}")
    if "outcome" not in out:
        raise InvalidRecord("no outcome")
    out.setdefault("events", {"events": []})
    out.setdefault("output", "")
    return out
