/*
 * Float sum of squares, single thread, no Python: gilfree's own kernels
 * (every level is included in one file, gf_levels_onefile.h, so its static per-level functions
 * are called directly) against OpenBLAS's ddot/sdot on one thread.
 *
 * For each size and dtype it prints nanoseconds per call (the minimum and
 * the median of `rounds` rounds, each the mean of enough calls to take about
 * 2 ms; the minimum is the estimate that a busy machine disturbs least), the methods interleaved round by round so that a noisy neighbour
 * slows all of them alike, and the time relative to OpenBLAS.
 *
 *     gcc -O3 -ffp-contract=off -fno-strict-aliasing -Icsrc \
 *         perf/experiments/sumsq_float_micro.c -o /tmp/ssqf -ldl
 *     /tmp/ssqf [path/to/libopenblas.so] [rounds] [size...]
 *
 * Instruction counts (valgrind has no AVX-512: only baseline and AVX2 run;
 * GF_REPS fixes the calls per round):
 *
 *     GF_REPS=10 valgrind --tool=callgrind --callgrind-out-file=/tmp/cg \
 *         /tmp/ssqf "" 1 100000 && callgrind_annotate /tmp/cg | grep sumsq_f
 *
 * GF_OFFSET=16 starts the arrays 16 bytes past a 64-byte boundary (where
 * malloc puts a mid-size NumPy array): every 64-byte load then spans two
 * cache lines.
 *
 * Without a library path it looks for NumPy's bundled scipy-openblas
 * (GF_OPENBLAS in the environment also works) and skips the ddot column if
 * none loads.  Build a second binary against another checkout's csrc/ to
 * compare kernel designs.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gf_levels_onefile.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef double (*ddot_fn)(int64_t, const double *, int64_t, const double *, int64_t);
typedef float (*sdot_fn)(int64_t, const float *, int64_t, const float *, int64_t);
static ddot_fn ddot;
static sdot_fn sdot;

static void load_blas(const char *path)
{
    void *h;
    void (*set_threads)(int);
    if (!path || !*path) path = getenv("GF_OPENBLAS");
    if (!path || !*path) return;
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "no BLAS: %s\n", dlerror());
        return;
    }
    ddot = (ddot_fn)dlsym(h, "scipy_cblas_ddot64_");
    sdot = (sdot_fn)dlsym(h, "scipy_cblas_sdot64_");
    if (!ddot) ddot = (ddot_fn)dlsym(h, "cblas_ddot");
    if (!sdot) sdot = (sdot_fn)dlsym(h, "cblas_sdot");
    set_threads = (void (*)(int))dlsym(h, "scipy_openblas_set_num_threads64_");
    if (!set_threads) set_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
    if (set_threads) set_threads(1);
}

static volatile double sink;

/* method m on n elements of x (float64 or float32), `reps` calls */
static double run(int m, int f32, const void *x, int64_t n, int reps)
{
    double t = now();
    int r;
    for (r = 0; r < reps; r++) {
        gf_ksum ks = {0.0, 0.0};
        switch (m) {
        case 0: /* OpenBLAS */
            sink = f32 ? sdot(n, x, 1, x, 1) : ddot(n, x, 1, x, 1);
            continue;
        case 1:
            if (f32) sumsq_f32_baseline(x, 4, n, &ks); else sumsq_f64_baseline(x, 8, n, &ks);
            break;
#ifdef GF_X86_DISPATCH
        case 2:
            if (f32) sumsq_f32_avx2(x, 4, n, &ks); else sumsq_f64_avx2(x, 8, n, &ks);
            break;
        case 3:
            if (f32) sumsq_f32_avx512(x, 4, n, &ks); else sumsq_f64_avx512(x, 8, n, &ks);
            break;
#endif
        }
        sink = gf_ksum_value(&ks);
    }
    return (now() - t) / reps;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static const char *names[4] = {"openblas", "baseline", "avx2", "avx512"};
    int64_t sizes[16] = {10000, 100000, 1000000, 10000000};
    int rounds = argc > 2 ? atoi(argv[2]) : 9, nm = 4, ns = 4, s, m, r, f32;
    load_blas(argc > 1 ? argv[1] : NULL);
    if (rounds < 1) rounds = 1;
    if (rounds > 64) rounds = 64;
    if (argc > 3)
        for (ns = 0; ns < argc - 3 && ns < 16; ns++) sizes[ns] = atoll(argv[ns + 3]);
    for (s = 0; s < ns; s++) {
        int64_t n = sizes[s], i;
        double *xd = aligned_alloc(64, (size_t)n * 8 + 128);
        float *xf = aligned_alloc(64, (size_t)n * 4 + 128);
        srand(1);
        for (i = 0; i < n; i++) xd[i] = xf[i] = (float)(rand() / (double)RAND_MAX - 0.5);
        for (f32 = 0; f32 < 2; f32++) {
            /* GF_OFFSET: start that many bytes past a 64-byte boundary */
            size_t off = getenv("GF_OFFSET") ? (size_t)atoi(getenv("GF_OFFSET")) : 0;
            const void *x = (const char *)(f32 ? (const void *)xf : (const void *)xd) + off;
            double t[4][64], med[4], mn[4];
            int reps;
            double one = run(1, f32, x, n, 1);
            reps = (int)(0.002 / (one > 1e-7 ? one : 1e-7));
            if (reps < 1) reps = 1;
            if (getenv("GF_REPS")) reps = atoi(getenv("GF_REPS")); /* fixed, for callgrind */
            for (r = 0; r < rounds; r++)
                for (m = 0; m < nm; m++) {
                    if (m == 0 && !ddot) { t[m][r] = 0; continue; }
                    if (m >= 2 && !gf_simd_supported(m - 1)) { t[m][r] = 0; continue; }
                    t[m][r] = run(m, f32, x, n, reps);
                }
            for (m = 0; m < nm; m++) {
                qsort(t[m], rounds, sizeof(double), cmpd);
                mn[m] = t[m][0];
                med[m] = t[m][rounds / 2];
            }
            for (m = 0; m < nm; m++) {
                if (med[m] == 0) continue;
                printf("n=%-9lld %s %-8s min %10.0f ns  median %10.0f ns  %6.2f G el/s",
                       (long long)n, f32 ? "f32" : "f64", names[m], mn[m] * 1e9, med[m] * 1e9,
                       n / med[m] * 1e-9);
                if (med[0] > 0) printf("  median/openblas %.2f", med[m] / med[0]);
                printf("\n");
            }
            fflush(stdout);
        }
        free(xd);
        free(xf);
    }
    return 0;
}
