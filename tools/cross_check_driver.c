/*
 * The C core on a fixed corpus, without Python: tools/cross-check.sh builds
 * this with the kernels for every wheel target and compares the output of
 * each target's build with the native build's, line by line.
 *
 * For every SIMD level this build has and this CPU runs, every case prints
 * one line
 *
 *     <level> <case> <result>
 *
 * where <result> is the exact result: a float sum's bits, an integer sum's
 * 192-bit words, or a hash (FNV-1a 64) of a square's output bytes with its
 * overflow flag and IEEE status flags.  The corpus covers every dtype, chunk
 * edges (chunks of 8 bytes to 512 KiB, ragged last chunks), 2-D and strided
 * and reversed views, start offsets that are not vector-aligned, integer
 * squares at the overflow bound, float overflow, NaN, infinities and
 * subnormals, and range sums with terms near -2**63 and 2**63 - 1.  A few
 * cases also run through the thread pool (gf_pool.c), whose result must be
 * the caller-only one.
 *
 * Usage: cross_check_driver [level]   (default: every level the CPU runs)
 * Exit status 0; 2 when a level named is not run here.
 */
#include <math.h> /* INFINITY, NAN: macros, no libm */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gilfree.h"

/* ------------------------------------------------------------ helpers */
static uint64_t rng_state;
static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
/* a double in [-1, 1) */
static double rnd_unit(void) { return (double)(int64_t)rnd() / 9223372036854775808.0; }
/* 2**e, exactly, for -1074 <= e <= 1023, without libm */
static double pow2(int e)
{
    double r = 1.0;
    while (e > 0) r *= 2.0, e--;
    while (e < 0) r *= 0.5, e++;
    return r;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ b[i]) * UINT64_C(0x100000001B3);
    return h;
}
#define FNV0 UINT64_C(0xCBF29CE484222325)

static const char *const dtype_names[GF_NDTYPES] = {"i8", "i16", "i32", "i64", "u8",
                                                    "u16", "u32", "u64", "f32", "f64"};
static int64_t isz_of(int dt)
{
    switch (dt) {
    case GF_INT8: case GF_UINT8: return 1;
    case GF_INT16: case GF_UINT16: return 2;
    case GF_INT32: case GF_UINT32: case GF_FLOAT32: return 4;
    default: return 8;
    }
}

/* a 64-byte aligned block of n bytes (zeroed), and its raw pointer */
static void *alloc64(size_t n, void **raw)
{
    char *p = (char *)calloc(n + 64, 1);
    if (!p) {
        fprintf(stderr, "cross_check_driver: out of memory\n");
        exit(3);
    }
    *raw = p;
    return p + ((64 - ((uintptr_t)p & 63)) & 63);
}

/* Fill n elements of dtype dt at p (contiguous) by kind:
 * 0 random full range, 1 small magnitudes, 2 near the square's overflow
 * bound (ints) / specials (floats), 3 wide exponents (floats) */
static void fill(int dt, char *p, int64_t n, int kind)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        uint64_t r = rnd();
        char *q = p + i * isz_of(dt);
        if (dt == GF_FLOAT64 || dt == GF_FLOAT32) {
            double v = rnd_unit() * 10.0;
            if (kind == 3) v = rnd_unit() * pow2((int)(r % 1200) - 600);
            if (kind == 2) {
                static const double sp[] = {0.0, -0.0, 1e-310, 5e-324, 1.7e308, 1.5e154, -1.5e154,
                                            3e38, 2e19, 1e-30};
                if (r % 7 == 0) v = sp[(r >> 8) % 10];
                if (r % 211 == 1) v = (r >> 20) & 1 ? (double)INFINITY : -(double)INFINITY;
                if (r % 397 == 2) v = (double)NAN;
            }
            if (dt == GF_FLOAT64) {
                memcpy(q, &v, 8);
            } else {
                float f = (float)v;
                memcpy(q, &f, 4);
            }
            continue;
        }
        if (kind == 1) r = (r & 0xff) - 128; /* small magnitudes, both signs */
        if (kind == 2) {                     /* at the overflow bound, both sides */
            static const uint64_t b[GF_NDTYPES] = {11, 181, 46340, UINT64_C(3037000499), 15, 255,
                                                   65535, UINT64_C(4294967295), 0, 0};
            uint64_t m = b[dt] + (r & 1);
            int neg = dt <= GF_INT64 && ((r >> 1) & 1);
            r = neg ? (uint64_t)0 - m : m;
            if ((r >> 2) % 5 == 0) r = rnd(); /* and some anything */
        }
        memcpy(q, &r, (size_t)isz_of(dt)); /* little-endian: the low bytes */
    }
}

