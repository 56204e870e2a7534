"""Float errors follow np.errstate / np.seterr exactly as np.square does.

Every case runs np.square and gilfree.square on the same input under the same
error state and compares everything observable: the result, the warnings
(category, text, the file they are attributed to), the exception, the
``call`` handler's arguments and the ``log`` object's messages.  The
``print`` mode writes to C's stderr, so it is compared in subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import gilfree
from gilfree import _runtime

# warnings.catch_warnings (how these tests observe warnings) is process-wide,
# so no test here may run beside another under pytest-run-parallel; the
# per-thread behaviour is tested on purpose in test_errstate_is_per_thread.
pytestmark = pytest.mark.thread_unsafe(reason="observes warnings with catch_warnings")

MODES = ["ignore", "warn", "raise", "call", "log"]
NATIVE = [np.float32, np.float64]
VIA_NUMPY = [np.float16, np.longdouble]
FLOATS = NATIVE + VIA_NUMPY


def snan(dt) -> np.ndarray:
    """A signalling NaN of `dt` (its square raises the invalid flag)."""
    bits = {2: (np.uint16, 0x7D00), 4: (np.uint32, 0x7FA00000),
            8: (np.uint64, 0x7FF4000000000000)}
    u, v = bits[np.dtype(dt).itemsize]
    return np.array([v], u).view(dt)


def specials(dt) -> dict[str, np.ndarray]:
    fi = np.finfo(dt)
    huge = np.array([fi.max, -fi.max, np.sqrt(fi.max) * 2, 3.0], dt)
    tiny = np.array([fi.smallest_normal, fi.smallest_subnormal, -fi.smallest_subnormal,
                     np.sqrt(fi.smallest_normal) / 4, 1.0], dt)
    special = np.array([np.inf, -np.inf, np.nan, -np.nan, 0.0, -0.0, 1.0, -2.5], dt)
    cases = {"huge": huge, "tiny": tiny, "special": special,
             "mixed": np.concatenate([special, huge, tiny])}
    if np.dtype(dt) != np.dtype(np.longdouble) or np.dtype(np.longdouble).itemsize == 8:
        cases["snan"] = np.concatenate([snan(dt), np.array([1.0, np.nan], dt)])
        cases["all"] = np.concatenate([cases["mixed"], snan(dt)])
    return cases


def observe(fn, make_args, errstate: dict):
    """Run fn(*make_args()) under `errstate`; return what can be observed."""
    calls: list = []
    logged: list = []

    class Log:
        def write(self, msg):
            logged.append(msg)

    def handler(kind, flag):
        calls.append((kind, flag))

    args, kwargs = make_args()
    uses_log = "log" in errstate.values()
    result = exc = None
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with np.errstate(**errstate, call=Log() if uses_log else handler):
            try:
                result = fn(*args, **kwargs)
            except FloatingPointError as e:
                exc = (type(e), str(e))
    out = kwargs.get("out")
    return dict(
        result=None if result is None else np.array(result, copy=True),
        out=None if out is None else np.array(out, copy=True),
        warnings=[(x.category, str(x.message), os.path.basename(x.filename)) for x in w],
        exc=exc, calls=calls, log=logged,
    )


def assert_same_observation(a, b):
    for key in ("warnings", "exc", "calls", "log"):
        assert a[key] == b[key], (key, a[key], b[key])
    for key in ("result", "out"):
        if a[key] is None or b[key] is None:
            assert a[key] is None and b[key] is None, key
        else:
            assert a[key].dtype == b[key].dtype
            np.testing.assert_array_equal(a[key], b[key])


def errstates():
    out = []
    for mode in MODES:
        out.append(dict(all=mode))
        for kind in ("over", "under", "invalid"):
            out.append({"all": "ignore", kind: mode})
    out.append(dict(over="raise", under="warn", invalid="call"))
    out.append(dict(over="warn", under="raise", invalid="raise"))
    return out


ERRSTATES = errstates()
ES_IDS = ["-".join(f"{k}={v}" for k, v in e.items()) for e in ERRSTATES]


@pytest.fixture
def small_chunks():
    """Chunks of 64 bytes: every case below spans several chunks."""
    with _runtime.tuning(chunk_bytes=64):
        yield


def compare(x, errstate, layout="C", threads=None):
    """np.square vs gilfree.square on `x` laid out as `layout`."""

    def prepare():
        if layout == "C":
            return (x.copy(),), {}
        if layout == "inplace":
            y = x.copy()
            return (y,), {"out": y}
        if layout == "out":
            return (x.copy(),), {"out": np.full_like(x, 7)}
        if layout == "strided":
            y = np.repeat(x, 2)[::2]
            return (y,), {}
        if layout == "reversed":
            return (x[::-1].copy()[::-1],), {}
        if layout == "2d_f":
            n = len(x) - len(x) % 2
            return (np.asfortranarray(x[:n].reshape(2, -1)),), {}
        raise AssertionError(layout)

    def gf(*a, **k):
        return gilfree.square(*a, **k, threads=threads)

    ref = observe(np.square, prepare, errstate)
    got = observe(gf, prepare, errstate)
    assert_same_observation(ref, got)
    return ref


# ------------------------------------------------------------------ grid


@pytest.mark.parametrize("errstate", ERRSTATES, ids=ES_IDS)
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_matches_np_square(dt, errstate):
    for name, x in specials(dt).items():
        try:
            compare(x, errstate)
        except AssertionError as e:
            raise AssertionError(f"case {name}: {e}") from None


@pytest.mark.parametrize("layout", ["inplace", "out", "strided", "reversed", "2d_f"])
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_layouts(dt, layout):
    for errstate in (dict(all="warn"), dict(all="raise"), dict(all="call"),
                     dict(all="ignore"), dict(over="raise", under="warn")):
        for name, x in specials(dt).items():
            try:
                compare(x, errstate, layout)
            except AssertionError as e:
                raise AssertionError(f"case {name}, {errstate}: {e}") from None


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dt", NATIVE, ids=lambda d: np.dtype(d).name)
def test_chunks_and_threads(dt, threads, small_chunks):
    """The offending values sit in different chunks of a long input, so they
    are seen by different pool threads; every thread's flags count."""
    rng = np.random.default_rng(7)
    cases = specials(dt)
    for name, bad in cases.items():
        x = rng.uniform(-2, 2, 3000).astype(dt)
        pos = np.linspace(0, len(x) - 1, len(bad)).astype(int)
        x[pos] = bad
        for errstate in (dict(all="warn"), dict(all="raise"), dict(all="call"),
                         dict(all="log"), dict(all="ignore"), dict(under="raise", over="warn")):
            for layout in ("C", "inplace", "strided"):
                try:
                    compare(x, errstate, layout, threads)
                except AssertionError as e:
                    raise AssertionError(f"case {name}, {errstate}, {layout}: {e}") from None


