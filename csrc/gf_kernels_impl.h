/*
 * The kernels for one SIMD level.  Each level is a translation unit of its
 * own (gf_level_baseline.c, gf_level_avx2.c, gf_level_avx512.c) that sets
 * GF_SUFFIX and includes this file, compiled with that level's flags, so the
 * same plain C is compiled for the baseline, AVX2 and AVX-512 and picked at
 * run time (gf_kernels.c).
 *
 * The loops are written so that GCC and Clang vectorize them at -O3 without
 * -ffast-math: reductions keep several independent accumulators (no
 * reassociation needed), and integer squares are computed in unsigned
 * arithmetic (signed overflow would be undefined behaviour).
 */
#ifndef GF_SUFFIX
#error "define GF_SUFFIX before including gf_kernels_impl.h"
#endif

#define GF_CAT2(a, b) a##_##b
#define GF_CAT(a, b) GF_CAT2(a, b)
#define GF_FN(name) GF_CAT(name, GF_SUFFIX)

/* Float sum of squares: GF_FACC, GF_FLANES and GF_FBLOCK (gf_kernels_common.h)
 * define the order of the additions. */

/* ---------------------------------------------------------------- square */
/* 64-bit squares, contiguous: how many leading elements sq64_head did.
 * AVX2 has no 64-bit multiply; x*x mod 2**64 is lo*lo + (lo*hi << 33) with
 * lo, hi the 32-bit halves: two vpmuludq.  GCC's own vectorization of the
 * product takes three plus a dependent add-shift-add, and stores each vector
 * before loading the next; measured on the EPYC VM at 10^3-10^4 elements in
 * cache, this loop (two vectors loaded, then stored) takes 0.5-0.9x its
 * time.  In place (x == o) is fine: each vector is loaded before it is
 * stored. */
#if defined(GF_SQ64_AVX2)
static int64_t GF_FN(sq64_head)(const char *xp, char *op, int64_t n)
{
    int64_t i;
    for (i = 0; i + 8 <= n; i += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(xp + 8 * i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(xp + 8 * i + 32));
        __m256i la = _mm256_mul_epu32(a, a), lb = _mm256_mul_epu32(b, b);
        __m256i ca = _mm256_mul_epu32(a, _mm256_srli_epi64(a, 32));
        __m256i cb = _mm256_mul_epu32(b, _mm256_srli_epi64(b, 32));
        _mm256_storeu_si256((__m256i *)(op + 8 * i), _mm256_add_epi64(la, _mm256_slli_epi64(ca, 33)));
        _mm256_storeu_si256((__m256i *)(op + 8 * i + 32), _mm256_add_epi64(lb, _mm256_slli_epi64(cb, 33)));
    }
    return i;
}
#else
static int64_t GF_FN(sq64_head)(const char *xp, char *op, int64_t n)
{
    (void)xp, (void)op, (void)n;
    return 0;
}
#endif

/* MT is the unsigned type the product is formed in (wraps modulo 2**bits),
 * LO/HI bound the inputs whose square fits in T. */
#define GF_DEF_SQUARE_INT(NAME, T, MT, LO, HI)                                 \
static int GF_FN(square_##NAME)(const char *xp, int64_t xs, char *op,         \
                                int64_t os, int64_t n, int check)             \
{                                                                             \
    int64_t i, i0;                                                            \
    int bad = 0;                                                              \
    if (xs == (int64_t)sizeof(T) && os == (int64_t)sizeof(T)) {               \
        if (check) {                                                          \
            const T *x = (const T *)xp;                                       \
            for (i = 0; i < n; i++) bad |= (x[i] < (T)(LO)) | (x[i] > (T)(HI)); \
        }                                                                     \
        i0 = sizeof(T) == 8 ? GF_FN(sq64_head)(xp, op, n) : 0;                \
        if (xp == op) {                                                       \
            T *p = (T *)op;                                                   \
            for (i = i0; i < n; i++) p[i] = (T)((MT)p[i] * (MT)p[i]);         \
        } else {                                                              \
            const T *x = (const T *)xp;                                       \
            T *o = (T *)op;                                                   \
            for (i = i0; i < n; i++) o[i] = (T)((MT)x[i] * (MT)x[i]);         \
        }                                                                     \
    } else {                                                                  \
        for (i = 0; i < n; i++) {                                             \
            T v = *(const T *)(xp + i * xs);                                  \
            if (check) bad |= (v < (T)(LO)) | (v > (T)(HI));                  \
            *(T *)(op + i * os) = (T)((MT)v * (MT)v);                         \
        }                                                                     \
    }                                                                         \
    return bad;                                                               \
}

/* Unsigned types: LO is 0 and `v < 0` is always false; written the same way
 * so one macro serves all. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtype-limits"
#endif
GF_DEF_SQUARE_INT(i8, int8_t, uint32_t, -11, 11)
GF_DEF_SQUARE_INT(i16, int16_t, uint32_t, -181, 181)
GF_DEF_SQUARE_INT(i32, int32_t, uint32_t, -46340, 46340)
GF_DEF_SQUARE_INT(i64, int64_t, uint64_t, -INT64_C(3037000499), INT64_C(3037000499))
GF_DEF_SQUARE_INT(u8, uint8_t, uint32_t, 0, 15)
GF_DEF_SQUARE_INT(u16, uint16_t, uint32_t, 0, 255)
GF_DEF_SQUARE_INT(u32, uint32_t, uint32_t, 0, 65535)
GF_DEF_SQUARE_INT(u64, uint64_t, uint64_t, 0, UINT64_C(4294967295))
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* A float square overflows when a finite input gives an infinite result:
 * r = v * v is +inf and v is not +-inf (v cannot be NaN then).  The test
 * looks at the bits rather than comparing floats: a comparison may raise
 * the invalid flag on a NaN (GCC turns `v != inf` into a signalling
 * `!(v > max)`), and np.square raises no flag there, while gilfree reports
 * the flags through np.errstate like it (gf_fpstatus.h).  Both halves are
 * equalities on purpose: Clang turns such bit tests back into float
 * compares, and an equality is a quiet compare, while an "exponent all
 * ones" test turns into |v| < inf, a signalling compare (FCMGT on AArch64)
 * that raises invalid for a NaN input. */
