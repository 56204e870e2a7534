/*
 * The float sum-of-squares block loop against the variants it was chosen
 * over, one thread, no Python (every level is included in one file, gf_levels_onefile.h, so its
 * static per-level functions are called directly).  x86-64 with AVX-512 only.
 *
 * float64: the AVX-512 and AVX2 kernels; the AVX-512 block loop without its
 * step barrier (GCC then regroups the loads by accumulator: from DRAM that
 * defeats the stream prefetcher); a plain zmm streaming loop (no blocks, no
 * compensation: what reading the data costs).
 *
 * float32: the kernel (8 ymm accumulators fed by vcvtps2pd ymm); 4 zmm
 * accumulators fed by vcvtps2pd zmm; one 16-float load split in two; an
 * integer conversion (valid for normal numbers only, timed here for speed).
 * Every variant prints its result bits: the kernel's variants must agree.
 *
 *     gcc -O3 -ffp-contract=off -fno-strict-aliasing -Icsrc \
 *         perf/experiments/sumsq_float_variants.c -o /tmp/ssqv
 *     /tmp/ssqv [size...]        # default: 1e4 1e5 1e6 1e7
 *
 * Times are the best of 9 rounds, the variants interleaved round by round.
 */
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

#define TGT __attribute__((target("avx512f,avx512dq,avx512vl,fma")))
#define BAR4(a, b, c, d) __asm__("" : "+v"(a), "+v"(b), "+v"(c), "+v"(d))

/* The lane fold and TwoSum of one block into (s, c), as the kernel does. */
#define FOLD512(a0, a1, a2, a3, s, c)                                         \
    do {                                                                      \
        __m512d l_ = _mm512_add_pd(_mm512_add_pd(a0, a2), _mm512_add_pd(a1, a3)); \
        __m512d t_ = _mm512_add_pd(s, l_), bp_ = _mm512_sub_pd(t_, s);        \
        c = _mm512_add_pd(c, _mm512_add_pd(_mm512_sub_pd(s, _mm512_sub_pd(t_, bp_)), \
                                           _mm512_sub_pd(l_, bp_)));          \
        s = t_;                                                               \
    } while (0)

typedef void (*blocks_fn)(const void *x, int64_t nb, double *S, double *C);

/* float64, the kernel's zmm block loop with no step barrier */
TGT static void f64_nobarrier(const void *xv, int64_t nb, double *S, double *C)
{
    const double *x = xv;
    __m512d s = _mm512_loadu_pd(S), c = _mm512_loadu_pd(C);
    for (int64_t blk = 0; blk < nb; blk++) {
        const double *p = x + blk * 256;
        __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, v;
        for (int b = 0; b < 256; b += 32, p += 32) {
            v = _mm512_loadu_pd(p);      a0 = _mm512_add_pd(a0, _mm512_mul_pd(v, v));
            v = _mm512_loadu_pd(p + 8);  a1 = _mm512_add_pd(a1, _mm512_mul_pd(v, v));
            v = _mm512_loadu_pd(p + 16); a2 = _mm512_add_pd(a2, _mm512_mul_pd(v, v));
            v = _mm512_loadu_pd(p + 24); a3 = _mm512_add_pd(a3, _mm512_mul_pd(v, v));
        }
        FOLD512(a0, a1, a2, a3, s, c);
    }
    _mm512_storeu_pd(S, s);
    _mm512_storeu_pd(C, c);
}

/* float64, a plain streaming loop: no blocks, no compensation (other bits) */
TGT static void f64_stream(const void *xv, int64_t nb, double *S, double *C)
{
    const double *x = xv;
    __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, v;
    for (int64_t i = 0; i < nb * 256; i += 32) {
        v = _mm512_loadu_pd(x + i);      a0 = _mm512_add_pd(a0, _mm512_mul_pd(v, v));
        v = _mm512_loadu_pd(x + i + 8);  a1 = _mm512_add_pd(a1, _mm512_mul_pd(v, v));
        v = _mm512_loadu_pd(x + i + 16); a2 = _mm512_add_pd(a2, _mm512_mul_pd(v, v));
        v = _mm512_loadu_pd(x + i + 24); a3 = _mm512_add_pd(a3, _mm512_mul_pd(v, v));
        BAR4(a0, a1, a2, a3);
    }
    S[0] += _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
    (void)C;
}

