"""gilfree.sum_of_squares: exact integer sums, accurate float sums, results
that do not depend on the thread count, any layout, empty input."""

from __future__ import annotations

import math
import warnings
import zlib

import numpy as np
import pytest

import gilfree
from gilfree import _runtime
from gilfree import _reference as ref

CHUNK = int(_runtime.CHUNK)
THREADS = (1, 2, 3, 8)
INT_DTYPES = [np.dtype(t) for t in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")]
FLOAT_DTYPES = [np.dtype(t) for t in ("float16", "float32", "float64")]


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def chunk_elems(dt: np.dtype) -> int:
    return max(1, CHUNK * 8 // dt.itemsize)


def exact_int_sum(x) -> int:
    return sum(v * v for v in np.asarray(x).ravel().tolist())


def random_ints(dt: np.dtype, n: int, key="") -> np.ndarray:
    info = np.iinfo(dt)
    return rng_for(dt.str, n, key).integers(info.min, info.max, size=n, dtype=dt, endpoint=True)


def layouts(a: np.ndarray) -> dict[str, np.ndarray]:
    """Views of (copies of) `a` data in different layouts; values differ."""
    n = a.size
    views = {"C": a.copy(), "reversed": a.copy()[::-1], "step3": a.copy()[::3]}
    if n >= 6 and n % 2 == 0:
        views["F2d"] = np.asfortranarray(a.reshape(2, n // 2))
        views["sliced2d"] = a.copy().reshape(2, n // 2)[:, ::2]
    if n >= 12 and n % 12 == 0:
        views["transposed3d"] = a.copy().reshape(3, 2, n // 6)[:, :, ::-1].transpose(2, 0, 1)
    return views


# ---------------------------------------------------------------- integers


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
@pytest.mark.parametrize("size", ["0", "1", "7", "C-1", "C", "C+1", "3C+5"])
def test_int_exact(dtype, size, threads):
    c = chunk_elems(dtype)
    n = {"C-1": c - 1, "C": c, "C+1": c + 1, "3C+5": 3 * c + 5}.get(size) or int(size)
    x = random_ints(dtype, n)
    got = gilfree.sum_of_squares(x, threads=threads)
    assert type(got) is int
    assert got == exact_int_sum(x)


@pytest.mark.parametrize("threads", (1, 2, 8))
@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
def test_int_layouts(dtype, threads):
    x = random_ints(dtype, 2 * chunk_elems(dtype) + 12 * 7, key="layouts")
    for name, v in layouts(x).items():
        got = gilfree.sum_of_squares(v, threads=threads)
        assert type(got) is int, name
        assert got == exact_int_sum(v), name


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize(
    ("dtype", "value"),
    [("int64", np.iinfo(np.int64).max), ("int64", np.iinfo(np.int64).min),
     ("uint64", np.iinfo(np.uint64).max), ("int32", np.iinfo(np.int32).min),
     ("uint32", np.iinfo(np.uint32).max), ("int8", -128), ("uint8", 255), ("int16", -(2**15))],
)
def test_int_extreme_values_exact(dtype, value, threads):
    """n * v**2 exceeds 128 bits for 64-bit extremes: no wrapping anywhere."""
    dt = np.dtype(dtype)
    n = 3 * chunk_elems(dt) + 1
    x = np.full(n, value, dtype=dt)
    got = gilfree.sum_of_squares(x, threads=threads)
    assert type(got) is int
    assert got == n * int(value) ** 2
    # alternating min / max
    info = np.iinfo(dt)
    y = np.empty(n, dtype=dt)
    y[0::2] = info.min
    y[1::2] = info.max
    assert gilfree.sum_of_squares(y, threads=threads) == exact_int_sum(y)


def test_int64_big_sum_exceeds_128_bits():
    n = 3 * CHUNK + 1
    x = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    expected = n * 2**126
    assert expected >= 2**128
    assert gilfree.sum_of_squares(x, threads=2) == expected
    u = np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)
    assert gilfree.sum_of_squares(u, threads=3) == n * (2**64 - 1) ** 2


@pytest.mark.parametrize("threads", (1, 2))
def test_zero_stride_broadcast_int(threads):
    x = np.broadcast_to(np.int64(2**62 + 12345), (10**6,))
    assert gilfree.sum_of_squares(x, threads=threads) == 10**6 * (2**62 + 12345) ** 2
    y = np.broadcast_to(np.arange(-3, 4, dtype=np.int16), (5 * CHUNK // 7 + 1, 7))
    assert gilfree.sum_of_squares(y, threads=threads) == exact_int_sum(y)


def test_bool_gives_int():
    x = rng_for("bool").integers(0, 2, size=3 * CHUNK + 5).astype(bool)
    got = gilfree.sum_of_squares(x, threads=2)
    assert type(got) is int
    assert got == int(np.count_nonzero(x))
    assert gilfree.sum_of_squares(x[::-3]) == int(np.count_nonzero(x[::-3]))
    assert gilfree.sum_of_squares(np.array([], dtype=bool)) == 0
    assert type(gilfree.sum_of_squares(np.array([], dtype=bool))) is int


@pytest.mark.parametrize("dtype", INT_DTYPES + [np.dtype(bool)], ids=str)
def test_empty_int(dtype):
    for shape in [(0,), (3, 0), (0, 5, 2)]:
        got = gilfree.sum_of_squares(np.zeros(shape, dtype=dtype))
        assert type(got) is int and got == 0


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_empty_float(dtype):
    for shape in [(0,), (3, 0)]:
        got = gilfree.sum_of_squares(np.zeros(shape, dtype=dtype))
        assert type(got) is float and got == 0.0
    assert type(gilfree.sum_of_squares([])) is float  # np.asarray([]) is float64


def test_scalars_and_lists():
    assert gilfree.sum_of_squares(7) == 49
    assert type(gilfree.sum_of_squares(7)) is int
    assert gilfree.sum_of_squares(np.int8(-128)) == 16384
    assert gilfree.sum_of_squares(2.5) == 6.25
    assert type(gilfree.sum_of_squares(np.float32(2.5))) is float
    assert gilfree.sum_of_squares([1, 2, 3]) == 14
    assert gilfree.sum_of_squares(((1, 2), (3, 4))) == 30
    assert gilfree.sum_of_squares(np.array([2**63, 1], dtype=np.uint64)) == 2**126 + 1
    # NumPy 2 turns [2**63, 1] into float64: a float result
    assert gilfree.sum_of_squares([2**63, 1]) == float(2**126)
    assert gilfree.sum_of_squares([0.5, 1.5]) == 2.5


def test_byteswapped():
    x = random_ints(np.dtype("int64"), 2 * CHUNK + 3).astype(">i8")
    assert gilfree.sum_of_squares(x, threads=2) == exact_int_sum(x)
    f = rng_for("bs").standard_normal(2 * CHUNK + 3).astype(">f4")
    assert gilfree.sum_of_squares(f, threads=2) == gilfree.sum_of_squares(f.astype("<f4"), threads=2)


# ------------------------------------------------------------------ floats


def float_error(value: float, exact: float) -> float:
    return abs(value - exact)


def test_float_accuracy_vs_numpy_1e6():
    """Against math.fsum of the float64 squares, our error is no larger than
    NumPy's pairwise-summation error (plus one ulp of slack)."""
    rng = rng_for("accuracy")
    # a wide spread of magnitudes makes the summation order matter
    x = rng.standard_normal(10**6) * np.exp(rng.uniform(-12, 12, size=10**6))
    sq = x.astype(np.float64) ** 2
    exact = math.fsum(sq.tolist())
    ours = gilfree.sum_of_squares(x)
    numpys = float(np.sum(sq))
    slack = math.ulp(exact)
    assert float_error(ours, exact) <= float_error(numpys, exact) + slack, (
        f"ours off by {float_error(ours, exact) / math.ulp(exact):.2f} ulp, "
        f"numpy by {float_error(numpys, exact) / math.ulp(exact):.2f} ulp"
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_accuracy_adversarial(dtype):
    """One huge value followed by many small ones: naive summation loses the
    small ones entirely; a compensated sum keeps them."""
    n = 4 * CHUNK + 3
    x = np.full(n, 1e-4, dtype=dtype)
    x[0] = 1e4
    x[n // 2] = 3e3
    sq = x.astype(np.float64) ** 2
    exact = math.fsum(sq.tolist())
    for threads in (1, 2, 3):
        ours = gilfree.sum_of_squares(x, threads=threads)
        numpys = float(np.sum(sq))
        assert float_error(ours, exact) <= float_error(numpys, exact) + math.ulp(exact), (
            f"threads={threads}: ours off by {float_error(ours, exact) / math.ulp(exact):.1f} ulp, "
            f"numpy by {float_error(numpys, exact) / math.ulp(exact):.1f} ulp"
        )


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_float_matches_reference(dtype, threads):
    x = (rng_for(dtype.str, "ref").standard_normal(3 * chunk_elems(dtype) + 5) * 10).astype(dtype)
    for name, v in layouts(x).items():
        got = gilfree.sum_of_squares(v, threads=threads)
        assert type(got) is float, name
        exact = ref.sum_of_squares(v)
        assert abs(got - exact) <= 2 * math.ulp(exact), (name, got, exact)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint32", "int8"])
def test_thread_count_invariance_bit_exact(dtype):
    dt = np.dtype(dtype)
    c = chunk_elems(dt)
    for n in (c - 1, c + 1, 5 * c + 7, 10**6):
        rng = rng_for(dtype, n, "inv")
        if dt.kind == "f":
            x = (rng.standard_normal(n) * np.exp(rng.uniform(-10, 10, n))).astype(dt)
        else:
            x = random_ints(dt, n, key="inv")
        results = [gilfree.sum_of_squares(x, threads=t) for t in (1, 2, 3, 8)]
        results.append(gilfree.sum_of_squares(x))
        with gilfree.num_threads(5):
            results.append(gilfree.sum_of_squares(x))
        if dt.kind == "f":
            assert len({float.hex(r) for r in results}) == 1, (n, [float.hex(r) for r in results])
        else:
            assert len(set(results)) == 1, (n, results)
        # strided too
        xs = x[::-2]
        rs = [gilfree.sum_of_squares(xs, threads=t) for t in (1, 2, 3, 8)]
        assert len({repr(r) for r in rs}) == 1, (n, rs)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_float_layouts(dtype):
    dt = np.dtype(dtype)
    x = (rng_for(dtype, "lay").standard_normal(2 * chunk_elems(dt) + 12 * 5) * 3).astype(dt)
    for name, v in layouts(x).items():
        for threads in (1, 2):
            got = gilfree.sum_of_squares(v, threads=threads)
            exact = ref.sum_of_squares(v)
            assert abs(got - exact) <= 2 * math.ulp(exact), (name, threads, got, exact)


def test_float16_accumulates_in_float64():
    # 300**2 overflows float16, but the sum is accumulated in float64
    x = np.array([300.0, 300.0, 0.5], dtype=np.float16)
    got = gilfree.sum_of_squares(x)
    assert type(got) is float
    assert got == 180000.25


def test_float32_accumulates_in_float64():
    x = np.full(CHUNK * 3 + 1, 3.0e19, dtype=np.float32)  # squares overflow float32
    got = gilfree.sum_of_squares(x, threads=2)
    assert math.isfinite(got)
    assert abs(got - ref.sum_of_squares(x)) <= 2 * math.ulp(got)


@pytest.mark.parametrize("threads", (1, 2, 3))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_inf_propagate(dtype, threads):
    n = 3 * CHUNK + 5
    base = np.ones(n, dtype=dtype)
    cases = {
        "nan": ([n // 2], [np.nan], "nan"),
        "inf": ([CHUNK + 1], [np.inf], "inf"),
        "-inf": ([7], [-np.inf], "inf"),
        "inf_and_nan": ([3, 2 * CHUNK], [np.inf, np.nan], "nan"),
    }
    for name, (pos, vals, expect) in cases.items():
        x = base.copy()
        x[pos] = vals
        got = gilfree.sum_of_squares(x, threads=threads)
        if expect == "nan":
            assert math.isnan(got), (name, got)
        else:
            assert got == math.inf, (name, got)
        with np.errstate(all="ignore"):
            npres = float(np.sum(x.astype(np.float64) ** 2))
        assert repr(got) == repr(npres) or (math.isnan(got) and math.isnan(npres)), name


# The overflow is also reported through np.errstate, as np.dot reports it
# (tests/test_errstate.py); here only the value matters.
@pytest.mark.filterwarnings("ignore:overflow encountered in dot:RuntimeWarning")
@pytest.mark.parametrize("threads", (1, 2, 3))
def test_overflow_to_inf_is_inf_not_nan(threads):
    """The float64 sum overflowing must give inf like NumPy (a naive Kahan
    compensation turns inf into nan)."""
    for x in (
        np.array([1e200, 1.0]),
        np.array([1e154, 1e154, 1e154, 1.0, 1e-3]),
        np.full(3 * CHUNK + 5, 1e152),  # each square finite, the sum is not
        np.concatenate([np.ones(CHUNK), [1e200], np.ones(2 * CHUNK)]),
    ):
        with np.errstate(all="ignore"):
            npres = float(np.sum(x.astype(np.float64) ** 2))
        assert npres == math.inf
        got = gilfree.sum_of_squares(x, threads=threads)
        assert got == math.inf, (x[:3], got)


def test_subnormal_and_tiny_values():
    x = np.array([5e-324, 1e-160, 1e-170, 2.0, 1e-200])
    exact = ref.sum_of_squares(x)
    assert gilfree.sum_of_squares(x) == exact


def test_complex_rejected():
    with pytest.raises(TypeError, match="`x`"):
        gilfree.sum_of_squares(np.array([1 + 1j]))
    with pytest.raises(TypeError, match="`x`"):
        gilfree.sum_of_squares(np.zeros(3, dtype=np.complex64))
    with pytest.raises(TypeError, match="`x`"):
        gilfree.sum_of_squares(1j)


def test_x_positional_only():
    with pytest.raises(TypeError):
        gilfree.sum_of_squares(x=np.arange(3))


def test_longdouble_gives_float():
    x = np.arange(10, dtype=np.longdouble)
    got = gilfree.sum_of_squares(x)
    assert got == 285.0


# ------------------------------------------------- tiny chunks (test hook)


@pytest.fixture
def small_chunks():
    with _runtime.tuning(chunk_bytes=56, range_chunk=5):
        yield


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES + [np.dtype(bool)], ids=str)
def test_small_chunks_exact_and_thread_invariant(dtype, small_chunks):
    for n in (0, 1, 7, 8, 55, 57, 1000, 4099):
        if dtype.kind in "iu":
            x = random_ints(dtype, n, key="small")
        elif dtype.kind == "b":
            x = rng_for("small-bool", n).integers(0, 2, n).astype(bool)
        else:
            rng = rng_for(dtype.str, n, "small")
            x = (rng.standard_normal(n) * np.exp(rng.uniform(-5, 5, n))).astype(dtype)
        for v in layouts(x).values():
            results = [gilfree.sum_of_squares(v, threads=t) for t in (1, 2, 3, 8)]
            if dtype.kind == "f":
                assert len({float.hex(r) for r in results}) == 1, (n, results)
                exact = ref.sum_of_squares(v)
                assert abs(results[0] - exact) <= 2 * math.ulp(exact), (n, results[0], exact)
            else:
                assert len(set(results)) == 1, (n, results)
                assert results[0] == exact_int_sum(v)


@pytest.mark.slow
@pytest.mark.thread_unsafe(reason="changes the process-wide chunk size")
def test_lanes_flush_across_a_long_single_chunk():
    """32-bit halves of the squares are summed in 64-bit lanes and flushed
    into the 192-bit total every 2**24 elements: one chunk much longer than
    that (chunks made huge) still sums exactly, contiguous and strided."""
    with _runtime.tuning(chunk_bytes=2**40):
        n = 2**24 + 2**20 + 5
        for dt, v in ((np.int32, -(2**31)), (np.uint64, 2**32 - 1), (np.int64, -(2**32 - 1))):
            x = np.full(n, v, dtype=dt)
            x[-3] = 7
            want = (n - 1) * v * v + 49
            assert gilfree.sum_of_squares(x, threads=1) == want, dt
            half = (n + 1) // 2  # x[::2] keeps index n - 3 (n is odd)
            assert gilfree.sum_of_squares(x[::2], threads=1) == (half - 1) * v * v + 49, dt


# ------------------------------------------------- same bits everywhere

_SIMD_PROBE = r"""
import hashlib, sys, numpy as np, gilfree
rng = np.random.default_rng(5)
out = []
for n in (0, 1, 7, 9, 17, 255, 256, 257, 1000, 3 * 16384 + 17, 200003):
    x = rng.standard_normal(n) * np.exp(rng.uniform(-20, 20, n))
    ints = rng.integers(-2**63, 2**63 - 1, n)
    # 64-bit blocks of 256 whose magnitudes fit in 32 bits take a 32-bit path
    narrow = rng.integers(-2**32 + 1, 2**32 - 1, n, endpoint=True)
    narrow[::300] = -2**32  # a wide value in some blocks
    narrow_ok = all(gilfree.sum_of_squares(a) == sum(int(v) ** 2 for v in a.tolist())
                    for a in (narrow, narrow[1:], np.abs(narrow).astype(np.uint64),
                              (narrow >> 1).astype(np.int32), np.abs(narrow).astype(np.uint32)))
    inplace = ints.view(np.uint64).copy()
    gilfree.square(inplace, out=inplace)  # the level's own 64-bit square loop, in place
    out.append([gilfree.sum_of_squares(x, threads=t) for t in (1, 3)]
               + [gilfree.sum_of_squares(x[::3]), gilfree.sum_of_squares(x.astype(np.float32)),
                  gilfree.square(x[::-1]).tobytes().hex()[:64],
                  gilfree.sum_of_squares(ints),
                  hashlib.sha1(gilfree.square(ints).tobytes()).hexdigest(),
                  bool(narrow_ok and np.array_equal(gilfree.square(ints[1:]), np.square(ints[1:]))),
                  bool(np.array_equal(inplace, np.square(ints.view(np.uint64))))])
print(repr((gilfree._runtime.config()["simd"], out)))
"""


@pytest.mark.slow
@pytest.mark.thread_unsafe(reason="starts subprocesses with GILFREE_SIMD set")
def test_every_simd_level_gives_the_same_bits():
    """Each compiled SIMD level (forced with GILFREE_SIMD) gives bit-identical
    results: the float sums fix their order of additions and the build
    forbids FMA contraction (-ffp-contract=off)."""
    import os
    import subprocess
    import sys

    levels = [lv for lv, ok in _runtime.config()["simd_levels"].items() if ok]
    results = {}
    for lv in levels:
        env = dict(os.environ, GILFREE_SIMD=lv)
        r = subprocess.run([sys.executable, "-c", _SIMD_PROBE], env=env, capture_output=True,
                           text=True, timeout=120, check=True)
        got_level, values = eval(r.stdout)  # repr of floats, ints and str: round-trips
        assert got_level == lv
        results[lv] = values
    for lv in levels:  # each level's integer squares match NumPy's, its int sums are exact
        assert all(row[-1] and row[-2] for row in results[lv]), lv
    base = results[levels[0]]
    for lv in levels[1:]:
        assert results[lv] == base, f"{lv} differs from {levels[0]}"


def test_float_layouts_give_the_same_bits():
    """Contiguous, strided and float32-as-float64 inputs holding the same
    values sum to the same bits."""
    rng = rng_for("layout-bits")
    for n in (1, 255, 256, 257, 5000, 3 * CHUNK + 11):
        x = rng.standard_normal(n) * np.exp(rng.uniform(-15, 15, n))
        strided = np.empty(3 * n)[::3]
        strided[...] = x
        want = gilfree.sum_of_squares(x)
        assert gilfree.sum_of_squares(strided) == want
        if n <= CHUNK:  # chunks hold bytes, so float32 ones hold twice the elements
            f = x.astype(np.float32)
            assert gilfree.sum_of_squares(f) == gilfree.sum_of_squares(f.astype(np.float64))


# ---------------------------------------------- views and contiguous copies


def _view_cases(dtype="float64"):
    rng = rng_for("views")
    # Row lengths around the 256-element float block and the chunk, so blocks
    # straddle row ends and chunks start mid-row.
    for rows, cols in ((37, 301), (3, 255), (700, 257), (5, 1000), (2, CHUNK + 77),
                       (129, 513)):
        a = rng.standard_normal((rows, cols)) * np.exp(rng.uniform(-30, 30, (rows, cols)))
        a = a.astype(dtype)
        yield f"{rows}x{cols}[:,1:]", a[:, 1:]
        yield f"{rows}x{cols}[::2,::3]", a[::2, ::3]
        yield f"{rows}x{cols}[::-1,2:-1]", a[::-1, 2:-1]
        yield f"{rows}x{cols}.T[:,1:]", np.asfortranarray(a).T[:, 1:]


@pytest.mark.thread_unsafe(reason="sets the process-wide streaming threshold")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_view_gives_the_bits_of_its_contiguous_copy(dtype):
    """The result depends only on the sequence of values (C order for views):
    a 2-D view and np.ascontiguousarray of it give the same bits."""
    mismatches = []
    for name, v in _view_cases(dtype):
        assert not v.flags.c_contiguous and v.dtype == dtype
        copy = np.ascontiguousarray(v)
        want = gilfree.sum_of_squares(copy, threads=1)
        for threads in (1, 2, 3):
            for stream_min in (None, 0):  # the streaming threshold must not change the sum
                with _runtime.tuning(stream_min=stream_min):
                    got = gilfree.sum_of_squares(v, threads=threads)
                if got.hex() != want.hex():
                    mismatches.append((name, threads, stream_min, got.hex(), want.hex()))
    assert not mismatches, mismatches[:5]


def test_float_view_bits_through_the_buffer_api():
    import gilfree.buffer

    for name, v in _view_cases():
        copy = np.ascontiguousarray(v)
        assert gilfree.buffer.sum_of_squares(copy) == gilfree.sum_of_squares(v), name


@pytest.mark.parametrize("big", [1e200, 1e160, -3e170])
def test_longdouble_sum_beyond_float64_reports_overflow(big):
    """A longdouble sum that is finite in longdouble but not as the float the
    result is: the overflow is reported like every other (np.errstate)."""
    x = np.array([big, big], dtype=np.longdouble)
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert gilfree.sum_of_squares(x) == math.inf
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        gilfree.sum_of_squares(x)
    with np.errstate(over="ignore"):
        assert gilfree.sum_of_squares(x) == math.inf
    # A sum that fits gives its value, with no warning.
    small = np.array([1e100, 2e100], dtype=np.longdouble)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gilfree.sum_of_squares(small) == float(np.sum(np.square(small)))
