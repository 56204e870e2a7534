"""gilfree.buffer: the NumPy-free kernels on buffer-protocol objects, and
``import gilfree`` inside subinterpreters with their own GIL (PEP 684/734).

The buffer functions are checked against NumPy and exact Python integers on
every dtype, strided and reversed views, in place, and bad input.  The
subinterpreter tests need CPython 3.12+ (``_interpreters`` or
``_xxsubinterpreters``); ``tools/subinterp-check.sh`` runs this file on the
machine's CPython 3.13 when the suite's interpreter is older.
"""

from __future__ import annotations

import array
import sys
import sysconfig
import textwrap
import threading

import numpy as np
import pytest

import gilfree
from gilfree import buffer

TYPECODES = {"b": "int8", "h": "int16", "i": "int32", "q": "int64", "B": "uint8",
             "H": "uint16", "I": "uint32", "Q": "uint64", "f": "float32", "d": "float64"}
SIZES = (0, 1, 2, 511, 512, 16383, 16384, 16385, 70001)


def values(code: str, n: int, seed: int = 0) -> array.array:
    rng = np.random.default_rng([seed, n, ord(code)])
    dt = np.dtype(TYPECODES[code])
    if dt.kind == "f":
        x = (rng.standard_normal(n) * 100).astype(dt)
    else:
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, size=n, dtype=dt, endpoint=True)
    return array.array(code, x.tobytes())


@pytest.mark.parametrize("code", list(TYPECODES))
def test_square_matches_numpy(code):
    for n in SIZES:
        a = values(code, n)
        want = np.square(np.frombuffer(a, TYPECODES[code]))
        got = buffer.square(a)
        assert isinstance(got, array.array) and got.typecode == code
        np.testing.assert_array_equal(np.frombuffer(got, TYPECODES[code]), want, strict=True)
        # strided and reversed views, without copies, into a strided out
        for view in (memoryview(a)[::3], memoryview(a)[::-1], memoryview(a)[::-2]):
            k = len(view)
            out = array.array(code, bytes(2 * k * a.itemsize))
            r = buffer.square(view, memoryview(out)[::2])
            assert r.obj is out
            exp = np.square(np.asarray(view))
            np.testing.assert_array_equal(np.frombuffer(out, TYPECODES[code])[::2], exp, strict=True)
            assert not np.frombuffer(out, TYPECODES[code])[1::2].any()  # gaps untouched
        # in place, and a NumPy array through its buffer
        b = array.array(code, a)
        assert buffer.square(b, b) is b
        np.testing.assert_array_equal(np.frombuffer(b, TYPECODES[code]), want, strict=True)
        x = np.frombuffer(a, TYPECODES[code]).copy()
        buffer.square(x, x)
        np.testing.assert_array_equal(x, want, strict=True)


@pytest.mark.parametrize("code", list(TYPECODES))
def test_sum_of_squares_exact_and_same_bits_as_gilfree(code):
    for n in SIZES:
        a = values(code, n, seed=1)
        x = np.frombuffer(a, TYPECODES[code])
        got = buffer.sum_of_squares(a)
        if x.dtype.kind == "f":
            assert type(got) is float
            # the same kernels and the same chunks: the same bits
            assert got == gilfree.sum_of_squares(x)
            assert buffer.sum_of_squares(memoryview(a)[::-1]) == gilfree.sum_of_squares(x[::-1])
        else:
            assert type(got) is int
            assert got == sum(v * v for v in x.tolist())
            assert buffer.sum_of_squares(memoryview(a)[::3]) == sum(v * v for v in x[::3].tolist())


def test_sum_squares_range_like_gilfree():
    for args in [(0,), (10**6,), (-5, 7), (10, -10, -3), (2**62, 2**62 + 1000, 7),
                 (-(2**63), -(2**63) + 5), (5, 5), (0, 10**7 + 3, 1)]:
        got = buffer.sum_squares_range(*args)
        assert type(got) is int and got == gilfree.sum_squares_range(*args)
        r = range(*args)
        if len(r) <= 2 * 10**6:
            assert got == sum(i * i for i in r)


def _misaligned(code, n, byte_offset, seed=2):
    """A writeable memoryview of n `code` items starting `byte_offset` bytes
    past an itemsize boundary (the buffer protocol allows it; the kernels
    need aligned items, so gilfree.buffer must copy)."""
    a = values(code, n, seed)
    raw = bytearray(len(a) * a.itemsize + 16)
    base = (-np.frombuffer(raw, np.uint8).ctypes.data) % 16  # 16-byte boundary
    start = base + byte_offset
    raw[start:start + len(a) * a.itemsize] = a.tobytes()
    return memoryview(raw)[start:start + len(a) * a.itemsize].cast(code), a


