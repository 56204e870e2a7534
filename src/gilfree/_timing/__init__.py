"""The measuring core shared by the bench, the probe and the performance goals.

One way to time code, in pyperf's split: the host decides, the worker runs.

- :mod:`._machine`: the one reading of the machine (usable CPUs by
  ``gilfree.cpu_count()``'s rule, who is runnable, scheduler run delays);
- :mod:`._loop`: settle, calibrate, warm up, the row runner
  (:func:`measure_interleaved`), the summary (median and quartiles), the
  budget per call, the heartbeat and :data:`HELPS`;
- :mod:`._worker`: the thin worker, the only Python 2.7-compatible file: the
  pure-Python rows and "run row k L times" / "beat for d seconds", in this
  process, in subinterpreters or under another interpreter;
- :mod:`._client`: the host side of the worker protocol;
- :mod:`._files` (checked paths, atomic writes), :mod:`._results`
  (comparing results, their deep size), :mod:`._watch` (bounded waits on a
  call), :mod:`._cli` (the option types and interrupt handling both
  commands share).

``_machine``, ``_loop``, ``_worker``, ``_results`` and ``_watch`` use the
standard library only: the probe loads them by file path under other
interpreters.
"""

from ._loop import (HELPS, Budget, calibrate, heartbeat, measure_interleaved, median, settle,
                    summarize, time_calls, warm_up)
from ._machine import usable_cpus

__all__ = ["HELPS", "Budget", "calibrate", "heartbeat", "measure_interleaved", "median",
           "settle", "summarize", "time_calls", "usable_cpus", "warm_up"]
