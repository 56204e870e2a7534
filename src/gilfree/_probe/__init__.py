"""``gilfree.probe``: will threads help *your* function?

The bench answers "threads, processes or GIL-free C?" for gilfree's own
workloads; the probe answers it for any function, with the bench's machinery
(calibrated interleaved timing, plain threads, processes released together by
a barrier, the GIL heartbeat, other interpreters).  The measurements are in
:mod:`gilfree._probe._measure` (standard library only, so they also run
under another Python), the order of their steps, here and under ``python=``
interpreters, in :mod:`._host`; this module adds the machine header, the verdict and the
reports (text, JSON, HTML).
"""

from __future__ import annotations

import html
import importlib
import io
import json
import math
import os
import sys
from typing import cast

from .._timing import _files
from .._timing._loop import HELPS
from ..bench import (Bars, Lines, Table, Timelines, fmt_pct, fmt_time, fmt_x, html_fragment,
                     html_page, print_blocks)
from ._host import measure, run_foreign
from ._measure import FunctionFailed, ProbeUsageError, Settings, parse_args

__all__ = ["FunctionFailed", "ProbeResult", "ProbeUsageError", "classify", "probe", "verdict"]

#: Version tag of the JSON layout; bump it when a field changes meaning.
SCHEMA = "gilfree-probe/1"

#: Heartbeat GIL fractions at or above HOLDS "hold the GIL"; at or below
#: RELEASES they "release it for most of the time".
HOLDS = 0.6
RELEASES = 0.3

#: The heartbeat and the Amdahl estimate "disagree" beyond this difference.
DISAGREE = 0.35


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
        why = f"one call takes {_s(single['median'])}: too long to loop for a timeline"
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


def _timeline_sentence(d: dict):
    """What the timelines show (the threads', and the processes' beside
    them), in one sentence, or None."""
    from ._measure import WAITING_CPU_FRACTION

    ov = d.get("overlap")
    if ov is None or d["workers"] < 2:
        return None
    cpu = d.get("cpu_fraction")
    text = f"Your {d['workers']} threads ran at the same time {_pct(ov)} of the time"
    if d.get("processes_overlap") is not None:
        text += f" ({d['workers']} processes: {_pct(d['processes_overlap'])})"
    if cpu is not None and cpu < WAITING_CPU_FRACTION:
        return text + ", and were mostly off the CPU: waiting"
    if ov < 0.2:
        gil = (d.get("interpreter") or {}).get("gil_enabled", True)
        f = d.get("gil_held_fraction")
        if gil and f is not None and f >= 0.5:
            return text + ": the GIL serialised them"
        if (_busy(d) or 0) > 0.2:
            return text + ": other programs held the CPUs they needed"
        return text + ": something other than the GIL kept them apart (a lock, or the CPUs)"
    if ov >= 0.5:
        return text + ": they ran in parallel"
    return text


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
# the verdict
# ---------------------------------------------------------------------------


_x, _s, _pct = fmt_x, fmt_time, fmt_pct  # the bench's number formats


def _gil_phrase(d: dict, gil) -> str:
    f, src = d.get("gil_held_fraction"), ""
    if f is None:
        f, src = d.get("gil_held_fraction_amdahl"), " (estimated from the thread speedup)"
    if gil == "waits":
        return (f"mostly waits rather than computes (its CPU time is {_pct(d['cpu_fraction'])} "
                f"of its wall time: sleep, I/O or a lock)")
    if gil is None:
        return "was timed, but its GIL share could not be measured"
    if gil == "holds":
        return f"holds the GIL ~{_pct(f)} of the time{src}"
    if gil == "releases":
        return f"releases the GIL for most of its time (held ~{_pct(f)}){src}"
    return f"holds the GIL about {_pct(f)} of the time{src}"