/* float32, 4 zmm accumulators fed by vcvtps2pd zmm */
TGT static void f32_zmm_cvt(const void *xv, int64_t nb, double *S, double *C)
{
    const float *x = xv;
    __m512d s = _mm512_loadu_pd(S), c = _mm512_loadu_pd(C);
    for (int64_t blk = 0; blk < nb; blk++) {
        const float *p = x + blk * 256;
        __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, v;
        for (int b = 0; b < 256; b += 32, p += 32) {
            v = _mm512_cvtps_pd(_mm256_loadu_ps(p));      a0 = _mm512_fmadd_pd(v, v, a0);
            v = _mm512_cvtps_pd(_mm256_loadu_ps(p + 8));  a1 = _mm512_fmadd_pd(v, v, a1);
            v = _mm512_cvtps_pd(_mm256_loadu_ps(p + 16)); a2 = _mm512_fmadd_pd(v, v, a2);
            v = _mm512_cvtps_pd(_mm256_loadu_ps(p + 24)); a3 = _mm512_fmadd_pd(v, v, a3);
            BAR4(a0, a1, a2, a3);
        }
        FOLD512(a0, a1, a2, a3, s, c);
    }
    _mm512_storeu_pd(S, s);
    _mm512_storeu_pd(C, c);
}

/* float32, one 16-float load converted in two halves */
TGT static void f32_zmm_split(const void *xv, int64_t nb, double *S, double *C)
{
    const float *x = xv;
    __m512d s = _mm512_loadu_pd(S), c = _mm512_loadu_pd(C);
    for (int64_t blk = 0; blk < nb; blk++) {
        const float *p = x + blk * 256;
        __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, v0, v1, v2, v3;
        for (int b = 0; b < 256; b += 32, p += 32) {
            __m512 u = _mm512_loadu_ps(p), w = _mm512_loadu_ps(p + 16);
            v0 = _mm512_cvtps_pd(_mm512_castps512_ps256(u));
            v1 = _mm512_cvtps_pd(_mm512_extractf32x8_ps(u, 1));
            v2 = _mm512_cvtps_pd(_mm512_castps512_ps256(w));
            v3 = _mm512_cvtps_pd(_mm512_extractf32x8_ps(w, 1));
            a0 = _mm512_fmadd_pd(v0, v0, a0);
            a1 = _mm512_fmadd_pd(v1, v1, a1);
            a2 = _mm512_fmadd_pd(v2, v2, a2);
            a3 = _mm512_fmadd_pd(v3, v3, a3);
            BAR4(a0, a1, a2, a3);
        }
        FOLD512(a0, a1, a2, a3, s, c);
    }
    _mm512_storeu_pd(S, s);
    _mm512_storeu_pd(C, c);
}

/* float32, |x| converted by integer ops: bits (|u| << 29) + (896 << 52),
 * exact for normal numbers (the probe's data), wrong for 0, subnormals,
 * inf and NaN: a kernel would need a per-block check besides. */
TGT static void f32_intcvt(const void *xv, int64_t nb, double *S, double *C)
{
    const float *x = xv;
    const __m512i m = _mm512_set1_epi64(0x7fffffff), bias = _mm512_set1_epi64((int64_t)896 << 52);
    __m512d s = _mm512_loadu_pd(S), c = _mm512_loadu_pd(C);
    for (int64_t blk = 0; blk < nb; blk++) {
        const float *p = x + blk * 256;
        __m512d a[4];
        for (int j = 0; j < 4; j++) a[j] = _mm512_setzero_pd();
        for (int b = 0; b < 256; b += 32, p += 32) {
            for (int j = 0; j < 4; j++) {
                __m512i u = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(p + 8 * j)));
                __m512d v = _mm512_castsi512_pd(
                    _mm512_add_epi64(_mm512_slli_epi64(_mm512_and_si512(u, m), 29), bias));
                a[j] = _mm512_fmadd_pd(v, v, a[j]);
            }
            BAR4(a[0], a[1], a[2], a[3]);
        }
        FOLD512(a[0], a[1], a[2], a[3], s, c);
    }
    _mm512_storeu_pd(S, s);
    _mm512_storeu_pd(C, c);
}

