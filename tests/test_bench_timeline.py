"""Tests of the bench's timelines and of when a verdict can be given at all.

Everything here works on synthetic results (:func:`test_bench_report.synthetic`)
and on readings shaped as the sampler returns them; nothing is timed, so the
tests hold on a busy machine too.
"""

from __future__ import annotations

import copy
import io
import json
import xml.etree.ElementTree as ET

import pytest
from test_bench_report import claim, synthetic, text_of

from gilfree import _timeline
from gilfree.bench import _html, _report, _views
from gilfree.bench._analysis import HELPS, conditions, derive
from gilfree.bench._schema import problem

pytestmark = pytest.mark.thread_unsafe(reason="patches modules")

FIVE = ("python-threads", "python-processes", "gilfree-gil", "gilfree-threads", "gilfree")


def _turns(k: int, nthreads: int = 2, slices: int = 8, span: float = 0.2) -> list:
    """Thread `k`'s run intervals when `nthreads` take turns."""
    step = span / slices
    return [[i * step, (i + 1) * step] for i in range(slices) if i % nthreads == k]


def _timeline_of(name: str, nthreads: int = 2, gap: float = 0.0) -> dict:
    """Turns for the GIL-bound strategies, parallel bands for the others;
    `gap`: the share of the span at the end where nothing ran."""
    end = 0.2 * (1 - gap)
    if name in ("python-threads", "gilfree-gil"):
        runs = [[[a, min(b, end)] for a, b in _turns(k, nthreads) if a < end]
                for k in range(nthreads)]
    else:
        runs = [[[0.0, end]] for _ in range(nthreads)]
    prefix = "P" if name == "python-processes" else "T"
    threads = [{"name": f"{prefix}{k + 1}", "running": r} for k, r in enumerate(runs)]
    return {"threads": threads, "span": [0.0, 0.2],
            "idle": _timeline.idle_share(runs, [0.0, 0.2]),
            "overlap": _timeline.overlap(runs, [0.0, 0.2])}


def with_timelines(result: dict, nthreads: int = 2, gap: float = 0.0) -> dict:
    """`result` with a timeline for each of the five strategies, derived again."""
    r = copy.deepcopy(result)
    for s in r["strategies"]:
        if s["name"] in FIVE:
            tl = _timeline_of(s["name"], nthreads, gap)
            s["overlap"] = tl.pop("overlap")
            s["timeline"] = tl
    r["timelines"] = {"workers": nthreads, "workload": "range", "seconds": 0.2,
                      "sampler_cpu_share": 0.015, "period_s": 0.001,
                      "gil": "this interpreter always has the GIL", "reason": None,
                      "source": "schedstat"}
    derive(r)
    return r


# ---------------------------------------------------------------------------
# the terminal and the HTML report
# ---------------------------------------------------------------------------


def test_the_summary_draws_the_timelines_in_block_characters():
    r = with_timelines(synthetic(workloads=("range", "map", "reduce")))
    out = text_of(r)
    lines = out.splitlines()
    assert len(lines) <= 80, len(lines)
    assert "who ran when: the range loop on 2 workers, 200 ms each" in out
    full, empty = _timeline.FULL, _timeline.EMPTY
    threads = [line for line in lines if "python-threads" in line and "overlap" in line]
    assert len(threads) == 1 and "overlap   0%" in threads[0]
    assert f"T1  {full * 5}{empty * 5}{full * 5}" in threads[0]
    gf = next(line for line in lines if line.lstrip().startswith("gilfree ") and full in line)
    assert "overlap 100%" in gf and full * 40 in gf
    assert "it used 2% of one CPU" in out and "always has the GIL" in out
    assert "ran in parallel 0% of the time" in out  # the threads claim quotes its overlap
    assert "range speedup on 2 workers" not in out  # the timelines replace the bars here
    assert "range speedup on 2 workers" in text_of(r, detail=True)


def test_the_rich_summary_fits_one_screen_with_the_timelines():
    pytest.importorskip("rich")
    r = with_timelines(synthetic(workloads=("range", "map", "reduce")))
    rich = text_of(r, use_rich=True)
    assert len(rich.splitlines()) <= 80 and _timeline.FULL in rich


def test_many_workers_still_fit_one_screen():
    r = with_timelines(synthetic(workloads=("range", "map", "reduce")), nthreads=16)
    out = text_of(r)
    assert len(out.splitlines()) <= 80
    assert "(+14 more rows in the JSON and the HTML report)" in out