def test_only_the_last_chunk_flags(small_chunks):
    x = np.ones(5000)
    x[-1] = 1e300
    ref = compare(x, dict(over="raise"), threads=2)
    assert ref["exc"] == (FloatingPointError, "overflow encountered in square")
    x = np.ones(5000, np.float32)
    x[0] = 1e-30
    ref = compare(x, dict(under="call"), threads=2)
    assert ref["calls"] == [("underflow", 4)]


def test_default_errstate_warns_like_numpy():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        gilfree.square(np.array([1e200, 2.0]))
    assert [(x.category, str(x.message)) for x in w] == [
        (RuntimeWarning, "overflow encountered in square")]
    # Attributed to the caller's line, as NumPy's own warning is.
    assert w[0].filename == __file__


def test_no_flags_no_effect():
    """Ordinary input: nothing is reported whatever the mode."""
    x = np.linspace(-1e3, 1e3, 10001)
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(gilfree.square(x), np.square(x))
        np.testing.assert_array_equal(gilfree.square(x.astype(np.float32)),
                                      np.square(x.astype(np.float32)))
        gilfree.square(np.arange(-1000, 1000))  # integers never touch the FP flags


def test_seterr_is_honoured():
    old = np.seterr(over="raise")
    try:
        with pytest.raises(FloatingPointError, match="^overflow encountered in square$"):
            gilfree.square(np.array([1e300]))
    finally:
        np.seterr(**old)


def test_zero_d_and_scalars():
    for v in (np.float64(1e300), np.float32(1e30), 1e300):
        for mode in ("raise", "warn", "ignore", "call"):
            assert_same_observation(
                observe(np.square, lambda: ((v,), {}), dict(all=mode)),
                observe(gilfree.square, lambda: ((v,), {}), dict(all=mode)))


