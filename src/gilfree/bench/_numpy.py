"""NumPy strategies: vectorized on one thread, and on chunks from N threads.

NumPy releases the GIL inside its loops over more than a few hundred
elements, so chunks on N threads can run in parallel.  ``np.dot(x, x)`` is
BLAS; a multi-threaded BLAS (OpenBLAS by default) may add threads of its
own, so set ``OPENBLAS_NUM_THREADS=1`` to see NumPy alone.
"""

from __future__ import annotations

import numpy as np

from ._strategy import SerialStrategy, ThreadsStrategy

__all__ = ["make_strategies"]

#: Range elements per ``np.arange`` block.  64 Ki int64 (512 KiB) keeps the
#: temporaries in L2 and bounds memory at n = 10^9, where one ``arange``
#: would need 8 GB.
RANGE_BLOCK = 1 << 16



def _range_exact_max_n() -> int:
    """The largest n with sum(i*i for i < n) <= 2**63 - 1 (3,024,617)."""
    def fits(n):
        return (n - 1) * n * (2 * n - 1) // 6 <= 2**63 - 1
    n = round((3 * 2.0**63) ** (1 / 3))  # the sum is about n**3 / 3
    while fits(n + 1):
        n += 1
    while not fits(n):
        n -= 1
    return n


#: Beyond this n NumPy's int64 sum wraps around: its result is then right
#: only modulo 2**64, which is what the bench checks (and says).
RANGE_EXACT_MAX_N = _range_exact_max_n()


def range_sum(data, a: int, b: int) -> int:
    """``np.arange`` then square and sum, block by block, in int64 (wraps)."""
    total = np.int64(0)
    # the wrap-around is NumPy's documented int64 behaviour, checked modulo
    # 2**64; NumPy only warns about it for scalars, not for arrays
    with np.errstate(over="ignore"):
        for lo in range(a, b, RANGE_BLOCK):
            r = np.arange(lo, min(b, lo + RANGE_BLOCK), dtype=np.int64)
            total += np.dot(r, r)  # int64 dot: no BLAS, wraps modulo 2**64
    return int(total)


def map_squares(data, a: int, b: int) -> None:
    np.square(data.x[a:b], out=data.out[a:b])


def reduce_squares(data, a: int, b: int):
    x = data.x[a:b]
    return np.dot(x, x).item()


KERNELS = {"range": range_sum, "map": map_squares, "reduce": reduce_squares}
NOTES = {
    "range": (f"int64 sum: exact up to n = {RANGE_EXACT_MAX_N:,}, checked modulo 2**64 above"),
    "reduce": "np.dot is BLAS: it may run threads of its own (OPENBLAS_NUM_THREADS)",
}
MODULI = {"range": 2**64}


def make_strategies() -> list:
    """Fresh instances of this family's strategies, in report order."""
    return [
        SerialStrategy("numpy", "numpy",
                       "NumPy on one thread: np.square, np.dot(x, x), np.arange",
                       KERNELS, NOTES, MODULI),
        ThreadsStrategy("numpy-threads", "numpy",
                        "NumPy on one chunk per threading.Thread (NumPy releases the GIL)",
                        KERNELS, NOTES, MODULI),
    ]
