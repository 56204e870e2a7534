#!/usr/bin/env python3
"""Print the "bad input" table of docs/reliability.md: each bad input tried and the exact
error a user gets (type and message), by actually calling gilfree.

Usage: python tools/bad_input_table.py [--check]
--check: exit 1 if a call does not raise, or its message names no argument
(`x`, `out`, ...) or what was expected.
"""

from __future__ import annotations

import re
import sys

import numpy as np

import gilfree

ro = np.zeros(3)
ro.flags.writeable = False

# (what, call as shown, thunk)
CASES = [
    ("`x` of strings", "square(np.array(['a', 'b']))", lambda: gilfree.square(np.array(["a", "b"]))),
    ("`x` of objects", "square(np.array([1, None], dtype=object))",
     lambda: gilfree.square(np.array([1, None], dtype=object))),
    ("`x` of datetimes", "square(np.array(['2024-01-01'], dtype='M8[D]'))",
     lambda: gilfree.square(np.array(["2024-01-01"], dtype="M8[D]"))),
    ("`x` structured", "square(np.zeros(2, dtype=[('a', 'i4')]))",
     lambda: gilfree.square(np.zeros(2, dtype=[("a", "i4")]))),
    ("`x` a ragged list", "square([1, [2, 3]])", lambda: gilfree.square([1, [2, 3]])),
    ("`x` an int beyond 64 bits", "square(2**70)", lambda: gilfree.square(2**70)),
    ("`x` a string", "square('12')", lambda: gilfree.square("12")),
    ("`x` None", "square(None)", lambda: gilfree.square(None)),
    ("`x` complex, summed", "sum_of_squares(np.array([1j]))", lambda: gilfree.sum_of_squares(np.array([1j]))),
    ("`x` strings, summed", "sum_of_squares(['a'])", lambda: gilfree.sum_of_squares(["a"])),
    ("`out` not an array", "square(np.ones(3), out=[0, 0, 0])",
     lambda: gilfree.square(np.ones(3), out=[0, 0, 0])),
    ("`out` wrong shape", "square(np.ones(3), out=np.zeros(4))",
     lambda: gilfree.square(np.ones(3), out=np.zeros(4))),
    ("`out` wrong dtype", "square(np.ones(3), out=np.zeros(3, np.float32))",
     lambda: gilfree.square(np.ones(3), out=np.zeros(3, np.float32))),
    ("`out` wrong dtype (int8 input)", "square(np.ones(3, np.int8), out=np.zeros(3, np.int16))",
     lambda: gilfree.square(np.ones(3, np.int8), out=np.zeros(3, np.int16))),
    ("`out` read-only", "square(np.ones(3), out=ro)", lambda: gilfree.square(np.ones(3), out=ro)),
    ("`out` a broadcast view", "square(np.ones(3), out=np.broadcast_to(np.zeros(1), (3,)))",
     lambda: gilfree.square(np.ones(3), out=np.broadcast_to(np.zeros(1), (3,)))),
    ("`overflow` unknown", "square(x, overflow='clip')", lambda: gilfree.square(np.ones(3), overflow="clip")),
    ("`overflow` None", "square(x, overflow=None)", lambda: gilfree.square(np.ones(3), overflow=None)),
    ("integer overflow, raise", "square(np.int8([3, 100]), overflow='raise')",
     lambda: gilfree.square(np.int8([3, 100]), overflow="raise")),
    ("2-D overflow, raise", "square(np.int16([[1, 2], [300, 4]]), overflow='raise')",
     lambda: gilfree.square(np.int16([[1, 2], [300, 4]]), overflow="raise")),
    ("float overflow, raise", "square(np.float32([1e20]), overflow='raise')",
     lambda: gilfree.square(np.float32([1e20]), overflow="raise")),
    ("`threads` zero", "square(x, threads=0)", lambda: gilfree.square(np.ones(3), threads=0)),
    ("`threads` negative", "sum_of_squares(x, threads=-2)", lambda: gilfree.sum_of_squares(np.ones(3), threads=-2)),
    ("`threads` float", "square(x, threads=2.0)", lambda: gilfree.square(np.ones(3), threads=2.0)),
    ("`threads` bool", "square(x, threads=True)", lambda: gilfree.square(np.ones(3), threads=True)),
    ("`threads` string", "sum_squares_range(10, threads='2')", lambda: gilfree.sum_squares_range(10, threads="2")),
    ("`threads` too many", "square(x, threads=10**6)", lambda: gilfree.square(np.ones(3), threads=10**6)),
    ("`start` float", "sum_squares_range(10.0)", lambda: gilfree.sum_squares_range(10.0)),
    ("`start` bool", "sum_squares_range(True)", lambda: gilfree.sum_squares_range(True)),
    ("`stop` a string", "sum_squares_range(0, '10')", lambda: gilfree.sum_squares_range(0, "10")),
    ("`stop` beyond int64", "sum_squares_range(0, 2**63)", lambda: gilfree.sum_squares_range(0, 2**63)),
    ("`start` beyond int64", "squares_range(-2**63 - 1, 0)", lambda: gilfree.squares_range(-(2**63) - 1, 0)),
    ("`step` zero", "sum_squares_range(0, 10, 0)", lambda: gilfree.sum_squares_range(0, 10, 0)),
    ("`step` float", "squares_range(0, 10, 0.5)", lambda: gilfree.squares_range(0, 10, 0.5)),
    ("range too long", "sum_squares_range(-2**63, 2**63 - 1)",
     lambda: gilfree.sum_squares_range(-(2**63), 2**63 - 1)),
    ("`dtype` unsupported", "squares_range(5, dtype=np.float16)",
     lambda: gilfree.squares_range(5, dtype=np.float16)),
    ("`dtype` bool", "squares_range(5, dtype=bool)", lambda: gilfree.squares_range(5, dtype=bool)),
    ("`dtype` complex", "squares_range(5, dtype=complex)", lambda: gilfree.squares_range(5, dtype=complex)),
    ("`dtype` not a dtype", "squares_range(5, dtype='nope')", lambda: gilfree.squares_range(5, dtype="nope")),
    ("`dtype` None", "squares_range(5, dtype=None)", lambda: gilfree.squares_range(5, dtype=None)),
    ("set_num_threads(0)", "set_num_threads(0)", lambda: gilfree.set_num_threads(0)),
    ("set_num_threads(None)", "set_num_threads(None)", lambda: gilfree.set_num_threads(None)),
    ("num_threads(1.5)", "with num_threads(1.5): ...", lambda: gilfree.num_threads(1.5).__enter__()),
]

ARG = re.compile(r"`[a-z_]+`|at index|range\(")


def rows():
    for what, shown, thunk in CASES:
        try:
            r = thunk()
        except Exception as exc:  # noqa: BLE001
            yield what, shown, type(exc).__name__, str(exc)
        else:
            yield what, shown, None, f"no error: returned {r!r}"


def md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def main(argv=None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    bad = []
    print(f"<!-- generated by tools/bad_input_table.py (gilfree {gilfree.__version__}, "
          f"NumPy {np.__version__}, Python {sys.version.split()[0]}) -->")
    print("| bad input | call | error | message |")
    print("|---|---|---|---|")
    for what, shown, etype, msg in rows():
        print(f"| {md(what)} | `{md(shown)}` | {etype or '**none**'} | {md(msg)} |")
        if etype is None or not ARG.search(msg):
            bad.append((shown, etype, msg))
    if check and bad:
        for b in bad:
            print("bad_input_table: no error or no argument named:", b, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
