#!/usr/bin/env python3
"""One author-written loop body run by gilfree's parallel-for C-API, by
Cython's ``prange`` (OpenMP) and by a ``ThreadPoolExecutor`` over nogil
chunks (the figures behind goal 11 of perf/goals.py).

Builds, in a temporary folder and against the installed gilfree, one Cython
module (``cimport gilfree.parallel``, compiled with ``-fopenmp`` when the
compiler has it).  Its one ``nogil`` body mixes each index of a chunk with a
64-bit hash step and sums the results (compute-bound: no memory traffic) into
one slot per chunk; the slots are added in chunk order, so the three ways
give the same integer, checked against Python for a small ``n``:

* ``parallel_for``: ``gp.parallel_for(n, grain, body, &job, threads)``;
* ``prange``: ``for k in prange(chunks, num_threads=threads, schedule="static")``;
* ``executor``: ``ThreadPoolExecutor(threads).map`` of a one-chunk call that
  releases the GIL.

Run it on a quiet machine, from the repository root::

    python perf/experiments/parallel_for.py [rounds]
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor

import gilfree

MASK = (1 << 64) - 1
MODULE = "gf_pf_goal"

PYX = r'''
# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport malloc, free
from cython.parallel cimport prange
cimport gilfree.parallel as gp

cdef extern from *:
    """
    #ifdef _OPENMP
    #define GF_PF_GOAL_OPENMP 1
    #else
    #define GF_PF_GOAL_OPENMP 0
    #endif
    """
    int GF_PF_GOAL_OPENMP

gp.import_gilfree()
OPENMP = bool(GF_PF_GOAL_OPENMP)

ctypedef struct job_t:
    int64_t grain
    uint64_t *part


cdef inline uint64_t mix(int64_t begin, int64_t end) noexcept nogil:
    cdef uint64_t s = 0, h
    cdef int64_t i
    for i in range(begin, end):
        h = <uint64_t>i * <uint64_t>0x9E3779B97F4A7C15
        h = h ^ (h >> 31)
        h = h * <uint64_t>0xBF58476D1CE4E5B9
        s += h ^ (h >> 29)
    return s


cdef int body(void *ctx, int64_t begin, int64_t end) noexcept nogil:
    cdef job_t *j = <job_t *>ctx
    j.part[begin // j.grain] = mix(begin, end)
    return 0


cdef int nothing(void *ctx, int64_t begin, int64_t end) noexcept nogil:
    return 0


cdef uint64_t *slots(int64_t m) except NULL:
    cdef uint64_t *p = <uint64_t *>malloc((m if m > 0 else 1) * sizeof(uint64_t))
    if p == NULL:
        raise MemoryError()
    return p


cdef uint64_t combine(uint64_t *part, int64_t m) noexcept nogil:
    cdef uint64_t s = 0
    cdef int64_t k
    for k in range(m):
        s += part[k]
    return s


def run_parallel_for(int64_t n, int64_t grain, int threads):
    cdef job_t j
    cdef int rc
    cdef int64_t m = (n + grain - 1) // grain
    j.grain = grain
    j.part = slots(m)
    try:
        with nogil:
            rc = gp.parallel_for(n, grain, body, &j, threads)
        if gp.check(rc) != 0:
            raise RuntimeError(f"parallel_for returned {rc}")
        return combine(j.part, m)
    finally:
        free(j.part)


def run_prange(int64_t n, int64_t grain, int threads):
    cdef int64_t m = (n + grain - 1) // grain, k
    cdef uint64_t *part = slots(m)
    try:
        for k in prange(m, nogil=True, num_threads=threads, schedule="static"):
            part[k] = mix(k * grain, min(n, (k + 1) * grain))
        return combine(part, m)
    finally:
        free(part)


def run_chunk(int64_t begin, int64_t end):
    cdef uint64_t s
    with nogil:
        s = mix(begin, end)
    return s


def empty_parallel_for(int threads):
    """Two chunks whose body does nothing: submit, claim, wait."""
    cdef int rc
    with nogil:
        rc = gp.parallel_for(2, 1, nothing, NULL, threads)
    return gp.check(rc)


def empty_prange(int threads):
    """Two iterations that store one number each: a team's start and join."""
    cdef uint64_t part[2]
    cdef int64_t k
    for k in prange(2, nogil=True, num_threads=threads, schedule="static"):
        part[k] = k
    return part[0] + part[1]
