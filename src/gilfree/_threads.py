"""How many threads gilfree uses: the default, its overrides, and validation.

Resolution order for ``threads=None``:

1. the innermost active :func:`num_threads` context (a ``contextvars``
   value, so it is private to the current thread or asyncio task);
2. otherwise the process default: :func:`set_num_threads` (or a
   ``threadpoolctl.threadpool_limits`` block, which sets the same value),
   else the ``GILFREE_NUM_THREADS`` environment variable read at import,
   else :func:`cpu_count`.

The process default is a C int owned by :mod:`gilfree._runtime`
(``csrc/gf_threads.c``), exported as
``gilfree_get_num_threads``/``gilfree_set_num_threads`` so that threadpoolctl
can find and drive it; :func:`get_num_threads`, :func:`set_num_threads` and
every call with ``threads=None`` read that one value.  This module is the
policy around it: validation, the initial value, the per-context override.

:func:`cpu_count` counts the CPUs this process may actually use: the
affinity mask (``os.sched_getaffinity``, e.g. from ``taskset`` or a cpuset)
*and* a cgroup CPU quota (``docker --cpus=2``, Kubernetes CPU limits), which
``os.cpu_count()`` and most libraries ignore.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import operator
import os
import warnings
from collections.abc import Iterator

from . import _runtime

__all__ = [
    "MAX_THREADS",
    "cpu_count",
    "get_num_threads",
    "num_threads",
    "set_num_threads",
]

#: Upper bound for ``threads``, the calling thread included: far above any
#: core count, low enough that a typo (``threads=10**6``) is an error instead
#: of a million OS threads (``GF_MAX_THREADS`` in csrc/gilfree.h).
MAX_THREADS: int = _runtime.MAX_THREADS

# The interface gilfree._core uses (read on every call, so bound once there):
# `override` below.

#: The thread count of the innermost num_threads() context; 0 means none.
override: contextvars.ContextVar[int] = contextvars.ContextVar("gilfree_num_threads", default=0)


def validate_threads(threads: object, name: str = "threads", allow_none: bool = True) -> int:
    """Return ``threads`` as an int in [1, MAX_THREADS], or raise.

    Accepts Python and NumPy integers; rejects bool (``True`` is not a
    thread count) and floats, naming the argument in the message.  (None is
    resolved by the callers that allow it; `allow_none` only shapes the
    message.)
    """
    expected = "a positive int or None" if allow_none else "a positive int"
    if isinstance(threads, bool) or not hasattr(type(threads), "__index__"):
        raise TypeError(f"`{name}` must be {expected}, got {type(threads).__name__} {threads!r}")
    n = operator.index(threads)  # type: ignore[arg-type]
    if n < 1:
        raise ValueError(f"`{name}` must be {expected}, got {n}")
    if n > MAX_THREADS:
        raise ValueError(f"`{name}` must be at most {MAX_THREADS}, got {n}")
    return n


def _read_first_line(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.readline().strip()
    except OSError:
        return None


def _parse_cpu_max(text: str | None) -> float | None:
    """cgroup v2 ``cpu.max``: ``"<quota> <period>"`` or ``"max <period>"``."""
    if not text:
        return None
    parts = text.split()
    try:
        if parts[0] == "max":
            return None
        quota = int(parts[0])
        period = int(parts[1]) if len(parts) > 1 else 100_000
    except (ValueError, IndexError):
        return None
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def _parse_cfs(quota_text: str | None, period_text: str | None) -> float | None:
    """cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (quota -1: none)."""
    try:
        quota = int(quota_text or "")
        period = int(period_text or "")
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def _ancestors(path: str) -> Iterator[str]:
    """``/a/b`` -> ``/a/b``, ``/a``, ``/``."""
    path = "/" + path.strip("/")
    while True:
        yield path
        if path == "/":
            return
        path = path.rsplit("/", 1)[0] or "/"


def _cgroup_cpu_limit(
    proc_self_cgroup: str = "/proc/self/cgroup", cgroup_root: str = "/sys/fs/cgroup"
) -> float | None:
    """CPUs allowed by the cgroup CPU quota of this process, or None if unlimited.

    Walks from the process's own cgroup up to the root (a limit on a parent
    applies to its children) and returns the smallest quota found.  Inside a
    container the cgroup namespace usually makes the own path ``/``; the
    function then reads the root files.  Unreadable or malformed files are
    ignored: a wrong guess here must never break ``import gilfree``.
    """
    try:
        with open(proc_self_cgroup, encoding="ascii", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        _hier, controllers, path = fields
        if controllers == "":  # cgroup v2 unified hierarchy
            for p in _ancestors(path):
                base = cgroup_root.rstrip("/") + (p if p != "/" else "")
                lim = _parse_cpu_max(_read_first_line(base + "/cpu.max"))
                if lim is not None:
                    limits.append(lim)
        elif "cpu" in controllers.split(","):  # cgroup v1 cpu controller
            for mount in (controllers, "cpu", "cpu,cpuacct", "cpuacct,cpu"):
                root = f"{cgroup_root.rstrip('/')}/{mount}"
                if not os.path.isdir(root):
                    continue
                for p in _ancestors(path):
                    base = root + (p if p != "/" else "")
                    lim = _parse_cfs(
                        _read_first_line(base + "/cpu.cfs_quota_us"),
                        _read_first_line(base + "/cpu.cfs_period_us"),
                    )
                    if lim is not None:
                        limits.append(lim)
                break
    return min(limits) if limits else None


def _affinity_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_count() -> int:
    """Number of CPUs this process can really use.

    The smaller of the CPU affinity mask and the cgroup CPU quota (rounded
    up: a quota of 1.5 CPUs still benefits from 2 threads), at least 1.

    Returns
    -------
    int
        The default thread count when neither ``GILFREE_NUM_THREADS`` nor
        :func:`set_num_threads` says otherwise.

    Examples
    --------
    >>> import gilfree
    >>> gilfree.cpu_count() >= 1
    True
    """
    n = _affinity_count()
    lim = _cgroup_cpu_limit()
    if lim is not None:
        n = min(n, math.ceil(lim))
    return max(1, n)


def _env_default() -> int | None:
    raw = os.environ.get("GILFREE_NUM_THREADS")
    if raw is None or raw.strip() == "":
        return None
    try:
        return validate_threads(int(raw.strip()), "GILFREE_NUM_THREADS", False)
    except (TypeError, ValueError) as exc:
        # A bad environment variable must not make the package unimportable.
        warnings.warn(f"ignoring GILFREE_NUM_THREADS={raw!r}: {exc}", RuntimeWarning, stacklevel=2)
        return None


# The process default lives in gilfree._runtime's C int; it is resolved once,
# here, at import.
_get_default = _runtime._get_default_threads
_set_default = _runtime._set_default_threads
initial_default: int = _env_default() or cpu_count()
_set_default(initial_default)


def get_num_threads() -> int:
    """Threads a call with ``threads=None`` uses here and now.

    Returns
    -------
    int
        The innermost :func:`num_threads` value of this thread or task, else
        the process default.

    Examples
    --------
    >>> import gilfree
    >>> with gilfree.num_threads(3):
    ...     gilfree.get_num_threads()
    3
    """
    return override.get() or _get_default()


def set_num_threads(n: int) -> int:
    """Set the process-wide default thread count.

    This is the value ``threadpoolctl.threadpool_limits`` reads, sets and
    restores for gilfree (see ``docs/ecosystem.md``); a :func:`num_threads`
    context still takes precedence in its own thread or task.

    Parameters
    ----------
    n : int
        Positive thread count, at most ``MAX_THREADS``.

    Returns
    -------
    int
        The previous process default.

    Raises
    ------
    TypeError
        If `n` is not an int (bool and float are rejected).
    ValueError
        If `n` is below 1 or above ``MAX_THREADS``.

    Examples
    --------
    >>> import gilfree
    >>> old = gilfree.set_num_threads(2)
    >>> gilfree.get_num_threads()
    2
    >>> _ = gilfree.set_num_threads(old)
    """
    n = validate_threads(n, "n", allow_none=False)
    return _set_default(n)  # an atomic exchange in C


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[int]:
    """Use `n` threads for gilfree calls inside the ``with`` block.

    The setting is a ``contextvars`` value: it applies to the current thread
    or asyncio task only, nests, and is restored on exit, also when the block
    raises.  Other threads are not affected.

    Parameters
    ----------
    n : int
        Positive thread count, at most ``MAX_THREADS``.

    Yields
    ------
    int
        `n`.

    Raises
    ------
    TypeError, ValueError
        As for :func:`set_num_threads`.

    Examples
    --------
    >>> import gilfree
    >>> with gilfree.num_threads(1):
    ...     gilfree.sum_squares_range(10)
    285
    """
    n = validate_threads(n, "n", allow_none=False)
    token = override.set(n)
    try:
        yield n
    finally:
        override.reset(token)


def describe_default() -> tuple[int, str]:
    """The thread count ``threads=None`` gives in this context, and why.

    Examples
    --------
    >>> from gilfree import _threads
    >>> n, why = _threads.describe_default()
    >>> n >= 1 and isinstance(why, str)
    True
    """
    active = override.get()
    if active:
        return active, "a num_threads() context is active"
    n = _get_default()
    env = _env_default()
    if env is not None and n == env:
        return n, "GILFREE_NUM_THREADS"
    if n == cpu_count():
        lim = cpu_limits()
        cg = lim["cgroup_cpu_limit"]
        quota = f"{cg:g} CPUs" if cg is not None else "none"
        return n, f"cpu_count(): affinity allows {lim['affinity_cpus']} CPUs, cgroup quota {quota}"
    return n, "set_num_threads() or a threadpoolctl limit"


def cpu_limits() -> dict[str, int | float | None]:
    """What bounds :func:`cpu_count` here: the CPUs the affinity mask allows
    and the cgroup CPU quota (None: no quota), for reports such as the
    bench's header.

    Examples
    --------
    >>> from gilfree import _threads
    >>> sorted(_threads.cpu_limits())
    ['affinity_cpus', 'cgroup_cpu_limit']
    """
    return {"affinity_cpus": _affinity_count(), "cgroup_cpu_limit": _cgroup_cpu_limit()}

