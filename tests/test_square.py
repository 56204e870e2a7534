"""gilfree.square against numpy.square: dtype x size x layout x threads grid,
``out`` handling (in place, overlap), overflow="raise", odd dtypes,
byte-swapped input and the odd corners of NumPy's calling conventions."""

from __future__ import annotations

import contextlib
import functools
import math
import re
import warnings
import zlib

import numpy as np
import pytest

import gilfree
from gilfree import _core, _runtime
from gilfree import _reference as ref

# Float squares report overflow/underflow/invalid through np.errstate exactly
# as np.square does (tests/test_errstate.py checks that); the value tests
# here feed such inputs on purpose, so those warnings are expected.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:(overflow|underflow|invalid value) encountered in square:RuntimeWarning"
)

CHUNK = int(_runtime.CHUNK)
PARALLEL_MIN = int(_runtime.PARALLEL_MIN)
THREADS = (1, 2, 3, 8)

NATIVE = [
    np.dtype(t)
    for t in (
        "int8", "int16", "int32", "int64",
        "uint8", "uint16", "uint32", "uint64",
        "float32", "float64",
    )
]
INT_DTYPES = [d for d in NATIVE if d.kind in "iu"]
FLOAT_DTYPES = [d for d in NATIVE if d.kind == "f"]
ODD = [np.dtype(t) for t in ("bool", "float16", "complex64", "complex128", "longdouble")]


def forced(threads: int):
    """Make a small input go through the pool when threads > 1, if possible."""
    fp = getattr(_core, "_force_parallel", None)
    if threads > 1 and fp is not None:
        return fp()
    return contextlib.nullcontext()


