"""Hostile and unlucky inputs, each as a class of inputs on every API path.

In-place calls with overflow='raise' (the input must still be there to name
the element), dtypes that describe more than one number per element, the
longest ranges and ranges whose terms leave int64 in intermediate products,
byte-swapped outputs, long chunks of small integers, fork from a signal
handler or another thread in the middle of a parallel call, and the rule
that decides which float sums are bit-identical.
"""

from __future__ import annotations

import array
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gilfree
from gilfree import _reference, _runtime
from gilfree import buffer as gbuffer

NATIVE = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64"]
NUMPY_LOOP = ["float16", "complex64", "complex128", "longdouble", "clongdouble"]


def _bad_value(dt: np.dtype):
    """A value of `dt` whose square overflows it."""
    if dt.kind in "iu":
        return np.iinfo(dt).max
    if dt.kind == "c":
        return np.finfo(dt).max * (1 + 0j)
    return np.finfo(dt).max


def _expected_message(index, value, dt: np.dtype) -> str:
    with pytest.raises(OverflowError) as exc:
        _reference.square(np.array([value], dt), overflow="raise")
    # the reference names index 0 of its one-element array; put ours in
    return str(exc.value).replace("at index 0", f"at index {index}")


# ------------------------------------------------- in place, overflow='raise'
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n, k", [(1, 0), (7, 5), (3 * gilfree._runtime.CHUNK + 5, 2 * gilfree._runtime.CHUNK + 1)])
@pytest.mark.parametrize("dtype", NATIVE + NUMPY_LOOP)
def test_in_place_overflow_names_the_input(dtype, n, k, threads):
    dt = np.dtype(dtype)
    x = np.ones(n, dt)
    x[k] = _bad_value(dt)
    want = _expected_message(k, x[k].item(), dt)
    with pytest.raises(OverflowError) as exc:
        gilfree.square(x, out=x, threads=threads, overflow="raise")
    assert str(exc.value) == want


@pytest.mark.parametrize("dtype", NATIVE + NUMPY_LOOP)
def test_overlapping_out_overflow_names_the_input(dtype):
    dt = np.dtype(dtype)
    base = np.ones(12, dt)
    base[3] = _bad_value(dt)
    x = base[:8]
    want = _expected_message(3, base[3].item(), dt)
    with pytest.raises(OverflowError) as exc:
        gilfree.square(x, out=base[2:10], overflow="raise")  # out overlaps x, shifted
    assert str(exc.value) == want


def test_in_place_overflow_2d_index():
    x = np.ones((3, 4), np.float32, order="F")
    x[2, 1] = 2.0**100
    with pytest.raises(OverflowError, match=r"at index \(2, 1\): 1\.2676506002282294e\+30\*\*2"):
        gilfree.square(x, out=x, overflow="raise")


BUFFER_CODES = {"b": "int8", "h": "int16", "i": "int32", "q": "int64", "B": "uint8",
                "H": "uint16", "I": "uint32", "Q": "uint64", "f": "float32", "d": "float64"}


@pytest.mark.parametrize("n, k", [(1, 0), (9, 7), (70000, 65537)])
@pytest.mark.parametrize("code", BUFFER_CODES)
def test_buffer_in_place_overflow_names_the_input(code, n, k):
    dt = np.dtype(BUFFER_CODES[code])
    a = array.array(code, [1] * n)
    bad = np.asarray(_bad_value(dt)).item()
    a[k] = bad
    want = _expected_message(k, bad, dt)
    with pytest.raises(OverflowError) as exc:
        gbuffer.square(a, out=a, overflow="raise")
    assert str(exc.value) == want
    # strided views of a buffer, in place
    b = array.array(code, [1] * (2 * n))
    b[2 * k] = bad
    view = memoryview(b)[::2]
    with pytest.raises(OverflowError) as exc:
        gbuffer.square(view, out=view, overflow="raise")
    assert str(exc.value) == want


@given(st.sampled_from(NATIVE), st.lists(st.integers(-(2**64), 2**64), min_size=1, max_size=40),
       st.booleans())
