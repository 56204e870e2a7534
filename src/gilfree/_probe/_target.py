"""The probe's target: ``MODULE:FUNCTION``, its arguments as a literal, and
one-line texts of calls, values and exceptions that never fail (standard
library only: :mod:`._measure` loads it by path under another Python).
"""

from __future__ import annotations

import ast
import importlib
from typing import Any


class ProbeUsageError(ValueError):
    """The target, its arguments or a setting are unusable (exit status 2)."""


class FunctionFailed(RuntimeError):
    """The probed function raised, or returned different values (exit status 1)."""


# ---------------------------------------------------------------------------
# the target: MODULE:FUNCTION and a literal
# ---------------------------------------------------------------------------


def resolve(spec: str):
    """Import ``MODULE:FUNCTION`` (dots allowed in both) the way ``python -m`` finds it.

    Raises :class:`ProbeUsageError` for a malformed spec, a missing module or
    attribute, or a non-callable; :class:`FunctionFailed` if importing the
    module raised something else (the module's own code failed).
    """
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ProbeUsageError(f"expected MODULE:FUNCTION (e.g. mymodule:work), got {spec!r}")
    modname, _, attr = spec.partition(":")
    if not modname or not attr or not all(p.isidentifier() for p in modname.split(".")) \
            or not all(p.isidentifier() for p in attr.split(".")):
        raise ProbeUsageError(f"expected MODULE:FUNCTION (e.g. mymodule:work), got {spec!r}")
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name and (modname == exc.name or modname.startswith(exc.name + ".")):
            raise ProbeUsageError(f"no module named {exc.name!r} (looked in the current "
                                  f"directory first, then sys.path)") from None
        raise FunctionFailed(f"importing {modname} raised ModuleNotFoundError: {exc}") from exc
    except SystemExit as exc:  # the module's own sys.exit(): not a probe to run
        raise FunctionFailed(f"importing {modname} called sys.exit({_text(exc.code, 60)})"
                             ) from exc
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise FunctionFailed(f"importing {modname} raised {_exc_text(exc)}") from exc
    obj: Any = mod
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ProbeUsageError(f"module {modname!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise ProbeUsageError(f"{spec} is a {type(obj).__name__}, not a callable")
    return obj


def parse_args(text):
    """The positional arguments from a Python literal: a tuple, or one value.

    ``ast.literal_eval`` only (never ``eval``): ``"(1, 'a')"`` gives
    ``(1, 'a')``, ``"1000"`` gives ``(1000,)``, ``None`` or ``""`` gives ``()``.
    """
    if text is None or not text.strip():
        return ()
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        why = "" if isinstance(exc, ValueError) else f" ({type(exc).__name__})"
        raise ProbeUsageError(f"--args must be a Python literal such as 1000, (1, 'a') or "
                              f"([1, 2], 3.5), got {text!r}{why}") from None
    return value if isinstance(value, tuple) else (value,)


def describe_call(fn, args) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if not isinstance(name, str):
        name = _short(fn, 60)
    text = ", ".join(_short(a, 30) for a in args)
    return f"{name}({text})"


def _short(obj, width: int = 60) -> str:
    """A repr of at most `width` characters that never fails and never
    builds the whole repr of a large container (``reprlib``)."""
    import reprlib

    r = reprlib.Repr()
    r.maxstring = r.maxother = r.maxlong = max(width, 10)
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = r.maxfrozenset = r.maxarray = 10
    try:
        text = r.repr(obj)
    except BaseException as exc:  # a broken __repr__, an int over 4300 digits
        if isinstance(exc, KeyboardInterrupt):
            raise
        text = f"<{type(obj).__name__}: repr failed: {_exc_text(exc, 60)}>"
    text = " ".join(text.split())  # one line
    return text if len(text) <= width else text[: width - 3] + "..."


def _text(obj, width: int = 300) -> str:
    """``str(obj)`` on one line, at most `width` characters, never failing."""
    try:
        text = str(obj)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        text = f"<{type(obj).__name__}: str() failed>"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _exc_text(exc: BaseException, width: int = 300) -> str:
    """``"TypeError: message"`` on one line (an exception's message may be
    anything: long, several lines, or a ``__str__`` that raises)."""
    msg = _text(exc, width)
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