@pytest.mark.parametrize("code", [c for c in TYPECODES if array.array(c).itemsize > 1])
def test_misaligned_buffers_give_the_aligned_results(code):
    """Items that straddle their natural alignment: the result of the same
    values aligned, for x, out, both, in place and strided views."""
    dt = TYPECODES[code]
    isz = array.array(code).itemsize
    for n in (1, 2, 255, 16385):
        for off in range(1, isz):
            x, a = _misaligned(code, n, off)
            want = np.square(np.frombuffer(a, dt))
            np.testing.assert_array_equal(np.frombuffer(buffer.square(x), dt), want, strict=True)
            for out_off in (0, isz - off):
                out, _ = _misaligned(code, n, out_off, seed=3)
                buffer.square(x, out)
                np.testing.assert_array_equal(np.frombuffer(out, dt), want, strict=True)
            np.testing.assert_array_equal(np.frombuffer(x, dt), np.frombuffer(a, dt))  # x kept
            assert buffer.sum_of_squares(x) == buffer.sum_of_squares(a)
            assert buffer.sum_of_squares(x[::-3]) == buffer.sum_of_squares(memoryview(a)[::-3])
            buffer.square(x, x)
            np.testing.assert_array_equal(np.frombuffer(x, dt), want, strict=True)


def test_misaligned_overflow_raise_names_the_index():
    x, _ = _misaligned("h", 5, 1)
    x[:] = array.array("h", [1, 2, 200, 3, 300])
    with pytest.raises(OverflowError, match=r"index 2: 200\*\*2 = 40000 does not fit in int16"):
        buffer.square(x, x, overflow="raise")


def test_c_contiguous_2d_is_taken_flat():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    out = np.zeros_like(x)
    buffer.square(x, out)
    np.testing.assert_array_equal(out, x * x)
    assert buffer.sum_of_squares(x) == int((x.astype(np.int64) ** 2).sum())


def test_overflow_raise_names_the_first_index():
    a = array.array("h", [1, 2, 200, 3, 300])
    with pytest.raises(OverflowError, match=r"index 2: 200\*\*2 = 40000 does not fit in int16"):
        buffer.square(a, overflow="raise")
    f = array.array("f", [1.0, 2e20, 3e30])
    with pytest.raises(OverflowError, match=r"index 1: .*not finite in float32"):
        buffer.square(f, overflow="raise")
    assert list(buffer.square(array.array("b", [-11, 11]), overflow="raise")) == [121, 121]
    assert list(buffer.square(array.array("b", [-12]))) == [-112]  # wraps like NumPy


@pytest.mark.parametrize("bad, exc, match", [
    (object(), TypeError, r"`x` must support the buffer protocol .* got object"),
    ([1, 2], TypeError, r"`x` must support the buffer protocol"),
    (np.array([True]), TypeError, r"`x` must be a buffer of int8-int64.*format '\?'"),
    (np.array([1.0], np.float16), TypeError, r"format 'e'"),
    (np.array([1j]), TypeError, r"format 'Zd'"),
    (np.array([1.0], ">f8"), TypeError, r"native-endian"),
    (np.arange(12.0).reshape(3, 4)[:, ::2], TypeError, r"1-D or C-contiguous"),
])
def test_bad_x(bad, exc, match):
    with pytest.raises(exc, match=match):
        buffer.square(bad)
    with pytest.raises(exc, match=match):
        buffer.sum_of_squares(bad)


