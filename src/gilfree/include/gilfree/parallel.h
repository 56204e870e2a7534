/*
 * gilfree/parallel.h: gilfree's thread pool for other extensions.
 *
 * A parallel for-loop that C and Cython extensions can call without the GIL,
 * without OpenMP and without linking against gilfree: the functions reach
 * the extension through a table in a PyCapsule (gilfree._runtime._C_API),
 * bound once by import_gilfree() at module initialisation, the way NumPy's
 * import_array() binds its C-API.
 *
 *     #include "gilfree/parallel.h"      (include dir: gilfree.get_include())
 *
 *     static int body(void *ctx, int64_t begin, int64_t end) { ...; return 0; }
 *
 *     PyMODINIT_FUNC PyInit_mymod(void) {
 *         if (import_gilfree() < 0) return NULL;
 *         ...
 *     }
 *     ...
 *     Py_BEGIN_ALLOW_THREADS
 *     rc = gilfree_parallel_for(n, grain, body, ctx, 0);
 *     Py_END_ALLOW_THREADS
 *     if (gilfree_check(rc) < 0) return NULL;   (Ctrl-C: KeyboardInterrupt)
 *
 * The semantics (docs/parallel-loops.md):
 * - body(ctx, k*grain, min(n, (k+1)*grain)) runs exactly once for every
 *   chunk k, on up to `threads` threads (0: gilfree's process default, which
 *   gilfree.set_num_threads and threadpoolctl limits change), the calling
 *   thread working too.  Chunk boundaries depend only on n and grain.
 * - Returns 0; or the first nonzero value a body returned (no chunk starts
 *   after it is seen); or GILFREE_INTERRUPTED when a signal handler raised
 *   during a call on the main thread; or another GILFREE_* code below.
 * - Callable with or without the GIL, from any thread, from several threads
 *   at once, and from inside a body (a nested call runs inline on the
 *   calling thread).
 *
 * The table pointer below is static: every C file that calls these
 * functions calls import_gilfree() once (a Cython module is one C file).
 * Bodies should not return values in -1000..-1099 (gilfree's codes).
 */
#ifndef GILFREE_PARALLEL_H
#define GILFREE_PARALLEL_H

#ifndef GILFREE_PARALLEL_NO_CLIENT
#include <Python.h> /* first, as Python asks of every file that includes it */
#endif
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The table's version: it only ever grows (new fields at the end), so an
 * extension built against version v runs with any gilfree whose table has
 * version >= v.  (Overridable only for gilfree's own tests.) */
#ifndef GILFREE_PARALLEL_API_VERSION
#define GILFREE_PARALLEL_API_VERSION 1
#endif

/* Return codes (negative, never returned by gilfree for anything else). */
#define GILFREE_INTERRUPTED (-1000)   /* a signal handler raised (Ctrl-C): call gilfree_check */
#define GILFREE_BAD_ARGUMENT (-1001)  /* n < 0, grain < 1, body == NULL or threads < 0 */
#define GILFREE_NOT_IMPORTED (-1002)  /* import_gilfree() was not called in this C file */
#define GILFREE_FORKED (-1003)        /* this is a child forked by a signal handler during
                                       * the call: its work is incomplete here */

typedef int (*gilfree_body_fn)(void *ctx, int64_t begin, int64_t end);

typedef struct gilfree_parallel_api {
    unsigned int version;     /* GILFREE_PARALLEL_API_VERSION of the installed gilfree */
    unsigned int size;        /* sizeof(gilfree_parallel_api) there */
    int (*parallel_for)(int64_t n, int64_t grain, gilfree_body_fn body, void *ctx, int threads);
    int (*num_threads)(void);
    int (*check)(int rc);     /* with the GIL; called for GILFREE_INTERRUPTED only */
} gilfree_parallel_api;

#define GILFREE_PARALLEL_CAPSULE "gilfree._runtime._C_API"

#ifndef GILFREE_PARALLEL_NO_CLIENT
static const gilfree_parallel_api *gilfree_parallel_API = NULL;

/* Run body over [0, n) in chunks of grain on up to `threads` threads. */
static inline int gilfree_parallel_for(int64_t n, int64_t grain, gilfree_body_fn body,
                                       void *ctx, int threads)
{
    if (gilfree_parallel_API == NULL) return GILFREE_NOT_IMPORTED;
    return gilfree_parallel_API->parallel_for(n, grain, body, ctx, threads);
}

/* The process default thread count gilfree would use (threads = 0). */
static inline int gilfree_num_threads(void)
{
    if (gilfree_parallel_API == NULL) return GILFREE_NOT_IMPORTED;
    return gilfree_parallel_API->num_threads();
}

/* With the GIL: for GILFREE_INTERRUPTED, raise the pending exception (the
 * KeyboardInterrupt, or whatever the signal handler raised) and return -1;
 * any other rc is returned as it is. */
static inline int gilfree_check(int rc)
{
    if (rc != GILFREE_INTERRUPTED) return rc;
    if (gilfree_parallel_API == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "gilfree_check: import_gilfree() was not called");
        return -1;
    }
    return gilfree_parallel_API->check(rc);
}

/* With the GIL, once, at module initialisation.  Returns 0, or -1 with an
 * ImportError set (gilfree missing, or older than this header). */
static inline int import_gilfree(void)
{
    PyObject *mod, *cap;
    const gilfree_parallel_api *api;
    mod = PyImport_ImportModule("gilfree._runtime");
    if (mod == NULL) return -1;
    cap = PyObject_GetAttrString(mod, "_C_API");
    Py_DECREF(mod);
    if (cap == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ImportError,
                        "the installed gilfree has no parallel C-API (gilfree._runtime._C_API); "
                        "this extension was built against a newer gilfree: upgrade gilfree");
        return -1;
    }
    api = (const gilfree_parallel_api *)PyCapsule_GetPointer(cap, GILFREE_PARALLEL_CAPSULE);
    Py_DECREF(cap);
    if (api == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ImportError,
                        "gilfree._runtime._C_API is not a " GILFREE_PARALLEL_CAPSULE " capsule");
        return -1;
    }
    if (api->version < GILFREE_PARALLEL_API_VERSION || api->size < sizeof(gilfree_parallel_api)) {
        PyErr_Format(PyExc_ImportError,
                     "this extension was built against gilfree's parallel C-API version %d, "
                     "but the installed gilfree provides version %u: upgrade gilfree",
                     (int)GILFREE_PARALLEL_API_VERSION, api->version);
        return -1;
    }
    gilfree_parallel_API = api;
    return 0;
}
#endif /* GILFREE_PARALLEL_NO_CLIENT */

#ifdef __cplusplus
}
#endif
#endif /* GILFREE_PARALLEL_H */
