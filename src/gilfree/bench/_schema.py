"""The layout of a saved bench result, checked once when a file is read.

A saved run (``gilfree bench --json``) is read back by ``--from``,
``--compare`` and :func:`gilfree.bench.load_json`.  Such a file may come from
anywhere: an older gilfree, a hand edit, a truncated copy.  :func:`problem`
walks it once, on load, and checks the type and range of every field that
:mod:`._analysis`, :mod:`._views`, :mod:`._plots` and :mod:`._compare` read,
so that everything downstream can index the dict without guarding; a file
that passes renders, and one that does not is refused with one line naming
the first field at fault (``points[3].median must be a finite number > 0,
got null``).

The figures derived from the measurements (speedups, claims, verdicts) are
not checked: :func:`._analysis.derive` computes them again on load.
"""

from __future__ import annotations

import math
from typing import cast

from ._analysis import SCHEMA
from ._cases import WORKLOADS
from ._engine import DTYPES

__all__ = ["MAX_DEPTH", "problem"]

#: Deepest nesting of lists and objects a result may have (a real one has 8:
#: a timeline's run intervals).
MAX_DEPTH = 32
#: The largest size, count or byte figure a result may hold.
MAX_INT = 2**62
STATUSES = ("ok", "failed", "skipped")


class _Bad(Exception):
    """One field is wrong; the message says which and how."""


def _shown(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return repr(v) if len(v) <= 40 else repr(v[:40]) + "..."
    if isinstance(v, list):
        return f"a list of {len(v)}"
    if isinstance(v, dict):
        return "an object"
    text = repr(v)
    return text if len(text) <= 40 else text[:40] + "..."


def _need(ok: bool, where: str, want: str, v) -> None:
    if not ok:
        raise _Bad(f"{where} must be {want}, got {_shown(v)}")


def _obj(parent: dict, key: str, where: str, required: bool = True):
    """`parent[key]` as a dict; ``{}`` when it is absent (or null) and need not
    be there (the views read such a field with ``.get(key) or {}``)."""
    v = parent.get(key)
    if v is None and not required:
        return {}
    _need(isinstance(v, dict), f"{where}{key}", "an object", v)
    return v


def _seq(parent: dict, key: str, where: str, required: bool = True) -> list:
    """`parent[key]` as a list; ``[]`` when it is absent and need not be
    there.  Never null: the views read such a field with ``.get(key, [])``."""
    if key not in parent and not required:
        return []
    v = parent.get(key)
    _need(isinstance(v, list), f"{where}{key}", "a list", v)
    return cast(list, v)  # _need raised if it is not one


def _text(parent: dict, key: str, where: str, required: bool = True,
          nullable: bool = False) -> None:
    if key not in parent:
        _need(not required, f"{where}{key}", "present", None)
        return
    v = parent[key]
    ok = isinstance(v, str) or (v is None and (nullable or not required))
    _need(ok, f"{where}{key}", "a string" + (" or null" if nullable else ""), v)


def _flag(parent: dict, key: str, where: str) -> None:
    v = parent.get(key)
    _need(v is None or isinstance(v, bool), f"{where}{key}", "true or false", v)


def _one_of(v, choices) -> bool:
    return isinstance(v, str) and v in choices


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(parent: dict, key: str, where: str, low: int, required: bool = True,
         nullable: bool = False) -> None:
    if key not in parent:
        _need(not required, f"{where}{key}", "present", None)
        return
    v = parent[key]
    if v is None and (nullable or not required):
        return
    _need(_whole(v) and low <= v <= MAX_INT, f"{where}{key}",
          f"a whole number >= {low}" + (" or null" if nullable else ""), v)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _num(parent: dict, key: str, where: str, required: bool = True, nullable: bool = False,
         positive: bool = False) -> None:
    """A finite number >= 0 (> 0 with `positive`)."""
    if key not in parent:
        _need(not required, f"{where}{key}", "present", None)
        return
    v = parent[key]
    if v is None and (nullable or not required):
        return
    ok = _number(v) and (v > 0 if positive else v >= 0)
    _need(ok, f"{where}{key}", f"a finite number {'> 0' if positive else '>= 0'}"
          + (" or null" if nullable else ""), v)


def _depth(data) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        v, d = stack.pop()
        if d > MAX_DEPTH:
            raise _Bad(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values() if isinstance(x, (dict, list)))
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v if isinstance(x, (dict, list)))


