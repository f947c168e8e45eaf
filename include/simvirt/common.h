/*
 * simvirt/common.h - version, export marks and error codes.
 *
 * Every fallible simvirt call returns an int: SV_OK (0) or one of the
 * negative sv_err values below.  sv_strerror() names the code; the detail of
 * the most recent error (which key, which argument, what was expected) is
 * kept per VM (sv_vm_last_error()) and per thread (sv_error_detail()).
 */
#ifndef SIMVIRT_COMMON_H
#define SIMVIRT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A compile-time check that a C11 and a C++11 compiler both take. */
#ifdef __cplusplus
#define SV_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define SV_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SIMVIRT_STATIC)
#define SV_API
#elif defined(__GNUC__)
#define SV_API __attribute__((visibility("default")))
#else
#define SV_API
#endif

/* A name kept for one release after its replacement came. */
#if defined(__GNUC__) || defined(__clang__)
#define SV_DEPRECATED(use) __attribute__((deprecated("use " use)))
#else
#define SV_DEPRECATED(use)
#endif

/*
 * Where results go: a call that returns a status and gives back a value
 * writes it through its first argument: sv_vm_new(&vm, opts),
 * sv_host_mmap(&hva, h, args), sv_vcpu_translate(&x, v, gva, 8, acc),
 * sv_report_get(&v, report, ...).  A buffer the caller sizes (a dirty
 * bitmap, an array of results) comes after what it describes.
 */

#define SV_VERSION_MAJOR 0
#define SV_VERSION_MINOR 1
#define SV_VERSION_PATCH 0
#define SV_VERSION_STRING "0.1.0"
/** MAJOR * 10000 + MINOR * 100 + PATCH, as SQLite numbers its versions. */
#define SV_VERSION_NUMBER \
	(SV_VERSION_MAJOR * 10000 + SV_VERSION_MINOR * 100 + SV_VERSION_PATCH)

/**
 * A Linux kernel version as one number, SV_KERNEL(6, 12) = 612: the host
 * kernel and KVM that sv_host_options and sv_mmu_options model.  What
 * changes with it is listed in docs/kernel-versions.md.
 */
#define SV_KERNEL(major, minor) ((major) * 100 + (minor))

/**
 * Gate i of the behaviours that follow the kernel version: what holds for
 * kernels in [*from, *until) (from 0: every kernel before; until 0: every
 * kernel from) and its source.  NULL past the end.
 */
SV_API const char *sv_kernel_gate(size_t i, unsigned *from, unsigned *until,
				  const char **source);

/** The version the library was built as (compare with SV_VERSION_NUMBER). */
SV_API int sv_version_number(void);
SV_API const char *sv_version_string(void);

/*
 * The error codes: X(enum name, value, short text).  The values are fixed
 * and never reused.
 */
#define SV_ERR_LIST(X)                                              \
	X(SV_OK, 0, "success")                                      \
	X(SV_EINVAL, -1, "invalid argument")                        \
	X(SV_ENOMEM, -2, "no memory")                               \
	X(SV_ERANGE, -3, "value out of range")                      \
	X(SV_EEXIST, -4, "already exists")                          \
	X(SV_ENOENT, -5, "not found")                               \
	X(SV_ECONFIG, -6, "bad configuration")                      \
	X(SV_EIO, -7, "input/output error")                         \
	X(SV_EALIGN, -8, "misaligned address or size")              \
	X(SV_EOVERLAP, -9, "ranges overlap")                        \
	X(SV_EFULL, -10, "no space left in a fixed-size pool")      \
	X(SV_EBUSY, -11, "busy")                                    \
	X(SV_EFAULT, -12, "bad address")                            \
	X(SV_ENOTSUP, -13, "not supported")                         \
	X(SV_EBUG, -14, "internal invariant violated (a simvirt bug)")  \
	X(SV_ESIGBUS, -15, "bus error: no page to map (SIGBUS)")

#define SV__ERR_ENUM(name, value, text) name = value,
typedef enum sv_err { SV_ERR_LIST(SV__ERR_ENUM) } sv_err;
#undef SV__ERR_ENUM

/**
 * The text of an error code, as "no memory (SV_ENOMEM)".  Never NULL; an
 * unknown code gives "unknown error".
 */
SV_API const char *sv_strerror(int err);

/**
 * The detail message of the last error raised on this thread by any simvirt
 * call, e.g. "tlb.l1d_4k_ways: expected a power of two from 1 to 64, got 3".
 * Empty when the last call succeeded without setting one.
 */
SV_API const char *sv_error_detail(void);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_COMMON_H */
