"""Command-line pieces shared by ``gilfree bench`` and ``gilfree probe``.

Argument types for argparse that parse *and bound* a value before computing
anything from it (``10**99999999`` is refused from the length of its
exponent, ``1e400`` and ``nan`` from the float), the check that an output
path can be written, made before anything is measured, and SIGTERM handled
as Ctrl-C.  A bad value raises ``argparse.ArgumentTypeError``, which argparse
prints as one line naming the option, with exit status 2.
"""

from __future__ import annotations

import argparse
import math
import re
import signal
from decimal import Decimal, InvalidOperation

from ._files import output_problem  # the one path check, re-exported for the commands

__all__ = ["MAX_INT", "MAX_SECONDS", "int_at_least", "ints", "nonneg_float", "one_int",
           "output_problem", "positive_float", "term_as_interrupt"]

#: The largest whole number an option takes (sizes, counts).
MAX_INT = 2**62
#: The longest duration an option takes, in seconds: one day.
MAX_SECONDS = 86400.0

#: More digits than any value up to MAX_INT has (19), with room for zeros.
_MAX_DIGITS = 40
_DIGITS = re.compile(r"[+-]?[0-9](?:_?[0-9])*")


def _seconds(text: str, want: str, ok) -> float:
    if len(text) > _MAX_DIGITS:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text[:20]!r}...")
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got {text}")
    if not ok(v):
        raise argparse.ArgumentTypeError(f"expected {want}, got {text}")
    if v > MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"expected at most {MAX_SECONDS:g} seconds (a day), got {text}")
    return v


def positive_float(text: str) -> float:
    """A number of seconds > 0 (and at most :data:`MAX_SECONDS`)."""
    return _seconds(text, "a positive number of seconds", lambda v: v > 0)


def nonneg_float(text: str) -> float:
    """A number of seconds >= 0 (and at most :data:`MAX_SECONDS`); 0 means off."""
    return _seconds(text, "a number of seconds >= 0", lambda v: v >= 0)


def int_at_least(low: int, high: int = MAX_INT):
    """An argument type: one whole number in ``[low, high]``."""
    def parse(text: str) -> int:
        t = text.strip()
        if not _DIGITS.fullmatch(t):
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
        if len(t) > _MAX_DIGITS:
            raise argparse.ArgumentTypeError(f"expected a whole number <= {high}, got "
                                             f"{t[:20]}... ({len(t)} digits)")
        v = int(t)
        if v < low:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {low}, got {v}")
        if v > high:
            raise argparse.ArgumentTypeError(f"expected a whole number <= {high}, got {v}")
        return v
    return parse


def _whole(part: str, high: int):
    """`part` (``1000``, ``1e6``, ``10**6``, ``10^6``, ``1_000``) as an int, or
    None if it is no whole number; anything above `high` gives ``high + 1``,
    decided before the value is computed."""
    if "**" in part or "^" in part:
        base_text, _, exp_text = part.replace("^", "**").partition("**")
        if not (_DIGITS.fullmatch(base_text) and _DIGITS.fullmatch(exp_text)):
            return None
        if len(base_text) > _MAX_DIGITS or len(exp_text) > _MAX_DIGITS:
            return high + 1
        base, exp = int(base_text), int(exp_text)
        if exp < 0:
            return None  # a fraction
        if abs(base) > 1 and exp * math.log2(abs(base)) > math.log2(high) + 1:
            return high + 1  # the power is not computed
        return base ** exp
    if not any(c in part for c in "eE."):
        if not _DIGITS.fullmatch(part):
            return None
        return high + 1 if len(part) > _MAX_DIGITS else int(part)
    if len(part) > 2 * _MAX_DIGITS:
        return None
    try:
        d = Decimal(part)
    except InvalidOperation:
        return None
    if not d.is_finite() or d != d.to_integral_value():
        return None
    if d.adjusted() > len(str(high)):  # more digits than `high` has: too large
        return high + 1 if d > 0 else -(high + 1)
    return int(d)


def ints(text: str, what: str, minimum: int = 1, maximum: int = MAX_INT) -> list:
    """``"1,2,4"`` -> ``[1, 2, 4]``; also ``1e6``, ``10**6``, ``10^6``, ``1_000``.

    Each value must lie in ``[minimum, maximum]``; a value is bounded before
    it is computed, so ``10**99999999`` or ``1e400`` is refused at once.
    """
    out = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        value = _whole(part, maximum)
        if value is None:
            shown = part if len(part) <= 40 else part[:20] + "..."
            raise argparse.ArgumentTypeError(
                f"{what} must be whole numbers like 1000, 1e6 or 10**6, got {shown!r}")
        if value < minimum:
            shown = value if abs(value) <= maximum else part[:20]
            raise argparse.ArgumentTypeError(f"{what} must be >= {minimum}, got {shown}")
        if value > maximum:
            bound = "2**62" if maximum == MAX_INT else str(maximum)
            shown = part if len(part) <= 40 else part[:20] + "..."
            raise argparse.ArgumentTypeError(f"{what} must be <= {bound}, got {shown}")
        out.append(value)
    if not out:
        raise argparse.ArgumentTypeError(f"{what}: no value given")
    return out


def one_int(what: str, minimum: int = 1, maximum: int = MAX_INT):
    """An argument type: one whole number in ``[minimum, maximum]``, written
    as :func:`ints` takes it (``7``, ``1e3``, ``10**3``)."""
    def parse(text: str) -> int:
        values = ints(text, what, minimum, maximum)
        if len(values) > 1:
            raise argparse.ArgumentTypeError(f"{what} takes one number, got {text!r}")
        return values[0]
    return parse


def term_as_interrupt():
    """Make SIGTERM (``kill``, a job timeout) stop the command like Ctrl-C, so
    its threads, process pools and shared memory are released: a killed
    parent would leave pool workers waiting forever on a queue they hold both
    ends of.  Returns the previous handler, or None where it cannot be set
    (not the main thread)."""
    def on_term(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread
        return None
