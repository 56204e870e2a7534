"""The probe's measurements of one function (standard library only).

Runs in two places:

1. in the probing process, imported as ``gilfree._probe._measure``;
2. as a script under another Python (``gilfree probe --python PATH``), which
   may have no gilfree installed: a worker of the measuring core's client
   that imports the function there and takes the steps of :class:`Calls`
   the host asks for, one JSON line each way (:func:`main`); the host
   takes them in the same order (:func:`gilfree._probe._host.run_steps`)
   with its own calibration, settle and statistics.

Settle, calibration, interleaving, statistics, the heartbeat and the
reading of the machine come from the measuring core (:mod:`gilfree._timing`);
the target and one-line texts from :mod:`._target`; the settings from
:mod:`._settings`; the GIL's share from :mod:`._heartbeat`; the worker
processes from :mod:`._process_timer` (over the bench's
``_processes.ProcessPools``, where gilfree can be imported).  When this file
runs as a script, it loads those by file path.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time

if __package__:
    from .._timing import _loop, _machine, _results, _watch, _worker
    from ._heartbeat import gil_heartbeat
    from ._process_timer import ProcessTimer
    from ._settings import Settings, start_method
    from ._target import (FunctionFailed, ProbeUsageError, _exc_text, _short, describe_call,
                          parse_args, resolve)
else:  # a script under another Python: load the stdlib-only modules by path
    import importlib.util as _util

    def _load(name, *parts):
        spec = _util.spec_from_file_location(
            name, os.path.join(os.path.dirname(os.path.abspath(__file__)), *parts))
        assert spec is not None and spec.loader is not None
        mod = _util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod

    _worker, _machine, _loop, _results, _watch = (
        _load(f"_gilfree_{m}", os.pardir, "_timing", f"_{m}.py")
        for m in ("worker", "machine", "loop", "results", "watch"))
    _target = _load("_gilfree_target", "_target.py")
    gil_heartbeat = _load("_gilfree_heartbeat", "_heartbeat.py").gil_heartbeat
    # the same classes, loaded by path: mypy knows the names from the branch above
    ProcessTimer = _load(  # type: ignore[misc]
        "_gilfree_process_timer", "_process_timer.py").ProcessTimer
    _settings = _load("_gilfree_settings", "_settings.py")
    Settings, start_method = (  # type: ignore[misc]
        _settings.Settings, _settings.start_method)
    FunctionFailed, ProbeUsageError = (  # type: ignore[misc]
        _target.FunctionFailed, _target.ProbeUsageError)
    _exc_text, _short, describe_call = _target._exc_text, _target._short, _target.describe_call
    parse_args, resolve = _target.parse_args, _target.resolve

usable_cpus, run_delays, delay_between = (_machine.usable_cpus, _machine.run_delays,
                                          _machine.delay_between)
perf_counter = time.perf_counter

#: Results of the timed calls are kept and compared after each timed value
#: (never inside it); the results kept for one timed value, on every thread
#: together, take at most this many bytes (their deep size,
#: :func:`gilfree._timing._results.deep_size`); the calls beyond it are
#: timed but their results are dropped uncompared.
KEEP_BYTES = 256 * 2**20

#: A one-call CPU time below this fraction of its wall time means the call
#: mostly waits (sleep, I/O, a lock) rather than computes.
WAITING_CPU_FRACTION = 0.5


# ---------------------------------------------------------------------------
# comparing results
# ---------------------------------------------------------------------------

#: Value equality of two results (NaN equals NaN, containers item by item,
#: arrays by shape, dtype and values): :func:`gilfree._timing._results.same`.
same = _results.same


class Checker:
    """Compares every kept result with the first call's; remembers the first
    mismatch; keeps what is kept under :data:`KEEP_BYTES`.

    ``quota`` is how many results one timed value may keep, on all threads
    together: :data:`KEEP_BYTES` over the first result's deep size, lowered
    when the results of a timed value turn out larger than that (a result
    that equals the first while taking more memory).
    """

    def __init__(self, reference, impure: bool):
        self.reference = reference
        self.impure = impure
        self.bad: str | None = None
        self.result_bytes = None
        self.quota = 0
        self.limited = False  # some calls' results were not kept
        if not impure:
            try:
                self.result_bytes = _results.deep_size(reference, limit=KEEP_BYTES)
            except Exception:  # a result too strange to measure: keep few
                self.result_bytes = KEEP_BYTES // 64
            self.quota = KEEP_BYTES // max(1, self.result_bytes)

    def share(self, parts: int, calls: int) -> int:
        """Results each of `parts` threads may keep of its `calls` calls."""
        if self.impure:
            return 0
        k = self.quota // max(1, parts)
        if k < calls:
            self.limited = True
        return min(k, calls)

    def check(self, keeps, where: str) -> None:
        """Compare the results in the lists `keeps`, then drop them."""
        if self.impure:
            return
        seen: set = set()
        size = 0
        for keep in keeps:
            if not keep:
                continue
            if self.bad is None:
                for r in keep:
                    if not same(r, self.reference):
                        self.bad = (f"returned {_short(r)} {where}, but "
                                    f"{_short(self.reference)} on its first call")
                        break
            if size <= KEEP_BYTES:
                try:
                    size += _results.deep_size(keep, limit=KEEP_BYTES - size, seen=seen)
                except Exception:
                    pass
        if size > KEEP_BYTES:
            # larger than the first result said: keep fewer from now on
            kept = sum(len(k) for k in keeps if k)
            self.quota = max(0, kept * KEEP_BYTES // size // 2)
            self.limited = True
        for keep in keeps:
            if keep:
                keep.clear()

    def raise_if_bad(self) -> None:
        if self.bad is not None:
            raise FunctionFailed(self.bad + "; if its results are meant to differ, probe it "
                                            "with --impure (impure=True)")

    def report(self) -> dict:
        return {"cap_bytes": KEEP_BYTES, "result_bytes": self.result_bytes,
                "results_per_value": self.quota, "limited": self.limited}


def _call(fn, args, where: str):
    try:
        return fn(*args)
    except (KeyboardInterrupt, FunctionFailed):
        raise
    except BaseException as exc:
        raise FunctionFailed(f"{describe_call(fn, args)} raised {_exc_text(exc)} ({where})"
                             ) from exc


def _loop_calls(fn, args, loops: int, keep, keep_max: int, counts, slot: int, stop,
                where: str) -> None:
    """`loops` calls; the first `keep_max` results appended to `keep` (compared
    later, outside the timing); ``counts[slot]`` counts the finished calls
    for the wait (:mod:`gilfree._timing._watch`); `stop` ends the loop early."""
    try:
        if keep is not None and keep_max > 0:
            app = keep.append
            m = min(loops, keep_max)
            for _ in range(m):
                app(fn(*args))
                counts[slot] += 1
                if stop.is_set():
                    return
            loops -= m
        for _ in range(loops):
            fn(*args)
            counts[slot] += 1
            if stop.is_set():
                return
    except BaseException as exc:
        raise FunctionFailed(f"{describe_call(fn, args)} raised {_exc_text(exc)} ({where})"
                             ) from exc


# ---------------------------------------------------------------------------
# the measurements
# ---------------------------------------------------------------------------


ALL_PHASES = ("single", "threads", "processes", "heartbeat")

#: The steps of :class:`Calls` the host may ask for (the script's requests).
STEPS = ("first", "second", "start_processes", "time", "timing_hung", "figures", "heartbeat",
         "finish")


class Calls:
    """The probed function's side of a probe, where the function lives (this
    process, or the script under another Python): its checked calls, one
    thread, N threads, N worker processes, the heartbeat.  Each step
    (:data:`STEPS`) records what it saw in ``out``; ``time(row, loops)``
    runs row 0 (one thread), 1 (N threads) or 2 (N processes) `loops` calls
    and returns seconds.  How many calls, and when, is the host's
    (:func:`gilfree._probe._host.run_steps`).
    """

    def __init__(self, fn, args, s: Settings, cpus: int | None = None):
        self.fn, self.args, self.s, self.n = fn, args, s, s.workers
        self.out: dict = {"call": describe_call(fn, args), "workers": s.workers,
                          "usable_cpus": cpus or usable_cpus(),
                          "interpreter": _worker.interpreter_info(), "settings": s.to_dict(),
                          "skipped": {}, "notes": [], "incomplete": []}
        self.stop = threading.Event()
        self.bound1 = _watch.call_bound(s.max_call)
        self.busy = [0.0, 0.0, 0.0]  # the one-thread timing's run delay, CPU and wall time
        self.tbusy = [0.0, 0.0]  # the same, summed over the N threads' own
        # set by the steps, which the host takes in order: first(), then start_processes()
        self.procs: ProcessTimer | None = None
        # True: figures() leaves the worker processes running (the host
        # records their timeline, then closes them)
        self.keep_processes = False
        self.checker: Checker | None = None
        self.ref: object = None

    def _checker(self) -> Checker:
        """The results' checker, which :meth:`first` made (every later step
        comes after it)."""
        assert self.checker is not None, "Calls.first() comes first"
        return self.checker

    def _hung(self, seconds: float, what: str, phases) -> None:
        """Record that a call on a thread did not finish: `phases` are not measured."""
        out = self.out
        reason = (f"{what} did not finish within {seconds:.3g} s (--max-call plus a "
                  f"margin); its thread is left running (Python cannot stop a thread)")
        out["incomplete"].append(reason)
        out["notes"].append("a call of the function is still running in a daemon thread of "
                            "this process: it ends when the function returns or the process "
                            "exits")
        for phase in phases:
            out["skipped"][phase] = reason

    def _timed_call(self, where):
        def job():
            t0, c0 = perf_counter(), time.process_time()
            r = _call(self.fn, self.args, where)
            return r, perf_counter() - t0, time.process_time() - c0
        return job

    def first(self) -> bool:
        """The first (cold) call; False if nothing more is to be timed."""
        out = self.out
        try:
            ref, t1, cpu1 = _watch.run_bounded(self._timed_call("on its first call"),
                                               self.bound1)
        except _watch.Hung as exc:
            out["first_call_s"] = out["result"] = None
            self._hung(exc.seconds, "its first call", ALL_PHASES)
            for phase in ALL_PHASES:
                out["skipped"][phase] = out["incomplete"][0] + ": nothing was timed"
            return False
        out["first_call_s"], out["first_call_cpu_s"] = t1, cpu1
        out["result"] = _short(ref, 200)
        self.ref, self.checker = ref, Checker(ref, self.s.impure)
        budget = _loop.Budget(self.s.max_call)
        budget.record("call", 1, t1)
        reason = budget.skip_reason("call", 1)
        if reason:
            for phase in ALL_PHASES:
                out["skipped"][phase] = f"{reason}: nothing else was timed"
            return False
        return True

    def second(self) -> bool:
        """The second call, its result checked; False if it did not finish."""
        try:
            second, t2, _ = _watch.run_bounded(self._timed_call("on its second call"),
                                               self.bound1)
        except _watch.Hung as exc:
            self._hung(exc.seconds, "its second call", ALL_PHASES)
            return False
        self.out["second_call_s"] = t2
        checker = self._checker()
        checker.check([[second]], "on its second call")
        checker.raise_if_bad()
        return True

    def start_processes(self) -> int:
        """Start the N worker processes (their start-up timed apart), unless
        not asked for or impossible; returns the number of rows to time."""
        s, out = self.s, self.out
        if not s.processes:
            out["skipped"]["processes"] = "not asked for (--no-processes, processes=False)"
            return 2
        fn, args, ref = self.fn, self.args, self.ref
        procs = ProcessTimer(fn, args, ref, s, self.checker, s.start_method or start_method(),
                             out["notes"], out["usable_cpus"])
        if procs.skipped:
            out["skipped"]["processes"] = procs.skipped
            out["processes"] = {"skipped": procs.skipped, "method": procs.method}
            if procs.incomplete:
                out["incomplete"].append(procs.skipped)
            return 2
        self.procs = procs
        return 3

    def time(self, row: int, loops: int) -> float:
        """Seconds of `loops` calls on one thread (row 0), of `loops` calls on
        each of N threads at once (1), or in each of N processes (2)."""
        if row == 2:
            assert self.procs is not None, "row 2 is timed once start_processes() started them"
            return self.procs(loops)
        fn, args, stop, checker, n = self.fn, self.args, self.stop, self._checker(), self.n
        if row == 0:
            keep: list = []
            counts = [0]
            kmax = checker.share(1, loops)
            busy = self.busy

            def job():
                d0, c0 = run_delays(), time.process_time()
                t = perf_counter()
                _loop_calls(fn, args, loops, keep, kmax, counts, 0, stop, "on a later call")
                dt = perf_counter() - t
                busy[1] += time.process_time() - c0
                busy[0] += delay_between(d0, run_delays())
                busy[2] += dt
                return dt

            dt = _watch.run_bounded(job, self.bound1, counts, "on one thread")
            checker.check([keep], "on a later call")
            return dt
        keeps: list = [[] for _ in range(n)]
        counts = [0] * n
        errors: list = []
        kmax = checker.share(n, loops)
        where = f"called from {n} threads at once"
        tbusy = self.tbusy

        def work(k):
            d0, c0 = _machine.own_delay(), time.thread_time()
            try:
                _loop_calls(fn, args, loops, keeps[k], kmax, counts, k, stop, where)
            except BaseException as exc:  # re-raised by the timing thread
                errors.append(exc)
                return
            d1, c1 = _machine.own_delay(), time.thread_time()
            if d0 is not None and d1 is not None:
                tbusy[0] += d1 - d0
                tbusy[1] += c1 - c0

        # plain threads, as user code starts them (daemon: one that never
        # returns must not keep the interpreter from exiting)
        threads = [threading.Thread(target=work, args=(k,), daemon=True,
                                    name=f"gilfree-probe-{k}") for k in range(n)]
        t = perf_counter()
        for th in threads:
            th.start()
        _watch.wait_threads(threads, counts, _watch.call_bound(self.s.max_call, n),
                            f"on one of {n} threads")
        dt = perf_counter() - t
        if errors:
            raise errors[0]
        checker.check(keeps, f"when called from {n} threads at once")
        return dt

    def abort(self) -> None:
        """Stop and end the worker processes now (Ctrl-C, a failure)."""
        if self.procs:
            self.procs.stop()
            self.procs.close()

    def timing_hung(self, seconds: float, where: str) -> None:
        """A call of the timing on a thread did not finish: record it."""
        self.abort()
        self.out["kept"] = self._checker().report()
        what = "a call on one thread" if "one thread" in where else \
            f"a call on one of {self.n} threads"
        self._hung(seconds, what, ALL_PHASES)

    def figures(self, loops, values) -> None:
        """The timing's figures from the host's `loops` and `values` per row."""
        procs, out, n = self.procs, self.out, self.n
        if procs and not self.keep_processes:
            procs.close()
        self._checker().raise_if_bad()
        single = _loop.summarize(values[0])
        single.update(loops=loops[0], values=values[0])
        threads = _loop.summarize(values[1])
        threads.update(loops=loops[1], values=values[1],
                       speedup=n * single["median"] / threads["median"])
        out["single"], out["threads"] = single, threads
        if procs and procs.ended:
            out["skipped"]["processes"] = procs.ended
            out["processes"] = {"skipped": procs.ended, "method": procs.method}
            out["incomplete"].append(procs.ended)
        elif procs:
            p = _loop.summarize(values[2])
            p.update(loops=loops[2], values=values[2], method=procs.method,
                     startup_s=procs.startup_s, overhead_s=statistics.median(procs.overheads))
            out["processes"] = p
            out["processes_run_delay_fraction"] = _share(*procs.busy)
        busy = self.busy
        # The CPU the calls asked for over their wall time, on one thread: the
        # CPU time they got (all the process's threads) plus the time their
        # threads sat runnable while other programs had the CPUs, so a busy
        # machine does not look like "waiting"; about 0 for sleep or I/O, 1 for
        # one busy thread, k for k.
        out["cpu_fraction"] = (busy[0] + busy[1]) / busy[2] if busy[2] > 0 else None
        # The share of the time the calls' threads were ready to run (during
        # the one-thread timing) that they waited for a CPU other programs
        # held: on a busy machine each thread gets its own share of the CPUs,
        # so threads "speed up" even code that holds the GIL.
        out["run_delay_fraction"] = _share(busy[0], busy[1])
        out["threads_run_delay_fraction"] = _share(*self.tbusy)

    def heartbeat(self) -> None:
        """The GIL: a 1 ms sleeper's lateness while the function runs."""
        s, out = self.s, self.out
        if s.heartbeat <= 0:
            out["skipped"]["heartbeat"] = "heartbeat=0: the GIL fraction was not measured"
            return
        counts = [0]
        checker = self._checker()
        try:
            out["heartbeat"] = _watch.run_bounded(
                lambda: gil_heartbeat(self.fn, self.args, s.heartbeat, checker, counts,
                                      self.stop),
                self.bound1, counts, "on one thread")
        except _watch.Hung as exc:
            self._hung(exc.seconds, "a call while the heartbeat ran", ("heartbeat",))
        checker.raise_if_bad()

    def finish(self) -> None:
        """What was kept of the results, and a note if not all were."""
        checker = self._checker()
        self.out["kept"] = checker.report()
        if checker.limited:
            self.out["notes"].append(_kept_note(checker))


