"""N worker processes that call the probed function, released together, every
wait bounded (:class:`ProcessTimer`, each worker running :class:`CallLoop`);
the probe's row for processes.  Under another Python :mod:`._measure` loads
this file by path (at its top level, so that a spawned worker, which runs
that script's top level first, can unpickle :class:`CallLoop`).
"""

from __future__ import annotations

import os
import pickle
import threading
import time
import warnings

if __package__:
    from .._timing import _machine, _watch
    from .._timing._results import same
    from ._target import FunctionFailed, _exc_text, _short, _text, describe_call
else:  # loaded by path by the script _measure.py, after the modules it needs
    import _gilfree_machine as _machine  # type: ignore[import-not-found,no-redef]
    import _gilfree_watch as _watch  # type: ignore[import-not-found,no-redef]
    from _gilfree_results import same  # type: ignore[import-not-found,no-redef]
    from _gilfree_target import (  # type: ignore[import-not-found,no-redef]
        FunctionFailed, _exc_text, _short, _text, describe_call)

perf_counter = time.perf_counter

#: Seconds the worker processes may take to start (on top of --max-call):
#: spawned workers import NumPy, gilfree and the function's module, which
#: took up to 10 s on a loaded 2-core machine.
STARTUP_S = 60.0


def _processes():
    """The bench's process pools and timed payload (gilfree must be importable)."""
    if __package__:
        from .. import bench
    else:
        import gilfree.bench as bench  # type: ignore[no-redef]
    return bench.ProcessPools, bench.timed_payload


def _other_threads(settle: float = 0.05) -> int:
    """Threads of this process besides the calling one and OpenBLAS's idle
    workers.  A thread the probe has just joined can stay in the OS's list
    for a moment after Python saw it end: the count is read again for up to
    `settle` seconds and the smallest kept, so only threads that stay are
    counted."""
    blas = _openblas_workers()
    n = _machine.os_threads() - 1 - blas
    end = time.monotonic() + settle
    while n > 0 and time.monotonic() < end:
        time.sleep(0.005)
        n = min(n, _machine.os_threads() - 1 - blas)
    return n


