# The runtime's C-level interface, for gilfree._core: how a planned task is
# run (the pool, signal checks, fork safety), the chunk sizes in force and
# the process default thread count.
from libc.stdint cimport int64_t

from ._gilfree cimport gf_chunk_fn, gf_task

cdef int run(gf_task *t, int nthreads, bint release) except -1
cdef int64_t chunk_bytes() noexcept
cdef int64_t range_chunk() noexcept
cdef int64_t stream_min() noexcept
# The process default thread count (csrc/gf_threads.c).
cdef int default_threads() noexcept nogil
# The chunk runner of the SIMD level in force (GILFREE_SIMD or the best), for
# every module that runs kernels in this interpreter.
cdef gf_chunk_fn chunk_runner() noexcept
