#!/usr/bin/env python3
"""Is sum_of_squares on 2 threads at the machine's ceiling for in-cache reads?

Goal 3a (perf/goals.py) compares gilfree with np.dot at 10^6 float64 (8 MB,
in L3), where the two trade places from run to run.  This experiment times, in
interleaved rounds, one thread alone, gilfree on 2 threads, np.dot on BLAS's
default threads, and the ceiling: two processes each running the one-thread
call on their own copy at the same time (the time for both to do the whole
array's work is half of what each took for theirs, as in perf/ceiling.py).

    python perf/experiments/sumsq_ceiling.py [n] [rounds]
"""
import multiprocessing as mp
import statistics as st
import sys

import numpy as np

import gilfree
from _timing import per_call



def partner(n, reps, go, done, stop):
    x = np.random.default_rng(2).random(n)
    while True:
        go.wait()
        if stop.value:
            return
        per_call(lambda: gilfree.sum_of_squares(x, threads=1), reps)
        done.wait()


def main():
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**6
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    reps = max(3, 2 * 10**8 // (8 * n))
    x = np.random.default_rng(1).random(n)
    ctx = mp.get_context("spawn")
    go, done, stop = ctx.Barrier(2), ctx.Barrier(2), ctx.Value("i", 0)
    p = ctx.Process(target=partner, args=(n, reps, go, done, stop))
    p.start()
    res = {}
    try:
        for _ in range(rounds):
            res.setdefault("1 thread", []).append(
                per_call(lambda: gilfree.sum_of_squares(x, threads=1), reps))
            res.setdefault("gilfree 2 threads", []).append(
                per_call(lambda: gilfree.sum_of_squares(x, threads=2), reps))
            res.setdefault("np.dot", []).append(per_call(lambda: np.dot(x, x), reps))
            go.wait()
            t = per_call(lambda: gilfree.sum_of_squares(x, threads=1), reps)
            done.wait()
            res.setdefault("2 processes (ceiling)", []).append(t / 2)
    finally:
        stop.value = 1
        go.wait()
        p.join()
    one = res["1 thread"]
    print(f"n={n:.0e} float64 ({n * 8 / 2**20:.0f} MiB), {rounds} rounds, median per call "
          "(speedup = 1-thread time / this, per round):")
    for k, v in res.items():
        sp = sorted(a / b for a, b in zip(one, v))
        print(f"  {k:22s} {st.median(v) * 1e6:9.1f} us  {n * 8 / st.median(v) / 1e9:6.1f} GB/s"
              f"  speedup {st.median(sp):.2f}x [IQR {sp[len(sp) // 4]:.2f}-{sp[3 * len(sp) // 4]:.2f}]")


if __name__ == "__main__":
    main()
