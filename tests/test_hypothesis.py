"""Property tests: gilfree against NumPy and the reference on arrays, views
and ranges that Hypothesis makes up (profiles in conftest.py)."""

from __future__ import annotations

import math
import re
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

import gilfree
from gilfree import _reference as ref

# Float squares and sums report overflow (and square also underflow/invalid)
# through np.errstate as np.square / np.dot do (tests/test_errstate.py);
# these tests draw such inputs on purpose and check values only.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:(overflow|underflow|invalid value) encountered in (square|dot):RuntimeWarning"
)

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1

NATIVE = [
    np.dtype(t)
    for t in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64")
]
INTS = [d for d in NATIVE if d.kind in "iu"]
ALL_SQUARE = NATIVE + [d.newbyteorder() for d in NATIVE if d.itemsize > 1] + [
    np.dtype(t) for t in ("bool", "float16", "complex64", "complex128")
]
threads_st = st.sampled_from([None, 1, 2, 3, 8])


@st.composite
def views(draw, dtypes, max_side=12, max_dims=4):
    """An array of one of `dtypes`, then a basic-index view of it (negative
    steps, dropped and new axes), sometimes transposed."""
    dt = draw(st.sampled_from(dtypes))
    base = draw(hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side)))
    if base.ndim:
        idx = draw(hnp.basic_indices(base.shape, allow_newaxis=True, allow_ellipsis=True))
        base = base[idx]
    if isinstance(base, np.ndarray) and base.ndim > 1 and draw(st.booleans()):
        base = base.transpose(draw(st.permutations(range(base.ndim))))
    return base


def same(got, exp):
    assert type(got) is type(exp)
    assert got.dtype == exp.dtype
    np.testing.assert_array_equal(got, exp, strict=True)


@given(x=views(ALL_SQUARE), threads=threads_st)
def test_square_matches_numpy(x, threads):
    note(f"dtype={x.dtype} shape={np.shape(x)} strides={getattr(x, 'strides', None)}")
    before = np.array(x, copy=True)
    with warnings.catch_warnings():
        # bool/float16/complex go through np.square, which may warn on
        # overflow (see test_square.py::test_odd_dtypes_warnings)
        warnings.simplefilter("ignore", RuntimeWarning)
        got = gilfree.square(x, threads=threads)
    with np.errstate(all="ignore"):
        exp = np.square(x)
    same(got, exp)
    np.testing.assert_array_equal(x, before, strict=True)


@given(x=views(NATIVE), threads=threads_st, data=st.data())
def test_square_out_and_overlap(x, threads, data):
    assume(isinstance(x, np.ndarray))
    with np.errstate(all="ignore"):
        exp = np.square(x.copy())
    how = data.draw(st.sampled_from(["new", "in_place", "reversed_self"] if x.ndim else ["new", "in_place"]))
    if how == "new":
        out = np.full(x.shape, 7, dtype=exp.dtype)
        target = x
    else:
        target = x.copy()  # writeable, then view it in place
        out = target if how == "in_place" else target[(slice(None, None, -1),) * target.ndim]
    r = gilfree.square(target, out=out, threads=threads)
    assert r is out
    np.testing.assert_array_equal(out, exp, strict=True)


def _overflow_index(msg: str):
    m = re.search(r"at index (\([^)]*\)|\d+)", msg)
    return m.group(1) if m else None


@given(x=views(INTS), threads=threads_st)
def test_overflow_raise_matches_reference(x, threads):
    """Raises exactly when the reference does, naming the same element."""
    try:
        expected = ref.square(x, overflow="raise")
    except OverflowError as e:
        ref_msg = str(e)
        try:
            gilfree.square(x, overflow="raise", threads=threads)
        except OverflowError as e2:
            assert _overflow_index(str(e2)) == _overflow_index(ref_msg), (str(e2), ref_msg)
        else:
            raise AssertionError(f"no OverflowError; reference says {ref_msg}")
    else:
        same(gilfree.square(x, overflow="raise", threads=threads), expected)


@given(x=views(INTS + [np.dtype(bool)], max_side=20), threads=threads_st)
def test_sum_of_squares_ints_exact(x, threads):
    got = gilfree.sum_of_squares(x, threads=threads)
    assert type(got) is int
    assert got == sum(int(v) ** 2 for v in np.asarray(x).ravel().tolist())


