# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True, freethreading_compatible=True
"""gilfree's kernels on NumPy arrays: validation, dtypes, chunk planning.

Data flows one way: a public function validates its arguments, fills a
``gf_task`` (what to compute, split into fixed-size chunks by the planner in
csrc/), and hands it to :mod:`gilfree._runtime`, which runs the chunks on the
calling thread and the pool with the GIL released.  The C kernels (csrc/)
never see a Python object.

Every public function lives here rather than in ``__init__.py`` because its
argument handling is on the hot path: on 1,000 elements a pure-Python wrapper
alone costs more than ``np.square`` does.
"""

cimport cython
cimport numpy as cnp
from libc.stdint cimport int64_t, uint64_t
from libc.math cimport isfinite
from libc.string cimport memset

from ._gilfree cimport *
from ._runtime cimport chunk_bytes, default_threads, range_chunk, run, stream_min
from ._shared cimport overflow_check, range_plan, reduce_rounds, run_fn, run_rounds

import numpy as np

from . import _rules, _threads

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    cnp.ndarray PyArray_NewLikeArray(cnp.ndarray proto, cnp.NPY_ORDER order,
                                     void *descr, int subok)

# Bound once: module attribute lookups would cost more than a small kernel.
_override = _threads.override


cdef struct _RunArgs:
    int nthreads
    bint release


cdef int _run_cb(gf_task *t, void *ctx) except -1:
    """runtime.run in the shape the shared round helpers take."""
    cdef _RunArgs *a = <_RunArgs *>ctx
    return run(t, a.nthreads, a.release)


cdef int _resolve_threads(object threads) except -1:
    cdef long long n
    if threads is None:
        n = _override.get()
        return <int>n if n else default_threads()
    if type(threads) is int:
        n = threads if -(1 << 40) < threads < (1 << 40) else 0
        if 1 <= n <= GF_MAX_THREADS:
            return <int>n
    return _threads.validate_threads(threads)


# ----------------------------------------------------------- dtype handling
cdef inline int _int_code(Py_ssize_t size, int c1, int c2, int c4, int c8) noexcept:
    # C int types are named by size per platform (long is 4 or 8 bytes).
    if size == 1:
        return c1
    if size == 2:
        return c2
    if size == 4:
        return c4
    if size == 8:
        return c8
    return -1


cdef int _gf_dtype(cnp.ndarray a) noexcept:
    """gf_dtype of a native-order array, or -1.  Pure C: it runs twice per call."""
    cdef int tn = cnp.PyArray_TYPE(a)
    cdef Py_ssize_t size = cnp.PyArray_ITEMSIZE(a)
    if tn == cnp.NPY_DOUBLE:
        return GF_FLOAT64
    if tn == cnp.NPY_FLOAT:
        return GF_FLOAT32
    if (tn == cnp.NPY_BYTE or tn == cnp.NPY_SHORT or tn == cnp.NPY_INT or
            tn == cnp.NPY_LONG or tn == cnp.NPY_LONGLONG):
        return _int_code(size, GF_INT8, GF_INT16, GF_INT32, GF_INT64)
    if (tn == cnp.NPY_UBYTE or tn == cnp.NPY_USHORT or tn == cnp.NPY_UINT or
            tn == cnp.NPY_ULONG or tn == cnp.NPY_ULONGLONG):
        return _int_code(size, GF_UINT8, GF_UINT16, GF_UINT32, GF_UINT64)
    return -1


# Computed through NumPy (the slow twin) with NumPy's own results.
_NUMPY_KINDS = frozenset("bfc")  # bool, float16/longdouble, complex


