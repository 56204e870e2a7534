#!/usr/bin/env python3
"""Ctrl-C latency of long gilfree calls: SIGINT -> KeyboardInterrupt, p50/max.

For each case a fresh interpreter runs TRIES tries: a timer thread sends
SIGINT to the process DELAY seconds into a long call (tens of seconds if left
alone), the main thread measures the time from the signal to the
KeyboardInterrupt, then checks that the next calls (pool included, threads=1,
2 and 3) return correct results.

The cases:

* ``square``: one call squaring 2**36 elements (a zero-stride input into a
  zero-stride, writeable output, so that one call runs ~90 s without 0.5 TB
  of memory);
* ``sum_of_squares``: 2**40 float64 elements (zero-stride view);
* ``sum_squares_range``: ``range(0, 2**62)``;
  each with threads=1 and threads=2;
* ``user thread``: a ``threading.Thread`` of the user's runs
  ``sum_squares_range(0, 4*10**9, threads=1)`` (about 3 s here) while the
  main thread waits in ``join()``.  Python delivers signals to the main
  thread only: the main thread gets KeyboardInterrupt at once (the latency
  measured), and the worker thread's call runs to completion (its result is
  still correct; the column "thread ran on" says for how long after the
  signal).  A C call cannot be interrupted from another thread; what a user
  should do: make such threads ``daemon=True`` (so that the interpreter
  can exit without waiting for them), split long work into calls of a
  bounded size, and check a ``threading.Event`` between calls.  Beware: on
  CPython 3.11 and 3.12 (not 3.13) a ``join()`` interrupted by Ctrl-C marks
  the thread as stopped, so ``is_alive()`` returns False and ``join()``
  returns at once while the call is still running; wait on your own Event.

Usage: python tools/interrupt_latency.py [--tries 20] [--delay 0.15] [--markdown]
Exit status 1 if any case failed (no KeyboardInterrupt, a wrong next result)
or its max latency exceeds --limit (default 0.2 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, os, signal, sys, threading, time
import numpy as np
import gilfree
from gilfree._runtime import CHUNK

TRIES, DELAY, CASE = {tries}, {delay}, {case!r}
# A process started in the background by a non-interactive shell (`cmd &`)
# inherits SIGINT ignored, and Python then leaves it ignored: undo that.
signal.signal(signal.SIGINT, signal.default_int_handler)

def zs(n, value, dtype, writeable=False):
    # n elements over ONE element of memory (stride 0)
    base = np.full(1, value, dtype)
    return np.lib.stride_tricks.as_strided(base, shape=(n,), strides=(0,), writeable=writeable)

def long_call(threads):
    if CASE == "square":
        x = zs(2**36, 1.5, np.float64)
        out = zs(2**36, 0.0, np.float64, writeable=True)
        gilfree.square(x, out=out, threads=threads)
    elif CASE == "sum_of_squares":
        gilfree.sum_of_squares(np.broadcast_to(np.float64(1.5), (2**40,)), threads=threads)
    elif CASE == "sum_squares_range":
        gilfree.sum_squares_range(0, 2**62, threads=threads)
    else:
        raise SystemExit("unknown case")

def next_calls_ok():
    n = 10**6
    exp = (n - 1) * n * (2 * n - 1) // 6
    x = np.arange(3 * CHUNK + 5, dtype=np.float64)
    for t in (2, 1, 3):
        if gilfree.sum_squares_range(n, threads=t) != exp: return False
        if gilfree.sum_of_squares(np.arange(n), threads=t) != exp: return False
        if not np.array_equal(gilfree.square(x, threads=t), x * x): return False
    return True

sent = {{}}
def fire():
    sent["t"] = time.perf_counter()
    os.kill(os.getpid(), signal.SIGINT)

lat, ran_on, lies, ok = [], [], [], True
for attempt in range(TRIES):
    if CASE == "user_thread":
        N = 4 * 10**9
        box = {{}}
        finished = threading.Event()
        def work():
            box["r"] = gilfree.sum_squares_range(0, N, threads=1)
            box["t_end"] = time.perf_counter()
            finished.set()
        th = threading.Thread(target=work, daemon=True)
        timer = threading.Timer(DELAY, fire)
        th.start(); timer.start()
        try:
            th.join()
            print("no KeyboardInterrupt", file=sys.stderr); ok = False
        except KeyboardInterrupt:
            lat.append(time.perf_counter() - sent["t"])
        # Not th.join(): on CPython <= 3.12 a join() interrupted by Ctrl-C
        # leaves the Thread marked as stopped, so is_alive() says False and
        # join() returns at once while the thread still runs.
        box["alive_says"] = th.is_alive()
        finished.wait(120)
        timer.join()
        ran_on.append(box["t_end"] - sent["t"])
        lies.append(not box["alive_says"] and box["t_end"] > sent["t"] + lat[-1])
        ok &= box["r"] == (N - 1) * N * (2 * N - 1) // 6
    else:
        timer = threading.Timer(DELAY, fire)
        timer.start()
        try:
            long_call(THREADS)
            print("no KeyboardInterrupt", file=sys.stderr); ok = False
        except KeyboardInterrupt:
            lat.append(time.perf_counter() - sent["t"])
        timer.join()
    ok &= next_calls_ok()
print(json.dumps({{"lat": lat, "ran_on": ran_on, "is_alive_false_while_running": sum(lies), "ok": bool(ok)}}))
"""

