"""Per-thread timelines: who ran when, from the OS's own records.

:func:`record` runs a callable while :class:`gilfree._sampler.Sampler`
reads the CPU time of the given threads and processes about every
millisecond on a native thread that never takes the GIL; the readings become
run intervals (:func:`intervals`), and :func:`overlap` says for what
fraction of the time two or more of them ran at once: near 0 when they took
turns, near 1 when they ran in parallel.

Everything but :func:`record` is a pure function of its arguments.

>>> overlap([[[0.0, 1.0]], [[1.0, 2.0]]], [0.0, 2.0])
0.0
>>> overlap([[[0.0, 2.0]], [[0.0, 2.0]]], [0.0, 2.0])
1.0
>>> strip([[0.0, 0.5]], [0.0, 1.0], 4)
'██░░'
"""

from __future__ import annotations

import platform
import sys

__all__ = ["EMPTY", "FULL", "cpu_times", "gil_words", "idle_share", "intervals", "overlap",
           "readings_idle", "readings_overlap", "record", "running_share", "spread_updates",
           "strip",
           "threads_timeline", "unsupported_reason"]

#: A reading counts as "running" when the thread was on a CPU for at least
#: this share of the time since the reading before.
THRESHOLD = 0.5

FULL, EMPTY = "\u2588", "\u2591"


def unsupported_reason() -> str | None:
    """None where per-thread run times can be read (Linux), else why not."""
    try:
        from gilfree import _sampler
    except ImportError as exc:  # a build without the sampler
        return f"this build has no timeline sampler ({exc})"
    if not _sampler.supported:
        return (f"{platform.system() or sys.platform} gives no per-thread run times "
                f"(only Linux's /proc does): no timeline is drawn")
    return None


def cpu_times():
    """``{"total": ticks, "steal": ticks}`` of the whole machine
    (:func:`gilfree._timing._machine.cpu_ticks`), or None: the share of steal
    between two readings is the time the hypervisor gave this VM's CPUs to
    others."""
    from ._timing._machine import cpu_ticks

    t = cpu_ticks()
    return None if t is None else {"total": t[1], "steal": t[0]}


def gil_words() -> str:
    """What the interpreter says about its GIL, in a few words."""
    check = getattr(sys, "_is_gil_enabled", None)
    if check is None:
        return "this interpreter always has the GIL"
    return ("sys._is_gil_enabled() is True: the GIL is on" if check()
            else "sys._is_gil_enabled() is False: this interpreter runs without the GIL")


def intervals(times, values, stat_only=False, threshold: float = THRESHOLD) -> list:
    """Run intervals ``[[t0, t1], ...]`` of one thread, in seconds from ``times[0]``.

    Parameters
    ----------
    times : sequence of float
        The time of each reading (seconds, increasing).
    values : sequence of float or None
        Seconds on a CPU so far at each reading (schedstat), or, with
        `stat_only`, 1.0/0.0 for running or not; None where the thread was
        gone.
    stat_only : bool
        The values are states, not CPU times.
    threshold : float
        Share of a reading's interval on a CPU from which it counts as running.

    Interval ``k`` (from reading ``k-1`` to reading ``k``) is running when
    the thread had at least ``threshold`` of it on a CPU; consecutive running
    intervals merge.
    """
    if len(times) != len(values):
        raise ValueError(f"{len(times)} times but {len(values)} values")
    out: list = []
    if not times:
        return out
    t0 = times[0]
    for k in range(1, len(times)):
        a, b = times[k - 1], times[k]
        if b < a:
            raise ValueError("times must not decrease")
        if values[k] is None or (not stat_only and values[k - 1] is None) or b == a:
            continue
        on = (values[k] >= 0.5 if stat_only
              else (values[k] - values[k - 1]) >= threshold * (b - a))
        if not on:
            continue
        if out and out[-1][1] == a - t0:
            out[-1][1] = b - t0
        else:
            out.append([a - t0, b - t0])
    return out


def spread_updates(times, values) -> list:
    """CPU-time readings with each increase spread evenly back over the
    readings since the previous increase.

    Linux adds a running thread's time to its ``schedstat`` only at a
    scheduler tick or a context switch (every 4 ms or more), so a thread
    that is on a CPU all along reads as idle for a few milliseconds and then
    as having run all of them at once.  What a jump says is how much the
    thread ran since the previous jump; spread evenly over that stretch, a
    busy thread reads as busy throughout, and one that ran a little after a
    long sleep as mostly idle.  None (no reading) ends a stretch.
    """
    if len(times) != len(values):
        raise ValueError(f"{len(times)} times but {len(values)} values")
    out = list(values)
    j = None  # the reading of the previous increase (or the first one)
    for k, v in enumerate(values):
        if v is None:
            j = None
            continue
        if j is None:
            j = k
            continue
        if v == values[j]:
            continue
        width = times[k] - times[j]
        if width > 0:
            for i in range(j + 1, k):
                out[i] = values[j] + (v - values[j]) * (times[i] - times[j]) / width
        j = k
    return out


