#!/usr/bin/env python3
"""Per-thread slices of chunks against one shared counter, interleaved.

gilfree's pool gives each thread a contiguous slice of a call's chunks
(others steal from its back when they run out).  A build with
``-DGF_JOB_SLICES=1`` has one slice: every chunk goes to whichever thread
asks first, the shared counter it replaced.  This experiment times float64
``sum_of_squares`` on 2 threads in both builds, each against ``np.dot``
(OpenBLAS on 2 threads) on the same array in the same process (as goal 9a
of ``perf/goals.py`` does): one persistent child process per build,
value by value in alternating order, each value after the machine settles,
and prints medians.

    git clone -q . /tmp/shared-src
    (cd /tmp/shared-src && CFLAGS=-DGF_JOB_SLICES=1 python setup.py -q build_ext --inplace)
    printf '#!/bin/sh\nPYTHONPATH=/tmp/shared-src/src exec python "$@"\n' > /tmp/shared-py
    chmod +x /tmp/shared-py
    python perf/experiments/claiming_ab.py /tmp/shared-py [rounds]

(A clone, because a build in this tree would reuse its objects compiled
without the define.)  The first argument is any command that runs a Python
with the other build importable.
"""
import os
import statistics as st
import subprocess
import sys

_CHILD = r"""
import sys, time
import numpy as np
import gilfree
from gilfree._timing import settle
xs = {}
print("ready", flush=True)
for line in sys.stdin:
    what, n = line.split()
    n = int(n)
    if n not in xs:
        xs.clear()
        xs[n] = np.random.default_rng(4).random(n)
    x = xs[n]
    fn = (lambda: np.dot(x, x)) if what == "dot" else (lambda: gilfree.sum_of_squares(x, threads=2))
    fn()
    settle()
    reps, t = 0, 0.0
    t0 = time.perf_counter()
    while t < 0.1 or reps < 2:
        fn()
        reps += 1
        t = time.perf_counter() - t0
    print(t / reps, flush=True)
"""


def child(python):
    p = subprocess.Popen([python, "-c", _CHILD], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        raise SystemExit(f"{python}: the timing child did not start")
    return p


def ask(p, what, n):
    p.stdin.write(f"{what} {n}\n")
    p.stdin.flush()
    return float(p.stdout.readline())


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    kids = {"sliced": child(sys.executable), "shared": child(sys.argv[1])}
    try:
        for n in (10**6, 10**7, 10**8):
            t = {(k, w): [] for k in kids for w in ("dot", "gf")}
            for r in range(rounds):
                steps = [(k, w) for k in kids for w in ("dot", "gf")]
                for k, w in (steps if r % 2 == 0 else steps[::-1]):
                    t[(k, w)].append(ask(kids[k], w, n))
            line = []
            for k in kids:
                d, g = st.median(t[(k, "dot")]), st.median(t[(k, "gf")])
                line.append(f"{k}: np.dot {d * 1e6:8.1f} us, gilfree {g * 1e6:8.1f} us ({g / d:.3f}x)")
            print(f"n={n:.0e}  " + "; ".join(line), flush=True)
    finally:
        for p in kids.values():
            p.stdin.close()
            p.wait()


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
    main()
