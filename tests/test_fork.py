"""fork safety: after the pool has run in the parent, a forked child (plain
os.fork and multiprocessing's fork context) can use gilfree with threads=2
and gets correct results instead of hanging on the parent's dead workers.
spawn is checked too.  Every case runs in a fresh interpreter with a
timeout, so a hang fails the test instead of freezing the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

COMMON = """
import os, sys, threading, time
import numpy as np
import gilfree
from gilfree._runtime import CHUNK, pool_threads

N = 10**6
EXP_RANGE = (N - 1) * N * (2 * N - 1) // 6
X = np.arange(4 * CHUNK + 3, dtype=np.float64)
XI = np.arange(-3 * CHUNK, 3 * CHUNK + 7, dtype=np.int64)
EXP_SUM_I = sum(v * v for v in XI.tolist())


def check(threads=2):
    assert np.array_equal(gilfree.square(X, threads=threads), X * X)
    assert gilfree.sum_of_squares(XI, threads=threads) == EXP_SUM_I
    assert gilfree.sum_squares_range(N, threads=threads) == EXP_RANGE
    r = gilfree.squares_range(-N, N, 7, threads=threads)
    assert np.array_equal(r, np.square(np.arange(-N, N, 7)))
    return True


def use_pool_in_parent():
    check(2)
    check(3)
    assert pool_threads() >= 1, pool_threads()


def fork_running(fn):
    # Fork; the child runs fn() and exits with its int result (0 for None),
    # or 1 if it raised.  Returns the child's pid.
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = fn() or 0
        finally:
            sys.stdout.flush()
            os._exit(code)
    return pid
"""


def run_script(tmp_path, body: str, timeout: float = 60):
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(COMMON) + "\n" + textwrap.dedent(body))
    try:
        return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=timeout,
                              cwd=str(tmp_path))
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"hang: killed after {timeout} s; stdout={exc.stdout!r} stderr={exc.stderr!r}")


def test_os_fork_after_pool_use(tmp_path):
    r = run_script(
        tmp_path,
        """
        use_pool_in_parent()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                check(2)
                check(2)
                check(4)
                assert pool_threads() <= 4, pool_threads()
                code = 0
            finally:
                sys.stdout.flush()
                os._exit(code)
        deadline = time.monotonic() + 30
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                print("CHILD HUNG")
                sys.exit(4)
            time.sleep(0.01)
        assert os.waitstatus_to_exitcode(status) == 0, status
        check(2)  # the parent's pool still works
        print("ok")
        """,
    )
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout + r.stderr


def test_os_fork_twice_nested(tmp_path):
    r = run_script(
        tmp_path,
        """
        use_pool_in_parent()
        def child_then_grandchild():
            check(2)
            _, status = os.waitpid(fork_running(lambda: check(2) and 0), 0)
            return os.waitstatus_to_exitcode(status)
        _, status = os.waitpid(fork_running(child_then_grandchild), 0)
        assert os.waitstatus_to_exitcode(status) == 0
        print("ok")
        """,
    )
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout + r.stderr


def test_fork_while_other_thread_uses_pool(tmp_path):
    """fork() while another thread of the parent is inside a parallel call:
    the child must still be able to use gilfree (its pool starts afresh)."""
    r = run_script(
        tmp_path,
        """
        import warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        use_pool_in_parent()
        stop = threading.Event()
        def busy():
            while not stop.is_set():
                gilfree.sum_squares_range(3 * 10**6, threads=2)
        t = threading.Thread(target=busy)
        t.start()
        time.sleep(0.2)
        codes = []
        for _ in range(5):
            pid = fork_running(lambda: check(2) and 0)
            deadline = time.monotonic() + 20
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    codes.append(os.waitstatus_to_exitcode(status))
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    codes.append("hung")
                    break
                time.sleep(0.01)
            time.sleep(0.05)
        stop.set()
        t.join()
        print("codes", codes)
        assert codes == [0] * 5, codes
        print("ok")
        """,
        timeout=150,
    )
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout + r.stderr


MP_BODY = """
import multiprocessing as mp


def task(k):
    check(2)
    return gilfree.sum_squares_range(k * 1000, threads=2)


if __name__ == "__main__":
    {parent}
    ctx = mp.get_context("{method}")
    with ctx.Pool(2) as p:
        res = p.map_async(task, range(6)).get(timeout=60)
    assert res == [sum(i * i for i in range(k * 1000)) for k in range(6)], res
    check(2)
    print("ok")
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing(tmp_path, method):
    import multiprocessing as mp

    if method not in mp.get_all_start_methods():
        pytest.skip(f"{method} not available")
    body = MP_BODY.format(method=method, parent="use_pool_in_parent()")
    r = run_script(tmp_path, body, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout + r.stderr