def test_in_place_raise_matches_the_reference(dtype, values, in_place):
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        x = np.array([min(max(v, int(info.min)), int(info.max)) for v in values], dt)
    else:
        x = np.array([float(v) * 1e140 if dt == np.float64 else float(v) * 1e10 for v in values],
                     dt)
    try:
        _reference.square(x, overflow="raise")
        want = None
    except OverflowError as e:
        want = str(e)
    y = x.copy()
    try:
        gilfree.square(y, out=y if in_place else None, overflow="raise")
        got = None
    except OverflowError as e:
        got = str(e)
    assert got == want


# ------------------------------------------------ dtypes that are not numbers
@pytest.mark.parametrize("dtype", [
    np.dtype((np.int64, (2,))), np.dtype((np.float32, (2, 2))),
    np.dtype([("a", np.int32), ("b", np.float64)]), np.dtype([("a", np.int64)]),
    "U3", "S4", "O", "M8[s]", "m8[s]", "bool", "float16", "complex128", "longdouble",
    "V8",
])
def test_squares_range_rejects_non_numeric_dtypes(dtype):
    with pytest.raises(TypeError, match="`dtype` must be one of"):
        gilfree.squares_range(4, dtype=dtype)


# ------------------------------------------------------------ extreme ranges
EXTREME_RANGES = [
    (-(2**63), 2**63 - 1, 2**46),
    (-(2**63), 2**63 - 1, 2**62),
    (2**63 - 1, -(2**63), -(2**46) - 3),
    (-(2**63), -(2**63) + 10, 1),
    (2**63 - 10, 2**63 - 1, 1),
    (0, 2**63 - 1, 2**62),
    (-(2**63), 2**63 - 1, 2**63 - 1),
    (2**63 - 1, -(2**63), -(2**63)),
]


@pytest.mark.thread_unsafe(reason="sets the process-wide chunk sizes")
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("r", EXTREME_RANGES)
def test_extreme_ranges(r, threads):
    # Chunks of 7 terms, so chunk starts land everywhere in the range.
    with _runtime.tuning(range_chunk=7, chunk_bytes=8):
        assert gilfree.sum_squares_range(*r, threads=threads) == _reference.sum_squares_range(*r)
        assert gbuffer.sum_squares_range(*r) == _reference.sum_squares_range(*r)
        for dt in ("int64", "uint32", "int8", "float64"):
            got = gilfree.squares_range(*r, dtype=dt, threads=threads)
            np.testing.assert_array_equal(got, _reference.squares_range(*r, dtype=dt))


def test_openmp_ranges():
    omp = pytest.importorskip("gilfree._openmp")
    if not getattr(omp, "available", False):
        pytest.skip("no OpenMP in this build")
    assert omp.sum_squares_range(0, 2**63 - 1, 2**62, 2) == 2**124
    for r in EXTREME_RANGES:
        assert omp.sum_squares_range(*r, 2) == _reference.sum_squares_range(*r)
    with pytest.raises(ValueError, match="`step` must not be zero"):
        omp.sum_squares_range(0, 10, 0, 2)
    with pytest.raises(ValueError, match="`stop` must fit in int64"):
        omp.sum_squares_range(0, 2**63, 1, 2)


def test_range_of_the_longest_length_plans():
    # 2**63 - 1 terms: the length arithmetic must not overflow (it starts and
    # is stopped by Ctrl-C in test_interrupt.py); a smaller version of the
    # same shape runs here in full across several rounds.
    n = 3 * int(_runtime.config()["round_chunks"]) + 11
    with _runtime.tuning(range_chunk=1):
        for threads in (1, 2):
            assert gilfree.sum_squares_range(-5, n - 5, threads=threads) == \
                _reference.sum_squares_range(-5, n - 5)
        assert gbuffer.sum_squares_range(-5, n - 5) == _reference.sum_squares_range(-5, n - 5)


def _neumaier(values) -> float:
    s = c = 0.0
    for v in values:
        t = s + v
        c += (s - t) + v if abs(s) >= abs(v) else (v - t) + s
        s = t
    return s + c


