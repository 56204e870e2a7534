/*
 * libFuzzer target: GF_OP_RANGE_SUMSQ and GF_OP_RANGE_FILL.
 *
 * A case is a range (start, step, n) with every value start + k*step in
 * int64 -- the contract range_plan() gives the kernels -- cut into chunks of
 * an arbitrary size.
 *
 *  RANGE_SUMSQ: n up to the full int64 span, chunks of up to 2**17 terms,
 *    planned by gf_plan_range; in one round (the first, the last or a chosen
 *    one, so chunk starts reach 2**63) up to four chunks (the round's first,
 *    last and two chosen ones) are run on every SIMD level.  Each chunk's
 *    192-bit partial must equal a closed form evaluated modulo 2**192 here
 *    (n a^2 + a d n(n-1) + d^2 n(n-1)(2n-1)/6, exact because the true sum is
 *    below 2**192), which is itself checked against a term-by-term 128-bit
 *    loop for chunks of up to 4096 terms.  Small tasks are also run whole and
 *    combined with gf_combine_u192, checked against the closed form of the
 *    whole range.
 *  RANGE_FILL: up to 2**16 values of each dtype, chunked arbitrarily or as
 *    gf_plan_chunks plans it, must equal NumPy's semantics computed here
 *    independently: the int64 value converted to the dtype (integers keep the
 *    low bits: wrap modulo 2**bits; floats round to nearest) and squared in
 *    the dtype (integers wrap).  Output buffers are exactly sized, so ASan
 *    sees any write outside them.
 *
 * All levels must also agree bit for bit.
 */
#include "gf_fuzz.h"

#define MAX_SUMSQ_CHUNK GF_RANGE_CHUNK /* the chunk gilfree uses for ranges */
#define LOOP_CHECK_MAX 4096
#define MAX_FILL 65536

/* Largest count n such that start + (n-1)*step is in int64, capped at
 * INT64_MAX (range_plan's limit). */