def _processes_phrase(d) -> str:
    n = d["workers"]
    p = d.get("processes") or {}
    sp = d.get("processes_speedup")
    if sp is None:
        why = d["skipped"].get("processes") or p.get("skipped") or "not measured"
        return f"processes were not measured: {why}"
    if sp < HELPS:
        return (f"{n} processes gave only {_x(sp)} too: this machine left no room to run it "
                f"in parallel (other load, shared cores or memory bandwidth)")
    text = f"{n} processes gave {_x(sp)} after {_s(p['startup_s'])} of start-up"
    if "payoff_call_s" in p:
        text += (f", worth it for calls over {_s(p['payoff_call_s'])} "
                 f"({_s(p['payoff_call_running_s'])} with the pool already running)")
    return text


def _busy(d: dict):
    """The largest share of their runnable time the calls waited for a CPU held by
    other programs (on one thread, on N threads, in N processes)."""
    vals = [float(d[k]) for k in ("run_delay_fraction", "threads_run_delay_fraction",
                                  "processes_run_delay_fraction") if d.get(k) is not None]
    return max(vals) if vals else None


def classify(d: dict) -> dict:
    """What a probe result says, as a pure function of its figures.

    Parameters
    ----------
    d : dict
        A result (``ProbeResult.to_dict()``, or figures built by hand).

    Returns
    -------
    dict
        ``gil``: ``"waits"`` (its CPU time is under
        ``WAITING_CPU_FRACTION`` of its wall time: sleep, I/O, a lock),
        ``"holds"`` (held at least :data:`HOLDS` of the time), ``"releases"``
        (at most :data:`RELEASES`), ``"partly"``, or None where not
        measured, from the heartbeat or else the Amdahl estimate;
        ``threads_help`` and ``processes_help``: the speedup reached
        :data:`HELPS` (None where not measured, or with one worker);
        ``busy``: the calls waited for a CPU over 20% of the time they
        were ready to run.
    """
    from ._measure import WAITING_CPU_FRACTION

    cpu = d.get("cpu_fraction")
    f = d.get("gil_held_fraction")
    if f is None:
        f = d.get("gil_held_fraction_amdahl")
    if cpu is not None and cpu < WAITING_CPU_FRACTION:
        gil = "waits"
    elif f is None:
        gil = None
    else:
        gil = "holds" if f >= HOLDS else "releases" if f <= RELEASES else "partly"
    one = d.get("workers") == 1
    st, sp = d.get("threads_speedup"), d.get("processes_speedup")
    return {"gil": gil,
            "threads_help": None if st is None or one else st >= HELPS,
            "processes_help": None if sp is None or one else sp >= HELPS,
            "busy": (_busy(d) or 0) > 0.2}


