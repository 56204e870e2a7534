# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True, freethreading_compatible=True
# cython: subinterpreters_compatible=own_gil
"""gilfree's kernels on buffer-protocol objects, loadable in subinterpreters.

``array.array``, ``memoryview``, ``bytearray``, NumPy arrays: anything that
exports a 1-D (or C-contiguous) buffer of int8-int64, uint8-uint64, float32
or float64.  This module imports no NumPy (NumPy cannot be imported in a
subinterpreter), starts no threads and keeps no state between calls, so it
declares per-interpreter GIL support (Cython's ``subinterpreters_compatible =
own_gil``, built with ``CYTHON_USE_MODULE_STATE``).  Each call runs the same
C kernels as :mod:`gilfree` on the calling thread with its interpreter's GIL
released; parallelism comes from running several interpreters
(``InterpreterPoolExecutor``) or threads.  Results are identical to
``gilfree.square`` / ``gilfree.sum_of_squares`` on the same values (same
kernels, same chunks).

In a subinterpreter, ``import gilfree`` gives these three functions as
``gilfree.square``, ``gilfree.sum_of_squares`` and
``gilfree.sum_squares_range``; everywhere they are ``gilfree.buffer.*``.
"""

from cpython.buffer cimport (PyBUF_FORMAT, PyBUF_STRIDES, PyBUF_WRITABLE, PyBuffer_IsContiguous,
                             PyBuffer_Release, PyObject_GetBuffer)
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset

from ._gilfree cimport *
from ._shared cimport overflow_check, range_plan, range_rounds, reduce_chunks

import array

cdef enum:
    GIL_RELEASE_MIN = 512          # as in gilfree._core
    RANGE_CHUNK = 131072
    RANGE_ROUND_CHUNKS = 1 << 12   # signals are checked between rounds

#: array.array typecode per gf_dtype (for results when `out` is not given).
_TYPECODES = "bhiqBHIQfd"
_NAMES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64")


cdef bint _little_endian() noexcept:
    cdef int one = 1
    return (<char *>&one)[0] == 1


cdef int _dtype_of(Py_buffer *v, str name) except -1:
    """The gf_dtype of a buffer's items, or TypeError naming `name`."""
    fmt = (<bytes>v.format).decode("ascii") if v.format != NULL else "B"
    code = fmt
    if code[:1] in ("@", "="):
        code = code[1:]
    elif code[:1] in ("<", ">", "!"):
        if (code[:1] == "<") != _little_endian() and v.itemsize > 1:
            raise TypeError(f"`{name}` must hold native-endian numbers, got format {fmt!r}")
        code = code[1:]
    if len(code) == 1:
        if code in "bhilq":
            kind = 0
        elif code in "BHILQ":
            kind = 1
        elif code in "fd":
            kind = 2
        else:
            kind = -1
        if kind == 0 or kind == 1:
            for i, size in enumerate((1, 2, 4, 8)):
                if v.itemsize == size:
                    return i + 4 * kind
        elif kind == 2:
            return GF_FLOAT32 if v.itemsize == 4 else GF_FLOAT64
    raise TypeError(f"`{name}` must be a buffer of int8-int64, uint8-uint64, float32 or float64, "
                    f"got format {fmt!r} (itemsize {v.itemsize})")


cdef int _get(object obj, Py_buffer *v, int flags, str name) except -1:
    """Fill `v` from `obj` (1-D, or any C-contiguous buffer taken flat)."""
    try:
        PyObject_GetBuffer(obj, v, flags)
    except BufferError as exc:
        if flags & PyBUF_WRITABLE:
            raise ValueError(f"`{name}` must be a writeable buffer: {exc}") from None
        raise TypeError(f"`{name}` must support the buffer protocol: {exc}") from None
    except TypeError:
        raise TypeError(f"`{name}` must support the buffer protocol (array.array, memoryview, "
                        f"numpy.ndarray, ...), got {type(obj).__name__}") from None
    if v.ndim != 1 and not PyBuffer_IsContiguous(v, b"C"):
        PyBuffer_Release(v)
        raise TypeError(f"`{name}` must be 1-D or C-contiguous, got a {v.ndim}-D strided buffer "
                        f"(flatten it first)")
    return 0


cdef inline int64_t _len(Py_buffer *v) noexcept:
    return v.len // v.itemsize if v.itemsize > 0 else 0


cdef inline int64_t _stride(Py_buffer *v) noexcept:
    return v.strides[0] if v.ndim == 1 else v.itemsize


