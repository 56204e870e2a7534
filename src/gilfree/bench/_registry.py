"""Every strategy, in report order, built fresh for each run."""

from __future__ import annotations

from . import _dask, _foreign, _gilfree, _numpy, _peers, _processes, _python

__all__ = ["FULL_ONLY", "NAMES", "QUICK_NAMES", "make_strategies"]

#: Report order: the baseline first, then the classic answers to the GIL,
#: NumPy, gilfree, peers, Dask, and the machine's limits last (pure Python, C).
NAMES = (
    "python", "python-threads", "python-processes", "subinterpreters", "free-threaded",
    "numpy", "numpy-threads",
    "gilfree-gil", "gilfree-threads", "gilfree", "gilfree-openmp",
    "gilfree-parallel-for",
    "numexpr", "numba",
    "dask-python", "dask-gilfree",
    "ceiling-python", "ceiling",
)

#: Rows the quick run leaves out (``--full`` and ``--strategies`` run them):
#: gilfree-parallel-for measures the public C-API's overhead against
#: gilfree-openmp, a question for an extension author, not the tutorial's.
FULL_ONLY = ("gilfree-parallel-for",)

#: The quick run's rows: every row but :data:`FULL_ONLY`.
QUICK_NAMES = tuple(n for n in NAMES if n not in FULL_ONLY)

_FAMILIES = (_python, _processes, _foreign, _numpy, _gilfree, _peers, _dask)


def make_strategies(names=None) -> list:
    """New strategy objects for `names` (default: all), in report order.

    Parameters
    ----------
    names : iterable of str, optional
        Strategy names from :data:`NAMES`.

    Raises
    ------
    ValueError
        If a name is unknown.
    """
    wanted = set(NAMES if names is None else names)
    unknown = wanted - set(NAMES)
    if unknown:
        raise ValueError(f"unknown strategies: {', '.join(sorted(unknown))} "
                         f"(choose from {', '.join(NAMES)})")
    found = {s.name: s for fam in _FAMILIES for s in fam.make_strategies()}
    assert set(found) == set(NAMES), "NAMES and the families disagree"
    return [found[n] for n in NAMES if n in wanted]
