# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True, freethreading_compatible=True
"""The runtime of gilfree's NumPy API: how planned work runs.

One home for everything that is process state rather than arithmetic: the
process default thread count (the C int of csrc/gf_threads.c that
threadpoolctl drives; :mod:`gilfree._threads` holds the policy around it),
the tuning constants in force (defined in csrc/gilfree.h, changed only
through :func:`tuning`), the SIMD level and pool spin chosen from the
environment, the pool's life (created on first use, replaced in a forked
child), and :c:func:`run`, which shares a task's chunks between the calling
thread and the pool with the GIL released, checking for signals every
``GF_SIGNAL_CHECK_NS``.  :mod:`gilfree._core` validates arguments and plans
tasks; it calls :c:func:`run` and nothing else of the pool.
"""

cimport cython
from cpython.pythread cimport (PyThread_acquire_lock, PyThread_allocate_lock,
                               PyThread_release_lock, PyThread_type_lock, WAIT_LOCK)
from libc.stdint cimport int64_t

from ._gilfree cimport *
from ._shared cimport run_here, simd_choice

import contextlib
import os

cdef extern from "Python.h":
    # Declared here without an exception clause (cpython.exc has
    # `except -1`, which would make Cython return at once and skip the
    # cancel-and-wait below, leaving pool workers on a dead frame).
    int _check_signals "PyErr_CheckSignals" ()

cdef extern from *:
    """
    /* Plain loads and stores of the pool pointer, atomically, so free-threaded
     * builds see a fully created pool or NULL. */
    #if defined(_MSC_VER) && !defined(__clang__)
    #include <intrin.h>
    static void *gf_ptr_load(void **p) { return _InterlockedCompareExchangePointer(p, NULL, NULL); }
    static void gf_ptr_store(void **p, void *v) { _InterlockedExchangePointer(p, v); }
    #else
    static void *gf_ptr_load(void **p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
    static void gf_ptr_store(void **p, void *v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
    #endif
    #ifndef GF_BUILD_CFLAGS
    #define GF_BUILD_CFLAGS "unknown"
    #define GF_BUILD_CYTHON "unknown"
    #define GF_BUILD_NUMPY "unknown"
    #endif
    #if defined(__clang__)
    #define GF_COMPILER "clang " __clang_version__
    #elif defined(__GNUC__)
    #define GF_COMPILER "gcc " __VERSION__
    #elif defined(_MSC_VER)
    #define GF_STR2(x) #x
    #define GF_STR(x) GF_STR2(x)
    #define GF_COMPILER "MSVC " GF_STR(_MSC_FULL_VER)
    #else
    #define GF_COMPILER "unknown"
    #endif
    """
    const char *GF_BUILD_CFLAGS
    const char *GF_BUILD_CYTHON
    const char *GF_BUILD_NUMPY
    const char *GF_COMPILER
    void *gf_ptr_load(void **p) nogil
    void gf_ptr_store(void **p, void *v) nogil


# ------------------------------------------------- the thread default
cdef extern from "gf_threads.h":
    # The process default thread count (csrc/gf_threads.c), exported for
    # threadpoolctl; see gilfree._threads and gilfree._threadpoolctl.
    int gilfree_get_num_threads() nogil
    int gilfree_set_num_threads(int n) nogil

#: The most threads one call may use, the caller included (GF_MAX_THREADS).
MAX_THREADS = GF_MAX_THREADS


cdef int default_threads() noexcept nogil:
    return gilfree_get_num_threads()


def _get_default_threads():
    """The process default thread count (the C int threadpoolctl also reads)."""
    return gilfree_get_num_threads()


def _set_default_threads(int n):
    """Set the process default (validated by gilfree._threads); returns the
    previous one."""
    return gilfree_set_num_threads(n)


# ------------------------------------------------------------------ tuning
# The constants themselves, with the measurements behind them, are in
# csrc/gilfree.h; config() reports the values in force.

#: Elements per chunk for 8-byte dtypes (chunk edges are test cases).
CHUNK = GF_CHUNK_BYTES // 8
#: Inputs of fewer 8-byte elements than this are one chunk, run by the
#: calling thread alone (GF_PARALLEL_MIN_BYTES).
PARALLEL_MIN = GF_PARALLEL_MIN_BYTES // 8 + 1

