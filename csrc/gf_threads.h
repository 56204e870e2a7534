/*
 * gilfree's process default thread count, as plain C symbols.
 *
 * This is the one piece of mutable global state in gilfree's C code, kept
 * apart from the kernels (gilfree.h) on purpose: the default must be
 * readable and writable from outside Python, because threadpoolctl finds
 * thread pools by scanning the loaded shared objects for known symbols and
 * calls them through ctypes (with the GIL released).  gilfree's own
 * get_num_threads()/set_num_threads() and the hot path of every call read
 * the same int, so there is nothing to keep in sync.  It is compiled into
 * gilfree._runtime, which owns it.
 *
 * Loads and stores are atomic (relaxed: the value is a hint read once per
 * call, no other memory depends on it).
 */
#ifndef GF_THREADS_H
#define GF_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define GF_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define GF_EXPORT __attribute__((visibility("default")))
#else
#define GF_EXPORT
#endif

/* The process default (always in [1, GF_MAX_THREADS]; 1 until gilfree._threads
 * sets the one resolved at import). */
GF_EXPORT int gilfree_get_num_threads(void);
/* Set the process default and return the previous one.  Values above
 * GF_MAX_THREADS (gilfree.h) are lowered to it; values below 1 change
 * nothing (threadpoolctl passes through whatever int a user gives it, and a
 * zero or negative thread count has no meaning here). */
GF_EXPORT int gilfree_set_num_threads(int n);

#ifdef __cplusplus
}
#endif
#endif /* GF_THREADS_H */
