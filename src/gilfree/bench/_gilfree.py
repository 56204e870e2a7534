"""gilfree's own strategies, and the control that holds the GIL.

- ``gilfree-gil``: the same C kernels called with the GIL held, from N
  threads.  It must not speed up: it shows that the speedup of the others
  comes from releasing the GIL, not from running C.
- ``gilfree-threads``: the GIL-free kernels from N plain ``threading.Thread``s,
  one share each, ``threads=1`` per call: what a user would write.
- ``gilfree``: one library call with ``threads=N`` (gilfree's own pool).
- ``gilfree-openmp``: the same kernels under Cython ``prange``, where the
  build has OpenMP (the optional ``gilfree._openmp`` extension).
- ``gilfree-parallel-for``: the same loops as ``gilfree-openmp`` on
  gilfree's pool, written through the public parallel-for C-API
  (``gilfree._pfor``, built everywhere).

The one-thread share kernels here are also what each process of the
``ceiling`` strategy runs.
"""

from __future__ import annotations

import gilfree
from gilfree import _core

from ._python import gil_enabled
from ._strategy import CallStrategy, ThreadsStrategy

__all__ = ["NOGIL_KERNELS", "make_strategies", "openmp_module", "pfor_module"]


# -- share kernels: one thread each, GIL released --------------------------

def range_nogil(data, a: int, b: int) -> int:
    return gilfree.sum_squares_range(a, b, threads=1)


def map_nogil(data, a: int, b: int) -> None:
    gilfree.square(data.x[a:b], out=data.out[a:b], threads=1)


def reduce_nogil(data, a: int, b: int):
    return gilfree.sum_of_squares(data.x[a:b], threads=1)


NOGIL_KERNELS = {"range": range_nogil, "map": map_nogil, "reduce": reduce_nogil}


# -- share kernels: the control, GIL held for the whole call ----------------

def range_gil(data, a: int, b: int) -> int:
    return _core.sum_squares_range_holding_gil(a, b)


def map_gil(data, a: int, b: int) -> None:
    _core.square_holding_gil(data.x[a:b], data.out[a:b])


def reduce_gil(data, a: int, b: int):
    return _core.sum_of_squares_holding_gil(data.x[a:b])


GIL_KERNELS = {"range": range_gil, "map": map_gil, "reduce": reduce_gil}


# -- whole calls: the library's own pool ------------------------------------

LIBRARY_CALLS = {
    "range": lambda data, w: gilfree.sum_squares_range(0, data.n, threads=w),
    "map": lambda data, w: gilfree.square(data.x, out=data.out, threads=w),
    "reduce": lambda data, w: gilfree.sum_of_squares(data.x, threads=w),
}


# -- OpenMP -------------------------------------------------------------------

def openmp_module():
    """``(module, None)`` if this build has usable OpenMP, else ``(None, reason)``."""
    try:
        from gilfree import _openmp
    except ImportError:
        return None, "this build has no OpenMP (gilfree._openmp was not compiled)"
    if not getattr(_openmp, "available", False):
        return None, "this build has no OpenMP (gilfree._openmp.available is False)"
    return _openmp, None


def _omp(name: str):
    # Looked up at call time, so a test can swap in another gilfree._openmp.
    def call(data, w):
        mod, _ = openmp_module()
        if name == "range":
            return mod.sum_squares_range(0, data.n, 1, w)
        if name == "map":
            return mod.square(data.x, data.out, w)
        return mod.sum_of_squares(data.x, w)
    return call


class _OpenMP(CallStrategy):
    def skip_reason(self) -> str | None:
        return openmp_module()[1]


# -- the parallel-for C-API ----------------------------------------------------

def pfor_module():
    """``(module, None)`` if ``gilfree._pfor`` imports, else ``(None, reason)``."""
    try:
        from gilfree import _pfor
    except ImportError as e:
        return None, f"gilfree._pfor does not import: {e}"
    return _pfor, None


def _pfor_call(name: str):
    # Looked up at call time, like _omp.
    def call(data, w):
        mod, _ = pfor_module()
        if name == "range":
            return mod.sum_squares_range(0, data.n, 1, w)
        if name == "map":
            return mod.square(data.x, data.out, w)
        return mod.sum_of_squares(data.x, w)
    return call


class _ParallelFor(CallStrategy):
    def skip_reason(self) -> str | None:
        return pfor_module()[1]


class _HoldingGIL(ThreadsStrategy):
    def skip_reason(self) -> str | None:
        if not gil_enabled():
            return "no GIL to hold: this interpreter runs free-threaded"
        return None


def make_strategies() -> list:
    """Fresh instances of this family's strategies, in report order."""
    return [
        _HoldingGIL("gilfree-gil", "gilfree",
                    "control: the same C kernels with the GIL held, from N threads",
                    GIL_KERNELS),
        ThreadsStrategy("gilfree-threads", "gilfree",
                        "the GIL-free kernels, threads=1, one share per threading.Thread",
                        NOGIL_KERNELS),
        CallStrategy("gilfree", "gilfree",
                     "the library call with threads=N (gilfree's own pool)", LIBRARY_CALLS),
        _OpenMP("gilfree-openmp", "gilfree",
                "the same kernels under Cython prange (OpenMP), N threads",
                {k: _omp(k) for k in ("range", "map", "reduce")}),
        _ParallelFor("gilfree-parallel-for", "gilfree",
                     "the same loops as gilfree-openmp on gilfree's pool, through the public "
                     "parallel-for C-API", {k: _pfor_call(k) for k in ("range", "map", "reduce")}),
    ]
