"""The report's header: the machine, the interpreter and the build
(:func:`machine_header`), and the memory bandwidth the array rows are judged
against (:func:`measure_bandwidth`).
"""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata

import numpy as np

import gilfree
from gilfree import _core, _runtime, _threads

from .. import _timeline
from .._timing import _machine, _worker
from .._timing._machine import usable_cpus

__all__ = ["measure_bandwidth", "machine_header", "openmp_state"]


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _compiler(cfg: dict) -> str:
    """The compiler that built ``gilfree._core``.

    Read from ``_runtime.config()`` when the build records it; otherwise from
    the ``.comment`` section compilers leave in ELF objects ("GCC: (...)
    12.2.0", "clang version ..."), else Python's own compiler.
    """
    if cfg.get("compiler"):
        return str(cfg["compiler"])
    try:
        with open(_core.__file__, "rb") as f:
            blob = f.read()
        for tag in (b"GCC: (", b"clang version "):
            i = blob.find(tag)
            if i >= 0:
                j = blob.find(b"\0", i)
                return blob[i:j].decode("ascii", "replace") + " (from the binary)"
    except OSError:
        pass
    return f"unknown (Python was built with {platform.python_compiler()})"


def _blas() -> str | None:
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]
        blas = deps["blas"]
        return f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # the layout of show_config varies across NumPy versions
        return None


def openmp_state() -> dict:
    from ._gilfree import openmp_module

    mod, reason = openmp_module()
    return {"available": mod is not None, "reason": reason}


def machine_header() -> dict:
    """The machine, the interpreter and the build, for the report's header.

    Returns
    -------
    dict
        CPU model, logical/affinity/cgroup/usable CPUs, Python (version,
        build, GIL state), NumPy and BLAS, Cython, compiler and flags,
        OpenMP, gilfree's run-time configuration, thread-related environment
        variables, optional packages, date (UTC).
    """
    cfg = _runtime.config()
    env_keys = ("GILFREE_NUM_THREADS", "GILFREE_SIMD", "GILFREE_SPIN_US", "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "NUMEXPR_MAX_THREADS", "PYTHON_GIL")
    return {
        "gilfree": gilfree.__version__,
        "cpu_model": _machine.cpu_model(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "logical_cpus": os.cpu_count(),
        "llc_bytes": _machine.llc_bytes(),
        **_threads.cpu_limits(),
        "usable_cpus": usable_cpus(),
        "python": _worker.interpreter_info(),
        "numpy": np.__version__,
        "blas": _blas(),
        # the Cython that compiled _core, if the build records it; else the
        # one installed now (often none: it is only needed to build)
        "cython": cfg.get("cython") or _version("Cython"),
        "compiler": _compiler(cfg),
        "cflags": cfg.get("cflags"),
        "openmp": openmp_state(),
        "simd": cfg.get("simd"),
        "gilfree_config": cfg,
        "environment": {k: os.environ[k] for k in env_keys if k in os.environ},
        "optional": {d: _version(d) for d in ("rich", "matplotlib", "numexpr", "numba")},
        "loadavg": {"start": _machine.loadavg()},
        "cpu_time": {"start": _timeline.cpu_times()},
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    }


def measure_bandwidth(nbytes: int, threads: int, repeats: int = 5) -> dict:
    """Memory bandwidth of a large float64 array, on 1 and N threads: copied,
    and only read.

    The copy reads and writes every byte, as ``map`` does, so its GB/s are
    counted the same way (2 x the array size per copy).  The read tests
    read every byte once, as ``reduce`` does: ``np.sum(x)`` and
    ``np.dot(x, x)`` (BLAS), each on 1 thread and on N threads (one chunk
    each), and the best of the four is the read reference.  On many machines
    reads alone move fewer bytes per second than a copy (whose large
    ``memcpy`` uses streaming stores), and which read is fastest depends on
    the machine and the BLAS, so ``reduce`` is compared with the best read
    rate measured: no reduce row can then beat "the bandwidth" while losing
    to ``np.dot``.  Every variant releases the GIL, so the parts on N threads
    overlap.  The best of `repeats` is kept: the measurement looks for the
    machine's capability.

    Parameters
    ----------
    nbytes : int
        Array size; much larger than the last-level cache.
    threads : int
        Threads for the parallel variants.
    repeats : int, optional
        Calls per variant.

    Returns
    -------
    dict
        ``GBps`` (the copy, the best of 1 and N threads), ``GBps_1``,
        ``GBps_threads``, ``GBps_read`` (the best read rate),
        ``GBps_read_1`` and ``GBps_read_threads`` (the best read on 1 and on
        N threads), ``reads`` (GB/s of each read test by name),
        ``read_best`` (the name of the fastest), ``threads``, ``bytes``,
        ``method``.
    """
    n = max(1, nbytes // 8)
    src = np.ones(n)
    dst = np.zeros(n)  # written before timing: page faults are not bandwidth
    bounds = _worker.shares(n, threads)

    def copy_part(_, a, b):
        np.copyto(dst[a:b], src[a:b])

    def sum_part(_, a, b):
        src[a:b].sum()

    def dot_part(_, a, b):
        x = src[a:b]
        np.dot(x, x)

    def best(fn):
        fn()
        return min(_worker.time_calls(fn, 1) for _ in range(repeats))

    size = 8 * n
    t1 = best(lambda: np.copyto(dst, src))
    tn = best(lambda: _worker.run_in_threads(copy_part, None, bounds))
    reads = {
        "np.sum, 1 thread": best(lambda: src.sum()),
        f"np.sum, {threads} threads": best(
            lambda: _worker.run_in_threads(sum_part, None, bounds)),
        "np.dot, 1 thread": best(lambda: np.dot(src, src)),
        f"np.dot, {threads} threads": best(
            lambda: _worker.run_in_threads(dot_part, None, bounds)),
    }
    rates = {k: size / t / 1e9 for k, t in reads.items()}
    g1, gn = 2 * size / t1 / 1e9, 2 * size / tn / 1e9
    one = [v for k, v in rates.items() if k.endswith(" 1 thread")]
    many = [v for k, v in rates.items() if not k.endswith(" 1 thread")]
    read_best = max(rates, key=lambda k: rates[k])
    return {"GBps": max(g1, gn), "GBps_1": g1, "GBps_threads": gn,
            "GBps_read": rates[read_best], "GBps_read_1": max(one),
            "GBps_read_threads": max(many), "reads": rates, "read_best": read_best,
            "threads": threads, "bytes": size,
            "method": f"np.copyto (read + write bytes counted); np.sum and np.dot(x, x) "
                      f"(read bytes), the best read kept; a {size / 2**20:.0f} MiB float64 "
                      f"array, best of {repeats} calls each"}