def _header(h: dict) -> None:
    w = "header."
    for key in ("gilfree", "cpu_model", "numpy", "compiler", "simd"):
        _text(h, key, w)
    for key in ("cython", "cflags"):
        _text(h, key, w, nullable=True)
    for key in ("machine", "platform", "date_utc"):
        _text(h, key, w, required=False)
    _text(h, "blas", w, required=False, nullable=True)
    for key in ("logical_cpus", "affinity_cpus", "usable_cpus"):
        _int(h, key, w, 1)
    _num(h, "cgroup_cpu_limit", w, nullable=True, positive=True)
    _int(h, "llc_bytes", w, 0, required=False, nullable=True)
    py = _obj(h, "python", w)
    for key in ("version", "label"):
        _text(py, key, w + "python.")
    _text(py, "implementation", w + "python.", required=False)
    for key in ("gil_enabled", "free_threaded_build"):
        _flag(py, key, w + "python.")
    omp = _obj(h, "openmp", w)
    _need("available" in omp and isinstance(omp["available"], bool),
          w + "openmp.available", "true or false", omp.get("available"))
    for key in ("gilfree_config", "optional"):
        _obj(h, key, w, required=False)
    env = _obj(h, "environment", w, required=False)
    for k, v in env.items():
        _need(isinstance(v, str), f"{w}environment.{k}", "a string", v)
    load = _obj(h, "loadavg", w, required=False)
    for key in ("start", "end"):
        _num(load, key, w + "loadavg.", required=False)
    busy = _obj(h, "busy_values", w, required=False)
    if busy:
        for key in ("timed", "busy"):
            _int(busy, key, w + "busy_values.", 0)
    ct = _obj(h, "cpu_time", w, required=False)
    for key in ("start", "end"):
        c = _obj(ct, key, f"{w}cpu_time.", required=False)
        for k in ("total", "steal") if c else ():
            _int(c, k, f"{w}cpu_time.{key}.", 0)


def _share(parent: dict, key: str, where: str, required: bool = False,
           nullable: bool = True) -> None:
    """A fraction in [0, 1]."""
    _num(parent, key, where, required=required, nullable=nullable)
    v = parent.get(key)
    _need(v is None or v <= 1, f"{where}{key}", "a fraction between 0 and 1", v)


def _timeline(s: dict, where: str) -> None:
    """``timeline`` (``threads``: name and run intervals; ``span``) and
    ``overlap`` of one strategy, both optional."""
    _share(s, "overlap", where)
    _text(s, "timeline_error", where, required=False, nullable=True)
    tl = _obj(s, "timeline", where, required=False)
    if not tl:
        return
    w = where + "timeline."
    span = tl.get("span")
    _need(isinstance(span, list) and len(span) == 2 and all(_number(x) for x in span)
          and 0 <= span[0] <= span[1], w + "span", "[t0, t1] with 0 <= t0 <= t1", span)
    _share(tl, "idle", w)
    slack = 1e-6 * max(1.0, span[1])
    for k, t in enumerate(_seq(tl, "threads", w)):
        tw = f"{w}threads[{k}]"
        _need(isinstance(t, dict), tw, "an object", t)
        _text(t, "name", tw + ".")
        last = span[0]
        for j, iv in enumerate(_seq(t, "running", tw + ".")):
            ok = (isinstance(iv, list) and len(iv) == 2 and all(_number(x) for x in iv)
                  and last - slack <= iv[0] <= iv[1] <= span[1] + slack)
            _need(ok, f"{tw}.running[{j}]", "[t0, t1] in order, within the span", iv)
            last = iv[1]


def _timelines(result: dict) -> None:
    info = _obj(result, "timelines", "", required=False)
    if not info:
        return
    w = "timelines."
    _int(info, "workers", w, 1)
    _num(info, "seconds", w, required=False)
    _num(info, "period_s", w, required=False, nullable=True)
    _share(info, "sampler_cpu_share", w)
    for key in ("workload", "gil", "reason", "source"):
        _text(info, key, w, required=False, nullable=True)


def _settings(s: dict) -> None:
    w = "settings."
    _text(s, "mode", w)
    _int(s, "headline_workers", w, 1)
    workers = _seq(s, "workers", w)
    _need(bool(workers), w + "workers", "a list of worker counts", workers)
    for i, v in enumerate(workers):
        _need(_whole(v) and 1 <= v <= MAX_INT, f"{w}workers[{i}]", "a whole number >= 1", v)
    for i, v in enumerate(_seq(s, "workloads", w)):
        _need(_one_of(v, WORKLOADS), f"{w}workloads[{i}]", f"one of {', '.join(WORKLOADS)}", v)
    _int(s, "repeats", w, 1, required=False)
    sizes = _obj(s, "python_sizes", w, required=False)
    for workload, ns in sizes.items():
        where = f"{w}python_sizes.{workload}"
        _need(isinstance(ns, list), where, "a list of sizes", ns)
        for i, n in enumerate(ns):
            _need(_whole(n) and 0 <= n <= MAX_INT, f"{where}[{i}]", "a whole number >= 0", n)


