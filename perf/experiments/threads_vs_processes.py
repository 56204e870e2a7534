#!/usr/bin/env python3
"""Two plain threads against two processes on the halves of a range.

Each round runs, in alternating order: the two halves on two fresh
``threading.Thread``s, the same halves in two spawned processes (told to go
through a pipe, timed inside), and the whole range on one thread.  Prints
the medians of the wall time and of the longest half.  Plain threads
against processes on the same halves of one range.

    python perf/experiments/threads_vs_processes.py [ROUNDS] [N]
"""
import multiprocessing as mp
import statistics
import sys
import threading
import time

import gilfree

f = gilfree.sum_squares_range


def child(conn, a, b):
    f(0, 10**6, threads=1)
    while conn.recv() is not None:
        t0 = time.perf_counter()
        f(a, b, threads=1)
        conn.send((t0, time.perf_counter()))


def threads_once(halves):
    rec = [None] * len(halves)

    def work(k, a, b):
        t0 = time.perf_counter()
        f(a, b, threads=1)
        rec[k] = (t0, time.perf_counter())

    ts = [threading.Thread(target=work, args=(k, a, b)) for k, (a, b) in enumerate(halves)]
    s = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - s, max(e - b for b, e in rec)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    n = int(float(sys.argv[2])) if len(sys.argv) > 2 else 10**9
    halves = ((0, n // 2), (n // 2, n))
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for a, b in halves:
        p, c = ctx.Pipe()
        proc = ctx.Process(target=child, args=(c, a, b))
        proc.start()
        pipes.append(p)
        procs.append(proc)
    time.sleep(1.5)
    tw, td, pw, pd, one = [], [], [], [], []
    try:
        for r in range(rounds):
            for k in (("t", "p", "o") if r % 2 == 0 else ("o", "p", "t")):
                time.sleep(0.1)
                if k == "t":
                    w, d = threads_once(halves)
                    tw.append(w)
                    td.append(d)
                elif k == "o":
                    s = time.perf_counter()
                    f(0, n, threads=1)
                    one.append(time.perf_counter() - s)
                else:
                    s = time.perf_counter()
                    for p in pipes:
                        p.send(1)
                    res = [p.recv() for p in pipes]
                    pw.append(time.perf_counter() - s)
                    pd.append(max(e - b for b, e in res))
    finally:
        for p in pipes:
            p.send(None)
        for proc in procs:
            proc.join()
    m = statistics.median
    print(f"n={n:,}, {rounds} rounds: one thread {m(one):.4f} s | 2 threads wall {m(tw):.4f} s, "
          f"longest half {m(td):.4f} s | 2 processes wall {m(pw):.4f} s, longest half "
          f"{m(pd):.4f} s")


if __name__ == "__main__":
    main()
