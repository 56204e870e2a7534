"""Showing a bench result: terminal table, JSON file, PNG plots, progress bar.

The table uses rich when it is installed (``pip install gilfree[bench]``) and
plain aligned text otherwise; the plots need matplotlib (``pip install
gilfree[plot]``).  Nothing here measures anything: every function reads the
dict returned by ``gilfree.bench.run``.
"""

from __future__ import annotations

import json
import math
import os
import sys

from ._cases import WORKLOADS, Case, format_n
from ._engine import Progress, bandwidth_for
from ._registry import NAMES

__all__ = ["PlotUnavailable", "make_progress", "render", "write_json", "write_plots"]


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


PLOT_HINT = "plots need matplotlib: pip install gilfree[plot]"


def have_rich() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------


def fmt_time(seconds) -> str:
    """``12.3 ms``: three significant digits in the best unit."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            v = seconds / scale
            return f"{v:.3g} {unit}" if v < 1000 else f"{v:.0f} {unit}"
    return "-"  # unreachable


def fmt_spread(p: dict) -> str:
    """Median and half the interquartile range in percent: ``12.3 ms ±2%``."""
    t = fmt_time(p["median"])
    if p["median"] > 0 and p.get("q3") is not None:
        half_iqr = (p["q3"] - p["q1"]) / 2 / p["median"]
        t += f" ±{half_iqr:.0%}"
    return t


def fmt_x(v) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}x" if v < 10 else f"{v:.3g}x" if v < 1000 else f"{v:,.0f}x"


def fmt_rate(v, unit: str) -> str:
    if v is None:
        return "-"
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g} {prefix}{unit}"
    return f"{v:.3g} {unit}"


def _label_order(result: dict) -> list:
    """Host strategies in registry order, then other interpreters' rows."""
    labels = []
    for p in result["points"]:
        if p["label"] not in labels:
            labels.append(p["label"])
    rank = {n: i for i, n in enumerate(NAMES)}
    return sorted(labels, key=lambda lab: (lab not in rank, rank.get(lab, 0), lab))


def _cases(result: dict, workload: str) -> list:
    keys = {(p["dtype"] or "", p["n"]) for p in result["points"] if p["workload"] == workload}
    return sorted(keys)


def header_lines(result: dict) -> list:
    """The machine and build, in a few lines."""
    h = result["header"]
    py = h["python"]
    cg = h["cgroup_cpu_limit"]
    blas = f" with {h['blas']}" if h.get("blas") else ""
    lines = [
        f"gilfree {h['gilfree']} bench ({result['settings']['mode']}) on {h['cpu_model']}: "
        f"{h['logical_cpus']} logical CPUs, affinity {h['affinity_cpus']}, cgroup limit "
        f"{'none' if cg is None else f'{cg:g}'}, usable {h['usable_cpus']}",
        f"Python {py['version']} ({py['implementation']}, "
        f"{'free-threaded build' if py['free_threaded_build'] else 'GIL build'}, "
        f"GIL {'enabled' if py['gil_enabled'] else 'disabled'}); NumPy {h['numpy']}{blas}; "
        f"Cython {h['cython'] or 'unknown'}",
        f"compiler {h['compiler']}; flags {h['cflags'] or 'not recorded by this build'}; "
        f"SIMD {h['simd']}; OpenMP {'yes' if h['openmp']['available'] else 'no'}",
    ]
    bw = result.get("bandwidth")
    if bw:
        lines.append(f"memory bandwidth (array copy): {bw['GBps']:.1f} GB/s "
                     f"(1 thread {bw['GBps_1']:.1f}, {bw['threads']} threads "
                     f"{bw['GBps_threads']:.1f})")
        if bw.get("GBps_read"):
            lines.append(f"memory bandwidth (reads only, np.sum; reduce is compared with it): "
                         f"{bw['GBps_read']:.1f} GB/s (1 thread {bw['GBps_read_1']:.1f}, "
                         f"{bw['threads']} threads {bw['GBps_read_threads']:.1f})")
    idle = result.get("heartbeat_idle")
    if idle:
        lines.append(f"heartbeat with nothing running: p50 {idle['p50_ms']:.2f} ms, "
                     f"p99 {idle['p99_ms']:.2f} ms, max {idle['max_ms']:.2f} ms late")
    if result["startup"]:
        pools: dict = {}
        for u in result["startup"]:
            pools.setdefault((u["workers"], u["seconds"]), []).append(u["strategy"])
        lines.append("pool start-up, not in the times below: " + "; ".join(
            f"{' and '.join(names)} x{w}: {sec:.2f} s" for (w, sec), names in pools.items()))
    if h["environment"]:
        lines.append("environment: " + " ".join(f"{k}={v}" for k, v in h["environment"].items()))
    return lines