def verdict(d: dict) -> str:
    """One paragraph a person can act on, from a probe's figures (:func:`classify`)."""
    call = d.get("call", "the function")
    skipped = d.get("skipped", {})
    if "single" in skipped and d.get("first_call_s") is None:
        return (f"{call}: {skipped['single']}. Check that it returns on its own, or raise "
                f"--max-call (max_call=) if it is only slow.")
    if "single" in skipped:
        if d.get("incomplete"):
            return (f"{call}: {skipped['single']}. Nothing more was timed: a function the "
                    f"probe can measure returns from every call.")
        return (f"{call}: {skipped['single']}. Probe it on a smaller input, or raise "
                f"--max-call (max_call=).")
    n = d["workers"]
    st, sp = d.get("threads_speedup"), d.get("processes_speedup")
    f, fa, cpu = d.get("gil_held_fraction"), d.get("gil_held_fraction_amdahl"), d.get("cpu_fraction")
    c = classify(d)
    waits = c["gil"] == "waits"
    sentences = []
    head = f"{call} {_gil_phrase(d, c['gil'])}: "
    if n == 1:
        head += ("with 1 worker nothing ran in parallel, so no speedup was measured "
                 "(use --workers 2 or more)")
    elif waits and c["threads_help"]:
        head += (f"{n} threads gave {_x(st)} because they overlap the waiting, which needs "
                 f"neither the GIL nor a core (more threads than cores help too); no need "
                 f"for processes")
    elif c["threads_help"] and f is not None and f >= HOLDS and c["busy"]:
        head += (f"{n} threads gave {_x(st)} here only as extra shares of a busy machine (the "
                 f"calls waited for a CPU {_pct(_busy(d))} of the time they were "
                 f"ready to run): on an idle machine threads won't help; "
                 f"{_processes_phrase(d)}")
    elif c["threads_help"]:
        head += f"threads gave {_x(st)}"
        # threads_help is true only where threads_speedup was measured
        if sp is not None and sp >= 1.15 * cast(float, st) and sp >= HELPS:
            head += f"; {_processes_phrase(d)}"
        else:
            head += ", no need for processes"
    else:
        head += f"threads won't help ({n} threads gave {_x(st)}); {_processes_phrase(d)}"
        if f is not None and f <= RELEASES and not waits and (sp is None or sp >= HELPS):
            sentences.append("Since the GIL is mostly free, something else keeps the threads "
                             "from scaling: a lock inside the function, memory bandwidth, or "
                             "a busy machine")
    sentences.insert(0, head)
    seen = _timeline_sentence(d)
    if seen:
        sentences.append(seen)
    for why in d.get("incomplete", []):
        sentences.append(f"Not every row was measured: {why}")
    busy = (_busy(d) or 0) > 0.2
    if f is not None and fa is not None and abs(f - fa) > DISAGREE and n > 1 and not waits \
            and not (busy and fa < f):
        if fa > f:
            sentences.append(
                f"The thread speedup implies ~{_pct(fa)} of each call runs one thread at a "
                f"time (Amdahl), more than the heartbeat's {_pct(f)}: the function takes and "
                f"releases the GIL in stretches shorter than the switch interval, holds "
                f"another lock, or the machine was busy")
        else:
            sentences.append(
                f"The heartbeat saw the GIL held ~{_pct(f)} of the time, yet the threads "
                f"scaled as if ~{_pct(fa)} were (Amdahl): the machine was probably busy "
                f"while the heartbeat ran; the thread speedup is the figure to act on")
    if busy and "busy machine" not in head:
        sentences.append(
            f"The machine was busy: the calls waited for a CPU "
            f"{_pct(_busy(d))} of the time they were ready to run, so "
            f"these speedups may differ from an idle machine's")
    if cpu is not None and cpu > 1.5:
        sentences.append(
            f"Each call already keeps ~{cpu:.1f} cores busy by itself (its CPU time is "
            f"{cpu:.1f}x its wall time), so more threads or processes compete for the same "
            f"cores")
    for e in d.get("interpreters", []):
        label = (e.get("interpreter") or {}).get("label") or e["python"]
        if e.get("error"):
            sentences.append(f"Under {os.path.basename(e['python'])} it failed: {e['error']}")
        elif e.get("not_run"):
            sentences.append(f"Not probed under {os.path.basename(e['python'])}: "
                             f"{e['not_run']}")
        elif "single" not in e:
            why = (e.get("skipped") or {}).get("single", "nothing was timed")
            sentences.append(f"Under {os.path.basename(e['python'])} nothing was timed: {why}")
        elif e.get("threads_speedup") is not None:
            text = (f"On {os.path.basename(e['python'])} ({label}) {e['workers']} threads gave "
                    f"{_x(e['threads_speedup'])}")
            if e.get("gil_held_fraction") is not None and (e.get("interpreter") or {}).get(
                    "gil_enabled", True):
                text += f", the GIL held ~{_pct(e['gil_held_fraction'])}"
                if e["gil_held_fraction"] >= HOLDS and e["threads_speedup"] >= HELPS \
                        and (_busy(e) or 0) > 0.2:
                    text += " (the thread gain is extra shares of a busy machine)"
            if e["threads_speedup"] < HELPS and (_busy(e) or 0) > 0.2:
                text += " on a busy machine"
            t_here, t_there = d["single"]["median"], e["single"]["median"]
            text += f"; one call took {_s(t_there)} there against {_s(t_here)} here"
            sentences.append(text)
    return ". ".join(sentences) + "."


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
        page = html_page(f"gilfree probe: {d['call']}", [_machine_line(d)], _blocks(d), {})
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
        print_blocks(_text_blocks(self._data), out, use_rich=False)
        return out.getvalue().splitlines()

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        d = self._data
        return (f"<div class='gilfree-probe'><p><b>gilfree probe</b>: "
                f"<code>{html.escape(d['call'])}</code></p>{html_fragment(_blocks(d))}"
                f"<p>{html.escape(_machine_line(d))}</p></div>")


