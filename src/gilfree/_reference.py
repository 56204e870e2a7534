"""Slow, obviously-correct twins of the public :mod:`gilfree` functions.

Every fast function in :mod:`gilfree` has a twin here written in plain
NumPy / plain Python.  The twins serve two purposes:

they are the **test oracle**: the test suite compares the compiled core
against these functions over a grid of dtypes, sizes, layouts and thread
counts.  (Nothing calls them at run time: the compiled core hands ``bool``,
``float16``, complex and ``longdouble`` to NumPy's own loops.)

Nothing in this module imports :mod:`gilfree._core`, so it keeps working
(and keeps being a trustworthy oracle) when the compiled extension is broken.
Its arithmetic is its own; what it shares with the core is the wording of
the errors and the argument rules (:mod:`gilfree._rules`), so that the two
raise the same messages.  Speed is deliberately not a goal; exactness and
readability are.

The ``threads`` keyword is accepted by every function so that the twins can
stand in for the fast functions call for call, but it is ignored: the twins
always run on the calling thread.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from . import _rules

__all__ = [
    "NATIVE_DTYPES",
    "NUMPY_DTYPES",
    "square",
    "sum_of_squares",
    "sum_squares_range",
    "squares_range",
]

#: The dtypes the compiled core handles itself (in native byte order).
NATIVE_DTYPES = tuple(
    np.dtype(name)
    for name in (
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float32",
        "float64",
    )
)

#: The "odd" dtypes that :func:`gilfree.square` computes through NumPy.
NUMPY_DTYPES = tuple(
    np.dtype(name)
    for name in ("bool", "float16", "complex64", "complex128", "longdouble")
)


# dtype kinds that can be squared: bool, signed, unsigned, float, complex.
_SQUARE_KINDS = "biufc"
# dtype kinds that sum_of_squares accepts: complex is excluded because the
# "sum of squares" of complex numbers is ambiguous (z*z or |z|**2?).
_SUM_KINDS = "biuf"


# ---------------------------------------------------------------------------
# argument checking
# ---------------------------------------------------------------------------


def _as_input(x, kinds: str) -> np.ndarray:
    """Convert ``x`` like :func:`numpy.asarray` and check its dtype kind."""
    arr = np.asarray(x)
    if arr.dtype.kind not in kinds:
        raise TypeError(
            f"`x` has unsupported dtype {arr.dtype} "
            f"(dtype name {arr.dtype.name!r}); expected a boolean, integer, "
            f"{'floating or complex' if 'c' in kinds else 'or floating'} dtype"
        )
    return arr


def _result_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype :func:`numpy.square` gives for an input of ``dtype``."""
    # Ask NumPy itself rather than re-deriving its type resolution (it
    # returns native byte order for byte-swapped inputs, bool for bool...).
    return np.square(np.empty(0, dtype=dtype)).dtype


def _check_out(out, shape: tuple, dtype: np.dtype) -> None:
    """Validate ``out`` the way :func:`gilfree.square` does."""
    if not isinstance(out, np.ndarray):
        raise TypeError(
            f"`out` must be a numpy.ndarray or None, got {type(out).__name__}"
        )
    if out.shape != shape:
        raise ValueError(
            f"`out` has shape {out.shape}, but `x` has shape {shape}"
        )
    if out.dtype.newbyteorder("=") != dtype:  # byte order is storage, as in NumPy
        raise TypeError(
            f"`out` has dtype {out.dtype}, but the result has dtype {dtype}"
        )
    if not out.flags.writeable:
        raise ValueError("`out` is read-only")


_check_overflow_mode = _rules.overflow_mode
_range_args = _rules.range_args


