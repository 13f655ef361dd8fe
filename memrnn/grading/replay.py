"""Record a student's code answering a self-check in one process; replay the answers in another.

The grader (``memrnn.grading``) must not trust anything that runs in the
student's process, the self-check included: a notebook can patch it. So the
check runs twice, with the same code from ``memrnn.selfcheck``:

* in the student's process, on a *recording* wrapper of the student's function
  or class (``memrnn.grading.record``). Every call that the check makes into the
  student's code is logged with its arguments and what came back, as plain
  data (numbers, strings, lists, dicts and numeric arrays). So are the changes the call made
  to its array arguments and to the objects the check handed over, and the
  calls the student's code made to callables stored on those objects (the
  check's counted ``update``, for instance).
* in the grader's own process, on a *replaying* stand-in. Each call the check
  makes is compared with the next logged call: same target, same arguments
  (to rounding), same state of the object it is called on. It then gets the
  logged answer, and the logged side effects are applied. A call that the
  log does not hold, because the check in the student's process was changed
  or skipped, raises ``NotRecorded``, which the check reports as a failure.

What comes back from the student's process is data only: JSON and numeric
arrays in one pipe (``memrnn.grading.stream``), read within bounds. The replaying
process never runs the student's code, so the verdicts are the package's.
"""

from __future__ import annotations

import builtins
import inspect
import math

import numpy as np

from .record import _Arrays, _decode_data, _is_data, _qualname, _same, _same_data, _state
from .stream import InvalidRecord

__all__: list[str] = []


class NotRecorded(Exception):
    """The check asked something that the run in the student's process did not answer."""