# ------------------------------------------------------- overflow= argument


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_overflow_raise_wins_over_errstate(dt):
    """overflow='raise' is an explicit request: OverflowError naming the
    element, whatever np.errstate says about overflow."""
    x = np.array([1.0, np.finfo(dt).max, 2.0], dt)
    for mode in MODES:
        with np.errstate(all=mode, call=lambda *a: None), warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(OverflowError, match="at index 1"):
                gilfree.square(x, overflow="raise")


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_overflow_raise_leaves_other_errors_to_errstate(dt):
    x = np.array([1.0, np.finfo(dt).smallest_normal, np.nan], dt)
    with np.errstate(under="raise"):
        with pytest.raises(FloatingPointError, match="^underflow encountered in square$"):
            gilfree.square(x, overflow="raise")
    with np.errstate(under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(gilfree.square(x, overflow="raise"), np.square(x))
    # NaN, inf: no flag at all (the overflow test reads bits, it does not
    # compare floats), in the vectorized loops (long inputs) too.
    for n in (1, 3, 8, 100, 1001):
        for v in (np.nan, np.inf, -np.inf, 0.0):
            with np.errstate(all="raise"):
                gilfree.square(np.full(n, v, dt), overflow="raise")


def test_overflow_wrap_is_errstate():
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            gilfree.square(np.array([1e300]), overflow="wrap")


# -------------------------------------------------------------- threads


def test_errstate_is_per_thread():
    """Two threads at once, one under over='raise', one under over='ignore',
    both splitting their call over gilfree's pool."""
    barrier = threading.Barrier(2, timeout=30)
    x = np.ones(400_000)
    x[::1000] = 1e300
    got: dict = {}

    def run(mode):
        try:
            with np.errstate(over=mode), warnings.catch_warnings():
                warnings.simplefilter("error")
                barrier.wait()
                for _ in range(5):
                    gilfree.square(x, threads=2)
                got[mode] = "ok"
        except BaseException as e:  # noqa: BLE001 - compared below
            got[mode] = type(e).__name__

    ts = [threading.Thread(target=run, args=(m,)) for m in ("raise", "ignore")]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert got == {"raise": "FloatingPointError", "ignore": "ok"}


# ------------------------------------------------------------ SIMD levels


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get("GILFREE_ERRSTATE_CHILD")), reason="in the child")
@pytest.mark.parametrize("level", [k for k, ok in _runtime.config()["simd_levels"].items() if ok])
def test_each_simd_level(level):
    env = dict(os.environ, GILFREE_SIMD=level, GILFREE_ERRSTATE_CHILD="1")
    code = textwrap.dedent(f"""
        import sys, pytest
        from gilfree import _runtime
        assert _runtime.config()["simd"] == {level!r}, _runtime.config()["simd"]
        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-x", {__file__!r},
                              "-k", "matches_np_square or chunks_and_threads or print_mode",
                              "-m", "not slow"]))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


# ----------------------------------------------------------- print mode


PRINT_SCRIPT = """
import sys, numpy as np, gilfree
from gilfree import _runtime
fn = np.square if sys.argv[1] == "numpy" else gilfree.square
x = np.ones(2000, dtype=sys.argv[2])
fi = np.finfo(x.dtype)
x[5], x[1500], x[700] = fi.max, fi.smallest_normal, np.nan
with _runtime.tuning(chunk_bytes=64), np.errstate(all="print"):
    fn(x)
    fn(x[::2])
"""


@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "longdouble"])
def test_print_mode(dt):
    outs = []
    for which in ("numpy", "gilfree"):
        r = subprocess.run([sys.executable, "-c", PRINT_SCRIPT, which, dt],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append((r.stdout, r.stderr))
    assert outs[0] == outs[1]
    # NumPy's 'print' writes to C's stderr.
    assert outs[0][1].splitlines() == ["Warning: overflow encountered in square",
                                       "Warning: underflow encountered in square",
                                       "Warning: underflow encountered in square"]


# --------------------------------------------------------- sum_of_squares


def test_sum_of_squares_overflow_like_np_dot():
    """An overflow of the float64 accumulation (a square or the sum of finite
    values) is reported like np.dot(x, x) reports it."""
    cases = [np.array([1e200, 1.0]), np.array([1e154] * 8), np.array([1.0, 1e300, np.inf]),
             np.full((3, 4), 1e160)]
    for x in cases:
        for mode in MODES:
            flat = x.ravel()
            ref = observe(np.dot, lambda: ((flat, flat), {}), dict(over=mode))
            got = observe(gilfree.sum_of_squares, lambda: ((x,), {}), dict(over=mode))
            for key in ("warnings", "exc", "calls", "log"):
                assert ref[key] == got[key], (x, mode, key, ref[key], got[key])
            if got["exc"] is None:
                assert not np.isfinite(got["result"])


def test_sum_of_squares_silent_cases():
    """No overflow in the float64 accumulation: nothing is reported (tiny
    squares round, inf/nan inputs propagate, float32 squares fit)."""
    cases = [np.array([1e-200, 1e-310, 5e-324]), np.array([np.inf, 2.0]), np.array([np.nan]),
             np.array([-np.inf, np.inf]), np.array([3e38, 3e38], np.float32),
             np.array([60000.0], np.float16)]
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in cases:
            gilfree.sum_of_squares(x)


def test_sum_of_squares_longdouble_overflow():
    x = np.array([np.finfo(np.longdouble).max, 1.0], np.longdouble)
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError, match="^overflow encountered in dot$"):
            gilfree.sum_of_squares(x)
    with np.errstate(over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gilfree.sum_of_squares(x) == np.inf


# ------------------------------------------------------------------ dask


def test_dask_square_follows_the_computing_threads_errstate():
    da = pytest.importorskip("dask.array")
    import gilfree.dask

    x = np.ones(40)
    x[3] = x[25] = 1e300
    d = da.from_array(x, chunks=10)
    for mode, sched in [(m, s) for m in ("raise", "ignore", "call", "warn")
                        for s in ("sync", "threads")]:
        ref = observe(lambda: da.square(d).compute(scheduler=sched), lambda: ((), {}),
                      dict(over=mode))
        got = observe(lambda: gilfree.dask.square(d).compute(scheduler=sched),
                      lambda: ((), {}), dict(over=mode))
        for key in ("warnings", "exc", "calls", "log"):
            if key == "warnings":
                # Both warn from inside Dask's code; compare category and text.
                assert [w[:2] for w in ref[key]] == [w[:2] for w in got[key]], (mode, sched)
            else:
                assert ref[key] == got[key], (mode, sched, key)
