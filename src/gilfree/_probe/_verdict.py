"""The probe's verdict: a pure function of its result dict (the JSON's
content), so it is tested on synthetic results and reads the same for a live
run, a saved file or another interpreter's figures."""

from __future__ import annotations

import os
from typing import cast

from .._timing._loop import HELPS
from ..bench import fmt_pct, fmt_time, fmt_x

__all__ = ["DISAGREE", "HOLDS", "RELEASES", "classify", "timeline_sentence", "verdict"]


#: Heartbeat GIL fractions at or above HOLDS "hold the GIL"; at or below
#: RELEASES they "release it for most of the time".
HOLDS = 0.6
RELEASES = 0.3

#: The heartbeat and the Amdahl estimate "disagree" beyond this difference.
DISAGREE = 0.35


def timeline_sentence(d: dict):
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
    seen = timeline_sentence(d)
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