@pytest.mark.parametrize("threads", [1, 2])
def test_rounds_change_no_float_result(threads):
    # One element per chunk: each partial is x*x exactly, and the partials of
    # several rounds go through one running compensated sum.
    n = 2 * int(_runtime.config()["round_chunks"]) + 3
    x = np.random.default_rng(5).standard_normal(n) * 10.0 ** np.arange(n % 7 - 3, n % 7 + 4).repeat(n // 7 + 1)[:n]
    want = _neumaier((x * x).tolist())
    with _runtime.tuning(chunk_bytes=8):
        assert gilfree.sum_of_squares(x, threads=threads) == want
        assert gbuffer.sum_of_squares(array.array("d", x.tolist())) == want
        exact = sum(int(v) ** 2 for v in (x * 1000).astype(np.int64))
        assert gilfree.sum_of_squares((x * 1000).astype(np.int64), threads=threads) == exact


# ------------------------------------------------------- byte-swapped `out`
@pytest.mark.parametrize("swap_x", [False, True])
@pytest.mark.parametrize("dtype", NATIVE + ["float16", "complex128"])
def test_byte_swapped_out(dtype, swap_x):
    dt = np.dtype(dtype)
    sw = dt.newbyteorder("S")
    x = np.arange(11).astype(sw if swap_x else dt)
    out = np.empty(11, sw)
    got = gilfree.square(x, out=out)
    assert got is out
    np.testing.assert_array_equal(out, np.square(x.astype(dt)))
    assert out.dtype == sw


# ------------------------------------------- small integers in long chunks
@pytest.mark.slow
def test_uint16_sum_over_a_chunk_longer_than_2_32():
    n = 2**32 + 2**18  # 65535**2 * n passes 2**64
    x = np.broadcast_to(np.uint16(65535), (n,))
    with _runtime.tuning(chunk_bytes=2**40):  # one chunk of all n terms
        assert gilfree.sum_of_squares(x, threads=1) == 65535**2 * n


def test_small_int_sums_in_long_chunks_are_exact():
    rng = np.random.default_rng(3)
    for dt in ("int8", "uint8", "int16", "uint16"):
        info = np.iinfo(dt)
        x = rng.integers(int(info.min), int(info.max) + 1, size=3 * 2**20 + 17, dtype=dt)
        want = int((x.astype(object) ** 2).sum())
        with _runtime.tuning(chunk_bytes=2**40):
            assert gilfree.sum_of_squares(x, threads=1) == want
            assert gilfree.sum_of_squares(x[::-3], threads=1) == int((x[::-3].astype(object) ** 2).sum())


# ---------------------------------------------------- float order, the rule
def test_float_sum_depends_on_the_read_order_only():
    rng = np.random.default_rng(11)
    c = rng.standard_normal((300, 701)) * np.logspace(-8, 8, 701)
    f = np.asfortranarray(c)
    # x and x.T share memory order: identical bits
    assert gilfree.sum_of_squares(c) == gilfree.sum_of_squares(c.T)
    assert gilfree.sum_of_squares(f) == gilfree.sum_of_squares(f.T)
    # an F-ordered array reads like its flat memory, i.e. like f.T in C order
    assert gilfree.sum_of_squares(f) == gilfree.sum_of_squares(np.ascontiguousarray(f.T))
    # a non-contiguous view reads in C order, like its C-ordered copy
    v = c[::2, ::3]
    assert gilfree.sum_of_squares(v) == gilfree.sum_of_squares(np.ascontiguousarray(v))


# ----------------------------------------------------------- fork at any moment
FORK_IN_HANDLER = """
import os, signal, sys
import numpy as np
import gilfree
from gilfree import _reference

def call():
{call}

forked = []
def handler(*a):
    forked.append(os.fork())
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, {delay})
try:
    got = call()
    err = None
except RuntimeError as e:
    got, err = None, str(e)
# a call that ended before the timer: disarm it, or it fires during the exit,
# after Python has put SIGALRM's default action (terminate) back
signal.setitimer(signal.ITIMER_REAL, 0)
if not forked:
    print("NO-FORK")
    sys.exit(0)
if forked[0] == 0:  # the child: finish, then check the result
    if err is not None:
        print("CHILD-ERROR", err, flush=True)
        os._exit(4 if "forked" in err else 5)
    os._exit(0 if check(got) else 3)
_, status = os.waitpid(forked[0], 0)
print("PARENT", check(got), "CHILD", os.waitstatus_to_exitcode(status))
"""

FORK_CASES = {
    "sum_squares_range": (
        "    return gilfree.sum_squares_range(2**40, 2**40 + 10**9, threads=2)",
        "def check(v): return v == _reference.sum_squares_range(2**40, 2**40 + 10**9)",
    ),
    "sum_of_squares": (
        "    return gilfree.sum_of_squares(np.broadcast_to(np.int64(3), (2**31,)), threads=2)",
        "def check(v): return v == 9 * 2**31",
    ),
    "square": (
        "    global X\n    X = np.arange(6 * 10**7, dtype=np.float64)\n"
        "    return gilfree.square(X, threads=2)",
        "def check(v): return v is not None and np.array_equal(v, X * X)",
    ),
    "squares_range": (
        "    return gilfree.squares_range(6 * 10**7, dtype=np.float64, threads=2)",
        "def check(v): return v is not None and np.array_equal(v, np.arange(6 * 10**7, dtype=np.float64) ** 2)",
    ),
}


@pytest.mark.thread_unsafe(reason="forks and uses signals")
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
@pytest.mark.parametrize("case", FORK_CASES)
def test_fork_in_a_signal_handler_mid_call(case):
    call, check = FORK_CASES[case]
    script = FORK_IN_HANDLER.format(call=call, delay=0.05) + "\n"
    script = script.replace("def call():", check + "\n\ndef call():", 1)
    try:
        r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=120)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{case}: hung after a fork from a signal handler: {exc.stdout!r}")
    assert r.returncode == 0, r.stdout + r.stderr
    if "NO-FORK" in r.stdout:
        pytest.skip("the call ended before the timer fired")
    assert "PARENT True CHILD 0" in r.stdout, r.stdout + r.stderr


