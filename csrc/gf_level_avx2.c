/*
 * The AVX2 SIMD level: gf_kernels_impl.h compiled with -mavx2 -mfma (GCC,
 * Clang) or /arch:AVX2 (MSVC), as a file of its own so that no other code is
 * compiled for AVX2.  gf_kernels.c runs it only where cpuid and xgetbv say
 * the CPU and the OS support it.  Compiled without those flags (a target
 * that is not x86-64) it holds no kernels and the level is absent.
 */
#include "gf_kernels_common.h"

#if defined(GF_X86_DISPATCH) && defined(__AVX2__) && (defined(__FMA__) || defined(_MSC_VER))
#include <immintrin.h>
#define GF_SUFFIX avx2
#define GF_SQ64_AVX2 1
#define GF_SSQ_AVX2 1
#define GF_FSSQ_AVX2 1
#include "gf_kernels_impl.h"
gf_chunk_fn gf_level_runner_avx2(void) { return gf_run_chunk_avx2; }
#else
gf_chunk_fn gf_level_runner_avx2(void) { return NULL; }
#endif
