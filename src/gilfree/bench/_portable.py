"""The bench's stdlib-only core: work splitting, pure-Python kernels, timing.

This file imports nothing from gilfree, NumPy or any third-party package, on
purpose, because it runs in three places:

1. in the bench itself, imported as ``gilfree.bench._portable``;
2. inside subinterpreters (``InterpreterPoolExecutor``), which can import
   neither NumPy nor gilfree's compiled core, loaded from its file path under
   the name ``_gilfree_portable``;
3. as a script under *another* Python (``gilfree bench --python PATH``, e.g. a
   free-threaded 3.13t build that has no gilfree installed): it reads a JSON
   request on stdin and writes JSON lines on stdout (see :func:`main`).

So the timing rules (calibration, interleaving, statistics, the heartbeat
probe) are written once, here, and every interpreter measures the same way.
Keep it importable on Python 3.8+ with only the standard library; the tests
check both.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import sysconfig
import threading
import time
import zlib
from array import array

perf_counter = time.perf_counter

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


def make_values(n: int, dtype: str) -> array:
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


class ArrayData:
    """Inputs of one case for the pure-Python kernels (no NumPy needed).

    The kernels only use ``x_mv`` and ``out_mv``, so NumPy-backed case data
    in the bench and this stdlib version are interchangeable.
    """

    def __init__(self, workload: str, n: int, dtype: str | None):
        self.workload = workload
        self.n = n
        if workload == "range":
            self.x_mv = self.out_mv = None
        elif dtype is None:
            raise ValueError(f"the {workload} workload needs a dtype")
        else:
            self.x = make_values(n, dtype)
            self.out = array(self.x.typecode, bytes(len(self.x) * self.x.itemsize))
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


def shares(n: int, parts: int) -> list:
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
        raise ValueError(f"`parts` must be >= 1, got {parts}")
    q, r = divmod(n, parts)
    bounds = []
    a = 0
    for k in range(parts):
        b = a + q + (1 if k < r else 0)
        bounds.append((a, b))
        a = b
    return bounds


def run_in_threads(fn, data, bounds) -> list:
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


def combine(workload: str, partials):
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


def range_sum(data, a: int, b: int) -> int:
    """``sum(i * i for i in range(a, b))`` as the plain loop a user writes."""
    total = 0
    for i in range(a, b):
        total += i * i
    return total


def map_squares(data, a: int, b: int) -> None:
    """``out[i] = x[i] * x[i]`` for ``i`` in ``range(a, b)``, element by element."""
    x = data.x_mv
    out = data.out_mv
    for i in range(a, b):
        v = x[i]
        out[i] = v * v


def reduce_squares(data, a: int, b: int):
    """Sum of ``x[i] * x[i]`` over ``range(a, b)``."""
    total = 0
    # memoryview slices are zero-copy; iterating one yields Python scalars
    for v in data.x_mv[a:b]:
        total += v * v
    return total


PY_KERNELS = {"range": range_sum, "map": map_squares, "reduce": reduce_squares}


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
    except (OSError, ValueError):
        pass
    return None


def settle(timeout: float = SETTLE_TIMEOUT) -> float:
    """Wait until nothing but this thread is runnable, at most `timeout` s.

    Some strategies leave threads spinning after they return: OpenBLAS's
    workers busy-wait about 100 ms after each ``np.dot`` (its
    ``THREAD_TIMEOUT``), OpenMP runtimes and Numba's pool spin too, and
    a process pool's children may still be exiting.  A value timed while
    they spin shares the cores with them and makes the *next* strategy look
    slow (the bench saw ``gilfree`` on 2 threads at 1-thread speed for about
    100 ms after a BLAS row).  So each value waits here first.  Where
    ``/proc/stat`` is missing (not Linux) it returns at once.

    Returns
    -------
    float
        Seconds waited.
    """
    t0 = perf_counter()
    n = _procs_running()
    while n is not None and n > 1 and perf_counter() - t0 < timeout:
        time.sleep(0.0005)
        n = _procs_running()
    return perf_counter() - t0


def time_calls(call, loops: int) -> float:
    """Wall-clock seconds for `loops` consecutive calls of ``call()``."""
    t0 = perf_counter()
    for _ in range(loops):
        call()
    return perf_counter() - t0


def calibrate(timed, min_time: float, max_loops: int = 1 << 20) -> int:
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

    Returns
    -------
    int
        The loop count, >= 1.
    """
    # The first call of a row pays one-time costs (a pool's threads start,
    # pages fault in): calibrated on it, a 15 ms call could look like 25 ms
    # and get one loop, so that every value is a single call after idle.
    timed(1)
    loops = 1
    while loops < max_loops:
        dt = timed(loops)
        if dt >= min_time:
            break
        # Aim 20% above the target (the next value may run faster), and grow
        # at least 2x so the loop ends quickly even on a noisy clock.
        guess = math.ceil(loops * min_time * 1.2 / max(dt, 1e-9))
        loops = min(max_loops, max(2 * loops, guess))
    return loops


