"""Many Python threads calling gilfree at once (made to collide with a
Barrier), the pool's size, and that calls really release the GIL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import gilfree
from gilfree import _runtime

CHUNK = int(_runtime.CHUNK)


def run_py(code: str, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout,
    )


def _inputs():
    rng = np.random.default_rng(1234)
    f64 = rng.standard_normal(3 * CHUNK + 5)
    i32 = rng.integers(-(2**31), 2**31, size=5 * CHUNK + 3, dtype=np.int32)
    u64 = rng.integers(0, 2**64, size=2 * CHUNK + 1, dtype=np.uint64)
    f32_2d = rng.standard_normal((300, 700)).astype(np.float32)[:, ::-3]
    return f64, i32, u64, f32_2d


def _jobs():
    """(name, call, check) triples with precomputed expected results."""
    f64, i32, u64, f32_2d = _inputs()
    exp_sq_f64 = np.square(f64)
    exp_sq_i32 = np.square(i32)
    exp_sq_2d = np.square(f32_2d)
    exp_sum_i32 = sum(v * v for v in i32.tolist())
    exp_sum_u64 = sum(v * v for v in u64.tolist())
    exp_sum_f64 = gilfree.sum_of_squares(f64, threads=1)  # bit-exact for any threads
    exp_range = sum(i * i for i in range(-300_000, 400_000, 3))
    exp_range_arr = np.square(np.arange(-200_000, 200_000, 7, dtype=np.int64).astype(np.float32))

    def eq(a, b):
        return np.array_equal(a, b, equal_nan=True) and a.dtype == b.dtype

    return [
        ("square_f64", lambda t: gilfree.square(f64, threads=t), lambda r: eq(r, exp_sq_f64)),
        ("square_i32", lambda t: gilfree.square(i32, threads=t), lambda r: eq(r, exp_sq_i32)),
        ("square_2d", lambda t: gilfree.square(f32_2d, threads=t), lambda r: eq(r, exp_sq_2d)),
        ("square_out", lambda t: gilfree.square(f64, out=np.empty_like(f64), threads=t), lambda r: eq(r, exp_sq_f64)),
        ("sum_i32", lambda t: gilfree.sum_of_squares(i32, threads=t), lambda r: r == exp_sum_i32),
        ("sum_u64", lambda t: gilfree.sum_of_squares(u64, threads=t), lambda r: r == exp_sum_u64),
        ("sum_f64", lambda t: gilfree.sum_of_squares(f64, threads=t), lambda r: float.hex(r) == float.hex(exp_sum_f64)),
        ("range_sum", lambda t: gilfree.sum_squares_range(-300_000, 400_000, 3, threads=t), lambda r: r == exp_range),
        ("range_arr", lambda t: gilfree.squares_range(-200_000, 200_000, 7, dtype=np.float32, threads=t),
         lambda r: eq(r, exp_range_arr)),
        ("overflow_raise", lambda t: _overflow_first(t), lambda r: r),
    ]


def _overflow_first(threads):
    x = np.ones(4 * CHUNK, dtype=np.int16)
    x[3 * CHUNK + 1] = 1000
    x[CHUNK + 2] = 200
    try:
        gilfree.square(x, overflow="raise", threads=threads)
    except OverflowError as e:
        return f"index {CHUNK + 2}" in str(e)
    return False


def _hammer(nthreads: int, threads_for, rounds: int = 3):
    jobs = _jobs()
    barrier = threading.Barrier(nthreads, timeout=60)
    failures: list[str] = []

    def worker(k: int):
        try:
            for r in range(rounds):
                barrier.wait()
                for j in range(len(jobs)):
                    name, call, check = jobs[(j + k) % len(jobs)]  # different mix per thread
                    t = threads_for(k, r)
                    if not check(call(t)):
                        failures.append(f"thread {k} round {r}: {name} with threads={t} wrong")
        except Exception as exc:  # pragma: no cover
            failures.append(f"thread {k}: {exc!r}")
            barrier.abort()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not any(t.is_alive() for t in ts), "threads hung"
    assert not failures, failures[:10]


def test_sixteen_threads_collide_threads_2():
    _hammer(16, lambda k, r: 2)


def test_mixed_thread_counts_collide():
    _hammer(8, lambda k, r: (1, 2, 3, 8)[(k + r) % 4], rounds=2)


def test_threads_with_num_threads_contexts_collide():
    jobs = _jobs()
    barrier = threading.Barrier(8, timeout=60)
    failures = []

    def worker(k):
        try:
            with gilfree.num_threads(1 + k % 4):
                barrier.wait()
                for name, call, check in jobs:
                    if not check(call(None)):
                        failures.append(f"{k}: {name}")
        except Exception as exc:  # pragma: no cover
            failures.append(repr(exc))
            barrier.abort()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not failures, failures


@pytest.mark.thread_unsafe(reason="sets the process-wide chunk sizes")
@pytest.mark.parametrize("threads", [1, 2, 3, 5, 8, 64, 65, 100])
def test_every_chunk_runs_once(threads):
    """Each thread owns a contiguous slice of a job's chunks and steals from
    the others' backs when its own runs out: every chunk must still run
    exactly once, for chunk counts around the thread count and for more
    threads than home slices (64; the rest only steal).  Tiny chunks make
    many of them; a chunk run twice or skipped changes the exact sum, and a
    skipped chunk of square() leaves its NaN in `out`."""
    rng = np.random.default_rng(threads)
    with _runtime.tuning(range_chunk=3, chunk_bytes=16):
        for nchunks in sorted({1, 2, threads - 1, threads, threads + 1, 2 * threads + 1, 131}):
            if nchunks < 1:
                continue
            n = 3 * nchunks - 1  # the last chunk is short
            start, step = int(rng.integers(-10**6, 10**6)), int(rng.integers(1, 9))
            stop = start + n * step
            assert gilfree.sum_squares_range(start, stop, step, threads=threads) == \
                sum(i * i for i in range(start, stop, step)), (nchunks, start, step)
            x = rng.integers(-(2**31), 2**31, size=2 * nchunks - 1, dtype=np.int64)
            assert gilfree.sum_of_squares(x, threads=threads) == \
                sum(v * v for v in x.tolist()), nchunks
            out = np.full(x.shape, np.nan)
            gilfree.square(x.astype(np.float64), out=out, threads=threads)
            np.testing.assert_array_equal(out, np.square(x.astype(np.float64)))


def test_pool_size_is_bounded_by_threads_requested():
    """In a fresh process: no pool before parallel work, none for small
    inputs, and the pool never grows beyond the largest `threads` asked for
    (16 callers asking for 2 threads each share it, they don't grow it)."""
    r = run_py(
        """
        import threading
        import numpy as np
        import gilfree
        from gilfree._runtime import pool_threads, CHUNK, PARALLEL_MIN

        assert pool_threads() == 0, pool_threads()
        small = np.arange(min(PARALLEL_MIN - 1, 1000), dtype=np.float64)
        gilfree.square(small, threads=8)
        gilfree.sum_of_squares(small, threads=8)
        assert pool_threads() == 0, ("small input started the pool", pool_threads())
        gilfree.square(np.arange(10), threads=1)
        big = np.ones(8 * CHUNK)
        gilfree.square(big, threads=1)
        gilfree.sum_squares_range(10**7, threads=1)
        assert pool_threads() == 0, ("threads=1 started the pool", pool_threads())

        gilfree.square(big, threads=2)
        p2 = pool_threads()
        assert 1 <= p2 <= 2, p2

        barrier = threading.Barrier(16)
        def work():
            barrier.wait()
            for _ in range(5):
                gilfree.square(big, threads=2)
                gilfree.sum_of_squares(big, threads=2)
                gilfree.sum_squares_range(3 * 10**6, threads=2)
        ts = [threading.Thread(target=work) for _ in range(16)]
        for t in ts: t.start()
        for t in ts: t.join()
        p16 = pool_threads()
        assert p16 <= 2, ("16 callers with threads=2 grew the pool to", p16)

        gilfree.sum_of_squares(big, threads=3)
        p3 = pool_threads()
        assert p3 <= 3, p3
        gilfree.sum_squares_range(10**7, threads=8)
        p8 = pool_threads()
        assert p8 <= 8, p8
        gilfree.square(big, threads=2)
        assert pool_threads() == p8  # it does not shrink or grow either
        print("ok", p2, p16, p3, p8)
        """
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok"), r.stdout


def _calibrate_sum_of_squares_call(target_s: float) -> np.ndarray:
    """A zero-stride float64 view whose sum_of_squares(threads=1) takes
    about `target_s` seconds."""
    n = 2_000_000
    while True:
        x = np.broadcast_to(np.float64(1.5), (n,))
        t0 = time.perf_counter()
        gilfree.sum_of_squares(x, threads=1)
        dt = time.perf_counter() - t0
        if dt > 0.02:
            return np.broadcast_to(np.float64(1.5), (int(n * target_s / dt),))
        n *= 4


@pytest.mark.thread_unsafe(
    reason="times how often the main thread runs while its worker computes; 4 copies "
    "oversubscribe a 2-core machine and starve the main loop regardless of the GIL"
)
@pytest.mark.parametrize("call", ["sum_of_squares", "sum_squares_range"])
def test_gil_is_released_during_long_calls(call):
    """While a long call runs in one thread, another Python thread keeps
    running (it would be frozen if the call held the GIL)."""
    if call == "sum_of_squares":
        x = _calibrate_sum_of_squares_call(0.4)

        def long_call():
            return gilfree.sum_of_squares(x, threads=1)
    else:
        n = 10**6
        t0 = time.perf_counter()
        gilfree.sum_squares_range(n, threads=1)
        dt = max(time.perf_counter() - t0, 1e-4)
        n = int(n * 0.4 / dt)

        def long_call():
            return gilfree.sum_squares_range(n, threads=1)

    span = {}

    def worker():
        span["start"] = time.perf_counter()
        long_call()
        span["end"] = time.perf_counter()

    t = threading.Thread(target=worker)
    stamps = []
    t.start()
    while t.is_alive():
        stamps.append(time.perf_counter())
        time.sleep(0)  # let the worker in: switch interval handoff
    t.join()
    start, end = span["start"], span["end"]
    assert end - start > 0.1, "call too short to measure"
    inside = [s for s in stamps if start + 0.02 < s < end - 0.02]
    # With the GIL held for the whole call, the main thread cannot run at all
    # between start and end; released, it loops thousands of times.
    assert len(inside) > 50, (len(inside), end - start)
