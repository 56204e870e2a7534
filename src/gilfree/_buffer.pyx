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
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t,
                          uintptr_t)
from libc.string cimport memcpy, memset

from ._gilfree cimport *
from ._shared cimport (overflow_check, range_plan, reduce_rounds, run_here, run_rounds,
                       simd_choice)

import array

from . import _rules

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


cdef inline bint _aligned(Py_buffer *v) noexcept:
    """Whether every element of `v` sits at a multiple of its itemsize, as
    the kernels need (gilfree.h): a buffer protocol view may start anywhere,
    ``memoryview(bytearray(9))[1:].cast('d')`` for one."""
    return (<uintptr_t>v.buf) % v.itemsize == 0 and _stride(v) % v.itemsize == 0


cdef char *_packed(Py_buffer *v, int64_t n) except NULL:
    """A new contiguous, aligned buffer for n elements of `v`'s type
    (PyMem_Free it)."""
    cdef char *p = <char *>PyMem_Malloc(n * v.itemsize if n > 0 else 1)
    if p == NULL:
        raise MemoryError()
    return p


cdef void _copy_items(char *dst, int64_t ds, const char *src, int64_t ss, int64_t n,
                      int64_t itemsize) noexcept:
    """n items of `itemsize` bytes from src (byte stride ss) to dst (stride ds)."""
    cdef int64_t k
    for k in range(n):
        memcpy(dst + k * ds, src + k * ss, itemsize)


cdef char *_packed_copy(Py_buffer *v, int64_t n) except NULL:
    """A new contiguous, aligned copy of the n elements of `v` (PyMem_Free it)."""
    cdef char *p = _packed(v, n)
    _copy_items(p, v.itemsize, <const char *>v.buf, _stride(v), n, v.itemsize)
    return p


cdef inline int64_t _len(Py_buffer *v) noexcept:
    return v.len // v.itemsize if v.itemsize > 0 else 0


cdef inline int64_t _stride(Py_buffer *v) noexcept:
    return v.strides[0] if v.ndim == 1 else v.itemsize


cdef object _item(const char *x, int64_t xs, int64_t i, int dtype):
    cdef const char *p = x + i * xs
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


cdef object _raise_overflow(const char *x, int64_t xs, int64_t n, int dtype):
    """The OverflowError naming the first element whose square does not fit
    (found by the kernels' own test, gf_first_overflow)."""
    cdef gf_task t
    memset(&t, 0, sizeof(t))
    t.dtype = dtype
    t.x = x
    t.n = t.n1 = n
    t.n0 = 1
    t.xs1 = xs
    i = gf_first_overflow(&t)
    if i < 0:
        raise AssertionError("an overflow was reported that the input does not have")
    raise _rules.square_overflow(i, _item(x, xs, i, dtype), _NAMES[dtype])


# The SIMD level by gilfree's one rule (GILFREE_SIMD, else the best the CPU
# runs), chosen at import.  gilfree._runtime warns about a bad GILFREE_SIMD;
# this module runs where that one may not be imported (subinterpreters), so
# it uses the best level silently then.  The same value in every interpreter
# (the environment is the process's), so the C static needs no module state.
cdef gf_chunk_fn _runner = gf_chunk_runner(<int>simd_choice()[0])


def _simd_level():
    """The name of the SIMD level this module's kernels run (for tests)."""
    cdef int i
    for i in range(GF_SIMD_NLEVELS):
        if gf_chunk_runner(i) == _runner:
            return gf_simd_name(i).decode()


cdef int _run(gf_task *t, void *ctx) except -1:
    """Every chunk of this round on the calling thread (_shared.run_here: the
    GIL released for calls of GF_GIL_RELEASE_MIN elements or more, a Ctrl-C
    seen between slices of GF_SIGNAL_CHECK_NS in the main interpreter)."""
    return run_here(t, _runner)


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
        With ``overflow='raise'``, naming the first element that overflows
        and its value before squaring; `out` (for ``out=x``, `x` itself) then
        holds unspecified values.

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
    cdef const char *xp
    cdef char *keep = NULL
    cdef char *tmp_out = NULL
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
        xp = <const char *>xv.buf
        sx = _stride(&xv)
        if (check and xv.buf == ov.buf) or not _aligned(&xv):
            # In place: keep the input, to name the element that overflows;
            # misaligned: the kernels need aligned elements.
            keep = _packed_copy(&xv, n)
            xp = keep
            sx = xv.itemsize
        memset(&t, 0, sizeof(t))
        t.op = GF_OP_SQUARE
        t.dtype = code
        t.check_overflow = check
        t.n = t.n1 = n
        t.n0 = 1
        t.x = xp
        t.xs1 = sx
        t.out = <char *>ov.buf
        t.os1 = _stride(&ov)
        if not _aligned(&ov):
            # squares land in an aligned buffer first, then are copied out
            tmp_out = _packed(&ov, n)
            t.out = tmp_out
            t.os1 = ov.itemsize
        run_rounds(&t, gf_plan_chunks(&t, xv.itemsize, GF_CHUNK_BYTES, 1), _run, NULL)
        if tmp_out != NULL:
            _copy_items(<char *>ov.buf, _stride(&ov), tmp_out, ov.itemsize, n, ov.itemsize)
        if t.overflowed:
            _raise_overflow(xp, sx, n, code)
        return result
    finally:
        PyMem_Free(keep)
        PyMem_Free(tmp_out)
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
    cdef char *keep = NULL
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
        if not _aligned(&xv):
            keep = _packed_copy(&xv, t.n)  # the kernels need aligned elements
            t.x = keep
            t.xs1 = xv.itemsize
        return reduce_rounds(&t, gf_plan_chunks(&t, xv.itemsize, GF_CHUNK_BYTES, GF_SPREAD_REDUCE),
                             isfloat, _run, NULL)
    finally:
        PyMem_Free(keep)
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
    cdef int64_t rounds = range_plan(start, stop, step, &t, GF_RANGE_CHUNK)
    t.op = GF_OP_RANGE_SUMSQ
    return reduce_rounds(&t, rounds, False, _run, NULL)
