/*
 * lib/base.h - what every file of the library includes: the public API,
 * GLib, a few compiler helpers, the error helper and the seeded PRNG.
 * Each module's structures live in that module's own header.
 */
#ifndef SV_BASE_H
#define SV_BASE_H

#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include <glib.h>

#include "simvirt/simvirt.h"

/*
 * GLib, with one rule: no GHashTable, GTree, GList or GSList.  Unicorn
 * 2.0.1 exports its own copies of those functions (and of g_malloc and
 * g_free, which are plain malloc and free on both sides), so in a process
 * that loads both libraries some calls would reach one implementation and
 * some the other.  GArray, GByteArray and GPtrArray are GLib's alone.
 */
#define SV_UNUSED(x) (void)(x)
#define SV_LIKELY(x) __builtin_expect(!!(x), 1)
#define SV_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Keeps a slow path out of its caller, whose prologue then stays short. */
#define SV_NOINLINE __attribute__((noinline))
/* Tells the compiler that c holds (it is not checked). */
#define SV_ASSUME(c)                             \
	do {                                     \
		if (!(c))                        \
			__builtin_unreachable(); \
	} while (0)

/* ---- errors (lib/errors.c) ------------------------------------------- */

/*
 * Records the detail of an error (printf-style) on this thread and, when vm
 * is not NULL, on the VM; returns code so that callers can write
 * `return sv_err__set(vm, SV_EINVAL, "...")`.
 */
int sv_err__set(sv_vm *vm, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Empties this thread's detail: every public call that returns an error
 * code does it first, so that sv_error_detail() speaks of the last call.
 * Inline, with the flag in the initial-exec TLS model: sv_vcpu_translate()
 * pays one thread-pointer load, not a __tls_get_addr call.
 */
#define SV_DETAIL_TLS _Thread_local __attribute__((tls_model("initial-exec")))
extern SV_DETAIL_TLS bool sv_err__detail_set; /* the detail is not "" */
void sv_err__clear_slow(void);
static inline void sv_err__clear(void)
{
	if (__builtin_expect(sv_err__detail_set, 0))
		sv_err__clear_slow();
}

/* ---- deterministic random numbers (splitmix64) ------------------------ */

static inline uint64_t sv_rng__next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif /* SV_BASE_H */
