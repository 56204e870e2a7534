"""The rules gilfree applies on every path, each written once.

Argument rules for ranges (what a bound may be, how long a range may be),
the ``overflow=`` modes, and the wording of every error they raise.  Which
element of a ``square`` overflowed is found in C by ``gf_first_overflow``
(the kernels' own test, csrc/gf_kernels.c); the message is made here.  The
compiled modules (``_core`` for NumPy arrays, ``_buffer`` for buffers),
:mod:`gilfree.dask` and the slow twin :mod:`gilfree._reference` all raise
through these functions, so their messages cannot drift apart.  (The slow
twin keeps its own arithmetic: it is the oracle the tests compare with.)

Pure Python with no NumPy: ``_buffer`` uses it in subinterpreters.
"""

from __future__ import annotations

import operator

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


# ------------------------------------------------------------------ ranges
def int64_arg(value, name: str) -> int:
    """`value` as an int in the int64 range, or TypeError/ValueError naming `name`."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__} {value!r}")
    v = operator.index(value)
    if not (INT64_MIN <= v <= INT64_MAX):
        raise ValueError(f"`{name}` must fit in int64 ([-2**63, 2**63 - 1]), got {v}")
    return v


def range_args(start, stop=None, step=1) -> tuple[int, int, int]:
    """``(start, stop, step)`` normalised like ``range``'s, each checked."""
    if stop is None:
        start, stop = 0, int64_arg(start, "start")
    else:
        start, stop = int64_arg(start, "start"), int64_arg(stop, "stop")
    step = int64_arg(step, "step")
    if step == 0:
        raise ValueError("`step` must not be zero")
    return start, stop, step


def range_length(start, stop=None, step=1) -> int:
    """``len(range(start, stop, step))`` with every argument checked, or the
    ValueError of :func:`range_too_long` beyond 2**63 - 1 terms (where
    ``len(range(...))`` itself fails with an unrelated OverflowError)."""
    start, stop, step = range_args(start, stop, step)
    n = max(0, (stop - start + step - (1 if step > 0 else -1)) // step)
    if n > INT64_MAX:
        raise range_too_long(start, stop, step, n)
    return n


def range_too_long(start: int, stop: int, step: int, n: int) -> ValueError:
    """The error for a range of more than 2**63 - 1 elements."""
    return ValueError(f"range({start}, {stop}, {step}) has {n} elements; "
                      "at most 2**63 - 1 are supported")


# ---------------------------------------------------------------- overflow
def overflow_mode(overflow) -> bool:
    """True for overflow='raise', False for 'wrap', else ValueError naming it."""
    if isinstance(overflow, str) and overflow == "wrap":
        return False
    if isinstance(overflow, str) and overflow == "raise":
        return True
    raise ValueError(f"`overflow` must be 'wrap' or 'raise', got {overflow!r}")


# -------------------------------------------------------------------- SIMD
def simd_choice(raw: str, supported: dict, best: str) -> tuple[str, str, str | None]:
    """The SIMD level every kernel path runs: ``(name, reason, warning)``.

    `raw` is ``GILFREE_SIMD`` as set (empty: not set); `supported` maps each
    level compiled into the build to whether the CPU runs it; `best` is the
    best such level.  `warning` is the text to warn with when `raw` names no
    usable level (the best one is used then), else None.
    """
    raw = raw.strip().lower()
    if not raw:
        return best, "best level this CPU supports", None
    if not supported.get(raw, False):
        ok = [name for name, yes in supported.items() if yes]
        return (best, "best level this CPU supports (GILFREE_SIMD was invalid)",
                f"ignoring GILFREE_SIMD={raw!r}: this build and CPU support {ok}")
    return raw, "forced by GILFREE_SIMD", None


def square_overflow(index, value, dtype_name: str) -> OverflowError:
    """The error `square(..., overflow='raise')` raises.

    `index` is an int (1-D), a tuple (n-D) or None (0-d); `value` is the
    input element as a Python number.
    """
    if isinstance(value, int):
        v = value
        detail = f"{v}**2 = {v * v} does not fit in {dtype_name}"
    else:
        detail = f"{value!r}**2 is not finite in {dtype_name}"
    where = "" if index is None else f" at index {index}"
    return OverflowError(f"square overflows{where}: {detail} (overflow='raise'; "
                         "use overflow='wrap' for NumPy's wrapping)")
