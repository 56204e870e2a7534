"""The thin worker: the pure-Python rows, run where the host asks, timed as asked.

It makes the workload data, runs the pure-Python kernels on one thread, on
threads, on worker processes or subinterpreters, and answers "run row k L
times" with seconds and "beat for d seconds" with a sleeper's raw lateness;
the host decides everything else (:mod:`gilfree._timing._loop`).  It runs in
the host (``gilfree._timing._worker``), in subinterpreters (loaded by path
as ``_gilfree_worker``: they can import neither NumPy nor gilfree's compiled
core) and as a script under another Python (``--python PATH``: 3.13t,
Jython 2.7, PyPy, IronPython), answering JSON lines (:func:`serve`;
``--info`` describes the interpreter).  So it is written for Python 2.7 and
3 alike: standard library only, no f-strings, annotations or keyword-only
arguments (a test checks).  CPython 3.8+ runs every row
(:func:`full_profile`); the others run the range workload (and, on Jython,
a Java ``long`` loop, :data:`JAVA_LABEL`).
"""

from __future__ import division, print_function

import json
import os
import platform
import sys
import threading
import time
import zlib
from array import array

try:
    import sysconfig
except ImportError:  # pragma: no cover - an interpreter without it
    sysconfig = None  # type: ignore[assignment]

if sys.version_info[0] == 2:  # pragma: no cover - Python 2 (Jython 2.7) only
    # the loops below iterate over `range`: on Python 2 that would build a
    # list of n integers first, so use the lazy one under the same name
    range = xrange  # noqa: A001, F821

JYTHON = platform.python_implementation() == "Jython" or sys.platform.startswith("java")


def _clock():
    """The best monotonic clock this interpreter has, in seconds."""
    if hasattr(time, "perf_counter"):
        return time.perf_counter
    if JYTHON:  # pragma: no cover - Jython only
        from java.lang import System

        return lambda: System.nanoTime() / 1e9
    return time.time  # pragma: no cover - Python 2 outside the JVM


perf_counter = _clock()

# ---------------------------------------------------------------------------
# the data every interpreter regenerates identically
# ---------------------------------------------------------------------------

#: x[i] = (i * VALUE_MULT) % VALUE_MOD - VALUE_OFFSET: integers in [-1000, 1000].
#: Small integers stored as float64 make every sum of squares exact (n * 10**6
#: stays below 2**53 up to n = 9 * 10**9), so a float reduction gives the same
#: bits in any summation order and results can be checked for equality.  The
#: prime multiplier spreads the values so the data is not a trivial ramp.
VALUE_MULT = 7919
VALUE_MOD = 2001
VALUE_OFFSET = 1000

#: array typecodes of the dtypes the array workloads use (native order, which
#: is also NumPy's default, so the bytes match between interpreters).
TYPECODES = {"float64": "d", "int64": "q"}


def make_values(n, dtype):
    """The input of the ``map`` and ``reduce`` workloads without NumPy: an
    ``array.array`` of `n` elements of `dtype` (``"float64"`` or ``"int64"``),
    ``x[i] = (i * 7919) % 2001 - 1000``, the values of the NumPy generator in
    ``gilfree.bench._cases``.

    >>> list(make_values(4, "int64"))
    [-1000, 916, 831, 746]
    """
    code = TYPECODES[dtype]
    conv = float if code == "d" else int
    return array(code, (conv(i * VALUE_MULT % VALUE_MOD - VALUE_OFFSET) for i in range(n)))


class ArrayData(object):
    """Inputs of one case for the pure-Python kernels (no NumPy needed).

    The kernels only use ``x_mv`` and ``out_mv``, so NumPy-backed case data
    in the bench and this stdlib version are interchangeable.
    """

    def __init__(self, workload, n, dtype):
        self.workload = workload
        self.n = n
        if workload == "range":
            self.x_mv = self.out_mv = None
        elif dtype is None:
            raise ValueError("the {} workload needs a dtype".format(workload))
        else:
            self.x = make_values(n, dtype)
            self.out = array(self.x.typecode, [0]) * len(self.x)
            self.x_mv = memoryview(self.x)
            self.out_mv = memoryview(self.out)

    def fingerprint(self, result):
        """What the host checks: the value, or a CRC-32 of ``out`` for map."""
        if self.workload == "map":
            return {"crc32": zlib.crc32(self.out_mv)}
        return result


