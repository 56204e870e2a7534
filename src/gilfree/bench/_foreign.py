"""Other interpreters: subinterpreters (3.14+) and ``--python PATH`` runs.

(Not named ``_interpreters``: ``_portable.py`` runs as a script from this
folder, and a module of that name here would shadow CPython's own
``_interpreters``, which the subinterpreter backport imports.)

``subinterpreters`` runs the pure-Python range loop on a
``concurrent.futures.InterpreterPoolExecutor``: one interpreter, with its own
GIL, per worker thread.  NumPy cannot be imported in a subinterpreter, so it
only runs the range workload.

``--python PATH`` runs the pure-Python rows (``python``, ``python-threads``
or ``free-threaded``, and ``subinterpreters`` on 3.13+) in another Python, for
example a free-threaded 3.13t build, Jython 2.7 or PyPy.  That Python only
needs the standard library: it runs ``_portable.py`` as a script, which prints
JSON; this module checks every returned result against the exact value and
turns the rows into report points labelled with that interpreter's version
and GIL state.

``_portable.py`` runs unchanged on Python 2.7 and 3.  CPython 3.8+ runs every
row there; other interpreters (Jython 2.7, PyPy, IronPython, CPython older
than 3.8) run its range profile (:func:`_portable.full_profile`): the range
workload as ``python``, ``python-threads``, ``python-processes`` (and, on
Jython only, a separately labelled Java ``long`` loop), each row warmed up
until its timings are stable (JIT compilers).  Every interpreter is first
probed with ``_portable.py --info``.

A ``--python`` value that is a bare command name not found on PATH (``ipy``,
``jython`` where it is not installed) is a *missing* interpreter: the bench
skips it with a line saying so (:func:`missing_reason`).  A path that does
not exist, or a program that is not a Python, is an argument error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

from . import _portable
from ._cases import Case, expected_fingerprint
from ._strategy import Bound, Strategy

__all__ = ["ForeignError", "make_strategies", "missing_reason", "probe_python", "run_foreign"]


class _Subinterpreters(Strategy):
    name = "subinterpreters"
    family = "interpreters"
    summary = "the pure-Python range loop on N subinterpreters (InterpreterPoolExecutor, 3.14+)"
    workloads = ("range",)

    def __init__(self):
        self._teams = {}

    def skip_reason(self) -> str | None:
        return _portable.subinterpreters_skip_reason()

    def case_skip_reason(self, data, workers: int) -> str | None:
        if data.workload != "range":
            return "NumPy arrays cannot be used in subinterpreters (range workload only)"
        return None

    def startup(self, workers: int) -> float | None:
        team = self._teams.get(workers)
        return None if team is None else team.startup_s

    def bind(self, data, workers: int) -> Bound:
        if workers not in self._teams:
            self._teams[workers] = _portable.InterpreterTeam(workers)
        team = self._teams[workers]
        n = data.n
        return Bound(lambda: team.range_sum(n))

    def close(self) -> None:
        teams, self._teams = self._teams, {}
        for team in teams.values():
            team.close()


def make_strategies() -> list:
    """Fresh instances of this family's strategies, in report order."""
    return [_Subinterpreters()]


class ForeignError(RuntimeError):
    """Another interpreter could not run the portable worker."""


def portable_path() -> str:
    """Path of the self-contained worker script (Python 2.7 and 3)."""
    return os.path.abspath(_portable.__file__)


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

    Runs ``_portable.py --info``, which works on Python 2.7 and 3 alike; the
    JVM start of Jython takes a few seconds.
    """
    try:
        r = subprocess.run([python, portable_path(), "--info"],
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


def run_foreign(python: str, cases, request: dict, progress=None) -> tuple:
    """Run the pure-Python rows under `python` and return verified points.

    Parameters
    ----------
    python : str
        Path of the other interpreter.
    cases : list of Case
        The cases to run (the same as the host's).
    request : dict
        The timing settings for ``_portable.run_request`` (all keys but
        ``cases``).
    progress : callable, optional
        Receives a short text for each case started.

    Returns
    -------
    info : dict
        ``_portable.interpreter_info()`` of that interpreter.
    rows : list of dict
        One per (strategy, case, workers), with ``verified`` set by
        comparing the returned result with the exact value.

    Raises
    ------
    ForeignError
        If the interpreter cannot run the worker or its output is not JSON.
    """
    req = dict(request, cases=[c.to_dict() for c in cases])
    probe_python(python)  # a clear error for a program that is not a Python
    script = portable_path()
    result = None
    # stderr goes to a file: a pipe left unread could fill up and block the
    # worker while this process waits on its stdout
    with tempfile.TemporaryFile("w+") as err:
        try:
            proc = subprocess.Popen([python, script], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=err, text=True)
        except OSError as exc:
            raise ForeignError(f"cannot run {python!r}: {exc}") from None
        assert proc.stdin is not None and proc.stdout is not None
        with proc:
            try:
                proc.stdin.write(json.dumps(req))
                proc.stdin.close()
            except BrokenPipeError:
                pass  # it died at once: its exit status and stderr say why
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a stray print from a sitecustomize, say
                if event.get("event") == "progress" and progress is not None:
                    progress(event["what"])
                elif event.get("event") == "result":
                    result = event
        err.seek(0)
        tail = "\n".join(err.read().strip().splitlines()[-3:])
    if proc.returncode != 0 or result is None:
        raise ForeignError(f"{python!r} exited with {proc.returncode}: {tail}")
    expected = {}
    for row in result["rows"]:
        if "result" in row:
            case = Case(row["workload"], row["n"], row["dtype"])
            if case not in expected:
                expected[case] = expected_fingerprint(case)
            want = expected[case]
            row["verified"] = row["result"] == want
            if not row["verified"]:
                row["error"] = f"returned {row['result']!r}, expected {want!r}"
    return result["interpreter"], result["rows"]
