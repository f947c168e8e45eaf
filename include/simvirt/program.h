/*
 * simvirt/program.h - unmodified static x86-64 Linux programs as guests,
 * in the manner of gem5's syscall-emulation mode: the program runs at user
 * level on Unicorn, and the guest kernel memory model (simvirt/guestmm.h)
 * is its kernel.
 *
 * What a program gets:
 *  - its ELF loaded at its own addresses (static executables; a static PIE
 *    at 0x555555554000), the heap after it, an 8 MiB stack below
 *    0x7ffffffff000 and the initial stack Linux builds: argc, argv, envp
 *    and the auxiliary vector (AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ,
 *    AT_ENTRY, AT_RANDOM from the seed, AT_EXECFN, AT_PLATFORM, the ids);
 *  - the system calls such programs make, emulated (docs/programs.md has
 *    the list): the memory calls (brk, mmap, munmap, mprotect, mremap,
 *    madvise) go to the guest kernel, so demand paging, guest THP and
 *    MADV_HUGEPAGE behave as in Linux; files are the host files the
 *    options name, read-only; time comes from the cycle counter and
 *    randomness from the seed, so two runs are the same run.  Any other
 *    call returns ENOSYS and is counted by number;
 *  - every memory access through the translation model in detailed mode
 *    (the guest kernel faulting pages in first), the block costs of the
 *    built-in guests, and each system call charged as a kernel entry
 *    (syscall_cycles) plus the accesses its copies make.
 *
 * Unicorn 2.0.1 runs as a flat guest-virtual machine (simvirt/exec.h):
 * the program's bytes sit in host memory at their virtual addresses, one
 * Unicorn region for each run of VMAs with the same permissions; the
 * guest kernel's page tables decide what every access costs and where it
 * faults.  A program is one process of one thread: fork, clone, signals
 * and writable files are not modelled.
 */
#ifndef SIMVIRT_PROGRAM_H
#define SIMVIRT_PROGRAM_H

#include "common.h"
#include "exec.h"
#include "guestmm.h"
#include "vcpu.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_program sv_program;

/* A host file the program may open (read-only) under guest_path. */
typedef struct sv_program_file {
	const char *guest_path;   /* absolute: "/data/in.txt" */
	const char *host_path;
} sv_program_file;

#define SV_PROGRAM_OPTIONS_VERSION 1
typedef struct sv_program_options {
	unsigned version;           /* SV_PROGRAM_OPTIONS_VERSION */
	const char *path;           /* the executable, on the host */
	/* The path the program sees (AT_EXECFN, /proc/self/exe; argv[0]
	 * when argv is NULL); NULL: path. */
	const char *name;
	const char *const *argv;    /* NULL-terminated, argv[0] first */
	const char *const *envp;    /* NULL-terminated; NULL: none */
	const char *stdin_path;     /* NULL: an empty stdin */
	/* Where stdout and stderr go; NULL: kept in memory
	 * (sv_program_output). */
	const char *stdout_path, *stderr_path;
	const sv_program_file *files;
	size_t nfiles;
	uint64_t seed;              /* AT_RANDOM's bytes, getrandom */
	sv_exec_mode mode;          /* the mode the run starts in */
	/* With SV_EXEC_FAST_FORWARD: instructions after which the run turns
	 * detailed (0: never). */
	uint64_t detail_at;
	/* A system call's entry and exit, in cycles (the copies it makes
	 * are charged as accesses besides). */
	uint32_t syscall_cycles;
	/* The clock the program reads: cycles at this rate, from 2026-01-01
	 * 00:00:00 UTC. */
	uint32_t clock_mhz;
	/* Instructions between khugepaged's wake-ups (sv_guestmm_khugepaged;
	 * 0: it never runs, as with Linux's 10 s sleep over a shorter run). */
	uint64_t khugepaged_period;
} sv_program_options;

#define SV_PROGRAM_OPTIONS_INIT                                \
	{                                                      \
		.version = SV_PROGRAM_OPTIONS_VERSION,         \
		.path = NULL,                                  \
		.name = NULL,                                  \
		.argv = NULL,                                  \
		.envp = NULL,                                  \
		.stdin_path = NULL,                            \
		.stdout_path = NULL,                           \
		.stderr_path = NULL,                           \
		.files = NULL,                                 \
		.nfiles = 0,                                   \
		.seed = 1,                                     \
		.mode = SV_EXEC_DETAILED,                      \
		.detail_at = 0,                                \
		.syscall_cycles = 250,                         \
		.clock_mhz = 3000,                             \
		.khugepaged_period = 0,                        \
	}