cdef object _item(Py_buffer *v, int64_t i, int dtype):
    cdef const char *p = <const char *>v.buf + i * _stride(v)
    if dtype == GF_INT8: return (<const int8_t *>p)[0]
    if dtype == GF_INT16: return (<const int16_t *>p)[0]
    if dtype == GF_INT32: return (<const int32_t *>p)[0]
    if dtype == GF_INT64: return (<const int64_t *>p)[0]
    if dtype == GF_UINT8: return (<const uint8_t *>p)[0]
    if dtype == GF_UINT16: return (<const uint16_t *>p)[0]
    if dtype == GF_UINT32: return (<const uint32_t *>p)[0]
    if dtype == GF_UINT64: return (<const uint64_t *>p)[0]
    if dtype == GF_FLOAT32: return (<const float *>p)[0]
    return (<const double *>p)[0]


cdef object _raise_overflow(Py_buffer *v, int dtype):
    """OverflowError naming the first element whose square does not fit."""
    import math
    cdef int64_t i, n = _len(v)
    name = _NAMES[dtype]
    if dtype >= GF_FLOAT32:
        big = 3.4028234663852886e38 if dtype == GF_FLOAT32 else 1.7976931348623157e308
        for i in range(n):
            x = _item(v, i, dtype)
            if math.isfinite(x) and not (x * x <= big):
                raise OverflowError(f"square overflows at index {i}: {x!r}**2 is not finite in "
                                    f"{name} (overflow='raise'; use overflow='wrap' for NumPy's "
                                    f"wrapping)")
    else:
        bits = (8, 16, 32, 64)[dtype % 4]
        hi = (1 << (bits - 1)) - 1 if dtype < GF_UINT8 else (1 << bits) - 1
        for i in range(n):
            x = _item(v, i, dtype)
            if x * x > hi:
                raise OverflowError(f"square overflows at index {i}: {x}**2 = {x * x} does not "
                                    f"fit in {name} (overflow='raise'; use overflow='wrap' for "
                                    f"NumPy's wrapping)")
    raise AssertionError("the kernel flagged an overflow that the check cannot find")


cdef void _run_serial(gf_task *t) noexcept nogil:
    cdef gf_chunk_fn run = gf_chunk_runner(gf_simd_best())
    cdef int64_t c
    for c in range(t.nchunks):
        run(t, c)


cdef int _run(gf_task *t) except -1:
    if t.n >= GIL_RELEASE_MIN:
        with nogil:
            _run_serial(t)
    else:
        _run_serial(t)
    return 0


cdef int _run_cb(gf_task *t, void *ctx) except -1:
    """_run in the shape the shared reduction helpers take."""
    return _run(t)


cdef int _run_rounds_cb(gf_task *t, void *ctx) except -1:
    """One round of a long range, then Ctrl-C (main interpreter only)."""
    _run(t)
    return PyErr_CheckSignals()