@pytest.mark.thread_unsafe(reason="forks and uses signals")
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_fork_in_a_signal_handler_mid_in_place_square():
    # In place, some chunks may already be squared when the child takes over:
    # the child gets a clear RuntimeError, never a hang or a wrong array.
    call = ("    global X\n    X = np.arange(8 * 10**7, dtype=np.float64)\n"
            "    gilfree.square(X, out=X, threads=2)\n    return X")
    check = ("def check(v): return v is not None and np.array_equal(v, "
             "np.arange(8 * 10**7, dtype=np.float64) ** 2)")
    script = FORK_IN_HANDLER.format(call=call, delay=0.03)
    script = script.replace("def call():", check + "\n\ndef call():", 1)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    if "NO-FORK" in r.stdout:
        pytest.skip("the call ended before the timer fired")
    assert "PARENT True" in r.stdout, r.stdout
    # the child either finished before any helper took a chunk (exit 0) or
    # said why it could not
    assert "CHILD 0" in r.stdout or ("CHILD 4" in r.stdout and "CHILD-ERROR" in r.stdout), r.stdout


@pytest.mark.thread_unsafe(reason="forks")
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_fork_from_another_thread_mid_call():
    script = textwrap.dedent("""
        import os, threading, time
        import numpy as np
        import gilfree
        from gilfree import _reference
        done = []
        def long_call():
            done.append(gilfree.sum_squares_range(10**9, threads=2))
        t = threading.Thread(target=long_call)
        t.start()
        time.sleep(0.05)
        pid = os.fork()
        if pid == 0:
            ok = (gilfree.sum_squares_range(10**7, threads=2) == _reference.sum_squares_range(10**7)
                  and gilfree.sum_of_squares(np.arange(10**6), threads=2) == _reference.sum_squares_range(10**6))
            os._exit(0 if ok else 3)
        _, st = os.waitpid(pid, 0)
        t.join()
        print("CHILD", os.waitstatus_to_exitcode(st), "PARENT", done[0] == _reference.sum_squares_range(10**9))
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "CHILD 0 PARENT True" in r.stdout, r.stdout + r.stderr
