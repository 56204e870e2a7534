#!/usr/bin/env python3
"""sum_of_squares against np.dot(x, x), timed as the best of 5 x `reps` calls.

The best-of figures quoted beside perf/goals.py goal 3a (which compares
interleaved medians).

    python perf/experiments/sumsq_vs_dot.py
"""
import timeit

import numpy as np

import gilfree
from gilfree._timing import settle


def best(fn, reps):
    settle()
    return min(timeit.repeat(fn, number=reps, repeat=5)) / reps * 1e6


for n, reps in ((10**6, 200), (10**7, 20), (10**8, 3)):
    x = np.random.default_rng(1).random(n)
    d = best(lambda: np.dot(x, x), reps)
    g2 = best(lambda: gilfree.sum_of_squares(x, threads=2), reps)
    g1 = best(lambda: gilfree.sum_of_squares(x, threads=1), reps)
    print(f"n={n:.0e}: np.dot {d:.0f} us, gilfree 2 threads {g2:.0f} us (np.dot / gilfree "
          f"{d / g2:.2f}x), 1 thread {g1:.0f} us")
