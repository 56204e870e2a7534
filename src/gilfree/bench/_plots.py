"""The report's plots (matplotlib): speedup, throughput and heartbeat.

Each figure is drawn from the result dict alone and comes back as PNG bytes,
for ``--plot DIR`` (files, written by :mod:`._report`) and for the HTML report (inline base64).
matplotlib is imported only here, and only when a plot is asked for.
"""

from __future__ import annotations

import io
import math

from ._analysis import bandwidth_for
from ._cases import WORKLOADS, Case, format_n
from ._blocks import fmt_gbps, fmt_ms
from ._tables import label_order

__all__ = ["FIGURES", "PLOT_HINT", "PlotUnavailable", "figure_png", "have_matplotlib"]

#: The figures, in report order.
FIGURES = ("speedup", "throughput", "heartbeat")

PLOT_HINT = "plots need matplotlib: pip install gilfree[plot] (also in gilfree[bench])"


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _machine(result) -> str:
    h = result["header"]
    return f"{h['cpu_model']}, {h['usable_cpus']} CPUs, Python {h['python']['version']}"


def figure_png(result: dict, name: str, dpi: int = 110):
    """The PNG bytes of figure `name` (see :data:`FIGURES`), or None when the
    result has nothing to draw in it (no heartbeat, say)."""
    if not have_matplotlib():
        raise PlotUnavailable(PLOT_HINT)
    draw = {"speedup": _plot_speedup, "throughput": _plot_throughput,
            "heartbeat": _plot_heartbeat}[name]
    fig = draw(result, _machine(result))
    if fig is None:
        return None
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _series(result) -> list:
    seen = []
    for p in result["points"]:
        if p["status"] == "ok" and (p["workload"], p["dtype"]) not in seen:
            seen.append((p["workload"], p["dtype"]))
    order = list(WORKLOADS)
    return sorted(seen, key=lambda s: (order.index(s[0]), s[1] or ""))


def _grid(n: int, min_width: float = 0.0):
    """A figure of `n` panels, at most 3 a row, at least `min_width` inches
    wide (the report shows it at most about 11 inches wide at 110 dpi)."""
    from matplotlib.figure import Figure

    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(max(4.4 * ncols, min_width), 4.0 * nrows + 1.0),
                 layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]
    return fig, axes


def _legend_below(fig, axes, ncols: int = 4) -> None:
    """One legend for every panel, below them, so it covers no line or bar."""
    seen: dict = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, h)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside lower center",
                   ncols=min(ncols, len(seen)), fontsize=9, frameon=False)


def _title(fig, text: str, machine: str) -> None:
    """The figure's title, and the machine on a line of its own (a long CPU
    name must not push the title off the figure)."""
    fig.suptitle(f"{text}\n{machine}", fontsize=11)


def _style(label: str) -> dict:
    """Fixed colours per strategy so every plot reads the same."""
    colors = {"python": "#7f7f7f", "python-threads": "#bcbd22", "python-processes": "#8c564b",
              "subinterpreters": "#e377c2", "free-threaded": "#17becf", "numpy": "#1f77b4",
              "numpy-threads": "#aec7e8", "gilfree-gil": "#d62728", "gilfree-threads": "#ff7f0e",
              "gilfree": "#2ca02c", "gilfree-openmp": "#98df8a",
              "gilfree-parallel-for": "#17a768", "numexpr": "#9467bd",
              "numba": "#c5b0d5", "ceiling": "#000000"}
    colors["ceiling-python"] = "#7f7f7f"
    base = label.split(" [")[0]
    st = {"color": colors.get(base), "marker": "o", "linewidth": 1.6}
    if base in ("ceiling", "ceiling-python"):
        st.update(linewidth=5, alpha=0.3, marker="s")
    if " [" in label:  # another interpreter's rows: dashed
        st.update(linestyle="--", marker="^")
    return st


def _ok(result, **match):
    return [p for p in result["points"] if p["status"] == "ok"
            and all(p[k] == v for k, v in match.items())]


