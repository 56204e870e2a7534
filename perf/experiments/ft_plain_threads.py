#!/usr/bin/env python3
"""One thread, two plain threads (threads=1 each) and the pool, on range(10^8).

Seven rounds, in that order, 50 ms apart; prints the medians.  Run it with a
free-threaded Python (``python3.13t -X gil=0``) and with a GIL build;
``ft_timeline.py`` shows where the 3.13t time goes (docs/beyond-the-gil.md).

    python perf/experiments/ft_plain_threads.py
"""
import statistics
import sys
import threading
import time

import gilfree

N = 10**8
H = N // 2
f = gilfree.sum_squares_range
print("GIL enabled:", getattr(sys, "_is_gil_enabled", lambda: True)())


def two():
    ts = [threading.Thread(target=f, args=(0, H), kwargs={"threads": 1}),
          threading.Thread(target=f, args=(H, N), kwargs={"threads": 1})]
    t = time.perf_counter()
    for a in ts:
        a.start()
    for a in ts:
        a.join()
    return time.perf_counter() - t


def one():
    t = time.perf_counter()
    f(0, N, threads=1)
    return time.perf_counter() - t


def pool():
    t = time.perf_counter()
    f(0, N, threads=2)
    return time.perf_counter() - t


times = {"one": [], "two": [], "pool": []}
for _ in range(7):
    for name, fn in (("one", one), ("two", two), ("pool", pool)):
        time.sleep(0.05)
        times[name].append(fn())
for name, v in times.items():
    print(f"{name}: {statistics.median(v) * 1e3:.1f} ms")
