/*
 * Every SIMD level of the kernels in one translation unit, for the C probes
 * here: csrc/gf_kernels_impl.h is included once per level inside a GCC/Clang
 * target pragma, so a probe can call each level's static functions
 * (sumsq_f64_avx2, fblocks_f32_avx512, ...) directly.  The package itself
 * compiles each level as a file of its own with its own flags
 * (csrc/gf_level_*.c); the code and so the results are the same.
 */
#include "gf_level_baseline.c"
#include "gf_kernels.c"

#if defined(GF_X86_DISPATCH) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define GF_SUFFIX avx2
#define GF_SQ64_AVX2 1
#define GF_SSQ_AVX2 1
#define GF_FSSQ_AVX2 1
#include "gf_kernels_impl.h"
#undef GF_FSSQ_AVX2
#undef GF_SSQ_AVX2
#undef GF_SQ64_AVX2
#undef GF_SUFFIX
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
#endif
#define GF_SUFFIX avx512
#define GF_SSQ_AVX2 1
#define GF_FSSQ_AVX512 1
#include "gf_kernels_impl.h"
#undef GF_FSSQ_AVX512
#undef GF_SSQ_AVX2
#undef GF_SUFFIX
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
gf_chunk_fn gf_level_runner_avx2(void) { return gf_run_chunk_avx2; }
gf_chunk_fn gf_level_runner_avx512(void) { return gf_run_chunk_avx512; }
#else
gf_chunk_fn gf_level_runner_avx2(void) { return NULL; }
gf_chunk_fn gf_level_runner_avx512(void) { return NULL; }
#endif
