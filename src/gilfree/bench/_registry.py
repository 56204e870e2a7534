"""Every strategy, in report order, built fresh for each run."""

from __future__ import annotations

from . import _dask, _foreign, _gilfree, _numpy, _peers, _processes, _python

__all__ = ["NAMES", "make_strategies"]

#: Report order: the baseline first, then the classic answers to the GIL,
#: NumPy, gilfree, peers, Dask, and the machine's limits last (pure Python, C).
NAMES = (
    "python", "python-threads", "python-processes", "subinterpreters", "free-threaded",
    "numpy", "numpy-threads",
    "gilfree-gil", "gilfree-threads", "gilfree", "gilfree-openmp",
    "numexpr", "numba",
    "dask-python", "dask-gilfree",
    "ceiling-python", "ceiling",
)

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
