"""Other interpreters: subinterpreters (3.14+) and ``--python PATH`` runs.

``subinterpreters`` runs the pure-Python range loop on a
``concurrent.futures.InterpreterPoolExecutor``: one interpreter, with its own
GIL, per worker thread.  NumPy cannot be imported in a subinterpreter, so it
only runs the range workload.

``--python PATH`` runs the pure-Python rows (``python``, ``python-threads``
or ``free-threaded``, and ``subinterpreters`` on 3.14+) in another Python, for
example a free-threaded 3.13t build.  That Python only needs the standard
library: it runs ``_portable.py`` as a script, which prints JSON; this module
checks every returned result against the exact value and turns the rows
into report points labelled with that interpreter's version and GIL state.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

from . import _portable
from ._cases import Case, expected_fingerprint
from ._strategy import Bound, Strategy

__all__ = ["ForeignError", "make_strategies", "probe_python", "run_foreign"]


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
    """Path of the self-contained worker script."""
    return os.path.abspath(_portable.__file__)


def probe_python(python: str) -> dict:
    """Check that `python` runs and describe it (raises :class:`ForeignError`)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import _portable; "
            "print(json.dumps(_portable.interpreter_info()))")
    try:
        r = subprocess.run([python, "-c", code, os.path.dirname(portable_path())],
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ForeignError(f"cannot run {python!r}: {exc}") from None
    if r.returncode != 0:
        raise ForeignError(f"{python!r} failed: {r.stderr.strip().splitlines()[-1:]}")
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ForeignError(f"{python!r} printed no interpreter description") from None


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
    result = None
    # stderr goes to a file: a pipe left unread could fill up and block the
    # worker while this process waits on its stdout
    with tempfile.TemporaryFile("w+") as err:
        try:
            proc = subprocess.Popen([python, portable_path()], stdin=subprocess.PIPE,
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