@given(
    dtype=st.sampled_from([np.dtype(t) for t in ("int64", "uint64", "int32", "uint32")]),
    n=st.integers(0, 1300),
    offset=st.integers(0, 9),
    data=st.data(),
    threads=threads_st,
)
def test_sum_of_squares_narrow_and_wide_blocks_exact(dtype, n, offset, data, threads):
    """64-bit input is summed in blocks of 256: a block whose magnitudes all
    fit in 32 bits takes the vectorized 32-bit path, any other the 128-bit
    one.  Mostly-narrow values with a few wide spikes (and values at the
    2**32 edge) exercise both and the switch between them."""
    info = np.iinfo(dtype)
    edge = min(2**32 - 1, info.max)
    lo = 0 if dtype.kind == "u" else max(-edge, info.min)
    x = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).integers(
        lo, edge, n + offset, dtype=dtype, endpoint=True)
    spikes = data.draw(st.lists(st.tuples(st.integers(0, max(n + offset - 1, 0)),
                                          st.sampled_from(sorted({info.min, info.max, edge, lo,
                                                                  min(edge + 1, info.max),
                                                                  max(lo - 1, info.min)}))),
                                max_size=4))
    for i, v in spikes:
        if i < x.size:
            x[i] = v
    v = x[offset:]
    got = gilfree.sum_of_squares(v, threads=threads)
    assert got == sum(int(e) ** 2 for e in v.tolist())


@given(
    x=views([np.dtype("float64"), np.dtype("float32"), np.dtype("float16"), np.dtype(">f8")], max_side=20),
    threads=threads_st,
)
def test_sum_of_squares_floats_close_to_fsum(x, threads):
    got = gilfree.sum_of_squares(x, threads=threads)
    exact = ref.sum_of_squares(x)
    assert type(got) is float
    if math.isnan(exact):
        assert math.isnan(got)
    elif math.isinf(exact):
        assert got == exact
    else:
        # compensated float64 sum of non-negative terms: within a few ulps
        assert abs(got - exact) <= 4 * math.ulp(exact), (got, exact)


@given(
    x=hnp.arrays(np.float64, st.integers(0, 300), elements=st.floats(allow_nan=False, width=64)),
    threads=threads_st,
)
def test_sum_of_squares_overflow_gives_inf(x, threads):
    got = gilfree.sum_of_squares(x, threads=threads)
    exact = ref.sum_of_squares(x)
    if math.isinf(exact):
        assert got == math.inf
    else:
        assert abs(got - exact) <= 4 * math.ulp(exact), (got, exact)


@st.composite
def int64_ranges(draw, max_len=3000):
    start = draw(st.one_of(st.integers(I64_MIN, I64_MAX), st.integers(-(10**6), 10**6),
                           st.sampled_from([I64_MIN, I64_MAX, 0, -1, 2**32, -(2**32), 2**31, 3037000499])))
    step = draw(st.one_of(st.integers(-5, 5), st.integers(I64_MIN, I64_MAX)).filter(lambda s: s != 0))
    length = draw(st.integers(0, max_len))
    stop = start + step * length
    stop = max(I64_MIN, min(I64_MAX, stop))
    if draw(st.booleans()):  # a stop that is not on the grid
        stop = max(I64_MIN, min(I64_MAX, stop + draw(st.integers(-3, 3))))
    return start, stop, step


@given(r=int64_ranges(), threads=threads_st)
def test_sum_squares_range_matches_loop(r, threads):
    start, stop, step = r
    got = gilfree.sum_squares_range(start, stop, step, threads=threads)
    assert got == sum(i * i for i in range(start, stop, step))
    assert got == ref.sum_squares_range(start, stop, step)


@given(r=int64_ranges(max_len=10**6), threads=threads_st)
def test_sum_squares_range_matches_reference_long(r, threads):
    start, stop, step = r
    assert gilfree.sum_squares_range(start, stop, step, threads=threads) == ref.sum_squares_range(start, stop, step)


@given(r=int64_ranges(), dtype=st.sampled_from(NATIVE), threads=threads_st)
def test_squares_range_matches_reference(r, dtype, threads):
    start, stop, step = r
    got = gilfree.squares_range(start, stop, step, dtype=dtype, threads=threads)
    np.testing.assert_array_equal(got, ref.squares_range(start, stop, step, dtype=dtype), strict=True)


@given(start=st.integers(-(10**4), 10**4), stop=st.integers(-(10**4), 10**4),
       step=st.integers(-50, 50).filter(bool))
def test_reference_range_formula_matches_loop_any_ints(start, stop, step):
    assert ref.sum_squares_range(start, stop, step) == sum(i * i for i in range(start, stop, step))