def test_bad_out_and_arguments():
    a = array.array("d", [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"`out` must be a writeable buffer"):
        buffer.square(a, bytes(24))
    with pytest.raises(TypeError, match=r"`out` must hold float64 like `x`, got int64"):
        buffer.square(a, array.array("q", [0, 0, 0]))
    with pytest.raises(ValueError, match=r"`out` must have the length of `x`, 3, got 2"):
        buffer.square(a, array.array("d", [0, 0]))
    big = array.array("d", range(10))
    with pytest.raises(ValueError, match=r"overlaps `x` partially"):
        buffer.square(memoryview(big)[0:5], memoryview(big)[1:6])
    with pytest.raises(ValueError, match=r"`overflow` must be 'wrap' or 'raise', got 'clip'"):
        buffer.square(a, overflow="clip")
    with pytest.raises(ValueError, match=r"`step` must not be zero"):
        buffer.sum_squares_range(0, 10, 0)
    with pytest.raises(TypeError, match=r"`stop` must be an int, got float"):
        buffer.sum_squares_range(0, 1.5)
    with pytest.raises(ValueError, match=r"`start` must fit in int64"):
        buffer.sum_squares_range(2**63, 2**63 + 1)
    assert list(a) == [1.0, 2.0, 3.0]  # no call above wrote anything


# ------------------------------------------------------------ subinterpreters

def _interp_module():
    try:
        import _interpreters as interp  # 3.13+
        return interp
    except ImportError:
        return None


_FT_313 = bool(sysconfig.get_config_var("Py_GIL_DISABLED")) and sys.version_info < (3, 14)
needs_subinterpreters = pytest.mark.skipif(
    _interp_module() is None or _FT_313,
    reason="needs CPython 3.13+ with the GIL (_interpreters); on 3.13t subinterpreters can "
           "livelock (see docs/freethreading.md); tools/subinterp-check.sh runs this on 3.13")

_CHILD = """
import sys, array
import gilfree
assert "numpy" not in sys.modules, "numpy was imported in the subinterpreter"
assert sorted(gilfree.__all__) == ["__version__", "square", "sum_of_squares", "sum_squares_range"]
a = array.array("q", [2**62, -3, 5])
assert gilfree.sum_of_squares(a) == 2**124 + 34
assert list(gilfree.square(array.array("i", [1, -2, 3]))) == [1, 4, 9]
assert gilfree.sum_of_squares(memoryview(array.array("d", [0.5, 1.5, 2.5]))[::2]) == 6.5
r = gilfree.sum_squares_range({a}, {b})
with open({path!r}, "w") as f:
    f.write(str(r))
"""


def _run_in_new_interpreter(interp, code: str):
    iid = interp.create()  # 'isolated' config: its own GIL
    try:
        err = interp.exec(iid, code)
    finally:
        interp.destroy(iid)
    if err is not None:
        raise AssertionError(getattr(err, "errdisplay", err))


@needs_subinterpreters
@pytest.mark.thread_unsafe(reason="creates subinterpreters that import gilfree")
def test_import_gilfree_in_a_subinterpreter_with_its_own_gil(tmp_path):
    interp = _interp_module()
    cfg = interp.new_config("isolated")
    assert cfg.gil == "own" and cfg.check_multi_interp_extensions
    path = str(tmp_path / "r.txt")
    _run_in_new_interpreter(interp, textwrap.dedent(_CHILD.format(a=0, b=10**6, path=path)))
    with open(path) as f:
        assert int(f.read()) == sum(i * i for i in range(10**6))


@needs_subinterpreters
@pytest.mark.thread_unsafe(reason="creates subinterpreters that import gilfree")
def test_two_subinterpreters_at_once_split_a_range(tmp_path):
    """Two threads, each running its own subinterpreter (own GIL) on half the
    range: both import gilfree and the halves add up exactly."""
    interp = _interp_module()
    n = 3 * 10**7
    errors = []

    def run(k, a, b):
        try:
            _run_in_new_interpreter(interp, textwrap.dedent(
                _CHILD.format(a=a, b=b, path=str(tmp_path / f"{k}.txt"))))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(0, 0, n // 2)),
               threading.Thread(target=run, args=(1, n // 2, n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    total = sum(int((tmp_path / f"{k}.txt").read_text()) for k in (0, 1))
    assert total == gilfree.sum_squares_range(n) == (n - 1) * n * (2 * n - 1) // 6


@pytest.mark.thread_unsafe(reason="starts subprocesses")
def test_gilfree_simd_is_honoured_by_every_kernel_path():
    """GILFREE_SIMD picks the level for gilfree.buffer and the OpenMP row too,
    by the same rule as the NumPy API (an invalid value: the best level)."""
    import os
    import subprocess
    import sys

    from gilfree import _runtime

    code = ("import warnings; warnings.simplefilter('ignore')\n"
            "import gilfree, gilfree.buffer\n"
            "from gilfree import _buffer\n"
            "try:\n    from gilfree import _openmp; omp = _openmp._simd_level()\n"
            "except ImportError:\n    omp = None\n"
            "from gilfree import _runtime\n"
            "print(_runtime.config()['simd'], _buffer._simd_level(), omp)\n")
    levels = [name for name, ok in _runtime.config()["simd_levels"].items() if ok]
    best = _runtime.config()["simd"] if not os.environ.get("GILFREE_SIMD") else None
    for request in levels + ["no-such-level"]:
        env = dict(os.environ, GILFREE_SIMD=request)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=120, check=True).stdout.split()
        want = request if request in levels else (best or out[0])
        assert out[0] == want and out[1] == want, (request, out)
        assert out[2] in (want, "None"), (request, out)