cdef cnp.ndarray _as_input(object x, str name,
                           str expected="a bool, integer, float or complex dtype"):
    """`x` as a numeric ndarray with a native byte order, or a TypeError naming it.

    `expected` words the error for the caller (sum_of_squares rejects complex
    later, with its own reason).
    """
    cdef cnp.ndarray a
    if type(x) is np.ndarray:
        a = <cnp.ndarray>x
    else:
        try:
            a = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"`{name}` must be array-like of numbers: {exc}") from None
    if (_gf_dtype(a) >= 0 and cnp.PyArray_ISNOTSWAPPED(a) and cnp.PyArray_ISALIGNED(a)):
        return a  # the common case, decided without touching Python attributes
    if a.dtype.kind not in "biufc":
        hint = ""
        if a.dtype.kind == "O":
            hint = (" (NumPy made an object array: Python ints beyond 64 bits, or mixed "
                    "or non-numeric values)")
        raise TypeError(f"`{name}` has unsupported dtype {a.dtype}{hint}: expected {expected}")
    if not cnp.PyArray_ISNOTSWAPPED(a):
        a = a.astype(a.dtype.newbyteorder("="))
    if not cnp.PyArray_ISALIGNED(a):
        a = a.copy()
    return a


cdef bint _collapse_2d(int ndim, cnp.npy_intp *shape, cnp.npy_intp *xs,
                       cnp.npy_intp *os, gf_task *t) noexcept:
    """Describe a C-order walk over (x, out) as a 2-D strided view, if it is one.

    Size-1 axes are dropped and neighbouring axes merged where both arrays
    step evenly across them.  False if more than two axes remain.
    """
    cdef int64_t dims[3]
    cdef int64_t xst[3]
    cdef int64_t ost[3]
    cdef int k = 0, i
    for i in range(ndim):
        if shape[i] == 1:
            continue
        if (k > 0 and xst[k - 1] == xs[i] * shape[i] and ost[k - 1] == os[i] * shape[i]):
            dims[k - 1] *= shape[i]
            xst[k - 1] = xs[i]
            ost[k - 1] = os[i]
            continue
        if k == 2:
            return False
        dims[k] = shape[i]
        xst[k] = xs[i]
        ost[k] = os[i]
        k += 1
    if k == 0:
        t.n0 = 1; t.n1 = 1; t.xs0 = 0; t.xs1 = 0; t.os0 = 0; t.os1 = 0
    elif k == 1:
        t.n0 = 1; t.n1 = dims[0]; t.xs0 = 0; t.xs1 = xst[0]; t.os0 = 0; t.os1 = ost[0]
    else:
        t.n0 = dims[0]; t.n1 = dims[1]
        t.xs0 = xst[0]; t.xs1 = xst[1]; t.os0 = ost[0]; t.os1 = ost[1]
    return True


# ----------------------------------------------------------- overflow errors
def _raise_overflow(a):
    """Raise the OverflowError naming the first element (C order) of the
    input `a` whose square overflows: found by the kernels' own test
    (gf_first_overflow) for their dtypes, by NumPy's for the others."""
    cdef gf_task t
    cdef cnp.ndarray c
    cdef int code = _gf_dtype(a)
    cdef int64_t flat
    if code >= 0:
        c = np.ascontiguousarray(a)  # C order: the order the error promises
        memset(&t, 0, sizeof(t))
        t.dtype = code
        t.x = <const char *>cnp.PyArray_DATA(c)
        t.n = t.n1 = cnp.PyArray_SIZE(c)
        t.n0 = 1
        t.xs1 = cnp.PyArray_ITEMSIZE(c)
        flat = gf_first_overflow(&t)
    else:
        with np.errstate(all="ignore"):
            hits = np.flatnonzero(np.isfinite(a) & ~np.isfinite(np.square(a)))
        flat = hits[0] if hits.size else -1
    if flat < 0:
        raise AssertionError("an overflow was reported that the input does not have")
    if a.ndim == 0:
        idx = None
        v = a[()]
    else:
        idx = flat if a.ndim == 1 else tuple(int(i) for i in np.unravel_index(flat, a.shape))
        v = a[idx]
    raise _rules.square_overflow(idx, v.item(), a.dtype.name)