def measure_interleaved(timers, *, repeats: int, warmup: int, min_time: float, tick=None,
                        settle_timeout: float = SETTLE_TIMEOUT, max_loops: int = 1 << 20):
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

    Returns
    -------
    loops : list of int
        Calls per value, per timer.
    values : list of list of float
        Seconds per call, `repeats` values per timer.
    """
    tick = tick or (lambda what: None)
    loops = [calibrate(t, min_time, max_loops) for t in timers]
    tick("calibrated")
    for _ in range(warmup):
        for t, n in zip(timers, loops):
            t(n)
    tick("warmed up")
    values: list = [[] for _ in timers]
    k = len(timers)
    for r in range(repeats):
        for j in range(k):
            i = (r + j) % k
            settle(settle_timeout)
            values[i].append(timers[i](loops[i]) / loops[i])
        tick(f"round {r + 1}/{repeats}")
    return loops, values


def summarize(values) -> dict:
    """Median, quartiles, min and max of a list of timings (seconds)."""
    vals = sorted(values)
    med = statistics.median(vals)
    if len(vals) >= 2:
        q1, _, q3 = statistics.quantiles(vals, n=4, method="inclusive")
    else:
        q1 = q3 = med
    return {"median": med, "q1": q1, "q3": q3, "min": vals[0], "max": vals[-1],
            "count": len(vals)}


class Budget:
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

    def __init__(self, max_call: float):
        self.max_call = max_call
        self._seen: dict = {}

    def record(self, key, n: int, seconds: float) -> None:
        """Remember that one call on `n` items took `seconds`."""
        pts = [p for p in self._seen.get(key, []) if p[0] != n]
        self._seen[key] = (pts + [(n, seconds)])[-2:]

    def estimate(self, key, n: int):
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

    def skip_reason(self, key, n: int):
        """A reason to skip, or None when the call fits the budget."""
        est = self.estimate(key, n)
        if est is not None and est > self.max_call:
            return (f"one call would take ~{est:.2g} s, over the {self.max_call:g} s "
                    f"budget per call (--max-call)")
        return None


# ---------------------------------------------------------------------------
# the GIL-starvation probe
# ---------------------------------------------------------------------------


def percentile(sorted_vals, q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in [0, 100])."""
    if not sorted_vals:
        return math.nan
    k = max(0, min(len(sorted_vals) - 1, math.ceil(q / 100 * len(sorted_vals)) - 1))
    return sorted_vals[k]


def heartbeat(run_once, duration: float, period: float = 1e-3, samples=None,
              clock=None) -> dict:
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

    th = threading.Thread(target=beat, name="gilfree-bench-heartbeat", daemon=True)
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
        "max_ms": (vals[-1] if vals else math.nan) * 1e3,
        "samples": len(vals),
        "expected": int(elapsed / period),
        "calls": calls,
        "seconds": elapsed,
    }


# ---------------------------------------------------------------------------
# subinterpreters (Python 3.14+)
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


