# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True, freethreading_compatible=True
"""The compiled core of gilfree: validation, chunk planning and the pool.

Data flows one way: a public function validates its arguments, fills a
``gf_task`` (what to compute, split into fixed-size chunks), and hands it to
``_run``, which shares the chunks between the calling thread and the C pool
with the GIL released, checking for signals every few milliseconds.  The C
kernels (csrc/) never see a Python object.

Every public function lives here rather than in ``__init__.py`` because its
argument handling is on the hot path: on 1,000 elements a pure-Python wrapper
alone costs more than ``np.square`` does.
"""

cimport cython
cimport numpy as cnp
from cpython.pythread cimport (PyThread_acquire_lock, PyThread_allocate_lock,
                               PyThread_release_lock, PyThread_type_lock, WAIT_LOCK)
from libc.stdint cimport int64_t, uint64_t
from libc.math cimport isfinite
from libc.string cimport memset

from ._gilfree cimport *
from ._shared cimport (int64_arg, overflow_check, range_plan, range_rounds,
                      reduce_chunks, u192_to_int)

import operator
import os
import sys

import numpy as np

from . import _threads

cnp.import_array()

cdef extern from "Python.h":
    # Declared here without an exception clause (cpython.exc has
    # `except -1`, which would make Cython return at once and skip the
    # cancel-and-wait below, leaving pool workers on a dead frame).
    int _check_signals "PyErr_CheckSignals" ()

cdef extern from "gf_threadpool.h":
    # The process default thread count (csrc/gf_threadpool.c), exported for
    # threadpoolctl; see gilfree._threads and gilfree._threadpoolctl.
    int gilfree_get_num_threads() nogil
    int gilfree_set_num_threads(int n) nogil
    void gf_threads_init(int initial, int max_threads) nogil

cdef extern from "numpy/arrayobject.h":
    cnp.ndarray PyArray_NewLikeArray(cnp.ndarray proto, cnp.NPY_ORDER order,
                                     void *descr, int subok)

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

# ------------------------------------------------------------------ tuning
# Every figure below was measured on the 2-core AMD EPYC (Zen 3) dev VM; see
# README "Performance" and bench/ for the runs.

# Chunk sizes and the mid-size spread: GF_CHUNK_BYTES, GF_SPREAD_* in
# csrc/gilfree.h (with the measurements behind them); planned by gf_plan_chunks.
#: Range iterations per chunk: ~30-60 us of work at 2-4 G iterations/s.
cdef enum:
    RANGE_CHUNK = 131072
#: Range chunks per round (2**29 iterations, ~0.15 s on one core).
cdef enum:
    RANGE_ROUND_CHUNKS = 1 << 12
#: NumPy's habit: releasing and re-taking the GIL costs ~0.1 us, and
#: re-taking it can wait a whole switch interval (5 ms) when another thread is
#: busy in Python, so tiny calls keep it.
cdef enum:
    GIL_RELEASE_MIN = 512
#: How long the calling thread works before it takes the GIL back to look for
#: signals (Ctrl-C): 20 ms keeps SIGINT latency far under the 0.2 s goal while
#: costing one GIL round-trip per 20 ms of work.
cdef enum:
    SIGNAL_CHECK_NS = 20000000

MAX_THREADS = _threads.MAX_THREADS
# Bound once: module attribute lookups would cost more than a small kernel.
_override = _threads._override
gf_threads_init(_threads._initial_default, MAX_THREADS)


def _get_default_threads():
    """The process default thread count (the C int threadpoolctl also reads)."""
    return gilfree_get_num_threads()


def _set_default_threads(int n):
    """Set the process default (already validated); returns the previous one."""
    return gilfree_set_num_threads(n)


_threads._bind_store(_get_default_threads, _set_default_threads)
#: Elements per chunk for 8-byte dtypes (chunk edges are test cases).
CHUNK = GF_CHUNK_BYTES // 8
#: Inputs smaller than this (8-byte elements) fit in one chunk and run on the
#: calling thread with no pool round-trip at all.
PARALLEL_MIN = CHUNK + 1

cdef int64_t _chunk_bytes = GF_CHUNK_BYTES
cdef int64_t _range_chunk = RANGE_CHUNK


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


