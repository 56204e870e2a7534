"""Derived figures and the three claims, computed from measurements alone.

Everything here is a pure function of the result dict (the JSON's content):
``gilfree bench`` calls :func:`derive` once its measurements are in, and
``gilfree bench --from``/``--compare`` call it again on a saved run, so a
re-rendered report always shows figures computed the same way.  Nothing here
measures or prints.

Two kinds of work, two ceilings
-------------------------------
A row's "fraction of the ceiling" compares its speedup with the best any
strategy can reach *for its kind of work* on this machine:

- pure-Python rows (the loop of ``gilfree._timing._worker``, on threads, processes,
  subinterpreters, Dask, another interpreter) with ``ceiling-python``: N
  independent processes each running the pure-Python loop on its share;
- compiled rows (NumPy, gilfree, numexpr, Numba, Dask over gilfree) with
  ``ceiling``: N independent processes each running the one-thread gilfree
  call on its share.

The two differ: a pure-Python loop is compute-bound at every size, while the
C kernels hit the memory bandwidth on large arrays, where N processes gain
much less.
"""

from __future__ import annotations

from .._timing._loop import HELPS
from ._cases import Case, format_n

__all__ = ["HELPS", "SCHEMA", "bandwidth_for", "claims", "conditions", "derive",
           "headline_size", "kind_of", "pick", "verdicts"]

#: Version tag of the JSON layout; bump it when a field changes meaning.
#: 2: ``ceiling-python`` rows and per-kind ceilings (``ceiling_label``,
#: ``kind``), the best-read bandwidth reference (``reads``, ``read_best``),
#: ``claims``, ``header.llc_bytes``.
SCHEMA = "gilfree-bench/2"

#: The share of timed values that started while another program wanted a
#: CPU from which the machine counts as busy: beyond it the medians of 7
#: values are no longer safe from the other programs.
BUSY_SHARE = 0.2

#: The share of the machine's CPU time the hypervisor gave to other guests
#: (steal) from which no speedup measured here means what it says.
STEAL_SHARE = 0.05

#: A timeline in which none of a strategy's workers ran for this share of
#: the span lost its CPUs to something else (each worker is busy all along).
IDLE_SHARE = 0.25

#: Strategies that run the pure-Python loop (compared with ``ceiling-python``).
PYTHON_KIND = frozenset({"python", "python-threads", "python-processes", "subinterpreters",
                         "free-threaded", "dask-python", "ceiling-python"})


def kind_of(point: dict) -> str:
    """``"python"`` for pure-Python rows (also every ``--python`` row), else ``"c"``."""
    if point["strategy"] in PYTHON_KIND or point.get("python"):
        return "python"
    return "c"


def ceiling_label(kind: str) -> str:
    return "ceiling-python" if kind == "python" else "ceiling"


def bandwidth_for(bandwidth: dict | None, reads_only: bool) -> tuple:
    """``(GB/s, "reads" or "copy")``: the bandwidth to compare a workload with,
    the best read rate for a workload that only reads (when one was
    measured), else the copy; ``(None, None)`` without a bandwidth measurement."""
    if not bandwidth:
        return None, None
    if reads_only and bandwidth.get("GBps_read"):
        return bandwidth["GBps_read"], "reads"
    return bandwidth.get("GBps"), "copy"


def derive(result: dict) -> None:
    """Add speedups, efficiency, ceiling and bandwidth fractions, claims, verdicts.

    For each measured point: ``speedup_self`` (same label at 1 worker),
    ``speedup_python`` (the host's ``python`` row of the same case),
    ``efficiency`` (speedup_self / workers), ``kind`` (``python`` or ``c``),
    ``ceiling_label`` (the ceiling of that kind), ``ceiling_speedup`` and
    ``fraction_of_ceiling`` (speedup_self / that ceiling's speedup at the same
    case and workers), ``elements_per_s``, ``GBps`` and
    ``fraction_of_bandwidth`` (of the copy, or of the best read rate for
    a workload that only reads).  Missing references give None.  Then
    ``claims`` (:func:`claims`) and ``verdicts`` (:func:`verdicts`).
    """
    ok = [p for p in result["points"] if p["status"] == "ok"]
    med = {(p["label"], p["workload"], p["dtype"], p["n"], p["workers"]): p["median"] for p in ok}
    for p in ok:
        case = (p["workload"], p["dtype"], p["n"])
        t = p["median"]
        kind = kind_of(p)
        ceil = ceiling_label(kind)
        one = med.get((p["label"], *case, 1))
        py = med.get(("python", *case, 1))
        c1 = med.get((ceil, *case, 1))
        cw = med.get((ceil, *case, p["workers"]))
        p["kind"] = kind
        p["ceiling_label"] = ceil
        p["speedup_self"] = one / t if one else None
        p["speedup_python"] = py / t if py else None
        p["efficiency"] = p["speedup_self"] / p["workers"] if one else None
        p["ceiling_speedup"] = c1 / cw if (c1 and cw) else None
        p["fraction_of_ceiling"] = (p["speedup_self"] / p["ceiling_speedup"]
                                    if (one and p["ceiling_speedup"]) else None)
        p["elements_per_s"] = p["n"] / t
        c = Case(p["workload"], p["n"], p["dtype"])
        bw, _ = bandwidth_for(result.get("bandwidth"), c.reads_only)
        p["GBps"] = c.bytes_moved / t / 1e9 if c.bytes_moved else None
        p["fraction_of_bandwidth"] = p["GBps"] / bw if (p["GBps"] and bw) else None
    result["claims"] = claims(result)
    result["verdicts"] = verdicts(result)


