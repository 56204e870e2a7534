"""gilfree's parallel-for C-API, from an extension built the way a user's is.

A module-scoped fixture builds, in a temporary folder and against the
*installed* gilfree, two small extensions that expose the same functions:

* ``pfx_cy``: a Cython project (``pyproject.toml``, ``setup.py``, ``.pyx``)
  that writes ``cimport gilfree.parallel as gp`` and finds the header through
  ``gilfree.get_include()``, installed with pip;
* ``pfx_c``: plain C through ``gilfree/parallel.h``, compiled with the C
  compiler alone and linked against nothing.

Without a C compiler (or without Cython, setuptools and pip for the Cython
project) the tests skip: a wheel's tests may run where nothing can be built.
Ctrl-C and fork run in fresh interpreters with a timeout, so a hang fails
instead of freezing the suite.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import gilfree
from gilfree import _reference, _runtime

CODES = _runtime.PARALLEL_CODES
INTERRUPTED = CODES["INTERRUPTED"]
BAD_ARGUMENT = CODES["BAD_ARGUMENT"]

pytestmark = pytest.mark.thread_unsafe(reason="changes the process default; builds extensions")

# The C helpers both modules share: chunk records, sleeping, spinning.
COMMON_C = r"""
#include <stdint.h>
#include <string.h>
#if defined(_WIN32)
#include <windows.h>
static void pfx_sleep_us(int us) { Sleep(us / 1000 ? us / 1000 : 1); }
#else
#include <time.h>
static void pfx_sleep_us(int us)
{
    struct timespec ts;
    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (long)(us % 1000000) * 1000;
    nanosleep(&ts, NULL);
}
#endif
static double pfx_now(void)
{
#if defined(_WIN32)
    return (double)GetTickCount64() / 1e3;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
#endif
}
static void pfx_spin_us(int us)
{
    double end = pfx_now() + us / 1e6;
    volatile double x = 0;
    while (pfx_now() < end) x += 1;
}
typedef struct {
    int64_t grain;
    int64_t *sums;          /* per chunk: sum of i*i */
    int *counts;            /* per chunk: how many times it ran */
    unsigned long *idents;  /* per chunk: the thread that ran it */
    int sleep_us, spin_us;
    int64_t stop_chunk;     /* return stop_code from this chunk (-1: never) */
    int stop_code;
    int inner_grain;        /* > 0: run the chunk as a nested parallel_for */
    int nested_bad;         /* a nested chunk ran on another thread */
    unsigned long outer_ident;
} pfx_ctx;
"""

CYTHON_PYX = r'''
# cython: language_level=3, boundscheck=False, wraparound=False
# cython: freethreading_compatible=True
from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free

cdef extern from "Python.h":
    unsigned long PyThread_get_thread_ident() nogil

cimport gilfree.parallel as gp

cdef extern from "pfx_common.h" nogil:
    ctypedef struct pfx_ctx:
        int64_t grain
        int64_t *sums
        int *counts
        unsigned long *idents
        int sleep_us, spin_us
        int64_t stop_chunk
        int stop_code
        int inner_grain
        int nested_bad
        unsigned long outer_ident
    void pfx_sleep_us(int us)
    void pfx_spin_us(int us)

gp.import_gilfree()

API_VERSION = gp.API_VERSION
CODES = {"INTERRUPTED": gp.INTERRUPTED, "BAD_ARGUMENT": gp.BAD_ARGUMENT,
         "NOT_IMPORTED": gp.NOT_IMPORTED, "FORKED": gp.FORKED}


cdef int inner_body(void *ctx, int64_t begin, int64_t end) noexcept nogil:
    # a nested call's body: the outer chunk's start is in stop_chunk
    cdef pfx_ctx *c = <pfx_ctx *>ctx
    cdef int64_t i, s = 0, off = c.stop_chunk
    if <unsigned long>PyThread_get_thread_ident() != c.outer_ident:
        c.nested_bad = 1
    for i in range(begin + off, end + off):
        s += i * i
    c.sums[0] += s
    return 0


cdef int body(void *ctx, int64_t begin, int64_t end) noexcept nogil:
    cdef pfx_ctx *c = <pfx_ctx *>ctx
    cdef int64_t k = begin // c.grain, i, s = 0
    cdef pfx_ctx inner
    cdef int rc
    c.counts[k] += 1
    c.idents[k] = <unsigned long>PyThread_get_thread_ident()
    if c.sleep_us:
        pfx_sleep_us(c.sleep_us)
    if c.spin_us:
        pfx_spin_us(c.spin_us)
    if k == c.stop_chunk:
        return c.stop_code
    if c.inner_grain > 0:
        inner = c[0]
        inner.sums = &c.sums[k]
        inner.outer_ident = c.idents[k]
        inner.nested_bad = 0
        inner.stop_chunk = begin
        rc = gp.parallel_for(end - begin, c.inner_grain, inner_body, &inner, 0)
        if inner.nested_bad:
            c.nested_bad = 1
        return rc
    for i in range(begin, end):
        s += i * i
    c.sums[k] = s
    return 0


def run(long long n, long long grain, int threads, int sleep_us=0, int spin_us=0,
        long long stop_chunk=-1, int stop_code=0, int inner_grain=0, bint null_body=False,
        bint check=True, bint keep_gil=False):
    """(rc, sums, counts, idents, nested_bad) of one parallel_for."""
    cdef int64_t nchunks = (n // grain + (1 if n % grain else 0)) if (n > 0 and grain > 0) else 0
    cdef int64_t m = nchunks if nchunks > 0 else 1
    cdef pfx_ctx c
    cdef int rc
    cdef gp.body_fn fn = body
    if null_body:
        fn = NULL
    c.grain = grain
    c.sums = <int64_t *>calloc(m, sizeof(int64_t))
    c.counts = <int *>calloc(m, sizeof(int))
    c.idents = <unsigned long *>calloc(m, sizeof(unsigned long))
    c.sleep_us = sleep_us
    c.spin_us = spin_us
    c.stop_chunk = stop_chunk
    c.stop_code = stop_code
    c.inner_grain = inner_grain
    c.nested_bad = 0
    try:
        if keep_gil:
            rc = gp.parallel_for(n, grain, fn, &c, threads)
        else:
            with nogil:
                rc = gp.parallel_for(n, grain, fn, &c, threads)
        if check:
            rc = gp.check(rc)
        return (rc, [c.sums[k] for k in range(nchunks)], [c.counts[k] for k in range(nchunks)],
                [c.idents[k] for k in range(nchunks)], bool(c.nested_bad))
    finally:
        free(c.sums)
        free(c.counts)
        free(c.idents)


def num_threads():
    return gp.num_threads()
'''

C_SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include "gilfree/parallel.h"
#include "pfx_common.h"

static unsigned long pfx_ident(void) { return PyThread_get_thread_ident(); }

static int inner_body(void *ctx, int64_t begin, int64_t end)
{
    pfx_ctx *c = (pfx_ctx *)ctx;
    int64_t i, s = 0, off = c->stop_chunk;
    if (pfx_ident() != c->outer_ident) c->nested_bad = 1;
    for (i = begin + off; i < end + off; i++) s += i * i;
    c->sums[0] += s;
    return 0;
}

static int body(void *ctx, int64_t begin, int64_t end)
{
    pfx_ctx *c = (pfx_ctx *)ctx;
    int64_t k = begin / c->grain, i, s = 0;
    c->counts[k] += 1;
    c->idents[k] = pfx_ident();
    if (c->sleep_us) pfx_sleep_us(c->sleep_us);
    if (c->spin_us) pfx_spin_us(c->spin_us);
    if (k == c->stop_chunk) return c->stop_code;
    if (c->inner_grain > 0) {
        pfx_ctx inner = *c;
        int rc;
        inner.sums = &c->sums[k];
        inner.outer_ident = c->idents[k];
        inner.nested_bad = 0;
        inner.stop_chunk = begin;
        rc = gilfree_parallel_for(end - begin, c->inner_grain, inner_body, &inner, 0);
        if (inner.nested_bad) c->nested_bad = 1;
        return rc;
    }
    for (i = begin; i < end; i++) s += i * i;
    c->sums[k] = s;
    return 0;
}

static PyObject *run(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"n", "grain", "threads", "sleep_us", "spin_us", "stop_chunk",
                            "stop_code", "inner_grain", "null_body", "check", "keep_gil",
                            NULL};
    long long n, grain, stop_chunk = -1;
    int threads, sleep_us = 0, spin_us = 0, stop_code = 0, inner_grain = 0, null_body = 0;
    int check = 1, keep_gil = 0, rc;
    int64_t nchunks, m, k;
    pfx_ctx c;
    PyObject *sums = NULL, *counts = NULL, *idents = NULL, *res = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "LLi|iiLiippp", names, &n, &grain, &threads,
                                     &sleep_us, &spin_us, &stop_chunk, &stop_code,
                                     &inner_grain, &null_body, &check, &keep_gil))
        return NULL;
    nchunks = (n > 0 && grain > 0) ? n / grain + (n % grain ? 1 : 0) : 0;
    m = nchunks > 0 ? nchunks : 1;
    memset(&c, 0, sizeof(c));
    c.grain = grain;
    c.sums = (int64_t *)calloc((size_t)m, sizeof(int64_t));
    c.counts = (int *)calloc((size_t)m, sizeof(int));
    c.idents = (unsigned long *)calloc((size_t)m, sizeof(unsigned long));
    c.sleep_us = sleep_us;
    c.spin_us = spin_us;
    c.stop_chunk = stop_chunk;
    c.stop_code = stop_code;
    c.inner_grain = inner_grain;
    if (!c.sums || !c.counts || !c.idents) { PyErr_NoMemory(); goto done; }
    if (keep_gil) {
        rc = gilfree_parallel_for(n, grain, null_body ? NULL : body, &c, threads);
    } else {
        Py_BEGIN_ALLOW_THREADS
        rc = gilfree_parallel_for(n, grain, null_body ? NULL : body, &c, threads);
        Py_END_ALLOW_THREADS
    }
    if (check && gilfree_check(rc) == -1 && PyErr_Occurred()) goto done;
    if (!(sums = PyList_New(nchunks)) || !(counts = PyList_New(nchunks)) ||
        !(idents = PyList_New(nchunks)))
        goto done;
    for (k = 0; k < nchunks; k++) {
        PyList_SET_ITEM(sums, k, PyLong_FromLongLong(c.sums[k]));
        PyList_SET_ITEM(counts, k, PyLong_FromLong(c.counts[k]));
        PyList_SET_ITEM(idents, k, PyLong_FromUnsignedLong(c.idents[k]));
    }
    res = Py_BuildValue("iOOOO", rc, sums, counts, idents, c.nested_bad ? Py_True : Py_False);
done:
    Py_XDECREF(sums);
    Py_XDECREF(counts);
    Py_XDECREF(idents);
    free(c.sums);
    free(c.counts);
    free(c.idents);
    return res;
}

/* A thread Python knows nothing of calls parallel_for. */
#include <pthread.h>
typedef struct { pfx_ctx c; int64_t n; int threads; int rc; } pfx_thread_arg;
static void *pfx_thread_main(void *p)
{
    pfx_thread_arg *a = (pfx_thread_arg *)p;
    a->rc = gilfree_parallel_for(a->n, a->c.grain, body, &a->c, a->threads);
    return NULL;
}

static PyObject *run_in_c_thread(PyObject *self, PyObject *args)
{
    long long n, grain;
    int threads;
    int64_t nchunks, k;
    pfx_thread_arg a;
    pthread_t th;
    PyObject *sums;
    if (!PyArg_ParseTuple(args, "LLi", &n, &grain, &threads)) return NULL;
    nchunks = n / grain + (n % grain ? 1 : 0);
    memset(&a, 0, sizeof(a));
    a.n = n;
    a.threads = threads;
    a.c.grain = grain;
    a.c.stop_chunk = -1;
    a.c.sums = (int64_t *)calloc((size_t)nchunks + 1, sizeof(int64_t));
    a.c.counts = (int *)calloc((size_t)nchunks + 1, sizeof(int));
    a.c.idents = (unsigned long *)calloc((size_t)nchunks + 1, sizeof(unsigned long));
    Py_BEGIN_ALLOW_THREADS
    if (pthread_create(&th, NULL, pfx_thread_main, &a) == 0) pthread_join(th, NULL);
    else a.rc = 12345;
    Py_END_ALLOW_THREADS
    sums = PyList_New(nchunks);
    for (k = 0; sums && k < nchunks; k++)
        PyList_SET_ITEM(sums, k, PyLong_FromLongLong(a.c.counts[k] == 1 ? a.c.sums[k] : -1));
    free(a.c.sums);
    free(a.c.counts);
    free(a.c.idents);
    return sums ? Py_BuildValue("iN", a.rc, sums) : NULL;
}

static PyObject *num_threads(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(gilfree_num_threads());
}

/* What a module that skipped import_gilfree() gets: a code, not a crash. */
static PyObject *unimported(PyObject *self, PyObject *unused)
{
    const gilfree_parallel_api *saved = gilfree_parallel_API;
    int a, b;
    gilfree_parallel_API = NULL;
    a = gilfree_parallel_for(10, 1, body, NULL, 0);
    b = gilfree_num_threads();
    gilfree_parallel_API = saved;
    return Py_BuildValue("ii", a, b);
}

static PyMethodDef methods[] = {
    {"run", (PyCFunction)(void (*)(void))run, METH_VARARGS | METH_KEYWORDS, NULL},
    {"num_threads", num_threads, METH_NOARGS, NULL},
    {"run_in_c_thread", run_in_c_thread, METH_VARARGS, NULL},
    {"unimported", unimported, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, MODNAME_STR, NULL, -1, methods};

#define PFX_CAT2(a, b) a##b
#define PFX_CAT(a, b) PFX_CAT2(a, b)
PyMODINIT_FUNC PFX_CAT(PyInit_, MODNAME)(void)
{
    PyObject *m;
    if (import_gilfree() < 0) return NULL;
    m = PyModule_Create(&moddef);
#ifdef Py_GIL_DISABLED
    if (m) PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
    if (m && PyModule_AddIntConstant(m, "API_VERSION", GILFREE_PARALLEL_API_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
"""

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64", "Cython>=3.0", "gilfree"]
build-backend = "setuptools.build_meta"

