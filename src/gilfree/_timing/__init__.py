"""The measuring core of the bench, the probe and the performance goals.

One way to time code, split as pyperf splits it: the host decides
(:mod:`._loop`: settle, calibrate, warm up, the row runner, the summary, the
heartbeat, ``HELPS``; :mod:`._machine`: the one reading of the machine;
:mod:`._client`: the host side of the worker protocol), the worker runs
(:mod:`._worker`, the only Python 2.7-compatible file).  Beside them:
checked paths and atomic writes (:mod:`._files`), result equality and deep
size (:mod:`._results`), bounded waits (:mod:`._watch`), the shared option
types (:mod:`._cli`).  All but ``_client``, ``_files`` and ``_cli`` use the
standard library only: the probe loads them by path under other interpreters.

This package's ``__all__`` is the measuring core's interface to the scripts
outside the package (``perf/goals.py``, ``perf/experiments/``): they
import ``gilfree._timing`` and these names only, never its modules.
"""

from ._loop import HELPS, calibrate, measure_interleaved, median, settle, time_calls
from ._machine import cpu_model, cpu_ticks, usable_cpus

__all__ = ["HELPS", "calibrate", "cpu_model", "cpu_ticks", "measure_interleaved", "median",
           "settle", "time_calls", "usable_cpus"]
