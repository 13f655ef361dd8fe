"""What each trick of FastRNN bought: the plain RNN, then the tricks added one at a time.

    python -m benchmarks.ablation [--dispatch default|avx2] [--T 10 50 100] [--out FILE]

The variants below start from ``memrnn.RNN`` and add the tricks listed in
``memrnn.fast``'s docstring, in its order; the last two rungs are
``memrnn.fast.FastRNN`` itself, so the ladder ends at the package's code.
Every variant is first held to the plain RNN (weights and gradients after two
SGD steps, to 1e-12); then all of them are timed in CPU time, alternating, one
BLAS thread: each in a worker process of its own, as a training run has it, and
all in one process (``benchmarks/common.py`` says why the two differ).

Side measurements, not rungs:

- ``after_loop``: the gradients of W and b_s summed after the loop, from stored
  deltas, in one product (``AfterLoop``); ``FastRNN`` does not do this, because
  it was measured to cost time;
- float32, and the fast model with two BLAS threads instead of one (what
  ``Learner.train(blas_threads=1)`` holds it to);
- twins: a second plain RNN and a second ``FastRNN``, which run the same code as
  the originals. How far a twin's time lies from its original's is the noise of
  the measurement.

These classes are measuring instruments, not part of the package: no forward
offsets, no argument checks beyond the plain model's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from benchmarks import common
from memrnn import _io
from memrnn.fast import FastRNN
from memrnn.rnn import RNN

MODULE = "benchmarks.ablation"


class OneProduct(RNN):
    """Trick 1: ``[x_t, 1] [W; b_s]`` in one product, forward and backward. Fresh arrays."""

    def _inputs(self, x):
        """x checked, ``[x_t, 1]`` (T, B, in + 1), A (T + 1, B, H) with a_0 = 0, and ``[W; b_s]``."""
        x = self._check_input(x)
        T, B, _ = x.shape
        X1 = np.concatenate([x, np.ones((T, B, 1), dtype=self.dtype)], axis=2)
        A = np.zeros((T + 1, B, self.hidden_size), dtype=self.dtype)
        return x, X1, A, np.concatenate([self.W, self.bs])

    def _d_a(self, shape):
        return np.empty(shape, dtype=self.dtype)

    def forward(self, x, *, state_offset=None):
        assert state_offset is None
        x, X1, A, Wb = self._inputs(x)
        T = x.shape[0]
        for t in range(1, T + 1):
            A[t] = np.tanh(X1[t - 1] @ Wb + A[t - 1] @ self.R)
        self.x, self.A, self._X1 = x, A, X1
        self._offset_used = False
        return A[T] @ self.V + self.by

    def backward(self, d_loss):
        self._check_backward()
        A, X1, T = self.A, self._X1, self.A.shape[0] - 1
        dy = self._check_d_loss(d_loss, A.shape[1])
        d_Wb = np.zeros((self.input_size + 1, self.hidden_size), dtype=self.dtype)
        d_R = np.zeros_like(self.R)
        d_a = self._d_a(A[1:].shape)
        d_a[T - 1] = dy @ self.V.T
        for t in range(T, 0, -1):
            delta = d_a[t - 1] * (1.0 - A[t] ** 2)
            d_Wb += X1[t - 1].T @ delta
            d_R += A[t - 1].T @ delta
            if t > 1:
                d_a[t - 2] = delta @ self.R.T
        return self._finish(d_Wb, d_R, d_a, dy)

    def _finish(self, d_Wb, d_R, d_a, dy):
        n_in = self.input_size
        self.hidden_grads = d_a
        return self._set_grads({"d_W": d_Wb[:n_in].copy(), "d_R": d_R,
                                "d_bs": d_Wb[n_in:].copy(),
                                "d_V": self.A[-1].T @ dy, "d_by": dy.sum(axis=0, keepdims=True)})


class KeptArrays(OneProduct):
    """Trick 2: and the (T, B, .) arrays ``[x_t, 1]``, A and dL/da kept from call to call.

    The same steps as ``OneProduct``; only where its arrays come from differs.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._buffers = {}

    def _buffer(self, name, shape):
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape:
            buf = self._buffers[name] = np.empty(shape, dtype=self.dtype)
        return buf

    def _inputs(self, x):
        x = self._check_input(x)
        T, B, n_in = x.shape
        X1 = self._buffer("X1", (T, B, n_in + 1))
        X1[:, :, :n_in] = x
        X1[:, :, n_in] = 1.0
        A = self._buffer("A", (T + 1, B, self.hidden_size))
        A[0] = 0.0
        return x, X1, A, np.concatenate([self.W, self.bs])

    def _d_a(self, shape):
        return self._buffer("d_a", shape)