static inline int GF_FN(flt_bad_float)(float v, float r)
{
    uint32_t vb, rb;
    memcpy(&vb, &v, sizeof vb);
    memcpy(&rb, &r, sizeof rb);
    return (rb == UINT32_C(0x7F800000)) & ((vb & UINT32_C(0x7FFFFFFF)) != UINT32_C(0x7F800000));
}
static inline int GF_FN(flt_bad_double)(double v, double r)
{
    uint64_t vb, rb;
    memcpy(&vb, &v, sizeof vb);
    memcpy(&rb, &r, sizeof rb);
    return (rb == UINT64_C(0x7FF0000000000000)) &
           ((vb & UINT64_C(0x7FFFFFFFFFFFFFFF)) != UINT64_C(0x7FF0000000000000));
}
#define GF_DEF_SQUARE_FLT(NAME, T, TMAX)                                       \
static int GF_FN(square_##NAME)(const char *xp, int64_t xs, char *op,         \
                                int64_t os, int64_t n, int check)             \
{                                                                             \
    int64_t i;                                                                \
    int bad = 0;                                                              \
    if (xs == (int64_t)sizeof(T) && os == (int64_t)sizeof(T)) {               \
        if (xp == op) {                                                       \
            T *p = (T *)op;                                                   \
            for (i = 0; i < n; i++) {                                         \
                T v = p[i], r = v * v;                                        \
                if (check) bad |= GF_FN(flt_bad_##T)(v, r);                   \
                p[i] = r;                                                     \
            }                                                                 \
        } else {                                                              \
            const T *x = (const T *)xp;                                       \
            T *o = (T *)op;                                                   \
            for (i = 0; i < n; i++) {                                         \
                T v = x[i], r = v * v;                                        \
                if (check) bad |= GF_FN(flt_bad_##T)(v, r);                   \
                o[i] = r;                                                     \
            }                                                                 \
        }                                                                     \
    } else {                                                                  \
        for (i = 0; i < n; i++) {                                             \
            T v = *(const T *)(xp + i * xs), r = v * v;                       \
            if (check) bad |= GF_FN(flt_bad_##T)(v, r);                   \
            *(T *)(op + i * os) = r;                                          \
        }                                                                     \
    }                                                                         \
    return bad;                                                               \
}
GF_DEF_SQUARE_FLT(f32, float, FLT_MAX)
GF_DEF_SQUARE_FLT(f64, double, DBL_MAX)

static int GF_FN(square_any)(int dtype, const char *xp, int64_t xs, char *op,
                             int64_t os, int64_t n, int check)
{
#define GF_CASE(code, sfx) case code: return GF_FN(square_##sfx)(xp, xs, op, os, n, check);
    switch (dtype) {
    GF_ALL_DTYPES(GF_CASE)
    default: return 0;
    }
#undef GF_CASE
}

#if defined(GF_HAVE_STREAM)
/* square_any into contiguous out through non-temporal stores: the first
 * elements up to a cache-line boundary and the tail are stored normally. */
static int GF_FN(square_stream)(int dtype, const char *xp, int64_t xs, char *op,
                                int64_t n, int check)
{
    int64_t isz = gf_itemsize(dtype), per = GF_NT_BYTES / isz, i;
    int64_t head = (int64_t)((64 - ((uintptr_t)op & 63)) & 63) / isz;
    double buf[GF_NT_BYTES / sizeof(double)];
    int bad;
    if (head > n) head = n;
    bad = GF_FN(square_any)(dtype, xp, xs, op, isz, head, check);
    for (i = head; i + per <= n; i += per) {
        bad |= GF_FN(square_any)(dtype, xp + i * xs, xs, (char *)buf, isz, per, check);
        gf_stream_copy(op + i * isz, (const char *)buf, GF_NT_BYTES);
    }
    bad |= GF_FN(square_any)(dtype, xp + i * xs, xs, op + i * isz, isz, n - i, check);
    return bad;
}
#endif

/* ------------------------------------------------------ float sum of squares */
/* One block of len <= GF_FBLOCK doubles into the lanes S, C: the reference
 * semantics, used for the last partial block of a run and, without vector
 * extensions (MSVC), for every block. */
static void GF_FN(fblock_ref)(const double *x, int64_t len, double *S, double *C)
{
    double a[GF_FACC];
    int64_t p;
    int k;
    for (k = 0; k < GF_FACC; k++) a[k] = 0.0;
    for (p = 0; p < len; p++) a[p % GF_FACC] += x[p] * x[p];
    for (k = 0; k < GF_FLANES; k++) {
        double l = (a[k] + a[k + 16]) + (a[k + 8] + a[k + 24]);
        double t = S[k] + l, bp = t - S[k];
        C[k] += (S[k] - (t - bp)) + (l - bp); /* TwoSum: the exact error */
        S[k] = t;
    }
}

/* nb full blocks of float64 (F = double) or float32 (F = float: each value
 * is converted to double, exactly, before it is squared).  Every level runs
 * exactly fblock_ref's operations on the same 32 logical accumulators and 8
 * lanes, only packed into different registers, so every level and compiler
 * gives the same bits:
 *
 * - the 4-wide form, GF_DEF_FBLOCKS below (float32 at every level, float64
 *   at AVX2 and the baseline): 8 vectors of 4 doubles (GCC/Clang vector
 *   extensions; the baseline lowers each to two SSE2 registers);
 * - AVX-512 float64 (fblocks_f64 further down): 4 zmm accumulators, logical
 *   accumulators 8j..8j+7 in zmm j; the fold (A0 + A2) + (A1 + A3) is
 *   fblock_ref's (a[k] + a[k+16]) + (a[k+8] + a[k+24]) lane by lane, and the
 *   8 lanes are one zmm.
 *
 * float32 is converted in registers (vcvtps2pd), not through a buffer: the
 * buffer cost a store and a reload per element.  A float32 square is exact
 * in double (24-bit significands give a 48-bit product), so round(a + x*x)
 * is the same whether x*x is rounded first or not: the AVX2 and AVX-512
 * levels fuse it into one FMA for float32 (same bits as the baseline's
 * multiply and add, one uop instead of two).  float64 squares are not exact,
 * so float64 always multiplies and adds separately (the build also forbids
 * contraction, -ffp-contract=off).
 *
 * float32 takes the 4-wide form at the AVX-512 level too: on a 2-vCPU AMD
 * EPYC (Zen 4) KVM guest, 10^4-10^6 float32 in cache on one thread
 * (perf/experiments/sumsq_float_variants.c, recorded in
 * perf/results/2026-12-07-epyc-2vcpu/), 8 ymm accumulators fed by
 * vcvtps2pd ymm ran at 19.1-20.0 G elements/s, 4 zmm accumulators fed by
 * vcvtps2pd zmm at 13.9-14.1, one 16-float load split in two at 11.6-11.8,
 * and an integer conversion (shift the bits, add the exponent bias) at
 * 9.8-10.1, all with the same bits.
 *
 * The step barriers (an empty asm that takes the accumulators in and out of
 * registers) keep the written order: 32 consecutive elements into the
 * accumulators, step by step.  Without them GCC regroups the unrolled block
 * into one accumulator's 8 terms after another, so the loads walk each
 * 2 KiB block 256 bytes apart (lines 1, 5, 9, ..., then 0, 4, 8, ...).  In
 * cache that cost ~10% (AVX2, 10^4-10^5 float64, 2-vCPU Xeon with
 * AVX-512); from DRAM it defeats the hardware stream prefetcher: 10^7
 * float64 on one thread of the Zen 4 guest took 4.81 ms at the AVX-512
 * level without the barrier and 2.66 ms with it (AVX2: 2.74 ms; a plain zmm
 * streaming loop: 2.50 ms; same probe and recording).  They change no
 * arithmetic. */
#if defined(GF_X86_DISPATCH) && defined(__GNUC__) && (defined(GF_FSSQ_AVX2) || defined(GF_FSSQ_AVX512))
#define GF_STEP_BARRIER(a0, a1, a2, a3, a4, a5, a6, a7)                       \
    __asm__("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5),  \
            "+x"(a6), "+x"(a7))
#define GF_STEP_BARRIER4(a0, a1, a2, a3) __asm__("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3))
#else
#define GF_STEP_BARRIER(a0, a1, a2, a3, a4, a5, a6, a7) ((void)0)
#define GF_STEP_BARRIER4(a0, a1, a2, a3) ((void)0)
#endif
#if defined(GF_HAVE_VEC)
#if defined(GF_FSSQ_AVX2) || defined(GF_FSSQ_AVX512)
/* float32: 4 values to 4 doubles, squared and added in one exact FMA */
#define GF_F32ACC(acc, q)                                                     \
    do {                                                                      \
        __m256d v_ = _mm256_cvtps_pd(_mm_loadu_ps(q)), a_;                    \
        memcpy(&a_, &acc, sizeof a_);                                         \
        a_ = _mm256_fmadd_pd(v_, v_, a_);                                     \
        memcpy(&acc, &a_, sizeof a_);                                         \
    } while (0)
#else
#define GF_F32ACC(acc, q)                                                     \
    do {                                                                      \
        const float *q_ = (q);                                                \
        gf_v4d v_ = {q_[0], q_[1], q_[2], q_[3]};                             \
        acc += v_ * v_;                                                       \
    } while (0)
#endif
#define GF_DEF_FBLOCKS(NAME, F)                                                \
static void GF_FN(fblocks_##NAME)(const F *x, int64_t nb, double *S, double *C) \
{                                                                             \
    gf_v4d s0, s1, c0, c1;                                                    \
    int64_t blk;                                                              \
    memcpy(&s0, S, sizeof s0);                                                \
    memcpy(&s1, S + 4, sizeof s1);                                            \
    memcpy(&c0, C, sizeof c0);                                                \
    memcpy(&c1, C + 4, sizeof c1);                                            \
    for (blk = 0; blk < nb; blk++) {                                          \
        const F *p = x + blk * GF_FBLOCK;                                     \
        gf_v4d a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, \
               a6 = a0, a7 = a0, l0, l1, t, bp;                               \
        int b;                                                                \
        for (b = 0; b < GF_FBLOCK; b += GF_FACC, p += GF_FACC) {              \
            GF_SQACC4(a0, p, 0) GF_SQACC4(a1, p, 4) GF_SQACC4(a2, p, 8)       \
            GF_SQACC4(a3, p, 12) GF_SQACC4(a4, p, 16) GF_SQACC4(a5, p, 20)    \
            GF_SQACC4(a6, p, 24) GF_SQACC4(a7, p, 28)                         \
            GF_STEP_BARRIER(a0, a1, a2, a3, a4, a5, a6, a7);                  \
        }                                                                     \
        /* lanes 0-3: (a[k] + a[k+16]) + (a[k+8] + a[k+24]); lanes 4-7 likewise */ \
        l0 = (a0 + a4) + (a2 + a6);                                           \
        l1 = (a1 + a5) + (a3 + a7);                                           \
        t = s0 + l0; bp = t - s0; c0 += (s0 - (t - bp)) + (l0 - bp); s0 = t;  \
        t = s1 + l1; bp = t - s1; c1 += (s1 - (t - bp)) + (l1 - bp); s1 = t;  \
    }                                                                         \
    memcpy(S, &s0, sizeof s0);                                                \
    memcpy(S + 4, &s1, sizeof s1);                                            \
    memcpy(C, &c0, sizeof c0);                                                \
    memcpy(C + 4, &c1, sizeof c1);                                            \
}
#define GF_SQACC4(acc, p, off)                                                \
    if (sizeof(*(p)) == sizeof(double)) {                                     \
        gf_v4d v_;                                                            \
        memcpy(&v_, (const double *)(const void *)(p) + (off), sizeof v_);    \
        acc += v_ * v_;                                                       \
    } else {                                                                  \
        GF_F32ACC(acc, (const float *)(const void *)(p) + (off));             \
    }
#else
/* No vector extensions (MSVC): fblock_ref itself, through a double buffer. */
#define GF_DEF_FBLOCKS(NAME, F)                                                \
static void GF_FN(fblocks_##NAME)(const F *x, int64_t nb, double *S, double *C) \
{                                                                             \
    double buf_[GF_FBLOCK];                                                   \
    int64_t blk;                                                              \
    int b;                                                                    \
    for (blk = 0; blk < nb; blk++) {                                          \
        for (b = 0; b < GF_FBLOCK; b++) buf_[b] = (double)x[blk * GF_FBLOCK + b]; \
        GF_FN(fblock_ref)(buf_, GF_FBLOCK, S, C);                             \
    }                                                                         \
}
#endif
#if defined(GF_FSSQ_AVX512) || defined(GF_FSSQ_AVX2)
/* Doubles that are not 8-byte aligned break the kernels' contract
 * (gilfree.h; both Python APIs copy such input first): the aligned block
 * loops below then take the 4-wide form, whose loads are memcpy, rather than
 * fault. */
GF_DEF_FBLOCKS(f64_u, double)
#endif
#if defined(GF_FSSQ_AVX2)
/* AVX2 float64, the same idea at 32 bytes: element p of a run k elements
 * past a 32-byte boundary is lane (p + k) % 4 of register ((p + k) / 4) % 8;
 * the first and last vector of each block are masked loads (vmaskmovpd: the
 * masked lanes are not read), and a lane shift across neighbouring
 * registers (vperm2f128, and vshufpd for odd k) undoes the rotation.
 * Measured as the AVX-512 one above: 10^4 float64 from 16 bytes past a
 * 64-byte boundary 777-826 -> 662-685 ns, 10^5 7.9-8.1 -> 6.4-6.5 us
 * (aligned start: 604 ns, 5.6 us). */
static inline __m256d GF_FN(shift4)(__m256d lo, __m256d hi, int k)
{
    __m256d t = _mm256_permute2f128_pd(lo, hi, 0x21); /* lo[2], lo[3], hi[0], hi[1] */
    if (k == 1) return _mm256_shuffle_pd(lo, t, 5);   /* lo[1], lo[2], lo[3], hi[0] */
    if (k == 2) return t;
    return _mm256_shuffle_pd(t, hi, 5);               /* lo[3], hi[0], hi[1], hi[2] */
}
static void GF_FN(fblocks_f64_ymm)(const double *x, int64_t nb, double *S, double *C)
{
    int k = (int)(((uintptr_t)x >> 3) & 3), j;
    const double *xa = x - k;
    __m256d s0, s1, c0, c1;
    __m256i first, last;
    int64_t blk;
    if (((uintptr_t)x & 7) || nb <= 0 || k == 0) {
        GF_FN(fblocks_f64_u)(x, nb, S, C);
        return;
    }
    /* lane j is read when j >= k (first vector) or j < k (last) */
    first = _mm256_cmpgt_epi64(_mm256_set_epi64x(3, 2, 1, 0), _mm256_set1_epi64x(k - 1));
    last = _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_set_epi64x(3, 2, 1, 0));
    s0 = _mm256_loadu_pd(S);
    s1 = _mm256_loadu_pd(S + 4);
    c0 = _mm256_loadu_pd(C);
    c1 = _mm256_loadu_pd(C + 4);
    for (blk = 0; blk < nb; blk++) {
        const double *p = xa + blk * GF_FBLOCK;
        __m256d v, r[8], a[8], l0, l1, t, bp;
        int b;
        v = _mm256_maskload_pd(p, first);
        r[0] = _mm256_mul_pd(v, v);
        for (j = 1; j < 8; j++) {
            v = _mm256_load_pd(p + 4 * j);
            r[j] = _mm256_mul_pd(v, v);
        }
        for (b = GF_FACC, p += GF_FACC; b < GF_FBLOCK; b += GF_FACC, p += GF_FACC) {
            for (j = 0; j < 8; j++) {
                v = _mm256_load_pd(p + 4 * j);
                r[j] = _mm256_add_pd(r[j], _mm256_mul_pd(v, v));
            }
            GF_STEP_BARRIER(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
        }
        v = _mm256_maskload_pd(p, last);
        r[0] = _mm256_add_pd(r[0], _mm256_mul_pd(v, v));
        /* logical accumulators 4j..4j+3 are lanes k.. of r[j] then r[j+1] */
        for (j = 0; j < 8; j++) a[j] = GF_FN(shift4)(r[j], r[(j + 1) & 7], k);
        /* lanes 0-3: (a[k] + a[k+16]) + (a[k+8] + a[k+24]); lanes 4-7 likewise */
        l0 = _mm256_add_pd(_mm256_add_pd(a[0], a[4]), _mm256_add_pd(a[2], a[6]));
        l1 = _mm256_add_pd(_mm256_add_pd(a[1], a[5]), _mm256_add_pd(a[3], a[7]));
        t = _mm256_add_pd(s0, l0);
        bp = _mm256_sub_pd(t, s0);
        c0 = _mm256_add_pd(c0, _mm256_add_pd(_mm256_sub_pd(s0, _mm256_sub_pd(t, bp)),
                                             _mm256_sub_pd(l0, bp)));
        s0 = t;
        t = _mm256_add_pd(s1, l1);
        bp = _mm256_sub_pd(t, s1);
        c1 = _mm256_add_pd(c1, _mm256_add_pd(_mm256_sub_pd(s1, _mm256_sub_pd(t, bp)),
                                             _mm256_sub_pd(l1, bp)));
        s1 = t;
    }
    _mm256_storeu_pd(S, s0);
    _mm256_storeu_pd(S + 4, s1);
    _mm256_storeu_pd(C, c0);
    _mm256_storeu_pd(C + 4, c1);
}
#endif
#if defined(GF_FSSQ_AVX512)
/* AVX-512 float64 reads with aligned loads.  A NumPy array's data usually
 * starts 16 bytes past a 64-byte boundary (malloc's header), and then every
 * unaligned 64-byte load spans two cache lines: measured with
 * perf/experiments/sumsq_float_micro.c (GF_OFFSET=16) on a 2-vCPU Xeon (AVX-512)
 * KVM guest, 10^4-10^5 float64 in cache took 1.34-1.47x as long as from an
 * aligned start (now: 572 ns at 10^4 from any start, 564 aligned before).  Here element p of the run (k elements past a 64-byte
 * boundary) is lane (p + k) % 8 of aligned vector (p + k) / 8, added into
 * register ((p + k) / 8) % 4: register lane q holds logical accumulator
 * (q - k) mod 32, with the same additions in the same order.  A block's
 * first and last vectors are loaded with masks (lanes outside the block, and
 * outside the array, are not read; they add +0, which leaves a sum of
 * squares unchanged); before the fold a two-source permute turns the
 * rotation back. */
static void GF_FN(fblocks_f64)(const double *x, int64_t nb, double *S, double *C)
{
    int k = (int)(((uintptr_t)x >> 3) & 7);
    const double *xa = x - k;
    __m512d s, c;
    __m512i idx;
    __mmask8 first = (__mmask8)(0xff << k), last = (__mmask8)((1 << k) - 1);
    int64_t blk;
    if (((uintptr_t)x & 7) || nb <= 0) {
        GF_FN(fblocks_f64_u)(x, nb, S, C);
        return;
    }
    idx = _mm512_add_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi64(k));
    s = _mm512_loadu_pd(S);
    c = _mm512_loadu_pd(C);
    for (blk = 0; blk < nb; blk++) {
        const double *p = xa + blk * GF_FBLOCK;
        __m512d v, r0, r1, r2, r3, a0, a1, a2, a3, l, t, bp;
        int b;
        v = _mm512_maskz_load_pd(first, p);
        r0 = _mm512_mul_pd(v, v);
        v = _mm512_load_pd(p + 8);
        r1 = _mm512_mul_pd(v, v);
        v = _mm512_load_pd(p + 16);
        r2 = _mm512_mul_pd(v, v);
        v = _mm512_load_pd(p + 24);
        r3 = _mm512_mul_pd(v, v);
        for (b = GF_FACC, p += GF_FACC; b < GF_FBLOCK; b += GF_FACC, p += GF_FACC) {
            v = _mm512_load_pd(p);
            r0 = _mm512_add_pd(r0, _mm512_mul_pd(v, v));
            v = _mm512_load_pd(p + 8);
            r1 = _mm512_add_pd(r1, _mm512_mul_pd(v, v));
            v = _mm512_load_pd(p + 16);
            r2 = _mm512_add_pd(r2, _mm512_mul_pd(v, v));
            v = _mm512_load_pd(p + 24);
            r3 = _mm512_add_pd(r3, _mm512_mul_pd(v, v));
            GF_STEP_BARRIER4(r0, r1, r2, r3);
        }
        v = _mm512_maskz_load_pd(last, p);
        r0 = _mm512_add_pd(r0, _mm512_mul_pd(v, v));
        /* logical accumulators 8j..8j+7 are lanes k.. of r_j then r_{j+1} */
        a0 = _mm512_permutex2var_pd(r0, idx, r1);
        a1 = _mm512_permutex2var_pd(r1, idx, r2);
        a2 = _mm512_permutex2var_pd(r2, idx, r3);
        a3 = _mm512_permutex2var_pd(r3, idx, r0);
        l = _mm512_add_pd(_mm512_add_pd(a0, a2), _mm512_add_pd(a1, a3));
        t = _mm512_add_pd(s, l);
        bp = _mm512_sub_pd(t, s);
        c = _mm512_add_pd(c, _mm512_add_pd(_mm512_sub_pd(s, _mm512_sub_pd(t, bp)),
                                           _mm512_sub_pd(l, bp)));
        s = t;
    }
    _mm512_storeu_pd(S, s);
    _mm512_storeu_pd(C, c);
}
#elif defined(GF_FSSQ_AVX2)
static void GF_FN(fblocks_f64)(const double *x, int64_t nb, double *S, double *C)
{
    GF_FN(fblocks_f64_ymm)(x, nb, S, C);
}
#else
GF_DEF_FBLOCKS(f64, double)
#endif
GF_DEF_FBLOCKS(f32, float)
#undef GF_DEF_FBLOCKS
#undef GF_SQACC4
#undef GF_F32ACC
#undef GF_STEP_BARRIER
#undef GF_STEP_BARRIER4

/* Sum the squares of n values (stride xs bytes) into the running state st
 * of one chunk (gf_fsum): first the block an earlier run left unfinished,
 * then whole blocks (contiguous input straight through BLOCKS, strided input
 * gathered block by block into a double buffer), and the rest is kept in
 * st->buf for the next run or fsum_finish.  The blocks follow the sequence
 * of values, not the runs it came in, so every layout of the same values
 * gives the same bits; squares are formed and summed in double for float32
 * too. */
#define GF_DEF_SUMSQ_FLT(NAME, T, BLOCKS)                                      \
static void GF_FN(sumsq_run_##NAME)(const char *xp, int64_t xs, int64_t n,    \
                                    gf_fsum *st)                              \
{                                                                             \
    int64_t i = 0, b;                                                         \
    if (st->m > 0) {                                                          \
        int64_t take = GF_FBLOCK - st->m < n ? GF_FBLOCK - st->m : n;         \
        for (b = 0; b < take; b++)                                            \
            st->buf[st->m + b] = (double)*(const T *)(xp + b * xs);           \
        st->m += take;                                                        \
        i = take;                                                             \
        if (st->m < GF_FBLOCK) return;                                        \
        GF_FN(fblocks_f64)(st->buf, 1, st->S, st->C);                         \
        st->m = 0;                                                            \
    }                                                                         \
    if (xs == (int64_t)sizeof(T)) {                                           \
        int64_t nb = (n - i) / GF_FBLOCK;                                     \
        BLOCKS((const T *)xp + i, nb, st->S, st->C);                          \
        i += nb * GF_FBLOCK;                                                  \
    } else {                                                                  \
        for (; n - i >= GF_FBLOCK; i += GF_FBLOCK) {                          \
            const char *q = xp + i * xs;                                      \
            for (b = 0; b < GF_FBLOCK; b++) st->buf[b] = (double)*(const T *)(q + b * xs); \
            GF_FN(fblocks_f64)(st->buf, 1, st->S, st->C);                     \
        }                                                                     \
    }                                                                         \
    for (b = 0; i + b < n; b++) st->buf[b] = (double)*(const T *)(xp + (i + b) * xs); \
    st->m = n - i;                                                            \
}                                                                             \
/* The same for one whole run on its own (the probes in perf/experiments). */     \
static void GF_FN(sumsq_##NAME)(const char *xp, int64_t xs, int64_t n,        \
                                gf_ksum *ks)                                  \
{                                                                             \
    gf_fsum st;                                                               \
    GF_FN(fsum_init)(&st);                                                    \
    GF_FN(sumsq_run_##NAME)(xp, xs, n, &st);                                  \
    GF_FN(fsum_finish)(&st, ks);                                              \
}
static void GF_FN(fsum_init)(gf_fsum *st)
{
    int k;
    for (k = 0; k < GF_FLANES; k++) st->S[k] = st->C[k] = 0.0;
    st->m = 0;
}
/* The last, partial block through fblock_ref, then the lanes into *ks. */
static void GF_FN(fsum_finish)(gf_fsum *st, gf_ksum *ks)
{
    if (st->m > 0) GF_FN(fblock_ref)(st->buf, st->m, st->S, st->C);
    st->m = 0;
    gf_flanes_finish(st->S, st->C, GF_FLANES, ks);
}
GF_DEF_SUMSQ_FLT(f32, float, GF_FN(fblocks_f32))
GF_DEF_SUMSQ_FLT(f64, double, GF_FN(fblocks_f64))

/* -------------------------------------------------------- int sum of squares */
/* Squares below 2**32 (8- and 16-bit inputs) in 64-bit lanes, which go into
 * acc every GF_LANE_TERMS elements: a lane takes under 2**32 per term, so it
 * cannot wrap before 2**32 terms, and no chunk (however long the hook that
 * sets chunk sizes makes it) ever gets near that between flushes. */
#define GF_LANE_TERMS ((int64_t)1 << 24)
#define GF_DEF_SUMSQ_SMALL(NAME, T)                                            \
static void GF_FN(sumsq_##NAME)(const char *xp, int64_t xs, int64_t n,        \
                                gf_u192 *acc)                                 \
{                                                                             \
    int64_t i = 0, j, end;                                                    \
    while (i < n) {                                                           \
        uint64_t lane[16] = {0}, s = 0;                                       \
        end = n - i > GF_LANE_TERMS ? i + GF_LANE_TERMS : n;                  \
        if (xs == (int64_t)sizeof(T)) {                                       \
            const T *x = (const T *)xp;                                       \
            for (; i + 16 <= end; i += 16)                                    \
                for (j = 0; j < 16; j++) {                                    \
                    uint32_t v = (uint32_t)(int32_t)x[i + j];                 \
                    lane[j] += (uint64_t)(uint32_t)(v * v);                   \
                }                                                             \
        }                                                                     \
        for (; i < end; i++) {                                                \
            uint32_t v = (uint32_t)(int32_t)*(const T *)(xp + i * xs);        \
            s += (uint64_t)(uint32_t)(v * v);                                 \
        }                                                                     \
        for (j = 0; j < 16; j++) s += lane[j];                                \
        gf_u192_add64(acc, s);                                                \
    }                                                                         \
}
GF_DEF_SUMSQ_SMALL(i8, int8_t)
GF_DEF_SUMSQ_SMALL(i16, int16_t)
GF_DEF_SUMSQ_SMALL(u8, uint8_t)
GF_DEF_SUMSQ_SMALL(u16, uint16_t)

#define GF_MAG_I32(v) ((uint64_t)(uint32_t)((v) < 0 ? -(uint32_t)(v) : (uint32_t)(v)))
#define GF_MAG_U32(v) ((uint64_t)(v))
#define GF_MAG_I64(v) ((v) < 0 ? (uint64_t)0 - (uint64_t)(v) : (uint64_t)(v))
#define GF_MAG_U64(v) ((uint64_t)(v))
/* Squares of n values (n a multiple of 8) whose magnitudes fit in 32 bits,
 * split into 32-bit halves added to the lanes lo[0..3], hi[0..3]: kind 0/1
 * reads uint64/int64, 2/3 reads uint32/int32.  For 64-bit input it returns 0,
 * adding nothing, when some magnitude does not fit.  AVX2 (also used by the
 * AVX-512 level): one vpmuludq per four squares.  GCC vectorized the plain
 * loop below poorly (1.2 ns per int64 term at 10^5 on the EPYC VM, no better
 * than the 128-bit loop); it is the baseline and MSVC path.  A lane takes
 * n/4 terms below 2**32: callers pass at most GF_LANE_TERMS elements between
 * flushes of lo and hi. */
static int GF_FN(ssq_narrow)(const char *xp, int64_t n, int kind, uint64_t *lo, uint64_t *hi)
{
    int64_t i;
    int j;
#if defined(GF_SSQ_AVX2)
    const __m256i z = _mm256_setzero_si256(), m32 = _mm256_set1_epi64x(0xffffffff);
    __m256i l0 = z, h0 = z, l1 = z, h1 = z, big = z, a, b, qa, qb, sa, sb;
    uint64_t t[4];
    for (i = 0; i < n; i += 8) {
        if (kind <= 1) {
            a = _mm256_loadu_si256((const __m256i *)(xp + 8 * i));
            b = _mm256_loadu_si256((const __m256i *)(xp + 8 * i + 32));
        } else if (kind == 2) {
            a = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(xp + 4 * i)));
            b = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(xp + 4 * i + 16)));
        } else {
            a = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(xp + 4 * i)));
            b = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(xp + 4 * i + 16)));
        }
        if (kind & 1) { /* |v| = (v ^ s) - s, s = v < 0 ? -1 : 0 */
            sa = _mm256_cmpgt_epi64(z, a);
            sb = _mm256_cmpgt_epi64(z, b);
            a = _mm256_sub_epi64(_mm256_xor_si256(a, sa), sa);
            b = _mm256_sub_epi64(_mm256_xor_si256(b, sb), sb);
        }
        if (kind <= 1) big = _mm256_or_si256(big, _mm256_or_si256(a, b));
        qa = _mm256_mul_epu32(a, a);
        qb = _mm256_mul_epu32(b, b);
        l0 = _mm256_add_epi64(l0, _mm256_and_si256(qa, m32));
        h0 = _mm256_add_epi64(h0, _mm256_srli_epi64(qa, 32));
        l1 = _mm256_add_epi64(l1, _mm256_and_si256(qb, m32));
        h1 = _mm256_add_epi64(h1, _mm256_srli_epi64(qb, 32));
    }
    if (!_mm256_testz_si256(big, _mm256_andnot_si256(m32, _mm256_set1_epi64x(-1)))) return 0;
    _mm256_storeu_si256((__m256i *)t, _mm256_add_epi64(l0, l1));
    for (j = 0; j < 4; j++) lo[j] += t[j];
    _mm256_storeu_si256((__m256i *)t, _mm256_add_epi64(h0, h1));
    for (j = 0; j < 4; j++) hi[j] += t[j];
    return 1;
