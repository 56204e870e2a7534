"""The float sum of squares at every SIMD level: the same bits at every
level and thread count, for every length, tail, alignment offset, stride,
chunk edge and special value; and at least as accurate as NumPy's pairwise
``np.sum`` against ``math.fsum``.

Each compiled level is forced in a child process (``GILFREE_SIMD``), which
rebuilds the same seeded cases, sums each with 1, 2 and 3 threads, (1-D
cases) through ``gilfree.buffer``, and with the streaming threshold set to 0
(it must not change a sum), and prints every result as
``float.hex``
(so NaN compares as text, and a difference in the last bit is caught)."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import gilfree
import gilfree.buffer
from gilfree import _runtime
from gilfree import _reference as ref

# Cases that overflow float64 report it like np.dot(x, x) does (a warning
# under NumPy's default errstate); these tests check values, not warnings.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in dot:RuntimeWarning")

# The cases, as source: the child processes exec the same text, so every
# level sees the same arrays.  Chunk edges of a reduction: GF_SPREAD_REDUCE
# (8) chunks of at least 16 KiB, or 512 KiB chunks beyond 8 of them.
_CASES = r"""
import numpy as np

def _at(values, dtype, off):
    # `values` as `dtype` starting `off` elements past a 64-byte boundary
    isz = np.dtype(dtype).itemsize
    raw = np.empty(len(values) * isz + 128, np.uint8)
    a = (-raw.ctypes.data) % 64 + off * isz
    x = raw[a:a + len(values) * isz].view(dtype)
    with np.errstate(over="ignore"):  # float32: 1.5e154 becomes inf
        x[...] = values
    return x

def _values(rng, n, kind):
    if kind == "normal":
        return rng.standard_normal(n)
    if kind == "wide":  # squares from subnormal to 1e260
        return rng.standard_normal(n) * np.exp(rng.uniform(-300, 300, n))
    if kind == "huge":  # squares overflow to inf in some lanes only
        v = rng.standard_normal(n)
        v[rng.integers(0, n, 3)] = 1.5e154
        return v
    v = rng.standard_normal(n)  # "special": NaN, inf, -inf, tiny, max
    if n:
        v[rng.integers(0, n)] = [np.nan, np.inf, -np.inf, 5e-324, 1.7e308][n % 5]
    return v

