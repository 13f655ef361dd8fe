"""How many threads BLAS may use while memrnn trains: decided here, and only here."""

from __future__ import annotations

import contextlib

from threadpoolctl import threadpool_limits

from . import _checks

#: Training, probing and evaluating use one BLAS thread: the matrices are small, so more
#: threads only add synchronisation, and a run's numbers do not depend on the machine's cores.
THREADS = 1


def limit(threads: int | None = THREADS):
    """A context in which BLAS uses at most ``threads`` threads (None: leave it as it is)."""
    if threads is None:
        return contextlib.nullcontext()
    return threadpool_limits(_checks.positive_int(threads, "blas_threads"), "blas")
