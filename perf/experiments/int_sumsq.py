#!/usr/bin/env python3
"""Exact integer sum_of_squares against NumPy's wrapping int64 ones.

gilfree returns the exact Python int; ``np.sum(x*x)`` and ``np.dot(x, x)``
wrap modulo 2**64 once the sum passes 2**63 (the values here are small, so
theirs are right too).  Interleaved medians of per-call time, 1 and 2
threads, int64 and int32 at 10^5 and 10^6.

    python perf/experiments/int_sumsq.py
"""
import statistics

import numpy as np

import gilfree
from _timing import per_call
from gilfree._timing import settle



for dt in (np.int64, np.int32):
    for n in (10**5, 10**6):
        x = np.random.default_rng(3).integers(-(2**20), 2**20, n).astype(dt)
        assert gilfree.sum_of_squares(x) == int(np.sum(x.astype(np.int64) ** 2))
        fns = {
            "gilfree 1 thread": lambda: gilfree.sum_of_squares(x, threads=1),
            "gilfree 2 threads": lambda: gilfree.sum_of_squares(x, threads=2),
            "np.sum(x*x)": lambda: np.sum(x * x),
            "np.dot(x, x)": lambda: np.dot(x, x),
        }
        res = {k: [] for k in fns}
        for _ in range(9):
            for k, f in fns.items():
                settle()
                res[k].append(per_call(f, max(3, 2 * 10**7 // n)))
        print(f"{np.dtype(dt).name} n={n:.0e}: " + ", ".join(
            f"{k} {statistics.median(v) * 1e6:.1f} us" for k, v in res.items()))