def _fractions(times, columns):
    """Per reading interval: ``(dt, [share of dt each id was on a CPU])``."""
    for k in range(1, len(times)):
        dt = times[k] - times[k - 1]
        if dt <= 0:
            continue
        yield dt, [min(1.0, max(0.0, (c[k] - c[k - 1]) / dt)) for c in columns
                   if c[k] is not None and c[k - 1] is not None]


def readings_overlap(times, columns) -> float:
    """The share of the time two or more ids surely ran at once, from CPU
    time readings (``columns[i][k]``: seconds on a CPU of id i at reading k).

    Within one reading interval the order of the runs is unknown, so this
    counts the least overlap the CPU times allow: ids that were on a CPU
    for shares ``f`` of an interval ran at once for at least ``(sum(f) - 1)
    / (n - 1)`` of it.  Threads that hand the GIL over inside an interval
    thus add nothing, and threads that both ran all of it add all of it.
    """
    width = (times[-1] - times[0]) if len(times) > 1 else 0.0
    if width <= 0:
        return 0.0
    total = 0.0
    for dt, f in _fractions(times, columns):
        if len(f) >= 2:
            total += dt * max(0.0, (sum(f) - 1.0) / (len(f) - 1))
    return min(1.0, total / width)


def readings_idle(times, columns) -> float:
    """The share of the time none of the ids ran, at least (from CPU time
    readings, as :func:`readings_overlap`)."""
    width = (times[-1] - times[0]) if len(times) > 1 else 0.0
    if width <= 0:
        return 0.0
    return min(1.0, sum(dt * max(0.0, 1.0 - sum(f)) for dt, f in _fractions(times, columns))
               / width)


def _clip(running, span):
    lo, hi = span
    for a, b in running:
        a, b = max(a, lo), min(b, hi)
        if b > a:
            yield a, b


def _coverage(threads, span) -> list:
    """``[(t0, t1, how many ran)]`` over `span`, from a sweep over every edge."""
    edges = []
    for running in threads:
        for a, b in _clip(running, span):
            edges.append((a, 1))
            edges.append((b, -1))
    edges.sort()
    out = []
    count, last = 0, span[0]
    for t, d in edges:
        if t > last:
            out.append((last, t, count))
            last = t
        count += d
    if span[1] > last:
        out.append((last, span[1], count))
    return out


def overlap(threads, span) -> float:
    """The fraction of `span` during which two or more of `threads` ran.

    `threads` is a list of run-interval lists (each ``[[t0, t1], ...]``);
    0.0 for perfect turn-taking, 1.0 when all ran all the time (and there
    are at least two).
    """
    width = span[1] - span[0]
    if width <= 0:
        return 0.0
    return sum(b - a for a, b, n in _coverage(threads, span) if n >= 2) / width


def idle_share(threads, span) -> float:
    """The fraction of `span` during which none of `threads` ran."""
    width = span[1] - span[0]
    if width <= 0:
        return 0.0
    return sum(b - a for a, b, n in _coverage(threads, span) if n == 0) / width


def running_share(running, span) -> float:
    """The fraction of `span` one thread ran."""
    width = span[1] - span[0]
    return sum(b - a for a, b in _clip(running, span)) / width if width > 0 else 0.0


def strip(running, span, width: int) -> str:
    """One thread's timeline as `width` block characters: full where it ran
    at least half of that cell's time."""
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    lo, hi = span
    step = (hi - lo) / width
    if step <= 0:
        return EMPTY * width
    out = []
    for k in range(width):
        cell = (lo + k * step, lo + (k + 1) * step)
        out.append(FULL if running_share(running, cell) >= 0.5 else EMPTY)
    return "".join(out)


