#!/usr/bin/env python3
"""How late a plain thread starts while another runs a GIL-free C call.

Two ``threading.Thread``s, A then B, each run one C call that releases the
GIL (detaches, on a free-threaded build) and computes for `ms` milliseconds.
The experiment prints, per round, when ``a.start()`` returned, when B's target
began, when ``b.start()`` returned and when both were joined (ms after
``a.start()`` was called), for two callees:

* ``minimal``: a 30-line C extension built here (Python's C API only: one
  function that releases the GIL around a loop on the clock; it declares
  ``Py_mod_gil = Py_MOD_GIL_NOT_USED``, so a free-threaded build keeps its
  GIL off), compiled with the C compiler into a temporary directory;
* ``gilfree``: ``gilfree.sum_squares_range(..., threads=1)`` over a range
  sized to take about as long.

If the two rows look alike, whatever delays B is the interpreter's or the
OS scheduler's, not gilfree's (``ft_placement.py`` shows where the
threads wait).  Run it with each Python:

    python perf/experiments/ft_start_delay.py [ms] [rounds]
    ~/.cache/gilfree-pythons/venv-3.13t/bin/python perf/experiments/ft_start_delay.py
"""
import importlib.util
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time

_SRC = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* spin(ms): compute for ms milliseconds with the GIL released */
static PyObject *spin(PyObject *self, PyObject *arg)
{
    double ms = PyFloat_AsDouble(arg), end;
    volatile unsigned long k = 0;
    if (ms == -1.0 && PyErr_Occurred()) return NULL;
    Py_BEGIN_ALLOW_THREADS
    end = now() + ms * 1e-3;
    while (now() < end) k++;
    Py_END_ALLOW_THREADS
    return PyLong_FromUnsignedLong(k);
}

static PyMethodDef methods[] = {{"spin", spin, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static PyModuleDef_Slot slots[] = {
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ft_minimal", NULL, 0, methods,
                                 slots};
PyMODINIT_FUNC PyInit_ft_minimal(void) { return PyModuleDef_Init(&def); }
"""


def build_minimal(tmp):
    """Compile and import the minimal extension."""
    src = os.path.join(tmp, "ft_minimal.c")
    so = os.path.join(tmp, "ft_minimal" + sysconfig.get_config_var("EXT_SUFFIX"))
    with open(src, "w") as f:
        f.write(_SRC)
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    subprocess.run(cc + ["-O2", "-shared", "-fPIC", "-I", sysconfig.get_paths()["include"],
                         src, "-o", so], check=True)
    spec = importlib.util.spec_from_file_location("ft_minimal", so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def rounds_of(call, rounds):
    """Per round: (a.start returned, B began, b.start returned, joined) in ms."""
    rows = []
    for _ in range(rounds):
        began = {}

        def run(name):
            began[name] = time.perf_counter()
            call()

        a = threading.Thread(target=run, args=("A",))
        b = threading.Thread(target=run, args=("B",))
        t0 = time.perf_counter()
        a.start()
        t1 = time.perf_counter()
        b.start()
        t2 = time.perf_counter()
        a.join()
        b.join()
        t3 = time.perf_counter()
        rows.append(tuple(1e3 * (v - t0) for v in (t1, began["B"], t2, t3)))
        time.sleep(0.05)
    return rows


def main():
    ms = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    import gilfree
    # a range whose sum of squares takes about `ms` on one thread
    n = 10**6
    while True:
        t = time.perf_counter()
        gilfree.sum_squares_range(n, threads=1)
        t = time.perf_counter() - t
        if t > 0.005:
            break
        n *= 4
    n = int(n * ms * 1e-3 / t)
    with tempfile.TemporaryDirectory() as tmp:
        minimal = build_minimal(tmp)
        callees = {"minimal": lambda: minimal.spin(ms),
                   "gilfree": lambda: gilfree.sum_squares_range(n, threads=1)}
        print(f"Python {sys.version.split()[0]}, GIL enabled: "
              f"{getattr(sys, '_is_gil_enabled', lambda: True)()}; each call ~{ms:g} ms "
              f"(gilfree: range({n}))")
        print("ms after a.start() was called; medians, then every round")
        print(f"  {'callee':8} {'a.start ret':>11} {'B began':>8} {'b.start ret':>11} {'joined':>7}")
        all_rows = {}
        for name, call in callees.items():
            call()  # warm
            all_rows[name] = rounds_of(call, rounds)
        for name, rows in all_rows.items():
            med = [statistics.median(r[i] for r in rows) for i in range(4)]
            print(f"  {name:8} {med[0]:11.2f} {med[1]:8.2f} {med[2]:11.2f} {med[3]:7.2f}  (median)")
        for name, rows in all_rows.items():
            for r in rows:
                print(f"  {name:8} {r[0]:11.2f} {r[1]:8.2f} {r[2]:11.2f} {r[3]:7.2f}")


if __name__ == "__main__":
    main()