def _ok(result: dict, **match) -> list:
    return [p for p in result["points"] if p["status"] == "ok"
            and all(p.get(k) == v for k, v in match.items())]


def pick(result: dict, label: str, workload: str, workers: int, dtype=None, n=None):
    """The measured point of `label` at `workers` (at `n`, else the largest n), or None."""
    cands = [p for p in _ok(result, label=label, workload=workload, workers=workers)
             if (dtype is None or p["dtype"] == dtype) and (n is None or p["n"] == n)]
    return max(cands, key=lambda p: p["n"]) if cands else None


def main_dtype(result: dict, workload: str):
    dtypes = [p["dtype"] for p in result["points"] if p["workload"] == workload]
    if not dtypes:
        return None
    return "float64" if "float64" in dtypes else dtypes[0]


def headline_size(result: dict, workload: str, dtype=None):
    """The size a workload's compact table shows: the largest n at which the
    most strategies were measured at the headline worker count (so pure-Python
    and compiled rows sit side by side), or None if nothing ran."""
    w = result["settings"]["headline_workers"]
    count: dict = {}
    for p in _ok(result, workload=workload):
        if (dtype is None or p["dtype"] == dtype) and p["workers"] in (1, w):
            count.setdefault(p["n"], set()).add(p["label"])
    if not count:
        return None
    return max(count, key=lambda n: (len(count[n]), n))


def _startup(result: dict, strategy: str, workers: int):
    up = [u["seconds"] for u in result["startup"]
          if u["strategy"] == strategy and u["workers"] == workers]
    return up[0] if up else None


def _claim_workload(result: dict):
    """The workload the claims are checked on: range (CPU-bound) if it ran."""
    ran = {p["workload"] for p in result["points"] if p["status"] == "ok"}
    for w in ("range", "reduce", "map"):
        if w in ran:
            return w
    return None


def _largest_common(result: dict, labels, workload: str, workers: int, dtype=None):
    """The largest n at which every label in `labels` ran at 1 and `workers`."""
    sizes = None
    for label in labels:
        have = {p["n"] for p in _ok(result, label=label, workload=workload)
                if p["workers"] in (1, workers) and (dtype is None or p["dtype"] == dtype)
                and pick(result, label, workload, 1, dtype, p["n"]) is not None
                and pick(result, label, workload, workers, dtype, p["n"]) is not None}
        sizes = have if sizes is None else sizes & have
    return max(sizes) if sizes else None


def load_busy(header: dict) -> bool:
    """Whether the load average or the run delays say other programs ran.

    The load average before the run counts only the others; at its end it
    also counts the bench's own one or two busy threads, hence the margin.
    ``header.busy_values`` counts the values that started while another
    program was runnable, which catches load that came and went.
    """
    load = header.get("loadavg") or {}
    cpus = header.get("usable_cpus") or 1
    start, end = load.get("start"), load.get("end")
    counts = header.get("busy_values") or {}
    share = counts["busy"] / counts["timed"] if counts.get("timed") else None
    return bool((start is not None and start >= 0.5 * cpus + 0.5)
                or (end is not None and end >= cpus + 1.5)
                or (share is not None and share >= BUSY_SHARE))


def steal_share(header: dict):
    """The share of CPU time stolen by the hypervisor during the run, or None."""
    ct = header.get("cpu_time") or {}
    a, b = ct.get("start"), ct.get("end")
    if not a or not b or b["total"] <= a["total"]:
        return None
    return (b["steal"] - a["steal"]) / (b["total"] - a["total"])


