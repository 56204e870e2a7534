/*
 * A small work-sharing thread pool for gilfree.
 *
 * Why not a Python executor: a ThreadPoolExecutor round-trip costs 55-70 us
 * on the 2-core dev VM, while a kernel call on 10^4 elements takes a few us.
 * Here a call costs one locked list insert plus, when workers are still
 * spinning from the previous call, no wake-up at all.
 *
 * Design:
 * - The caller's job (a gf_task split into chunks) is linked into the pool's
 *   list.  Idle workers attach to the first job that wants helpers and claim
 *   chunks with an atomic fetch-add; the caller claims chunks too, so a job
 *   always completes even when every worker is busy elsewhere: many Python
 *   threads can call at once without deadlock and without being serialized.
 * - After finishing work a worker spins for spin_ns (new work is then picked
 *   up in well under a microsecond) before it sleeps on a condition variable.
 * - Workers block every signal, so SIGINT always reaches a Python thread.
 * - A worker woken onto its caller's CPU moves off it (Linux; see
 *   gf_step_aside).
 * - Cancellation: a flag the workers read between chunks.
 * The pool holds no Python state; fork safety is handled by the owner, which
 * drops the pool in the child (its threads do not exist there).
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getcpu, CPU_* */
#endif
#include <stdlib.h>
#include <string.h>

#include "gilfree.h"
#include "gf_fpstatus.h"
#if defined(__linux__)
#include <sched.h>
#endif

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <process.h>
typedef SRWLOCK gf_mutex;
typedef CONDITION_VARIABLE gf_cond;
typedef HANDLE gf_thread;
#define gf_mutex_init(m) InitializeSRWLock(m)
#define gf_mutex_destroy(m) ((void)0)
#define gf_mutex_lock(m) AcquireSRWLockExclusive(m)
#define gf_mutex_unlock(m) ReleaseSRWLockExclusive(m)
#define gf_cond_init(c) InitializeConditionVariable(c)
#define gf_cond_destroy(c) ((void)0)
#define gf_cond_wait(c, m) SleepConditionVariableSRW(c, m, INFINITE, 0)
#define gf_cond_signal(c) WakeConditionVariable(c)
#define gf_cond_broadcast(c) WakeAllConditionVariable(c)
static void gf_cond_timedwait_ns(gf_cond *c, gf_mutex *m, int64_t ns)
{
    DWORD ms = (DWORD)(ns / 1000000);
    SleepConditionVariableSRW(c, m, ms ? ms : 1, 0);
}
#else
#include <pthread.h>
#include <signal.h>
#include <time.h>
typedef pthread_mutex_t gf_mutex;
typedef pthread_cond_t gf_cond;
typedef pthread_t gf_thread;
#define gf_mutex_init(m) pthread_mutex_init(m, NULL)
#define gf_mutex_destroy(m) pthread_mutex_destroy(m)
#define gf_mutex_lock(m) pthread_mutex_lock(m)
#define gf_mutex_unlock(m) pthread_mutex_unlock(m)
#define gf_cond_init(c) pthread_cond_init(c, NULL)
#define gf_cond_destroy(c) pthread_cond_destroy(c)
#define gf_cond_wait(c, m) pthread_cond_wait(c, m)
#define gf_cond_signal(c) pthread_cond_signal(c)
#define gf_cond_broadcast(c) pthread_cond_broadcast(c)
/* Relative timeouts on the realtime clock: the waits are short and always
 * re-checked, so a clock step only lengthens or shortens one of them. */
static void gf_cond_timedwait_ns(gf_cond *c, gf_mutex *m, int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ns / 1000000000);
    ts.tv_nsec += (long)(ns % 1000000000);
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(c, m, &ts);
}
#endif

