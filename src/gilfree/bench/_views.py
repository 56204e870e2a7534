"""What a report shows, as blocks of text and tables, built from a result alone.

Every view of a bench result (the one-screen terminal summary, ``--detail``,
the HTML report, ``--compare``) is a list of blocks built here from the
result dict (the JSON's content); :mod:`._text` prints blocks as plain text
or with rich, :mod:`._html` writes them as one HTML file.  Nothing here
measures or prints, and every number goes through the ``fmt_*`` helpers so
it reads as a person would write it (``16 ms``, never ``1.6e+01``).
"""

from __future__ import annotations

from .. import _timeline
from ._analysis import BUSY_SHARE, HELPS, load_busy
from ._blocks import (Bars, Claims, Figure, Lines, Table, Timelines, finite, fmt_gbps, fmt_ms,
                      fmt_p, fmt_pct, fmt_rate, fmt_spread, fmt_time, fmt_x)
from ._cases import format_n
from ._tables import (SHORT_DTYPE, compact_table, detail_legend, detail_table, footer_lines,
                      skipped_strategies, speedup_bars, workloads_run)

__all__ = ["Bars", "Claims", "Figure", "Lines", "Table", "Timelines", "compare_blocks",
           "detail_blocks", "fmt_ms", "fmt_pct", "fmt_rate", "fmt_spread", "fmt_time", "fmt_x",
           "header_lines", "summary_blocks", "timelines_block"]


# ---------------------------------------------------------------------------
# the header
# ---------------------------------------------------------------------------


def _python_words(py: dict) -> str:
    build = "free-threaded build" if py.get("free_threaded_build") else "GIL build"
    return (f"Python {py['version']} ({py.get('implementation', 'CPython')}, {build}, "
            f"GIL {'on' if py.get('gil_enabled', True) else 'off'})")


def machine_line(result: dict) -> str:
    """One line: CPU, cores usable, Python build, GIL on/off."""
    h = result["header"]
    return (f"{h['cpu_model']}, {h['usable_cpus']} of {h['logical_cpus']} CPUs usable; "
            f"{_python_words(h['python'])}")


def reference_line(result: dict) -> str | None:
    """Memory bandwidth, heartbeat with nothing running, pool start-up."""
    parts = []
    bw = result.get("bandwidth")
    if bw:
        read = f", reads {fmt_gbps(bw['GBps_read'])}" if bw.get("GBps_read") else ""
        parts.append(f"memory bandwidth: copy {fmt_gbps(bw['GBps'])}{read}")
    idle = result.get("heartbeat_idle")
    if idle:
        parts.append(f"idle heartbeat p99 {fmt_ms(idle['p99_ms'])} late")
    pools = sorted({(u["workers"], u["seconds"]) for u in result["startup"]})
    if pools:
        parts.append("pool start-up " + ", ".join(f"x{w} {fmt_time(s)}" for w, s in pools))
    return "; ".join(parts) or None


def busy_line(result: dict) -> str | None:
    """A warning when other programs shared the cores during the run.

    The load average before the run counts only the others; at its end it
    also counts the bench's own one or two busy threads, hence the margin.
    The run also counts the values that started while another program was
    runnable (``header.busy_values``), which catches load that came and went
    during the run.
    """
    load = result["header"].get("loadavg") or {}
    cpus = result["header"].get("usable_cpus") or 1
    start, end = load.get("start"), load.get("end")
    counts = result["header"].get("busy_values") or {}
    share = counts["busy"] / counts["timed"] if counts.get("timed") else None
    if load_busy(result["header"]):
        parts = []
        if start is not None:
            ends = f", {end:.1f} at the end" if end is not None else ""
            parts.append(f"load average {start:.1f} at the start{ends}")
        if share is not None and share >= BUSY_SHARE:
            parts.append(f"another program was running at {share:.0%} of the timed values")
        return (f"warning: this machine was busy ({'; '.join(parts)}, on {cpus} CPUs): other "
                f"programs shared the cores, so the figures are noisy")
    return None


