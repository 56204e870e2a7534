"""Showing a bench result: terminal summary, ``--detail``, HTML, JSON, plots, progress.

Every view is built from the result dict alone (what ``gilfree.bench.run``
returns and ``--json`` saves): :mod:`._views` turns it into blocks of text
and tables, :mod:`._text` prints them (rich when it is installed, else plain
aligned text), :mod:`._html` writes them as one self-contained page with
the plots of :mod:`._plots` inline.  Nothing here measures anything, so a
saved run renders the same later (``gilfree bench --from r.json``).

Files are written to a temporary name beside the target and renamed, so an
error or Ctrl-C never leaves half a report.
"""

from __future__ import annotations

import json
import math
import os
import sys

from .._timing import _files
from . import _html, _plots, _schema, _text, _views
from ._analysis import derive
from ._engine import Progress
from ._plots import PLOT_HINT, PlotUnavailable
from ._blocks import fmt_ms, fmt_rate, fmt_spread, fmt_time, fmt_x  # noqa: F401
from ._tables import (detail_columns as table_columns, detail_legend as table_legend,  # noqa: F401
                      skipped_strategies)
from ._views import header_lines  # noqa: F401

__all__ = ["PlotUnavailable", "ReportError", "html_report", "load_json", "make_progress",
           "render", "render_compare", "write_compare_html", "write_html", "write_json",
           "write_plots"]

#: Where ``gilfree bench`` writes its HTML report unless told otherwise.
DEFAULT_HTML = "gilfree-bench.html"


class ReportError(ValueError):
    """A file cannot be read as a bench result, or a report cannot be written."""


def have_rich() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def have_matplotlib() -> bool:
    return _plots.have_matplotlib()


# ---------------------------------------------------------------------------
# the terminal
# ---------------------------------------------------------------------------


def render(result: dict, file=None, use_rich: bool | None = None, detail: bool = False) -> None:
    """Print the one-screen summary, or with `detail` every table.

    Parameters
    ----------
    result : dict
        From ``gilfree.bench.run`` (or :func:`load_json`).
    file : file, optional
        Where to print (default ``sys.stdout``).
    use_rich : bool, optional
        Force rich on or off; default: rich if installed.
    detail : bool, optional
        The full header and one row per strategy, size and dtype.
    """
    file = sys.stdout if file is None else file
    if use_rich is None:
        use_rich = have_rich()
    blocks = _views.detail_blocks(result) if detail else _views.summary_blocks(result)
    _text.print_blocks(blocks, file, use_rich)


def render_compare(cmp: dict, file=None, use_rich: bool | None = None,
                   detail: bool = False) -> None:
    """Print two runs side by side (from ``_compare.compare``)."""
    file = sys.stdout if file is None else file
    if use_rich is None:
        use_rich = have_rich()
    _text.print_blocks(_views.compare_blocks(cmp, detail=detail), file, use_rich)


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------


def _check_writable(path: str, what: str) -> None:
    _files.check_writable(path, what, ReportError)


def check_writable(path: str, what: str) -> None:
    """Raise :class:`ReportError` naming `what` unless `path` can be written."""
    _check_writable(path, what)


