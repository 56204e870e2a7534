"""Tests of the bench's mechanics (``gilfree bench``), on tiny sizes.

Nothing here checks performance: the figures of a tiny run mean nothing.  The
tests check that every strategy runs and that its result is verified, that a
wrong result is caught, that skip reasons are given, that the JSON, table and
plots are written, that shared memory is released even on Ctrl-C, and that
bad command lines exit with status 2 and a clear message.
"""

from __future__ import annotations

import ast
import contextlib
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import types
from dataclasses import replace

import numpy as np
import pytest

# pytest-run-parallel (free-threaded CI): the bench starts, counts and times its own
# threads and processes; four copies at once would only measure each other.
pytestmark = pytest.mark.thread_unsafe(reason="the bench counts and times its own threads")

import gilfree
from gilfree import __main__ as cli
from gilfree import _core, bench
from gilfree._timing import _client, _loop, _worker
from gilfree.bench import _cases, _numpy, _report
from gilfree.bench._cases import Case, CaseData
from gilfree.bench._engine import Settings, default_workers


def _tiny(**changes) -> Settings:
    return replace(Settings.preset("tiny"), **changes)


def _shm_leftovers() -> list:
    return glob.glob(f"/dev/shm/{_cases.SHM_PREFIX}-{os.getpid()}-*")


@pytest.fixture(scope="module")
def result():
    """One tiny run of every strategy, shared by the tests that only read it."""
    return bench.run(_tiny())


# ---------------------------------------------------------------------------
# the portable core
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n, parts", [(0, 1), (0, 3), (1, 2), (10, 3), (7, 7), (1000, 4)])
def test_shares_cover_the_range_evenly(n, parts):
    bounds = _worker.shares(n, parts)
    assert len(bounds) == parts
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(b0[1] == b1[0] for b0, b1 in zip(bounds, bounds[1:]))
    sizes = [b - a for a, b in bounds]
    assert max(sizes) - min(sizes) <= 1


def test_shares_rejects_zero_parts():
    with pytest.raises(ValueError, match="parts"):
        _worker.shares(10, 0)


def test_run_in_threads_reraises_and_joins():
    def boom(data, a, b):
        if a:
            raise ZeroDivisionError("share failed")
        return a

    before = threading.active_count()
    with pytest.raises(ZeroDivisionError, match="share failed"):
        _worker.run_in_threads(boom, None, _worker.shares(4, 2))
    assert threading.active_count() == before


def test_values_match_between_numpy_and_stdlib():
    for dtype in ("float64", "int64"):
        arr = _worker.make_values(50, dtype)
        np.testing.assert_array_equal(np.frombuffer(arr, dtype=dtype),
                                      _cases.values_block(0, 50, dtype))


def test_calibrate_grows_loops_for_short_calls():
    assert _loop.calibrate(lambda loops: 1.0, min_time=0.01) == 1
    # the first call (one-time costs) is not what the loop count is set from
    first = iter([1.0])
    assert _loop.calibrate(lambda loops: next(first, 0.004 * loops), min_time=0.01) == 3
    loops = _loop.calibrate(lambda k: _worker.time_calls(lambda: None, k), 1e-3)
    assert loops > 1


def test_measure_interleaved_rotates_the_order():
    calls = []

    def timer(name):
        def t(loops):
            calls.append(name)
            return 1.0  # always "long enough": one loop
        return t

    loops, values = _loop.measure_interleaved(
        [timer("a"), timer("b"), timer("c")], repeats=3, warmup=0, min_time=0.1)
    assert loops == [1, 1, 1]
    assert [len(v) for v in values] == [3, 3, 3]
    assert calls[:6] == ["a", "a", "b", "b", "c", "c"]  # an untimed call, then calibration
    rounds = calls[6:]
    assert rounds == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]


def test_measure_interleaved_primed_skips_the_untimed_call():
    calls = []

    def timer(name):
        def t(loops):
            calls.append(name)
            return 1.0
        return t

    loops, values = _loop.measure_interleaved(
        [timer("a"), timer("b")], repeats=2, warmup=0, min_time=0.1, primed=True)
    assert loops == [1, 1] and calls == ["a", "b", "a", "b", "b", "a"]


def test_a_runaway_value_recalibrates_its_timer(monkeypatch):
    """A row calibrated at 1 ms a call that turns 100x slower gets fewer calls
    per value from then on; values stay seconds per call."""
    monkeypatch.setattr(_loop, "settle", lambda timeout=0: 0.0)
    per_call = iter([1e-3] * 2 + [0.1] * 10)
    seen = []

    def timed(loops):
        seen.append(loops)
        return loops * next(per_call)

    loops, values = _loop.measure_interleaved([timed], repeats=3, warmup=0,
                                                  min_time=0.01, primed=True)
    assert seen[:2] == [1, 12] and seen[2] == 12 and seen[3:] == [1, 1]
    assert loops == [1] and values[0] == pytest.approx([0.1, 0.1, 0.1])


@pytest.mark.skipif(_loop._procs_running() is None, reason="needs /proc/stat (Linux)")
@pytest.mark.thread_unsafe(reason="counts runnable tasks on the whole machine")
def test_settle_waits_until_only_this_thread_runs(monkeypatch):
    counts = iter([3, 3, 2, 2, 1, 5])
    monkeypatch.setattr(_loop, "_procs_running", lambda: next(counts))
    monkeypatch.setattr(_loop, "_own_runnable", lambda: 0)  # other programs
    monkeypatch.setattr(_loop, "_settle_misses", [0])
    waited = _loop.settle(timeout=5.0)
    assert waited < 1.0 and next(counts) == 5  # stopped at the first 1


