"""The bench's stdlib-only core: work splitting, pure-Python kernels, timing.

This file imports nothing from gilfree, NumPy or any third-party package, on
purpose, because it runs in three places:

1. in the bench itself, imported as ``gilfree.bench._portable``;
2. inside subinterpreters (``InterpreterPoolExecutor``), which can import
   neither NumPy nor gilfree's compiled core, loaded from its file path under
   the name ``_gilfree_portable``;
3. as a script under *another* Python (``gilfree bench --python PATH``: a
   free-threaded 3.13t build that has no gilfree installed, Jython 2.7,
   PyPy, IronPython, an older CPython): it reads a JSON request on stdin and
   writes JSON lines on stdout (see :func:`main`); ``--info`` prints the
   interpreter's description only, which is how the bench probes a Python.

So the timing rules (calibration, interleaving, statistics, the heartbeat
probe) are written once, here, and every interpreter measures the same way.

It runs unchanged on Python 2.7 (Jython 2.7.3) and on Python 3 (PyPy,
CPython 3.x): standard library only, no f-strings, no annotations, no
keyword-only arguments; the tests check its syntax and run it under every
interpreter they find.  CPython 3.8+ runs every row (:func:`full_profile`);
the other interpreters run the range workload only, with a warm-up until the
timings are stable (:func:`warm_up`, for JIT compilers) and, on Jython, a
Java ``long`` variant of the loop (:data:`JAVA_LABEL`).
"""

from __future__ import division, print_function

import json
import math
import os
import platform
import sys
import threading
import time
import zlib
from array import array

try:
    import sysconfig
except ImportError:  # pragma: no cover - an interpreter without it
    sysconfig = None  # type: ignore[assignment]

if sys.version_info[0] == 2:  # pragma: no cover - Python 2 (Jython 2.7) only
    # the loops below iterate over `range`: on Python 2 that would build a
    # list of n integers first, so use the lazy one under the same name
    range = xrange  # noqa: A001, F821

JYTHON = platform.python_implementation() == "Jython" or sys.platform.startswith("java")


def _clock():
    """The best monotonic clock this interpreter has, in seconds."""
    if hasattr(time, "perf_counter"):
        return time.perf_counter
    if JYTHON:  # pragma: no cover - Jython only
        from java.lang import System

        return lambda: System.nanoTime() / 1e9
    return time.time  # pragma: no cover - Python 2 outside the JVM


perf_counter = _clock()

# ---------------------------------------------------------------------------
# the data every interpreter regenerates identically
# ---------------------------------------------------------------------------

#: x[i] = (i * VALUE_MULT) % VALUE_MOD - VALUE_OFFSET: integers in [-1000, 1000].
#: Small integers stored as float64 make every sum of squares exact (n * 10**6
#: stays below 2**53 up to n = 9 * 10**9), so a float reduction gives the same
#: bits in any summation order and results can be checked for equality.  The
#: prime multiplier spreads the values so the data is not a trivial ramp.
VALUE_MULT = 7919
VALUE_MOD = 2001
VALUE_OFFSET = 1000

#: array typecodes of the dtypes the array workloads use (native order, which
#: is also NumPy's default, so the bytes match between interpreters).
TYPECODES = {"float64": "d", "int64": "q"}


def make_values(n, dtype):
    """The input array of the ``map`` and ``reduce`` workloads, without NumPy.

    Parameters
    ----------
    n : int
        Number of elements.
    dtype : {"float64", "int64"}
        Element type.

    Returns
    -------
    array.array
        ``x[i] = (i * 7919) % 2001 - 1000``, the same values as the NumPy
        generator in ``gilfree.bench._cases``.

    Examples
    --------
    >>> list(make_values(4, "int64"))
    [-1000, 916, 831, 746]
    """
    code = TYPECODES[dtype]
    conv = float if code == "d" else int
    return array(code, (conv(i * VALUE_MULT % VALUE_MOD - VALUE_OFFSET) for i in range(n)))


class ArrayData(object):
    """Inputs of one case for the pure-Python kernels (no NumPy needed).

    The kernels only use ``x_mv`` and ``out_mv``, so NumPy-backed case data
    in the bench and this stdlib version are interchangeable.
    """

    def __init__(self, workload, n, dtype):
        self.workload = workload
        self.n = n
        if workload == "range":
            self.x_mv = self.out_mv = None
        elif dtype is None:
            raise ValueError("the {} workload needs a dtype".format(workload))
        else:
            self.x = make_values(n, dtype)
            self.out = array(self.x.typecode, [0]) * len(self.x)
            self.x_mv = memoryview(self.x)
            self.out_mv = memoryview(self.out)

    def fingerprint(self, result):
        """What the host checks: the value, or a CRC-32 of ``out`` for map."""
        if self.workload == "map":
            return {"crc32": zlib.crc32(self.out_mv)}
        return result


# ---------------------------------------------------------------------------
# splitting work and running it on threads
# ---------------------------------------------------------------------------