def record(run, threads=(), processes=(), names=None, period: float = 0.001,
           keep_idle: bool = True) -> dict:
    """Run ``run()`` under the sampler and return its timeline.

    Parameters
    ----------
    run : callable
        The work; the sampler starts before it and stops after it.
    threads, processes : sequence of int
        Native thread ids of this process, and process ids, to watch.
    names : sequence of str, optional
        One per id (threads first); default ``T1``, ``T2``, ...
    period : float
        Seconds between readings.
    keep_idle : bool
        False: leave out ids that ran less than 2% of the span (idle
        helper threads or processes of a pool).

    Returns
    -------
    dict
        ``threads`` (``[{"name", "running"}]``), ``span`` (``[0, seconds]``),
        ``overlap`` and ``idle`` (from the CPU times, :func:`readings_overlap`
        and :func:`readings_idle`; from the intervals where the OS gave only
        states), ``sampler``
        (``cpu_share``: its own CPU time over its wall time, ``period_s``,
        ``readings``, ``source``: ``schedstat`` or ``stat``).
    """
    from gilfree._sampler import Sampler

    ids = list(threads) + list(processes)
    names = list(names) if names is not None else [f"T{k + 1}" for k in range(len(ids))]
    if len(names) != len(ids):
        raise ValueError(f"{len(ids)} ids but {len(names)} names")
    s = Sampler(threads=threads, processes=processes, period=period,
                max_seconds=600.0)
    s.start()
    try:
        run()
    finally:
        s.stop()
    times, values, stat_only = s.readings()
    values = [v if so else spread_updates(times, v) for v, so in zip(values, stat_only)]
    cpu, wall = s.cost
    span = [0.0, (times[-1] - times[0]) if len(times) > 1 else 0.0]
    rows = [{"name": name, "running": intervals(times, v, so)}
            for name, v, so in zip(names, values, stat_only)]
    keep = list(range(len(rows)))
    if not keep_idle:
        keep = [k for k in keep if running_share(rows[k]["running"], span) >= 0.02] or keep
    rows = [rows[k] for k in keep]
    runs = [r["running"] for r in rows]
    if any(stat_only):  # states only: the drawn intervals are all there is
        ov, idle = overlap(runs, span), idle_share(runs, span)
    else:  # CPU times: the least overlap and idle time they allow
        cols = [values[k] for k in keep]
        ov, idle = readings_overlap(times, cols), readings_idle(times, cols)
    return {"threads": rows, "span": span, "overlap": ov, "idle": idle,
            "sampler": {"cpu_share": cpu / wall if wall > 0 else None, "period_s": period,
                        "readings": len(times),
                        "source": "stat" if any(stat_only) else "schedstat"}}


def threads_timeline(fn, args=(), workers: int = 2, seconds: float = 0.2,
                     join_timeout: float = 10.0) -> dict:
    """Who ran when while `workers` threads call ``fn(*args)`` again and again.

    Each thread calls `fn` until `seconds` have passed (at least once); the
    sampler watches them from the moment all exist.  Returns ``{"timeline":
    {"threads", "span", "idle"}, "overlap", "sampler_cpu_share"}``, or
    ``{"timeline_reason": why}`` where there is no timeline (no per-thread
    data here, a call raised, or a call did not return within
    `join_timeout` seconds of the end: its thread is left running).
    """
    import threading
    import time

    reason = unsupported_reason()
    if reason:
        return {"timeline_reason": reason}
    tids: list = []
    errors: list = []
    go = threading.Event()
    deadline = [0.0]

    def work():
        tids.append(threading.get_native_id())
        go.wait()
        try:
            while True:
                fn(*args)
                if time.perf_counter() >= deadline[0]:
                    break
        except BaseException as exc:  # reported, never raised in a helper thread
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, daemon=True, name=f"gilfree-timeline-{k + 1}")
               for k in range(workers)]
    for t in threads:
        t.start()
    while len(tids) < workers:
        time.sleep(0.001)
    hung = []

    def run():
        deadline[0] = time.perf_counter() + seconds
        go.set()
        end = time.perf_counter() + seconds + join_timeout
        for t in threads:
            t.join(max(0.0, end - time.perf_counter()))
            if t.is_alive():
                hung.append(t.name)

    tl = record(run, threads=list(tids), names=[f"T{k + 1}" for k in range(workers)])
    if errors:
        return {"timeline_reason": f"a call raised {errors[0]}"}
    if hung:
        return {"timeline_reason": f"a call did not return within {join_timeout:g} s of the "
                                   f"timeline's end (its thread is left running)"}
    return {"timeline": {"threads": tl["threads"], "span": tl["span"], "idle": tl["idle"]},
            "overlap": tl["overlap"], "sampler_cpu_share": tl["sampler"]["cpu_share"]}