def header_lines(result: dict) -> list:
    """The machine and build, in a few lines (the ``--detail`` header)."""
    h = result["header"]
    py = h["python"]
    cg = h["cgroup_cpu_limit"]
    blas = f" with {h['blas']}" if h.get("blas") else ""
    lines = [
        f"gilfree {h['gilfree']} bench ({result['settings']['mode']}) on {h['cpu_model']}: "
        f"{h['logical_cpus']} logical CPUs, affinity {h['affinity_cpus']}, cgroup limit "
        f"{'none' if cg is None else f'{cg:g}'}, usable {h['usable_cpus']}",
        f"{_python_words(py)}; NumPy {h['numpy']}{blas}; Cython {h['cython'] or 'unknown'}",
        f"compiler {h['compiler']}; flags {h['cflags'] or 'not recorded by this build'}; "
        f"SIMD {h['simd']}; OpenMP {'yes' if h['openmp']['available'] else 'no'}",
    ]
    bw = result.get("bandwidth")
    if bw:
        lines.append(f"memory bandwidth (array copy): {fmt_gbps(bw['GBps'])} "
                     f"(1 thread {fmt_gbps(bw['GBps_1'])}, {bw['threads']} threads "
                     f"{fmt_gbps(bw['GBps_threads'])})")
        if bw.get("reads"):
            best = bw["read_best"]
            others = ", ".join(f"{k} {fmt_gbps(v)}" for k, v in bw["reads"].items() if k != best)
            lines.append(f"memory bandwidth (reads only; reduce is compared with the best): "
                         f"{fmt_gbps(bw['GBps_read'])} by {best} ({others})")
    idle = result.get("heartbeat_idle")
    if idle:
        lines.append(f"heartbeat with nothing running: p50 {fmt_ms(idle['p50_ms'])}, "
                     f"p99 {fmt_ms(idle['p99_ms'])}, max {fmt_ms(idle['max_ms'])} late")
    if result["startup"]:
        pools: dict = {}
        for u in result["startup"]:
            pools.setdefault((u["workers"], u["seconds"]), []).append(u["strategy"])
        lines.append("pool start-up, not in the times below: " + "; ".join(
            f"{' and '.join(names)} x{w}: {fmt_time(sec)}" for (w, sec), names in pools.items()))
    if h.get("environment"):
        lines.append("environment: " + " ".join(f"{k}={v}" for k, v in h["environment"].items()))
    lines.append(f"measured {h.get('date_utc', '?')} UTC in {fmt_time(result.get('elapsed_s'))}")
    busy = busy_line(result)
    if busy:
        lines.append(busy)
    return lines


# ---------------------------------------------------------------------------
# the claims
# ---------------------------------------------------------------------------

CLAIM_TITLES = {
    "threads": "threads don't speed up CPU-bound pure Python",
    "processes": "processes do, at a start-up cost",
    "c_nogil": "C that releases the GIL does",
}


def _status(c: dict) -> str:
    if c.get("measurable") is False:
        return "unmeasurable"
    return "unknown" if c.get("holds") is None else "holds" if c["holds"] else "fails"


def _where(c: dict) -> str:
    dt = f" {c['dtype']}" if c.get("dtype") else ""
    return f"{c['workload']}{dt} n={format_n(c['n'])}"


def claim_evidence(c: dict, why: bool = True) -> str:
    """The measured figures behind one claim, in one line (with why it is not
    measurable here, unless not `why`)."""
    if c.get("n") is None:
        return f"not checked: {c.get('reason') or 'not measured'}"
    if c["id"] == "threads":
        text = f"{c['strategy']} {fmt_x(c['speedup'])} ({_where(c)})"
        if c.get("heartbeat_p99_ms") is not None:
            idle = (f", {fmt_ms(c['idle_p99_ms'])} idle" if c.get("idle_p99_ms") is not None
                    else "")
            text += f"; heartbeat p99 {fmt_ms(c['heartbeat_p99_ms'])} late{idle}"
        if not c.get("gil_enabled", True):
            text += "; this interpreter runs without the GIL"
        for o in c.get("others", []):
            text += f"; {o['label']} {fmt_x(o['speedup'])}"
    elif c["id"] == "processes":
        text = (f"{fmt_x(c['speedup'])} vs the loop ({_where(c)}, "
                f"{fmt_time(c['call_s'])} a call)")
        if c.get("startup_s") is not None:
            text += f"; pool start-up {fmt_time(c['startup_s'])}"
        if c.get("break_even_call_s") is not None:
            text += (f"; pays off for calls over {fmt_time(c['break_even_call_s'])}"
                     if c["break_even_call_s"] > 0 else "; pays off at every call length")
    else:
        rows = c.get("rows", {})
        parts = []
        for label, r in rows.items():
            ceil = (f", {fmt_pct(r['fraction_of_ceiling'])} of ceiling"
                    if r.get("fraction_of_ceiling") is not None else "")
            parts.append(f"{label} {fmt_x(r['speedup'])}{ceil}")
        text = "; ".join(parts) + f" ({_where(c)})"
        if c.get("control_speedup") is not None:
            text += f"; same C, GIL held: {fmt_x(c['control_speedup'])}"
        elif c.get("control_reason"):
            text += f"; control: {c['control_reason']}"
    if c.get("overlap") is not None:
        text += f"; {c['overlap_strategy']} ran in parallel {fmt_pct(c['overlap'])} of the time"
    if c.get("measurable") is False:
        if why:
            text += f". Not measurable here: {c['reason']}; {c['advice']}"
    elif c.get("reason"):
        text += f" ({c['reason']})"
    return text