def _share(delay: float, cpu: float):
    """The run delay's share of the time ready to run, or None if too short to tell."""
    return delay / (delay + cpu) if delay + cpu > 1e-3 else None


def _size(nbytes) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes} bytes"


def _kept_note(checker: Checker) -> str:
    if checker.quota == 0:
        return (f"one result takes {_size(checker.result_bytes)}, over the "
                f"{_size(KEEP_BYTES)} kept per timed value: the results of the timed calls "
                f"were not compared (the first two calls' were)")
    return (f"one result takes {_size(checker.result_bytes)}: only {checker.quota} results "
            f"per timed value were kept and compared (at most {_size(KEEP_BYTES)} of them), "
            f"the other calls were timed uncompared")


# ---------------------------------------------------------------------------
# script entry (--python PATH)
# ---------------------------------------------------------------------------


def answer(calls, req: dict):
    """``(calls, answer)`` to one request of the host (:func:`main`):
    ``start`` makes the :class:`Calls` of the function it names, any of
    :data:`STEPS` runs on them; the answer has the step's ``value`` (and
    ``out``, but for ``time``), or ``hung``, ``failed`` or ``usage``."""
    try:
        if req["op"] == "start":
            for p in reversed(req["paths"]):
                sys.path.insert(0, p)
            calls = Calls(resolve(req["target"]), parse_args(req["args"]),
                          Settings(**req["settings"]), req["usable_cpus"])
            value = None
        elif req["op"] in STEPS:
            value = getattr(calls, req["op"])(*req.get("args", ()))
        else:
            raise ValueError(f"unknown request {req['op']!r}")
        return calls, ({"value": value} if req["op"] == "time" else
                       {"value": value, "out": calls.out})
    except _watch.Hung as exc:
        return calls, {"hung": [exc.seconds, exc.where]}
    except ProbeUsageError as exc:
        return calls, {"usage": str(exc)}
    except FunctionFailed as exc:
        return calls, {"failed": str(exc)}