static int64_t max_count(int64_t start, int64_t step)
{
    __int128 lim = step > 0 ? (__int128)INT64_MAX - start : (__int128)start - INT64_MIN;
    __int128 st = step > 0 ? (__int128)step : -(__int128)step;
    __int128 n = lim / st + 1;
    return n > INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* sum_{k<len} (a + k d)^2 modulo 2**192 (exact: the true sum is below it). */
static r192 closed_form(__int128 a, __int128 d, unsigned __int128 len)
{
    r192 L = r_from_u128(len), r, t, p;
    uint64_t rem;
    unsigned __int128 am = a < 0 ? (unsigned __int128)-a : (unsigned __int128)a;
    unsigned __int128 dm = d < 0 ? (unsigned __int128)-d : (unsigned __int128)d;
    unsigned __int128 lm1 = len ? len - 1 : 0;
    if (len == 0) return r_from_u128(0);
    r = r_mul(L, r_mul(r_from_u128(am), r_from_u128(am)));
    t = r_mul(r_from_i128(a * d), r_from_u128(len * lm1));
    r = r_add(r, t);
    p = r_mul(r_from_u128(len * lm1), r_from_u128(2 * len - 1));
    p = r_div_small(p, 6, &rem);
    if (rem) GF_FUZZ_FAIL("n(n-1)(2n-1) not divisible by 6");
    r = r_add(r, r_mul(r_mul(r_from_u128(dm), r_from_u128(dm)), p));
    return r;
}

static r192 loop_ref(__int128 a, __int128 d, int64_t len)
{
    r192 acc = r_from_u128(0);
    int64_t k;
    for (k = 0; k < len; k++) {
        __int128 v = a + (__int128)k * d;
        unsigned __int128 m = v < 0 ? (unsigned __int128)-v : (unsigned __int128)v;
        r_acc_u128(&acc, m * m);
    }
    return acc;
}

static int64_t shape_i64(fz_in *in)
{
    uint8_t how = fz_u8(in);
    uint64_t raw = fz_u64(in);
    switch (how % 6) {
    case 0: return (int64_t)raw;
    case 1: return INT64_MIN + (int64_t)(raw % 4096);            /* near the bottom */
    case 2: return INT64_MAX - (int64_t)(raw % 4096);            /* near the top */
    case 3: return (int64_t)(raw % 200001) - 100000;             /* small */
    case 4: return (int64_t)(raw & 1 ? -1 : 1) * (int64_t)((uint64_t)1 << (raw >> 1) % 63);
    default: return (int64_t)(raw % 8589934592u) - 4294967296;   /* around +-2**32 */
    }
}

static void do_sumsq(fz_in *in, int64_t start, int64_t step, int64_t nmax)
{
    static gf_u192 *parts;
    gf_task t;
    int64_t chunk, n, rounds, r, cs[4], c;
    int i, l, nc;
    uint8_t which;
    if (!parts) parts = (gf_u192 *)malloc(GF_ROUND_CHUNKS * sizeof(gf_u192));
    memset(&t, 0, sizeof t);
    {
        /* mostly short chunks (the edges are what matter; a long one costs
         * milliseconds under the sanitizers), now and then Python's size */
        uint8_t len = fz_u8(in);
        uint64_t c = fz_u64(in);
        chunk = (int64_t)(len % 4 == 0 ? 1 + c % MAX_SUMSQ_CHUNK : len % 4 == 1 ? 1 + c % 64 : 1 + c % 4096);
    }
    n = (int64_t)fz_range(in, 1, (uint64_t)nmax);
    t.op = GF_OP_RANGE_SUMSQ;
    t.start = start;
    t.step = step;
    t.n = n;
    t.n0 = 1;
    t.n1 = n;
    t.ipartials = parts;
    rounds = gf_plan_range(&t, chunk);
    if (t.chunk != chunk || rounds < 1) GF_FUZZ_FAIL("gf_plan_range");
    which = fz_u8(in);
    r = which % 3 == 0 ? 0 : which % 3 == 1 ? rounds - 1 : (int64_t)fz_range(in, 0, (uint64_t)rounds - 1);
    gf_round(&t, r);
    cs[0] = 0;
    cs[1] = t.nchunks - 1;
    cs[2] = (int64_t)fz_range(in, 0, (uint64_t)t.nchunks - 1);
    cs[3] = (int64_t)fz_range(in, 0, (uint64_t)t.nchunks - 1);
    nc = t.nchunks == 1 ? 1 : 4;
    for (i = 0; i < nc; i++) {
        int64_t f0, f1;
        r192 want, got0 = {{0, 0, 0}};
        c = cs[i];
        f0 = t.first + c * chunk; /* < n: no overflow */
        f1 = n - f0 < chunk ? n : f0 + chunk;
        want = closed_form((__int128)start + (__int128)f0 * step, step, (unsigned __int128)(f1 - f0));
        if (f1 - f0 <= LOOP_CHECK_MAX) {
            r192 lr = loop_ref((__int128)start + (__int128)f0 * step, step, f1 - f0);
            if (!r_eq(lr, want)) {
                r_print("closed form", want);
                r_print("loop", lr);
                GF_FUZZ_FAIL("reference disagreement");
            }
        }
        for (l = 0; l < fz_nlevels; l++) {
            r192 got;
            memset(&parts[c], 0xA5, sizeof parts[c]);
            fz_runners[l](&t, c);
            got = r_of_gf(&parts[c]);
            if (!r_eq(got, want)) {
                r_print("kernel", got);
                r_print("reference", want);
                GF_FUZZ_FAIL("RANGE_SUMSQ level %s start=%lld step=%lld n=%lld chunk=%lld round=%lld c=%lld",
                             gf_simd_name(fz_levels[l]), (long long)start, (long long)step,
                             (long long)n, (long long)chunk, (long long)r, (long long)c);
            }
            if (l == 0) got0 = got;
            else if (!r_eq(got, got0)) GF_FUZZ_FAIL("levels disagree");
        }
    }
    /* Small tasks: every chunk, combined. */
    if (rounds == 1 && t.nchunks <= 64 && n <= 4 * MAX_SUMSQ_CHUNK) {
        gf_u192 total;
        r192 want = closed_form(start, step, (unsigned __int128)n);
        for (l = 0; l < fz_nlevels; l++) {
            for (c = t.nchunks - 1; c >= 0; c--) fz_runners[l](&t, c);
            gf_combine_u192(parts, t.nchunks, &total);
            if (!r_eq(r_of_gf(&total), want)) {
                r_print("combined", r_of_gf(&total));
                r_print("reference", want);
                GF_FUZZ_FAIL("combined RANGE_SUMSQ start=%lld step=%lld n=%lld chunk=%lld",
                             (long long)start, (long long)step, (long long)n, (long long)chunk);
            }
        }
    }
}

static const int64_t isz_of[GF_NDTYPES] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};