#else
    uint64_t big = 0, bl[4] = {0}, bh[4] = {0};
    for (i = 0; i < n; i += 4)
        for (j = 0; j < 4; j++) {
            const char *q = xp + (kind <= 1 ? 8 : 4) * (i + j);
            uint64_t m;
            if (kind == 0) m = *(const uint64_t *)q;
            else if (kind == 1) m = GF_MAG_I64(*(const int64_t *)q);
            else if (kind == 2) m = *(const uint32_t *)q;
            else m = GF_MAG_I32(*(const int32_t *)q);
            big |= m;
            m = (uint32_t)m * (uint64_t)(uint32_t)m;
            bl[j] += m & 0xffffffffu;
            bh[j] += m >> 32;
        }
    if (big >> 32) return 0;
    for (j = 0; j < 4; j++) lo[j] += bl[j], hi[j] += bh[j];
    return 1;
#endif
}

/* Squares below 2**64 (32-bit inputs): each square is split into 32-bit
 * halves summed in separate 64-bit lanes, so no carry is ever lost; the
 * lanes go into acc every GF_LANE_TERMS elements, far before any can
 * overflow (each takes under 2**32 per term). */
static void GF_FN(flush_lanes)(uint64_t *lo, uint64_t *hi, gf_u192 *acc)
{
    int j;
    for (j = 0; j < 4; j++) {
        gf_u192_add64(acc, lo[j]);
        gf_u192_add128(acc, hi[j] << 32, hi[j] >> 32);
        lo[j] = hi[j] = 0;
    }
}
#define GF_DEF_SUMSQ_MID(NAME, T, MAG, KIND)                                   \
static void GF_FN(sumsq_##NAME)(const char *xp, int64_t xs, int64_t n,        \
                                gf_u192 *acc)                                 \
{                                                                             \
    uint64_t lo[4] = {0}, hi[4] = {0};                                        \
    int64_t i = 0, end;                                                       \
    while (i < n) {                                                           \
        end = n - i > GF_LANE_TERMS ? i + GF_LANE_TERMS : n;                  \
        if (xs == (int64_t)sizeof(T)) {                                       \
            int64_t m = (end - i) & ~(int64_t)7;                              \
            GF_FN(ssq_narrow)(xp + i * xs, m, KIND, lo, hi);                  \
            i += m;                                                           \
        }                                                                     \
        for (; i < end; i++) {                                                \
            uint64_t m = MAG(*(const T *)(xp + i * xs));                      \
            uint64_t sq = m * m;                                              \
            lo[i & 3] += sq & 0xffffffffu;                                    \
            hi[i & 3] += sq >> 32;                                            \
        }                                                                     \
        GF_FN(flush_lanes)(lo, hi, acc);                                      \
    }                                                                         \
}
GF_DEF_SUMSQ_MID(i32, int32_t, GF_MAG_I32, 3)
GF_DEF_SUMSQ_MID(u32, uint32_t, GF_MAG_U32, 2)

