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


# -- OpenMP and the parallel-for C-API: the same loops, two runtimes ------------

def openmp_module():
    """``(module, None)`` if this build has usable OpenMP, else ``(None, reason)``."""
    try:
        from gilfree import _openmp
    except ImportError:
        return None, "this build has no OpenMP (gilfree._openmp was not compiled)"
    if not getattr(_openmp, "available", False):
        return None, "this build has no OpenMP (gilfree._openmp.available is False)"
    return _openmp, None


def pfor_module():
    """``(module, None)`` if ``gilfree._pfor`` (the parallel-for C-API's
    loops) imports, else ``(None, reason)``."""
    try:
        from gilfree import _pfor
    except ImportError as e:
        return None, f"gilfree._pfor does not import: {e}"
    return _pfor, None


def _loops(find):
    """The three workloads' calls on the module `find()` returns (looked up at
    call time, so a test can swap in another module): the OpenMP and the
    parallel-for rows share their signatures."""
    def make(name: str):
        def call(data, w):
            mod, _ = find()
            if name == "range":
                return mod.sum_squares_range(0, data.n, 1, w)
            if name == "map":
                return mod.square(data.x, data.out, w)
            return mod.sum_of_squares(data.x, w)
        return call
    return {k: make(k) for k in ("range", "map", "reduce")}


class _Optional(CallStrategy):
    """A row over a module that a build may lack: skipped with its reason."""

    def __init__(self, name, family, summary, find):
        super().__init__(name, family, summary, _loops(find))
        self.find = find

    def skip_reason(self) -> str | None:
        return self.find()[1]


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
        _Optional("gilfree-openmp", "gilfree",
                  "the same kernels under Cython prange (OpenMP), N threads", openmp_module),
        _Optional("gilfree-parallel-for", "gilfree",
                  "the same loops as gilfree-openmp on gilfree's pool, through the public "
                  "parallel-for C-API", pfor_module),
    ]
