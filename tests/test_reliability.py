"""Reliability, the fast parts (run in CI): concurrency, thread-count growth,
leaks, and the bench's shared memory after failures.

* 32 Python threads x 200 calls each, mixed functions, sizes and thread
  counts, every result checked;
* 1,000 calls with different ``threads=`` values do not grow the process's
  thread count (``/proc/self/task``) beyond the largest value requested;
* 100,000 small calls and 1,000 large calls grow RSS by under 1 MB after a
  warm-up (``/proc/self/statm``), and leave no Python allocation behind
  (``tracemalloc``), each measured in a fresh interpreter;
* the bench's process strategy leaves no ``/dev/shm`` segment behind after a
  normal run, after an exception inside a worker and after a worker is killed
  with SIGKILL.

fork/spawn/forkserver children (including fork after the pool has run, fork
while another thread is in a parallel call, nested fork) are in
tests/test_fork.py; Ctrl-C in tests/test_interrupt.py.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace

import numpy as np
import pytest

import gilfree
from gilfree import _runtime

pytestmark = pytest.mark.thread_unsafe(reason="counts the process's threads and memory; starts 32 threads")

LINUX = sys.platform.startswith("linux")
CHUNK = int(_runtime.CHUNK)


def run_py(code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"hang: killed after {timeout} s; stdout={exc.stdout!r} stderr={exc.stderr!r}")


def last_json(r: subprocess.CompletedProcess) -> dict:
    assert r.returncode == 0, f"rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# concurrency: 32 threads x 200 calls
# ---------------------------------------------------------------------------


def _mixed_jobs():
    """(call(threads), check(result)) pairs over functions, dtypes and sizes."""
    rng = np.random.default_rng(5)
    jobs = []
    for n in (0, 1, 100, 511, 512, 3000, CHUNK + 1, 3 * CHUNK + 7):
        f64 = rng.standard_normal(n)
        i16 = rng.integers(-(2**15), 2**15, n, dtype=np.int16)
        u64 = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
        f32v = rng.standard_normal(2 * n).astype(np.float32)[::-2]
        sq_f64, sq_i16, sq_f32v = np.square(f64), np.square(i16), np.square(f32v)
        s_i16 = sum(v * v for v in i16.tolist())
        s_u64 = sum(v * v for v in u64.tolist())
        s_f64 = gilfree.sum_of_squares(f64, threads=1)  # bit-identical for any threads
        r_sum = sum(i * i for i in range(-n, 3 * n, 3))
        r_arr = np.square(np.arange(-n, n, 7, dtype=np.int64))

        def eq(a, b):
            return a.dtype == b.dtype and np.array_equal(a, b)

        jobs += [
            (lambda t, x=f64: gilfree.square(x, threads=t), lambda r, e=sq_f64: eq(r, e)),
            (lambda t, x=i16: gilfree.square(x, threads=t), lambda r, e=sq_i16: eq(r, e)),
            (lambda t, x=f32v: gilfree.square(x, out=np.empty_like(x), threads=t), lambda r, e=sq_f32v: eq(r, e)),
            (lambda t, x=i16: gilfree.sum_of_squares(x, threads=t), lambda r, e=s_i16: r == e and type(r) is int),
            (lambda t, x=u64: gilfree.sum_of_squares(x, threads=t), lambda r, e=s_u64: r == e),
            (lambda t, x=f64: gilfree.sum_of_squares(x, threads=t), lambda r, e=s_f64: float.hex(r) == float.hex(e)),
            (lambda t, n=n: gilfree.sum_squares_range(-n, 3 * n, 3, threads=t), lambda r, e=r_sum: r == e),
            (lambda t, n=n: gilfree.squares_range(-n, n, 7, threads=t), lambda r, e=r_arr: eq(r, e)),
        ]
    return jobs


def test_32_threads_x_200_mixed_calls():
    jobs = _mixed_jobs()
    thread_counts = [None, 1, 2, 3, 4, 8]
    nthreads, calls = 32, 200
    barrier = threading.Barrier(nthreads, timeout=60)
    failures: list = []
    done = [0] * nthreads

    def worker(k):
        rng = np.random.default_rng(k)
        try:
            barrier.wait()
            for i in range(calls):
                call, check = jobs[int(rng.integers(len(jobs)))]
                t = thread_counts[int(rng.integers(len(thread_counts)))]
                if i % 50 == 0:
                    with gilfree.num_threads(3):  # per-thread context override
                        r = call(None)
                else:
                    r = call(t)
                if not check(r):
                    failures.append((k, i, t))
                done[k] += 1
        except BaseException as exc:  # noqa: BLE001
            failures.append((k, repr(exc)))

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not any(t.is_alive() for t in ts), "deadlock: threads still running after 120 s"
    print(f"32 threads x 200 calls: {sum(done)} calls, {len(failures)} wrong")
    assert failures == []
    assert sum(done) == nthreads * calls


# ---------------------------------------------------------------------------
# the pool does not grow past what was asked
# ---------------------------------------------------------------------------


@pytest.mark.skipif(not LINUX, reason="/proc/self/task is Linux's")
def test_thread_count_bounded_after_1000_calls_with_varying_threads():
    r = run_py("""
        import os, json, random
        import numpy as np, gilfree
        from gilfree._runtime import CHUNK, pool_threads
        def tasks():
            return len(os.listdir("/proc/self/task"))
        base = tasks()
        x = np.ones(4 * CHUNK)
        rnd = random.Random(1)
        most = 1
        counts = []
        for i in range(1000):
            t = rnd.choice([1, 2, 3, 4, 5, 6, 8, 12, 16] if i < 500 else [1, 2, 3])
            most = max(most, t)
            if i % 3 == 0:
                gilfree.square(x, threads=t)
            elif i % 3 == 1:
                gilfree.sum_of_squares(x, threads=t)
            else:
                gilfree.sum_squares_range(10**6, threads=t)
            counts.append(tasks())
        print(json.dumps({"base": base, "most": most, "max_tasks": max(counts), "final": counts[-1],
                          "pool": pool_threads()}))
    """)
    d = last_json(r)
    print(f"threads: {d}")
    # the pool holds at most most-1 workers (the caller is one of the threads)
    assert d["max_tasks"] <= d["base"] + d["most"] - 1, d
    assert d["final"] <= d["base"] + d["most"] - 1, d


# ---------------------------------------------------------------------------
# leaks
# ---------------------------------------------------------------------------

LEAK_SCRIPT = """
import gc, json, os, sys, time, tracemalloc
import numpy as np, gilfree
from gilfree._runtime import CHUNK

