/*
 * The AVX-512 SIMD level: gf_kernels_impl.h compiled with -mavx512f
 * -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma (GCC, Clang) or /arch:AVX512
 * (MSVC), as a file of its own.  gf_kernels.c runs it only where cpuid and
 * xgetbv say the CPU and the OS support it (the opmask and zmm state saved).
 * Compiled without those flags (a target that is not x86-64) it holds no
 * kernels and the level is absent.
 */
#include "gf_kernels_common.h"

#if defined(GF_X86_DISPATCH) && defined(__AVX512F__) && defined(__AVX512BW__) && \
    defined(__AVX512DQ__) && defined(__AVX512VL__) && defined(__AVX2__)
#include <immintrin.h>
#define GF_SUFFIX avx512
/* The integer sum-of-squares blocks use the AVX2 code here too (AVX-512F
 * implies AVX2); the int64 square loop does not: vpmullq does it whole. */
#define GF_SSQ_AVX2 1
/* The float sum of squares in zmm registers (see fblocks), from cache and
 * from memory alike. */
#define GF_FSSQ_AVX512 1
#include "gf_kernels_impl.h"
gf_chunk_fn gf_level_runner_avx512(void) { return gf_run_chunk_avx512; }
#else
gf_chunk_fn gf_level_runner_avx512(void) { return NULL; }
#endif
