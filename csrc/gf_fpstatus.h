/*
 * The IEEE floating-point status flags of the calling thread, read and
 * cleared around a chunk of float work, so that gilfree.square can report
 * overflow, underflow and invalid operations through np.errstate exactly as
 * np.square does (NumPy clears these flags before its loop and reads them
 * after).  The flags are per thread, so each chunk reads its own thread's.
 *
 * Cost: one status-register read per chunk (a write too, to clear it), never
 * per element.  x86-64 reads MXCSR with an SSE intrinsic and AArch64 reads
 * FPSR, both inline (no libm); other targets use <fenv.h>.
 *
 * The returned bits are NumPy's NPY_FPE_* values.
 */
#ifndef GF_FPSTATUS_H
#define GF_FPSTATUS_H

#define GF_FPE_DIVIDEBYZERO 1
#define GF_FPE_OVERFLOW 2
#define GF_FPE_UNDERFLOW 4
#define GF_FPE_INVALID 8

#if defined(__GNUC__) || defined(__clang__)
#define GF_FP_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define GF_FP_BARRIER() ((void)0)
#endif

#if defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE2__))
#include <xmmintrin.h>
/* MXCSR: IE=0x01, DE=0x02 (denormal operand: not an IEEE flag), ZE=0x04,
 * OE=0x08, UE=0x10, PE=0x20 (inexact: NumPy ignores it). */
static inline void gf_fp_clear(void)
{
    GF_FP_BARRIER();
    _mm_setcsr(_mm_getcsr() & ~0x3Fu);
    GF_FP_BARRIER();
}
static inline int gf_fp_test(void)
{
    unsigned int s;
    GF_FP_BARRIER();
    s = _mm_getcsr();
    return ((s & 0x04) ? GF_FPE_DIVIDEBYZERO : 0) | ((s & 0x08) ? GF_FPE_OVERFLOW : 0) |
           ((s & 0x10) ? GF_FPE_UNDERFLOW : 0) | ((s & 0x01) ? GF_FPE_INVALID : 0);
}
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
/* FPSR: IOC=bit0, DZC=bit1, OFC=bit2, UFC=bit3, IXC=bit4, IDC=bit7. */
static inline void gf_fp_clear(void)
{
    unsigned long s;
    GF_FP_BARRIER();
    __asm__ __volatile__("mrs %0, fpsr" : "=r"(s));
    s &= ~0x9FUL;
    __asm__ __volatile__("msr fpsr, %0" : : "r"(s));
    GF_FP_BARRIER();
}
static inline int gf_fp_test(void)
{
    unsigned long s;
    GF_FP_BARRIER();
    __asm__ __volatile__("mrs %0, fpsr" : "=r"(s));
    return ((s & 0x2) ? GF_FPE_DIVIDEBYZERO : 0) | ((s & 0x4) ? GF_FPE_OVERFLOW : 0) |
           ((s & 0x8) ? GF_FPE_UNDERFLOW : 0) | ((s & 0x1) ? GF_FPE_INVALID : 0);
}
#else
#include <fenv.h>
static inline void gf_fp_clear(void)
{
    GF_FP_BARRIER();
    feclearexcept(FE_ALL_EXCEPT);
    GF_FP_BARRIER();
}
static inline int gf_fp_test(void)
{
    int s;
    GF_FP_BARRIER();
    s = fetestexcept(FE_ALL_EXCEPT);
    return ((s & FE_DIVBYZERO) ? GF_FPE_DIVIDEBYZERO : 0) |
           ((s & FE_OVERFLOW) ? GF_FPE_OVERFLOW : 0) |
           ((s & FE_UNDERFLOW) ? GF_FPE_UNDERFLOW : 0) |
           ((s & FE_INVALID) ? GF_FPE_INVALID : 0);
}
#endif

/* The floating-point control modes that change results: rounding mode and
 * flush-to-zero / denormals-are-zero.  A pool worker runs a job's chunks
 * under the calling thread's modes (gf_job_init captures them, the worker
 * sets them while it helps and restores its own after), so a caller that
 * changed its rounding mode, or an extension built with -ffast-math that
 * turned on flush-to-zero, gets the bits of threads=1 and of NumPy on its
 * own thread.  Exception masks are not carried: a worker never traps.
 * gf_fpctl_get returns an opaque word; gf_fpctl_set takes one it returned. */
#if defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE2__))
/* MXCSR: DAZ=bit 6, RC=bits 13-14, FTZ=bit 15. */
#define GF_FPCTL_BITS 0xE040u
static inline unsigned int gf_fpctl_get(void) { return _mm_getcsr() & GF_FPCTL_BITS; }
static inline void gf_fpctl_set(unsigned int ctl)
{
    GF_FP_BARRIER();
    _mm_setcsr((_mm_getcsr() & ~GF_FPCTL_BITS) | (ctl & GF_FPCTL_BITS));
    GF_FP_BARRIER();
}
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
/* FPCR: FZ16=bit 19, RMode=bits 22-23, FZ=bit 24. */
#define GF_FPCTL_BITS 0x01C80000UL
static inline unsigned int gf_fpctl_get(void)
{
    unsigned long c;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(c));
    return (unsigned int)(c & GF_FPCTL_BITS);
}
static inline void gf_fpctl_set(unsigned int ctl)
{
    unsigned long c;
    GF_FP_BARRIER();
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(c));
    c = (c & ~GF_FPCTL_BITS) | ((unsigned long)ctl & GF_FPCTL_BITS);
    __asm__ __volatile__("msr fpcr, %0" : : "r"(c));
    GF_FP_BARRIER();
}
#else
/* Elsewhere: the rounding mode only (<fenv.h>, which the status part above
 * already includes on these targets). */
#include <fenv.h>
static inline unsigned int gf_fpctl_get(void) { return (unsigned int)fegetround(); }
static inline void gf_fpctl_set(unsigned int ctl) { fesetround((int)ctl); }
#endif

/* OR bits into *p from several threads at once. */
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static inline void gf_fp_or(volatile int *p, int bits) { _InterlockedOr((volatile long *)p, bits); }
#else
static inline void gf_fp_or(volatile int *p, int bits)
{
    __atomic_fetch_or(p, bits, __ATOMIC_RELAXED);
}
#endif

#endif /* GF_FPSTATUS_H */
