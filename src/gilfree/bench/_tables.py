"""The bench's tables and bars: one compact table per workload for the
summary, the full tables of ``--detail``, and the range speedups as bars,
each built from a result dict alone."""

from __future__ import annotations

from ._analysis import HELPS, headline_size, kind_of, main_dtype, pick
from ._blocks import Bars, Table, fmt_gbps, fmt_ms, fmt_pct, fmt_rate, fmt_spread, fmt_time, fmt_x
from ._cases import WORKLOADS, Case, format_n
from ._registry import NAMES

__all__ = ["compact_table", "detail_columns", "detail_legend", "detail_table", "footer_lines",
           "label_order", "skipped_strategies", "SHORT_DTYPE", "speedup_bars", "workloads_run"]


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


SHORT_DTYPE = {"float64": "f64", "int64": "i64"}


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
        case = f"{SHORT_DTYPE.get(dtype, dtype) + ' ' if dtype else ''}{format_n(n)}"
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


def footer_lines(result: dict, brief: bool) -> list:
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
