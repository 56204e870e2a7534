#!/usr/bin/env python3
"""Where the threads of the two-plain-threads pattern wait: CPU by CPU.

The pattern of ``ft_timeline.py`` (this thread runs one whole-range call,
sleeps, then starts threads A and B, each on one half with ``threads=1``),
while a monitor thread reads, every 0.5 ms, each thread's state and CPU
from ``/proc/self/task/TID/stat`` (R: runnable or running, S: sleeping; the
CPU it runs or waits on).  Linux only.  Each round prints when B began (ms
after the first ``start()``) and the samples until then as
``ms:A,B,m=main`` (``?``: that thread does not exist yet).  Two threads
runnable on one CPU while the other idles is the scheduler's placement.

    ~/.cache/gilfree-pythons/venv-3.13t/bin/python -X gil=0 perf/experiments/ft_placement.py
"""
import sys
import threading
import time

import gilfree

f = gilfree.sum_squares_range


def where(tid):
    """'state@cpu' of thread `tid` of this process, or '-' once it is gone."""
    try:
        with open(f"/proc/self/task/{tid}/stat") as fh:
            s = fh.read()
    except OSError:
        return "-"
    fields = s[s.rindex(")") + 2:].split()
    return f"{fields[0]}@{fields[36]}"


def two(work_a, work_b):
    began = [0.0, 0.0]

    def body(k, work):
        began[k] = time.perf_counter()
        work()

    ts = [threading.Thread(target=body, args=(0, work_a)),
          threading.Thread(target=body, args=(1, work_b))]
    log, stop = [], []
    main_tid = threading.main_thread().native_id

    def monitor():
        while not stop:
            log.append((time.perf_counter(),
                        [where(t.native_id) if t.native_id else "?" for t in ts],
                        where(main_tid)))
            time.sleep(0.0005)

    m = threading.Thread(target=monitor)
    m.start()
    time.sleep(0.01)
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stop.append(True)
    m.join()
    b = began[1] - t0
    return b * 1e3, [(1e3 * (x - t0), ab, mm) for x, ab, mm in log if t0 <= x < t0 + b]


def main():
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**8
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    h = n // 2
    print(f"Python {sys.version.split()[0]}, GIL enabled: "
          f"{getattr(sys, '_is_gil_enabled', lambda: True)()}; n = {n:.0e}")
    f(0, 10**6, threads=2)
    for _ in range(rounds):
        time.sleep(0.05)
        f(0, n, threads=1)
        time.sleep(0.05)
        b, log = two(lambda: f(0, h, threads=1), lambda: f(h, n, threads=1))
        print(f"B began {b:5.2f} ms;", " ".join(f"{t:.1f}:{ab[0]},{ab[1]},m={mm}"
                                                for t, ab, mm in log[::4]))


if __name__ == "__main__":
    main()
