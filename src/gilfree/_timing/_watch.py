"""Bounded waits on calls that run in other threads.

A function handed to a measuring tool may never return: a deadlock, a pool
whose threads do not exist after ``fork``, a server that never answers.
So the tools never call it where they would wait for it unboundedly: each
call runs in a thread (or a worker process) that counts its calls, and the
waiting thread checks, every :data:`POLL` seconds, that the count moved
within the bound.  A thread cannot be stopped from outside: one that does
not finish is left running as a daemon thread (it does not keep the
interpreter from exiting) and the wait ends with :class:`Hung`.

Standard library only, and Python 3.8 syntax (loaded by path under other
interpreters).
"""

from __future__ import annotations

import threading
import time
from typing import Callable

__all__ = ["POLL", "Hung", "call_bound", "poll", "run_bounded", "wait_threads"]

#: Seconds between two looks at the call counts.  Each look takes the GIL
#: for a few microseconds: ten per second do not show in any figure.
POLL = 0.1

#: Seconds added to the time per call before a wait gives up: thread and
#: process start-up, the barrier, scheduling delays on a loaded machine.
MARGIN = 2.0

#: Called (with no argument) on every look; the probe's script under another
#: Python sets it to tell the probing process that it is alive.
on_poll: Callable[[], object] | None = None


class Hung(Exception):
    """No call finished within `seconds` (the waiting thread's view)."""

    def __init__(self, seconds: float, where: str = ""):
        self.seconds = seconds
        self.where = where
        super().__init__(f"a call {where} did not finish within {seconds:.3g} s".replace(
            "  ", " "))


def call_bound(max_call: float, sharing: float = 1.0) -> float:
    """Seconds to wait for the next call to finish.

    Parameters
    ----------
    max_call : float
        The longest call allowed (``--max-call``).
    sharing : float, optional
        How many calls share one CPU or the GIL at once: N threads of a
        function that holds the GIL each take about N times longer.
    """
    return max_call * max(1.0, sharing) + MARGIN


def poll() -> None:
    """Call :data:`on_poll`, if set: every wait does at each look."""
    hook = on_poll
    if hook is not None:
        hook()


def wait_threads(threads, counts, bound: float, where: str = "") -> None:
    """Join `threads` while ``sum(counts)`` keeps moving.

    Parameters
    ----------
    threads : list of threading.Thread
        Started threads.
    counts : list of int
        Calls finished so far, one slot per thread (each thread adds to its
        own slot: no lock, no lost count).
    bound : float
        Seconds without a finished call after which the wait ends.
    where : str, optional
        Where the calls run, for the message.

    Raises
    ------
    Hung
        If no call finished for `bound` seconds while a thread still ran;
        the threads are left running (daemon threads).
    """
    last, since = sum(counts), time.monotonic()
    for th in threads:
        while True:
            th.join(POLL)
            if not th.is_alive():
                break
            poll()
            now, seen = time.monotonic(), sum(counts)
            if seen != last:
                last, since = seen, now
            elif now - since > bound:
                raise Hung(bound, where)


def run_bounded(job, bound: float, counts=None, where: str = "", name: str = "gilfree-call"):
    """``job()`` in a daemon thread, waited for while its calls progress.

    Parameters
    ----------
    job : callable
        What to run; it adds 1 to ``counts[0]`` after each call it makes.
    bound : float
        Seconds without a finished call (or, with no `counts`, in all)
        after which the wait ends.
    counts : list of int, optional
        The job's call count (one slot).
    where, name : str, optional
        For the message, and the thread's name.

    Returns
    -------
    object
        What `job` returned.

    Raises
    ------
    Hung
        If `job` made no progress for `bound` seconds (it keeps running,
        as a daemon thread).
    BaseException
        What `job` raised, re-raised here.
    """
    counts = [0] if counts is None else counts
    box = {}

    def run():
        try:
            box["value"] = job()
        except BaseException as exc:  # re-raised in the waiting thread
            box["error"] = exc

    th = threading.Thread(target=run, name=name, daemon=True)
    th.start()
    wait_threads([th], counts, bound, where)
    if "error" in box:
        exc = box.pop("error")
        try:
            raise exc
        finally:
            del exc
    return box.get("value")
