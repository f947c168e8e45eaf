/*
 * lib/cpu/program.h - a static Linux program as a guest, inside.
 * program.c: the engine, its hooks and the run loop; progmem.c: the
 * program's bytes (host zones at its virtual addresses) and the Unicorn
 * regions that follow the guest kernel's VMAs; elfload.c: the ELF and the
 * initial stack; syscall.c: the system call table, memory, process and
 * time calls; sysfile.c: descriptors and files.
 */
#ifndef SV_CPU_PROGRAM_H
#define SV_CPU_PROGRAM_H

#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include "cpu/exec.h"
#include "simvirt/guestmm.h"
#include "simvirt/program.h"

#define PROG_SYSCALLS 512
#define PROG_STACK_TOP 0x7ffffffff000ULL
#define PROG_STACK_SIZE (8ULL << 20)          /* RLIMIT_STACK's default */
#define PROG_PIE_BASE 0x555555554000ULL
#define PROG_MAX_REGIONS 1024
#define PROG_MAX_FDS 64

/* A run of the address space the program's bytes may occupy: host memory
 * mirrors [va, va + size) at host (reserved, untouched until used). */
typedef struct prog_zone {
	uint64_t va, size;
	uint8_t *host;
} prog_zone;

typedef struct prog_region {
	uint64_t va, size;
	uint32_t perms;           /* UC_PROT_* */
} prog_region;

typedef enum prog_fd_kind {
	FD_NONE,
	FD_STDIN,                 /* its bytes in `data` (the stdin file) */
	FD_OUT,                   /* stdout or stderr: a file or `buf` */
	FD_FILE,                  /* a named file, read-only, in `data` */
} prog_fd_kind;

/* An open file's bytes, shared by the descriptors dup made of it. */
typedef struct prog_file {
	unsigned refs;
	char *guest_path;
	uint8_t *data;
	size_t len;
	uint64_t off;
	int host_fd;              /* FD_OUT to a file, else -1 */
	GByteArray *buf;          /* FD_OUT to memory */
	prog_fd_kind kind;
	unsigned ino;
} prog_file;

typedef struct prog_block {
	ex_block b;               /* its cost (lib/cpu/exec.h) */
	uint64_t rdtsc;           /* it ends at an RDTSC not hooked yet, at
				     this address (else 0) */
} prog_block;
#define PROG_BLOCKS (1U << 14)

struct sv_program {
	sv_guestmm *gm;
	sv_vcpu *v;
	sv_vm *vm;
	sv_program_options o;
	char *path, *name;        /* copies */
	GPtrArray *files;         /* sv_program_file copies (owned strings) */
	uc_engine *uc;
	uc_hook h_mem, h_block;
	csh cs;
	cs_insn *insn;
	prog_block *blocks;
	GArray *rdtsc_sites;      /* uint64_t addresses hooked */
	uint64_t rdtsc_new;       /* decoding: a new RDTSC's address */
	prog_zone zones[4];
	GArray *regions;          /* prog_region, sorted by va */
	bool regions_dirty;       /* the VMAs changed: sync before running */
	prog_file *fds[PROG_MAX_FDS];
	prog_file *out[2];        /* stdout and stderr, kept past a close */
	uint64_t entry, rsp;
	uint64_t rip;             /* where the next uc_emu_start begins */
	uint64_t fs_base, gs_base;
	bool started, detailed;
	sv_exec_mode mode_next;
	bool mode_change;         /* sv_program_set_mode asked for mode_next */
	/* Events at instruction counts, taken between blocks: the call's
	 * limit, khugepaged's next wake-up, the fast-forward's end (each
	 * UINT64_MAX when none); the block hook stops at the first of them,
	 * stop_at. */
	uint64_t limit_at, khugepaged_at, detail_at, stop_at;
	/* why the engine stopped */
	bool stop_now;            /* a hook asked to stop */
	sv_program_result res;    /* ... with this result, when final */
	bool final;
	int error;                /* a host-side error a hook met, or 0 */
	uint64_t sleep_ns;        /* nanosleep's advance of the clock */
	uint64_t rng;             /* getrandom's state */
	uint64_t stat[SV_PROGRAM_STAT__COUNT];
	uint64_t calls[PROG_SYSCALLS];
};

/* The x86-64 system calls simvirt names (syscall.c's table), and whether
 * it emulates them (the others are ENOSYS). */
