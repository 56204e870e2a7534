"""Command line: ``gilfree bench``, ``gilfree info`` and ``gilfree probe``.

``gilfree`` (the console script) and ``python -m gilfree`` both land in
:func:`main`, which hands the arguments after the command to that command's
own command line: :mod:`gilfree.bench._cli` and :mod:`gilfree._probe._cli`
(their shared argument types live in :mod:`gilfree._timing._cli`).  Bad
arguments print a message naming the argument to stderr and exit with
status 2, as argparse does.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["build_parser", "main"]

COMMANDS = {
    "bench": "compare every way to run CPU-bound work in parallel (gilfree bench --help)",
    "info": "print how this gilfree build runs here (show_config)",
    "probe": "will threads help your function? (gilfree probe --help)",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``gilfree`` parser: the commands; each parses its own options."""
    from gilfree import __version__

    parser = argparse.ArgumentParser(
        prog="gilfree",
        description="gilfree: GIL-free square kernels, and a bench that shows what "
                    "releasing the GIL buys on this machine.")
    parser.add_argument("--version", action="version", version=f"gilfree {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{bench,info,probe}")
    for name, words in COMMANDS.items():
        sub.add_parser(name, help=words, add_help=name == "info")
    return parser


def main(argv=None) -> int:
    """Run the ``gilfree`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The command's exit status: 0 on success, 1 if a strategy gave a
        wrong result (or the probed function failed), 2 for bad arguments
        (argparse exits with 2 itself), 130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["probe"]:
        from gilfree._probe._cli import main as probe_main

        return probe_main(argv[1:])
    if argv[:1] == ["bench"]:
        from gilfree.bench._cli import main as bench_main

        return bench_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        import gilfree

        gilfree.show_config()
        return 0
    parser.print_usage(sys.stderr)
    print("gilfree: error: choose a command: bench, info or probe", file=sys.stderr)
    return 2


def __getattr__(name: str):
    # the names this module had when it held the bench's command line
    moved = {"_ints": ("gilfree._timing._cli", "ints"),
             "_positive_float": ("gilfree._timing._cli", "positive_float"),
             "_term_as_interrupt": ("gilfree._timing._cli", "term_as_interrupt"),
             "_names": ("gilfree.bench._cli", "names"),
             "_python_path": ("gilfree.bench._cli", "python_path")}
    if name in moved:
        import importlib

        module, attr = moved[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