/* 64-bit inputs: 128-bit squares into a 192-bit sum.  Contiguous input goes
 * in blocks of GF_IBLOCK: a block whose magnitudes all fit in 32 bits (the
 * common case) is summed as in the 32-bit path above, vectorized (about 20x
 * faster per term); any other block takes the scalar 128-bit path.  Both sum
 * into locals: acc shares a char pointer's alias set, so adding into it
 * directly stored and reloaded it on every term. */
#define GF_IBLOCK 256
#define GF_WIDE_STEP(MAG, v)                                                   \
    do {                                                                      \
        uint64_t m_ = MAG(v), plo_, phi_, c_;                                 \
        gf_mul64(m_, m_, &plo_, &phi_);                                       \
        w0 += plo_; c_ = w0 < plo_;                                           \
        w1 += phi_; w2 += w1 < phi_;                                          \
        w1 += c_; w2 += w1 < c_;                                              \
    } while (0)
#define GF_DEF_SUMSQ_WIDE(NAME, T, MAG, KIND)                                  \
static void GF_FN(sumsq_##NAME)(const char *xp, int64_t xs, int64_t n,        \
                                gf_u192 *acc)                                 \
{                                                                             \
    uint64_t w0 = 0, w1 = 0, w2 = 0, lo[4] = {0}, hi[4] = {0};               \
    int64_t i = 0, b, since_flush = 0;                                        \
    if (xs == (int64_t)sizeof(T)) {                                           \
        for (; i + GF_IBLOCK <= n; i += GF_IBLOCK) {                          \
            if (GF_FN(ssq_narrow)(xp + i * xs, GF_IBLOCK, KIND, lo, hi)) {    \
                if ((since_flush += GF_IBLOCK) >= GF_LANE_TERMS) {            \
                    GF_FN(flush_lanes)(lo, hi, acc);                          \
                    since_flush = 0;                                          \
                }                                                             \
                continue;                                                     \
            }                                                                 \
            for (b = i; b < i + GF_IBLOCK; b++)                               \
                GF_WIDE_STEP(MAG, *(const T *)(xp + b * xs));                 \
        }                                                                     \
    }                                                                         \
    for (; i < n; i++) GF_WIDE_STEP(MAG, *(const T *)(xp + i * xs));          \
    gf_u192_add128(acc, w0, w1);                                              \
    acc->w[2] += w2;                                                          \
    GF_FN(flush_lanes)(lo, hi, acc);                                          \
}
GF_DEF_SUMSQ_WIDE(i64, int64_t, GF_MAG_I64, 1)
GF_DEF_SUMSQ_WIDE(u64, uint64_t, GF_MAG_U64, 0)

