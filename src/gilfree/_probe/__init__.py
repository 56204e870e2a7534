"""``gilfree.probe``: will threads help *your* function?

The bench answers "threads, processes or GIL-free C?" for gilfree's own
workloads; the probe answers it for any function, with the bench's machinery
(calibrated interleaved timing, plain threads, processes released together by
a barrier, the GIL heartbeat, other interpreters).  The measurements are in
:mod:`gilfree._probe._measure` (standard library only, so they also run
under another Python), the order of their steps, here and under ``python=``
interpreters, in :mod:`._host`; the verdict, a pure function of the result,
in :mod:`._verdict`; the report blocks in :mod:`._report`.  This module holds
the public call, the result and its files (text, JSON, HTML).
"""

from __future__ import annotations

import html
import importlib
import io
import json
import math
import os
import sys

from .._timing import _files
from .._timing._loop import HELPS  # noqa: F401  (the probe's mark, read by its tests)
from ..bench import fmt_time, html_fragment, html_page, print_blocks
from ._host import measure, run_foreign
from ._measure import FunctionFailed, ProbeUsageError, Settings, parse_args
from ._report import machine_line, report_blocks, text_blocks
from ._verdict import _busy, classify, verdict  # noqa: F401  (_busy: the tests')
from ._verdict import timeline_sentence as _timeline_sentence  # noqa: F401  (the tests')

__all__ = ["FunctionFailed", "ProbeResult", "ProbeUsageError", "classify", "probe", "verdict"]

#: Version tag of the JSON layout; bump it when a field changes meaning.
SCHEMA = "gilfree-probe/1"

def probe(fn, *args, workers=None, processes=True, impure=False, max_call=10.0, python=(),
          min_time=0.05, repeats=5, warmup=1, heartbeat=0.3, start_method=None,
          progress=None) -> ProbeResult:
    """Measure whether threads, processes or another Python would speed up ``fn(*args)``.

    Every call's result is compared with the first call's (unless `impure`);
    then one call is timed on one thread, N calls at once on N threads and on
    N worker processes, and the share of a call that holds the GIL is
    measured with a heartbeat thread and cross-checked against the thread
    speedup (Amdahl's law).

    Parameters
    ----------
    fn : callable
        The function to probe; keyword arguments can be bound with
        ``functools.partial``.
    *args
        Its positional arguments.
    workers : int, optional
        N, the threads and processes that call `fn` at once (default: the
        CPUs this process may use).
    processes : bool, optional
        Also measure N worker processes (``fork`` where available, else
        ``spawn``, which needs `fn` and `args` to be picklable).
    impure : bool, optional
        Results may differ between calls: do not compare them.
    max_call : float, optional
        If the first call takes longer than this (seconds), nothing more is
        timed; a later call that does not finish within it (plus a margin)
        ends its row, and its report says why.
    python : str or sequence of str, optional
        Other interpreters (e.g. a free-threaded ``python3.13t``) to run the
        same probe under, in a subprocess; `fn` must be importable there by
        ``fn.__module__`` and `args` must be Python literals (only then are
        they turned into text).
    min_time, repeats, warmup, heartbeat : optional
        Target seconds per timed value, timed values per figure, discarded
        values before them, seconds of the heartbeat.
    start_method : {'fork', 'spawn', 'forkserver'}, optional
        How worker processes start (default: ``fork`` where the platform
        uses it, else ``spawn``); ``spawn`` suits functions that are not
        fork-safe.
    progress : callable, optional
        Called with a short text as each phase starts.

    Returns
    -------
    ProbeResult
        ``.verdict``, ``.threads_speedup``, ``.processes_speedup``,
        ``.gil_held_fraction``, ``.to_dict()``; shown as text by ``repr``
        and as HTML in notebooks.

    Raises
    ------
    TypeError
        If `fn` is not callable.
    ValueError
        If a setting is out of range, or an argument cannot be sent to a
        `python` interpreter (:class:`ProbeUsageError`).
    RuntimeError
        If `fn` raises or returns a different value (:class:`FunctionFailed`;
        the function's exception is its ``__cause__``).

    Examples
    --------
    >>> import gilfree
    >>> r = gilfree.probe(gilfree.sum_squares_range, 10**6, repeats=1, min_time=0.01,
    ...                   heartbeat=0.05)
    >>> r.verdict.startswith("sum_squares_range(1000000) ")
    True
    >>> 0.0 <= r.gil_held_fraction <= 1.0
    True
    """
    if not callable(fn):
        raise TypeError(f"`fn` must be callable, got {type(fn).__name__}")
    pythons = [python] if isinstance(python, str) else list(python or ())
    if not all(isinstance(p, str) for p in pythons):
        raise TypeError("`python` must be a path or a list of paths")
    settings = Settings(workers=workers, processes=processes, impure=impure, max_call=max_call,
                        min_time=min_time, repeats=repeats, warmup=warmup, heartbeat=heartbeat,
                        start_method=start_method)
    target, paths, why = _importable(fn)
    if pythons:  # only another interpreter needs the arguments as a literal
        args_text = _literal(args)
    else:  # for the report only: never the whole repr of a large argument
        from ._measure import _short

        args_text = _short(tuple(args), 200)
    return _run(fn, args, settings, pythons, target, args_text, paths, why, progress)