class AfterLoop(FastRNN):
    """FastRNN, but dW and db_s after the loop: one (in + 1, T B) by (T B, H) product of stored deltas.

    It saves T - 1 small products and pays for writing and reading back a (T, B, H)
    array of deltas. A measured negative result, kept here as a side measurement.
    """

    def backward(self, d_loss):
        self._check_backward()
        A, X1 = self.A, self._X1
        T, B, H = A.shape[0] - 1, A.shape[1], self.hidden_size
        dy = self._check_d_loss(d_loss, B)
        d_a = self._work_array("d_a", (T, B, H))
        delta = self._work_array("deltas", (T, B, H))     # every delta_t, kept for the product
        np.multiply(A[1:], A[1:], out=delta)
        np.subtract(1.0, delta, out=delta)                 # tanh'(s_t), every t at once
        np.matmul(dy, self.V.T, out=d_a[T - 1])
        R_T = np.ascontiguousarray(self.R.T)
        d_R = np.zeros((H, H), dtype=self.dtype)
        term = np.empty((H, H), dtype=self.dtype)
        for t in range(T, 0, -1):
            np.multiply(d_a[t - 1], delta[t - 1], out=delta[t - 1])
            if t > 1:
                np.matmul(delta[t - 1], R_T, out=d_a[t - 2])
                np.matmul(A[t - 1].T, delta[t - 1], out=term)
                d_R += term
        n_in = self.input_size
        d_Wb = X1.reshape(T * B, n_in + 1).T @ delta.reshape(T * B, H)   # the one product
        self.hidden_grads = d_a
        return self._set_grads({"d_W": np.ascontiguousarray(d_Wb[:n_in]), "d_R": d_R,
                                "d_bs": np.ascontiguousarray(d_Wb[n_in:]),
                                "d_V": A[T].T @ dy, "d_by": dy.sum(axis=0, keepdims=True)})


#: The ladder: (key, what was added, model factory). Each rung adds one trick to the one above.
LADDER = [
    ("plain", "memrnn.RNN, as the book teaches it",
     lambda H: RNN(1, H, 1, seed=0)),
    ("one_product", "+ input and bias in one product",
     lambda H: OneProduct(1, H, 1, seed=0)),
    ("kept_arrays", "+ work arrays kept from call to call",
     lambda H: KeptArrays(1, H, 1, seed=0)),
    ("in_place", "+ in place (out=), no temporaries (FastRNN, np.tanh)",
     lambda H: FastRNN(1, H, 1, seed=0, tanh="numpy")),
    ("tanh_by_cpu", "+ tanh by the CPU (FastRNN as shipped)",
     lambda H: FastRNN(1, H, 1, seed=0)),
]
#: Side measurements, not rungs, each with the rung or contender it is compared with.
SIDE = [
    ("after_loop", "in place, then dW, db_s after the loop (not shipped)",
     lambda H: AfterLoop(1, H, 1, seed=0, tanh="numpy")),
    ("fast_f32", "FastRNN in float32", lambda H: FastRNN(1, H, 1, seed=0, dtype=np.float32)),
    ("fast_2_threads", "FastRNN f64 with 2 BLAS threads", lambda H: FastRNN(1, H, 1, seed=0)),
    ("plain_twin", "a second plain RNN (same code)", lambda H: RNN(1, H, 1, seed=0)),
    ("fast_twin", "a second FastRNN (same code)", lambda H: FastRNN(1, H, 1, seed=0)),
]
#: What each side measurement is compared with (time of the reference / time of the side).
SIDE_VS = {"after_loop": "in_place", "fast_f32": "tanh_by_cpu", "fast_2_threads": "tanh_by_cpu",
           "plain_twin": "plain", "fast_twin": "tanh_by_cpu"}
MODES = ("isolated", "in_process")


