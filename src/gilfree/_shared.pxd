# Argument helpers shared by gilfree._core (NumPy arrays, the pool) and
# gilfree._buffer (buffer-protocol objects, subinterpreters), so that both
# accept and reject the same ranges with the same messages.  Inline: each
# module gets its own copy and no module state is shared.
from cpython.number cimport PyNumber_Index
from libc.stdint cimport int64_t
from libc.string cimport memset

from ._gilfree cimport gf_plan_range, gf_task, gf_u192


cdef inline int64_t int64_arg(object v, str name) except? -1:
    """`v` as an int64, or the TypeError/ValueError of gilfree._rules.int64_arg."""
    if type(v) is int and -(1 << 63) <= v < (1 << 63):
        return v
    from gilfree import _rules
    return _rules.int64_arg(v, name)


cdef inline int overflow_check(object overflow) except -1:
    """1 for overflow='raise', 0 for 'wrap' (gilfree._rules.overflow_mode)."""
    if type(overflow) is str:
        if overflow == "wrap":
            return 0
        if overflow == "raise":
            return 1
    from gilfree import _rules
    return _rules.overflow_mode(overflow)


cdef inline int64_t range_plan(object start, object stop, object step, gf_task *t,
                               int64_t chunk) except -1:
    """Clear `t`, fill start/step/n for range(start, stop, step) and plan it in
    chunks of `chunk` terms; return the number of rounds (gf_round)."""
    cdef int64_t a, b, s
    if stop is None:
        a = 0
        b = int64_arg(start, "start")
    else:
        a = int64_arg(start, "start")
        b = int64_arg(stop, "stop")
    s = int64_arg(step, "step")
    if s == 0:
        from gilfree import _rules
        _rules.range_args(a, b, s)  # raises: `step` must not be zero
    # The length with Python ints: b - a can overflow int64.
    d = <object>b - <object>a
    if s > 0:
        n = (d + s - 1) // s if d > 0 else 0
    else:
        n = (d + s + 1) // s if d < 0 else 0
    if n > (1 << 63) - 1:
        from gilfree import _rules
        raise _rules.range_too_long(a, b, s, n)
    memset(t, 0, sizeof(t[0]))
    t.start = a
    t.step = s
    t.n = n
    t.n0 = 1
    t.n1 = n
    return gf_plan_range(t, chunk)


cdef inline object u192_to_int(gf_u192 *v):
    """The 192-bit unsigned sum as a Python int."""
    if v.w[1] == 0 and v.w[2] == 0:
        return v.w[0]
    return (<object>v.w[2] << 128) | (<object>v.w[1] << 64) | <object>v.w[0]


# ------------------------------------------------------------ SIMD level
from ._gilfree cimport (GF_SIMD_NLEVELS, gf_simd_best, gf_simd_compiled, gf_simd_name,
                        gf_simd_supported)


cdef inline tuple simd_choice():
    """``(level, reason, warning or None)``: the level GILFREE_SIMD asks for
    where this build and CPU run it, else the best (gilfree._rules.simd_choice)."""
    import os
    from gilfree import _rules
    names = {gf_simd_name(i).decode(): i for i in range(GF_SIMD_NLEVELS) if gf_simd_compiled(i)}
    supported = {name: bool(gf_simd_supported(i)) for name, i in names.items()}
    name, reason, warning = _rules.simd_choice(os.environ.get("GILFREE_SIMD", ""), supported,
                                               gf_simd_name(gf_simd_best()).decode())
    return names[name], reason, warning


# ------------------------------------------------ running a planned task
from cpython.exc cimport PyErr_CheckSignals
from cpython.mem cimport PyMem_Free, PyMem_Malloc

from ._gilfree cimport (GF_GIL_RELEASE_MIN, GF_SIGNAL_CHECK_NS, gf_chunk_fn, gf_combine_f64_into,
                        gf_combine_u192, gf_ksum_result, gf_now_ns, gf_round)


cdef inline void run_slice(gf_task *t, gf_chunk_fn run, int64_t *c) noexcept nogil:
    """Chunks from c[0] on until they are done or GF_SIGNAL_CHECK_NS passed."""
    cdef int64_t deadline = gf_now_ns() + GF_SIGNAL_CHECK_NS
    while c[0] < t.nchunks:
        run(t, c[0])
        c[0] += 1
        if gf_now_ns() >= deadline:
            return


cdef inline int run_here(gf_task *t, gf_chunk_fn run) except -1:
    """Every chunk of this round of `t` on the calling thread: the one
    single-thread run of every API.

    Calls on fewer than GF_GIL_RELEASE_MIN elements keep the GIL.  Others
    run with the GIL released, in slices of GF_SIGNAL_CHECK_NS, taking it
    back between slices to look for signals (a Ctrl-C raises there; only the
    main interpreter receives signals).  One chunk is run whole, without
    reading the clock.
    """
    cdef int64_t c = 0
    if t.n < GF_GIL_RELEASE_MIN:
        while c < t.nchunks:
            run(t, c)
            c += 1
        return 0
    if t.nchunks == 1:
        with nogil:
            run(t, 0)
        return 0
    while True:
        with nogil:
            run_slice(t, run, &c)
        if c >= t.nchunks:
            return 0
        if PyErr_CheckSignals() == -1:
            return -1

#: How a module runs every chunk of one round of a task (its pool, or the
#: calling thread), checking for signals as it goes.
ctypedef int (*run_fn)(gf_task *t, void *ctx) except -1


cdef inline int run_rounds(gf_task *t, int64_t rounds, run_fn run, void *ctx) except -1:
    """Run every round of a planned task that writes an output (square, fill)."""
    cdef int64_t r
    for r in range(rounds):
        if r:  # the planner set up round 0
            gf_round(t, r)
        run(t, ctx)
    return 0


cdef inline object reduce_rounds(gf_task *t, int64_t rounds, bint isfloat, run_fn run,
                                 void *ctx):
    """Run every round of a planned SUMSQ or RANGE_SUMSQ task and combine the
    per-chunk partials in chunk order: a float, or the exact sum as a Python
    int.  Rounds bound the partials' memory; they change no result (float
    partials go into one running compensated sum)."""
    cdef gf_u192 part
    cdef double sc[2]
    cdef int64_t r, size = t.nchunks  # round 0 is the largest
    cdef void *buf
    sc[0] = sc[1] = 0.0
    if rounds == 0:
        return 0.0 if isfloat else 0
    buf = PyMem_Malloc(size * (sizeof(double) if isfloat else sizeof(gf_u192)))
    if buf == NULL:
        raise MemoryError()
    if isfloat:
        t.fpartials = <double *>buf
    else:
        t.ipartials = <gf_u192 *>buf
    total = 0
    try:
        for r in range(rounds):
            if r:  # the planner set up round 0
                gf_round(t, r)
            run(t, ctx)
            if isfloat:
                gf_combine_f64_into(t.fpartials, t.nchunks, sc)
            else:
                gf_combine_u192(t.ipartials, t.nchunks, &part)
                total += u192_to_int(&part)
    finally:
        PyMem_Free(buf)
        t.fpartials = NULL
        t.ipartials = NULL
    return gf_ksum_result(sc) if isfloat else total