def _run(fn, args, settings, pythons, target, args_text, paths, foreign_why, progress):
    data = measure(fn, args, settings, progress,
                   then=lambda out, procs: _timeline_of(fn, args, out, settings, procs, progress))
    data = {"schema": SCHEMA, "target": target, "args": args_text, **data}
    data["header"] = _header()
    data["interpreters"] = []
    for py in pythons:
        if progress:
            progress(f"under {py}")
        if foreign_why:
            entry = {"python": py, "not_run": foreign_why}
        else:
            entry = run_foreign(py, target, args_text, paths, settings)
        data["interpreters"].append(entry)
    data["verdict"] = verdict(data)
    return ProbeResult(data)


#: A call longer than this is not looped for the timeline (one call per
#: thread would make it that long).
TIMELINE_MAX_CALL = 1.0


def _timeline_of(fn, args, data: dict, settings, procs, progress) -> dict:
    """``timeline`` and ``overlap`` of N threads calling the function, or
    ``timeline_reason`` (:func:`gilfree._timeline.threads_timeline`); then
    ``processes_timeline`` and ``processes_overlap`` of the N worker
    processes `procs`, or ``processes_timeline_reason``
    (:func:`_processes_timeline`)."""
    from .. import _timeline

    single = data.get("single") or {}
    why = _timeline.unsupported_reason()
    if data.get("incomplete") or not single.get("median"):
        why = "the calls were not all measured"
    elif single["median"] > TIMELINE_MAX_CALL:
        why = f"one call takes {fmt_time(single['median'])}: too long to loop for a timeline"
    if why:
        return {"timeline_reason": why, "processes_timeline_reason": why}
    if progress:
        progress("timeline")
    out = _timeline.threads_timeline(fn, args, data["workers"], seconds=0.2,
                                     join_timeout=max(1.0, 2 * settings.max_call))
    out.update(_processes_timeline(procs, data, seconds=0.2))
    return out


def _processes_timeline(procs, data: dict, seconds: float) -> dict:
    """Who ran when while the N worker processes each call the function for
    about `seconds`: the timing's own call loop (released together by its
    barrier, every wait bounded), sampled through ``/proc/<pid>``."""
    from .. import _timeline

    p = data.get("processes") or {}
    if data.get("processes_speedup") is None or procs is None:
        why = data["skipped"].get("processes") or p.get("skipped") or "not measured"
        return {"processes_timeline_reason": f"the processes were not measured: {why}"}
    pids = procs.pids
    if procs.ended or len(pids) != data["workers"]:
        return {"processes_timeline_reason": procs.ended or "the worker processes had stopped"}
    # p["median"]: one call's time while the N processes called it at once
    loops = max(1, math.ceil(seconds / p["median"]))
    try:
        tl = _timeline.record(lambda: procs(loops), processes=pids,
                              names=[f"P{k + 1}" for k in range(len(pids))])
    except FunctionFailed as exc:
        return {"processes_timeline_reason": str(exc)}
    if procs.ended:
        return {"processes_timeline_reason": procs.ended}
    return {"processes_timeline": {"threads": tl["threads"], "span": tl["span"],
                                   "idle": tl["idle"]},
            "processes_overlap": tl["overlap"]}


def _header() -> dict:
    from ..bench import machine_header

    h = machine_header()
    keep = ("gilfree", "cpu_model", "machine", "platform", "logical_cpus", "affinity_cpus",
            "cgroup_cpu_limit", "usable_cpus", "python", "numpy", "environment", "date_utc")
    return {k: h[k] for k in keep if k in h}


