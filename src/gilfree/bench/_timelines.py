"""The timeline phase: who ran when, for five strategies on N workers.

After the measurements the bench runs the range workload for a moment
(``Settings.timeline_time`` seconds each) on ``python-threads``,
``python-processes``, ``gilfree-gil``, ``gilfree-threads`` and ``gilfree``
while :mod:`gilfree._timeline` samples each worker thread's (or process's)
CPU time from the OS about every millisecond on a native thread that never
takes the GIL.  Each strategy's entry in the result's ``strategies`` list
gets ``timeline`` and ``overlap``; the result's ``timelines`` says how
they were taken (or why not).

The work is the strategy's own range kernel, on shares sized so one call
takes about :data:`CALL_S`; each worker calls it again until the time is up,
so every row is busy for the whole span unless something stops it: the
GIL, or another program.
"""

from __future__ import annotations

import os
import threading
import time

from .. import _timeline
from .._timing import _worker
from ._cases import Case, CaseData

__all__ = ["STRATEGIES", "phase"]

#: The strategies drawn, in report order (``free-threaded`` takes the place
#: of ``python-threads`` on an interpreter without the GIL).
STRATEGIES = ("python-threads", "free-threaded", "python-processes", "gilfree-gil",
              "gilfree-threads", "gilfree")

#: Seconds one call of a share takes: long next to the 1 ms readings and
#: the 5 ms GIL switch interval, short next to the span.
CALL_S = 0.01


def _share_size(kernel, target: float = CALL_S) -> int:
    """Elements of a range share that `kernel` runs in about `target` s."""
    m = 1000
    while True:
        t0 = time.perf_counter()
        kernel(None, 0, m)
        dt = time.perf_counter() - t0
        if dt >= target / 4 or m >= 10**10:
            return max(1000, int(m * target / max(dt, 1e-9)))
        m *= 8


def _own_threads(kernel, share: int, workers: int, seconds: float) -> dict:
    """`workers` threads calling ``kernel(None, k*share, (k+1)*share)`` until
    `seconds` have passed, sampled from the moment all of them exist."""
    tids: list = []
    go = threading.Event()
    deadline = [0.0]

    def worker(k):
        tids.append(threading.get_native_id())
        go.wait()
        while time.perf_counter() < deadline[0]:
            kernel(None, k * share, (k + 1) * share)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(workers)]
    for t in threads:
        t.start()
    while len(tids) < workers:
        time.sleep(0.001)

    def run():
        deadline[0] = time.perf_counter() + seconds
        go.set()
        for t in threads:
            t.join()

    return _timeline.record(run, threads=list(tids),
                            names=[f"T{k + 1}" for k in range(workers)])


def _schedstat(path: str):
    try:
        with open(path, "rb") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _busy(paths: dict, call, seconds: float = 0.05) -> list:
    """The keys of `paths` (id -> schedstat path) that were on a CPU at least
    a twentieth of the time while `call` ran for about `seconds`, busiest
    first."""
    before = {k: _schedstat(p) for k, p in paths.items()}
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        call()
    wall = (time.perf_counter() - t0) * 1e9
    after = {k: _schedstat(p) for k, p in paths.items()}
    ran = {k: after[k] - before[k] for k in paths
           if before[k] is not None and after[k] is not None}
    return sorted((k for k in ran if ran[k] >= 0.05 * wall), key=lambda k: -ran[k])


def _looped(call, seconds: float):
    """Call `call` on this thread until `seconds` have passed."""

    def run():
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            call()
    return run


def _gilfree_pool(workers: int, seconds: float) -> dict:
    import gilfree

    from ._gilfree import range_nogil
    n = _share_size(range_nogil) * workers

    def call():
        gilfree.sum_squares_range(0, n, threads=workers)

    call()  # the pool's threads exist from its first call on
    me = threading.get_native_id()
    tasks = {int(t): f"/proc/self/task/{t}/schedstat" for t in os.listdir("/proc/self/task")
             if int(t) != me}
    helpers = _busy(tasks, call)[: workers - 1]
    ids = [me] + helpers
    return _timeline.record(_looped(call, seconds), threads=ids,
                            names=[f"T{k + 1}" for k in range(len(ids))])


def _processes(strategy, workers: int, seconds: float) -> dict:
    share = _share_size(_worker.PY_KERNELS["range"])
    data = CaseData.create(Case("range", share * workers, None))
    with data:
        bound = strategy.bind(data, workers)
        pool = strategy.pools.get(workers)
        pids = sorted(int(p) for p in getattr(pool, "_processes", {}) or {})
        # the pool has `workers` processes: the busiest first, should it have more
        busy = _busy({p: f"/proc/{p}/schedstat" for p in pids}, bound.call, 0.05)
        busy = sorted((busy + [p for p in pids if p not in busy])[:workers])
        return _timeline.record(_looped(bound.call, seconds), processes=busy,
                                names=[f"P{k + 1}" for k in range(len(busy))])


def _one(strategy, workers: int, seconds: float) -> dict:
    name = strategy.name
    if name == "gilfree":
        return _gilfree_pool(workers, seconds)
    if name == "python-processes":
        return _processes(strategy, workers, seconds)
    kernel = strategy.kernels["range"]
    return _own_threads(kernel, _share_size(kernel), workers, seconds)


def phase(active, table: list, settings, progress=None) -> dict:
    """Record the timelines of the :data:`STRATEGIES` among `active`.

    Adds ``timeline`` and ``overlap`` to their entries of `table` (the
    result's ``strategies``) and returns the result's ``timelines``:
    ``workers``, ``workload``, ``seconds``, ``sampler_cpu_share`` (the most
    any of the runs cost the sampler's thread, CPU time over wall time),
    ``period_s``, ``gil`` (what the interpreter says), and ``reason`` where
    none were taken.
    """
    from ._engine import usable_cpus

    seconds = getattr(settings, "timeline_time", 0.2)
    workers = max(2, usable_cpus())
    info = {"workers": workers, "workload": "range", "seconds": seconds,
            "sampler_cpu_share": None, "period_s": 0.001, "gil": _timeline.gil_words(),
            "reason": None}
    if seconds <= 0:
        info["reason"] = "no timelines were asked for"
        return info
    reason = _timeline.unsupported_reason()
    if reason:
        info["reason"] = reason
        return info
    entries = {t["name"]: t for t in table}
    costs = []
    for s in active:
        if s.name not in STRATEGIES or "range" not in s.workloads:
            continue
        if progress is not None:
            progress.update(f"timeline of {s.name} on {workers} workers")
        try:
            tl = _one(s, workers, seconds)
        except Exception as exc:  # a timeline is a picture: never lose the run for it
            entries[s.name]["timeline_error"] = f"{type(exc).__name__}: {exc}"
            continue
        cost = tl.pop("sampler")
        costs.append(cost["cpu_share"] or 0.0)
        info["source"] = cost["source"]
        entries[s.name]["timeline"] = {"threads": tl["threads"], "span": tl["span"],
                                       "idle": tl["idle"]}
        entries[s.name]["overlap"] = tl["overlap"]
    if costs:
        info["sampler_cpu_share"] = max(costs)
    else:
        info["reason"] = "none of the strategies drawn ran here"
    return info
