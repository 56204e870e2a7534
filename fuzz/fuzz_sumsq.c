/*
 * libFuzzer target: GF_OP_SUMSQ (per-chunk partials) and the combine
 * functions, over arbitrary bytes as every dtype, in any (n0, n1) strided
 * view (fuzz/gf_fuzz_view.h), with an arbitrary chunk size.
 *
 * Integers: every chunk's 192-bit partial, and the gf_combine_u192 total,
 * must equal the exact sum of |x|**2 computed here in 128-bit squares and
 * 192-bit sums.
 *
 * Floats: the result is compared with a reference that forms each square in
 * long double (64-bit mantissa: relative error <= 2**-64) and sums them with
 * Neumaier's compensation in long double (error <= 2**-63 of the sum for the
 * at most 8192 terms here), so the reference is within ~2**-62 of the exact
 * sum.  The kernel's error bound, for non-negative terms (squares), is
 *   |got - exact| <= (gamma_10 + 2u + O(n u**2)) * exact + n * 2**-1074,
 *   u = 2**-53, gamma_k = k u / (1 - k u):
 * a term sees one rounding in its square (none for float32: the square of a
 * float32 is exact in double), at most 7 in its accumulator (8 terms per
 * accumulator per 256-block), 2 in the fold of four accumulators to a lane;
 * the TwoSum into the lane totals is exact, and the error terms it keeps are
 * summed with relative error O(n u**2); the lane totals and their errors are
 * then added with Neumaier's method (2u), and the chunk partials likewise
 * (another u on the rounded partial).  Underflowing squares lose at most
 * 2**-1075 each.  The check uses 16u * ref + (n + 1) * 2**-1074.
 * Non-finite results: any NaN input gives NaN; otherwise any infinite input,
 * or a sum beyond DBL_MAX by more than the bound, gives +inf; a sum below
 * DBL_MAX by more than the bound must be finite.
 *
 * Also: every level gives the same bits for every partial (a NaN partial
 * may be any NaN); and the same
 * values laid out C-contiguously with the same (n0, n1) give the same bits
 * as the strided view (the kernels convert strided input block by block so
 * that layouts agree; rows are summed separately, so the shape matters).
 */
#include "gf_fuzz_view.h"

typedef struct {
    long double s, c;
} ld_ksum;

static void ld_add(ld_ksum *k, long double v)
{
    long double t = k->s + v;
    if (fabsl(k->s) >= fabsl(v)) k->c += (k->s - t) + v;
    else k->c += (v - t) + k->s;
    k->s = t;
}

typedef struct {
    ld_ksum ks;
    int nan, inf;
    r192 exact;
} fz_ref;

static void ref_chunk(int dtype, const fz_view *v, int64_t f0, int64_t f1, fz_ref *r)
{
    int64_t f;
    memset(r, 0, sizeof *r);
    for (f = f0; f < f1; f++) {
        const char *p = v->base + fz_off(v, f / v->n1, f % v->n1);
        if (dtype == GF_FLOAT32 || dtype == GF_FLOAT64) {
            double d = fz_get_flt(dtype, p);
            if (isnan(d)) r->nan = 1;
            else if (isinf(d)) r->inf = 1;
            else ld_add(&r->ks, (long double)d * (long double)d);
        } else {
            __int128 x = fz_get_int(dtype, p);
            unsigned __int128 m = x < 0 ? (unsigned __int128)-x : (unsigned __int128)x;
            r_acc_u128(&r->exact, m * m);
        }
    }
}

static void check_float(const char *what, int level, double got, const fz_ref *r, int64_t nterms)
{
    const long double u = 0x1p-53L;
    long double ref = r->ks.s + r->ks.c;
    long double tol = 16 * u * ref + (long double)(nterms + 1) * 0x1p-1074L;
    if (r->nan) {
        if (!isnan(got)) GF_FUZZ_FAIL("%s level %s: %.17g, expected NaN", what, gf_simd_name(level), got);
        return;
    }
    if (r->inf || ref - tol > (long double)DBL_MAX) {
        if (!(isinf(got) && got > 0))
            GF_FUZZ_FAIL("%s level %s: %.17g, expected +inf (ref %.20Lg)", what, gf_simd_name(level), got, ref);
        return;
    }
    if (isinf(got) && got > 0 && ref + tol >= (long double)DBL_MAX) return; /* at the edge: either */
    if (!(fabsl((long double)got - ref) <= tol))
        GF_FUZZ_FAIL("%s level %s: %.17g vs reference %.20Lg: error %.3Lg > bound %.3Lg (%lld terms)",
                     what, gf_simd_name(level), got, ref, fabsl((long double)got - ref), tol,
                     (long long)nterms);
}

/* The same bits, except that any NaN equals any NaN: an addition of two
 * NaNs returns one of them (x86: the first operand's), so the payload and
 * sign of a NaN sum depend on the order in which the vector lanes meet them,
 * which nothing promises (NumPy does not either). */
static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