cdef int64_t _chunk_bytes = GF_CHUNK_BYTES
cdef int64_t _range_chunk = GF_RANGE_CHUNK


cdef int64_t chunk_bytes() noexcept:
    return _chunk_bytes


cdef int64_t range_chunk() noexcept:
    return _range_chunk


cdef int64_t stream_min() noexcept:
    return _stream_min


def _last_level_cache():
    """``(bytes, where it came from)`` of the largest CPU cache, or ``(None, why)``."""
    try:
        v = os.sysconf("SC_LEVEL3_CACHE_SIZE")
        if v and v > 0:
            return int(v), "sysconf"
    except (ValueError, OSError, AttributeError):
        pass
    best = 0
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        entries = os.listdir(base)
    except OSError:
        entries = []
    for d in entries:
        try:
            with open(f"{base}/{d}/size") as f:
                txt = f.read().strip().upper()
            mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(txt[len(txt) - 1:], 1)
            best = max(best, int(txt.rstrip("KMG")) * mult)
        except (OSError, ValueError):
            continue
    if best:
        return best, "sysfs"
    return None, "unknown"


def _default_stream_min():
    llc, src = _last_level_cache()
    if llc is None:
        return 32 << 20, "last-level cache size unknown: 32 MiB assumed"
    return max(llc, 4 << 20), f"the last-level cache ({llc >> 20} MiB, {src})"


#: Calls whose data is at least this many bytes work from memory, not cache
#: (gf_task.stream).  square then streams its output past the cache
#: (non-temporal stores) when input and output together reach it: they cannot
#: stay cached anyway, and skipping the read-for-ownership of each output line
#: saves a third of the memory traffic; smaller results stay in cache for the
#: caller.
_stream_min_default, _stream_reason = _default_stream_min()
cdef int64_t _stream_min = _stream_min_default


def _set_stream_min(nbytes=None):
    """Test and bench hook: the streaming threshold in bytes (None: leave it);
    returns the previous one.  Process-wide, like :func:`_set_chunking`."""
    global _stream_min
    old = _stream_min
    if nbytes is not None:
        if not (0 <= nbytes <= (1 << 62)):
            raise ValueError(f"`nbytes` must be in [0, 2**62], got {nbytes}")
        _stream_min = nbytes
    return old


def _set_chunking(chunk_bytes=None, range_chunk=None):
    """Test and bench hook: change the chunk sizes, return the previous ones.

    Smaller chunks let tests reach chunk edges and the pool with small inputs,
    and let the bench time pure dispatch overhead.  Process-wide and not
    synchronized with calls in flight: not for use in applications.
    """
    global _chunk_bytes, _range_chunk
    old = (_chunk_bytes, _range_chunk)
    if chunk_bytes is not None:
        if not (1 <= chunk_bytes <= (1 << 40)):
            raise ValueError(f"`chunk_bytes` must be in [1, 2**40], got {chunk_bytes}")
        _chunk_bytes = chunk_bytes
    if range_chunk is not None:
        if not (1 <= range_chunk <= (1 << 30)):
            raise ValueError(f"`range_chunk` must be in [1, 2**30], got {range_chunk}")
        _range_chunk = range_chunk
    return old




@contextlib.contextmanager
def tuning(chunk_bytes=None, range_chunk=None, stream_min=None):
    """Change chunk sizes or the streaming threshold inside a ``with`` block.

    The one tuning hook, for the bench and the tests: small chunks reach
    chunk edges and the pool with small inputs, and let the bench time pure
    dispatch overhead.  ``None`` leaves a value as it is; the previous values
    come back when the block ends, also on an exception.  Process-wide and
    not synchronized with calls in flight: not for use in applications.

    Examples
    --------
    >>> from gilfree import _runtime
    >>> with _runtime.tuning(chunk_bytes=64):
    ...     _runtime.config()["chunk_bytes"]
    64
    """
    old_chunks = _set_chunking(chunk_bytes, range_chunk)
    try:
        old_stream = _set_stream_min(stream_min)
    except BaseException:
        _set_chunking(*old_chunks)
        raise
    try:
        yield
    finally:
        _set_stream_min(old_stream)
        _set_chunking(*old_chunks)


