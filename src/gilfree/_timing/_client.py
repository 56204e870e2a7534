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
import shutil
import subprocess
import tempfile
from typing import Callable, Sequence

from . import _loop, _worker

__all__ = ["ForeignError", "Worker", "missing_reason", "probe_python", "run_rows",
           "worker_path"]


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


def probe_python(python: str) -> dict:
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
        raise ForeignError(f"{python!r} exited with {r.returncode} when probed (is it a "
                           f"Python?): {r.stderr.strip().splitlines()[-1:]}")
    try:
        info = json.loads(r.stdout.strip().splitlines()[-1])
        info["version"]  # noqa: B018 - a KeyError means it is not our JSON
        return info
    except (ValueError, IndexError, KeyError, TypeError):
        raise ForeignError(f"{python!r} printed no interpreter description: "
                           f"is it a Python?") from None


class Worker:
    """A running worker (``argv``: the interpreter and the script), asked one
    JSON line at a time; ``info`` and ``full`` come from its first line."""

    def __init__(self, argv: Sequence[str]):
        self.name = argv[0]
        # stderr goes to a file: a pipe left unread could fill up and block
        # the worker while this process waits on its stdout
        self._err = tempfile.TemporaryFile("w+")
        try:
            self.proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=self._err, text=True)
        except OSError as exc:
            self._err.close()
            raise ForeignError(f"cannot run {self.name!r}: {exc}") from None
        try:
            hello = self._read()
        except BaseException:
            self.close()
            raise
        self.info: dict = hello["interpreter"]
        self.full: bool = hello["full"]

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                return json.loads(line)
            except ValueError:
                continue  # a stray print from a sitecustomize, say
        self.proc.wait()
        self._err.seek(0)
        tail = "\n".join(self._err.read().strip().splitlines()[-3:])
        raise ForeignError(f"{self.name!r} exited with {self.proc.returncode}: {tail}")

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

    def close(self) -> None:
        try:
            if self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.write('{"op": "end"}\n')
                self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self._err.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
            plan = w.ask("case", case=c, workers=list(req["workers"]))["rows"]
            items = []
            for k, (name, workers, skip) in enumerate(plan):
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
