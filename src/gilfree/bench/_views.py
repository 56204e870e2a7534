"""What a report shows, as blocks of text and tables, built from a result alone.

Every view of a bench result (the one-screen terminal summary, ``--detail``,
the HTML report, ``--compare``) is a list of blocks built here from the
result dict (the JSON's content); :mod:`._text` prints blocks as plain text
or with rich, :mod:`._html` writes them as one HTML file.  Nothing here
measures or prints, and every number goes through the ``fmt_*`` helpers so
it reads as a person would write it (``16 ms``, never ``1.6e+01``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import _timeline
from ._analysis import BUSY_SHARE, HELPS, headline_size, kind_of, load_busy, main_dtype, pick
from ._cases import WORKLOADS, Case, format_n
from ._registry import NAMES

__all__ = ["Bars", "Claims", "Figure", "Lines", "Table", "Timelines", "compare_blocks",
           "detail_blocks", "fmt_ms", "fmt_pct", "fmt_rate", "fmt_spread", "fmt_time", "fmt_x",
           "header_lines", "summary_blocks", "timelines_block"]


# ---------------------------------------------------------------------------
# blocks
# ---------------------------------------------------------------------------


@dataclass
class Lines:
    """Lines of text; `style` is a hint (``dim``, ``bold``, ``error``)."""

    lines: list
    style: str | None = None
    title: str | None = None


@dataclass
class Claims:
    """The three claims: ``(status, claim, evidence)`` per item; status is
    ``holds``, ``fails`` or ``unknown``."""

    title: str
    items: list
    notes: list = field(default_factory=list)


@dataclass
class Table:
    """A table: the first `text_cols` columns are text, the rest figures."""

    title: str
    columns: list
    rows: list
    notes: list = field(default_factory=list)
    caption: str | None = None
    text_cols: int = 1
    row_styles: list = field(default_factory=list)  # per row: None, good, bad, dim
    sections: list = field(default_factory=list)  # row indexes that start a group


@dataclass
class Bars:
    """A horizontal bar chart: ``(label, value, text, style)`` per bar; `marks`
    are ``(value, name)`` reference values (the ideal speedup)."""

    title: str
    items: list
    marks: list = field(default_factory=list)
    caption: str | None = None


@dataclass
class Timelines:
    """Who ran when: ``(strategy, overlap, threads, span)`` per panel
    (``threads`` as in the JSON: ``[{"name", "running"}]``); `notes` says
    how they were taken, `reason` why there are none."""

    title: str
    panels: list
    notes: list = field(default_factory=list)
    reason: str | None = None


@dataclass
class Figure:
    """A plot (HTML only): `name` is one of :data:`._plots.FIGURES`."""

    name: str
    caption: str


# ---------------------------------------------------------------------------
# numbers for people
# ---------------------------------------------------------------------------


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def fmt_time(seconds) -> str:
    """``12.3 ms``: three significant digits in the best unit."""
    if not _finite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            v = seconds / scale
            return f"{v:.3g} {unit}" if v < 1000 else f"{v:,.0f} {unit}"
    return "-"  # unreachable


def fmt_ms(ms) -> str:
    """A duration given in milliseconds: ``16 ms``, ``0.12 ms``, ``1.3 s``."""
    if not _finite(ms):
        return "-"
    if ms >= 1000:
        return fmt_time(ms / 1e3)
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.2g} ms" if ms >= 0.01 else "0 ms"


def fmt_spread(p: dict) -> str:
    """Median and half the interquartile range in percent: ``12.3 ms ±2%``."""
    t = fmt_time(p["median"])
    if p["median"] > 0 and p.get("q3") is not None:
        half_iqr = (p["q3"] - p["q1"]) / 2 / p["median"]
        t += f" ±{half_iqr:.0%}"
    return t


def fmt_x(v) -> str:
    """A ratio: ``0.94x``, ``12.3x``, ``288x``, ``1,234x``."""
    if not _finite(v):
        return "-"
    if v < 0.1:
        return f"{v:.2g}x" if v >= 0.001 else "<0.001x"
    return f"{v:.2f}x" if v < 10 else f"{v:.3g}x" if v < 1000 else f"{v:,.0f}x"


def fmt_pct(v) -> str:
    return "-" if not _finite(v) else f"{v:.0%}"


def fmt_rate(v, unit: str) -> str:
    if not _finite(v):
        return "-"
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g} {prefix}{unit}"
    return f"{v:.3g} {unit}"


def fmt_gbps(v) -> str:
    return "-" if not _finite(v) else f"{v:.3g} GB/s" if v < 1000 else f"{v:,.0f} GB/s"


def fmt_p(p) -> str:
    if not _finite(p):
        return "-"
    return f"p={p:.2g}" if p >= 0.001 else "p<0.001"


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
# tables
# ---------------------------------------------------------------------------


def label_order(result: dict) -> list:
    """Host strategies in registry order, then other interpreters' rows."""
    labels = []
    for p in result["points"]:
        if p["label"] not in labels:
            labels.append(p["label"])
    rank = {n: i for i, n in enumerate(NAMES)}
    return sorted(labels, key=lambda lab: (lab not in rank, rank.get(lab, 0), lab))