def claims_block(result: dict) -> Claims:
    w = result["settings"]["headline_workers"]
    cl = result.get("claims", [])
    # One reason shared by every unmeasurable claim (the machine's) is said once.
    off = [c for c in cl if c.get("measurable") is False]
    shared = (len(off) > 1 and len({(c["reason"], c["advice"]) for c in off}) == 1) and off[0]
    items = [(_status(c), CLAIM_TITLES[c["id"]], claim_evidence(c, not shared)) for c in cl]
    notes = ([f"not measurable here: {shared['reason']}; {shared['advice']}"]
             if shared else [])
    return Claims(f"verdict: the tutorial's three claims, measured on {w} workers (threads or "
                  f"processes; a speedup helps from {HELPS:.1f}x)", items, notes)


# ---------------------------------------------------------------------------
# timelines
# ---------------------------------------------------------------------------

#: What each timeline should show when the tutorial's claims hold.
TIMELINE_STORY = {
    "python-threads": "take turns: one GIL",
    "free-threaded": "no GIL: may run at once",
    "python-processes": "run at once: a GIL each",
    "gilfree-gil": "take turns: C holding the GIL",
    "gilfree-threads": "run at once: C released the GIL",
    "gilfree": "run at once: gilfree's pool",
}


def timelines_block(result: dict) -> Timelines | None:
    """The timelines of the run (``strategies[].timeline``), or None when the
    run has no timeline section (a run saved before they existed)."""
    info = result.get("timelines")
    if not info:
        return None
    panels = [(s["name"], s.get("overlap"), s["timeline"]["threads"], s["timeline"]["span"])
              for s in result.get("strategies", []) if s.get("timeline")]
    title = (f"who ran when: the range loop on {info['workers']} workers, "
             f"{fmt_time(info.get('seconds'))} each")
    notes = []
    if panels:
        share = info.get("sampler_cpu_share")
        cost = f" (it used {fmt_pct(share)} of one CPU)" if share is not None else ""
        gil = f"; {info['gil']}" if info.get("gil") else ""
        notes.append(f"\u2588 (blue in the report): on a CPU, read from /proc every "
                     f"{fmt_time(info.get('period_s'))} by a native thread that never takes "
                     f"the GIL{cost}; overlap: the share of the time two or more ran at "
                     f"once{gil}")
    elif info.get("gil"):
        notes.append(info["gil"])
    return Timelines(title, panels, notes, None if panels else info.get("reason"))


def timeline_rows(panel, width: int, max_rows: int | None = None) -> list:
    """``[(name, strip)]`` of one panel, `width` block characters each."""
    _, _, threads, span = panel
    shown = threads if max_rows is None else threads[:max_rows]
    return [(t["name"], _timeline.strip(t["running"], span, width)) for t in shown]


# ---------------------------------------------------------------------------
# whole views
# ---------------------------------------------------------------------------


def summary_blocks(result: dict) -> list:
    """The one-screen summary: machine, claims, one compact table per
    workload, the range speedups as bars, skips and totals."""
    blocks: list = [Lines([f"gilfree bench ({result['settings']['mode']}): "
                           + machine_line(result)], style="bold")]
    ref = reference_line(result)
    if ref:
        blocks.append(Lines([ref], style="dim"))
    busy = busy_line(result)
    # The claims say it themselves when the load made them not measurable.
    said = any(c.get("measurable") is False and "other programs shared the CPUs"
               in (c.get("reason") or "") for c in result.get("claims", []))
    if busy and not said:
        blocks.append(Lines([busy], style="error"))
    blocks.append(claims_block(result))
    tl = timelines_block(result)
    if tl is not None and (tl.panels or tl.reason):
        blocks.append(tl)
    for w in workloads_run(result):
        t = compact_table(result, w)
        if t is not None:
            blocks.append(t)
    # The timelines are this screen's picture; a run without them (saved
    # before they existed, or --strategies without those five) shows the
    # speedups as bars instead.
    bars = speedup_bars(result, "range") if "range" in workloads_run(result) else None
    if bars and not (tl and tl.panels):
        blocks.append(bars)
    blocks.append(Lines(footer_lines(result, brief=True), style="dim"))
    return blocks


def detail_blocks(result: dict) -> list:
    """``--detail``: the full header, the claims, every case of every workload."""
    blocks: list = [Lines(header_lines(result)), claims_block(result)]
    tl = timelines_block(result)
    if tl is not None:
        blocks.append(tl)
    blocks.append(Lines([detail_legend(result)], style="dim"))
    blocks += [detail_table(result, w) for w in workloads_run(result)]
    bars = speedup_bars(result, "range") if "range" in workloads_run(result) else None
    if bars:
        blocks.append(bars)
    blocks.append(Lines(footer_lines(result, brief=False), style="dim"))
    return blocks