/* NumPy's np.square(np.int64(v).astype(dtype)), as little-endian bytes. */
static void fill_ref(int dtype, int64_t v, unsigned char *o)
{
    if (dtype == GF_FLOAT32) {
        float f = (float)v;
        f = f * f;
        memcpy(o, &f, 4);
    } else if (dtype == GF_FLOAT64) {
        double f = (double)v;
        f = f * f;
        memcpy(o, &f, 8);
    } else {
        uint64_t u = (uint64_t)v, sq = u * u; /* low bits of v^2 = (v mod 2^b)^2 mod 2^b */
        int b;
        for (b = 0; b < isz_of[dtype]; b++) o[b] = (unsigned char)(sq >> (8 * b));
    }
}

static void do_fill(fz_in *in, int64_t start, int64_t step, int64_t nmax)
{
    gf_task t;
    int dtype = fz_u8(in) % GF_NDTYPES;
    int64_t isz = isz_of[dtype], n, k, c, r, rounds;
    unsigned char *ref, *out[GF_SIMD_NLEVELS];
    int l, how;
    memset(&t, 0, sizeof t);
    n = (int64_t)fz_range(in, 1, (uint64_t)(nmax < MAX_FILL ? nmax : MAX_FILL));
    t.op = GF_OP_RANGE_FILL;
    t.dtype = dtype;
    t.start = start;
    t.step = step;
    t.n = n;
    t.n0 = 1;
    t.n1 = n;
    t.os1 = isz;
    how = fz_u8(in) % 3;
    if (how == 0) {
        rounds = gf_plan_range(&t, (int64_t)fz_range(in, 1, (uint64_t)n));
    } else {
        /* as squares_range plans it, with a test-hook chunk size */
        int64_t cb = how == 1 ? GF_CHUNK_BYTES : (int64_t)fz_range(in, 1, 1 << 20);
        int64_t spread = (int64_t)fz_range(in, 1, 64);
        rounds = gf_plan_chunks(&t, isz, cb, spread);
    }
    if (t.chunk <= 0 || rounds < 1)
        GF_FUZZ_FAIL("bad plan chunk=%lld rounds=%lld for n=%lld", (long long)t.chunk,
                     (long long)rounds, (long long)n);
    ref = (unsigned char *)malloc((size_t)(n * isz));
    for (k = 0; k < n; k++) fill_ref(dtype, (int64_t)((__int128)start + (__int128)k * step), ref + k * isz);
    for (l = 0; l < fz_nlevels; l++) {
        out[l] = (unsigned char *)malloc((size_t)(n * isz));
        memset(out[l], 0x5A, (size_t)(n * isz));
        t.out = (char *)out[l];
        for (r = 0; r < rounds; r++) {
            gf_round(&t, r);
            for (c = 0; c < t.nchunks; c++) fz_runners[l](&t, l & 1 ? t.nchunks - 1 - c : c);
        }
        if (memcmp(out[l], ref, (size_t)(n * isz)) != 0) {
            for (k = 0; k < n && !memcmp(out[l] + k * isz, ref + k * isz, (size_t)isz); k++) {}
            GF_FUZZ_FAIL("RANGE_FILL level %s dtype %d start=%lld step=%lld n=%lld chunk=%lld: "
                         "first difference at k=%lld", gf_simd_name(fz_levels[l]), dtype,
                         (long long)start, (long long)step, (long long)n, (long long)t.chunk,
                         (long long)k);
        }
    }
    for (l = 0; l < fz_nlevels; l++) free(out[l]);
    free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    uint8_t op;
    int64_t start, step, nmax;
    fz_init_levels("fuzz_range");
    op = fz_u8(&in);
    start = shape_i64(&in);
    step = shape_i64(&in);
    if (step == 0) step = 1;
    nmax = max_count(start, step);
    if (op & 1) do_fill(&in, start, step, nmax);
    else do_sumsq(&in, start, step, nmax);
    return 0;
}
