"""``gilfree bench``: the command line of :mod:`gilfree.bench`.

Bad arguments print one line naming the option to stderr and exit with
status 2, as argparse does; every output path (``--json``, ``--html``,
``--plot`` and the default HTML report) is checked before anything is
measured, so a run of minutes never ends in a file that cannot be written.
Exit status: 0, 1 when a strategy gave a wrong result, 2 for a bad argument,
an unreadable saved run or a report that could not be written, 130 when
interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys

import gilfree.bench as bench  # looked up at each call: tests replace bench.run
from gilfree._timing._cli import (ints, nonneg_float, one_int, output_problem, positive_float,
                                  term_as_interrupt)

from . import _report
from ._registry import FULL_ONLY

__all__ = ["PROG", "build_parser", "main"]

PROG = "gilfree bench"

#: At most this many workers (threads or processes) per row.
MAX_WORKERS = 1024
#: At most this many timed values per point.
MAX_REPEATS = 10_000


def names(choices, what: str):
    """An argument type: comma-separated names, each one of `choices`."""
    def parse(text: str) -> list:
        picked = [n.strip() for n in text.split(",") if n.strip()]
        bad = [n for n in picked if n not in choices]
        if bad or not picked:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, bad)) or '(none given)'}; "
                f"choose from: {', '.join(choices)}")
        return picked
    return parse


def python_path(text: str) -> str:
    """An argument type: an executable Python, or a bare name not on PATH
    (a missing interpreter, which the bench skips with a line)."""
    path = shutil.which(text) or text
    if not os.path.dirname(text) and path == text and not os.path.exists(text):
        return text
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise argparse.ArgumentTypeError(f"no executable Python at {text!r}")
    return path


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The ``gilfree bench`` argument parser."""
    b = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Time the same work (range, map, reduce) done by pure Python, threads,\n"
                    "processes, NumPy, gilfree with and without the GIL, and the machine's\n"
                    "ceiling; every result is checked before it is timed.",
        epilog="examples:\n"
               "  gilfree bench                               # quick: one screen and "
               "gilfree-bench.html\n"
               "  gilfree bench --detail                      # every table\n"
               "  gilfree bench --full --json out.json --plot plots/\n"
               "  gilfree bench --from out.json --html out.html  # re-render, no measuring\n"
               "  gilfree bench --compare gil.json ft.json --html cmp.html\n"
               "  gilfree bench --strategies python-threads,gilfree,ceiling --workloads range\n"
               "  gilfree bench --python /usr/bin/python3.13t  # add free-threaded rows")
    mode = b.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="two sizes per workload, 7 repeats: about 35 s on 2 cores (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="all sizes 10^3..10^9, more repeats (about 10-20 minutes)")
    b.set_defaults(mode="quick")
    b.add_argument("--strategies", type=names(bench.STRATEGIES, "strategy"), metavar="S,...",
                   help=f"strategies to run (default all; the quick run leaves out "
                        f"{', '.join(FULL_ONLY)}): {', '.join(bench.STRATEGIES)}")
    b.add_argument("--workloads", type=names(tuple(bench.WORKLOADS), "workload"), metavar="W,...",
                   help="workloads to run: range, map, reduce (default all)")
    b.add_argument("--sizes", type=lambda t: ints(t, "--sizes"), metavar="N,...",
                   help="sizes for every selected workload, e.g. 1e4,1e6 (at most 2**62)")
    b.add_argument("--dtypes", type=names(("float64", "int64"), "dtype"), metavar="D,...",
                   help="dtypes of the map and reduce arrays: float64, int64")
    b.add_argument("--workers", type=lambda t: ints(t, "--workers", maximum=MAX_WORKERS),
                   metavar="N,...",
                   help="worker counts, e.g. 1,2,4 (1 is always added: speedups are "
                        f"relative to it; at most {MAX_WORKERS})")
    b.add_argument("--repeats", type=one_int("--repeats", maximum=MAX_REPEATS),
                   metavar="R",
                   help="timed values per point (median and quartiles over them)")
    b.add_argument("--min-time", type=positive_float, metavar="SECONDS",
                   help="calibration target for one timed value")
    b.add_argument("--max-call", type=positive_float, metavar="SECONDS",
                   help="skip points whose single call would take longer")
    b.add_argument("--heartbeat", type=nonneg_float, metavar="SECONDS",
                   help="seconds of the GIL-starvation heartbeat per strategy (0: off)")
    b.add_argument("--python", action="append", type=python_path, default=[],
                   metavar="PATH", help="also run the pure-Python rows under this "
                                        "interpreter (repeatable; e.g. jython, pypy3; "
                                        "a name not on PATH is skipped with a line)")
    b.add_argument("--json", metavar="PATH", help="write every figure and the header as JSON")
    b.add_argument("--plot", metavar="DIR", help="write speedup, throughput and heartbeat "
                                                 "PNGs (needs matplotlib)")
    b.add_argument("--html", metavar="PATH",
                   help="write the self-contained HTML report here (default for a run: "
                        "./gilfree-bench.html; needs matplotlib)")
    b.add_argument("--no-html", action="store_true", help="write no HTML report")
    b.add_argument("--detail", action="store_true",
                   help="print every table (each size, dtype and worker count), not the "
                        "one-screen summary")
    saved = b.add_mutually_exclusive_group()
    saved.add_argument("--from", dest="from_json", metavar="JSON",
                       help="render a saved run (--json) instead of measuring")
    saved.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"),
                       help="two saved runs side by side, with ratios and significance")
    b.add_argument("--plain", action="store_true", help="plain-text table even if rich is "
                                                        "installed")
    b.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    b.add_argument("--list", action="store_true",
                   help="list the strategies and whether they can run here, then exit")
    return b


