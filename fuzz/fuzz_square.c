/*
 * libFuzzer target: GF_OP_SQUARE over arbitrary bytes as every dtype.
 *
 * Input: a (n0, n1) view with arbitrary strides (fuzz/gf_fuzz_view.h).
 * Output: a separate, exactly sized view with distinct elements (contiguous
 * or strided, either sign) or the input itself (in place, as square(x,
 * out=x) passes it).  Chunk size arbitrary; the non-temporal-store path on
 * or off; overflow checking on or off.  Every SIMD level runs every chunk.
 *
 * Checks, against a scalar reference computed here:
 *   integers: out = x*x modulo 2**bits (NumPy's wrap), exactly;
 *   floats: out bit-identical to the scalar x*x (one IEEE multiply);
 *   overflow flag: set iff checking is on and some square does not fit
 *     (integers: |x|**2 beyond the dtype's range, computed exactly in 128
 *     bits; floats: a finite x whose square is inf);
 *   bytes of the output buffer outside the view are never written;
 *   every level gives the same bytes and the same flag.
 */
#include "gf_fuzz_view.h"

/* Reference square of the element at p into o; returns 1 if it overflows. */
static int ref_square(int dtype, const char *p, unsigned char *o)
{
    int64_t isz = fz_isz[dtype];
    if (dtype == GF_FLOAT32) {
        float x, r;
        memcpy(&x, p, 4);
        r = x * x;
        memcpy(o, &r, 4);
        return isfinite(x) && isinf(r);
    }
    if (dtype == GF_FLOAT64) {
        double x, r;
        memcpy(&x, p, 8);
        r = x * x;
        memcpy(o, &r, 8);
        return isfinite(x) && isinf(r);
    }
    {
        __int128 v = fz_get_int(dtype, p);
        unsigned __int128 m = v < 0 ? (unsigned __int128)-v : (unsigned __int128)v;
        unsigned __int128 sq = m * m; /* < 2**128 for |v| <= 2**64 - 1 */
        unsigned __int128 max = dtype <= GF_INT64 ? ((unsigned __int128)1 << (8 * isz - 1)) - 1
                                                  : ((unsigned __int128)1 << (8 * isz)) - 1;
        uint64_t low = (uint64_t)sq;
        int b;
        for (b = 0; b < isz; b++) o[b] = (unsigned char)(low >> (8 * b));
        return sq > max;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    fz_view x, o, ol[GF_SIMD_NLEVELS];
    gf_task t;
    int dtype, inplace, check, stream, want_over = 0, l;
    int64_t n0, n1, n, isz, i, j, c, chunk;
    unsigned char *refout, *pristine = NULL;
    uint8_t *mask;

    fz_init_levels("fuzz_square");
    dtype = fz_u8(&in) % GF_NDTYPES;
    isz = fz_isz[dtype];
    n1 = (int64_t)fz_range(&in, 1, FZ_MAX_N);
    n0 = (int64_t)fz_range(&in, 1, 64);
    if (n0 * n1 > FZ_MAX_N) n0 = FZ_MAX_N / n1;
    n = n0 * n1;
    {
        uint8_t flags = fz_u8(&in);
        inplace = flags & 1;
        check = (flags >> 1) & 1;
        stream = (flags >> 2) & 1;
    }
    chunk = (int64_t)fz_range(&in, 1, (uint64_t)n);
    if (fz_u8(&in) & 1) chunk = n; /* one chunk: long contiguous runs */

    /* the output view (and, in place, the input too) */
    fz_view_shape(&in, &o, n0, n1, isz, 1);
    if (inplace) {
        x = o;
        x.buf = (unsigned char *)malloc((size_t)(o.hi - o.lo));
        x.base = (char *)x.buf - x.lo;
    } else {
        fz_view_shape(&in, &x, n0, n1, isz, 0);
    }
    fz_view_fill(&in, &x, dtype);

    /* reference: element bytes, and which output bytes the view covers */
    refout = (unsigned char *)malloc((size_t)(n * isz));
    mask = (uint8_t *)calloc((size_t)(o.hi - o.lo), 1);
    for (i = 0; i < n0; i++)
        for (j = 0; j < n1; j++) {
            want_over |= ref_square(dtype, x.base + fz_off(&x, i, j), refout + (i * n1 + j) * isz);
            memset(mask + (fz_off(&o, i, j) - o.lo), 1, (size_t)isz);
        }
    want_over &= check;
    if (inplace) {
        pristine = x.buf;
    }

    for (l = 0; l < fz_nlevels; l++) {
        ol[l] = o;
        ol[l].buf = (unsigned char *)malloc((size_t)(o.hi - o.lo));
        ol[l].base = (char *)ol[l].buf - o.lo;
        if (inplace) memcpy(ol[l].buf, pristine, (size_t)(o.hi - o.lo));
        else memset(ol[l].buf, 0xCD, (size_t)(o.hi - o.lo));
        memset(&t, 0, sizeof t);
        t.op = GF_OP_SQUARE;
        t.dtype = dtype;
        t.check_overflow = check;
        t.stream = stream;
        t.x = inplace ? ol[l].base : x.base;
        t.out = ol[l].base;
        t.n0 = n0;
        t.n1 = n1;
        t.xs0 = inplace ? o.s0 : x.s0;
        t.xs1 = inplace ? o.s1 : x.s1;
        t.os0 = o.s0;
        t.os1 = o.s1;
        t.n = n;
        t.chunk = chunk;
        t.nchunks = (n - 1) / chunk + 1;
        for (c = 0; c < t.nchunks; c++) fz_runners[l](&t, (l & 1) ? t.nchunks - 1 - c : c);
        if (t.overflowed != want_over)
            GF_FUZZ_FAIL("SQUARE %s level %s: overflow flag %d, expected %d (check=%d)", fz_dtname[dtype],
                         gf_simd_name(fz_levels[l]), t.overflowed, want_over, check);
        for (i = 0; i < n0; i++)
            for (j = 0; j < n1; j++)
                if (memcmp(ol[l].base + fz_off(&o, i, j), refout + (i * n1 + j) * isz, (size_t)isz))
                    GF_FUZZ_FAIL("SQUARE %s level %s n0=%lld n1=%lld xs=(%lld,%lld) os=(%lld,%lld) "
                                 "chunk=%lld stream=%d inplace=%d: wrong value at (%lld, %lld)",
                                 fz_dtname[dtype], gf_simd_name(fz_levels[l]), (long long)n0,
                                 (long long)n1, (long long)t.xs0, (long long)t.xs1, (long long)o.s0,
                                 (long long)o.s1, (long long)chunk, stream, inplace, (long long)i,
                                 (long long)j);
        for (i = 0; i < o.hi - o.lo; i++)
            if (!mask[i] && ol[l].buf[i] != (inplace ? pristine[i] : 0xCD))
                GF_FUZZ_FAIL("SQUARE %s level %s wrote outside the output view (byte %lld)",
                             fz_dtname[dtype], gf_simd_name(fz_levels[l]), (long long)(i + o.lo));
        if (l > 0 && memcmp(ol[l].buf, ol[0].buf, (size_t)(o.hi - o.lo)))
            GF_FUZZ_FAIL("SQUARE levels disagree");
    }
    for (l = 0; l < fz_nlevels; l++) free(ol[l].buf);
    free(mask);
    free(refout);
    free(x.buf);
    free(o.buf);
    return 0;
}
