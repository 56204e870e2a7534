"""The probe under another interpreter (``--python PATH``): check that it can
run the probe, run the probe's measuring script (:mod:`._measure`) there,
every wait bounded, and read back its figures or why there are none.
"""

from __future__ import annotations

import os

from .._timing import _client, _worker
from .._timing._machine import usable_cpus
from ._measure import derive
from ._settings import Settings
from ._target import ProbeUsageError


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
    JSON line each way); the script bounds its own calls and sends an
    "alive" line at least every half second while it measures; one that
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
    req = {"target": target, "args": args_text, "paths": list(paths),
           "settings": settings.to_dict(), "usable_cpus": usable_cpus()}
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_measure.py")
    bound = settings.max_call + FOREIGN_MARGIN
    try:
        with _client.Worker([python, script], bound=bound) as worker:
            event = worker.ask("measure", **req)
    except _client.Silent:
        entry["not_run"] = (f"{python} gave no sign of progress for {bound:.3g} s (--max-call "
                            f"plus {FOREIGN_MARGIN:g} s): a call or the import of the module "
                            f"did not finish there; it was killed")
        entry["incomplete"] = [entry["not_run"]]
        return entry
    except _client.ForeignError as exc:
        entry["not_run"] = str(exc)
        return entry
    if event.get("event") == "error":
        entry["error" if event.get("kind") == "function" else "not_run"] = event["message"]
    else:
        entry.update(derive(event["result"]))
    return entry
