"""The probe under another interpreter (``--python PATH``): check that it can
run the probe, run the probe's measuring script (:mod:`._measure`) there,
every wait bounded, and read back its figures or why there are none.
"""

from __future__ import annotations

import os

from .._timing import _client, _watch, _worker
from .._timing._machine import usable_cpus
from ._measure import STEPS, run_steps
from ._settings import Settings
from ._target import FunctionFailed, ProbeUsageError

#: The measuring script another interpreter runs.
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_measure.py")


def check_python(python: str):
    """Why `python` cannot run the probe (a text), or None; raises ProbeUsageError
    for a path that is not a runnable Python."""
    why = _client.missing_reason(python)
    if why:
        return why
    try:
        info = _client.probe_python(python)
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
        self.worker, self.out = worker, {}

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
