"""The probe under another interpreter (``--python PATH``): check that it can
run the probe, run the probe's measuring script (:mod:`._measure`) there,
every wait bounded, and read back its figures or why there are none.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time

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

    The interpreter runs the probe's measuring script, which bounds its own
    calls and sends an "alive" line at least every half second while it
    measures; one that sends nothing for ``--max-call`` plus
    :data:`FOREIGN_MARGIN` seconds (a call that holds its GIL for good, an
    import that never ends) is killed with its worker processes, and its
    entry says so.
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
    lines: queue.Queue = queue.Queue()
    killed = None
    with tempfile.TemporaryFile("w+") as err, subprocess.Popen(
            [python, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
            text=True, start_new_session=True) as proc:  # `with`: pipes closed on every path

        def kill_group(sig):
            try:  # its own session: the interpreter and its worker processes
                os.killpg(proc.pid, sig)
            except OSError:
                pass

        def feed():
            try:
                proc.stdin.write(json.dumps(req))
                proc.stdin.close()
            except OSError:  # it ended before reading: its exit status says why
                pass

        def read():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        readers = [threading.Thread(target=f, daemon=True) for f in (feed, read)]
        for th in readers:
            th.start()
        out = []
        try:
            last = time.monotonic()
            while True:
                try:
                    line = lines.get(timeout=0.1)
                except queue.Empty:
                    if time.monotonic() - last > bound:
                        killed = bound
                        kill_group(signal.SIGKILL)
                        break
                    continue
                if line is None:
                    break
                last = time.monotonic()
                out.append(line)
            proc.wait()
        except BaseException:  # Ctrl-C: end it (it stops its threads and workers)
            proc.terminate()
            try:
                proc.wait(2)
            except subprocess.TimeoutExpired:
                pass
            kill_group(signal.SIGKILL)
            proc.wait()
            raise
        finally:
            if killed is None:
                kill_group(signal.SIGKILL)  # worker processes it may have left behind
        err.seek(0)
        tail = " | ".join(err.read().strip().splitlines()[-2:])
    if killed is not None:
        entry["not_run"] = (f"{python} gave no sign of progress for {killed:.3g} s (--max-call "
                            f"plus {FOREIGN_MARGIN:g} s): a call or the import of the module "
                            f"did not finish there; it was killed")
        entry["incomplete"] = [entry["not_run"]]
        return entry
    event = None
    for line in out:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict) and e.get("event") in ("result", "error"):
            event = e
    if proc.returncode != 0 or not isinstance(event, dict):
        entry["not_run"] = f"{python} exited with {proc.returncode}: {tail or 'no output'}"
    elif event.get("event") == "error":
        key = "error" if event.get("kind") == "function" else "not_run"
        entry[key] = event["message"]
    else:
        entry.update(derive(event["result"]))
    return entry
