#!/usr/bin/env python3
"""Cold calls: 10^6 float64 sum_of_squares on 2 threads vs 1, after idle gaps.

The figure behind the pool's step-aside (docs: Performance, "Known limits"): the median
of 25 calls after each idle gap, and how often a worker woke on the caller's
CPU and moved off it.  For the "without" figures, build with the
``gf_step_aside(pool, job);`` line in csrc/gf_pool.c commented out.  Run with
``GILFREE_SPIN_US=200000`` to keep the worker spinning through the gaps.

    python perf/experiments/cold_calls.py
"""
import statistics
import time

import numpy as np

import gilfree
from gilfree import _runtime

x = np.random.default_rng(1).random(10**6)
gilfree.sum_of_squares(x, threads=2)
for gap in (0.001, 0.01, 0.05):
    two, one = [], []
    before = _runtime._pool_step_asides()
    for _ in range(25):
        time.sleep(gap)
        t = time.perf_counter()
        gilfree.sum_of_squares(x, threads=2)
        two.append(time.perf_counter() - t)
        time.sleep(gap)
        t = time.perf_counter()
        gilfree.sum_of_squares(x, threads=1)
        one.append(time.perf_counter() - t)
    a, b = statistics.median(two), statistics.median(one)
    print(f"idle {gap * 1e3:4.0f} ms: 2 threads {a * 1e6:5.0f} us, 1 thread {b * 1e6:5.0f} us "
          f"({a / b:.2f}x); step-asides {_runtime._pool_step_asides() - before}/25")
