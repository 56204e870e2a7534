"""The report vocabulary: block types and number formats.

A view (bench or probe) is a list of these blocks; :mod:`._text` prints them,
:mod:`._html` writes them.  Every number a person reads goes through one of
the ``fmt_*`` helpers (``16 ms``, ``12.3x``; never ``1.6e+01``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Bars", "Claims", "Figure", "Lines", "Table", "Timelines", "finite", "fmt_gbps",
           "fmt_ms", "fmt_p", "fmt_pct", "fmt_rate", "fmt_spread", "fmt_time", "fmt_x"]


# ---------------------------------------------------------------------------
# blocks
# ---------------------------------------------------------------------------


@dataclass
class Lines:
    """Lines of text; `style` is a hint (``dim``, ``bold``, ``error``)."""

    lines: list
    style: str | None = None
    title: str | None = None


@dataclass
class Claims:
    """The three claims: ``(status, claim, evidence)`` per item; status is
    ``holds``, ``fails`` or ``unknown``."""

    title: str
    items: list
    notes: list = field(default_factory=list)


@dataclass
class Table:
    """A table: the first `text_cols` columns are text, the rest figures."""

    title: str
    columns: list
    rows: list
    notes: list = field(default_factory=list)
    caption: str | None = None
    text_cols: int = 1
    row_styles: list = field(default_factory=list)  # per row: None, good, bad, dim
    sections: list = field(default_factory=list)  # row indexes that start a group


@dataclass
class Bars:
    """A horizontal bar chart: ``(label, value, text, style)`` per bar; `marks`
    are ``(value, name)`` reference values (the ideal speedup)."""

    title: str
    items: list
    marks: list = field(default_factory=list)
    caption: str | None = None


@dataclass
class Timelines:
    """Who ran when: ``(strategy, overlap, threads, span)`` per panel
    (``threads`` as in the JSON: ``[{"name", "running"}]``); `notes` says
    how they were taken, `reason` why there are none."""

    title: str
    panels: list
    notes: list = field(default_factory=list)
    reason: str | None = None


@dataclass
class Figure:
    """A plot (HTML only): `name` is one of :data:`._plots.FIGURES`."""

    name: str
    caption: str


# ---------------------------------------------------------------------------
# numbers for people
# ---------------------------------------------------------------------------


def finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def fmt_time(seconds) -> str:
    """``12.3 ms``: three significant digits in the best unit."""
    if not finite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            v = seconds / scale
            return f"{v:.3g} {unit}" if v < 1000 else f"{v:,.0f} {unit}"
    return "-"  # unreachable


def fmt_ms(ms) -> str:
    """A duration given in milliseconds: ``16 ms``, ``0.12 ms``, ``1.3 s``."""
    if not finite(ms):
        return "-"
    if ms >= 1000:
        return fmt_time(ms / 1e3)
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.2g} ms" if ms >= 0.01 else "0 ms"


def fmt_spread(p: dict) -> str:
    """Median and half the interquartile range in percent: ``12.3 ms ±2%``."""
    t = fmt_time(p["median"])
    if p["median"] > 0 and p.get("q3") is not None:
        half_iqr = (p["q3"] - p["q1"]) / 2 / p["median"]
        t += f" ±{half_iqr:.0%}"
    return t


def fmt_x(v) -> str:
    """A ratio: ``0.94x``, ``12.3x``, ``288x``, ``1,234x``."""
    if not finite(v):
        return "-"
    if v < 0.1:
        return f"{v:.2g}x" if v >= 0.001 else "<0.001x"
    return f"{v:.2f}x" if v < 10 else f"{v:.3g}x" if v < 1000 else f"{v:,.0f}x"


def fmt_pct(v) -> str:
    return "-" if not finite(v) else f"{v:.0%}"


def fmt_rate(v, unit: str) -> str:
    if not finite(v):
        return "-"
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g} {prefix}{unit}"
    return f"{v:.3g} {unit}"


def fmt_gbps(v) -> str:
    return "-" if not finite(v) else f"{v:.3g} GB/s" if v < 1000 else f"{v:,.0f} GB/s"


def fmt_p(p) -> str:
    if not finite(p):
        return "-"
    return f"p={p:.2g}" if p >= 0.001 else "p<0.001"