/** Fills *o with the defaults (SV_PROGRAM_OPTIONS_INIT). */
SV_API void sv_program_options_init(sv_program_options *o);

/*
 * Loads the program into the process gm (a fresh one: no VMA yet) to run
 * on vCPU v, whose CR3 must be gm's (sv_trace_machine_new makes such a
 * pair).  The files are opened now: a missing one, an executable that is
 * not a static x86-64 ELF, or options out of range are SV_EINVAL (or
 * SV_ENOENT) with the detail naming it.
 */
SV_API int sv_program_new(sv_program **out, sv_guestmm *gm, sv_vcpu *v,
			  const sv_program_options *o);
/** Frees the engine and the program's memory (not gm or v).  NULL is a
 *  no-op. */
SV_API void sv_program_free(sv_program *p);

typedef enum sv_program_stop {
	SV_PROGRAM_EXITED,    /* exit or exit_group: status is its code */
	SV_PROGRAM_LIMIT,     /* the instruction limit of the call */
	SV_PROGRAM_SIGSEGV,   /* an access outside its VMAs or against
				 their protection (addr) */
	SV_PROGRAM_SIGBUS,    /* a hugetlbfs fault with the pool empty */
	SV_PROGRAM_SIGILL,    /* an instruction Unicorn cannot run */
	SV_PROGRAM_SIGFPE,    /* a divide error */
	SV_PROGRAM_FAULT,     /* a fault of the translation model the
				 program cannot be shown (fault) */
} sv_program_stop;

typedef struct sv_program_result {
	sv_program_stop stop;
	int status;           /* SV_PROGRAM_EXITED: the exit code (0-255) */
	uint64_t rip;         /* where it stopped */
	uint64_t addr;        /* SIGSEGV, SIGBUS: the address */
	sv_fault fault;       /* SV_PROGRAM_FAULT: the model's fault */
} sv_program_result;

/** A stop's name: "exited", "limit", "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE",
 *  "fault". */
SV_API const char *sv_program_stop_name(sv_program_stop s);

/*
 * Runs the program until it exits or stops, or `limit` more instructions
 * ran (0: no limit).  Calling again after a limit goes on.  Errors are
 * the host side's: an output file that cannot be written, the program's
 * mappings needing more Unicorn regions than Unicorn 2.0.1 stands
 * (SV_ENOTSUP naming the count).
 */
SV_API int sv_program_run(sv_program_result *out, sv_program *p,
			  uint64_t limit);

/* Switches the mode at the next instruction (from fast-forward to detailed
 * or back). */
SV_API void sv_program_set_mode(sv_program *p, sv_exec_mode mode);

/** The program's counters. */
#define SV_PROGRAM_STAT_LIST(X)                                              \
	X(syscalls, "system calls the program made")                         \
	X(syscalls_enosys, "system calls answered ENOSYS (not emulated)")  \
	X(syscall_cycles, "cycles charged for system call entries")        \
	X(bytes_read, "bytes the program read from files and stdin")         \
	X(bytes_written, "bytes the program wrote to stdout and stderr")     \
	X(regions, "Unicorn regions its mappings take now")                  \
	X(regions_max, "the most Unicorn regions its mappings took")

typedef enum sv_program_stat {
#define SV__PSTAT_ENUM(name, desc) SV_PROGRAM_STAT_##name,
	SV_PROGRAM_STAT_LIST(SV__PSTAT_ENUM)
#undef SV__PSTAT_ENUM
	SV_PROGRAM_STAT__COUNT
} sv_program_stat;

SV_API uint64_t sv_program_stat_get(const sv_program *p, sv_program_stat s);
SV_API const char *sv_program_stat_name(sv_program_stat s);
SV_API const char *sv_program_stat_desc(sv_program_stat s);

/** How many times the program made system call nr (x86-64 numbering;
 *  0 past 511), and the call's name (NULL when simvirt does not know
 *  it). */
SV_API uint64_t sv_program_syscall_count(const sv_program *p, unsigned nr);
SV_API const char *sv_program_syscall_name(unsigned nr);
/** Is system call nr emulated (else it is ENOSYS)? */
SV_API bool sv_program_syscall_emulated(unsigned nr);

/** What the program wrote to fd 1 or 2 when it goes to memory (NULL when
 *  it goes to a file); *len its size. */
SV_API const void *sv_program_output(const sv_program *p, int fd, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_PROGRAM_H */