def workloads_run(result: dict) -> list:
    return [w for w in WORKLOADS if any(p["workload"] == w for p in result["points"])]


def _row_style(label: str, points) -> str | None:
    if any(p["status"] == "failed" for p in points):
        return "bad"
    base = label.split(" [")[0]
    if base in ("ceiling", "ceiling-python"):
        return "dim"
    if base in ("gilfree", "gilfree-threads"):
        return "good"
    return None


def _ceiling_caption(result: dict, workload: str, dtype, n) -> str:
    w = result["settings"]["headline_workers"]
    parts = []
    for label, words in (("ceiling-python", "pure-Python rows"), ("ceiling", "compiled rows")):
        p = pick(result, label, workload, w, dtype, n)
        if p and p.get("speedup_self"):
            parts.append(f"{words} against {label} ({fmt_x(p['speedup_self'])})")
    return ("of ceiling: " + ", ".join(parts)) if parts else ""


def compact_table(result: dict, workload: str) -> Table | None:
    """One row per strategy at the workload's headline size."""
    w = result["settings"]["headline_workers"]
    dtype = main_dtype(result, workload)
    n = headline_size(result, workload, dtype)
    if n is None:
        return None
    rows, styles = [], []
    for label in label_order(result):
        one = pick(result, label, workload, 1, dtype, n)
        many = pick(result, label, workload, w, dtype, n)
        head = many or one
        if head is None:
            continue
        par = many is not None
        rows.append([label, fmt_time(one["median"]) if one else "-",
                     fmt_time(many["median"]) if many else "-",
                     fmt_x(many["speedup_self"]) if par else "-",
                     fmt_pct(many.get("fraction_of_ceiling")) if par else "-",
                     fmt_x(head.get("speedup_python"))])
        styles.append(_row_style(label, [head]))
    dt = f" {dtype}" if dtype else ""
    failed = [p for p in result["points"] if p["workload"] == workload
              and p["status"] == "failed"]
    notes = [f"FAILED {p['label']} x{p['workers']} n={format_n(p['n'])}: {p['reason']}"
             for p in failed]
    return Table(f"== {workload}{dt} n={format_n(n)}: {WORKLOADS[workload]} ==",
                 ["strategy", "time x1", f"time x{w}", "speedup", "of ceiling", "vs python"],
                 rows, notes=notes, caption=_ceiling_caption(result, workload, dtype, n),
                 row_styles=styles)


