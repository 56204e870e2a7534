"""The host's half of a probe: the steps of :class:`._measure.Calls` in order,
with the measuring core's calibration, settle and statistics
(:func:`run_steps`), on the function here (:func:`measure`) or under another
interpreter (``--python PATH``, :func:`run_foreign`: the probe's measuring
script runs there, every wait bounded), and the derived figures
(:func:`derive`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from .._timing import _client, _loop, _watch, _worker
from .._timing._machine import usable_cpus
from ._measure import STEPS, Calls
from ._settings import Settings
from ._target import FunctionFailed, ProbeUsageError

#: The measuring script another interpreter runs.
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_measure.py")


def measure(fn, args, settings: Settings, progress=None, cpus: int | None = None,
            then: Callable[[dict, Any], dict] | None = None) -> dict:
    """Measure `fn(*args)`: one call, N threads, the GIL, N processes.

    Every call runs in a thread (or worker process) of its own, waited for
    at most ``--max-call`` plus a margin per call (N threads that share the
    GIL or the CPUs: N times that): a call that runs longer ends its row
    with the reason in ``skipped`` and ``incomplete``, and the rest is
    still measured where it can be (a thread cannot be stopped: a hung one
    is left running as a daemon thread, and nothing more is timed on
    threads).

    `then`, if given, is called with the figures and the worker processes
    (the :class:`._process_timer.ProcessTimer`, still running, or None)
    once everything is measured; what it returns is added to the figures,
    and the processes are closed after it in any case.

    Returns a JSON-ready dict (see ``gilfree._probe.ProbeResult`` for the
    derived figures).  Raises :class:`FunctionFailed` if the function raises
    or returns a different value (unless ``settings.impure``); Ctrl-C
    (``KeyboardInterrupt``) stops every thread and worker process first.
    """
    calls = Calls(fn, args, settings, cpus)
    calls.keep_processes = then is not None
    try:
        out = run_steps(calls, settings, progress)
        if then is not None:
            out.update(then(out, calls.procs))
        return out
    except BaseException:
        calls.abort()
        raise
    finally:
        calls.stop.set()  # threads still calling stop after their call
        if calls.procs is not None:
            calls.procs.close()


def run_steps(calls, s: Settings, progress=None) -> dict:
    """The host's half of a probe: which step :class:`Calls` (here, or under
    another Python) takes when; calibration, interleaving, the settle and
    the statistics are the measuring core's row runner's.  Returns the
    figures, derived (:func:`derive`)."""
    tick = progress or (lambda what: None)
    n = s.workers
    tick("first call")
    if not calls.first():
        return derive(calls.out)
    tick("second call")
    if not calls.second():
        return derive(calls.out)
    if s.processes:
        tick(f"starting {n} worker processes")
    rows = calls.start_processes()
    tick(f"one thread, {n} threads" + (f" and {n} processes" if rows == 3 else ""))
    try:
        loops, values = _loop.measure_interleaved(
            [functools.partial(calls.time, k) for k in range(rows)], repeats=s.repeats,
            warmup=s.warmup, min_time=s.min_time, settle_timeout=s.settle)
    except _watch.Hung as exc:
        calls.timing_hung(exc.seconds, exc.where)
        return derive(calls.out)
    calls.figures(loops, values)
    if s.heartbeat > 0:
        tick("heartbeat")
    calls.heartbeat()
    calls.finish()
    return derive(calls.out)


def derive(out: dict) -> dict:
    """Speedups, the Amdahl cross-check and the processes' pay-off call length."""
    n = out["workers"]
    single = out.get("single")
    t1 = single["median"] if single else None
    out["threads_speedup"] = out["threads"]["speedup"] if "threads" in out else None
    p = out.get("processes") or {}
    out["processes_speedup"] = None
    if t1 and "median" in p:
        sp = p["speedup"] = n * t1 / p["median"]
        out["processes_speedup"] = sp
        if sp > 1.0 and n > 1:
            saved = n * (1 - 1 / sp)  # seconds saved per second of one call's length
            p["payoff_call_s"] = (p["startup_s"] + p["overhead_s"]) / saved
            p["payoff_call_running_s"] = p["overhead_s"] / saved
    hb = out.get("heartbeat") or {}
    out["gil_held_fraction"] = hb.get("held_fraction")
    # Amdahl: N calls at once, each holding the GIL a fraction f of its time,
    # give a throughput speedup S = 1 / (f + (1 - f) / C) over one thread, C
    # being what N fully parallel calls would reach (the processes' speedup
    # where measured, else N capped at the usable CPUs); so f = (C/S - 1)/(C - 1).
    st = out["threads_speedup"]
    ceiling = min(n, out["usable_cpus"])
    sp = out["processes_speedup"]
    if sp is not None and 1.2 < sp < ceiling:
        ceiling = sp
    out["amdahl_ceiling"] = ceiling
    if sp is not None and sp <= 1.2:
        # processes did not scale either: no parallel headroom to compare with
        out["gil_held_fraction_amdahl"] = None
    elif st and ceiling > 1.05:
        f = (ceiling / st - 1) / (ceiling - 1)
        out["gil_held_fraction_amdahl"] = min(1.0, max(0.0, f))
    else:
        out["gil_held_fraction_amdahl"] = None
    return out