static gf_pool *pool;

/* Run every chunk of t (all rounds) with `run`; sums combine their partials
 * in chunk order, as gilfree._runtime does.  via_pool: the pool's helpers
 * share the chunks. */
static void run_task(gf_task *t, gf_chunk_fn run, int64_t chunk_bytes, int via_pool,
                     double *fsum, gf_u192 *isum)
{
    double sc[2] = {0.0, 0.0};
    gf_u192 total = {{0, 0, 0}};
    int64_t rounds, r, c;
    int isfloat = t->dtype == GF_FLOAT32 || t->dtype == GF_FLOAT64;
    if (t->op == GF_OP_RANGE_SUMSQ || t->op == GF_OP_RANGE_FILL)
        rounds = gf_plan_range(t, chunk_bytes);
    else
        rounds = gf_plan_chunks(t, isz_of(t->dtype), chunk_bytes,
                                t->op == GF_OP_SUMSQ ? GF_SPREAD_REDUCE : 2 * GF_SPREAD_PER_THREAD);
    t->fpartials = (double *)calloc(GF_ROUND_CHUNKS, sizeof(double));
    t->ipartials = (gf_u192 *)calloc(GF_ROUND_CHUNKS, sizeof(gf_u192));
    for (r = 0; r < rounds; r++) {
        gf_round(t, r);
        if (via_pool) {
            gf_job job;
            gf_job_init(&job, t, run, 2);
            gf_pool_submit(pool, &job);
            while (!gf_job_work(pool, &job, 0)) {
            }
        } else {
            for (c = 0; c < t->nchunks; c++) run(t, c);
        }
        if (t->op == GF_OP_SUMSQ && isfloat) {
            gf_combine_f64_into(t->fpartials, t->nchunks, sc);
        } else if (t->op == GF_OP_SUMSQ || t->op == GF_OP_RANGE_SUMSQ) {
            gf_u192 part;
            uint64_t s0, s1, c0, c1;
            gf_combine_u192(t->ipartials, t->nchunks, &part);
            s0 = total.w[0] + part.w[0];
            c0 = s0 < part.w[0];
            s1 = total.w[1] + part.w[1];
            c1 = s1 < part.w[1];
            s1 += c0;
            c1 += s1 < c0;
            total.w[0] = s0;
            total.w[1] = s1;
            total.w[2] += part.w[2] + c1;
        }
    }
    free(t->fpartials);
    free(t->ipartials);
    *fsum = gf_ksum_result(sc);
    *isum = total;
}

static int nlines;
static void emit(const char *level, const char *name, const char *result)
{
    printf("%s %s %s\n", level, name, result);
    nlines++;
}

/* One array case: SQUARE (check on, stream off and on) and SUMSQ, on the
 * view (n0, n1, xs0, xs1) of a buffer filled by `kind`. */
