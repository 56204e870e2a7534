# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, freethreading_compatible=True
"""Cython ``prange`` versions of the kernels: the OpenMP peer in the bench.

Built only where the compiler has OpenMP (not Apple clang), and imported only
by the bench: libgomp's threads do not survive ``fork()``, which is why
gilfree's own pool is not OpenMP.  ``square`` and ``sum_of_squares`` are the
loops a user would write with ``prange`` over typed memoryviews;
``sum_squares_range`` runs gilfree's own chunk kernel under an OpenMP
``schedule(static)`` loop, since a plain int64 ``prange`` reduction would wrap.
"""

from cython.parallel cimport prange
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int64_t
from libc.string cimport memset

from ._gilfree cimport *
from ._runtime cimport chunk_runner
from ._shared cimport range_plan, reduce_rounds

available = True

ctypedef fused num:
    double
    long long


def square(const num[::1] x, num[::1] out, int nthreads):
    """``out[i] = x[i] * x[i]`` with ``prange`` (float64 or int64, contiguous)."""
    cdef Py_ssize_t i, n = x.shape[0]
    if out.shape[0] != n:
        raise ValueError(f"`out` must have {n} elements, got {out.shape[0]}")
    if nthreads < 1:
        raise ValueError(f"`nthreads` must be a positive int, got {nthreads}")
    with nogil:
        for i in prange(n, num_threads=nthreads, schedule="static"):
            out[i] = x[i] * x[i]
    return out


def sum_of_squares(const num[::1] x, int nthreads):
    """Sum of ``x[i] * x[i]`` with a ``prange`` reduction (wraps for int64)."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef num s = 0
    if nthreads < 1:
        raise ValueError(f"`nthreads` must be a positive int, got {nthreads}")
    with nogil:
        for i in prange(n, num_threads=nthreads, schedule="static"):
            s += x[i] * x[i]
    return s


cdef struct _OmpArgs:
    gf_chunk_fn run
    int nthreads


cdef int _run_omp(gf_task *t, void *ctx) except -1:
    """One round of chunks under an OpenMP schedule(static) loop."""
    cdef _OmpArgs *a = <_OmpArgs *>ctx
    cdef int64_t c
    with nogil:
        for c in prange(t.nchunks, num_threads=a.nthreads, schedule="static"):
            a.run(t, c)
    return 0


def _simd_level():
    """The name of the SIMD level this module's kernels run (for tests)."""
    cdef int i
    for i in range(GF_SIMD_NLEVELS):
        if gf_chunk_runner(i) == chunk_runner():
            return gf_simd_name(i).decode()


def sum_squares_range(start, stop, step, int nthreads):
    """Exact sum of ``i*i`` over ``range(start, stop, step)`` with OpenMP.

    Bounds are checked, and the range planned, as in
    :func:`gilfree.sum_squares_range`.
    """
    cdef gf_task t
    cdef _OmpArgs args
    cdef int64_t rounds
    if nthreads < 1:
        raise ValueError(f"`nthreads` must be a positive int, got {nthreads}")
    args.run = chunk_runner()  # GILFREE_SIMD holds here too
    args.nthreads = nthreads
    rounds = range_plan(start, stop, step, &t, GF_RANGE_CHUNK)
    t.op = GF_OP_RANGE_SUMSQ
    return reduce_rounds(&t, rounds, False, _run_omp, &args)
