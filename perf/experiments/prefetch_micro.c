/* Does software prefetch speed up a memory-bound sum of squares?
 *
 * 10^8 float64 (800 MB), summed in 64 Ki-element chunks handed out
 * dynamically (as gilfree's pool does) on 1 and 2 OpenMP threads, with
 * prefetches issued `dist` bytes ahead (0: none).  GB/s of reads, best of 3,
 * five repeats.  On the 2-vCPU EPYC VM no distance beat none (docs/performance.md): the loop is at the memory bandwidth already.
 *
 *     gcc -O3 -mavx2 -fopenmp perf/experiments/prefetch_micro.c -o /tmp/pf && /tmp/pf
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef double v4d __attribute__((vector_size(32)));

static double ssq(const double *x, long n, int dist)
{
    v4d a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0}, v;
    long i;
    for (i = 0; i + 32 <= n; i += 32) {
        if (dist) {
            const char *p = (const char *)(x + i) + dist;
            _mm_prefetch(p, _MM_HINT_T0);
            _mm_prefetch(p + 64, _MM_HINT_T0);
            _mm_prefetch(p + 128, _MM_HINT_T0);
            _mm_prefetch(p + 192, _MM_HINT_T0);
        }
#define A(acc, o) __builtin_memcpy(&v, x + i + o, 32); acc += v * v;
        A(a0, 0) A(a1, 4) A(a2, 8) A(a3, 12) A(a4, 16) A(a5, 20) A(a6, 24) A(a7, 28)
#undef A
    }
    v4d s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    return s[0] + s[1] + s[2] + s[3];
}

int main(void)
{
    const long n = 100000000, chunk = 65536;
    const int dists[] = {0, 512, 1024, 2048, 4096, 8192};
    double *x = aligned_alloc(2 << 20, n * sizeof(double));
    long i;
    if (!x) return 1;
    for (i = 0; i < n; i++) x[i] = (double)(i % 7);
    for (int rep = 0; rep < 5; rep++)
        for (int th = 1; th <= 2; th++) {
            printf("threads=%d:", th);
            for (int d = 0; d < 6; d++) {
                double best = 1e9;
                for (int r = 0; r < 3; r++) {
                    double t0 = now(), tot = 0, t;
                    long c;
#pragma omp parallel for num_threads(th) schedule(dynamic, 1) reduction(+ : tot)
                    for (c = 0; c < n / chunk; c++) tot += ssq(x + c * chunk, chunk, dists[d]);
                    t = now() - t0;
                    if (t < best) best = t;
                    if (tot < 0) printf("?");
                }
                printf("  pf%-4d %5.1f", dists[d], n * 8.0 / best / 1e9);
            }
            printf("  GB/s\n");
        }
    free(x);
    return 0;
}