CASES = [
    ("square", 1), ("square", 2),
    ("sum_of_squares", 1), ("sum_of_squares", 2),
    ("sum_squares_range", 1), ("sum_squares_range", 2),
    ("user_thread", 1),
]


def run_case(case: str, threads: int, tries: int, delay: float) -> dict:
    code = CHILD.format(tries=tries, delay=delay, case=case).replace("THREADS", str(threads))
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60 + tries * 10)
    try:
        d = json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        d = {"lat": [], "ran_on": [], "ok": False}
    d["rc"] = r.returncode
    d["stderr"] = r.stderr.strip()[-500:]
    d["wall"] = time.perf_counter() - t0
    return d


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tries", type=int, default=20)
    ap.add_argument("--delay", type=float, default=0.15, help="seconds into the call before SIGINT")
    ap.add_argument("--limit", type=float, default=0.2, help="max latency allowed (s)")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args(argv)

    import gilfree

    print(f"gilfree {gilfree.__version__}, Python {sys.version.split()[0]}, "
          f"cpu_count()={gilfree.cpu_count()}, {args.tries} tries per case, SIGINT {args.delay} s into the call")
    rows = []
    notes = []
    failed = False
    for case, threads in CASES:
        d = run_case(case, threads, args.tries, args.delay)
        lat = d["lat"]
        good = d["ok"] and d["rc"] == 0 and len(lat) == args.tries
        p50 = statistics.median(lat) * 1e3 if lat else float("nan")
        mx = max(lat) * 1e3 if lat else float("nan")
        if not good or mx > args.limit * 1e3:
            failed = True
        ran = f"{statistics.median(d['ran_on']):.2f} s" if d["ran_on"] else ""
        name = "user's threading.Thread: sum_squares_range(4e9, threads=1)" if case == "user_thread" \
            else f"{case}, threads={threads}"
        rows.append((name, f"{len(lat)}/{args.tries}", f"{p50:.1f}", f"{mx:.1f}",
                     "yes" if d["ok"] else "NO", ran))
        if d.get("is_alive_false_while_running"):
            notes.append(f"{name}: after the KeyboardInterrupt, Thread.is_alive() returned False in "
                         f"{d['is_alive_false_while_running']}/{len(lat)} tries while the thread was still running "
                         f"(CPython {sys.version_info[0]}.{sys.version_info[1]}: an interrupted join() marks the "
                         "thread stopped; 3.11.7 and 3.12.1 do this, 3.13.0 does not)")
        if not good:
            print(f"  {name}: rc={d['rc']} {d['stderr']}", file=sys.stderr)
    head = ("case", "interrupted", "p50 ms", "max ms", "next call correct", "thread ran on after SIGINT (p50)")
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
        for r in rows:
            print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
    for n in notes:
        print("note:", n)
    print(f"interrupt_latency: {'FAILED' if failed else 'OK'} (limit {args.limit * 1e3:.0f} ms)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