def test_settle_gives_up_after_its_timeout(monkeypatch):
    monkeypatch.setattr(_loop, "_procs_running", lambda: 4)
    monkeypatch.setattr(_loop, "_own_runnable", lambda: 1)
    monkeypatch.setattr(_loop, "_settle_misses", [0])
    assert 0.05 <= _loop.settle(timeout=0.05) < 1.0
    monkeypatch.setattr(_loop, "_procs_running", lambda: None)  # not Linux
    assert _loop.settle(timeout=5.0) < 0.5


def test_settle_on_a_busy_machine_waits_for_its_own_threads_only(monkeypatch):
    """After SETTLE_MISSES_BUSY waits ran out of time, other programs keep the
    machine busy: settle no longer waits for them, but still for threads of
    this process (a BLAS pool spinning down), and one quiet moment ends it."""
    # A fake clock, one step per reading, and a sleep that only counts: the
    # waits are decided by the logic, not by how busy the test machine is.
    now = [0.0]
    sleeps = []

    def clock():
        now[0] += 0.001
        return now[0]

    monkeypatch.setattr(_loop, "perf_counter", clock)
    monkeypatch.setattr(_loop, "time", types.SimpleNamespace(sleep=sleeps.append))
    monkeypatch.setattr(_loop, "_procs_running", lambda: 4)
    monkeypatch.setattr(_loop, "_own_runnable", lambda: 0)
    misses = [0]
    monkeypatch.setattr(_loop, "_settle_misses", misses)
    for _ in range(_loop.SETTLE_MISSES_BUSY):
        assert _loop.settle(timeout=0.03) >= 0.03  # still waiting for the others
    del sleeps[:]
    _loop.settle(timeout=5.0)
    assert sleeps == []  # busy: they are not ours to wait out
    own = iter([2, 1, 1, 0])
    monkeypatch.setattr(_loop, "_own_runnable", lambda: next(own, 0))
    _loop.settle(timeout=5.0)
    assert len(sleeps) == 3 and next(own, "done") == "done"  # until its own threads stop
    # where /proc cannot tell whose threads run: the short busy wait
    monkeypatch.setattr(_loop, "_own_runnable", lambda: None)
    waited = _loop.settle(timeout=5.0)
    assert _loop.SETTLE_BUSY_TIMEOUT <= waited < 0.5
    monkeypatch.setattr(_loop, "_procs_running", lambda: 1)
    _loop.settle(timeout=5.0)
    assert misses == [0]  # quiet again: the next waits are full ones


@contextlib.contextmanager
def _spinning_child():
    """A child process that busy-loops for up to 2 s, running by the time
    the block starts; killed when it ends."""
    spin = "import time\nend = time.perf_counter() + 2\nwhile time.perf_counter() < end: pass"
    p = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.2)
        yield p
    finally:
        p.kill()
        p.wait()


@pytest.mark.skipif(_loop._own_runnable() is None, reason="needs /proc/self/task (Linux)")
@pytest.mark.thread_unsafe(reason="counts this process's runnable threads")
def test_own_runnable_counts_a_spinning_child():
    with _spinning_child():
        assert max(_loop._own_runnable() for _ in range(20)) >= 1
    assert _loop._own_runnable() is not None


@pytest.mark.skipif(_loop._procs_running() is None, reason="needs /proc/stat (Linux)")
@pytest.mark.thread_unsafe(reason="counts runnable tasks on the whole machine")
def test_a_spinning_process_counts_as_runnable():
    # A process, not a Python thread: a thread waiting for the GIL sleeps,
    # so it would not count as runnable; BLAS threads spin without it.
    with _spinning_child():
        # this thread and the spinner, whatever else the machine runs
        assert max(_loop._procs_running() for _ in range(20)) >= 2


def test_summarize():
    s = _loop.summarize([3.0, 1.0, 2.0, 4.0, 5.0])
    assert s["median"] == 3.0 and s["min"] == 1.0 and s["max"] == 5.0 and s["count"] == 5
    assert s["q1"] <= s["median"] <= s["q3"]
    one = _loop.summarize([2.0])
    assert one["q1"] == one["q3"] == 2.0


@pytest.mark.parametrize("seed", range(20))
def test_summarize_matches_statistics(seed):
    """The portable median and quartiles (no ``statistics`` on Python 2) give
    the same floats as the standard library's, even and odd lengths alike."""
    import random
    import statistics

    rng = random.Random(seed)
    vals = [rng.lognormvariate(-7, 1) for _ in range(rng.randint(2, 40))]
    s = _loop.summarize(vals)
    q1, q2, q3 = statistics.quantiles(vals, n=4, method="inclusive")
    assert (s["q1"], s["q3"]) == (q1, q3)
    assert s["median"] == statistics.median(vals) == _loop.median(vals)


def test_budget_extrapolates_only_from_meaningful_times():
    b = _loop.Budget(max_call=1.0)
    key = ("python", 1, "range", None)
    assert b.skip_reason(key, 10**9) is None  # nothing known: run it
    b.record(key, 10**3, 0.001)  # short: mostly fixed cost, no prediction
    assert b.estimate(key, 10**9) is None
    b.record(key, 10**6, 0.2)  # two sizes: along their line
    assert b.estimate(key, 10**7) == pytest.approx(2.0, rel=0.01)
    assert "budget" in b.skip_reason(key, 10**7)
    assert b.skip_reason(key, 2 * 10**6) is None