static void GF_FN(sumsq_int)(int dtype, const char *xp, int64_t xs, int64_t n,
                             gf_u192 *acc)
{
#define GF_CASE(code, sfx) case code: GF_FN(sumsq_##sfx)(xp, xs, n, acc); break;
    switch (dtype) {
    GF_INT_DTYPES(GF_CASE)
    default: break;
    }
#undef GF_CASE
}

/* ------------------------------------------------------------ range sums */
/* Sum of m*m for m = m0 + k*d, k in [0, len), every m in [0, 2**32).  The
 * magnitudes are carried in uint32 lanes (wrapping arithmetic is exact here
 * because every true value fits), squared with a widening 32x32->64 multiply
 * and split into 32-bit halves, as in the 32-bit sum above.  This is a real
 * loop: one multiply per term, no closed form. */
static void GF_FN(range_small)(uint32_t m0, uint32_t d, int64_t len, gf_u192 *acc)
{
    uint64_t lo[16] = {0}, hi[16] = {0};
    uint32_t base[16];
    int64_t k = 0, j;
    for (j = 0; j < 16; j++) base[j] = m0 + (uint32_t)j * d;
    for (; k + 16 <= len; k += 16) {
        for (j = 0; j < 16; j++) {
            uint64_t m = base[j];
            uint64_t sq = m * m;
            lo[j] += sq & 0xffffffffu;
            hi[j] += sq >> 32;
            base[j] += 16u * d;
        }
    }
    for (; k < len; k++) {
        uint64_t m = (uint32_t)(m0 + (uint32_t)k * d);
        uint64_t sq = m * m;
        lo[0] += sq & 0xffffffffu;
        hi[0] += sq >> 32;
    }
    for (j = 0; j < 16; j++) {
        gf_u192_add64(acc, lo[j]);
        gf_u192_add128(acc, hi[j] << 32, hi[j] >> 32);
    }
}

