"""The probe's reports: rows, timeline strips and blocks in the bench's
report vocabulary (the same renderers and number formats)."""

from __future__ import annotations

import os

from .._timing._loop import HELPS
from ..bench import Bars, Lines, Table, Timelines, fmt_pct, fmt_time, fmt_x

_x, _s, _pct = fmt_x, fmt_time, fmt_pct  # the bench's number formats

__all__ = ["machine_line", "report_blocks", "report_rows", "text_blocks"]


def report_rows(d: dict) -> list:
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


def text_blocks(d: dict) -> list:
    head = f"gilfree probe: {d['call']}" + (" (impure: results not compared)"
                                            if d["settings"]["impure"] else "")
    rows = report_rows(d)
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


def report_blocks(d: dict) -> list:
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
    blocks.append(Table("Figures", ["", ""], [list(r) for r in report_rows(d)], text_cols=2))
    return blocks


def machine_line(d: dict) -> str:
    h = d.get("header") or {}
    return (f"{h.get('cpu_model', '?')}, {h.get('usable_cpus', '?')} usable CPUs; "
            f"gilfree {h.get('gilfree', '?')}; {h.get('date_utc', '')} UTC")
