/* gilfree's process default thread count (see gf_threads.h). */
#include "gf_threads.h"
#include "gilfree.h"

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static int gf_load(volatile long *p) { return (int)_InterlockedCompareExchange(p, 0, 0); }
static int gf_exchange(volatile long *p, int v) { return (int)_InterlockedExchange(p, v); }
static volatile long gf_default = 1;
#else
static int gf_load(int *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static int gf_exchange(int *p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }
static int gf_default = 1;
#endif

int gilfree_get_num_threads(void)
{
    return gf_load(&gf_default);
}

int gilfree_set_num_threads(int n)
{
    if (n < 1) return gf_load(&gf_default);
    if (n > GF_MAX_THREADS) n = GF_MAX_THREADS;
    return gf_exchange(&gf_default, n);
}
