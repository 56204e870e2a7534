/*
 * Kernel dispatch: gf_kernels_impl.h compiled once per SIMD level.
 *
 * The build never uses -march=native: the baseline level is plain x86-64
 * (SSE2) or whatever the target arch guarantees, and the wider levels are
 * compiled with function-level target pragmas and chosen at run time from
 * cpuid, so one wheel runs everywhere and is fast where the CPU allows.
 * ifunc/target_clones are avoided on purpose: musl does not support ifunc.
 */
#include <float.h>
#include <string.h>

#include "gilfree.h"
#include "gf_fpstatus.h"

/* ------------------------------------------------- helpers (all levels) */
/* One X(code, suffix) per dtype: the per-dtype switches expand from these. */
#define GF_INT_DTYPES(X)                                                       \
    X(GF_INT8, i8) X(GF_INT16, i16) X(GF_INT32, i32) X(GF_INT64, i64)          \
    X(GF_UINT8, u8) X(GF_UINT16, u16) X(GF_UINT32, u32) X(GF_UINT64, u64)
#define GF_ALL_DTYPES(X) GF_INT_DTYPES(X) X(GF_FLOAT32, f32) X(GF_FLOAT64, f64)

typedef struct { double s, c; } gf_ksum;

/* Neumaier's compensated add. */
static inline void gf_ksum_add(gf_ksum *k, double v)
{
    double t = k->s + v;
    if ((k->s >= 0 ? k->s : -k->s) >= (v >= 0 ? v : -v))
        k->c += (k->s - t) + v;
    else
        k->c += (v - t) + k->s;
    k->s = t;
}

/* s + c, except when s is inf or NaN: then c holds inf - inf = NaN and only
 * s means anything (a sum that overflowed stays inf, as in NumPy). */
static inline double gf_ksum_value(const gf_ksum *k)
{
    return (k->s - k->s == 0.0) ? k->s + k->c : k->s;
}

/* Fold per-lane TwoSum pairs into *ks: the lane sums in order, then their
 * summed errors.  An infinite or NaN lane makes the errors NaN: then only the
 * sums count (an overflowed sum stays inf, as in NumPy). */
static inline void gf_flanes_finish(const double *S, const double *C, int lanes, gf_ksum *ks)
{
    double c = 0.0;
    int k;
    for (k = 0; k < lanes; k++) gf_ksum_add(ks, S[k]);
    for (k = 0; k < lanes; k++) c += C[k];
    if (c - c == 0.0) gf_ksum_add(ks, c);
}

/* Float sum of squares: a block of GF_FBLOCK elements goes through GF_FACC
 * independent accumulators (element p to accumulator p % GF_FACC: this is
 * what vectorizes, and enough of them hide the add latency), which fold to
 * GF_FLANES lanes in a fixed order; each lane's block total is then added to
 * a per-lane running sum with TwoSum, whose exact rounding errors are summed
 * beside it.  So the only uncompensated rounding is inside one block (8 terms
 * per accumulator; NumPy's pairwise sum has 16), and the compensation costs
 * a few vector ops per 256 elements.  The earlier design folded every block
 * to one scalar and added it with Neumaier's branchy step: 25-45% slower in
 * cache.  These three numbers are part of the result's definition (the
 * order of the additions): keep them in step with gf_fblock_ref. */
#define GF_FACC 32
#define GF_FLANES 8
#define GF_FBLOCK 256

/* One chunk's float sum of squares as it goes: the lanes of fblock_ref and
 * the block gathered so far (m values in buf).  A chunk may cover several
 * rows of a 2-D view; the blocks run on across row ends, so the block
 * structure depends only on the sequence of values, and a view gives the
 * bits of its contiguous copy. */
typedef struct {
    double S[GF_FLANES], C[GF_FLANES];
    double buf[GF_FBLOCK];
    int64_t m;
} gf_fsum;

static inline int64_t gf_itemsize(int dtype)
{
    switch (dtype) {
    case GF_INT8: case GF_UINT8: return 1;
    case GF_INT16: case GF_UINT16: return 2;
    case GF_INT32: case GF_UINT32: case GF_FLOAT32: return 4;
    default: return 8;
    }
}

/* Non-temporal stores (x86-64 always has SSE2's): a square whose output is
 * far larger than the cache writes each line once instead of first reading
 * it for ownership and later writing it back, so it moves 2 bytes of memory
 * per output byte instead of 3.  Measured on the 2-core EPYC VM, 10^8
 * float64: 75 -> 54 ms on 2 threads. */
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define GF_HAVE_STREAM 1
/* Bytes squared into an L1 buffer and then streamed out: 8 cache lines (a
 * few write-combining buffers; 64 B-2 KiB measured, small was best). */