/* ------------------------------------------------------------- atomics */
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define gf_load64(p) InterlockedCompareExchange64((volatile LONG64 *)(p), 0, 0)
#define gf_store64(p, v) InterlockedExchange64((volatile LONG64 *)(p), (v))
#define gf_fetch_add64(p, v) InterlockedExchangeAdd64((volatile LONG64 *)(p), (v))
#define gf_load32(p) InterlockedCompareExchange((volatile LONG *)(p), 0, 0)
#define gf_store32(p, v) InterlockedExchange((volatile LONG *)(p), (v))
#define gf_fetch_add32(p, v) InterlockedExchangeAdd((volatile LONG *)(p), (v))
#define gf_cas64(p, e, d) \
    (InterlockedCompareExchange64((volatile LONG64 *)(p), (d), (e)) == (e))
#define gf_relax() YieldProcessor()
#else
#define gf_load64(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define gf_store64(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define gf_fetch_add64(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define gf_load32(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define gf_store32(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define gf_fetch_add32(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
static int gf_cas64(int64_t *p, int64_t expected, int64_t desired)
{
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}
#if defined(__x86_64__) || defined(__i386__)
#define gf_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define gf_relax() __asm__ __volatile__("yield")
#else
#define gf_relax() ((void)0)
#endif
#endif

/* A call on GF_MAX_THREADS threads: its caller and this many workers. */
#define GF_POOL_MAX_WORKERS (GF_MAX_THREADS - 1)

struct gf_pool {
    gf_mutex mu;
    gf_cond work_cv;        /* idle workers sleep here */
    gf_cond done_cv;        /* callers waiting for helpers sleep here */
    gf_job *head, *tail;    /* active jobs, oldest first */
    int nworkers;
    int sleeping;           /* workers in gf_cond_wait(work_cv) */
    int waiting;            /* callers in a wait on done_cv */
    int shutdown;
    int64_t spin_ns;
    int64_t seq;            /* bumped (atomically, under mu) on each submit */
    int64_t step_asides;    /* atomic; see gf_step_aside */
    gf_thread threads[GF_POOL_MAX_WORKERS];
};

int64_t gf_now_ns(void)
{
#if defined(_WIN32)
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (int64_t)((double)c.QuadPart * 1e9 / (double)f.QuadPart);
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
}

void gf_job_init(gf_job *job, gf_task *task, gf_chunk_fn run, int max_helpers)
{
    /* n <= GF_ROUND_CHUNKS, so a slice's ends fit in 32 bits each */
    int64_t n = task->nchunks, k, s;
    job->task = task;
    job->run = run;
    job->joined = 0;
    job->cancelled = 0;
    job->max_helpers = max_helpers < 0 ? 0 : max_helpers;
    job->helpers = 0;
    job->linked = 0;
    job->caller_cpu = -1;
    job->fpctl = gf_fpctl_get(); /* gf_job_init runs on the calling thread */
    job->prev = job->nextjob = NULL;
    s = (int64_t)job->max_helpers + 1;
    if (s > GF_JOB_SLICES) s = GF_JOB_SLICES;
    if (s > n) s = n > 0 ? n : 1;
    job->nslices = (int)s;
    for (k = 0; k < s; k++)
        job->slice[k] = (int64_t)(((uint64_t)(k * n / s) << 32) | (uint64_t)((k + 1) * n / s));
}

void gf_job_cancel(gf_job *job) { gf_store32(&job->cancelled, 1); }