/* The general case: 128-bit squares, 192-bit sum. */
static void GF_FN(range_wide)(uint64_t m0, uint64_t d, int64_t len, gf_u192 *acc)
{
    int64_t k;
    uint64_t m = m0;
    for (k = 0; k < len; k++, m += d) {
        uint64_t lo, hi;
        gf_mul64(m, m, &lo, &hi);
        gf_u192_add128(acc, lo, hi);
    }
}

/* Values v_k = v0 + k*step for k in [0, len), all of one sign. */
static void GF_FN(range_onesign)(int64_t v0, int64_t step, int64_t len, gf_u192 *acc)
{
    uint64_t m0, mlast, d;
    int64_t vlast;
    if (len <= 0) return;
    vlast = gf_range_at(v0, len - 1, step);
    if (v0 >= 0) {
        m0 = (uint64_t)v0;
        mlast = (uint64_t)vlast;
        d = (uint64_t)step;
    } else {
        m0 = (uint64_t)0 - (uint64_t)v0;
        mlast = (uint64_t)0 - (uint64_t)vlast;
        d = (uint64_t)0 - (uint64_t)step;
    }
    if (m0 <= UINT32_MAX && mlast <= UINT32_MAX)
        GF_FN(range_small)((uint32_t)m0, (uint32_t)d, len, acc);
    else
        GF_FN(range_wide)(m0, d, len, acc);
}