[project]
name = "pfx-cy"
version = "0.0.1"
"""

SETUP_PY = """\
import gilfree
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(ext_modules=cythonize(
    [Extension("pfx_cy", ["pfx_cy.pyx"], include_dirs=[gilfree.get_include(), "."])],
    compiler_directives={"language_level": "3"},
))
"""


def _compiler() -> list[str] | None:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    parts = cc.split()
    return parts if parts and shutil.which(parts[0]) else None


def _build_c(folder: Path, modname: str, defines: tuple[str, ...] = ()) -> Path:
    """Compile C_SOURCE as extension `modname` in `folder`, linked against nothing."""
    cc = _compiler()
    if cc is None or sys.platform == "win32":
        pytest.skip("no C compiler (or Windows: the plain C build here is POSIX-only)")
    src = folder / f"{modname}.c"
    src.write_text(C_SOURCE, encoding="utf-8")
    (folder / "pfx_common.h").write_text(COMMON_C, encoding="utf-8")
    out = folder / (modname + sysconfig.get_config_var("EXT_SUFFIX"))
    # The header must compile without warnings (-Wextra where CPython's own
    # headers are clean under it, as its C-extension tests check from 3.12).
    flags = ["-shared", "-fPIC", "-O2", "-pthread", "-Wall", "-Werror"]
    if sys.version_info >= (3, 12):
        flags += ["-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
    if sys.platform == "darwin":
        flags += ["-undefined", "dynamic_lookup"]
    cmd = cc + flags + [f"-DMODNAME={modname}", f'-DMODNAME_STR="{modname}"']
    cmd += [f"-D{d}" for d in defines]
    cmd += ["-I", sysconfig.get_paths()["include"], "-I", gilfree.get_include(), "-I", str(folder),
            str(src), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out


def _build_cython(folder: Path) -> None:
    """pip-install the Cython project into folder/site."""
    for mod in ("Cython", "setuptools", "pip"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} is not installed: the Cython extension cannot be built")
    if _compiler() is None if sys.platform != "win32" else shutil.which("cl") is None:
        pytest.skip("no C compiler")
    proj = folder / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (proj / "setup.py").write_text(SETUP_PY, encoding="utf-8")
    (proj / "pfx_cy.pyx").write_text(CYTHON_PYX, encoding="utf-8")
    (proj / "pfx_common.h").write_text(COMMON_C, encoding="utf-8")
    # --no-build-isolation: build against *this* environment's gilfree.
    r = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
         "--disable-pip-version-check", "--no-cache-dir", "-q", "--target", str(folder / "site"),
         str(proj)],
        capture_output=True, text=True, timeout=900,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def _load(name: str, folder: Path):
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{"cython": (module, folder), "c": (module, folder)}, each possibly a
    skip reason instead."""
    out = {}
    base = tmp_path_factory.mktemp("pfx")
    for kind in ("cython", "c"):
        folder = base / kind
        folder.mkdir()
        try:
            if kind == "cython":
                _build_cython(folder)
                out[kind] = (_load("pfx_cy", folder / "site"), folder / "site")
            else:
                _build_c(folder, "pfx_c")
                out[kind] = (_load("pfx_c", folder), folder)
        except pytest.skip.Exception as exc:
            out[kind] = str(exc)
    return out


