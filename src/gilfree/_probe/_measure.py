"""The probe's measurements of one function (standard library only).

Runs in two places:

1. in the probing process, imported as ``gilfree._probe._measure``;
2. as a script under another Python (``gilfree probe --python PATH``), which
   may have no gilfree installed: it reads a JSON request on stdin, imports
   the function there, measures it the same way and writes one JSON line on
   stdout (:func:`main`).

Timing, calibration, thread fan-out and the heartbeat come from the bench's
stdlib-only core (``gilfree/bench/_portable.py``), loaded by file path when
this file runs as a script; worker processes come from the bench's
``_processes.ProcessPools`` where gilfree can be imported.
"""

from __future__ import annotations

import ast
import importlib
import json
import math
import os
import pickle
import statistics
import sys
import threading
import time
import warnings
from typing import Any

if __package__:
    from ..bench import _portable
else:  # a script under another Python: load the portable core by path
    import importlib.util as _util

    _spec = _util.spec_from_file_location(
        "_gilfree_portable",
        os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "bench",
                     "_portable.py"))
    assert _spec is not None and _spec.loader is not None
    _portable = _util.module_from_spec(_spec)  # type: ignore[no-redef]
    sys.modules["_gilfree_portable"] = _portable
    _spec.loader.exec_module(_portable)

perf_counter = time.perf_counter

#: Results of the timed calls are kept and compared after each timed value
#: (never inside it); a loop keeps at most this many bytes of them.
KEEP_BYTES = 256 * 2**20

#: A beat later than this fraction of the switch interval found the GIL held:
#: a thread that wants the GIL waits one whole switch interval (5 ms by
#: default) before it asks the holder to drop it, so a held GIL makes a beat
#: at least that late, while a free GIL lets it run at once (0.05-0.1 ms; a
#: busy 2-core VM adds up to 2-3 ms of scheduling delay, still below 4.5 ms).
HELD_FRACTION_OF_INTERVAL = 0.9

#: A one-call CPU time below this fraction of its wall time means the call
#: mostly waits (sleep, I/O, a lock) rather than computes.
WAITING_CPU_FRACTION = 0.5


class ProbeUsageError(ValueError):
    """The target, its arguments or a setting are unusable (exit status 2)."""


class FunctionFailed(RuntimeError):
    """The probed function raised, or returned different values (exit status 1)."""


# ---------------------------------------------------------------------------
# the target: MODULE:FUNCTION and a literal
# ---------------------------------------------------------------------------


