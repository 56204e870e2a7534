"""The bench engine: settings, machine header, probes, the measurement loop.

One run goes like this:

1. describe the machine and build (:func:`machine_header`) and measure the
   memory bandwidth with a large array copy (:func:`bandwidth_probe`);
2. for each case (workload x dtype x size), allocate its data once and bind
   every selected strategy at every worker count; check each one's result
   against the exact value (a wrong result is reported as a failure and never
   timed); then time all of them together, interleaved round by round
   (``_portable.measure_interleaved``), so that drift of the host affects
   every row alike;
3. on the largest size of each workload, run the GIL-starvation heartbeat
   next to each strategy;
4. run the pure-Python rows under each ``--python`` interpreter;
5. derive speedups, efficiency, fractions of the ceiling and of the
   bandwidth, and a one-line verdict per workload (:func:`derive`).

The result is a plain dict, ready for ``json.dump`` (schema in
docs/bench.md and :data:`SCHEMA`).
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

import gilfree
from gilfree import _core, _threads

from . import _foreign, _portable
from ._cases import WORKLOADS, Case, CaseData, format_n
from ._registry import NAMES, make_strategies
from ._strategy import Strategy

__all__ = ["SCHEMA", "Progress", "Settings", "bandwidth_for", "bandwidth_probe", "derive",
           "machine_header", "run"]

#: Version tag of the JSON layout; bump it when a field changes meaning.
SCHEMA = "gilfree-bench/1"

DTYPES = ("float64", "int64")


def usable_cpus() -> int:
    """CPUs this process may use (affinity and cgroup quota)."""
    return gilfree.cpu_count()


def default_workers(ncpu: int, full: bool) -> tuple:
    """Worker counts: 1, 2, 4, ... `ncpu`, and 2*`ncpu` (oversubscribed).

    Quick runs keep only 1 and `ncpu` (plus 2 on a 1-CPU machine): the
    oversubscribed point adds a third to the run time and a process pool to
    start, and says little that the full run does not.
    """
    ws = {1, max(2, ncpu)}
    if full:
        p = 2
        while p < ncpu:
            ws.add(p)
            p *= 2
        ws.add(2 * ncpu)
    return tuple(sorted(ws))


@dataclass
class Settings:
    """What one bench run measures, and how carefully.

    Use :meth:`preset` for the ``--quick`` and ``--full`` defaults and
    ``dataclasses.replace`` to change fields.

    Attributes
    ----------
    strategies : tuple of str
        Strategy names, see ``gilfree.bench.STRATEGIES``.
    workloads : tuple of str
        Among ``range``, ``map``, ``reduce``.
    sizes : dict
        Workload name -> tuple of sizes.
    dtypes : dict
        ``map``/``reduce`` -> tuple of dtype names (``float64``, ``int64``).
    workers : tuple of int
        Worker counts for the parallel strategies (1 is always added).
    repeats, warmup : int
        Timed and discarded values per point.
    min_time : float
        Calibration target: seconds per timed value.
    max_call : float
        Points whose one call would take longer are skipped (with reason).
    heartbeat_time : float
        Seconds of the heartbeat probe per strategy and workload; 0: none.
    bandwidth_bytes : int
        Size of the array copied to measure memory bandwidth; 0: no probe.
    pythons : tuple of str
        Other interpreters for the pure-Python rows.
    mode : str
        ``quick``, ``full`` or ``tiny``: the preset it started from.
    """

    strategies: tuple = NAMES
    workloads: tuple = tuple(WORKLOADS)
    sizes: dict = field(default_factory=dict)
    dtypes: dict = field(default_factory=dict)
    workers: tuple = (1,)
    repeats: int = 5
    warmup: int = 1
    min_time: float = 0.02
    max_call: float = 0.5
    heartbeat_time: float = 0.2
    bandwidth_bytes: int = 256 * 2**20
    pythons: tuple = ()
    mode: str = "quick"

    @classmethod
    def preset(cls, mode: str = "quick", ncpu: int | None = None) -> Settings:
        """The ``quick`` (default, < 90 s on 2 cores), ``full`` or ``tiny`` settings.

        Quick sizes are chosen so the pure-Python loops still run at their
        smaller sizes (about 0.05-0.2 s a call) while the kernels see both
        cache-resident (10^4) and memory-bound (10^7: 160 MB moved) arrays.
        """
        ncpu = ncpu or usable_cpus()
        if mode == "quick":
            return cls(
                sizes={"range": (10**6, 10**8), "map": (10**4, 10**5, 10**7),
                       "reduce": (10**4, 10**5, 10**7)},
                dtypes={"map": ("float64", "int64"), "reduce": ("float64",)},
                workers=default_workers(ncpu, full=False),
                # 7, not 5: the headline verdict is a ratio of medians, and
                # on a VM one slow round in five moves it by 10-20%.
                repeats=7, warmup=1, min_time=0.02, max_call=0.5, heartbeat_time=0.2,
                bandwidth_bytes=256 * 2**20, mode="quick")
        if mode == "full":
            return cls(
                sizes={"range": tuple(10**k for k in range(4, 10)),
                       "map": tuple(10**k for k in range(3, 9)),
                       "reduce": tuple(10**k for k in range(3, 9))},
                dtypes={"map": DTYPES, "reduce": DTYPES},
                workers=default_workers(ncpu, full=True),
                repeats=9, warmup=1, min_time=0.05, max_call=1.0, heartbeat_time=0.5,
                bandwidth_bytes=1024 * 2**20, mode="full")
        if mode == "tiny":
            # every code path in a few seconds: for tests and smoke checks;
            # the figures mean nothing
            return cls(
                sizes={"range": (20_000,), "map": (3_000,), "reduce": (3_000,)},
                dtypes={"map": DTYPES, "reduce": DTYPES},
                workers=(1, 2), repeats=2, warmup=1, min_time=1e-4, max_call=5.0,
                heartbeat_time=0.01, bandwidth_bytes=2**20, mode="tiny")
        raise ValueError(f"unknown preset {mode!r}: expected 'quick', 'full' or 'tiny'")

    def cases(self) -> list:
        """The cases in run order: workload, then dtype, then size (ascending)."""
        out = []
        for w in self.workloads:
            for dt in (None,) if w == "range" else self.dtypes.get(w, ("float64",)):
                out += [Case(w, n, dt) for n in sorted(set(self.sizes.get(w, ())))]
        return out

    def worker_counts(self) -> tuple:
        return tuple(sorted(set(self.workers) | {1}))

    def headline_workers(self) -> int:
        """The worker count of the verdicts: the largest not oversubscribed."""
        ws = self.worker_counts()
        fit = [w for w in ws if 1 < w <= usable_cpus()]
        return max(fit) if fit else max(ws)


class Progress:
    """What the engine reports while it runs; this base class shows nothing."""

    def start(self, total: int) -> None:
        """`total` steps are coming."""

    def update(self, what: str, advance: int = 0) -> None:
        """Now doing `what`; `advance` steps are done."""

    def log(self, text: str) -> None:
        """A line worth keeping on screen (a failure, a skipped interpreter)."""

    def stop(self) -> None:
        """The run is over (also on errors)."""


# ---------------------------------------------------------------------------
# the machine and the build
# ---------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        import subprocess

        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                  capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _compiler(cfg: dict) -> str:
    """The compiler that built ``gilfree._core``.

    Read from ``_core.config()`` when the build records it; otherwise from
    the ``.comment`` section compilers leave in ELF objects ("GCC: (...)
    12.2.0", "clang version ..."), else Python's own compiler.
    """
    if cfg.get("compiler"):
        return str(cfg["compiler"])
    try:
        with open(_core.__file__, "rb") as f:
            blob = f.read()
        for tag in (b"GCC: (", b"clang version "):
            i = blob.find(tag)
            if i >= 0:
                j = blob.find(b"\0", i)
                return blob[i:j].decode("ascii", "replace") + " (from the binary)"
    except OSError:
        pass
    return f"unknown (Python was built with {platform.python_compiler()})"


def _blas() -> str | None:
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]
        blas = deps["blas"]
        return f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # the layout of show_config varies across NumPy versions
        return None


def openmp_state() -> dict:
    from ._gilfree import openmp_module

    mod, reason = openmp_module()
    return {"available": mod is not None, "reason": reason}


def machine_header() -> dict:
    """The machine, the interpreter and the build, for the report's header.

    Returns
    -------
    dict
        CPU model, logical/affinity/cgroup/usable CPUs, Python (version,
        build, GIL state), NumPy and BLAS, Cython, compiler and flags,
        OpenMP, gilfree's run-time configuration, thread-related environment
        variables, optional packages, date (UTC).
    """
    cfg = _core.config()
    env_keys = ("GILFREE_NUM_THREADS", "GILFREE_SIMD", "GILFREE_SPIN_US", "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "NUMEXPR_MAX_THREADS", "PYTHON_GIL")
    return {
        "gilfree": gilfree.__version__,
        "cpu_model": _cpu_model(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "logical_cpus": os.cpu_count(),
        "affinity_cpus": _threads._affinity_count(),
        "cgroup_cpu_limit": _threads._cgroup_cpu_limit(),
        "usable_cpus": usable_cpus(),
        "python": _portable.interpreter_info(),
        "numpy": np.__version__,
        "blas": _blas(),
        # the Cython that compiled _core, if the build records it; else the
        # one installed now (often none: it is only needed to build)
        "cython": cfg.get("cython") or _version("Cython"),
        "compiler": _compiler(cfg),
        "cflags": cfg.get("cflags"),
        "openmp": openmp_state(),
        "simd": cfg.get("simd"),
        "gilfree_config": cfg,
        "environment": {k: os.environ[k] for k in env_keys if k in os.environ},
        "optional": {d: _version(d) for d in ("rich", "matplotlib", "numexpr", "numba")},
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    }


def bandwidth_probe(nbytes: int, threads: int, repeats: int = 5) -> dict:
    """Memory bandwidth of a large float64 array, on 1 and N threads: copied,
    and only read.

    The copy reads and writes every byte, as ``map`` does, so its GB/s are
    counted the same way (2 x the array size per copy).  The read probe
    (``np.sum``) reads every byte once, as ``reduce`` does: on many machines
    reads alone move fewer bytes per second than a copy (whose large
    ``memcpy`` uses streaming stores), so ``reduce`` is compared with it.
    Both release the GIL, so the parts on N threads overlap.  The best of
    `repeats` is kept: the probe looks for the machine's capability.

    Parameters
    ----------
    nbytes : int
        Array size; much larger than the last-level cache.
    threads : int
        Threads for the parallel variants.
    repeats : int, optional
        Calls per variant.

    Returns
    -------
    dict
        ``GBps`` (the copy, the best of 1 and N threads), ``GBps_1``,
        ``GBps_threads``, ``GBps_read`` (the read probe, the best of both),
        ``GBps_read_1``, ``GBps_read_threads``, ``threads``, ``bytes``,
        ``method``.
    """
    n = max(1, nbytes // 8)
    src = np.ones(n)
    dst = np.zeros(n)  # written before timing: page faults are not bandwidth
    bounds = _portable.shares(n, threads)

    def copy_part(_, a, b):
        np.copyto(dst[a:b], src[a:b])

    def read_part(_, a, b):
        src[a:b].sum()

    def best(fn):
        fn()
        return min(_portable.time_calls(fn, 1) for _ in range(repeats))

    t1 = best(lambda: np.copyto(dst, src))
    tn = best(lambda: _portable.run_in_threads(copy_part, None, bounds))
    r1 = best(lambda: src.sum())
    rn = best(lambda: _portable.run_in_threads(read_part, None, bounds))
    size = 8 * n
    g1, gn = 2 * size / t1 / 1e9, 2 * size / tn / 1e9
    q1, qn = size / r1 / 1e9, size / rn / 1e9
    return {"GBps": max(g1, gn), "GBps_1": g1, "GBps_threads": gn,
            "GBps_read": max(q1, qn), "GBps_read_1": q1, "GBps_read_threads": qn,
            "threads": threads, "bytes": size,
            "method": f"np.copyto (read + write bytes counted) and np.sum (read bytes) of a "
                      f"{size / 2**20:.0f} MiB float64 array, best of {repeats}"}


def bandwidth_for(bandwidth: dict | None, reads_only: bool) -> tuple:
    """``(GB/s, "reads" or "copy")``: the probe to compare a workload with,
    the read probe for a workload that only reads (when the probe has one),
    else the copy; ``(None, None)`` without a probe."""
    if not bandwidth:
        return None, None
    if reads_only and bandwidth.get("GBps_read"):
        return bandwidth["GBps_read"], "reads"
    return bandwidth.get("GBps"), "copy"


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------


@dataclass
class _Item:
    """One (strategy, workers) row of a case, and its point in the result."""

    strategy: Strategy
    workers: int
    point: dict
    bound: Any = None  # the Bound, once _bind_and_check succeeded

    @property
    def key(self) -> tuple:
        p = self.point
        return (p["label"], self.workers, p["workload"], p["dtype"])


def _point(strategy, label: str, case: Case, workers: int, interpreter: str) -> dict:
    return {"strategy": strategy, "label": label, "interpreter": interpreter,
            "workload": case.workload, "dtype": case.dtype, "n": case.n, "workers": workers,
            "status": "ok", "reason": None, "verified": False, "note": None}


class _Run:
    """State of one run (kept out of module globals so runs can't interfere)."""

    def __init__(self, settings: Settings, progress: Progress):
        self.s = settings
        self.progress = progress
        self.points: list = []
        self.startup: list = []
        self.budget = _portable.Budget(settings.max_call)
        self.host = _portable.interpreter_info()["label"]
        self.cases = settings.cases()
        self.sizes = _portable.series_sizes([c.to_dict() for c in self.cases])
        # The heartbeat probes one dtype per workload: the others show the same.
        self.probe_series: set = set()
        for c in self.cases:
            if not any(w == c.workload for w, _ in self.probe_series):
                self.probe_series.add(c.series)

    def workers_for(self, strategy) -> tuple:
        return self.s.worker_counts() if strategy.parallel else (1,)

    def heartbeat_workers(self, strategy) -> int:
        return self.s.headline_workers() if strategy.parallel else 1

    def run_case(self, data: CaseData, strategies) -> None:
        case = data.case
        self.progress.update(f"{case.label}: checking results")
        items = []
        for s in strategies:
            for w in self.workers_for(s):
                p = _point(s.name, s.name, case, w, self.host)
                self.points.append(p)
                it = _Item(s, w, p)
                reason = (s.case_skip_reason(data, w)
                          or self.budget.skip_reason(it.key, case.n))
                if reason:
                    p.update(status="skipped", reason=reason)
                    continue
                if self._bind_and_check(it, data):
                    items.append(it)
        self.progress.update(f"{case.label}: timing {len(items)} rows", advance=1)

        def tick(what):
            self.progress.update(f"{case.label}: {what}", advance=1)

        if items:
            loops, values = _portable.measure_interleaved(
                [it.bound.time for it in items], repeats=self.s.repeats,
                warmup=self.s.warmup, min_time=self.s.min_time, tick=tick)
            for it, lp, vals in zip(items, loops, values):
                it.point.update(loops=lp, values=vals, **_portable.summarize(vals))
                self.budget.record(it.key, case.n, it.point["median"])
        else:
            self.progress.update(case.label, advance=self.s.repeats + 2)
        self._heartbeats(case, items)
        self.progress.update(case.label, advance=1)

    def _bind_and_check(self, it: _Item, data: CaseData) -> bool:
        """Bind, run once, check the result; False if it must not be timed."""
        p = it.point
        try:
            it.bound = it.strategy.bind(data, it.workers)
            startup = it.strategy.startup(it.workers)
            if startup is not None and not any(
                    (u["strategy"], u["workers"]) == (it.strategy.name, it.workers)
                    for u in self.startup):
                self.startup.append({"strategy": it.strategy.name, "workers": it.workers,
                                     "seconds": startup})
            data.reset_output()
            t0 = time.perf_counter()
            result = it.bound.call()
            dt = time.perf_counter() - t0
            error = data.verify(result, it.bound.modulus)
        except Exception as exc:  # a broken strategy is a finding, not a crash
            error = f"raised {type(exc).__name__}: {exc}"
        p["note"] = it.bound.note if it.bound is not None else None
        if error:
            p.update(status="failed", reason=f"wrong result: {error}")
            self.progress.log(f"FAILED {it.strategy.name} x{it.workers} on "
                              f"{data.case.label}: {error}")
            return False
        p["verified"] = True
        self.budget.record(it.key, data.n, dt)
        reason = self.budget.skip_reason(it.key, data.n)
        if reason:
            p.update(status="skipped", reason=reason.replace("would take ~", "took "))
            return False
        return True

    def _heartbeats(self, case: Case, items) -> None:
        if self.s.heartbeat_time <= 0 or case.series not in self.probe_series:
            return
        for it in items:
            if it.workers == self.heartbeat_workers(it.strategy) and _portable.is_last_size(
                    self.budget, it.key, case.n, self.sizes[case.series]):
                self.progress.update(f"{case.label}: heartbeat next to {it.strategy.name}")
                it.point["heartbeat"] = _portable.heartbeat(it.bound.call, self.s.heartbeat_time)

    def run_foreign(self, python: str) -> dict:
        req = {"workers": list(self.s.worker_counts()), "repeats": self.s.repeats,
               "warmup": self.s.warmup, "min_time": self.s.min_time,
               "max_call": self.s.max_call, "heartbeat": self.s.heartbeat_time,
               "heartbeat_workers": self.s.headline_workers(),
               "heartbeat_series": [list(s) for s in self.probe_series]}

        def step(what):
            self.progress.update(f"{python}: {what}", advance=1)

        info, rows = _foreign.run_foreign(python, self.cases, req, progress=step)
        for row in rows:
            case = Case(row["workload"], row["n"], row["dtype"])
            label = f"{row['strategy']} [{info['label']}]"
            p = _point(row["strategy"], label, case, row["workers"], info["label"])
            p["python"] = info["executable"]
            if row.get("error"):
                p.update(status="failed", reason=row["error"])
                self.progress.log(f"FAILED {label} on {case.label}: {row['error']}")
            elif row.get("skipped") and "values" not in row:
                p.update(status="skipped", reason=row["skipped"],
                         verified=bool(row.get("verified")))
            else:
                p.update(verified=True, loops=row["loops"], values=row["values"],
                         **_portable.summarize(row["values"]))
                if "heartbeat" in row:
                    p["heartbeat"] = row["heartbeat"]
            self.points.append(p)
        return info


def run(settings: Settings, progress: Progress | None = None) -> dict:
    """Run the bench and return every figure as a JSON-ready dict.

    Parameters
    ----------
    settings : Settings
        What to measure (see :meth:`Settings.preset`).
    progress : Progress, optional
        Receives progress updates.

    Returns
    -------
    dict
        ``schema``, ``header``, ``settings``, ``bandwidth``, ``strategies``
        (name, family, summary, skip reason), ``startup`` (pool start-up
        seconds), ``heartbeat_idle``, ``interpreters`` (extra ones), ``points``
        (one per strategy x case x workers, with raw values and derived
        figures), ``verdicts`` (one line per workload), ``errors``,
        ``elapsed_s``.
    """
    progress = progress or Progress()
    t_start = time.perf_counter()
    header = machine_header()
    r = _Run(settings, progress)
    strategies = make_strategies(settings.strategies)
    table = [{"name": s.name, "family": s.family, "summary": s.summary,
              "skip_reason": s.skip_reason()} for s in strategies]
    active = [s for s, t in zip(strategies, table) if t["skip_reason"] is None]
    shared = any(s.needs_shared_memory for s in active)
    steps = len(r.cases) * (settings.repeats + 4) + len(settings.pythons) * len(r.cases) + 2
    errors = []
    interpreters = []
    bandwidth = None
    idle = None
    progress.start(steps)
    try:
        if settings.bandwidth_bytes > 0:
            progress.update("measuring memory bandwidth")
            bandwidth = bandwidth_probe(settings.bandwidth_bytes, settings.headline_workers())
        progress.update("heartbeat baseline", advance=1)
        if settings.heartbeat_time > 0:
            idle = _portable.heartbeat(lambda: time.sleep(0.01), settings.heartbeat_time)
        progress.update("", advance=1)
        for case in r.cases:
            with CaseData.create(case, shared=shared) as data:
                r.run_case(data, active)
        for python in settings.pythons:
            missing = _foreign.missing_reason(python)
            if missing:
                table.append({"name": f"--python {python}", "family": "interpreters",
                              "summary": "pure-Python rows under another interpreter",
                              "skip_reason": missing})
                progress.log(f"--python {python}: skipped, {missing}")
                continue
            try:
                interpreters.append(r.run_foreign(python))
            except _foreign.ForeignError as exc:
                errors.append(str(exc))
                progress.log(f"--python {python}: {exc}")
    finally:
        for s in strategies:
            s.close()
        progress.stop()
    result = {
        "schema": SCHEMA,
        "header": header,
        "settings": _settings_dict(settings),
        "bandwidth": bandwidth,
        "heartbeat_idle": idle,
        "strategies": table,
        "startup": r.startup,
        "interpreters": interpreters,
        "points": r.points,
        "errors": errors,
        "elapsed_s": time.perf_counter() - t_start,
    }
    derive(result)
    return result


def _settings_dict(s: Settings) -> dict:
    d = asdict(s)
    d["workers"] = list(s.worker_counts())
    d["headline_workers"] = s.headline_workers()
    return d


# ---------------------------------------------------------------------------
# derived figures and verdicts
# ---------------------------------------------------------------------------


def derive(result: dict) -> None:
    """Add speedups, efficiency, ceiling and bandwidth fractions, verdicts.

    For each measured point: ``speedup_self`` (same label at 1 worker),
    ``speedup_python`` (the host's ``python`` row of the same case),
    ``efficiency`` (speedup_self / workers), ``ceiling_speedup`` and
    ``fraction_of_ceiling`` (speedup_self / the ceiling's speedup at the same
    case and workers), ``elements_per_s``, ``GBps`` and
    ``fraction_of_bandwidth`` (of the copy probe, or of the read probe for a
    workload that only reads).  Missing references give None.
    """
    ok = [p for p in result["points"] if p["status"] == "ok"]
    med = {(p["label"], p["workload"], p["dtype"], p["n"], p["workers"]): p["median"] for p in ok}
    for p in ok:
        case = (p["workload"], p["dtype"], p["n"])
        t = p["median"]
        one = med.get((p["label"], *case, 1))
        py = med.get(("python", *case, 1))
        c1 = med.get(("ceiling", *case, 1))
        cw = med.get(("ceiling", *case, p["workers"]))
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
    result["verdicts"] = verdicts(result)


def pick(result: dict, label: str, workload: str, workers: int, dtype=None):
    """The measured point of `label` at `workers` with the largest n, or None."""
    cands = [p for p in result["points"]
             if p["status"] == "ok" and p["label"] == label and p["workload"] == workload
             and p["workers"] == workers and (dtype is None or p["dtype"] == dtype)]
    return max(cands, key=lambda p: p["n"]) if cands else None


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
    """One line per workload: what releasing the GIL buys, next to the rest.

    Each figure is the speedup over the same strategy on 1 worker, at the
    headline worker count, at the largest size that strategy ran (its n is
    given when it differs from the GIL-free rows').
    """
    w = result["settings"]["headline_workers"]
    out = {}
    for workload in result["settings"]["workloads"]:
        dtypes = [p["dtype"] for p in result["points"] if p["workload"] == workload]
        if not dtypes:
            continue
        dtype = "float64" if "float64" in dtypes else dtypes[0]
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
                up = [u["seconds"] for u in result["startup"]
                      if u["strategy"] == label and u["workers"] == w]
                if up:
                    text += f" after a {up[0]:.2f} s pool start-up"
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