def _rows(d: dict) -> list:
    """(label, value) rows shared by the text and HTML reports."""
    n = d["workers"]
    rows = []
    interp = d["interpreter"]
    rows.append(("Python", f"{interp['version']} ({interp['label']}), {d['usable_cpus']} "
                           f"usable CPUs, {n} workers"))
    if d.get("first_call_s") is None:
        rows.append(("first call", "did not finish"))
    else:
        rows.append(("first call", f"{_s(d['first_call_s'])}, returned {d['result']}"))
    if "single" in d:
        s = d["single"]
        rows.append(("one call", f"{_s(s['median'])} median of {s['count']} values "
                                 f"({_s(s['q1'])}-{_s(s['q3'])} quartiles), {s['loops']} "
                                 f"call(s) per value"))
    if d.get("cpu_fraction") is not None:
        rows.append(("CPU / wall", f"{d['cpu_fraction']:.2f} (CPU time a call used or waited "
                                   f"for, over its wall time)"))
    if d.get("threads_speedup") is not None:
        t = d["threads"]
        rows.append((f"{n} threads", f"{_x(d['threads_speedup'])} throughput "
                                      f"({_s(t['median'])} for {n} calls at once)"))
    p = d.get("processes") or {}
    if d.get("processes_speedup") is not None:
        text = (f"{_x(d['processes_speedup'])} throughput ({p['method']}; start-up "
                f"{_s(p['startup_s'])}, {_s(p['overhead_s'])} overhead per batch")
        if "payoff_call_s" in p:
            text += f"; pays off for calls over {_s(p['payoff_call_s'])}"
        rows.append((f"{n} processes", text + ")"))
    hb = d.get("heartbeat") or {}
    if d.get("gil_held_fraction") is not None:
        text = (f"{d['gil_held_fraction']:.2f} (heartbeat: {hb['late_beats']} of "
                f"{hb['samples']} beats late by >= {hb['threshold_ms']:.2g} ms; p50 "
                f"{hb['p50_ms']:.2g} ms)")
        if d.get("gil_held_fraction_amdahl") is not None:
            text += f"; {d['gil_held_fraction_amdahl']:.2f} from the thread speedup (Amdahl)"
        rows.append(("GIL held", text))
    if d.get("overlap") is not None:
        share = d.get("sampler_cpu_share")
        cost = f"; the sampler used {_pct(share)} of one CPU" if share is not None else ""
        rows.append(("who ran when", f"{n} threads ran at the same time {_pct(d['overlap'])} "
                                     f"of the time{cost}"))
    elif d.get("timeline_reason"):
        rows.append(("who ran when", f"no timeline: {d['timeline_reason']}"))
    if d.get("processes_overlap") is not None:
        ov = _pct(d["processes_overlap"])
        rows.append(("", f"{n} processes ran at the same time {ov} of the time"))
    elif d.get("processes_speedup") is not None and d.get("processes_timeline_reason") \
            and d.get("processes_timeline_reason") != d.get("timeline_reason"):
        rows.append(("", f"no timeline of the processes: {d['processes_timeline_reason']}"))
    by_reason: dict = {}  # one row per reason: a hang ends several phases at once
    for phase, why in d.get("skipped", {}).items():
        by_reason.setdefault(why, []).append(phase)
    for why, phases in by_reason.items():
        rows.append((f"{', '.join(phases)} skipped", why))
    for note in d.get("notes", []):
        rows.append(("note", note))
    for e in d.get("interpreters", []):
        if e.get("not_run") or e.get("error"):
            rows.append((os.path.basename(e["python"]), e.get("error") or e.get("not_run")))
            continue
        label = e["interpreter"]["label"]
        if "single" not in e:
            why = (e.get("skipped") or {}).get("single", "nothing was timed")
            rows.append((label, f"{e['python']}, nothing timed: {why}"))
            continue
        bits = [e["python"], f"one call {_s(e['single']['median'])}"]
        if e.get("threads_speedup") is not None:
            bits.append(f"{e['workers']} threads {_x(e['threads_speedup'])}")
        if e.get("processes_speedup") is not None:
            bits.append(f"{e['workers']} processes {_x(e['processes_speedup'])}")
        elif (e.get("skipped") or {}).get("processes"):
            bits.append("processes skipped (see the JSON)")
        if e.get("gil_held_fraction") is not None:
            bits.append(f"GIL held {e['gil_held_fraction']:.2f}")
        rows.append((label, ", ".join(bits)))
    return rows