PAGE = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE

small = np.arange(100, dtype=np.float64)
small_i = np.arange(600, dtype=np.int32)
small_out = np.empty_like(small)
big = np.random.default_rng(0).standard_normal(10**6)
big_out = np.empty_like(big)

def small_calls(k):
    for i in range(k):
        m = i % 8
        if m == 0: gilfree.square(small)
        elif m == 1: gilfree.square(small, out=small_out, threads=2)
        elif m == 2: gilfree.sum_of_squares(small_i)
        elif m == 3: gilfree.sum_of_squares(small)
        elif m == 4: gilfree.sum_squares_range(1000, threads=2)
        elif m == 5: gilfree.squares_range(50)
        elif m == 6:
            try: gilfree.square(small, threads=0)
            except ValueError: pass
        else:
            try: gilfree.square(np.int8([100]), overflow="raise")
            except OverflowError: pass

def large_calls(k):
    for i in range(k):
        m = i % 4
        if m == 0: gilfree.square(big, threads=2)
        elif m == 1: gilfree.square(big, out=big_out, threads=2)
        elif m == 2: gilfree.sum_of_squares(big, threads=2)
        else: gilfree.squares_range(10**6, threads=2)

which, n = sys.argv[1], int(sys.argv[2])
trace = sys.argv[3] == "trace"
fn = small_calls if which == "small" else large_calls
fn(max(1000, n // 10) if which == "small" else 50)   # warm-up: pool, caches, allocator
gc.collect()
if trace:
    tracemalloc.start()
r0 = rss(); t0 = time.perf_counter()
snap0 = tracemalloc.take_snapshot() if trace else None
fn(n)
gc.collect()
r1 = rss(); dt = time.perf_counter() - t0
res = {"calls": n, "rss_growth": r1 - r0, "seconds": dt}
if trace:
    snap1 = tracemalloc.take_snapshot()
    stats = snap1.compare_to(snap0, "filename")
    res["traced_growth"] = sum(s.size_diff for s in stats)
    res["traced_top"] = [str(s) for s in stats[:3]]
print(json.dumps(res))
"""

RSS_LIMIT = 1 << 20


def _asan_loaded() -> bool:
    # AddressSanitizer's quarantine holds freed memory back (256 MB by
    # default), so RSS grows by design under tools/sanitize.sh.
    try:
        with open("/proc/self/maps") as f:
            return "libasan" in f.read()
    except OSError:
        return False


@pytest.mark.skipif(not LINUX, reason="/proc/self/statm is Linux's")
@pytest.mark.parametrize("which,n", [("small", 100_000), ("large", 1_000)])
def test_no_leak_rss(which, n):
    """RSS after warm-up grows by < 1 MB.  Costs ~1.5 s (small) and ~2.5 s (large) here."""
    if _asan_loaded():
        pytest.skip("RSS is meaningless under AddressSanitizer (its quarantine keeps freed memory)")
    d = last_json(run_py(LEAK_SCRIPT.replace("sys.argv[1], int(sys.argv[2])", f"{which!r}, {n}")
                         .replace('sys.argv[3] == "trace"', "False")))
    print(f"{which}: {n} calls grew RSS by {d['rss_growth']} bytes in {d['seconds']:.1f} s")
    assert d["rss_growth"] < RSS_LIMIT, d


@pytest.mark.skipif(not LINUX, reason="run like the RSS test")
@pytest.mark.parametrize("which,n", [("small", 20_000), ("large", 200)])
def test_no_leak_tracemalloc(which, n):
    """No Python-visible allocation (NumPy's array data included) survives the calls.

    Fewer calls than the RSS test: tracemalloc makes each allocation slower;
    a leak of one object per call would still show as >= 20,000 blocks."""
    d = last_json(run_py(LEAK_SCRIPT.replace("sys.argv[1], int(sys.argv[2])", f"{which!r}, {n}")
                         .replace('sys.argv[3] == "trace"', "True")))
    print(f"{which}: {n} calls, traced growth {d['traced_growth']} bytes; {d['traced_top']}")
    assert d["traced_growth"] < 64 * 1024, d


# ---------------------------------------------------------------------------
# the bench's shared memory
# ---------------------------------------------------------------------------


def _bench_leftovers(pid=None) -> list:
    from gilfree.bench import _cases

    return glob.glob(f"/dev/shm/{_cases.SHM_PREFIX}-{pid or os.getpid()}-*")


def _worker_raises(data, a, b):  # runs in a spawned worker (imported from this module)
    raise RuntimeError("worker exploded")


def _worker_sigkills_itself(data, a, b):
    os.kill(os.getpid(), signal.SIGKILL)


def _tiny_process_run(**changes):
    from gilfree import bench
    from gilfree.bench._engine import Settings

    s = replace(Settings.preset("tiny"), strategies=("python-processes",), workloads=("map", "reduce"),
                heartbeat_time=0, bandwidth_bytes=0, **changes)
    return bench.run(s)


@pytest.mark.skipif(not LINUX, reason="/dev/shm is Linux's")
@pytest.mark.slow
@pytest.mark.parametrize("how", ["normal", "exception_in_worker", "sigkill_worker"])
def test_bench_process_strategy_leaves_no_shared_memory(how, monkeypatch):
    from gilfree._timing import _worker

    assert _bench_leftovers() == []
    if how == "exception_in_worker":
        monkeypatch.setitem(_worker.PY_KERNELS, "map", _worker_raises)
    elif how == "sigkill_worker":
        monkeypatch.setitem(_worker.PY_KERNELS, "map", _worker_sigkills_itself)
    result = _tiny_process_run()
    pts = [p for p in result["points"] if p["strategy"] == "python-processes"]
    assert pts
    maps = [p for p in pts if p["workload"] == "map"]
    if how == "normal":
        assert all(p["status"] == "ok" for p in pts), pts
    else:
        assert maps and all(p["status"] == "failed" for p in maps), maps
        if how == "exception_in_worker":
            assert any("worker exploded" in p["reason"] for p in maps), maps
    assert _bench_leftovers() == []


@pytest.mark.skipif(not LINUX, reason="/dev/shm is Linux's")
@pytest.mark.slow
def test_bench_killed_with_sigkill_leaves_no_shared_memory(tmp_path):
    """The bench process itself killed with SIGKILL while its arrays exist:
    nothing can run in it, so multiprocessing's resource tracker (a separate
    process that outlives it) unlinks the segments it registered."""
    script = tmp_path / "victim.py"
    script.write_text(textwrap.dedent("""
        import os, sys, time
        from gilfree.bench._cases import Case, CaseData
        d = CaseData.create(Case("map", 1000, "float64"), shared=True)
        assert d.shm_error is None, d.shm_error
        print(os.getpid(), flush=True)
        time.sleep(60)
    """))
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True) as p:
        try:
            pid = int(p.stdout.readline())
            assert len(_bench_leftovers(pid)) == 2
            os.kill(pid, signal.SIGKILL)
            p.wait(30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    import time

    deadline = time.monotonic() + 20
    while _bench_leftovers(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _bench_leftovers(pid) == []


def _children(pid: int) -> list:
    """PIDs whose parent is `pid` (Linux /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                continue
    return out


@pytest.mark.skipif(not LINUX, reason="reads /proc")
@pytest.mark.slow
@pytest.mark.thread_unsafe(reason="signals a subprocess and counts processes")
def test_bench_sigterm_stops_like_ctrl_c_and_leaves_no_workers():
    """``kill`` (SIGTERM) of a running bench: exit status 130, its process
    pool's workers gone, no shared memory left."""
    import time

    cmd = [sys.executable, "-m", "gilfree", "bench", "--strategies", "python-processes",
           "--workloads", "range", "--sizes", "1e8", "--workers", "2", "--max-call", "60",
           "--no-progress", "--plain"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        try:
            deadline = time.monotonic() + 60
            while len(_children(p.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)  # wait until the pool's workers are up
            kids = _children(p.pid)
            assert len(kids) >= 2, "the bench never started its process pool"
            time.sleep(0.3)
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert p.returncode == 130, err
    assert "interrupted" in err
    deadline = time.monotonic() + 20
    while any(os.path.exists(f"/proc/{k}") for k in kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [k for k in kids if os.path.exists(f"/proc/{k}")]
    assert alive == [], f"workers left running: {alive}"
    assert _bench_leftovers(p.pid) == []


_STEP_ASIDE = r"""
import os, threading, time, json
import numpy as np, gilfree
from gilfree import _runtime
full = os.sched_getaffinity(0)
x = np.arange(10**6, dtype=np.float64) % 1000
want = float(np.dot(x, x))
gilfree.sum_of_squares(x, threads=2)  # starts the worker
caller_cpu = min(full)
os.sched_setaffinity(0, {caller_cpu})  # this thread only: the caller stays put
ok = True
for _ in range(40):
    time.sleep(0.01)  # long enough for the worker to sleep
    ok &= gilfree.sum_of_squares(x, threads=2) == want
me = threading.get_native_id()
masks = {int(t): sorted(os.sched_getaffinity(int(t))) for t in os.listdir("/proc/self/task")
         if int(t) != me}
print(json.dumps(dict(ok=bool(ok), full=sorted(full), masks=list(masks.values()),
                      step_asides=_runtime._pool_step_asides())))
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux affinity and 2+ CPUs")
@pytest.mark.thread_unsafe(reason="starts a subprocess that pins its main thread")
def test_worker_stepping_aside_leaves_affinity_as_it_was():
    """A worker woken on its caller's CPU moves off it and then frees its
    affinity again (gf_step_aside): after 40 cold calls from a caller pinned
    to one CPU, results are right and every other thread still has the
    process's full CPU set (a worker left pinned would be a leak of sorts)."""
    r = subprocess.run([sys.executable, "-c", _STEP_ASIDE], capture_output=True, text=True,
                       timeout=120, check=True)
    out = json.loads(r.stdout)
    assert out["ok"]
    assert out["masks"] and all(m == out["full"] for m in out["masks"]), out
    assert isinstance(out["step_asides"], int) and 0 <= out["step_asides"] <= 40
