#!/usr/bin/env python3
"""Where the time goes when two plain threads each call a GIL-releasing C
function: a timeline per call, on any CPython (free-threaded or not).

For each size it runs, interleaved over `--rounds` rounds:

* ``one``: the whole call on the main thread (``threads=1``);
* ``two``: two ``threading.Thread``s, each ``threads=1`` on one half;
* ``pool``: one call with ``threads=2``;
* ``barrier``: two threads started first and released together by a
  ``threading.Barrier``, timed from the release (thread start-up left out);
* ``procs``: two processes, each ``threads=1`` on one half, released
  together (the machine's ceiling for the pattern);
* ``hash1``/``hash2``: the same pattern with ``hashlib.sha256`` over a
  buffer (a stdlib C extension that also releases the GIL while it
  computes), sized to take as long as the half call: a control that does not
  involve gilfree at all.

For ``two`` it also records, relative to the first ``Thread.start()``, when
each thread began running Python, when its call started and ended, and when
``join()`` returned, so start-up, overlap and tail show separately.

    python perf/experiments/ft_timeline.py                       # 1e8 and 1e9, 9 rounds
    python3.13t -X gil=0 perf/experiments/ft_timeline.py --sizes 1e8
    ... --json out.json     # also the medians and timelines, for perf/goals.py goal 10
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import threading
import time

import gilfree

f = gilfree.sum_squares_range
_CHILD = """
import sys, time, gilfree
a, b = int(sys.argv[1]), int(sys.argv[2])
gilfree.sum_squares_range(0, 10**5, threads=1)
sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()
t0 = time.perf_counter(); gilfree.sum_squares_range(a, b, threads=1)
sys.stdout.write(repr(time.perf_counter() - t0) + "\\n"); sys.stdout.flush()
"""


def procs(n):
    """Wall time of two processes, each on one half, released together (the
    slower one's call time)."""
    h = n // 2
    ps = [subprocess.Popen([sys.executable, "-c", _CHILD, str(a), str(b)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
          for a, b in ((0, h), (h, n))]
    for p in ps:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError("timing child did not start")
    for p in ps:
        p.stdin.write("go\n")
        p.stdin.flush()
    t = max(float(p.stdout.readline()) for p in ps)
    for p in ps:
        p.wait()
    return t


def two_threads(work_a, work_b):
    """Wall time of two plain threads, and their timeline (ms after the
    first start(): began, call start, call end for each, then joined)."""
    marks = [[0.0] * 3, [0.0] * 3]

    def body(k, work):
        marks[k][0] = time.perf_counter()
        marks[k][1] = time.perf_counter()
        work()
        marks[k][2] = time.perf_counter()

    ts = [threading.Thread(target=body, args=(0, work_a)),
          threading.Thread(target=body, args=(1, work_b))]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    t1 = time.perf_counter()
    line = [(m[i] - t0) * 1e3 for m in marks for i in range(3)] + [(t1 - t0) * 1e3]
    return t1 - t0, line


def barrier_threads(work_a, work_b):
    """Wall time of two threads released together once both are running."""
    b = threading.Barrier(3)

    def body(work):
        b.wait()
        work()

    ts = [threading.Thread(target=body, args=(w,)) for w in (work_a, work_b)]
    for t in ts:
        t.start()
    b.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return time.perf_counter() - t0


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e8,1e9")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--json", help="write the medians (seconds) and timelines here")
    args = ap.parse_args(argv)
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    report = {"python": sys.version.split()[0], "gil_enabled": gil, "sizes": {}}
    print(f"Python {sys.version.split()[0]}, GIL enabled: {gil}, gilfree {gilfree.__version__}")
    for n in (int(float(s)) for s in args.sizes.split(",")):
        h = n // 2
        f(0, 10**6, threads=2)  # the pool exists before timing
        half = timed(lambda: f(0, h, threads=1))
        # a hash buffer that takes about as long as the half call
        blob = bytes(range(256)) * (1 << 12)
        per_byte = timed(lambda: hashlib.sha256(blob).digest()) / len(blob)
        blob = bytes(range(256)) * max(1, int(half / per_byte / 256))
        times = {k: [] for k in ("one", "two", "barrier", "pool", "procs", "hash1", "hash2")}
        lines = []
        for r in range(args.rounds):
            steps = [
                ("one", lambda: timed(lambda: f(0, n, threads=1))),
                ("two", lambda: two_threads(lambda: f(0, h, threads=1),
                                            lambda: f(h, n, threads=1))),
                ("barrier", lambda: barrier_threads(lambda: f(0, h, threads=1),
                                                    lambda: f(h, n, threads=1))),
                ("pool", lambda: timed(lambda: f(0, n, threads=2))),
                ("procs", lambda: procs(n)),
                ("hash1", lambda: timed(lambda: (hashlib.sha256(blob).digest(),
                                                 hashlib.sha256(blob).digest()))),
                ("hash2", lambda: two_threads(lambda: hashlib.sha256(blob).digest(),
                                              lambda: hashlib.sha256(blob).digest())),
            ]
            for name, fn in (steps if r % 2 == 0 else steps[::-1]):
                time.sleep(0.05)
                got = fn()
                if isinstance(got, tuple):
                    got, line = got
                    if name == "two":
                        lines.append(line)
                times[name].append(got)
        med = {k: statistics.median(v) for k, v in times.items()}
        report["sizes"][str(n)] = {"medians": med, "two_timelines_ms": lines}
        print(f"\nn = {n:.0e}: medians of {args.rounds} interleaved rounds")
        for k, v in med.items():
            print(f"  {k:<6} {v * 1e3:9.2f} ms")
        print(f"  two threads: {med['one'] / med['two']:.2f}x one thread; "
              f"{med['procs'] and med['one'] / med['procs']:.2f}x for two processes "
              f"(per-call time; their start-up not counted); pool {med['one'] / med['pool']:.2f}x; "
              f"threads released by a barrier {med['one'] / med['barrier']:.2f}x")
        print(f"  control (sha256, two halves): two threads {med['hash1'] / med['hash2']:.2f}x "
              "one thread doing both")
        print("  two-thread timeline, ms after the first start(): "
              "[A began, A call, A done, B began, B call, B done, joined]")
        for line in lines:
            print("   ", " ".join(f"{v:7.2f}" for v in line))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()