def test_is_last_size():
    b = _loop.Budget(max_call=1.0)
    key = ("python", 1, "range", None)
    b.record(key, 10**6, 0.5)
    assert _loop.is_last_size(b, key, 10**6, [10**6, 10**8])
    assert not _loop.is_last_size(b, key, 10**6, [10**6, 1_500_000])
    assert _loop.is_last_size(b, key, 10**8, [10**6, 10**8])


GIL_ON = getattr(sys, "_is_gil_enabled", lambda: True)()


@pytest.mark.skipif(not GIL_ON, reason="a free-threaded build holds no GIL to starve the sleeper")
def test_heartbeat_sees_a_held_gil():
    n = 10**7
    while True:  # a GIL-holding call of at least ~30 ms, whatever the machine
        t0 = time.perf_counter()
        _core.sum_squares_range_holding_gil(0, n)
        call_ms = (time.perf_counter() - t0) * 1e3
        if call_ms > 30 or n > 10**10:
            break
        n *= 4
    held = _loop.heartbeat(lambda: _core.sum_squares_range_holding_gil(0, n), 0.2)
    free = _loop.heartbeat(lambda: gilfree.sum_squares_range(0, n, threads=1), 0.2)
    assert held["samples"] >= 1 and free["samples"] >= 1
    assert held["p50_ms"] <= held["p99_ms"] <= held["max_ms"]
    # while the GIL is held the sleeper cannot wake: it waits out a whole call
    assert held["max_ms"] >= 0.5 * call_ms
    assert held["samples"] < free["samples"]


