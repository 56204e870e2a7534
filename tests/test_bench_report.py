"""Tests of the bench's report (``gilfree bench`` summary, ``--detail``,
``--html``, ``--from``, ``--compare``), on synthetic results.

The results here are made up, so every verdict has a known right answer:
a GIL build where threads do not help, a free-threaded build where they do,
a machine where processes do not pay off, a 1-CPU machine.  Nothing is
measured except in the one test of the bandwidth probe (on 1 MiB).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest

from gilfree import __main__ as cli
from gilfree import bench
from gilfree.bench import _compare, _html, _report, _views
from gilfree.bench._analysis import HELPS, SCHEMA, derive
from gilfree._timing._loop import summarize
from gilfree.bench._registry import NAMES

pytestmark = pytest.mark.thread_unsafe(reason="changes the working folder and patches modules")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HTML_CHECK = os.path.join(ROOT, "tools", "html-check.py")

#: Serial and 2-worker seconds per strategy on range n=10^6 (a GIL build on
#: 2 cores: pure-Python threads do not help, processes and released C do).
GIL_RANGE = {
    "python": (0.060, None), "python-threads": (0.061, 0.064),
    "python-processes": (0.062, 0.034), "numpy": (1.2e-3, None),
    "numpy-threads": (1.3e-3, 0.8e-3), "gilfree-gil": (0.40e-3, 0.41e-3),
    "gilfree-threads": (0.40e-3, 0.21e-3), "gilfree": (0.30e-3, 0.16e-3),
    "gilfree-openmp": (0.30e-3, 0.17e-3), "gilfree-parallel-for": (0.30e-3, 0.165e-3),
    "dask-python": (0.07, 0.072),
    "dask-gilfree": (1.0e-3, 0.6e-3), "ceiling-python": (0.060, 0.031),
    "ceiling": (0.30e-3, 0.155e-3),
}


def _values(t: float, repeats: int, seed: int) -> list:
    """`repeats` times around `t`, spread by +-3% in a fixed pattern."""
    return [t * (1 + 0.01 * (((k + seed) * 37) % 7 - 3)) for k in range(repeats)]


def synthetic(table=None, *, gil=True, free_threaded_build=False, usable=2, startup=0.6,
              workloads=("range",), repeats=7, heartbeat=True, scale=1.0, extra=None):
    """A derived result from `table`: strategy -> (serial s, 2-worker s)."""
    table = dict(GIL_RANGE if table is None else table)
    points = []
    for workload in workloads:
        dtype = None if workload == "range" else "float64"
        n = 10**6 if workload == "range" else 10**5
        for k, (label, (t1, t2)) in enumerate(table.items()):
            for w, t in ((1, t1), (2, t2)):
                if t is None:
                    continue
                vals = _values(t * scale, repeats, k + w)
                p = {"strategy": label, "label": label, "interpreter": "CPython 3.11",
                     "workload": workload, "dtype": dtype, "n": n, "workers": w,
                     "status": "ok", "reason": None, "verified": True, "note": None,
                     "loops": 1, "values": vals, **summarize(vals)}
                if heartbeat and w == 2 and label == "python-threads":
                    p["heartbeat"] = {"p50_ms": 5.1, "p99_ms": 130.0, "max_ms": 131.0,
                                      "samples": 20, "expected": 100, "calls": 3, "seconds": 0.1}
                points.append(p)
    points += extra or []
    result = {
        "schema": SCHEMA,
        "header": {"gilfree": "0.1.0", "cpu_model": "Test CPU 9000", "machine": "x86_64",
                   "platform": "Linux", "logical_cpus": max(2, usable), "affinity_cpus": usable,
                   "cgroup_cpu_limit": None, "usable_cpus": usable, "llc_bytes": 32 * 2**20,
                   "python": {"version": "3.13.0" if free_threaded_build else "3.11.7",
                              "implementation": "CPython", "gil_enabled": gil,
                              "free_threaded_build": free_threaded_build,
                              "label": "CPython 3.11"},
                   "numpy": "2.0", "blas": None, "cython": "3.1", "compiler": "gcc 12",
                   "cflags": "-O3", "openmp": {"available": True, "reason": None},
                   "simd": "avx2", "gilfree_config": {}, "environment": {},
                   "optional": {}, "date_utc": "2026-01-01 00:00:00"},
        "settings": {"mode": "quick", "workers": [1, 2], "headline_workers": 2,
                     "workloads": list(workloads), "repeats": repeats},
        "bandwidth": {"GBps": 10.0, "GBps_1": 10.0, "GBps_threads": 9.0, "GBps_read": 12.0,
                      "GBps_read_1": 12.0, "GBps_read_threads": 11.0,
                      "reads": {"np.sum, 1 thread": 11.0, "np.dot, 1 thread": 12.0},
                      "read_best": "np.dot, 1 thread", "threads": 2, "bytes": 2**28,
                      "method": "test"},
        "heartbeat_idle": {"p50_ms": 0.08, "p99_ms": 0.2, "max_ms": 0.5, "samples": 99},
        "strategies": [{"name": n, "family": "x", "summary": "s",
                        "skip_reason": None if n in table else f"{n} is not in this test"}
                       for n in NAMES],
        "startup": [{"strategy": s, "workers": w, "seconds": startup}
                    for s in ("python-processes", "ceiling", "ceiling-python") for w in (1, 2)],
        "interpreters": [], "points": points, "errors": [], "elapsed_s": 41.5,
    }
    derive(result)
    return result


def claim(result, cid):
    return next(c for c in result["claims"] if c["id"] == cid)


def text_of(result, detail=False, use_rich=False) -> str:
    buf = io.StringIO()
    bench.render(result, file=buf, use_rich=use_rich, detail=detail)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# verdicts from synthetic results
# ---------------------------------------------------------------------------


def test_gil_build_verdicts():
    r = synthetic()
    t, p, c = claim(r, "threads"), claim(r, "processes"), claim(r, "c_nogil")
    assert t["holds"] is True and t["strategy"] == "python-threads"
    assert t["speedup"] == pytest.approx(61 / 64, rel=0.02)
    assert t["heartbeat_p99_ms"] == 130.0 and t["idle_p99_ms"] == 0.2
    assert p["holds"] is True and p["speedup"] == pytest.approx(60 / 34, rel=0.02)
    assert p["startup_s"] == 0.6
    # overhead = 34 ms - 60 ms / (60/31): processes pay off from overhead * s / (s - 1)
    s = 60 / 31
    overhead = 0.034 - 0.060 / s
    assert p["break_even_call_s"] == pytest.approx(overhead * s / (s - 1), rel=0.02)
    assert c["holds"] is True and c["control_speedup"] == pytest.approx(40 / 41, rel=0.02)
    assert set(c["rows"]) == {"gilfree-threads", "gilfree"}
    out = text_of(r)
    assert out.count("HOLDS") == 3 and "DOES NOT HOLD" not in out
    assert "heartbeat p99 130 ms late, 0.2 ms idle" in out
    assert "pool start-up 600 ms" in out
    assert "same C, GIL held: 0.98x" in out


def test_pure_python_rows_use_the_pure_python_ceiling():
    r = synthetic()
    rows = {(p["label"], p["workers"]): p for p in r["points"]}
    procs = rows[("python-processes", 2)]
    assert procs["kind"] == "python" and procs["ceiling_label"] == "ceiling-python"
    assert procs["fraction_of_ceiling"] == pytest.approx(
        procs["speedup_self"] / (0.060 / 0.031), rel=1e-6)
    gf = rows[("gilfree", 2)]
    assert gf["kind"] == "c" and gf["ceiling_label"] == "ceiling"
    assert gf["fraction_of_ceiling"] == pytest.approx(gf["speedup_self"] / (0.30 / 0.155))
    # a pure-Python row never beats its own ceiling by the C ceiling's yardstick
    assert procs["fraction_of_ceiling"] < 1.0


def test_free_threaded_build_where_threads_help():
    table = dict(GIL_RANGE)
    del table["python-threads"], table["gilfree-gil"]
    table["free-threaded"] = (0.062, 0.032)
    r = synthetic(table, gil=False, free_threaded_build=True)
    t = claim(r, "threads")
    assert t["holds"] is False and t["strategy"] == "free-threaded"
    assert t["speedup"] == pytest.approx(62 / 32, rel=0.02) and t["speedup"] >= HELPS
    c = claim(r, "c_nogil")
    assert c["control_speedup"] is None and "free-threaded" in c["control_reason"]
    out = text_of(r)
    assert "DOES NOT HOLD HERE" in out and "this interpreter runs without the GIL" in out
    assert "GIL off" in out and "free-threaded build" in out


def test_processes_that_do_not_pay_off():
    table = dict(GIL_RANGE)
    table["python"] = (0.002, None)
    table["python-processes"] = (0.003, 0.0045)  # pool round trips dominate a 2 ms call
    table["ceiling-python"] = (0.002, 0.001)
    r = synthetic(table)
    p = claim(r, "processes")
    assert p["holds"] is False and p["speedup"] < 1
    assert p["break_even_call_s"] > p["call_s"]
    assert p["repay_startup_s"] is None  # never repaid: no speedup
    out = text_of(r)
    assert re.search(r"DOES NOT HOLD HERE\s+processes do", out)
    assert "pays off for calls over" in out


def test_one_cpu_machine_gives_no_verdict():
    r = synthetic(usable=1)
    for c in r["claims"]:
        assert c["holds"] is None and "1 usable CPU" in c["reason"]
    assert text_of(r).count("NOT MEASURABLE HERE") == 3


def test_a_busy_machine_is_said_to_be_busy():
    r = synthetic()
    assert "busy" not in text_of(r)
    r["header"]["loadavg"] = {"start": 6.5, "end": 8.3}
    out = text_of(r)
    assert "warning: this machine was busy (load average 6.5 at the start, 8.3 at the end, " \
           "on 2 CPUs)" in out
    r["header"]["loadavg"] = {"start": 0.2, "end": 2.1}  # the bench's own threads at the end
    assert "busy" not in text_of(r)
    # load that came and went during the run: seen by the values it disturbed
    r["header"]["busy_values"] = {"timed": 800, "busy": 100}
    assert "busy" not in text_of(r)
    r["header"]["busy_values"] = {"timed": 800, "busy": 400}
    assert "warning: this machine was busy (load average 0.2 at the start, 2.1 at the end; " \
           "another program was running at 50% of the timed values, on 2 CPUs)" in text_of(r)


def test_missing_rows_are_not_checked_with_a_reason():
    r = synthetic({"python": (0.06, None), "gilfree": (3e-4, 1.6e-4)})
    t, p, c = (claim(r, k) for k in ("threads", "processes", "c_nogil"))
    assert t["holds"] is None and "threads" in t["reason"]
    assert p["holds"] is None and "python-processes" in p["reason"]
    assert c["holds"] is True and c["ceiling_speedup"] is None
    assert c["control_reason"] == "gilfree-gil was not measured"


# ---------------------------------------------------------------------------
# the one-screen summary and --detail
# ---------------------------------------------------------------------------


def test_summary_fits_one_screen_and_reads_like_a_person_wrote_it():
    r = synthetic(workloads=("range", "map", "reduce"))
    for use_rich in (False, True):
        if use_rich:
            pytest.importorskip("rich")
        out = text_of(r, use_rich=use_rich)
        lines = out.splitlines()
        assert len(lines) <= 80, len(lines)
        assert "Test CPU 9000, 2 of 2 CPUs usable" in lines[0] and "GIL on" in lines[0]
        assert not re.search(r"\de[+-]\d", out), "a number in e-notation"
        for word in ("range n=10^6", "map float64 n=10^5", "reduce float64 n=10^5",
                     "range speedup on 2 workers", "ceiling-python", "not run here"):
            assert word in out, word
    plain = text_of(r)
    bars = [line for line in plain.splitlines() if "|" in line and "n=10^6" in line]
    assert len(bars) >= 8  # one bar per parallel strategy, the ideal marked


def test_detail_shows_every_row_with_human_heartbeats():
    r = synthetic(workloads=("range", "map"))
    out = text_of(r, detail=True)
    assert "130 ms / 131 ms" in out  # never 1.3e+02/1.3e+02
    assert "== range:" in out and "== map:" in out and "verdict:" in out
    assert "(cache)" in out  # a 10^5 float64 map fits the 32 MiB cache: no bandwidth %
    assert not re.search(r"\de[+-]\d", out)


@pytest.mark.parametrize("ms, text", [(130.0, "130 ms"), (2.04, "2 ms"), (0.088, "0.088 ms"),
                                      (1300.0, "1.3 s"), (float("nan"), "-")])
def test_fmt_ms(ms, text):
    assert _views.fmt_ms(ms) == text


def test_fmt_x_and_time():
    assert _views.fmt_x(0.0023) == "0.0023x" and _views.fmt_x(288.4) == "288x"
    assert _views.fmt_x(12345) == "12,345x" and _views.fmt_x(None) == "-"
    assert _views.fmt_time(0.0601) == "60.1 ms" and _views.fmt_time(2e-6) == "2 us"


# ---------------------------------------------------------------------------
# the HTML report
# ---------------------------------------------------------------------------


def _html_of(result) -> str:
    pytest.importorskip("matplotlib")
    return _report.html_report(result)


def test_html_is_self_contained():
    page = _html_of(synthetic(workloads=("range", "map", "reduce")))
    assert page.startswith("<!DOCTYPE html>")
    for bad in ("http://", "https://", 'src="//', "<link", "@import", "url("):
        assert bad not in page, bad
    assert page.count('src="data:image/png;base64,') == 3  # speedup, throughput, heartbeat
    for word in ("HOLDS", "Every measurement", "Machine and build", "Not run here",
                 "ceiling-python", "130 ms / 131 ms"):
        assert word in page, word


def test_html_report_renders_in_chromium(tmp_path):
    import importlib.util

    if not os.path.exists(HTML_CHECK):
        pytest.skip("tools/html-check.py is not beside the tests (an installed wheel's tests)")
    spec = importlib.util.spec_from_file_location("html_check", HTML_CHECK)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if mod.find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; CI installs it)")
    path = tmp_path / "r.html"
    path.write_text(_html_of(synthetic(workloads=("range", "map"))), encoding="utf-8")
    shot = tmp_path / "r.png"
    r = subprocess.run([sys.executable, HTML_CHECK, str(path), "--screenshot", str(shot)],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # and the checker does fail a page that fetches or throws
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><p>x</p><img src="http://127.0.0.1:9/x.png">'
                   "<script>undefined_function()</script></body></html>", encoding="utf-8")
    r = subprocess.run([sys.executable, HTML_CHECK, str(bad)], capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 1
    assert "self-contained" in r.stdout and "exception" in r.stdout.lower()


def test_blocks_render_the_same_data_everywhere():
    r = synthetic()
    blocks = _views.summary_blocks(r)
    page = _html.page("t", [], blocks, {})
    buf = io.StringIO()
    _report._text.print_blocks(blocks, buf, use_rich=False)
    for c in r["claims"]:
        ev = _views.claim_evidence(c)
        assert ev in buf.getvalue()
        assert _html._e(ev) in page


# ---------------------------------------------------------------------------
# --compare
# ---------------------------------------------------------------------------


def test_mann_whitney_exact_and_normal():
    u, p = _compare.mann_whitney_u([1, 2, 3], [4, 5, 6])
    assert u == 0 and p == pytest.approx(0.1)
    u, p = _compare.mann_whitney_u(list(range(7)), list(range(7, 14)))
    assert p == pytest.approx(2 / 3432)
    _, p = _compare.mann_whitney_u([1, 3, 5, 7], [2, 4, 6, 8])
    assert p > 0.5
    _, p = _compare.mann_whitney_u([1.0] * 5 + [2.0], [1.0] * 6)  # ties: normal approx
    assert 0 < p <= 1
    with pytest.raises(ValueError):
        _compare.mann_whitney_u([], [1])


def test_compare_pairs_gil_and_free_threaded_rows():
    a = synthetic()
    table = dict(GIL_RANGE)
    del table["python-threads"], table["gilfree-gil"]
    table["free-threaded"] = (0.062, 0.032)
    table["gilfree"] = (0.30e-3, 0.16e-3 * 1.001)  # within the noise
    b = synthetic(table, gil=False, free_threaded_build=True)
    cmp = _compare.compare(a, b, ("gil.json", "ft.json"))
    rows = {(r["label"], r["workers_text"]): r for r in cmp["tables"]["range"]}
    threads = rows[("python-threads / free-threaded", "2")]
    assert threads["ratio"] == pytest.approx(0.064 / 0.032, rel=0.03)
    assert threads["significant"] is True
    assert rows[("gilfree", "2")]["significant"] is False
    assert "gilfree-gil" in cmp["unmatched"]
    buf = io.StringIO()
    _report.render_compare(cmp, file=buf, use_rich=False)
    out = buf.getvalue()
    assert "A = gil.json" in out and "B = ft.json" in out
    assert "not significant" in out and "faster" in out


def test_compare_with_too_few_repeats_makes_no_test():
    a, b = synthetic(repeats=3), synthetic(repeats=3, scale=0.5)
    rows = _compare.compare(a, b)["tables"]["range"]
    assert rows and all(r["significant"] is None and r["p"] is None for r in rows)
    assert all(r["ratio"] == pytest.approx(2.0) for r in rows)


def _save(result, path) -> str:
    bench.write_json(result, str(path))
    return str(path)


def test_cli_compare_and_html(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    a = _save(synthetic(), tmp_path / "a.json")
    b = _save(synthetic(scale=0.5), tmp_path / "b.json")
    out_html = tmp_path / "cmp.html"
    assert cli.main(["bench", "--compare", a, b, "--plain", "--html", str(out_html)]) == 0
    out = capsys.readouterr().out
    assert "2.00x faster" in out and re.search(r" significant \(p[=<]0\.", out)
    page = out_html.read_text(encoding="utf-8")
    assert "a.json vs b.json" in page and "https://" not in page


# ---------------------------------------------------------------------------
# --from
# ---------------------------------------------------------------------------


def test_cli_from_renders_without_measuring(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bench, "run", lambda *a, **k: pytest.fail("--from measured"))
    src = _save(synthetic(workloads=("range", "reduce")), tmp_path / "r.json")
    html = tmp_path / "r.html"
    assert cli.main(["bench", "--from", src, "--html", str(html), "--plain"]) == 0
    out = capsys.readouterr().out
    assert "verdict:" in out and f"report: {html}" in out
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not (tmp_path / "gilfree-bench.html").exists()  # only where asked
    assert cli.main(["bench", "--from", src, "--detail", "--plain", "--no-html"]) == 0
    assert "== reduce:" in capsys.readouterr().out


def test_cli_from_exits_1_on_a_saved_wrong_result(tmp_path, capsys):
    bad = {"strategy": "numpy", "label": "numpy", "interpreter": "CPython 3.11",
           "workload": "range", "dtype": None, "n": 10**6, "workers": 1, "status": "failed",
           "reason": "wrong result: returned 42, expected 7", "verified": False, "note": None}
    src = _save(synthetic(extra=[bad]), tmp_path / "r.json")
    assert cli.main(["bench", "--from", src, "--plain", "--no-html"]) == 1
    cap = capsys.readouterr()
    assert "FAILED" in cap.out and "wrong result" in cap.err


# ---------------------------------------------------------------------------
# bad input and faults
# ---------------------------------------------------------------------------


def _exit2(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_html_to_an_unwritable_path(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_report, "have_matplotlib", lambda: True)  # the path is checked
    src = _save(synthetic(), tmp_path / "r.json")
    err = _exit2(["bench", "--from", src, "--html", str(tmp_path / "no" / "r.html")], capsys)
    assert "--html" in err and "does not exist" in err
    err = _exit2(["bench", "--from", src, "--html", str(tmp_path)], capsys)
    assert "--html" in err and "folder" in err
    # checked before any measuring
    monkeypatch.setattr(bench, "run", lambda *a, **k: pytest.fail("measured before the check"))
    err = _exit2(["bench", "--html", "/proc/no-such/r.html"], capsys)
    assert "--html" in err


@pytest.mark.parametrize("content, message", [
    ("not json at all", "is not JSON"),
    ('{"some": "thing"}', "not a gilfree bench result"),
    ('{"schema": "gilfree-bench/1", "points": []}', "schema gilfree-bench/1"),
    ('{"schema": "gilfree-bench/2", "points": []}', "missing header"),
    ('[1, 2, 3]', "not a gilfree bench result"),
])
def test_compare_of_files_that_are_not_bench_json(tmp_path, capsys, content, message):
    good = _save(synthetic(), tmp_path / "good.json")
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    err = _exit2(["bench", "--compare", good, str(bad)], capsys)
    assert "--compare" in err and message in err and str(bad) in err
    err = _exit2(["bench", "--from", str(bad)], capsys)
    assert "--from" in err and message in err


def test_compare_of_a_missing_file(tmp_path, capsys):
    good = _save(synthetic(), tmp_path / "good.json")
    err = _exit2(["bench", "--compare", good, str(tmp_path / "nope.json")], capsys)
    assert "--compare" in err and "cannot read" in err


def test_from_rejects_measurement_options(tmp_path, capsys):
    src = _save(synthetic(), tmp_path / "r.json")
    err = _exit2(["bench", "--from", src, "--sizes", "1e6"], capsys)
    assert "--from" in err and "--sizes" in err


def test_html_without_matplotlib(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(_report, "have_matplotlib", lambda: False)
    src = _save(synthetic(), tmp_path / "r.json")
    err = _exit2(["bench", "--from", src, "--html", str(tmp_path / "r.html")], capsys)
    assert "--html" in err and "matplotlib" in err
    assert not (tmp_path / "r.html").exists()


def test_nothing_half_written_when_rendering_fails(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    path = tmp_path / "r.html"
    path.write_text("the previous report", encoding="utf-8")

    def boom(*a, **k):
        raise KeyboardInterrupt

    real = _report._write_atomic

    def write_then_fail(p, text, what):
        monkeypatch.setattr(os, "replace", boom)
        return real(p, text, what)

    monkeypatch.setattr(_report, "_write_atomic", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        bench.write_html(synthetic(), str(path))
    assert path.read_text(encoding="utf-8") == "the previous report"
    assert os.listdir(tmp_path) == ["r.html"]  # no temporary file left behind


def test_ctrl_c_during_a_run_writes_no_report(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "run", interrupted)
    assert cli.main(["bench", "--no-progress", "--json", str(tmp_path / "r.json")]) == 130
    assert "no report written" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_default_run_writes_the_report_here(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bench, "run", lambda settings, progress=None: synthetic())
    assert cli.main(["bench", "--no-progress", "--plain"]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'gilfree-bench.html'}" in out
    assert "gilfree bench --detail" in out
    assert (tmp_path / "gilfree-bench.html").stat().st_size > 10_000


def test_bandwidth_reference_is_the_best_read():
    bw = bench.measure_bandwidth(2**20, 2, repeats=2)
    assert {"np.sum, 1 thread", "np.dot, 1 thread", "np.sum, 2 threads",
            "np.dot, 2 threads"} == set(bw["reads"])
    assert bw["GBps_read"] == max(bw["reads"].values()) == bw["reads"][bw["read_best"]]
    assert bw["GBps_read"] >= max(bw["GBps_read_1"], bw["GBps_read_threads"])


def test_json_roundtrip_keeps_the_claims(tmp_path):
    r = synthetic()
    path = _save(r, tmp_path / "r.json")
    back = _report.load_json(path)
    assert json.loads(json.dumps(back["claims"])) == json.loads(json.dumps(r["claims"]))


# ---------------------------------------------------------------------------
# malformed saved runs: one ReportError, never a traceback
# ---------------------------------------------------------------------------


def _saved_text(change=None) -> str:
    """A saved run as JSON text, after `change(data)` edits the parsed data."""
    data = json.loads(json.dumps(_report._clean(synthetic(workloads=("range", "map")))))
    if change is not None:
        change(data)
    return json.dumps(data)


def _set(path, value):
    """An edit that sets the field at `path` (keys and list indexes) to `value`."""
    def change(data):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return change


def _median_text(literal: str) -> str:
    """A saved run whose first point's median is written as `literal`."""
    text = _saved_text(_set(("points", 0, "median"), 12345.678))
    assert text.count("12345.678") == 1
    return text.replace("12345.678", literal)


