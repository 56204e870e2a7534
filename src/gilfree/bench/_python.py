"""Pure-Python strategies: the seed's loop on one thread, and on N threads.

The kernels are the plain loops of :mod:`gilfree._timing._worker`, shared
with the process, subinterpreter and ``--python`` runs so every pure-Python
row does exactly the same work.
"""

from __future__ import annotations

import platform
import sys

from .._timing import _worker
from ._strategy import SerialStrategy, ThreadsStrategy

__all__ = ["make_strategies"]


def gil_enabled() -> bool:
    """False only on a free-threaded build running without the GIL."""
    return bool(getattr(sys, "_is_gil_enabled", lambda: True)())


class _PythonThreads(ThreadsStrategy):
    """``python-threads`` under the GIL, ``free-threaded`` without it.

    Both names run the same code; which one reports depends on whether this
    interpreter has a GIL, so a report never shows the same rows twice.
    """

    def __init__(self, name: str, summary: str, wants_gil: bool):
        super().__init__(name, "python", summary, _worker.PY_KERNELS)
        self.wants_gil = wants_gil

    def skip_reason(self) -> str | None:
        if self.wants_gil and not gil_enabled():
            return "the GIL is disabled in this interpreter: see the free-threaded rows"
        if not self.wants_gil and gil_enabled():
            return (f"this interpreter has the GIL (Python {platform.python_version()}); "
                    f"add rows from a free-threaded build with --python /path/to/python3.13t")
        return None


def make_strategies() -> list:
    """Fresh instances of this family's strategies, in report order."""
    return [
        SerialStrategy("python", "python",
                       "the pure-Python loop on one thread (the baseline)",
                       _worker.PY_KERNELS),
        _PythonThreads("python-threads",
                       "the pure-Python loop split over N threading.Threads", wants_gil=True),
        _PythonThreads("free-threaded",
                       "the pure-Python threads, on an interpreter without the GIL",
                       wants_gil=False),
    ]