def test_portable_imports_only_the_standard_library():
    with open(_worker.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: it runs as a script"
            names.add(node.module.split(".")[0])
    if hasattr(sys, "stdlib_module_names"):
        # _interpreters: CPython's private module (3.13+), imported lazily and
        # absent from stdlib_module_names on older Pythons; java: Jython's
        # Java packages, imported lazily on Jython only
        allowed = set(sys.stdlib_module_names) | {"__future__", "_interpreters", "java"}
        assert names <= allowed, names
    assert not names & {"gilfree", "numpy"}


def test_portable_runs_as_an_isolated_script(tmp_path):
    script = tmp_path / "worker.py"
    shutil.copy(_worker.__file__, script)  # away from the package
    cases = [{"workload": "range", "n": 5000, "dtype": None},
             {"workload": "map", "n": 500, "dtype": "int64"},
             {"workload": "reduce", "n": 500, "dtype": "float64"}]
    req = {"workers": [1, 2], "repeats": 2, "warmup": 0, "min_time": 1e-4, "max_call": 5.0,
           "heartbeat": 0.0, "heartbeat_workers": 2, "heartbeat_series": []}
    rows = _client.run_rows([sys.executable, "-I", str(script)], cases, req)["rows"]
    for row in rows:
        case = Case(row["workload"], row["n"], row["dtype"])
        assert row["result"] == _cases.expected_fingerprint(case), row
        assert len(row["values"]) == 2


# ---------------------------------------------------------------------------
# cases and data
# ---------------------------------------------------------------------------


def test_case_data_checks_results():
    with CaseData.create(Case("reduce", 1000, "float64")) as d:
        want = d.expected()
        assert d.verify(float(want)) is None
        assert "expected" in d.verify(float(want) + 1)
        assert "number" in d.verify("nope")
    with CaseData.create(Case("map", 1000, "int64")) as d:
        d.reset_output()
        assert "out[0]" in d.verify(None)
        np.square(d.x, out=d.out)
        assert d.verify(None) is None
    with CaseData.create(Case("range", 10**7)) as d:
        wrapped = d.expected() % 2**64
        assert d.verify(wrapped) is not None
        assert d.verify(wrapped, modulus=2**64) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/shm is Linux's")
def test_shared_case_data_is_unlinked():
    with CaseData.create(Case("map", 1000, "float64"), shared=True) as d:
        assert d.shm_error is None
        assert len(_shm_leftovers()) == 2
        view = d.x[:10]  # a live view must not prevent the unlink
    assert _shm_leftovers() == []
    assert view.shape == (10,)


def test_numpy_range_limit_is_exact():
    n = _numpy.RANGE_EXACT_MAX_N
    assert _cases.exact_range_sum(n) <= 2**63 - 1 < _cases.exact_range_sum(n + 1)


# ---------------------------------------------------------------------------
# a whole (tiny) run
# ---------------------------------------------------------------------------


def test_every_available_strategy_runs_and_is_verified(result):
    available = [s["name"] for s in result["strategies"] if s["skip_reason"] is None]
    expected = {"python", "python-processes", "numpy", "numpy-threads", "gilfree-threads",
                "gilfree", "gilfree-parallel-for", "ceiling"}
    # without a GIL, pure-Python threads are the `free-threaded` row and there
    # is no GIL for `gilfree-gil` to hold
    expected |= {"python-threads", "gilfree-gil"} if GIL_ON else {"free-threaded"}
    assert expected <= set(available)
    for name in available:
        pts = [p for p in result["points"] if p["strategy"] == name]
        ok = [p for p in pts if p["status"] == "ok"]
        assert ok, f"{name} measured nothing"
        assert all(p["verified"] and p["median"] > 0 for p in ok)
        assert not [p for p in pts if p["status"] == "failed"], name
        # every skipped point says why
        assert all(p["reason"] for p in pts if p["status"] == "skipped")
    workers = {p["workers"] for p in result["points"] if p["strategy"] == "gilfree"}
    assert workers == {1, 2}
    assert {p["workers"] for p in result["points"] if p["strategy"] == "python"} == {1}


def test_skip_reasons_are_given(result):
    reasons = {s["name"]: s["skip_reason"] for s in result["strategies"]}
    if sys.version_info < (3, 13):
        assert "3.13+" in reasons["subinterpreters"]
    if getattr(sys, "_is_gil_enabled", lambda: True)():
        assert "--python" in reasons["free-threaded"]
    for peer in ("numexpr", "numba"):
        try:
            __import__(peer)
        except ImportError:
            assert "not installed" in reasons[peer]
    sub = [p for p in result["points"] if p["strategy"] == "subinterpreters"]
    if _worker.subinterpreters_skip_reason() is not None:
        assert all(p["status"] == "skipped" and p["reason"] for p in sub)
    else:  # 3.14+, or 3.13 with the backport (tools/get-pythons.sh installs it)
        assert all(p["status"] in ("ok", "skipped") for p in sub)


def test_derived_figures(result):
    for p in result["points"]:
        if p["status"] != "ok":
            continue
        if p["workers"] == 1:
            assert p["speedup_self"] == pytest.approx(1.0)
        assert p["speedup_python"] is not None
        assert p["elements_per_s"] > 0
        assert (p["GBps"] is None) == (p["workload"] == "range")
        if p["strategy"] == "ceiling":
            assert p["fraction_of_ceiling"] == pytest.approx(1.0)
    assert set(result["verdicts"]) == {"range", "map", "reduce"}
    assert "releasing the GIL" in result["verdicts"]["range"]
    assert "pure-Python threads" in result["verdicts"]["range"]
    assert {(u["strategy"], u["workers"]) for u in result["startup"]} >= {
        ("python-processes", 2), ("ceiling", 2)}


def test_heartbeat_recorded_per_workload(result):
    probed = {(p["workload"], p["strategy"]) for p in result["points"] if p.get("heartbeat")}
    for workload in ("range", "map", "reduce"):
        assert (workload, "gilfree") in probed
        assert (workload, "python") in probed
    assert result["heartbeat_idle"]["samples"] > 0


def test_no_shared_memory_left(result):
    assert _shm_leftovers() == []


def test_json_schema(result, tmp_path):
    path = bench.write_json(result, str(tmp_path / "sub" / "r.json"))
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    assert data["schema"] == bench.SCHEMA
    assert set(data) >= {"header", "settings", "bandwidth", "heartbeat_idle", "strategies",
                         "startup", "interpreters", "points", "verdicts", "errors", "elapsed_s"}
    h = data["header"]
    for key in ("cpu_model", "logical_cpus", "affinity_cpus", "cgroup_cpu_limit", "usable_cpus",
                "python", "numpy", "cython", "compiler", "cflags", "openmp", "simd"):
        assert key in h
    assert set(h["python"]) >= {"version", "gil_enabled", "free_threaded_build"}
    assert data["bandwidth"]["GBps"] > 0 and data["bandwidth"]["GBps_read"] > 0
    required = {"strategy", "label", "interpreter", "workload", "dtype", "n", "workers",
                "status", "reason", "verified", "note"}
    measured = required | {"values", "loops", "median", "q1", "q3", "min", "max",
                           "speedup_self", "speedup_python", "efficiency", "ceiling_speedup",
                           "fraction_of_ceiling", "elements_per_s", "GBps",
                           "fraction_of_bandwidth"}
    for p in data["points"]:
        assert set(p) >= (measured if p["status"] == "ok" else required), p
        assert p["status"] in ("ok", "skipped", "failed")
        if p["status"] == "ok":
            assert len(p["values"]) == data["settings"]["repeats"]


def test_render_plain(result):
    buf = io.StringIO()
    bench.render(result, file=buf, use_rich=False)
    text = buf.getvalue()
    for word in ("== range", "== map", "== reduce", "verdict:", "gilfree-threads", "ceiling",
                 "not run here", "memory bandwidth", "pool start-up"):
        assert word in text, word


def test_render_rich(result):
    pytest.importorskip("rich")
    buf = io.StringIO()
    bench.render(result, file=buf, use_rich=True)
    assert "verdict:" in buf.getvalue() and "gilfree-gil" in buf.getvalue()


def test_plots_written(result, tmp_path):
    pytest.importorskip("matplotlib")
    paths = bench.write_plots(result, str(tmp_path))
    assert sorted(os.path.basename(p) for p in paths) == [
        "heartbeat.png", "speedup.png", "throughput.png"]
    for p in paths:
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plots_without_matplotlib_say_what_to_install(result, tmp_path, monkeypatch):
    monkeypatch.setattr(_report, "have_matplotlib", lambda: False)
    with pytest.raises(bench.PlotUnavailable, match=r"pip install gilfree\[plot\]"):
        bench.write_plots(result, str(tmp_path))


# ---------------------------------------------------------------------------
# failures are reported, never timed
# ---------------------------------------------------------------------------


def test_wrong_result_is_reported_and_not_timed(monkeypatch):
    monkeypatch.setitem(_numpy.KERNELS, "reduce", lambda data, a, b: 42)
    r = bench.run(_tiny(strategies=("numpy", "numpy-threads"), workloads=("reduce",),
                        heartbeat_time=0, bandwidth_bytes=0))
    pts = [p for p in r["points"] if p["workload"] == "reduce"]
    assert pts and all(p["status"] == "failed" for p in pts)
    assert all("expected" in p["reason"] and "median" not in p for p in pts)


def test_raising_strategy_is_reported(monkeypatch):
    def boom(data, a, b):
        raise RuntimeError("kernel exploded")

    monkeypatch.setitem(_numpy.KERNELS, "map", boom)
    r = bench.run(_tiny(strategies=("numpy",), workloads=("map",), heartbeat_time=0,
                        bandwidth_bytes=0))
    assert all(p["status"] == "failed" and "kernel exploded" in p["reason"]
               for p in r["points"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/shm is Linux's")
def test_ctrl_c_releases_shared_memory_and_pools(monkeypatch):
    real = CaseData.verify
    calls = []

    def interrupt_late(self, result, modulus=None):
        calls.append(1)
        if len(calls) == 3:  # after python-processes has started its pool
            raise KeyboardInterrupt
        return real(self, result, modulus)

    monkeypatch.setattr(CaseData, "verify", interrupt_late)
    children_before = set(p.pid for p in __import__("multiprocessing").active_children())
    with pytest.raises(KeyboardInterrupt):
        bench.run(_tiny(strategies=("python", "python-processes"), workloads=("map",),
                        heartbeat_time=0, bandwidth_bytes=0))
    assert _shm_leftovers() == []
    import multiprocessing

    assert set(p.pid for p in multiprocessing.active_children()) <= children_before


def test_no_shared_memory_skips_process_strategies(monkeypatch):
    monkeypatch.setattr(_cases, "_shm_room_error", lambda nbytes: "/dev/shm is full")
    r = bench.run(_tiny(strategies=("python-processes", "numpy"), workloads=("map",),
                        dtypes={"map": ("float64",)}, heartbeat_time=0, bandwidth_bytes=0))
    procs = [p for p in r["points"] if p["strategy"] == "python-processes"]
    assert procs and all(p["status"] == "skipped" and "/dev/shm is full" in p["reason"]
                         for p in procs)
    assert all(p["status"] == "ok" for p in r["points"] if p["strategy"] == "numpy")


def test_python_sizes_keep_the_pure_python_rows_to_their_sizes():
    """The quick run's shape on tiny sizes: the pure-Python rows run at the
    table's size only (no checked call at the larger one), the compiled rows
    at both; the heartbeat probes the workloads asked for, at the largest
    size each row ran."""
    r = bench.run(_tiny(strategies=("python", "python-threads", "gilfree"),
                        workloads=("range", "map"), dtypes={"map": ("float64",)},
                        sizes={"range": (2_000, 20_000), "map": (3_000, 6_000)},
                        python_sizes={"range": (2_000,), "map": (3_000,)},
                        heartbeat_time=0.01, heartbeat_workloads=("range",),
                        bandwidth_bytes=0))
    pts = {(p["strategy"], p["workload"], p["n"], p["workers"]): p for p in r["points"]}
    for w, small, big in (("range", 2_000, 20_000), ("map", 3_000, 6_000)):
        assert pts[("python", w, small, 1)]["status"] == "ok"
        assert pts[("python-threads", w, small, 2)]["verified"]
        for name, workers in (("python", 1), ("python-threads", 1), ("python-threads", 2)):
            p = pts[(name, w, big, workers)]
            assert p["status"] == "skipped" and not p["verified"]
            assert p["reason"].startswith(f"the tiny run times the pure-Python rows at "
                                          f"n={small:,} only")
        assert all(pts[("gilfree", w, n, k)]["status"] == "ok"
                   for n in (small, big) for k in (1, 2))
    probed = {(p["strategy"], p["workload"], p["n"]) for p in r["points"] if p.get("heartbeat")}
    assert probed == {("python", "range", 2_000), ("python-threads", "range", 2_000),
                      ("gilfree", "range", 20_000)}
    if _loop._procs_running() is not None:  # Linux: each value's settle() is counted
        timed = sum(len(p["values"]) for p in r["points"] if p["status"] == "ok")
        assert r["header"]["busy_values"]["timed"] == timed
        assert 0 <= r["header"]["busy_values"]["busy"] <= timed
    # sizes that include none of python_sizes: every row runs them
    r2 = bench.run(_tiny(strategies=("python",), workloads=("range",), sizes={"range": (3_000,)},
                         python_sizes={"range": (2_000,)}, heartbeat_time=0,
                         bandwidth_bytes=0))
    assert [p["status"] for p in r2["points"]] == ["ok"]
    detail = io.StringIO()
    bench.render(r, file=detail, use_rich=False, detail=True)
    assert ("python, python-threads, 20,000: the tiny run times the pure-Python rows at "
            "n=2,000 only") in detail.getvalue()


# ---------------------------------------------------------------------------
# optional parts: OpenMP, other interpreters
# ---------------------------------------------------------------------------


def _fake_openmp(available=True):
    mod = types.ModuleType("gilfree._openmp")
    mod.available = available
    mod.square = lambda x, out, n: np.square(x, out=out)
    mod.sum_of_squares = lambda x, n: int(np.dot(x.astype(np.int64), x.astype(np.int64)))
    mod.sum_squares_range = lambda a, b, s, n: _cases.exact_range_sum(b)
    return mod


@pytest.mark.parametrize("available", [True, False])
def test_openmp_strategy_uses_the_extension_interface(monkeypatch, available):
    fake = _fake_openmp(available)
    monkeypatch.setitem(sys.modules, "gilfree._openmp", fake)
    monkeypatch.setattr(gilfree, "_openmp", fake, raising=False)
    r = bench.run(_tiny(strategies=("gilfree-openmp",), heartbeat_time=0, bandwidth_bytes=0))
    reason = r["strategies"][0]["skip_reason"]
    if available:
        assert reason is None
        assert r["points"] and all(p["status"] == "ok" and p["verified"] for p in r["points"])
        assert r["header"]["openmp"]["available"]
    else:
        assert "no OpenMP" in reason and not r["points"]


def test_openmp_absent_gives_the_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "gilfree._openmp", None)  # import fails
    monkeypatch.delattr(gilfree, "_openmp", raising=False)
    from gilfree.bench._gilfree import openmp_module

    assert openmp_module() == (None, "this build has no OpenMP (gilfree._openmp was not "
                                     "compiled)")


def test_parallel_for_strategy_runs_and_is_verified():
    # gilfree._pfor is built everywhere: the row runs every workload and dtype
    # of the tiny preset on 1 and 2 workers, each result checked first.
    r = bench.run(_tiny(strategies=("gilfree-openmp", "gilfree-parallel-for"),
                        heartbeat_time=0, bandwidth_bytes=0))
    assert r["errors"] == []
    table = {s["name"]: s for s in r["strategies"]}
    assert list(table) == ["gilfree-openmp", "gilfree-parallel-for"]  # report order
    assert table["gilfree-parallel-for"]["skip_reason"] is None
    assert "parallel-for C-API" in table["gilfree-parallel-for"]["summary"]
    pts = [p for p in r["points"] if p["strategy"] == "gilfree-parallel-for"]
    assert {p["workload"] for p in pts} == {"range", "map", "reduce"}
    assert {p.get("dtype") for p in pts if p["workload"] != "range"} == {"float64", "int64"}
    assert {p["workers"] for p in pts} == {1, 2}
    assert all(p["status"] == "ok" and p["verified"] and p["median"] > 0 for p in pts)


def test_parallel_for_is_after_openmp_and_left_out_of_the_quick_run():
    from gilfree.bench._registry import FULL_ONLY, NAMES, QUICK_NAMES

    assert NAMES.index("gilfree-parallel-for") == NAMES.index("gilfree-openmp") + 1
    assert FULL_ONLY == ("gilfree-parallel-for",)
    assert Settings.preset("quick").strategies == QUICK_NAMES
    assert "gilfree-parallel-for" not in QUICK_NAMES
    assert "gilfree-parallel-for" in Settings.preset("full").strategies
    assert "gilfree-parallel-for" in Settings.preset("tiny").strategies
    assert "gilfree-parallel-for" in bench.STRATEGIES


def test_parallel_for_absent_gives_the_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "gilfree._pfor", None)  # import fails
    monkeypatch.delattr(gilfree, "_pfor", raising=False)
    from gilfree.bench._gilfree import pfor_module

    mod, reason = pfor_module()
    assert mod is None and reason.startswith("gilfree._pfor does not import")
    r = bench.run(_tiny(strategies=("gilfree-parallel-for",), heartbeat_time=0,
                        bandwidth_bytes=0))
    assert r["strategies"][0]["skip_reason"] == reason and not r["points"]


def test_other_interpreter_rows_are_merged_and_verified():
    r = bench.run(_tiny(strategies=("python",), workloads=("range", "reduce"),
                        dtypes={"reduce": ("int64",)}, pythons=(sys.executable,),
                        heartbeat_time=0.01, bandwidth_bytes=0))
    assert r["errors"] == []
    info = r["interpreters"][0]
    assert info["version"] == __import__("platform").python_version()
    foreign = [p for p in r["points"] if p.get("python") == sys.executable]
    threads_row = "python-threads" if info["gil_enabled"] else "free-threaded"
    assert {p["strategy"] for p in foreign} >= {"python", threads_row}
    assert all(p["label"].endswith(f"[{info['label']}]") for p in foreign)
    assert all(p["verified"] for p in foreign if p["status"] == "ok")
    assert any(p["status"] == "ok" and p["speedup_python"] for p in foreign)


def test_broken_other_interpreter_is_an_error_not_a_crash(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    fake.chmod(0o755)
    r = bench.run(_tiny(strategies=("python",), workloads=("range",), pythons=(str(fake),),
                        heartbeat_time=0, bandwidth_bytes=0))
    assert len(r["errors"]) == 1 and "exited with 3" in r["errors"][0]


# ---------------------------------------------------------------------------
# settings and the command line
# ---------------------------------------------------------------------------


def test_presets():
    q = Settings.preset("quick", ncpu=2)
    assert q.worker_counts() == (1, 2) and q.headline_workers() in (1, 2)
    f = Settings.preset("full", ncpu=8)
    assert f.worker_counts() == (1, 2, 4, 8, 16)
    assert default_workers(1, full=False) == (1, 2)
    cases = q.cases()
    assert cases[0] == Case("range", 10**6) and all(c.n > 0 for c in cases)
    # the quick run: per workload the table's size (every row) and a larger one
    # for the compiled rows; 7 values a row; the heartbeat on the claims' workload
    assert q.sizes == {"range": (10**6, 10**8), "map": (10**5, 10**7),
                       "reduce": (10**5, 10**7)}
    assert q.python_sizes == {"range": (10**6,), "map": (10**5,), "reduce": (10**5,)}
    assert q.repeats == 7 and q.warmup == 0 and q.heartbeat_workloads == ("range",)
    # the full run: every row at every size (within --max-call), every heartbeat
    assert f.python_sizes == {} and f.heartbeat_workloads == () and f.warmup == 1
    with pytest.raises(ValueError, match="preset"):
        Settings.preset("slow")


@pytest.mark.parametrize("argv, message", [
    (["bench", "--workers", "0"], "--workers must be >= 1"),
    (["bench", "--workers", "two"], "whole numbers"),
    (["bench", "--strategies", "nope"], "unknown strategy 'nope'"),
    (["bench", "--workloads", "sort"], "unknown workload 'sort'"),
    (["bench", "--sizes", "1.5"], "whole numbers"),
    (["bench", "--repeats", "0"], "--repeats must be >= 1"),
    (["bench", "--min-time", "-1"], "positive number of seconds"),
    (["bench", "--quick", "--full"], "not allowed with"),
    (["bench", "--frobnicate"], "unrecognized arguments"),
    (["bench", "--python", "/no/such/python"], "no executable Python"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_no_command_exits_2(capsys):
    assert cli.main([]) == 2
    assert "choose a command" in capsys.readouterr().err


def test_plot_without_matplotlib_fails_early(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(_report, "have_matplotlib", lambda: False)
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", "--plot", str(tmp_path)])
    assert exc.value.code == 2
    assert "pip install gilfree[plot]" in capsys.readouterr().err


def test_cli_bench_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default HTML report goes to the current folder
    path = tmp_path / "out.json"
    rc = cli.main(["bench", "--strategies", "python,gilfree-gil,gilfree", "--workloads", "range",
                   "--sizes", "2e3", "--workers", "2", "--repeats", "2", "--min-time", "1e-4",
                   "--heartbeat", "0", "--json", str(path), "--no-progress", "--plain"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "verdict:" in out and f"wrote {path}" in out
    if _report.have_matplotlib():
        assert f"report: {tmp_path / 'gilfree-bench.html'}" in out
        assert (tmp_path / "gilfree-bench.html").read_text().startswith("<!DOCTYPE html>")
    data = json.loads(path.read_text())
    assert {p["workers"] for p in data["points"] if p["strategy"] == "gilfree"} == {1, 2}
    assert data["settings"]["sizes"]["range"] == [2000]
    assert data["settings"]["python_sizes"] == {}  # sizes asked for: every row runs them


def test_cli_list(capsys):
    assert cli.main(["bench", "--list"]) == 0
    out = capsys.readouterr().out
    assert "gilfree-openmp" in out and "ceiling" in out


@pytest.mark.parametrize("argv", [["info"], ["bench", "--help"], ["--version"]])
def test_python_dash_m(argv):
    r = subprocess.run([sys.executable, "-m", "gilfree", *argv], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "gilfree" in r.stdout


def test_reads_only_workloads_are_compared_with_the_read_probe():
    """reduce only reads: its fraction of bandwidth uses the read probe; map
    (read + write) uses the copy; results without a read probe (older JSON)
    fall back to the copy."""
    from gilfree.bench._engine import bandwidth_for

    bw = {"GBps": 20.0, "GBps_read": 10.0}
    assert bandwidth_for(bw, True) == (10.0, "reads")
    assert bandwidth_for(bw, False) == (20.0, "copy")
    assert bandwidth_for({"GBps": 20.0}, True) == (20.0, "copy")
    assert bandwidth_for(None, True) == (None, None)
    r = bench.run(_tiny(strategies=("gilfree",), workloads=("map", "reduce"),
                        dtypes={"map": ("float64",), "reduce": ("float64",)},
                        heartbeat_time=0, bandwidth_bytes=2**20))
    bw = r["bandwidth"]
    assert bw["GBps_read"] > 0 and bw["GBps_read_1"] > 0 and bw["GBps_read_threads"] > 0
    seen = set()
    for p in r["points"]:
        if p["status"] == "ok":
            ref = bw["GBps_read"] if p["workload"] == "reduce" else bw["GBps"]
            assert p["fraction_of_bandwidth"] == pytest.approx(p["GBps"] / ref)
            seen.add(p["workload"])
    assert seen == {"map", "reduce"}


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(python_sizes=[("range", (10,))]), TypeError, "`python_sizes` must be a dict"),
    (dict(python_sizes={"sort": (10,)}), ValueError, "unknown workload 'sort'"),
    (dict(python_sizes={"range": 10}), TypeError, "`python_sizes['range']` must be a tuple"),
    (dict(python_sizes={"map": (0,)}), TypeError, "positive ints"),
    (dict(python_sizes={"map": (True,)}), TypeError, "positive ints"),
    (dict(heartbeat_workloads="range"), TypeError, "`heartbeat_workloads` must be a tuple"),
    (dict(heartbeat_workloads=("range", "sort")), ValueError, "unknown workloads ['sort']"),
])
def test_settings_name_a_bad_python_sizes_or_heartbeat_workloads(kwargs, exc, words):
    with pytest.raises(exc) as info:
        bench.Settings(**kwargs)
    assert words in str(info.value)


def test_settings_take_good_python_sizes_and_heartbeat_workloads():
    s = bench.Settings(python_sizes={"range": [10, 20]}, heartbeat_workloads=["map"])
    assert s.python_sizes == {"range": [10, 20]} and s.heartbeat_workloads == ["map"]
    for mode in ("quick", "full", "tiny"):
        bench.Settings.preset(mode)


# ---------------------------------------------------------------------------
# numeric options: parsed and bounded before anything is computed
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("option, value, words", [
    ("--sizes", "1e400", "--sizes must be <= 2**62"),
    ("--sizes", "-1e400", "--sizes must be >= 1"),
    ("--sizes", "1e99999999", "--sizes must be <= 2**62"),
    ("--sizes", "9" * 5000, "--sizes must be <= 2**62"),
    ("--sizes", "2**63", "--sizes must be <= 2**62"),
    ("--sizes", "10**-2", "whole numbers"),
    ("--sizes", "nan", "whole numbers"),
    ("--sizes", "inf", "whole numbers"),
    ("--sizes", "Infinity", "whole numbers"),
    ("--sizes", "1e-3", "whole numbers"),
    ("--workers", "1e400", "--workers must be <="),
    ("--workers", "1,100000", "--workers must be <= 1024"),
    ("--repeats", "1e400", "--repeats must be <="),
    ("--repeats", "3,5", "--repeats takes one number"),
    ("--min-time", "inf", "finite"),
    ("--min-time", "1e400", "finite"),
    ("--min-time", "nan", "finite"),
    ("--max-call", "Infinity", "finite"),
    ("--max-call", "1e9", "at most 86400"),
    ("--heartbeat", "nan", "finite"),
    ("--heartbeat", "inf", "finite"),
    ("--heartbeat", "-1", "seconds >= 0"),
    ("--heartbeat", "1" * 5000, "expected a number of seconds"),
])
def test_numeric_options_are_bounded_before_computing(option, value, words, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", f"{option}={value}", "--list"])  # --list: nothing is measured
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: " in err and words in err and "Traceback" not in err
    assert len(err.strip().splitlines()[-1]) < 200


@pytest.mark.parametrize("value", ["10**99999999", "10^99999999", "99**99999999999"])
def test_a_huge_power_is_refused_without_computing_it(value):
    """Computing 10**99999999 takes minutes: the exponent is bounded first."""
    r = subprocess.run([sys.executable, "-m", "gilfree", "bench", "--sizes", value, "--list"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "--sizes must be <= 2**62" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("text, expected", [
    ("1000", [1000]), ("1e6", [10**6]), ("1E6", [10**6]), ("10**6", [10**6]),
    ("10^6", [10**6]), ("1_000", [1000]), ("1.5e3", [1500]), ("2**62", [2**62]),
    ("4611686018427387904", [2**62]), ("1, 2 ,4", [1, 2, 4]), ("1e18", [10**18]),
])
def test_sizes_in_every_notation(text, expected):
    from gilfree._timing._cli import ints

    assert ints(text, "--sizes") == expected


def test_probe_seconds_options_share_the_bounds(capsys):
    for argv in (["probe", "m:f", "--max-call", "inf"], ["probe", "m:f", "--heartbeat", "nan"],
                 ["probe", "m:f", "--min-time", "1e400"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert argv[2] in err and "finite" in err


# ---------------------------------------------------------------------------
# each command's command line in its own module
# ---------------------------------------------------------------------------

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src", "gilfree")


def _sources():
    if not os.path.isdir(SRC):
        pytest.skip("the sources are not beside the tests (an installed wheel's tests)")
    for folder, _, files in os.walk(SRC):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                with open(path, encoding="utf-8") as fh:
                    yield os.path.relpath(path, SRC), fh.read()


def test_no_module_imports_the_dispatcher():
    """``python -m gilfree probe`` loads ``__main__`` once: no module imports it."""
    for rel, text in _sources():
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names]
                assert not (node.module == "gilfree.__main__" or (
                    node.module == "gilfree" and "__main__" in names)), rel
            elif isinstance(node, ast.Import):
                assert all(a.name != "gilfree.__main__" for a in node.names), rel
    code = ("import sys, gilfree._probe._cli, gilfree.bench._cli; "
            "print('gilfree.__main__' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr


def test_shared_option_types_are_defined_once():
    defs: dict = {}
    for rel, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef):
                defs.setdefault(node.name.lstrip("_"), []).append(rel)
    for name in ("positive_float", "nonneg_float", "term_as_interrupt", "ints", "int_at_least"):
        assert defs.get(name) == [os.path.join("_timing", "_cli.py")], (name, defs.get(name))
    with open(os.path.join(SRC, "__main__.py"), encoding="utf-8") as f:
        assert len(f.read().splitlines()) < 120  # a dispatcher, not a command line


def test_recording_script_reads_only_public_bench_names():
    path = os.path.join(os.path.dirname(SRC), "..", "perf", "run_recorded.py")
    if not os.path.exists(path):
        pytest.skip("perf/run_recorded.py is not beside the tests")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gilfree"):
            assert node.module == "gilfree.bench", node.module
            used |= {a.name for a in node.names}
    assert used and used <= set(bench.__all__)
    assert all(hasattr(bench, name) for name in bench.__all__)


def test_timing_core_loads_by_path_without_gilfree(tmp_path):
    """The probe loads the core's stdlib-only modules by file path under other
    interpreters: they must import and time without gilfree on sys.path."""
    folder = os.path.dirname(_loop.__file__)
    code = (
        "import importlib.util as u, sys\n"
        "def load(m):\n"
        "    s = u.spec_from_file_location('_gilfree_' + m, sys.argv[1] + '/_' + m + '.py')\n"
        "    mod = sys.modules['_gilfree_' + m] = u.module_from_spec(s)\n"
        "    s.loader.exec_module(mod)\n"
        "    return mod\n"
        "w, m, loop = load('worker'), load('machine'), load('loop')\n"
        "assert 'gilfree' not in sys.modules\n"
        "hb = loop.heartbeat(lambda: sum(range(1000)), 0.02)\n"
        "loops, values = loop.measure_interleaved([lambda k: w.time_calls(lambda: 0, k)], 2, 0,"
        " 1e-4)\n"
        "print(hb['samples'] >= 1, loop.summarize(values[0])['count'])\n")
    r = subprocess.run([sys.executable, "-I", "-c", code, folder], capture_output=True,
                       text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "2"]
