"""Peers, when installed (``pip install gilfree[peers]``): numexpr and numba.

Both bring their own threads.  They are imported lazily, only when selected,
because importing numba takes about a second.
"""

from __future__ import annotations

import importlib

from ._strategy import Bound, Strategy

__all__ = ["make_strategies"]


def _import(name: str):
    """``(module, None)``, or ``(None, reason)`` when it is not installed."""
    try:
        return importlib.import_module(name), None
    except ImportError as exc:
        return None, f"{name} is not installed (pip install {name}): {exc}"


class _Numexpr(Strategy):
    name = "numexpr"
    family = "peers"
    summary = "numexpr.evaluate('x*x') with its own N threads (arrays only)"
    workloads = ("map", "reduce")

    def __init__(self):
        self._old_threads = None

    def skip_reason(self) -> str | None:
        return _import("numexpr")[1]

    def case_skip_reason(self, data, workers: int) -> str | None:
        if data.workload == "range":
            return "numexpr evaluates expressions on arrays; it has no range loop"
        ne = _import("numexpr")[0]
        limit = getattr(ne, "MAX_THREADS", 64)
        if workers > limit:
            return f"numexpr supports at most {limit} threads"
        return None

    def bind(self, data, workers: int) -> Bound:
        ne = _import("numexpr")[0]
        x, out = data.x, data.out

        def call():
            # the thread count is global: set it for every call, since the
            # other numexpr rows of the same round use other counts
            old = ne.set_num_threads(workers)
            if self._old_threads is None:
                self._old_threads = old
            if data.workload == "map":
                ne.evaluate("x * x", local_dict={"x": x}, out=out)
                return None
            return ne.evaluate("sum(x * x)", local_dict={"x": x}).item()

        note = "numexpr reductions run on one thread" if data.workload == "reduce" else None
        return Bound(call, note=note)

    def close(self) -> None:
        if self._old_threads is not None:
            _import("numexpr")[0].set_num_threads(self._old_threads)
            self._old_threads = None


_NUMBA_SOURCE = '''
import numba

@numba.njit(parallel=True, nogil=True, cache=False)
def range_sum(n):
    total = 0
    for i in numba.prange(n):
        total += i * i
    return total

@numba.njit(parallel=True, nogil=True, cache=False)
def map_squares(x, out):
    for i in numba.prange(x.size):
        out[i] = x[i] * x[i]

@numba.njit(parallel=True, nogil=True, cache=False)
def reduce_squares(x):
    total = x.dtype.type(0)
    for i in numba.prange(x.size):
        total += x[i] * x[i]
    return total
'''


class _Numba(Strategy):
    name = "numba"
    family = "peers"
    summary = "@njit(parallel=True, nogil=True) with prange, numba's N threads"

    def __init__(self):
        self._fns = None

    def skip_reason(self) -> str | None:
        return _import("numba")[1]

    def case_skip_reason(self, data, workers: int) -> str | None:
        numba = _import("numba")[0]
        limit = numba.config.NUMBA_NUM_THREADS
        if workers > limit:
            return f"numba was started with {limit} threads (NUMBA_NUM_THREADS)"
        return None

    def _compiled(self) -> dict:
        if self._fns is None:
            ns: dict = {}
            exec(compile(_NUMBA_SOURCE, "<gilfree.bench numba kernels>", "exec"), ns)
            self._fns = ns
        return self._fns

    def bind(self, data, workers: int) -> Bound:
        numba = _import("numba")[0]
        fns = self._compiled()
        args: tuple
        tiny: tuple
        if data.workload == "range":
            fn, args, tiny, modulus = fns["range_sum"], (data.n,), (1,), 2**64
        elif data.workload == "map":
            fn, args, tiny, modulus = (fns["map_squares"], (data.x, data.out),
                                       (data.x[:1], data.out[:1]), None)
        else:
            fn, args, tiny, modulus = fns["reduce_squares"], (data.x,), (data.x[:1],), None
        fn(*tiny)  # compile now (about a second), not inside a checked or timed call

        def call():
            numba.set_num_threads(workers)  # per calling thread, cheap
            r = fn(*args)
            return None if r is None else r.item() if hasattr(r, "item") else r

        # LLVM may vectorize the range loop or even replace it by its closed
        # form, so numba's range row can beat any real loop
        note = ("int64 sum, checked modulo 2**64; LLVM may solve the loop in closed form"
                if modulus else None)
        return Bound(call, modulus=modulus, note=note)


def make_strategies() -> list:
    """Fresh instances of this family's strategies, in report order."""
    return [_Numexpr(), _Numba()]