cdef int _simd_level = GF_SIMD_BASELINE
cdef gf_chunk_fn _runner = NULL
cdef void *_pool = NULL
cdef PyThread_type_lock _pool_lock = NULL
cdef int64_t _spin_ns = GF_SPIN_NS_DEFAULT
#: Incremented in a forked child (os.register_at_fork): a call that sees it
#: change was forked under, from a signal handler, while it ran.
cdef unsigned long _fork_generation = 0


def _env_spin_ns():
    raw = os.environ.get("GILFREE_SPIN_US", "").strip()
    if not raw:
        return GF_SPIN_NS_DEFAULT
    try:
        us = float(raw)
        if not (0 <= us <= 1e6):
            raise ValueError
    except ValueError:
        import warnings
        warnings.warn(f"ignoring GILFREE_SPIN_US={raw!r}: expected microseconds in [0, 1e6]",
                      RuntimeWarning, stacklevel=2)
        return GF_SPIN_NS_DEFAULT
    return int(us * 1000)


def _choose_simd():
    """The level every kernel path runs (_shared.simd_choice); warns when
    GILFREE_SIMD names no level this build and CPU run."""
    level, reason, warning = simd_choice()
    if warning is not None:
        import warnings
        warnings.warn(warning, RuntimeWarning, stacklevel=2)
    return level, reason


_level, _simd_reason = _choose_simd()
_simd_level = _level
_runner = gf_chunk_runner(_simd_level)


cdef gf_chunk_fn chunk_runner() noexcept:
    return _runner

_spin_ns = _env_spin_ns()
_pool_lock = PyThread_allocate_lock()


def _after_fork_in_child():
    # The parent's workers do not exist in the child, and its lock may have
    # been held by a thread that is gone: start over, leaking the old pool
    # (freeing it would touch mutexes in an unknown state).
    global _pool_lock, _fork_generation
    gf_ptr_store(&_pool, NULL)
    _pool_lock = PyThread_allocate_lock()
    _fork_generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


cdef gf_pool *_get_pool(int workers) except? NULL:
    """The shared pool with at least `workers` threads (NULL: run serially)."""
    cdef gf_pool *pool = <gf_pool *>gf_ptr_load(&_pool)
    if pool == NULL:
        with nogil:
            PyThread_acquire_lock(_pool_lock, WAIT_LOCK)
        pool = <gf_pool *>gf_ptr_load(&_pool)
        if pool == NULL:
            pool = gf_pool_create(_spin_ns)
            gf_ptr_store(&_pool, pool)
        PyThread_release_lock(_pool_lock)
        if pool == NULL:
            return NULL
    if workers > 0:
        with nogil:
            gf_pool_reserve(pool, workers)
    return pool


def pool_threads():
    """Worker threads the pool has started (0 before the first parallel call)."""
    cdef gf_pool *pool = <gf_pool *>gf_ptr_load(&_pool)
    return 0 if pool == NULL else gf_pool_size(pool)


def _pool_step_asides():
    """Times a worker woke on its caller's CPU and moved off it (Linux)."""
    cdef gf_pool *pool = <gf_pool *>gf_ptr_load(&_pool)
    return 0 if pool == NULL else gf_pool_step_asides(pool)


# --------------------------------------------------------------- the engine
cdef int _after_fork(gf_task *t, int signal_rc) except -1:
    """The rest of a call that a signal handler forked under, in the child.

    The pool's workers stayed in the parent with the chunks they had
    claimed, so this process cannot wait for them.  Every chunk but an
    in-place square's reads only the input and writes only its own output
    and partial: running them all again here gives the whole result.  An
    in-place square may have squared some chunks already: that is an error.
    """
    if signal_rc == -1:
        return -1  # the handler raised: let it propagate, wait for nobody
    if t.op == GF_OP_SQUARE and t.x == <const char *>t.out:
        raise RuntimeError("the process forked (in a signal handler) while an in-place "
                           "gilfree.square ran on several threads; in this child the "
                           "array is partly squared: repeat the call on a fresh copy")
    return run_here(t, _runner)