def speedup_bars(result: dict, workload: str = "range") -> Bars | None:
    """Each parallel strategy's speedup on the headline workers, at the largest
    size it ran (bars), with the ideal (speedup = workers) as a mark."""
    w = result["settings"]["headline_workers"]
    dtype = main_dtype(result, workload)
    items = []
    for label in label_order(result):
        p = pick(result, label, workload, w, dtype)
        if p is None or not p.get("speedup_self"):
            continue
        if pick(result, label, workload, 1, dtype, p["n"]) is None:
            continue
        style = ("dim" if label.startswith("ceiling") else "good"
                 if p["speedup_self"] >= HELPS else "bad")
        items.append((label, p["speedup_self"],
                      f"{fmt_x(p['speedup_self'])}  n={format_n(p['n'])}", style))
    if not items:
        return None
    return Bars(f"{workload} speedup on {w} workers over the same strategy on 1 "
                f"(| = ideal {w}.00x)", items, marks=[(float(w), "ideal")])


def _cases(result: dict, workload: str) -> list:
    keys = {(p["dtype"] or "", p["n"]) for p in result["points"] if p["workload"] == workload}
    return sorted(keys)


_SHORT_DTYPE = {"float64": "f64", "int64": "i64"}


def detail_columns(result: dict) -> tuple:
    """Column titles of the full tables, and the worker counts shown."""
    s = result["settings"]
    hw = s["headline_workers"]
    shown = sorted({1, hw, max(s["workers"])})
    return (["case", "strategy"] + [f"time x{w}" for w in shown]
            + ["speedup", "of ceiling", "vs python", "eff.", "throughput", "heartbeat"]), shown


def detail_legend(result: dict) -> str:
    hw = result["settings"]["headline_workers"]
    return (f"times: median ± half the IQR of one call; speedup (over the same strategy on "
            f"1 worker), of ceiling (pure-Python rows against ceiling-python, compiled rows "
            f"against ceiling), vs python, efficiency and throughput at {hw} workers; "
            f"throughput %: of the memory bandwidth (reads for reduce), shown for arrays "
            f"larger than twice the CPU's largest cache (at most 32 MiB of it counted); "
            f"heartbeat: p99 / max lateness of a 1 ms sleeper")


#: The most of the largest cache a row is taken to have to itself: a server's
#: L3 (hundreds of MiB on some) is shared with every other core and tenant.
CACHE_SHARE = 32 * 2**20


def _in_cache(result: dict, p: dict) -> bool:
    """True when the row's arrays fit twice in the cache this process can count on."""
    llc = result["header"].get("llc_bytes")
    c = Case(p["workload"], p["n"], p["dtype"])
    footprint = c.n * c.itemsize * (2 if c.workload == "map" else 1)
    return llc is not None and footprint <= 2 * min(llc, CACHE_SHARE)


def _figure_cells(result: dict, head) -> list:
    if head is None or head["status"] != "ok":
        return ["-"] * 5
    par = head["workers"] > 1
    if head.get("GBps") is not None:
        tp = fmt_gbps(head["GBps"])
        if _in_cache(result, head):
            tp += " (cache)"
        elif head.get("fraction_of_bandwidth") is not None:
            tp += f" {head['fraction_of_bandwidth']:.0%}"
    else:
        tp = fmt_rate(head["elements_per_s"], "/s")
    return [fmt_x(head["speedup_self"]) if par else "-",
            fmt_pct(head.get("fraction_of_ceiling")) if par else "-",
            fmt_x(head.get("speedup_python")),
            fmt_pct(head.get("efficiency")) if par else "-",
            tp]


