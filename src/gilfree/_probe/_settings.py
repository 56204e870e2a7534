"""How one probe measures: :class:`Settings`, checked on creation, and the
start method of its worker processes (standard library only: the probe's
script loads it by path under another Python).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

if __package__:
    from .._timing._loop import Timing
    from .._timing._machine import usable_cpus
    from ._target import ProbeUsageError
else:  # loaded by path by the script _measure.py, after the modules it needs
    from _gilfree_loop import Timing  # type: ignore[import-not-found,no-redef]
    from _gilfree_machine import usable_cpus  # type: ignore[import-not-found,no-redef]
    from _gilfree_target import ProbeUsageError  # type: ignore[import-not-found,no-redef]

#: Start methods of the worker processes that ``start_method=`` accepts.
START_METHODS = ("fork", "spawn", "forkserver")


@dataclass
class Settings(Timing):
    """How one probe measures (all times in seconds); checked on creation.

    The timing fields are the measuring core's (:class:`Timing`); the probe
    adds N (``workers``, default: the usable CPUs), ``impure``,
    ``processes``, the ``heartbeat`` and ``settle`` seconds and the
    ``start_method``.
    """

    min_time: float = 0.05
    max_call: float = 10.0
    workers: int = None  # type: ignore[assignment]
    impure: bool = False
    processes: bool = True
    heartbeat: float = 0.3
    settle: float = 0.02
    start_method: str | None = None

    def __post_init__(self) -> None:
        if self.workers is None:
            self.workers = usable_cpus()
        self.impure, self.processes = bool(self.impure), bool(self.processes)
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) \
                or self.workers < 1:
            raise ProbeUsageError(f"`workers` must be an integer >= 1, got {self.workers!r}")
        self.check_timing(ProbeUsageError)
        for k in ("heartbeat", "settle"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise ProbeUsageError(f"`{k}` must be a number of seconds >= 0, got {v!r}")
        if self.start_method is not None:
            import multiprocessing

            if self.start_method not in START_METHODS:
                raise ProbeUsageError(f"`start_method` must be one of {', '.join(START_METHODS)}"
                                      f", got {self.start_method!r}")
            have = multiprocessing.get_all_start_methods()
            if self.start_method not in have:
                raise ProbeUsageError(f"start method {self.start_method!r} is not available "
                                      f"here (this platform has {', '.join(have)})")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("workers", "impure", "processes", "max_call",
                                              "min_time", "repeats", "warmup", "heartbeat",
                                              "settle", "start_method")}


def start_method() -> str:
    """``fork`` where it is available and the platform's usual choice, else ``spawn``.

    macOS has ``fork`` but its system libraries are not fork-safe (CPython
    defaults to ``spawn`` there since 3.8).
    """
    import multiprocessing

    if sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"