def _openblas_workers() -> int:
    """Worker threads of the OpenBLAS libraries loaded here (threadpoolctl,
    when installed; 0 otherwise, which keeps the note)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 0
    try:
        return sum(max(0, int(i.get("num_threads", 1)) - 1) for i in threadpool_info()
                   if i.get("internal_api") == "openblas")
    except Exception:  # a library threadpoolctl cannot read: count nothing out
        return 0


class _ChildTerm:
    """A SIGTERM handler that a forked worker inherits and that ends it quietly.

    The command line turns SIGTERM into Ctrl-C; a forked worker inherits that
    handler, and the pool terminates its workers with SIGTERM when one of
    them dies: they would print a ``KeyboardInterrupt`` traceback each.
    """

    def __init__(self, previous):
        self.previous, self.pid = previous, os.getpid()

    def __call__(self, signum, frame):
        if os.getpid() != self.pid:
            os._exit(128 + signum)
        if callable(self.previous):
            self.previous(signum, frame)


def _signal_describe(code) -> str:
    import signal

    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class ProcessTimer:
    """N worker processes, released together by a barrier; ``timer(loops)``
    has each run `loops` calls and returns the slowest one's own time.

    Start-up (starting the processes until all passed the barrier once) is
    timed apart from the calls (``startup_s``); ``overheads`` collects what
    each batch cost on top of its calls (submitting, the barrier, sending
    the results back).  ``skipped`` says why no processes could start
    (``incomplete`` when that was the function's doing).

    Every wait is bounded: a batch in which no call finished for
    ``--max-call`` plus a margin, or a worker that died, ends the row:
    ``ended`` says why, the workers are killed, and later batches return
    at once (their values are dropped).
    """

    def __init__(self, fn, args, ref, s, checker, method: str, notes=None, cpus: int = 1):
        import multiprocessing

        self.n, self.checker, self.call = s.workers, checker, describe_call(fn, args)
        self.method = method
        self.skipped: str | None = None
        self.ended: str | None = None
        self.incomplete = False
        self.min_time = s.min_time
        self.overheads: list = []
        self.busy = [0.0, 0.0]  # the workers' run delay and CPU time
        self.pools = None
        self._workers: list = []
        notes = [] if notes is None else notes
        # n calls share the usable CPUs: each may take n/cpus times longer
        self.bound = _watch.call_bound(s.max_call, -(-self.n // cpus))
        if self.method != "fork":
            try:
                pickle.loads(pickle.dumps((fn, args, ref)))
            except Exception as exc:
                self.skipped = (f"the function, its arguments or its result cannot be sent to "
                                f"a {self.method}ed process ({_exc_text(exc, 120)}); "
                                f"define it at the top level of an importable module")
                return
        ctx = multiprocessing.get_context(self.method)
        self._stop = ctx.Value("b", 0, lock=False)
        self._done = ctx.Value("q", 0, lock=False)
        try:
            pools, self._payload = _processes()
            self.pools = pools(
                method=self.method,
                payload=CallLoop(fn, args, ref, s.impure, self._stop, self._done))
        except Exception as exc:
            self.skipped = (f"worker processes need this gilfree importable in this Python "
                            f"({_exc_text(exc, 120)}); threads and the GIL were measured")
            return
        # The workers start in a thread of their own, so that the wait for
        # them is bounded too (a spawned worker imports the function's module).
        # Threads besides this one (the starting thread, which forks, does
        # not exist yet): each is missing in a forked worker.  OpenBLAS's
        # idle workers (NumPy starts them at import) are not counted: OpenBLAS
        # stops its pool around fork() (pthread_atfork) and restarts it in
        # the child, so every probe would otherwise carry the note.
        others = _other_threads()
        guard = self._guard_term() if self.method == "fork" else None
        caught: list = []
        try:
            with warnings.catch_warnings(record=True) as record:
                caught = record
                # 3.12+ warns when forking a process with threads: reported
                # below (in the probe's notes), not raised or printed
                warnings.simplefilter("always", DeprecationWarning)
                self.pool = _watch.run_bounded(
                    lambda: self.pools.get(self.n), STARTUP_S + self.bound,
                    where="starting the worker processes", name="gilfree-probe-start")
            self.startup_s = self.pools.startup[self.n]
            self._workers = self.pools.workers(self.n)
        except _watch.Hung as exc:
            self.stop()
            self.close()
            self.incomplete = True
            self.skipped = (f"the {self.method}ed worker processes did not start within "
                            f"{exc.seconds:.3g} s (does importing the function's module hang "
                            f"there?); they were killed")
        except Exception as exc:  # a broken pool: the function cannot run in a child
            self.stop()
            self.close()
            self.skipped = (f"the function could not run in a {self.method}ed worker process "
                            f"({_exc_text(exc, 160)})")
        except BaseException:
            self.stop()
            self.close()
            raise
        finally:
            if guard is not None:
                guard()
        fork_warnings = [w for w in caught if "fork" in str(w.message)]
        if self.method == "fork" and others > 0:
            text = (f"the worker processes were forked while {max(others, 1)} other thread(s) "
                    f"ran in this process; a forked worker has none of them, so a function "
                    f"that relies on them (a thread pool, BLAS or OpenMP threads) can hang "
                    f"or misbehave there (--start-method spawn avoids this)")
            if fork_warnings:
                text += f"; Python warned: {_text(fork_warnings[0].message, 160)}"
            notes.append(text)

    @staticmethod
    def _guard_term():
        """Install :class:`_ChildTerm` for the fork (main thread only); returns
        the function that puts the previous handler back, or None."""
        import signal

        if threading.current_thread() is not threading.main_thread():
            return None
        try:
            previous = signal.getsignal(signal.SIGTERM)
            if not callable(previous):
                return None  # default or ignored: a forked worker ends quietly anyway
            handler = _ChildTerm(previous)
            signal.signal(signal.SIGTERM, handler)
        except (ValueError, OSError):
            return None
        # The workers keep _ChildTerm for their life; the probing process gets its
        # own handler back once they are started.
        return lambda: signal.signal(signal.SIGTERM, previous)

    def __call__(self, loops: int) -> float:
        from concurrent.futures import FIRST_EXCEPTION, wait

        if self.ended:
            return self.min_time  # the row has ended: a placeholder, dropped
        t0 = perf_counter()
        last, since = self._done.value, time.monotonic()
        try:
            futures = [self.pool.submit(self._payload, loops)
                       for _ in range(self.n)]
        except Exception as exc:  # the pool broke between batches
            return self._end(self._died(exc))
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=_watch.POLL, return_when=FIRST_EXCEPTION)
            for f in done:
                if f.exception() is not None:
                    return self._end(self._died(f.exception()))
            if pending:
                _watch.poll()
                now, seen = time.monotonic(), self._done.value
                if seen != last:
                    last, since = seen, now
                elif now - since > self.bound:
                    return self._end(self._hung_reason())
        wall = perf_counter() - t0
        # timed_payload's (start, end, CallLoop's (calls, mismatch, run_delay, cpu))
        results: list[tuple[float, float, tuple[int, str | None, float | None, float]]] = [
            f.result() for f in futures]
        for _, _, (calls, mismatch, delay, cpu) in results:
            if delay is not None:
                self.busy[0] += delay
                self.busy[1] += cpu
            if mismatch:
                if mismatch.startswith("raised"):
                    raise FunctionFailed(f"{self.call} {mismatch}")
                self.checker.bad = self.checker.bad or mismatch
        elapsed = max(b - a for a, b, _ in results)
        self.overheads.append(max(0.0, wall - elapsed))
        return elapsed

    @property
    def pids(self) -> list:
        """The worker processes' ids (none once they are closed)."""
        return [p.pid for p in self._workers] if self.pools is not None else []

    def _hung_reason(self) -> str:
        text = f"a call in a worker process did not finish within {self.bound:.3g} s"
        if self.method == "fork":
            return text + ": is the function fork-safe? try --start-method spawn; the workers " \
                          "were killed"
        return text + "; the workers were killed"

    def _died(self, exc) -> str:
        from concurrent.futures import BrokenExecutor

        if not isinstance(exc, BrokenExecutor):
            return (f"a worker process failed outside the function ({_exc_text(exc, 160)}); "
                    f"the workers were stopped")
        how = ""
        deadline = time.monotonic() + 1.0
        while not how and time.monotonic() < deadline:
            codes = [p.exitcode for p in self._workers]
            # the first to die by itself (the pool terminates the others)
            bad = [c for c in codes if c not in (None, 0, -15, -9, 128 + 15)]
            if bad:
                how = f" ({_signal_describe(bad[0])})"
            elif all(c is not None for c in codes):
                break
            else:
                time.sleep(0.02)
        return (f"a worker process died during a call{how}: the function crashed its process "
                f"(a segfault, os._exit or abort in it or in a library it calls)")

    def _end(self, reason: str) -> float:
        self.ended = reason
        self.stop()
        self.close()
        return self.min_time

    def stop(self) -> None:
        """Stop every worker now (Ctrl-C, a failure): calls in flight are not waited for."""
        if getattr(self, "_stop", None) is not None:
            self._stop.value = 1
        if self.pools is not None:
            self.pools.kill()

    def close(self) -> None:
        if self.pools is not None:
            self.pools.close()
            self.pools = None


class CallLoop:
    """The payload of each worker process: `loops` calls, results compared there.

    Returns ``(calls, mismatch, run_delay, cpu)``: ``mismatch`` is None, or
    a text naming the first result that differs from `expected`, or the
    exception the function raised; ``run_delay`` (None off Linux) and
    ``cpu`` are the worker's seconds waiting for a CPU and on one.
    ``done`` (shared by the workers) counts the finished calls, so that the
    probing process sees a call that does not finish.
    """

    def __init__(self, fn, args, expected, impure: bool, stop, done=None):
        self.fn, self.args, self.expected, self.impure, self.stop = fn, args, expected, impure, stop
        self.done = done

    def __call__(self, loops: int):
        fn, args, done = self.fn, self.args, self.done
        d0, c0 = _machine.own_delay(), time.thread_time()

        def finish(calls, mismatch=None):
            d1 = _machine.own_delay()
            delay = None if d0 is None or d1 is None else d1 - d0
            return calls, mismatch, delay, time.thread_time() - c0

        try:
            for i in range(loops):
                r = fn(*args)
                if done is not None:
                    done.value += 1  # unlocked: any change tells the parent a call ended
                if not self.impure and not same(r, self.expected):
                    return finish(i + 1, f"returned {_short(r)} in a worker process, but "
                                         f"{_short(self.expected)} on its first call")
                if self.stop.value:
                    return finish(i + 1)
        except BaseException as exc:
            return finish(0, f"raised {_exc_text(exc)} (in a worker process)")
        return finish(loops)
