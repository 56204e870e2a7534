"""gilfree bench worker for other interpreters: Jython 2.7, PyPy, CPython 3.

``gilfree bench --python PATH`` runs this file as a script under PATH.  It is
one self-contained file that runs unchanged on Python 2.7 (Jython 2.7.3) and
on Python 3 (PyPy 3.9, CPython 3.x): standard library only, nothing from
gilfree or NumPy, no f-strings, no annotations, no keyword-only arguments.

Protocol (the same as ``_portable.main``): a JSON request on stdin, JSON lines
on stdout -- ``{"event": "progress", ...}`` while it runs, then one
``{"event": "result", "interpreter": {...}, "rows": [...]}``.  The host
(``gilfree.bench._foreign``) checks every row's ``result`` against the
exact value before it reports a time.  ``python _worker27.py --info`` prints
the interpreter description only (used to probe an interpreter).

It measures the range workload (``s += i * i`` over ``range(n)``, the seed's
loop) as:

* ``python``: one plain loop;
* ``python-threads``: the range split into N contiguous shares, one
  ``threading.Thread`` each (thread start-up included, like the host's row);
* ``python-processes``: the same shares on a ``multiprocessing.Pool`` of N
  processes started beforehand (skipped where there is no multiprocessing,
  e.g. Jython);
* ``python-threads (jython, java long loop)``, on Jython only, at 1 and N
  threads: NOT the seed's loop.  The squares and partial sums are computed by
  ``java.lang.Math.multiplyExact``/``addExact`` on Java ``long`` values in
  bounded blocks, so the loop creates no Python ``long`` (BigInteger)
  objects; the blocks are folded into an exact Python integer, so the result
  is still checked against the exact value.

Warm-up is per row: JIT compilers (the JVM's under Jython, PyPy's tracing
JIT) make the first calls slower, so each row is called until two
consecutive calls agree within 5% (at least ``warmup`` calls, at most
``MAX_WARMUP`` calls or ``MAX_WARMUP_S`` seconds); those calls are reported
in ``warmup_values`` and not in ``values``.
"""

from __future__ import division, print_function

import json
import platform
import sys
import threading
import time

PY2 = sys.version_info[0] == 2
if PY2:  # pragma: no cover - Python 2 only
    range_ = xrange  # noqa: F821
else:
    range_ = range

JYTHON = platform.python_implementation() == "Jython" or sys.platform.startswith("java")

MAX_WARMUP = 8
MAX_WARMUP_S = 60.0
STABLE = 0.05

JAVA_LABEL = "python-threads (jython, java long loop)"


def _clock():
    """The best monotonic clock this interpreter has, in seconds."""
    if hasattr(time, "perf_counter"):
        return time.perf_counter
    if JYTHON:  # pragma: no cover - Jython only
        from java.lang import System
        return lambda: System.nanoTime() / 1e9
    return time.time


clock = _clock()


# ---------------------------------------------------------------------------
# describing the interpreter
# ---------------------------------------------------------------------------


def interpreter_info():
    """Implementation, version and GIL state, as JSON-ready dict."""
    impl = platform.python_implementation()
    version = platform.python_version()
    try:
        import sysconfig
        ft_build = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    except Exception:  # Jython's sysconfig may not know the variable
        ft_build = False
    if impl == "CPython":
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    else:
        # Jython and IronPython have no GIL; PyPy has one.
        gil = impl == "PyPy"
    short = ".".join(version.split(".")[:2]) + ("t" if ft_build else "")
    if impl == "PyPy":
        pv = getattr(sys, "pypy_version_info", None)
        if pv is not None:
            short = "%s %d.%d.%d (Python %s)" % (impl, pv[0], pv[1], pv[2], short)
        else:
            short = "%s %s" % (impl, short)
    elif impl != "CPython":
        short = "%s %s" % (impl, version)
    try:
        compiler = platform.python_compiler()
    except Exception:
        compiler = ""
    if JYTHON:  # pragma: no cover - Jython only
        from java.lang import System
        compiler = "Java %s (%s)" % (System.getProperty("java.version"),
                                     System.getProperty("java.vm.name"))
    return {
        "executable": sys.executable or "",
        "implementation": impl,
        "version": version,
        "free_threaded_build": ft_build,
        "gil_enabled": bool(gil),
        "compiler": compiler,
        "label": "%s, %s" % (short, "GIL" if gil else "no GIL"),
        "worker": "_worker27",
    }


