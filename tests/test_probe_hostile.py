"""The probe against hostile functions: it must end every run on its own.

Each entry of the corpus is a module written into a temporary folder and
probed with ``python -m gilfree probe`` in a new session, under a timeout,
with small budgets (``--max-call 0.5``: a hang is noticed within
``--max-call`` plus the 2 s margin).  Every run must end with a clean report
or a one-line error and the documented exit status, print no Python
traceback, leave no process of its session alive and no temporary file in
the folder.  The pieces the corpus relies on (equality, deep sizes, the
memory cap, the atomic writer) are tested directly below it.  No assertion
is about speed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

pytestmark = pytest.mark.thread_unsafe(reason="the probe times its own threads and processes")

import gilfree
from gilfree import _probe
from gilfree._probe import _measure
from gilfree._timing import _files, _results

FAST_CLI = ["--min-time", "0.01", "--repeats", "2", "--heartbeat", "0.05", "--max-call", "0.5",
            "--workers", "2"]

HOSTILE = '''
import ctypes, dataclasses, math, os, sys, threading, time
from concurrent.futures import ThreadPoolExecutor

PARENT = os.getpid()
POOL = ThreadPoolExecutor(2)
POOL.submit(int).result()   # its threads exist in this process only
COUNT = [0]
LOCK = threading.Lock()

def hang():
    time.sleep(3600)

def _nth():
    with LOCK:
        COUNT[0] += 1
        return COUNT[0]

def hang_later():
    if _nth() > 4:
        time.sleep(3600)
    return 1

def fork_unsafe():
    return POOL.submit(sum, [1, 2, 3]).result()

def segfault_in_worker():
    if os.getpid() != PARENT:
        ctypes.string_at(0)
    return 1

def exit_in_worker():
    if os.getpid() != PARENT:
        os._exit(7)
    return 1

def raises_later():
    if _nth() > 4:
        raise ConnectionError("the server went away")
    return 1

def raises_in_worker():
    if os.getpid() != PARENT:
        raise ValueError("not in a child")
    return 1

class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no str either")

def raises_unprintable():
    raise Unprintable()

class BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr")
    def __eq__(self, other):
        return isinstance(other, BadRepr)
    __hash__ = object.__hash__

def bad_repr_result():
    return BadRepr()

def unpicklable_result():
    return lambda: 1

@dataclasses.dataclass
class Point:
    x: float
    y: list

def nan_dict():
    return {"x": float("nan"), "y": [1.0, math.nan], "z": {"w": complex(math.nan, 0)}}

def nan_dataclass():
    return Point(float("nan"), [float("nan"), -0.0])  # new NaN objects: `is` cannot help

def huge_result():
    return {"blob": bytearray(96 << 20)}

def slow():
    time.sleep(0.3)
    return 2
'''


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    (d / "hostile.py").write_text(HOSTILE)
    (d / "exits_at_import.py").write_text("import sys\nsys.exit(0)\ndef f():\n    return 1\n")
    return d


def _group_alive(pgid: int) -> list:
    alive = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(int(pid))
    return alive


def _probe_cli(corpus, target, *extra, timeout=90):
    """``python -m gilfree probe TARGET`` in its own session: (status, stdout, stderr)."""
    before = set(os.listdir(corpus))
    proc = subprocess.Popen([sys.executable, "-m", "gilfree", "probe", target, *FAST_CLI,
                             *extra], cwd=corpus, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 5
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group_alive(proc.pid) == [], "processes of the probe were left running"
    left = {f for f in set(os.listdir(corpus)) - before if f.endswith(".tmp")}
    assert not left, f"temporary files left behind: {left}"
    assert "Traceback" not in err and "Traceback" not in out, err
    return proc.returncode, out, err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gilfree probe: error: "), err
    return lines[0]


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux_only
def test_hangs_on_its_first_call(corpus):
    rc, out, err = _probe_cli(corpus, "hostile:hang")
    assert rc == 3
    assert "its first call did not finish within 2.5 s" in _one_line(err)
    assert "verdict: hang(): its first call did not finish" in out
    assert "daemon thread" in out


@linux_only
def test_hangs_on_a_later_call(corpus, tmp_path):
    rc, out, err = _probe_cli(corpus, "hostile:hang_later", "--json", str(tmp_path / "h.json"))
    assert rc == 3
    assert "did not finish within" in _one_line(err)
    d = json.loads((tmp_path / "h.json").read_text())
    assert d["incomplete"] and "did not finish" in d["skipped"]["single"]
    assert d["first_call_s"] > 0 and "verdict:" in out


@linux_only
def test_fork_unsafe_function(corpus):
    rc, out, err = _probe_cli(corpus, "hostile:fork_unsafe")
    assert rc == 3
    line = _one_line(err)
    assert "a call in a worker process did not finish within" in line
    assert "is the function fork-safe? try --start-method spawn" in line
    # the threads and the GIL were still measured
    assert "2 threads" in out and "GIL held" in out
    assert "forked while" in out  # the pool's threads existed at the fork


@linux_only
def test_openblas_workers_are_not_a_fork_hazard():
    """NumPy's OpenBLAS starts idle workers at import and restarts them in a
    forked child (pthread_atfork): the probe does not count them among the
    threads a forked worker would miss; a thread of the caller's own it does."""
    pytest.importorskip("threadpoolctl")
    code = textwrap.dedent("""
        import os, threading, numpy, gilfree
        from threadpoolctl import threadpool_info
        from gilfree._probe._process_timer import _other_threads
        blas = sum(i["num_threads"] - 1 for i in threadpool_info()
                   if i.get("internal_api") == "openblas")
        print(blas, len(os.listdir("/proc/self/task")), _other_threads(settle=0))
        stop = threading.Event()
        t = threading.Thread(target=stop.wait); t.start()
        print(_other_threads())
        stop.set(); t.join()
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60, cwd=tempfile.gettempdir())
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.split("\n")[:2]
    blas, tasks, others = map(int, first.split())
    assert tasks == 1 + blas  # nothing else runs in that process
    assert others == 0, r.stdout
    assert int(second) == 1, r.stdout


@linux_only
def test_fork_unsafe_function_spawned(corpus):
    rc, out, err = _probe_cli(corpus, "hostile:fork_unsafe", "--start-method", "spawn",
                              "--json", "spawn.json")
    assert rc == 0, err
    d = json.loads((corpus / "spawn.json").read_text())
    assert d["processes"]["method"] == "spawn" and isinstance(d["processes_speedup"], float)
    assert d["settings"]["start_method"] == "spawn"


#: Under tools/sanitize.sh AddressSanitizer is preloaded: it reports the
#: corpus's deliberate segfault itself (and the run counts that report).
under_asan = "libasan" in os.environ.get("LD_PRELOAD", "")


@linux_only
@pytest.mark.parametrize("target, how", [
    pytest.param("segfault_in_worker", "killed by SIGSEGV",
                 marks=pytest.mark.skipif(under_asan, reason="ASan reports the segfault")),
    ("exit_in_worker", "exit status 7")])
def test_worker_process_dies(corpus, target, how):
    rc, out, err = _probe_cli(corpus, f"hostile:{target}")
    assert rc == 3
    line = _one_line(err)
    assert f"a worker process died during a call ({how})" in line
    assert "2 threads" in out and "processes skipped" in out


@linux_only
@pytest.mark.parametrize("target, message", [
    ("raises_later", "raises_later() raised ConnectionError: the server went away"),
    ("raises_in_worker", "raised ValueError: not in a child (in a worker process)"),
    ("raises_unprintable", "raises_unprintable() raised Unprintable: <Unprintable: str() "
                           "failed>"),
])
def test_function_raises(corpus, target, message):
    rc, out, err = _probe_cli(corpus, f"hostile:{target}")
    assert rc == 1
    assert message in _one_line(err)


@linux_only
def test_module_exits_at_import(corpus):
    rc, out, err = _probe_cli(corpus, "exits_at_import:f")
    assert rc == 1
    assert "importing exits_at_import called sys.exit(0)" in _one_line(err)


@linux_only
@pytest.mark.parametrize("target", ["nan_dict", "nan_dataclass", "bad_repr_result"])
def test_results_compared_as_values(corpus, target):
    rc, out, err = _probe_cli(corpus, f"hostile:{target}")
    assert rc == 0, err
    assert "verdict:" in out and err == ""


@linux_only
def test_unpicklable_result_spawned(corpus):
    rc, out, err = _probe_cli(corpus, "hostile:unpicklable_result", "--impure",
                              "--start-method", "spawn")
    assert rc == 0, err
    assert "cannot be sent to a spawned process" in out


@linux_only
def test_huge_results_are_not_all_kept(corpus, tmp_path):
    rc, out, err = _probe_cli(corpus, "hostile:huge_result", "--workers", "4", "--no-processes",
                              "--json", str(tmp_path / "huge.json"))
    assert rc == 0, err
    kept = json.loads((tmp_path / "huge.json").read_text())["kept"]
    assert kept["result_bytes"] >= 96 << 20 and kept["cap_bytes"] == 256 << 20
    assert kept["results_per_value"] * kept["result_bytes"] <= kept["cap_bytes"]
    assert kept["limited"] and "per timed value were kept" in out


@linux_only
def test_python_run_over_budget_still_reports(corpus):
    rc, out, err = _probe_cli(corpus, "hostile:slow", "--max-call", "0.1", "--python",
                              sys.executable, "--json", "slow.json", "--html", "slow.html")
    assert rc == 0, err
    d = json.loads((corpus / "slow.json").read_text())
    (entry,) = d["interpreters"]
    assert "budget" in entry["skipped"]["single"]
    assert "nothing timed" in out and (corpus / "slow.html").exists()


@linux_only
def test_python_run_that_hangs(corpus):
    rc, out, err = _probe_cli(corpus, "hostile:hang_later", "--python", sys.executable,
                              "--no-processes", timeout=120)
    assert rc == 3
    assert "under " + sys.executable in _one_line(err) or "did not finish" in err


@linux_only
def test_output_paths_checked_before_measuring(corpus, tmp_path):
    # a folder where the file should be: refused before the first (endless) call
    rc, out, err = _probe_cli(corpus, "hostile:hang", "--html", str(tmp_path))
    assert rc == 2 and "is a folder" in err and "nothing was measured" in err
    assert "did not finish" not in err + out
    rc, out, err = _probe_cli(corpus, "hostile:hang", "--json", str(tmp_path / "no" / "x.json"))
    assert rc == 2 and "does not exist" in err and "nothing was measured" in err


# ---------------------------------------------------------------------------
# the API: arguments are not serialised unless another Python needs them
# ---------------------------------------------------------------------------

FAST = dict(min_time=0.01, repeats=2, warmup=0, heartbeat=0.05, workers=2, processes=False)


def test_arguments_not_serialised_without_python(monkeypatch):
    def refuse(args):
        raise AssertionError("the arguments were serialised")

    monkeypatch.setattr(_probe, "_literal", refuse)
    r = gilfree.probe(sum, list(range(2 * 10**6)), max_call=5, **FAST)
    assert r.threads_speedup is not None
    r = gilfree.probe(int.bit_length, 10**5000, **FAST)  # its repr is refused in 3.11+
    assert r.threads_speedup is not None

    class Odd:
        def __repr__(self):
            raise RuntimeError("no repr")

    r = gilfree.probe(type, Odd(), **FAST)
    assert r.to_dict()["call"].startswith("type(<Odd instance")  # reprlib's placeholder


def test_unsendable_argument_named_when_python_asked():
    with pytest.raises(_probe.ProbeUsageError, match=r"argument 2 \(object\) cannot be sent"):
        gilfree.probe(max, 1, object(), python=[sys.executable], **FAST)


def test_start_method_validated():
    with pytest.raises(ValueError, match="`start_method` must be one of fork, spawn, "
                                         "forkserver, got 'thread'"):
        gilfree.probe(abs, 1, start_method="thread")


def test_exception_on_a_later_call_is_function_failed():
    count = [0]

    def flaky():
        count[0] += 1
        if count[0] > 3:
            raise ConnectionError("lost")
        return 1

    with pytest.raises(_probe.FunctionFailed, match="raised ConnectionError: lost") as info:
        gilfree.probe(flaky, **FAST)
    assert isinstance(info.value.__cause__, ConnectionError)


# ---------------------------------------------------------------------------
# the memory cap, on all threads of a timed value together
# ---------------------------------------------------------------------------


class Blob:
    """A 1 MiB result that says it is 16 bytes, and counts its live copies."""

    live = peak = 0

    def __init__(self):
        self.data = bytearray(1 << 20)
        Blob.live += 1
        Blob.peak = max(Blob.peak, Blob.live)

    def __del__(self):
        Blob.live -= 1

    def __sizeof__(self):
        return 16

    def __eq__(self, other):
        return isinstance(other, Blob)

    __hash__ = object.__hash__


def test_memory_cap_is_enforced_across_threads(monkeypatch):
    monkeypatch.setattr(_measure, "KEEP_BYTES", 8 << 20)
    Blob.live = Blob.peak = 0
    r = gilfree.probe(Blob, **{**FAST, "workers": 4, "min_time": 0.02})
    kept = r.to_dict()["kept"]
    assert kept["result_bytes"] >= 1 << 20  # the lie was not believed
    assert kept["results_per_value"] <= 8
    # kept (8 at most) + the reference + one in flight per thread and the heartbeat's
    assert Blob.peak <= 8 + 1 + 4 + 2, Blob.peak
    assert kept["limited"] and "per timed value were kept" in repr(r)


# ---------------------------------------------------------------------------
# equality and size, directly
# ---------------------------------------------------------------------------

P = namedtuple("P", "a b")


@dataclasses.dataclass
class D:
    x: float
    y: dict


@dataclasses.dataclass(eq=False)
class NoEq:
    x: float


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


NAN = float("nan")


@pytest.mark.parametrize("a, b", [
    (NAN, float("nan")),
    (0.0, -0.0),
    (complex(NAN, 1), complex(float("nan"), 1)),
    ({"k": NAN}, {"k": float("nan")}),
    ([1, (2, [NAN])], [1, (2, [float("nan")])]),
    ({NAN, 1}, {float("nan"), 1}),
    (frozenset([NAN]), frozenset([float("nan")])),
    (P(NAN, [1]), P(float("nan"), [1])),
    (D(NAN, {"a": [NAN]}), D(float("nan"), {"a": [float("nan")]})),
    (OrderedDict(a=NAN, b=1), OrderedDict(a=float("nan"), b=1)),
    (np.array([1.0, np.nan]), np.array([1.0, np.nan])),
    (np.float64("nan"), np.float64("nan")),
    (np.array([[np.nan + 1j]]), np.array([[np.nan + 1j]])),
    (np.array([{"a": NAN}], dtype=object), np.array([{"a": float("nan")}], dtype=object)),
    ({"arr": np.array([np.nan])}, {"arr": np.array([np.nan])}),
    (AlwaysEqual(), AlwaysEqual()),
])
def test_same_values(a, b):
    assert _results.same(a, b)
    assert _results.same(b, a)


@pytest.mark.parametrize("a, b", [
    (1, 1.0), (1, True), ([1], (1,)), ({"k": 1}, {"k": 2}), ({"k": 1}, {"j": 1}),
    ({1, 2}, {1, 3}), (P(1, 2), (1, 2)), (D(1.0, {}), D(2.0, {})),
    (OrderedDict(a=1, b=2), OrderedDict(b=2, a=1)),
    (np.array([1.0, 2.0]), np.array([1.0, 3.0])),
    (np.array([1.0]), np.array([1.0], dtype=np.float32)),
    (np.array([1.0, 2.0]), np.array([[1.0, 2.0]])),
    (np.float32(1.0), np.float64(1.0)),
    (NoEq(NAN), NoEq(NAN)),  # its own == (identity) decides
    (NAN, 0.0),
])
def test_different_values(a, b):
    assert not _results.same(a, b)
    assert not _results.same(b, a)


def test_same_on_deep_nesting():
    a = b = []
    for _ in range(5000):
        a, b = [a], [b]
    assert _results.same(a, b) in (True, False)  # no RecursionError escapes


class Lies:
    def __init__(self, n):
        self.payload = bytearray(n)

    def __sizeof__(self):
        return 1


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a = bytearray(1 << 20)


@dataclasses.dataclass
class Holder:
    arrays: dict


def test_deep_size():
    mib = 1 << 20
    assert _results.deep_size({"blob": np.zeros(mib // 8)}) >= mib
    assert _results.deep_size({"a": np.zeros(mib // 8), "b": [bytearray(mib)]}) >= 2 * mib
    nested = [[list(range(1000)) for _ in range(10)] for _ in range(10)]
    assert _results.deep_size(nested) >= 100_000 * 8
    assert _results.deep_size(Holder({"x": np.ones(mib // 8)})) >= mib
    assert _results.deep_size(Lies(mib)) >= mib
    assert _results.deep_size(Slotted()) >= mib
    shared = bytearray(mib)
    assert _results.deep_size([shared, shared, shared]) < 2 * mib  # counted once
    base = np.zeros(mib // 8)
    assert _results.deep_size([base[::2], base[1::2]]) < 2 * mib  # one buffer
    many = [[i] for i in range(10**5)]
    assert mib < _results.deep_size(many, limit=mib) < mib + 4096  # stops at the limit


# ---------------------------------------------------------------------------
# the atomic writer, shared with the bench
# ---------------------------------------------------------------------------


def test_atomic_writer_leaves_nothing_half_written(tmp_path, monkeypatch):
    from gilfree.bench import _report

    target = tmp_path / "r.json"
    target.write_text("old")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ValueError, match="No space left"):
        _files.write_atomic(target, "new", "--json")
    with pytest.raises(_report.ReportError, match="No space left"):
        _report._write_atomic(str(target), "new", "--json")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["r.json"]
    with pytest.raises(ValueError, match="is a folder"):
        _files.check_writable(tmp_path, "--html")
