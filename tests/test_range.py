"""gilfree.sum_squares_range and gilfree.squares_range against literal Python
loops, NumPy, and the closed-form reference, from tiny ranges to the edges of
int64."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gilfree
from gilfree import _runtime
from gilfree import _reference as ref

CHUNK = int(_runtime.CHUNK)
I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
NATIVE = [
    np.dtype(t)
    for t in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64")
]


def loop(start, stop=None, step=1) -> int:
    r = range(start) if stop is None else range(start, stop, step)
    return sum(i * i for i in r)


def numpy_squares(start, stop, step, dtype) -> np.ndarray:
    """The documented definition, for ranges np.arange gets right."""
    with np.errstate(all="ignore"):
        return np.square(np.arange(start, stop, step, dtype=np.int64).astype(dtype))


SMALL = list(itertools.product(range(-7, 8), range(-7, 8), (-3, -2, -1, 1, 2, 3)))


# ----------------------------------------------------------- the reference


def test_reference_closed_form_matches_loop():
    for start, stop, step in itertools.product(range(-12, 13), range(-12, 13), (-5, -3, -2, -1, 1, 2, 4, 7)):
        assert ref.sum_squares_range(start, stop, step) == loop(start, stop, step)
    for stop in range(-3, 30):
        assert ref.sum_squares_range(stop) == loop(stop)
    for start, stop, step in [
        (I64_MIN, I64_MIN + 1000, 1), (I64_MAX - 1000, I64_MAX, 1), (I64_MAX, I64_MAX - 1000, -1),
        (I64_MIN, I64_MAX, 2**60), (I64_MAX, I64_MIN, -(2**60)), (I64_MIN, I64_MAX, I64_MAX),
        (-(2**62), -(2**62) + 1000, 3), (10**12, 10**12 + 10**4, 7),
    ]:
        assert ref.sum_squares_range(start, stop, step) == loop(start, stop, step)


def test_reference_squares_range_matches_numpy():
    for (start, stop, step), dt in itertools.product(SMALL[::7], NATIVE):
        np.testing.assert_array_equal(
            ref.squares_range(start, stop, step, dtype=dt), numpy_squares(start, stop, step, dt), strict=True
        )


def test_reference_squares_range_huge_steps():
    # np.arange computes its length in floating point and can miss the last
    # element of such ranges; the reference must not.
    r = range(I64_MIN, I64_MAX, 2**61 + 1)
    np.testing.assert_array_equal(
        ref.squares_range(r.start, r.stop, r.step), np.array([i * i % 2**64 for i in r], dtype=np.uint64).view(np.int64)
    )


# --------------------------------------------------------- sum_squares_range


@pytest.mark.parametrize("threads", (1, 3))
def test_sum_small_ranges_vs_loop(threads):
    for start, stop, step in SMALL:
        got = gilfree.sum_squares_range(start, stop, step, threads=threads)
        assert type(got) is int
        assert got == loop(start, stop, step), (start, stop, step)


def test_sum_one_argument_form():
    for n in (-5, -1, 0, 1, 2, 10, 1000):
        assert gilfree.sum_squares_range(n) == loop(n)
        assert gilfree.sum_squares_range(n, None) == loop(n)
    assert gilfree.sum_squares_range(10) == 285


def test_sum_keywords_and_defaults():
    assert gilfree.sum_squares_range(1, 10, step=2) == loop(1, 10, 2)
    assert gilfree.sum_squares_range(start=1, stop=10) == loop(1, 10)
    assert gilfree.sum_squares_range(1, 10, 1, threads=None) == loop(1, 10)


def test_sum_accepts_index_objects():
    class Idx:
        def __init__(self, v):
            self.v = v

        def __index__(self):
            return self.v

    assert gilfree.sum_squares_range(Idx(-3), Idx(9), Idx(2)) == loop(-3, 9, 2)
    assert gilfree.sum_squares_range(np.int64(-3), np.int32(9), np.uint8(2)) == loop(-3, 9, 2)


@pytest.mark.parametrize(
    ("start", "stop", "step"),
    [
        (I64_MIN, I64_MIN + 1000, 1),
        (I64_MAX - 1000, I64_MAX, 1),
        (2**63 - 1000, 2**63 - 1, 1),
        (I64_MAX, I64_MAX - 1000, -1),
        (I64_MIN + 1000, I64_MIN, -1),
        (-(2**62), -(2**62) + 1000, 1),
        (-(2**62), -(2**62) + 1000, 7),
        (I64_MIN, I64_MAX, 2**60),
        (I64_MAX, I64_MIN, -(2**60)),
        (I64_MIN, I64_MAX, I64_MAX),
        (I64_MAX, I64_MIN, I64_MIN),
        (I64_MIN, I64_MAX, 2**61 + 1),
        (-(2**32) - 500, -(2**32) + 500, 1),  # around the 32-bit product switch
        (2**32 - 500, 2**32 + 500, 1),
        (-(2**31) - 50, 2**31 + 50, 2**24 + 3),
        (3037000499 - 100, 3037000499 + 100, 1),  # isqrt(int64 max)
        (I64_MIN, I64_MIN + 3, 1),
        (I64_MAX, I64_MAX - 1, -1),
        (0, I64_MAX, 2**62),
    ],
)
@pytest.mark.parametrize("threads", (1, 2))
def test_sum_near_int64_limits_exact(start, stop, step, threads):
    got = gilfree.sum_squares_range(start, stop, step, threads=threads)
    assert type(got) is int
    assert got == loop(start, stop, step)


@pytest.mark.parametrize(
    ("start", "stop", "step"),
    [
        (0, 10**7, 1),
        (-5 * 10**6, 5 * 10**6, 3),
        (5 * 10**6, -5 * 10**6, -7),
        (2**62, 2**62 + 3 * 10**6, 1),  # sum ~2**145: beyond 128 bits
        (I64_MIN, I64_MIN + 2 * 10**6, 1),  # each term 2**126: sum > 2**128
        (I64_MAX, I64_MAX - 2 * 10**6, -1),
        (-(2**40), 2**40, 2**20 + 1),
        (0, 3 * CHUNK + 5, 1),
        (0, 131072 * 3 + 1, 1),
    ],
)
def test_sum_long_ranges_vs_closed_form(start, stop, step):
    exact = ref.sum_squares_range(start, stop, step)
    results = {t: gilfree.sum_squares_range(start, stop, step, threads=t) for t in (1, 2, 3, 8)}
    assert all(r == exact for r in results.values()), {t: r - exact for t, r in results.items()}


def test_sum_empty_ranges():
    for start, stop, step in [(0, 0, 1), (5, 5, -1), (5, 0, 1), (0, 5, -1), (I64_MAX, I64_MIN, 1), (I64_MIN, I64_MAX, -1)]:
        got = gilfree.sum_squares_range(start, stop, step)
        assert got == 0 and type(got) is int


def test_sum_crossing_zero():
    for start, stop, step in [(-100, 100, 1), (-101, 100, 2), (100, -101, -3), (-(10**6), 10**6, 1)]:
        assert gilfree.sum_squares_range(start, stop, step, threads=2) == ref.sum_squares_range(start, stop, step)
    assert gilfree.sum_squares_range(-100, 101) == 2 * loop(101)


# ------------------------------------------------------------- squares_range


@pytest.mark.parametrize("threads", (1, 3))
@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_squares_small_ranges(dtype, threads):
    for start, stop, step in SMALL[::3]:
        got = gilfree.squares_range(start, stop, step, dtype=dtype, threads=threads)
        np.testing.assert_array_equal(got, numpy_squares(start, stop, step, dtype), strict=True)


@pytest.mark.parametrize("threads", (1, 2, 3, 8))
@pytest.mark.parametrize("dtype", NATIVE, ids=str)
@pytest.mark.parametrize(
    ("start", "stop", "step"),
    [
        (-300, 300, 1),  # int8/uint8 casts wrap
        (0, 3 * CHUNK + 5, 1),
        (-(2 * CHUNK), 2 * CHUNK + 1, 1),
        (10**6, -(10**6), -3),
        (2**31 - 70000, 2**31 + 70000, 1),
        (2**62 - 40000, 2**62 + 40000, 1),
        (I64_MAX - 5000, I64_MAX, 1),
        (I64_MIN, I64_MIN + 5000, 1),
        (7, 7, 1),
    ],
)
def test_squares_range_vs_reference(start, stop, step, dtype, threads):
    got = gilfree.squares_range(start, stop, step, dtype=dtype, threads=threads)
    exp = ref.squares_range(start, stop, step, dtype=dtype)
    np.testing.assert_array_equal(got, exp, strict=True)
    assert got.dtype == dtype
    assert got.flags.c_contiguous and got.flags.writeable
    if abs(start) < 2**52 and abs(stop) < 2**52:
        np.testing.assert_array_equal(got, numpy_squares(start, stop, step, dtype), strict=True)


@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_squares_range_huge_steps(dtype):
    for start, stop, step in [(I64_MIN, I64_MAX, 2**60), (I64_MAX, I64_MIN, -(2**59) - 3), (I64_MIN, I64_MAX, I64_MAX),
                              (I64_MIN, I64_MAX, 2**61 + 1)]:
        got = gilfree.squares_range(start, stop, step, dtype=dtype, threads=2)
        exp = ref.squares_range(start, stop, step, dtype=dtype)
        np.testing.assert_array_equal(got, exp, strict=True)
        assert len(got) == len(range(start, stop, step))


@pytest.mark.parametrize("spelling", ["np.dtype", "type", "str", "char"])
@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_squares_range_dtype_spellings(dtype, spelling):
    arg = {"np.dtype": dtype, "type": dtype.type, "str": dtype.name, "char": dtype.char}[spelling]
    got = gilfree.squares_range(-20, 20, 3, dtype=arg)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, numpy_squares(-20, 20, 3, dtype), strict=True)


def test_squares_range_defaults():
    got = gilfree.squares_range(5)
    np.testing.assert_array_equal(got, np.array([0, 1, 4, 9, 16], dtype=np.int64), strict=True)
    got = gilfree.squares_range(-3, None)
    assert got.shape == (0,) and got.dtype == np.int64
    got = gilfree.squares_range(5, 0, -1)
    np.testing.assert_array_equal(got, np.array([25, 16, 9, 4, 1]), strict=True)
    empty = gilfree.squares_range(3, 3, dtype=np.float32)
    assert empty.shape == (0,) and empty.dtype == np.float32


def test_squares_range_threads_invariance():
    results = [gilfree.squares_range(-(10**6), 10**6, 3, dtype=np.float32, threads=t) for t in (1, 2, 3, 8)]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0], strict=True)


def test_sum_matches_sum_of_squares_range_array():
    arr = gilfree.squares_range(-5000, 7000, 3)
    assert int(arr.sum()) == gilfree.sum_squares_range(-5000, 7000, 3)
    assert gilfree.sum_of_squares(np.arange(-5000, 7000, 3)) == gilfree.sum_squares_range(-5000, 7000, 3)


@pytest.mark.parametrize(
    ("start", "stop", "step"),
    [
        (0, 2**29 + 3, 1),
        # more than 2**29 elements and a step so large that (elements done) *
        # step leaves int64 while every element stays inside it (128-bit
        # products: ~1 s each; test_small_chunks_many_rounds covers the same
        # logic in milliseconds)
        pytest.param(I64_MIN, 2**34 + 1, 2**34, marks=pytest.mark.slow),
        pytest.param(I64_MAX, -(2**34) - 2**29 - 2, -(2**34) - 1, marks=pytest.mark.slow),
    ],
)
def test_sum_very_long_ranges_exact(start, stop, step):
    """Ranges long enough to be processed in several rounds with the real
    chunk sizes."""
    assert len(range(start, stop, step)) > 2**29
    assert gilfree.sum_squares_range(start, stop, step, threads=2) == ref.sum_squares_range(start, stop, step)


# ------------------------------------------------- tiny chunks (test hook)


@pytest.fixture
def small_chunks():
    """5 range iterations per chunk: ranges of a few thousand elements are
    split into many chunks and, beyond a few ten thousand, several rounds."""
    with _runtime.tuning(chunk_bytes=56, range_chunk=5):
        yield


@pytest.mark.parametrize("threads", (1, 2, 3, 8))
def test_small_chunks_sum_vs_loop(threads, small_chunks):
    for start, stop, step in SMALL + [(-50, 60, 1), (100, -100, -3), (0, 4001, 1)]:
        assert gilfree.sum_squares_range(start, stop, step, threads=threads) == loop(start, stop, step)


@pytest.mark.parametrize("threads", (1, 2, 8))
@pytest.mark.parametrize(
    ("start", "stop", "step"),
    [
        (0, 100_003, 1),
        (-(10**6), 10**6, 7),
        # several rounds, and (elements done) * step leaves int64 although
        # every element is inside it
        (I64_MIN, I64_MAX, 2**49),
        (I64_MAX, I64_MIN, -(2**49) - 12345),
        (I64_MIN, I64_MAX, 2**49 + 1),
    ],
)
def test_small_chunks_many_rounds(start, stop, step, threads, small_chunks):
    assert gilfree.sum_squares_range(start, stop, step, threads=threads) == ref.sum_squares_range(start, stop, step)


@pytest.mark.parametrize("threads", (1, 3, 8))
@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_small_chunks_squares_range(dtype, threads, small_chunks):
    for start, stop, step in [(-300, 300, 1), (1000, -1000, -7), (I64_MIN, I64_MAX, 2**55 + 3), (0, 57, 1)]:
        got = gilfree.squares_range(start, stop, step, dtype=dtype, threads=threads)
        np.testing.assert_array_equal(got, ref.squares_range(start, stop, step, dtype=dtype), strict=True)


@pytest.mark.parametrize("dtype", [">i8", ">i2", ">u4", ">f8", ">f4", "<i8", "=u2"])
@pytest.mark.parametrize("threads", (1, 2))
def test_squares_range_byte_order_is_numpys(dtype, threads):
    """Like np.square of the byte-swapped arange: native byte order."""
    exp = numpy_squares(-70_000, 70_001, 3, dtype)
    assert exp.dtype.isnative
    got = gilfree.squares_range(-70_000, 70_001, 3, dtype=dtype, threads=threads)
    np.testing.assert_array_equal(got, exp, strict=True)
    np.testing.assert_array_equal(ref.squares_range(-70_000, 70_001, 3, dtype=dtype), exp,
                                  strict=True)