def table_columns(result: dict) -> tuple:
    """Column titles of the workload tables, and the worker counts shown.

    Times are shown for 1 worker, the headline count (the CPUs) and the
    largest count; every other figure is at the headline count.  The titles
    are short so a table fits about 110 columns.
    """
    s = result["settings"]
    hw = s["headline_workers"]
    shown = sorted({1, hw, max(s["workers"])})
    return (["case", "strategy"] + [f"time x{w}" for w in shown]
            + ["speedup", "of ceiling", "vs python", "eff.", "throughput", "heartbeat"]), shown


def table_legend(result: dict) -> str:
    """One line explaining the columns."""
    hw = result["settings"]["headline_workers"]
    return (f"times: median ± half the IQR of one call; speedup (over the same strategy on "
            f"1 worker), of ceiling, vs python, efficiency and throughput at {hw} workers; "
            f"heartbeat: p99/max lateness of a 1 ms sleeper, in ms")


_SHORT_DTYPE = {"float64": "f64", "int64": "i64"}


def table_rows(result: dict, workload: str) -> tuple:
    """Rows (lists of str) of one workload's table, and the notes under it."""
    _, shown = table_columns(result)
    hw = result["settings"]["headline_workers"]
    by_key = {}
    for p in result["points"]:
        if p["workload"] == workload:
            by_key[(p["dtype"] or "", p["n"], p["label"], p["workers"])] = p
    rows, notes = [], []
    for dtype, n in _cases(result, workload):
        case = f"{_SHORT_DTYPE.get(dtype, dtype) + ' ' if dtype else ''}{format_n(n)}"
        for label in _label_order(result):
            pts = {w: p for (d, m, lab, w), p in by_key.items()
                   if (d, m, lab) == (dtype, n, label)}
            if not pts:
                continue
            if all(p["status"] == "skipped" for p in pts.values()):
                reason = next(iter(pts.values()))["reason"]
                if "budget" in reason:
                    notes.append(f"{label}, {case}: {reason}")
                continue  # strategy-level "does not run this workload"
            head = pts.get(hw) or pts.get(1)
            cells = [case, label]
            for w in shown:
                p = pts.get(w)
                cells.append("" if p is None else fmt_spread(p) if p["status"] == "ok"
                             else "FAILED" if p["status"] == "failed" else "skipped")
            cells += _figure_cells(head)
            hb = next((p["heartbeat"] for p in pts.values() if p.get("heartbeat")), None)
            cells.append(f"{hb['p99_ms']:.2g}/{hb['max_ms']:.2g}" if hb else "")
            rows.append(cells)
            for p in pts.values():
                if p["status"] == "failed":
                    notes.append(f"FAILED {label} x{p['workers']}, {case}: {p['reason']}")
                elif p.get("note") and f"{label}: {p['note']}" not in notes:
                    notes.append(f"{label}: {p['note']}")
    return rows, notes


def _figure_cells(head) -> list:
    """speedup, of ceiling, vs python, eff., throughput of the headline point."""
    if head is None or head["status"] != "ok":
        return ["-"] * 5
    par = head["workers"] > 1
    pct = head.get("fraction_of_ceiling")
    if head.get("GBps") is not None:
        tp = f"{head['GBps']:.3g} GB/s"
        if head.get("fraction_of_bandwidth") is not None:
            tp += f" {head['fraction_of_bandwidth']:.0%}"
    else:
        tp = fmt_rate(head["elements_per_s"], "/s")
    return [fmt_x(head["speedup_self"]) if par else "-",
            f"{pct:.0%}" if par and pct is not None else "-",
            fmt_x(head.get("speedup_python")),
            f"{head['efficiency']:.0%}" if par and head.get("efficiency") else "-",
            tp]