# ------------------------------------------------------ np.errstate replay
# The float kernels return the IEEE status flags their chunks raised
# (csrc/gf_fpstatus.h, NumPy's NPY_FPE_* bits).  When a call raised any,
# NumPy itself handles them: np.square runs on one representative element
# per flag (its square raises exactly that flag), so the warning, exception,
# errcall/log call and their text are NumPy's own, under the error state of
# the calling thread.  The call is made from compiled code: no Python frame
# of gilfree's sits between it and the caller, so a warning is attributed to
# the caller's line, as np.square's is.  Nothing of this runs (not even
# np.geterr) when no flag was raised.
_fp_samples = {}


def _fp_sample(dtype, int status):
    """A small array of `dtype` whose np.square raises exactly `status`."""
    key = (dtype, status)
    s = _fp_samples.get(key)
    if s is None:
        fi = np.finfo(dtype)
        vals = []
        if status & GF_FPE_OVERFLOW:
            vals.append(np.array([fi.max], dtype))
        if status & GF_FPE_UNDERFLOW:
            vals.append(np.array([fi.smallest_normal], dtype))
        if status & GF_FPE_INVALID:
            u = {4: np.uint32, 8: np.uint64}[dtype.itemsize]
            nan = np.array([np.nan], dtype).view(u)
            # Quiet NaN minus its quiet bit (the mantissa's top bit), plus a
            # low bit so it stays a NaN: a signalling NaN.
            quiet = u(1) << u(fi.nmant - 1)
            vals.append(((nan & ~quiet) | u(1)).view(dtype))
        s = np.concatenate(vals) if vals else np.empty(0, dtype)
        s.flags.writeable = False
        _fp_samples[key] = s
    return s


cdef inline bint _outgrows_cache(int64_t nbytes) noexcept:
    """Whether a call touching `nbytes` works from memory rather than cache
    (gf_task.stream): the runtime's threshold, the last-level cache size."""
    return nbytes >= stream_min()


cdef inline int _sumsq_overflowed(cnp.ndarray a) except -1:
    """1 if a finite element's square, or the sum of the finite squares, is
    not finite as the float64 the result is (squares and sum formed in
    float64; longdouble: in longdouble, then converted)."""
    with np.errstate(all="ignore"):
        fin = a[np.isfinite(a)]
        if a.dtype.itemsize <= 8:
            fin = fin.astype(np.float64)
        sq = np.square(fin)
        return 0 if np.isfinite(sq).all() and isfinite(float(np.sum(sq))) else 1


# ------------------------------------------------------------------- square
cdef bint _same_shape(cnp.ndarray a, cnp.ndarray b) noexcept:
    cdef int i, nd = cnp.PyArray_NDIM(a)
    if cnp.PyArray_NDIM(b) != nd:
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(a)[i] != cnp.PyArray_DIMS(b)[i]:
            return False
    return True


cdef void _extent(cnp.ndarray a, char **lo, char **hi) noexcept:
    """First and one-past-last byte `a` can touch (NumPy's bounds check)."""
    cdef char *p = <char *>cnp.PyArray_DATA(a)
    cdef char *q = p
    cdef int i
    cdef cnp.npy_intp d, st
    for i in range(cnp.PyArray_NDIM(a)):
        d = cnp.PyArray_DIMS(a)[i]
        st = cnp.PyArray_STRIDES(a)[i]
        if d == 0:
            lo[0] = hi[0] = p
            return
        if st < 0:
            p += (d - 1) * st
        else:
            q += (d - 1) * st
    lo[0] = p
    hi[0] = q + cnp.PyArray_ITEMSIZE(a)


