"""The interface every strategy implements, and the three shapes most share.

A strategy is a way a Python programmer could run the workloads: a pure-Python
loop, threads, processes, NumPy, gilfree...  The engine only talks to this
interface:

- :meth:`Strategy.skip_reason`: None, or why this machine/build cannot run it;
- :meth:`Strategy.case_skip_reason`: the same for one case and worker count;
- :meth:`Strategy.bind`: a :class:`Bound` call that does the whole (possibly
  parallel) work once and returns the result, checked before timing;
- :meth:`Strategy.close`: release pools and processes.

Most strategies are one of three shapes, so a family module only supplies the
per-workload kernels:

- :class:`SerialStrategy`: one share kernel on the whole input, one thread;
- :class:`ThreadsStrategy`: the input split into N shares, one plain
  ``threading.Thread`` each (:func:`_worker.run_in_threads`);
- :class:`CallStrategy`: one library call that takes a worker count.

Share kernels have the signature ``kernel(data, start, stop) -> partial``
(``data`` is a :class:`~gilfree.bench._cases.CaseData`); partials are merged
by :func:`_worker.combine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from .._timing import _worker

__all__ = ["Bound", "CallStrategy", "SerialStrategy", "Strategy", "ThreadsStrategy"]


@dataclass
class Bound:
    """A strategy ready to run one case with a fixed number of workers.

    Parameters
    ----------
    call : callable
        Runs the whole work once, returns the result (None for map).
    timed : callable, optional
        ``timed(loops) -> seconds`` for `loops` calls.  Defaults to the
        wall-clock of `loops` calls of `call` on the calling thread; the
        ceiling strategy times inside its worker processes instead.
    modulus : int, optional
        The result is only defined modulo this (int64 wrap-around).
    note : str, optional
        A caveat shown with the row.
    """

    call: Callable[[], object]
    timed: Callable[[int], float] | None = None
    modulus: int | None = None
    note: str | None = None

    def time(self, loops: int) -> float:
        if self.timed is not None:
            return self.timed(loops)
        return _worker.time_calls(self.call, loops)


class Strategy:
    """Base class: a named way of running the workloads.

    Class attributes
    ----------------
    name : str
        The name used on the command line and in the report.
    family : str
        The module/family it belongs to (python, numpy, gilfree, ...).
    summary : str
        One line for ``gilfree bench --list`` and the docs.
    workloads : tuple of str
        The workloads it can run.
    parallel : bool
        False for one-thread strategies: they only run with 1 worker.
    needs_shared_memory : bool
        True if it sends arrays to other processes.
    """

    name = ""
    family = ""
    summary = ""
    workloads: tuple = ("range", "map", "reduce")
    parallel = True
    needs_shared_memory = False

    def skip_reason(self) -> str | None:
        """None if it can run here, else why not (e.g. a missing package)."""
        return None

    def case_skip_reason(self, data, workers: int) -> str | None:
        """None if it can run this case with `workers`, else why not."""
        if data.workload not in self.workloads:
            return f"{self.name} does not run the {data.workload} workload"
        return None

    def startup(self, workers: int) -> float | None:
        """Seconds spent starting a pool for `workers`, if it has one."""
        return None

    def bind(self, data, workers: int) -> Bound:
        """Prepare the call on `data` with `workers` (outside any timing)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release pools, processes and other resources."""

    def __repr__(self) -> str:
        return f"<strategy {self.name}>"


class _KernelStrategy(Strategy):
    """A strategy defined by share kernels, one per workload."""

    def __init__(self, name: str, family: str, summary: str,
                 kernels: Mapping[str, Callable], notes: Mapping[str, str] | None = None,
                 moduli: Mapping[str, int] | None = None):
        self.name = name
        self.family = family
        self.summary = summary
        self.kernels = dict(kernels)
        self.workloads = tuple(k for k in ("range", "map", "reduce") if k in self.kernels)
        self.notes = dict(notes or {})
        self.moduli = dict(moduli or {})

    def _bound(self, data, call) -> Bound:
        return Bound(call, modulus=self.moduli.get(data.workload),
                     note=self.notes.get(data.workload))


class SerialStrategy(_KernelStrategy):
    """The kernel on the whole input, on the calling thread (1 worker)."""

    parallel = False

    def bind(self, data, workers: int) -> Bound:
        fn = self.kernels[data.workload]
        n, workload = data.n, data.workload
        return self._bound(data, lambda: _worker.combine(workload, [fn(data, 0, n)]))


class ThreadsStrategy(_KernelStrategy):
    """The input split into `workers` shares, one ``threading.Thread`` each."""

    def bind(self, data, workers: int) -> Bound:
        fn = self.kernels[data.workload]
        bounds = _worker.shares(data.n, workers)
        workload = data.workload
        return self._bound(
            data, lambda: _worker.combine(workload, _worker.run_in_threads(fn, data, bounds)))


class CallStrategy(_KernelStrategy):
    """One library call per run that takes the worker count itself.

    Here the per-workload functions are whole calls ``fn(data, workers)``,
    not share kernels.
    """

    def bind(self, data, workers: int) -> Bound:
        fn = self.kernels[data.workload]
        return self._bound(data, lambda: fn(data, workers))
