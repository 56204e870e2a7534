"""gilfree._runtime owns the process state: the thread default and its bound,
the tuning hook, and the C constants Python needs, each defined once.

The arithmetic module, gilfree._core, validates arguments and plans tasks;
it holds no copy of any of these.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gilfree
from gilfree import _core, _runtime, _threads

HEADER = Path(__file__).resolve().parents[1] / "csrc" / "gilfree.h"


def test_core_has_no_runtime_names():
    """The tuning hook and the thread default are reached through
    gilfree._runtime only."""
    for name in ("CHUNK", "PARALLEL_MIN", "tuning", "_set_chunking", "_set_stream_min", "config",
                 "pool_threads", "_pool_step_asides", "MAX_THREADS", "_get_default_threads",
                 "_set_default_threads"):
        assert not hasattr(_core, name), name
    for name in ("CHUNK", "PARALLEL_MIN", "tuning", "config", "pool_threads", "MAX_THREADS"):
        assert hasattr(_runtime, name), name


def test_max_threads_is_one_number():
    assert gilfree.MAX_THREADS is _threads.MAX_THREADS
    assert _threads.MAX_THREADS == _runtime.MAX_THREADS
    if HEADER.is_file():  # a source checkout: the one definition
        m = re.search(r"^#define GF_MAX_THREADS (\d+)$", HEADER.read_text(), re.M)
        assert m is not None
        assert int(m.group(1)) == gilfree.MAX_THREADS


@pytest.mark.thread_unsafe(reason="changes the process default thread count")
def test_the_c_store_clamps_at_max_threads(restore_num_threads):
    """The C int threadpoolctl drives takes at most MAX_THREADS, as
    set_num_threads does."""
    lib = ctypes.CDLL(_runtime.__file__)
    lib.gilfree_set_num_threads(gilfree.MAX_THREADS + 1)
    assert gilfree.get_num_threads() == gilfree.MAX_THREADS
    gilfree.set_num_threads(gilfree.MAX_THREADS)
    with pytest.raises(ValueError, match=f"at most {gilfree.MAX_THREADS}"):
        gilfree.set_num_threads(gilfree.MAX_THREADS + 1)
    with pytest.raises(ValueError, match=f"at most {gilfree.MAX_THREADS}"):
        gilfree.sum_squares_range(10, threads=gilfree.MAX_THREADS + 1)


def _thread_limit() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return float("inf")
    soft = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    return float("inf") if soft == resource.RLIM_INFINITY else soft


@pytest.mark.skipif(_thread_limit() < 4 * 1024, reason="RLIMIT_NPROC too low for 1023 workers")
def test_a_call_on_max_threads_runs_on_max_threads():
    """threads=MAX_THREADS is the caller and MAX_THREADS - 1 pool workers:
    the pool's bound is the same number, less the caller."""
    code = textwrap.dedent("""
        import gilfree
        from gilfree import _runtime
        n = 10**5
        with _runtime.tuning(range_chunk=16):  # thousands of chunks
            got = gilfree.sum_squares_range(n, threads=gilfree.MAX_THREADS)
            again = gilfree.sum_squares_range(n, threads=gilfree.MAX_THREADS)
        assert got == again == sum(i * i for i in range(n)), (got, again)
        print(_runtime.pool_threads())
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, GILFREE_SPIN_US="0"))
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[-1]) == gilfree.MAX_THREADS - 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("flag", ["overflow", "underflow", "invalid"])
def test_fp_status_bits_are_numpys(dtype, flag):
    """The status bits the kernels report (GF_FPE_* of csrc/gf_fpstatus.h)
    are NumPy's: the sample gilfree replays for NumPy's bit of a flag
    raises exactly that flag in np.square."""
    from numpy._core import umath

    bit = getattr(umath, f"FPE_{flag.upper()}")
    sample = _core._fp_sample(np.dtype(dtype), bit)
    seen = []
    with np.errstate(all="call", call=lambda kind, _: seen.append(kind)):
        np.square(sample)
    assert seen and all(flag in kind for kind in seen), seen


@pytest.mark.thread_unsafe(reason="changes the process-wide chunking")
def test_tuning_restores_on_exit_and_on_error():
    before = _runtime.config()
    with _runtime.tuning(chunk_bytes=64, range_chunk=3, stream_min=0):
        c = _runtime.config()
        assert (c["chunk_bytes"], c["range_chunk"], c["stream_min_bytes"]) == (64, 3, 0)
    assert _runtime.config() == before
    with pytest.raises(ZeroDivisionError):
        with _runtime.tuning(chunk_bytes=64):
            1 / 0
    assert _runtime.config() == before
    with pytest.raises(ValueError, match="chunk_bytes"):
        with _runtime.tuning(chunk_bytes=0):
            pass
    assert _runtime.config() == before
