/*
 * Arrays for the SQUARE and SUMSQ targets: a (n0, n1) view with arbitrary
 * byte strides (negative, zero and gapped ones included) over a heap buffer
 * sized exactly to the bytes the view can touch, so AddressSanitizer reports
 * any access outside the view's extent.  Values come from the fuzzer's bytes
 * and, once those run out, from a xorshift stream seeded by them, shaped so
 * that both the wide and the narrow (fits-in-32-bits) integer paths and
 * finite, subnormal, huge and non-finite floats all occur.
 */
#ifndef GF_FUZZ_VIEW_H
#define GF_FUZZ_VIEW_H

#include <float.h>
#include <math.h>

#include "gf_fuzz.h"

#define FZ_MAX_N 8192

static const int64_t fz_isz[GF_NDTYPES] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};
static const char *const fz_dtname[GF_NDTYPES] = {"int8",   "int16",  "int32",  "int64",
                                                  "uint8",  "uint16", "uint32", "uint64",
                                                  "float32", "float64"};

typedef struct {
    int64_t n0, n1, s0, s1, isz;
    int64_t lo, hi;      /* byte offsets of the extent: [lo, hi) around the base */
    unsigned char *buf;  /* malloc(hi - lo) */
    char *base;          /* element (0, 0) = buf - lo */
} fz_view;

static inline int64_t fz_off(const fz_view *v, int64_t i, int64_t j) { return i * v->s0 + j * v->s1; }

/* Extent of a view with the given shape and strides; allocate it. */
static inline void fz_view_alloc(fz_view *v)
{
    int64_t a0 = (v->n0 - 1) * v->s0, a1 = (v->n1 - 1) * v->s1;
    v->lo = (a0 < 0 ? a0 : 0) + (a1 < 0 ? a1 : 0);
    v->hi = (a0 > 0 ? a0 : 0) + (a1 > 0 ? a1 : 0) + v->isz;
    v->buf = (unsigned char *)malloc((size_t)(v->hi - v->lo));
    if (!v->buf) GF_FUZZ_FAIL("malloc");
    v->base = (char *)v->buf - v->lo;
}

/* Elements distinct (no two share bytes): what an output view must be. */
static inline int fz_view_distinct(const fz_view *v)
{
    int64_t a0 = v->s0 < 0 ? -v->s0 : v->s0, a1 = v->s1 < 0 ? -v->s1 : v->s1;
    if (v->n1 > 1 && a1 < v->isz) return 0;
    if (v->n0 > 1 && a0 < (v->n1 - 1) * a1 + v->isz) return 0;
    return 1;
}

/* Strides for a (n0, n1) view: `distinct` asks for non-overlapping elements. */
static inline void fz_view_shape(fz_in *in, fz_view *v, int64_t n0, int64_t n1, int64_t isz, int distinct)
{
    uint8_t how = fz_u8(in);
    v->n0 = n0;
    v->n1 = n1;
    v->isz = isz;
    switch (how % 4) {
    case 0: /* C-contiguous */
        v->s1 = isz;
        v->s0 = n1 * isz;
        break;
    case 1: { /* contiguous rows with a gap (a sliced 2-D array), maybe rows reversed */
        int64_t gap = (int64_t)fz_range(in, 0, 7);
        v->s1 = isz;
        v->s0 = (n1 + gap) * isz * (fz_u8(in) & 1 ? -1 : 1);
        break;
    }
    case 2: { /* both strided, any signs */
        int64_t k1 = (int64_t)fz_range(in, 1, 5), k0 = (int64_t)fz_range(in, 0, 3);
        v->s1 = k1 * isz * (fz_u8(in) & 1 ? -1 : 1);
        v->s0 = (n1 * k1 + k0) * isz * (fz_u8(in) & 1 ? -1 : 1);
        break;
    }
    default: /* anything, zero and overlapping strides included (input only) */
        v->s1 = ((int64_t)fz_range(in, 0, 12) - 6) * isz;
        v->s0 = ((int64_t)fz_range(in, 0, 200) - 100) * isz;
        break;
    }
    if (distinct && !fz_view_distinct(v)) {
        v->s1 = isz;
        v->s0 = n1 * isz;
    }
    fz_view_alloc(v);
}

typedef struct {
    fz_in *in;
    uint64_t s;
} fz_vals;

static inline uint64_t fz_next(fz_vals *g)
{
    if (g->in->n >= 8) return fz_u64(g->in);
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return g->s;
}