cdef int run(gf_task *t, int nthreads, bint release) except -1:
    """Run every chunk of this round of `t` on up to `nthreads` threads (the
    caller included)."""
    cdef gf_job job
    cdef gf_pool *pool = NULL
    cdef int helpers = 0, done = 0, rc
    cdef int64_t c
    cdef unsigned long generation = _fork_generation
    if t.nchunks <= 0:
        return 0
    if not release:
        # The control for the bench: the same kernels with the GIL held, one
        # chunk at a time, so no other Python thread can run meanwhile.
        for c in range(t.nchunks):
            _runner(t, c)
            if (c & 63) == 63 and _check_signals() == -1:
                return -1
        return 0
    if t.nchunks == 1:
        return run_here(t, _runner)
    if nthreads > 1:
        helpers = nthreads - 1
        if helpers > t.nchunks - 1:
            helpers = <int>(t.nchunks - 1)
        pool = _get_pool(helpers)
        if pool == NULL:
            helpers = 0
    if helpers == 0:
        return run_here(t, _runner)
    gf_job_init(&job, t, _runner, helpers)
    with nogil:
        gf_pool_submit(pool, &job)
    while True:
        with nogil:
            done = gf_job_work(pool, &job, GF_SIGNAL_CHECK_NS)
        if done:
            return 0
        rc = _check_signals()
        if _fork_generation != generation:
            return _after_fork(t, rc)
        if rc == -1:
            # Stop handing out chunks, let started ones finish (each is well
            # under a millisecond), then let the exception propagate.
            gf_job_cancel(&job)
            with nogil:
                while not gf_job_work(pool, &job, 0):
                    pass
            return -1


# --------------------------------------------------------------- reporting
def config():
    """The build and run-time choices, as a dict (see :func:`show_config`)."""
    levels = {gf_simd_name(i).decode(): bool(gf_simd_supported(i))
              for i in range(GF_SIMD_NLEVELS) if gf_simd_compiled(i)}
    return {
        "simd": gf_simd_name(_simd_level).decode(),
        "simd_reason": _simd_reason,
        "simd_levels": levels,
        "chunk_bytes": _chunk_bytes,
        "stream": bool(gf_stream_compiled()),
        "stream_min_bytes": _stream_min,
        "stream_reason": _stream_reason,
        "range_chunk": _range_chunk,
        "round_chunks": GF_ROUND_CHUNKS,
        "parallel_min_bytes": GF_PARALLEL_MIN_BYTES,
        "spread_per_thread": GF_SPREAD_PER_THREAD,
        "spread_reduce": GF_SPREAD_REDUCE,
        "spread_min_bytes": GF_SPREAD_MIN_BYTES,
        "gil_release_min": GF_GIL_RELEASE_MIN,
        "signal_check_ms": GF_SIGNAL_CHECK_NS / 1e6,
        "spin_us": _spin_ns / 1000,
        "pool_threads": pool_threads(),
        "compiler": GF_COMPILER.decode(),
        "cflags": GF_BUILD_CFLAGS.decode(),
        "cython": GF_BUILD_CYTHON.decode(),
        "numpy_build": GF_BUILD_NUMPY.decode(),
    }


# ===================================================== the parallel-for C-API
# gilfree's pool for other extensions (docs/parallel-loops.md): the table in
# the capsule _C_API, which gilfree/parallel.h binds with import_gilfree().
# The chunk runner and the thread-local nesting depth are plain C
# (csrc/gf_parallel.h); this section drives the rounds, the pool and the
# signal checks.
#
# How a call without the GIL learns of Ctrl-C: an outer call on the main
# thread (the only thread where Python runs signal handlers) works in slices
# of GF_SIGNAL_CHECK_NS, as run() does; between slices it takes the GIL
# (PyGILState_Ensure: it may be called with or without the GIL) and runs
# PyErr_CheckSignals.  When a handler raised, the exception is put aside,
# the job cancelled (chunks already started finish), the helpers waited for,
# and GILFREE_INTERRUPTED returned; gilfree_check() later raises the
# exception that was put aside.  Calls on other threads run to the end, as
# gilfree's own kernels do there: Python delivers the signal to the main
# thread.  Calls shorter than one slice never touch the GIL.

from cpython.exc cimport PyErr_Fetch, PyErr_Restore
from libc.string cimport memset
from cpython.object cimport PyObject
from cpython.pycapsule cimport PyCapsule_New
from cpython.ref cimport Py_XDECREF

cdef extern from "Python.h":
    unsigned long _pf_thread_ident "PyThread_get_thread_ident" () nogil
    PyObject *_pf_exc_occurred "PyErr_Occurred" ()
    void _pf_set_none "PyErr_SetNone" (object)

