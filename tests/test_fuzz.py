"""Fuzzing every public kernel with hostile input.

Each case draws a function (``square``, ``sum_of_squares``,
``sum_squares_range``, ``squares_range``) and arguments from a wide space:

* dtypes: the ten native ones, byte-swapped ones (``'>f8'``, ``'>i4'``...),
  the NumPy-loop ones (bool, float16, longdouble, complex, byte-swapped
  complex) and unsupported ones (object, str, datetime, timedelta, void,
  structured);
* shapes: 0-d to 4-d, with zero-size axes, up to a few chunks long;
* layouts: contiguous (C and F), sliced views with positive and negative
  steps, transposes, unaligned views, zero-stride broadcasts, and
  ``as_strided`` views with huge (hundreds of KiB) or negative strides over a
  small buffer (always inside the buffer: only valid views);
* values: full-range integers, small integers, floats from subnormal to
  1e300, +-inf, NaN, -0.0; Python lists, tuples and scalars (including ints
  too big for int64);
* ``out``: none, fresh (C, F or strided), ``x`` itself, overlapping ``x``
  shifted or reversed, wrong shape, wrong dtype, read-only, not an array;
* ``threads``: None, 1-8, and invalid ones (0, -1, 2.0, True, "2",
  MAX_THREADS + 1, 2**70); ``overflow``: "wrap", "raise", invalid;
* ranges: bounds anywhere in int64 (near its ends too), steps up to 2**62,
  invalid bounds (float, bool, str, None, 2**63, zero step); dtypes for
  ``squares_range`` including byte-swapped and unsupported ones;
* chunk sizes: default and tiny (so that a few hundred elements already use
  the pool and chunk edges).

The oracle is ``gilfree._reference`` (pure NumPy / Python ints), called on an
identical, independently built copy of the arguments.  A case passes if both
return the same value (bit for bit, same type and dtype; float sums to 1e-12
relative) and leave the same contents in ``out``/``x``, or if both raise (the
same type whenever ``threads`` is valid) a documented exception (TypeError,
ValueError, OverflowError) whose message names the argument.  A crash, hang,
warning (the suite runs with ``-W error``) or wrong value fails.

``test_fuzz_seeded_loop`` runs ``GILFREE_FUZZ_CASES`` (default 3000) cases
from a fixed seed; the Hypothesis tests draw seeds (profile ``ci``: 200 each).
The number of cases run is printed at the end of the module.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import gilfree
from gilfree import _runtime
from gilfree import _reference as ref

pytestmark = [
    pytest.mark.thread_unsafe(reason="changes the process-wide chunk size (_runtime.tuning)"),
    # Float overflow etc. is reported through np.errstate like NumPy does
    # (tests/test_errstate.py); the fuzz compares values only.
    pytest.mark.filterwarnings(
        r"ignore:(overflow|underflow|invalid value) encountered in (square|dot):RuntimeWarning"),
]

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
NATIVE = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]
SWAPPED = [">f8", ">i4", ">u2", ">i8", ">f4", ">u8", ">i2"]
NUMPY_LOOP = ["bool", "float16", "longdouble", "complex64", "complex128", ">c16"]
UNSUPPORTED = ["object", "U3", "S2", "datetime64[s]", "timedelta64[ms]", "V8", [("a", "<i4"), ("b", "<f4")]]
ALL_DTYPES = NATIVE * 4 + SWAPPED + NUMPY_LOOP + UNSUPPORTED
VALID_THREADS = [None, 1, 2, 3, 4, 8]
INVALID_THREADS = [0, -1, 2.0, True, "2", gilfree.MAX_THREADS + 1, 2**70, np.float64(2)]
ARG_NAMES = ("x", "out", "threads", "overflow", "start", "stop", "step", "dtype")
NAMES_ARG = re.compile(r"`(%s)`" % "|".join(ARG_NAMES))
CHUNKINGS = [None, None, 64, 256, 4096]

COUNTS = {"cases": 0, "values": 0, "errors": 0, "multi_bad": 0, "ref_raw": 0}


# ---------------------------------------------------------------- building


def _values(rng, dt: np.dtype, n: int) -> np.ndarray:
    """n values of dtype `dt` (native order), biased to interesting ones."""
    kind = dt.kind
    mode = rng.integers(4)
    if kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    if kind in "iu":
        info = np.iinfo(dt)
        if mode == 0:  # full range
            return rng.integers(int(info.min), int(info.max), n, dtype=dt, endpoint=True)
        lim = math.isqrt(int(info.max))
        lo = 0 if kind == "u" else -lim
        v = rng.integers(lo, lim, n, dtype=np.int64 if dt.itemsize < 8 or kind == "i" else np.uint64,
                         endpoint=True).astype(dt)
        if mode == 1 and n:  # one overflowing element somewhere
            v[rng.integers(n)] = info.max if rng.integers(2) or kind == "u" else info.min
        return v
    if kind in "fc":
        finfo = np.finfo(dt)
        top = min(300, int(np.log10(finfo.max)))  # longdouble's max is beyond float64
        scale = 10.0 ** int(rng.integers(-20, 20 if mode else top))
        v = (rng.standard_normal(n) * scale)
        if kind == "c":
            v = v + 1j * rng.standard_normal(n) * scale
        v = v.astype(dt)
        if n and mode == 3:
            specials = np.array([np.inf, -np.inf, np.nan, -0.0, finfo.tiny / 4, finfo.max], dtype=dt)
            k = rng.integers(1, min(n, 4) + 1)
            v[rng.integers(0, n, k)] = rng.choice(specials, k)
        return v
    if kind == "O":
        return np.array([int(i) ** 3 for i in rng.integers(-100, 100, n)], dtype=object)
    if kind in "US":
        return np.array([str(i) for i in rng.integers(0, 99, n)], dtype=dt)
    if kind in "mM":
        return rng.integers(0, 10**6, n).astype(dt)
    return np.zeros(n, dt)  # void, structured


def _shape(rng, small: bool) -> tuple:
    ndim = int(rng.choice([0, 1, 1, 1, 2, 2, 3, 4]))
    sides = [0, 1, 2, 3, 5, 7, 16, 17, 31, 64, 100, 257] if ndim > 1 else [0, 1, 2, 7, 100, 513, 1000, 4099, 20000]
    if small:
        sides = [s for s in sides if s <= 64]
    shape = tuple(int(rng.choice(sides)) for _ in range(ndim))
    while ndim > 1 and math.prod(shape) > 40000:
        shape = tuple(max(1, s // 2) for s in shape)
    return shape


def _layout(rng, dt: np.dtype, shape: tuple):
    """An array of dtype `dt` and `shape` in some memory layout; returns (array, base)."""
    n = math.prod(shape)
    how = rng.choice(["c", "f", "sliced", "reversed", "transposed", "unaligned", "broadcast", "strided", "strided"])
    native = dt.newbyteorder("=") if dt.byteorder not in "=|" else dt

    def vals(k):
        with np.errstate(all="ignore"):  # e.g. 1e300 -> float16 is inf, on purpose
            return _values(rng, native, k).astype(dt)

    if how == "c" or not shape:
        a = vals(n).reshape(shape)
        return a, a
    if how == "f":
        a = np.asfortranarray(vals(n).reshape(shape))
        return a, a
    if how in ("sliced", "reversed"):
        steps = [int(rng.choice([1, 2, 3, -1, -2])) if how == "sliced" else -1 for _ in shape]
        big = tuple(max(1, s * abs(st_)) for s, st_ in zip(shape, steps))
        base = vals(math.prod(big)).reshape(big)
        idx = tuple(slice(None, None, st_) for st_ in steps)
        a = base[idx][tuple(slice(0, s) for s in shape)]
        assert a.shape == shape
        return a, base
    if how == "transposed":
        perm = rng.permutation(len(shape))
        rshape = tuple(shape[i] for i in np.argsort(perm))
        base = vals(n).reshape(rshape)
        a = base.transpose(perm)
        assert a.shape == shape
        return a, base
    if how == "unaligned" and dt.itemsize > 1 and dt.kind not in "OV":
        buf = np.zeros(n * dt.itemsize + 1, np.uint8)
        a = buf[1:].view(dt).reshape(shape)
        a[...] = vals(n).reshape(shape)
        return a, buf
    if how == "broadcast":
        small = vals(shape[-1]) if shape[-1] else vals(0)
        a = np.broadcast_to(small, shape)  # zero strides, read-only
        return a, small
    # as_strided over a buffer: huge or negative strides, every element inside it
    itemsize = dt.itemsize
    strides = []
    span = 0
    for s in shape:
        step_items = int(rng.choice([1, 3, 1000, 50_000])) * int(rng.choice([1, -1]))
        strides.append(step_items * itemsize)
        span += abs(step_items) * max(0, s - 1)
    if n == 0:
        span = 0
    nbuf = span + 1
    if nbuf * itemsize > 64 << 20:  # keep the buffer below 64 MiB
        a = vals(n).reshape(shape)
        return a, a
    buf = np.zeros(nbuf, dt) if dt.kind != "O" else np.full(nbuf, 0, dtype=object)
    # start where every negative-stride axis can walk back from
    offset = sum(abs(s // itemsize) * max(0, d - 1) for s, d in zip(strides, shape) if s < 0)
    view = np.lib.stride_tricks.as_strided(buf[offset:], shape=shape, strides=strides, writeable=True)
    if n:
        view[...] = vals(n).reshape(shape)  # no element shared: strides distinct enough
    return view, buf


def _python_input(rng, a: np.ndarray):
    """Sometimes replace the array by a list, tuple or scalar."""
    r = rng.integers(12)
    if r == 0 and a.dtype.kind in "biuf" and a.size < 200:
        return a.tolist()
    if r == 1 and a.ndim == 1 and a.dtype.kind in "iuf" and a.size < 200:
        return tuple(a.tolist())
    if r == 2:
        return _choice(rng, [3, -7, 2.5, True, 2**62, 2**70, -(2**64), 1e200, float("nan"), [1, [2, 3]],
                             "12", None, b"ab", [], [[]], complex(1, 2), np.int8(-128), np.float32(3e38)])
    return a


def _choice(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def make_square_case(rng, fname):
    """A builder of (args, kwargs, arrays-to-compare) for square / sum_of_squares."""
    dt = np.dtype(_choice(rng, ALL_DTYPES))
    shape = _shape(rng, small=dt.kind in "OUSV")
    seed = int(rng.integers(2**63))
    out_mode = _choice(rng, ["none"] * 6 + ["fresh", "fresh_f", "fresh_strided", "self", "shifted",
                                            "reversed", "wrong_shape", "wrong_dtype", "readonly", "list"])
    threads = _choice(rng, VALID_THREADS * 4 + INVALID_THREADS) if rng.integers(4) else None
    overflow = _choice(rng, ["wrap"] * 4 + ["raise"] * 4 + ["Raise", None, 1])
    pyin = rng.integers(8) == 0

    def build():
        r = np.random.default_rng(seed)
        x, base = _layout(r, dt, shape)
        if pyin:
            x = _python_input(r, x)
        kwargs = {}
        if threads is not None or r.integers(2):
            kwargs["threads"] = threads
        keep = {"x": x}
        if fname == "square":
            if overflow != "wrap" or r.integers(2):
                kwargs["overflow"] = overflow
            try:
                xa = np.asarray(x) if not isinstance(x, np.ndarray) else x
            except ValueError:  # ragged list
                xa = np.zeros(2)
            try:
                rdt = np.square(np.empty(0, xa.dtype)).dtype
            except TypeError:
                rdt = np.dtype("float64")
            out = None
            if out_mode == "fresh":
                out = np.full(xa.shape, 7, rdt)
            elif out_mode == "fresh_f":
                out = np.asfortranarray(np.full(xa.shape, 7, rdt))
            elif out_mode == "fresh_strided" and xa.ndim:
                out = np.full(tuple(s * 2 for s in xa.shape), 7, rdt)[(slice(None, None, -2),) * xa.ndim]
            elif out_mode == "self":
                out = x
            elif out_mode in ("shifted", "reversed") and isinstance(x, np.ndarray) and x.ndim == 1 \
                    and base is not x and base.dtype == x.dtype and base.ndim == 1 and x.flags.writeable:
                # another view of the same memory as x
                if out_mode == "reversed":
                    out = x[::-1]
                else:
                    out = base[1:][:x.size] if base.size > x.size else x[::-1]
                    if out.shape != x.shape:
                        out = x[::-1]
            elif out_mode == "wrong_shape":
                out = np.zeros(xa.shape + (2,), rdt)
            elif out_mode == "wrong_dtype":
                out = np.zeros(xa.shape, "float32" if rdt != np.float32 else "float64")
            elif out_mode == "readonly":
                out = np.zeros(xa.shape, rdt)
                out.flags.writeable = False
            elif out_mode == "list":
                out = xa.tolist() if xa.dtype.kind in "biuf" else [1]
            if out is not None or out_mode != "none":
                kwargs["out"] = out
                keep["out"] = out
        return (x,), kwargs, keep

    return build, f"{fname} dtype={dt} shape={shape} out={out_mode} threads={threads!r} overflow={overflow!r} py={pyin}"


def _bound(rng):
    r = rng.integers(10)
    if r < 4:
        return int(rng.integers(-10**6, 10**6))
    if r < 6:
        return int(rng.integers(I64_MIN, I64_MAX, endpoint=True))
    if r < 8:
        return int(_choice(rng, [I64_MIN, I64_MAX, I64_MIN + 1, I64_MAX - 1, 0, -1, 2**32, -(2**32), 2**31]))
    return _choice(rng, [2**63, -(2**63) - 1, 1.5, True, "3", None, np.int32(5), np.uint64(2**63 + 5), 2**100])


def make_range_case(rng, fname):
    threads = _choice(rng, VALID_THREADS * 3 + INVALID_THREADS) if rng.integers(4) else None
    arity = int(rng.integers(1, 4))
    max_len = 200_000 if fname == "sum_squares_range" else 30_000
    start = _bound(rng)
    if isinstance(start, int) and not isinstance(start, bool) and I64_MIN <= start <= I64_MAX and rng.integers(3):
        step = int(_choice(rng, [1, 1, 2, -1, -3, 7, 1000, 2**31 + 1, -(2**33), 2**62, -(2**62)]))
        length = int(rng.integers(0, max_len))
        stop = start + step * length
        stop = max(I64_MIN, min(I64_MAX, stop))
        if rng.integers(8) == 0:
            step = _choice(rng, [0, 1.0, True, "1", None, 2**63])
    else:
        stop, step = _bound(rng), _choice(rng, [1, -1, 3, 0, 2.0])
    if arity == 1:
        if not isinstance(start, int) or isinstance(start, bool) or abs(start) > max_len:
            if rng.integers(3):
                start = int(rng.integers(-5, max_len))
        args = (start,)
    elif arity == 2:
        if isinstance(start, int) and isinstance(stop, int) and not isinstance(start, bool) \
                and not isinstance(stop, bool) and abs(stop - start) > max_len:
            stop = start + int(rng.integers(-5, max_len))
            stop = max(I64_MIN, min(I64_MAX, stop))
        args = (start, stop)
    else:
        args = (start, stop, step)
    # keep only ranges short enough to run (the oracle of squares_range materialises them)
    n = _range_len(args)
    if n is not None and max_len < n < 2**63:
        args = (0, 10)
    kwargs = {}
    if threads is not None or rng.integers(2):
        kwargs["threads"] = threads
    if fname == "squares_range" and rng.integers(3):
        kwargs["dtype"] = _choice(rng, NATIVE * 2 + [">i4", ">f8", ">u8", np.float32, int, float,
                                                      "float16", "bool", "complex64", "object", "U3",
                                                      None, "nope", 3])

    def build():
        return args, dict(kwargs), {}

    return build, f"{fname}{args} {kwargs}"


def _range_len(args):
    """len(range(*args)) without the sys.maxsize limit; None if args are not ints.

    ``stop=None`` means what it means to the range functions: ``start`` is
    then the end, as in ``range(start)``.
    """
    if len(args) >= 2 and args[1] is None:
        args = (0, args[0]) + tuple(args[2:])
    try:
        r = range(*args)
    except (TypeError, ValueError):
        return None
    a, b, s = r.start, r.stop, r.step
    return max(0, (b - a + s - 1) // s) if s > 0 else max(0, (a - b - s - 1) // (-s))


FUNCS = ["square"] * 4 + ["sum_of_squares"] * 3 + ["sum_squares_range"] * 2 + ["squares_range"] * 2


def make_case(rng):
    fname = _choice(rng, FUNCS)
    if fname in ("square", "sum_of_squares"):
        build, desc = make_square_case(rng, fname)
    else:
        build, desc = make_range_case(rng, fname)
    chunk = _choice(rng, CHUNKINGS)
    return fname, build, chunk, desc + (f" chunk_bytes={chunk}" if chunk else "")


# ---------------------------------------------------------------- checking


def _threads_valid(kwargs) -> bool:
    t = kwargs.get("threads")
    if t is None:
        return True
    try:
        gilfree._threads.validate_threads(t)
    except (TypeError, ValueError):
        return False
    return True


def _same_array(got, exp):
    if got.dtype.kind == "c":
        # gilfree computes complex squares with np.square itself; NumPy's
        # complex loops round differently (by an ulp) for strided and
        # contiguous operands, so np.square(x, out=strided) != np.square(x)
        # bit for bit.  Same up to 4 ulp.
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(got, exp, rtol=4 * np.finfo(got.dtype).eps, atol=0, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, exp, strict=True)


def _same_value(got, exp, fname):
    if fname in ("sum_of_squares", "sum_squares_range"):
        assert type(got) is type(exp), (type(got), type(exp), got, exp)
        if isinstance(exp, float):
            if math.isnan(exp):
                assert math.isnan(got), (got, exp)
            elif math.isinf(exp) or math.isinf(got):
                assert got == exp, (got, exp)
            else:
                assert math.isclose(got, exp, rel_tol=1e-12, abs_tol=1e-300), (got, exp)
        else:
            assert got == exp, (got, exp)
        return
    assert type(got) is type(exp), (type(got), type(exp))
    if isinstance(exp, np.ndarray):
        assert got.dtype == exp.dtype and got.shape == exp.shape, (got.dtype, exp.dtype, got.shape, exp.shape)
        _same_array(got, exp)
    else:
        assert np.dtype(type(got)) == np.dtype(type(exp))
        np.testing.assert_array_equal(np.asarray(got), np.asarray(exp), strict=True)


def _snapshot(keep):
    snap = {}
    for k, v in keep.items():
        if isinstance(v, np.ndarray) and v.dtype.kind not in "OV":
            snap[k] = np.array(v, copy=True)
    return snap


def run_case(fname, build, chunk, desc):
    """Run one case against the reference; raise AssertionError on a mismatch."""
    args, kwargs, keep = build()
    rargs, rkwargs, rkeep = build()
    # A byte-swapped squares_range dtype gives a native result in both, as
    # np.square of the byte-swapped arange does.
    try:
        exp = getattr(ref, fname)(*rargs, **rkwargs)
        exp_exc = None
    except (TypeError, ValueError, OverflowError) as exc:
        exp, exp_exc = None, exc
    if fname == "squares_range" and "dtype" in rkwargs and rkwargs["dtype"] is None and exp_exc is None:
        # np.dtype(None) is float64, so the reference accepts dtype=None;
        # gilfree rejects it on purpose (None is not "the default" there).
        exp, exp_exc = None, TypeError("`dtype` must be a NumPy dtype, got None")
    if fname in ("squares_range", "sum_squares_range") and (_range_len(rargs) or 0) >= 2**63:
        # gilfree's documented limit: at most 2**63 - 1 elements (the
        # reference computes sum_squares_range in closed form, and its
        # squares_range returns an empty array there: a bug of the twin)
        exp_exc = exp_exc or ValueError("range(...) has ... elements; at most 2**63 - 1 are supported")
    before = _snapshot(keep)
    with _runtime.tuning(chunk_bytes=chunk or None):
        try:
            got = getattr(gilfree, fname)(*args, **kwargs)
            got_exc = None
        except (TypeError, ValueError, OverflowError) as exc:
            got, got_exc = None, exc
    COUNTS["cases"] += 1
    tvalid = _threads_valid(kwargs)
    if got_exc is not None:
        COUNTS["errors"] += 1
        msg = str(got_exc)
        assert NAMES_ARG.search(msg) or msg.startswith("square overflows") or re.match(r"range\(.*elements", msg), (
            f"error message names no argument: {type(got_exc).__name__}: {msg}")
        if tvalid:
            assert exp_exc is not None, f"gilfree raised {got_exc!r}, the reference returned {exp!r}"
            gname, ename = NAMES_ARG.search(msg), NAMES_ARG.search(str(exp_exc))
            if gname and ename and gname.group(1) != ename.group(1):
                # several bad arguments: the two report different ones first
                COUNTS["multi_bad"] += 1
            elif ename is None and not isinstance(exp_exc, OverflowError) and "elements" not in str(exp_exc):
                # the reference let NumPy's own error through (ragged list:
                # ValueError "setting an array element with a sequence");
                # gilfree's names `x` (checked above), which is what counts
                COUNTS["ref_raw"] += 1
            else:
                assert type(got_exc) is type(exp_exc), (got_exc, exp_exc)
            if isinstance(got_exc, OverflowError):
                # same first offending element (the value's repr may differ:
                # the reference prints complex64 values as np.complex64(...))
                assert msg.split(":")[0] == str(exp_exc).split(":")[0], (msg, str(exp_exc))
        else:
            assert "`threads`" in msg or exp_exc is not None, msg
        # a failing call must not have touched x (unless out overlaps it:
        # after OverflowError `out` holds unspecified values, as documented)
        out = keep.get("out")
        if "x" in before and not (isinstance(out, np.ndarray) and np.may_share_memory(out, keep["x"])):
            np.testing.assert_array_equal(keep["x"], before["x"], strict=True)
        return
    assert tvalid, f"invalid threads={kwargs.get('threads')!r} accepted"
    assert exp_exc is None, f"gilfree returned {got!r}, the reference raised {exp_exc!r}"
    _same_value(got, exp, fname)
    if isinstance(got, np.ndarray):
        COUNTS["values"] += got.size
    # what out/x hold afterwards must match too (in place, overlap)
    for k in keep:
        a, b = keep[k], rkeep[k]
        if isinstance(a, np.ndarray) and a.dtype.kind not in "OV":
            _same_array(a, b)
    if "out" in kwargs and kwargs["out"] is not None:
        assert got is kwargs["out"]
    elif "x" in before and fname == "square":
        np.testing.assert_array_equal(keep["x"], before["x"], strict=True)


def _run_seed(seed, in_hypothesis=False):
    rng = np.random.default_rng(seed)
    fname, build, chunk, desc = make_case(rng)
    if in_hypothesis:
        note(desc)
    try:
        run_case(fname, build, chunk, desc)
    except AssertionError as exc:
        raise AssertionError(f"seed {seed}: {desc}: {exc}") from exc


# ------------------------------------------------------------------- tests

N_LOOP = int(os.environ.get("GILFREE_FUZZ_CASES", "3000"))


def test_fuzz_seeded_loop():
    """N_LOOP cases from a fixed seed (reproduce one with _run_seed(seed))."""
    for seed in range(20261127, 20261127 + N_LOOP):
        _run_seed(seed)


@given(seed=st.integers(0, 2**64 - 1))
def test_fuzz_hypothesis(seed):
    _run_seed(seed, in_hypothesis=True)


@given(fname=st.sampled_from(["square", "sum_of_squares"]), seed=st.integers(0, 2**64 - 1),
       threads=st.sampled_from(VALID_THREADS))
def test_fuzz_hypothesis_arrays_valid_threads(fname, seed, threads):
    """Array cases only, always with a valid thread count (more of them reach the kernels)."""
    rng = np.random.default_rng(seed)
    build0, desc = make_square_case(rng, fname)

    def build():
        args, kwargs, keep = build0()
        kwargs["threads"] = threads
        return args, kwargs, keep

    note(desc)
    run_case(fname, build, _choice(rng, CHUNKINGS), desc)


class _CountReporter:
    """Prints the number of fuzz cases in pytest's terminal summary."""

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(
            f"test_fuzz: {COUNTS['cases']} fuzz cases run ({COUNTS['errors']} ended in a documented "
            f"exception, {COUNTS['values']} array elements checked)")


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request):
    pm = request.config.pluginmanager
    if not pm.has_plugin("gilfree-fuzz-counts"):
        pm.register(_CountReporter(), "gilfree-fuzz-counts")
    yield
