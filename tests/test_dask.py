"""gilfree.dask: the kernels on Dask arrays, threaded scheduler and a local cluster.

Skipped without Dask (``pip install "gilfree[dask]"``); the cluster tests
also need ``distributed``.  Results are compared with NumPy and with the exact
reference twins (:mod:`gilfree._reference`) on the computed arrays.
"""

from __future__ import annotations

import doctest
import math
import os
from dataclasses import replace

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import gilfree  # noqa: E402
import gilfree.dask as gdask  # noqa: E402
from gilfree import _reference  # noqa: E402
from dask.delayed import Delayed  # noqa: E402

# pytest-run-parallel (free-threaded CI): the cluster fixture and the bench
# start processes and thread pools of their own.
pytestmark = pytest.mark.thread_unsafe(reason="starts a Dask cluster and thread pools")

THREADS = {"scheduler": "threads", "num_workers": 2}

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOAT_DTYPES = ["float32", "float64"]
DTYPES = INT_DTYPES + FLOAT_DTYPES


def _values(shape, dtype, seed=0) -> np.ndarray:
    """Random values over the whole range of `dtype` (integers) or +-1e3 (floats)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (rng.standard_normal(shape) * 1e3).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)


def _exact_sos(x: np.ndarray):
    return _reference.sum_of_squares(x)


# ---------------------------------------------------------------------------
# the threaded scheduler
# ---------------------------------------------------------------------------

CHUNKINGS = [
    ((1000,), 1000),                 # one block
    ((1000,), 128),                  # even blocks and a short last one
    ((1000,), ((1, 499, 0, 300, 200),)),  # uneven blocks, one empty
    ((37, 29), (8, 10)),             # 2-D, ragged edges
    ((40, 30), ((5, 35), (1, 14, 15))),   # 2-D, uneven in both axes
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, chunks", CHUNKINGS)
def test_square_matches_numpy(dtype, shape, chunks):
    x = _values(shape, dtype)
    d = da.from_array(x, chunks=chunks)
    sq = gdask.square(d)
    assert sq.dtype == x.dtype and sq.shape == x.shape and sq.chunks == d.chunks
    got = sq.compute(**THREADS)
    assert got.dtype == x.dtype
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got, np.square(x))
    np.testing.assert_array_equal(got, _reference.square(x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, chunks", CHUNKINGS)
def test_sum_of_squares_matches_reference(dtype, shape, chunks):
    x = _values(shape, dtype, seed=1)
    d = da.from_array(x, chunks=chunks)
    got = gdask.sum_of_squares(d, split_every=3).compute(**THREADS)
    want = _exact_sos(x)
    if np.dtype(dtype).kind == "f":
        assert type(got) is float
        assert got == pytest.approx(want, rel=1e-12)
        assert got == pytest.approx(math.fsum(float(v) ** 2 for v in x.ravel().tolist()),
                                    rel=1e-12)
    else:
        assert type(got) is int
        assert got == want == sum(int(v) ** 2 for v in x.ravel().tolist())


def test_sum_of_squares_is_exact_where_int64_wraps():
    big = np.full(10, np.iinfo(np.int64).max)
    d = da.from_array(big, chunks=3)
    assert gdask.sum_of_squares(d).compute(**THREADS) == 10 * (2**63 - 1) ** 2
    u = da.from_array(np.full(7, np.iinfo(np.uint64).max), chunks=2)
    assert gdask.sum_of_squares(u).compute(**THREADS) == 7 * (2**64 - 1) ** 2


# A block's float64 overflow is also reported through np.errstate, as np.dot
# reports it (tests/test_errstate.py); here only the value matters.
@pytest.mark.filterwarnings("ignore:overflow encountered in dot:RuntimeWarning")
def test_float_partials_are_combined_exactly():
    # 1e16 in one block and many 1s in the others: a float64 tree of sums
    # would drop the small partials at every level it rounds
    x = np.ones(10_000)
    x[0] = 1e8
    d = da.from_array(x, chunks=70)
    blocks = [gilfree.sum_of_squares(x[i:i + 70]) for i in range(0, x.size, 70)]
    for split_every in (2, 8):
        got = gdask.sum_of_squares(d, split_every=split_every).compute(**THREADS)
        assert got == math.fsum(blocks)  # the correctly rounded sum of the block sums
    assert got == pytest.approx(1e16 + 9999, rel=4e-16)
    # non-finite partials follow fsum's rules
    assert gdask.sum_of_squares(da.from_array(np.array([1e200, 1.0]), chunks=1)).compute(
        **THREADS) == math.inf


@pytest.mark.parametrize("split_every", [2, 3, 8, 1000])
def test_tree_shapes_give_the_same_sum(split_every):
    x = np.arange(1000, dtype=np.int32)
    d = da.from_array(x, chunks=7)  # 143 blocks
    got = gdask.sum_of_squares(d, split_every=split_every).compute(**THREADS)
    assert got == sum(i * i for i in range(1000))


def test_works_on_lazy_arrays_and_keeps_the_graph_lazy():
    d = da.arange(10_000, dtype=np.int64, chunks=999) - 5000
    sq = gdask.square(d)
    assert isinstance(sq, da.Array)
    np.testing.assert_array_equal(sq.compute(**THREADS), np.square(np.arange(10_000) - 5000))
    total = gdask.sum_of_squares(d)
    assert isinstance(total, Delayed)
    assert total.compute(**THREADS) == sum(i * i for i in range(-5000, 5000))
    # chained with other Dask operations
    assert (gdask.square(d) + 1).sum().compute(**THREADS) == total.compute() + 10_000


def test_empty_and_zero_d_arrays():
    e = da.from_array(np.empty(0, np.float32), chunks=5)
    assert gdask.square(e).compute(**THREADS).shape == (0,)
    assert gdask.sum_of_squares(e).compute(**THREADS) == 0.0
    z = da.from_array(np.array(7, dtype=np.int16))
    assert gdask.square(z).compute(**THREADS) == 49
    assert gdask.sum_of_squares(z).compute(**THREADS) == 49


def test_numpy_fallback_dtypes():
    for x in (np.array([True, False, True]), np.array([1.5, -2.0], np.float16),
              np.array([1 + 2j, 3j])):
        d = da.from_array(x, chunks=2)
        got = gdask.square(d).compute(**THREADS)
        assert got.dtype == np.square(x).dtype
        np.testing.assert_array_equal(got, np.square(x))


def test_overflow_raise_propagates():
    x = np.zeros(100, np.int8)
    x[57] = 100
    d = da.from_array(x, chunks=10)
    with pytest.raises(OverflowError, match=r"index 7: 100\*\*2 = 10000 does not fit in int8"):
        gdask.square(d, overflow="raise").compute(**THREADS)
    ok = da.from_array(np.full(100, 11, np.int8), chunks=10)
    np.testing.assert_array_equal(gdask.square(ok, overflow="raise").compute(**THREADS),
                                  np.full(100, 121, np.int8))
    f = da.from_array(np.array([1.0, 1e200]), chunks=1)
    with pytest.raises(OverflowError):
        gdask.square(f, overflow="raise").compute(**THREADS)
    # wrap (the default) wraps like NumPy
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(gdask.square(d).compute(**THREADS), np.square(x))


@pytest.mark.parametrize("threads", [1, 2, None])
def test_threads_inside_each_task(threads):
    x = _values(50_000, "float64", seed=3)
    d = da.from_array(x, chunks=20_000)
    np.testing.assert_array_equal(gdask.square(d, threads=threads).compute(**THREADS),
                                  np.square(x))
    assert gdask.sum_of_squares(d, threads=threads).compute(**THREADS) == pytest.approx(
        math.fsum((x * x).tolist()), rel=1e-13)
    assert (gdask.sum_squares_range(10**6, chunks=300_000, threads=threads).compute(**THREADS)
            == _reference.sum_squares_range(10**6))


def test_default_is_one_thread_per_task(monkeypatch):
    seen = []
    real = gilfree.square

    def spy(x, *args, **kwargs):
        seen.append(kwargs.get("threads"))
        return real(x, *args, **kwargs)

    monkeypatch.setattr(gilfree, "square", spy)
    d = da.from_array(np.arange(100.0), chunks=30)
    gdask.square(d).compute(scheduler="sync")
    assert seen and set(seen) == {1}


RANGES = [
    (10**6,), (0, 10**6), (5, -1000, -1), (10, 0, -3), (-500, 777, 7), (3, 3), (5, 0),
    (2**62, 2**62 + 100), (2**63 - 1000, 2**63 - 1, 3), (-(2**63), -(2**63) + 50),
    (2**63 - 1, -(2**63), -(2**62)),
]


@pytest.mark.parametrize("args, chunks", [
    (args, chunks) for args in RANGES for chunks in (1, 7, 100_000, 2**24)
    if len(range(*args)) // chunks <= 2000  # not thousands of tasks
])
def test_sum_squares_range_is_exact(args, chunks):
    r = range(*args)
    got = gdask.sum_squares_range(*args, chunks=chunks).compute(**THREADS)
    assert type(got) is int
    assert got == _reference.sum_squares_range(*args) == gilfree.sum_squares_range(*args)
    if len(r) <= 10**5:
        assert got == sum(i * i for i in r)


def test_sum_squares_range_explicit_chunks():
    total = gdask.sum_squares_range(100, -100, -3, chunks=(0, 10, 1, 0, 56))
    assert total.compute(**THREADS) == sum(i * i for i in range(100, -100, -3))
    graph = dict(gdask.sum_squares_range(10**6, chunks=10**5).__dask_graph__())
    assert sum("_range_piece" in str(k) for k in graph) == 10  # one task per piece


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------


def test_not_a_dask_array():
    for bad in (np.arange(3), [1, 2], 3):
        with pytest.raises(TypeError, match=r"`darr` must be a dask.array.Array"):
            gdask.square(bad)
        with pytest.raises(TypeError, match=r"`darr` must be a dask.array.Array"):
            gdask.sum_of_squares(bad)


def test_unsupported_dtype():
    d = da.from_array(np.array(["a", "b"]), chunks=1)
    with pytest.raises(TypeError, match=r"`darr` has dtype"):
        gdask.square(d)
    with pytest.raises(TypeError, match=r"`darr` has dtype"):
        gdask.sum_of_squares(d)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda d: gdask.square(d, overflow="clip"), ValueError, "`overflow`"),
    (lambda d: gdask.square(d, overflow=None), ValueError, "`overflow`"),
    (lambda d: gdask.square(d, threads=0), ValueError, "`threads`"),
    (lambda d: gdask.square(d, threads=2.0), TypeError, "`threads`"),
    (lambda d: gdask.square(d, threads=True), TypeError, "`threads`"),
    (lambda d: gdask.sum_of_squares(d, threads=-1), ValueError, "`threads`"),
    (lambda d: gdask.sum_of_squares(d, split_every=1), ValueError, "`split_every`"),
    (lambda d: gdask.sum_of_squares(d, split_every=2.5), TypeError, "`split_every`"),
    (lambda d: gdask.sum_squares_range(1.5), TypeError, "`start`"),
    (lambda d: gdask.sum_squares_range(0, "9"), TypeError, "`stop`"),
    (lambda d: gdask.sum_squares_range(True, 9), TypeError, "`start`"),
    (lambda d: gdask.sum_squares_range(0, 9, 0), ValueError, "`step` must not be zero"),
    (lambda d: gdask.sum_squares_range(0, 2**63), ValueError, "`stop` must fit in int64"),
    (lambda d: gdask.sum_squares_range(9, chunks=0), ValueError, "`chunks`"),
    (lambda d: gdask.sum_squares_range(9, chunks=2.0), TypeError, "`chunks`"),
    (lambda d: gdask.sum_squares_range(9, chunks=(4, 4)), ValueError, "add up to .* 9"),
    (lambda d: gdask.sum_squares_range(9, chunks=(4, -1, 6)), TypeError, "`chunks`"),
    (lambda d: gdask.sum_squares_range(9, threads="2"), TypeError, "`threads`"),
])
def test_bad_arguments(call, exc, pattern):
    d = da.from_array(np.arange(4), chunks=2)
    with pytest.raises(exc, match=pattern):
        call(d)


def test_docstring_examples():
    result = doctest.testmod(gdask, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


# ---------------------------------------------------------------------------
# a dask.distributed LocalCluster: 2 worker processes on loopback
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    before = {p.pid for p in _live_children(psutil, me)}
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       silence_logs=40)
    try:
        with distributed.Client(cluster) as c:
            workers = c.run(os.getpid)
            assert len(workers) == 2 and os.getpid() not in workers.values()
            yield c
    finally:
        cluster.close()
    assert cluster.status.name == "closed"
    # the worker processes (and nannies) are gone
    gone, alive = psutil.wait_procs(
        [psutil.Process(p) for p in workers.values() if psutil.pid_exists(p)], timeout=10)
    assert not alive, f"worker processes still running: {alive}"
    stray = [p for p in _live_children(psutil, me) if p.pid not in before]
    assert not stray, f"stray processes after closing the cluster: {stray}"


def _live_children(psutil, me) -> list:
    """Running child processes, less multiprocessing's own helper processes.

    Starting spawned workers also starts multiprocessing's resource tracker
    (and forkserver, where used): one per parent process, living as long as
    it does by design, not a leftover of the cluster.
    """
    out = []
    for p in me.children(recursive=True):
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            cmd = " ".join(p.cmdline())
        except psutil.NoSuchProcess:
            continue
        if "resource_tracker" in cmd or "forkserver" in cmd:
            continue
        out.append(p)
    return out


@pytest.mark.parametrize("dtype", ["int8", "uint32", "int64", "uint64", "float32", "float64"])
def test_cluster_square_and_sum(client, dtype):
    x = _values((300, 70), dtype, seed=5)
    d = da.from_array(x, chunks=((100, 150, 50), (7, 63)))
    got = client.compute(gdask.square(d)).result()
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got, np.square(x))
    total = client.compute(gdask.sum_of_squares(d)).result()
    if np.dtype(dtype).kind == "f":
        assert total == pytest.approx(_exact_sos(x), rel=1e-12)
    else:
        assert total == _exact_sos(x)


def test_cluster_runs_tasks_in_both_workers(client):
    import distributed

    d = da.arange(2_000_000, dtype=np.float64, chunks=100_000)
    sq = gdask.square(d).persist()
    distributed.wait(sq)
    where = client.who_has(sq)
    assert len({w for ws in where.values() for w in ws}) == 2
    np.testing.assert_array_equal(sq.compute(), np.square(np.arange(2_000_000.0)))
    del sq


def test_cluster_overflow_raise(client):
    x = np.zeros(50, np.int16)
    x[33] = 200
    d = da.from_array(x, chunks=10)
    with pytest.raises(OverflowError, match=r"index 3: 200\*\*2 = 40000 does not fit in int16"):
        client.compute(gdask.square(d, overflow="raise")).result()


@pytest.mark.parametrize("args", [(10**7,), (10**6, -(10**6), -7), (2**62, 2**62 + 10**5)])
def test_cluster_sum_squares_range(client, args):
    got = client.compute(gdask.sum_squares_range(*args, chunks=300_000)).result()
    assert got == _reference.sum_squares_range(*args)


# ---------------------------------------------------------------------------
# the bench rows
# ---------------------------------------------------------------------------


def test_bench_dask_rows_run_and_are_verified():
    from gilfree import bench
    from gilfree.bench._engine import Settings

    settings = replace(Settings.preset("tiny"),
                       strategies=("python", "dask-python", "dask-gilfree"),
                       heartbeat_time=0, bandwidth_bytes=0)
    r = bench.run(settings)
    reasons = {s["name"]: s["skip_reason"] for s in r["strategies"]}
    assert reasons["dask-python"] is None and reasons["dask-gilfree"] is None
    for name in ("dask-python", "dask-gilfree"):
        pts = [p for p in r["points"] if p["strategy"] == name]
        assert {p["workload"] for p in pts} == {"range", "map", "reduce"}
        assert {p["workers"] for p in pts} == {1, 2}
        assert all(p["status"] == "ok" and p["verified"] for p in pts), pts


def test_bench_pieces_are_balanced():
    from gilfree.bench import _dask

    for n, w, target in [(10, 2, 100), (10**8, 2, 2**24), (10**9, 3, 2**24), (0, 2, 5)]:
        bounds = _dask.dask_pieces(n, w, target)
        assert len(bounds) % w == 0 and bounds[-1][1] == n
        assert max(b - a for a, b in bounds) <= max(target, -(-n // w))


def test_bench_skips_without_dask(monkeypatch):
    from gilfree.bench import _dask

    def missing(name, *args):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(_dask.importlib, "import_module", missing)
    for s in _dask.make_strategies():
        assert "dask is not installed" in s.skip_reason()


def test_without_dask_the_functions_say_what_to_install(monkeypatch):
    def missing(name, *args):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(gdask.importlib, "import_module", missing)
    for call in (lambda: gdask.square(np.arange(3)), lambda: gdask.sum_squares_range(5),
                 lambda: gdask.sum_of_squares(np.arange(3))):
        with pytest.raises(ImportError, match=r'pip install "gilfree\[dask\]"'):
            call()


def test_import_gilfree_does_not_import_dask():
    import subprocess
    import sys

    code = ("import sys, gilfree, gilfree.bench, gilfree.dask; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_float_sum_overflowing_while_combined_is_inf():
    # each block's sum is finite (1e308); only their total overflows
    x = np.full(4, 1e154)
    got = gdask.sum_of_squares(da.from_array(x, chunks=1), split_every=2).compute(scheduler="sync")
    assert got == np.inf



# ----------------------------------------------- one home per argument rule


@pytest.mark.parametrize("bad", ["Raise", "", None, 1, b"wrap"])
def test_square_overflow_argument_is_the_cores(bad, monkeypatch):
    """gilfree.dask.square checks `overflow` with the core's rule and message."""
    from gilfree import _rules

    with pytest.raises(ValueError) as core:
        gilfree.square(np.arange(3), overflow=bad)
    with pytest.raises(ValueError) as lazy:
        gdask.square(da.arange(3, chunks=2), overflow=bad)
    assert str(lazy.value) == str(core.value)
    seen = []
    real = _rules.overflow_mode
    monkeypatch.setattr(_rules, "overflow_mode", lambda v: seen.append(v) or real(v))
    gdask.square(da.arange(3, chunks=2), overflow="raise")
    assert seen and seen[0] == "raise"


@pytest.mark.parametrize("args", [(-2**63, 2**63 - 1), (2**63 - 1, -2**63, -1),
                                  (-2**63, 2**63 - 1, 1)])
def test_sum_squares_range_too_long_is_the_cores_error(args):
    """A range beyond 2**63 - 1 terms: the core's ValueError, not len()'s OverflowError."""
    with pytest.raises(ValueError) as core:
        gilfree.sum_squares_range(*args)
    with pytest.raises(ValueError) as lazy:
        gdask.sum_squares_range(*args)
    assert str(lazy.value) == str(core.value)


def test_sum_squares_range_bounds_the_number_of_tasks():
    with pytest.raises(ValueError, match=r"`chunks`=1 cuts .* into 10000000 tasks"):
        gdask.sum_squares_range(10**7, chunks=1)
    # At the bound it is built (not computed here).
    assert isinstance(gdask.sum_squares_range(10**6, chunks=1), Delayed)
