/*
 * libFuzzer target: the planners gf_plan_chunks, gf_plan_range and gf_round.
 *
 * Domain: what the callers can pass.  n in [0, 2**63 - 1] (range lengths
 * reach it; arrays stay far below), itemsize in [1, 64] (the dtypes use 1-8),
 * chunk_bytes in [1, 2**40] (tuning()'s bound), spread in [0, 4 x 1024]
 * (GF_SPREAD_PER_THREAD x MAX_THREADS), range chunk in [1, 2**30].
 *
 * Invariants, evaluated in 128-bit arithmetic:
 *   chunk > 0, and chunk <= chunk_bytes / itemsize (at least 1): a chunk is
 *     never longer than asked, however large n is (the Ctrl-C bound);
 *   below that, chunk >= min(per, GF_SPREAD_MIN_BYTES / itemsize) unless one
 *     chunk holds all of n;
 *   rounds = ceil(ceil(n / chunk) / GF_ROUND_CHUNKS) (0 for n = 0), and round
 *     0 is set up: first = 0, nchunks = min(GF_ROUND_CHUNKS, total chunks);
 *   gf_round(r) for the first, the last and two chosen rounds: first =
 *     r * GF_ROUND_CHUNKS * chunk, 0 < nchunks <= GF_ROUND_CHUNKS, rounds
 *     abut (first + nchunks * chunk is the next round's first), the last
 *     ends at or past n with its last chunk starting before n;
 *   planning twice gives the same plan.
 * UBSan aborts on any signed overflow inside the planners.
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
    if (how % 4 == 2) { /* near the top */
        int64_t d = (int64_t)fz_range(in, 0, 16);
        return hi - d > lo ? hi - d : lo;
    }
    return (int64_t)fz_range(in, (uint64_t)lo, (uint64_t)hi);
}

static void check_rounds(fz_in *in, gf_task *t, int64_t rounds, const char *what)
{
    __int128 n = t->n, ch = t->chunk;
    __int128 chunks = n > 0 ? (n + ch - 1) / ch : 0;
    __int128 want_rounds = (chunks + GF_ROUND_CHUNKS - 1) / GF_ROUND_CHUNKS;
    int64_t rs[4], r;
    int i;
#define BADR(msg)                                                              \
    GF_FUZZ_FAIL("%s: %s: n=%lld chunk=%lld rounds=%lld round=%lld first=%lld nchunks=%lld", what, \
                 msg, (long long)t->n, (long long)t->chunk, (long long)rounds, (long long)r,        \
                 (long long)t->first, (long long)t->nchunks)
    r = 0;
    if (ch <= 0) BADR("chunk <= 0");
    if (rounds != want_rounds) BADR("wrong number of rounds");
    if (t->first != 0) BADR("round 0 does not start at 0");
    if (t->nchunks != (chunks < GF_ROUND_CHUNKS ? chunks : GF_ROUND_CHUNKS)) BADR("round 0 size");
    if (rounds == 0) return;
    rs[0] = 0;
    rs[1] = rounds - 1;
    rs[2] = (int64_t)fz_range(in, 0, (uint64_t)rounds - 1);
    rs[3] = (int64_t)fz_range(in, 0, (uint64_t)rounds - 1);
    for (i = 0; i < 4; i++) {
        __int128 first, end;
        r = rs[i];
        gf_round(t, r);
        first = (__int128)r * GF_ROUND_CHUNKS * ch;
        if (t->first != first) BADR("first");
        if (t->nchunks <= 0 || t->nchunks > GF_ROUND_CHUNKS) BADR("nchunks out of (0, GF_ROUND_CHUNKS]");
        end = first + (__int128)t->nchunks * ch;
        if (r < rounds - 1) {
            if (t->nchunks != GF_ROUND_CHUNKS) BADR("a round before the last is not full");
            if (end >= n) BADR("a round before the last reaches n");
        } else {
            if (end < n) BADR("the last round ends before n");
            if (end - ch >= n) BADR("the last round's last chunk starts at or past n");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t items[] = {1, 2, 4, 8};
    static const int64_t cbs[] = {GF_CHUNK_BYTES, 1, 8, 16384, 131072, (int64_t)1 << 40};
    static const int64_t spreads[] = {0, 1, 2, GF_SPREAD_REDUCE, 2 * GF_SPREAD_PER_THREAD,
                                      GF_SPREAD_PER_THREAD * 1024};
    static const int64_t rchunks[] = {GF_RANGE_CHUNK, 1, 3, (int64_t)1 << 30};
    fz_in in = {data, size};
    gf_task t, t2;
    int64_t n, isz, cb, spread, per, lo, rc, rounds, rounds2;
    n = pick(&in, 0, INT64_MAX, NULL, 0);
    isz = pick(&in, 1, 64, items, 4);
    cb = pick(&in, 1, (int64_t)1 << 40, cbs, 6);
    spread = pick(&in, 0, GF_SPREAD_PER_THREAD * 1024, spreads, 6);
    rc = pick(&in, 1, (int64_t)1 << 30, rchunks, 4);

    /* gf_plan_chunks */
    memset(&t, 0, sizeof t);
    t.n = n;
    rounds = gf_plan_chunks(&t, isz, cb, spread);
    t2 = t;
    t2.chunk = t2.nchunks = t2.first = -7;
    rounds2 = gf_plan_chunks(&t2, isz, cb, spread);
#define BAD(what)                                                              \
    GF_FUZZ_FAIL("%s: n=%lld itemsize=%lld chunk_bytes=%lld spread=%lld -> chunk=%lld nchunks=%lld", \
                 what, (long long)n, (long long)isz, (long long)cb, (long long)spread,          \
                 (long long)t.chunk, (long long)t.nchunks)
    if (t.n != n) BAD("n changed");
    if (rounds2 != rounds || t2.chunk != t.chunk || t2.nchunks != t.nchunks || t2.first != t.first)
        BAD("not deterministic");
    per = cb >= isz ? cb / isz : 1;
    lo = GF_SPREAD_MIN_BYTES / isz < per ? GF_SPREAD_MIN_BYTES / isz : per;
    if (lo < 1) lo = 1;
    if (t.chunk > per) BAD("chunk longer than chunk_bytes / itemsize");
    if (n > 0 && t.chunk < lo && t.chunk < n) BAD("chunk below the spread floor");
    check_rounds(&in, &t, rounds, "gf_plan_chunks");

    /* gf_plan_range */
    memset(&t, 0, sizeof t);
    t.n = n;
    rounds = gf_plan_range(&t, rc);
    if (t.chunk != rc) BAD("gf_plan_range changed the chunk");
    check_rounds(&in, &t, rounds, "gf_plan_range");
    return 0;
}