#define EMULATED true
#define ENOSYS_ false
#define SYSCALL_LIST(X)                                                \
	X(0, read, EMULATED) X(1, write, EMULATED)                     \
	X(2, open, EMULATED) X(3, close, EMULATED)                     \
	X(4, stat, EMULATED) X(5, fstat, EMULATED)                     \
	X(6, lstat, EMULATED) X(7, poll, ENOSYS_)                      \
	X(8, lseek, EMULATED) X(9, mmap, EMULATED)                     \
	X(10, mprotect, EMULATED) X(11, munmap, EMULATED)              \
	X(12, brk, EMULATED) X(13, rt_sigaction, EMULATED)             \
	X(14, rt_sigprocmask, EMULATED) X(15, rt_sigreturn, ENOSYS_)   \
	X(16, ioctl, EMULATED) X(17, pread64, EMULATED)                \
	X(18, pwrite64, EMULATED) X(19, readv, EMULATED)               \
	X(20, writev, EMULATED) X(21, access, EMULATED)                \
	X(22, pipe, ENOSYS_) X(23, select, ENOSYS_)                    \
	X(24, sched_yield, EMULATED) X(25, mremap, EMULATED)           \
	X(26, msync, ENOSYS_) X(27, mincore, ENOSYS_)                  \
	X(28, madvise, EMULATED) X(32, dup, EMULATED)                  \
	X(33, dup2, EMULATED) X(35, nanosleep, EMULATED)               \
	X(39, getpid, EMULATED) X(40, sendfile, ENOSYS_)               \
	X(41, socket, ENOSYS_) X(56, clone, ENOSYS_)                   \
	X(57, fork, ENOSYS_) X(58, vfork, ENOSYS_)                     \
	X(59, execve, ENOSYS_) X(60, exit, EMULATED)                   \
	X(61, wait4, ENOSYS_) X(62, kill, ENOSYS_)                     \
	X(63, uname, EMULATED) X(72, fcntl, EMULATED)                  \
	X(79, getcwd, EMULATED) X(89, readlink, EMULATED)              \
	X(95, umask, EMULATED) X(96, gettimeofday, EMULATED)           \
	X(97, getrlimit, EMULATED) X(99, sysinfo, EMULATED)            \
	X(102, getuid, EMULATED) X(104, getgid, EMULATED)              \
	X(105, setuid, ENOSYS_) X(106, setgid, ENOSYS_)                \
	X(107, geteuid, EMULATED) X(108, getegid, EMULATED)            \
	X(109, setpgid, ENOSYS_) X(110, getppid, EMULATED)             \
	X(111, getpgrp, EMULATED) X(131, sigaltstack, EMULATED)        \
	X(157, prctl, EMULATED) X(158, arch_prctl, EMULATED)           \
	X(186, gettid, EMULATED) X(201, time, EMULATED)                \
	X(202, futex, EMULATED) X(204, sched_getaffinity, EMULATED)    \
	X(217, getdents64, EMULATED) X(218, set_tid_address, EMULATED) \
	X(228, clock_gettime, EMULATED) X(229, clock_getres, EMULATED) \
	X(230, clock_nanosleep, EMULATED) X(231, exit_group, EMULATED) \
	X(257, openat, EMULATED) X(262, newfstatat, EMULATED)          \
	X(267, readlinkat, EMULATED) X(269, faccessat, EMULATED)       \
	X(273, set_robust_list, EMULATED) X(292, dup3, EMULATED)       \
	X(302, prlimit64, EMULATED) X(318, getrandom, EMULATED)        \
	X(332, statx, ENOSYS_) X(334, rseq, ENOSYS_)                   \
	X(439, faccessat2, EMULATED)

enum {
#define SC_ENUM(n, name, emu) SYS_##name = n,
	SYSCALL_LIST(SC_ENUM)
#undef SC_ENUM
};

/* progmem.c */
int sv_prog__zones_init(sv_program *p);
void sv_prog__zones_free(sv_program *p);
/* The host bytes of [va, va + len), inside one zone, or NULL. */
uint8_t *sv_prog__host(sv_program *p, uint64_t va, uint64_t len);
/* Zeroes [va, va + len) of the zones (the pages a munmap, MADV_DONTNEED
 * or brk shrink gave back read zero after). */
void sv_prog__zero(sv_program *p, uint64_t va, uint64_t len);
/* Moves the bytes of [from, + len) to [to, + len) (mremap). */
void sv_prog__move(sv_program *p, uint64_t from, uint64_t to, uint64_t len);
/* Unicorn's regions made to follow the VMAs (SV_ENOTSUP past the limit). */
int sv_prog__regions_sync(sv_program *p);
/* The kernel's copies from and to user memory: each page checked against
 * the VMAs (and, in detailed mode, touched through the model, faulting it
 * in); false on a bad address (EFAULT). */
bool sv_prog__copy_in(sv_program *p, void *dst, uint64_t va, uint64_t len);
bool sv_prog__copy_out(sv_program *p, uint64_t va, const void *src,
		       uint64_t len);
/* A NUL-terminated string from user memory, at most max bytes; NULL on a
 * bad address or one too long. */
char *sv_prog__string_in(sv_program *p, uint64_t va, size_t max);

/* elfload.c */
int sv_prog__load(sv_program *p);

/* syscall.c */
void sv_prog__syscall(sv_program *p);
/* The clock: nanoseconds since the epoch the program sees. */
uint64_t sv_prog__now_ns(const sv_program *p);

/* sysfile.c: the calls on descriptors (nr, its six arguments); false
 * when nr is not one of them. */
bool sv_prog__file_call(sv_program *p, unsigned nr, const uint64_t *a,
			int64_t *ret);
int sv_prog__files_init(sv_program *p);
void sv_prog__files_free(sv_program *p);

/* program.c, for bench/bench_program: before the first run, the hooks
 * replaced by empty ones (the empty-hook ceiling: a block hook and memory
 * hooks that do nothing) or by none at all (bare Unicorn); the system
 * call hook stays, without which the program cannot run. */
typedef enum prog_probe {
	PROG_PROBE_EMPTY,
	PROG_PROBE_BARE,
} prog_probe;
int sv_prog__probe(sv_program *p, prog_probe k);

/* program.c: a final stop of the run from a hook. */
void sv_prog__finish(sv_program *p, sv_program_stop stop, int status,
		     uint64_t addr);

#endif /* SV_CPU_PROGRAM_H */
