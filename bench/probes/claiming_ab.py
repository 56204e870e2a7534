#!/usr/bin/env python3
"""Shared-counter chunk claiming against per-thread slices, interleaved.

Needs a build with bench/probes/sliced_claiming.patch applied (the slice-per-thread
experiment on the Performance page): that build claims chunks from one
contiguous slice per thread, stealing from the back, unless GF_NOSLICE is set
in the environment, when it behaves like the shared counter.  The variable is
read on every call, so both run in one process, round by round.

    git apply bench/probes/sliced_claiming.patch && pip install --no-build-isolation -e .
    python bench/probes/claiming_ab.py 15
    git apply -R bench/probes/sliced_claiming.patch && pip install --no-build-isolation -e .
"""
import os
import statistics as st
import sys

import numpy as np

import gilfree
from _timing import per_call

R = int(sys.argv[1]) if len(sys.argv) > 1 else 15



for n in (10**5, 10**6, 10**7, 10**8):
    x = np.random.default_rng(0).random(n)
    out = np.empty_like(x)
    reps = max(1, 2 * 10**6 // n)
    res = {}
    for _ in range(R):
        for mode in ("sliced", "shared"):
            if mode == "shared":
                os.environ["GF_NOSLICE"] = "1"
            else:
                os.environ.pop("GF_NOSLICE", None)
            res.setdefault(("ssq", mode), []).append(
                per_call(lambda: gilfree.sum_of_squares(x, threads=2), reps))
            res.setdefault(("sq", mode), []).append(
                per_call(lambda: gilfree.square(x, out=out, threads=2), reps))
    os.environ.pop("GF_NOSLICE", None)
    for op in ("ssq", "sq"):
        a, b = res[(op, "sliced")], res[(op, "shared")]
        r = sorted(y / z for y, z in zip(b, a))
        print(f"{n:.0e} {op:4s} sliced {st.median(a) * 1e6:9.1f} us, shared {st.median(b) * 1e6:9.1f} us; "
              f"shared/sliced per round median {st.median(r):.3f} "
              f"[IQR {r[len(r) // 4]:.3f}-{r[3 * len(r) // 4]:.3f}]", flush=True)