cdef bint _may_overlap(cnp.ndarray a, cnp.ndarray b) noexcept:
    """np.may_share_memory(a, b) (bounds only), without a Python call."""
    cdef char *alo
    cdef char *ahi
    cdef char *blo
    cdef char *bhi
    _extent(a, &alo, &ahi)
    _extent(b, &blo, &bhi)
    return alo < bhi and blo < ahi and alo < ahi and blo < bhi


cdef inline object _unwrap0d(cnp.ndarray r):
    # np.square gives a NumPy scalar for 0-d input.  (PyArray_Return would do
    # this too, but it steals a reference.)
    return r[()] if cnp.PyArray_NDIM(r) == 0 else r


cdef object _square(object x, object out, object threads, object overflow, bint release):
    cdef cnp.ndarray a, o, res
    cdef gf_task t
    cdef _RunArgs args
    cdef int code, nthreads, check
    cdef int64_t rounds
    cdef bint given_out = out is not None, via_tmp = False
    check = overflow_check(overflow)
    nthreads = _resolve_threads(threads)
    a = _as_input(x, "x")
    code = _gf_dtype(a)
    if given_out:
        if type(out) is not np.ndarray and not isinstance(out, np.ndarray):
            raise TypeError(f"`out` must be a numpy.ndarray or None, got {type(out).__name__}")
        o = <cnp.ndarray>out
        if not _same_shape(a, o):
            raise ValueError(f"`out` must have the shape of `x`, {(<object>a).shape}, "
                             f"got {(<object>o).shape}")
        if code >= 0 and cnp.PyArray_EquivTypes(o.descr, a.descr):
            rdt = None  # the usual case, checked in C
        else:
            rdt = ((<object>a).dtype if code >= 0
                   else np.square.resolve_dtypes(((<object>a).dtype, None))[1])
        if rdt is not None and o.dtype != rdt and o.dtype.newbyteorder("=") != rdt:
            raise TypeError(f"`out` must have dtype {rdt} (np.square's result for `x` of dtype "
                            f"{a.dtype}), got {o.dtype}")
        if not cnp.PyArray_ISWRITEABLE(o):
            raise ValueError("`out` is read-only: pass a writeable array")
    if code < 0:
        # bool, float16, longdouble, complex: NumPy's own loop and results,
        # and NumPy's np.errstate handling.  overflow='raise' takes overflow
        # out of errstate's hands (OverflowError); the other errors stay
        # with it.
        if check and given_out and _may_overlap(a, o):
            a = a.copy()  # NumPy writes `out` first: keep the input to name the element
        # A NumPy scalar goes to np.square as it is, and without `out` (which
        # would take the ufunc path): NumPy's scalar math may round a complex
        # square differently from its array loop (complex64: the last bit),
        # and np.square(x) is the promise.
        sq_args = (a, out) if given_out else (x if isinstance(x, np.generic) else a,)
        if check:
            over = False
            with np.errstate(over="raise"):
                try:
                    return np.square(*sq_args)
                except FloatingPointError:
                    with np.errstate(all="ignore"):
                        over = bool((np.isfinite(a) & ~np.isfinite(np.square(a))).any())
                    if not over:
                        raise
            _raise_overflow(a)
        return np.square(*sq_args)
    if given_out:
        if o is not a and _may_overlap(a, o):
            # Exact in-place (same memory, same steps) is safe element by
            # element; any other overlap would read squares as inputs.
            if not (cnp.PyArray_DATA(a) == cnp.PyArray_DATA(o) and (<object>a).strides == (<object>o).strides):
                a = a.copy()
        if check and _may_overlap(a, o):
            a = a.copy()  # keep the input to name the offending element
        res = o
        if not cnp.PyArray_ISALIGNED(o) or not cnp.PyArray_ISNOTSWAPPED(o):
            res = PyArray_NewLikeArray(a, cnp.NPY_KEEPORDER, NULL, 0)
            via_tmp = True
    else:
        res = PyArray_NewLikeArray(a, cnp.NPY_KEEPORDER, NULL, 0)

    memset(&t, 0, sizeof(t))
    t.op = GF_OP_SQUARE
    t.dtype = code
    t.check_overflow = check
    t.n = cnp.PyArray_SIZE(a)
    if t.n == 0:
        return o if given_out else _unwrap0d(res)
    if ((cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_IS_C_CONTIGUOUS(res)) or
            (cnp.PyArray_IS_F_CONTIGUOUS(a) and cnp.PyArray_IS_F_CONTIGUOUS(res))):
        # Same memory order: one flat run over memory.
        t.n0 = 1
        t.n1 = t.n
        t.xs1 = t.os1 = cnp.PyArray_ITEMSIZE(a)
    elif not _collapse_2d(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.PyArray_STRIDES(a),
                          cnp.PyArray_STRIDES(res), &t):
        # A view that no 2-D walk describes (3+ axes sliced): copy it once.
        a = np.ascontiguousarray(a)
        if not cnp.PyArray_IS_C_CONTIGUOUS(res):
            res = np.empty((<object>a).shape, a.dtype)
            via_tmp = given_out
        t.n0 = 1
        t.n1 = t.n
        t.xs1 = t.os1 = cnp.PyArray_ITEMSIZE(a)
    t.x = <const char *>cnp.PyArray_DATA(a)
    t.out = <char *>cnp.PyArray_DATA(res)
    t.stream = _outgrows_cache(2 * t.n * cnp.PyArray_ITEMSIZE(a))  # read + written
    rounds = gf_plan_chunks(&t, cnp.PyArray_ITEMSIZE(a), chunk_bytes(),
                            GF_SPREAD_PER_THREAD * nthreads if nthreads > 1 else 1)
    args.nthreads = nthreads
    args.release = release
    run_rounds(&t, rounds, _run_cb, &args)
    if t.overflowed:
        _raise_overflow(a)
    if via_tmp:
        np.copyto(o, res)
    if t.fpstatus:
        # overflow='raise' has raised above if a square overflowed.
        np.square(_fp_sample((<object>a).dtype, t.fpstatus))
    if given_out:
        return o
    return _unwrap0d(res)


