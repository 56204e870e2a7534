# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, freethreading_compatible=True
"""The kernels written on gilfree's pool through the public parallel-for C-API.

The bench's ``gilfree-parallel-for`` row: the loops of ``gilfree._openmp``
(the ``gilfree-openmp`` row) as an extension author writes them with
``cimport gilfree.parallel as gp`` instead of ``prange``, so the two rows
compare the same bodies on two thread pools.  It is also a compiled, tested
example of the public ``gilfree/parallel.pxd``: a body
``cdef int body(void *ctx, int64_t begin, int64_t end) noexcept nogil``, one
``gp.parallel_for`` call without the GIL, then ``gp.check`` (Ctrl-C).

``square`` and ``sum_of_squares`` loop over typed memoryviews;
``sum_of_squares`` keeps one partial per chunk and adds them in chunk order,
so its result is the same for every thread count (a ``prange`` reduction's
is not).  ``sum_squares_range`` runs gilfree's own exact chunk kernel, one
kernel chunk per parallel-for index, since a plain int64 loop would wrap.
Built everywhere: it needs no OpenMP.
"""

from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from . cimport parallel as gp
from ._gilfree cimport GF_CHUNK_BYTES, GF_OP_RANGE_SUMSQ, GF_RANGE_CHUNK, gf_chunk_fn, gf_task
from ._runtime cimport chunk_runner
from ._shared cimport range_plan, reduce_rounds

gp.import_gilfree()

available = True

ctypedef fused num:
    double
    long long


cdef int _check(int rc) except -1:
    """Raise for a nonzero parallel_for result: the pending KeyboardInterrupt
    (or what a signal handler raised), else a RuntimeError."""
    gp.check(rc)
    if rc != 0:
        raise RuntimeError(f"gilfree parallel_for failed with code {rc}")
    return 0