def conditions(result: dict) -> list:
    """Why this run cannot support a verdict: ``[{"id", "reason", "advice"}]``.

    A pure function of what the run recorded: the usable CPUs, the load
    average and run delays of other programs (:func:`load_busy`), CPU steal
    (:func:`steal_share`), and the timelines (a span in which none of a
    strategy's busy workers ran, in at least three strategies: the CPUs went
    to something else).  Empty when nothing stands in the way.
    """
    h = result["header"]
    cpus = h.get("usable_cpus") or 1
    out = []
    if cpus < 2:
        out.append({"id": "cpus", "reason": "only 1 usable CPU: nothing can run in parallel here",
                    "advice": "run on a machine (or a CPU affinity, or a cgroup limit) with "
                              "2 or more CPUs"})
    if load_busy(h):
        load = (h.get("loadavg") or {}).get("start")
        counts = h.get("busy_values") or {}
        words = []
        if load is not None:
            words.append(f"load average {load:.1f} on {cpus} CPUs at the start")
        if counts.get("timed"):
            words.append(f"another program wanted a CPU at "
                         f"{counts['busy'] / counts['timed']:.0%} of the timed values")
        out.append({"id": "load", "reason": "other programs shared the CPUs ("
                    + "; ".join(words) + ")",
                    "advice": "run again when the machine is idle (stop other programs, "
                              "or use a machine of your own)"})
    steal = steal_share(h)
    if steal is not None and steal >= STEAL_SHARE:
        out.append({"id": "steal", "reason": f"the hypervisor gave {steal:.0%} of the CPU "
                                             f"time to other guests (steal)",
                    "advice": "run on a dedicated VM or bare metal, or at a quieter time"})
    gaps = [(s["name"], s["timeline"]["idle"]) for s in result.get("strategies", [])
            if (s.get("timeline") or {}).get("idle") is not None
            and s["timeline"]["idle"] >= IDLE_SHARE]
    if len(gaps) >= 3:
        out.append({"id": "timeline", "reason": "the timelines show gaps in every row ("
                    + ", ".join(f"{n}: no worker ran {g:.0%} of the time" for n, g in gaps)
                    + ")", "advice": "run again when the machine is idle"})
    return out


def _spread_straddles(one: dict, many: dict, threshold: float = HELPS):
    """``(low, high)`` speedups from the quartiles of two timed points when
    they straddle `threshold` (the verdict could go either way), else None."""
    try:
        low, high = one["q1"] / many["q3"], one["q3"] / many["q1"]
    except (KeyError, TypeError, ZeroDivisionError):
        return None
    return (low, high) if low < threshold <= high else None


def _not_measurable(c: dict, reason: str, advice: str) -> None:
    c.update(holds=None, measurable=False, reason=reason, advice=advice)