def skipped_strategies(result: dict) -> list:
    return [f"{s['name']}: {s['skip_reason']}" for s in result["strategies"] if s["skip_reason"]]


# ---------------------------------------------------------------------------
# the terminal report
# ---------------------------------------------------------------------------


def render(result: dict, file=None, use_rich: bool | None = None) -> None:
    """Print the header, one table per workload with its verdict, and skips.

    Parameters
    ----------
    result : dict
        From ``gilfree.bench.run``.
    file : file, optional
        Where to print (default ``sys.stdout``).
    use_rich : bool, optional
        Force rich on or off; default: rich if installed.
    """
    file = sys.stdout if file is None else file
    if use_rich is None:
        use_rich = have_rich()
    cols, _ = table_columns(result)
    workloads = [w for w in WORKLOADS if any(p["workload"] == w for p in result["points"])]
    if use_rich:
        _render_rich(result, file, cols, workloads)
    else:
        _render_plain(result, file, cols, workloads)


def _render_plain(result, file, cols, workloads) -> None:
    out = file.write
    for line in header_lines(result):
        out(line + "\n")
    out(table_legend(result) + "\n")
    for w in workloads:
        rows, notes = table_rows(result, w)
        out(f"\n== {w}: {WORKLOADS[w]} ==\n")
        widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
                  for i, c in enumerate(cols)]
        out(_plain_line(cols, widths))
        out("  ".join("-" * x for x in widths) + "\n")
        for r in rows:
            out(_plain_line(r, widths))
        if w in result.get("verdicts", {}):
            out(f"verdict: {result['verdicts'][w]}\n")
        for n in notes:
            out(f"  note: {n}\n")
    _render_footer(result, out)


def _plain_line(cells, widths) -> str:
    """Text columns left-aligned, figures right-aligned."""
    return "  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i])
                     for i, c in enumerate(cells)).rstrip() + "\n"


def _render_footer(result, out) -> None:
    skipped = skipped_strategies(result)
    if skipped:
        out("\nnot run here:\n")
        for s in skipped:
            out(f"  {s}\n")
    for e in result.get("errors", []):
        out(f"error: {e}\n")
    out(f"\n{len([p for p in result['points'] if p['status'] == 'ok'])} points measured, "
        f"every result checked against the exact value first; "
        f"{result['elapsed_s']:.0f} s in all.\n")


def _render_rich(result, file, cols, workloads) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    width = None if file.isatty() else 200
    console = Console(file=file, width=width, highlight=False)
    for line in header_lines(result):
        console.print(line, markup=False)
    console.print(table_legend(result), markup=False, style="dim")
    for w in workloads:
        rows, notes = table_rows(result, w)
        table = Table(title=f"{w}: {WORKLOADS[w]}", box=box.SIMPLE_HEAD, title_justify="left",
                      caption=f"verdict: {result['verdicts'][w]}" if w in result.get(
                          "verdicts", {}) else None, caption_justify="left")
        for i, c in enumerate(cols):
            table.add_column(c, justify="left" if i < 2 else "right", no_wrap=i == 1,
                             style="bold" if c == "speedup" else None)
        last = None
        for r in rows:
            if last is not None and r[0] != last:
                table.add_section()
            last = r[0]
            style = "red" if "FAILED" in r else "green" if r[1] in ("gilfree", "ceiling") else None
            table.add_row(*r, style=style)
        console.print(table)
        for n in notes:
            console.print(f"  note: {n}", markup=False, style="red" if n.startswith("FAILED")
                          else "dim")
    footer: list = []
    _render_footer(result, footer.append)
    console.print("".join(footer).rstrip("\n"), markup=False)


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------


def write_json(result: dict, path: str) -> str:
    """Write `result` as JSON (NaN and inf become null); return the path."""

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(clean(result), f, indent=1, allow_nan=False)
        f.write("\n")
    return path


# ---------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------


def _series(result) -> list:
    seen = []
    for p in result["points"]:
        if p["status"] == "ok" and (p["workload"], p["dtype"]) not in seen:
            seen.append((p["workload"], p["dtype"]))
    order = list(WORKLOADS)
    return sorted(seen, key=lambda s: (order.index(s[0]), s[1] or ""))