def resolve(spec: str):
    """Import ``MODULE:FUNCTION`` (dots allowed in both) the way ``python -m`` finds it.

    Raises :class:`ProbeUsageError` for a malformed spec, a missing module or
    attribute, or a non-callable; :class:`FunctionFailed` if importing the
    module raised something else (the module's own code failed).
    """
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ProbeUsageError(f"expected MODULE:FUNCTION (e.g. mymodule:work), got {spec!r}")
    modname, _, attr = spec.partition(":")
    if not modname or not attr or not all(p.isidentifier() for p in modname.split(".")) \
            or not all(p.isidentifier() for p in attr.split(".")):
        raise ProbeUsageError(f"expected MODULE:FUNCTION (e.g. mymodule:work), got {spec!r}")
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name and (modname == exc.name or modname.startswith(exc.name + ".")):
            raise ProbeUsageError(f"no module named {exc.name!r} (looked in the current "
                                  f"directory first, then sys.path)") from None
        raise FunctionFailed(f"importing {modname} raised ModuleNotFoundError: {exc}") from exc
    except Exception as exc:
        raise FunctionFailed(f"importing {modname} raised {type(exc).__name__}: {exc}") from exc
    obj: Any = mod
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ProbeUsageError(f"module {modname!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise ProbeUsageError(f"{spec} is a {type(obj).__name__}, not a callable")
    return obj


def parse_args(text):
    """The positional arguments from a Python literal: a tuple, or one value.

    ``ast.literal_eval`` only (never ``eval``): ``"(1, 'a')"`` gives
    ``(1, 'a')``, ``"1000"`` gives ``(1000,)``, ``None`` or ``""`` gives ``()``.
    """
    if text is None or not text.strip():
        return ()
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        why = "" if isinstance(exc, ValueError) else f" ({type(exc).__name__})"
        raise ProbeUsageError(f"--args must be a Python literal such as 1000, (1, 'a') or "
                              f"([1, 2], 3.5), got {text!r}{why}") from None
    return value if isinstance(value, tuple) else (value,)


def describe_call(fn, args) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    text = ", ".join(_short(a, 30) for a in args)
    return f"{name}({text})"


def _short(obj, width: int = 60) -> str:
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not stop the probe
        text = f"<{type(obj).__name__}: repr failed: {exc}>"
    return text if len(text) <= width else text[: width - 3] + "..."


# ---------------------------------------------------------------------------
# comparing results
# ---------------------------------------------------------------------------


def same(a, b) -> bool:
    """True if two results of the function are the same value.

    ``==`` where it gives a bool; arrays (anything with ``shape`` and
    ``dtype``) through NumPy's ``array_equal`` with NaNs equal; NaN equals
    NaN; otherwise equal pickles.
    """
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if hasattr(a, "shape") and hasattr(a, "dtype") and "numpy" in sys.modules:
        np = sys.modules["numpy"]
        try:
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        except Exception:
            pass
    try:
        eq = a == b
        if isinstance(eq, bool):
            if eq:
                return True
            if isinstance(a, float) and math.isnan(a) and math.isnan(b):
                return True
            if isinstance(a, (tuple, list)) and len(a) == len(b):
                return all(same(x, y) for x, y in zip(a, b))
            return False
    except Exception:
        pass
    try:
        return pickle.dumps(a) == pickle.dumps(b)
    except Exception:
        return False


def _size_of(obj) -> int:
    n = getattr(obj, "nbytes", None)
    if isinstance(n, int):
        return n
    try:
        n = sys.getsizeof(obj)
        if isinstance(obj, (list, tuple, set, frozenset, dict)):
            n += sum(sys.getsizeof(x) for x in list(obj)[:1000]) * max(1, len(obj) // 1000)
        return n
    except Exception:
        return 1024


class Checker:
    """Compares every kept result with the first call's; remembers the first mismatch."""

    def __init__(self, reference, impure: bool):
        self.reference = reference
        self.impure = impure
        self.bad: str | None = None

    def check(self, results, where: str) -> None:
        if self.impure or self.bad is not None:
            return
        for r in results:
            if not same(r, self.reference):
                self.bad = (f"returned {_short(r)} {where}, but {_short(self.reference)} "
                            f"on its first call")
                return

    def raise_if_bad(self) -> None:
        if self.bad is not None:
            raise FunctionFailed(self.bad + "; if its results are meant to differ, probe it "
                                            "with --impure (impure=True)")


def _call(fn, args, where: str):
    try:
        return fn(*args)
    except (KeyboardInterrupt, FunctionFailed):
        raise
    except BaseException as exc:
        raise FunctionFailed(f"{describe_call(fn, args)} raised {type(exc).__name__}: {exc}"
                             f" ({where})") from exc


# ---------------------------------------------------------------------------
# the measurements
# ---------------------------------------------------------------------------


class Settings:
    """How one probe measures (all times in seconds); checked on creation."""

    def __init__(self, workers=None, impure: bool = False, processes: bool = True,
                 max_call: float = 10.0, min_time: float = 0.05, repeats: int = 5,
                 warmup: int = 1, heartbeat: float = 0.3, settle: float = 0.02):
        self.workers: int = usable_cpus() if workers is None else workers
        self.impure = bool(impure)
        self.processes = bool(processes)
        self.max_call = max_call
        self.min_time = min_time
        self.repeats = repeats
        self.warmup = warmup
        self.heartbeat = heartbeat
        self.settle = settle
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) \
                or self.workers < 1:
            raise ProbeUsageError(f"`workers` must be an integer >= 1, got {self.workers!r}")
        for k in ("max_call", "min_time"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ProbeUsageError(f"`{k}` must be a positive number of seconds, got {v!r}")
        for k in ("heartbeat", "settle"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise ProbeUsageError(f"`{k}` must be a number of seconds >= 0, got {v!r}")
        for k, low in (("repeats", 1), ("warmup", 0)):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ProbeUsageError(f"`{k}` must be an integer >= {low}, got {v!r}")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("workers", "impure", "processes", "max_call",
                                              "min_time", "repeats", "warmup", "heartbeat",
                                              "settle")}


def usable_cpus() -> int:
    """CPUs this process may run on (affinity where the OS has it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def start_method() -> str:
    """``fork`` where it is available and the platform's usual choice, else ``spawn``.

    macOS has ``fork`` but its system libraries are not fork-safe (CPython
    defaults to ``spawn`` there since 3.8).
    """
    import multiprocessing

    if sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def run_delays():
    """``{thread id: seconds it waited, runnable, for a CPU}`` for this
    process's threads (Linux: ``/proc/self/task/*/schedstat``), or None."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    out = {}
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/schedstat", "rb") as f:
                out[tid] = int(f.read().split()[1]) * 1e-9
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return out


def _own_delay():
    """The calling thread's run delay in seconds (Linux), or None."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) * 1e-9
    except (OSError, ValueError, IndexError):
        return None


def delay_between(before, after) -> float:
    """Run delay of the process's threads between two :func:`run_delays` (0 if unknown).

    Threads that ended in between are left out; threads that started count whole.
    """
    if before is None or after is None:
        return 0.0
    return sum(v - before.get(tid, 0.0) for tid, v in after.items())


def _loop_calls(fn, args, loops: int, keep: list | None, stop=None) -> None:
    """`loops` calls; results appended to `keep` (compared later, outside the timing)."""
    if keep is None:
        for _ in range(loops):
            fn(*args)
            if stop is not None and stop.is_set():
                return
    else:
        app = keep.append
        for _ in range(loops):
            app(fn(*args))
            if stop is not None and stop.is_set():
                return


def measure(fn, args, settings: Settings, progress=None) -> dict:
    """Measure `fn(*args)`: one call, N threads, the GIL, N processes.

    Returns a JSON-ready dict (see ``gilfree._probe.ProbeResult`` for the
    derived figures).  Raises :class:`FunctionFailed` if the function raises
    or returns a different value (unless ``settings.impure``); Ctrl-C
    (``KeyboardInterrupt``) stops every thread and worker process first.
    """
    s = settings
    tick = progress or (lambda what: None)
    n = s.workers
    out: dict = {"call": describe_call(fn, args), "workers": n, "usable_cpus": usable_cpus(),
                 "interpreter": _portable.interpreter_info(), "settings": s.to_dict(),
                 "skipped": {}}

    # 1. the checked calls: the first (cold) and, unless too long, a second
    tick("first call")
    t0, c0 = perf_counter(), time.process_time()
    ref = _call(fn, args, "on its first call")
    out["first_call_s"] = t1 = perf_counter() - t0
    out["first_call_cpu_s"] = time.process_time() - c0
    out["result"] = _short(ref, 200)
    checker = Checker(ref, s.impure)
    budget = _portable.Budget(s.max_call)
    budget.record("call", 1, t1)
    reason = budget.skip_reason("call", 1)
    if reason:
        reason = f"{reason}: nothing else was timed"
        for phase in ("single", "threads", "heartbeat", "processes"):
            out["skipped"][phase] = reason
        return derive(out)
    tick("second call")
    t0 = perf_counter()
    second = _call(fn, args, "on its second call")
    t1 = out["second_call_s"] = perf_counter() - t0
    checker.check([second], "on its second call")
    checker.raise_if_bad()
    del second
    keep_ok = not s.impure
    max_loops = 1 << 20
    if keep_ok:
        max_loops = max(1, min(max_loops, KEEP_BYTES // max(1, _size_of(ref))))

    # 2. one thread and N threads, interleaved
    stop = threading.Event()
    started: list = []

    busy = [0.0, 0.0]  # the one-thread timing's run delay and CPU time
    tbusy = [0.0, 0.0]  # the same, summed over the N threads' own

    def single_timer(loops):
        keep = [] if keep_ok else None
        d0, c0 = run_delays(), time.process_time()
        t = perf_counter()
        _loop_calls(fn, args, loops, keep)
        dt = perf_counter() - t
        busy[1] += time.process_time() - c0
        busy[0] += delay_between(d0, run_delays())
        if keep:
            checker.check(keep, "on a later call")
        return dt

    def threads_timer(loops):
        keeps = [[] if keep_ok else None for _ in range(n)]

        def work(_, k, count):
            started.append(threading.current_thread())
            d0, c0 = _own_delay(), time.thread_time()
            try:
                _loop_calls(fn, args, count, keeps[k], stop)
            except BaseException as exc:
                raise FunctionFailed(f"{out['call']} raised {type(exc).__name__}: {exc} "
                                     f"(called from {n} threads at once)") from exc
            d1, c1 = _own_delay(), time.thread_time()
            if d0 is not None and d1 is not None:
                tbusy[0] += d1 - d0
                tbusy[1] += c1 - c0

        t = perf_counter()
        _portable.run_in_threads(work, None, [(k, loops) for k in range(n)])
        dt = perf_counter() - t
        for keep in keeps:
            if keep:
                checker.check(keep, f"when called from {n} threads at once")
        started.clear()
        return dt

    # 3. N worker processes, started (and their start-up timed) before the
    # timing, so their values interleave with the threads' and one thread's
    procs = None
    if not s.processes:
        out["skipped"]["processes"] = "not asked for (--no-processes, processes=False)"
    else:
        tick(f"starting {n} worker processes")
        procs = ProcessTimer(fn, args, ref, s, checker)
        if procs.skipped:
            out["skipped"]["processes"] = procs.skipped
            out["processes"] = {"skipped": procs.skipped, "method": procs.method}
            procs = None
    timers = [single_timer, threads_timer] + ([procs] if procs else [])
    tick(f"one thread, {n} threads" + (f" and {n} processes" if procs else ""))
    try:
        loops, values = _portable.measure_interleaved(
            timers, repeats=s.repeats, warmup=s.warmup,
            min_time=s.min_time, settle_timeout=s.settle, max_loops=max_loops)
    except BaseException:
        if procs:
            procs.stop()
        raise
    finally:
        stop.set()
        for th in list(started):
            th.join()
        if procs:
            procs.close()
    checker.raise_if_bad()
    single = _portable.summarize(values[0])
    single.update(loops=loops[0], values=values[0])
    threads = _portable.summarize(values[1])
    threads.update(loops=loops[1], values=values[1],
                   speedup=n * single["median"] / threads["median"])
    out["single"], out["threads"] = single, threads
    if procs:
        p = _portable.summarize(values[2])
        p.update(loops=loops[2], values=values[2], method=procs.method,
                 startup_s=procs.startup_s, overhead_s=statistics.median(procs.overheads))
        out["processes"] = p
        b = procs.busy
        out["processes_run_delay_fraction"] = b[0] / (b[0] + b[1]) if b[0] + b[1] > 1e-3 \
            else None

    # The CPU the calls asked for over their wall time: the CPU time they got
    # (all the process's threads) plus the time their threads sat runnable
    # while other programs had the CPUs, so a busy machine does not look like
    # "waiting"; about 0 for sleep or I/O, 1 for one busy thread, k for k.
    d0, w0, c0 = run_delays(), perf_counter(), time.process_time()
    _loop_calls(fn, args, loops[0], None)
    wall = perf_counter() - w0
    cpu = time.process_time() - c0
    delay = delay_between(d0, run_delays())
    out["cpu_fraction"] = (cpu + delay) / wall if wall > 0 else None
    # The share of the time the calls' threads were ready to run (during the
    # one-thread timing) that they waited for a CPU other programs held: on a
    # busy machine each thread gets its own share of the CPUs, so threads
    # "speed up" even code that holds the GIL.
    out["run_delay_fraction"] = busy[0] / (busy[0] + busy[1]) if busy[0] + busy[1] > 1e-3 \
        else None
    out["threads_run_delay_fraction"] = (tbusy[0] / (tbusy[0] + tbusy[1])
                                         if tbusy[0] + tbusy[1] > 1e-3 else None)

    # 4. the GIL: a 1 ms sleeper's lateness while the function runs
    if s.heartbeat > 0:
        tick("heartbeat")
        out["heartbeat"] = gil_heartbeat(fn, args, s.heartbeat, checker)
        checker.raise_if_bad()
    else:
        out["skipped"]["heartbeat"] = "heartbeat=0: the GIL fraction was not measured"

    derive(out)
    return out


def gil_heartbeat(fn, args, duration: float, checker: Checker) -> dict:
    """The fraction of time `fn` holds the GIL, from a sleeper thread's lateness.

    A thread sleeps 1 ms in a loop while `fn` runs on this one.  When it
    wakes it needs the GIL: if the GIL is free it runs at once; if `fn`
    holds it, the sleeper waits a whole switch interval before asking for it
    (or until `fn` releases it).  Each of the sleeper's cycles (its sleep
    plus its lateness) is counted as GIL-held time when the beat was later
    than 0.9 switch intervals: the held fraction is the counted time over
    all the sleeper's time.  Holding periods shorter than the switch interval
    between releases are not seen (the thread speedup catches those).

    On Linux two scheduler run delays (time spent runnable while other
    programs held the CPUs, from ``schedstat``) are taken out, so that a busy
    machine does not distort the figure: the sleeper's own, from each
    lateness (waiting for the GIL is sleeping on a condition variable, not
    being runnable), and the function's thread's, from each cycle's length
    (while that thread waits for a CPU it neither runs nor holds the GIL):
    the fraction is about the time the function was running.
    """
    period = 1e-3
    late: list = []
    keep: list = []

    def once():
        r = fn(*args)
        if not checker.impure and len(keep) < 64:
            keep.append(r)

    clock = DelayClock()
    use_clock = clock.works()
    try:
        hb = _portable.heartbeat(once, duration, period=period, samples=late,
                                 clock=clock if use_clock else None)
    finally:
        clock.close()
    hb["run_delay_removed"] = use_clock
    checker.check(keep, "while the heartbeat ran")
    interval = sys.getswitchinterval()
    threshold = max(HELD_FRACTION_OF_INTERVAL * interval, 0.5e-3)
    # the function's thread's run delay during each beat (0 where unknown)
    marks = clock.marks
    main_delay = [max(0.0, marks[2 * k + 1] - marks[2 * k]) if 2 * k + 1 < len(marks) else 0.0
                  for k in range(len(late))]
    # Each beat's cycle minus the function's thread's run delay booked in it
    # (the scheduler books a delay when the thread gets a CPU, so a stall
    # that spans beats lands in the last one: on a very busy machine some of
    # it stays in the free time and the fraction reads low).
    held = free = 0.0
    for v, dm in zip(late, main_delay):
        cycle = max(0.0, period + v - dm)
        if v >= threshold:
            held += cycle
        else:
            free += cycle
    total = held + free
    hb.update(held_fraction=(held / total) if total > 0 else None,
              threshold_ms=threshold * 1e3, switch_interval_ms=interval * 1e3,
              late_beats=sum(1 for v in late if v >= threshold),
              function_run_delay_s=sum(main_delay))
    return hb


class DelayClock:
    """The calling thread's scheduler run delay in seconds (Linux), read with
    ``pread`` on its own ``/proc/thread-self/schedstat`` (about 1.5 us).

    Each reading from another thread than the one that made the clock also
    appends, to ``marks``, the run delay of that creating thread (the
    function's, in the heartbeat) at the same moment.
    """

    def __init__(self) -> None:
        self.fds: dict = {}
        self.marks: list = []
        self.owner = threading.get_ident()
        self._owner_fd = None
        try:
            self._owner_fd = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat",
                                     os.O_RDONLY)
        except (OSError, AttributeError):
            pass

    def works(self) -> bool:
        try:
            self()
            return True
        except (OSError, ValueError, IndexError, AttributeError):
            return False

    def __call__(self) -> float:
        tid = threading.get_ident()
        fd = self.fds.get(tid)
        if fd is None:
            fd = self.fds[tid] = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        mine = int(os.pread(fd, 128, 0).split()[1]) * 1e-9
        if tid != self.owner and self._owner_fd is not None:
            self.marks.append(int(os.pread(self._owner_fd, 128, 0).split()[1]) * 1e-9)
        return mine

    def close(self) -> None:
        fds, self.fds = self.fds, {}
        if self._owner_fd is not None:
            fds["owner"], self._owner_fd = self._owner_fd, None
        for fd in fds.values():
            os.close(fd)


class CallLoop:
    """The payload of each worker process: `loops` calls, results compared there.

    Returns ``(calls, mismatch, run_delay, cpu)``: ``mismatch`` is None, or
    a text naming the first result that differs from `expected`, or the
    exception the function raised; ``run_delay`` (None off Linux) and
    ``cpu`` are the worker's seconds waiting for a CPU and on one.
    """

    def __init__(self, fn, args, expected, impure: bool, stop):
        self.fn, self.args, self.expected, self.impure, self.stop = fn, args, expected, impure, stop

    def __call__(self, loops: int):
        fn, args = self.fn, self.args
        d0, c0 = _own_delay(), time.thread_time()

        def done(calls, mismatch=None):
            d1 = _own_delay()
            delay = None if d0 is None or d1 is None else d1 - d0
            return calls, mismatch, delay, time.thread_time() - c0

        try:
            for i in range(loops):
                r = fn(*args)
                if not self.impure and not same(r, self.expected):
                    return done(i + 1, f"returned {_short(r)} in a worker process, but "
                                       f"{_short(self.expected)} on its first call")
                if self.stop.value:
                    return done(i + 1)
        except BaseException as exc:
            return done(0, f"raised {type(exc).__name__}: {exc} (in a worker process)")
        return done(loops)


def _processes_module():
    if __package__:
        from ..bench import _processes
    else:
        from gilfree.bench import _processes  # type: ignore[no-redef]
    return _processes


class ProcessTimer:
    """N worker processes, released together by a barrier; ``timer(loops)``
    has each run `loops` calls and returns the slowest one's own time.

    Start-up (starting the processes until all passed the barrier once) is
    timed apart from the calls (``startup_s``); ``overheads`` collects what
    each batch cost on top of its calls (submitting, the barrier, sending
    the results back).  ``skipped`` says why no processes could start.
    """

    def __init__(self, fn, args, ref, s: Settings, checker: Checker):
        import multiprocessing

        self.n, self.checker, self.call = s.workers, checker, describe_call(fn, args)
        self.method = start_method()
        self.skipped = None
        self.overheads: list = []
        self.busy = [0.0, 0.0]  # the workers' run delay and CPU time
        self.pools = None
        if self.method != "fork":
            try:
                pickle.loads(pickle.dumps((fn, args, ref)))
            except Exception as exc:
                self.skipped = (f"the function, its arguments or its result cannot be sent to "
                                f"a {self.method}ed process ({type(exc).__name__}: {exc}); "
                                f"define it at the top level of an importable module")
                return
        ctx = multiprocessing.get_context(self.method)
        self._stop = ctx.Value("b", 0, lock=False)
        try:
            self._procs = _processes_module()
            self.pools = self._procs.ProcessPools(
                method=self.method, payload=CallLoop(fn, args, ref, s.impure, self._stop))
        except Exception as exc:
            self.skipped = (f"worker processes need this gilfree importable in this Python "
                            f"({type(exc).__name__}: {exc}); threads and the GIL were measured")
            return
        try:
            with warnings.catch_warnings():
                # 3.12+ warns when forking a process with threads (NumPy's
                # BLAS threads, say): the children only call the function.
                warnings.simplefilter("ignore", DeprecationWarning)
                self.pool = self.pools.get(self.n)
            self.startup_s = self.pools.startup[self.n]
        except Exception as exc:  # a broken pool: the function cannot run in a child
            self.stop()
            self.close()
            self.skipped = (f"the function could not run in a {self.method}ed worker process "
                            f"({type(exc).__name__}: {exc})")
        except BaseException:
            self.stop()
            self.close()
            raise

    def __call__(self, loops: int) -> float:
        t0 = perf_counter()
        futures = [self.pool.submit(self._procs._timed_payload, loops) for _ in range(self.n)]
        done = [f.result() for f in futures]
        wall = perf_counter() - t0
        for _, _, (calls, mismatch, delay, cpu) in done:
            if delay is not None:
                self.busy[0] += delay
                self.busy[1] += cpu
            if mismatch:
                if mismatch.startswith("raised"):
                    raise FunctionFailed(f"{self.call} {mismatch}")
                self.checker.bad = self.checker.bad or mismatch
        elapsed = max(b - a for a, b, _ in done)
        self.overheads.append(max(0.0, wall - elapsed))
        return elapsed

    def stop(self) -> None:
        """Stop every worker now (Ctrl-C, a failure): calls in flight are not waited for."""
        self._stop.value = 1
        _terminate(self.pools)

    def close(self) -> None:
        if self.pools is not None:
            self.pools.close()
            self.pools = None


def _terminate(pools) -> None:
    """Stop every worker of `pools` now: a call in flight is not waited for.

    The pool's manager thread then sees them gone; ``pools.close()`` joins it
    (a ``shutdown(wait=False)`` here would leave it running into interpreter
    exit, where 3.11's exit hook can race it on a closed pipe).
    """
    for pool in list((getattr(pools, "_pools", None) or {}).values()):
        for p in list((getattr(pool, "_processes", None) or {}).values()):
            try:
                # SIGKILL: a forked worker inherits the command line's SIGTERM
                # handler (stop like Ctrl-C), which would print its traceback
                p.kill()
            except Exception:
                pass


# ---------------------------------------------------------------------------
# derived figures
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# script entry (--python PATH)
# ---------------------------------------------------------------------------


def run_request(req: dict) -> dict:
    """Measure the target of a JSON request; errors come back as events."""
    for p in reversed(req.get("paths", [])):
        sys.path.insert(0, p)
    try:
        fn = resolve(req["target"])
        args = parse_args(req.get("args"))
        settings = Settings(**req.get("settings", {}))
        return {"event": "result", "result": measure(fn, args, settings)}
    except ProbeUsageError as exc:
        return {"event": "error", "kind": "usage", "message": str(exc)}
    except FunctionFailed as exc:
        return {"event": "error", "kind": "function", "message": str(exc)}


def main() -> int:
    """Script entry: a JSON request on stdin, one JSON line on stdout."""
    import signal

    # The probing process handles Ctrl-C and ends this one (SIGTERM).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    req = json.loads(sys.stdin.read())
    # the script's own folder must not shadow the user's modules
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.stdout.write(json.dumps(run_request(req)) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
