# Argument helpers shared by gilfree._core (NumPy arrays, the pool) and
# gilfree._buffer (buffer-protocol objects, subinterpreters), so that both
# accept and reject the same ranges with the same messages.  Inline: each
# module gets its own copy and no module state is shared.
from cpython.number cimport PyNumber_Index
from libc.stdint cimport int64_t
from libc.string cimport memset

from ._gilfree cimport gf_task, gf_u192


cdef inline int64_t int64_arg(object v, str name) except? -1:
    """`v` as an int64, or TypeError/ValueError naming the argument."""
    if isinstance(v, bool) or not hasattr(type(v), "__index__"):
        raise TypeError(f"`{name}` must be an int, got {type(v).__name__} {v!r}")
    v = PyNumber_Index(v)
    if not (-(1 << 63) <= v < (1 << 63)):
        raise ValueError(f"`{name}` must fit in int64 ([-2**63, 2**63 - 1]), got {v}")
    return v


cdef inline int overflow_check(object overflow) except -1:
    """1 for overflow='raise', 0 for 'wrap', else ValueError naming it."""
    if overflow == "wrap":
        return 0
    if overflow == "raise":
        return 1
    raise ValueError(f"`overflow` must be 'wrap' or 'raise', got {overflow!r}")


cdef inline int64_t range_plan(object start, object stop, object step, gf_task *t) except -1:
    """Clear `t` and fill start/step/n for range(start, stop, step); return n."""
    cdef int64_t a, b, s
    if stop is None:
        a = 0
        b = int64_arg(start, "start")
    else:
        a = int64_arg(start, "start")
        b = int64_arg(stop, "stop")
    s = int64_arg(step, "step")
    if s == 0:
        raise ValueError("`step` must not be zero")
    # The length with Python ints: b - a can overflow int64.
    d = <object>b - <object>a
    if s > 0:
        n = (d + s - 1) // s if d > 0 else 0
    else:
        n = (d + s + 1) // s if d < 0 else 0
    if n > (1 << 63) - 1:
        raise ValueError(f"range({a}, {b}, {s}) has {n} elements; at most 2**63 - 1 are supported")
    memset(t, 0, sizeof(t[0]))
    t.start = a
    t.step = s
    t.n = n
    t.n0 = 1
    t.n1 = n
    return n


cdef inline object u192_to_int(gf_u192 *v):
    """The 192-bit unsigned sum as a Python int."""
    if v.w[1] == 0 and v.w[2] == 0:
        return v.w[0]
    return (<object>v.w[2] << 128) | (<object>v.w[1] << 64) | <object>v.w[0]


# ------------------------------------------- running a reduction, one way
from cpython.mem cimport PyMem_Free, PyMem_Malloc

from ._gilfree cimport gf_combine_f64, gf_combine_u192

#: How a module runs every chunk of a task (its pool, or the calling thread).
ctypedef int (*run_fn)(gf_task *t, void *ctx) except -1


cdef inline object reduce_chunks(gf_task *t, bint isfloat, run_fn run, void *ctx):
    """Run a planned SUMSQ task and combine its per-chunk partials in chunk
    order: a float, or the exact sum as a Python int."""
    cdef gf_u192 total
    cdef double ftotal
    if isfloat:
        t.fpartials = <double *>PyMem_Malloc(t.nchunks * sizeof(double))
        if t.fpartials == NULL:
            raise MemoryError()
        try:
            run(t, ctx)
            ftotal = gf_combine_f64(t.fpartials, t.nchunks)
        finally:
            PyMem_Free(t.fpartials)
            t.fpartials = NULL
        return ftotal
    t.ipartials = <gf_u192 *>PyMem_Malloc(t.nchunks * sizeof(gf_u192))
    if t.ipartials == NULL:
        raise MemoryError()
    try:
        run(t, ctx)
        gf_combine_u192(t.ipartials, t.nchunks, &total)
    finally:
        PyMem_Free(t.ipartials)
        t.ipartials = NULL
    return u192_to_int(&total)


cdef inline object range_rounds(gf_task *t, int64_t rchunk, int64_t round_chunks,
                                run_fn run, void *ctx):
    """Run a RANGE_SUMSQ task planned by range_plan in rounds of
    `round_chunks` chunks of `rchunk` terms, so chunks stay short (Ctrl-C is
    seen between them) and the partials stay small.  Integer sums are exact,
    so how the range is cut does not change the result."""
    cdef gf_u192 part
    cdef int64_t n = t.n, done = 0, per_round = rchunk * round_chunks
    if n == 0:
        return 0
    t.ipartials = <gf_u192 *>PyMem_Malloc(
        min((n + rchunk - 1) // rchunk, round_chunks) * sizeof(gf_u192))
    if t.ipartials == NULL:
        raise MemoryError()
    total = 0
    first = t.start
    step = t.step
    try:
        while done < n:
            t.start = first + <object>done * step  # Python ints: no int64 overflow
            t.n = t.n1 = min(per_round, n - done)
            t.chunk = rchunk
            t.nchunks = (t.n + rchunk - 1) // rchunk
            run(t, ctx)
            gf_combine_u192(t.ipartials, t.nchunks, &part)
            total += u192_to_int(&part)
            done += t.n
    finally:
        PyMem_Free(t.ipartials)
        t.ipartials = NULL
    return total
