"""Two saved runs side by side: ratios per row and whether they are significant.

Rows are matched on strategy, workload, dtype, size and worker count, where
the worker count is taken by role: 1 worker with 1 worker, each run's
headline count (its usable CPUs) with the other's, so a 2-core machine is
compared with an 8-core one "on all cores".  ``python-threads`` and
``free-threaded`` are the same code (pure-Python threads, with and without
the GIL) and are matched with each other, so a GIL build compares with a
free-threaded build.

Significance is a two-sided Mann-Whitney U test on the per-repeat times
stored in each row (``values``): exact for up to :data:`EXACT_MAX` values a
side without ties, else the normal approximation with the tie correction.
Like pyperf's "Not significant!", a ratio whose p-value is at or above
:data:`ALPHA` is marked "not significant"; with fewer than
:data:`MIN_REPEATS` values a side no test is made.
"""

from __future__ import annotations

import math

from ._analysis import headline_size, main_dtype
from ._registry import NAMES

__all__ = ["ALPHA", "compare", "mann_whitney_u"]

#: p-value threshold: 5%, the usual choice (and pyperf's t-test level).
ALPHA = 0.05
#: Fewer values than this a side cannot reach p < ALPHA with the U test
#: (3 and 3: the smallest two-sided p is 0.1).
MIN_REPEATS = 4
#: Exact p-values up to this many values a side (the counting table is
#: n1*n2 wide: cheap up to well past the bench's 7-9 repeats).
EXACT_MAX = 30

_SAME_CODE = {"free-threaded": "python-threads"}


def _rank(values) -> tuple:
    """Average ranks (1-based) of `values`, and the tie groups' sizes."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


_U_COUNTS: dict = {}


def _u_counts(n1: int, n2: int) -> tuple:
    """How many of the C(n1+n2, n1) orderings give each U (0..n1*n2)
    (computed once per pair of sizes)."""
    if (n1, n2) in _U_COUNTS:
        return _U_COUNTS[n1, n2]
    # f(i, j, u): orderings of i and j values with statistic u; built up
    # one value at a time (the classic recursion), one row of j at a time.
    table = [[[1] + [0] * (n1 * n2) for _ in range(n2 + 1)] for _ in range(n1 + 1)]
    for i in range(n1 + 1):
        for j in range(n2 + 1):
            if i == 0 or j == 0:
                continue
            row = [0] * (n1 * n2 + 1)
            a, b = table[i - 1][j], table[i][j - 1]
            for u in range(n1 * n2 + 1):
                row[u] = (a[u - j] if u >= j else 0) + b[u]
            table[i][j] = row
    counts = _U_COUNTS[n1, n2] = tuple(table[n1][n2])
    return counts


def mann_whitney_u(x, y) -> tuple:
    """Two-sided Mann-Whitney U test of samples `x` and `y`.

    Returns
    -------
    (u, p) : tuple of float
        U of `x` and the two-sided p-value.
    """
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("mann_whitney_u needs values on both sides")
    ranks, ties = _rank(list(x) + list(y))
    u = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    if not ties and max(n1, n2) <= EXACT_MAX:
        counts = _u_counts(n1, n2)
        total = sum(counts)
        k = int(round(min(u, n1 * n2 - u)))
        p = 2 * sum(counts[: k + 1]) / total
        return u, min(1.0, p)
    n = n1 + n2
    tie_term = sum(t ** 3 - t for t in ties) / (n * (n - 1))
    var = n1 * n2 / 12 * ((n + 1) - tie_term)
    if var <= 0:
        return u, 1.0
    z = (abs(u - mean) - 0.5) / math.sqrt(var)  # continuity correction
    p = math.erfc(max(z, 0.0) / math.sqrt(2))
    return u, min(1.0, p)


def _key(p: dict, headline: int) -> tuple:
    label = p["label"]
    base, bracket, rest = label.partition(" [")
    label = _SAME_CODE.get(base, base) + bracket + rest
    role = "1" if p["workers"] == 1 else "N" if p["workers"] == headline else str(p["workers"])
    return (label, p["workload"], p["dtype"], p["n"], role)


def compare(a: dict, b: dict, names=("A", "B")) -> dict:
    """Pair the rows of runs `a` and `b` (both already derived).

    Returns
    -------
    dict
        ``a``, ``b``, ``names``, ``alpha``, ``test``, ``tables`` (workload ->
        list of matched rows: ``label``, ``workload``, ``dtype``, ``n``,
        ``workers_text``, ``a`` and ``b`` medians, ``ratio`` (a / b: how many
        times faster B ran), ``p``, ``significant`` (True, False, or None
        with too few repeats), ``headline``), and ``unmatched`` (labels of
        rows only one run has).
    """
    ha, hb = (r["settings"]["headline_workers"] for r in (a, b))
    rows_a = {_key(p, ha): p for p in a["points"] if p["status"] == "ok"}
    rows_b = {_key(p, hb): p for p in b["points"] if p["status"] == "ok"}
    heads = {}
    for w in {k[1] for k in rows_a} | {k[1] for k in rows_b}:
        dtype = main_dtype(a, w)
        heads[w] = (dtype, headline_size(a, w, dtype))
    rank = {n: i for i, n in enumerate(NAMES)}
    tables: dict = {}
    for key in sorted(rows_a.keys() & rows_b.keys(),
                      key=lambda k: (k[1], k[2] or "", k[3], k[0] not in rank,
                                     rank.get(k[0], 0), k[0], k[4])):
        pa, pb = rows_a[key], rows_b[key]
        label, workload, dtype, n, role = key
        va, vb = pa.get("values") or [], pb.get("values") or []
        if min(len(va), len(vb)) >= MIN_REPEATS:
            _, p = mann_whitney_u(va, vb)
            sig = p < ALPHA
        else:
            p, sig = None, None
        wa, wb = pa["workers"], pb["workers"]
        tables.setdefault(workload, []).append({
            "label": label if pa["label"] == pb["label"] else f"{pa['label']} / {pb['label']}",
            "workload": workload, "dtype": dtype, "n": n,
            "workers_text": f"{wa}" if wa == wb else f"{wa} / {wb}",
            "a": pa["median"], "b": pb["median"], "ratio": pa["median"] / pb["median"],
            "p": p, "significant": sig,
            "headline": (dtype, n) == heads.get(workload) and role in ("1", "N")})
    only = sorted({k[0] for k in rows_a.keys() ^ rows_b.keys()})
    return {"a": a, "b": b, "names": list(names), "alpha": ALPHA,
            "test": "two-sided Mann-Whitney U on the per-repeat times",
            "tables": {w: tables[w] for w in ("range", "map", "reduce") if w in tables},
            "unmatched": only}
