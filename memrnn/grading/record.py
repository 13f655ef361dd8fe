"""The student's side of a replayed check: plain-data encoding, the ``Recorder`` and the guards.

``Recorder`` wraps the student's function or class in the student's process and
logs every call a self-check makes into it, as data only (see
``memrnn.grading.replay`` for the whole scheme). The encoding and comparison of
that data live here too, so that the replaying side reads exactly what this
side writes. ``guard`` keeps the package's own solution of the graded exercise
from the student's code while the check calls it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import math
import sys
import time

import numpy as np

from .stream import NUMERIC_KINDS as _NUMERIC_KINDS
from .stream import InvalidRecord

__all__: list[str] = []

_MAX_DEPTH = 8                 # nesting of lists and dicts kept as data
_MAX_TEXT = 2000               # characters of a string or an error message
_MAX_DECODE_DEPTH = 64        # nesting of a value read back from a record
_RTOL, _ATOL = 1e-9, 1e-12     # two runs of the same numbers agree to rounding


def _qualname(obj) -> str:
    kind = obj if isinstance(obj, type) else type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def _exception_text(err: BaseException) -> dict:
    return {"type": type(err).__name__, "message": str(err)[:_MAX_TEXT]}


# ------------------------------------------------------------------ encoding
class _Arrays:
    """Numeric arrays kept by content, each once.

    Read back, each ``get`` is a copy, counted against ``budget`` bytes: a record
    that names one big array a million times runs out of budget, not of memory.
    ``deadline`` (a ``time.monotonic`` value) bounds the time spent reading it.
    """

    def __init__(self, store=None, budget: float = math.inf, deadline: float = math.inf):
        self.store = {} if store is None else store
        self.budget, self.deadline = budget, deadline
        self.exceeded = ""              # why reading the record stopped, if it did

    def put(self, a: np.ndarray) -> str:
        a = np.ascontiguousarray(a)
        key = "a" + hashlib.sha1(a.tobytes() + str((a.dtype.str, a.shape)).encode()).hexdigest()[:20]
        self.store.setdefault(key, a.copy())
        return key

    def get(self, key: str) -> np.ndarray:
        a = self.store[key]
        self.spend(a.nbytes)
        return a.copy()

    def spend(self, nbytes: int) -> None:
        self.budget -= nbytes
        if self.budget < 0:
            self.exceeded = self.exceeded or "reading it back would take more memory than allowed"
        elif time.monotonic() > self.deadline:
            self.exceeded = self.exceeded or "reading it back took longer than allowed"
        if self.exceeded:
            raise InvalidRecord(self.exceeded)


def _is_data(value, depth=0) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, np.generic):
        return value.dtype.kind in _NUMERIC_KINDS
    if isinstance(value, np.ndarray):
        return value.dtype.kind in _NUMERIC_KINDS
    if isinstance(value, (list, tuple)):
        return all(_is_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_is_data(k, depth + 1) and _is_data(v, depth + 1) for k, v in value.items())
    return False


def _encode_data(value, arrays: _Arrays):
    """A data value as JSON; call only on ``_is_data`` values."""
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else {"t": "str", "v": value[:_MAX_TEXT]}
    if isinstance(value, int) and not isinstance(value, np.generic):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": repr(value)}
    if isinstance(value, np.generic):
        return {"t": "scalar", "dtype": value.dtype.str, "v": repr(value.item())}
    if isinstance(value, np.ndarray):
        return {"t": "array", "k": arrays.put(value)}
    if isinstance(value, (list, tuple)):
        return {"t": type(value).__name__, "v": [_encode_data(v, arrays) for v in value]}
    return {"t": "dict", "v": [[_encode_data(k, arrays), _encode_data(v, arrays)]
                               for k, v in value.items()]}


def _decode_data(enc, arrays: _Arrays, depth=0):
    if enc is None or isinstance(enc, bool):
        return enc
    if not isinstance(enc, dict):
        raise ValueError(f"not an encoded value: {type(enc).__name__}")
    if depth > _MAX_DECODE_DEPTH:
        raise InvalidRecord("a value in the record is nested too deeply")
    arrays.spend(64)            # every value costs something, so that time and size stay bounded
    t = enc.get("t")
    if t == "str":
        return str(enc["v"])[:_MAX_TEXT]
    if t == "int":
        if not isinstance(enc["v"], str) or len(enc["v"]) > 400:
            raise ValueError("an integer of more than 400 digits")
        return int(enc["v"])
    if t == "float":
        return float(enc["v"])
    if t == "scalar":
        dtype = np.dtype(enc["dtype"])
        if dtype.kind not in _NUMERIC_KINDS:
            raise ValueError(f"dtype {dtype} does not travel")
        text = enc["v"]
        number = float(text) if dtype.kind == "f" else (text == "True" if dtype.kind == "b"
                                                        else int(text))
        return dtype.type(number)
    if t == "array":
        return arrays.get(enc["k"])
    if t in ("list", "tuple"):
        items = [_decode_data(v, arrays, depth + 1) for v in enc["v"]]
        return items if t == "list" else tuple(items)
    if t == "dict":
        return {_decode_data(k, arrays, depth + 1): _decode_data(v, arrays, depth + 1)
                for k, v in enc["v"]}
    raise ValueError(f"unknown encoded type {t!r}")


def _state(obj) -> dict:
    """The data an object holds in its own attributes (arrays, numbers, dicts of them)."""
    try:
        items = dict(vars(obj))
    except TypeError:
        return {}
    return {k: v for k, v in items.items() if _is_data(v)}


def _class_data(obj) -> dict:
    """Public data the object shows through its class: PARAM_NAMES, properties like hidden_size."""
    out = {}
    for name in dir(type(obj)):
        if name.startswith("__") or name in vars(obj):
            continue
        try:
            value = getattr(obj, name)
        except Exception:
            continue
        if not callable(value) and _is_data(value):
            out[name] = value
    return out


def _same(enc, value, arrays: _Arrays) -> bool:
    """Does ``value`` equal the recorded data ``enc``, to rounding?"""
    try:
        if not _is_data(value):
            return False
        want = _decode_data(enc, arrays)
    except InvalidRecord:
        raise
    except (ValueError, KeyError, TypeError):
        return False
    return _same_data(want, value)


def _same_data(want, got) -> bool:
    if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        a, b = np.asarray(want), np.asarray(got)
        if a.shape != b.shape or a.dtype.kind not in _NUMERIC_KINDS or b.dtype.kind not in _NUMERIC_KINDS:
            return False
        return bool(np.allclose(a, b, rtol=_RTOL, atol=_ATOL, equal_nan=True))
    if isinstance(want, (list, tuple)):
        return (isinstance(got, (list, tuple)) and len(want) == len(got)
                and all(_same_data(w, g) for w, g in zip(want, got)))
    if isinstance(want, dict):
        return (isinstance(got, dict) and len(want) == len(got)
                and all(k in got and _same_data(v, got[k]) for k, v in want.items()))
    if isinstance(want, float) or isinstance(got, float):
        try:
            return math.isclose(float(want), float(got), rel_tol=_RTOL, abs_tol=_ATOL) or (
                math.isnan(float(want)) and math.isnan(float(got)))
        except (TypeError, ValueError):
            return False
    return want == got


def _signature(fn) -> list:
    """Parameter names and kinds, so that a stand-in has the signature the check inspects."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [[p.name, p.kind.value, p.default is not inspect.Parameter.empty]
            for p in sig.parameters.values()]