def test_a_run_without_timelines_still_renders_with_its_bars():
    r = synthetic(workloads=("range",))
    assert "who ran when" not in text_of(r) and "range speedup on 2 workers" in text_of(r)
    r["timelines"] = {"workers": 2, "seconds": 0.2, "reason": "Darwin gives no per-thread run "
                      "times (only Linux's /proc does): no timeline is drawn",
                      "gil": "this interpreter always has the GIL"}
    out = text_of(r)
    assert "no timeline: Darwin gives no per-thread run times" in out
    assert "no timeline is drawn" in _html.page("t", [], _views.report_blocks(r), {})


def test_the_html_report_leads_with_verdicts_and_timelines():
    r = with_timelines(synthetic(workloads=("range", "map")))
    page = _html.page("gilfree bench", [], _views.report_blocks(r), {})
    verdict, timelines = page.index("verdict:"), page.index("who ran when")
    chart = page.index("range speedup on 2 workers")
    details = page.index("Details")
    assert verdict < timelines < chart < details < page.index("map float64 n=10^5")
    assert page.count('<div class="panel">') == 5
    start = page.index("<svg")
    svg = page[start:page.index("</svg>", start) + len("</svg>")]
    ET.fromstring(svg)
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox') >= 5
    assert page.count('aria-label="timeline of') == 5  # one SVG a panel (the chart is one more)


# ---------------------------------------------------------------------------
# the saved run
# ---------------------------------------------------------------------------


def _saved(result: dict) -> dict:
    return json.loads(json.dumps(_report._clean(result)))


def test_the_schema_accepts_timelines_and_runs_without_them():
    plain = _saved(synthetic())
    assert problem(plain) is None
    data = _saved(with_timelines(synthetic()))
    assert problem(data) is None
    entry = next(s for s in data["strategies"] if s["name"] == "python-threads")
    assert set(entry["timeline"]) >= {"threads", "span"} and 0 <= entry["overlap"] <= 1


@pytest.mark.parametrize("edit, words", [
    (lambda s: s.update(overlap=1.5), "strategies[1].overlap must be a fraction"),
    (lambda s: s.update(overlap="most"), "strategies[1].overlap"),
    (lambda s: s["timeline"].update(span=[0.2, 0.1]), "strategies[1].timeline.span"),
    (lambda s: s["timeline"].update(span=None), "strategies[1].timeline.span"),
    (lambda s: s["timeline"].update(threads=None), "strategies[1].timeline.threads must be a list"),
    (lambda s: s["timeline"]["threads"][0].update(name=3), "timeline.threads[0].name"),
    (lambda s: s["timeline"]["threads"][0].update(running=[[0.1, 0.05]]),
     "timeline.threads[0].running[0] must be [t0, t1] in order"),
    (lambda s: s["timeline"]["threads"][0].update(running=[[0.0, 0.5]]),
     "within the span"),
    (lambda s: s["timeline"]["threads"][0].update(running=[[0.1, 0.15], [0.0, 0.05]]),
     "running[1]"),
    (lambda s: s["timeline"]["threads"][0].update(running=[[0.0, float("nan")]]), "running[0]"),
])
def test_the_schema_names_a_bad_timeline_field(edit, words):
    data = _saved(with_timelines(synthetic()))
    assert data["strategies"][1]["name"] == "python-threads"
    edit(data["strategies"][1])
    assert words in (problem(data) or "")


def test_the_schema_checks_the_timelines_section_and_cpu_time():
    data = _saved(with_timelines(synthetic()))
    data["timelines"]["sampler_cpu_share"] = 3
    assert "timelines.sampler_cpu_share" in problem(data)
    data = _saved(with_timelines(synthetic()))
    data["header"]["cpu_time"] = {"start": {"total": 10, "steal": -1}}
    assert "header.cpu_time.start.steal" in problem(data)


def test_a_saved_run_with_timelines_renders_again(tmp_path):
    path = tmp_path / "r.json"
    _report.write_json(with_timelines(synthetic()), str(path))
    from gilfree import bench
    r = bench.load_json(str(path))
    buf = io.StringIO()
    bench.render(r, file=buf, use_rich=False)
    assert "who ran when" in buf.getvalue()


# ---------------------------------------------------------------------------
# verdicts: NOT MEASURABLE HERE when the run cannot support one
# ---------------------------------------------------------------------------


def _statuses(r) -> list:
    return [_views._status(c) for c in r["claims"]]


def test_an_idle_run_gives_verdicts_and_quotes_the_overlap():
    r = with_timelines(synthetic())
    assert conditions(r) == []
    assert _statuses(r) == ["holds", "holds", "holds"]
    assert claim(r, "threads")["overlap"] == 0.0
    assert claim(r, "processes")["overlap"] == 1.0
    assert claim(r, "c_nogil")["overlap_strategy"] == "gilfree-threads"


