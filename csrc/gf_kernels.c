/*
 * Kernel dispatch, chunk planning and the combining of partials.
 *
 * The kernels themselves (gf_kernels_impl.h) are compiled once per SIMD level,
 * each level a translation unit of its own with its own compiler flags
 * (gf_level_baseline.c; on x86-64 also gf_level_avx2.c with -mavx2 -mfma or
 * /arch:AVX2, gf_level_avx512.c with -mavx512f -mavx512bw -mavx512dq
 * -mavx512vl or /arch:AVX512).  The build never uses -march=native: the
 * baseline level is plain x86-64 (SSE2) or whatever the target architecture
 * guarantees, and the wider levels are chosen at run time from cpuid and
 * xgetbv, so one wheel runs everywhere and is fast where the CPU allows.
 * ifunc/target_clones are avoided on purpose: musl does not support ifunc,
 * and MSVC has neither.
 */
#include "gf_kernels_common.h"

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

/* Each level's file says whether it was compiled with its flags (NULL
 * otherwise: a target that is not x86-64). */
static gf_chunk_fn gf_runner_at(int level)
{
    switch (level) {
    case GF_SIMD_BASELINE: return gf_level_runner_baseline();
    case GF_SIMD_AVX2: return gf_level_runner_avx2();
    case GF_SIMD_AVX512: return gf_level_runner_avx512();
    default: return NULL;
    }
}

int gf_simd_compiled(int level)
{
    return gf_runner_at(level) != NULL;
}

#if defined(GF_X86_DISPATCH)
/* cpuid and xgetbv, as NumPy, Highway and xxHash read them: a level needs
 * its instructions (cpuid) and an OS that saves the registers it uses on a
 * context switch (XCR0, read by xgetbv once cpuid says OSXSAVE). */
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static void gf_cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    int a[4];
    __cpuidex(a, (int)leaf, (int)sub);
    r[0] = (unsigned)a[0], r[1] = (unsigned)a[1], r[2] = (unsigned)a[2], r[3] = (unsigned)a[3];
}
static uint64_t gf_xcr0(void) { return (uint64_t)_xgetbv(0); }
#else
#include <cpuid.h>
static void gf_cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
static uint64_t gf_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/* macOS saves the AVX-512 state but sets its XCR0 bits only once a thread
 * first uses AVX-512 (the state is allocated on demand); the kernel says
 * whether it supports it through sysctl, as NumPy reads it. */
#if defined(__APPLE__)
#include <sys/sysctl.h>
static int gf_darwin_avx512(void)
{
    static const char *const names[] = {"hw.optional.avx512f", "hw.optional.avx512bw",
                                        "hw.optional.avx512dq", "hw.optional.avx512vl"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        int v = 0;
        size_t len = sizeof v;
        if (sysctlbyname(names[i], &v, &len, NULL, 0) != 0 || !v) return 0;
    }
    return 1;
}
#else
static int gf_darwin_avx512(void) { return 0; }
#endif

/* The best level this CPU and OS run. */
static int gf_cpu_level(void)
{
    unsigned r[4], max, b7;
    uint64_t xcr0;
    gf_cpuid(0, 0, r);
    max = r[0];
    if (max < 7) return GF_SIMD_BASELINE;
    gf_cpuid(1, 0, r);
    /* ecx: OSXSAVE (27), AVX (28), FMA (12): the AVX2 level's float32 sums
     * of squares use FMA, a cpuid bit of its own. */
    if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28)) || !(r[2] & (1u << 12)))
        return GF_SIMD_BASELINE;
    xcr0 = gf_xcr0();
    if ((xcr0 & 0x6) != 0x6) return GF_SIMD_BASELINE; /* XMM and YMM state */
    gf_cpuid(7, 0, r);
    b7 = r[1];
    if (!(b7 & (1u << 5))) return GF_SIMD_BASELINE; /* AVX2 */
    /* AVX512F (16), DQ (17), BW (30), VL (31), and the opmask, ZMM_Hi256
     * and Hi16_ZMM state (XCR0 bits 5-7) */
    if ((b7 & (1u << 16)) && (b7 & (1u << 17)) && (b7 & (1u << 30)) && (b7 & (1u << 31)) &&
        ((xcr0 & 0xe0) == 0xe0 || gf_darwin_avx512()))
        return GF_SIMD_AVX512;
    return GF_SIMD_AVX2;
}
#endif

int gf_simd_supported(int level)
{
    if (!gf_simd_compiled(level)) return 0;
    if (level == GF_SIMD_BASELINE) return 1;
#if defined(GF_X86_DISPATCH)
    /* The AVX-512 level runs the AVX2 blocks and their FMA too. */
    return level <= gf_cpu_level();
#else
    return 0;
#endif
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
    return gf_runner_at(level);
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