#: square streams its output past the cache (non-temporal stores) when input
#: and output together are at least this many bytes: they cannot stay cached
#: anyway, and skipping the read-for-ownership of each output line saves a
#: third of the memory traffic.  Smaller results stay in cache for the caller.
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


cdef int _simd_level = GF_SIMD_BASELINE
cdef gf_chunk_fn _runner = NULL
cdef void *_pool = NULL
cdef PyThread_type_lock _pool_lock = NULL
cdef int64_t _spin_ns = 100000

_SIMD_BY_NAME = {gf_simd_name(i).decode(): i for i in range(GF_SIMD_NLEVELS)}


def _env_spin_ns():
    raw = os.environ.get("GILFREE_SPIN_US", "").strip()
    if not raw:
        return 100000
    try:
        us = float(raw)
        if not (0 <= us <= 1e6):
            raise ValueError
    except ValueError:
        import warnings
        warnings.warn(f"ignoring GILFREE_SPIN_US={raw!r}: expected microseconds in [0, 1e6]",
                      RuntimeWarning, stacklevel=2)
        return 100000
    return int(us * 1000)


def _choose_simd():
    """Best level the CPU supports, unless GILFREE_SIMD asks for another."""
    best = gf_simd_best()
    raw = os.environ.get("GILFREE_SIMD", "").strip().lower()
    if not raw:
        return best, "best level this CPU supports"
    level = _SIMD_BY_NAME.get(raw)
    if level is None or not gf_simd_supported(level):
        import warnings
        ok = [n for n, i in _SIMD_BY_NAME.items() if gf_simd_supported(i)]
        warnings.warn(f"ignoring GILFREE_SIMD={raw!r}: this build and CPU support {ok}",
                      RuntimeWarning, stacklevel=2)
        return best, "best level this CPU supports (GILFREE_SIMD was invalid)"
    return level, "forced by GILFREE_SIMD"


_level, _simd_reason = _choose_simd()
_simd_level = _level
_runner = gf_chunk_runner(_simd_level)
_spin_ns = _env_spin_ns()
_pool_lock = PyThread_allocate_lock()


def _after_fork_in_child():
    # The parent's workers do not exist in the child, and its lock may have
    # been held by a thread that is gone: start over, leaking the old pool
    # (freeing it would touch mutexes in an unknown state).
    global _pool_lock
    gf_ptr_store(&_pool, NULL)
    _pool_lock = PyThread_allocate_lock()


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
cdef int _run(gf_task *t, int nthreads, bint release) except -1:
    """Run every chunk of `t` on up to `nthreads` threads (the caller included)."""
    cdef gf_job job
    cdef gf_pool *pool = NULL
    cdef int helpers = 0, done = 0
    cdef int64_t c
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
        if t.n >= GIL_RELEASE_MIN:
            with nogil:
                _runner(t, 0)
        else:
            _runner(t, 0)
        return 0
    if nthreads > 1:
        helpers = nthreads - 1
        if helpers > t.nchunks - 1:
            helpers = <int>(t.nchunks - 1)
        pool = _get_pool(helpers)
        if pool == NULL:
            helpers = 0
    gf_job_init(&job, t, _runner, helpers)
    if helpers > 0:
        with nogil:
            gf_pool_submit(pool, &job)
    while True:
        with nogil:
            done = gf_job_work(pool, &job, SIGNAL_CHECK_NS)
        if done:
            return 0
        if _check_signals() == -1:
            # Stop handing out chunks, let started ones finish (each is well
            # under a millisecond), then let the exception propagate.
            gf_job_cancel(&job)
            with nogil:
                while not gf_job_work(pool, &job, 0):
                    pass
            return -1


cdef struct _RunArgs:
    int nthreads
    bint release


cdef int _run_cb(gf_task *t, void *ctx) except -1:
    """_run in the shape the shared reduction helpers take."""
    cdef _RunArgs *a = <_RunArgs *>ctx
    return _run(t, a.nthreads, a.release)