'''


def reference(n: int, grain: int) -> int:
    """The body's sum in Python, chunk by chunk (mod 2**64)."""
    total = 0
    for i in range(n):
        h = (i * 0x9E3779B97F4A7C15) & MASK
        h ^= h >> 31
        h = (h * 0xBF58476D1CE4E5B9) & MASK
        total += h ^ (h >> 29)
    return total & MASK


def _compiler() -> list[str] | None:
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    return cc if cc and shutil.which(cc[0]) else None


def build(folder: str):
    """Compile the module into `folder`; ``(module, path)``, or raise
    RuntimeError saying what is missing.  OpenMP when the compiler has it."""
    cc = _compiler()
    if cc is None or importlib.util.find_spec("Cython") is None:
        raise RuntimeError("needs a C compiler and Cython")
    pyx = os.path.join(folder, MODULE + ".pyx")
    csrc = os.path.join(folder, MODULE + ".c")
    with open(pyx, "w") as f:
        f.write(PYX)
    # gilfree/parallel.pxd is found beside the installed package
    site = os.path.dirname(os.path.dirname(gilfree.__file__))
    r = subprocess.run([sys.executable, "-m", "cython", "-3", "-I", site, pyx, "-o", csrc],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"cython failed: {r.stderr.strip()[-400:]}")
    out = os.path.join(folder, MODULE + sysconfig.get_config_var("EXT_SUFFIX"))
    base = cc + ["-shared", "-fPIC", "-O2", "-I", sysconfig.get_paths()["include"],
                 "-I", gilfree.get_include(), csrc, "-o", out]
    if sys.platform == "darwin":
        base += ["-undefined", "dynamic_lookup"]
    r = subprocess.run(base + ["-fopenmp"], capture_output=True, text=True)
    if r.returncode:  # no OpenMP: prange runs on the calling thread (the module says so)
        r = subprocess.run(base, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"the C compiler failed: {r.stderr.strip()[-400:]}")
    return load(out), out


def load(path: str):
    spec = importlib.util.spec_from_file_location(MODULE, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ways(mod, n: int, grain: int, threads: int, executor: ThreadPoolExecutor) -> dict:
    """The three ways as zero-argument calls returning the sum."""
    edges = [(k * grain, min(n, (k + 1) * grain)) for k in range(-(-n // grain))]

    def by_executor():
        return sum(executor.map(lambda e: mod.run_chunk(*e), edges)) & MASK

    return {"parallel_for": lambda: mod.run_parallel_for(n, grain, threads),
            "prange": lambda: mod.run_prange(n, grain, threads),
            "executor": by_executor}


CHILD = """
import sys, time, importlib.util
spec = importlib.util.spec_from_file_location(sys.argv[1], sys.argv[2])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
n, grain, secs = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
m.run_parallel_for(n, grain, 1)
sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()
t0, k = time.perf_counter(), 0
while time.perf_counter() - t0 < secs:
    m.run_parallel_for(n, grain, 1)
    k += 1
sys.stdout.write(repr(k / (time.perf_counter() - t0)) + "\\n"); sys.stdout.flush()
"""


def main(argv=None) -> int:
    from gilfree._timing import measure_interleaved, median, time_calls

    args = sys.argv[1:] if argv is None else argv
    rounds = int(args[0]) if args else 9
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        mod, _ = build(d)
    print(f"gilfree {gilfree.__version__}, {gilfree.cpu_count()} CPUs usable, OpenMP "
          f"{'yes' if mod.OPENMP else 'no'}; median of {rounds} interleaved rounds, "
          "microseconds per call")
    assert mod.run_parallel_for(10**4, 300, 2) == reference(10**4, 300)
    for threads in (1, 2):
        _, vals = measure_interleaved([lambda k, t=threads: time_calls(lambda: mod.empty_parallel_for(t), k),
                                       lambda k, t=threads: time_calls(lambda: mod.empty_prange(t), k)],
                                      repeats=rounds, warmup=1, min_time=0.02)
        print(f"empty, 2 chunks, {threads} thread(s): parallel_for {median(vals[0]) * 1e6:7.2f}   "
              f"prange {median(vals[1]) * 1e6:7.2f}")
    for n, grain in ((1 << 14, 1 << 13), (1 << 26, 1 << 20)):
        want = None
        for threads in (1, 2):
            with ThreadPoolExecutor(threads) as ex:
                fns = ways(mod, n, grain, threads, ex)
                got = {name: fn() for name, fn in fns.items()}
                want = got["parallel_for"] if want is None else want
                assert set(got.values()) == {want}, got
                _, vals = measure_interleaved([lambda k, f=f: time_calls(f, k) for f in fns.values()],
                                              repeats=rounds, warmup=1, min_time=0.05)
            print(f"n=2^{n.bit_length() - 1} ({-(-n // grain)} chunks), {threads} thread(s): " +
                  "   ".join(f"{name} {median(v) * 1e6:10.1f}" for name, v in zip(fns, vals)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
