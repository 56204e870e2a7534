/*
 * The baseline SIMD level: gf_kernels_impl.h compiled with the target's own
 * guarantees only (SSE2 on x86-64, NEON on aarch64), no extra flags.  Every
 * CPU of the target runs it.
 */
#include "gf_kernels_common.h"

#define GF_SUFFIX baseline
#include "gf_kernels_impl.h"
#undef GF_SUFFIX

gf_chunk_fn gf_level_runner_baseline(void) { return gf_run_chunk_baseline; }

int64_t gf_first_overflow(const gf_task *t)
{
    /* The kernel's own test (square_any with check on), run on blocks of
     * GF_OVF_BLOCK elements into a scratch buffer, then element by element
     * inside the first block it flags: the rule lives in one place. */
    enum { GF_OVF_BLOCK = 64 };
    double scratch[GF_OVF_BLOCK]; /* 64 elements of up to 8 bytes */
    int64_t isz = gf_itemsize(t->dtype), f = 0, r, col, len, k;
    while (f < t->n) {
        const char *xp;
        r = f / t->n1;
        col = f % t->n1;
        len = t->n1 - col < t->n - f ? t->n1 - col : t->n - f;
        if (len > GF_OVF_BLOCK) len = GF_OVF_BLOCK;
        xp = t->x + r * t->xs0 + col * t->xs1;
        if (square_any_baseline(t->dtype, xp, t->xs1, (char *)scratch, isz, len, 1)) {
            for (k = 0; k < len; k++)
                if (square_any_baseline(t->dtype, xp + k * t->xs1, t->xs1, (char *)scratch,
                                        isz, 1, 1))
                    return f + k;
        }
        f += len;
    }
    return -1;
}