#define GF_NT_BYTES 512
/* n bytes (a multiple of 16) to a 16-byte aligned dst. */
static inline void gf_stream_copy(char *dst, const char *src, int64_t n)
{
    int64_t i;
    for (i = 0; i < n; i += 16)
        _mm_stream_si128((__m128i *)(dst + i), _mm_loadu_si128((const __m128i *)(src + i)));
}
/* Streaming stores are weakly ordered: fence before the chunk counts as done. */
static inline void gf_stream_fence(void) { _mm_sfence(); }
#endif

#if defined(__GNUC__) || defined(__clang__)
/* 4 doubles; lowered to SSE2 pairs at the baseline level, one ymm on AVX. */
typedef double gf_v4d __attribute__((vector_size(32)));
#define GF_HAVE_VEC 1
#endif

static inline void gf_mul64(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi)
{
#if defined(__SIZEOF_INT128__)
    unsigned __int128 p = (unsigned __int128)a * b;
    *lo = (uint64_t)p;
    *hi = (uint64_t)(p >> 64);
#else
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (p00 & 0xffffffffu) | (mid << 32);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

static inline void gf_u192_add128(gf_u192 *a, uint64_t lo, uint64_t hi)
{
    uint64_t s0 = a->w[0] + lo;
    uint64_t c0 = s0 < lo;
    uint64_t s1 = a->w[1] + hi;
    uint64_t c1 = s1 < hi;
    uint64_t s1c = s1 + c0;
    c1 += s1c < c0;
    a->w[0] = s0;
    a->w[1] = s1c;
    a->w[2] += c1;
}

static inline void gf_u192_add64(gf_u192 *a, uint64_t v) { gf_u192_add128(a, v, 0); }

/* Set a flag that several threads may set at once (gf_task.overflowed):
 * an atomic store, so concurrent setters are not a data race (ThreadSanitizer
 * reported the plain store under free-threaded CPython). */
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define gf_flag_set(p) _InterlockedExchange((volatile long *)(p), 1)
#else
#define gf_flag_set(p) __atomic_store_n((p), 1, __ATOMIC_RELAXED)
#endif

/* v0 + k * step, the k-th term of a range, in wrapping unsigned arithmetic:
 * k * step alone may leave the int64 range (range(-2**63, 2**63 - 1, 2**46)
 * at k = 2**17) although every term is inside it, and signed overflow is
 * undefined behaviour.  The conversion back is exact for in-range terms. */
static inline int64_t gf_range_at(int64_t v0, int64_t k, int64_t step)
{
    return (int64_t)((uint64_t)v0 + (uint64_t)k * (uint64_t)step);
}

/* ------------------------------------------------------- the SIMD levels */
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define GF_X86_DISPATCH 1
#include <immintrin.h> /* AVX2/AVX-512 intrinsics, used only inside their target code */
#endif

#define GF_SUFFIX baseline
#include "gf_kernels_impl.h"
#undef GF_SUFFIX

int64_t gf_first_overflow(const gf_task *t)
{
    /* The kernel's own test (square_any with check on), run on blocks of
     * GF_OVF_BLOCK elements into a scratch buffer, then element by element
     * inside the first block it flags: the rule lives in one place. */
    enum { GF_OVF_BLOCK = 64 };
    double scratch[GF_OVF_BLOCK]; /* 64 elements of up to 8 bytes */
    int64_t isz = gf_itemsize(t->dtype), f = 0, r, col, len, k;
    while (f < t->n) {
        const char *xp;
        r = f / t->n1;
        col = f % t->n1;
        len = t->n1 - col < t->n - f ? t->n1 - col : t->n - f;
        if (len > GF_OVF_BLOCK) len = GF_OVF_BLOCK;
        xp = t->x + r * t->xs0 + col * t->xs1;
        if (square_any_baseline(t->dtype, xp, t->xs1, (char *)scratch, isz, len, 1)) {
            for (k = 0; k < len; k++)
                if (square_any_baseline(t->dtype, xp + k * t->xs1, t->xs1, (char *)scratch,
                                        isz, 1, 1))
                    return f + k;
        }
        f += len;
    }
    return -1;
}

#ifdef GF_X86_DISPATCH
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define GF_SUFFIX avx2
#define GF_SQ64_AVX2 1
#define GF_SSQ_AVX2 1
#define GF_FSSQ_AVX2 1
#include "gf_kernels_impl.h"
#undef GF_FSSQ_AVX2
#undef GF_SSQ_AVX2
#undef GF_SQ64_AVX2
#undef GF_SUFFIX
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,fma")
#endif
#define GF_SUFFIX avx512
/* The integer sum-of-squares blocks use the AVX2 code here too (AVX-512F
 * implies AVX2); the int64 square loop does not: vpmullq does it whole. */
#define GF_SSQ_AVX2 1
/* The float sum of squares in zmm registers (see fblocks). */
#define GF_FSSQ_AVX512 1
#include "gf_kernels_impl.h"
#undef GF_FSSQ_AVX512
#undef GF_SSQ_AVX2
#undef GF_SUFFIX
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif /* GF_X86_DISPATCH */

/* ceil(n / d) for n >= 0, d > 0, without the overflow of n + d - 1. */
static int64_t gf_ceil_div(int64_t n, int64_t d)
{
    return n / d + (n % d != 0);
}

static int64_t gf_plan_rounds(gf_task *t)
{
    int64_t chunks = t->n > 0 ? gf_ceil_div(t->n, t->chunk) : 0;
    t->first = 0;
    t->nchunks = chunks < GF_ROUND_CHUNKS ? chunks : GF_ROUND_CHUNKS;
    return gf_ceil_div(chunks, GF_ROUND_CHUNKS);
}

int64_t gf_plan_chunks(gf_task *t, int64_t itemsize, int64_t chunk_bytes, int64_t spread)
{
    int64_t per = chunk_bytes >= itemsize ? chunk_bytes / itemsize : 1, floor;
    t->chunk = per;
    if (spread > 1 && t->n < per * spread && t->n > GF_PARALLEL_MIN_BYTES / itemsize) {
        floor = GF_SPREAD_MIN_BYTES / itemsize;
        if (floor < per) {
            t->chunk = (t->n + spread - 1) / spread;
            if (t->chunk < floor) t->chunk = floor;
        }
    }
    return gf_plan_rounds(t);
}

int64_t gf_plan_range(gf_task *t, int64_t chunk)
{
    t->chunk = chunk > 0 ? chunk : 1;
    return gf_plan_rounds(t);
}

void gf_round(gf_task *t, int64_t r)
{
    int64_t chunks = gf_ceil_div(t->n, t->chunk), c0 = r * GF_ROUND_CHUNKS;
    t->first = c0 * t->chunk;
    t->nchunks = chunks - c0 < GF_ROUND_CHUNKS ? chunks - c0 : GF_ROUND_CHUNKS;
}

int gf_stream_compiled(void)
{
#if defined(GF_HAVE_STREAM)
    return 1;
#else
    return 0;
#endif
}

static const char *const gf_simd_names[GF_SIMD_NLEVELS] = {"baseline", "avx2", "avx512"};

static const gf_chunk_fn gf_runners[GF_SIMD_NLEVELS] = {
    gf_run_chunk_baseline,
#ifdef GF_X86_DISPATCH
    gf_run_chunk_avx2,
    gf_run_chunk_avx512,
#else
    NULL,
    NULL,
#endif
};

int gf_simd_compiled(int level)
{
    return level >= 0 && level < GF_SIMD_NLEVELS && gf_runners[level] != NULL;
}

int gf_simd_supported(int level)
{
    if (!gf_simd_compiled(level)) return 0;
    if (level == GF_SIMD_BASELINE) return 1;
#ifdef GF_X86_DISPATCH
    /* libgcc's cpu model checks both cpuid and that the OS saves the
     * registers (xgetbv). */
    __builtin_cpu_init();
    /* The AVX2 level also uses FMA (float32 sums of squares): every CPU
     * with AVX2 so far has it, but it is a separate cpuid bit. */
    if (level == GF_SIMD_AVX2)
        return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
    /* The AVX-512 level runs the AVX2 blocks and their FMA too. */
    if (level == GF_SIMD_AVX512)
        return (gf_simd_supported(GF_SIMD_AVX2) &&
                __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
                   ? 1
                   : 0;
#endif
    return 0;
}

int gf_simd_best(void)
{
    int level;
    for (level = GF_SIMD_NLEVELS - 1; level > 0; level--)
        if (gf_simd_supported(level)) return level;
    return GF_SIMD_BASELINE;
}

const char *gf_simd_name(int level)
{
    return (level >= 0 && level < GF_SIMD_NLEVELS) ? gf_simd_names[level] : "unknown";
}

gf_chunk_fn gf_chunk_runner(int level)
{
    return gf_simd_compiled(level) ? gf_runners[level] : NULL;
}

/* ------------------------------------------------------------- combining */
void gf_combine_f64_into(const double *p, int64_t n, double *sc)
{
    gf_ksum k = {sc[0], sc[1]};
    int64_t i;
    for (i = 0; i < n; i++) gf_ksum_add(&k, p[i]);
    sc[0] = k.s;
    sc[1] = k.c;
}

double gf_ksum_result(const double *sc)
{
    gf_ksum k = {sc[0], sc[1]};
    return gf_ksum_value(&k);
}

double gf_combine_f64(const double *p, int64_t n)
{
    double sc[2] = {0.0, 0.0};
    gf_combine_f64_into(p, n, sc);
    return gf_ksum_result(sc);
}

void gf_combine_u192(const gf_u192 *p, int64_t n, gf_u192 *total)
{
    int64_t i;
    memset(total, 0, sizeof(*total));
    for (i = 0; i < n; i++) {
        gf_u192_add128(total, p[i].w[0], p[i].w[1]);
        total->w[2] += p[i].w[2];
    }
}
