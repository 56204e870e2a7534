/*
 * gilfree: plain C kernels and a small thread pool.
 *
 * No Python.h, no mutable global state: every function works on what it is
 * given, so all of it is reentrant and safe to call without the GIL.  The
 * only statics are const tables (the SIMD dispatch table).
 */
#ifndef GILFREE_H
#define GILFREE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ dtypes */
typedef enum {
    GF_INT8 = 0, GF_INT16, GF_INT32, GF_INT64,
    GF_UINT8, GF_UINT16, GF_UINT32, GF_UINT64,
    GF_FLOAT32, GF_FLOAT64,
    GF_NDTYPES
} gf_dtype;

/* ------------------------------------------------------- wide unsigned sum */
/* Exact sums of squares need up to 190 bits: int64 squares reach 2**126 and a
 * range may hold 2**64 of them.  Little-endian limbs. */
typedef struct { uint64_t w[3]; } gf_u192;

/* -------------------------------------------------------------------- tasks */
typedef enum {
    GF_OP_SQUARE = 0,     /* out[i] = x[i] * x[i] over a 2-D strided view   */
    GF_OP_SUMSQ,          /* per-chunk sum of x[i] * x[i]                    */
    GF_OP_RANGE_SUMSQ,    /* per-chunk sum of i * i, i = start + k * step   */
    GF_OP_RANGE_FILL      /* out[k] = (T)(start + k * step) squared in T    */
} gf_op;

/*
 * One call's work, split into `nchunks` chunks of `chunk` logical elements.
 * Elements are numbered in C order over a (n0, n1) view: element f lives at
 * x + (f / n1) * xs0 + (f % n1) * xs1 (byte strides).  A chunk writes only its
 * own elements and its own slot of `partials`, so chunks run in any order on
 * any thread, and the partials are combined in chunk order afterwards: the
 * result does not depend on how many threads ran.
 *
 * x and out must be aligned for their type: every element's address a
 * multiple of the itemsize (the kernels load and store through typed
 * pointers, which C requires to be aligned).  Callers copy other data first.
 */
typedef struct {
    int op;                 /* gf_op */
    int dtype;              /* gf_dtype of x (or of out for RANGE_FILL) */
    int check_overflow;     /* SQUARE / RANGE_FILL: flag results that don't fit */
    int stream;             /* the data outgrows the last-level cache (the caller's
                             * call, by its stream threshold): SQUARE writes a
                             * contiguous out with non-temporal stores */
    const char *x;
    char *out;
    int64_t n0, n1;         /* logical shape; n = n0 * n1 */
    int64_t xs0, xs1;       /* byte strides of x */
    int64_t os0, os1;       /* byte strides of out */
    int64_t n;              /* number of elements */
    int64_t chunk;          /* elements per chunk (> 0) */
    int64_t first;          /* element where chunk 0 of this round starts */
    int64_t nchunks;        /* chunks in this round (see gf_round) */
    int64_t start, step;    /* RANGE_* */
    double *fpartials;      /* SUMSQ on floats: one per chunk */
    gf_u192 *ipartials;     /* SUMSQ on ints, RANGE_SUMSQ: one per chunk */
    volatile int overflowed;/* set atomically, only ever to 1, when a result didn't fit */
    volatile int fpstatus;  /* SQUARE on floats: IEEE flags raised (GF_FPE_* bits, ORed atomically) */
} gf_task;

typedef void (*gf_chunk_fn)(gf_task *task, int64_t chunk_index);

/* ----------------------------------------------------------- tuning */
/* Every tuning constant lives here, once; Python reads them through
 * gilfree._runtime.config().  Figures: 2-core AMD EPYC (Zen 3) KVM guest.
 *
 * Chunking.
 * GF_CHUNK_BYTES of input per chunk for array work: 512 KiB (65,536 float64,
 * the size of a Zen 3 L2).  perf/goals.py goal 7 sweeps 16 KiB-2 MiB:
 * 512 KiB was the fastest for square at 10^6 on 2 threads in four runs of
 * five (1.07-1.33x faster than 128 KiB, the earlier default), and an
 * interleaved A/B at 10^6-10^8 gave it 0.98-1.15x (square) and 1.03-1.07x
 * (sum of squares) against 128 KiB: fewer, longer streams keep the hardware
 * prefetchers trained.  Per-chunk costs (an atomic increment, ~50 ns) are
 * then far under 1%, and a chunk still lasts well under a millisecond, so a
 * Ctrl-C cancels quickly.
 * Mid-size inputs (a few chunks) are cut into at least `spread` chunks so the
 * threads finish together (10^5 float64 is 7 chunks: on 2 threads one runs 4,
 * at most 1.75x; 8 chunks allow 2x), never below GF_SPREAD_MIN_BYTES.
 * Reductions pass GF_SPREAD_REDUCE whatever the thread count, so their chunks,
 * and so their float results, never depend on it; elementwise work passes
 * GF_SPREAD_PER_THREAD x threads. */