DEEP = "[" * 100_000 + "]" * 100_000

#: (id, file content, words the message must hold)
MALFORMED = [
    ("header-null", _saved_text(_set(("header",), None)), "header must be an object, got null"),
    ("header-string", _saved_text(_set(("header",), "x")), "header must be an object"),
    ("settings-string", _saved_text(_set(("settings",), "quick")), "settings must be an object"),
    ("python-string", _saved_text(_set(("header", "python"), "3.11")),
     "header.python must be an object"),
    ("cpus-string", _saved_text(_set(("header", "usable_cpus"), "two")),
     "header.usable_cpus must be a whole number"),
    ("openmp-null", _saved_text(_set(("header", "openmp"), None)), "header.openmp"),
    ("loadavg-list", _saved_text(_set(("header", "loadavg"), [1.0, 2.0])), "header.loadavg"),
    ("environment-list", _saved_text(_set(("header", "environment"), ["A=1"])),
     "header.environment"),
    ("strategies-null", _saved_text(_set(("strategies",), None)), "strategies must be a list"),
    ("strategy-name-null", _saved_text(_set(("strategies", 0, "name"), None)),
     "strategies[0].name"),
    ("errors-null", _saved_text(_set(("errors",), None)), "errors must be a list, got null"),
    ("errors-object", _saved_text(_set(("errors",), {"a": 1})), "errors must be a list"),
    ("startup-null", _saved_text(_set(("startup",), None)), "startup must be a list"),
    ("startup-seconds-string", _saved_text(_set(("startup", 0, "seconds"), "0.6")),
     "startup[0].seconds"),
    ("points-null", _saved_text(_set(("points",), None)), "points must be a list"),
    ("point-string", _saved_text(_set(("points", 0), "ok")), "points[0] must be an object"),
    ("median-Infinity", _median_text("Infinity"), "Infinity"),
    ("median-NaN", _median_text("NaN"), "NaN"),
    ("median-minus-Infinity", _median_text("-Infinity"), "Infinity"),
    ("median-1e400", _median_text("1e400"), "points[0].median must be a finite number"),
    ("median-zero", _saved_text(_set(("points", 0, "median"), 0)), "points[0].median"),
    ("median-null", _saved_text(_set(("points", 0, "median"), None)), "points[0].median"),
    ("median-string", _saved_text(_set(("points", 0, "median"), "fast")), "points[0].median"),
    ("values-with-null", _saved_text(_set(("points", 0, "values"), [0.1, None])),
     "points[0].values[1]"),
    ("n-string", _saved_text(_set(("points", 0, "n"), "10^6")), "points[0].n"),
    ("n-huge", _saved_text(_set(("points", 0, "n"), 10**4000)), "points[0].n"),
    ("workers-zero", _saved_text(_set(("points", 0, "workers"), 0)), "points[0].workers"),
    ("workload-unknown", _saved_text(_set(("points", 0, "workload"), "sort")),
     "points[0].workload"),
    ("workload-list", _saved_text(_set(("points", 0, "workload"), ["range"])),
     "points[0].workload"),
    ("status-unknown", _saved_text(_set(("points", 0, "status"), "done")), "points[0].status"),
    ("dtype-unknown", _saved_text(_set(("points", 2, "dtype"), "complex256")),
     "points[2].dtype"),
    ("heartbeat-p99-null", _saved_text(_set(("points", 2, "heartbeat", "p99_ms"), None)),
     "points[2].heartbeat.p99_ms"),
    ("heartbeat-idle-list", _saved_text(_set(("heartbeat_idle",), [0.1])), "heartbeat_idle"),
    ("bandwidth-string", _saved_text(_set(("bandwidth", "GBps"), "fast")), "bandwidth.GBps"),
    ("headline-workers-null", _saved_text(_set(("settings", "headline_workers"), None)),
     "settings.headline_workers"),
    ("workers-empty", _saved_text(_set(("settings", "workers"), [])), "settings.workers"),
    ("python-sizes-int", _saved_text(_set(("settings", "python_sizes"), {"range": 10})),
     "settings.python_sizes.range"),
    ("deep-array", DEEP, "nested deeper"),
    ("deep-array-in-a-field", _saved_text(_set(("header", "optional"),
                                                 {"x": json.loads("[" * 200 + "]" * 200)})),
     "nested deeper"),
    ("deep-array-in-a-point", _saved_text(_set(("points", 0, "extra"), json.loads(
        "[" * 900 + "]" * 900))), "nested deeper"),
    ("not-utf8", b'{"schema": "gilfree-bench/2", "x": "\xff\xfe"}', "not UTF-8"),
    ("latin1", _saved_text().replace('"Test CPU 9000"', '"Test CPU \u00e9"').encode("latin-1"),
     "not UTF-8"),
    ("empty", "", "empty"),
    ("blank", "  \n", "empty"),
    ("truncated", _saved_text()[:-10], "is not JSON"),
    ("top-level-list", "[1, 2, 3]", "not a gilfree bench result"),
    ("top-level-string", '"gilfree-bench/2"', "not a gilfree bench result"),
    ("top-level-null", "null", "not a gilfree bench result"),
    ("schema-old", _saved_text(_set(("schema",), "gilfree-bench/1")), "schema gilfree-bench/1"),
    ("schema-probe", _saved_text(_set(("schema",), "gilfree-probe/1")),
     "not a gilfree bench result"),
    ("schema-number", _saved_text(_set(("schema",), 2)), "not a gilfree bench result"),
    ("schema-list", _saved_text(_set(("schema",), ["gilfree-bench/2"])),
     "not a gilfree bench result"),
]


