/*
 * int64 square in cache: GCC's own AVX2 loop against gf_kernels_impl.h's
 * sq64_head (two vpmuludq per vector, two vectors loaded and then stored).
 * The figures behind the AVX2 int64 square in docs/performance.md.
 *
 *   gcc -O3 -o /tmp/sq64 perf/experiments/sq64_micro.c && for n in 1000 10000 100000; do /tmp/sq64 $n; done
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx2"), noinline)) static void gcc_loop(const int64_t *x, int64_t *o, int64_t n)
{
    for (int64_t i = 0; i < n; i++) o[i] = (int64_t)((uint64_t)x[i] * (uint64_t)x[i]);
}

__attribute__((target("avx2"), noinline)) static void two_vpmuludq(const int64_t *x, int64_t *o, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(x + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(x + i + 4));
        __m256i la = _mm256_mul_epu32(a, a), lb = _mm256_mul_epu32(b, b);
        __m256i ca = _mm256_mul_epu32(a, _mm256_srli_epi64(a, 32));
        __m256i cb = _mm256_mul_epu32(b, _mm256_srli_epi64(b, 32));
        _mm256_storeu_si256((__m256i *)(o + i), _mm256_add_epi64(la, _mm256_slli_epi64(ca, 33)));
        _mm256_storeu_si256((__m256i *)(o + i + 4), _mm256_add_epi64(lb, _mm256_slli_epi64(cb, 33)));
    }
    for (; i < n; i++) o[i] = (int64_t)((uint64_t)x[i] * (uint64_t)x[i]);
}

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 10000;
    int64_t *x = aligned_alloc(64, ((n * 8 + 63) / 64) * 64);
    int64_t *o = aligned_alloc(64, ((n * 8 + 63) / 64) * 64);
    int reps = (int)(2e8 / n);
    if (reps < 3) reps = 3;
    for (int64_t i = 0; i < n; i++) x[i] = i % 100;
    for (int r = 0; r < 3; r++) {
        double t = now();
        for (int k = 0; k < reps; k++) gcc_loop(x, o, n);
        double a = (now() - t) / reps;
        t = now();
        for (int k = 0; k < reps; k++) two_vpmuludq(x, o, n);
        double b = (now() - t) / reps;
        printf("n=%lld: GCC's loop %.2f us, two vpmuludq %.2f us (%.2fx)\n", (long long)n,
               a * 1e6, b * 1e6, b / a);
    }
    free(x);
    free(o);
    return 0;
}