static void array_case(const char *level, gf_chunk_fn run, int dt, int64_t n0, int64_t n1,
                       int64_t step, int64_t off, int kind, int64_t chunk_bytes)
{
    int64_t isz = isz_of(dt), n = n0 * n1, span;
    int64_t xs1 = step * isz, xs0 = n1 * (step < 0 ? -step : step) * isz + 3 * isz;
    void *rawx, *rawo;
    char *bx, *bo, *x, *out;
    char name[160], res[200];
    double f, f2;
    gf_u192 s, s2;
    int stream;
    span = (n0 > 0 ? n0 : 1) * xs0 + 64 * isz;
    bx = (char *)alloc64((size_t)span + 64, &rawx);
    bo = (char *)alloc64((size_t)(n * isz) + 128, &rawo);
    fill(dt, bx, span / isz, kind);
    x = bx + off * isz + (step < 0 ? (n1 - 1) * -step * isz : 0);
    snprintf(name, sizeof name, "%s:n0=%lld,n1=%lld,step=%lld,off=%lld,kind=%d,chunk=%lld", dtype_names[dt],
             (long long)n0, (long long)n1, (long long)step, (long long)off, kind, (long long)chunk_bytes);
    for (stream = 0; stream <= 1; stream++) {
        gf_task t;
        memset(&t, 0, sizeof t);
        t.op = GF_OP_SQUARE;
        t.dtype = dt;
        t.check_overflow = 1;
        t.stream = stream;
        t.x = x;
        t.n0 = n0, t.n1 = n1, t.n = n, t.xs0 = xs0, t.xs1 = xs1;
        out = bo + (stream ? 0 : isz); /* contiguous out, two alignments */
        t.out = out;
        t.os0 = n1 * isz, t.os1 = isz;
        memset(bo, 0, (size_t)(n * isz) + 64);
        run_task(&t, run, chunk_bytes, 0, &f, &s);
        snprintf(res, sizeof res, "%016llx/ovf=%d/fpe=%d", (unsigned long long)fnv(FNV0, out, (size_t)(n * isz)),
                 t.overflowed, t.fpstatus);
        {
            char nm[200];
            snprintf(nm, sizeof nm, "square%s:%s", stream ? "-stream" : "", name);
            emit(level, nm, res);
        }
        if (!stream && t.overflowed) { /* the element an OverflowError names */
            char nm[200];
            snprintf(nm, sizeof nm, "first-overflow:%s", name);
            snprintf(res, sizeof res, "%lld", (long long)gf_first_overflow(&t));
            emit(level, nm, res);
        }
    }
    for (stream = 0; stream <= 1; stream++) {
        gf_task t;
        char nm[200];
        memset(&t, 0, sizeof t);
        t.op = GF_OP_SUMSQ;
        t.dtype = dt;
        t.stream = stream;
        t.x = x;
        t.n0 = n0, t.n1 = n1, t.n = n, t.xs0 = xs0, t.xs1 = xs1;
        run_task(&t, run, chunk_bytes, 0, &f, &s);
        if (dt == GF_FLOAT32 || dt == GF_FLOAT64) {
            uint64_t b;
            memcpy(&b, &f, 8);
            snprintf(res, sizeof res, "%016llx", (unsigned long long)b);
        } else {
            snprintf(res, sizeof res, "%016llx%016llx%016llx", (unsigned long long)s.w[2],
                     (unsigned long long)s.w[1], (unsigned long long)s.w[0]);
        }
        snprintf(nm, sizeof nm, "sumsq%s:%s", stream ? "-stream" : "", name);
        emit(level, nm, res);
        if (!stream && n >= 4096) { /* the pool must give the caller-only bits */
            gf_task t2;
            memset(&t2, 0, sizeof t2);
            t2 = t;
            t2.overflowed = 0;
            run_task(&t2, run, chunk_bytes, 1, &f2, &s2);
            snprintf(nm, sizeof nm, "sumsq-pool-same:%s", name);
            emit(level, nm, (memcmp(&f, &f2, 8) == 0 && memcmp(&s, &s2, sizeof s) == 0) ? "same" : "DIFFERENT");
        }
    }
    free(rawx);
    free(rawo);
}

static void range_case(const char *level, gf_chunk_fn run, int64_t start, int64_t step, int64_t n,
                       int64_t chunk)
{
    gf_task t;
    double f;
    gf_u192 s;
    char name[160], res[80];
    memset(&t, 0, sizeof t);
    t.op = GF_OP_RANGE_SUMSQ;
    t.dtype = GF_INT64;
    t.start = start, t.step = step, t.n = n, t.n0 = 1, t.n1 = n;
    run_task(&t, run, chunk, 0, &f, &s);
    snprintf(name, sizeof name, "range-sumsq:start=%lld,step=%lld,n=%lld,chunk=%lld", (long long)start,
             (long long)step, (long long)n, (long long)chunk);
    snprintf(res, sizeof res, "%016llx%016llx%016llx", (unsigned long long)s.w[2],
             (unsigned long long)s.w[1], (unsigned long long)s.w[0]);
    emit(level, name, res);
}

static void fill_case(const char *level, gf_chunk_fn run, int dt, int64_t start, int64_t step, int64_t n)
{
    gf_task t;
    double f;
    gf_u192 s;
    void *raw;
    char *out = (char *)alloc64((size_t)(n * isz_of(dt)) + 8, &raw);
    char name[160], res[80];
    memset(&t, 0, sizeof t);
    t.op = GF_OP_RANGE_FILL;
    t.dtype = dt;
    t.check_overflow = 1;
    t.out = out;
    t.start = start, t.step = step, t.n = n, t.n0 = 1, t.n1 = n, t.os0 = n * isz_of(dt), t.os1 = isz_of(dt);
    run_task(&t, run, 1000, 0, &f, &s);
    snprintf(name, sizeof name, "range-fill:%s,start=%lld,step=%lld,n=%lld", dtype_names[dt], (long long)start,
             (long long)step, (long long)n);
    snprintf(res, sizeof res, "%016llx", (unsigned long long)fnv(FNV0, out, (size_t)(n * isz_of(dt))));
    emit(level, name, res);
    free(raw);
}