@pytest.mark.parametrize("content, words", [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_saved_run_is_one_report_error(tmp_path, capsys, content, words):
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(bench.ReportError) as info:
        bench.load_json(str(path))
    message = str(info.value)
    assert words in message and str(path) in message and "\n" not in message
    good = _save(synthetic(), tmp_path / "good.json")
    for argv in (["bench", "--from", str(path), "--plain", "--no-html"],
                 ["bench", "--compare", good, str(path), "--plain"]):
        err = _exit2(argv, capsys)
        assert "Traceback" not in err and words in err
        assert err.strip().splitlines()[-1].startswith(f"gilfree bench: error: {argv[1]}: ")


def _paths(value, prefix=()):
    """Every field path of a parsed JSON value (the first two items of each list)."""
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:2]):
            yield from _paths(v, prefix + (i,))


def test_a_saved_run_that_loads_renders_in_every_view():
    """Each field of a saved run, replaced by a value of another type (or
    deleted): either the check on load refuses it, or every view renders it.
    No view meets a field the check let through unchecked."""
    from gilfree.bench import _schema

    base = json.loads(json.dumps(_report._clean(synthetic(workloads=("range", "map")))))
    base["points"] = base["points"][:2] + [p for p in base["points"] if p.get("heartbeat")]
    assert _schema.problem(base) is None
    others = [None, "x", [], {}, -1, 0, 0.5, True, float("inf"), 10**30, [1, "a"]]
    tried = refused = 0
    for path in list(_paths(base)):
        for value in [*others, KeyError]:
            data = json.loads(json.dumps(base))
            parent = data
            for key in path[:-1]:
                parent = parent[key]
            if value is KeyError:
                if not isinstance(parent, dict):
                    continue
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
            tried += 1
            if _schema.problem(data) is not None:
                refused += 1
                continue
            try:
                derive(data)
                blocks = (_views.summary_blocks(data) + _views.detail_blocks(data)
                          + _views.report_blocks(data))
                _report._text.print_blocks(blocks, io.StringIO(), use_rich=False)
                _html.page("t", [], blocks, {})
                cmp = _compare.compare(data, data, ("a", "b"))
                _report._text.print_blocks(_views.compare_blocks(cmp, detail=True),
                                           io.StringIO(), use_rich=False)
            except Exception as exc:  # noqa: BLE001 - any exception is the finding
                pytest.fail(f"{'.'.join(map(str, path))} = {value!r} passed the check but "
                            f"the views raised {type(exc).__name__}: {exc}")
    assert tried > 1000 and 0 < refused < tried