# ---------------------------------------------------------------------------
# the kernels
# ---------------------------------------------------------------------------


def shares(n, parts):
    """``range(n)`` split into `parts` contiguous (start, stop) pairs."""
    q, r = divmod(n, parts)
    out = []
    a = 0
    for k in range(parts):
        b = a + q + (1 if k < r else 0)
        out.append((a, b))
        a = b
    return out


def range_sum(a, b):
    """The seed's loop: ``total += i * i`` for i in range(a, b)."""
    total = 0
    for i in range_(a, b):
        total += i * i
    return total


def range_sum_share(ab):
    """``range_sum`` on one ``(start, stop)`` pair (for Pool.map)."""
    return range_sum(ab[0], ab[1])


def java_range_sum(a, b):  # pragma: no cover - Jython only
    """Sum of squares with Java ``long`` arithmetic in blocks (Jython only).

    Within a block, ``Math.multiplyExact``/``addExact`` work on Java longs
    (the block is short enough that its sum fits in 63 bits, and they raise
    on overflow, so no wrong value can pass); each block's sum is added to an
    exact Python integer.
    """
    from java.lang import Math
    mul = Math.multiplyExact
    add = Math.addExact
    total = 0
    top = max(b, 2)
    block = max(1, (1 << 62) // (top * top))
    start = a
    while start < b:
        stop = min(b, start + block)
        part = 0
        for i in range_(start, stop):
            part = add(part, mul(i, i))
        total += part
        start = stop
    return total


def run_in_threads(fn, bounds):
    """Call ``fn(a, b)`` for every share on its own thread; partial results."""
    results = [None] * len(bounds)
    errors = []

    def work(k, a, b):
        try:
            results[k] = fn(a, b)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k, a, b))
               for k, (a, b) in enumerate(bounds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def processes_skip_reason():
    """None where multiprocessing can start a pool, else why not."""
    if JYTHON:
        return "Jython 2.7 has no multiprocessing module"
    try:
        import multiprocessing  # noqa: F401
    except ImportError as exc:
        return "multiprocessing unavailable: %s" % exc
    return None


def make_call(name, workers, n, pools):
    """The zero-argument call that runs row `name` once on range(n)."""
    if name == "python":
        return lambda: range_sum(0, n)
    bounds = shares(n, workers)
    if name == "python-threads":
        return lambda: sum(run_in_threads(range_sum, bounds))
    if name == JAVA_LABEL:
        return lambda: sum(run_in_threads(java_range_sum, bounds))
    if name == "python-processes":
        if workers not in pools:
            import multiprocessing
            pool = multiprocessing.Pool(workers)
            pool.map(range_sum_share, [(0, 1000)] * workers)  # all processes up
            pools[workers] = pool
        pool = pools[workers]
        return lambda: sum(pool.map(range_sum_share, bounds, 1))
    raise ValueError("unknown row %r" % (name,))


# ---------------------------------------------------------------------------
# timing: budget, warm-up until stable, calibration, interleaved values
# ---------------------------------------------------------------------------


class Budget(object):
    """Skip rows whose single call would take longer than `max_call` s.

    The same extrapolation as ``_portable.Budget``: along the line through
    the series' last two sizes, or proportionally to n from one long call.
    """

    def __init__(self, max_call):
        self.max_call = max_call
        self.seen = {}

    def record(self, key, n, seconds):
        pts = [p for p in self.seen.get(key, []) if p[0] != n]
        self.seen[key] = (pts + [(n, seconds)])[-2:]

    def skip_reason(self, key, n):
        pts = sorted(self.seen.get(key, []))
        est = None
        if len(pts) == 2:
            (n1, t1), (n2, t2) = pts
            if n2 != n1 and t2 > t1:
                est = t2 + (t2 - t1) / (n2 - n1) * (n - n2)
        if est is None and pts:
            n1, t1 = pts[-1]
            if t1 >= self.max_call / 20 and n1 > 0:
                est = t1 * n / n1
        if est is not None and est > self.max_call:
            return ("one call would take ~%.2g s, over the %g s budget per call "
                    "(--max-call)" % (est, self.max_call))
        return None


def time_calls(call, loops):
    t0 = clock()
    for _ in range(loops):
        call()
    return clock() - t0


def warm_up(call, first, at_least):
    """Call until two consecutive calls agree within 5%; their times."""
    times = [first]
    spent = first
    while len(times) < MAX_WARMUP and spent < MAX_WARMUP_S:
        dt = time_calls(call, 1)
        times.append(dt)
        spent += dt
        if len(times) > at_least and abs(times[-1] - times[-2]) <= STABLE * times[-2]:
            break
    return times


def calibrate(call, last, min_time):
    """Loops per value so that one value lasts at least `min_time` s."""
    loops = 1
    dt = last
    while dt < min_time and loops < (1 << 20):
        loops *= max(2, int(min_time * 1.2 / max(dt / loops, 1e-9) / loops) + 1)
        dt = time_calls(call, loops)
    return loops


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run_request(req):
    """Measure every row of `req` (see the module docstring)."""
    info = interpreter_info()
    budget = Budget(req["max_call"])
    workers = list(req["workers"])
    proc_reason = processes_skip_reason()
    pools = {}
    rows = []
    try:
        for ci, c in enumerate(req["cases"]):
            emit({"event": "progress", "done": ci, "total": len(req["cases"]),
                  "what": "%s %s n=%d" % (c["workload"], c["dtype"] or "", c["n"])})
            plan = [("python", 1)] + [("python-threads", w) for w in workers]
            plan += [("python-processes", w) for w in workers]
            if JYTHON:
                plan += [(JAVA_LABEL, w) for w in sorted(set([1] + workers))]
            items = []
            for name, w in plan:
                row = {"strategy": name, "workload": c["workload"], "n": c["n"],
                       "dtype": c["dtype"], "workers": w}
                rows.append(row)
                if c["workload"] != "range":
                    row["skipped"] = ("this interpreter runs the range workload only "
                                      "(the Python 2.7-compatible worker)")
                    continue
                if name == "python-processes" and proc_reason:
                    row["skipped"] = proc_reason
                    continue
                key = (name, w, c["workload"], c["dtype"])
                row["skipped"] = budget.skip_reason(key, c["n"])
                if row["skipped"]:
                    continue
                try:
                    call = make_call(name, w, c["n"], pools)
                    t0 = clock()
                    result = call()
                    dt = clock() - t0
                    row["result"] = result
                    budget.record(key, c["n"], dt)
                    row["skipped"] = budget.skip_reason(key, c["n"])
                    if row["skipped"]:
                        continue
                    warm = warm_up(call, dt, req.get("warmup", 1))
                    row["warmup_values"] = warm
                    loops = calibrate(call, warm[-1], req["min_time"])
                except Exception as exc:  # reported per row; the run goes on
                    row["error"] = "%s: %s" % (type(exc).__name__, exc)
                    row.pop("result", None)
                    continue
                row["loops"] = loops
                row["values"] = []
                items.append((row, call, key))
            # interleave: round r runs the rows in an order rotated by r
            k = len(items)
            for r in range(req["repeats"]):
                for j in range(k):
                    row, call, key = items[(r + j) % k]
                    row["values"].append(time_calls(call, row["loops"]) / row["loops"])
            for row, call, key in items:
                vals = sorted(row["values"])
                budget.record(key, c["n"], vals[len(vals) // 2])
    finally:
        for pool in pools.values():
            pool.terminate()
            pool.join()
    return {"event": "result", "interpreter": info, "rows": rows}


def main(argv):
    if "--info" in argv[1:]:
        emit(interpreter_info())
        return 0
    req = json.loads(sys.stdin.read())
    emit(run_request(req))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