def _write_atomic(path: str, text, what: str) -> str:
    """Write `text` (str, or bytes) to a temporary file beside `path`, then
    rename it over (:func:`gilfree._timing._files.write_atomic`)."""
    return _files.write_atomic(path, text, what, ReportError)


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def write_json(result: dict, path: str) -> str:
    """Write `result` as JSON (NaN and inf become null); return the path."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    text = json.dumps(_clean(result), indent=1, allow_nan=False) + "\n"
    return _write_atomic(path, text, "--json")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number (a saved run writes null for it)")


def load_json(path: str, what: str = "--from") -> dict:
    """Read a saved run, check it, and derive its figures again (as a run does).

    The whole file is checked once, here (:mod:`._schema`): every field a
    report reads must be there with the right type and a finite value, so a
    file that loads renders.

    Raises
    ------
    ReportError
        If the file is missing or unreadable, is not UTF-8 JSON (``NaN`` and
        ``Infinity`` included), or is not a bench result of this schema
        version (a field missing, null, of the wrong type, not finite, or
        nested too deeply); the message names `what`, the file and the
        field at fault.
    """
    source = f"{what}: {path!r}"
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ReportError(f"{what}: cannot read {path!r}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportError(f"{source} is not JSON (not UTF-8 text: byte {exc.start} is "
                          f"{raw[exc.start]:#04x})") from None
    if not text.strip():
        raise ReportError(f"{source} is not JSON (the file is empty)")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ReportError(f"{source} is not a gilfree bench result (nested deeper than "
                          f"{_schema.MAX_DEPTH} levels)") from None
    except ValueError as exc:
        raise ReportError(f"{source} is not JSON ({exc})") from None
    why = _schema.problem(data)
    if why:
        raise ReportError(f"{source}: {why}")
    try:
        derive(data)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        # a field the check above does not cover yet: still one line, no traceback
        raise ReportError(f"{source} is not a complete bench result "
                          f"({type(exc).__name__}: {exc})") from exc
    return data


def write_plots(result: dict, outdir: str, what: str = "--plot") -> list:
    """Write speedup.png, throughput.png and heartbeat.png into `outdir`
    (created if missing; each file atomically); return the paths written.

    A figure with nothing to draw (no heartbeat, say) is not written.

    Raises
    ------
    PlotUnavailable
        If matplotlib is not installed.
    ReportError
        If `outdir` cannot be written; the message names `what`.
    """
    if not have_matplotlib():
        raise PlotUnavailable(PLOT_HINT)
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"{what}: cannot create {outdir!r}: {exc.strerror or exc}") from exc
    paths = []
    for name in _plots.FIGURES:
        png = _plots.figure_png(result, name)
        if png is not None:
            paths.append(_write_atomic(os.path.join(outdir, f"{name}.png"), png, what))
    return paths


def _figures(result: dict) -> dict:
    if not have_matplotlib():
        raise PlotUnavailable(PLOT_HINT)
    return {name: _plots.figure_png(result, name) for name in _plots.FIGURES}


def html_report(result: dict) -> str:
    """The HTML report of one run, as a string (needs matplotlib for the plots)."""
    h = result["header"]
    title = f"gilfree bench: {h['cpu_model']}, {h['usable_cpus']} CPUs"
    sub = [_views.machine_line(result) + f"; gilfree {h['gilfree']}, NumPy {h['numpy']}",
           f"{result['settings']['mode']} run, {h.get('date_utc', '?')} UTC, "
           f"{fmt_time(result.get('elapsed_s'))}"]
    return _html.page(title, sub, _views.report_blocks(result), _figures(result))


def compare_html(cmp: dict) -> str:
    """The HTML page of two runs side by side."""
    na, nb = cmp["names"]
    return _html.page(f"gilfree bench: {na} vs {nb}", [],
                      _views.compare_blocks(cmp, detail=True), {})


def write_html(result: dict, path: str, what: str = "--html") -> str:
    """Write the HTML report of `result` to `path` (atomically); return the path."""
    _check_writable(path, what)
    return _write_atomic(path, html_report(result), what)


def write_compare_html(cmp: dict, path: str, what: str = "--html") -> str:
    """Write the HTML page of two runs side by side (from :func:`compare
    <gilfree.bench._compare.compare>`) to `path` (atomically); return the path."""
    _check_writable(path, what)
    return _write_atomic(path, compare_html(cmp), what)


# ---------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------


class _LineProgress(Progress):
    """One rewritten status line on a terminal; nothing when piped."""

    def __init__(self, stream):
        self.stream = stream
        self.total = 1
        self.done = 0
        self.tty = stream.isatty()

    def start(self, total: int) -> None:
        self.total = max(1, total)

    def update(self, what: str, advance: int = 0) -> None:
        self.done += advance
        if self.tty:
            pct = min(100, 100 * self.done // self.total)
            self.stream.write(f"\r\033[K[{pct:3d}%] {what}"[:200])
            self.stream.flush()

    def log(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()

    def stop(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


class _RichProgress(Progress):
    def __init__(self, stream):
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RP

        self.console = Console(file=stream)
        self.bar = RP(TextColumn("{task.percentage:>3.0f}%"), BarColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=self.console, transient=True)
        self.task = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("starting", total=max(1, total))

    def update(self, what: str, advance: int = 0) -> None:
        self.bar.update(self.task, description=what, advance=advance)

    def log(self, text: str) -> None:
        self.console.print(text, markup=False)

    def stop(self) -> None:
        self.bar.stop()


def make_progress(enabled: bool = True, stream=None) -> Progress:
    """A progress display on `stream` (stderr): rich's bar, else a status line."""
    stream = sys.stderr if stream is None else stream
    if not enabled:
        return Progress()
    if have_rich() and stream.isatty():
        return _RichProgress(stream)
    return _LineProgress(stream)
