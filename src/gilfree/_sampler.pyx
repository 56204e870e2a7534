# cython: language_level=3, boundscheck=False, wraparound=False
# cython: embedsignature=True, freethreading_compatible=True, binding=True
"""Who ran when: a per-thread timeline sampler on a native helper thread.

:class:`Sampler` watches a list of threads of this process (their native ids,
``threading.get_native_id()``) and of processes (their pids).  Between
:meth:`Sampler.start` and :meth:`Sampler.stop` a C thread
(``csrc/gf_sampler.c``) reads each one's CPU time from ``/proc`` about every
`period` seconds into a buffer allocated up front; it never takes the GIL,
so it does not change how the watched Python threads share it.  The
readings become run intervals with :func:`gilfree._timeline.intervals`.

Linux only: other systems give no per-thread data, and :data:`supported`
is False there.
"""

cimport cython
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from ._gilfree cimport *

#: True where the OS gives per-thread run times (Linux).
supported = bool(gf_sampler_supported())

_ERRORS = {
    GF_SAMPLER_BADARG: "bad argument",
    GF_SAMPLER_NOMEM: "out of memory for the sampler's buffer",
    GF_SAMPLER_NOSUCHID: "no such thread or process (nothing in /proc for one of the ids)",
    GF_SAMPLER_UNSUPPORTED: "this OS gives no per-thread run times (only Linux's /proc does)",
    GF_SAMPLER_BUSY: "the sampler is already running",
    GF_SAMPLER_NOTRUNNING: "the sampler is not running",
    GF_SAMPLER_NOTHREAD: "the OS refused the sampler's thread",
}


@cython.auto_pickle(False)
cdef class Sampler:
    """Sample the CPU time of `threads` and `processes` every `period` s.

    Parameters
    ----------
    threads : sequence of int
        Native thread ids of threads of this process.
    processes : sequence of int
        Process ids (their main thread is read).
    period : float
        Seconds between readings, at least 1e-5 (default 1 ms).
    max_seconds : float
        The buffer holds this long a run; the sampler stops reading when it
        is full.

    Raises
    ------
    ValueError
        No ids, an id <= 0, a period below 10 us or a buffer under 2
        readings.
    ProcessLookupError
        An id has no ``/proc`` entry.
    NotImplementedError
        The OS has no per-thread data.
    """

    cdef gf_sampler *s
    cdef readonly tuple ids
    cdef readonly tuple kinds
    cdef readonly double period
    cdef bint started

    def __cinit__(self, *args, **kwargs):
        self.s = NULL

    def __init__(self, threads=(), processes=(), double period=0.001,
                 double max_seconds=120.0):
        if self.s != NULL:
            raise RuntimeError("a Sampler is set up once")
        ids = [int(t) for t in threads] + [int(p) for p in processes]
        kinds = ["thread"] * len(threads) + ["process"] * len(processes)
        if not ids:
            raise ValueError("Sampler needs at least one thread or process id")
        if any(i <= 0 for i in ids):
            raise ValueError(f"thread and process ids are positive, got {ids}")
        if not period >= 1e-5:
            raise ValueError(f"period must be at least 1e-5 s, got {period!r}")
        if not max_seconds > 0:
            raise ValueError(f"max_seconds must be positive, got {max_seconds!r}")
        self.ids = tuple(ids)
        self.kinds = tuple(kinds)
        self.period = period
        cdef int n = len(ids)
        cdef int64_t cap = max(2, <int64_t>(max_seconds / period) + 2)
        cdef int64_t *cids = <int64_t *>malloc(n * sizeof(int64_t))
        cdef int *ckinds = <int *>malloc(n * sizeof(int))
        cdef int err = 0
        if cids == NULL or ckinds == NULL:
            free(cids)
            free(ckinds)
            raise MemoryError()
        for k in range(n):
            cids[k] = ids[k]
            ckinds[k] = GF_SAMPLE_THREAD if kinds[k] == "thread" else GF_SAMPLE_PROCESS
        self.s = gf_sampler_create(cids, ckinds, n, <int64_t>(period * 1e9), cap, &err)
        free(cids)
        free(ckinds)
        if self.s == NULL:
            _raise(err, ids)

    def __dealloc__(self):
        if self.s != NULL:
            with nogil:
                gf_sampler_destroy(self.s)
            self.s = NULL

    def start(self):
        """Start (or start again, from an empty buffer) the helper thread."""
        self._check()
        err = gf_sampler_start(self.s)
        if err:
            _raise(err, self.ids)
        self.started = True
        return self

    def stop(self):
        """Stop and join the helper thread; the readings stay until the next start."""
        cdef int err
        self._check()
        with nogil:
            err = gf_sampler_stop(self.s)
        if err:
            _raise(err, self.ids)
        self.started = False
        return self

    @property
    def running(self):
        """True between :meth:`start` and :meth:`stop`."""
        return self.started

    def readings(self):
        """``(times, values, stat_only)`` of the last run.

        `times` are seconds (``time.monotonic`` scale) of each reading;
        ``values[i]`` the readings of id i: seconds on a CPU so far (from
        schedstat), or, where ``stat_only[i]``, 1.0/0.0 for running or not;
        None where the id's file could no longer be read (it ended).
        """
        if self.s == NULL:
            return [], [], []
        cdef int64_t count = gf_sampler_count(self.s)
        cdef int n = gf_sampler_ids(self.s)
        cdef const int64_t *t = gf_sampler_times(self.s)
        cdef const int64_t *v = gf_sampler_values(self.s)
        times = [t[k] * 1e-9 for k in range(count)]
        stat_only = [bool(gf_sampler_source(self.s, i)) for i in range(n)]
        values = []
        for i in range(n):
            col = []
            for k in range(count):
                x = v[k * n + i]
                col.append(None if x == GF_SAMPLE_GONE else
                           float(x) if stat_only[i] else x * 1e-9)
            values.append(col)
        return times, values, stat_only

    @property
    def cost(self):
        """``(cpu_s, wall_s)``: the helper thread's own CPU time and wall time
        over its last run (its CPU share is their ratio)."""
        if self.s == NULL:
            return 0.0, 0.0
        return gf_sampler_cpu_ns(self.s) * 1e-9, gf_sampler_wall_ns(self.s) * 1e-9

    def _check(self):
        if self.s == NULL:
            raise RuntimeError("this Sampler was not set up (its __init__ failed)")


def _raise(int err, ids):
    text = _ERRORS.get(err, f"sampler error {err}")
    if err == GF_SAMPLER_BADARG:
        raise ValueError(text)
    if err == GF_SAMPLER_NOMEM:
        raise MemoryError(text)
    if err == GF_SAMPLER_NOSUCHID:
        raise ProcessLookupError(f"{text}: {list(ids)}")
    if err == GF_SAMPLER_UNSUPPORTED:
        raise NotImplementedError(text)
    raise RuntimeError(text)
