/*
 * gilfree: a per-thread timeline sampler.
 *
 * One native helper thread reads, about every `period_ns`, how much CPU time
 * each watched thread (or process) has had, and stores it with the time of
 * the reading in a buffer allocated before it starts.  It never calls into
 * Python, so it never needs the GIL, and it keeps its /proc files open so a
 * reading is one pread() per watched id.
 *
 * On Linux the source is /proc/<pid>/task/<tid>/schedstat (nanoseconds on a
 * CPU), or, where the kernel has no schedstat, the state field of
 * /proc/<pid>/task/<tid>/stat ('R': running or runnable).  Other systems
 * have no per-thread files: gf_sampler_create() returns NULL with
 * GF_SAMPLER_UNSUPPORTED.
 */
#include "gilfree.h"

#include <stdlib.h>
#include <string.h>

#if defined(__linux__)

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

struct gf_sampler {
    int n;                  /* watched ids */
    int *fds;               /* one open /proc file per id, -1 if it could not be opened */
    int *use_stat;          /* 1: the file is stat (state only), 0: schedstat */
    int64_t period_ns;
    int64_t capacity;       /* readings the buffer holds */
    int64_t count;          /* readings taken */
    int64_t *times;         /* [capacity] CLOCK_MONOTONIC ns */
    int64_t *values;        /* [capacity * n] ns on a CPU, or (stat) 1/0 running,
                             * or GF_SAMPLE_GONE */
    int64_t cpu_ns;         /* the sampler thread's own CPU time, last run */
    int64_t wall_ns;        /* the sampler thread's wall time, last run */
    volatile int stop;
    int running;
    pthread_t thread;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One reading of fd: ns on a CPU (schedstat) or 1/0 (stat, state R). */
static int64_t read_one(int fd, int use_stat)
{
    char buf[512];
    ssize_t k;
    if (fd < 0)
        return GF_SAMPLE_GONE;
    k = pread(fd, buf, sizeof buf - 1, 0);
    if (k <= 0)
        return GF_SAMPLE_GONE;
    buf[k] = '\0';
    if (!use_stat) {
        int64_t v = 0;
        const char *p = buf;
        if (*p < '0' || *p > '9')
            return GF_SAMPLE_GONE;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (*p++ - '0');
        return v;
    } else {
        /* "pid (comm) S ...": the state follows the last ')' */
        const char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
            return GF_SAMPLE_GONE;
        return p[2] == 'R' ? 1 : 0;
    }
}

static void *sampler_main(void *arg)
{
    gf_sampler *s = (gf_sampler *)arg;
    int64_t cpu0 = thread_cpu_ns(), wall0 = mono_ns();
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!s->stop && s->count < s->capacity) {
        int64_t k = s->count;
        int i;
        s->times[k] = mono_ns();
        for (i = 0; i < s->n; i++)
            s->values[k * s->n + i] = read_one(s->fds[i], s->use_stat[i]);
        s->count = k + 1;
        next.tv_nsec += (long)s->period_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
    }
    s->cpu_ns = thread_cpu_ns() - cpu0;
    s->wall_ns = mono_ns() - wall0;
    return NULL;
}

gf_sampler *gf_sampler_create(const int64_t *ids, const int *kinds, int n, int64_t period_ns,
                              int64_t capacity, int *error)
{
    gf_sampler *s;
    int i;
    pid_t self = getpid();
    *error = 0;
    if (n < 1 || period_ns < 10000 || capacity < 2) {
        *error = GF_SAMPLER_BADARG;
        return NULL;
    }
    s = (gf_sampler *)calloc(1, sizeof *s);
    if (!s) {
        *error = GF_SAMPLER_NOMEM;
        return NULL;
    }
    s->n = n;
    s->period_ns = period_ns;
    s->capacity = capacity;
    s->fds = (int *)malloc((size_t)n * sizeof(int));
    s->use_stat = (int *)calloc((size_t)n, sizeof(int));
    s->times = (int64_t *)malloc((size_t)capacity * sizeof(int64_t));
    s->values = (int64_t *)malloc((size_t)capacity * (size_t)n * sizeof(int64_t));
    if (!s->fds || !s->use_stat || !s->times || !s->values) {
        gf_sampler_destroy(s);
        *error = GF_SAMPLER_NOMEM;
        return NULL;
    }
    for (i = 0; i < n; i++)
        s->fds[i] = -1;
    for (i = 0; i < n; i++) {
        char path[96];
        long long id = (long long)ids[i];
        if (id <= 0) {
            gf_sampler_destroy(s);
            *error = GF_SAMPLER_BADARG;
            return NULL;
        }
        if (kinds[i] == GF_SAMPLE_THREAD)
            snprintf(path, sizeof path, "/proc/%d/task/%lld/schedstat", (int)self, id);
        else
            snprintf(path, sizeof path, "/proc/%lld/schedstat", id);
        s->fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fds[i] < 0) {
            if (kinds[i] == GF_SAMPLE_THREAD)
                snprintf(path, sizeof path, "/proc/%d/task/%lld/stat", (int)self, id);
            else
                snprintf(path, sizeof path, "/proc/%lld/stat", id);
            s->fds[i] = open(path, O_RDONLY | O_CLOEXEC);
            s->use_stat[i] = 1;
        }
        if (s->fds[i] < 0) {
            gf_sampler_destroy(s);
            *error = GF_SAMPLER_NOSUCHID;
            return NULL;
        }
    }
    return s;
}

