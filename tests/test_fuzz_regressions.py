"""Inputs found by the C fuzz harness (fuzz/, tools/fuzz.sh), replayed from Python.

Each case is a range whose values all fit in int64 but whose span does not
(it crosses zero with a step above 2**45, starting near -2**63): the kernels
must compute chunk starts and values without any intermediate int64
overflow.  A plain build usually gets the right numbers even with such an
overflow (it wraps in practice), so the real check is running these under
tools/sanitize.sh, where UndefinedBehaviorSanitizer aborts on it; here the
results are checked against exact Python ints and NumPy.
"""

import numpy as np
import pytest

import gilfree
from gilfree import _reference

I64_MIN, I64_MAX = -(2**63), 2**63 - 1

RANGES = [
    # a chunk's start, start + f0 * step, overflowed although its value fits
    (I64_MIN, I64_MAX, 2**46),
    # a chunk crossing zero: (len - 1) * step and neg * step overflowed
    (I64_MIN, I64_MAX, 3 * 2**61),
    (I64_MAX, I64_MIN, -(3 * 2**61)),
    (I64_MIN + 5, I64_MAX, 2**62 + 7),
    (I64_MAX, I64_MIN, -(2**47) - 3),
]


@pytest.mark.parametrize("start,stop,step", RANGES)
@pytest.mark.parametrize("threads", [1, 2])
def test_sum_squares_range_wide_spans(start, stop, step, threads):
    want = sum(i * i for i in range(start, stop, step)) if len(range(start, stop, step)) < 10**6 else None
    got = gilfree.sum_squares_range(start, stop, step, threads=threads)
    assert got == _reference.sum_squares_range(start, stop, step)
    if want is not None:
        assert got == want


@pytest.mark.parametrize("start,stop,step", RANGES)
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint32, np.float32, np.float64])
def test_squares_range_wide_spans(start, stop, step, dtype):
    got = gilfree.squares_range(start, stop, step, dtype=dtype, threads=2)
    want = _reference.squares_range(start, stop, step, dtype=dtype)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
