#!/usr/bin/env python3
"""Dispatch overhead of gilfree's parallel-for C-API (docs: Parallel loops in
your own extension).

Builds, in a temporary folder and against the installed gilfree, a small C
extension through ``gilfree/parallel.h`` (the C compiler alone, linked
against nothing), then times per call, at 1 and 2 threads, small and large n:

* ``empty``: ``gilfree_parallel_for`` over 2 chunks whose body does nothing
  (pure dispatch: submit, claim, wait);
* ``parallel_for``: a float64 sum of squares written as a loop body, one
  partial per chunk, combined in chunk order;
* ``gilfree``: ``gilfree.sum_of_squares`` on the same array (gilfree's own
  kernels, the same pool);
* ``executor``: a ``ThreadPoolExecutor`` mapping the same C body over the
  same chunks, each call releasing the GIL.

Best of several rounds of back-to-back calls.  Run it on a quiet machine:

    python perf/experiments/parallel_for_overhead.py [rounds]
"""
import os
import sys
import sysconfig
import tempfile
import importlib.util
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import gilfree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import per_call  # noqa: E402

_SRC = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include "gilfree/parallel.h"

typedef struct { const double *x; double *part; int64_t grain; } job_t;

static int sumsq_body(void *ctx, int64_t begin, int64_t end)
{
    job_t *j = (job_t *)ctx;
    double s = 0;
    int64_t i;
    for (i = begin; i < end; i++) s += j->x[i] * j->x[i];
    j->part[begin / j->grain] = s;
    return 0;
}

static int empty_body(void *ctx, int64_t begin, int64_t end) { (void)ctx; (void)begin; (void)end; return 0; }

/* sumsq(array, grain, threads) */
static PyObject *sumsq(PyObject *self, PyObject *args)
{
    PyObject *obj; Py_buffer b; long long grain; int threads, rc;
    job_t j; int64_t n, k, nch; double total = 0;
    if (!PyArg_ParseTuple(args, "OLi", &obj, &grain, &threads)) return NULL;
    if (PyObject_GetBuffer(obj, &b, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    n = b.len / 8; nch = (n + grain - 1) / grain;
    j.x = (const double *)b.buf; j.grain = grain;
    j.part = (double *)malloc((size_t)(nch ? nch : 1) * sizeof(double));
    Py_BEGIN_ALLOW_THREADS
    rc = gilfree_parallel_for(n, grain, sumsq_body, &j, threads);
    Py_END_ALLOW_THREADS
    for (k = 0; k < nch; k++) total += j.part[k];
    free(j.part);
    PyBuffer_Release(&b);
    if (gilfree_check(rc) != 0) return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_RuntimeError, "rc %d", rc);
    return PyFloat_FromDouble(total);
}

/* chunk(array, begin, end): one chunk's sum, GIL released (the executor's unit) */
static PyObject *chunk(PyObject *self, PyObject *args)
{
    PyObject *obj; Py_buffer b; long long begin, end; double s = 0; int64_t i;
    if (!PyArg_ParseTuple(args, "OLL", &obj, &begin, &end)) return NULL;
    if (PyObject_GetBuffer(obj, &b, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    for (i = begin; i < end; i++) s += ((const double *)b.buf)[i] * ((const double *)b.buf)[i];
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    return PyFloat_FromDouble(s);
}

/* empty(threads): two chunks, bodies that do nothing */
static PyObject *empty(PyObject *self, PyObject *arg)
{
    int threads = (int)PyLong_AsLong(arg), rc;
    Py_BEGIN_ALLOW_THREADS
    rc = gilfree_parallel_for(2, 1, empty_body, NULL, threads);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(rc);
}

static PyMethodDef methods[] = {
    {"sumsq", sumsq, METH_VARARGS, NULL},
    {"chunk", chunk, METH_VARARGS, NULL},
    {"empty", empty, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "pf_probe", NULL, -1, methods};
PyMODINIT_FUNC PyInit_pf_probe(void)
{
    if (import_gilfree() < 0) return NULL;
    return PyModule_Create(&moddef);
}
"""


def build(folder):
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    if not shutil.which(cc[0]):
        sys.exit("parallel_for_overhead: no C compiler")
    src = os.path.join(folder, "pf_probe.c")
    with open(src, "w") as f:
        f.write(_SRC)
    out = os.path.join(folder, "pf_probe" + sysconfig.get_config_var("EXT_SUFFIX"))
    flags = ["-shared", "-fPIC", "-O3", "-ffp-contract=off"]
    if sys.platform == "darwin":
        flags += ["-undefined", "dynamic_lookup"]
    subprocess.run(cc + flags + ["-I", sysconfig.get_paths()["include"], "-I", gilfree.get_include(),
                                 src, "-o", out], check=True)
    spec = importlib.util.spec_from_file_location("pf_probe", out)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as d:
        m = build(d)
    print(f"gilfree {gilfree.__version__}, {gilfree.cpu_count()} CPUs usable; best of {rounds} rounds, "
          "microseconds per call")
    for threads in (1, 2):
        t = min(per_call(lambda: m.empty(threads), 20000) for _ in range(rounds))
        print(f"empty parallel_for, 2 chunks, {threads} thread(s): {t * 1e6:8.2f}")
    for n, grain in ((10**4, 2048), (10**6, 65536)):
        x = np.random.default_rng(0).random(n)
        nch = (n + grain - 1) // grain
        edges = [(k * grain, min(n, (k + 1) * grain)) for k in range(nch)]
        reps = max(20, 2 * 10**6 // n)
        for threads in (1, 2):
            pf = min(per_call(lambda: m.sumsq(x, grain, threads), reps) for _ in range(rounds))
            gf = min(per_call(lambda: gilfree.sum_of_squares(x, threads=threads), reps)
                     for _ in range(rounds))
            with ThreadPoolExecutor(threads) as ex:
                def run_ex():
                    return sum(ex.map(lambda e: m.chunk(x, e[0], e[1]), edges))
                tx = min(per_call(run_ex, reps) for _ in range(rounds))
            assert abs(m.sumsq(x, grain, threads) - float(np.dot(x, x))) <= 1e-9 * float(np.dot(x, x))
            print(f"n={n:>8} ({nch:>3} chunks), {threads} thread(s): parallel_for {pf * 1e6:9.1f}   "
                  f"gilfree.sum_of_squares {gf * 1e6:9.1f}   ThreadPoolExecutor {tx * 1e6:9.1f}")


if __name__ == "__main__":
    main()
