#!/usr/bin/env python3
"""Chunk size A/B: 128 KiB against 512 KiB chunks, interleaved medians.

The measurement behind GF_CHUNK_BYTES = 512 KiB (csrc/gilfree.h), beside the
sweep of perf/goals.py goal 7.

    python perf/experiments/chunk_ab.py
"""
import os
import sys

import numpy as np

import gilfree
from gilfree import _runtime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from perf_goals import interleaved  # noqa: E402

def at(fn, chunk_bytes):
    def call():
        with _runtime.tuning(chunk_bytes=chunk_bytes):
            fn()
    return call


for n in (10**6, 4 * 10**6, 10**7, 10**8):
    x = np.random.default_rng(1).random(n)
    o = np.empty_like(x)
    sq = lambda: gilfree.square(x, out=o, threads=2)  # noqa: E731
    ss = lambda: gilfree.sum_of_squares(x, threads=2)  # noqa: E731
    r = interleaved([at(sq, 128 << 10), at(sq, 512 << 10), at(ss, 128 << 10),
                     at(ss, 512 << 10)], rounds=9 if n < 10**8 else 5, min_time=0.05)
    print(f"n={n:.0e}: square 128K {r[0] * 1e6:8.1f} us, 512K {r[1] * 1e6:8.1f} "
          f"({r[0] / r[1]:.2f}x) | sum_of_squares 128K {r[2] * 1e6:8.1f}, 512K "
          f"{r[3] * 1e6:8.1f} ({r[2] / r[3]:.2f}x)", flush=True)