def test_recorded_runs_of_this_schema_load():
    """The recorded runs under perf/results written with this schema pass
    the check on load (older ones are refused by their schema tag)."""
    found = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(ROOT, "perf", "results"))
             for f in files if f == "bench.json"]
    if not found:
        pytest.skip("perf/results is not beside the tests (an installed wheel's tests)")
    current = []
    for path in found:
        with open(path, encoding="utf-8") as f:
            if json.load(f).get("schema") == SCHEMA:
                current.append(path)
    assert current
    for path in current:
        r = _report.load_json(path)
        assert r["claims"] and "verdict:" in text_of(r)


# ---------------------------------------------------------------------------
# every output path is checked before anything is measured
# ---------------------------------------------------------------------------


def _no_measuring(monkeypatch):
    monkeypatch.setattr(bench, "run", lambda *a, **k: pytest.fail("measured before the check"))


@pytest.mark.parametrize("case", ["plot-is-a-file", "plot-parent-missing", "plot-png-is-a-folder",
                                  "json-is-a-folder", "json-parent-missing", "json-under-a-file",
                                  "html-parent-missing", "json-and-html-same-file",
                                  "json-is-the-default-html", "plot-png-is-the-json"])
def test_output_paths_are_checked_before_measuring(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_report, "have_matplotlib", lambda: True)  # the paths are checked
    _no_measuring(monkeypatch)
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "plots" / "speedup.png").mkdir(parents=True)
    argv, words = {
        "plot-is-a-file": (["--plot", "file.txt"], "is a file, expected a folder"),
        "plot-parent-missing": (["--plot", "no/such/plots"], "does not exist"),
        "plot-png-is-a-folder": (["--plot", "plots"], "speedup.png' is a folder"),
        "json-is-a-folder": (["--json", "plots"], "is a folder"),
        "json-parent-missing": (["--json", "no/r.json"], "does not exist"),
        "json-under-a-file": (["--json", "file.txt/r.json"], "file.txt"),
        "html-parent-missing": (["--html", "no/r.html"], "does not exist"),
        "json-and-html-same-file": (["--json", "r.out", "--html", "./r.out"],
                                    "is also the file of --json"),
        "json-is-the-default-html": (["--json", "gilfree-bench.html"],
                                     "is also the file of the default HTML report"),
        "plot-png-is-the-json": (["--json", "p/heartbeat.png", "--plot", "p", "--no-html"],
                                 "is also the file of --json"),
    }[case]
    (tmp_path / "p").mkdir()
    err = _exit2(["bench", "--no-progress", *argv], capsys)
    option = next(a for a in argv if a.startswith("--") and a != "--no-html")
    assert "Traceback" not in err and words in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("gilfree bench: error: --") and option in err
    assert sorted(os.listdir(tmp_path)) == ["file.txt", "p", "plots"]  # nothing written