static void k_f64_avx512(const void *x, int64_t nb, double *S, double *C) { fblocks_f64_avx512(x, nb, S, C); }
static void k_f64_avx2(const void *x, int64_t nb, double *S, double *C) { fblocks_f64_avx2(x, nb, S, C); }
static void k_f32_avx512(const void *x, int64_t nb, double *S, double *C) { fblocks_f32_avx512(x, nb, S, C); }
static void k_f32_avx2(const void *x, int64_t nb, double *S, double *C) { fblocks_f32_avx2(x, nb, S, C); }

static const struct {
    const char *name;
    int f32;
    blocks_fn fn;
} variants[] = {
    {"kernel avx512", 0, k_f64_avx512},
    {"kernel avx2", 0, k_f64_avx2},
    {"no step barrier", 0, f64_nobarrier},
    {"plain stream", 0, f64_stream},
    {"kernel avx512", 1, k_f32_avx512},
    {"kernel avx2", 1, k_f32_avx2},
    {"zmm vcvtps2pd", 1, f32_zmm_cvt},
    {"zmm split load", 1, f32_zmm_split},
    {"int conversion", 1, f32_intcvt},
};
#define NV ((int)(sizeof variants / sizeof variants[0]))

int main(int argc, char **argv)
{
    static const int64_t defaults[] = {10000, 100000, 1000000, 10000000};
    int nsizes = argc > 1 ? argc - 1 : 4;
    if (!gf_simd_supported(GF_SIMD_AVX512)) {
        fprintf(stderr, "this probe needs a CPU with AVX-512\n");
        return 1;
    }
    for (int si = 0; si < nsizes; si++) {
        int64_t n = argc > 1 ? atoll(argv[si + 1]) : defaults[si], nb = n / 256;
        /* 16 bytes past a 64-byte boundary, where malloc puts a NumPy array */
        char *raw = aligned_alloc(64, (size_t)n * 8 + 128);
        double *xd = (double *)(raw + 16);
        float *xf = (float *)(raw + 16);
        double best[NV], bits[NV];
        int reps = n >= 10000000 ? 3 : (int)(100000000 / n);
        if (!raw) return 1;
        for (int v = 0; v < NV; v++) best[v] = 1e30;
        for (int r = 0; r < 9; r++) {
            for (int v = 0; v < NV; v++) {
                const void *x = variants[v].f32 ? (const void *)xf : (const void *)xd;
                double S[8], C[8], t0;
                if (variants[v].f32) for (int64_t i = 0; i < n; i++) xf[i] = 0.5f + (float)((i * 7919) % 1000) * 1e-3f;
                else for (int64_t i = 0; i < n; i++) xd[i] = 0.5 + (double)((i * 7919) % 1000) * 1e-3;
                t0 = now();
                for (int k = 0; k < reps; k++) {
                    memset(S, 0, sizeof S);
                    memset(C, 0, sizeof C);
                    variants[v].fn(x, nb, S, C);
                }
                t0 = (now() - t0) / reps;
                if (t0 < best[v]) best[v] = t0;
                bits[v] = S[0] + C[0] + S[7];
            }
        }
        for (int v = 0; v < NV; v++)
            printf("n=%-9lld %s %-16s %10.1f ns  %6.2f G el/s  bits %a\n", (long long)n,
                   variants[v].f32 ? "f32" : "f64", variants[v].name, best[v] * 1e9,
                   nb * 256 / best[v] / 1e9, bits[v]);
        free(raw);
    }
    return 0;
}