def square(x, /, out=None, *, threads=None, overflow="wrap"):
    """Elementwise square ``x * x``, computed with the GIL released.

    Same values, dtype and shape as ``np.square(x)``.  The native kernels cover
    int8-int64, uint8-uint64, float32 and float64 in any layout (C or Fortran
    order, strided, negative strides) without copying.  bool, float16,
    longdouble and complex inputs are computed by NumPy itself (identical
    results, on the calling thread); any other dtype is a TypeError.

    Parameters
    ----------
    x : array_like
        Input numbers. Lists and scalars are converted with ``np.asarray``;
        a non-native byte order (``'>f8'``) is converted first.
    out : ndarray, optional
        Where to write the result: same shape and exactly the dtype of `x`,
        writeable.  May be `x` itself (in place); any other overlap with `x`
        is handled by copying `x` first, as NumPy does.
    threads : int, optional
        Threads to use, the caller included; default: :func:`get_num_threads`.
        Inputs of at most ``config()["parallel_min_bytes"]`` bytes (128 KiB)
        run on the calling thread alone.
    overflow : {'wrap', 'raise'}, optional
        'wrap' (default) wraps integers modulo 2**bits like NumPy. 'raise'
        raises OverflowError naming the first element (in C order) whose
        square does not fit, or, for floats, whose finite value squares to
        inf; for that overflow it takes precedence over ``np.errstate``.

    Returns
    -------
    ndarray
        `out` if given, else a new array (a NumPy scalar for 0-d input, as
        ``np.square`` returns).

    Warns
    -----
    RuntimeWarning
        Float overflow, underflow and invalid operations are reported
        through ``np.errstate`` / ``np.seterr`` exactly as ``np.square``
        reports them (with NumPy's defaults: a warning for overflow, e.g.
        ``overflow encountered in square``); see ``docs/ecosystem.md``.

    Raises
    ------
    TypeError
        `x` has a dtype that is not a number, `out` is not an ndarray or has
        another dtype, `threads` is not an int.
    ValueError
        `out` has another shape or is read-only, `threads` is out of range,
        `overflow` is not 'wrap' or 'raise'.
    OverflowError
        With ``overflow='raise'``, when a square does not fit.  `out` then
        holds unspecified values (for ``out=x``, `x` itself); the message
        names the element's index and its value before squaring.
    FloatingPointError
        When ``np.errstate`` says ``"raise"`` for an error that occurred (the
        result is written first, as with ``np.square``).

    Examples
    --------
    >>> import numpy as np, gilfree
    >>> gilfree.square(np.arange(5))
    array([ 0,  1,  4,  9, 16])
    >>> x = np.array([1.5, -2.0])
    >>> gilfree.square(x, out=x)
    array([2.25, 4.  ])
    >>> gilfree.square(np.array([100], dtype=np.int8), overflow="raise")
    Traceback (most recent call last):
    ...
    OverflowError: square overflows at index 0: 100**2 = 10000 ...
    """
    return _square(x, out, threads, overflow, True)