def subinterpreters_skip_reason():
    """None where subinterpreters with their own GIL can run, else why not."""
    if sys.version_info < (3, 13):
        return f"needs Python 3.13+ (subinterpreters with their own GIL); this is {platform.python_version()}"
    if sysconfig.get_config_var("Py_GIL_DISABLED") and sys.version_info < (3, 14):
        return ("not run on a 3.13 free-threaded build: there a subinterpreter importing a "
                "module was seen spinning for minutes in the type cache's lock "
                "(_PySeqLock_BeginRead); measure it on a GIL build of 3.13, or on 3.14")
    try:
        _interpreters_module()
    except ImportError as exc:
        return f"CPython's _interpreters module is unavailable: {exc}"
    return None


class _Team:
    """A pool of `workers` executors that each load this file, then run the
    pure-Python range loop on their share.

    Only builtins cross the boundary (``exec`` and ``eval`` with a source
    string and an empty globals dict), so nothing depends on how functions
    are pickled between processes.
    """

    def __init__(self, workers: int):
        t0 = perf_counter()
        self.workers = workers
        self.pool = self._make_pool(workers, (_LOADER.format(path=os.path.abspath(__file__)), {}))
        # Workers start lazily; tasks that overlap force all of them up.
        futures = [self.pool.submit(eval, "__import__('time').sleep(0.05)", {})
                   for _ in range(workers)]
        for f in futures:
            f.result()
        self.startup_s = perf_counter() - t0

    def _make_pool(self, workers: int, initargs):
        raise NotImplementedError

    def range_sum(self, n: int) -> int:
        """``sum(i*i for i in range(n))`` split over the workers."""
        futures = [
            self.pool.submit(eval, f"__import__('_gilfree_portable').range_sum(None, {a}, {b})", {})
            for a, b in shares(n, self.workers)
        ]
        return combine("range", [f.result() for f in futures])

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class InterpreterTeam:
    """`workers` subinterpreters, each with its own GIL (the ``isolated``
    config), that have loaded this file; a call runs one share in each, from
    one thread per interpreter, and each share's result comes back through a
    pipe.

    This drives CPython's ``_interpreters`` module directly, the layer under
    ``InterpreterPoolExecutor``.  The PyPI backport of that executor for 3.13
    (interpreters-pep-734 0.5.0) was dropped: its worker busy-polls a queue
    for each result, and one was seen spinning there for 10 minutes.
    """

    def __init__(self, workers: int):
        t0 = perf_counter()
        self._mod = _interpreters_module()
        self.workers = workers
        self.ids: list = []
        try:
            for _ in range(workers):
                self.ids.append(self._mod.create())
                self._exec(self.ids[-1], _LOADER.format(path=os.path.abspath(__file__)))
        except BaseException:
            self.close()
            raise
        self.startup_s = perf_counter() - t0

    def _exec(self, iid, code: str) -> None:
        err = self._mod.exec(iid, code)
        if err is not None:
            raise RuntimeError(f"in a subinterpreter: {getattr(err, 'formatted', err)}")

    def range_sum(self, n: int) -> int:
        """``sum(i*i for i in range(n))`` split over the subinterpreters."""

        def run(_, iid, share):
            a, b = share
            r, w = os.pipe()
            try:
                try:
                    self._exec(iid, f"import os\nos.write({w}, str(__import__("
                                    f"'_gilfree_portable').range_sum(None, {a}, {b})).encode())")
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

    def close(self) -> None:
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

    def _make_pool(self, workers: int, initargs):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=workers, initializer=_exec, initargs=initargs,
                                   mp_context=multiprocessing.get_context("spawn"))


def _exec(source: str, namespace: dict) -> None:
    """``exec`` as a plain function (a pool initializer pickles it by name)."""
    exec(source, namespace)


# ---------------------------------------------------------------------------
# describing the interpreter
# ---------------------------------------------------------------------------


def interpreter_info() -> dict:
    """Version, build and GIL state of the running interpreter."""
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    ft_build = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    version = platform.python_version()
    short = ".".join(version.split(".")[:2]) + ("t" if ft_build else "")
    return {
        "executable": sys.executable,
        "implementation": platform.python_implementation(),
        "version": version,
        "free_threaded_build": ft_build,
        "gil_enabled": bool(gil),
        "compiler": platform.python_compiler(),
        "label": f"{short}, {'GIL' if gil else 'no GIL'}",
    }


