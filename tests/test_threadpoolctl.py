"""threadpoolctl sees and drives gilfree's pool.

The rules under test (docs/ecosystem.md): threadpoolctl reads and sets
gilfree's process default thread count (the value of set_num_threads), and
restores the value it read when a block ends; a num_threads() context and an
explicit ``threads=`` take precedence over it in their own thread or task.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import gilfree
from gilfree import _runtime

threadpoolctl = pytest.importorskip(
    "threadpoolctl", reason="threadpoolctl is not installed (it is in the `test` extra)"
)
if not hasattr(threadpoolctl, "register"):
    pytest.skip("threadpoolctl < 3.2 has no register()", allow_module_level=True)

# Every test here changes the process default (a threadpoolctl limit is
# process-wide), so none may run beside another under pytest-run-parallel.
pytestmark = pytest.mark.thread_unsafe(reason="threadpoolctl limits are process-wide")


def run_py(code: str, env_update: dict | None = None, timeout: float = 120):
    env = dict(os.environ)
    env.pop("GILFREE_THREADPOOLCTL", None)
    env.update(env_update or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def gilfree_infos():
    return [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "gilfree"]


@pytest.fixture(autouse=True)
def registered(restore_num_threads):
    gilfree.register_threadpoolctl()
    yield restore_num_threads


# ------------------------------------------------------------------ info


def test_exported_symbols_are_plain_c():
    import ctypes

    lib = ctypes.CDLL(_runtime.__file__)
    old = lib.gilfree_get_num_threads()
    assert old == gilfree.get_num_threads()
    assert lib.gilfree_set_num_threads(3) == old
    assert gilfree.get_num_threads() == 3
    # Below 1: ignored; above MAX_THREADS: lowered to it.
    assert lib.gilfree_set_num_threads(0) == 3
    assert lib.gilfree_set_num_threads(-5) == 3
    assert gilfree.get_num_threads() == 3
    lib.gilfree_set_num_threads(gilfree.MAX_THREADS + 7)
    assert gilfree.get_num_threads() == gilfree.MAX_THREADS
    lib.gilfree_set_num_threads(old)


def test_threadpool_info_lists_gilfree(registered):
    gilfree.set_num_threads(3)
    infos = gilfree_infos()
    assert len(infos) == 1
    info = infos[0]
    assert info["user_api"] == "gilfree"
    assert info["num_threads"] == 3
    assert info["version"] == gilfree.__version__
    assert os.path.realpath(info["filepath"]) == os.path.realpath(_runtime.__file__)
    gilfree.set_num_threads(5)
    assert gilfree_infos()[0]["num_threads"] == 5


def test_info_reports_the_process_default_not_the_context(registered):
    # threadpoolctl restores what it read, so it must read the process
    # default: reading the context value would turn a num_threads() context
    # into a process default when a threadpool_limits block ends.
    gilfree.set_num_threads(2)
    with gilfree.num_threads(7):
        assert gilfree_infos()[0]["num_threads"] == 2
        with threadpoolctl.threadpool_limits(1):
            assert gilfree.get_num_threads() == 7
        assert gilfree.get_num_threads() == 7
    assert gilfree.get_num_threads() == 2


def test_register_is_idempotent():
    a = gilfree.register_threadpoolctl()
    b = gilfree.register_threadpoolctl()
    assert a is b
    assert issubclass(a, threadpoolctl.LibController)
    assert len(gilfree_infos()) == 1


def test_thread_limit_scope_is_process():
    ctl = threadpoolctl.ThreadpoolController().select(user_api="gilfree")
    (lib,) = ctl.lib_controllers
    before = gilfree.get_num_threads()
    assert lib.info(debugging_info=True)["thread_limit_scope"] == "process"
    assert gilfree.get_num_threads() == before


# ---------------------------------------------------------------- limits


@pytest.mark.parametrize("how", ["all", "user_api", "dict", "internal_api_dict", "select"])
def test_threadpool_limits_caps_and_restores(registered, how):
    gilfree.set_num_threads(4)
    if how == "all":
        cm = threadpoolctl.threadpool_limits(2)
    elif how == "user_api":
        cm = threadpoolctl.threadpool_limits(limits=2, user_api="gilfree")
    elif how == "dict":
        cm = threadpoolctl.threadpool_limits(limits={"gilfree": 2})
    elif how == "internal_api_dict":
        cm = threadpoolctl.threadpool_limits(limits=gilfree_infos() and [
            dict(gilfree_infos()[0], num_threads=2)])
    else:
        cm = threadpoolctl.ThreadpoolController().select(internal_api="gilfree").limit(limits=2)
    with cm:
        assert gilfree.get_num_threads() == 2
        assert gilfree_infos()[0]["num_threads"] == 2
    assert gilfree.get_num_threads() == 4


def test_other_user_api_leaves_gilfree_alone(registered):
    gilfree.set_num_threads(4)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert gilfree.get_num_threads() == 4
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert gilfree.get_num_threads() == 4


def test_select_finds_gilfree():
    ctl = threadpoolctl.ThreadpoolController()
    for sel in (dict(user_api="gilfree"), dict(internal_api="gilfree"),
                dict(internal_api=["gilfree", "openblas"]),
                dict(prefix=os.path.basename(_runtime.__file__).lower())):
        sub = ctl.select(**sel)
        assert [c.internal_api for c in sub.lib_controllers].count("gilfree") == 1, sel
    assert ctl.select(user_api="blas").select(user_api="gilfree").lib_controllers == []


def test_nested_limits(registered):
    gilfree.set_num_threads(6)
    with threadpoolctl.threadpool_limits(3):
        assert gilfree.get_num_threads() == 3
        with threadpoolctl.threadpool_limits(limits=1, user_api="gilfree"):
            assert gilfree.get_num_threads() == 1
            with threadpoolctl.threadpool_limits(5):
                # A limit is a value, not a running minimum: like OpenBLAS's.
                assert gilfree.get_num_threads() == 5
            assert gilfree.get_num_threads() == 1
        assert gilfree.get_num_threads() == 3
    assert gilfree.get_num_threads() == 6


def test_restored_after_exception(registered):
    gilfree.set_num_threads(4)
    with pytest.raises(ZeroDivisionError):
        with threadpoolctl.threadpool_limits(1):
            assert gilfree.get_num_threads() == 1
            1 / 0
    assert gilfree.get_num_threads() == 4

    @threadpoolctl.threadpool_limits.wrap(limits=2, user_api="gilfree")
    def f():
        assert gilfree.get_num_threads() == 2
        raise KeyError("x")

    with pytest.raises(KeyError):
        f()
    assert gilfree.get_num_threads() == 4


def test_limit_values_out_of_range(registered):
    gilfree.set_num_threads(4)
    with threadpoolctl.threadpool_limits(0):
        assert gilfree.get_num_threads() == 4  # ignored, as the C setter documents
    with threadpoolctl.threadpool_limits(-3):
        assert gilfree.get_num_threads() == 4
    with threadpoolctl.threadpool_limits(10**12):
        assert gilfree.get_num_threads() == gilfree.MAX_THREADS
    assert gilfree.get_num_threads() == 4


def test_num_threads_context_wins_inside_a_limit(registered):
    gilfree.set_num_threads(4)
    with threadpoolctl.threadpool_limits(1):
        with gilfree.num_threads(3):
            assert gilfree.get_num_threads() == 3
        assert gilfree.get_num_threads() == 1
    assert gilfree.get_num_threads() == 4


def test_set_num_threads_inside_a_limit_ends_with_it(registered):
    gilfree.set_num_threads(4)
    with threadpoolctl.threadpool_limits(1):
        assert gilfree.set_num_threads(3) == 1
        assert gilfree.get_num_threads() == 3
    # threadpoolctl restores the value it read when the block started.
    assert gilfree.get_num_threads() == 4


def test_limit_set_after_set_num_threads(registered):
    with threadpoolctl.threadpool_limits(2):
        pass
    gilfree.set_num_threads(5)
    with threadpoolctl.threadpool_limits(2):
        assert gilfree.get_num_threads() == 2
    assert gilfree.get_num_threads() == 5


def test_results_unchanged_under_limits(registered):
    with _runtime.tuning(chunk_bytes=4096):
        x = np.arange(-20_000, 20_000, dtype=np.int64)
        ref = np.square(x)
        for lim in (1, 2, 3):
            with threadpoolctl.threadpool_limits(lim):
                np.testing.assert_array_equal(gilfree.square(x), ref)
                assert gilfree.sum_of_squares(x) == int((x.astype(object) ** 2).sum())
                with gilfree.num_threads(2):
                    np.testing.assert_array_equal(gilfree.square(x), ref)


def test_limits_from_several_threads(registered):
    """One thread's threadpool_limits is seen by every thread without a
    num_threads() context; a context in another thread keeps its value; an
    explicit threads= is unaffected; everything returns when the block ends."""
    gilfree.set_num_threads(4)
    nthreads = 4
    barrier = threading.Barrier(nthreads, timeout=30)
    seen: dict[str, list] = {k: [] for k in ("plain", "ctx")}
    errors: list[BaseException] = []
    x = np.arange(50_000, dtype=np.float64)
    ref = np.square(x)

    def limiter():
        with threadpoolctl.threadpool_limits(limits=1, user_api="gilfree"):
            barrier.wait()  # 1: limit in place
            barrier.wait()  # 2: others have looked
        barrier.wait()  # 3: limit lifted
        barrier.wait()  # 4: others have looked

    def plain(i):
        barrier.wait()
        seen["plain"].append(gilfree.get_num_threads())
        np.testing.assert_array_equal(gilfree.square(x), ref)
        np.testing.assert_array_equal(gilfree.square(x, threads=2), ref)
        barrier.wait()
        barrier.wait()
        seen["plain"].append(gilfree.get_num_threads())
        barrier.wait()

    def ctx():
        with gilfree.num_threads(3):
            barrier.wait()
            seen["ctx"].append(gilfree.get_num_threads())
            barrier.wait()
            barrier.wait()
            seen["ctx"].append(gilfree.get_num_threads())
            barrier.wait()

    def guard(fn, *a):
        try:
            fn(*a)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    ts = [threading.Thread(target=guard, args=(limiter,)),
          threading.Thread(target=guard, args=(ctx,))]
    ts += [threading.Thread(target=guard, args=(plain, i)) for i in range(nthreads - 2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors
    assert seen["ctx"] == [3, 3]
    assert sorted(seen["plain"]) == [1] * (nthreads - 2) + [4] * (nthreads - 2)
    assert gilfree.get_num_threads() == 4


def test_concurrent_info_and_calls(registered):
    """threadpool_info and limits from some threads while others compute."""
    gilfree.set_num_threads(2)
    barrier = threading.Barrier(4, timeout=30)
    errors: list[BaseException] = []
    x = np.linspace(-3, 3, 200_001)
    ref = np.square(x)

    def inspector():
        barrier.wait()
        for _ in range(5):
            assert len(gilfree_infos()) == 1

    def computer():
        barrier.wait()
        for _ in range(20):
            np.testing.assert_array_equal(gilfree.square(x), ref)

    def guard(fn):
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            barrier.abort()

    ts = [threading.Thread(target=guard, args=(f,))
          for f in (inspector, inspector, computer, computer)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors
    assert gilfree.get_num_threads() == 2


# ------------------------------------------------- the hot path reads it


def test_calls_use_the_limited_count():
    """The pool starts no workers under a limit of 1 and exactly two helpers
    under a limit of 3: the kernels' thread resolution reads the same int."""
    r = run_py("""
        import numpy as np, gilfree, threadpoolctl
        from gilfree import _runtime
        with _runtime.tuning(chunk_bytes=4096):
            x = np.arange(100_000, dtype=np.float64)
            with threadpoolctl.threadpool_limits(1):
                gilfree.square(x)
            print(_runtime.pool_threads())
            with threadpoolctl.threadpool_limits(limits=3, user_api="gilfree"):
                with gilfree.num_threads(2):
                    gilfree.square(x)
                print(_runtime.pool_threads())
                gilfree.square(x)
            print(_runtime.pool_threads())
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "1", "2"]


# ------------------------------------------- registration and absence


def test_import_gilfree_does_not_import_threadpoolctl():
    r = run_py("""
        import sys, gilfree
        print("threadpoolctl" in sys.modules)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


@pytest.mark.parametrize("order", ["gilfree_first", "threadpoolctl_first"])
def test_registered_in_either_import_order(order):
    imports = "import gilfree, threadpoolctl" if order == "gilfree_first" else \
        "import threadpoolctl, gilfree"
    r = run_py(f"""
        {imports}
        infos = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "gilfree"]
        print(len(infos))
        with threadpoolctl.threadpool_limits(1):
            print(gilfree.get_num_threads())
    """, env_update={"GILFREE_NUM_THREADS": "3"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "1"]


def test_auto_registration_can_be_turned_off():
    r = run_py("""
        import gilfree, threadpoolctl
        print(sum(i["user_api"] == "gilfree" for i in threadpoolctl.threadpool_info()))
        gilfree.register_threadpoolctl()
        print(sum(i["user_api"] == "gilfree" for i in threadpoolctl.threadpool_info()))
    """, env_update={"GILFREE_THREADPOOLCTL": "0"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "1"]


def test_without_threadpoolctl():
    r = run_py("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "threadpoolctl":
                    raise ImportError("No module named 'threadpoolctl' (blocked)")
        sys.meta_path.insert(0, Block())
        import numpy as np, gilfree
        assert gilfree.square(np.arange(3)).tolist() == [0, 1, 4]
        with gilfree.num_threads(2):
            assert gilfree.get_num_threads() == 2
        try:
            gilfree.register_threadpoolctl()
        except ImportError as exc:
            print("ImportError:", exc)
    """)
    assert r.returncode == 0, r.stderr
    assert "ImportError: gilfree.register_threadpoolctl() needs threadpoolctl" in r.stdout


def test_import_hook_leaves_other_imports_alone():
    r = run_py("""
        import sys, gilfree
        from gilfree import _threadpoolctl as t
        hook = t._hook
        print(hook in sys.meta_path)
        import json, decimal  # unaffected
        import threadpoolctl
        print(hook in sys.meta_path, t._hook is None)
        print(type(threadpoolctl.__spec__.loader).__name__)
    """)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "True"
    assert lines[1] == "False True"
    assert lines[2] != "_RegisterOnImport"