def _public_methods(cls) -> list[str]:
    names = [n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n, None))]
    if "__call__" in vars(cls):
        names.append("__call__")
    return names


# ------------------------------------------------------------------ recording
class Recorder:
    """Wraps the student's object so that the calls a check makes into it are logged.

    Only calls from the check into the student's code are logged (depth 0):
    what the student's code calls inside itself is its own business.
    """

    def __init__(self):
        self.events: list[dict] = []
        self.arrays = _Arrays()
        self.depth = 0
        self.handles: dict[int, int] = {}       # id(student object or iterator) -> handle
        self.kept: list = []                    # keeps handled objects alive (ids stay unique)
        self.objects: list = []                 # the check's own objects seen as arguments
        self.current: dict | None = None
        self.memory_error = False
        self.delegated: list[str] = []          # the guarded names the student's code called

    # -- what the check hands to the student's code
    def _encode_arg(self, value, depth=0):
        if id(value) in self.handles:
            return {"t": "ref", "id": self.handles[id(value)]}
        if _is_data(value):
            return _encode_data(value, self.arrays)
        if depth < _MAX_DEPTH and isinstance(value, (list, tuple)):
            return {"t": type(value).__name__, "v": [self._encode_arg(v, depth + 1) for v in value]}
        if isinstance(value, type) or inspect.isroutine(value) or (
                callable(value) and not hasattr(value, "__dict__")):
            return {"t": "callable", "name": getattr(value, "__qualname__", type(value).__name__)}
        if inspect.isgenerator(value) or not hasattr(value, "__dict__"):
            return {"t": "opaque", "type": _qualname(value)}
        return {"t": "object", "type": _qualname(value), "id": self._register(value),
                "state": _encode_data(_state(value), self.arrays)}

    def _register(self, obj) -> int:
        for number, known in enumerate(self.objects):
            if known is obj:
                return number
        number = len(self.objects)
        self.objects.append(obj)
        # Calls the student's code makes to callables stored on the check's objects
        # are side effects the replay must repeat.
        for name, value in list(vars(obj).items()):
            if callable(value) and not isinstance(value, type):
                setattr(obj, name, self._callback(number, name, value))
        return number

    def _callback(self, number, name, fn):
        def logged(*args, **kwargs):
            if self.current is not None and _is_data((args, kwargs)):
                self.current["callbacks"].append(
                    [number, name, _encode_data(list(args), self.arrays),
                     _encode_data(kwargs, self.arrays)])
            return fn(*args, **kwargs)
        return logged

    # -- what comes back
    def _handle(self, obj) -> int:
        number = len(self.kept)
        self.handles[id(obj)] = number
        self.kept.append(obj)
        return number

    def _encode_result(self, value):
        if id(value) in self.handles:
            return {"t": "ref", "id": self.handles[id(value)]}
        if _is_data(value):
            return _encode_data(value, self.arrays)
        if isinstance(value, (list, tuple)):
            return {"t": type(value).__name__, "v": [self._encode_result(v) for v in value]}
        if hasattr(value, "__next__"):
            return {"t": "iter", "id": self._handle(value)}
        return {"t": "opaque", "type": _qualname(value)}

    # -- one logged call
    def call(self, kind, target, method, fn, args, kwargs, self_obj=None):
        if self.depth > 0:
            return fn(*args, **kwargs)
        event = {"kind": kind, "target": target, "method": method,
                 "args": [self._encode_arg(a) for a in args],
                 "kwargs": {k: self._encode_arg(v) for k, v in kwargs.items()},
                 "callbacks": []}
        before = [(i, a.copy()) for i, a in enumerate(args) if isinstance(a, np.ndarray)]
        if self_obj is not None:
            event["state"] = _encode_data(_state(self_obj), self.arrays)
        self.events.append(event)
        self.depth += 1
        self.current = event
        try:
            result = fn(*args, **kwargs)
        except BaseException as err:
            if isinstance(err, MemoryError):
                self.memory_error = True
            event["raised"] = _exception_text(err)
            raise
        else:
            if kind == "new":
                self_obj = result
                event["result"] = {"t": "ref", "id": self._handle(result)}
                # Of the class's functions, so that "self" is in the list.
                event["signatures"] = {m: _signature(getattr(type(result), m, None))
                                       for m in _public_methods(type(result))}
                event["class_name"] = getattr(type(result), "__name__", "object")
                event["class_data"] = _encode_data(_class_data(result), self.arrays)
            else:
                event["result"] = self._encode_result(result)
            return result
        finally:
            self.depth -= 1
            self.current = None
            event["arg_post"] = [[i, _encode_data(args[i], self.arrays)] for i, old in before
                                 if not np.array_equal(old, args[i], equal_nan=True)]
            event["objects_post"] = [[n, _encode_data(_state(o), self.arrays)]
                                     for n, o in enumerate(self.objects)]
            if self_obj is not None:
                event["post"] = _encode_data(_state(self_obj), self.arrays)

    # -- wrappers
    def wrap(self, obj, target: str):
        """A recording stand-in for the student's function or class ``obj``."""
        recorder = self
        if isinstance(obj, type):
            methods = {}
            for name in _public_methods(obj):
                def method(self, *args, _name=name, **kwargs):
                    bound = getattr(super(recording, self), _name)
                    return recorder.call("method", recorder.handles.get(id(self)), _name,
                                         bound, args, kwargs, self)
                method.__signature__ = _safe_signature(getattr(obj, name))
                methods[name] = method
            try:
                recording = type(obj.__name__, (obj,), methods)
            except TypeError:      # a class that cannot be subclassed: record nothing of it
                return obj

            def new(*args, **kwargs):
                return recorder.call("new", target, None, recording, args, kwargs)
            new.__signature__ = _safe_signature(obj)
            return new
        if callable(obj):
            def function(*args, **kwargs):
                result = recorder.call("call", target, None, obj, args, kwargs)
                if hasattr(result, "__next__") and not _is_data(result):
                    return _RecordingIterator(recorder, result)
                return result
            function.__signature__ = _safe_signature(obj)
            return function
        return obj

    def payload(self, extra: dict) -> tuple[dict, dict]:
        """The log (JSON-ready) and its arrays, for ``memrnn.grading.stream.encode``."""
        return {"events": self.events, **extra}, self.arrays.store


