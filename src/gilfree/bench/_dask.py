"""Dask strategies, when installed (``pip install gilfree[dask]``).

Both run on Dask's threaded scheduler with a pool of N threads (one pool per
worker count, started once and kept for the whole run, as a Dask user's
process keeps its pool), and both split the work into Dask tasks the same
way: a multiple of N pieces of about :data:`RANGE_PIECE` terms or
:data:`ARRAY_PIECE` elements, made with :func:`_worker.shares`, so the
threads get equal work.  The graph is built when the row is bound; a timed
call is one ``dask.compute`` of it.

- ``dask-python``: each task runs the pure-Python loop of the ``python`` row
  (:data:`_worker.PY_KERNELS`) on its piece.  Dask cannot make it faster:
  the tasks take turns at the GIL.
- ``dask-gilfree``: each task runs gilfree with ``threads=1``.  ``range`` is
  :func:`gilfree.dask.sum_squares_range`; ``reduce`` is
  :func:`gilfree.dask.sum_of_squares` on a Dask array whose blocks are
  views of ``x`` (``dask.array.from_array`` would copy ``x`` first);
  ``map`` squares each piece straight into the output array
  (``gilfree.square(x[a:b], out=out[a:b])`` per task), which is how one
  fills a preallocated NumPy array from Dask without a temporary:
  ``dask.array.store(gilfree.dask.square(d), out)`` writes every block
  twice (a new block, then the copy into ``out``).

Dask is imported only when one of these rows is selected.
"""

from __future__ import annotations

import importlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from .._timing import _worker
from ._gilfree import NOGIL_KERNELS
from ._strategy import Bound, Strategy

__all__ = ["ARRAY_PIECE", "RANGE_PIECE", "dask_pieces", "dask_views", "make_strategies", "warm_dask"]

#: Target terms per task of the range workload: 2**24 terms are a few ms of
#: gilfree on one core, far above Dask's per-task cost (~0.1 ms).
RANGE_PIECE = 1 << 24

#: Target elements per task of the array workloads: 128 MiB of float64, Dask's own
#: default chunk size (``array.chunk-size``).  Smaller pieces cost a scheduler
#: round trip each (the worker thread sleeps between tasks): with 32 MiB pieces
#: Dask's overhead was 5-24 ms on a 40-60 ms reduce at 10^8.
ARRAY_PIECE = 1 << 24

#: Pure-Python loops are ~100x slower per element: smaller pieces for them.
PYTHON_PIECE = 1 << 18


def dask_modules():
    """``((dask, dask.array), None)``, or ``(None, reason)`` without Dask."""
    try:
        dask = importlib.import_module("dask")
        darray = importlib.import_module("dask.array")
    except ImportError as exc:
        return None, f"dask is not installed (pip install \"gilfree[dask]\"): {exc}"
    return (dask, darray), None


def dask_pieces(n: int, workers: int, target: int) -> list:
    """``(start, stop)`` pieces: a multiple of `workers`, each about `target` long."""
    per_worker = max(1, -(-n // (target * workers)))
    return _worker.shares(n, workers * per_worker)


def dask_views(darray, x, bounds):
    """A Dask array whose blocks are the views ``x[a:b]``.

    ``dask.array.from_array`` would first copy `x` (Dask copies NumPy input,
    then slices the copy) and hash it: at 10^8 float64 another 800 MB.
    """
    name = f"bench-x-{uuid.uuid4().hex}"
    dsk = {(name, k): x[a:b] for k, (a, b) in enumerate(bounds)}
    return darray.Array(dsk, name, chunks=(tuple(b - a for a, b in bounds),), dtype=x.dtype)


def _task(kernel, data, a, b):
    return kernel(data, a, b)


def _tasks(dask, kernel, data, bounds, name: str) -> list:
    # explicit keys: Dask must not hash (tokenize) the case's arrays
    return [dask.delayed(_task, pure=False)(kernel, data, a, b, dask_key_name=f"{name}-{k}")
            for k, (a, b) in enumerate(bounds)]


def warm_dask(pool: ThreadPoolExecutor, workers: int) -> None:
    """Start all `workers` threads and run one tiny graph, outside any timing.

    The first ``dask.compute`` of a process imports the graph optimizers
    (a few hundred ms), and a pool starts its threads on first use.
    """
    (dask, _), _ = dask_modules()
    barrier = threading.Barrier(workers)
    list(pool.map(lambda _: barrier.wait(60), range(workers)))
    dask.compute([dask.delayed(abs)(-k) for k in range(2 * workers)],
                 scheduler="threads", pool=pool)


class _DaskStrategy(Strategy):
    family = "dask"

    def __init__(self) -> None:
        self._pools: dict = {}

    def skip_reason(self) -> str | None:
        return dask_modules()[1]

    def _pool(self, workers: int) -> ThreadPoolExecutor:
        pool = self._pools.get(workers)
        if pool is None:
            pool = self._pools[workers] = ThreadPoolExecutor(
                workers, thread_name_prefix=f"{self.name}-{workers}")
            warm_dask(pool, workers)
        return pool

    def _compute(self, graph, workers: int):
        (dask, _), _ = dask_modules()
        pool = self._pool(workers)

        def call():
            return dask.compute(graph, scheduler="threads", pool=pool)[0]
        return call

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        self._pools.clear()


class _DaskPython(_DaskStrategy):
    name = "dask-python"
    summary = "the pure-Python loop per task on Dask's threaded scheduler, N threads"

    def bind(self, data, workers: int) -> Bound:
        (dask, _), _ = dask_modules()
        target = PYTHON_PIECE if data.workload != "range" else RANGE_PIECE
        bounds = dask_pieces(data.n, workers, target)
        kernel = _worker.PY_KERNELS[data.workload]
        compute = self._compute(_tasks(dask, kernel, data, bounds, self.name), workers)
        workload = data.workload
        return Bound(lambda: _worker.combine(workload, compute()))


class _DaskGilfree(_DaskStrategy):
    name = "dask-gilfree"
    summary = "gilfree (threads=1) per task on Dask's threaded scheduler, N threads (gilfree.dask)"

    def bind(self, data, workers: int) -> Bound:
        (dask, darray), _ = dask_modules()
        gdask = importlib.import_module("gilfree.dask")
        if data.workload == "range":
            bounds = dask_pieces(data.n, workers, RANGE_PIECE)
            graph = gdask.sum_squares_range(0, data.n, chunks=tuple(b - a for a, b in bounds))
            return Bound(self._compute(graph, workers))
        bounds = dask_pieces(data.n, workers, ARRAY_PIECE)
        if data.workload == "reduce":
            dx = dask_views(darray, data.x, bounds)
            return Bound(self._compute(gdask.sum_of_squares(dx), workers))
        compute = self._compute(
            _tasks(dask, NOGIL_KERNELS["map"], data, bounds, self.name), workers)
        return Bound(lambda: _worker.combine("map", compute()),
                     note="each task writes its piece into out (no dask.array.store copy)")


def make_strategies() -> list:
    """Fresh instances of this family's strategies, in report order."""
    return [_DaskPython(), _DaskGilfree()]
