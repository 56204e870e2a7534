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


def sum_squares_range(int64_t start, int64_t stop, int64_t step, int nthreads):
    """Exact sum of ``i*i`` over ``range(start, stop, step)`` (step > 0) with OpenMP."""
    cdef gf_task t
    cdef gf_u192 total
    cdef gf_chunk_fn run = gf_chunk_runner(gf_simd_best())
    cdef int64_t c
    if step <= 0:
        raise ValueError(f"`step` must be positive here, got {step}")
    if nthreads < 1:
        raise ValueError(f"`nthreads` must be a positive int, got {nthreads}")
    memset(&t, 0, sizeof(t))
    t.op = GF_OP_RANGE_SUMSQ
    t.start = start
    t.step = step
    t.n = (stop - start + step - 1) // step if stop > start else 0
    t.n0 = 1
    t.n1 = t.n
    t.chunk = 131072
    t.nchunks = (t.n + t.chunk - 1) // t.chunk
    if t.nchunks == 0:
        return 0
    t.ipartials = <gf_u192 *>PyMem_Malloc(t.nchunks * sizeof(gf_u192))
    if t.ipartials == NULL:
        raise MemoryError()
    try:
        with nogil:
            for c in prange(t.nchunks, num_threads=nthreads, schedule="static"):
                run(&t, c)
        gf_combine_u192(t.ipartials, t.nchunks, &total)
    finally:
        PyMem_Free(t.ipartials)
    return (<object>total.w[2] << 128) | (<object>total.w[1] << 64) | <object>total.w[0]