@pytest.fixture(params=["cython", "c"])
def ext(request, built):
    got = built[request.param]
    if isinstance(got, str):
        pytest.skip(got)
    return got


def expected_sums(n, grain):
    return [sum(i * i for i in range(b, min(n, b + grain))) for b in range(0, n, grain)]


def distinct_threads(mod, n, grain, threads, tries=3):
    """Threads that ran chunks (sleeping bodies, so a loaded machine still
    lets helpers in; a few tries)."""
    best = 0
    for _ in range(tries):
        rc, _s, counts, idents, _ = mod.run(n, grain, threads, sleep_us=2000)
        assert rc == 0 and counts == [1] * len(counts)
        best = max(best, len(set(idents)))
        if best > 1:
            break
    return best


# ------------------------------------------------------------------ results
@pytest.mark.parametrize("n,grain", [(1, 1), (10, 3), (1000, 7), (100_000, 1000), (5, 100)])
@pytest.mark.parametrize("threads", [1, 2, 3, 0])
def test_exact_results_each_chunk_once(ext, n, grain, threads):
    mod, _ = ext
    rc, sums, counts, idents, _ = mod.run(n, grain, threads)
    assert rc == 0
    assert counts == [1] * len(expected_sums(n, grain))
    assert sums == expected_sums(n, grain)
    assert sum(sums) == (n - 1) * n * (2 * n - 1) // 6