cdef extern from "gf_parallel.h" nogil:
    ctypedef int (*gilfree_body_fn)(void *ctx, int64_t begin, int64_t end) noexcept nogil
    ctypedef struct gilfree_parallel_api:
        unsigned int version
        unsigned int size
        int (*parallel_for)(int64_t n, int64_t grain, gilfree_body_fn body, void *ctx,
                            int threads) noexcept nogil
        int (*num_threads)() noexcept nogil
        int (*check)(int rc) noexcept
    int GILFREE_PARALLEL_API_VERSION
    int GILFREE_INTERRUPTED
    int GILFREE_BAD_ARGUMENT
    int GILFREE_NOT_IMPORTED
    int GILFREE_FORKED
    const char *GILFREE_PARALLEL_CAPSULE
    int64_t GF_PF_ROUND
    ctypedef struct gf_pf_state:
        gf_task task
        gilfree_body_fn body
        void *ctx
        int64_t n, grain, base
        gf_job *job
        int rc
    void gf_pf_run_chunk(gf_task *t, int64_t c) noexcept nogil
    int gf_pf_in_body()
    int gf_pf_result(gf_pf_state *s)
    void gf_pf_set_result(gf_pf_state *s, int rc)
    int gf_pf_inline(gilfree_body_fn body, void *ctx, int64_t n, int64_t grain,
                     int64_t nchunks)

import threading as _threading


#: Return codes of the C-API (gilfree/parallel.h), for tests and docs.
PARALLEL_CODES = {
    "INTERRUPTED": GILFREE_INTERRUPTED,
    "BAD_ARGUMENT": GILFREE_BAD_ARGUMENT,
    "NOT_IMPORTED": GILFREE_NOT_IMPORTED,
    "FORKED": GILFREE_FORKED,
}
#: The version of the table in _C_API.
PARALLEL_API_VERSION = GILFREE_PARALLEL_API_VERSION

cdef int _pf_num_threads() noexcept nogil:
    # The process default (this module's C store, which set_num_threads and
    # threadpoolctl write), within 1..GF_MAX_THREADS.
    cdef int n = gilfree_get_num_threads()
    if n < 1:
        return 1
    if n > GF_MAX_THREADS:
        return GF_MAX_THREADS
    return n

# The thread Python runs signal handlers on (the main thread; in a forked
# child, the thread that forked).
cdef unsigned long _pf_main_ident = 0


def _pf_main_thread_ident():
    import _thread
    get = getattr(_thread, "_get_main_thread_ident", None)  # 3.13+: the interpreter's own
    return get() if get is not None else _threading.main_thread().ident


_pf_main_ident = <unsigned long>_pf_main_thread_ident()


def _pf_after_fork_in_child():
    global _pf_main_ident
    _pf_main_ident = <unsigned long>_threading.get_ident()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pf_after_fork_in_child)

# A signal handler's exception, put aside by the main thread's call until
# gilfree_check() raises it.  Only the main thread touches it.
cdef PyObject *_pf_exc_type = NULL
cdef PyObject *_pf_exc_value = NULL
cdef PyObject *_pf_exc_tb = NULL


cdef gf_pool *_pf_pool(int workers) noexcept nogil:
    """The shared pool with at least `workers` threads, without the GIL
    (NULL: run on the calling thread alone)."""
    cdef gf_pool *pool = <gf_pool *>gf_ptr_load(&_pool)
    if pool == NULL:
        PyThread_acquire_lock(_pool_lock, WAIT_LOCK)
        pool = <gf_pool *>gf_ptr_load(&_pool)
        if pool == NULL:
            pool = gf_pool_create(_spin_ns)
            gf_ptr_store(&_pool, pool)
        PyThread_release_lock(_pool_lock)
        if pool == NULL:
            return NULL
    gf_pool_reserve(pool, workers)
    return pool


cdef int _pf_check_signals() noexcept nogil:
    """On the main thread, with the GIL taken for the time of the check: 0
    (go on), 1 (a handler raised: its exception is put aside) or 2 (a handler
    forked and this is the child)."""
    global _pf_exc_type, _pf_exc_value, _pf_exc_tb
    cdef unsigned long generation = _fork_generation
    cdef int rc
    with gil:
        rc = _check_signals()
        if rc == -1:
            Py_XDECREF(_pf_exc_type)
            Py_XDECREF(_pf_exc_value)
            Py_XDECREF(_pf_exc_tb)
            PyErr_Fetch(&_pf_exc_type, &_pf_exc_value, &_pf_exc_tb)
    if _fork_generation != generation:
        return 2
    return 1 if rc == -1 else 0