def claims(result: dict) -> list:
    """The tutorial's three claims, each checked against this run's figures.

    1. ``threads``: threads do not speed up CPU-bound pure Python.  Checked on
       the pure-Python threads row (``python-threads``, or ``free-threaded`` on
       a build without the GIL) at the headline worker count and the largest
       size where it ran, with the heartbeat next to it (how late a 1 ms
       sleeper wakes: the GIL passing between threads).
    2. ``processes``: processes do speed it up, at a start-up cost.  Checked on
       ``python-processes`` against the one-thread loop (``python``) at the
       same size, with the pool's start-up time and the call length from which
       the processes pay off: each call costs ``overhead + t1 / s``, where
       ``t1`` is the one-thread time, ``s`` the ``ceiling-python`` speedup (or
       the worker count without it) and ``overhead`` what the measured call
       took beyond ``t1 / s``; calls pay off from ``t1 = overhead * s /
       (s - 1)``, and the start-up is repaid after ``startup / (1 - 1 /
       speedup)`` seconds of one-thread work.
    3. ``c_nogil``: C code that releases the GIL does speed up.  Checked on
       ``gilfree-threads`` (the same C kernels from N threads, GIL released)
       and ``gilfree`` (the library's own pool), with their fraction of
       ``ceiling``, next to the control ``gilfree-gil`` (the same C from N
       threads with the GIL held).

    Each claim is a dict of figures (no text): ``id``, ``holds`` (True,
    False, or None when it could not be checked, with ``reason``),
    ``workload``, ``n``, ``workers`` and the figures named above.
    """
    w = result["settings"]["headline_workers"]
    workload = _claim_workload(result)
    dtype = None if workload in (None, "range") else main_dtype(result, workload)
    base = {"workload": workload, "dtype": dtype, "workers": w, "holds": None, "reason": None}
    out = []

    # 1. threads
    c = dict(base, id="threads", strategy=None)
    label = next((lab for lab in ("python-threads", "free-threaded")
                  if workload and pick(result, lab, workload, w, dtype)), None)
    if label is None:
        c["reason"] = "no pure-Python threads row was measured"
    else:
        n = _largest_common(result, [label], workload, w, dtype)
        p = pick(result, label, workload, w, dtype, n) if n else None
        if p is None or p["speedup_self"] is None:
            c["reason"] = f"{label} has no 1-worker time to compare with"
        else:
            hb = next((q["heartbeat"] for q in _ok(result, label=label, workload=workload)
                       if q.get("heartbeat")), None)
            idle = result.get("heartbeat_idle")
            c.update(strategy=label, n=p["n"], speedup=p["speedup_self"],
                     fraction_of_ceiling=p.get("fraction_of_ceiling"),
                     gil_enabled=result["header"]["python"].get("gil_enabled", True),
                     heartbeat_p99_ms=hb and hb["p99_ms"], heartbeat_max_ms=hb and hb["max_ms"],
                     idle_p99_ms=idle and idle.get("p99_ms"),
                     holds=p["speedup_self"] < HELPS,
                     spread=_spread_straddles(pick(result, label, workload, 1, dtype, p["n"]),
                                              p))
        c["others"] = [{"label": q["label"], "speedup": q["speedup_self"]}
                       for q in _ok(result, workload=workload, workers=w)
                       if q.get("python") and q["strategy"] in ("python-threads", "free-threaded")
                       and q["speedup_self"] and q is pick(result, q["label"], workload, w, dtype)]
    out.append(c)

    # 2. processes
    c = dict(base, id="processes", strategy="python-processes")
    n = workload and _largest_common(result, ["python-processes"], workload, w, dtype)
    p = pick(result, "python-processes", workload, w, dtype, n) if n else None
    one = pick(result, "python", workload, 1, dtype, n) if n else None
    if p is None or one is None:
        c["reason"] = "python-processes and python were not both measured"
    else:
        speedup = one["median"] / p["median"]
        ceil = pick(result, "ceiling-python", workload, w, dtype, n)
        s = ceil["speedup_self"] if ceil and ceil.get("speedup_self") else float(w)
        overhead = p["median"] - one["median"] / s
        startup = _startup(result, "python-processes", w)
        c.update(n=n, speedup=speedup, speedup_self=p["speedup_self"],
                 fraction_of_ceiling=p.get("fraction_of_ceiling"), call_s=one["median"],
                 startup_s=startup, overhead_s=overhead, ceiling_speedup=s,
                 break_even_call_s=(max(0.0, overhead) * s / (s - 1)) if s > 1 else None,
                 repay_startup_s=(startup / (1 - 1 / speedup)
                                  if startup is not None and speedup > 1 else None),
                 holds=speedup >= HELPS, spread=_spread_straddles(one, p))
    out.append(c)

    # 3. C that releases the GIL
    c = dict(base, id="c_nogil", strategy="gilfree-threads")
    labels = [lab for lab in ("gilfree-threads", "gilfree")
              if workload and pick(result, lab, workload, w, dtype)]
    if not labels:
        c["reason"] = "neither gilfree-threads nor gilfree was measured"
    else:
        n = _largest_common(result, labels, workload, w, dtype)
        rows = {lab: pick(result, lab, workload, w, dtype, n) for lab in labels} if n else {}
        rows = {k: v for k, v in rows.items() if v and v["speedup_self"]}
        if not rows:
            c["reason"] = "no 1-worker time to compare with"
        else:
            ctl = pick(result, "gilfree-gil", workload, w, dtype, n)
            ceil = pick(result, "ceiling", workload, w, dtype, n)
            best = max(v["speedup_self"] for v in rows.values())
            c.update(n=n, rows={k: {"speedup": v["speedup_self"],
                                    "fraction_of_ceiling": v.get("fraction_of_ceiling"),
                                    "speedup_python": v.get("speedup_python")}
                                for k, v in rows.items()},
                     speedup=best, ceiling_speedup=ceil and ceil["speedup_self"],
                     control_speedup=ctl and ctl["speedup_self"],
                     holds=best >= HELPS)
            top = max(rows, key=lambda k: rows[k]["speedup_self"])
            c["spread"] = _spread_straddles(pick(result, top, workload, 1, dtype, n), rows[top])
            if ctl is None:
                gil = result["header"]["python"].get("gil_enabled", True)
                c["control_reason"] = ("no GIL to hold: this interpreter runs free-threaded"
                                       if not gil else "gilfree-gil was not measured")
    out.append(c)

    # The timelines: how much of the time each claim's workers ran at once.
    entries = {e.get("name"): e for e in result.get("strategies", [])}
    for c, name in zip(out, ("python-threads", "python-processes", "gilfree-threads")):
        if c["id"] == "threads" and c.get("strategy"):
            name = c["strategy"]
        if (entries.get(name) or {}).get("overlap") is not None:
            c.update(overlap=entries[name]["overlap"], overlap_strategy=name)

    # What the run recorded of the machine decides whether a verdict stands.
    problems = conditions(result)
    for c in out:
        if c.get("n") is None:
            continue  # not checked: its reason says why
        c["measurable"] = True
        if problems:
            _not_measurable(c, "; ".join(p["reason"] for p in problems), problems[0]["advice"])
        elif c.get("spread"):
            low, high = c["spread"]
            _not_measurable(c, f"the timings' spread puts the speedup between {low:.2f}x and "
                               f"{high:.2f}x, on both sides of {HELPS:.1f}x",
                            "run again with more repeats (--full) on an idle machine")
    return out