def test_called_with_the_gil_held(ext):
    mod, _ = ext
    n, grain = 100_000, 999
    rc, sums, counts, _i, _ = mod.run(n, grain, 2, keep_gil=True)
    assert rc == 0 and counts == [1] * len(counts) and sums == expected_sums(n, grain)


def test_empty_range_calls_nothing(ext):
    mod, _ = ext
    assert mod.run(0, 5, 2)[:3] == (0, [], [])


def test_more_than_one_thread(ext, restore_num_threads):
    mod, _ = ext
    assert distinct_threads(mod, 40, 1, 2) == 2
    gilfree.set_num_threads(2)
    assert distinct_threads(mod, 40, 1, 0) == 2


def test_caller_works_too(ext):
    mod, _ = ext
    rc, _s, _c, idents, _ = mod.run(40, 1, 2, sleep_us=1000)
    assert threading.get_ident() in idents


def test_set_num_threads_honoured(ext, restore_num_threads):
    mod, _ = ext
    assert mod.num_threads() == gilfree.get_num_threads()
    gilfree.set_num_threads(1)
    assert mod.num_threads() == 1
    rc, _s, _c, idents, _ = mod.run(20, 1, 0, sleep_us=1000)
    assert set(idents) == {threading.get_ident()}
    gilfree.set_num_threads(3)
    assert mod.num_threads() == 3