cdef inline int64_t _grain(size_t itemsize) noexcept nogil:
    # gilfree's own chunk: GF_CHUNK_BYTES (512 KiB) of input, the size its
    # kernels cut arrays into, so both rows hand the threads the same pieces.
    return <int64_t>(GF_CHUNK_BYTES // itemsize)


cdef int _validate(int nthreads) except -1:
    if nthreads < 1:
        raise ValueError(f"`nthreads` must be a positive int, got {nthreads}")
    return 0


# ---------------------------------------------------------------- square

cdef struct _MapCtx:
    const void *x
    void *out


cdef int _square_f64(void *ctx, int64_t begin, int64_t end) noexcept nogil:
    cdef _MapCtx *c = <_MapCtx *>ctx
    cdef const double *x = <const double *>c.x
    cdef double *out = <double *>c.out
    cdef int64_t i
    for i in range(begin, end):
        out[i] = x[i] * x[i]
    return 0


cdef int _square_i64(void *ctx, int64_t begin, int64_t end) noexcept nogil:
    # unsigned arithmetic: int64 products wrap (defined in C only unsigned)
    cdef _MapCtx *c = <_MapCtx *>ctx
    cdef const unsigned long long *x = <const unsigned long long *>c.x
    cdef unsigned long long *out = <unsigned long long *>c.out
    cdef int64_t i
    for i in range(begin, end):
        out[i] = x[i] * x[i]
    return 0


def square(const num[::1] x, num[::1] out, int nthreads):
    """``out[i] = x[i] * x[i]`` on gilfree's pool (float64 or int64, contiguous)."""
    cdef Py_ssize_t n = x.shape[0]
    cdef _MapCtx ctx
    cdef int rc
    cdef gp.body_fn body
    if out.shape[0] != n:
        raise ValueError(f"`out` must have {n} elements, got {out.shape[0]}")
    _validate(nthreads)
    if n == 0:
        return out
    ctx.x = &x[0]
    ctx.out = &out[0]
    if num is double:
        body = _square_f64
    else:
        body = _square_i64
    with nogil:
        rc = gp.parallel_for(n, _grain(sizeof(num)), body, &ctx, nthreads)
    _check(rc)
    return out


# -------------------------------------------------------- sum_of_squares

cdef struct _ReduceCtx:
    const void *x
    void *partials
    int64_t grain


cdef int _sumsq_f64(void *ctx, int64_t begin, int64_t end) noexcept nogil:
    cdef _ReduceCtx *c = <_ReduceCtx *>ctx
    cdef const double *x = <const double *>c.x
    cdef double s = 0.0
    cdef int64_t i
    for i in range(begin, end):
        s += x[i] * x[i]
    (<double *>c.partials)[begin // c.grain] = s
    return 0


cdef int _sumsq_i64(void *ctx, int64_t begin, int64_t end) noexcept nogil:
    cdef _ReduceCtx *c = <_ReduceCtx *>ctx
    cdef const unsigned long long *x = <const unsigned long long *>c.x
    cdef unsigned long long s = 0
    cdef int64_t i
    for i in range(begin, end):
        s += x[i] * x[i]
    (<unsigned long long *>c.partials)[begin // c.grain] = s
    return 0


def sum_of_squares(const num[::1] x, int nthreads):
    """Sum of ``x[i] * x[i]`` on gilfree's pool (wraps for int64).

    One partial per chunk, added in chunk order: the same result for every
    thread count.
    """
    cdef Py_ssize_t n = x.shape[0]
    cdef _ReduceCtx ctx
    cdef int64_t k, nchunks
    cdef int rc
    cdef double fs = 0.0
    cdef unsigned long long us = 0
    cdef gp.body_fn body
    _validate(nthreads)
    if n == 0:
        return 0.0 if num is double else 0
    ctx.x = &x[0]
    ctx.grain = _grain(sizeof(num))
    nchunks = (n + ctx.grain - 1) // ctx.grain
    ctx.partials = malloc(nchunks * sizeof(num))
    if ctx.partials == NULL:
        raise MemoryError()
    if num is double:
        body = _sumsq_f64
    else:
        body = _sumsq_i64
    try:
        with nogil:
            rc = gp.parallel_for(n, ctx.grain, body, &ctx, nthreads)
        _check(rc)
        for k in range(nchunks):
            if num is double:
                fs += (<double *>ctx.partials)[k]
            else:
                us += (<unsigned long long *>ctx.partials)[k]
    finally:
        free(ctx.partials)
    if num is double:
        return fs
    else:
        return <long long>us


# ----------------------------------------------------- sum_squares_range

cdef struct _RangeCtx:
    gf_task *t
    gf_chunk_fn run
    int nthreads


cdef int _range_body(void *ctx, int64_t begin, int64_t end) noexcept nogil:
    cdef _RangeCtx *c = <_RangeCtx *>ctx
    cdef int64_t k
    for k in range(begin, end):
        c.run(c.t, k)
    return 0


cdef int _run_pfor(gf_task *t, void *ctx) except -1:
    """One round of chunks: one kernel chunk per parallel_for index."""
    cdef _RangeCtx *c = <_RangeCtx *>ctx
    cdef int rc
    c.t = t
    with nogil:
        rc = gp.parallel_for(t.nchunks, 1, _range_body, c, c.nthreads)
    return _check(rc)


def sum_squares_range(start, stop, step, int nthreads):
    """Exact sum of ``i*i`` over ``range(start, stop, step)`` on gilfree's pool.

    Bounds are checked, and the range planned, as in
    :func:`gilfree.sum_squares_range`.
    """
    cdef gf_task t
    cdef _RangeCtx ctx
    cdef int64_t rounds
    _validate(nthreads)
    ctx.run = chunk_runner()  # GILFREE_SIMD holds here too
    ctx.nthreads = nthreads
    rounds = range_plan(start, stop, step, &t, GF_RANGE_CHUNK)
    t.op = GF_OP_RANGE_SUMSQ
    return reduce_rounds(&t, rounds, False, _run_pfor, &ctx)