def _speedup_text(p: dict, ref_n, ceiling: bool = False) -> str:
    """``1.96x (98% of the ceiling) at n=10^6`` (n only when not `ref_n`)."""
    text = f"{p['speedup_self']:.2f}x"
    if ceiling and p.get("fraction_of_ceiling"):
        text += f" ({p['fraction_of_ceiling']:.0%} of the ceiling)"
    if p["n"] != ref_n:
        text += f" at n={format_n(p['n'])}"
    return text


def _vs_own_processes(result: dict, p: dict) -> str:
    """For another interpreter's threads or subinterpreters row: how it compares with that
    interpreter's own processes on the same loop (its process ceiling), as a
    ratio of speedups and as a ratio of times at the same worker count."""
    if p["strategy"] not in ("python-threads", "free-threaded", "subinterpreters"):
        return ""
    for q in result["points"]:
        if (q["status"] == "ok" and q["strategy"] == "python-processes"
                and q["interpreter"] == p["interpreter"] and q["workload"] == p["workload"]
                and q["n"] == p["n"] and q["workers"] == p["workers"] and q["speedup_self"]):
            return (f" ({p['speedup_self'] / q['speedup_self']:.0%} of its processes' "
                    f"{q['speedup_self']:.2f}x; speed {q['median'] / p['median']:.0%} of theirs)")
    return ""


def verdicts(result: dict) -> dict:
    """One line of text per workload, kept in the JSON for scripts that quote it.

    Each figure is the speedup over the same strategy on 1 worker, at the
    headline worker count, at the largest size that strategy ran (its n is
    given when it differs from the GIL-free rows').
    """
    w = result["settings"]["headline_workers"]
    out = {}
    for workload in result["settings"]["workloads"]:
        if not any(p["workload"] == workload for p in result["points"]):
            continue
        dtype = main_dtype(result, workload)
        main = [pick(result, s, workload, w, dtype) for s in ("gilfree", "gilfree-threads")]
        main = [p for p in main if p and p["speedup_self"]]
        ref_n = max((p["n"] for p in main), default=None)
        parts = []
        if main and ref_n is not None:
            ceil = pick(result, "ceiling", workload, w, dtype)
            ctext = (f"; ceiling {ceil['speedup_self']:.2f}x"
                     if ceil and ceil["n"] == ref_n and ceil["speedup_self"] else "")
            parts.append("releasing the GIL: " + ", ".join(
                f"{p['label']} {_speedup_text(p, ref_n, True)}" for p in main)
                + f" on {w} workers (n={format_n(ref_n)}{ctext})")
        for label, words in (("python-threads", "pure-Python threads"),
                             ("free-threaded", "pure-Python threads without the GIL"),
                             ("gilfree-gil", "same C with the GIL held"),
                             ("python-processes", "processes")):
            p = pick(result, label, workload, w, dtype)
            if p and p["speedup_self"]:
                text = f"{words}: {_speedup_text(p, ref_n)}"
                up = _startup(result, label, w)
                if up is not None:
                    text += f" after a {up:.2f} s pool start-up"
                parts.append(text)
        host = result["header"]["python"]["label"]
        for p in result["points"]:
            if (p["status"] == "ok" and p["interpreter"] != host and p["workload"] == workload
                    and p["workers"] == w and p["strategy"] != "python" and p["speedup_self"]
                    and p is pick(result, p["label"], workload, w, dtype)):
                parts.append(f"{p['label']}: {_speedup_text(p, ref_n)}"
                             + _vs_own_processes(result, p))
        if parts:
            out[workload] = "; ".join(parts)
    return out