def test_threadpoolctl_limit_honoured(ext, restore_num_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not hasattr(threadpoolctl, "register"):
        pytest.skip("threadpoolctl < 3.2")
    mod, _ = ext
    gilfree.register_threadpoolctl()
    gilfree.set_num_threads(2)
    with threadpoolctl.threadpool_limits(1, user_api="gilfree"):
        assert mod.num_threads() == 1
        rc, _s, _c, idents, _ = mod.run(20, 1, 0, sleep_us=1000)
        assert set(idents) == {threading.get_ident()}
    assert mod.num_threads() == 2


def test_explicit_threads_one_stays_on_caller(ext):
    mod, _ = ext
    rc, _s, _c, idents, _ = mod.run(20, 1, 1, sleep_us=500)
    assert set(idents) == {threading.get_ident()}


def test_deterministic_chunks(ext):
    mod, _ = ext
    ref = mod.run(10_007, 13, 1)[1]
    for threads in (2, 3, 8):
        assert mod.run(10_007, 13, threads)[1] == ref


def test_nested_calls_run_inline(ext):
    mod, _ = ext
    n, grain = 20_000, 1000
    rc, sums, counts, _i, nested_bad = mod.run(n, grain, 2, inner_grain=37)
    assert rc == 0 and counts == [1] * 20
    assert not nested_bad  # every inner chunk ran on its outer chunk's thread
    assert sums == expected_sums(n, grain)


def test_nonzero_return_stops(ext):
    mod, _ = ext
    # one thread: chunks run in order, so exactly chunks 0..5 ran
    rc, _s, counts, _i, _ = mod.run(100, 1, 1, stop_chunk=5, stop_code=7)
    assert rc == 7
    assert counts == [1] * 6 + [0] * 94
    # several threads: chunk 0 stops at once, the others sleep; few ran
    rc, _s, counts, _i, _ = mod.run(2000, 1, 2, sleep_us=1000, stop_chunk=0, stop_code=-3)
    assert rc == -3
    assert max(counts) == 1
    assert sum(counts) < 100, sum(counts)


def test_bad_arguments(ext):
    mod, _ = ext
    assert mod.run(-1, 1, 0)[0] == BAD_ARGUMENT
    assert mod.run(10, 0, 0)[0] == BAD_ARGUMENT
    assert mod.run(10, -5, 0)[0] == BAD_ARGUMENT
    assert mod.run(10, 1, -1)[0] == BAD_ARGUMENT
    assert mod.run(10, 1, 0, null_body=True)[0] == BAD_ARGUMENT
    assert mod.run(10, 1, 2, null_body=True, check=False)[0] == BAD_ARGUMENT
    # huge thread counts are capped, not an error
    rc, sums, counts, _i, _ = mod.run(100, 10, 10**6)
    assert rc == 0 and counts == [1] * 10


def test_codes_match(ext):
    mod, _ = ext
    assert mod.API_VERSION == _runtime.PARALLEL_API_VERSION
    if hasattr(mod, "CODES"):
        assert mod.CODES == CODES
    assert len(set(CODES.values())) == 4 and all(v < 0 for v in CODES.values())


def test_concurrent_callers(ext):
    mod, _ = ext
    n, grain = 50_000, 777
    want = expected_sums(n, grain)
    errors = []

    def worker():
        try:
            for threads in (2, 0, 3):
                rc, sums, counts, _i, _ = mod.run(n, grain, threads)
                assert rc == 0 and sums == want and counts == [1] * len(want)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    ts = [threading.Thread(target=worker) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors


def test_called_from_a_thread_python_does_not_know(built):
    got = built["c"]
    if isinstance(got, str):
        pytest.skip(got)
    mod, _ = got
    n, grain = 200_000, 1234
    for threads in (0, 1, 2):
        rc, sums = mod.run_in_c_thread(n, grain, threads)
        assert rc == 0 and sums == expected_sums(n, grain)


def test_unimported_table_gives_a_code(built):
    got = built["c"]
    if isinstance(got, str):
        pytest.skip(got)
    mod, _ = got
    assert mod.unimported() == (CODES["NOT_IMPORTED"], CODES["NOT_IMPORTED"])


def test_newer_header_than_gilfree_is_an_import_error(built, tmp_path):
    if isinstance(built["c"], str):
        pytest.skip(built["c"])
    _build_c(tmp_path, "pfx_future", defines=("GILFREE_PARALLEL_API_VERSION=99",))
    with pytest.raises(ImportError, match="version 99.*upgrade gilfree"):
        _load("pfx_future", tmp_path)


# ----------------------------------------------------- subprocess scenarios
def _run_script(folder: Path, modname: str, body: str, timeout: float = 120):
    code = f"import sys; sys.path.insert(0, {str(folder)!r})\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGINT delivery tested on Linux")
@pytest.mark.parametrize("threads,keep_gil", [(2, False), (1, False), (2, True)])
def test_ctrl_c(ext, threads, keep_gil):
    mod, folder = ext
    # With the GIL held no Python thread can send the signal: a shell does,
    # and the latency counts from when it was due.
    script = f"""
    import os, signal, subprocess, threading, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import {mod.__name__} as m
    sent = {{}}
    def fire():
        sent["t"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)
    lat = []
    for attempt in range(2):
        if {keep_gil}:
            sent["t"] = time.perf_counter() + 0.3
            killer = subprocess.Popen(["sh", "-c", "sleep 0.3; kill -INT %d" % os.getpid()])
        else:
            killer = threading.Timer(0.3, fire)
            killer.start()
        try:
            m.run(10**7, 1, {threads}, spin_us=1000, keep_gil={keep_gil})   # hours of work
        except KeyboardInterrupt:
            lat.append(time.perf_counter() - sent["t"])
        else:
            raise SystemExit("finished without an interrupt")
        killer.wait() if {keep_gil} else killer.join()
        rc, sums, counts, _i, _ = m.run(1000, 7, 2)
        assert rc == 0 and counts == [1] * len(counts)
    print("LATENCIES", *lat)
    """
    r = _run_script(folder, mod.__name__, script)
    assert r.returncode == 0, r.stdout + r.stderr
    lat = [float(x) for x in r.stdout.split("LATENCIES", 1)[1].split()]
    print(f"Ctrl-C latencies ({mod.__name__}, threads={threads}, keep_gil={keep_gil}):", lat)
    assert max(lat) < 0.5, lat  # the goal is 0.2 s plus a chunk; slack for loaded machines


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signal handlers tested on Linux")
def test_signal_handler_exception_is_raised(ext):
    mod, folder = ext
    script = f"""
    import os, signal, threading
    class Stop(Exception):
        pass
    def handler(signum, frame):
        raise Stop("from the handler")
    signal.signal(signal.SIGUSR1, handler)
    import {mod.__name__} as m
    threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGUSR1)).start()
    try:
        m.run(10**7, 1, 2, spin_us=1000)
    except Stop as exc:
        print("RAISED", exc)
    """
    r = _run_script(folder, mod.__name__, script)
    assert r.returncode == 0 and "RAISED from the handler" in r.stdout, r.stdout + r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signal handlers tested on Linux")
def test_fork_in_a_signal_handler(ext):
    # The child of a fork made by a handler during a call cannot wait for
    # the parent's helpers: the call returns FORKED there, and later calls work.
    mod, folder = ext
    script = f"""
    import os, signal, threading
    import {mod.__name__} as m
    def handler(signum, frame):
        pid = os.fork()
        if pid:
            _, status = os.waitpid(pid, 0)
            print("CHILD-EXIT", os.waitstatus_to_exitcode(status), flush=True)
            raise KeyboardInterrupt
    signal.signal(signal.SIGUSR1, handler)
    threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGUSR1)).start()
    try:
        rc = m.run(10**7, 1, 2, spin_us=1000)[0]
    except KeyboardInterrupt:
        print("PARENT-INTERRUPTED", flush=True)
    else:
        ok = m.run(1000, 7, 2)[0] == 0
        os._exit(0 if rc == {CODES["FORKED"]} and ok else 5)
    """
    r = _run_script(folder, mod.__name__, script, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "CHILD-EXIT 0" in r.stdout and "PARENT-INTERRUPTED" in r.stdout, r.stdout + r.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child(ext):
    mod, folder = ext
    script = f"""
    import os, sys
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
    import {mod.__name__} as m
    def ok():
        rc, sums, counts, _i, _ = m.run(30_000, 100, 2)
        want = [sum(i * i for i in range(b, min(30_000, b + 100))) for b in range(0, 30_000, 100)]
        return rc == 0 and sums == want and counts == [1] * len(want)
    assert ok()
    assert m.run(40, 1, 2, sleep_us=1000)[0] == 0   # the pool's workers are up
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if ok() and ok() else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert ok()
    print("FORK-OK")
    """
    r = _run_script(folder, mod.__name__, script, timeout=60)
    assert r.returncode == 0 and "FORK-OK" in r.stdout, r.stdout + r.stderr


def test_parallel_pxd_and_header_ship_with_the_package():
    inc = Path(gilfree.get_include())
    assert (inc / "gilfree" / "parallel.h").is_file()
    assert (Path(gilfree.__file__).parent / "parallel.pxd").is_file()
    assert isinstance(_runtime._C_API, object)
    assert type(_runtime._C_API).__name__ == "PyCapsule"


# ------------------------------------------------------- gilfree._pfor
# The bench's gilfree-parallel-for row: gilfree._openmp's loops written on
# this C-API inside the package (src/gilfree/_pfor.pyx), built everywhere.

# gilfree's array chunk in float64/int64 elements: _pfor's grain.
PF_GRAIN = _runtime.config()["chunk_bytes"] // 8
PF_SIZES = [0, 1, 2, 7, PF_GRAIN - 1, PF_GRAIN, PF_GRAIN + 1, 2 * PF_GRAIN, 3 * PF_GRAIN + 17]


def _pfor():
    from gilfree import _pfor

    return _pfor


def _omp_or_none():
    try:
        from gilfree import _openmp
    except ImportError:
        return None
    return _openmp if getattr(_openmp, "available", False) else None


def _chunked_reference(x: np.ndarray) -> float:
    """Each chunk summed in order, the chunk sums added in order."""
    total = 0.0
    for b in range(0, x.size, PF_GRAIN):
        c = x[b:b + PF_GRAIN]
        total += float(np.add.accumulate(c * c)[-1])  # accumulate: strictly in order
    return total


def test_pfor_module_is_the_parallel_for_row():
    pf = _pfor()
    assert pf.available is True
    assert "parallel-for" in pf.__doc__ and "gilfree-parallel-for" in pf.__doc__
    src = Path(gilfree.__file__).with_name("_pfor.pyx")
    if src.is_file():  # a source checkout or editable install
        text = src.read_text()
        assert "cimport parallel as gp" in text and "gp.import_gilfree()" in text


@pytest.mark.parametrize("dtype", ["float64", "int64"])
@pytest.mark.parametrize("n", PF_SIZES)
def test_pfor_square(dtype, n):
    pf = _pfor()
    rng = np.random.default_rng(n)
    if dtype == "float64":
        x = rng.standard_normal(n)
    else:  # large values: the products wrap, as NumPy's do
        x = rng.integers(-(2**62), 2**62, n, dtype=np.int64)
    want = x * x
    for threads in (1, 2, 3):
        out = np.full(n, 7, dtype=dtype)
        got = np.asarray(pf.square(x, out, threads))  # `out`, as a memoryview (like _openmp)
        assert got.shape == (n,) and (n == 0 or np.shares_memory(got, out))
        np.testing.assert_array_equal(out, want)
    omp = _omp_or_none()
    if omp is not None:
        np.testing.assert_array_equal(omp.square(x, np.empty_like(x), 2), want)


@pytest.mark.parametrize("n", PF_SIZES)
def test_pfor_sum_of_squares_float_is_chunk_ordered_and_deterministic(n):
    pf = _pfor()
    x = np.random.default_rng(1000 + n).standard_normal(n) * 1e3
    got = [pf.sum_of_squares(x, t) for t in (1, 2, 3)]
    assert all(type(g) is float for g in got)
    # the same bits on every thread count
    assert len({g.hex() for g in got}) == 1, got
    assert got[0] == _chunked_reference(x)
    if n:
        assert got[0] == pytest.approx(float(np.dot(x, x)), rel=1e-12)
    else:
        assert got[0] == 0.0


@pytest.mark.parametrize("n", [0, 1, 5, PF_GRAIN + 3, 2 * PF_GRAIN + 1])
def test_pfor_sum_of_squares_int64_wraps_like_numpy(n):
    pf = _pfor()
    x = np.random.default_rng(n).integers(-(2**40), 2**40, n, dtype=np.int64)
    want = int(np.dot(x, x))  # wraps modulo 2**64
    exact = sum(int(v) * int(v) for v in x.tolist())
    assert want == ((exact + 2**63) % 2**64) - 2**63
    for t in (1, 2, 3):
        got = pf.sum_of_squares(x, t)
        assert type(got) is int and got == want
    omp = _omp_or_none()
    if omp is not None:
        assert omp.sum_of_squares(x, 2) == want


def test_pfor_accepts_read_only_input():
    pf = _pfor()
    x = np.arange(10.0)
    x.flags.writeable = False
    np.testing.assert_array_equal(pf.square(x, np.empty(10), 2), x * x)
    assert pf.sum_of_squares(x, 2) == 285.0


RANGES = [(0, 0, 1), (0, 1, 1), (5, 5, 1), (10, 0, 1), (0, 10, 3), (-7, 8, 1), (8, -7, -1),
          (-300_001, 300_000, 1), (-1, -500_000, -3), (1000, -1000, -7), (0, 400_001, 5),
          (-(2**31), -(2**31) + 270_000, 1)]


@pytest.mark.parametrize("r", RANGES)
def test_pfor_sum_squares_range_exact(r):
    pf = _pfor()
    want = sum(i * i for i in range(*r))
    for t in (1, 2, 3):
        assert pf.sum_squares_range(*r, t) == want
    assert gilfree.sum_squares_range(*r) == want


def test_pfor_sum_squares_range_extremes():
    pf = _pfor()
    assert pf.sum_squares_range(0, 2**63 - 1, 2**62, 2) == 2**124
    for r in [(-(2**63), -(2**63) + 1000, 1), (2**63 - 1000, 2**63 - 1, 1),
              (2**63 - 1, -(2**63), -(2**62)), (-(2**63), 2**63 - 1, 2**60)]:
        assert pf.sum_squares_range(*r, 2) == _reference.sum_squares_range(*r)
    with pytest.raises(ValueError, match="`step` must not be zero"):
        pf.sum_squares_range(0, 10, 0, 2)
    with pytest.raises(ValueError, match="`stop` must fit in int64"):
        pf.sum_squares_range(0, 2**63, 1, 2)


@pytest.mark.parametrize("nthreads", [0, -1])
def test_pfor_nthreads_must_be_positive(nthreads):
    pf = _pfor()
    x = np.arange(4.0)
    msg = "`nthreads` must be a positive int"
    with pytest.raises(ValueError, match=msg):
        pf.square(x, np.empty(4), nthreads)
    with pytest.raises(ValueError, match=msg):
        pf.square(x[:0], np.empty(0), nthreads)
    with pytest.raises(ValueError, match=msg):
        pf.sum_of_squares(x, nthreads)
    with pytest.raises(ValueError, match=msg):
        pf.sum_of_squares(x[:0], nthreads)
    with pytest.raises(ValueError, match=msg):
        pf.sum_squares_range(0, 10, 1, nthreads)


def test_pfor_wrong_arguments_raise_cleanly():
    pf = _pfor()
    x = np.arange(6.0)
    bad = [
        lambda: pf.square(x.astype(np.float32), np.empty(6, np.float32), 2),  # dtype
        lambda: pf.square(x, np.empty(6, np.int64), 2),  # mixed dtypes
        lambda: pf.square(x.reshape(2, 3), np.empty((2, 3)), 2),  # 2-D
        lambda: pf.square(x[::2], np.empty(3), 2),  # not contiguous
        lambda: pf.square(x, np.empty(5), 2),  # out too short
        lambda: pf.sum_of_squares(x.astype(np.int32), 2),
        lambda: pf.sum_of_squares(x.reshape(2, 3), 2),
        lambda: pf.sum_of_squares(x[::2], 2),
        lambda: pf.sum_of_squares([1.0, 2.0], 2),
        lambda: pf.sum_squares_range(0, 1.5, 1, 2),
    ]
    for call in bad:
        with pytest.raises((TypeError, ValueError)):
            call()
    ro = np.empty(6)
    ro.flags.writeable = False
    with pytest.raises((TypeError, ValueError)):
        pf.square(x, ro, 2)
    with pytest.raises(ValueError, match="`out` must have 6 elements, got 5"):
        pf.square(x, np.empty(5), 2)
    # nothing was left behind: the module still works
    assert pf.sum_of_squares(x, 2) == 55.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGINT delivery tested on Linux")
@pytest.mark.parametrize("threads", [1, 2])
def test_pfor_ctrl_c_raises_keyboard_interrupt(threads):
    # gp.check(rc) in _pfor turns GILFREE_INTERRUPTED into the pending
    # KeyboardInterrupt; the module still works afterwards.
    script = f"""
    import os, signal, threading, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from gilfree import _pfor
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.perf_counter()
    try:
        _pfor.sum_squares_range(0, 2**62, 1, {threads})   # hours of work
    except KeyboardInterrupt:
        print("INTERRUPTED", time.perf_counter() - t0)
    else:
        raise SystemExit("finished without an interrupt")
    timer.join()
    assert _pfor.sum_squares_range(0, 1000, 1, 2) == sum(i * i for i in range(1000))
    """
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert float(r.stdout.split("INTERRUPTED", 1)[1]) < 5.0, r.stdout
