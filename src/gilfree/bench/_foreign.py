"""Other interpreters: subinterpreters (3.13+) and ``--python PATH`` runs.

``subinterpreters`` runs the pure-Python range loop on N subinterpreters,
each with its own GIL (:class:`gilfree._timing._worker.InterpreterTeam`; no
NumPy there, so the range workload only).  ``--python PATH`` runs the
pure-Python rows in another Python (3.13t, Jython 2.7, PyPy) through the thin
worker, driven and timed from this process
(:func:`gilfree._timing._client.run_rows`); here every returned result is
checked against the exact value, and the rows are labelled with that
interpreter's version and GIL state.
"""

from __future__ import annotations

from .._timing import _client, _worker
from .._timing._client import ForeignError, missing_reason, describe_python
from ._cases import Case, expected_fingerprint
from ._strategy import Bound, Strategy

__all__ = ["ForeignError", "make_strategies", "missing_reason", "describe_python", "run_foreign"]


class _Subinterpreters(Strategy):
    name = "subinterpreters"
    family = "interpreters"
    summary = "the pure-Python range loop on N subinterpreters (InterpreterPoolExecutor, 3.14+)"
    workloads = ("range",)

    def __init__(self):
        self._teams = {}

    def skip_reason(self) -> str | None:
        return _worker.subinterpreters_skip_reason()

    def case_skip_reason(self, data, workers: int) -> str | None:
        if data.workload != "range":
            return "NumPy arrays cannot be used in subinterpreters (range workload only)"
        return None

    def startup(self, workers: int) -> float | None:
        team = self._teams.get(workers)
        return None if team is None else team.startup_s

    def bind(self, data, workers: int) -> Bound:
        if workers not in self._teams:
            self._teams[workers] = _worker.InterpreterTeam(workers)
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


def run_foreign(python: str, cases, request: dict, progress=None) -> tuple:
    """Run the pure-Python rows of `cases` under `python`
    (:func:`gilfree._timing._client.run_rows` with the settings `request`)
    and return ``(interpreter description, rows)``, each row's ``verified``
    set by comparing its result with the exact value.  Raises
    :class:`ForeignError` if the interpreter cannot run the worker.
    """
    describe_python(python)  # a clear error for a program that is not a Python
    result = _client.run_rows([python, _client.worker_path()], [c.to_dict() for c in cases],
                              request, progress)
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