def _safe_signature(obj):
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


class _RecordingIterator:
    """The student's generator, with each ``next`` logged."""

    def __init__(self, recorder: Recorder, inner):
        self.recorder, self.inner = recorder, inner
        recorder.handles[id(self)] = recorder.handles.pop(id(inner))
        recorder.kept.append(self)

    def __iter__(self):
        return self

    def __next__(self):
        return self.recorder.call("next", self.recorder.handles[id(self)], None,
                                  lambda: next(self.inner), (), {})


# ------------------------------------------------------------------ guards
def _owner(dotted: str):
    """(object holding the attribute, attribute name, the object), for module.attr or module.Class.attr."""
    module, _, attr = dotted.rpartition(".")
    try:
        owner = importlib.import_module(module)
    except ImportError:
        mod, _, cls = module.rpartition(".")
        owner = getattr(importlib.import_module(mod), cls)
    return owner, attr, getattr(owner, attr)


def guard(dotted_names, recorder: Recorder) -> None:
    """Refuse the package's own solution to the student's code while the check calls it.

    Each of ``dotted_names`` (``memrnn.data.generate_samples``,
    ``memrnn.learner.Learner.train_step``) is replaced, wherever a module of the
    package holds it (its re-exports in ``memrnn`` and ``memrnn.selfcheck``
    too) or on its class, by a guard. Called from the check itself, or from a
    notebook cell, the guard runs the real thing: chapters call the package's
    solution, and so do checks, to know the right answer. Called from inside
    the student's code while the check is calling it, the guard raises
    NotImplementedError and notes the name in ``recorder.delegated``. An alias,
    ``getattr``, ``importlib`` and a subclass that inherits it all reach the guard.
    """
    for dotted in dotted_names:
        owner, attr, real = _owner(dotted)
        short = dotted.replace("memrnn.", "", 1)

        @functools.wraps(real)
        def refused(*args, _real=real, _name=short, **kwargs):
            if recorder.depth > 0:
                recorder.delegated.append(_name)
                raise NotImplementedError(
                    f"memrnn's own {_name} is the exercise's solution, and graded code may not "
                    f"call it: write it yourself")
            return _real(*args, **kwargs)

        if isinstance(owner, type):
            setattr(owner, attr, refused)
            continue
        for module in list(sys.modules.values()):
            name = getattr(module, "__name__", None)
            if not isinstance(name, str) or not (name == "memrnn" or name.startswith("memrnn.")):
                continue
            for key, value in list(vars(module).items()):
                if value is real:
                    setattr(module, key, refused)