def settings_from(args):
    """The :class:`gilfree.bench.Settings` the parsed `args` ask for."""
    from dataclasses import replace

    s = bench.Settings.preset(args.mode)
    changes = {}
    if args.strategies:
        changes["strategies"] = tuple(args.strategies)
    if args.workloads:
        changes["workloads"] = tuple(args.workloads)
    if args.sizes:
        changes["sizes"] = {w: tuple(args.sizes) for w in ("range", "map", "reduce")}
        changes["python_sizes"] = {}  # sizes asked for: every row runs them (within --max-call)
    if args.dtypes:
        changes["dtypes"] = {w: tuple(args.dtypes) for w in ("map", "reduce")}
    if args.workers:
        changes["workers"] = tuple(args.workers)
    if args.repeats:
        changes["repeats"] = args.repeats
    if args.min_time:
        changes["min_time"] = args.min_time
    if args.max_call:
        changes["max_call"] = args.max_call
    if args.heartbeat is not None:
        changes["heartbeat_time"] = max(0.0, args.heartbeat)
    if args.python:
        changes["pythons"] = tuple(args.python)
    return replace(s, **changes)


def _list_strategies(out) -> None:
    from ._registry import make_strategies

    for s in make_strategies():
        why = s.skip_reason()
        out.write(f"{s.name:17s} {'ok  ' if why is None else 'skip'}  {s.summary}\n")
        if why:
            out.write(f"{'':23s}({why})\n")


def _same(a: str, b: str) -> bool:
    a, b = os.path.realpath(a), os.path.realpath(b)
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(args, html_path) -> str | None:
    """Why an output of this command line cannot be written, or None.

    Checked before anything is measured or rendered: ``--plot`` and an HTML
    report need matplotlib; ``--json`` and the HTML report (``--html`` or the
    default) need a file name in a folder that exists and can be written;
    ``--plot`` a folder that can be written (or created in one); no two
    outputs may be the same file, and no output may be a saved run read by
    ``--from`` or ``--compare``.
    """
    if args.html and args.no_html:
        return "--html: not allowed with --no-html"
    if args.compare:
        extra = [flag for flag, v in (("--json", args.json), ("--plot", args.plot)) if v]
        if extra:
            return (f"{extra[0]}: --compare writes only an HTML report (--html); "
                    f"{' and '.join(extra)} apply to one run")
    if (args.plot or args.html) and not _report.have_matplotlib():
        return f"{'--plot' if args.plot else '--html'}: {_report.PLOT_HINT}"
    outputs = []  # (option, path)
    for flag, path in (("--json", args.json), ("--html", args.html)):
        if path is not None:
            why = output_problem(path)
            if why:
                return f"{flag}: {why}"
            outputs.append((flag, path))
    if html_path and not args.html:
        outputs.append(("the default HTML report", html_path))
    if args.plot is not None:
        why = output_problem(args.plot, folder=True)
        if why:
            return f"--plot: {why}"
        from ._plots import FIGURES

        for name in FIGURES:
            path = os.path.join(args.plot, f"{name}.png")
            if os.path.isdir(path):
                return f"--plot: {path!r} is a folder, expected room for a PNG file"
            outputs.append(("--plot", path))
    inputs = [("--from", args.from_json)] if args.from_json else []
    inputs += [("--compare", p) for p in args.compare or ()]
    for i, (flag, path) in enumerate(outputs):
        for other, opath in outputs[:i]:
            if _same(path, opath):
                if not flag.startswith("--"):  # name an option the user gave first
                    flag, other = other, f"{flag} (change it with --html PATH or --no-html)"
                return f"{flag}: {path!r} is also the file of {other}"
        for other, ipath in inputs:
            if _same(path, ipath):
                return f"{flag}: {path!r} is the saved run read by {other}; write elsewhere"
    return None


