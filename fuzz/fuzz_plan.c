/*
 * libFuzzer target: gf_plan_chunks over arbitrary n in [0, 2**63 - 1],
 * itemsize in [1, 2**32], chunk_bytes in [1, 2**62] and spread in
 * [0, 2**20] (the callers pass itemsizes 1-8, chunk_bytes up to 2**40 and
 * spreads up to 4 x MAX_THREADS; the wider ranges test that nothing
 * overflows anywhere).
 *
 * Invariants, evaluated in 128-bit arithmetic:
 *   chunk > 0;  nchunks * chunk >= n;  (nchunks - 1) * chunk < n (so
 *   nchunks = ceil(n / chunk), 0 for n = 0);  nchunks <= GF_MAX_CHUNKS;
 *   the chunk is the requested one (chunk_bytes / itemsize, at least 1)
 *   unless it had to grow to respect GF_MAX_CHUNKS or shrink to spread
 *   mid-size work: never smaller than min(per, GF_SPREAD_MIN_BYTES /
 *   itemsize) elements, never larger than max(per, ceil(n / GF_MAX_CHUNKS)).
 *   Planning twice gives the same plan.  UBSan aborts on any signed overflow
 *   inside the planner.
 */
#include "gf_fuzz.h"

static int64_t pick(fz_in *in, int64_t lo, int64_t hi, const int64_t *common, int ncommon)
{
    uint8_t how = fz_u8(in);
    if (how % 4 == 0 && ncommon) return common[fz_u8(in) % ncommon];
    if (how % 4 == 1) { /* near a power of two */
        int sh = fz_u8(in) % 63;
        int64_t v = ((int64_t)1 << sh) + (int64_t)(fz_u8(in) % 5) - 2;
        if (v >= lo && v <= hi) return v;
    }
    if (how % 4 == 2) return hi - (int64_t)fz_range(in, 0, 16) > lo ? hi - (int64_t)fz_range(in, 0, 16) : lo;
    return (int64_t)fz_range(in, (uint64_t)lo, (uint64_t)hi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t items[] = {1, 2, 4, 8};
    static const int64_t cbs[] = {GF_CHUNK_BYTES, 1, 8, 16384, 131072, (int64_t)1 << 40};
    static const int64_t spreads[] = {0, 1, 2, GF_SPREAD_REDUCE, 4 * GF_SPREAD_PER_THREAD, 4 * 256};
    fz_in in = {data, size};
    gf_task t, t2;
    int64_t n, isz, cb, spread, per, lo, hi;
    __int128 nc, ch;
    n = pick(&in, 0, INT64_MAX, NULL, 0);
    isz = pick(&in, 1, (int64_t)1 << 32, items, 4);
    cb = pick(&in, 1, (int64_t)1 << 62, cbs, 6);
    spread = pick(&in, 0, 1 << 20, spreads, 6);

    memset(&t, 0, sizeof t);
    t.n = n;
    gf_plan_chunks(&t, isz, cb, spread);
    t2 = t;
    t2.chunk = t2.nchunks = -7;
    gf_plan_chunks(&t2, isz, cb, spread);
    nc = t.nchunks;
    ch = t.chunk;
#define BAD(what)                                                              \
    GF_FUZZ_FAIL("%s: n=%lld itemsize=%lld chunk_bytes=%lld spread=%lld -> chunk=%lld nchunks=%lld", \
                 what, (long long)n, (long long)isz, (long long)cb, (long long)spread,          \
                 (long long)t.chunk, (long long)t.nchunks)
    if (t.n != n) BAD("n changed");
    if (t2.chunk != t.chunk || t2.nchunks != t.nchunks) BAD("not deterministic");
    if (ch <= 0) BAD("chunk <= 0");
    if (nc < 0) BAD("nchunks < 0");
    if (nc * ch < n) BAD("nchunks * chunk < n");
    if ((nc - 1) * ch >= n && !(n == 0 && nc == 0)) BAD("(nchunks - 1) * chunk >= n");
    if (nc > GF_MAX_CHUNKS) BAD("nchunks > GF_MAX_CHUNKS");
    per = cb >= isz ? cb / isz : 1;
    lo = GF_SPREAD_MIN_BYTES / isz < per ? GF_SPREAD_MIN_BYTES / isz : per;
    if (lo < 1) lo = 1;
    hi = (int64_t)(((__int128)n + GF_MAX_CHUNKS - 1) / GF_MAX_CHUNKS);
    if (hi < per) hi = per;
    if (n > 0 && (ch < lo && ch < n)) BAD("chunk below the spread floor");
    if (ch > hi) BAD("chunk larger than needed");
    return 0;
}