def test_an_unwritable_output_folder_is_named_before_measuring(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_report, "have_matplotlib", lambda: True)
    _no_measuring(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access

    def access(path, mode, *args, **kwargs):  # as for a folder mode 0o500 (root may write it)
        if os.path.abspath(path) == str(locked) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    for argv in (["--plot", str(locked)], ["--plot", str(locked / "new")],
                 ["--json", str(locked / "r.json")], ["--html", str(locked / "r.html")]):
        err = _exit2(["bench", "--no-progress", *argv], capsys)
        assert argv[0] in err and "permission denied" in err and "Traceback" not in err


def test_a_read_only_folder_is_refused(tmp_path, capsys, monkeypatch):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root may write in a read-only folder")
    _no_measuring(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        err = _exit2(["bench", "--no-html", "--json", str(locked / "r.json")], capsys)
    finally:
        locked.chmod(0o700)
    assert "--json" in err and "permission denied" in err


def test_saved_run_outputs_are_checked_first(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_report, "have_matplotlib", lambda: True)
    src = _save(synthetic(), tmp_path / "r.json")
    before = (tmp_path / "r.json").read_bytes()
    # an output that is the input would overwrite the saved run
    for argv in (["--from", src, "--html", src], ["--from", src, "--json", src],
                 ["--compare", src, src, "--html", src]):
        err = _exit2(["bench", *argv, "--plain"], capsys)
        assert "is the saved run read by" in err and "Traceback" not in err
    assert (tmp_path / "r.json").read_bytes() == before
    # --compare writes an HTML page only: --json and --plot are refused, not ignored
    for argv in (["--json", str(tmp_path / "c.json")], ["--plot", str(tmp_path / "plots")]):
        err = _exit2(["bench", "--compare", src, src, *argv], capsys)
        assert argv[0] in err and "--compare writes only" in err
    err = _exit2(["bench", "--from", src, "--plot", str(tmp_path / "r.json")], capsys)
    assert "--plot" in err and "is a file" in err


def test_a_failed_output_loses_no_other_report(tmp_path, capsys, monkeypatch):
    """An output that fails at the end of a run (its folder replaced by a file
    during the run) is reported in one line, exit 2; the JSON and the HTML
    report are still written."""
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    plots = tmp_path / "plots"

    def run_then_break_the_plot_folder(settings, progress=None):
        plots.write_text("a file now")  # the folder did not exist: the check let it pass
        return synthetic()

    monkeypatch.setattr(bench, "run", run_then_break_the_plot_folder)
    rc = cli.main(["bench", "--no-progress", "--plain", "--plot", str(plots),
                   "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")])
    cap = capsys.readouterr()
    assert rc == 2
    assert "Traceback" not in cap.err and cap.err.strip().startswith("gilfree bench: error: --plot")
    assert len(cap.err.strip().splitlines()) == 1
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert _report.load_json(str(tmp_path / "r.json"))["points"]
    assert sorted(os.listdir(tmp_path)) == ["plots", "r.html", "r.json"]  # no temporary file