def test_other_load_makes_every_claim_not_measurable():
    r = synthetic()
    r["header"]["loadavg"] = {"start": 5.0, "end": 6.1}
    derive(r)
    assert _statuses(r) == ["unmeasurable"] * 3
    assert [c["id"] for c in conditions(r)] == ["load"]
    out = text_of(r)
    assert out.count("NOT MEASURABLE HERE") == 3 and "HOLDS" not in out
    assert "DOES NOT HOLD" not in out
    assert "not measurable here: other programs shared the CPUs (load average 5.0 on 2 CPUs" \
        in out and "run again when the machine is idle" in out
    page = _html.page("t", [], _views.report_blocks(r), {})
    assert page.count("NOT MEASURABLE HERE") == 3


def test_run_delays_of_other_processes_count_as_load():
    r = synthetic()
    r["header"]["busy_values"] = {"timed": 100, "busy": 60}
    derive(r)
    assert _statuses(r) == ["unmeasurable"] * 3
    reason = claim(r, "threads")["reason"]
    assert "another program wanted a CPU at 60% of the timed values" in reason


def test_cpu_steal_makes_the_claims_not_measurable():
    r = synthetic()
    r["header"]["cpu_time"] = {"start": {"total": 1000, "steal": 0},
                               "end": {"total": 3000, "steal": 400}}
    derive(r)
    assert _statuses(r) == ["unmeasurable"] * 3
    assert "20% of the CPU time to other guests" in claim(r, "processes")["reason"]
    r["header"]["cpu_time"]["end"]["steal"] = 20  # 1%: fine
    derive(r)
    assert _statuses(r) == ["holds"] * 3


def test_one_usable_cpu_is_not_measurable():
    r = synthetic(usable=1)
    assert _statuses(r) == ["unmeasurable"] * 3
    assert "only 1 usable CPU" in claim(r, "c_nogil")["reason"]
    assert "2 or more CPUs" in claim(r, "c_nogil")["advice"]


def test_a_spread_across_the_threshold_is_not_measurable():
    r = synthetic()
    p = next(p for p in r["points"] if p["label"] == "python-processes" and p["workers"] == 2)
    p["values"] = [0.030, 0.034, 0.040, 0.050, 0.055, 0.058, 0.060]
    from gilfree._timing._loop import summarize
    p.update(summarize(p["values"]))
    derive(r)
    c = claim(r, "processes")
    assert c["measurable"] is False and c["holds"] is None
    assert f"on both sides of {HELPS}x" in c["reason"] and "--full" in c["advice"]
    assert _statuses(r) == ["holds", "unmeasurable", "holds"]
    out = text_of(r)
    assert "Not measurable here: the timings' spread" in out


def _loaded_readings(share: float, n: int = 200, period: float = 0.001) -> tuple:
    """Readings as the sampler returns them for a busy worker that got the CPU
    `share` of the time in bursts (another program ran in between)."""
    times = [k * period for k in range(n)]
    cpu, total = [], 0.0
    for k in range(n):
        if k and (k % 10) < 10 * share:
            total += 0.98 * period
        cpu.append(total)
    return times, cpu


def test_injected_load_recorded_as_gaps_in_every_row():
    """Another program spinning on every CPU: each worker got the CPU 40% of
    the time.  The timelines show it; the verdicts are not given."""
    r = synthetic()
    times, cpu = _loaded_readings(0.4)
    runs = [_timeline.intervals(times, cpu), _timeline.intervals(times, cpu)]
    span = [0.0, times[-1]]
    assert runs[0] and _timeline.idle_share(runs, span) > 0.5
    for s in r["strategies"]:
        if s["name"] in FIVE:
            s["timeline"] = {"threads": [{"name": f"T{k + 1}", "running": x}
                                         for k, x in enumerate(runs)],
                             "span": span, "idle": _timeline.idle_share(runs, span)}
            s["overlap"] = _timeline.overlap(runs, span)
    r["timelines"] = {"workers": 2, "seconds": 0.2, "sampler_cpu_share": 0.01,
                      "period_s": 0.001, "gil": None, "reason": None}
    derive(r)
    assert [c["id"] for c in conditions(r)] == ["timeline"]
    assert _statuses(r) == ["unmeasurable"] * 3
    assert "the timelines show gaps in every row" in claim(r, "threads")["reason"]
    assert "HOLDS" not in text_of(r)
    assert problem(_saved(r)) is None
