"""The host side of the worker protocol (``gilfree bench --python PATH``).

The worker (:mod:`._worker`) runs under the other interpreter and answers
one JSON line per request: the rows of a case, one checked call, "run row k
L times", "beat for d seconds".  Everything else (the budget, the warm-up
for JIT compilers, settle, calibration, interleaving, statistics) is this
process's, the same code as for the rows it runs itself (:mod:`._loop`).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import Callable, Sequence

from . import _loop, _worker

__all__ = ["ForeignError", "Silent", "Worker", "missing_reason", "plan", "describe_python",
           "run_rows", "worker_path"]


class ForeignError(RuntimeError):
    """Another interpreter could not run the worker."""


def worker_path() -> str:
    """Path of the self-contained worker script (Python 2.7 and 3)."""
    return os.path.abspath(_worker.__file__)


def missing_reason(python: str) -> str | None:
    """Why `python` is a missing interpreter (a bare name not on PATH), or None.

    Explicit paths (with a directory part) are never "missing": a wrong path
    is a usage error, reported by the command line with exit status 2.
    """
    if os.path.dirname(python) or os.path.exists(python) or shutil.which(python):
        return None
    hint = ""
    if python.lower().startswith("ipy"):
        hint = ("; IronPython 2.7/3.4 runs on .NET/Mono and is not packaged for "
                "Debian 12: install it from ironpython.net, then pass --python ipy (or ipy64)")
    return f"not installed here (no {python!r} on PATH){hint}"


def describe_python(python: str) -> dict:
    """Check that `python` runs and describe it (raises :class:`ForeignError`).

    Runs the worker with ``--info``, which works on Python 2.7 and 3 alike;
    the JVM start of Jython takes a few seconds.
    """
    try:
        r = subprocess.run([python, worker_path(), "--info"],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ForeignError(f"cannot run {python!r}: {exc}") from None
    if r.returncode != 0:
        raise ForeignError(f"{python!r} exited with {r.returncode} when asked to describe itself (is it a "
                           f"Python?): {r.stderr.strip().splitlines()[-1:]}")
    try:
        info = json.loads(r.stdout.strip().splitlines()[-1])
        info["version"]  # noqa: B018 - a KeyError means it is not our JSON
        return info
    except (ValueError, IndexError, KeyError, TypeError):
        raise ForeignError(f"{python!r} printed no interpreter description: "
                           f"is it a Python?") from None


class Silent(ForeignError):
    """A worker sent nothing for longer than its bound; it was killed."""


class Worker:
    """A running worker (``argv``: the interpreter and the script), asked one
    JSON line at a time; ``info`` and ``full`` come from its first line.

    It runs in a session of its own, so that ending it ends the worker
    processes it started too.  With a `bound`, an answer may keep the host
    waiting that many seconds without a line (``{"event": "alive"}`` lines
    count, and are skipped): a worker silent for longer is killed and
    :class:`Silent` raised.  Leaving the ``with`` block on an exception
    (Ctrl-C) ends it at once.
    """

    def __init__(self, argv: Sequence[str], bound: float | None = None):
        self.name, self.bound = argv[0], bound
        # stderr goes to a file: a pipe left unread could fill up and block
        # the worker while this process waits on its stdout
        self._err = tempfile.TemporaryFile("w+")
        try:
            self.proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=self._err, text=True,
                                         start_new_session=True)
        except OSError as exc:
            self._err.close()
            raise ForeignError(f"cannot run {self.name!r}: {exc}") from None
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True, name="gilfree-worker-reader").start()
        try:
            hello = self._read()
        except BaseException:
            self.close(now=True)
            raise
        self.info: dict = hello["interpreter"]
        self.full: bool = hello["full"]
        self.hello = hello

    def _pump(self) -> None:
        try:
            for line in self.proc.stdout:  # type: ignore[union-attr]
                self._lines.put(line)
        except (OSError, ValueError):  # closed by close()
            pass
        self._lines.put(None)

    def _read(self) -> dict:
        last = time.monotonic()
        while True:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                if self.bound is not None and time.monotonic() - last > self.bound:
                    self._kill()
                    raise Silent(f"{self.name!r} sent nothing for {self.bound:.3g} s") from None
                continue
            if line is None:
                break
            last = time.monotonic()
            try:
                answer = json.loads(line)
            except ValueError:
                continue  # a stray print from a sitecustomize, say
            if not (isinstance(answer, dict) and answer.get("event") == "alive"):
                return answer
        self.proc.wait()
        self._err.seek(0)
        tail = " | ".join(self._err.read().strip().splitlines()[-3:])
        raise ForeignError(f"{self.name} exited with {self.proc.returncode}: "
                           f"{tail or 'no output'}")

    def ask(self, op: str, **fields) -> dict:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(dict(fields, op=op)) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it died: _read says how
        return self._read()

    def timer(self, row: int) -> Callable[[int], float]:
        """``timer(loops) -> seconds`` of row `row` of the current case."""
        return lambda loops: self.ask("time", row=row, loops=loops)["seconds"]

    def _kill(self) -> None:
        """SIGKILL to its session: the worker and the processes it started."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass

    def close(self, now: bool = False) -> None:
        """Ask it to end (`now`: terminate it), then end what is left of its session."""
        try:
            if now:
                self.proc.terminate()
                self.proc.wait(2)
            elif self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.write('{"op": "end"}\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            self._kill()
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout, self._err):
                try:
                    if f is not None:
                        f.close()
                except OSError:
                    pass

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, typ, *exc) -> None:
        self.close(now=typ is not None)