def _grid(n: int):
    from matplotlib.figure import Figure

    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(5.2 * ncols, 4.2 * nrows), layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]
    return fig, axes


def _style(label: str) -> dict:
    """Fixed colours per strategy so every plot reads the same."""
    colors = {"python": "#7f7f7f", "python-threads": "#bcbd22", "python-processes": "#8c564b",
              "subinterpreters": "#e377c2", "free-threaded": "#17becf", "numpy": "#1f77b4",
              "numpy-threads": "#aec7e8", "gilfree-gil": "#d62728", "gilfree-threads": "#ff7f0e",
              "gilfree": "#2ca02c", "gilfree-openmp": "#98df8a", "numexpr": "#9467bd",
              "numba": "#c5b0d5", "ceiling": "#000000"}
    base = label.split(" [")[0]
    st = {"color": colors.get(base), "marker": "o", "linewidth": 1.6}
    if base == "ceiling":
        st.update(linewidth=3, alpha=0.35, marker="s")
    if " [" in label:  # another interpreter's rows: dashed
        st.update(linestyle="--", marker="^")
    return st


def write_plots(result: dict, outdir: str) -> list:
    """Write speedup.png, throughput.png and heartbeat.png into `outdir`.

    Raises
    ------
    PlotUnavailable
        If matplotlib is not installed.

    Returns
    -------
    list of str
        The paths written.
    """
    if not have_matplotlib():
        raise PlotUnavailable(PLOT_HINT)
    os.makedirs(outdir, exist_ok=True)
    machine = (f"{result['header']['cpu_model']}, {result['header']['usable_cpus']} CPUs, "
               f"Python {result['header']['python']['version']}")
    paths = [_plot_speedup(result, outdir, machine), _plot_throughput(result, outdir, machine)]
    hb = _plot_heartbeat(result, outdir, machine)
    if hb:
        paths.append(hb)
    return paths


def _ok(result, **match):
    return [p for p in result["points"] if p["status"] == "ok"
            and all(p[k] == v for k, v in match.items())]


def _plot_speedup(result, outdir, machine) -> str:
    series = _series(result)
    fig, axes = _grid(max(1, len(series)))
    for ax, (workload, dtype) in zip(axes, series):
        pts = _ok(result, workload=workload, dtype=dtype)
        # the largest size at which some strategy ran at several worker counts
        multi = [p["n"] for p in pts if p["workers"] > 1]
        if not multi:
            ax.set_axis_off()
            continue
        n = max(multi)
        ws = sorted({p["workers"] for p in pts if p["n"] == n})
        ax.plot(ws, ws, linestyle=":", color="grey", label="ideal (speedup = workers)")
        for label in _label_order(result):
            line = sorted((p["workers"], p["speedup_self"]) for p in pts
                          if p["label"] == label and p["n"] == n and p["speedup_self"])
            if len(line) >= 2:
                ax.plot(*zip(*line), label=label, **_style(label))
        ax.axvline(result["header"]["usable_cpus"], color="grey", linewidth=0.8, alpha=0.5)
        ax.set_title(f"{workload}{' ' + dtype if dtype else ''}, n={format_n(n)}")
        ax.set_xlabel("workers (threads or processes)")
        ax.set_ylabel("speedup over the same strategy on 1 worker (x)")
        ax.set_xticks(ws)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Speedup vs workers (vertical line: usable CPUs) - {machine}")
    path = os.path.join(outdir, "speedup.png")
    fig.savefig(path, dpi=110)
    return path