def _text_blocks(d: dict) -> list:
    head = f"gilfree probe: {d['call']}" + (" (impure: results not compared)"
                                            if d["settings"]["impure"] else "")
    rows = _rows(d)
    width = max(len(k) for k, _ in rows)
    lines = [head] + [f"  {k:<{width}} : {v}" for k, v in rows]
    lines += _strips(d, width)
    return [Lines(lines + ["verdict: " + d["verdict"]])]


def _story(overlap: float) -> str:
    """What an overlap means, in a few words."""
    if overlap < 0.2:
        return f"took turns (at once {_pct(overlap)} of the time)"
    if overlap >= 0.5:
        return f"ran at once ({_pct(overlap)} of the time)"
    return f"ran at once part of the time ({_pct(overlap)})"


def _strips(d: dict, width: int) -> list:
    """The timelines as block characters under the figures: the threads',
    then the processes' (four rows each at most)."""
    from .._timeline import strip

    out = []
    n = d["workers"]
    label = max(width, len(f"{n} processes"))
    for kind, tl, ov in (("threads", d.get("timeline"), d.get("overlap")),
                         ("processes", d.get("processes_timeline"),
                          d.get("processes_overlap"))):
        if not tl:
            continue
        for k, t in enumerate(tl["threads"][:4]):
            head = f"{n} {kind}" if k == 0 else ""
            story = f"  {_story(ov)}" if k == 0 and ov is not None else ""
            out.append(f"  {head:<{label}}   {t['name']:<3} "
                       f"{strip(t['running'], tl['span'], 40)}{story}")
    return out


def _blocks(d: dict) -> list:
    """The report as the bench's blocks: the verdict, the speedups, the figures."""
    bars = []
    if d.get("threads_speedup") is not None:
        bars.append((f"{d['workers']} threads", d["threads_speedup"]))
    if d.get("processes_speedup") is not None:
        bars.append((f"{d['workers']} processes", d["processes_speedup"]))
    for e in d.get("interpreters", []):
        if e.get("threads_speedup") is not None:
            bars.append((f"{e['workers']} threads, {e['interpreter']['label']}",
                         e["threads_speedup"]))
    blocks: list = [Lines([d["verdict"]])]
    if bars:
        blocks.append(Bars("Throughput over one thread", [
            (label, v, _x(v), "good" if v >= HELPS else None) for label, v in bars],
            marks=[(1.0, "one thread"), (float(d["workers"]), "ideal")]))
    panels = [(f"{d['workers']} {kind}", d.get(f"{key}overlap"), tl["threads"], tl["span"])
              for kind, key in (("threads", ""), ("processes", "processes_"))
              for tl in [d.get(f"{key}timeline")] if tl]
    if panels:
        blocks.append(Timelines("Who ran when", panels))
    blocks.append(Table("Figures", ["", ""], [list(r) for r in _rows(d)], text_cols=2))
    return blocks


def _machine_line(d: dict) -> str:
    h = d.get("header") or {}
    return (f"{h.get('cpu_model', '?')}, {h.get('usable_cpus', '?')} usable CPUs; "
            f"gilfree {h.get('gilfree', '?')}; {h.get('date_utc', '')} UTC")