def main(argv=None) -> int:
    """Run ``gilfree bench``; returns the exit status (argparse exits with 2
    itself on a bad argument)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        _list_strategies(sys.stdout)
        return 0
    if args.from_json or args.compare:
        return _saved(parser, args)
    html_path, no_default = args.html, None
    if html_path is None and not args.no_html:
        html_path, no_default = _default_html()
    problem = check_outputs(args, html_path)
    if problem:
        parser.error(problem)
    if no_default:
        print(f"{PROG}: {no_default}", file=sys.stderr)
    for path in args.python:
        from ._foreign import ForeignError, missing_reason, describe_python

        try:
            if missing_reason(path):
                continue  # not installed: the bench prints a skip line for it
            describe_python(path)
        except ForeignError as exc:
            parser.error(f"--python: {exc}")
    settings = settings_from(args)
    progress = bench.make_progress(enabled=not args.no_progress)
    old_term = term_as_interrupt()
    try:
        result = bench.run(settings, progress)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted (pools stopped, shared memory released; "
              "no report written)", file=sys.stderr)
        return 130
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return _show(result, args, html_path)


def _default_html() -> tuple:
    """``(path, None)``: ./gilfree-bench.html; or ``(None, why not)`` where it
    cannot be written (said once the options are known to be good)."""
    if not _report.have_matplotlib():
        return None, f"no HTML report ({_report.PLOT_HINT})"
    path = _report.DEFAULT_HTML
    why = output_problem(path)
    if why:
        return None, f"no HTML report (HTML report: {why}); use --html PATH"
    return path, None


def _show(result, args, html_path) -> int:
    """Print the summary (or every table), write the files asked for.

    Each file is written on its own: one that fails (a disk that filled up
    during the run) is reported and the others are still written.
    """
    bench.render(result, use_rich=False if args.plain else None, detail=args.detail)
    unwritten = 0
    for asked, write in ((args.json, _write_json), (html_path, _write_html),
                         (args.plot, _write_plots)):
        if asked:
            try:
                write(result, asked)
            except _report.ReportError as exc:
                print(f"{PROG}: error: {exc}", file=sys.stderr)
                unwritten += 1
    if unwritten:
        return 2
    if not args.detail and args.from_json:
        print(f"every table: gilfree bench --from {args.from_json} --detail")
    elif not args.detail:
        print("every table: gilfree bench --detail (or --full for all sizes, about 10-20 "
              "minutes)" + ("" if args.json else "; save the run with --json PATH"))
    failed = [p for p in result["points"] if p["status"] == "failed"]
    if failed:
        print(f"{PROG}: {len(failed)} point(s) gave a wrong result (see FAILED above)",
              file=sys.stderr)
        return 1
    return 0


def _write_json(result, path) -> None:
    bench.write_json(result, path)
    print(f"wrote {path}")


def _write_html(result, path) -> None:
    bench.write_html(result, path)
    print(f"report: {os.path.abspath(path)}")


def _write_plots(result, folder) -> None:
    for path in _report.write_plots(result, folder, "--plot"):
        print(f"wrote {path}")


def _saved(parser, args) -> int:
    """--from and --compare: render saved runs, measure nothing."""
    measuring = [f for f, v in (("--strategies", args.strategies), ("--workloads", args.workloads),
                                ("--sizes", args.sizes), ("--dtypes", args.dtypes),
                                ("--workers", args.workers), ("--repeats", args.repeats),
                                ("--min-time", args.min_time), ("--max-call", args.max_call),
                                ("--heartbeat", args.heartbeat), ("--python", args.python))
                 if v not in (None, [])]
    what = "--from" if args.from_json else "--compare"
    if measuring:
        parser.error(f"{what}: renders a saved run; {', '.join(measuring)} only apply "
                     f"to a new run")
    problem = check_outputs(args, args.html)
    if problem:
        parser.error(problem)
    try:
        if args.from_json:
            result = bench.load_json(args.from_json, "--from")
        else:
            a, b = (bench.load_json(path, "--compare") for path in args.compare)
    except _report.ReportError as exc:
        parser.error(str(exc))
    if args.from_json:
        return _show(result, args, args.html)
    labels = [os.path.basename(path) for path in args.compare]
    if labels[0] == labels[1]:
        labels = list(args.compare)
    cmp = bench.compare(a, b, labels)
    bench.render_compare(cmp, use_rich=False if args.plain else None, detail=args.detail)
    if args.html:
        try:
            bench.write_compare_html(cmp, args.html)
        except _report.ReportError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
        print(f"report: {os.path.abspath(args.html)}")
    return 0