static void run_all(gf_task *t, gf_chunk_fn run, int reverse)
{
    int64_t c;
    for (c = 0; c < t->nchunks; c++) run(t, reverse ? t->nchunks - 1 - c : c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    fz_view x, xc;
    gf_task t;
    fz_ref *refs, whole;
    int dtype, isfloat, l;
    int64_t n0, n1, n, isz, c, chunk, i, j;
    double *fp[GF_SIMD_NLEVELS], *fpc;
    gf_u192 *ip[GF_SIMD_NLEVELS], *ipc;

    fz_init_levels("fuzz_sumsq");
    dtype = fz_u8(&in) % GF_NDTYPES;
    isfloat = dtype == GF_FLOAT32 || dtype == GF_FLOAT64;
    isz = fz_isz[dtype];
    n1 = (int64_t)fz_range(&in, 1, FZ_MAX_N);
    n0 = (int64_t)fz_range(&in, 1, 64);
    if (n0 * n1 > FZ_MAX_N) n0 = FZ_MAX_N / n1;
    n = n0 * n1;
    chunk = (int64_t)fz_range(&in, 1, (uint64_t)n);
    if (fz_u8(&in) & 1) chunk = n;
    fz_view_shape(&in, &x, n0, n1, isz, 0);
    fz_view_fill(&in, &x, dtype);

    memset(&t, 0, sizeof t);
    t.op = GF_OP_SUMSQ;
    t.dtype = dtype;
    t.x = x.base;
    t.n0 = n0;
    t.n1 = n1;
    t.xs0 = x.s0;
    t.xs1 = x.s1;
    t.n = n;
    t.chunk = chunk;
    t.nchunks = (n - 1) / chunk + 1;

    refs = (fz_ref *)malloc((size_t)t.nchunks * sizeof *refs);
    memset(&whole, 0, sizeof whole);
    for (c = 0; c < t.nchunks; c++) {
        int64_t f0 = c * chunk, f1 = f0 + chunk < n ? f0 + chunk : n;
        ref_chunk(dtype, &x, f0, f1, &refs[c]);
        whole.nan |= refs[c].nan;
        whole.inf |= refs[c].inf;
        ld_add(&whole.ks, refs[c].ks.s);
        ld_add(&whole.ks, refs[c].ks.c);
        whole.exact = r_add(whole.exact, refs[c].exact);
    }

    for (l = 0; l < fz_nlevels; l++) {
        fp[l] = (double *)malloc((size_t)t.nchunks * sizeof(double));
        ip[l] = (gf_u192 *)malloc((size_t)t.nchunks * sizeof(gf_u192));
        t.fpartials = fp[l];
        t.ipartials = ip[l];
        run_all(&t, fz_runners[l], l & 1);
        for (c = 0; c < t.nchunks; c++) {
            int64_t f0 = c * chunk, f1 = f0 + chunk < n ? f0 + chunk : n;
            if (isfloat) {
                check_float("SUMSQ chunk", fz_levels[l], fp[l][c], &refs[c], f1 - f0);
                if (l > 0 && !same_double(fp[l][c], fp[0][c]))
                    GF_FUZZ_FAIL("SUMSQ %s: levels disagree on chunk %lld: %a vs %a", fz_dtname[dtype],
                                 (long long)c, fp[l][c], fp[0][c]);
            } else {
                if (!r_eq(r_of_gf(&ip[l][c]), refs[c].exact)) {
                    r_print("kernel", r_of_gf(&ip[l][c]));
                    r_print("reference", refs[c].exact);
                    GF_FUZZ_FAIL("SUMSQ %s level %s n0=%lld n1=%lld xs=(%lld,%lld) chunk=%lld: chunk %lld",
                                 fz_dtname[dtype], gf_simd_name(fz_levels[l]), (long long)n0,
                                 (long long)n1, (long long)x.s0, (long long)x.s1, (long long)chunk,
                                 (long long)c);
                }
            }
        }
        if (isfloat) {
            check_float("SUMSQ combined", fz_levels[l], gf_combine_f64(fp[l], t.nchunks), &whole, n);
        } else {
            gf_u192 tot;
            gf_combine_u192(ip[l], t.nchunks, &tot);
            if (!r_eq(r_of_gf(&tot), whole.exact)) GF_FUZZ_FAIL("gf_combine_u192 total differs");
        }
    }

    /* the same values, C-contiguous with the same shape: the same bits */
    xc.n0 = n0;
    xc.n1 = n1;
    xc.isz = isz;
    xc.s1 = isz;
    xc.s0 = n1 * isz;
    fz_view_alloc(&xc);
    for (i = 0; i < n0; i++)
        for (j = 0; j < n1; j++) memcpy(xc.base + fz_off(&xc, i, j), x.base + fz_off(&x, i, j), (size_t)isz);
    fpc = (double *)malloc((size_t)t.nchunks * sizeof(double));
    ipc = (gf_u192 *)malloc((size_t)t.nchunks * sizeof(gf_u192));
    t.x = xc.base;
    t.xs0 = xc.s0;
    t.xs1 = xc.s1;
    t.fpartials = fpc;
    t.ipartials = ipc;
    run_all(&t, fz_runners[fz_nlevels - 1], 0);
    for (c = 0; c < t.nchunks; c++)
        if (isfloat ? !same_double(fpc[c], fp[0][c])
                    : !r_eq(r_of_gf(&ipc[c]), r_of_gf(&ip[0][c])))
            GF_FUZZ_FAIL("SUMSQ %s: the strided view xs=(%lld,%lld) and its contiguous copy differ "
                         "in chunk %lld (n0=%lld n1=%lld chunk=%lld)", fz_dtname[dtype],
                         (long long)x.s0, (long long)x.s1, (long long)c, (long long)n0, (long long)n1,
                         (long long)chunk);

    free(fpc);
    free(ipc);
    free(xc.buf);
    for (l = 0; l < fz_nlevels; l++) {
        free(fp[l]);
        free(ip[l]);
    }
    free(refs);
    free(x.buf);
    return 0;
}