def detail_table(result: dict, workload: str) -> Table:
    """Every case of a workload: one row per strategy and size."""
    cols, shown = detail_columns(result)
    hw = result["settings"]["headline_workers"]
    python_sizes = result["settings"].get("python_sizes") or {}
    by_key = {}
    for p in result["points"]:
        if p["workload"] == workload:
            by_key[(p["dtype"] or "", p["n"], p["label"], p["workers"])] = p
    rows: list = []
    notes: list = []
    styles: list = []
    sections: list = []
    not_timed: dict = {}  # (case, reason) -> the pure-Python rows left to other sizes
    for dtype, n in _cases(result, workload):
        case = f"{_SHORT_DTYPE.get(dtype, dtype) + ' ' if dtype else ''}{format_n(n)}"
        first = True
        for label in label_order(result):
            pts = {w: p for (d, m, lab, w), p in by_key.items()
                   if (d, m, lab) == (dtype, n, label)}
            if not pts:
                continue
            if all(p["status"] == "skipped" for p in pts.values()):
                first_pt = next(iter(pts.values()))
                reason = first_pt["reason"]
                if "budget" in reason:
                    notes.append(f"{label}, {case}: {reason}")
                elif kind_of(first_pt) == "python" and n not in python_sizes.get(workload, [n]):
                    not_timed.setdefault((case, reason), []).append(label)
                continue  # strategy-level "does not run this workload"
            head = pts.get(hw) or pts.get(1)
            cells = [case, label]
            for w in shown:
                p = pts.get(w)
                cells.append("" if p is None else fmt_spread(p) if p["status"] == "ok"
                             else "FAILED" if p["status"] == "failed" else "skipped")
            cells += _figure_cells(result, head)
            hb = next((p["heartbeat"] for p in pts.values() if p.get("heartbeat")), None)
            cells.append(f"{fmt_ms(hb['p99_ms'])} / {fmt_ms(hb['max_ms'])}" if hb else "")
            if first:
                sections.append(len(rows))
                first = False
            rows.append(cells)
            styles.append(_row_style(label, pts.values()))
            for p in pts.values():
                if p["status"] == "failed":
                    notes.append(f"FAILED {label} x{p['workers']}, {case}: {p['reason']}")
                elif p.get("note") and f"{label}: {p['note']}" not in notes:
                    notes.append(f"{label}: {p['note']}")
    notes += [f"{', '.join(labels)}, {case}: {reason}"
              for (case, reason), labels in not_timed.items()]
    verdict = result.get("verdicts", {}).get(workload)
    return Table(f"== {workload}: {WORKLOADS[workload]} ==", cols, rows, notes=notes,
                 caption=f"verdict: {verdict}" if verdict else None, text_cols=2,
                 row_styles=styles, sections=sections)


def skipped_strategies(result: dict) -> list:
    return [f"{s['name']}: {s['skip_reason']}" for s in result["strategies"] if s["skip_reason"]]


def _footer_lines(result: dict, brief: bool) -> list:
    out = []
    skipped = [s for s in result["strategies"] if s["skip_reason"]]
    if skipped and brief:
        # interpreters named with --python were asked for: their reason in full
        asked = [s for s in skipped if s["name"].startswith("--python ")]
        others = [s for s in skipped if s not in asked]
        if others:
            out.append("not run here: " + ", ".join(s["name"] for s in others)
                       + " (reasons: --detail or the HTML report)")
        out += [f"{s['name']}: {s['skip_reason']}" for s in asked]
    elif skipped:
        out.append("not run here:")
        out += [f"  {s}" for s in skipped_strategies(result)]
    out += [f"error: {e}" for e in result.get("errors", [])]
    nok = len([p for p in result["points"] if p["status"] == "ok"])
    nfail = len([p for p in result["points"] if p["status"] == "failed"])
    fail = f", {nfail} FAILED" if nfail else ""
    out.append(f"{nok} points measured{fail}, every result checked against the exact value "
               f"first; {fmt_time(result.get('elapsed_s'))} in all.")
    return out


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
    blocks.append(Lines(_footer_lines(result, brief=True), style="dim"))
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
    blocks.append(Lines(_footer_lines(result, brief=False), style="dim"))
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
    blocks.append(Lines(_footer_lines(result, brief=True)[-1:], style="dim"))
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
            case = f"{_SHORT_DTYPE.get(r['dtype'], r['dtype']) + ' ' if r['dtype'] else ''}" \
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
    if not _finite(ratio):
        return "-"
    if abs(ratio - 1) < 0.005:
        return "same"
    if ratio >= 1:
        return f"{fmt_x(ratio)} faster"
    return f"{fmt_x(1 / ratio)} slower"