cdef int _pf_round(gf_pf_state *s, int threads, bint main) noexcept nogil:
    """Run this round's chunks (s.task.nchunks from s.base) on up to
    `threads` threads; the call's result so far."""
    cdef gf_job job
    cdef gf_pool *pool = NULL
    cdef int helpers = 0, sig
    cdef int64_t budget = GF_SIGNAL_CHECK_NS if main else 0
    if threads > 1:
        helpers = threads - 1
        if helpers > s.task.nchunks - 1:
            helpers = <int>(s.task.nchunks - 1)
        pool = _pf_pool(helpers)
        if pool == NULL:
            helpers = 0
    gf_job_init(&job, &s.task, gf_pf_run_chunk, helpers)
    s.job = &job
    if helpers > 0:
        gf_pool_submit(pool, &job)
    else:
        pool = NULL
    while not gf_job_work(pool, &job, budget):
        sig = _pf_check_signals()
        if sig == 2:
            # The parent's workers do not exist here: nobody to wait for.
            return GILFREE_FORKED
        if sig == 1:
            # The handler's exception is put aside: INTERRUPTED must reach
            # the caller, even if a body returned nonzero first, or it would
            # be lost.
            gf_pf_set_result(s, GILFREE_INTERRUPTED)
            gf_job_cancel(&job)
            while not gf_job_work(pool, &job, 0):
                pass
            return GILFREE_INTERRUPTED
    return gf_pf_result(s)


cdef int _pf_parallel_for(int64_t n, int64_t grain, gilfree_body_fn body, void *ctx,
                          int threads) noexcept nogil:
    """gilfree_parallel_for (gilfree/parallel.h)."""
    cdef gf_pf_state s
    cdef int64_t nchunks, base, count
    cdef int rc = 0
    cdef bint main
    if n < 0 or grain < 1 or body == NULL or threads < 0:
        return GILFREE_BAD_ARGUMENT
    if n == 0:
        return 0
    nchunks = n // grain + (1 if n % grain else 0)
    if nchunks == 1 or gf_pf_in_body():
        return gf_pf_inline(body, ctx, n, grain, nchunks)
    if threads == 0:
        threads = _pf_num_threads()
    elif threads > GF_MAX_THREADS:
        threads = GF_MAX_THREADS
    main = _pf_thread_ident() == _pf_main_ident
    memset(&s, 0, sizeof(s))
    s.body = body
    s.ctx = ctx
    s.n = n
    s.grain = grain
    base = 0
    while base < nchunks and rc == 0:
        count = nchunks - base
        if count > GF_PF_ROUND:
            count = GF_PF_ROUND
        s.base = base
        s.task.nchunks = count
        rc = _pf_round(&s, threads, main)
        base += count
    return rc


cdef int _pf_check(int rc) noexcept:
    """gilfree_check for GILFREE_INTERRUPTED, with the GIL: raise what the
    signal handler raised (put aside by the call), else KeyboardInterrupt."""
    global _pf_exc_type, _pf_exc_value, _pf_exc_tb
    if rc != GILFREE_INTERRUPTED:
        return rc
    if _pf_exc_type != NULL and _pf_thread_ident() == _pf_main_ident:
        PyErr_Restore(_pf_exc_type, _pf_exc_value, _pf_exc_tb)
        _pf_exc_type = _pf_exc_value = _pf_exc_tb = NULL
        return -1
    if _pf_exc_occurred() != NULL or _check_signals() == -1:
        return -1
    _pf_set_none(KeyboardInterrupt)
    return -1


cdef gilfree_parallel_api _pf_api
_pf_api.version = GILFREE_PARALLEL_API_VERSION
_pf_api.size = sizeof(gilfree_parallel_api)
_pf_api.parallel_for = _pf_parallel_for
_pf_api.num_threads = _pf_num_threads
_pf_api.check = _pf_check

#: The parallel-for C-API's function table (gilfree/parallel.h).
_C_API = PyCapsule_New(&_pf_api, GILFREE_PARALLEL_CAPSULE, NULL)