#: Seconds between two "alive" lines of the script (``--python``): the probing
#: process ends a run that sends none for --max-call plus a margin.
ALIVE_EVERY = 0.5


def main() -> int:
    """Script entry, a worker of :class:`gilfree._timing._client.Worker`: its
    first line describes the interpreter; then each request (a JSON line on
    stdin, :func:`answer`) is answered with ``alive`` events while a call
    runs, then one line, until ``end``."""
    import signal

    # The probing process handles Ctrl-C and ends this one (SIGTERM).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    # The events go to a private copy of stdout; what the function prints
    # goes to stderr, where it cannot be mistaken for an event.
    events = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    last = [0.0]

    def emit(obj):
        events.write(json.dumps(obj) + "\n")
        events.flush()

    def alive(*_):
        now = time.monotonic()
        if now - last[0] >= ALIVE_EVERY:
            last[0] = now
            emit({"event": "alive"})

    _watch.on_poll = alive
    info = _worker.interpreter_info()
    emit({"interpreter": info, "full": _worker.full_profile(info)})
    # the script's own folder must not shadow the user's modules
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    calls = None
    for line in iter(sys.stdin.readline, ""):
        req = json.loads(line)
        if req["op"] == "end":
            break
        calls, got = answer(calls, req)
        emit(got)
    return 0


if __name__ == "__main__":
    sys.exit(main())