def _rebuild_exception(info: dict) -> BaseException:
    """An exception that prints as the student's did ("ValueError: ..."), carrying no code."""
    name = info.get("type", "Exception")
    message = info.get("message", "")
    builtin = getattr(builtins, name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        return builtin(message)
    if not name.isidentifier():
        name = "Exception"
    kind = type(name, (Exception,), {"__module__": "builtins"})
    return kind(message)


def _make_signature(params) -> inspect.Signature:
    out = []
    for name, kind, has_default in params:
        out.append(inspect.Parameter(name, inspect._ParameterKind(kind),
                                     default=None if has_default else inspect.Parameter.empty))
    return inspect.Signature(out)


# ------------------------------------------------------------------ replaying
class Replayer:
    """Answers a check's calls from a record (``memrnn.grading.stream.decode``), in order.

    ``budget`` bytes of arrays may be copied out of the record in all, and
    reading it stops at ``deadline`` (a ``time.monotonic`` value): past either,
    ``InvalidRecord``.
    """

    def __init__(self, record: dict, *, budget: float = 1 * 2**30, deadline: float = math.inf):
        data = record.get("events")
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise InvalidRecord("the record holds no list of events")
        self.info = {k: v for k, v in data.items() if k != "events"}
        self.events = data["events"]
        self.arrays = _Arrays(dict(record.get("arrays", {})), budget=budget, deadline=deadline)
        self.cursor = 0
        self.objects: dict[int, object] = {}
        self.handles: dict[int, object] = {}

    def stand_in(self, target: str, is_class: bool):
        """What the check gets in place of the student's object."""
        replayer = self
        if is_class:
            def new(*args, **kwargs):
                return replayer.call("new", target, None, args, kwargs)
            return new

        def function(*args, **kwargs):
            return replayer.call("call", target, None, args, kwargs)
        return function

    def _match_arg(self, enc, value) -> bool:
        if not isinstance(enc, dict):
            return _same(enc, value, self.arrays)
        t = enc.get("t")
        if t == "ref":
            return self.handles.get(enc.get("id")) is value
        if t == "callable":
            return callable(value) and getattr(value, "__qualname__", type(value).__name__) == enc.get("name")
        if t == "opaque":
            return _qualname(value) == enc.get("type")
        if t == "object":
            if _qualname(value) != enc.get("type"):
                return False
            number = enc.get("id")
            known = self.objects.setdefault(number, value)
            return known is value and _same(enc.get("state"), _state(value), self.arrays)
        if t in ("list", "tuple") and not _is_data(value):
            return (isinstance(value, (list, tuple)) and len(value) == len(enc["v"])
                    and all(self._match_arg(e, v) for e, v in zip(enc["v"], value)))
        return _same(enc, value, self.arrays)

    def call(self, kind, target, method, args, kwargs, self_obj=None):
        self.arrays.spend(0)            # past the budget or the deadline: stop here
        if self.cursor >= len(self.events):
            raise NotRecorded("the run of your notebook made no such call, so there is no answer "
                              "to judge (did the notebook change the check?)")
        event = self.events[self.cursor]
        same = (isinstance(event, dict) and event.get("kind") == kind and event.get("target") == target
                and event.get("method") == method and len(event.get("args", [])) == len(args)
                and set(event.get("kwargs", {})) == set(kwargs)
                and all(self._match_arg(e, a) for e, a in zip(event["args"], args))
                and all(self._match_arg(event["kwargs"][k], v) for k, v in kwargs.items()))
        if same and self_obj is not None:
            recorded = _decode_data(event.get("state"), self.arrays)
            now = _state(self_obj)
            same = all(k in now and _same_data(v, now[k]) for k, v in recorded.items())
        if not same:
            raise NotRecorded("the run of your notebook answered a different call here, so there "
                              "is no answer to judge (did the notebook change the check?)")
        self.cursor += 1
        for number, name, cb_args, cb_kwargs in event.get("callbacks", []):
            obj = self.objects.get(number)
            try:
                getattr(obj, name)(*_decode_data(cb_args, self.arrays),
                                   **_decode_data(cb_kwargs, self.arrays))
            except Exception:      # the check's own callable; what it does next is the check's
                pass
        for i, enc in event.get("arg_post", []):
            if 0 <= i < len(args) and isinstance(args[i], np.ndarray):
                new = _decode_data(enc, self.arrays)
                if new.shape == args[i].shape:
                    np.copyto(args[i], new, casting="unsafe")
        for number, enc in event.get("objects_post", []):
            if number in self.objects:
                _apply_state(self.objects[number], _decode_data(enc, self.arrays))
        if "raised" in event:
            if kind == "next" and event["raised"].get("type") == "StopIteration":
                raise StopIteration
            raise _rebuild_exception(event["raised"])
        if kind == "new":
            obj = self._new_object(event)
            self.handles[event["result"]["id"]] = obj
            _apply_state(obj, _decode_data(event.get("post", {"t": "dict", "v": []}), self.arrays))
            return obj
        if self_obj is not None and "post" in event:
            _apply_state(self_obj, _decode_data(event["post"], self.arrays))
        return self._decode_result(event.get("result"))

    def _decode_result(self, enc):
        if isinstance(enc, dict):
            t = enc.get("t")
            if t == "iter":
                it = _ReplayIterator(self, enc["id"])
                self.handles[enc["id"]] = it
                return it
            if t == "ref":
                return self.handles.get(enc["id"])
            if t == "opaque":
                return _Opaque(enc.get("type", "object"))
            if t in ("list", "tuple") and any(isinstance(v, dict) and v.get("t") in
                                               ("iter", "ref", "opaque") for v in enc["v"]):
                items = [self._decode_result(v) for v in enc["v"]]
                return items if t == "list" else tuple(items)
        return _decode_data(enc, self.arrays)

    def _new_object(self, event):
        replayer = self
        handle = event["result"]["id"]
        methods = {}
        for name, params in (event.get("signatures") or {}).items():
            def method(self, *args, _name=name, **kwargs):
                return replayer.call("method", handle, _name, args, kwargs, self)
            if params:
                method.__signature__ = _make_signature(params)
            methods[str(name)] = method
        kind = type(str(event.get("class_name", "Submitted")), (_ReplayObject,), methods)
        obj = kind()
        _apply_state(obj, _decode_data(event.get("class_data", {"t": "dict", "v": []}), self.arrays))
        return obj


def _apply_state(obj, state: dict) -> None:
    for name, value in state.items():
        if not isinstance(name, str):
            continue
        old = vars(obj).get(name)
        if (isinstance(old, np.ndarray) and isinstance(value, np.ndarray)
                and old.shape == value.shape and old.dtype == value.dtype):
            np.copyto(old, value)       # the check may hold this very array (a perturbed weight)
        else:
            try:
                setattr(obj, name, value)
            except (AttributeError, TypeError):
                pass


class _ReplayObject:
    """An instance of the student's class, as the log shows it."""


class _ReplayIterator:
    def __init__(self, replayer: Replayer, handle: int):
        self.replayer, self.handle = replayer, handle

    def __iter__(self):
        return self

    def __next__(self):
        return self.replayer.call("next", self.handle, None, (), {})


class _Opaque:
    """Something the student's code returned that is not data: any use of it fails."""

    def __init__(self, kind: str):
        self._kind = kind

    def __repr__(self):
        return f"<{self._kind} from the student's process>"

    def __getattr__(self, name):
        raise TypeError(f"a {self._kind} from the student's process cannot be used here, "
                        f"only numbers and arrays")