static int gf_current_cpu(void)
{
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

/* A worker woken onto the CPU of the thread it is to help moves to another
 * allowed CPU, then lets the scheduler place it freely again.  Why: on the
 * 2-vCPU KVM dev VM, after 10 ms or more of idle, Linux often woke the
 * sleeping worker on the *caller's* CPU (an idle vCPU the host has
 * descheduled does not count as available), and load balancing took
 * milliseconds to separate them: a 10^6-element sum of squares on 2 threads
 * then took 890-950 us, slower than 1 thread (810-870 us); with the worker
 * kept off the caller's CPU it took 470-510 us.  Linux only; elsewhere the
 * scheduler decides. */
static void gf_step_aside(gf_pool *pool, const gf_job *job)
{
#if defined(__linux__)
    cpu_set_t all, others;
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu != job->caller_cpu) return;
    if (sched_getaffinity(0, sizeof(all), &all) != 0) return;
    others = all;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) == 0) return;
    if (sched_setaffinity(0, sizeof(others), &others) != 0) return; /* migrates now */
    sched_setaffinity(0, sizeof(all), &all); /* free again; it stays where it runs */
    gf_fetch_add64(&pool->step_asides, 1);
#else
    (void)pool, (void)job;
#endif
}

int64_t gf_pool_step_asides(gf_pool *pool) { return gf_load64(&pool->step_asides); }

/* Take a chunk of slice k: its first (owner) or its last (thief).  -1 when
 * the slice is empty. */
static int64_t gf_claim(gf_job *job, int k, int from_back)
{
    int64_t *p = &job->slice[k];
    for (;;) {
        int64_t s = gf_load64(p);
        uint64_t front = (uint64_t)s >> 32, back = (uint64_t)s & 0xffffffff;
        if (front >= back) return -1;
        if (from_back) back--;
        else front++;
        if (gf_cas64(p, s, (int64_t)((front << 32) | back)))
            return (int64_t)(from_back ? back : front - 1);
    }
}

/* Whether any slice still has a chunk to claim. */
static int gf_job_has_chunks(gf_job *job)
{
    int k;
    for (k = 0; k < job->nslices; k++) {
        int64_t s = gf_load64(&job->slice[k]);
        if (((uint64_t)s >> 32) < ((uint64_t)s & 0xffffffff)) return 1;
    }
    return 0;
}

/* Claim and run chunks until none is left or the job is cancelled: first
 * those of the home slice `me` (nslices or more: none) from its front, then
 * the other slices' from their backs.  With a deadline (> 0), return 0 if it
 * passed before the work ran out.
 *
 * Why slices rather than one shared counter (chunk 0 to whoever asks first,
 * then chunk 1, ...): each thread then streams one contiguous part of the
 * input in order, as BLAS threads do, and stealing from the back keeps the
 * finish even when one thread starts late or runs slow.  On a 2-vCPU AMD
 * EPYC (Zen 4) KVM guest, float64 sum_of_squares on 2 threads, as a
 * multiple of OpenBLAS np.dot's time, was at 10^7 1.02-1.28x with the
 * shared counter and 0.99-1.06x with slices, at 10^8 1.03-1.19x against
 * 0.98-1.11x, slices ahead in every one of three interleaved runs
 * (perf/experiments/claiming_ab.py; one run recorded in
 * perf/results/2026-12-07-epyc-2vcpu/claiming_ab.txt).  Which thread runs
 * a chunk never changes a result: partials combine in chunk order. */
static int gf_job_run_chunks(gf_job *job, int me, int64_t deadline)
{
    int k = me, tries = 0;
    for (;;) {
        int64_t c;
        if (gf_load32(&job->cancelled)) return 1;
        /* the home slice from its front, any other from its back (one
         * slice: everyone from the front, a shared counter) */
        c = k < job->nslices ? gf_claim(job, k, k != me && job->nslices > 1) : -1;
        if (c < 0) {
            /* this slice is empty: move on round the others */
            if (++tries > job->nslices) return 1;
            k = k + 1 < job->nslices ? k + 1 : 0;
            if (k == me) k = k + 1 < job->nslices ? k + 1 : 0;
            continue;
        }
        tries = 0;
        job->run(job->task, c);
        if (deadline > 0 && gf_now_ns() > deadline) return 0;
    }
}

