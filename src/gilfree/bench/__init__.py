"""``gilfree bench``: what releasing the GIL buys, next to every other way.

Run it from the command line (``gilfree bench --help``) or from Python:

>>> from gilfree import bench
>>> settings = bench.Settings.preset("tiny")          # doctest: +SKIP
>>> result = bench.run(settings)                      # doctest: +SKIP
>>> bench.render(result)                              # doctest: +SKIP

Modules
-------
_cases
    Workloads, their data (in shared memory when processes need it) and the
    check of every result against the exact value.
_strategy
    The strategy interface and its three common shapes.
_python, _numpy, _gilfree, _processes, _foreign, _peers
    One module per family of strategies.
_engine
    Settings, machine header, bandwidth measurement, the measurement loop.
_analysis
    Derived figures, per-kind ceilings and the three claims, from the data.
_views, _text, _html, _plots, _compare
    What a report shows (blocks), printed on a terminal, written as HTML,
    plotted with matplotlib; two runs side by side.
_report
    The rendering entry points: summary, ``--detail``, HTML, JSON,
    ``--from``, ``--compare``, progress bar.
_schema
    The layout of a saved run, checked once when a file is read.
_cli
    ``gilfree bench``: its options, checked before anything is measured.

The names below are what the command line, the recording scripts and the
probe use: its reports (the same blocks, renderers and number formats) and
its worker processes (``ProcessPools``, ``timed_payload``).
"""

from __future__ import annotations

from ._analysis import pick
from ._cases import WORKLOADS, format_n
from ._compare import compare
from ._dask import ARRAY_PIECE as DASK_ARRAY_PIECE
from ._dask import dask_pieces, dask_views, warm_dask
from ._engine import SCHEMA, Progress, Settings, measure_bandwidth, machine_header, run
from ._registry import NAMES as STRATEGIES
from ._report import (PlotUnavailable, ReportError, load_json, make_progress, render,
                      render_compare, write_compare_html, write_html, write_json, write_plots)
from ._html import fragment as html_fragment
from ._html import page as html_page
from ._processes import ProcessPools, timed_payload
from ._text import print_blocks
from ._blocks import Bars, Lines, Table, Timelines, fmt_pct, fmt_time, fmt_x
from ._views import header_lines

__all__ = [
    "SCHEMA",
    "DASK_ARRAY_PIECE",
    "dask_pieces",
    "dask_views",
    "warm_dask",
    "Bars",
    "Lines",
    "Timelines",
    "Table",
    "STRATEGIES",
    "WORKLOADS",
    "PlotUnavailable",
    "ProcessPools",
    "Progress",
    "ReportError",
    "Settings",
    "measure_bandwidth",
    "compare",
    "fmt_pct",
    "fmt_time",
    "fmt_x",
    "format_n",
    "header_lines",
    "html_fragment",
    "html_page",
    "load_json",
    "machine_header",
    "make_progress",
    "pick",
    "print_blocks",
    "timed_payload",
    "render",
    "render_compare",
    "run",
    "write_compare_html",
    "write_html",
    "write_json",
    "write_plots",
]
