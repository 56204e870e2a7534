"""``gilfree probe MODULE:FUNCTION``: the command line of :func:`gilfree.probe`.

Exit status, each with one line on stderr (never the probe's traceback):

0
    The probe ran and measured every row (its verdict may be that nothing
    helps, or that the first call was over ``--max-call``).
1
    The function failed: it raised (on any call, in any thread or worker
    process), returned a different value, or its module raised or called
    ``sys.exit`` at import; or it failed under a ``--python`` interpreter.
2
    A usage error: a missing module or attribute, a non-callable, ``--args``
    not a literal, a bad option, or a ``--json``/``--html`` path that cannot
    be written (checked before anything is measured).
3
    The report was printed and written, but the function ended some rows: a
    call did not finish within ``--max-call`` plus a margin (a hang, or a
    function that is not fork-safe in a forked worker), or a worker process
    died (a segfault, ``os._exit``); the report says which and why.
130
    Interrupted (Ctrl-C or SIGTERM); its threads and worker processes were
    stopped.

The ``--json`` and ``--html`` files are written before the text report is
printed, each through a temporary file renamed over the target.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from gilfree._timing._cli import int_at_least as _int_at_least
from gilfree._timing._cli import nonneg_float as _nonneg_float
from gilfree._timing._cli import positive_float as _positive_float
from gilfree._timing._cli import term_as_interrupt as _term_as_interrupt

__all__ = ["build_parser", "main"]

PROG = "gilfree probe"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Will threads help your function?  Times one call on one thread, N calls "
                    "at once\non N threads and on N processes, and measures how much of a "
                    "call holds the GIL;\nevery call's result is checked against the first.",
        epilog="examples:\n"
               "  gilfree probe mymodule:work --args 100000\n"
               "  gilfree probe gilfree:sum_squares_range --args 10000000\n"
               "  gilfree probe mymodule:work --args \"([1, 2, 3], 'fast')\" --json probe.json\n"
               "  gilfree probe mymodule:work --python python3.13t    # and free-threaded")
    p.add_argument("target", metavar="MODULE:FUNCTION",
                   help="the function, imported as `python -m` would (current directory first)")
    p.add_argument("--args", metavar="LITERAL", default=None,
                   help="its positional arguments as a Python literal: a tuple, or one value")
    p.add_argument("--workers", type=_int_at_least(1), metavar="N",
                   help="threads and processes calling it at once (default: the usable CPUs)")
    p.add_argument("--python", action="append", default=[], metavar="PATH",
                   help="also probe it under this interpreter, e.g. a free-threaded "
                        "python3.13t (repeatable)")
    p.add_argument("--json", metavar="PATH", help="write every figure, the machine and the "
                                                  "verdict as JSON")
    p.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    p.add_argument("--impure", action="store_true",
                   help="its results may differ between calls: do not compare them")
    p.add_argument("--max-call", type=_positive_float, default=10.0, metavar="SECONDS",
                   help="time nothing more if one call takes longer (default 10)")
    p.add_argument("--no-processes", action="store_true", help="do not start worker processes")
    p.add_argument("--start-method", choices=("fork", "spawn", "forkserver"), default=None,
                   help="how worker processes start (default: fork where the platform uses "
                        "it, else spawn); spawn suits functions that are not fork-safe")
    p.add_argument("--min-time", type=_positive_float, default=0.05, metavar="SECONDS",
                   help="calibration target of one timed value (default 0.05)")
    p.add_argument("--repeats", type=_int_at_least(1), default=5, metavar="R",
                   help="timed values per figure (default 5)")
    p.add_argument("--heartbeat", type=_nonneg_float, default=0.3, metavar="SECONDS",
                   help="how long the GIL heartbeat runs (default 0.3; 0: off)")
    return p


def _check_output(parser, path, what: str) -> None:
    from .._timing import _files

    try:
        _files.check_writable(path, what)
    except ValueError as exc:
        parser.error(f"{exc} (nothing was measured)")


def main(argv=None) -> int:
    """Run ``gilfree probe``; returns the exit status."""
    from . import FunctionFailed, ProbeUsageError, _run
    from ._host import check_python
    from ._measure import Settings, parse_args, resolve

    parser = build_parser()
    args = parser.parse_args(argv)
    for path, what in ((args.json, "--json"), (args.html, "--html")):
        if path:
            _check_output(parser, path, what)
    # `python -m` puts the current directory first on sys.path
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    old_term = _term_as_interrupt()
    progress = _progress() if sys.stderr.isatty() else None
    try:
        try:
            fn = resolve(args.target)
            fargs = parse_args(args.args)
            settings = Settings(workers=args.workers, impure=args.impure,
                                processes=not args.no_processes, max_call=args.max_call,
                                min_time=args.min_time, repeats=args.repeats,
                                heartbeat=args.heartbeat, start_method=args.start_method)
            pythons = []
            for py in args.python:
                check_python(py)  # a path that is no Python is a usage error
                pythons.append(py)
        except ProbeUsageError as exc:
            parser.error(str(exc))
        result = _run(fn, fargs, settings, pythons, args.target, args.args or "()", [cwd],
                      None, progress)
    except FunctionFailed as exc:
        _clear(progress)
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _clear(progress)
        print(f"\n{PROG}: interrupted (its threads and worker processes were stopped)",
              file=sys.stderr)
        return 130
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    _clear(progress)
    # the files first: printing (a closed pipe, say) cannot lose them
    wrote = []
    for path, write in ((args.json, result.write_json), (args.html, result.write_html)):
        if path:
            try:
                write(path)
            except ProbeUsageError as exc:
                print(f"{PROG}: error: {exc}", file=sys.stderr)
                return 2
            wrote.append(path)
    print(repr(result))
    for path in wrote:
        print(f"wrote {path}")
    failed = [e for e in result.to_dict()["interpreters"] if e.get("error")]
    if failed:
        return 1
    if result.incomplete:
        print(f"{PROG}: error: the function ended some rows: {result.incomplete[0]}",
              file=sys.stderr)
        return 3
    return 0


def _progress():
    def show(what: str) -> None:
        sys.stderr.write(f"\r\x1b[K{PROG}: {what}...")
        sys.stderr.flush()
    return show


def _clear(progress) -> None:
    if progress is not None:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