def _blas_threads_hooks(step, n):
    """Switch OpenBLAS to ``n`` threads around this contender's steps, outside the timing."""
    from threadpoolctl import ThreadpoolController
    blas = ThreadpoolController().select(user_api="blas")
    step.before = lambda: [lib.set_num_threads(n) for lib in blas.lib_controllers]
    step.after = lambda: [lib.set_num_threads(1) for lib in blas.lib_controllers]
    return step


def contender(name, T, batch, hidden):
    """Build the step of one rung or side measurement by key (in this process or in a worker)."""
    make = dict((key, f) for key, _, f in LADDER + SIDE)[name]
    step = common.model_step(make(hidden), T, batch)
    if name == "fast_2_threads":
        _blas_threads_hooks(step, 2)
    return step


def run(Ts, batch, hidden, samples, warmup, modes):
    keys = [key for key, _, _ in LADDER]
    names = keys + [key for key, _, _ in SIDE]
    results = []
    for T in Ts:
        entry = {"T": T, "batch": batch, "hidden": hidden}
        with common.set_threads(1):
            steps = {name: contender(name, T, batch, hidden) for name in names}
            same = keys[1:] + [k for k in SIDE_VS if k != "fast_f32"]
            entry["max_diff_vs_plain"] = common.check_same_step(steps, "plain", same, grads=True)
            for mode in modes:
                load_before = common.loadavg()
                if mode == "in_process":
                    timing = common.time_alternating(steps, samples, warmup)
                else:
                    timing = common.time_isolated(MODULE, names, T, batch, hidden, samples, warmup)
                cpu = {k: v["median_cpu_ms"] for k, v in timing.items()}
                wall = {k: v["median_ms"] for k, v in timing.items()}
                entry[mode] = {
                    "timing": timing,
                    # in CPU time: each rung against the rung above it, each side measurement
                    # against its reference, and everything against the plain RNN
                    "step_gain": {b: cpu[a] / cpu[b] for a, b in zip(keys, keys[1:])},
                    "side_gain": {k: cpu[ref] / cpu[k] for k, ref in SIDE_VS.items()},
                    "speedup_vs_plain": {k: cpu["plain"] / v for k, v in cpu.items()},
                    "speedup_vs_plain_wall": {k: wall["plain"] / v for k, v in wall.items()},
                    "loadavg_before": load_before, "loadavg_after": common.loadavg(),
                }
                print(f"T = {T}, {mode}: done, load average {common.loadavg()}", flush=True)
            del steps
        results.append(entry)
    return results


def table(results, mode) -> str:
    head = ["variant"] + [f"T = {r['T']}: CPU ms (vs plain), faults" for r in results]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, _ in LADDER + SIDE:
        cells = [label]
        for r in results:
            t = r[mode]["timing"][key]
            cells.append(f"{t['median_cpu_ms']:.2f} ({r[mode]['speedup_vs_plain'][key]:.2f}x), "
                         f"{t['median_page_faults']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = common.timing_parser(__doc__, MODES).parse_args(argv)
    if common.run_with_dispatch(args.dispatch, MODULE, argv):
        return
    label = common.dispatch_label()
    out = args.out or Path(__file__).parents[1] / "memrnn" / "results" / f"speed-ablation-{label}.json"
    info = common.machine_info(1, " ".join(["python -m", MODULE, *argv]))
    info["loadavg_start"] = common.loadavg()
    results = run(args.T, args.batch, args.hidden, args.samples, args.warmup, args.modes)
    info["loadavg_end"] = common.loadavg()
    tables = {mode: table(results, mode) for mode in args.modes}
    for mode, text in tables.items():
        print(f"\nWhat each trick bought, {mode}: one SGD step, batch {args.batch}, hidden "
              f"{args.hidden}, NumPy dispatch {label}{' (emulated)' if info['emulated'] else ''}, "
              f"FastRNN's float64 tanh: {info['fast_tanh']}; median CPU ms of {args.samples} "
              f"alternating rounds, and median page faults per step:\n")
        print(text)
    ladder = [{"key": k, "label": text} for k, text, _ in LADDER]
    side = [{"key": k, "label": text} for k, text, _ in SIDE]
    _io.write_json(out, {"machine": info, "clock": "process_time", "ladder": ladder, "side": side,
                         "side_vs": SIDE_VS, "samples": args.samples,
                         "results": results, "tables_markdown": tables})
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