def check_python(python: str):
    """Why `python` cannot run the probe (a text), or None; raises ProbeUsageError
    for a path that is not a runnable Python."""
    why = _client.missing_reason(python)
    if why:
        return why
    try:
        info = _client.describe_python(python)
    except _client.ForeignError as exc:
        raise ProbeUsageError(f"--python: {exc}") from None
    if not _worker.full_profile(info):  # CPython 3.8+
        return (f"the probe runs on CPython 3.8+; {python} is {info.get('implementation')} "
                f"{info.get('version')}")
    return None


#: Seconds another interpreter may stay silent (no "alive" line) on top of
#: --max-call: its start-up and the import of the function's module there.
FOREIGN_MARGIN = 30.0


def run_foreign(python: str, target: str, args_text: str, paths, settings: Settings) -> dict:
    """The probe of `target` under another interpreter: its figures, or why not.

    The interpreter runs the probe's measuring script as a worker of the
    measuring core's client (:class:`gilfree._timing._client.Worker`, one
    JSON line each way): it imports the function and takes the steps this
    process asks for (:func:`gilfree._probe._measure.run_steps`: the
    calibration, settle and statistics are this process's).  It bounds its
    own calls and sends an "alive" line at least every half second while a
    call runs; one that
    sends nothing for ``--max-call`` plus :data:`FOREIGN_MARGIN` seconds (a
    call that holds its GIL for good, an import that never ends) is killed
    with its worker processes, and its entry says so.
    """
    entry: dict = {"python": python}
    try:
        why = check_python(python)
    except ProbeUsageError as exc:
        why = str(exc)
    if why:
        entry["not_run"] = why
        return entry
    bound = settings.max_call + FOREIGN_MARGIN
    try:
        with _client.Worker([python, SCRIPT], bound=bound) as w:
            calls = _Remote(w)
            calls.ask("start", target=target, args=args_text, paths=list(paths),
                      settings=settings.to_dict(), usable_cpus=usable_cpus())
            entry.update(run_steps(calls, settings))
    except _client.Silent:
        entry["not_run"] = (f"{python} gave no sign of progress for {bound:.3g} s "
                            f"(--max-call plus {FOREIGN_MARGIN:g} s): a call or the import of "
                            f"the module did not finish there; it was killed")
        entry["incomplete"] = [entry["not_run"]]
    except (_client.ForeignError, ProbeUsageError) as exc:
        entry["not_run"] = str(exc)
    except FunctionFailed as exc:
        entry["error"] = str(exc)
    return entry


class _Remote:
    """:class:`gilfree._probe._measure.Calls` under another Python: each step
    is a request to the script; ``out`` is the script's copy."""

    def __init__(self, worker: _client.Worker):
        self.worker = worker
        self.out: dict[str, Any] = {}

    def ask(self, op: str, **fields):
        got = self.worker.ask(op, **fields)
        self.out = got.get("out", self.out)
        if "hung" in got:
            raise _watch.Hung(*got["hung"])
        if "failed" in got:
            raise FunctionFailed(got["failed"])
        if "usage" in got:
            raise ProbeUsageError(got["usage"])
        return got["value"]

    def __getattr__(self, op: str):
        if op not in STEPS:
            raise AttributeError(op)
        return lambda *args: self.ask(op, args=list(args))
