"""Smoke tests of perf/goals.py, the script behind the goals
table of docs/performance.md (its figures are never asserted).  Skipped
where the repository's perf/ is not beside the tests (an installed wheel)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "perf" / "goals.py"
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="perf/goals.py not in this tree")


def _load():
    """perf/goals.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("perf_goals", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.thread_unsafe(reason="starts a subprocess that times the machine")
def test_a_subset_of_goals_runs_and_reports_each(tmp_path):
    out = tmp_path / "goals.json"
    r = run("--goals", "5,6,8", "--json", str(out))
    assert r.returncode in (0, 1), r.stderr  # 1: some goal failed on this machine
    lines = [l for l in r.stdout.splitlines() if l.lstrip().startswith("[")]
    assert [l.split()[1] for l in lines] == ["5", "5", "6", "8"], r.stdout
    assert all(l.split()[0] in ("[PASS]", "[FAIL]", "[SKIP]") for l in lines)
    import json

    res = json.loads(out.read_text())["results"]
    assert [g["goal"] for g in res] == ["5", "5", "6", "8"]
    assert res[-1]["status"] == "SKIP"


@pytest.mark.thread_unsafe(reason="starts a subprocess that times the machine")
def test_goal10_skips_without_a_free_threaded_python(tmp_path):
    r = run("--goals", "10", "--ft-python", str(tmp_path / "no-such-python"))
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.lstrip().startswith("[")]
    assert [l.split()[:2] for l in lines] == [["[SKIP]", "10"]] * 2, r.stdout
    assert "no free-threaded Python at" in r.stdout and "get-pythons.sh" in r.stdout


@pytest.mark.parametrize("bad", ["12", "0", "x", "", "1,,2"])
def test_bad_goal_list_is_a_usage_error(bad):
    r = run("--goals", bad)
    assert r.returncode == 2
    assert "--goals must be comma-separated goal numbers 1-11" in r.stderr


def test_a_fail_names_the_hosts_steal_time(capsys, monkeypatch):
    perf_goals = _load()
    ticks = iter([(10, 1000), (60, 2000)])  # 50 of 1000 jiffies stolen: 5.0%
    monkeypatch.setattr(perf_goals, "_cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(perf_goals, "_STEAL_MARK", [perf_goals._cpu_ticks()])
    monkeypatch.setattr(perf_goals, "_STEAL_WINDOW", [None])
    monkeypatch.setattr(perf_goals, "RESULTS", [])
    perf_goals.record("9z", "a figure", 0.5, ">= 1", False)
    assert "host steal 5.0% meanwhile" in capsys.readouterr().out


def test_the_steal_window_is_the_timing_not_what_came_after(capsys, monkeypatch):
    perf_goals = _load()
    # interleaved() spans ticks 0-1000 with 100 stolen (10%); then something
    # else (a ceiling measurement) runs before record(): not counted.
    ticks = iter([(0, 0), (0, 0), (100, 1000), (5000, 9000)])
    monkeypatch.setattr(perf_goals, "_cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(perf_goals, "_STEAL_MARK", [perf_goals._cpu_ticks()])
    monkeypatch.setattr(perf_goals, "_STEAL_WINDOW", [None])
    monkeypatch.setattr(perf_goals, "RESULTS", [])
    monkeypatch.setattr(perf_goals, "settle", lambda: 0.0)
    perf_goals.interleaved([lambda: None], rounds=1, min_time=0.0)
    perf_goals.record("9z", "a figure", 0.5, ">= 1", False)
    assert "host steal 10.0% meanwhile" in capsys.readouterr().out


def test_goal9c_checks_the_exact_sum(capsys, monkeypatch):
    """9c compares the exact integer sum with Python's and names np.dot's
    wrap; a wrong sum is a FAIL whatever the speed."""
    perf_goals = _load()
    monkeypatch.setattr(perf_goals, "RESULTS", [])
    monkeypatch.setattr(perf_goals, "interleaved", lambda fns, **kw: [2.0 for _ in fns])  # a tie
    perf_goals.goal9c([1000])
    res = perf_goals.RESULTS
    assert [(r["goal"], r["status"]) for r in res] == [("9c", "PASS"), ("9c", "PASS")]
    assert all(r["note"] == "exact; np.dot wrapped" for r in res), res
    real = perf_goals.gilfree.sum_of_squares
    monkeypatch.setattr(perf_goals.gilfree, "sum_of_squares", lambda x: real(x) + 1)
    monkeypatch.setattr(perf_goals, "RESULTS", [])
    perf_goals.goal9c([1000])
    assert [r["status"] for r in perf_goals.RESULTS] == ["FAIL", "FAIL"]
    assert "NOT EXACT" in perf_goals.RESULTS[0]["note"]
    capsys.readouterr()


def test_goal11_ways_agree_with_python(tmp_path):
    """Goal 11's three ways (parallel_for, prange, a ThreadPoolExecutor) of
    running the experiment's body give Python's sum, for every cut."""
    import importlib.util
    from concurrent.futures import ThreadPoolExecutor

    path = SCRIPT.parent / "experiments" / "parallel_for.py"
    spec = importlib.util.spec_from_file_location("gf_parallel_for_experiment", path)
    exp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exp)
    try:
        mod, _ = exp.build(str(tmp_path))
    except RuntimeError as e:
        pytest.skip(str(e))
    for n, grain in [(0, 1), (1, 1), (5, 8), (1000, 7), (4096, 1024), (10**4, 300)]:
        want = exp.reference(n, grain)
        for threads in (1, 2, 3):
            with ThreadPoolExecutor(threads) as ex:
                got = {name: fn() for name, fn in exp.ways(mod, n, grain, threads, ex).items()}
            assert got == {"parallel_for": want, "prange": want, "executor": want}, (n, grain)
    assert mod.empty_parallel_for(2) == 0 and mod.empty_prange(2) == 1