def square_holding_gil(x, out=None):
    """`square` with the GIL held throughout (the bench's control)."""
    return _square(x, out, 1, "wrap", False)


# ----------------------------------------------------------- sum of squares
cdef object _sum_of_squares(object x, object threads, bint release):
    cdef cnp.ndarray a
    cdef gf_task t
    cdef _RunArgs args
    cdef int code, nthreads
    cdef int64_t rounds
    cdef bint isfloat
    nthreads = _resolve_threads(threads)
    a = _as_input(x, "x", "a bool, integer or float dtype")
    code = _gf_dtype(a)
    if code < 0:
        kind = a.dtype.kind
        if kind == "c":
            raise TypeError(f"`x` has unsupported dtype {a.dtype}: the sum of squares of "
                            "complex numbers is ambiguous; pass x.real/x.imag or abs(x)")
        if kind == "b":
            return int(np.count_nonzero(a))
        if a.dtype.itemsize < 8:  # float16: exact in float64
            a = a.astype(np.float64)
            code = GF_FLOAT64
        else:  # longdouble: keep NumPy's precision; overflow reported as below
            with np.errstate(all="ignore"):
                r = float(np.sum(np.square(a)))
            if not isfinite(r) and _sumsq_overflowed(a):
                s = _fp_sample(a.dtype, GF_FPE_OVERFLOW)
                np.dot(s, s)
            return r
    memset(&t, 0, sizeof(t))
    t.op = GF_OP_SUMSQ
    t.dtype = code
    t.n = cnp.PyArray_SIZE(a)
    isfloat = code == GF_FLOAT32 or code == GF_FLOAT64
    if t.n == 0:
        return 0.0 if isfloat else 0
    if cnp.PyArray_IS_C_CONTIGUOUS(a) or cnp.PyArray_IS_F_CONTIGUOUS(a):
        t.n0 = 1
        t.n1 = t.n
        t.xs1 = cnp.PyArray_ITEMSIZE(a)
    elif not _collapse_2d(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.PyArray_STRIDES(a),
                          cnp.PyArray_STRIDES(a), &t):
        a = np.ascontiguousarray(a)
        t.n0 = 1
        t.n1 = t.n
        t.xs1 = cnp.PyArray_ITEMSIZE(a)
    t.x = <const char *>cnp.PyArray_DATA(a)
    rounds = gf_plan_chunks(&t, cnp.PyArray_ITEMSIZE(a), chunk_bytes(), GF_SPREAD_REDUCE)
    args.nthreads = nthreads
    args.release = release
    r = reduce_rounds(&t, rounds, isfloat, _run_cb, &args)
    if isfloat and not isfinite(<double>r) and _sumsq_overflowed(a):
        # np.dot(x, x) is the reference: NumPy reports its overflow through
        # np.errstate ("overflow encountered in dot"); so does this, with
        # NumPy's own handling (see _fp_sample).  Underflow and invalid are
        # not reported: the compensated sum's own arithmetic raises flags
        # np.dot would not.
        s = _fp_sample(np.dtype(np.float64), GF_FPE_OVERFLOW)
        np.dot(s, s)
    return r


