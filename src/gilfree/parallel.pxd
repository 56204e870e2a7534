# cython: language_level=3
"""gilfree's pool for Cython extensions: a parallel for-loop without OpenMP.

    cimport gilfree.parallel as gp

    cdef int body(void *ctx, int64_t begin, int64_t end) noexcept nogil:
        ...
        return 0

    gp.import_gilfree()                  # once, at module level
    ...
    with nogil:
        rc = gp.parallel_for(n, grain, body, ctx, 0)
    gp.check(rc)                         # Ctrl-C: raises KeyboardInterrupt

Build with ``include_dirs=[gilfree.get_include()]``.  The C declarations,
with a ``gilfree_`` prefix, and the semantics are in gilfree/parallel.h;
docs/parallel-loops.md has a complete example.
"""

from libc.stdint cimport int64_t

# A loop body: runs the chunk [begin, end); 0 to go on, nonzero to stop the
# call (no new chunk starts; parallel_for returns the value).
ctypedef int (*body_fn)(void *ctx, int64_t begin, int64_t end) noexcept nogil

cdef extern from "gilfree/parallel.h":
    enum:
        # Ctrl-C (or another signal handler that raised) during the call:
        # call check(rc) to raise the exception.
        INTERRUPTED "GILFREE_INTERRUPTED"
        # n < 0, grain < 1, body == NULL or threads < 0.
        BAD_ARGUMENT "GILFREE_BAD_ARGUMENT"
        # import_gilfree() was not called in this module.
        NOT_IMPORTED "GILFREE_NOT_IMPORTED"
        # A signal handler forked during the call and this is the child.
        FORKED "GILFREE_FORKED"
        # The C-API version this module is built against.
        API_VERSION "GILFREE_PARALLEL_API_VERSION"

    # With the GIL, once, at module initialisation.  ImportError when the
    # installed gilfree is missing or older than these declarations.
    int import_gilfree() except -1

    # body(ctx, k*grain, min(n, (k+1)*grain)) exactly once for every chunk k,
    # on up to `threads` threads (0: gilfree's process default), the calling
    # thread working too.  0, the first nonzero body result, or a code above.
    int parallel_for "gilfree_parallel_for" (int64_t n, int64_t grain, body_fn body,
                                             void *ctx, int threads) nogil

    # The process default thread count (gilfree.set_num_threads, threadpoolctl).
    int num_threads "gilfree_num_threads" () nogil

    # With the GIL: rc == INTERRUPTED raises the pending KeyboardInterrupt (or
    # what the signal handler raised); any other rc is returned unchanged.
    int check "gilfree_check" (int rc) except? -1