cdef int _resolve_threads(object threads) except -1:
    cdef long long n
    if threads is None:
        n = _override.get()
        return <int>n if n else gilfree_get_num_threads()
    if type(threads) is int:
        n = threads if -(1 << 40) < threads < (1 << 40) else 0
        if 1 <= n <= MAX_THREADS:
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
_INT_LIMITS = {}
for _dt in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64):
    _info = np.iinfo(_dt)
    import math as _math
    _INT_LIMITS[np.dtype(_dt)] = _math.isqrt(int(_info.max))
del _dt, _info, _math


def _raise_overflow(a):
    """Raise OverflowError naming the first element (C order) whose square overflows."""
    if a.dtype.kind in "fc":
        with np.errstate(all="ignore"):
            bad = np.isfinite(a) & ~np.isfinite(np.square(a))
    else:
        lim = _INT_LIMITS[a.dtype]
        bad = a > lim
        if a.dtype.kind == "i":
            bad |= a < -lim
    flat = int(np.flatnonzero(bad)[0])
    if a.ndim == 1:
        idx = flat
    else:
        idx = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    v = a[idx] if a.ndim else a[()]
    v = v.item()
    if a.dtype.kind in "fc":
        detail = f"{v!r}**2 is not finite in {a.dtype}"
    else:
        detail = f"{v}**2 = {v * v} does not fit in {a.dtype}"
    where = f" at index {idx}" if a.ndim else ""
    raise OverflowError(f"square overflows{where}: {detail} (overflow='raise'; "
                        "use overflow='wrap' for NumPy's wrapping)")


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
_FPE_OVERFLOW = 2
_FPE_UNDERFLOW = 4
_FPE_INVALID = 8
_fp_samples = {}


def _fp_sample(dtype, int status):
    """A small array of `dtype` whose np.square raises exactly `status`."""
    key = (dtype, status)
    s = _fp_samples.get(key)
    if s is None:
        fi = np.finfo(dtype)
        vals = []
        if status & _FPE_OVERFLOW:
            vals.append(np.array([fi.max], dtype))
        if status & _FPE_UNDERFLOW:
            vals.append(np.array([fi.smallest_normal], dtype))
        if status & _FPE_INVALID:
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