/* Write one value of the dtype at p, shaped by `mode`. */
static inline void fz_put_value(fz_vals *g, int dtype, int mode, int param, char *p)
{
    uint64_t r = fz_next(g);
    int64_t isz = fz_isz[dtype];
    if (dtype == GF_FLOAT64 || dtype == GF_FLOAT32) {
        double d;
        switch (mode % 5) {
        case 4: { /* around the square's overflow threshold, sqrt(max) */
            double b = dtype == GF_FLOAT64 ? 0x1.fffffffffffffp+511 : 0x1.fffffep+63;
            d = b * (1.0 + ((double)(int64_t)(r % 65) - 32) * (dtype == GF_FLOAT64 ? 0x1p-52 : 0x1p-23));
            if ((r >> 8) & 1) d = -d;
            if (((r >> 9) & 63) == 0) d = (r >> 15) & 1 ? -DBL_MAX : DBL_MAX;
            if (dtype == GF_FLOAT32 && ((r >> 9) & 63) == 0) {
                float f = (r >> 15) & 1 ? -FLT_MAX : FLT_MAX;
                memcpy(p, &f, 4);
                return;
            }
            if (dtype == GF_FLOAT32) { /* the same steps in float32's own precision */
                float f = (float)b, u = 0x1p-23f * f;
                f += (float)((int64_t)(r % 65) - 32) * u;
                if ((r >> 8) & 1) f = -f;
                memcpy(p, &f, 4);
                return;
            }
            break;
        }
        case 0: /* raw bits: NaNs, infs, subnormals, everything */
            memcpy(p, &r, (size_t)isz);
            return;
        case 1: /* small integers, exact */
            d = (double)((int64_t)(r % 2001) - 1000);
            break;
        case 2: /* a sign, a 24-bit mantissa and an exponent in [param-40, param] */
            d = ldexp((double)(r & 0xffffff), (int)(((r >> 24) % 41)) + param - 40 - 24) *
                ((r >> 40) & 1 ? -1.0 : 1.0);
            if (((r >> 41) & 0x3ff) == 0) d = ((r >> 51) & 1) ? INFINITY : NAN;
            break;
        default: /* raw bits with the exponent field clamped below overflow */
            if (dtype == GF_FLOAT64) {
                uint64_t e = ((r >> 52) & 0x7ff) % (uint64_t)(1024 + param);
                r = (r & ~((uint64_t)0x7ff << 52)) | (e << 52);
                memcpy(p, &r, 8);
            } else {
                uint32_t w = (uint32_t)r, e = ((w >> 23) & 0xff) % (uint32_t)(128 + param % 128);
                w = (w & ~((uint32_t)0xff << 23)) | (e << 23);
                memcpy(p, &w, 4);
            }
            return;
        }
        if (dtype == GF_FLOAT64) memcpy(p, &d, 8);
        else {
            float f = (float)d; /* in range: at most 2**(param) with param <= 127 */
            memcpy(p, &f, 4);
        }
        return;
    }
    switch (mode % 5) {
    case 4: { /* magnitudes up to one past the largest whose square fits */
        static const uint64_t bound[GF_NDTYPES] = {11, 181, 46340, 3037000499u, 15, 255, 65535, 4294967295u};
        r = r % (bound[dtype] + 2);
        if ((fz_next(g) & 1) && dtype <= GF_INT64) r = (uint64_t)0 - r;
        break;
    }
    case 0: break; /* raw */
    case 1: /* magnitude below 2**param, sign-extended: narrow paths, exact checks */
        r &= ((uint64_t)1 << (param % 64)) - 1;
        if ((fz_next(g) & 1) && dtype <= GF_INT64) r = (uint64_t)0 - r;
        break;
    case 2: /* extremes of the type */
        r = (r & 3) == 0 ? 0 : (r & 3) == 1 ? UINT64_MAX : (r & 3) == 2 ? ((uint64_t)1 << (8 * isz - 1))
                                                                         : ((uint64_t)1 << (8 * isz - 1)) - 1;
        break;
    default: /* mostly narrow, one wide value now and then (mixed 256-blocks) */
        if (r % 97 != 0) r = (r >> 8) & 0xffffffffu;
        break;
    }
    memcpy(p, &r, (size_t)isz); /* little-endian: the low bytes */
}

/* Fill the whole buffer (gaps included) and then every element. */
static inline void fz_view_fill(fz_in *in, fz_view *v, int dtype)
{
    fz_vals g;
    int mode = fz_u8(in), param = fz_u8(in);
    int64_t i, j;
    if (dtype == GF_FLOAT32) param %= 128;
    else if (dtype == GF_FLOAT64) param *= 4; /* exponents up to 1020 */
    g.in = in;
    g.s = fz_u64(in) | 1;
    memset(v->buf, 0xEE, (size_t)(v->hi - v->lo));
    for (i = 0; i < v->n0; i++)
        for (j = 0; j < v->n1; j++) fz_put_value(&g, dtype, mode, param, v->base + fz_off(v, i, j));
}

/* Element (i, j) as an exact int128 (integer dtypes). */
static inline __int128 fz_get_int(int dtype, const char *p)
{
    switch (dtype) {
    case GF_INT8: { int8_t x; memcpy(&x, p, 1); return x; }
    case GF_INT16: { int16_t x; memcpy(&x, p, 2); return x; }
    case GF_INT32: { int32_t x; memcpy(&x, p, 4); return x; }
    case GF_INT64: { int64_t x; memcpy(&x, p, 8); return x; }
    case GF_UINT8: { uint8_t x; memcpy(&x, p, 1); return x; }
    case GF_UINT16: { uint16_t x; memcpy(&x, p, 2); return x; }
    case GF_UINT32: { uint32_t x; memcpy(&x, p, 4); return x; }
    default: { uint64_t x; memcpy(&x, p, 8); return x; }
    }
}

static inline double fz_get_flt(int dtype, const char *p)
{
    if (dtype == GF_FLOAT32) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    {
        double d;
        memcpy(&d, p, 8);
        return d;
    }
}

#endif /* GF_FUZZ_VIEW_H */