static void gf_unlink(gf_pool *pool, gf_job *job)
{
    if (!job->linked) return;
    if (job->prev) job->prev->nextjob = job->nextjob;
    else pool->head = job->nextjob;
    if (job->nextjob) job->nextjob->prev = job->prev;
    else pool->tail = job->prev;
    job->prev = job->nextjob = NULL;
    job->linked = 0;
}

/* First job that has chunks left and room for a helper.  Under mu. */
static gf_job *gf_find_job(gf_pool *pool)
{
    gf_job *j;
    for (j = pool->head; j; j = j->nextjob) {
        if (j->helpers < j->max_helpers && !gf_load32(&j->cancelled) &&
            gf_job_has_chunks(j))
            return j;
    }
    return NULL;
}

#if defined(_WIN32)
static unsigned __stdcall gf_worker_main(void *arg)
#else
static void *gf_worker_main(void *arg)
#endif
{
    gf_pool *pool = (gf_pool *)arg;
    gf_mutex_lock(&pool->mu);
    while (!pool->shutdown) {
        gf_job *job = gf_find_job(pool);
        if (job) {
            int me = gf_fetch_add32(&job->joined, 1) + 1;
            gf_fetch_add32(&job->helpers, 1);
            unsigned int own_fpctl = gf_fpctl_get();
            gf_mutex_unlock(&pool->mu);
            gf_step_aside(pool, job);
            if (job->fpctl != own_fpctl) gf_fpctl_set(job->fpctl);
            gf_job_run_chunks(job, me < job->nslices ? me : job->nslices, 0);
            if (job->fpctl != own_fpctl) gf_fpctl_set(own_fpctl);
            gf_mutex_lock(&pool->mu);
            /* After this decrement the caller may free the job: touch nothing
             * of it again. */
            if (gf_fetch_add32(&job->helpers, -1) == 1 && pool->waiting > 0)
                gf_cond_broadcast(&pool->done_cv);
            continue;
        } else {
            int64_t seq = gf_load64(&pool->seq), t0;
            int spins = 0;
            gf_mutex_unlock(&pool->mu);
            t0 = gf_now_ns();
            while (gf_load64(&pool->seq) == seq && !gf_load32(&pool->shutdown)) {
                gf_relax();
                /* read the clock every 64 pauses only */
                if ((++spins & 63) == 0 && gf_now_ns() - t0 > pool->spin_ns) break;
            }
            gf_mutex_lock(&pool->mu);
            if (gf_load64(&pool->seq) != seq || pool->shutdown) continue;
            pool->sleeping++;
            gf_cond_wait(&pool->work_cv, &pool->mu);
            pool->sleeping--;
        }
    }
    gf_mutex_unlock(&pool->mu);
    return 0;
}

gf_pool *gf_pool_create(int64_t spin_ns)
{
    gf_pool *pool = (gf_pool *)calloc(1, sizeof(gf_pool));
    if (!pool) return NULL;
    gf_mutex_init(&pool->mu);
    gf_cond_init(&pool->work_cv);
    gf_cond_init(&pool->done_cv);
    pool->spin_ns = spin_ns < 0 ? 0 : spin_ns;
    return pool;
}