def sum_of_squares(x, /, *, threads=None):
    """Sum of ``x * x`` over all elements, computed with the GIL released.

    Integers give the exact sum as a Python int, with no wrapping (NumPy's
    ``np.sum(x * x)`` wraps silently).  Floats are accumulated in float64
    with many independent accumulators (so the loop vectorizes) in blocks
    whose totals are added with compensation: at least as accurate as
    ``np.sum(x.astype(np.float64) ** 2)``.  The work is split in fixed
    chunks combined in a fixed order, so the result is bit-identical for any
    `threads` and any SIMD level.  The elements are read in memory order when
    `x` is C- or F-contiguous and in C (row-major) order otherwise, and the
    result depends only on that sequence of values: ``x`` and ``x.T`` give
    the same bits, while an F-ordered array and its C-ordered copy may differ
    in the last bit.

    Parameters
    ----------
    x : array_like
        Integer, bool or float input of any shape and layout.
    threads : int, optional
        Threads to use, the caller included; default: :func:`get_num_threads`.

    Returns
    -------
    int or float
        A Python int for integer and bool input, a Python float for float16,
        float32, float64 and longdouble input (longdouble: summed by NumPy
        in longdouble, then converted to float).

    Warns
    -----
    RuntimeWarning
        When a finite input's square or the sum overflows float64 (the
        result is then inf; for longdouble input, also when the longdouble
        sum is finite but beyond float64), reported through ``np.errstate`` exactly as
        ``np.dot(x, x)`` reports it (``overflow encountered in dot``).
        Underflow is not reported; see ``docs/ecosystem.md``.

    Raises
    ------
    TypeError
        For complex or non-numeric input, or a non-int `threads`.
    ValueError
        For `threads` out of range.
    FloatingPointError
        On that overflow under ``np.errstate(over="raise")``.

    Examples
    --------
    >>> import numpy as np, gilfree
    >>> gilfree.sum_of_squares(np.array([3, 4]))
    25
    >>> big = np.full(3, np.iinfo(np.int64).max)
    >>> gilfree.sum_of_squares(big) == 3 * (2**63 - 1) ** 2
    True
    >>> gilfree.sum_of_squares([0.5, 1.5])
    2.5
    """
    return _sum_of_squares(x, threads, True)


def sum_of_squares_holding_gil(x):
    """`sum_of_squares` with the GIL held throughout (the bench's control)."""
    return _sum_of_squares(x, 1, False)


# -------------------------------------------------------------------- ranges
cdef object _sum_squares_range(object start, object stop, object step, object threads,
                               bint release):
    cdef gf_task t
    cdef _RunArgs args
    cdef int64_t rounds
    args.nthreads = _resolve_threads(threads)
    args.release = release
    rounds = range_plan(start, stop, step, &t, range_chunk())
    t.op = GF_OP_RANGE_SUMSQ
    return reduce_rounds(&t, rounds, False, _run_cb, &args)