/* ------------------------------------------------------------ range fill */
#define GF_DEF_FILL(NAME, T, MT)                                               \
static void GF_FN(fill_##NAME)(char *op, int64_t v0, int64_t step, int64_t n) \
{                                                                             \
    T *o = (T *)op;                                                           \
    int64_t k;                                                                \
    for (k = 0; k < n; k++) {                                                 \
        T v = (T)gf_range_at(v0, k, step);                                    \
        o[k] = (T)((MT)v * (MT)v);                                            \
    }                                                                         \
}
GF_DEF_FILL(i8, int8_t, uint32_t)
GF_DEF_FILL(i16, int16_t, uint32_t)
GF_DEF_FILL(i32, int32_t, uint32_t)
GF_DEF_FILL(i64, int64_t, uint64_t)
GF_DEF_FILL(u8, uint8_t, uint32_t)
GF_DEF_FILL(u16, uint16_t, uint32_t)
GF_DEF_FILL(u32, uint32_t, uint32_t)
GF_DEF_FILL(u64, uint64_t, uint64_t)
GF_DEF_FILL(f32, float, float)
GF_DEF_FILL(f64, double, double)

static void GF_FN(fill_any)(int dtype, char *op, int64_t v0, int64_t step, int64_t n)
{
#define GF_CASE(code, sfx) case code: GF_FN(fill_##sfx)(op, v0, step, n); break;
    switch (dtype) {
    GF_ALL_DTYPES(GF_CASE)
    default: break;
    }
#undef GF_CASE
}

/* ------------------------------------------------------------ chunk runner */
static void GF_FN(gf_run_chunk)(gf_task *t, int64_t c)
{
    int64_t f0 = t->first + c * t->chunk;
    int64_t f1 = t->n - f0 > t->chunk ? f0 + t->chunk : t->n;
    int64_t f = f0;

    switch (t->op) {
    case GF_OP_SQUARE: {
        int bad = 0;
        /* Float chunks: the thread's IEEE status flags, cleared before and
         * read after, for np.errstate (gf_fpstatus.h). */
        int isfloat = t->dtype == GF_FLOAT32 || t->dtype == GF_FLOAT64;
        if (isfloat) gf_fp_clear();
#if defined(GF_HAVE_STREAM)
        if (t->stream && t->os1 == gf_itemsize(t->dtype) && t->out != t->x) {
            while (f < f1) {
                int64_t r = f / t->n1, col = f % t->n1;
                int64_t len = t->n1 - col < f1 - f ? t->n1 - col : f1 - f;
                bad |= GF_FN(square_stream)(t->dtype, t->x + r * t->xs0 + col * t->xs1,
                                            t->xs1, t->out + r * t->os0 + col * t->os1,
                                            len, t->check_overflow);
                f += len;
            }
            gf_stream_fence();
        }
#endif
        while (f < f1) {
            int64_t r = f / t->n1, col = f % t->n1;
            int64_t len = t->n1 - col < f1 - f ? t->n1 - col : f1 - f;
            bad |= GF_FN(square_any)(t->dtype, t->x + r * t->xs0 + col * t->xs1, t->xs1,
                                     t->out + r * t->os0 + col * t->os1, t->os1, len,
                                     t->check_overflow);
            f += len;
        }
        if (bad) gf_flag_set(&t->overflowed);
        if (isfloat) {
            int st = gf_fp_test();
            if (st) gf_fp_or(&t->fpstatus, st);
        }
        break;
    }
    case GF_OP_SUMSQ: {
        int isfloat = t->dtype == GF_FLOAT32 || t->dtype == GF_FLOAT64;
        gf_ksum ks = {0.0, 0.0};
        gf_u192 acc = {{0, 0, 0}};
        gf_fsum st;
        GF_FN(fsum_init)(&st);
        /* Row by row; the float state runs on across rows (gf_fsum). */
        while (f < f1) {
            int64_t r = f / t->n1, col = f % t->n1;
            int64_t len = t->n1 - col < f1 - f ? t->n1 - col : f1 - f;
            const char *xp = t->x + r * t->xs0 + col * t->xs1;
            if (t->dtype == GF_FLOAT64) GF_FN(sumsq_run_f64)(xp, t->xs1, len, &st);
            else if (t->dtype == GF_FLOAT32) GF_FN(sumsq_run_f32)(xp, t->xs1, len, &st);
            else GF_FN(sumsq_int)(t->dtype, xp, t->xs1, len, &acc);
            f += len;
        }
        if (isfloat) {
            GF_FN(fsum_finish)(&st, &ks);
            t->fpartials[c] = gf_ksum_value(&ks);
        } else {
            t->ipartials[c] = acc;
        }
        break;
    }
    case GF_OP_RANGE_SUMSQ: {
        gf_u192 acc = {{0, 0, 0}};
        int64_t v0 = gf_range_at(t->start, f0, t->step), len = f1 - f0;
        /* Split where the sequence crosses zero so each part has one sign. */
        int64_t neg = 0; /* how many leading terms have the sign of v0 */
        int64_t vlast = gf_range_at(v0, len - 1, t->step);
        if ((v0 < 0) == (vlast < 0)) {
            neg = len;
        } else if (v0 < 0) { /* increasing through zero: count v < 0 */
            uint64_t mag = (uint64_t)0 - (uint64_t)v0, st = (uint64_t)t->step;
            neg = (int64_t)((mag + st - 1) / st);
        } else {             /* decreasing through zero: count v >= 0 */
            uint64_t st = (uint64_t)0 - (uint64_t)t->step;
            neg = (int64_t)((uint64_t)v0 / st + 1);
        }
        GF_FN(range_onesign)(v0, t->step, neg, &acc);
        if (neg < len) GF_FN(range_onesign)(gf_range_at(v0, neg, t->step), t->step, len - neg, &acc);
        t->ipartials[c] = acc;
        break;
    }
    case GF_OP_RANGE_FILL:
        GF_FN(fill_any)(t->dtype, t->out + f0 * t->os1, gf_range_at(t->start, f0, t->step),
                        t->step, f1 - f0);
        break;
    default:
        break;
    }
}

#undef GF_FN
#undef GF_CAT
#undef GF_CAT2