def _importable(fn):
    """``(MODULE:QUALNAME, sys.path entries, None)``, or why another Python cannot import `fn`."""
    mod = getattr(fn, "__module__", None)
    qual = getattr(fn, "__qualname__", None)
    if not mod or not qual or "<" in qual:
        return None, [], (f"{qual or fn!r} is not importable by name (a lambda, a nested "
                          f"function or a partial): define it at the top level of a module")
    if mod == "__main__":
        return None, [], ("the function is defined in __main__: put it in a module to run "
                          "it under another Python")
    try:
        obj = importlib.import_module(mod)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except Exception:
        obj = None
    if obj is not fn:
        return None, [], f"{mod}:{qual} does not name this function"
    paths = [os.getcwd()]
    file = getattr(sys.modules[mod], "__file__", None)
    if file:
        root = os.path.dirname(os.path.abspath(file))
        depth = mod.count(".") + (os.path.basename(file).startswith("__init__."))
        for _ in range(depth):
            root = os.path.dirname(root)
        paths.insert(0, root)
    return f"{mod}:{qual}", paths, None


def _literal(args) -> str:
    """`args` as a Python literal another interpreter reads back equal.

    Raises :class:`ProbeUsageError` naming the first argument (by position)
    that cannot be sent that way.
    """
    from ._measure import _exc_text, same

    for k, a in enumerate(args, 1):
        try:
            text = repr(a)
            ok = same(parse_args(f"({text},)")[0], a)
            why = "its repr does not read back as an equal literal"
        except ProbeUsageError:
            ok, why = False, "its repr is not a Python literal"
        except Exception as exc:  # a broken repr, an int over 4300 digits
            ok, why = False, f"its repr failed ({_exc_text(exc, 80)})"
        if not ok:
            raise ProbeUsageError(
                f"argument {k} ({type(a).__name__}) cannot be sent to another Python: {why}; "
                f"another interpreter (python=) takes only literals (numbers, strings, bytes, "
                f"and tuples, lists, dicts and sets of them)")
    return repr(tuple(args))


# ---------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------


class ProbeResult:
    """What :func:`gilfree.probe` measured, and its verdict.

    Attributes
    ----------
    verdict : str
        One paragraph: will threads (or processes, or another Python) help.
    threads_speedup, processes_speedup : float or None
        Throughput of N calls at once on N threads (processes) over one
        thread calling N times; None where not measured.
    gil_held_fraction : float or None
        Share of a call's time that holds the GIL (0-1), from the heartbeat.
    workers : int
        N.
    """

    def __init__(self, data: dict):
        self._data = data

    @property
    def verdict(self) -> str:
        return self._data["verdict"]

    @property
    def threads_speedup(self) -> float | None:
        return self._data.get("threads_speedup")

    @property
    def processes_speedup(self) -> float | None:
        return self._data.get("processes_speedup")

    @property
    def gil_held_fraction(self) -> float | None:
        return self._data.get("gil_held_fraction")

    @property
    def workers(self) -> int:
        return self._data["workers"]

    def to_dict(self) -> dict:
        """Every figure, the header and the verdict, as a JSON-ready dict (a copy)."""
        return json.loads(json.dumps(self._data))

    def write_json(self, path) -> None:
        """Write :meth:`to_dict` as JSON to `path`, atomically (a temporary
        file beside it, then renamed); raises :class:`ProbeUsageError` if
        it cannot be written."""
        text = json.dumps(self._data, indent=1) + "\n"
        _files.write_atomic(path, text, "--json", ProbeUsageError)

    def write_html(self, path) -> None:
        """Write the report as one self-contained HTML page, atomically."""
        d = self._data
        page = html_page(f"gilfree probe: {d['call']}", [machine_line(d)], report_blocks(d), {})
        _files.write_atomic(path, page, "--html", ProbeUsageError)

    @property
    def incomplete(self) -> list:
        """Why rows were ended by the function (a call that did not finish in
        time, a worker process that died), here and under other Pythons."""
        out = list(self._data.get("incomplete", []))
        for e in self._data.get("interpreters", []):
            out += [f"under {e['python']}: {why}" for why in e.get("incomplete", [])]
        return out

    def lines(self) -> list:
        """The text report, line by line (``repr`` joins them)."""
        out = io.StringIO()
        print_blocks(text_blocks(self._data), out, use_rich=False)
        return out.getvalue().splitlines()

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        d = self._data
        return (f"<div class='gilfree-probe'><p><b>gilfree probe</b>: "
                f"<code>{html.escape(d['call'])}</code></p>{html_fragment(report_blocks(d))}"
                f"<p>{html.escape(machine_line(d))}</p></div>")
