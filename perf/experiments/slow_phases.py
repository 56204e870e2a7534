#!/usr/bin/env python3
"""Slow phases of the 2-vCPU VM, seen through goal 1c (perf/goals.py).

Alternates np.square and gilfree.square(threads=2) on 10^5 float64, each
value timed over 20 ms after the machine settles, for `rounds` rounds, and
prints per round: the ratio (np.square time / gilfree time), the process's
CPU time over wall time during the gilfree value (about 2 when both threads
ran), and the steal and idle jiffies of each CPU meanwhile.  Run it in fresh
processes to see goal 1c's slow phases, rounds where two threads gain nothing.

    python perf/experiments/slow_phases.py [rounds]
"""
import os
import sys
import time
from pathlib import Path

import numpy as np

import gilfree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from perf_goals import clock  # noqa: E402

from gilfree._timing import settle  # noqa: E402


def per_cpu():
    """(steal, idle) jiffies of the first two CPUs (Linux)."""
    with open("/proc/stat") as f:
        f.readline()
        rows = [f.readline().split() for _ in range(min(2, os.cpu_count() or 1))]
    return [(int(v[8]), int(v[4])) for v in rows]


rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
x = (np.arange(10**5) % 100).astype(np.float64)
o = np.empty_like(x)
for r in range(rounds):
    settle()
    a = clock(lambda: np.square(x, out=o), 0.02)
    settle()
    s0, c0, w0 = per_cpu(), time.process_time(), time.perf_counter()
    b = clock(lambda: gilfree.square(x, out=o, threads=2), 0.02)
    c1, w1, s1 = time.process_time(), time.perf_counter(), per_cpu()
    print(f"round {r:2d}: ratio {a / b:.2f}  cpu/wall {(c1 - c0) / (w1 - w0):.2f}  "
          f"steal {[q[0] - p[0] for p, q in zip(s0, s1)]}  idle {[q[1] - p[1] for p, q in zip(s0, s1)]}",
          flush=True)
print("step-asides:", gilfree._runtime._pool_step_asides())
