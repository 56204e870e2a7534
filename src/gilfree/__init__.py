"""gilfree: GIL-free square kernels, a low-overhead thread pool, and a bench.

CPU-bound pure-Python code does not get faster with threads, because only the
thread holding the Global Interpreter Lock runs Python bytecode.  gilfree's
kernels are plain C that release the GIL, so plain ``threading.Thread`` objects and
gilfree's own pool run them on every core at once.

Public API
----------
square, sum_of_squares, sum_squares_range, squares_range
    The kernels (see each docstring).
get_num_threads, set_num_threads, num_threads, cpu_count, MAX_THREADS
    Thread-count control.
register_threadpoolctl
    Make gilfree's pool visible to threadpoolctl (automatic in most cases).
show_config
    Print the SIMD path, chunk sizes and thread default in use.
get_include
    The directory of ``gilfree/parallel.h``: gilfree's pool for C and Cython
    extensions (``cimport gilfree.parallel``).
probe, ProbeResult
    Will threads help *your* function?  (``gilfree probe`` on the command line.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    from ._probe import ProbeResult, probe


def _in_subinterpreter() -> bool:
    """True when imported in a subinterpreter (PEP 684/734), where NumPy
    cannot be imported."""
    try:
        import _interpreters as interp  # 3.13+
    except ImportError:
        try:
            import _xxsubinterpreters as interp  # type: ignore[no-redef]  # 3.12
        except ImportError:
            return False
    ids = [i[0] if isinstance(i, tuple) else i for i in (interp.get_current(), interp.get_main())]
    return int(ids[0]) != int(ids[1])


_SUBINTERPRETER = _in_subinterpreter()
if not _SUBINTERPRETER:
    from . import _threads
    from ._core import square, squares_range, sum_of_squares, sum_squares_range
    from ._threads import MAX_THREADS, cpu_count, get_num_threads, num_threads, set_num_threads
    from ._threadpoolctl import _auto_register, register_threadpoolctl

    _auto_register()  # registers with threadpoolctl now or when it is imported
    del _auto_register
else:
    # NumPy does not load in subinterpreters: `import gilfree` there gives the
    # NumPy-free kernels on buffers (gilfree.buffer), which declare
    # per-interpreter GIL support; nothing else of the API.
    from ._buffer import (  # type: ignore[assignment,no-redef]
        square,
        sum_of_squares,
        sum_squares_range,
    )

__all__ = [
    "MAX_THREADS",
    "ProbeResult",
    "__version__",
    "cpu_count",
    "get_include",
    "get_num_threads",
    "num_threads",
    "probe",
    "register_threadpoolctl",
    "set_num_threads",
    "show_config",
    "square",
    "squares_range",
    "sum_of_squares",
    "sum_squares_range",
]


def get_include() -> str:
    """The directory holding ``gilfree/parallel.h``, for building extensions.

    Extensions that run parallel loops on gilfree's pool add it to their
    include directories; Cython code then writes ``cimport gilfree.parallel``
    (the ``.pxd`` ships in the package).  See ``docs/parallel-loops.md``.

    Returns
    -------
    str
        An absolute path.

    Examples
    --------
    >>> import os, gilfree
    >>> os.path.isfile(os.path.join(gilfree.get_include(), "gilfree", "parallel.h"))
    True
    """
    import os

    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")


def show_config() -> None:
    """Print how this gilfree build runs here: SIMD path, chunks, threads, and why.

    Examples
    --------
    >>> import gilfree
    >>> gilfree.show_config()  # doctest: +ELLIPSIS
    gilfree ...
    """
    import platform
    import sys

    import numpy as np

    from ._runtime import config

    c = config()
    nthreads, why = _threads.describe_default()
    levels = ", ".join(f"{k}{'' if ok else ' (CPU lacks it)'}" for k, ok in c["simd_levels"].items())
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"gilfree {__version__} on Python {platform.python_version()} "
          f"({'GIL enabled' if gil else 'free-threaded, GIL disabled'}), NumPy {np.__version__}")
    print(f"  machine      : {platform.machine()}, {platform.processor() or platform.system()}")
    print(f"  SIMD path    : {c['simd']} ({c['simd_reason']}); compiled: {levels}")
    print(f"  chunk        : {c['chunk_bytes'] // 1024} KiB of input per chunk for arrays, "
          f"{c['range_chunk']} iterations for ranges")
    if c["stream"]:
        print(f"  square out   : non-temporal stores when input + output >= "
              f"{c['stream_min_bytes'] / 2**20:g} MiB ({c['stream_reason']})")
    else:
        print("  square out   : normal stores (no non-temporal stores on this architecture)")
    print(f"  threads      : {nthreads} ({why})")
    print(f"  pool         : {c['pool_threads']} worker threads started; idle workers spin "
          f"{c['spin_us']:g} us before sleeping (GILFREE_SPIN_US)")
    print(f"  GIL released : for calls on >= {c['gil_release_min']} elements; "
          f"signals checked every {c['signal_check_ms']:g} ms")


def __getattr__(name: str):
    # probe and ProbeResult load on first use: `import gilfree` stays as fast
    # as without them (gilfree._probe imports the bench).
    if name in ("probe", "ProbeResult") and not _SUBINTERPRETER:
        from . import _probe

        return getattr(_probe, name)
    raise AttributeError(f"module 'gilfree' has no attribute {name!r}")


if _SUBINTERPRETER:
    del show_config
    __all__ = ["__version__", "square", "sum_of_squares", "sum_squares_range"]
