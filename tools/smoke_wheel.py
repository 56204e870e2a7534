"""Smoke-check an installed gilfree before its test suite runs.

Run from a folder that is not the source tree (cibuildwheel's test folder,
tools/check-dist.sh's scratch folder, CI).  Exits non-zero when:

* ``gilfree`` is imported from a source checkout instead of an installation;
* an extension module in the package fails to import;
* on a free-threaded CPython, importing them turns the GIL back on (an
  extension not declared free-threading compatible does that, silently unless
  warnings are shown);
* ``GILFREE_EXPECT_OPENMP=1`` and ``gilfree._openmp`` is missing: a source
  build meant to have OpenMP (gcc, MSVC) sets it, so a build that quietly
  lost it fails here rather than in the bench.  Release wheels are built
  without OpenMP (``[tool.cibuildwheel]`` in pyproject.toml says why).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
import sysconfig


def main() -> int:
    import gilfree

    pkg_dir = os.path.dirname(os.path.abspath(gilfree.__file__))
    print(f"gilfree {gilfree.__version__} from {pkg_dir}")
    # src/gilfree in a checkout or an unpacked sdist has setup.py two levels up.
    if os.path.exists(os.path.join(pkg_dir, os.pardir, os.pardir, "setup.py")):
        print("error: imported gilfree from a source tree, not an installation")
        return 1

    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    exts = sorted(f.split(".", 1)[0] for f in os.listdir(pkg_dir) if f.endswith(suffixes))
    for name in exts:
        importlib.import_module(f"gilfree.{name}")
    print(f"extension modules: {', '.join(exts)}")
    for need in ("_core", "_pfor"):
        if need not in exts:
            print(f"error: gilfree.{need} is missing")
            return 1

    if os.environ.get("GILFREE_EXPECT_OPENMP", "") == "1" and "_openmp" not in exts:
        print("error: GILFREE_EXPECT_OPENMP=1 but the wheel has no gilfree._openmp")
        return 1

    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        gil = sys._is_gil_enabled()  # type: ignore[attr-defined]
        print(f"free-threaded CPython: GIL {'ENABLED' if gil else 'disabled'} after import")
        if gil:
            print("error: importing gilfree enabled the GIL")
            return 1

    # One call through the pool, one through the parallel-for C-API
    # (gilfree._pfor) and, where built, one through OpenMP.
    n = 3 * gilfree._runtime.config()["range_chunk"] + 5
    expect = (n - 1) * n * (2 * n - 1) // 6
    got = gilfree.sum_squares_range(n, threads=2)
    if got != expect:
        print(f"error: sum_squares_range({n}, threads=2) = {got}, expected {expect}")
        return 1
    from gilfree import _pfor

    got = _pfor.sum_squares_range(0, n, 1, 2)
    if got != expect:
        print(f"error: _pfor.sum_squares_range(0, {n}, 1, 2) = {got}, expected {expect}")
        return 1
    if "_openmp" in exts:
        from gilfree import _openmp

        got = _openmp.sum_squares_range(0, n, 1, 2)
        if got != expect:
            print(f"error: _openmp.sum_squares_range(0, {n}, 1, 2) = {got}, expected {expect}")
            return 1
    gilfree.show_config()
    return 0


if __name__ == "__main__":
    sys.exit(main())
