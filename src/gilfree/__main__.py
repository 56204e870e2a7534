"""Command line: ``gilfree bench``, ``gilfree info`` and ``gilfree probe``.

``gilfree`` (the console script) and ``python -m gilfree`` both land in
:func:`main`.  Bad arguments print a message naming the argument to stderr
and exit with status 2, as argparse does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys

__all__ = ["main"]


def _ints(text: str, what: str, minimum: int = 1) -> list:
    """``"1,2,4"`` -> ``[1, 2, 4]``; also ``1e6``, ``10**6``, ``10^6``, ``1_000``."""
    out = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "**" in part or "^" in part:
                base, _, exp = part.replace("^", "**").partition("**")
                value = int(base) ** int(exp)
            elif "e" in part.lower():
                f = float(part)
                if f != int(f):
                    raise ValueError
                value = int(f)
            else:
                value = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{what} must be whole numbers like 1000, 1e6 or 10**6, got {part!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be >= {minimum}, got {value}")
        if value > 2**62:
            raise argparse.ArgumentTypeError(f"{what} must be <= 2**62, got {part}")
        out.append(value)
    if not out:
        raise argparse.ArgumentTypeError(f"{what}: no value given")
    return out


def _names(choices, what: str):
    def parse(text: str) -> list:
        names = [n.strip() for n in text.split(",") if n.strip()]
        bad = [n for n in names if n not in choices]
        if bad or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, bad)) or '(none given)'}; "
                f"choose from: {', '.join(choices)}")
        return names
    return parse


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return v


def _python_path(text: str) -> str:
    path = shutil.which(text) or text
    if not os.path.dirname(text) and path == text and not os.path.exists(text):
        return text  # a bare name not on PATH: a missing interpreter, skipped by the bench
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise argparse.ArgumentTypeError(f"no executable Python at {text!r}")
    return path


def build_parser() -> argparse.ArgumentParser:
    """The ``gilfree`` argument parser (``bench`` and ``info`` subcommands)."""
    from gilfree import __version__
    from gilfree.bench import STRATEGIES
    from gilfree.bench._cases import WORKLOADS

    parser = argparse.ArgumentParser(
        prog="gilfree",
        description="gilfree: GIL-free square kernels, and a bench that shows what "
                    "releasing the GIL buys on this machine.")
    parser.add_argument("--version", action="version", version=f"gilfree {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{bench,info,probe}")
    sub.add_parser("info", help="print how this gilfree build runs here (show_config)")
    sub.add_parser("probe", add_help=False,  # parsed by gilfree._probe._cli (see main)
                   help="will threads help your function? (gilfree probe --help)")

    b = sub.add_parser(
        "bench", help="compare every way to run CPU-bound work in parallel",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    # command_parser: so errors found after parsing print bench's usage line
    b.set_defaults(mode="quick", command_parser=b)
    b.add_argument("--strategies", type=_names(STRATEGIES, "strategy"), metavar="S,...",
                   help=f"strategies to run (default all): {', '.join(STRATEGIES)}")
    b.add_argument("--workloads", type=_names(tuple(WORKLOADS), "workload"), metavar="W,...",
                   help="workloads to run: range, map, reduce (default all)")
    b.add_argument("--sizes", type=lambda t: _ints(t, "--sizes"), metavar="N,...",
                   help="sizes for every selected workload, e.g. 1e4,1e6")
    b.add_argument("--dtypes", type=_names(("float64", "int64"), "dtype"), metavar="D,...",
                   help="dtypes of the map and reduce arrays: float64, int64")
    b.add_argument("--workers", type=lambda t: _ints(t, "--workers"), metavar="N,...",
                   help="worker counts, e.g. 1,2,4 (1 is always added: speedups are "
                        "relative to it)")
    b.add_argument("--repeats", type=lambda t: _ints(t, "--repeats")[0], metavar="R",
                   help="timed values per point (median and quartiles over them)")
    b.add_argument("--min-time", type=_positive_float, metavar="SECONDS",
                   help="calibration target for one timed value")
    b.add_argument("--max-call", type=_positive_float, metavar="SECONDS",
                   help="skip points whose single call would take longer")
    b.add_argument("--heartbeat", type=float, metavar="SECONDS",
                   help="duration of the GIL-starvation probe per strategy (0: off)")
    b.add_argument("--python", action="append", type=_python_path, default=[],
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
    return parser


def _settings(args):
    from dataclasses import replace

    from gilfree.bench import Settings

    s = Settings.preset(args.mode)
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
    from gilfree.bench._registry import make_strategies

    for s in make_strategies():
        why = s.skip_reason()
        out.write(f"{s.name:17s} {'ok  ' if why is None else 'skip'}  {s.summary}\n")
        if why:
            out.write(f"{'':23s}({why})\n")


def _bench(parser, args) -> int:
    from gilfree import bench
    from gilfree.bench import _report

    bench_parser = args.command_parser
    if args.list:
        _list_strategies(sys.stdout)
        return 0
    if args.html and args.no_html:
        bench_parser.error("--html: not allowed with --no-html")
    if (args.plot or args.html) and not _report.have_matplotlib():
        bench_parser.error(f"{'--plot' if args.plot else '--html'}: {_report.PLOT_HINT}")
    try:
        for flag, path in (("--html", args.html), ("--json", args.json)):
            if path:
                _report.check_writable(path, flag)
    except _report.ReportError as exc:
        bench_parser.error(str(exc))
    if args.from_json or args.compare:
        return _bench_saved(bench_parser, args)
    for path in args.python:
        try:
            from gilfree.bench._foreign import ForeignError, missing_reason, probe_python

            if missing_reason(path):
                continue  # not installed: the bench prints a skip line for it
            probe_python(path)
        except ForeignError as exc:
            bench_parser.error(f"--python: {exc}")
    html_path = args.html
    if html_path is None and not args.no_html:
        html_path = _default_html()
    settings = _settings(args)
    progress = bench.make_progress(enabled=not args.no_progress)
    old_term = _term_as_interrupt()
    try:
        result = bench.run(settings, progress)
    except KeyboardInterrupt:
        print("\ngilfree bench: interrupted (pools stopped, shared memory released; "
              "no report written)", file=sys.stderr)
        return 130
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return _show(result, args, html_path, explicit_html=args.html is not None)


def _default_html():
    """./gilfree-bench.html, or None (with a line) where it cannot be written."""
    from gilfree.bench import _report

    if not _report.have_matplotlib():
        print(f"gilfree bench: no HTML report ({_report.PLOT_HINT})", file=sys.stderr)
        return None
    path = _report.DEFAULT_HTML
    try:
        _report.check_writable(path, "HTML report")
    except _report.ReportError as exc:
        print(f"gilfree bench: no HTML report ({exc}); use --html PATH", file=sys.stderr)
        return None
    return path


def _show(result, args, html_path, explicit_html: bool) -> int:
    """Print the summary (or every table), write the files asked for."""
    from gilfree import bench
    from gilfree.bench import _report

    bench.render(result, use_rich=False if args.plain else None, detail=args.detail)
    try:
        if args.json:
            bench.write_json(result, args.json)
            print(f"wrote {args.json}")
        if args.plot:
            for path in bench.write_plots(result, args.plot):
                print(f"wrote {path}")
        if html_path:
            bench.write_html(result, html_path)
            print(f"report: {os.path.abspath(html_path)}")
    except _report.ReportError as exc:
        print(f"gilfree bench: error: {exc}", file=sys.stderr)
        return 2
    if not args.detail and args.from_json:
        print(f"every table: gilfree bench --from {args.from_json} --detail")
    elif not args.detail:
        print("every table: gilfree bench --detail (or --full for all sizes, about 10-20 "
              "minutes)" + ("" if args.json else "; save the run with --json PATH"))
    failed = [p for p in result["points"] if p["status"] == "failed"]
    if failed:
        print(f"gilfree bench: {len(failed)} point(s) gave a wrong result (see FAILED above)",
              file=sys.stderr)
        return 1
    return 0


def _bench_saved(bench_parser, args) -> int:
    """--from and --compare: render saved runs, measure nothing."""
    from gilfree.bench import _compare, _report

    measuring = [f for f, v in (("--strategies", args.strategies), ("--workloads", args.workloads),
                                ("--sizes", args.sizes), ("--dtypes", args.dtypes),
                                ("--workers", args.workers), ("--repeats", args.repeats),
                                ("--min-time", args.min_time), ("--max-call", args.max_call),
                                ("--heartbeat", args.heartbeat), ("--python", args.python))
                 if v not in (None, [])]
    what = "--from" if args.from_json else "--compare"
    if measuring:
        bench_parser.error(f"{what}: renders a saved run; {', '.join(measuring)} only apply "
                           f"to a new run")
    try:
        if args.from_json:
            result = _report.load_json(args.from_json, "--from")
            return _show(result, args, args.html, explicit_html=True)
        a, b = (_report.load_json(path, "--compare") for path in args.compare)
        names = [os.path.basename(path) for path in args.compare]
        if names[0] == names[1]:
            names = list(args.compare)
        cmp = _compare.compare(a, b, names)
        _report.render_compare(cmp, use_rich=False if args.plain else None, detail=args.detail)
        if args.html:
            _report.write_compare_html(cmp, args.html)
            print(f"report: {os.path.abspath(args.html)}")
    except _report.ReportError as exc:
        bench_parser.error(str(exc))
    return 0


def _term_as_interrupt():
    """Make SIGTERM (``kill``, a job timeout) stop the bench like Ctrl-C, so its
    process pools and shared memory are released: a killed parent would leave
    pool workers waiting forever on a queue they hold both ends of.  Returns
    the previous handler, or None where it cannot be set (not the main
    thread)."""
    def on_term(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, on_term)
    except ValueError:
        return None


def main(argv=None) -> int:
    """Run the ``gilfree`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 if a strategy gave a wrong result, 2 for bad
        arguments (argparse exits with 2 itself), 130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["probe"]:
        from gilfree._probe._cli import main as probe_main

        return probe_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        import gilfree

        gilfree.show_config()
        return 0
    if args.command == "bench":
        return _bench(parser, args)
    parser.print_usage(sys.stderr)
    print("gilfree: error: choose a command: bench or info", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