cdef inline int _sumsq_overflowed(cnp.ndarray a) except -1:
    """1 if a finite element's square, or the sum of the finite squares, is
    not finite in float64 (longdouble: in longdouble)."""
    with np.errstate(all="ignore"):
        fin = a[np.isfinite(a)]
        if a.dtype.itemsize <= 8:
            fin = fin.astype(np.float64)
        sq = np.square(fin)
        return 0 if np.isfinite(sq).all() and np.isfinite(np.sum(sq)) else 1


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
    cdef int code, nthreads, check
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
        if rdt is not None and o.dtype != rdt:
            raise TypeError(f"`out` must have dtype {rdt} (np.square's result for `x` of dtype "
                            f"{a.dtype}), got {o.dtype}")
        if not cnp.PyArray_ISWRITEABLE(o):
            raise ValueError("`out` is read-only: pass a writeable array")
    if code < 0:
        # bool, float16, longdouble, complex: NumPy's own loop and results,
        # and NumPy's np.errstate handling.  overflow='raise' takes overflow
        # out of errstate's hands (OverflowError); the other errors stay
        # with it.
        if check:
            over = False
            with np.errstate(over="raise"):
                try:
                    return np.square(a, out=out)
                except FloatingPointError:
                    with np.errstate(all="ignore"):
                        over = bool((np.isfinite(a) & ~np.isfinite(np.square(a))).any())
                    if not over:
                        raise
            _raise_overflow(a)
        return np.square(a, out=out)
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
        return res if given_out else _unwrap0d(res)
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
    t.stream = 2 * t.n * cnp.PyArray_ITEMSIZE(a) >= _stream_min
    gf_plan_chunks(&t, cnp.PyArray_ITEMSIZE(a), _chunk_bytes,
                   GF_SPREAD_PER_THREAD * nthreads if nthreads > 1 else 1)
    _run(&t, nthreads, release)
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
        Inputs of one chunk (``CHUNK`` 8-byte elements) run on the calling
        thread alone.
    overflow : {'wrap', 'raise'}, optional
        'wrap' (default) wraps integers modulo 2**bits like NumPy. 'raise'
        raises OverflowError naming the first element (in C order) whose
        square does not fit, or, for floats, whose finite value squares to
        inf.

    Returns
    -------
    ndarray
        `out` if given, else a new array (a NumPy scalar for 0-d input, as
        ``np.square`` returns).

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
        holds unspecified values.

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
    OverflowError: square overflows at index 0: 100**2 = 10000 does not fit in int8 (overflow='raise'; use overflow='wrap' for NumPy's wrapping)
    """
    return _square(x, out, threads, overflow, True)


def _square_holding_gil(x, out=None):
    """`square` with the GIL held throughout (the bench's control)."""
    return _square(x, out, 1, "wrap", False)


# ----------------------------------------------------------- sum of squares
cdef object _sum_of_squares(object x, object threads, bint release):
    cdef cnp.ndarray a
    cdef gf_task t
    cdef _RunArgs args
    cdef int code, nthreads
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
                s = _fp_sample(a.dtype, _FPE_OVERFLOW)
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
    gf_plan_chunks(&t, cnp.PyArray_ITEMSIZE(a), _chunk_bytes, GF_SPREAD_REDUCE)
    args.nthreads = nthreads
    args.release = release
    r = reduce_chunks(&t, isfloat, _run_cb, &args)
    if isfloat and not isfinite(<double>r) and _sumsq_overflowed(a):
        # np.dot(x, x) is the reference: NumPy reports its overflow through
        # np.errstate ("overflow encountered in dot"); so does this, with
        # NumPy's own handling (see _fp_sample).  Underflow and invalid are
        # not reported: the compensated sum's own arithmetic raises flags
        # np.dot would not.
        s = _fp_sample(np.dtype(np.float64), _FPE_OVERFLOW)
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
    `threads`.

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
        float32 and float64 input (longdouble: computed by NumPy).

    Raises
    ------
    TypeError
        For complex or non-numeric input, or a non-int `threads`.
    ValueError
        For `threads` out of range.

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


def _sum_of_squares_holding_gil(x):
    """`sum_of_squares` with the GIL held throughout (the bench's control)."""
    return _sum_of_squares(x, 1, False)


# -------------------------------------------------------------------- ranges
cdef object _sum_squares_range(object start, object stop, object step, object threads,
                               bint release):
    cdef gf_task t
    cdef _RunArgs args
    args.nthreads = _resolve_threads(threads)
    args.release = release
    range_plan(start, stop, step, &t)
    t.op = GF_OP_RANGE_SUMSQ
    return range_rounds(&t, _range_chunk, RANGE_ROUND_CHUNKS, _run_cb, &args)


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


def _sum_squares_range_holding_gil(start, stop=None, step=1):
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
    cdef cnp.ndarray res
    cdef int code
    cdef int nthreads = _resolve_threads(threads)
    try:
        if dtype is None:
            raise TypeError
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"`dtype` must be a NumPy dtype, got {dtype!r}") from None
    native = dt.newbyteorder("=")
    range_plan(start, stop, step, &t)
    res = np.empty(t.n, native)
    code = _gf_dtype(res)
    if code < 0:
        raise TypeError(f"`dtype` must be one of int8-int64, uint8-uint64, float32, float64; "
                        f"got {dt}")
    t.op = GF_OP_RANGE_FILL
    t.dtype = code
    t.out = <char *>cnp.PyArray_DATA(res)
    t.os1 = cnp.PyArray_ITEMSIZE(res)
    gf_plan_chunks(&t, t.os1, _chunk_bytes, GF_SPREAD_PER_THREAD * nthreads if nthreads > 1 else 1)
    _run(&t, nthreads, True)
    return res if native == dt else res.astype(dt)


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
        "gil_release_min": GIL_RELEASE_MIN,
        "signal_check_ms": SIGNAL_CHECK_NS / 1e6,
        "spin_us": _spin_ns / 1000,
        "pool_threads": pool_threads(),
        "compiler": GF_COMPILER.decode(),
        "cflags": GF_BUILD_CFLAGS.decode(),
        "cython": GF_BUILD_CYTHON.decode(),
        "numpy_build": GF_BUILD_NUMPY.decode(),
    }