def cases():
    rng = np.random.default_rng(20261201)
    lens = [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 255, 256, 257, 511, 512,
            513, 1000, 2047, 2048, 2049, 8 * 2048 - 1, 8 * 2048 + 1, 8 * 65536 - 1,
            8 * 65536 + 257, 9 * 65536 + 3]
    for dt in (np.float64, np.float32):
        for n in lens:
            offs = range(64 // np.dtype(dt).itemsize) if n in (257, 1000, 2049) else (0, 1, 3)
            for off in offs:
                yield f"{np.dtype(dt).name} n={n} off={off}", _at(_values(rng, n, "normal"), dt, off)
        for n in (1, 5, 40, 256, 300, 1000, 4099, 70001):
            for kind in ("wide", "huge", "special"):
                v = _values(rng, n, kind)
                if dt == np.float32 and kind == "wide":
                    v = np.clip(v, -3e38, 3e38)
                yield f"{np.dtype(dt).name} n={n} {kind}", _at(v, dt, n % 5)
        base = rng.standard_normal(3 * 4099 + 2).astype(dt)
        yield f"{np.dtype(dt).name} step 2", base[::2]
        yield f"{np.dtype(dt).name} step -3", base[::-3]
        yield f"{np.dtype(dt).name} 2-D rows", base[:4099 * 3].reshape(3, 4099)[:, 1:]
        yield f"{np.dtype(dt).name} F order", np.asfortranarray(base[:299 * 41].reshape(299, 41))
        for n in (255, 256, 1000, 4099):  # not itemsize-aligned: byte offsets 1-3
            for boff in (1, 2, 3):
                raw = np.zeros(n * np.dtype(dt).itemsize + 8, np.uint8)
                x = raw[boff:boff + n * np.dtype(dt).itemsize].view(dt)
                x[...] = rng.standard_normal(n)
                yield f"{np.dtype(dt).name} n={n} byte offset {boff}", x
"""

_PROBE = _CASES + r"""
import sys, gilfree, gilfree.buffer
out = []
with np.errstate(over="ignore"):  # overflowing cases warn like np.dot
    for label, x in cases():
        bits = [gilfree.sum_of_squares(x, threads=t).hex() for t in (1, 2, 3)]
        if x.ndim == 1:  # gilfree.buffer: the buffer's own memory, one thread
            bits.append(gilfree.buffer.sum_of_squares(x).hex())
        with gilfree._runtime.tuning(stream_min=0):  # every input past the streaming threshold
            bits += [gilfree.sum_of_squares(x, threads=t).hex() for t in (1, 2)]
        out.append((label, bits))
print(repr((gilfree._runtime.config()["simd"], out)))
"""


def _cases():
    ns: dict = {}
    exec(_CASES, ns)
    return list(ns["cases"]())


def _run_level(level):
    env = dict(os.environ, GILFREE_SIMD=level)
    r = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True,
                       timeout=300, check=True)
    got_level, rows = eval(r.stdout)  # a repr of str and lists of str
    assert got_level == level
    return rows


@pytest.mark.slow
@pytest.mark.thread_unsafe(reason="starts subprocesses with GILFREE_SIMD set")
def test_float_sum_of_squares_same_bits_at_every_level_and_thread_count():
    levels = [lv for lv, ok in _runtime.config()["simd_levels"].items() if ok]
    results = {lv: _run_level(lv) for lv in levels}
    with np.errstate(over="ignore"):  # overflowing cases warn like np.dot
        here = [(label, gilfree.sum_of_squares(x, threads=1).hex()) for label, x in _cases()]
    base = results[levels[0]]
    assert len(base) == len(here) > 250
    for lv in levels:
        for (label, bits), (label0, bits0) in zip(results[lv], base):
            assert label == label0
            assert len(set(bits)) == 1, \
                f"{lv} {label}: threads 1, 2, 3 (then gilfree.buffer for 1-D, then " \
                f"threads 1, 2 as from memory) give {bits}"
            assert bits == bits0, f"{lv} {label}: {bits[0]} but {levels[0]} gives {bits0[0]}"
    assert [(label, bits[0]) for label, bits in base] == here


def _numpy_error(x, exact):
    """|np.sum(x * x) - exact| in float64 (NumPy's pairwise sum), or None
    where it is not finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.asarray(x, dtype=np.float64)
        s = float(np.sum(y * y))
    return abs(s - exact) if math.isfinite(s) else None


def _check_accuracy(x, got, label=""):
    exact = ref.sum_of_squares(x)
    if math.isnan(exact):
        assert math.isnan(got), label
    elif math.isinf(exact):
        assert got == exact, label
    elif math.isinf(got) and exact >= sys.float_info.max - 4 * math.ulp(sys.float_info.max):
        # Within 4 ulps of the largest float, rounding may carry a partial
        # sum past it: inf is the next value after it (the 4-ulp bound).
        pass
    else:
        err = abs(got - exact)
        assert err <= 4 * math.ulp(exact), (label, got, exact)
        np_err = _numpy_error(x, exact)
        if np_err is not None:
            assert err <= np_err + math.ulp(exact), (label, got, exact, np_err)


def test_float_sum_of_squares_as_accurate_as_numpy_pairwise():
    """Every case of the level test, at this process's level, against
    math.fsum: within 4 ulps, and no further than NumPy's own error plus one
    ulp."""
    for label, x in _cases():
        _check_accuracy(x, gilfree.sum_of_squares(x, threads=2), label)


def test_float32_is_summed_in_double():
    """float32 squares are formed and summed in double: the result is that of
    the same values as float64 (one chunk: chunks hold bytes)."""
    rng = np.random.default_rng(7)
    for n in (1, 31, 32, 255, 256, 257, 1000, 2047):
        for off in range(16):
            f = rng.standard_normal(n + off).astype(np.float32)[off:]
            assert gilfree.sum_of_squares(f, threads=1) == gilfree.sum_of_squares(
                f.astype(np.float64), threads=1), (n, off)


_floats = st.one_of(
    st.floats(-1e6, 1e6, width=64),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
)


@pytest.mark.thread_unsafe(reason="sets the process-wide streaming threshold")
@given(
    dtype=st.sampled_from([np.float64, np.float32]),
    values=hnp.arrays(np.float64, st.integers(0, 1200), elements=_floats),
    off=st.integers(0, 15),
    step=st.sampled_from([1, 1, 2, 3, -1, -2]),
)
@example(dtype=np.float64, values=np.array([1.5]), off=0, step=1)
@example(dtype=np.float32, values=np.arange(257.0), off=3, step=1)
@example(dtype=np.float64, values=np.arange(600.0), off=1, step=-1)
def test_float_sum_of_squares_any_layout_and_threads(dtype, values, off, step):
    """Bit-identical for any thread count and layout (offset, stride,
    reversed), through gilfree.buffer, and in the loop for inputs larger
    than the cache; close to math.fsum."""
    with np.errstate(over="ignore", invalid="ignore"):
        v = values.astype(dtype)
    buf = np.zeros(len(v) * abs(step) + off + 1, dtype)
    if step > 0:
        x = buf[off:off + len(v) * step:step]
    else:
        x = buf[off:off + len(v) * -step][::step]
    x[...] = v
    got = [gilfree.sum_of_squares(x, threads=t) for t in (1, 2, 3)]
    got.append(gilfree.buffer.sum_of_squares(x))
    with _runtime.tuning(stream_min=0):
        got += [gilfree.sum_of_squares(x, threads=t) for t in (1, 2)]
    want = gilfree.sum_of_squares(np.ascontiguousarray(x), threads=1)
    assert [g.hex() for g in got] == [want.hex()] * len(got)
    _check_accuracy(x, got[0])