def sum_squares_range(start, stop=None, step=1, *, threads=None):
    """Exact ``sum(i * i for i in range(start, stop, step))``, without the GIL.

    The classic CPU-bound loop, run in C: a real loop with one multiply per
    term (vectorized, 32x32->64-bit products while terms are below 2**32,
    128-bit products beyond), summed exactly in 192 bits.

    Parameters
    ----------
    start : int
        First value, or the stop value when `stop` is omitted (like ``range``).
    stop : int, optional
        End of the range (exclusive).
    step : int, optional
        Non-zero step, default 1.
    threads : int, optional
        Threads to use, the caller included; default: :func:`get_num_threads`.

    Returns
    -------
    int
        The exact sum, a Python int (it may exceed 64 bits).

    Raises
    ------
    TypeError
        If a bound is not an int (bool and float are rejected).
    ValueError
        If a bound does not fit in int64 or `step` is zero.

    Examples
    --------
    >>> import gilfree
    >>> gilfree.sum_squares_range(4)
    14
    >>> gilfree.sum_squares_range(10, 0, -3)  # 10, 7, 4, 1
    166
    >>> gilfree.sum_squares_range(2**62, 2**62 + 2) == 2**124 + (2**62 + 1) ** 2
    True
    """
    return _sum_squares_range(start, stop, step, threads, True)


def sum_squares_range_holding_gil(start, stop=None, step=1):
    """`sum_squares_range` with the GIL held throughout (the bench's control)."""
    return _sum_squares_range(start, stop, step, 1, False)


def squares_range(start, stop=None, step=1, *, dtype=np.int64, threads=None):
    """The squares of ``range(start, stop, step)`` as an array.

    Equal to ``np.square(np.arange(start, stop, step, dtype=np.int64).astype(dtype))``:
    each value is converted to `dtype` (wrapping like NumPy's cast) and squared
    in it (integers wrap modulo 2**bits).

    Parameters
    ----------
    start, stop, step : int
        As for ``range``; bounds must fit in int64, `step` must not be zero.
    dtype : dtype, optional
        One of int8-int64, uint8-uint64, float32, float64; default int64.
    threads : int, optional
        Threads to use, the caller included; default: :func:`get_num_threads`.

    Returns
    -------
    ndarray
        1-D, C-contiguous, of `dtype`.

    Raises
    ------
    TypeError
        If a bound is not an int or `dtype` is not supported.
    ValueError
        If a bound does not fit in int64 or `step` is zero.

    Examples
    --------
    >>> import numpy as np, gilfree
    >>> gilfree.squares_range(5)
    array([ 0,  1,  4,  9, 16])
    >>> gilfree.squares_range(1, 4, dtype=np.float32)
    array([1., 4., 9.], dtype=float32)
    """
    cdef gf_task t
    cdef _RunArgs args
    cdef cnp.ndarray res
    cdef int code
    cdef int64_t rounds
    cdef int nthreads = _resolve_threads(threads)
    try:
        if dtype is None:
            raise TypeError
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"`dtype` must be a NumPy dtype, got {dtype!r}") from None
    # A subarray dtype ('(2,)i8') would make np.empty below hold 2n items of
    # which n get written; structured and other kinds have no square here.
    if dt.subdtype is not None or dt.names is not None or dt.kind not in "iuf":
        raise TypeError(f"`dtype` must be one of int8-int64, uint8-uint64, float32, float64; "
                        f"got {dt}")
    native = dt.newbyteorder("=")  # np.square of a byte-swapped array is native
    range_plan(start, stop, step, &t, 1)
    code = _gf_dtype(np.empty(0, native))
    if code < 0:
        raise TypeError(f"`dtype` must be one of int8-int64, uint8-uint64, float32, float64; "
                        f"got {dt}")
    res = np.empty(t.n, native)
    t.op = GF_OP_RANGE_FILL
    t.dtype = code
    t.out = <char *>cnp.PyArray_DATA(res)
    t.os1 = cnp.PyArray_ITEMSIZE(res)
    args.nthreads = nthreads
    args.release = True
    rounds = gf_plan_chunks(&t, t.os1, chunk_bytes(),
                            GF_SPREAD_PER_THREAD * nthreads if nthreads > 1 else 1)
    run_rounds(&t, rounds, _run_cb, &args)
    return res  # native byte order, as np.square gives for any `dtype`