#define GF_CHUNK_BYTES 524288
#define GF_SPREAD_PER_THREAD 4
#define GF_SPREAD_REDUCE 8
#define GF_SPREAD_MIN_BYTES 16384
/* Inputs up to this many bytes are one chunk, run by the caller alone (a
 * 10^4-float64 call gained nothing from a second thread here); above it the
 * spread rule cuts them for the threads.  It was GF_CHUNK_BYTES itself until
 * chunks grew to 512 KiB. */
#define GF_PARALLEL_MIN_BYTES 131072
/* Range terms per chunk: 30-60 us of work at 2-4 G terms/s, so a Ctrl-C is
 * seen quickly and a thread's share stays even. */
#define GF_RANGE_CHUNK 131072
/* A chunk is never longer than chunk_bytes / itemsize elements (or
 * GF_RANGE_CHUNK terms), whatever the input's size: a broadcast view of
 * 2**54 elements reads no memory, but its chunks must still end within
 * milliseconds for Ctrl-C to be seen (0.2 s is the bound promised).  Work is
 * therefore run in rounds of at most GF_ROUND_CHUNKS chunks, each round one
 * pool job with one buffer of partials: 65,536 partials (1.5 MiB for
 * integers) cover 32 GiB of 8-byte input, so any array that fits in memory
 * is one round; only broadcast views and long ranges take several.  Float
 * partials are combined across rounds in the same running compensated sum,
 * so the rounds never change a result. */
#define GF_ROUND_CHUNKS 65536
/* Calls on fewer elements keep the GIL (NumPy's habit): releasing and
 * re-taking it costs ~0.1 us, and re-taking it can wait a whole switch
 * interval (5 ms) when another thread is busy in Python. */
#define GF_GIL_RELEASE_MIN 512
/* How long a calling thread works before it takes the GIL back to look for
 * signals (Ctrl-C): 20 ms keeps SIGINT latency far under 0.2 s for one GIL
 * round-trip per 20 ms of work. */
#define GF_SIGNAL_CHECK_NS 20000000
/* How long an idle pool worker polls for new work before it sleeps on a
 * condition variable (GILFREE_SPIN_US overrides): 100 us covers the gap
 * between back-to-back calls from a loop, and costs nothing when idle. */
#define GF_SPIN_NS_DEFAULT 100000

/* Fill t->chunk for t->n elements of `itemsize` bytes and set up round 0
 * (t->first, t->nchunks); returns the number of rounds (0 when n is 0). */
int64_t gf_plan_chunks(gf_task *t, int64_t itemsize, int64_t chunk_bytes, int64_t spread);
/* The same for t->n range terms, `chunk` terms per chunk. */
int64_t gf_plan_range(gf_task *t, int64_t chunk);
/* Point t at round r (0 <= r < the count the planner returned). */
void gf_round(gf_task *t, int64_t r);

/* The first element (numbered as in gf_task, over x, n0, n1, xs0, xs1, n
 * and dtype of t) whose square overflows by the kernels' test for
 * check_overflow, or -1: what an OverflowError names. */
int64_t gf_first_overflow(const gf_task *t);

/* SIMD levels compiled in.  Each level is the same C code compiled for a
 * different target; gf_simd_best() picks the best the CPU supports. */
typedef enum { GF_SIMD_BASELINE = 0, GF_SIMD_AVX2 = 1, GF_SIMD_AVX512 = 2, GF_SIMD_NLEVELS } gf_simd;

int gf_simd_compiled(int level);        /* 1 if this build has the level */
int gf_simd_supported(int level);       /* 1 if built and the CPU runs it */
int gf_simd_best(void);
const char *gf_simd_name(int level);
gf_chunk_fn gf_chunk_runner(int level); /* NULL if not compiled */
int gf_stream_compiled(void);           /* 1 if task.stream can take effect */

/* Combine per-chunk partials in chunk order. */
double gf_combine_f64(const double *p, int64_t n);
/* The same, across rounds: add p[0..n) to a running compensated sum
 * sc[0] + sc[1] (start from {0, 0}); gf_ksum_result gives its value.
 * Combining round by round gives the bits of one gf_combine_f64 call. */
void gf_combine_f64_into(const double *p, int64_t n, double *sc);
double gf_ksum_result(const double *sc);
void gf_combine_u192(const gf_u192 *p, int64_t n, gf_u192 *total);

/* ---------------------------------------------------------------- the pool */
/* The most threads one call may use, the calling thread included
 * (gilfree.MAX_THREADS): far above any core count, low enough that a typo
 * (threads=10**6) is an error instead of a million OS threads.  The caller
 * works too, so the pool never starts more than GF_MAX_THREADS - 1 workers. */
#define GF_MAX_THREADS 1024

/*
 * A job is a gf_task plus the bookkeeping to share its chunks between the
 * calling thread and up to `max_helpers` pool workers.  It lives in the
 * caller's frame; the pool only links it while it is active.
 */
/* At most this many threads get a home slice of a job's chunks; any more
 * only steal.  Bounds the job's size (it lives on the caller's stack).  A
 * build with -DGF_JOB_SLICES=1 claims every chunk from one shared counter
 * (the A/B of perf/experiments/claiming_ab.py). */
#ifndef GF_JOB_SLICES
#define GF_JOB_SLICES 64
#endif