def _plot_throughput(result, outdir, machine) -> str:
    series = _series(result)
    hw = result["settings"]["headline_workers"]
    fig, axes = _grid(max(1, len(series)))
    for ax, (workload, dtype) in zip(axes, series):
        pts = _ok(result, workload=workload, dtype=dtype)
        arrays = workload != "range"
        for label in _label_order(result):
            mine = [p for p in pts if p["label"] == label]
            w = hw if any(p["workers"] == hw for p in mine) else 1
            line = sorted((p["n"], p["GBps"] if arrays else p["elements_per_s"])
                          for p in mine if p["workers"] == w)
            if line:
                ax.plot(*zip(*line), label=f"{label} x{w}", **_style(label))
        bw, probe = bandwidth_for(result.get("bandwidth"), Case(workload, 1, dtype).reads_only)
        if arrays and bw:
            ax.axhline(bw, color="black", linestyle="--", linewidth=1,
                       label=f"memory bandwidth ({probe}) {bw:.1f} GB/s")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{workload}{' ' + dtype if dtype else ''}")
        ax.set_xlabel("n (elements)")
        ax.set_ylabel("memory traffic (GB/s)" if arrays else "throughput (elements/s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"Throughput vs size at {hw} workers - {machine}")
    path = os.path.join(outdir, "throughput.png")
    fig.savefig(path, dpi=110)
    return path


def _plot_heartbeat(result, outdir, machine):
    probed = [p for p in result["points"] if p.get("heartbeat")]
    if not probed:
        return None
    workloads = [w for w in WORKLOADS if any(p["workload"] == w for p in probed)]
    fig, axes = _grid(len(workloads))
    idle = result.get("heartbeat_idle")
    for ax, workload in zip(axes, workloads):
        pts = [p for p in probed if p["workload"] == workload]
        order = _label_order(result)
        pts.sort(key=lambda p: order.index(p["label"]))
        xs = range(len(pts))
        colors = {"p50": "#1f77b4", "p99": "#ff7f0e", "max": "#d62728"}
        for k, (key, name) in enumerate((("p50_ms", "p50"), ("p99_ms", "p99"),
                                         ("max_ms", "max"))):
            vals = [max(p["heartbeat"][key], 1e-3) for p in pts]  # log axis: no zeros
            ax.bar([x + (k - 1) * 0.27 for x in xs], vals, width=0.27, color=colors[name],
                   label=f"{name} lateness")
        if idle:
            ax.axhline(max(idle["p99_ms"], 1e-3), color="black", linestyle="--", linewidth=1,
                       label=f"p99 with nothing running ({idle['p99_ms']:.2f} ms)")
        ax.set_xticks(list(xs))
        ax.set_xticklabels([f"{p['label']} x{p['workers']}, n={format_n(p['n'])}"
                            for p in pts], rotation=45, ha="right", fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("lateness of a 1 ms sleep (ms)")
        ax.set_title(f"{workload}: heartbeat while each strategy runs (largest n it ran)",
                     fontsize=10)
        ax.grid(True, axis="y", which="both", alpha=0.3)
    # one legend for all panels, below them, so it hides no bar
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    fig.suptitle(f"GIL starvation: how late a 1 ms sleeper wakes - {machine}")
    path = os.path.join(outdir, "heartbeat.png")
    fig.savefig(path, dpi=110)
    return path


# ---------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------


class _LineProgress(Progress):
    """One rewritten status line on a terminal; nothing when piped."""

    def __init__(self, stream):
        self.stream = stream
        self.total = 1
        self.done = 0
        self.tty = stream.isatty()

    def start(self, total: int) -> None:
        self.total = max(1, total)

    def update(self, what: str, advance: int = 0) -> None:
        self.done += advance
        if self.tty:
            pct = min(100, 100 * self.done // self.total)
            self.stream.write(f"\r\033[K[{pct:3d}%] {what}"[:200])
            self.stream.flush()

    def log(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()

    def stop(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


class _RichProgress(Progress):
    def __init__(self, stream):
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RP

        self.console = Console(file=stream)
        self.bar = RP(TextColumn("{task.percentage:>3.0f}%"), BarColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=self.console, transient=True)
        self.task = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("starting", total=max(1, total))

    def update(self, what: str, advance: int = 0) -> None:
        self.bar.update(self.task, description=what, advance=advance)

    def log(self, text: str) -> None:
        self.console.print(text, markup=False)

    def stop(self) -> None:
        self.bar.stop()


def make_progress(enabled: bool = True, stream=None) -> Progress:
    """A progress display on `stream` (stderr): rich's bar, else a status line."""
    stream = sys.stderr if stream is None else stream
    if not enabled:
        return Progress()
    if have_rich() and stream.isatty():
        return _RichProgress(stream)
    return _LineProgress(stream)
