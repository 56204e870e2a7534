"""The reference twins are the oracle, so they are checked against first
principles (NumPy itself, Python integers, math.fsum) here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gilfree import _reference as ref

DTYPES = [np.dtype(t) for t in ("int8", "uint16", "int32", "uint64", "float32", "float64", "bool", "float16",
                                "complex64", "longdouble", ">i4", ">f8")]


@pytest.mark.thread_unsafe(reason="inspects and edits sys.modules")
def test_reference_does_not_import_core():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(ref))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            assert not any("_core" in n for n in names), names


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_square_is_numpy_square(dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((7, 9)) * 50).astype(dtype) if dtype.kind != "b" else rng.random((7, 9)) > 0.5
    for v in (x, x.T, x[::-2, 1::3], x[0, 0]):
        with np.errstate(all="ignore"):
            exp = np.square(v)
        got = ref.square(v)
        assert type(got) is type(exp) and got.dtype == exp.dtype
        np.testing.assert_array_equal(got, exp, strict=True)


def test_square_out_overlap():
    base = np.arange(20, dtype=np.int64)
    x, out = base[:15], base[5:]
    exp = np.square(x.copy())
    assert ref.square(x, out=out) is out
    np.testing.assert_array_equal(out, exp)
    y = np.arange(10.0)
    ref.square(y, out=y[::-1])
    np.testing.assert_array_equal(y[::-1], np.arange(10.0) ** 2)


def test_square_overflow_messages():
    with pytest.raises(OverflowError, match=r"at index 3: 12\*\*2 = 144 does not fit in int8"):
        ref.square(np.array([0, 1, 11, 12, -12], dtype=np.int8), overflow="raise")
    with pytest.raises(OverflowError, match=r"at index \(1, 0\): -12\*\*2 = 144 does not fit in int8"):
        ref.square(np.array([[0, 1], [-12, 12]], dtype=np.int8), overflow="raise")
    with pytest.raises(OverflowError, match=r"at index 1: 1e\+200\*\*2 is not finite in float64"):
        ref.square(np.array([np.inf, 1e200]), overflow="raise")
    with pytest.raises(OverflowError, match=r"at index 0: 4294967296\*\*2 = \d+ does not fit in uint64"):
        ref.square(np.array([2**32], dtype=np.uint64), overflow="raise")
    with pytest.raises(OverflowError, match=r"^square overflows: 1e\+200\*\*2"):
        ref.square(np.float64(1e200), overflow="raise")
    ok = np.array([2**32 - 1], dtype=np.uint64)
    np.testing.assert_array_equal(ref.square(ok, overflow="raise"), np.square(ok))
    info = np.iinfo(np.int64)
    with pytest.raises(OverflowError, match=str(info.min)):
        ref.square(np.array([info.min]), overflow="raise")


def test_sum_of_squares_exact_and_fsum():
    x = np.array([np.iinfo(np.int64).min] * 5 + [np.iinfo(np.int64).max] * 5)
    assert ref.sum_of_squares(x) == 5 * 2**126 + 5 * (2**63 - 1) ** 2
    u = np.full(7, 2**64 - 1, dtype=np.uint64)
    assert ref.sum_of_squares(u) == 7 * (2**64 - 1) ** 2
    f = np.array([1e-8, 1.0, 1e8, -1e-8])
    assert ref.sum_of_squares(f) == math.fsum([v * v for v in f.tolist()])
    assert ref.sum_of_squares(np.array([1e200, 1e200])) == math.inf
    assert math.isnan(ref.sum_of_squares(np.array([np.inf, np.nan])))
    assert ref.sum_of_squares(np.array([], dtype=np.int8)) == 0
    assert type(ref.sum_of_squares(np.array([], dtype=np.int8))) is int
    assert type(ref.sum_of_squares(np.array([], dtype=np.float32))) is float
    assert ref.sum_of_squares(np.array([True, False, True])) == 2


def test_range_length_helper_beyond_sys_maxsize():
    n = ref._range_len(-(2**63), 2**63 - 1, 1)
    assert n == 2**64 - 1
    assert ref._range_len(5, 0, -2) == len(range(5, 0, -2))
    assert ref.sum_squares_range(-(2**63), 2**63 - 1) == 2 * sum_sq(2**63 - 1) + 2**126 - (2**63 - 1) ** 2


def sum_sq(n):
    """sum of i*i for i in range(n + 1)."""
    return n * (n + 1) * (2 * n + 1) // 6


def test_range_errors_name_the_argument():
    with pytest.raises(TypeError, match="`start`"):
        ref.sum_squares_range(True)
    with pytest.raises(ValueError, match="`step`"):
        ref.sum_squares_range(0, 10, 0)
    with pytest.raises(ValueError, match="`stop`"):
        ref.squares_range(0, 2**63)
    with pytest.raises(TypeError, match="`dtype`"):
        ref.squares_range(3, dtype=np.float16)