# ---------------------------------------------------------------------------
# running the pure-Python rows in another interpreter (--python PATH)
# ---------------------------------------------------------------------------


def _emit(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run_request(req: dict, emit=_emit) -> dict:
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
    """
    info = interpreter_info()
    threads_name = "python-threads" if info["gil_enabled"] else "free-threaded"
    sub_reason = subinterpreters_skip_reason()
    budget = Budget(req["max_call"])
    sizes = series_sizes(req["cases"])
    probe = {tuple(s) for s in req.get("heartbeat_series", [])}
    teams: dict = {}
    rows = []
    try:
        for ci, c in enumerate(req["cases"]):
            emit({"event": "progress", "done": ci, "total": len(req["cases"]),
                  "what": f"{c['workload']} {c['dtype'] or ''} n={c['n']}"})
            data = ArrayData(c["workload"], c["n"], c["dtype"])
            plan = [("python", 1)] + [(threads_name, w) for w in req["workers"]]
            if c["workload"] == "range":
                plan += [("python-processes", w) for w in req["workers"]]
                if sub_reason is None:
                    plan += [("subinterpreters", w) for w in req["workers"]]
            items = []
            for name, w in plan:
                row = {"strategy": name, "workload": c["workload"], "n": c["n"],
                       "dtype": c["dtype"], "workers": w}
                rows.append(row)
                key = (name, w, c["workload"], c["dtype"])
                row["skipped"] = budget.skip_reason(key, c["n"])
                if row["skipped"]:
                    continue
                try:
                    call = _foreign_call(name, w, data, teams)
                    t0 = perf_counter()
                    result = call()
                    dt = perf_counter() - t0
                except Exception as exc:  # reported per row; the run goes on
                    row["error"] = f"{type(exc).__name__}: {exc}"
                    continue
                budget.record(key, c["n"], dt)
                row["result"] = data.fingerprint(result)
                row["skipped"] = budget.skip_reason(key, c["n"])
                if not row["skipped"]:
                    items.append((row, call, key))
            if items:
                loops, values = measure_interleaved(
                    [(lambda k, f=call: time_calls(f, k)) for _, call, _ in items],
                    repeats=req["repeats"], warmup=req["warmup"], min_time=req["min_time"])
                for (row, _, key), lp, vals in zip(items, loops, values):
                    row["loops"] = lp
                    row["values"] = vals
                    budget.record(key, c["n"], statistics.median(vals))
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


def series_sizes(cases) -> dict:
    """Sorted sizes of each ``(workload, dtype)`` series of a case list."""
    sizes: dict = {}
    for c in cases:
        sizes.setdefault((c["workload"], c["dtype"]), set()).add(c["n"])
    return {k: sorted(v) for k, v in sizes.items()}


def is_last_size(budget: Budget, key, n: int, sizes) -> bool:
    """True if `n` is the largest size of `sizes` that series `key` will run.

    The heartbeat probe runs once per series, at its largest size: the
    longest calls show GIL starvation best.  Budget estimates grow with n,
    so if the next size is over budget, every larger one is too.
    """
    bigger = [m for m in sizes if m > n]
    return not bigger or budget.skip_reason(key, bigger[0]) is not None


def _foreign_call(name: str, workers: int, data, teams):
    """The zero-argument call that runs strategy `name` once on `data`."""
    fn = PY_KERNELS[data.workload]
    if name == "python":
        return lambda: combine(data.workload, [fn(data, 0, data.n)])
    if name in ("subinterpreters", "python-processes"):
        key = (name, workers)
        if key not in teams:
            teams[key] = (InterpreterTeam if name == "subinterpreters" else ProcessTeam)(workers)
        team = teams[key]
        return lambda: team.range_sum(data.n)
    bounds = shares(data.n, workers)
    return lambda: combine(data.workload, run_in_threads(fn, data, bounds))


def main() -> int:
    """Script entry: JSON request on stdin, JSON lines on stdout."""
    req = json.loads(sys.stdin.read())
    _emit(run_request(req))
    return 0


if __name__ == "__main__":
    sys.exit(main())