#: Why the range profile skips the array workloads.
RANGE_ONLY = "this interpreter runs the range workload only (the Python 2.7-compatible worker)"


def plan(case: dict, workers: Sequence[int], hello: dict) -> list:
    """The ``[strategy, workers, skip reason or None]`` rows of one case for
    the worker that said `hello` (its first line)."""
    range_case = case["workload"] == "range"
    if hello["full"]:
        threads = "python-threads" if hello["interpreter"]["gil_enabled"] else "free-threaded"
        rows = [("python", 1)] + [(threads, w) for w in workers]
        if range_case:
            rows += [("python-processes", w) for w in workers]
            if hello.get("subinterpreters") is None:
                rows += [("subinterpreters", w) for w in workers]
        return [[name, w, None] for name, w in rows]
    rows = [("python", 1)] + [("python-threads", w) for w in workers]
    rows += [("python-processes", w) for w in workers]
    if hello.get("java"):
        rows += [(_worker.JAVA_LABEL, w) for w in sorted({1, *workers})]
    if not range_case:
        return [[name, w, RANGE_ONLY] for name, w in rows]
    return [[name, w, hello.get("processes") if name == "python-processes" else None]
            for name, w in rows]


def run_rows(argv: Sequence[str], cases: Sequence[dict], req: dict,
             progress: Callable[[str], object] | None = None) -> dict:
    """Measure the pure-Python rows of every `cases` (``{"workload", "n",
    "dtype"}`` each) in a worker started as `argv` (the interpreter and
    :func:`worker_path`).

    `req` has ``workers``, ``repeats``, ``warmup``, ``min_time``,
    ``max_call``, ``heartbeat`` (seconds, 0: none), ``heartbeat_workers`` and
    ``heartbeat_series`` (``[workload, dtype]`` pairs, each probed at its
    largest size within the budget).  Returns ``interpreter`` and ``rows``:
    ``strategy``, ``workload``, ``n``, ``dtype``, ``workers``, and either
    ``values``/``loops``/``result`` (unchecked; map: a CRC-32 of ``out``) or
    ``skipped``/``error``; the range profile adds ``warmup_values``.
    """
    budget = _loop.Budget(req["max_call"])
    sizes = _loop.series_sizes(cases)
    probe = {tuple(s) for s in req.get("heartbeat_series", [])}
    rows: list = []
    with Worker(argv) as w:
        for c in cases:
            if progress is not None:
                progress(f"{c['workload']} {c['dtype'] or ''} n={c['n']}")
            rows_c = plan(c, list(req["workers"]), w.hello)
            runs = any(skip is None for _, _, skip in rows_c)  # else: no data to make
            w.ask("case", case=c, rows=[[name, n] for name, n, _ in rows_c] if runs else [])
            items = []
            for k, (name, workers, skip) in enumerate(rows_c):
                row = {"strategy": name, "workload": c["workload"], "n": c["n"],
                       "dtype": c["dtype"], "workers": workers}
                rows.append(row)
                key = (name, workers, c["workload"], c["dtype"])
                row["skipped"] = skip or budget.skip_reason(key, c["n"])
                if row["skipped"]:
                    continue
                got = w.ask("check", row=k)
                if "error" in got:
                    row["error"] = got["error"]
                    continue
                budget.record(key, c["n"], got["seconds"])
                row["result"] = got["result"]
                row["skipped"] = budget.skip_reason(key, c["n"])
                if row["skipped"]:
                    continue
                if not w.full:
                    row["warmup_values"] = _loop.warm_up(None, got["seconds"],
                                                         req.get("warmup", 1), w.timer(k))
                items.append((row, k, key))
            if items:
                # the range profile warmed each row up already
                loops, values = _loop.measure_interleaved(
                    [w.timer(k) for _, k, _ in items], repeats=req["repeats"],
                    warmup=req["warmup"] if w.full else 0, min_time=req["min_time"],
                    primed=True)
                for (row, _, key), lp, vals in zip(items, loops, values):
                    row["loops"] = lp
                    row["values"] = vals
                    budget.record(key, c["n"], _loop.median(vals))
            if not w.full or not req.get("heartbeat") or (c["workload"], c["dtype"]) not in probe:
                continue  # the range profile runs no heartbeat
            for row, k, key in items:
                if row["workers"] == (1 if row["strategy"] == "python"
                                      else req["heartbeat_workers"]) \
                        and _loop.is_last_size(budget, key, c["n"], sizes[(c["workload"],
                                                                           c["dtype"])]):
                    raw = w.ask("beat", row=k, duration=req["heartbeat"])
                    row["heartbeat"] = _loop.lateness_summary(raw["late"], raw["seconds"],
                                                              raw["calls"])
        return {"interpreter": w.info, "rows": rows}
