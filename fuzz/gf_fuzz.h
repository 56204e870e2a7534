/*
 * Shared pieces of the libFuzzer targets in fuzz/: a reader that turns the
 * fuzzer's bytes into bounded integers, the SIMD levels this CPU runs, and an
 * independent 192-bit reference arithmetic (modulo 2**192, little-endian
 * limbs) written without any of csrc/'s helpers.
 *
 * Every check failure prints what differed and calls abort(), which libFuzzer
 * records as a crash and saves as a reproducer (crash-<sha1>).
 */
#ifndef GF_FUZZ_H
#define GF_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gilfree.h"

#define GF_FUZZ_FAIL(...)                                                      \
    do {                                                                      \
        fprintf(stderr, "gf_fuzz: check failed at %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                         \
        fprintf(stderr, "\n");                                                \
        abort();                                                              \
    } while (0)

/* ----------------------------------------------------------- input reader */
typedef struct {
    const uint8_t *p;
    size_t n;
} fz_in;

/* The next `bytes` bytes as a little-endian integer; zeros once exhausted,
 * so every input (even an empty one) is a valid case. */
static inline uint64_t fz_bytes(fz_in *in, int bytes)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < bytes; i++) {
        uint64_t b = 0;
        if (in->n) {
            b = in->p[0];
            in->p++;
            in->n--;
        }
        v |= b << (8 * i);
    }
    return v;
}
static inline uint64_t fz_u64(fz_in *in) { return fz_bytes(in, 8); }
static inline uint8_t fz_u8(fz_in *in) { return (uint8_t)fz_bytes(in, 1); }
/* Uniform-ish in [lo, hi] (hi >= lo); modulo bias does not matter here. */
static inline uint64_t fz_range(fz_in *in, uint64_t lo, uint64_t hi)
{
    uint64_t span = hi - lo, v = fz_u64(in);
    if (span == UINT64_MAX) return v;
    return lo + v % (span + 1);
}

/* ------------------------------------------------------------- SIMD levels */
static int fz_levels[GF_SIMD_NLEVELS];
static gf_chunk_fn fz_runners[GF_SIMD_NLEVELS];
static int fz_nlevels;

static inline void fz_init_levels(const char *target)
{
    int l;
    if (fz_nlevels) return;
    for (l = 0; l < GF_SIMD_NLEVELS; l++)
        if (gf_simd_supported(l)) {
            fz_levels[fz_nlevels] = l;
            fz_runners[fz_nlevels] = gf_chunk_runner(l);
            if (!fz_runners[fz_nlevels]) GF_FUZZ_FAIL("level %d supported but no runner", l);
            fz_nlevels++;
        }
    if (getenv("GF_FUZZ_QUIET") == NULL) {
        fprintf(stderr, "%s: SIMD levels run and compared:", target);
        for (l = 0; l < fz_nlevels; l++) fprintf(stderr, " %s", gf_simd_name(fz_levels[l]));
        fprintf(stderr, "\n");
    }
}

/* ------------------------------------------ 192-bit reference arithmetic */
typedef struct {
    uint64_t w[3];
} r192;

static inline r192 r_from_u128(unsigned __int128 v)
{
    r192 r = {{(uint64_t)v, (uint64_t)(v >> 64), 0}};
    return r;
}

/* Two's complement: a negative value is 2**192 + v. */
static inline r192 r_from_i128(__int128 v)
{
    r192 r = r_from_u128((unsigned __int128)v);
    r.w[2] = v < 0 ? UINT64_MAX : 0;
    return r;
}

static inline r192 r_add(r192 a, r192 b)
{
    r192 r;
    unsigned __int128 c = 0;
    int i;
    for (i = 0; i < 3; i++) {
        c += (unsigned __int128)a.w[i] + b.w[i];
        r.w[i] = (uint64_t)c;
        c >>= 64;
    }
    return r;
}

/* a * b mod 2**192, schoolbook on 64-bit limbs. */
static inline r192 r_mul(r192 a, r192 b)
{
    uint64_t out[3] = {0, 0, 0};
    int i, j;
    for (i = 0; i < 3; i++) {
        unsigned __int128 carry = 0;
        for (j = 0; i + j < 3; j++) {
            unsigned __int128 t = (unsigned __int128)a.w[i] * b.w[j] + out[i + j] + carry;
            out[i + j] = (uint64_t)t;
            carry = t >> 64;
        }
    }
    {
        r192 r = {{out[0], out[1], out[2]}};
        return r;
    }
}

/* a / d for a non-negative a (as an unsigned 192-bit number), d small. */
static inline r192 r_div_small(r192 a, uint64_t d, uint64_t *rem)
{
    r192 q;
    unsigned __int128 r = 0;
    int i;
    for (i = 2; i >= 0; i--) {
        unsigned __int128 cur = (r << 64) | a.w[i];
        q.w[i] = (uint64_t)(cur / d);
        r = cur % d;
    }
    if (rem) *rem = (uint64_t)r;
    return q;
}

static inline int r_eq(r192 a, r192 b)
{
    return a.w[0] == b.w[0] && a.w[1] == b.w[1] && a.w[2] == b.w[2];
}

/* Add an unsigned 128-bit square (or any u128) to an accumulator. */
static inline void r_acc_u128(r192 *acc, unsigned __int128 v) { *acc = r_add(*acc, r_from_u128(v)); }

static inline void r_print(const char *what, r192 a)
{
    fprintf(stderr, "  %s = 0x%016llx_%016llx_%016llx\n", what, (unsigned long long)a.w[2],
            (unsigned long long)a.w[1], (unsigned long long)a.w[0]);
}

static inline r192 r_of_gf(const gf_u192 *v)
{
    r192 r = {{v->w[0], v->w[1], v->w[2]}};
    return r;
}

/* |v| of an int64 as a u128 square, exactly. */
static inline unsigned __int128 r_sq_i64(int64_t v)
{
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    return (unsigned __int128)m * m;
}

#endif /* GF_FUZZ_H */