def _heartbeat(parent: dict, key: str, where: str) -> None:
    hb = _obj(parent, key, where, required=False)
    if hb:
        for k in ("p50_ms", "p99_ms", "max_ms"):
            _num(hb, k, f"{where}{key}.")


def _bandwidth(result: dict) -> None:
    bw = _obj(result, "bandwidth", "", required=False)
    if not bw:
        return
    w = "bandwidth."
    _num(bw, "GBps", w, nullable=True, positive=True)
    for key in ("GBps_1", "GBps_threads"):
        _num(bw, key, w, nullable=True)
    for key in ("GBps_read", "GBps_read_1", "GBps_read_threads"):
        _num(bw, key, w, required=False, positive=key == "GBps_read")
    _int(bw, "threads", w, 1)
    reads = _obj(bw, "reads", w, required=False)
    for k, v in reads.items():
        _need(_number(v) and v >= 0, f"{w}reads.{k}", "a finite number >= 0", v)
    if reads:
        _text(bw, "read_best", w)
        _num(bw, "GBps_read", w, positive=True)


def _point(p, i: int) -> None:
    w = f"points[{i}]."
    _need(isinstance(p, dict), f"points[{i}]", "an object", p)
    for key in ("strategy", "label", "interpreter"):
        _text(p, key, w)
    _need(_one_of(p.get("workload"), WORKLOADS), w + "workload", f"one of {', '.join(WORKLOADS)}",
          p.get("workload"))
    _need("dtype" in p and (p["dtype"] is None or _one_of(p["dtype"], DTYPES)), w + "dtype",
          f"null or one of {', '.join(DTYPES)}", p.get("dtype"))
    _int(p, "n", w, 1)
    _int(p, "workers", w, 1)
    _need(_one_of(p.get("status"), STATUSES), w + "status", f"one of {', '.join(STATUSES)}",
          p.get("status"))
    _text(p, "reason", w, required=p["status"] != "ok", nullable=p["status"] == "ok")
    _text(p, "note", w, required=False, nullable=True)
    _text(p, "python", w, required=False, nullable=True)
    _heartbeat(p, "heartbeat", w)
    if p["status"] == "ok":
        _num(p, "median", w, positive=True)
        for key in ("q1", "q3"):
            _num(p, key, w, required=False, nullable=True)
        if p.get("q3") is not None:
            _num(p, "q1", w)
        values = p.get("values") or []  # read as .get("values") or []
        _need(isinstance(values, list), w + "values", "a list", values)
        for k, v in enumerate(values):
            _need(_number(v) and v >= 0, f"{w}values[{k}]", "a finite number >= 0", v)


def _check(data) -> None:
    if not isinstance(data, dict) or "schema" not in data:
        raise _Bad("not a gilfree bench result (no 'schema' field)")
    tag = data["schema"]
    if not (isinstance(tag, str) and tag.startswith("gilfree-bench/")):
        raise _Bad(f"not a gilfree bench result (schema {_shown(tag)})")
    if tag != SCHEMA:
        raise _Bad(f"schema {tag[:40]}, this gilfree reads {SCHEMA} (re-run the bench with "
                   f"this version to compare or re-render)")
    missing = [k for k in ("header", "settings", "strategies", "startup", "points")
               if k not in data]
    if missing:
        raise _Bad(f"not a complete gilfree bench result (missing {', '.join(missing)})")
    _depth(data)
    _header(_obj(data, "header", ""))
    _settings(_obj(data, "settings", ""))
    for i, s in enumerate(_seq(data, "strategies", "")):
        _need(isinstance(s, dict), f"strategies[{i}]", "an object", s)
        _text(s, "name", f"strategies[{i}].")
        _text(s, "skip_reason", f"strategies[{i}].", nullable=True)
        for key in ("family", "summary"):
            _text(s, key, f"strategies[{i}].", required=False)
        _timeline(s, f"strategies[{i}].")
    for i, u in enumerate(_seq(data, "startup", "")):
        _need(isinstance(u, dict), f"startup[{i}]", "an object", u)
        _text(u, "strategy", f"startup[{i}].")
        _int(u, "workers", f"startup[{i}].", 1)
        _num(u, "seconds", f"startup[{i}].")
    for i, p in enumerate(_seq(data, "points", "")):
        _point(p, i)
    _bandwidth(data)
    _timelines(data)
    _heartbeat(data, "heartbeat_idle", "")
    _seq(data, "interpreters", "", required=False)
    for i, e in enumerate(_seq(data, "errors", "", required=False)):
        _need(isinstance(e, str), f"errors[{i}]", "a string", e)
    _num(data, "elapsed_s", "", required=False)


def problem(data) -> str | None:
    """None if `data` (a parsed JSON document) is a bench result of this
    schema that every view can show, else why not, in a few words naming the
    first field at fault."""
    try:
        _check(data)
    except _Bad as exc:
        return str(exc)
    return None