static void plan_cases(void)
{
    static const int64_t ns[] = {0, 1, 1000, 16385, 65536, 131073, 1000003, INT64_C(1) << 40};
    size_t i;
    int dt;
    for (i = 0; i < sizeof ns / sizeof ns[0]; i++)
        for (dt = 0; dt < GF_NDTYPES; dt++) {
            gf_task t;
            char name[120], res[120];
            int64_t rounds;
            memset(&t, 0, sizeof t);
            t.n = ns[i];
            rounds = gf_plan_chunks(&t, isz_of(dt), GF_CHUNK_BYTES, GF_SPREAD_REDUCE);
            snprintf(name, sizeof name, "plan:n=%lld,%s", (long long)ns[i], dtype_names[dt]);
            snprintf(res, sizeof res, "rounds=%lld,chunk=%lld,nchunks=%lld", (long long)rounds,
                     (long long)t.chunk, (long long)t.nchunks);
            emit("all", name, res);
        }
}

static void run_level(int level)
{
    const char *name = gf_simd_name(level);
    gf_chunk_fn run = gf_chunk_runner(level);
    static const int64_t lens[] = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257,
                                   511, 512, 513, 1000, 2047, 2049, 4099};
    static const int64_t chunks[] = {GF_CHUNK_BYTES, 2056, 8};
    int dt, kind;
    size_t li, ci;
    int64_t off;
    rng_state = 20261207; /* the same corpus at every level */
    for (dt = 0; dt < GF_NDTYPES; dt++) {
        for (li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (off = 0; off < 4; off += (lens[li] == 257 || lens[li] == 1000) ? 1 : 3)
                array_case(name, run, dt, 1, lens[li], 1, off, (int)(li % 4), GF_CHUNK_BYTES);
        for (kind = 0; kind < 4; kind++) {
            for (ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++)
                array_case(name, run, dt, 1, 70001, 1, 1, kind, chunks[ci]);
            array_case(name, run, dt, 3, 4099, 1, 2, kind, 2056);  /* 2-D rows */
            array_case(name, run, dt, 1, 3001, 2, 0, kind, 4096);  /* strided */
            array_case(name, run, dt, 1, 3001, -3, 0, kind, 4096); /* reversed */
            array_case(name, run, dt, 41, 299, 1, 1, kind, 8);     /* tiny chunks */
        }
        /* past 8 default chunks: the spread rule stops, rounds of full chunks */
        array_case(name, run, dt, 1, 9 * (GF_CHUNK_BYTES / isz_of(dt)) + 3, 1, 1, 0, GF_CHUNK_BYTES);
    }
    {
        static const struct { int64_t start, step, n; } rs[] = {
            {INT64_MIN, 1, 1000},
            {INT64_MAX - 999, 1, 1000},
            {INT64_MIN, INT64_C(1) << 46, (INT64_C(1) << 17) + 5},
            {INT64_MAX, -(INT64_C(1) << 46), (INT64_C(1) << 18) - 1},
            {-(INT64_C(1) << 40), 12345, 200003},
            {INT64_C(1) << 40, -7777, 300001},
            {-100000, 1, 200001},
            {0, 3, 1000003},
            {INT64_C(4294967295) - 500, 1, 1000},
            {-INT64_C(4294967295) - 500, 1, 1001},
            {INT64_MIN + 1, 2, 77777},
        };
        size_t i;
        for (i = 0; i < sizeof rs / sizeof rs[0]; i++) {
            range_case(name, run, rs[i].start, rs[i].step, rs[i].n, GF_RANGE_CHUNK);
            range_case(name, run, rs[i].start, rs[i].step, rs[i].n, 999);
        }
    }
    for (dt = 0; dt < GF_NDTYPES; dt++) {
        fill_case(name, run, dt, -1000, 1, 2001);
        fill_case(name, run, dt, 3037000000, 7, 1001);
        fill_case(name, run, dt, INT64_MIN, INT64_C(1) << 50, 4096);
    }
}

int main(int argc, char **argv)
{
    int level, ran = 0;
    pool = gf_pool_create(0);
    if (!pool) {
        fprintf(stderr, "cross_check_driver: no thread pool\n");
        return 3;
    }
    plan_cases();
    for (level = 0; level < GF_SIMD_NLEVELS; level++) {
        if (!gf_simd_supported(level)) continue;
        if (argc > 1 && strcmp(argv[1], gf_simd_name(level)) != 0) continue;
        run_level(level);
        ran++;
    }
    gf_pool_destroy(pool);
    fprintf(stderr, "cross_check_driver: %d lines; levels compiled:", nlines);
    for (level = 0; level < GF_SIMD_NLEVELS; level++)
        if (gf_simd_compiled(level))
            fprintf(stderr, " %s%s", gf_simd_name(level), gf_simd_supported(level) ? "" : " (CPU lacks it)");
    fprintf(stderr, "\n");
    return ran ? 0 : 2;
}
