"""Thread-count control: get/set_num_threads, the num_threads context (a
contextvar: per thread, per asyncio task), GILFREE_NUM_THREADS, cpu_count()
with affinity and cgroup quotas, and validation of `threads`."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import gilfree
from gilfree import _threads

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def run_py(code: str, env_update: dict | None = None, drop: tuple = (), timeout: float = 60):
    env = dict(os.environ)
    for k in drop:
        env.pop(k, None)
    env.update(env_update or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


# ------------------------------------------------------------ get / set


def test_max_threads():
    assert gilfree.MAX_THREADS == 1024


def test_get_num_threads_is_positive_int():
    n = gilfree.get_num_threads()
    assert type(n) is int and 1 <= n <= gilfree.MAX_THREADS


@pytest.mark.thread_unsafe(reason="changes the process-wide thread default")
def test_set_num_threads_returns_previous(restore_num_threads):
    old = restore_num_threads
    assert gilfree.set_num_threads(3) == old
    assert gilfree.get_num_threads() == 3
    assert gilfree.set_num_threads(np.int64(5)) == 3
    assert gilfree.get_num_threads() == 5
    assert type(gilfree.get_num_threads()) is int
    assert gilfree.set_num_threads(gilfree.MAX_THREADS) == 5
    assert gilfree.set_num_threads(1) == gilfree.MAX_THREADS


def test_set_num_threads_is_process_wide(restore_num_threads):
    gilfree.set_num_threads(4)
    seen = []
    t = threading.Thread(target=lambda: seen.append(gilfree.get_num_threads()))
    t.start()
    t.join()
    assert seen == [4]


@pytest.mark.parametrize(
    ("bad", "exc", "text"),
    [(True, TypeError, "True"), (False, TypeError, "False"), (2.0, TypeError, "2.0"), (1.5, TypeError, "1.5"),
     ("2", TypeError, "'2'"), (None, TypeError, "None"), (0, ValueError, "0"), (-3, ValueError, "-3"),
     (1025, ValueError, "1025"), (10**30, ValueError, str(10**30)), (np.float64(2), TypeError, "2.0")],
    ids=repr,
)
def test_set_num_threads_validation(bad, exc, text, restore_num_threads):
    before = gilfree.get_num_threads()
    # the parameter of set_num_threads is called `n`; accept either name
    with pytest.raises(exc, match=r"`(n|threads)`") as ei:
        gilfree.set_num_threads(bad)
    assert text in str(ei.value)
    assert gilfree.get_num_threads() == before


@pytest.mark.parametrize("bad", [True, 2.5, 0, -1, 1025, "3"], ids=repr)
def test_num_threads_validation(bad):
    with pytest.raises((TypeError, ValueError), match=r"`(n|threads)`"):
        with gilfree.num_threads(bad):
            pass  # pragma: no cover


# ------------------------------------------------------- num_threads context


def test_num_threads_context_nests_and_restores():
    base = gilfree.get_num_threads()
    with gilfree.num_threads(3) as n:
        assert n == 3
        assert gilfree.get_num_threads() == 3
        with gilfree.num_threads(5):
            assert gilfree.get_num_threads() == 5
            with gilfree.num_threads(1):
                assert gilfree.get_num_threads() == 1
            assert gilfree.get_num_threads() == 5
        assert gilfree.get_num_threads() == 3
    assert gilfree.get_num_threads() == base


def test_num_threads_restores_on_exception():
    base = gilfree.get_num_threads()
    with pytest.raises(ZeroDivisionError):
        with gilfree.num_threads(7):
            with gilfree.num_threads(2):
                1 / 0
    assert gilfree.get_num_threads() == base


def test_num_threads_context_is_used_by_calls():
    x = np.arange(3 * 16384 + 5, dtype=np.float64)
    with gilfree.num_threads(3):
        np.testing.assert_array_equal(gilfree.square(x), np.square(x))
        assert gilfree.sum_squares_range(1000) == sum(i * i for i in range(1000))


def test_num_threads_overrides_set_num_threads(restore_num_threads):
    gilfree.set_num_threads(2)
    with gilfree.num_threads(6):
        assert gilfree.get_num_threads() == 6
    assert gilfree.get_num_threads() == 2


def test_contextvar_isolation_across_threads():
    """8 threads each enter their own num_threads(k) at the same time; each
    sees only its own value, and a thread outside any context sees the
    process default."""
    nthreads = 8
    barrier = threading.Barrier(nthreads + 1, timeout=30)
    default = gilfree.get_num_threads()
    errors: list[str] = []

    def worker(k: int):
        try:
            if gilfree.get_num_threads() != default:
                errors.append(f"thread {k}: start {gilfree.get_num_threads()} != default {default}")
            with gilfree.num_threads(k + 1):
                barrier.wait()  # everyone is inside their context
                for _ in range(200):
                    if gilfree.get_num_threads() != k + 1:
                        errors.append(f"thread {k}: saw {gilfree.get_num_threads()}")
                        break
                barrier.wait()
            if gilfree.get_num_threads() != default:
                errors.append(f"thread {k}: after exit {gilfree.get_num_threads()}")
        except Exception as exc:  # pragma: no cover
            errors.append(f"thread {k}: {exc!r}")
            barrier.abort()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
    for t in ts:
        t.start()
    with gilfree.num_threads(42):
        barrier.wait()
        assert gilfree.get_num_threads() == 42
        barrier.wait()
    for t in ts:
        t.join(30)
    assert not errors, errors
    assert gilfree.get_num_threads() == default


def test_new_thread_does_not_inherit_context():
    seen = []
    with gilfree.num_threads(9):
        t = threading.Thread(target=lambda: seen.append(gilfree.get_num_threads()))
        t.start()
        t.join()
    # threading.Thread starts with an empty context: the process default
    assert seen == [gilfree.get_num_threads()]


def test_contextvar_isolation_across_asyncio_tasks():
    async def task(k: int, started: asyncio.Event, go: asyncio.Event, count: list):
        with gilfree.num_threads(k):
            count.append(k)
            if len(count) == 5:
                started.set()
            await started.wait()  # all tasks are inside their contexts
            await go.wait()
            await asyncio.sleep(0)
            return gilfree.get_num_threads()

    async def main():
        started, go = asyncio.Event(), asyncio.Event()
        count: list = []
        tasks = [asyncio.create_task(task(k, started, go, count)) for k in range(1, 6)]
        await started.wait()
        outside = gilfree.get_num_threads()
        go.set()
        return outside, await asyncio.gather(*tasks)

    default = gilfree.get_num_threads()
    outside, results = asyncio.run(main())
    assert outside == default
    assert results == [1, 2, 3, 4, 5]
    assert gilfree.get_num_threads() == default


# -------------------------------------------------- validation of `threads`

CALLS = {
    "square": lambda t: gilfree.square(np.arange(10), threads=t),
    "square_float": lambda t: gilfree.square(np.arange(10.0), threads=t),
    "square_odd": lambda t: gilfree.square(np.arange(10, dtype=np.float16), threads=t),
    "sum_of_squares": lambda t: gilfree.sum_of_squares(np.arange(10), threads=t),
    "sum_squares_range": lambda t: gilfree.sum_squares_range(10, threads=t),
    "squares_range": lambda t: gilfree.squares_range(10, threads=t),
}


@pytest.mark.parametrize("call", CALLS, ids=str)
@pytest.mark.parametrize(
    ("bad", "exc", "text"),
    [(True, TypeError, "True"), (False, TypeError, "False"), (2.0, TypeError, "2.0"), (2.5, TypeError, "2.5"),
     ("2", TypeError, "'2'"), (np.float32(2), TypeError, "2.0"), ([2], TypeError, "[2]"),
     (0, ValueError, "0"), (-3, ValueError, "-3"), (np.int64(-3), ValueError, "-3"),
     (1025, ValueError, "1025"), (2**70, ValueError, str(2**70)), (-(2**70), ValueError, str(-(2**70)))],
    ids=repr,
)
def test_threads_validation(call, bad, exc, text):
    with pytest.raises(exc, match="`threads`") as ei:
        CALLS[call](bad)
    assert text in str(ei.value), str(ei.value)


def test_threads_message_format():
    with pytest.raises(ValueError, match=r"`threads` must be a positive int or None, got -3"):
        gilfree.square(np.arange(3), threads=-3)


@pytest.mark.parametrize("call", CALLS, ids=str)
@pytest.mark.parametrize("good", [1, 2, np.int64(3), np.uint8(2), np.int32(1), None, gilfree.MAX_THREADS])
def test_threads_valid_values(call, good):
    CALLS[call](good)  # small inputs: no pool growth even for MAX_THREADS


# ------------------------------------------------------------ environment


def test_env_var_sets_default():
    r = run_py("import gilfree; print(gilfree.get_num_threads())", {"GILFREE_NUM_THREADS": "3"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "3"
    r = run_py("import gilfree; print(gilfree.get_num_threads())", {"GILFREE_NUM_THREADS": " 7 "})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "7"


def test_env_var_absent_means_cpu_count():
    r = run_py("import gilfree; print(gilfree.get_num_threads(), gilfree.cpu_count())", drop=("GILFREE_NUM_THREADS",))
    assert r.returncode == 0, r.stderr
    a, b = r.stdout.split()
    assert a == b


@pytest.mark.parametrize("raw", ["abc", "0", "-2", "1.5", "100000"])
def test_env_var_invalid_is_ignored_with_warning(raw):
    r = run_py(
        "import gilfree; print(gilfree.get_num_threads(), gilfree.cpu_count())",
        {"GILFREE_NUM_THREADS": raw},
    )
    assert r.returncode == 0, r.stderr  # a bad variable never breaks the import
    a, b = r.stdout.split()
    assert a == b
    assert "GILFREE_NUM_THREADS" in r.stderr


def test_env_var_then_set_num_threads():
    r = run_py(
        """
        import gilfree
        assert gilfree.get_num_threads() == 2
        assert gilfree.set_num_threads(5) == 2
        assert gilfree.get_num_threads() == 5
        print("ok")
        """,
        {"GILFREE_NUM_THREADS": "2"},
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


# ---------------------------------------------------------------- cpu_count


@linux_only
def test_cpu_count_respects_affinity():
    cpus = sorted(os.sched_getaffinity(0))
    r = run_py(
        f"""
        import os
        os.sched_setaffinity(0, {{{cpus[0]}}})
        import gilfree
        print(gilfree.cpu_count(), gilfree.get_num_threads())
        """,
        drop=("GILFREE_NUM_THREADS",),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "1"]


def test_cpu_count_bounds():
    n = gilfree.cpu_count()
    assert type(n) is int and n >= 1
    if hasattr(os, "sched_getaffinity"):
        assert n <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize(("limit", "expected"), [(None, None), (0.5, 1), (1.0, 1), (1.5, 2), (2.0, 2), (1000.0, None)])
def test_cpu_count_uses_cgroup_limit(monkeypatch, limit, expected):
    aff = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    monkeypatch.setattr(_threads, "_cgroup_cpu_limit", lambda *a, **k: limit)
    want = aff if expected is None else max(1, min(aff, expected))
    assert gilfree.cpu_count() == want


@linux_only
def test_cgroup_limit_of_this_machine_is_sane():
    lim = _threads._cgroup_cpu_limit()
    assert lim is None or (isinstance(lim, float) and lim > 0)


# ---------------------------------------------------- cgroup file parsing


def _write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def limit_from(tmp_path, proc_self_cgroup: str | None):
    proc = tmp_path / "proc_self_cgroup"
    if proc_self_cgroup is not None:
        proc.write_text(proc_self_cgroup)
    return _threads._cgroup_cpu_limit(proc_self_cgroup=str(proc), cgroup_root=str(tmp_path / "cg"))


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("200000 100000\n", 2.0), ("max 100000\n", None), ("150000 100000", 1.5), ("50000 100000", 0.5),
     ("100000 100000", 1.0), ("300000 50000", 6.0), ("max", None), ("", None), ("garbage", None),
     ("abc 100000", None), ("0 100000", None), ("-1 100000", None), ("100000 0", None)],
)
def test_cgroup_v2_cpu_max(tmp_path, cpu_max, expected):
    _write(tmp_path / "cg" / "user.slice" / "app.scope" / "cpu.max", cpu_max)
    got = limit_from(tmp_path, "0::/user.slice/app.scope\n")
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_cgroup_v2_walks_up_taking_the_minimum(tmp_path):
    cg = tmp_path / "cg"
    _write(cg / "a" / "b" / "c" / "cpu.max", "400000 100000\n")
    _write(cg / "a" / "b" / "cpu.max", "150000 100000\n")  # tightest, on a parent
    _write(cg / "a" / "cpu.max", "max 100000\n")
    _write(cg / "cpu.max", "300000 100000\n")
    assert limit_from(tmp_path, "0::/a/b/c\n") == pytest.approx(1.5)
    # the own group is tighter than the parents
    _write(cg / "a" / "b" / "c" / "cpu.max", "70000 100000\n")
    assert limit_from(tmp_path, "0::/a/b/c\n") == pytest.approx(0.7)


def test_cgroup_v2_missing_files_and_garbage_are_ignored(tmp_path):
    cg = tmp_path / "cg"
    (cg / "a" / "b").mkdir(parents=True)  # no cpu.max at the own level
    _write(cg / "a" / "cpu.max", "not a number\n")
    _write(cg / "cpu.max", "250000 100000\n")
    assert limit_from(tmp_path, "0::/a/b\n") == pytest.approx(2.5)
    # nothing anywhere
    _write(cg / "cpu.max", "max 100000\n")
    assert limit_from(tmp_path, "0::/a/b\n") is None


def test_cgroup_v2_root_path_in_container(tmp_path):
    _write(tmp_path / "cg" / "cpu.max", "50000 100000\n")
    assert limit_from(tmp_path, "0::/\n") == pytest.approx(0.5)


def test_cgroup_missing_proc_file(tmp_path):
    _write(tmp_path / "cg" / "cpu.max", "50000 100000\n")
    assert limit_from(tmp_path, None) is None


@pytest.mark.parametrize("content", ["", "\n", "garbage\n", "x:y\n", "::::\n", "\x00\xff\n"])
def test_cgroup_garbage_proc_file(tmp_path, content):
    _write(tmp_path / "cg" / "cpu.max", "50000 100000\n")
    got = limit_from(tmp_path, content)
    assert got is None or got == pytest.approx(0.5)


def _v1_tree(tmp_path, files: dict[str, tuple[str, str]]):
    """cgroup v1 cpu controller tree; `cpu,cpuacct` is a link to `cpu` as on
    most distributions."""
    root = tmp_path / "cg" / "cpu"
    root.mkdir(parents=True)
    os.symlink("cpu", tmp_path / "cg" / "cpu,cpuacct")
    for rel, (quota, period) in files.items():
        d = root / rel if rel else root
        _write(d / "cpu.cfs_quota_us", quota)
        _write(d / "cpu.cfs_period_us", period)


V1_PROC = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"


@pytest.mark.parametrize(
    ("quota", "period", "expected"),
    [("200000\n", "100000\n", 2.0), ("-1\n", "100000\n", None), ("150000", "100000", 1.5),
     ("garbage", "100000", None), ("100000", "", None), ("50000", "100000", 0.5)],
)
def test_cgroup_v1(tmp_path, quota, period, expected):
    _v1_tree(tmp_path, {"docker/abc": (quota, period)})
    got = limit_from(tmp_path, V1_PROC)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_cgroup_v1_nested_minimum(tmp_path):
    _v1_tree(tmp_path, {"docker/abc": ("300000", "100000"), "docker": ("120000", "100000"), "": ("-1", "100000")})
    assert limit_from(tmp_path, V1_PROC) == pytest.approx(1.2)


def test_cgroup_v1_missing_files(tmp_path):
    _v1_tree(tmp_path, {"docker": ("250000", "100000")})  # nothing at docker/abc
    assert limit_from(tmp_path, V1_PROC) == pytest.approx(2.5)
    assert limit_from(tmp_path, "4:memory:/docker/abc\n") is None  # no cpu controller line


def test_cgroup_v1_without_symlink(tmp_path):
    d = tmp_path / "cg" / "cpu,cpuacct" / "docker" / "abc"
    _write(d / "cpu.cfs_quota_us", "300000")
    _write(d / "cpu.cfs_period_us", "100000")
    assert limit_from(tmp_path, V1_PROC) == pytest.approx(3.0)


def test_cgroup_hybrid_v1_and_v2_takes_minimum(tmp_path):
    _v1_tree(tmp_path, {"docker/abc": ("300000", "100000")})
    _write(tmp_path / "cg" / "docker" / "abc" / "cpu.max", "150000 100000")
    got = limit_from(tmp_path, V1_PROC + "0::/docker/abc\n")
    assert got == pytest.approx(1.5)


def test_cpu_count_with_fake_cgroup(monkeypatch, tmp_path):
    _write(tmp_path / "cg" / "cpu.max", "50000 100000\n")
    (tmp_path / "proc").write_text("0::/\n")
    real = _threads._cgroup_cpu_limit

    def fake(proc_self_cgroup="/proc/self/cgroup", cgroup_root="/sys/fs/cgroup"):
        return real(str(tmp_path / "proc"), str(tmp_path / "cg"))

    monkeypatch.setattr(_threads, "_cgroup_cpu_limit", fake)
    assert gilfree.cpu_count() == 1
    _write(tmp_path / "cg" / "cpu.max", "max 100000\n")
    aff = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    assert gilfree.cpu_count() == aff
    assert math.isfinite(float(gilfree.cpu_count()))


# ------------------------------------------------------------ show_config


def test_show_config(capsys):
    from gilfree import _runtime

    assert gilfree.show_config() is None
    out = capsys.readouterr().out
    low = out.lower()
    assert "simd" in low
    assert "chunk" in low
    assert "thread" in low
    # the chunk size (in KiB of input or in elements) and the thread default
    assert str(_runtime.CHUNK * 8 // 1024) in out or str(_runtime.CHUNK) in out, out
    assert str(gilfree.get_num_threads()) in out
    # every level reads float64 with its own loop, from cache and DRAM alike:
    # no hand-over to name
    assert "float64 sum" not in out, out
    with gilfree.num_threads(7):
        gilfree.show_config()
    assert "7" in capsys.readouterr().out


def test_show_config_with_env_var():
    r = run_py("import gilfree; gilfree.show_config()", {"GILFREE_NUM_THREADS": "5"})
    assert r.returncode == 0, r.stderr
    assert "threads" in r.stdout.lower() and "5" in r.stdout, r.stdout
