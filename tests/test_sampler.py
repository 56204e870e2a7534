"""Tests of the timeline sampler (gilfree._sampler) and its pure functions
(gilfree._timeline).

The sampler tests watch real threads but assert nothing about how fast
anything ran: a busy thread gained CPU time and shows a run interval, a
thread blocked on an Event shows none, the readings are ordered, the
helper thread comes and goes.  The pure functions are tested on made-up
readings and intervals.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest

import gilfree
from gilfree import _timeline

sampler = pytest.importorskip("gilfree._sampler")
linux = pytest.mark.skipif(not sampler.supported, reason="per-thread run times need Linux /proc")

pytestmark = pytest.mark.thread_unsafe(reason="counts this process's threads")


def _tasks() -> set:
    return set(os.listdir("/proc/self/task"))


class _Worker:
    """A thread that either computes (GIL released) or waits on an Event."""

    def __init__(self, busy: bool):
        self.busy = busy
        self.stop = threading.Event()
        self.tid = None
        ready = threading.Event()

        def run():
            self.tid = threading.get_native_id()
            ready.set()
            if busy:
                while not self.stop.is_set():
                    gilfree.sum_squares_range(0, 2_000_000, threads=1)
            else:
                self.stop.wait()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait()

    def close(self):
        self.stop.set()
        self.thread.join()


def _watch(workers, seconds=0.25):
    s = sampler.Sampler(threads=[w.tid for w in workers])
    s.start()
    time.sleep(seconds)
    s.stop()
    return s


# ---------------------------------------------------------------------------
# the sampler
# ---------------------------------------------------------------------------


@linux
def test_a_busy_thread_runs_and_a_sleeping_one_does_not():
    busy, idle = _Worker(True), _Worker(False)
    try:
        s = _watch([busy, idle])
    finally:
        busy.close()
        idle.close()
    times, values, stat_only = s.readings()
    assert len(times) >= 2 and all(b >= a for a, b in zip(times, times[1:]))
    for col in values:
        assert len(col) == len(times)
        seen = [v for v in col if v is not None]
        assert all(b >= a for a, b in zip(seen, seen[1:])) or any(stat_only)
    runs = [_timeline.intervals(times, v, so) for v, so in zip(values, stat_only)]
    assert runs[0], "the busy thread never showed as running"
    assert runs[1] == [], "a thread blocked on an Event showed as running"
    span = [0.0, times[-1] - times[0]]
    for r in runs:
        for a, b in r:
            assert span[0] <= a < b <= span[1]
        assert all(r[k][1] < r[k + 1][0] for k in range(len(r) - 1))  # merged, ordered
    cpu, wall = s.cost
    assert 0 <= cpu and wall > 0


@linux
def test_the_sampler_reads_while_the_gil_is_held():
    from gilfree import _core
    w = _Worker(False)
    try:
        s = sampler.Sampler(threads=[w.tid, threading.get_native_id()])
        s.start()
        t0 = time.monotonic()
        # one long C call with the GIL held: a sampler that needed the GIL
        # would take no reading until it returns
        _core.sum_squares_range_holding_gil(0, 3_000_000_000)
        t1 = time.monotonic()
        s.stop()
    finally:
        w.close()
    times, _, _ = s.readings()
    assert any(t0 < t < t1 for t in times)


@linux
def test_start_stop_restart_and_no_thread_is_left_behind():
    w = _Worker(False)
    before = _tasks()
    try:
        s = sampler.Sampler(threads=[w.tid], period=0.002)
        assert not s.running
        for _ in range(3):
            s.start()
            assert s.running
            with pytest.raises(RuntimeError, match="already running"):
                s.start()
            time.sleep(0.01)
            s.stop()
            assert not s.running
            assert len(s.readings()[0]) >= 1
        with pytest.raises(RuntimeError, match="not running"):
            s.stop()
        del s
    finally:
        w.close()
    w.thread.join()
    assert _tasks() <= before


@linux
def test_a_process_is_watched_through_its_pid():
    child = subprocess.Popen([sys.executable, "-c",
                              "import time; print('ready', flush=True); time.sleep(5)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        s = sampler.Sampler(processes=[child.pid])
        assert s.kinds == ("process",)
        s.start()
        time.sleep(0.02)
        s.stop()
        times, values, _ = s.readings()
        assert _timeline.intervals(times, values[0]) == []  # it sleeps
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


@linux
def test_bad_arguments_are_clear_errors():
    me = threading.get_native_id()
    with pytest.raises(ValueError, match="at least one"):
        sampler.Sampler()
    with pytest.raises(ValueError, match="positive"):
        sampler.Sampler(threads=[0])
    with pytest.raises(ValueError, match="period"):
        sampler.Sampler(threads=[me], period=1e-7)
    with pytest.raises(ValueError, match="max_seconds"):
        sampler.Sampler(threads=[me], max_seconds=0)
    with pytest.raises(TypeError):
        sampler.Sampler(threads=[None])
    t = threading.Thread(target=lambda: None)
    t.start()
    gone = t.native_id
    t.join()
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/self/task/{gone}") and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(ProcessLookupError, match="no such thread"):
        sampler.Sampler(threads=[gone])


def test_where_there_is_no_per_thread_data_it_says_so(monkeypatch):
    monkeypatch.setattr(sampler, "supported", False)
    reason = _timeline.unsupported_reason()
    assert "no per-thread run times" in reason and "no timeline is drawn" in reason


def test_the_interpreter_says_whether_the_gil_is_on(monkeypatch):
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert "runs without the GIL" in _timeline.gil_words()
    monkeypatch.delattr(sys, "_is_gil_enabled")
    assert _timeline.gil_words() == "this interpreter always has the GIL"


@linux
def test_record_returns_a_timeline_and_the_sampler_cost():
    w = _Worker(True)
    try:
        tl = _timeline.record(lambda: time.sleep(0.05), threads=[w.tid], names=["busy"])
    finally:
        w.close()
    assert [t["name"] for t in tl["threads"]] == ["busy"]
    assert tl["span"][0] == 0.0 and tl["span"][1] > 0
    assert 0.0 <= tl["overlap"] <= 1.0 and 0.0 <= tl["idle"] <= 1.0
    assert tl["sampler"]["source"] in ("schedstat", "stat")
    assert tl["sampler"]["cpu_share"] is None or 0 <= tl["sampler"]["cpu_share"] <= 1
    with pytest.raises(ValueError, match="names"):
        _timeline.record(lambda: None, threads=[w.tid], names=["a", "b"])


# ---------------------------------------------------------------------------
# pure functions
# ---------------------------------------------------------------------------


def test_intervals_from_cpu_time_readings():
    times = [0.0, 0.001, 0.002, 0.003, 0.004, 0.005]
    cpu = [0.0, 0.0009, 0.0018, 0.0019, 0.0020, 0.0030]  # on, on, off, off, on
    assert _timeline.intervals(times, cpu) == [[0.0, 0.002], [0.004, 0.005]]
    # a gone thread (None) breaks the run; a state reading (stat) is 1 or 0
    assert _timeline.intervals(times, [0.0, 0.001, None, None, 0.0, 0.001]) == [
        [0.0, 0.001], [0.004, 0.005]]
    assert _timeline.intervals(times, [1, 1, 0, 1, 1, 0], stat_only=True) == [
        [0.0, 0.001], [0.002, 0.004]]
    assert _timeline.intervals([], []) == []
    with pytest.raises(ValueError, match="times"):
        _timeline.intervals([0.0, 1.0], [0.0])
    with pytest.raises(ValueError, match="decrease"):
        _timeline.intervals([1.0, 0.0], [0.0, 0.0])


def test_overlap_is_zero_for_turns_and_one_for_parallel():
    span = [0.0, 1.0]
    turns = [[[0.0, 0.25], [0.5, 0.75]], [[0.25, 0.5], [0.75, 1.0]]]
    assert _timeline.overlap(turns, span) == 0.0
    assert _timeline.idle_share(turns, span) == 0.0
    parallel = [[[0.0, 1.0]], [[0.0, 1.0]], [[0.0, 1.0]]]
    assert _timeline.overlap(parallel, span) == 1.0
    half = [[[0.0, 1.0]], [[0.5, 1.0]]]
    assert _timeline.overlap(half, span) == pytest.approx(0.5)
    assert _timeline.overlap([[[0.0, 1.0]]], span) == 0.0  # one thread never overlaps
    assert _timeline.overlap(parallel, [0.0, 0.0]) == 0.0
    assert _timeline.overlap([[[-1.0, 0.5]], [[0.25, 9.0]]], span) == pytest.approx(0.25)
    gaps = [[[0.0, 0.2]], [[0.1, 0.3]]]
    assert _timeline.idle_share(gaps, span) == pytest.approx(0.7)
    assert _timeline.running_share([[0.0, 0.2], [0.5, 0.6]], span) == pytest.approx(0.3)


def test_strip_draws_block_characters():
    full, empty = _timeline.FULL, _timeline.EMPTY
    assert _timeline.strip([[0.0, 0.5]], [0.0, 1.0], 4) == full * 2 + empty * 2
    assert _timeline.strip([], [0.0, 1.0], 3) == empty * 3
    assert _timeline.strip([[0.0, 1.0]], [0.0, 0.0], 2) == empty * 2
    with pytest.raises(ValueError):
        _timeline.strip([], [0.0, 1.0], 0)


def test_timeline_svg_is_well_formed():
    from gilfree.bench._html import timeline_svg
    threads = [{"name": "T1", "running": [[0.0, 0.1], [0.15, 0.2]]},
               {"name": "T<2>", "running": [[0.1, 0.15]]}]
    svg = timeline_svg(threads, [0.0, 0.2])
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    rects = [e for e in root.iter() if e.tag.endswith("rect")]
    assert len(rects) == 2 + 3  # a track per thread, a band per interval
    texts = [e.text for e in root.iter() if e.tag.endswith("text")]
    assert "T<2>" in texts and "200 ms" in texts


# ---------------------------------------------------------------------------
# the probe's timeline
# ---------------------------------------------------------------------------


@linux
def test_threads_timeline_of_a_function():
    r = _timeline.threads_timeline(time.sleep, (0.002,), workers=2, seconds=0.05)
    assert [t["name"] for t in r["timeline"]["threads"]] == ["T1", "T2"]
    assert 0.0 <= r["overlap"] <= 1.0
    for t in r["timeline"]["threads"]:
        assert t["running"] == []  # sleeping threads are off the CPU

    def boom():
        raise KeyError("no")

    assert "a call raised KeyError" in _timeline.threads_timeline(boom)["timeline_reason"]


@linux
def test_the_probe_keeps_and_quotes_the_timeline():
    r = gilfree.probe(gilfree.sum_squares_range, 10**6, repeats=1, min_time=0.01,
                      heartbeat=0.05, processes=False, workers=2)
    d = r.to_dict()
    assert set(d["timeline"]) == {"threads", "span", "idle"} and 0 <= d["overlap"] <= 1
    assert "ran at the same time" in r.verdict and "who ran when" in repr(r)
    assert "<svg" in r._repr_html_()


def test_the_probe_sentence_names_what_kept_the_threads_apart():
    from gilfree._probe import _timeline_sentence
    base = {"workers": 2, "cpu_fraction": 1.0, "interpreter": {"gil_enabled": True}}
    assert _timeline_sentence(dict(base)) is None
    held = dict(base, overlap=0.04, gil_held_fraction=0.99)
    assert _timeline_sentence(held) == ("Your 2 threads ran at the same time 4% of the time: "
                                        "the GIL serialised them")
    busy = dict(base, overlap=0.04, gil_held_fraction=0.0, run_delay_fraction=0.7)
    assert "other programs held the CPUs" in _timeline_sentence(busy)
    assert _timeline_sentence(dict(base, overlap=0.9)).endswith("they ran in parallel")
    assert "waiting" in _timeline_sentence(dict(base, overlap=0.0, cpu_fraction=0.01))


def test_overlap_and_idle_from_cpu_time_readings():
    times = [0.0, 0.001, 0.002, 0.003]
    # the GIL handed over inside each millisecond: 0.6 + 0.4 of it, never at once
    a = [0.0, 0.0006, 0.0010, 0.0016]
    b = [0.0, 0.0004, 0.0010, 0.0014]
    assert _timeline.readings_overlap(times, [a, b]) == pytest.approx(0.0, abs=1e-9)
    assert _timeline.readings_idle(times, [a, b]) == pytest.approx(0.0, abs=1e-9)
    both = [0.0, 0.001, 0.002, 0.003]
    assert _timeline.readings_overlap(times, [both, both]) == pytest.approx(1.0)
    half = [0.0, 0.0005, 0.0010, 0.0015]
    assert _timeline.readings_idle(times, [half]) == pytest.approx(0.5)
    # three ids: 1 + 0.5 + 0.5 of each millisecond: two at once half the time at least
    assert _timeline.readings_overlap(times, [both, half, half]) == pytest.approx(0.5)
    gone = [0.0, None, None, None]
    assert _timeline.readings_overlap(times, [both, gone]) == 0.0
    assert _timeline.readings_overlap([0.0], [[0.0]]) == 0.0


def test_spread_updates_fills_the_readings_between_two_updates():
    # A thread on a CPU all along whose time is updated every 4 readings (a
    # scheduler tick) reads as busy throughout once spread; a thread that ran
    # 1 ms after sleeping 7 reads as mostly idle.
    times = [k * 1e-3 for k in range(9)]
    busy = [0.0, 0.0, 0.0, 0.0, 4e-3, 4e-3, 4e-3, 4e-3, 8e-3]
    spread = _timeline.spread_updates(times, busy)
    assert spread == pytest.approx([k * 1e-3 for k in range(9)])
    assert _timeline.intervals(times, spread) == [[0.0, pytest.approx(8e-3)]]
    assert _timeline.intervals(times, busy) != [[0.0, pytest.approx(8e-3)]]
    late = [0.0] * 8 + [1e-3]
    assert _timeline.intervals(times, _timeline.spread_updates(times, late)) == []
    # no reading ends a stretch; a value after the last increase stays as read
    gap = [0.0, None, 1e-3, 1e-3, 3e-3]
    assert _timeline.spread_updates(times[:5], gap) == [0.0, None, 1e-3, 2e-3, 3e-3]
    with pytest.raises(ValueError):
        _timeline.spread_updates(times, busy[:3])