@contextlib.contextmanager
def quiet_numpy_warnings():
    """Odd dtypes go through np.square, which may warn on overflow/invalid;
    the value tests ignore that (test_odd_dtypes_warnings looks at it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def chunk_elems(dt: np.dtype) -> int:
    """Elements per chunk if chunks are sized in bytes (CHUNK is for 8 bytes)."""
    return max(1, CHUNK * 8 // dt.itemsize)


def grid_sizes(dt: np.dtype) -> list[int]:
    c8, cd = CHUNK, chunk_elems(dt)
    sizes = {0, 1, 2, 7, c8 - 1, c8, c8 + 1, cd - 1, cd, cd + 1, 3 * cd + 5, 10**6}
    return sorted(s for s in sizes if s >= 0)


# ----------------------------------------------------------------- test data


@functools.lru_cache(maxsize=None)
def pool(dtype_str: str, n: int) -> np.ndarray:
    """Read-only random values of a dtype: full-range integers; floats over
    many magnitudes with NaN, +-inf, +-0, subnormals, and values whose
    square overflows."""
    dt = np.dtype(dtype_str)
    rng = np.random.default_rng(zlib.crc32(f"{dt.str}/{n}".encode()))
    if dt.kind in "iu":
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, size=n, dtype=dt, endpoint=True)
    elif dt.kind == "b":
        a = rng.integers(0, 2, size=n).astype(bool)
    elif dt.kind in "fc":
        real = dt if dt.kind == "f" else np.dtype(f"f{dt.itemsize // 2}")
        if dt.kind == "c":
            a = np.empty(n, dtype=dt)
            a.real = _float_values(rng, real, n)
            a.imag = _float_values(rng, real, n)
        else:
            a = _float_values(rng, real, n)
    else:  # pragma: no cover
        raise AssertionError(dt)
    a.flags.writeable = False
    return a


def _float_values(rng, dt: np.dtype, n: int) -> np.ndarray:
    fi = np.finfo(dt)
    mant = rng.uniform(-2.0, 2.0, size=n).astype(dt)
    # mostly moderate exponents, some across the whole range (incl. values
    # whose square overflows and whose square underflows to 0 / subnormal)
    exp = rng.integers(-20, 21, size=n)
    wide = rng.random(n) < 0.2
    exp[wide] = rng.integers(int(fi.minexp) - int(fi.nmant), int(fi.maxexp) - 1, size=int(wide.sum()))
    with np.errstate(all="ignore"):
        a = np.ldexp(mant, exp.astype(np.int32)).astype(dt)
    specials = np.array(
        [np.nan, np.inf, -np.inf, 0.0, -0.0, fi.max, -fi.max, fi.tiny, fi.smallest_subnormal,
         -fi.smallest_subnormal, 1.0, -1.0],
        dtype=dt,
    )
    if n:
        pos = rng.choice(n, size=min(n, 4 * len(specials)), replace=False)
        a[pos] = np.resize(specials, len(pos))
    return a


def _smallest_divisor(n: int) -> int:
    for d in range(2, 98):
        if d * d > n:
            break
        if n % d == 0:
            return d
    return 1


def shape2(n: int) -> tuple[int, int]:
    if n == 0:
        return (0, 3)
    d = _smallest_divisor(n)
    return (d, n // d) if d > 1 else (1, n)


def shape3(n: int) -> tuple[int, int, int]:
    if n == 0:
        return (2, 0, 3)
    a, rest = shape2(n)
    b, c = shape2(rest)
    return (a, b, c)


LAYOUTS = ("C", "F2d", "step3", "reversed", "sliced2d", "transposed3d", "swapped3d", "negative2d")


def make_input(dt: np.dtype, n: int, layout: str) -> np.ndarray:
    """A fresh, writeable array with `n` elements in the given memory layout."""
    # one cached pool per dtype serves every size of the grid
    p = pool(dt.str, max(3 * n + 8, 3 * max(grid_sizes(dt)) + 8))
    if layout == "C":
        return p[:n].copy()
    if layout == "F2d":
        return np.array(p[:n].reshape(shape2(n)), order="F", copy=True)
    if layout == "step3":
        return p[: 3 * n].copy()[::3]
    if layout == "reversed":
        return p[:n].copy()[::-1]
    r, c = shape2(n)
    if layout == "sliced2d":
        return p[: 2 * n].copy().reshape(r, 2 * c)[:, ::2]
    if layout == "negative2d":
        return p[: 2 * n].copy().reshape(r, 2 * c)[::-1, ::-2]
    if layout == "transposed3d":  # axes rotated: still one 2-D strided walk
        return p[:n].copy().reshape(shape3(n)).transpose(2, 0, 1)
    if layout == "swapped3d":  # last two axes swapped: no 2-D walk describes it
        return p[:n].copy().reshape(shape3(n)).transpose(0, 2, 1)
    raise AssertionError(layout)


def expected_square(x) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.square(x)


def assert_same(got, exp) -> None:
    """Same type, dtype, shape and values (NaN == NaN), and same sign of 0."""
    assert type(got) is type(exp), (type(got), type(exp))
    assert got.dtype == exp.dtype, (got.dtype, exp.dtype)
    assert np.shape(got) == np.shape(exp)
    np.testing.assert_array_equal(got, exp, strict=True)
    if exp.dtype.kind == "f":
        g = np.asarray(got)
        e = np.asarray(exp)
        notnan = ~np.isnan(e)
        np.testing.assert_array_equal(np.signbit(g[notnan]), np.signbit(e[notnan]))


# ---------------------------------------------------------------- the grid

def _grid():
    """dtype x size x threads.  An input of at most one chunk runs on the
    calling thread whatever `threads` says (unless the core offers
    _force_parallel), so for those sizes threads=3 and 8 would only repeat
    threads=2."""
    force = hasattr(_core, "_force_parallel")
    return [
        (dt, n, t)
        for dt in NATIVE
        for n in grid_sizes(dt)
        for t in THREADS
        if force or t <= 2 or n > chunk_elems(dt)
    ]


GRID = _grid()


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("dtype", "n", "threads"), GRID, ids=[f"{d.name}-{n}-t{t}" for d, n, t in GRID])
def test_square_grid(dtype, n, layout, threads):
    x = make_input(dtype, n, layout)
    before = x.copy()
    with forced(threads):
        got = gilfree.square(x, threads=threads)
    exp = expected_square(x)
    assert_same(got, exp)
    # the input is not modified and the result is a new array
    np.testing.assert_array_equal(x, before, strict=True)
    assert not np.shares_memory(got, x)
    assert got.flags.writeable


@pytest.mark.parametrize("threads", (1, 3))
@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_square_matches_reference(dtype, threads):
    x = make_input(dtype, 3 * chunk_elems(dtype) + 5, "step3")
    with forced(threads):
        got = gilfree.square(x, threads=threads)
    assert_same(got, ref.square(x))


@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_default_threads_and_num_threads_context(dtype):
    x = make_input(dtype, 2 * chunk_elems(dtype) + 3, "C")
    exp = expected_square(x)
    assert_same(gilfree.square(x), exp)
    with gilfree.num_threads(3):
        assert_same(gilfree.square(x), exp)


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("ndim", (4, 6, 10))
def test_many_dimensions(ndim, threads):
    base = make_input(np.dtype("int32"), 3**ndim * 2, "C").reshape((3,) * (ndim - 1) + (6,))
    x = base[..., ::-2].transpose(list(range(ndim))[::-1])
    with forced(threads):
        got = gilfree.square(x, threads=threads)
    assert_same(got, expected_square(x))


@pytest.mark.parametrize("threads", (1, 2, 8))
@pytest.mark.parametrize("dtype", [np.dtype("int64"), np.dtype("float32"), np.dtype("uint8")], ids=str)
@pytest.mark.parametrize("side", (5, 70))
def test_non_collapsible_3d_views(side, dtype, threads):
    """Views that no 2-D strided walk describes (a sub-block of a 3-D array,
    transposed), with and without `out`."""
    base = make_input(dtype, 3 * side * (side + 1), "C").reshape(3, side, side + 1)
    views = [
        base[:, 1:-1, 1:-1].transpose(2, 0, 1),
        base[:, ::2, ::-2].transpose(1, 0, 2),
        base[..., ::-2].transpose(2, 1, 0),
    ]
    for x in views:
        with forced(threads):
            got = gilfree.square(x, threads=threads)
        assert_same(got, expected_square(x))
        for out_layout in ("C", "F", "reversed"):
            out = make_out(x.shape, dtype, out_layout)
            with forced(threads):
                assert gilfree.square(x, out=out, threads=threads) is out
            np.testing.assert_array_equal(out, expected_square(x), strict=True)


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4), (2, 0, 5), (1, 1, 1), (1,), (5, 1), (1, 5)])
def test_degenerate_shapes(shape):
    x = make_input(np.dtype("float64"), math.prod(shape), "C").reshape(shape)
    assert_same(gilfree.square(x, threads=2), expected_square(x))


@pytest.mark.parametrize("threads", (1, 2, 8))
@pytest.mark.parametrize("dtype", [np.dtype("int64"), np.dtype("float32"), np.dtype("uint8")], ids=str)
def test_zero_stride_broadcast_input(dtype, threads):
    n = 3 * CHUNK + 5
    x = np.broadcast_to(np.array(11, dtype=dtype), (n,))
    assert x.strides == (0,)
    with forced(threads):
        got = gilfree.square(x, threads=threads)
    assert_same(got, expected_square(x))
    x2 = np.broadcast_to(np.arange(7, dtype=dtype), (4 * CHUNK // 7 + 3, 7))
    with forced(threads):
        got2 = gilfree.square(x2, threads=threads)
    assert_same(got2, expected_square(x2))


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_unaligned_input_and_out(dtype, threads):
    n = 2 * chunk_elems(dtype) + 9
    raw = np.zeros(n * dtype.itemsize + 1, dtype=np.uint8)
    x = raw[1:].view(dtype)
    x[...] = make_input(dtype, n, "C")
    raw_out = np.zeros(n * dtype.itemsize + 1, dtype=np.uint8)
    out = raw_out[1:].view(dtype)
    if dtype.itemsize > 1:
        assert not x.flags.aligned and not out.flags.aligned
    exp = expected_square(x.copy())
    with forced(threads):
        got = gilfree.square(x, threads=threads)
    assert_same(got, exp)
    with forced(threads):
        r = gilfree.square(x, out=out, threads=threads)
    assert r is out
    np.testing.assert_array_equal(out, exp)


# ------------------------------------------------- tiny chunks (test hook)

SMALL_CHUNK_BYTES = 56  # 7 float64, 14 float32, 56 int8 elements per chunk
SMALL_SIZES = (0, 1, 6, 7, 8, 13, 14, 15, 29, 55, 56, 57, 200)


@pytest.fixture
def small_chunks():
    """Tiny chunks, so that small inputs are split into many chunks shared
    by the pool: every chunk edge and layout is reached cheaply."""
    with _runtime.tuning(chunk_bytes=SMALL_CHUNK_BYTES, range_chunk=5):
        yield SMALL_CHUNK_BYTES


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_square_small_chunks(dtype, layout, threads, small_chunks):
    for n in SMALL_SIZES:
        x = make_input(dtype, n, layout)
        before = x.copy()
        got = gilfree.square(x, threads=threads)
        assert_same(got, expected_square(x))
        np.testing.assert_array_equal(x, before, strict=True)
        exp = expected_square(x.copy())
        assert gilfree.square(x, out=x, threads=threads) is x
        np.testing.assert_array_equal(x, exp, strict=True)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("dtype", [np.dtype("int8"), np.dtype("int32"), np.dtype("uint64"), np.dtype("float64")],
                         ids=str)
def test_overflow_first_index_small_chunks(dtype, threads, small_chunks):
    """Many chunks, several with offenders, all racing: the first offender
    in C order is the one reported."""
    bad = _limit(dtype) + 1 if dtype.kind in "iu" else 1e200
    x = np.ones(500, dtype=dtype)
    for p in (450, 301, 170, 99, 58):
        x[p] = bad
    for _ in range(5):
        with pytest.raises(OverflowError, match=r"\bindex\s*58\b"):
            gilfree.square(x, overflow="raise", threads=threads)
    m = np.ones((25, 20), dtype=dtype)
    m[20, 3] = bad
    m[7, 19] = bad
    with pytest.raises(OverflowError, match=r"\bindex\s*\(7, 19\)"):
        gilfree.square(m, overflow="raise", threads=threads)
    # in m.T the offenders sit at (3, 20) and (19, 7): (3, 20) comes first
    with pytest.raises(OverflowError, match=r"\bindex\s*\(3, 20\)"):
        gilfree.square(m.T, overflow="raise", threads=threads)


# --------------------------------------- non-temporal stores (test hook)

STREAM_SIZES = (0, 1, 7, 63, 64, 65, 127, 513, 1000)


@pytest.fixture
def streaming():
    """Every square() call streams its output (threshold 0 bytes), and the
    chunks are small, so heads, tails and chunk edges all meet the
    cache-line alignment of out."""
    with _runtime.tuning(chunk_bytes=8 * 97 + 8, stream_min=0):
        yield


@pytest.mark.thread_unsafe(reason="changes the process-wide stream threshold and chunking")
@pytest.mark.parametrize("threads", (1, 2, 3))
@pytest.mark.parametrize("layout", ("C", "F2d", "step3", "reversed", "sliced2d"))
@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_square_streaming_stores(dtype, layout, threads, streaming):
    """With non-temporal stores forced on, results equal np.square for every
    start offset of out within a cache line, and nothing outside out is
    written (guard elements on both sides)."""
    assert _runtime.config()["stream_min_bytes"] == 0
    for n in STREAM_SIZES:
        x = make_input(dtype, n, layout)
        exp = expected_square(x)
        got = gilfree.square(x, threads=threads)
        assert_same(got, exp)
        if layout != "C":
            continue
        per_line = 64 // dtype.itemsize
        for off in range(0, per_line, max(1, per_line // 8)):
            guard = np.full(n + per_line + 2, 7, dtype=dtype)
            out = guard[1 + off:1 + off + n]
            assert gilfree.square(x, out=out, threads=threads) is out
            np.testing.assert_array_equal(out, exp, strict=True)
            assert (guard[:1 + off] == 7).all() and (guard[1 + off + n:] == 7).all()


@pytest.mark.thread_unsafe(reason="changes the process-wide stream threshold and chunking")
@pytest.mark.parametrize("threads", (1, 3))
@pytest.mark.parametrize("dtype", [np.dtype("int8"), np.dtype("int64"), np.dtype("float32")], ids=str)
def test_overflow_first_index_streaming(dtype, threads, streaming):
    bad = _limit(dtype) + 1 if dtype.kind in "iu" else 1e30
    x = np.ones(5000, dtype=dtype)
    for p in (4500, 3001, 1700, 999):
        x[p] = bad
    with pytest.raises(OverflowError, match=r"\bindex\s*999\b"):
        gilfree.square(x, overflow="raise", threads=threads)


def test_stream_threshold_is_reported_and_sane():
    c = _runtime.config()
    assert isinstance(c["stream"], bool)
    assert c["stream_min_bytes"] >= 4 << 20 and c["stream_reason"]
    with pytest.raises(ValueError, match="nbytes"):
        with _runtime.tuning(stream_min=-1):
            pass


@pytest.mark.parametrize("threads", (2, 8))
def test_overlap_small_chunks(threads, small_chunks):
    for n in (20, 57, 300):
        for k in (1, 5, 7, 8):
            base = make_input(np.dtype("float64"), n + k, "C")
            for x, out in ((base[:n], base[k:]), (base[k:], base[:n]), (base[:n], base[:n][::-1])):
                exp = expected_square(x.copy())
                assert gilfree.square(x, out=out, threads=threads) is out
                np.testing.assert_array_equal(out, exp, strict=True)


# ------------------------------------------------------------------ out=

OUT_SIZES = (7, 3 * CHUNK + 5)


@pytest.mark.parametrize("threads", (1, 2, 8))
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("n", OUT_SIZES)
@pytest.mark.parametrize("dtype", [np.dtype("int16"), np.dtype("int64"), np.dtype("uint32"), np.dtype("float64")], ids=str)
def test_in_place(dtype, n, layout, threads):
    x = make_input(dtype, n, layout)
    exp = expected_square(x.copy())
    with forced(threads):
        r = gilfree.square(x, out=x, threads=threads)
    assert r is x
    np.testing.assert_array_equal(x, exp, strict=True)


def make_out(shape: tuple, dt: np.dtype, layout: str) -> np.ndarray:
    """An array of `shape` filled with junk, in the given memory layout."""
    nd = len(shape)
    if layout == "C":
        out = np.empty(shape, dt)
    elif layout == "F":
        out = np.empty(shape, dt, order="F")
    elif layout == "step2":
        out = np.empty(shape[:-1] + (2 * shape[-1],), dt)[..., ::2]
    elif layout == "reversed":
        out = np.empty(shape, dt)[(slice(None, None, -1),) * nd]
    elif layout == "transposed":
        out = np.empty(shape[::-1], dt).T
    else:  # pragma: no cover
        raise AssertionError(layout)
    out[...] = 99
    return out


@pytest.mark.parametrize("threads", (1, 2, 8))
@pytest.mark.parametrize("out_layout", ("C", "F", "step2", "reversed", "transposed"))
@pytest.mark.parametrize("layout", ("C", "reversed", "F2d", "transposed3d"))
@pytest.mark.parametrize("n", OUT_SIZES)
def test_out_given(n, layout, out_layout, threads):
    dtype = np.dtype("float32")
    x = make_input(dtype, n, layout)
    before = x.copy()
    out = make_out(x.shape, dtype, out_layout)
    with forced(threads):
        r = gilfree.square(x, out=out, threads=threads)
    assert r is out
    np.testing.assert_array_equal(out, expected_square(x), strict=True)
    np.testing.assert_array_equal(x, before, strict=True)


@pytest.mark.parametrize("threads", (1, 2, 8))
@pytest.mark.parametrize("n", (10, 3 * CHUNK + 5))
@pytest.mark.parametrize(
    "how",
    ["out_ahead_by_1", "out_behind_by_1", "out_ahead_half_chunk", "out_behind_half_chunk",
     "reversed_view", "strided_interleave", "transpose"],
)
@pytest.mark.parametrize("dtype", [np.dtype("int32"), np.dtype("float64")], ids=str)
def test_overlap(dtype, how, n, threads):
    """Overlapping x and out: the result is np.square(x.copy())."""
    k = {"out_ahead_by_1": 1, "out_behind_by_1": 1}.get(how, max(1, CHUNK // 2))
    if how == "transpose":
        side = max(2, math.isqrt(n))
        base = make_input(dtype, side * side, "C").reshape(side, side)
        x, out = base, base.T
    elif how == "reversed_view":
        base = make_input(dtype, n, "C")
        x, out = base, base[::-1]
    elif how == "strided_interleave":
        base = make_input(dtype, 2 * n + 1, "C")
        x, out = base[: 2 * n : 2], base[1 : 2 * n + 1 : 2][::-1]
        # no element shared, but the memory ranges interleave
    else:
        base = make_input(dtype, n + k, "C")
        if how.startswith("out_ahead"):
            x, out = base[:n], base[k:]
        else:
            x, out = base[k:], base[:n]
    exp = expected_square(x.copy())
    with forced(threads):
        r = gilfree.square(x, out=out, threads=threads)
    assert r is out
    np.testing.assert_array_equal(out, exp, strict=True)


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("layout", ("C", "reversed", "F2d", "swapped3d"))
def test_in_place_through_another_view_object(layout, threads):
    """`out` is not `x` but views exactly the same memory the same way."""
    x = make_input(np.dtype("int32"), 3 * CHUNK + 5, layout)
    exp = expected_square(x.copy())
    out = x.view()
    assert out is not x
    with forced(threads):
        assert gilfree.square(x, out=out, threads=threads) is out
    np.testing.assert_array_equal(x, exp, strict=True)


def test_out_positional_and_keyword_agree():
    x = make_input(np.dtype("int64"), 3 * CHUNK + 5, "step3")
    out1 = np.empty_like(x)
    out2 = np.empty_like(x)
    r1 = gilfree.square(x, out1, threads=2)
    r2 = gilfree.square(x, out=out2, threads=2)
    assert r1 is out1 and r2 is out2
    np.testing.assert_array_equal(out1, out2, strict=True)
    assert_same(gilfree.square(x, None), gilfree.square(x, out=None))
    assert_same(gilfree.square(x, threads=None), expected_square(x))
    assert_same(gilfree.square(x, overflow="wrap"), expected_square(x))


def test_x_is_positional_only():
    with pytest.raises(TypeError):
        gilfree.square(x=np.arange(3))


@pytest.mark.parametrize("threads", (1, 3))
def test_out_on_zero_dim(threads):
    out = np.empty((), dtype=np.int64)
    r = gilfree.square(np.array(-7), out=out, threads=threads)
    assert r is out
    assert out[()] == 49
    out32 = np.empty((), dtype=np.float32)
    assert gilfree.square(np.float32(1.5), out32) is out32
    assert out32[()] == np.float32(2.25)


# ------------------------------------------------- scalars, lists, tuples


@pytest.mark.parametrize(
    "value",
    [3, -3, 2.5, True, False, 0, np.int8(12), np.uint16(300), np.float32(1.5),
     np.int64(-(2**40)), np.array(5), np.array(2.5, dtype=np.float32), np.float16(3),
     1 + 2j, np.complex64(1 - 1j), np.uint64(2**63)],
    ids=repr,
)
def test_zero_dim_returns_what_numpy_returns(value):
    got = gilfree.square(value)
    assert_same(got, expected_square(value))


@pytest.mark.parametrize(
    "value",
    [[1, 2, 3], (1, -2, 3), [[1.5, 2.0], [3.0, -4.0]], [], [[]], [True, False],
     [1, 2.5], [[1, 2], [3, 4]], list(range(-100, 100)), [2**62, -(2**62)], [2**63, 1]],
    ids=lambda v: repr(v)[:30],
)
def test_sequences_like_asarray(value):
    got = gilfree.square(value, threads=2)
    assert_same(got, expected_square(np.asarray(value)))


def test_sequence_with_out():
    out = np.empty(3, dtype=np.int64)
    assert gilfree.square([1, 2, 3], out=out) is out
    np.testing.assert_array_equal(out, [1, 4, 9])


def test_array_like_with_array_interface():
    class Wrapper:
        def __init__(self, a):
            self._a = a

        def __array__(self, dtype=None, copy=None):
            return np.asarray(self._a, dtype=dtype)

    a = np.arange(-5, 5, dtype=np.int16)
    assert_same(gilfree.square(Wrapper(a)), expected_square(a))


# --------------------------------------------------------- byte order


BYTESWAPPED = [d.newbyteorder() for d in NATIVE if d.itemsize > 1]


@pytest.mark.parametrize("threads", (1, 3))
@pytest.mark.parametrize("layout", ("C", "reversed", "F2d"))
@pytest.mark.parametrize("n", (7, CHUNK + 1))
@pytest.mark.parametrize("dtype", BYTESWAPPED, ids=lambda d: d.str)
def test_byteswapped_input(dtype, n, layout, threads):
    native = make_input(dtype.newbyteorder(), n, layout)
    x = native.astype(dtype)
    assert x.dtype == dtype and not x.dtype.isnative
    with forced(threads):
        got = gilfree.square(x, threads=threads)
    exp = expected_square(x)
    assert exp.dtype.isnative
    assert_same(got, exp)
    out = np.empty(x.shape, dtype=exp.dtype)
    with forced(threads):
        assert gilfree.square(x, out=out, threads=threads) is out
    np.testing.assert_array_equal(out, exp, strict=True)


def test_byteswapped_overflow_raise():
    x = np.zeros(10, dtype=">i4")
    x[3] = 50_000
    x[6] = -50_000
    with pytest.raises(OverflowError, match=r"index 3\b") as ei:
        gilfree.square(x, overflow="raise")
    assert re.search(r"(?<![\d.])50000(?![\d.])", str(ei.value)), str(ei.value)
    x[3] = 46_340  # isqrt(2**31 - 1)
    with pytest.raises(OverflowError, match=r"index 6\b"):
        gilfree.square(x, overflow="raise")


# ------------------------------------------------------------ odd dtypes


@pytest.mark.parametrize("threads", (None, 1, 3))
@pytest.mark.parametrize("layout", ("C", "reversed", "F2d", "step3"))
@pytest.mark.parametrize("n", (0, 7, CHUNK + 1))
@pytest.mark.parametrize("dtype", ODD, ids=str)
def test_odd_dtypes_through_numpy(dtype, n, layout, threads):
    x = make_input(dtype, n, layout)
    before = x.copy()
    with quiet_numpy_warnings():
        got = gilfree.square(x, threads=threads)
    exp = expected_square(x)
    assert_same(got, exp)
    np.testing.assert_array_equal(x, before, strict=True)


@pytest.mark.parametrize("dtype", ODD, ids=str)
def test_odd_dtypes_out_and_in_place(dtype):
    x = make_input(dtype, 101, "C")
    exp = expected_square(x.copy())
    out = np.empty_like(exp)
    with quiet_numpy_warnings():
        assert gilfree.square(x, out=out) is out
    np.testing.assert_array_equal(out, exp, strict=True)
    if exp.dtype == x.dtype:
        with quiet_numpy_warnings():
            assert gilfree.square(x, out=x) is x
        np.testing.assert_array_equal(x, exp, strict=True)
    else:  # np.square(bool) is int8 (NumPy 2): out=x has the wrong dtype
        with pytest.raises(TypeError, match="`out`"):
            gilfree.square(x, out=x)


def test_bool_result_dtype_is_numpys():
    x = np.array([True, False, True])
    exp = np.square(x)  # int8 in NumPy 2
    assert_same(gilfree.square(x), exp)
    out = np.empty(3, dtype=exp.dtype)
    assert gilfree.square(x, out=out) is out
    np.testing.assert_array_equal(out, exp, strict=True)


@pytest.mark.parametrize(
    "dtype", [np.dtype(">f2"), np.dtype(">c16"), np.dtype("clongdouble")], ids=str
)
def test_more_odd_dtypes(dtype):
    x = make_input(np.dtype("float16") if dtype.kind == "f" else np.dtype("complex64"), 50, "C")
    x = x.astype(dtype)
    with quiet_numpy_warnings():
        got = gilfree.square(x)
    assert_same(got, expected_square(x))


@pytest.mark.parametrize("dtype", ["float16", "complex64", "complex128", "longdouble",
                                   "float32", "float64"])
def test_odd_dtypes_warnings(dtype):
    """Overflow warns exactly as in np.square, in the NumPy fallback and the
    native float path alike (tests/test_errstate.py has the full grid)."""
    big = {"float16": 1e4, "complex64": 1e30, "complex128": 1e300,
           "longdouble": np.finfo(np.longdouble).max, "float32": 1e30, "float64": 1e300}[dtype]
    x = np.array([big, 1.0, np.inf], dtype=dtype)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * np.array([big, 0, 0], dtype=dtype).real.astype(dtype)
    seen = []
    for fn in (np.square, gilfree.square):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            got = fn(x)
        seen.append([(type(m.message), str(m.message)) for m in w])
    assert seen[0] == seen[1]
    assert (RuntimeWarning, "overflow encountered in square") in seen[1]
    assert_same(got, expected_square(x))


# ------------------------------------------------------- overflow="raise"


def _limit(dt: np.dtype) -> int:
    return math.isqrt(int(np.iinfo(dt).max))


def _assert_message(exc: BaseException, index, value) -> None:
    msg = str(exc)
    idx = repr(index)
    assert re.search(r"\bindex\s*" + re.escape(idx) + r"(?![\d,])", msg), f"index {idx} not in {msg!r}"
    assert re.search(r"(?<![\d.])" + re.escape(str(value)) + r"(?![\d.])", msg), (
        f"value {value} not in {msg!r}"
    )


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
def test_overflow_raise_boundaries_ok(dtype):
    lim = _limit(dtype)
    lo = 0 if dtype.kind == "u" else -lim
    vals = np.array([lo, lim, lim - 1, 0, 1, lo + 1], dtype=dtype)
    got = gilfree.square(vals, overflow="raise")
    assert_same(got, expected_square(vals))
    assert [int(v) for v in got] == [int(v) ** 2 for v in vals]


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
def test_overflow_raise_int_1d(dtype, threads):
    lim = _limit(dtype)
    x = np.zeros(20, dtype=dtype)
    x[5] = lim + 1
    x[9] = lim + 2
    with forced(threads), pytest.raises(OverflowError) as ei:
        gilfree.square(x, overflow="raise", threads=threads)
    _assert_message(ei.value, 5, lim + 1)
    # the maximum value
    x[5] = 0
    x[12] = np.iinfo(dtype).max
    x[9] = 0
    with forced(threads), pytest.raises(OverflowError) as ei:
        gilfree.square(x, overflow="raise", threads=threads)
    _assert_message(ei.value, 12, int(np.iinfo(dtype).max))


@pytest.mark.parametrize("dtype", [d for d in INT_DTYPES if d.kind == "i"], ids=str)
def test_overflow_raise_negative_values(dtype):
    lim = _limit(dtype)
    info = np.iinfo(dtype)
    x = np.zeros(20, dtype=dtype)
    x[2] = -(lim + 1)
    x[7] = lim + 1
    with pytest.raises(OverflowError) as ei:
        gilfree.square(x, overflow="raise")
    _assert_message(ei.value, 2, -(lim + 1))
    x[2] = -lim
    x[3] = info.min
    with pytest.raises(OverflowError) as ei:
        gilfree.square(x, overflow="raise")
    _assert_message(ei.value, 3, int(info.min))


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
def test_overflow_raise_nd_index_is_c_order_tuple(dtype):
    bad = _limit(dtype) + 1
    x = np.zeros((3, 4), dtype=dtype)
    x[2, 0] = bad
    x[1, 2] = bad
    with pytest.raises(OverflowError) as ei:
        gilfree.square(x, overflow="raise")
    _assert_message(ei.value, (1, 2), bad)
    # F order: memory order would find (1, 0) first, C order (0, 3)
    f = np.zeros((3, 4), dtype=dtype, order="F")
    f[1, 0] = bad
    f[0, 3] = bad
    with pytest.raises(OverflowError) as ei:
        gilfree.square(f, overflow="raise")
    _assert_message(ei.value, (0, 3), bad)
    # 3-D transposed
    t = np.zeros((2, 3, 4), dtype=dtype).transpose(2, 0, 1)  # shape (4, 2, 3)
    t[3, 0, 0] = bad
    t[1, 1, 2] = bad
    with pytest.raises(OverflowError) as ei:
        gilfree.square(t, overflow="raise")
    _assert_message(ei.value, (1, 1, 2), bad)


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
def test_overflow_raise_reversed_view_index(dtype):
    bad = _limit(dtype) + 1
    base = np.zeros(20, dtype=dtype)
    base[15] = bad  # x[4]
    base[3] = bad  # x[16]
    with pytest.raises(OverflowError) as ei:
        gilfree.square(base[::-1], overflow="raise")
    _assert_message(ei.value, 4, bad)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("dtype", [np.dtype("int8"), np.dtype("int64"), np.dtype("uint32"), np.dtype("uint64")], ids=str)
def test_overflow_raise_first_across_chunks(dtype, threads):
    """With several offending chunks running concurrently, the first (in C
    order) offender is reported, whichever thread finds one first."""
    cd = chunk_elems(dtype)
    n = 4 * cd + 3
    bad = _limit(dtype) + 1
    x = np.ones(n, dtype=dtype)
    positions = [4 * cd + 1, 3 * cd + 2, 2 * cd + 7, cd + 5]
    for p in positions:
        x[p] = bad
    x[cd + 5] = bad + 1  # distinct value for the first one
    with forced(threads), pytest.raises(OverflowError) as ei:
        gilfree.square(x, overflow="raise", threads=threads)
    _assert_message(ei.value, cd + 5, bad + 1)
    # 2-D: chunk boundaries inside rows
    x2 = np.ones((4, cd + 1), dtype=dtype)
    x2[3, 2] = bad
    x2[2, cd] = bad
    with forced(threads), pytest.raises(OverflowError) as ei:
        gilfree.square(x2, overflow="raise", threads=threads)
    _assert_message(ei.value, (2, cd), bad)


@pytest.mark.parametrize("threads", (1, 2, 8))
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", NATIVE, ids=str)
def test_overflow_raise_without_overflow_equals_wrap(dtype, layout, threads):
    n = 2 * chunk_elems(dtype) + 3
    x = make_input(dtype, n, layout)
    if dtype.kind in "iu":
        lim = _limit(dtype)
        lo = 0 if dtype.kind == "u" else -lim
        np.clip(x, lo, lim, out=x)  # in place: keeps the layout
    else:
        with np.errstate(all="ignore"):
            x[np.isfinite(x) & ~np.isfinite(np.square(x))] = 0
    with forced(threads):
        got = gilfree.square(x, overflow="raise", threads=threads)
    assert_same(got, expected_square(x))


@pytest.mark.parametrize("threads", (1, 2))
def test_overflow_raise_with_out_and_in_place(threads):
    x = np.arange(-20, 20, dtype=np.int8)
    out = np.empty_like(x)
    with pytest.raises(OverflowError):
        gilfree.square(x, out=out, overflow="raise", threads=threads)
    with pytest.raises(OverflowError):
        gilfree.square(x, out=x, overflow="raise", threads=threads)
    y = np.arange(-11, 12, dtype=np.int8)
    assert gilfree.square(y, out=y, overflow="raise", threads=threads) is y
    np.testing.assert_array_equal(y, np.arange(-11, 12) ** 2)


@pytest.mark.parametrize(
    ("dtype", "ok", "bad"),
    [("float64", 1e154, 1e155), ("float32", 1e19, 1e20), ("float64", -1e154, -1e200),
     ("float32", -1e19, -3e38)],
)
def test_overflow_raise_floats(dtype, ok, bad):
    dt = np.dtype(dtype)
    x = np.array([0.0, ok, -ok, np.inf, -np.inf, np.nan, np.finfo(dt).tiny, 1.0], dtype=dt)
    got = gilfree.square(x, overflow="raise")  # inf/nan inputs are not overflow
    assert_same(got, expected_square(x))
    x = np.concatenate([x, np.array([bad, 1.0, bad], dtype=dt)])
    with pytest.raises(OverflowError, match=r"\bindex\s*8\b"):
        gilfree.square(x, overflow="raise")
    big = np.full(3 * CHUNK + 5, ok, dtype=dt)
    big[2 * CHUNK + 1] = bad
    big[CHUNK + 3] = bad
    for threads in (1, 2, 8):
        with forced(threads), pytest.raises(OverflowError, match=rf"\bindex\s*{CHUNK + 3}\b"):
            gilfree.square(big, overflow="raise", threads=threads)
    m = np.zeros((3, 3), dtype=dt)
    m[2, 1] = bad
    with pytest.raises(OverflowError, match=r"\bindex\s*\(2, 1\)"):
        gilfree.square(m, overflow="raise")


def test_overflow_raise_float_scalar():
    with pytest.raises(OverflowError):
        gilfree.square(np.float64(1e200), overflow="raise")
    with pytest.raises(OverflowError):
        gilfree.square(np.int8(12), overflow="raise")
    assert gilfree.square(np.int8(11), overflow="raise") == np.int8(121)


def test_overflow_raise_float16_through_numpy():
    x = np.array([1.0, 255.0, 300.0, np.inf], dtype=np.float16)  # 300**2 > 65504
    with pytest.raises(OverflowError, match=r"\bindex\s*2\b"):
        gilfree.square(x, overflow="raise")
    assert_same(gilfree.square(x[:2], overflow="raise"), expected_square(x[:2]))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_overflow_raise_complex_through_numpy(dtype):
    """Complex goes through NumPy too: a finite value whose square is not
    finite raises OverflowError (not some other exception)."""
    big = 1e30 if dtype == "complex64" else 1e200
    x = np.array([1 + 1j, 2 - 1j, big + 0j, 1j], dtype=dtype)
    with quiet_numpy_warnings(), pytest.raises(OverflowError, match=r"\bindex\s*2\b"):
        gilfree.square(x, overflow="raise")
    with quiet_numpy_warnings():
        got = gilfree.square(x[:2], overflow="raise")
    assert_same(got, expected_square(x[:2]))


def test_overflow_raise_bool_never_raises():
    x = np.array([True, False, True])
    assert_same(gilfree.square(x, overflow="raise"), np.square(x))


def test_wrap_matches_numpy_for_extremes():
    for dt in INT_DTYPES:
        info = np.iinfo(dt)
        x = np.array([info.min, info.max, info.min + 1, info.max - 1, 0, -1 if dt.kind == "i" else 1],
                     dtype=dt)
        assert_same(gilfree.square(x), np.square(x))
        assert_same(gilfree.square(x, overflow="wrap", threads=2), np.square(x))


@pytest.mark.parametrize("overflow", ["wrap", "raise"])
def test_complex_scalars_square_like_numpys_scalar_math(overflow):
    """A NumPy scalar gives np.square(scalar), whose scalar math may round a
    complex square differently from the array loop (complex64: the last bit)."""
    rng = np.random.default_rng(11)
    for dt in (np.complex64, np.complex128):
        for _ in range(500):
            re, im = rng.standard_normal(2) * 10.0 ** rng.uniform(-15, 15, 2)
            v = dt(complex(re, im))
            want = np.square(v)
            got = gilfree.square(v, overflow=overflow)
            assert type(got) is type(want)
            assert got.tobytes() == want.tobytes(), (v, got, want)


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4)])
@pytest.mark.parametrize("dtype", ["float64", "int32", "int16"])
def test_empty_into_byteswapped_out_returns_out(dtype, shape):
    """np.square(x, out=out) returns `out` itself, whatever its byte order or size."""
    x = np.empty(shape, dtype)
    for out_dtype in (np.dtype(dtype).newbyteorder(), np.dtype(dtype)):
        out = np.empty(shape, out_dtype)
        assert np.square(x, out=out) is out
        assert gilfree.square(x, out=out) is out
        assert gilfree.square(x, out=out, threads=2) is out
