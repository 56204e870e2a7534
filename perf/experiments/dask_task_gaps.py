#!/usr/bin/env python3
"""When each Dask task of gilfree.dask.sum_of_squares runs, at 10^8 float64.

The bench's reduce graph (6 pieces of 2^24 elements, Dask's threaded
scheduler on 2 threads); each task's start and end are printed in ms from
the start of the compute.  The source of the "gap before each task" figure
in the Dask part of the documentation.  Needs ``gilfree[dask]``.

    python perf/experiments/dask_task_gaps.py
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import dask
import dask.array as da
import numpy as np

import gilfree.dask as gd
from gilfree.bench import DASK_ARRAY_PIECE, dask_pieces, dask_views, warm_dask
from gilfree._timing import settle

n = 10**8
x = np.random.default_rng(1).random(n)
pool = ThreadPoolExecutor(2)
warm_dask(pool, 2)
dx = dask_views(da, x, dask_pieces(n, 2, DASK_ARRAY_PIECE))
log = []
block = gd._sos_block


def timed_block(b, threads):
    t0 = time.perf_counter()
    r = block(b, threads)
    log.append((threading.get_ident() % 1000, t0, time.perf_counter()))
    return r


gd._sos_block = timed_block
graph = gd.sum_of_squares(dx)
for _ in range(4):
    log.clear()
    settle()
    s = time.perf_counter()
    dask.compute(graph, scheduler="threads", pool=pool)
    e = time.perf_counter()
    print(f"total {(e - s) * 1e3:.1f} ms: " + " ".join(
        f"[thread {tid} {(a - s) * 1e3:.1f}-{(b - s) * 1e3:.1f}]"
        for tid, a, b in sorted(log, key=lambda z: z[1])))
pool.shutdown()