def report_blocks(result: dict) -> list:
    """The HTML report: the verdicts and the timelines first, then one speedup
    chart, then the details (compact tables, plots, every measurement, the
    machine)."""
    blocks: list = []
    ref = reference_line(result)
    if ref:
        blocks.append(Lines([ref], style="dim"))
    busy = busy_line(result)
    if busy:
        blocks.append(Lines([busy], style="error"))
    blocks.append(claims_block(result))
    tl = timelines_block(result)
    if tl is not None:
        blocks.append(tl)
    bars = speedup_bars(result, "range") if "range" in workloads_run(result) else None
    if bars:
        blocks.append(bars)
    blocks.append(Lines(["Each workload at the size where every strategy ran, then the plots, "
                         "every measurement and the machine."], style="dim", title="Details"))
    for w in workloads_run(result):
        t = compact_table(result, w)
        if t is not None:
            blocks.append(t)
    blocks += [Figure("speedup", "Speedup over the same strategy on 1 worker, against the "
                                 "number of workers; the dotted line is the ideal "
                                 "(speedup = workers), the wide grey lines the ceilings."),
               Figure("throughput", "Throughput against size at the headline worker count; "
                                    "the dashed line is the memory bandwidth (copy for map, "
                                    "the best read for reduce)."),
               Figure("heartbeat", "How late a 1 ms sleeper thread wakes while each "
                                   "strategy runs: the GIL held or passed between threads "
                                   "shows as lateness.")]
    blocks.append(Lines([detail_legend(result)], style="dim", title="Every measurement"))
    blocks += [detail_table(result, w) for w in workloads_run(result)]
    blocks.append(Lines(header_lines(result), title="Machine and build"))
    skipped = skipped_strategies(result)
    if skipped:
        blocks.append(Lines(skipped, title="Not run here"))
    blocks.append(Lines(footer_lines(result, brief=True)[-1:], style="dim"))
    return blocks


def compare_blocks(cmp: dict, detail: bool = False) -> list:
    """Two runs side by side (from :func:`._compare.compare`)."""
    a, b = cmp["a"], cmp["b"]
    na, nb = cmp["names"]
    blocks: list = [Lines([f"A = {na}: {machine_line(a)}", f"B = {nb}: {machine_line(b)}"],
                          style="bold"),
                    Lines([f"B vs A: how many times faster B ran each row (the median of "
                           f"A's repeats over B's); {cmp['test']}: 'not significant' when "
                           f"p >= {cmp['alpha']:g}"], style="dim")]
    rows = []
    for ca, cb in zip(a.get("claims", []), b.get("claims", [])):
        words = {"holds": "HOLDS", "fails": "DOES NOT HOLD", "unknown": "NOT CHECKED",
                 "unmeasurable": "NOT MEASURABLE"}
        rows.append([CLAIM_TITLES[ca["id"]], words[_status(ca)], words[_status(cb)],
                     f"{fmt_x(ca.get('speedup'))} / {fmt_x(cb.get('speedup'))}"])
    if rows:
        blocks.append(Table("== the three claims ==", ["claim", "A", "B", "speedup A / B"], rows,
                            text_cols=3))
    for workload, group in cmp["tables"].items():
        sel = group if detail else [r for r in group if r["headline"]]
        if not sel:
            continue
        trows: list = []
        styles = []
        notes: list = []
        for r in sel:
            case = f"{SHORT_DTYPE.get(r['dtype'], r['dtype']) + ' ' if r['dtype'] else ''}" \
                   f"{format_n(r['n'])}"
            sig = ("not significant" if r["significant"] is False else
                   "too few repeats" if r["significant"] is None else "significant")
            trows.append([case, r["label"], r["workers_text"], fmt_time(r["a"]),
                          fmt_time(r["b"]), _faster(r["ratio"]), f"{sig} ({fmt_p(r['p'])})"
                          if r["p"] is not None else sig])
            styles.append(None if not r["significant"] else "good" if r["ratio"] > 1 else "bad")
        blocks.append(Table(f"== {workload} ==", ["case", "strategy", "workers", "A", "B",
                                                  "B vs A", "significance"],
                            trows, notes=notes, text_cols=3, row_styles=styles))
    if cmp["unmatched"]:
        blocks.append(Lines([f"{len(cmp['unmatched'])} rows ran in only one of the two "
                             f"(e.g. {', '.join(cmp['unmatched'][:4])})"], style="dim"))
    return blocks


def _faster(ratio) -> str:
    if not finite(ratio):
        return "-"
    if abs(ratio - 1) < 0.005:
        return "same"
    if ratio >= 1:
        return f"{fmt_x(ratio)} faster"
    return f"{fmt_x(1 / ratio)} slower"