def _range_len(start: int, stop: int, step: int) -> int:
    """``len(range(start, stop, step))`` without the ``sys.maxsize`` limit."""
    if step > 0:
        return max(0, (stop - start + step - 1) // step)
    return max(0, (start - stop - step - 1) // (-step))


def _native_dtype(dtype) -> np.dtype:
    """Check that ``dtype`` names one of :data:`NATIVE_DTYPES`, in either
    byte order (``np.square`` of a byte-swapped array is native)."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"`dtype` must be one of {', '.join(d.name for d in NATIVE_DTYPES)}"
            f"; got {dtype!r}"
        ) from None
    if dt.newbyteorder("=") not in NATIVE_DTYPES:
        raise TypeError(
            f"`dtype` must be one of {', '.join(d.name for d in NATIVE_DTYPES)}"
            f"; got {dt}"
        )
    return dt


# ---------------------------------------------------------------------------
# overflow detection
# ---------------------------------------------------------------------------


def _overflow_mask(arr: np.ndarray, result) -> np.ndarray | None:
    """Boolean mask of the elements whose square does not fit the dtype."""
    kind = arr.dtype.kind
    if kind in "iu":
        # x*x fits iff |x| <= isqrt(max); compare without computing x*x.
        limit = math.isqrt(int(np.iinfo(arr.dtype).max))
        if kind == "u":
            return arr > limit
        return (arr > limit) | (arr < -limit)
    if kind in "fc":
        # a finite input whose square is not finite overflowed
        return np.isfinite(arr) & ~np.isfinite(result)
    return None  # bool never overflows


def _raise_on_overflow(arr: np.ndarray, result) -> None:
    mask = _overflow_mask(arr, result)
    if mask is None:
        return
    # flatnonzero ravels in C order, so [0] is the first offender in C order
    offenders = np.flatnonzero(mask)
    if offenders.size == 0:
        return
    flat = int(offenders[0])
    index: int | tuple[int, ...] | None
    if arr.ndim == 0:
        index = None
    elif arr.ndim == 1:
        index = flat
    else:
        index = tuple(int(i) for i in np.unravel_index(flat, arr.shape))
    raise _rules.square_overflow(index, arr.reshape(-1)[flat].item(), arr.dtype.name)


# ---------------------------------------------------------------------------
# public twins
# ---------------------------------------------------------------------------


def square(x, /, out=None, *, threads=None, overflow="wrap"):
    """Square every element, exactly like :func:`numpy.square`.

    Reference twin of :func:`gilfree.square`.

    Parameters
    ----------
    x : array_like
        Input values.  Anything :func:`numpy.asarray` accepts; the resulting
        dtype must be boolean, integer, floating or complex.
    out : numpy.ndarray, optional
        Where to store the result.  Must have the shape of ``x``, exactly the
        result dtype and be writeable.  It may be ``x`` itself or overlap it:
        the input is read completely before ``out`` is written.
    threads : int, optional
        Accepted for signature compatibility and ignored.
    overflow : {"wrap", "raise"}, optional
        ``"wrap"`` (default) wraps integers modulo ``2**bits`` like NumPy.
        ``"raise"`` raises :class:`OverflowError` naming the first element
        (in C order) whose square does not fit, for integers, or whose finite
        value has an infinite square, for floats.

    Returns
    -------
    numpy.ndarray or numpy.generic
        The squares.  ``out`` if it was given; a NumPy scalar for 0-d input
        without ``out``, as :func:`numpy.square` does.

    Raises
    ------
    TypeError
        If ``x`` has an unsupported dtype, or ``out`` is not an array or has
        the wrong dtype.
    ValueError
        If ``out`` has the wrong shape or is read-only, or ``overflow`` is
        not ``"wrap"`` or ``"raise"``.
    OverflowError
        With ``overflow="raise"``, if a square does not fit the dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from gilfree import _reference
    >>> _reference.square(np.array([1, -2, 3], dtype=np.int8))
    array([1, 4, 9], dtype=int8)
    >>> _reference.square(np.array([16], dtype=np.int8))  # wraps like NumPy
    array([0], dtype=int8)
    >>> _reference.square(np.array([0, 16], dtype=np.int8), overflow="raise")
    Traceback (most recent call last):
        ...
    OverflowError: square overflows at index 1: 16**2 = 256 ...
    """
    _check_overflow_mode(overflow)
    arr = _as_input(x, _SQUARE_KINDS)
    if out is not None:
        _check_out(out, arr.shape, _result_dtype(arr.dtype))
    # NumPy warns on float overflow; gilfree's contract is silence (or an
    # OverflowError with overflow="raise").  Computing into a fresh array
    # first gives "input is read before out is written" for any overlap.
    with np.errstate(all="ignore"):
        result = np.square(arr)
    if overflow == "raise":
        _raise_on_overflow(arr, result)
    if out is None:
        return result
    out[...] = result
    return out


def sum_of_squares(x, /, *, threads=None):
    """Sum of the squares of all elements, exactly or correctly rounded.

    Reference twin of :func:`gilfree.sum_of_squares`.

    Parameters
    ----------
    x : array_like
        Input values with a boolean, integer or floating dtype.
    threads : int, optional
        Accepted for signature compatibility and ignored.

    Returns
    -------
    int or float
        For boolean and integer input, the exact sum as a Python ``int``
        (no wrapping).  For floating input, a Python ``float``: the correctly
        rounded sum (:func:`math.fsum`) of the float64 squares; NaN and
        infinity propagate, and a sum beyond the float64 range is ``inf``.
        Empty input gives ``0`` or ``0.0``.

    Raises
    ------
    TypeError
        If ``x`` has a complex or non-numeric dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from gilfree import _reference
    >>> _reference.sum_of_squares(np.array([1, 2, 3], dtype=np.int8))
    14
    >>> big = np.iinfo(np.int64).max
    >>> _reference.sum_of_squares(np.array([big, big])) == 2 * big**2
    True
    >>> _reference.sum_of_squares([0.5, 1.5])
    2.5
    """
    arr = _as_input(x, _SUM_KINDS)
    if arr.dtype.kind in "biu":
        # tolist() gives Python ints (and bools), so nothing can wrap
        return int(sum(v * v for v in arr.ravel().tolist()))
    with np.errstate(all="ignore"):
        squares = np.square(arr.astype(np.float64).ravel())
    try:
        return float(math.fsum(squares.tolist()))
    except OverflowError:
        # fsum raises on an intermediate overflow; all terms are >= 0, so the
        # true float result (like NumPy's) is +inf
        return math.inf


def sum_squares_range(start, stop=None, step=1, *, threads=None):
    """``sum(i * i for i in range(start, stop, step))``, exactly.

    Reference twin of :func:`gilfree.sum_squares_range`.  Uses the closed
    form of the sum of squares of an arithmetic sequence in Python integers,
    so it takes constant time however long the range is.

    Parameters
    ----------
    start : int
        First value, or the end of the range if ``stop`` is None (then the
        range starts at 0), like :class:`range`.
    stop : int, optional
        End of the range (exclusive).
    step : int, optional
        Step, not zero.  Defaults to 1.
    threads : int, optional
        Accepted for signature compatibility and ignored.

    Returns
    -------
    int
        The exact sum.

    Raises
    ------
    TypeError
        If an argument is not an integer (``operator.index``), or is a bool.
    ValueError
        If ``step`` is zero or an argument lies outside the int64 range.

    Examples
    --------
    >>> from gilfree import _reference
    >>> _reference.sum_squares_range(4)
    14
    >>> _reference.sum_squares_range(10, 0, -3)  # 10, 7, 4, 1
    166
    >>> _reference.sum_squares_range(0, 10**9)
    333333332833333333500000000
    """
    start, stop, step = _range_args(start, stop, step)
    n = _range_len(start, stop, step)
    # sum_{k<n} (a + k d)^2 = n a^2 + 2 a d S1 + d^2 S2 with
    # S1 = sum k = n(n-1)/2 and S2 = sum k^2 = (n-1) n (2n-1) / 6.
    s1 = n * (n - 1) // 2
    s2 = (n - 1) * n * (2 * n - 1) // 6
    return n * start * start + 2 * start * step * s1 + step * step * s2


def squares_range(start, stop=None, step=1, *, dtype=np.int64, threads=None):
    """Squares of ``range(start, stop, step)`` as an array of ``dtype``.

    Reference twin of :func:`gilfree.squares_range`: the result equals
    ``np.square(np.arange(start, stop, step, dtype=np.int64).astype(dtype))``
    (integers wrap like NumPy).

    Parameters
    ----------
    start : int
        First value, or the end of the range if ``stop`` is None.
    stop : int, optional
        End of the range (exclusive).
    step : int, optional
        Step, not zero.  Defaults to 1.
    dtype : dtype-like, optional
        One of the ten native dtypes (int8 ... uint64, float32, float64).
        Defaults to int64.
    threads : int, optional
        Accepted for signature compatibility and ignored.

    Returns
    -------
    numpy.ndarray
        1-D array of length ``len(range(start, stop, step))``.

    Raises
    ------
    TypeError
        If an argument is not an integer or is a bool, or ``dtype`` is not
        a native dtype.
    ValueError
        If ``step`` is zero or an argument lies outside the int64 range.

    Examples
    --------
    >>> from gilfree import _reference
    >>> _reference.squares_range(5)
    array([ 0,  1,  4,  9, 16])
    >>> _reference.squares_range(-2, 3, dtype="float32")
    array([4., 1., 0., 1., 4.], dtype=float32)
    >>> _reference.squares_range(14, 18, dtype="uint8")  # wraps like NumPy
    array([196, 225,   0,  33], dtype=uint8)
    """
    dt = _native_dtype(dtype)
    start, stop, step = _range_args(start, stop, step)
    n = _range_len(start, stop, step)
    if n > 2**63 - 1:  # as gilfree: no array could hold it anyway
        raise _rules.range_too_long(start, stop, step, n)
    # start + k*step computed modulo 2**64: intermediate products may leave
    # the int64 range, but every element of the range is inside it, so the
    # wrapped result is exact.  (np.arange itself computes the length in
    # floating point and can be off by one for huge steps.)
    k = np.arange(n, dtype=np.uint64)
    values = (k * np.uint64(step % 2**64) + np.uint64(start % 2**64)).view(
        np.int64
    )
    with np.errstate(all="ignore"):
        return np.square(values.astype(dt))
