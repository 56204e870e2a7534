"""Regression benchmarks of the kernels (pytest-benchmark).

Skipped unless pytest-benchmark is installed (the test extra does not
install it).  With it, the test run times them; run them on a quiet machine,
save a baseline, and compare after a change::

    pip install pytest-benchmark
    python -m pytest tests/test_kernels_bench.py --benchmark-autosave
    # ... change the C or the Cython, rebuild ...
    python -m pytest tests/test_kernels_bench.py --benchmark-compare \
        --benchmark-compare-fail=median:10%

``--benchmark-disable`` runs every call once, as a correctness check only.
Each group holds gilfree on 1 thread, on all usable CPUs, and NumPy doing the
same work, so the report reads as ratios ("speed = NumPy time / gilfree
time"), and the group names stay stable across runs for ``--benchmark-compare``.
Every benchmarked call's result is checked once, outside the timing.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import gilfree  # noqa: E402
from gilfree import _reference  # noqa: E402

ALL = gilfree.cpu_count()
SIZES = [10**3, 10**5, 10**7]
THREADS = [pytest.param(1, id="1thread"), pytest.param(ALL, id="allthreads")]


def _data(n: int, dtype: str) -> np.ndarray:
    # small integers: float sums are exact, so results compare with ==
    return (np.arange(n) * 7919 % 2001 - 1000).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "int64"])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("threads", THREADS)
def test_square(benchmark, n, dtype, threads):
    x = _data(n, dtype)
    out = np.empty_like(x)
    benchmark.group = f"square {dtype} n={n:.0e}"
    benchmark(gilfree.square, x, out=out, threads=threads)
    np.testing.assert_array_equal(out, np.square(x))


@pytest.mark.parametrize("dtype", ["float64", "int64"])
@pytest.mark.parametrize("n", SIZES)
def test_square_numpy(benchmark, n, dtype):
    x = _data(n, dtype)
    out = np.empty_like(x)
    benchmark.group = f"square {dtype} n={n:.0e}"
    benchmark(np.square, x, out=out)


@pytest.mark.parametrize("dtype", ["float64", "int64"])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("threads", THREADS)
def test_sum_of_squares(benchmark, n, dtype, threads):
    x = _data(n, dtype)
    benchmark.group = f"sum_of_squares {dtype} n={n:.0e}"
    result = benchmark(gilfree.sum_of_squares, x, threads=threads)
    xi = x.astype(np.int64)
    assert result == int(np.dot(xi, xi))


@pytest.mark.parametrize("dtype", ["float64", "int64"])
@pytest.mark.parametrize("n", SIZES)
def test_sum_of_squares_numpy(benchmark, n, dtype):
    x = _data(n, dtype)
    benchmark.group = f"sum_of_squares {dtype} n={n:.0e}"
    benchmark(np.dot, x, x)


@pytest.mark.parametrize("n", [10**5, 10**7, 10**9])
@pytest.mark.parametrize("threads", THREADS)
def test_sum_squares_range(benchmark, n, threads):
    benchmark.group = f"sum_squares_range n={n:.0e}"
    result = benchmark(gilfree.sum_squares_range, 0, n, threads=threads)
    assert result == _reference.sum_squares_range(0, n)


@pytest.mark.parametrize("n", [10**5, 10**7])
def test_sum_squares_range_numpy(benchmark, n):
    # NumPy's idiom for the same loop (int64: wraps beyond n ~ 3e6)
    benchmark.group = f"sum_squares_range n={n:.0e}"

    def numpy_range():
        r = np.arange(n, dtype=np.int64)
        return np.dot(r, r)

    benchmark(numpy_range)
