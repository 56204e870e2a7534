"""Every bad input, with the exception type and what its message must say."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gilfree
from gilfree import _reference as ref

I64_MAX = 2**63 - 1
I64_MIN = -(2**63)


def dtype_pattern(dt: np.dtype) -> str:
    """The dtype as str(dtype) or dtype.name, whichever the message uses."""
    return "(" + "|".join(re.escape(s) for s in {str(dt), dt.name}) + ")"


# ------------------------------------------------------------ square(x)

BAD_ARRAYS = [
    np.array([object(), 1], dtype=object),
    np.array([1, 2], dtype=object),
    np.array(["a", "bc"]),
    np.array([b"a", b"bc"]),
    np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"),
    np.array([1, 2], dtype="timedelta64[s]"),
    np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]),
    np.zeros(3, dtype="V8"),
]


@pytest.mark.parametrize("x", BAD_ARRAYS, ids=lambda a: str(a.dtype))
@pytest.mark.parametrize("func", [gilfree.square, gilfree.sum_of_squares, ref.square, ref.sum_of_squares],
                         ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_unsupported_dtype(func, x):
    with pytest.raises(TypeError, match="`x`") as ei:
        func(x)
    assert re.search(dtype_pattern(x.dtype), str(ei.value)), str(ei.value)


@pytest.mark.parametrize("x", [object(), {"a": 1}, "abc", b"abc", {1, 2}, [object()], None],
                         ids=repr)
@pytest.mark.parametrize("func", [gilfree.square, gilfree.sum_of_squares, ref.square, ref.sum_of_squares],
                         ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_non_numeric_objects(func, x):
    with pytest.raises(TypeError, match="`x`"):
        func(x)


@pytest.mark.parametrize("func", [gilfree.square, gilfree.sum_of_squares], ids=lambda f: f.__name__)
def test_ragged_list(func):
    with pytest.raises((TypeError, ValueError)):
        func([[1, 2], [3]])


@pytest.mark.parametrize("func", [gilfree.square, ref.square], ids=lambda f: f.__module__)
def test_unsupported_dtype_checked_before_out(func):
    with pytest.raises(TypeError, match="`x`"):
        func(np.array(["a"]), out=np.empty(1))


# ------------------------------------------------------------ square(out=)


@pytest.mark.parametrize("func", [gilfree.square, ref.square], ids=lambda f: f.__module__)
@pytest.mark.parametrize("out", [[0, 0, 0], (0, 0, 0), 5, "abc", np.float64(1.0), memoryview(bytearray(24))],
                         ids=lambda o: type(o).__name__)
def test_out_not_ndarray(func, out):
    with pytest.raises(TypeError, match="`out`"):
        func(np.arange(3.0), out=out)


@pytest.mark.parametrize("func", [gilfree.square, ref.square], ids=lambda f: f.__module__)
@pytest.mark.parametrize(
    ("xshape", "oshape"),
    [((2, 3), (3, 2)), ((4,), (3,)), ((6,), (2, 3)), ((2, 3), (6,)), ((), (1,)), ((3,), ())],
)
def test_out_wrong_shape(func, xshape, oshape):
    x = np.ones(xshape)
    out = np.empty(oshape)
    with pytest.raises(ValueError, match="`out`") as ei:
        func(x, out=out)
    msg = str(ei.value)
    assert str(xshape) in msg and str(oshape) in msg, msg


@pytest.mark.parametrize("func", [gilfree.square, ref.square], ids=lambda f: f.__module__)
@pytest.mark.parametrize(
    ("xdt", "odt"),
    [("float64", "float32"), ("float32", "float64"), ("int32", "int64"), ("int64", "uint64"),
     ("uint8", "int8"), ("int16", "float64"), ("float16", "float32"), ("bool", "bool"),
     ("complex64", "complex128"), (">f8", "float32"), (">i4", ">u4")],
)
def test_out_wrong_dtype(func, xdt, odt):
    x = np.ones(5, dtype=xdt)
    out = np.empty(5, dtype=odt)
    with pytest.raises(TypeError, match="`out`") as ei:
        func(x, out=out)
    msg = str(ei.value)
    res = np.square(x).dtype
    assert re.search(dtype_pattern(np.dtype(odt)), msg), msg
    assert re.search(dtype_pattern(res), msg), msg


@pytest.mark.parametrize("func", [gilfree.square, ref.square], ids=lambda f: f.__module__)
@pytest.mark.parametrize(("xdt", "odt"), [("float64", ">f8"), (">i4", ">i4"), (">u2", "<u2")])
def test_out_byte_swapped_is_the_same_dtype(func, xdt, odt):
    # Like np.square: byte order is storage, not a different dtype.
    x = np.arange(5, dtype=xdt)
    out = np.empty(5, dtype=odt)
    assert func(x, out=out) is out
    np.testing.assert_array_equal(out, np.square(x))


@pytest.mark.parametrize("func", [gilfree.square, ref.square], ids=lambda f: f.__module__)
@pytest.mark.parametrize("dtype", ["int32", "float64", "float16", "bool"])
def test_out_read_only(func, dtype):
    x = np.ones(5, dtype=dtype)
    rdt = np.square(x).dtype  # int8 for bool
    out = np.empty(5, dtype=rdt)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="`out`.*read-only|read-only.*`out`"):
        func(x, out=out)
    with pytest.raises(ValueError, match="read-only"):
        func(x, out=np.broadcast_to(np.empty(1, dtype=rdt), (5,)))
    if rdt == x.dtype:
        ro = np.ones(5, dtype=dtype)
        ro.flags.writeable = False
        with pytest.raises(ValueError, match="read-only"):
            func(ro, out=ro)


def test_out_read_only_left_untouched():
    out = np.zeros(5)
    out.flags.writeable = False
    with pytest.raises(ValueError):
        gilfree.square(np.ones(5), out=out)
    assert not out.any()


# ------------------------------------------------------------ overflow=


@pytest.mark.parametrize("func", [gilfree.square, ref.square], ids=lambda f: f.__module__)
@pytest.mark.parametrize("bad", ["bogus", "", "RAISE", "Wrap", "ignore", None, 1, True],
                         ids=repr)
@pytest.mark.parametrize("dtype", ["int32", "float64", "float16"])
def test_overflow_bad_value(func, bad, dtype):
    with pytest.raises(ValueError, match="`overflow`"):
        func(np.ones(3, dtype=dtype), overflow=bad)


def test_overflow_unhashable_value():
    with pytest.raises((ValueError, TypeError), match="`overflow`"):
        gilfree.square(np.ones(3), overflow=["raise"])


# ------------------------------------------------- range argument errors

RANGE_FUNCS = [gilfree.sum_squares_range, gilfree.squares_range, ref.sum_squares_range, ref.squares_range]
range_ids = [f"{f.__module__}.{f.__name__}" for f in RANGE_FUNCS]


@pytest.mark.parametrize("func", RANGE_FUNCS, ids=range_ids)
@pytest.mark.parametrize(
    ("args", "exc", "name"),
    [
        ((True,), TypeError, "start"),
        ((False, 5), TypeError, "start"),
        ((0, True), TypeError, "stop"),
        ((0, 5, True), TypeError, "step"),
        ((np.True_, 5), TypeError, "start"),
        ((1.0, 5), TypeError, "start"),
        ((0, 5.0), TypeError, "stop"),
        ((0, 5, 1.0), TypeError, "step"),
        ((0, 5.5), TypeError, "stop"),
        ((np.float64(3),), TypeError, "start"),
        (("3",), TypeError, "start"),
        ((None,), TypeError, "start"),
        ((0, "5"), TypeError, "stop"),
        ((0, 5, None), TypeError, "step"),
        ((0, 5, 0), ValueError, "step"),
        ((0, 5, np.int64(0)), ValueError, "step"),
        ((2**63,), ValueError, "start"),
        ((0, 2**63), ValueError, "stop"),
        ((-(2**63) - 1, 0), ValueError, "start"),
        ((0, 10, 2**63), ValueError, "step"),
        ((10, 0, -(2**63) - 1), ValueError, "step"),
        ((10**30, 0), ValueError, "start"),
    ],
    ids=repr,
)
def test_range_bad_arguments(func, args, exc, name):
    with pytest.raises(exc, match=f"`{name}`"):
        func(*args)


@pytest.mark.parametrize("func", RANGE_FUNCS, ids=range_ids)
def test_range_bad_value_in_message(func):
    with pytest.raises(ValueError) as ei:
        func(0, 2**63)
    assert str(2**63) in str(ei.value)
    with pytest.raises(TypeError) as ei:
        func(0, 2.5)
    assert "2.5" in str(ei.value) or "float" in str(ei.value)


@pytest.mark.parametrize("func", RANGE_FUNCS, ids=range_ids)
def test_range_int64_bounds_are_accepted(func):
    func(I64_MAX, I64_MAX)
    func(I64_MIN, I64_MIN + 1)
    func(I64_MAX, I64_MAX - 1, I64_MIN)
    func(0, 1, I64_MAX)


@pytest.mark.parametrize("func", [gilfree.squares_range, ref.squares_range], ids=lambda f: f.__module__)
@pytest.mark.parametrize(
    "dtype",
    [np.float16, "float16", np.complex128, "complex64", np.bool_, bool, object, "O", str, "U3", "S2",
     "datetime64[s]", "m8[s]", np.longdouble, "bogus", "i4,i4", [("a", "i4")], np.dtype("V4")],
    ids=repr,
)
def test_squares_range_bad_dtype(func, dtype):
    with pytest.raises(TypeError, match="`dtype`"):
        func(10, dtype=dtype)


# ------------------------------------------------------------ signatures


def test_keyword_only_parameters():
    with pytest.raises(TypeError):
        gilfree.square(np.arange(3), None, 2)  # threads is keyword-only
    with pytest.raises(TypeError):
        gilfree.sum_of_squares(np.arange(3), 2)
    with pytest.raises(TypeError):
        gilfree.sum_squares_range(0, 10, 1, 2)
    with pytest.raises(TypeError):
        gilfree.squares_range(0, 10, 1, np.int32)


def test_unknown_keyword():
    with pytest.raises(TypeError):
        gilfree.square(np.arange(3), thread=2)
    with pytest.raises(TypeError):
        gilfree.sum_squares_range(10, nthreads=2)