def shares(n, parts):
    """Split ``range(n)`` into `parts` contiguous ``(start, stop)`` pairs.

    The lengths differ by at most one, the first ``n % parts`` shares being
    the longer ones.  Every parallel strategy splits its work with this one
    function, so all of them do exactly the same work per worker.

    Parameters
    ----------
    n : int
        Number of items, >= 0.
    parts : int
        Number of shares, >= 1.  Shares are empty when ``parts > n``.

    Returns
    -------
    list of tuple of int
        ``parts`` pairs covering ``0 .. n`` in order.

    Examples
    --------
    >>> shares(10, 3)
    [(0, 4), (4, 7), (7, 10)]
    >>> shares(1, 2)
    [(0, 1), (1, 1)]
    """
    if parts < 1:
        raise ValueError("`parts` must be >= 1, got {}".format(parts))
    q, r = divmod(n, parts)
    bounds = []
    a = 0
    for k in range(parts):
        b = a + q + (1 if k < r else 0)
        bounds.append((a, b))
        a = b
    return bounds


def run_in_threads(fn, data, bounds):
    """Call ``fn(data, a, b)`` for each share on its own ``threading.Thread``.

    This is the code a user writes: start one plain thread per share, join
    them all.  Thread start-up is part of the call on purpose.

    Parameters
    ----------
    fn : callable
        A share kernel ``fn(data, start, stop) -> partial result``.
    data : object
        Passed through to `fn`.
    bounds : list of (int, int)
        The shares, e.g. from :func:`shares`.

    Returns
    -------
    list
        The partial results, in share order.

    Raises
    ------
    BaseException
        The first exception raised by any share, after all threads joined.
    """
    results = [None] * len(bounds)
    errors = []

    def work(k, a, b):
        try:
            results[k] = fn(data, a, b)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k, a, b)) for k, (a, b) in enumerate(bounds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def combine(workload, partials):
    """Merge share results: sums for ``range``/``reduce``, nothing for ``map``."""
    if workload == "map":
        return None
    total = 0
    for p in partials:
        total += p
    return total


# ---------------------------------------------------------------------------
# the pure-Python kernels (the seed's loop, and its array versions)
# ---------------------------------------------------------------------------


def range_sum(data, a, b):
    """``sum(i * i for i in range(a, b))`` as the plain loop a user writes."""
    total = 0
    for i in range(a, b):
        total += i * i
    return total


def map_squares(data, a, b):
    """``out[i] = x[i] * x[i]`` for ``i`` in ``range(a, b)``, element by element."""
    x = data.x_mv
    out = data.out_mv
    for i in range(a, b):
        v = x[i]
        out[i] = v * v


def reduce_squares(data, a, b):
    """Sum of ``x[i] * x[i]`` over ``range(a, b)``."""
    total = 0
    # memoryview slices are zero-copy; iterating one yields Python scalars
    for v in data.x_mv[a:b]:
        total += v * v
    return total


PY_KERNELS = {"range": range_sum, "map": map_squares, "reduce": reduce_squares}

#: The Jython-only row: NOT the seed's loop (see :func:`java_range_sum`).
JAVA_LABEL = "python-threads (jython, java long loop)"


def java_range_sum(data, a, b):  # pragma: no cover - Jython only
    """Sum of squares with Java ``long`` arithmetic in blocks (Jython only).

    The squares and partial sums are computed by
    ``java.lang.Math.multiplyExact``/``addExact`` on Java longs, so the loop
    creates no Python ``long`` (BigInteger) objects.  A block is short enough
    that its sum fits in 63 bits (and ``*Exact`` raise on overflow, so no
    wrong value can pass); each block's sum is added to an exact Python
    integer, so the result is still checked against the exact value.
    """
    from java.lang import Math

    mul = Math.multiplyExact
    add = Math.addExact
    total = 0
    top = max(b, 2)
    block = max(1, (1 << 62) // (top * top))
    start = a
    while start < b:
        stop = min(b, start + block)
        part = 0
        for i in range(start, stop):
            part = add(part, mul(i, i))
        total += part
        start = stop
    return total


# ---------------------------------------------------------------------------
# timing (pyperf's practice: calibrated loops, warmup, interleaved values)
# ---------------------------------------------------------------------------


#: Longest wait for the machine to go quiet before a timed value, seconds.
SETTLE_TIMEOUT = 0.5


def _procs_running():
    """Runnable tasks on the whole machine, this thread included (Linux), or None."""
    try:
        with open("/proc/stat", "rb") as f:
            for line in f:
                if line.startswith(b"procs_running "):
                    return int(line.split()[1])
    except (OSError, IOError, ValueError):
        pass
    return None


def _runnable_in(proc):
    """``(runnable threads, child pids)`` of process `proc` (``"self"`` or a
    pid) from /proc; ``(None, [])`` where that cannot be read (not Linux, or
    the process is gone).  Only ``"self"`` lists its children."""
    base = "/proc/" + proc + "/task"
    try:
        tids = os.listdir(base)
    except (OSError, IOError):
        return None, []
    n = 0
    kids = []
    for t in tids:
        d = base + "/" + t
        try:
            with open(d + "/stat", "rb") as f:
                stat = f.read()
            j = stat.rindex(b")")  # the command name may hold spaces and parentheses
            if stat[j + 2:j + 3] == b"R":
                n += 1
        except (OSError, IOError, ValueError):
            continue  # the thread has just exited
        if proc == "self":
            try:
                with open(d + "/children", "rb") as f:
                    kids += f.read().split()
            except (OSError, IOError):
                pass  # a kernel without CONFIG_PROC_CHILDREN
    return n, kids


def _own_runnable():
    """Runnable threads of this process, the caller left out, and of its child
    processes (Linux), or None where /proc cannot tell.

    These are the threads a strategy may leave spinning (BLAS, OpenMP, a
    process pool's children): the load :func:`settle` is there to wait out.
    """
    n, kids = _runnable_in("self")
    if n is None:
        return None
    total = n - 1  # the caller, reading this, is running
    for k in kids:
        m = _runnable_in(k.decode("ascii") if isinstance(k, bytes) else k)[0]
        total += m or 0
    return max(0, total)


#: Settles in a row that ran out of time; see settle().
_settle_misses = [0]
#: After this many misses in a row the load is not ours to wait out.
SETTLE_MISSES_BUSY = 3
#: The wait, in seconds, while the machine is busy that way, where /proc
#: cannot tell this process's threads from the others.
SETTLE_BUSY_TIMEOUT = 0.02
#: [settles, settles that ended with another task runnable]: how many timed
#: values started while something else wanted a CPU (the report's warning
#: that the machine was busy).
settle_counts = [0, 0]


def settle(timeout=SETTLE_TIMEOUT):
    """Wait until nothing but this thread is runnable, at most `timeout` s.

    Some strategies leave threads spinning after they return: OpenBLAS's
    workers busy-wait about 100 ms after each ``np.dot`` (its
    ``THREAD_TIMEOUT``), OpenMP runtimes and Numba's pool spin too, and
    a process pool's children may still be exiting.  A value timed while
    they spin shares the cores with them and makes the *next* strategy look
    slow (the bench saw ``gilfree`` on 2 threads at 1-thread speed for about
    100 ms after a BLAS row).  So each value waits here first.  Where
    ``/proc/stat`` is missing (not Linux) it returns at once.

    Spinning threads stop within ~100 ms; when SETTLE_MISSES_BUSY waits in a
    row ran out of time, other programs keep the machine busy and waiting
    for them changes nothing: then it waits only while threads of this
    process or of its children are runnable (:func:`_own_runnable`), which
    still lets a BLAS pool stop spinning, and returns at once when all that
    runs is other programs (where /proc cannot tell, it waits at most
    SETTLE_BUSY_TIMEOUT).  One wait that finds the machine quiet ends that
    mode.  On a machine at load 5-8 every value had waited the full 0.5 s,
    and a quick bench took 400 s instead of 60 s.

    Returns
    -------
    float
        Seconds waited.
    """
    busy = _settle_misses[0] >= SETTLE_MISSES_BUSY
    t0 = perf_counter()
    n = _procs_running()
    while n is not None and n > 1:
        own = _own_runnable()
        if own is None:  # cannot tell whose threads run
            limit = min(timeout, SETTLE_BUSY_TIMEOUT) if busy else timeout
        elif own == 0 and busy:
            break  # only other programs run
        else:
            limit = timeout
        if perf_counter() - t0 >= limit:
            break
        time.sleep(0.0005)
        n = _procs_running()
    settle_counts[0] += 1
    if n is not None and n > 1:
        _settle_misses[0] += 1
        settle_counts[1] += 1
    else:
        _settle_misses[0] = 0
    return perf_counter() - t0


def time_calls(call, loops):
    """Wall-clock seconds for `loops` consecutive calls of ``call()``."""
    t0 = perf_counter()
    for _ in range(loops):
        call()
    return perf_counter() - t0


def calibrate(timed, min_time, max_loops=1 << 20, primed=False):
    """Loops per value so that one timed value lasts at least `min_time` s.

    Like pyperf: a call much shorter than the clock's useful resolution and
    the loop overhead is repeated in an inner loop, and the value reported is
    the time per call.  Calls longer than `min_time` get one loop.

    Parameters
    ----------
    timed : callable
        ``timed(loops) -> seconds`` for `loops` calls.
    min_time : float
        Target duration of one value, in seconds.
    max_loops : int, optional
        Upper bound, for calls that are (nearly) free.
    primed : bool, optional
        The row has already been called (the bench checks each result before
        timing): its one-time costs are paid, so no first call is thrown away.

    Returns
    -------
    int
        The loop count, >= 1.
    """
    # The first call of a row pays one-time costs (a pool's threads start,
    # pages fault in): calibrated on it, a 15 ms call could look like 25 ms
    # and get one loop, so that every value is a single call after idle.
    if not primed:
        timed(1)
    loops = 1
    while loops < max_loops:
        dt = timed(loops)
        if dt >= min_time:
            break
        # Aim 20% above the target (the next value may run faster), and grow
        # at least 2x so the loop ends quickly even on a noisy clock.
        guess = int(math.ceil(loops * min_time * 1.2 / max(dt, 1e-9)))
        loops = min(max_loops, max(2 * loops, guess))
    return loops


#: JIT warm-up (:func:`warm_up`): at most this many calls ...
MAX_WARMUP = 8
#: ... or this many seconds of calls, per row;
MAX_WARMUP_S = 60.0
#: stable once two consecutive calls agree within this fraction.
STABLE = 0.05


def warm_up(call, first, at_least):
    """Call until two consecutive calls agree within 5%; all their times.

    JIT compilers (the JVM's under Jython, PyPy's tracing JIT) make the first
    calls of a row slower: the first 2*10**7-element call under Jython took
    6.5 s, later ones 2.6-3.0 s.  So a row is called until two consecutive
    calls agree within :data:`STABLE`, at least `at_least` calls after the
    first, at most :data:`MAX_WARMUP` calls or :data:`MAX_WARMUP_S` seconds.

    Parameters
    ----------
    call : callable
        One call of the row.
    first : float
        Seconds the row's first call (already made) took.
    at_least : int
        Fewest calls after the first.

    Returns
    -------
    list of float
        Seconds of each warm-up call, `first` included.
    """
    times = [first]
    spent = first
    while len(times) < MAX_WARMUP and spent < MAX_WARMUP_S:
        dt = time_calls(call, 1)
        times.append(dt)
        spent += dt
        if len(times) > at_least and abs(times[-1] - times[-2]) <= STABLE * times[-2]:
            break
    return times


#: A value longer than this many times its target recalibrates its timer.
RUNAWAY = 10


def measure_interleaved(timers, repeats, warmup, min_time, tick=None,
                        settle_timeout=SETTLE_TIMEOUT, max_loops=1 << 20, primed=False):
    """Time several callables in round-robin so host drift hits all alike.

    Each timer is calibrated, warmed up `warmup` times, then timed `repeats`
    times; round ``r`` starts with timer ``r % len(timers)``, so no strategy
    always runs right after the same neighbour (caches, turbo, other
    tenants of the machine).  Before each value the machine is let
    :func:`settle`, so threads a previous strategy left spinning do not
    steal the next one's cores.

    Parameters
    ----------
    timers : list of callable
        ``timer(loops) -> seconds`` for `loops` calls (wall-clock of the
        whole, possibly parallel, call: never a sum of per-thread times).
    repeats, warmup : int
        Timed values per timer, and discarded values before them.
    min_time : float
        Calibration target per value, seconds.
    tick : callable, optional
        Called with a short text after each phase (progress display).
    settle_timeout : float, optional
        Longest :func:`settle` wait before each value, seconds.
    max_loops : int, optional
        Most calls per value (:func:`calibrate`).
    primed : bool, optional
        Every timer has been called before (:func:`calibrate`).

    Returns
    -------
    loops : list of int
        Calls per value, per timer (the last value's: a value that took more
        than RUNAWAY times `min_time` makes the later ones use fewer).
    values : list of list of float
        Seconds per call, `repeats` values per timer.
    """
    tick = tick or (lambda what: None)
    loops = [calibrate(t, min_time, max_loops, primed) for t in timers]
    tick("calibrated")
    for _ in range(warmup):
        for t, n in zip(timers, loops):
            t(n)
    tick("warmed up")
    values = [[] for _ in timers]
    k = len(timers)
    for r in range(repeats):
        for j in range(k):
            i = (r + j) % k
            settle(settle_timeout)
            dt = timers[i](loops[i])
            values[i].append(dt / loops[i])
            if loops[i] > 1 and dt > RUNAWAY * min_time:
                # calibrated in a quiet moment, a call can turn 100x slower
                # on a busy machine (OpenBLAS's threads wait for each other
                # at every np.dot): fewer calls per value from now on, so one
                # row cannot eat minutes.  Values stay seconds per call.
                loops[i] = max(1, int(loops[i] * min_time * 1.2 / dt))
        tick("round {}/{}".format(r + 1, repeats))
    return loops, values


def median(values):
    """The median of a non-empty list, as ``statistics.median`` gives it."""
    vals = sorted(values)
    n = len(vals)
    if n % 2 == 1:
        return vals[n // 2]
    return (vals[n // 2 - 1] + vals[n // 2]) / 2


def summarize(values):
    """Median, quartiles, min and max of a list of timings (seconds).

    The quartiles are ``statistics.quantiles(values, n=4,
    method="inclusive")``, written out (Python 2 has no ``statistics``).
    """
    vals = sorted(values)
    med = median(vals)
    if len(vals) >= 2:
        m = len(vals) - 1
        q1, q3 = [(vals[j] * (4 - delta) + vals[j + 1] * delta) / 4
                  for j, delta in (divmod(i * m, 4) for i in (1, 3))]
    else:
        q1 = q3 = med
    return {"median": med, "q1": q1, "q3": q3, "min": vals[0], "max": vals[-1],
            "count": len(vals)}


class Budget(object):
    """Skip points whose single call would take longer than `max_call` s.

    Pure-Python loops are ~10,000x slower than the C kernels, so a size grid
    that suits the kernels would make them run for minutes.  Each series
    (strategy, workers, workload, dtype) remembers its times at the sizes it
    ran and extrapolates to the next size: along the line through its last
    two sizes, or, with one size only, proportionally to n, but only if that
    time was long enough (>= max_call / 20) for per-element work to dominate
    it.  A short call is mostly fixed cost (starting threads, waiting for the
    GIL): scaling it by n would wrongly skip fast strategies.  When nothing
    can be predicted the point runs, and its checked call is the first
    measurement.
    """

    def __init__(self, max_call):
        self.max_call = max_call
        self._seen = {}

    def record(self, key, n, seconds):
        """Remember that one call on `n` items took `seconds`."""
        pts = [p for p in self._seen.get(key, []) if p[0] != n]
        self._seen[key] = (pts + [(n, seconds)])[-2:]

    def estimate(self, key, n):
        """Predicted seconds for one call on `n` items, or None if unknown."""
        pts = sorted(self._seen.get(key, []))
        if len(pts) == 2:
            (n1, t1), (n2, t2) = pts
            slope = (t2 - t1) / (n2 - n1)
            if slope > 0:
                return t2 + slope * (n - n2)
        if pts:
            n1, t1 = pts[-1]
            if t1 >= self.max_call / 20 and n1 > 0:
                return t1 * n / n1
        return None

    def skip_reason(self, key, n):
        """A reason to skip, or None when the call fits the budget."""
        est = self.estimate(key, n)
        if est is not None and est > self.max_call:
            return ("one call would take ~{:.2g} s, over the {:g} s "
                    "budget per call (--max-call)".format(est, self.max_call))
        return None


# ---------------------------------------------------------------------------
# the GIL-starvation probe
# ---------------------------------------------------------------------------


def percentile(sorted_vals, q):
    """Nearest-rank percentile of an already sorted list (q in [0, 100])."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(math.ceil(q / 100 * len(sorted_vals))) - 1))
    return sorted_vals[k]


def heartbeat(run_once, duration, period=1e-3, samples=None, clock=None):
    """How late a 1 ms sleeper thread wakes while ``run_once()`` keeps running.

    A thread sleeps `period` in a loop and records how much longer than
    `period` each sleep took.  ``time.sleep`` releases the GIL, but waking up
    needs it back: while another thread holds the GIL (a C call that does
    not release it) the sleeper waits for the whole call; pure-Python
    threads hand the GIL over every switch interval (5 ms); code that
    releases the GIL lets it wake at once (~0.1 ms: the OS timer alone).

    Parameters
    ----------
    run_once : callable
        One call of the strategy under test; repeated on the calling thread
        until `duration` has passed (at least once).
    duration : float
        Seconds to keep the strategy running.
    period : float, optional
        The sleeper's period, seconds.
    samples : list, optional
        If given, each beat's lateness (seconds) is appended to it.
    clock : callable, optional
        Seconds of the calling thread's time to leave out of its lateness
        (read in the sleeper before and after each sleep), e.g. the time it
        sat runnable while other programs held the CPUs.

    Returns
    -------
    dict
        ``p50_ms``, ``p99_ms``, ``max_ms`` lateness, ``samples`` (beats
        seen), ``expected`` (beats a free sleeper would have done),
        ``calls`` and ``seconds`` of the strategy.
    """
    late = []
    started = threading.Event()
    stop = threading.Event()

    def beat():
        started.set()
        while not stop.is_set():
            c0 = clock() if clock else 0.0
            t0 = perf_counter()
            time.sleep(period)
            dt = perf_counter() - t0 - period
            late.append(dt - (clock() - c0) if clock else dt)

    th = threading.Thread(target=beat, name="gilfree-bench-heartbeat")
    th.daemon = True
    th.start()
    started.wait()
    calls = 0
    t0 = perf_counter()
    try:
        while True:
            run_once()
            calls += 1
            if perf_counter() - t0 >= duration:
                break
    finally:
        elapsed = perf_counter() - t0
        stop.set()
        th.join()
    if samples is not None:
        samples.extend(late)
    vals = sorted(late)
    return {
        "p50_ms": percentile(vals, 50) * 1e3,
        "p99_ms": percentile(vals, 99) * 1e3,
        "max_ms": (vals[-1] if vals else float("nan")) * 1e3,
        "samples": len(vals),
        "expected": int(elapsed / period),
        "calls": calls,
        "seconds": elapsed,
    }


# ---------------------------------------------------------------------------
# subinterpreters (Python 3.13+) and worker processes
# ---------------------------------------------------------------------------

#: Run once in each subinterpreter: load this very file as ``_gilfree_portable``
#: (``import gilfree`` would fail there: NumPy and Cython modules refuse to
#: load in isolated subinterpreters).
_LOADER = (
    "import importlib.util as _u, sys as _s\n"
    "_spec = _u.spec_from_file_location('_gilfree_portable', {path!r})\n"
    "_m = _u.module_from_spec(_spec)\n"
    "_s.modules['_gilfree_portable'] = _m\n"
    "_spec.loader.exec_module(_m)\n"
)


def _interpreters_module():
    """CPython's ``_interpreters`` (3.13+), the layer under PEP 734's
    ``concurrent.interpreters`` and ``InterpreterPoolExecutor``."""
    import _interpreters  # type: ignore[import-not-found]

    return _interpreters


def _free_threaded_build():
    """True on a free-threaded (``Py_GIL_DISABLED``) CPython build."""
    try:
        return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    except Exception:  # no sysconfig, or one that does not know the variable
        return False


def subinterpreters_skip_reason():
    """None where subinterpreters with their own GIL can run, else why not."""
    if sys.version_info < (3, 13):
        return ("needs Python 3.13+ (subinterpreters with their own GIL); this is {}"
                .format(platform.python_version()))
    if _free_threaded_build() and sys.version_info < (3, 14):
        return ("not run on a 3.13 free-threaded build: there a subinterpreter importing a "
                "module was seen spinning for minutes in the type cache's lock "
                "(_PySeqLock_BeginRead); measure it on a GIL build of 3.13, or on 3.14")
    try:
        _interpreters_module()
    except ImportError as exc:
        return "CPython's _interpreters module is unavailable: {}".format(exc)
    return None


class _Team(object):
    """A pool of `workers` executors that each load this file, then run the
    pure-Python range loop on their share.

    Only builtins cross the boundary (``exec`` and ``eval`` with a source
    string and an empty globals dict), so nothing depends on how functions
    are pickled between processes.
    """

    def __init__(self, workers):
        t0 = perf_counter()
        self.workers = workers
        self.pool = self._make_pool(workers, (_LOADER.format(path=os.path.abspath(__file__)), {}))
        # Workers start lazily; tasks that overlap force all of them up.
        futures = [self.pool.submit(eval, "__import__('time').sleep(0.05)", {})
                   for _ in range(workers)]
        for f in futures:
            f.result()
        self.startup_s = perf_counter() - t0

    def _make_pool(self, workers, initargs):
        raise NotImplementedError

    def range_sum(self, n):
        """``sum(i*i for i in range(n))`` split over the workers."""
        futures = [
            self.pool.submit(
                eval, "__import__('_gilfree_portable').range_sum(None, {}, {})".format(a, b), {})
            for a, b in shares(n, self.workers)
        ]
        return combine("range", [f.result() for f in futures])

    def close(self):
        self.pool.shutdown(wait=True)


class InterpreterTeam(object):
    """`workers` subinterpreters, each with its own GIL (the ``isolated``
    config), that have loaded this file; a call runs one share in each, from
    one thread per interpreter, and each share's result comes back through a
    pipe.

    This drives CPython's ``_interpreters`` module directly, the layer under
    ``InterpreterPoolExecutor``.  The PyPI backport of that executor for 3.13
    (interpreters-pep-734 0.5.0) was dropped: its worker busy-polls a queue
    for each result, and one was seen spinning there for 10 minutes.
    """

    def __init__(self, workers):
        t0 = perf_counter()
        self._mod = _interpreters_module()
        self.workers = workers
        self.ids = []
        try:
            for _ in range(workers):
                self.ids.append(self._mod.create())
                self._exec(self.ids[-1], _LOADER.format(path=os.path.abspath(__file__)))
        except BaseException:
            self.close()
            raise
        self.startup_s = perf_counter() - t0

    def _exec(self, iid, code):
        # getattr: `exec` is a keyword in Python 2, which must parse this file
        err = getattr(self._mod, "exec")(iid, code)
        if err is not None:
            raise RuntimeError("in a subinterpreter: {}".format(getattr(err, "formatted", err)))

    def range_sum(self, n):
        """``sum(i*i for i in range(n))`` split over the subinterpreters."""

        def run(_, iid, share):
            a, b = share
            r, w = os.pipe()
            try:
                try:
                    self._exec(iid, "import os\nos.write({}, str(__import__("
                                    "'_gilfree_portable').range_sum(None, {}, {})).encode())"
                                    .format(w, a, b))
                finally:
                    os.close(w)
                chunks = []
                while True:
                    b_ = os.read(r, 65536)
                    if not b_:
                        break
                    chunks.append(b_)
                return int(b"".join(chunks))
            finally:
                os.close(r)

        # One thread per interpreter: run_in_threads passes each pair as
        # (start, stop), here (interpreter, share).
        pairs = list(zip(self.ids, shares(n, self.workers)))
        return combine("range", run_in_threads(run, None, pairs))

    def close(self):
        ids, self.ids = self.ids, []
        for iid in ids:
            try:
                self._mod.destroy(iid)
            except Exception:  # already gone
                pass


class ProcessTeam(_Team):
    """Worker processes of this interpreter, started with ``spawn`` (this
    file runs as a script, possibly with threads alive: no fork).  It gives
    another interpreter's pure-Python rows their own process ceiling: the
    same loop, N processes, no shared GIL."""

    def _make_pool(self, workers, initargs):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=workers, initializer=_exec, initargs=initargs,
                                   mp_context=multiprocessing.get_context("spawn"))


def _exec(source, namespace):
    """``exec`` as a plain function (a pool initializer pickles it by name)."""
    exec(source, namespace)


def _range_share(ab):
    """:func:`range_sum` on one ``(start, stop)`` pair (for ``Pool.map``)."""
    return range_sum(None, ab[0], ab[1])


class PoolTeam(object):
    """A ``multiprocessing.Pool`` of `workers` processes, started and warmed
    beforehand: the ``python-processes`` row of the interpreters that run the
    range profile (PyPy, CPython before 3.8, which may lack
    ``ProcessPoolExecutor``'s ``initializer`` and ``mp_context``).  The shares
    go to the children as :func:`_range_share` calls of this script's
    ``__main__``, which the platform's default start method provides."""

    def __init__(self, workers):
        import multiprocessing

        t0 = perf_counter()
        self.workers = workers
        self.pool = multiprocessing.Pool(workers)
        self.pool.map(_range_share, [(0, 1000)] * workers)  # all processes up
        self.startup_s = perf_counter() - t0

    def range_sum(self, n):
        """``sum(i*i for i in range(n))`` split over the processes."""
        return combine("range", self.pool.map(_range_share, shares(n, self.workers), 1))

    def close(self):
        self.pool.terminate()
        self.pool.join()


def processes_skip_reason():
    """None where this interpreter can start worker processes, else why not."""
    if JYTHON:
        return "Jython 2.7 has no multiprocessing module"
    try:
        import multiprocessing  # noqa: F401
    except ImportError as exc:
        return "multiprocessing unavailable: {}".format(exc)
    return None


# ---------------------------------------------------------------------------
# describing the interpreter
# ---------------------------------------------------------------------------


def interpreter_info():
    """Implementation, version, build and GIL state of the running interpreter."""
    impl = platform.python_implementation()
    version = platform.python_version()
    ft_build = _free_threaded_build()
    if impl == "CPython":
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    else:
        # Jython and IronPython have no GIL; PyPy has one.
        gil = impl == "PyPy"
    short = ".".join(version.split(".")[:2]) + ("t" if ft_build else "")
    if impl == "PyPy":
        pv = getattr(sys, "pypy_version_info", None)
        if pv is not None:
            short = "{} {}.{}.{} (Python {})".format(impl, pv[0], pv[1], pv[2], short)
        else:
            short = "{} {}".format(impl, short)
    elif impl != "CPython":
        short = "{} {}".format(impl, version)
    try:
        compiler = platform.python_compiler()
    except Exception:  # pragma: no cover - an interpreter that cannot tell
        compiler = ""
    if JYTHON:  # pragma: no cover - Jython only
        from java.lang import System

        compiler = "Java {} ({})".format(System.getProperty("java.version"),
                                         System.getProperty("java.vm.name"))
    return {
        "executable": sys.executable or "",
        "implementation": impl,
        "version": version,
        "free_threaded_build": ft_build,
        "gil_enabled": bool(gil),
        "compiler": compiler,
        "label": "{}, {}".format(short, "GIL" if gil else "no GIL"),
    }


def full_profile(info):
    """True if the interpreter `info` describes runs every pure-Python row.

    That is CPython 3.8+ (e.g. 3.13t): every workload, ``free-threaded`` or
    ``python-threads``, processes and subinterpreters on the range loop, the
    heartbeat probe.  Every other interpreter (Jython, PyPy, IronPython,
    older CPython) runs the *range profile*: the range workload only, as
    ``python``, ``python-threads`` and ``python-processes`` (and
    :data:`JAVA_LABEL` on Jython), each row warmed up until its timings are
    stable (:func:`warm_up`).

    Parameters
    ----------
    info : dict
        From :func:`interpreter_info`.
    """
    try:
        major, minor = (int(p) for p in info["version"].split(".")[:2])
    except (KeyError, ValueError):
        return False
    return info.get("implementation") == "CPython" and (major, minor) >= (3, 8)


# ---------------------------------------------------------------------------
# running the pure-Python rows in another interpreter (--python PATH)
# ---------------------------------------------------------------------------

#: Why the range profile skips the array workloads.
RANGE_ONLY = "this interpreter runs the range workload only (the Python 2.7-compatible worker)"


def _emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _plan(case, workers, full, info, proc_reason):
    """The ``(strategy, workers, skip reason or None)`` rows of one case."""
    range_case = case["workload"] == "range"
    if full:
        threads_name = "python-threads" if info["gil_enabled"] else "free-threaded"
        plan = [("python", 1)] + [(threads_name, w) for w in workers]
        if range_case:
            plan += [("python-processes", w) for w in workers]
            if subinterpreters_skip_reason() is None:
                plan += [("subinterpreters", w) for w in workers]
        return [(name, w, None) for name, w in plan]
    plan = [("python", 1)] + [("python-threads", w) for w in workers]
    plan += [("python-processes", w) for w in workers]
    if JYTHON:
        plan += [(JAVA_LABEL, w) for w in sorted(set([1] + list(workers)))]
    if not range_case:
        return [(name, w, RANGE_ONLY) for name, w in plan]
    return [(name, w, proc_reason if name == "python-processes" else None) for name, w in plan]


def run_request(req, emit=_emit):
    """Measure the pure-Python strategies for every case of `req`.

    Parameters
    ----------
    req : dict
        ``cases`` (list of ``{"workload", "n", "dtype"}``), ``workers``
        (list of int), ``repeats``, ``warmup``, ``min_time``, ``max_call``
        ``heartbeat`` (seconds, 0 for none), ``heartbeat_workers`` and
        ``heartbeat_series`` (``[workload, dtype]`` pairs): the probe runs on
        the largest size of each such series that fits the budget.
    emit : callable
        Receives progress events (dicts).

    Returns
    -------
    dict
        ``{"event": "result", "interpreter": ..., "rows": [...]}``; each row
        has ``strategy``, ``workload``, ``n``, ``dtype``, ``workers`` and
        either ``values``/``loops``/``result`` or ``skipped``/``error``.
        Map results are CRC-32 fingerprints of ``out`` (``{"crc32": int}``).
        In the range profile (:func:`full_profile`) a measured row also has
        ``warmup_values``, and there is no heartbeat probe.
    """
    info = interpreter_info()
    full = full_profile(info)
    proc_reason = None if full else processes_skip_reason()
    budget = Budget(req["max_call"])
    sizes = series_sizes(req["cases"])
    probe = set(tuple(s) for s in req.get("heartbeat_series", []))
    teams = {}
    rows = []
    try:
        for ci, c in enumerate(req["cases"]):
            emit({"event": "progress", "done": ci, "total": len(req["cases"]),
                  "what": "{} {} n={}".format(c["workload"], c["dtype"] or "", c["n"])})
            plan = _plan(c, list(req["workers"]), full, info, proc_reason)
            data = (ArrayData(c["workload"], c["n"], c["dtype"])
                    if any(skip is None for _, _, skip in plan) else None)
            items = []
            for name, w, skip in plan:
                row = {"strategy": name, "workload": c["workload"], "n": c["n"],
                       "dtype": c["dtype"], "workers": w}
                rows.append(row)
                if skip:
                    row["skipped"] = skip
                    continue
                key = (name, w, c["workload"], c["dtype"])
                row["skipped"] = budget.skip_reason(key, c["n"])
                if row["skipped"]:
                    continue
                try:
                    call = _foreign_call(name, w, data, teams, full)
                    t0 = perf_counter()
                    result = call()
                    dt = perf_counter() - t0
                    budget.record(key, c["n"], dt)
                    row["result"] = data.fingerprint(result)
                    row["skipped"] = budget.skip_reason(key, c["n"])
                    if not row["skipped"] and not full:
                        row["warmup_values"] = warm_up(call, dt, req.get("warmup", 1))
                except Exception as exc:  # reported per row; the run goes on
                    row["error"] = "{}: {}".format(type(exc).__name__, exc)
                    row.pop("result", None)
                    continue
                if not row["skipped"]:
                    items.append((row, call, key))
            if items:
                # the range profile warmed each row up already (warm_up)
                loops, values = measure_interleaved(
                    [(lambda k, f=call: time_calls(f, k)) for _, call, _ in items],
                    repeats=req["repeats"], warmup=req["warmup"] if full else 0,
                    min_time=req["min_time"])
                for (row, _, key), lp, vals in zip(items, loops, values):
                    row["loops"] = lp
                    row["values"] = vals
                    budget.record(key, c["n"], median(vals))
            if not full:
                continue  # the range profile runs no heartbeat probe
            for row, call, key in items:
                if req.get("heartbeat") and (c["workload"], c["dtype"]) in probe \
                        and row["workers"] == (1 if row["strategy"] == "python"
                                               else req["heartbeat_workers"]) \
                        and is_last_size(budget, key, c["n"], sizes[(c["workload"], c["dtype"])]):
                    row["heartbeat"] = heartbeat(call, req["heartbeat"])
    finally:
        for team in teams.values():
            team.close()
    return {"event": "result", "interpreter": info, "rows": rows}


def series_sizes(cases):
    """Sorted sizes of each ``(workload, dtype)`` series of a case list."""
    sizes = {}
    for c in cases:
        sizes.setdefault((c["workload"], c["dtype"]), set()).add(c["n"])
    return dict((k, sorted(v)) for k, v in sizes.items())


def is_last_size(budget, key, n, sizes):
    """True if `n` is the largest size of `sizes` that series `key` will run.

    The heartbeat probe runs once per series, at its largest size: the
    longest calls show GIL starvation best.  Budget estimates grow with n,
    so if the next size is over budget, every larger one is too.
    """
    bigger = [m for m in sizes if m > n]
    return not bigger or budget.skip_reason(key, bigger[0]) is not None


def _foreign_call(name, workers, data, teams, full=True):
    """The zero-argument call that runs strategy `name` once on `data`."""
    fn = PY_KERNELS[data.workload]
    if name == "python":
        return lambda: combine(data.workload, [fn(data, 0, data.n)])
    if name in ("subinterpreters", "python-processes"):
        key = (name, workers)
        if key not in teams:
            kind = (InterpreterTeam if name == "subinterpreters"
                    else ProcessTeam if full else PoolTeam)
            teams[key] = kind(workers)
        team = teams[key]
        return lambda: team.range_sum(data.n)
    if name == JAVA_LABEL:
        fn = java_range_sum
    bounds = shares(data.n, workers)
    return lambda: combine(data.workload, run_in_threads(fn, data, bounds))


def main(argv=None):
    """Script entry: JSON request on stdin, JSON lines on stdout.

    With ``--info``, print :func:`interpreter_info` only (one JSON line).
    """
    argv = sys.argv if argv is None else argv
    if "--info" in argv[1:]:
        _emit(interpreter_info())
        return 0
    req = json.loads(sys.stdin.read())
    _emit(run_request(req))
    return 0


if __name__ == "__main__":
    sys.exit(main())
