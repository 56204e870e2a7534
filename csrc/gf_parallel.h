/*
 * The chunk runner behind gilfree's parallel-for C-API
 * (src/gilfree/include/gilfree/parallel.h; driven by gilfree._runtime).
 *
 * A parallel_for call is one pool job per round of at most GF_PF_ROUND
 * chunks.  Its state embeds a gf_task first, so the pool's gf_chunk_fn,
 * which is handed a gf_task *, finds the body, its context and the call's
 * result behind it.  Chunk k of the call covers
 * [k*grain, min(n, (k+1)*grain)): its edges depend only on n and grain.
 *
 * A thread-local depth marks a thread that is running a body, so that a
 * parallel_for called from inside a body runs inline on that thread: the
 * pool's threads are already busy with the outer call, and waiting for them
 * could deadlock or oversubscribe the CPUs.
 *
 * Included once, by gilfree._runtime.  No Python.h.
 */
#ifndef GF_PARALLEL_H
#define GF_PARALLEL_H

#define GILFREE_PARALLEL_NO_CLIENT
#include "../src/gilfree/include/gilfree/parallel.h"
#include "gilfree.h"

/* Chunks per pool job: the job's slices hold 32-bit chunk indices. */
#define GF_PF_ROUND ((int64_t)1 << 30)

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define GF_PF_TLS __declspec(thread)
#define gf_pf_load(p) _InterlockedCompareExchange((volatile long *)(p), 0, 0)
#define gf_pf_cas(p, e, d) (_InterlockedCompareExchange((volatile long *)(p), (d), (e)) == (e))
#else
#define GF_PF_TLS __thread
#define gf_pf_load(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
static int gf_pf_cas_(int *p, int expected, int desired)
{
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}
#define gf_pf_cas(p, e, d) gf_pf_cas_((p), (e), (d))
#endif

/* Bodies this thread is inside (0: not in a body). */
static GF_PF_TLS int gf_pf_depth = 0;

typedef struct {
    gf_task task;           /* first: the pool passes &task to gf_pf_run_chunk */
    gilfree_body_fn body;
    void *ctx;
    int64_t n, grain;
    int64_t base;           /* the call's index of this round's chunk 0 */
    gf_job *job;            /* this round's job, to cancel on a nonzero return */
    int rc;                 /* atomic: the first nonzero result, else 0 */
} gf_pf_state;

static int gf_pf_in_body(void) { return gf_pf_depth > 0; }

static int gf_pf_result(gf_pf_state *s) { return (int)gf_pf_load(&s->rc); }

/* Record rc unless a result is recorded already. */
static void gf_pf_set_result(gf_pf_state *s, int rc)
{
    gf_pf_cas(&s->rc, 0, rc);
}

static int gf_pf_call(gilfree_body_fn body, void *ctx, int64_t n, int64_t grain, int64_t k)
{
    int64_t begin = k * grain;
    int64_t end = n - begin < grain ? n : begin + grain; /* no overflow near INT64_MAX */
    int r;
    gf_pf_depth++;
    r = body(ctx, begin, end);
    gf_pf_depth--;
    return r;
}

/* The pool's gf_chunk_fn: chunk c of this round. */
static void gf_pf_run_chunk(gf_task *t, int64_t c)
{
    gf_pf_state *s = (gf_pf_state *)t;
    int r;
    if (gf_pf_load(&s->rc) != 0) return; /* stopped: no new chunk starts */
    r = gf_pf_call(s->body, s->ctx, s->n, s->grain, s->base + c);
    if (r != 0) {
        gf_pf_set_result(s, r);
        gf_job_cancel(s->job);
    }
}

/* Every chunk in order on the calling thread (nested calls, one chunk):
 * returns at the first nonzero result. */
static int gf_pf_inline(gilfree_body_fn body, void *ctx, int64_t n, int64_t grain,
                        int64_t nchunks)
{
    int64_t k;
    for (k = 0; k < nchunks; k++) {
        int r = gf_pf_call(body, ctx, n, grain, k);
        if (r != 0) return r;
    }
    return 0;
}

#endif /* GF_PARALLEL_H */
