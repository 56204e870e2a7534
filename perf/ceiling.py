#!/usr/bin/env python3
"""The central check: how close does gilfree get to this machine's ceiling?

Times ``gilfree.sum_squares_range(0, 10**9)`` four ways, in interleaved rounds
(each round runs all four, starting with a different one), and reports medians:

1. one thread: ``threads=1``;
2. the library's pool: ``threads=2``;
3. two plain ``threading.Thread``s, each ``threads=1`` on one half;
4. the ceiling: two separate processes, each running the ``threads=1`` call on
   one half at the same time, timed inside the processes after a barrier.

It prints the three speedups over one thread and each as a fraction of the
ceiling's speedup over one process (ratios of medians), then the same
fractions computed round by round (their median cancels drift between rounds).  It is a thin wrapper over the bench
engine (strategies ``gilfree``, ``gilfree-threads`` and ``ceiling``), so the
figures are measured exactly as ``gilfree bench`` measures them.

Usage::

    python perf/ceiling.py                  # n = 10**9, 2 workers, 7 rounds
    python perf/ceiling.py --n 1e8 --rounds 11 --workers 4 --min-fraction 0.9

Exit status 1 if ``--min-fraction`` is given and a GIL-free row falls below it.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from gilfree import bench


def measure(n: int, workers: int, rounds: int) -> dict:
    """Run the four variants; return the bench result dict."""
    settings = bench.Settings(
        strategies=("gilfree", "gilfree-threads", "ceiling"), workloads=("range",),
        sizes={"range": (n,)}, workers=(1, workers), repeats=rounds, warmup=1,
        min_time=0.2, max_call=600.0, heartbeat_time=0.0, bandwidth_bytes=0, mode="ceiling")
    return bench.run(settings, bench.make_progress())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=float, default=1e9, help="range length (default 1e9)")
    p.add_argument("--workers", type=int, default=2, help="threads / processes (default 2)")
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    p.add_argument("--min-fraction", type=float, default=None,
                   help="fail (exit 1) if a GIL-free row is under this fraction of the ceiling")
    args = p.parse_args(argv)
    n, w = int(args.n), args.workers
    r = measure(n, w, args.rounds)
    pts = {(q["strategy"], q["workers"]): q for q in r["points"] if q["status"] == "ok"}
    missing = [k for k in (("gilfree", 1), ("gilfree", w), ("gilfree-threads", w),
                           ("ceiling", 1), ("ceiling", w)) if k not in pts]
    if missing:
        print(f"not measured: {missing}; see {[q.get('reason') for q in r['points']]}")
        return 2
    one = pts[("gilfree", 1)]["median"]
    ceiling = pts[("ceiling", 1)]["median"] / pts[("ceiling", w)]["median"]
    rows = [
        ("1 thread (threads=1)", pts[("gilfree", 1)], None),
        (f"{w} threads (threads={w}, gilfree's pool)", pts[("gilfree", w)], "gilfree"),
        (f"{w} threading.Threads, threads=1 on 1/{w} each", pts[("gilfree-threads", w)],
         "gilfree-threads"),
        (f"{w} processes, threads=1 on 1/{w} each (ceiling)", pts[("ceiling", w)], None),
    ]
    print(f"\nsum_squares_range(0, {n:,}): medians of {args.rounds} interleaved rounds "
          f"on {r['header']['cpu_model']} ({r['header']['usable_cpus']} usable CPUs)")
    failed = False
    for text, q, name in rows:
        sp = one / q["median"]
        iqr = (q["q3"] - q["q1"]) / q["median"]
        line = f"  {text:48s} {q['median']:8.4f} s (IQR {iqr:4.1%})  {sp:5.2f}x"
        if name:
            frac = sp / ceiling
            line += f"  = {frac:5.1%} of the ceiling"
            failed |= args.min_fraction is not None and frac < args.min_fraction
        print(line)
    print(f"  ceiling: {w} processes vs 1 process: {ceiling:.2f}x")
    # The same fractions computed within each round (all four variants ran
    # back to back), then the median over rounds: host drift between rounds
    # cancels, so this spread is the run's own noise.
    base1, basew = pts[("gilfree", 1)]["values"], pts[("ceiling", 1)]["values"]
    cw = pts[("ceiling", w)]["values"]
    for text, q, name in rows:
        if name:
            fr = sorted((o / v) / (c1 / c2) for o, v, c1, c2 in zip(base1, q["values"], basew, cw))
            print(f"  {name}: per-round fraction of the ceiling, median {statistics.median(fr):.1%} "
                  f"(quartiles {fr[len(fr) // 4]:.1%}-{fr[(3 * len(fr)) // 4]:.1%})")
    if args.min_fraction is not None:
        print(f"  {'FAIL' if failed else 'PASS'}: every GIL-free row at >= "
              f"{args.min_fraction:.0%} of the ceiling")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