def square(x, out=None, *, overflow="wrap"):
    """Elementwise square of a buffer, ``x[i] * x[i]``, with the GIL released.

    Parameters
    ----------
    x : buffer
        1-D (or C-contiguous) buffer of int8-int64, uint8-uint64, float32 or
        float64, e.g. ``array.array('d', ...)`` or a ``memoryview``; strided
        1-D views (``memoryview(a)[::3]``) work without a copy.
    out : writeable buffer, optional
        Same item type and length as `x`. May be `x` itself (in place); any
        other overlap with `x` is a ValueError.
    overflow : {'wrap', 'raise'}, optional
        As in :func:`gilfree.square`.

    Returns
    -------
    array.array or out
        A new ``array.array`` of `x`'s type when `out` is None, else `out`.

    Raises
    ------
    TypeError
        If `x` or `out` is not a buffer of a supported type, or their types
        differ.
    ValueError
        If `out` is read-only, of another length, or overlaps `x` partially,
        or `overflow` is not 'wrap' or 'raise'.
    OverflowError
        With ``overflow='raise'``, naming the first element that overflows.

    Examples
    --------
    >>> import array
    >>> from gilfree import buffer
    >>> buffer.square(array.array('i', [1, -2, 3]))
    array('i', [1, 4, 9])
    """
    cdef Py_buffer xv, ov
    cdef gf_task t
    cdef int code, check
    cdef int64_t n, sx, so
    cdef bint have_out = False
    cdef const char *xlo
    cdef const char *xhi
    cdef const char *olo
    cdef const char *ohi
    check = overflow_check(overflow)
    _get(x, &xv, PyBUF_STRIDES | PyBUF_FORMAT, "x")
    try:
        code = _dtype_of(&xv, "x")
        n = _len(&xv)
        if out is None:
            result = array.array(_TYPECODES[code], bytes(n * xv.itemsize))
        else:
            result = out
        _get(result, &ov, PyBUF_STRIDES | PyBUF_FORMAT | PyBUF_WRITABLE, "out")
        have_out = True
        if _dtype_of(&ov, "out") != code:
            raise TypeError(f"`out` must hold {_NAMES[code]} like `x`, got "
                            f"{_NAMES[_dtype_of(&ov, 'out')]}")
        if _len(&ov) != n:
            raise ValueError(f"`out` must have the length of `x`, {n}, got {_len(&ov)}")
        if n == 0:
            return result
        sx = (n - 1) * _stride(&xv)
        so = (n - 1) * _stride(&ov)
        xlo = <const char *>xv.buf + (sx if sx < 0 else 0)
        xhi = <const char *>xv.buf + (sx if sx > 0 else 0) + xv.itemsize
        olo = <const char *>ov.buf + (so if so < 0 else 0)
        ohi = <const char *>ov.buf + (so if so > 0 else 0) + ov.itemsize
        if olo < xhi and xlo < ohi and not (xv.buf == ov.buf and _stride(&xv) == _stride(&ov)):
            raise ValueError("`out` overlaps `x` partially: pass out=x for in place, "
                             "or a separate buffer")
        memset(&t, 0, sizeof(t))
        t.op = GF_OP_SQUARE
        t.dtype = code
        t.check_overflow = check
        t.n = t.n1 = n
        t.n0 = 1
        t.x = <const char *>xv.buf
        t.xs1 = _stride(&xv)
        t.out = <char *>ov.buf
        t.os1 = _stride(&ov)
        gf_plan_chunks(&t, xv.itemsize, GF_CHUNK_BYTES, 1)
        _run(&t)
        if t.overflowed:
            _raise_overflow(&xv, code)
        return result
    finally:
        if have_out:
            PyBuffer_Release(&ov)
        PyBuffer_Release(&xv)


def sum_of_squares(x):
    """Sum of ``x[i] * x[i]`` over a buffer: an exact int for integers, a
    float for floats (bit-identical to :func:`gilfree.sum_of_squares`).

    Parameters
    ----------
    x : buffer
        As for :func:`square`.

    Returns
    -------
    int or float

    Raises
    ------
    TypeError
        If `x` is not a buffer of a supported type.

    Examples
    --------
    >>> import array
    >>> from gilfree import buffer
    >>> buffer.sum_of_squares(array.array('q', [2**62, 3]))  # exact
    21267647932558653966460912964485513225
    >>> buffer.sum_of_squares(memoryview(array.array('d', [0.5, 1.5, 2.5]))[::2])
    6.5
    """
    cdef Py_buffer xv
    cdef gf_task t
    cdef int code
    _get(x, &xv, PyBUF_STRIDES | PyBUF_FORMAT, "x")
    try:
        code = _dtype_of(&xv, "x")
        isfloat = code >= GF_FLOAT32
        memset(&t, 0, sizeof(t))
        t.op = GF_OP_SUMSQ
        t.dtype = code
        t.n = t.n1 = _len(&xv)
        t.n0 = 1
        if t.n == 0:
            return 0.0 if isfloat else 0
        t.x = <const char *>xv.buf
        t.xs1 = _stride(&xv)
        gf_plan_chunks(&t, xv.itemsize, GF_CHUNK_BYTES, GF_SPREAD_REDUCE)
        return reduce_chunks(&t, isfloat, _run_cb, NULL)
    finally:
        PyBuffer_Release(&xv)


def sum_squares_range(start, stop=None, step=1):
    """Exact ``sum(i*i for i in range(start, stop, step))``, as
    :func:`gilfree.sum_squares_range` with ``threads=1``.

    Parameters
    ----------
    start, stop, step : int
        As for ``range``; bounds must fit in int64 and `step` must not be 0.

    Returns
    -------
    int

    Raises
    ------
    TypeError, ValueError
        As :func:`gilfree.sum_squares_range`.

    Examples
    --------
    >>> from gilfree import buffer
    >>> buffer.sum_squares_range(10**6) == sum(i * i for i in range(10**6))
    True
    """
    cdef gf_task t
    range_plan(start, stop, step, &t)
    t.op = GF_OP_RANGE_SUMSQ
    return range_rounds(&t, RANGE_CHUNK, RANGE_ROUND_CHUNKS, _run_rounds_cb, NULL)