static int gf_start_worker(gf_pool *pool, gf_thread *th)
{
#if defined(_WIN32)
    uintptr_t h = _beginthreadex(NULL, 256 * 1024, gf_worker_main, pool, 0, NULL);
    if (!h) return -1;
    *th = (HANDLE)h;
    return 0;
#else
    pthread_attr_t attr;
    sigset_t all, old;
    int rc;
    pthread_attr_init(&attr);
    /* Kernels need almost no stack. */
    pthread_attr_setstacksize(&attr, 256 * 1024);
    /* A new thread inherits the creator's mask: block everything around
     * pthread_create so the worker never takes a signal meant for Python. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(th, &attr, gf_worker_main, pool);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
#endif
}

int gf_pool_reserve(gf_pool *pool, int n)
{
    int have;
    if (n > GF_POOL_MAX_WORKERS) n = GF_POOL_MAX_WORKERS;
    gf_mutex_lock(&pool->mu);
    while (pool->nworkers < n && !pool->shutdown) {
        if (gf_start_worker(pool, &pool->threads[pool->nworkers]) != 0) break;
        pool->nworkers++;
    }
    have = pool->nworkers;
    gf_mutex_unlock(&pool->mu);
    return have;
}

int gf_pool_size(gf_pool *pool)
{
    int n;
    gf_mutex_lock(&pool->mu);
    n = pool->nworkers;
    gf_mutex_unlock(&pool->mu);
    return n;
}

void gf_pool_destroy(gf_pool *pool)
{
    int i, n;
    if (!pool) return;
    gf_mutex_lock(&pool->mu);
    gf_store32(&pool->shutdown, 1);
    gf_cond_broadcast(&pool->work_cv);
    n = pool->nworkers;
    gf_mutex_unlock(&pool->mu);
    for (i = 0; i < n; i++) {
#if defined(_WIN32)
        WaitForSingleObject(pool->threads[i], INFINITE);
        CloseHandle(pool->threads[i]);
#else
        pthread_join(pool->threads[i], NULL);
#endif
    }
    gf_cond_destroy(&pool->work_cv);
    gf_cond_destroy(&pool->done_cv);
    gf_mutex_destroy(&pool->mu);
    free(pool);
}

void gf_pool_submit(gf_pool *pool, gf_job *job)
{
    job->caller_cpu = gf_current_cpu(); /* before any worker can see the job */
    gf_mutex_lock(&pool->mu);
    job->prev = pool->tail;
    job->nextjob = NULL;
    if (pool->tail) pool->tail->nextjob = job;
    else pool->head = job;
    pool->tail = job;
    job->linked = 1;
    gf_fetch_add64(&pool->seq, 1);
    if (pool->sleeping > 0) {
        if (job->max_helpers >= pool->sleeping) gf_cond_broadcast(&pool->work_cv);
        else {
            int i;
            for (i = 0; i < job->max_helpers; i++) gf_cond_signal(&pool->work_cv);
        }
    }
    gf_mutex_unlock(&pool->mu);
}

int gf_job_work(gf_pool *pool, gf_job *job, int64_t budget_ns)
{
    int64_t deadline = budget_ns > 0 ? gf_now_ns() + budget_ns : 0;
    int64_t spin_until;
    int spins = 0;

    if (!gf_job_run_chunks(job, 0, deadline)) return 0;
    if (!pool) return 1;

    /* No chunk is left to claim: stop new helpers from attaching, then wait
     * for the attached ones to finish their last chunk. */
    if (job->linked) {
        gf_mutex_lock(&pool->mu);
        gf_unlink(pool, job);
        gf_mutex_unlock(&pool->mu);
    }
    /* Their last chunk is short: spin first, sleep only if it drags on. */
    spin_until = gf_now_ns() + (pool->spin_ns > 0 ? pool->spin_ns : 0);
    while (gf_load32(&job->helpers) > 0) {
        gf_relax();
        if ((++spins & 63) == 0) {
            int64_t now = gf_now_ns();
            if (now > spin_until) break;
            if (deadline > 0 && now > deadline) return 0;
        }
    }
    if (gf_load32(&job->helpers) == 0) return 1;
    gf_mutex_lock(&pool->mu);
    pool->waiting++;
    while (gf_load32(&job->helpers) > 0) {
        int64_t left = 10000000; /* re-check at least every 10 ms */
        if (deadline > 0) {
            int64_t now = gf_now_ns();
            if (now >= deadline) break;
            if (deadline - now < left) left = deadline - now;
        }
        gf_cond_timedwait_ns(&pool->done_cv, &pool->mu, left);
    }
    pool->waiting--;
    gf_mutex_unlock(&pool->mu);
    return gf_load32(&job->helpers) == 0;
}
