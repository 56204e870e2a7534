"""threadpoolctl support: gilfree's pool as one of the process's thread pools.

threadpoolctl (https://github.com/joblib/threadpoolctl) finds native thread
pools by scanning the shared objects loaded in the process: a registered
``LibController`` names a filename prefix and the C symbols to look for.
gilfree's runtime extension (``gilfree._runtime``) exports
``gilfree_get_num_threads`` and ``gilfree_set_num_threads``
(``csrc/gf_threads.c``), which read and write the process default thread
count, the same int that :func:`gilfree.get_num_threads` and every
``threads=None`` call read.

threadpoolctl has no plugin or entry-point mechanism (3.8.0), so the
controller is registered by gilfree:

* at ``import gilfree`` when threadpoolctl is already imported;
* otherwise when threadpoolctl is imported later, by a one-shot import hook
  that registers it right after threadpoolctl's module has run (gilfree
  itself never imports threadpoolctl);
* or explicitly with :func:`gilfree.register_threadpoolctl` (idempotent).

``GILFREE_THREADPOOLCTL=0`` in the environment at ``import gilfree`` turns
the two automatic paths off (the explicit call still works).

The rules a ``threadpool_limits`` block follows for gilfree are in
``docs/ecosystem.md``: it sets the process default (like
:func:`gilfree.set_num_threads`), restores it on exit, and a
:func:`gilfree.num_threads` context or an explicit ``threads=`` still wins.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from typing import Any

__all__ = ["register_threadpoolctl"]

_lock = threading.Lock()
# The threadpoolctl module object the controller was registered with (a
# re-imported threadpoolctl starts with a fresh controller list).
_registered_with: Any = None
_controller_class: Any = None


def _get_num_threads(self: Any) -> int:
    return int(self.dynlib.gilfree_get_num_threads())


def _set_num_threads(self: Any, num_threads: int) -> int:
    from ._runtime import MAX_THREADS

    # Clamped before ctypes converts it to a C int (a huge Python int would
    # raise there); the C side ignores values below 1.
    n = max(0, min(int(num_threads), MAX_THREADS))
    return int(self.dynlib.gilfree_set_num_threads(n))


def _get_version(self: Any) -> str:
    from ._version import __version__

    return __version__


def _make_controller_class(threadpoolctl: Any) -> Any:
    """The ``threadpoolctl.LibController`` subclass for gilfree's default."""
    from . import _runtime

    # The exact file name of the extension holding the symbols (threadpoolctl
    # compares lower-cased basenames with startswith): it matches no other
    # library, and the symbol check confirms the match.
    basename = os.path.basename(_runtime.__file__).lower()
    return type("GilfreeController", (threadpoolctl.LibController,), {
        "__doc__": "threadpoolctl controller for gilfree's process default thread count.",
        "__module__": __name__,
        "user_api": "gilfree",
        "internal_api": "gilfree",
        "filename_prefixes": (basename,),
        "check_symbols": ("gilfree_get_num_threads", "gilfree_set_num_threads"),
        "get_num_threads": _get_num_threads,
        "set_num_threads": _set_num_threads,
        "get_version": _get_version,
    })


def register_threadpoolctl() -> Any:
    """Register gilfree's thread pool with threadpoolctl (idempotent).

    Not needed in the usual cases: gilfree registers itself when it is
    imported after threadpoolctl, and when threadpoolctl is imported after
    gilfree.  Call it after re-importing or reloading threadpoolctl.

    Returns
    -------
    type
        The ``threadpoolctl.LibController`` subclass registered.

    Raises
    ------
    ImportError
        If threadpoolctl is not installed or is older than 3.2 (no
        ``threadpoolctl.register``).

    Examples
    --------
    >>> import gilfree, threadpoolctl
    >>> _ = gilfree.register_threadpoolctl()
    >>> with threadpoolctl.threadpool_limits(1, user_api="gilfree"):
    ...     gilfree.get_num_threads()
    1
    """
    try:
        # import_module: threadpoolctl is optional and ships no type information.
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError as exc:
        raise ImportError(
            "gilfree.register_threadpoolctl() needs threadpoolctl: pip install threadpoolctl"
        ) from exc
    return _register(threadpoolctl)


def _register(threadpoolctl: Any) -> Any:
    global _registered_with, _controller_class
    if not hasattr(threadpoolctl, "register"):
        raise ImportError(
            f"threadpoolctl {getattr(threadpoolctl, '__version__', '?')} has no register(); "
            "gilfree needs threadpoolctl >= 3.2"
        )
    with _lock:
        if _registered_with is not threadpoolctl:
            cls = _make_controller_class(threadpoolctl)
            threadpoolctl.register(cls)
            _registered_with, _controller_class = threadpoolctl, cls
        return _controller_class


class _RegisterOnImport:
    """A ``sys.meta_path`` finder that sees only the import of threadpoolctl.

    It lets the real finders locate threadpoolctl, then wraps the loader's
    ``exec_module`` so that gilfree registers its controller as soon as the
    module has run.  It removes itself at that first import.  For any other
    name it returns None at once (one string comparison per new import).
    """

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "threadpoolctl":
            return None
        _remove_hook()
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_and_register(module: Any) -> None:
            exec_module(module)
            try:
                _register(module)
            except Exception:  # an odd threadpoolctl must not break its import
                pass

        try:
            loader.exec_module = exec_and_register
        except (AttributeError, TypeError):
            pass
        return spec


_hook: _RegisterOnImport | None = None


def _remove_hook() -> None:
    global _hook
    with _lock:
        if _hook is not None:
            try:
                sys.meta_path.remove(_hook)
            except ValueError:
                pass
            _hook = None


def _auto_register() -> None:
    """At ``import gilfree``: register now, or when threadpoolctl is imported."""
    global _hook
    if os.environ.get("GILFREE_THREADPOOLCTL", "1").strip() == "0":
        return
    tpc = sys.modules.get("threadpoolctl")
    if tpc is not None:
        try:
            _register(tpc)
        except Exception:
            pass
        return
    with _lock:
        if _hook is None:
            _hook = _RegisterOnImport()
            sys.meta_path.insert(0, _hook)
