"""gilfree on a free-threaded CPython (PEP 703: 3.13t, 3.14t).

Every test here is skipped on a build with the GIL (``Py_GIL_DISABLED`` is
unset).  On a free-threaded build they check that

* importing gilfree (and its optional OpenMP extension) does not turn the GIL
  back on: a Cython module that does not declare ``freethreading_compatible``
  makes CPython re-enable the GIL, with a RuntimeWarning, on import;
* the kernels give exact results when 8 threads call them at the same moment
  (a Barrier lines them up) while the GIL is off, and the GIL stays off.

Run them with the GIL off: ``python -X gil=0 -m pytest tests`` (the default
on a free-threaded build unless PYTHON_GIL=1 or -X gil=1 is given).
tools/ft-check.sh builds a 3.13t, installs gilfree there and runs the suite.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import threading

import numpy as np
import pytest

FREE_THREADED_BUILD = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

pytestmark = pytest.mark.skipif(
    not FREE_THREADED_BUILD, reason="needs a free-threaded CPython build (3.13t, 3.14t)"
)


def _gil_enabled() -> bool:
    return sys._is_gil_enabled()  # exists on every free-threaded build


@pytest.fixture
def gil_off():
    if _gil_enabled():
        pytest.skip("the GIL was turned on for this run (PYTHON_GIL=1 or -X gil=1)")


@pytest.mark.thread_unsafe(reason="starts a subprocess; nothing to gain from running it 4 times at once")
def test_import_keeps_gil_off():
    # A fresh interpreter: in this process gilfree is already imported, and the
    # GIL state after *its* import is what matters.  -W error turns the
    # "GIL has been enabled" RuntimeWarning into a failed import.
    code = (
        "import sys\n"
        "assert not sys._is_gil_enabled(), 'GIL on before the import'\n"
        "import gilfree, gilfree._core\n"
        "try:\n"
        "    import gilfree._openmp\n"
        "except ImportError:\n"
        "    pass\n"
        "import gilfree.bench\n"
        "gilfree.sum_of_squares(gilfree.square(__import__('numpy').arange(10.0)))\n"
        "print(sys._is_gil_enabled())\n"
    )
    r = subprocess.run(
        [sys.executable, "-X", "gil=0", "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False", (r.stdout, r.stderr)


def test_gil_still_off_in_this_process(gil_off):
    import gilfree
    import gilfree._core  # noqa: F401

    gilfree.sum_squares_range(1000)
    assert not _gil_enabled()


@pytest.mark.thread_unsafe(reason="starts 8 threads of its own and checks the GIL state")
def test_eight_threads_at_once_gil_off(gil_off):
    import gilfree

    n_threads = 8
    rounds = 20
    x = np.arange(-5000, 5000, dtype=np.float64)
    xi = np.arange(-5000, 5000, dtype=np.int64)
    want_sos = float(np.sum(x * x))
    want_sq = x * x
    want_range = sum(i * i for i in range(3, 200_003, 7))
    barrier = threading.Barrier(n_threads)
    errors: list = []
    gil_seen: list = []

    def work(k: int) -> None:
        try:
            out = np.empty_like(x)
            for r in range(rounds):
                barrier.wait(timeout=60)
                threads = 1 + (k + r) % 3  # mix the pool's sizes across callers
                assert gilfree.sum_of_squares(x, threads=threads) == want_sos
                gilfree.square(x, out=out, threads=threads)
                np.testing.assert_array_equal(out, want_sq)
                np.testing.assert_array_equal(gilfree.square(xi), xi * xi)
                assert gilfree.sum_squares_range(3, 200_003, 7, threads=threads) == want_range
                gil_seen.append(_gil_enabled())
        except BaseException as exc:  # reported by the main thread
            errors.append((k, exc))
            barrier.abort()

    ts = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in ts), "a thread hung"
    assert not errors, errors[:3]
    assert len(gil_seen) == n_threads * rounds
    assert not any(gil_seen), "the GIL was turned on while the threads ran"
    assert not _gil_enabled()
