"""Strategies that use separate processes: ``python-processes`` and the ceilings.

``python-processes`` is the textbook answer to the GIL: the pure-Python loop
split over a ``concurrent.futures.ProcessPoolExecutor``.  Arrays reach the
workers through ``multiprocessing.shared_memory`` (attached by name, zero
copy, never pickled).  Starting the pool is timed on its own and reported
separately from the steady-state calls.

``ceiling-python`` is the same with the pure-Python loop in each process:
the limit for the pure-Python rows, which are compute-bound at every size
while the C kernels meet the memory bandwidth on large arrays.

``ceiling`` is the physical limit of parallel work on this machine: N
processes, each running the one-thread gilfree call on its own share at the
same moment, with no communication at all.  The processes meet at a barrier,
then each times its own loop; the time of a run is the longest of them.
Pool round-trips, pickling and the skew of the barrier's wake-ups (0.1-0.5 ms
on a busy 2-core VM: harness noise, not a cost of the work) are not counted,
while everything the processes share (cores, caches, memory bandwidth, the
turbo budget) is.  Its speedup over one process is the best any strategy can
reach here.

Both use the ``spawn`` start method: ``fork`` copies a process whose gilfree
pool threads exist, which Python 3.12+ warns about, and ``spawn`` behaves the
same on every OS.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .._timing import _worker
from ._cases import attach
from ._gilfree import NOGIL_KERNELS
from ._strategy import Bound, Strategy

__all__ = ["make_strategies"]

#: Seconds a worker waits at the start barrier before giving up (a sibling
#: died): long enough for a loaded machine, short enough not to hang a run.
BARRIER_TIMEOUT = 120.0

_barrier: Any = None  # the pool's start barrier, set in each worker by _init_worker
_payload: Any = None  # the pool's payload (ProcessPools(payload=...)), likewise


def _init_worker(barrier, payload=None) -> None:
    global _barrier, _payload
    _barrier = barrier
    _payload = payload
    # Ctrl-C goes to the whole process group; the parent handles it and shuts
    # the pool down, so workers must not die mid-task with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent reports a worker that dies (its signal or exit status); a
    # fault handler inherited from PYTHONFAULTHANDLER or -X faulthandler
    # would print the worker's stack over that report.
    import faulthandler

    faulthandler.disable()


def _warm() -> int:
    """Import everything a task needs, then wait for all siblings."""
    from . import _gilfree  # noqa: F401  (imports gilfree and NumPy)

    _barrier.wait(BARRIER_TIMEOUT)
    return 0


def _share_task(spec, kernel, a: int, b: int):
    """One share of a ``python-processes`` call, in a worker."""
    return kernel(attach(spec), a, b)


def _timed_share(spec, kernel, a: int, b: int, loops: int):
    """One share of a ``ceiling`` run, timed inside the worker."""
    data = attach(spec)
    _barrier.wait(BARRIER_TIMEOUT)
    t0 = time.perf_counter()
    for _ in range(loops):
        result = kernel(data, a, b)
    return t0, time.perf_counter(), result


def timed_payload(loops: int):
    """``payload(loops)`` in a worker, timed from the moment all siblings
    passed the barrier (``gilfree probe``: one call loop per process)."""
    _barrier.wait(BARRIER_TIMEOUT)
    t0 = time.perf_counter()
    result = _payload(loops)
    return t0, time.perf_counter(), result


class ProcessPools:
    """Spawned pools, one per worker count, shared by both strategies.

    Sharing halves the start-up time of a run (each spawned worker imports
    NumPy and gilfree: about 0.3 s of CPU).  The start-up of each pool is
    timed once and reported for both strategies.

    `method` is the start method; `payload`, a callable handed to every
    worker when it starts (inherited under ``fork``, pickled under
    ``spawn``), is what :func:`timed_payload` runs.
    """

    def __init__(self, method: str = "spawn", payload=None):
        self._pools: dict = {}
        self._barriers: list = []
        self.startup: dict = {}
        self.method = method
        self.payload = payload

    def get(self, workers: int) -> ProcessPoolExecutor:
        if workers not in self._pools:
            ctx = multiprocessing.get_context(self.method)
            t0 = time.perf_counter()
            barrier = ctx.Barrier(workers)
            self._barriers.append(barrier)
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                       initializer=_init_worker,
                                       initargs=(barrier, self.payload))
            self._pools[workers] = pool
            # Workers start lazily; tasks that wait for each other at the
            # barrier force all of them up, with their imports done.
            for f in [pool.submit(_warm) for _ in range(workers)]:
                f.result()
            self.startup[workers] = time.perf_counter() - t0
        return self._pools[workers]

    def workers(self, n: int) -> list:
        """The processes of the pool of `n` workers (none before :meth:`get`)."""
        return list((getattr(self._pools.get(n), "_processes", None) or {}).values())

    def kill(self) -> None:
        """Stop every worker now: a call in flight is not waited for.

        SIGKILL: a forked worker inherits the command line's SIGTERM handler
        (stop like Ctrl-C), which would print its traceback.  Each pool's
        manager thread then sees them gone; :meth:`close` joins it (a
        ``shutdown(wait=False)`` here would leave it running into interpreter
        exit, where 3.11's exit hook can race it on a closed pipe).
        """
        for n in list(self._pools):
            for p in self.workers(n):
                try:
                    p.kill()
                except Exception:  # already gone
                    pass

    def close(self) -> None:
        pools, self._pools = self._pools, {}
        # A run interrupted between the submissions of one ceiling call
        # leaves some workers waiting at the barrier for siblings that will
        # never come (up to BARRIER_TIMEOUT): breaking it frees them now, so
        # the shutdown below takes no longer than the tasks still running.
        for barrier in self._barriers:
            try:
                barrier.abort()
            except Exception:  # already broken, or its manager is gone
                pass
        self._barriers = []
        for pool in pools.values():
            pool.shutdown(wait=True, cancel_futures=True)


class _ProcessStrategy(Strategy):
    """Common part: shares, shared memory, the pools."""

    needs_shared_memory = True

    def __init__(self, name: str, summary: str, kernels, pools: ProcessPools):
        self.name = name
        self.family = "processes"
        self.summary = summary
        self.kernels = dict(kernels)
        self.pools = pools

    def case_skip_reason(self, data, workers: int) -> str | None:
        if data.workload != "range" and data.shm_error:
            return f"arrays cannot be shared with worker processes: {data.shm_error}"
        return super().case_skip_reason(data, workers)

    def startup(self, workers: int) -> float | None:
        return self.pools.startup.get(workers)

    def close(self) -> None:
        self.pools.close()


class _PythonProcesses(_ProcessStrategy):
    def bind(self, data, workers: int) -> Bound:
        pool = self.pools.get(workers)
        spec, kernel, workload = data.spec(), self.kernels[data.workload], data.workload
        bounds = _worker.shares(data.n, workers)

        def call():
            futures = [pool.submit(_share_task, spec, kernel, a, b) for a, b in bounds]
            return _worker.combine(workload, [f.result() for f in futures])

        return Bound(call)


class _Ceiling(_ProcessStrategy):
    def bind(self, data, workers: int) -> Bound:
        pool = self.pools.get(workers)
        spec, kernel, workload = data.spec(), self.kernels[data.workload], data.workload
        bounds = _worker.shares(data.n, workers)

        def run(loops):
            futures = [pool.submit(_timed_share, spec, kernel, a, b, loops) for a, b in bounds]
            done = [f.result() for f in futures]
            elapsed = max(t1 - t0 for t0, t1, _ in done)
            return elapsed, _worker.combine(workload, [r for _, _, r in done])

        return Bound(call=lambda: run(1)[1], timed=lambda loops: run(loops)[0])


def make_strategies() -> list:
    """Fresh instances of this family's strategies, in report order."""
    pools = ProcessPools()
    return [
        _PythonProcesses("python-processes",
                         "the pure-Python loop over N processes (ProcessPoolExecutor, "
                         "arrays in shared memory)", _worker.PY_KERNELS, pools),
        _Ceiling("ceiling-python",
                 "N independent processes, each the pure-Python loop on its share, "
                 "timed inside: the limit for the pure-Python rows", _worker.PY_KERNELS,
                 pools),
        _Ceiling("ceiling",
                 "N independent processes, each the 1-thread gilfree call on its share, "
                 "timed inside: the machine's limit for the compiled rows", NOGIL_KERNELS,
                 pools),
    ]