int gf_sampler_start(gf_sampler *s)
{
    if (s->running)
        return GF_SAMPLER_BUSY;
    s->count = 0;
    s->stop = 0;
    s->cpu_ns = s->wall_ns = 0;
    if (pthread_create(&s->thread, NULL, sampler_main, s) != 0)
        return GF_SAMPLER_NOTHREAD;
    s->running = 1;
    return 0;
}

int gf_sampler_stop(gf_sampler *s)
{
    if (!s->running)
        return GF_SAMPLER_NOTRUNNING;
    s->stop = 1;
    pthread_join(s->thread, NULL);
    s->running = 0;
    return 0;
}

void gf_sampler_destroy(gf_sampler *s)
{
    int i;
    if (!s)
        return;
    if (s->running)
        gf_sampler_stop(s);
    if (s->fds)
        for (i = 0; i < s->n; i++)
            if (s->fds[i] >= 0)
                close(s->fds[i]);
    free(s->fds);
    free(s->use_stat);
    free(s->times);
    free(s->values);
    free(s);
}

int gf_sampler_supported(void) { return 1; }

#else /* no per-thread data from this OS */

struct gf_sampler { int unused; };

gf_sampler *gf_sampler_create(const int64_t *ids, const int *kinds, int n, int64_t period_ns,
                              int64_t capacity, int *error)
{
    (void)ids; (void)kinds; (void)n; (void)period_ns; (void)capacity;
    *error = GF_SAMPLER_UNSUPPORTED;
    return NULL;
}
int gf_sampler_start(gf_sampler *s) { (void)s; return GF_SAMPLER_UNSUPPORTED; }
int gf_sampler_stop(gf_sampler *s) { (void)s; return GF_SAMPLER_UNSUPPORTED; }
void gf_sampler_destroy(gf_sampler *s) { (void)s; }
int gf_sampler_supported(void) { return 0; }

#endif

/* Accessors, valid after gf_sampler_stop(). */
#if defined(__linux__)
int64_t gf_sampler_count(const gf_sampler *s) { return s->count; }
int gf_sampler_ids(const gf_sampler *s) { return s->n; }
const int64_t *gf_sampler_times(const gf_sampler *s) { return s->times; }
const int64_t *gf_sampler_values(const gf_sampler *s) { return s->values; }
int gf_sampler_source(const gf_sampler *s, int i) { return s->use_stat[i]; }
int64_t gf_sampler_cpu_ns(const gf_sampler *s) { return s->cpu_ns; }
int64_t gf_sampler_wall_ns(const gf_sampler *s) { return s->wall_ns; }
#else
int64_t gf_sampler_count(const gf_sampler *s) { (void)s; return 0; }
int gf_sampler_ids(const gf_sampler *s) { (void)s; return 0; }
const int64_t *gf_sampler_times(const gf_sampler *s) { (void)s; return NULL; }
const int64_t *gf_sampler_values(const gf_sampler *s) { (void)s; return NULL; }
int gf_sampler_source(const gf_sampler *s, int i) { (void)s; (void)i; return 0; }
int64_t gf_sampler_cpu_ns(const gf_sampler *s) { (void)s; return 0; }
int64_t gf_sampler_wall_ns(const gf_sampler *s) { (void)s; return 0; }
#endif