def _plot_speedup(result, machine):
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
        ws = sorted({p["workers"] for p in pts})
        ax.plot(ws, ws, linestyle=":", color="grey", label="ideal (speedup = workers)")
        for label in label_order(result):
            # each strategy at the largest size it ran on several worker
            # counts (the pure-Python rows stop at smaller sizes)
            mine = [p for p in pts if p["label"] == label and p["speedup_self"]]
            sizes = [m for m in {p["n"] for p in mine}
                     if len([p for p in mine if p["n"] == m]) >= 2]
            if not sizes:
                continue
            m = max(sizes)
            line = sorted((p["workers"], p["speedup_self"]) for p in mine if p["n"] == m)
            name = label if m == n else f"{label} (n={format_n(m)})"
            ax.plot(*zip(*line), label=name, **_style(label))
        ax.axvline(result["header"]["usable_cpus"], color="grey", linewidth=0.8, alpha=0.5)
        ax.set_title(f"{workload}{' ' + dtype if dtype else ''}, n={format_n(n)} "
                     f"(else as named)", fontsize=10)
        ax.set_xlabel("workers (threads or processes)")
        ax.set_ylabel("speedup over 1 worker (x)")
        ax.set_xticks(ws)
        ax.grid(True, alpha=0.3)
    _legend_below(fig, axes)
    _title(fig, "Speedup vs workers (vertical line: usable CPUs)", machine)
    return fig


def _plot_throughput(result, machine):
    series = _series(result)
    hw = result["settings"]["headline_workers"]
    fig, axes = _grid(max(1, len(series)))
    for ax, (workload, dtype) in zip(axes, series):
        pts = _ok(result, workload=workload, dtype=dtype)
        arrays = workload != "range"
        for label in label_order(result):
            mine = [p for p in pts if p["label"] == label]
            w = hw if any(p["workers"] == hw for p in mine) else 1
            line = sorted((p["n"], p["GBps"] if arrays else p["elements_per_s"])
                          for p in mine if p["workers"] == w)
            if line:
                ax.plot(*zip(*line), label=f"{label} x{w}", **_style(label))
        bw, kind = bandwidth_for(result.get("bandwidth"), Case(workload, 1, dtype).reads_only)
        if arrays and bw:
            ax.axhline(bw, color="black", linestyle="--", linewidth=1,
                       label=f"memory bandwidth ({kind}) {fmt_gbps(bw)}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{workload}{' ' + dtype if dtype else ''}")
        ax.set_xlabel("n (elements)")
        ax.set_ylabel("memory traffic (GB/s)" if arrays else "throughput (elements/s)")
        ax.grid(True, which="both", alpha=0.3)
    _legend_below(fig, axes)
    _title(fig, f"Throughput vs size at {hw} workers", machine)
    return fig


def _plot_heartbeat(result, machine):
    probed = [p for p in result["points"] if p.get("heartbeat")]
    if not probed:
        return None
    workloads = [w for w in WORKLOADS if any(p["workload"] == w for p in probed)]
    fig, axes = _grid(len(workloads), min_width=9.0)
    idle = result.get("heartbeat_idle")
    for ax, workload in zip(axes, workloads):
        pts = [p for p in probed if p["workload"] == workload]
        order = label_order(result)
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
                       label=f"p99 with nothing running ({fmt_ms(idle['p99_ms'])})")
        ax.set_xticks(list(xs))
        ax.set_xticklabels([f"{p['label']} x{p['workers']}, n={format_n(p['n'])}"
                            for p in pts], rotation=30, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("lateness of a 1 ms sleep (ms)")
        ax.set_title(f"{workload}: while each strategy runs (largest n it ran)", fontsize=10)
        ax.grid(True, axis="y", which="both", alpha=0.3)
    _legend_below(fig, axes, ncols=2)
    _title(fig, "GIL starvation: how late a 1 ms sleeper wakes", machine)
    return fig


