"""How every gilfree tool times code: the host's half of the measuring core.

A row runs wherever it lives (this process, a subinterpreter, a worker under
another interpreter: :mod:`._worker`) as a timer, ``timer(loops) ->
seconds``; how long, how often and in what order rows run, and what the
values mean, is decided here: :func:`settle` before each value,
:func:`calibrate`, :func:`warm_up`, the row runner
:func:`measure_interleaved`, :func:`summarize`, the :class:`Budget` per
call, the :func:`heartbeat` and :data:`HELPS`; and :class:`Timing`, the
settings every tool shares.  Standard library only.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from typing import Callable, Sequence

if __package__:
    from . import _machine, _worker
else:  # loaded by file path (the probe's script under another Python)
    import _gilfree_machine as _machine  # type: ignore[no-redef,import-not-found]
    import _gilfree_worker as _worker  # type: ignore[no-redef,import-not-found]

__all__ = ["HELPS", "Budget", "Timing", "calibrate", "heartbeat", "is_last_size", "lateness_summary",
           "measure_interleaved", "median", "percentile", "series_sizes", "settle",
           "settle_counts", "summarize", "time_calls", "warm_up"]

#: A speedup (N calls one after the other over N calls at once, or one
#: thread's time over N threads') at or above this "helps", in every report.
#: 1.3: a pure-Python loop that holds the GIL reached up to about 1.25x on 2
#: threads of a shared 2-vCPU VM (the threads take extra CPU shares from
#: other programs, not from each other), so a lower mark would tell people
#: that threads help code they cannot help; code that releases the GIL gives
#: 1.3-1.9x on the same machines, and 1.3 is about six times the spread of a
#: quick run's medians there.
HELPS = 1.3

Timer = Callable[[int], float]


@dataclasses.dataclass
class Timing:
    """How carefully a row is timed: the settings fields of the bench and the
    probe alike (each tool's ``Settings`` extends this, with its defaults).

    ``repeats`` timed values per figure after ``warmup`` discarded ones,
    ``min_time`` seconds per timed value, ``max_call``: the longest one call
    the budget lets run (seconds).
    """

    repeats: int = 5
    warmup: int = 1
    min_time: float = 0.02
    max_call: float = 0.5

    def check_timing(self, error: type = ValueError) -> None:
        """Raise `error` naming the first shared field out of range."""
        for k in ("max_call", "min_time"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise error(f"`{k}` must be a positive number of seconds, got {v!r}")
        for k, low in (("repeats", 1), ("warmup", 0)):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise error(f"`{k}` must be an integer >= {low}, got {v!r}")

perf_counter = time.perf_counter
time_calls = _worker.time_calls
_procs_running = _machine.procs_running
_own_runnable = _machine.own_runnable

#: Longest wait for the machine to go quiet before a timed value, seconds.
SETTLE_TIMEOUT = 0.5


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


def calibrate(timed: Timer, min_time: float, max_loops: int = 1 << 20,
              primed: bool = False) -> int:
    """Loops per value so that one value of ``timed(loops) -> seconds`` lasts
    at least `min_time` s (at most `max_loops`, for calls that are nearly
    free); >= 1.

    Like pyperf: a call much shorter than the clock's useful resolution and
    the loop overhead is repeated in an inner loop, and the value reported is
    the time per call.  Calls longer than `min_time` get one loop.  `primed`:
    the row has already been called (the bench checks each result before
    timing), its one-time costs are paid, so no first call is thrown away.
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


def warm_up(call: Callable[[], object] | None, first: float, at_least: int,
            timer: Timer | None = None) -> list:
    """Call a row until two consecutive calls agree within 5%; the seconds of
    each call, `first` (the row's first call, already made) included.

    JIT compilers (the JVM's under Jython, PyPy's tracing JIT) make the first
    calls of a row slower: the first 2*10**7-element call under Jython took
    6.5 s, later ones 2.6-3.0 s.  So a row is called until two consecutive
    calls agree within :data:`STABLE`, at least `at_least` calls after the
    first, at most :data:`MAX_WARMUP` calls or :data:`MAX_WARMUP_S` seconds:
    ``call()`` in this process, or ``timer(1) -> seconds`` for a row in a
    worker.
    """
    times = [first]
    spent = first
    while len(times) < MAX_WARMUP and spent < MAX_WARMUP_S:
        dt = timer(1) if timer is not None else time_calls(call, 1)
        times.append(dt)
        spent += dt
        if len(times) > at_least and abs(times[-1] - times[-2]) <= STABLE * times[-2]:
            break
    return times


#: A value longer than this many times its target recalibrates its timer.
RUNAWAY = 10


def measure_interleaved(timers: Sequence[Timer], repeats: int, warmup: int, min_time: float,
                        tick: Callable[[str], object] | None = None,
                        settle_timeout: float = SETTLE_TIMEOUT, max_loops: int = 1 << 20,
                        primed: bool = False) -> tuple:
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
    values: list[list[float]] = [[] for _ in timers]
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
        tick(f"round {r + 1}/{repeats}")
    return loops, values


median = statistics.median


def summarize(values: Sequence[float]) -> dict:
    """Median, quartiles (``statistics.quantiles``, inclusive), min and max of
    a list of timings (seconds)."""
    vals = sorted(values)
    med = median(vals)
    q1, q3 = (statistics.quantiles(vals, n=4, method="inclusive")[::2] if len(vals) >= 2
              else (med, med))
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

    def estimate(self, key, n: int) -> float | None:
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

    def skip_reason(self, key, n: int) -> str | None:
        """A reason to skip, or None when the call fits the budget."""
        est = self.estimate(key, n)
        if est is not None and est > self.max_call:
            return (f"one call would take ~{est:.2g} s, over the {self.max_call:g} s "
                    "budget per call (--max-call)")
        return None


def percentile(sorted_vals: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in [0, 100])."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(math.ceil(q / 100 * len(sorted_vals))) - 1))
    return sorted_vals[k]


def heartbeat(run_once: Callable[[], object], duration: float, period: float = 1e-3,
              samples: list | None = None, clock: Callable[[], float] | None = None) -> dict:
    """How late a 1 ms sleeper thread wakes while ``run_once()`` keeps running.

    The sleeper is :func:`gilfree._timing._worker.beat`, the one every
    interpreter runs.  Waking needs the GIL back: while another thread holds
    it (a C call that does not release it) the sleeper waits for the whole
    call; pure-Python threads hand it over every switch interval (5 ms);
    code that releases it lets the sleeper wake at once (~0.1 ms).  Given a
    `clock` of the sleeper's run delay (runnable while other programs held
    the CPUs; :class:`~gilfree._timing._machine.DelayClock`), that delay is
    taken out of each beat, and ``run_delay_removed`` says so: the probe does
    this and reads the GIL-held share from the corrected beats.  The bench's
    beats are raw: a thread waiting for the GIL also wakes every switch
    interval and then waits for a CPU, so on a loaded machine, and under
    AddressSanitizer, the run delay took most of a held GIL's wait out of the
    beats (a 100 ms GIL-holding call read as 0.1 ms late).  `samples`, if
    given, receives each beat's lateness in seconds.

    Returns :func:`lateness_summary` of the beats and ``run_delay_removed``.
    """
    raw = _worker.beat(run_once, duration, period, clock)
    if samples is not None:
        samples.extend(raw["late"])
    return dict(lateness_summary(raw["late"], raw["seconds"], raw["calls"], period),
                run_delay_removed=clock is not None)


def lateness_summary(late: Sequence[float], seconds: float, calls: int,
                     period: float = 1e-3) -> dict:
    """The heartbeat's figures from its raw beats (what a worker reports).

    Returns ``p50_ms``, ``p99_ms``, ``max_ms`` lateness, ``samples`` (beats
    seen), ``expected`` (beats a free sleeper would have done), ``calls``
    and ``seconds`` of the code that ran.
    """
    vals = sorted(late)
    return {
        "p50_ms": percentile(vals, 50) * 1e3,
        "p99_ms": percentile(vals, 99) * 1e3,
        "max_ms": (vals[-1] if vals else float("nan")) * 1e3,
        "samples": len(vals),
        "expected": int(seconds / period),
        "calls": calls,
        "seconds": seconds,
    }


def series_sizes(cases: Sequence[dict]) -> dict:
    """Sorted sizes of each ``(workload, dtype)`` series of a case list."""
    sizes: dict = {}
    for c in cases:
        sizes.setdefault((c["workload"], c["dtype"]), set()).add(c["n"])
    return {k: sorted(v) for k, v in sizes.items()}


def is_last_size(budget: Budget, key: tuple, n: int, sizes: Sequence[int]) -> bool:
    """True if `n` is the largest size of `sizes` that series `key` will run.

    The heartbeat runs once per series, at its largest size: the longest
    calls show GIL starvation best.  Budget estimates grow with n, so if the
    next size is over budget, every larger one is too.
    """
    bigger = [m for m in sizes if m > n]
    return not bigger or budget.skip_reason(key, bigger[0]) is not None