# ---------------------------------------------------------------------------
# splitting work and running it on threads
# ---------------------------------------------------------------------------


def shares(n, parts):
    """Split ``range(n)`` into `parts` (>= 1) contiguous ``(start, stop)`` pairs,
    in order, covering ``0 .. n``.

    The lengths differ by at most one, the first ``n % parts`` shares being
    the longer ones (empty shares when ``parts > n``).  Every parallel
    strategy splits its work with this one function, so all of them do
    exactly the same work per worker.

    >>> shares(10, 3)
    [(0, 4), (4, 7), (7, 10)]
    >>> shares(1, 2)
    [(0, 1), (1, 1)]
    """
    if parts < 1:
        raise ValueError("`parts` must be >= 1, got {}".format(parts))
    q, r = divmod(n, parts)
    bounds = []
    a = 0
    for k in range(parts):
        b = a + q + (1 if k < r else 0)
        bounds.append((a, b))
        a = b
    return bounds


def run_in_threads(fn, data, bounds):
    """Call ``fn(data, a, b)`` for each ``(a, b)`` of `bounds` on its own
    ``threading.Thread`` and return the results in share order; the first
    exception any share raised is raised here, after all threads joined.

    This is the code a user writes: start one plain thread per share, join
    them all.  Thread start-up is part of the call on purpose.
    """
    results = [None] * len(bounds)
    errors = []

    def work(k, a, b):
        try:
            results[k] = fn(data, a, b)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k, a, b)) for k, (a, b) in enumerate(bounds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def combine(workload, partials):
    """Merge share results: sums for ``range``/``reduce``, nothing for ``map``."""
    if workload == "map":
        return None
    total = 0
    for p in partials:
        total += p
    return total


# ---------------------------------------------------------------------------
# the pure-Python kernels (the seed's loop, and its array versions)
# ---------------------------------------------------------------------------


def range_sum(data, a, b):
    """``sum(i * i for i in range(a, b))`` as the plain loop a user writes."""
    total = 0
    for i in range(a, b):
        total += i * i
    return total


def map_squares(data, a, b):
    """``out[i] = x[i] * x[i]`` for ``i`` in ``range(a, b)``, element by element."""
    x = data.x_mv
    out = data.out_mv
    for i in range(a, b):
        v = x[i]
        out[i] = v * v


def reduce_squares(data, a, b):
    """Sum of ``x[i] * x[i]`` over ``range(a, b)``."""
    total = 0
    # memoryview slices are zero-copy; iterating one yields Python scalars
    for v in data.x_mv[a:b]:
        total += v * v
    return total


PY_KERNELS = {"range": range_sum, "map": map_squares, "reduce": reduce_squares}

#: The Jython-only row: NOT the seed's loop (see :func:`java_range_sum`).
JAVA_LABEL = "python-threads (jython, java long loop)"


def java_range_sum(data, a, b):  # pragma: no cover - Jython only
    """Sum of squares with Java ``long`` arithmetic in blocks (Jython only).

    The squares and partial sums are computed by
    ``java.lang.Math.multiplyExact``/``addExact`` on Java longs, so the loop
    creates no Python ``long`` (BigInteger) objects.  A block is short enough
    that its sum fits in 63 bits (and ``*Exact`` raise on overflow, so no
    wrong value can pass); each block's sum is added to an exact Python
    integer, so the result is still checked against the exact value.
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
        for i in range(start, stop):
            part = add(part, mul(i, i))
        total += part
        start = stop
    return total


# ---------------------------------------------------------------------------
# what a worker measures: seconds of L calls, and a sleeper's raw lateness
# ---------------------------------------------------------------------------


def time_calls(call, loops):
    """Wall-clock seconds for `loops` consecutive calls of ``call()``."""
    t0 = perf_counter()
    for _ in range(loops):
        call()
    return perf_counter() - t0


def beat(run_once, duration, period=1e-3, clock=None):
    """A sleeper thread's lateness while ``run_once()`` keeps running on this
    thread (until `duration` has passed, at least once): each sleep of
    `period` minus `period`, less what ``clock()`` (its run delay, when
    given) advanced meanwhile.  Returns ``late`` (seconds per beat),
    ``calls`` and ``seconds``; the host makes figures of them
    (:func:`gilfree._timing._loop.heartbeat`)."""
    late = []
    started = threading.Event()
    stop = threading.Event()

    def sleeper():
        started.set()
        while not stop.is_set():
            c0 = clock() if clock else 0.0
            t0 = perf_counter()
            time.sleep(period)
            dt = perf_counter() - t0 - period
            late.append(dt - (clock() - c0) if clock else dt)

    th = threading.Thread(target=sleeper, name="gilfree-heartbeat")
    th.daemon = True
    th.start()
    started.wait()
    calls = 0
    t0 = perf_counter()
    try:
        while True:
            run_once()
            calls += 1
            if perf_counter() - t0 >= duration:
                break
    finally:
        elapsed = perf_counter() - t0
        stop.set()
        th.join()
    return {"late": late, "calls": calls, "seconds": elapsed}


# ---------------------------------------------------------------------------
# subinterpreters (Python 3.13+) and worker processes
# ---------------------------------------------------------------------------

#: Run once in each subinterpreter: load this very file as ``_gilfree_worker``
#: (``import gilfree`` would fail there: NumPy and Cython modules refuse to
#: load in isolated subinterpreters).
_LOADER = (
    "import importlib.util as _u, sys as _s\n"
    "_spec = _u.spec_from_file_location('_gilfree_worker', {path!r})\n"
    "_m = _u.module_from_spec(_spec)\n"
    "_s.modules['_gilfree_worker'] = _m\n"
    "_spec.loader.exec_module(_m)\n"
)


def _interpreters_module():
    """CPython's ``_interpreters`` (3.13+), the layer under PEP 734's
    ``concurrent.interpreters`` and ``InterpreterPoolExecutor``."""
    import _interpreters  # type: ignore[import-not-found]

    return _interpreters


def _free_threaded_build():
    """True on a free-threaded (``Py_GIL_DISABLED``) CPython build."""
    try:
        return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    except Exception:  # no sysconfig, or one that does not know the variable
        return False


def subinterpreters_skip_reason():
    """None where subinterpreters with their own GIL can run, else why not."""
    if sys.version_info < (3, 13):
        return ("needs Python 3.13+ (subinterpreters with their own GIL); this is {}"
                .format(platform.python_version()))
    if _free_threaded_build() and sys.version_info < (3, 14):
        return ("not run on a 3.13 free-threaded build: there a subinterpreter importing a "
                "module was seen spinning for minutes in the type cache's lock "
                "(_PySeqLock_BeginRead); measure it on a GIL build of 3.13, or on 3.14")
    try:
        _interpreters_module()
    except ImportError as exc:
        return "CPython's _interpreters module is unavailable: {}".format(exc)
    return None


class InterpreterTeam(object):
    """`workers` subinterpreters, each with its own GIL (the ``isolated``
    config), that have loaded this file; a call runs one share in each, from
    one thread per interpreter, and each share's result comes back through a
    pipe.

    This drives CPython's ``_interpreters`` module directly, the layer under
    ``InterpreterPoolExecutor``.  The PyPI backport of that executor for 3.13
    (interpreters-pep-734 0.5.0) was dropped: its worker busy-polls a queue
    for each result, and one was seen spinning there for 10 minutes.
    """

    def __init__(self, workers):
        t0 = perf_counter()
        self._mod = _interpreters_module()
        self.workers = workers
        self.ids = []
        try:
            for _ in range(workers):
                self.ids.append(self._mod.create())
                self._exec(self.ids[-1], _LOADER.format(path=os.path.abspath(__file__)))
        except BaseException:
            self.close()
            raise
        self.startup_s = perf_counter() - t0

    def _exec(self, iid, code):
        # getattr: `exec` is a keyword in Python 2, which must parse this file
        err = getattr(self._mod, "exec")(iid, code)
        if err is not None:
            raise RuntimeError("in a subinterpreter: {}".format(getattr(err, "formatted", err)))

    def range_sum(self, n):
        """``sum(i*i for i in range(n))`` split over the subinterpreters."""

        def run(_, iid, share):
            a, b = share
            r, w = os.pipe()
            try:
                try:
                    self._exec(iid, "import os\nos.write({}, str(__import__("
                                    "'_gilfree_worker').range_sum(None, {}, {})).encode())"
                                    .format(w, a, b))
                finally:
                    os.close(w)
                chunks = []
                while True:
                    b_ = os.read(r, 65536)
                    if not b_:
                        break
                    chunks.append(b_)
                return int(b"".join(chunks))
            finally:
                os.close(r)

        # One thread per interpreter: run_in_threads passes each pair as
        # (start, stop), here (interpreter, share).
        pairs = list(zip(self.ids, shares(n, self.workers)))
        return combine("range", run_in_threads(run, None, pairs))

    def close(self):
        ids, self.ids = self.ids, []
        for iid in ids:
            try:
                self._mod.destroy(iid)
            except Exception:  # already gone
                pass


def _range_share(ab):
    """:func:`range_sum` on one ``(start, stop)`` pair (for ``Pool.map``)."""
    return range_sum(None, ab[0], ab[1])


class ProcessTeam(object):
    """A ``multiprocessing.Pool`` of `workers` processes, started and warmed
    beforehand: the ``python-processes`` row, another interpreter's own
    process ceiling (the same loop, N processes, no shared GIL).  The shares
    go to the children as :func:`_range_share` calls; `spawn` starts them
    fresh (the full profile: threads may be alive here), else the platform's
    default start method does (interpreters whose multiprocessing may lack
    contexts)."""

    def __init__(self, workers, spawn=False):
        import multiprocessing

        t0 = perf_counter()
        self.workers = workers
        ctx = multiprocessing.get_context("spawn") if spawn else multiprocessing
        self.pool = ctx.Pool(workers)
        self.pool.map(_range_share, [(0, 1000)] * workers)  # all processes up
        self.startup_s = perf_counter() - t0

    def range_sum(self, n):
        """``sum(i*i for i in range(n))`` split over the processes."""
        return combine("range", self.pool.map(_range_share, shares(n, self.workers), 1))

    def close(self):
        self.pool.terminate()
        self.pool.join()


def processes_skip_reason():
    """None where this interpreter can start worker processes, else why not."""
    if JYTHON:
        return "Jython 2.7 has no multiprocessing module"
    try:
        import multiprocessing  # noqa: F401
    except ImportError as exc:
        return "multiprocessing unavailable: {}".format(exc)
    return None


# ---------------------------------------------------------------------------
# describing the interpreter
# ---------------------------------------------------------------------------


def interpreter_info():
    """Implementation, version, build and GIL state of the running interpreter."""
    impl = platform.python_implementation()
    version = platform.python_version()
    ft_build = _free_threaded_build()
    if impl == "CPython":
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    else:
        # Jython and IronPython have no GIL; PyPy has one.
        gil = impl == "PyPy"
    short = ".".join(version.split(".")[:2]) + ("t" if ft_build else "")
    if impl == "PyPy":
        pv = getattr(sys, "pypy_version_info", None)
        if pv is not None:
            short = "{} {}.{}.{} (Python {})".format(impl, pv[0], pv[1], pv[2], short)
        else:
            short = "{} {}".format(impl, short)
    elif impl != "CPython":
        short = "{} {}".format(impl, version)
    try:
        compiler = platform.python_compiler()
    except Exception:  # pragma: no cover - an interpreter that cannot tell
        compiler = ""
    if JYTHON:  # pragma: no cover - Jython only
        from java.lang import System

        compiler = "Java {} ({})".format(System.getProperty("java.version"),
                                         System.getProperty("java.vm.name"))
    return {
        "executable": sys.executable or "",
        "implementation": impl,
        "version": version,
        "free_threaded_build": ft_build,
        "gil_enabled": bool(gil),
        "compiler": compiler,
        "label": "{}, {}".format(short, "GIL" if gil else "no GIL"),
    }


def full_profile(info):
    """True if the interpreter `info` (:func:`interpreter_info`) describes runs
    every pure-Python row: CPython 3.8+ (e.g. 3.13t).  The others (Jython,
    PyPy, IronPython, older CPython) run the *range profile*: the range
    workload as ``python``, ``python-threads`` and ``python-processes`` (and
    :data:`JAVA_LABEL` on Jython), each row warmed up by the host until its
    timings are stable, and no heartbeat."""
    try:
        major, minor = (int(p) for p in info["version"].split(".")[:2])
    except (KeyError, ValueError):
        return False
    return info.get("implementation") == "CPython" and (major, minor) >= (3, 8)


# ---------------------------------------------------------------------------
# the worker protocol (--python PATH): the host asks, the worker runs
# ---------------------------------------------------------------------------

def _emit(obj, out=None):
    out = out or sys.stdout
    out.write(json.dumps(obj) + "\n")
    out.flush()


def _row_call(name, workers, data, teams, full=True):
    """The zero-argument call that runs strategy `name` once on `data`."""
    fn = PY_KERNELS[data.workload]
    if name == "python":
        return lambda: combine(data.workload, [fn(data, 0, data.n)])
    if name in ("subinterpreters", "python-processes"):
        key = (name, workers)
        if key not in teams:
            teams[key] = (InterpreterTeam(workers) if name == "subinterpreters"
                          else ProcessTeam(workers, spawn=full))
        team = teams[key]
        return lambda: team.range_sum(data.n)
    if name == JAVA_LABEL:
        fn = java_range_sum
    bounds = shares(data.n, workers)
    return lambda: combine(data.workload, run_in_threads(fn, data, bounds))


def serve(lines, out=None):
    """Answer the host's requests, one JSON line each, until ``end``.

    First line out: ``{"interpreter": ..., "full": bool, "java": bool,
    "processes": ..., "subinterpreters": ...}`` (:func:`full_profile`; why
    worker processes or subinterpreters cannot run, or null); the host
    plans the rows from it.  Requests: ``{"op": "case", "case": {"workload",
    "n", "dtype"}, "rows": [[strategy, workers], ...]}`` makes the data;
    ``{"op": "check", "row": k}`` -> one call: ``{"seconds", "result"}``
    (map: a CRC-32 of ``out``) or ``{"error"}``; ``{"op": "time", "row": k,
    "loops": L}`` -> ``{"seconds"}`` for L calls; ``{"op": "beat", "row":
    k, "duration": d}`` -> :func:`beat`.
    """
    info = interpreter_info()
    full = full_profile(info)
    teams = {}
    rows, calls, data = [], {}, None
    _emit({"interpreter": info, "full": full, "java": JYTHON,
           "processes": None if full else processes_skip_reason(),
           "subinterpreters": subinterpreters_skip_reason()}, out)
    try:
        for line in lines:
            req = json.loads(line)
            op = req["op"]
            if op == "end":
                break
            if op == "case":
                c, rows, calls = req["case"], req["rows"], {}
                data = ArrayData(c["workload"], c["n"], c["dtype"]) if rows else None
                _emit({"rows": len(rows)}, out)
            elif op == "check":
                k = req["row"]
                try:
                    name, w = rows[k]
                    call = calls[k] = _row_call(name, w, data, teams, full)
                    t0 = perf_counter()
                    result = call()
                    answer = {"seconds": perf_counter() - t0, "result": data.fingerprint(result)}
                except Exception as exc:  # reported per row; the run goes on
                    answer = {"error": "{}: {}".format(type(exc).__name__, exc)}
                _emit(answer, out)
            elif op == "time":
                _emit({"seconds": time_calls(calls[req["row"]], req["loops"])}, out)
            elif op == "beat":
                _emit(beat(calls[req["row"]], req["duration"]), out)
            else:
                raise ValueError("unknown request {!r}".format(op))
    finally:
        for team in teams.values():
            team.close()
    return 0


def main(argv=None):
    """Script entry: with ``--info``, print :func:`interpreter_info` (one JSON
    line); otherwise :func:`serve` stdin."""
    argv = sys.argv if argv is None else argv
    if "--info" in argv[1:]:
        _emit(interpreter_info())
        return 0
    return serve(iter(sys.stdin.readline, ""))


if __name__ == "__main__":
    sys.exit(main())