typedef struct gf_job {
    gf_task *task;
    gf_chunk_fn run;
    /* The chunks are cut into nslices contiguous slices, one per thread
     * (the caller's is slice 0).  Each is (front << 32 | back): its owner
     * claims at the front, a thread out of work steals at the back. */
    int64_t slice[GF_JOB_SLICES];
    int nslices;
    int joined;             /* helpers that ever attached (atomic) */
    int cancelled;          /* atomic; workers stop claiming when set */
    int max_helpers;
    int helpers;            /* workers attached now (pool mutex) */
    int linked;             /* in the pool's list (pool mutex) */
    int caller_cpu;         /* the submitting thread's CPU, or -1 */
    unsigned int fpctl;     /* the caller's FP control modes (gf_fpstatus.h),
                             * under which helpers run its chunks */
    struct gf_job *prev, *nextjob;
} gf_job;

typedef struct gf_pool gf_pool;

/* spin_ns: how long an idle worker polls for new work before it sleeps on a
 * condition variable.  Returns NULL on failure. */
gf_pool *gf_pool_create(int64_t spin_ns);
/* Stop and join all workers and free the pool.  Only when no job is active. */
void gf_pool_destroy(gf_pool *pool);
/* Number of worker threads started so far. */
int gf_pool_size(gf_pool *pool);
/* How many times a worker woke on its caller's CPU and stepped aside. */
int64_t gf_pool_step_asides(gf_pool *pool);
/* Make sure at least n workers exist; returns how many exist (may be < n if
 * the OS refuses threads). */
int gf_pool_reserve(gf_pool *pool, int n);

void gf_job_init(gf_job *job, gf_task *task, gf_chunk_fn run, int max_helpers);
/* Link the job so idle workers (up to max_helpers) help with it. */
void gf_pool_submit(gf_pool *pool, gf_job *job);
/*
 * Run chunks on the calling thread, then wait for helpers, for at most
 * budget_ns (<= 0: no limit).  Returns 1 when every chunk is finished and no
 * helper still touches the job (it is then unlinked: safe to free), 0 when the
 * budget ran out first (call again, or cancel).  pool may be NULL for a job
 * that was never submitted.
 */
int gf_job_work(gf_pool *pool, gf_job *job, int64_t budget_ns);
/* Ask everyone to stop claiming chunks of this job (chunks already started
 * finish).  Follow with gf_job_work until it returns 1. */
void gf_job_cancel(gf_job *job);

int64_t gf_now_ns(void);

/* ------------------------------------------------------------ the sampler */
/* A native helper thread that reads, every period_ns, the CPU time of a list
 * of threads of this process (kind GF_SAMPLE_THREAD) or of processes
 * (GF_SAMPLE_PROCESS) from /proc, into a buffer of `capacity` readings
 * allocated by gf_sampler_create.  It never calls into Python.  Linux only:
 * elsewhere create fails with GF_SAMPLER_UNSUPPORTED (csrc/gf_sampler.c). */
typedef struct gf_sampler gf_sampler;
enum { GF_SAMPLE_THREAD = 0, GF_SAMPLE_PROCESS = 1 };
enum {
    GF_SAMPLER_BADARG = 1,      /* n < 1, period < 10 us, capacity < 2, id <= 0 */
    GF_SAMPLER_NOMEM,
    GF_SAMPLER_NOSUCHID,        /* no /proc file for an id */
    GF_SAMPLER_UNSUPPORTED,     /* this OS has no per-thread data */
    GF_SAMPLER_BUSY,            /* start while running */
    GF_SAMPLER_NOTRUNNING,      /* stop while stopped */
    GF_SAMPLER_NOTHREAD         /* the OS refused the helper thread */
};
/* A reading of an id whose file could not be read (the thread ended). */
#define GF_SAMPLE_GONE (-1)

gf_sampler *gf_sampler_create(const int64_t *ids, const int *kinds, int n, int64_t period_ns,
                              int64_t capacity, int *error);
/* Start (or restart: the buffer starts over) the helper thread. */
int gf_sampler_start(gf_sampler *s);
/* Stop and join the helper thread; the readings stay until the next start. */
int gf_sampler_stop(gf_sampler *s);
void gf_sampler_destroy(gf_sampler *s);
int gf_sampler_supported(void);
int64_t gf_sampler_count(const gf_sampler *s);
int gf_sampler_ids(const gf_sampler *s);
/* [count] CLOCK_MONOTONIC ns of each reading */
const int64_t *gf_sampler_times(const gf_sampler *s);
/* [count * ids]: ns on a CPU so far (schedstat), or 1/0 running (stat), or
 * GF_SAMPLE_GONE; gf_sampler_source(s, i) is 1 where id i has only stat */
const int64_t *gf_sampler_values(const gf_sampler *s);
int gf_sampler_source(const gf_sampler *s, int i);
/* The helper thread's own CPU time and wall time over its last run. */
int64_t gf_sampler_cpu_ns(const gf_sampler *s);
int64_t gf_sampler_wall_ns(const gf_sampler *s);

#ifdef __cplusplus
}
#endif
#endif /* GILFREE_H */
