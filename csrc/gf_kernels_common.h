/*
 * What every kernel translation unit shares: the dtype lists, the float
 * summation's block constants and state, the wide-integer helpers.
 *
 * The kernels for one SIMD level are gf_kernels_impl.h, compiled once per
 * level as its own translation unit (gf_level_baseline.c, gf_level_avx2.c,
 * gf_level_avx512.c) with that level's compiler flags; gf_kernels.c holds the
 * dispatch (cpuid), the chunk planning and the combining of partials.
 */
#ifndef GF_KERNELS_COMMON_H
#define GF_KERNELS_COMMON_H

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

/* x86-64 builds carry the AVX2 and AVX-512 levels (any compiler: each level
 * is a file of its own, compiled with its own flags). */
#if defined(__x86_64__) || defined(_M_X64) || defined(_M_AMD64)
#define GF_X86_DISPATCH 1
#endif

/* Each level's chunk runner (gf_level_<level>.c), or NULL where that file
 * was compiled without the level's instruction set (not x86-64). */
gf_chunk_fn gf_level_runner_baseline(void);
gf_chunk_fn gf_level_runner_avx2(void);
gf_chunk_fn gf_level_runner_avx512(void);

#endif /* GF_KERNELS_COMMON_H */
