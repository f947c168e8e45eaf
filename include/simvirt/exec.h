/*
 * simvirt/exec.h - execution-driven guests: real x86-64 code on Unicorn,
 * every access through the model.
 *
 * Unicorn 2.0.1 cannot translate through guest page tables, so it runs as a
 * flat guest-virtual machine: for each linear run of guest-virtual pages
 * the guest page tables map, one Unicorn region at the guest-virtual
 * address points at the bytes of the guest-physical range behind it.
 * simvirt owns every translation: memory hooks send each read and write
 * through sv_vcpu_access() (TLBs, the 2D walk, the hypervisor MMU), the
 * block hook sends instruction fetches and adds each block's base cycles
 * (Capstone classes).  Guest page faults are raised and delivered by
 * simvirt; port I/O and MMIO go through one trap bus; the guest marks
 * phases by writing to the sync port.
 *
 * Typical use:
 *
 *     sv_exec *ex;
 *     sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
 *     sv_workload w = SV_WORKLOAD_INIT;
 *
 *     sv_exec_new(&ex, vm, &eo);           // after the user's memslots
 *     sv_exec_map(ex, 0x40000000, 0x40000000, 256 << 20, SV_PAGE_2M,
 *                 SV_EXEC_MAP_WRITE);
 *     w.name = "touch"; w.gva = 0x40000000; w.size = 256 << 20;
 *     sv_exec_load_workload(ex, &w);
 *     sv_exec_set_sync(ex, on_sync, state); // actions at sync points
 *     sv_exec_run_until(&res, ex, 0);
 *     sv_exec_free(ex);
 */
#ifndef SIMVIRT_EXEC_H
#define SIMVIRT_EXEC_H

#include "common.h"
#include "vcpu.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_exec sv_exec;

typedef enum sv_exec_mode {
	/* Every access through the model: TLBs, walks, exits, cycles. */
	SV_EXEC_DETAILED,
	/* Only the block hook: instruction counts and base cycles, no
	 * translation model (fast-forward to a region of interest).  Guest
	 * faults are delivered; Unicorn 2.0.1 gives no precise RIP without
	 * memory hooks, so the faulting instruction is found from its block
	 * and the registers, and a fault two instructions of one block could
	 * have made is reported instead (SV_EXEC_FAULT). */
	SV_EXEC_FAST_FORWARD,
} sv_exec_mode;

#define SV_EXEC_OPTIONS_VERSION 2 /* 1: without table_pool_gpa (taken as 0) */
typedef struct sv_exec_options {
	unsigned version;      /* SV_EXEC_OPTIONS_VERSION */
	/* Base GPA of the memslot the library adds for the guest's code,
	 * stack and page tables (anonymous 4K memory); 0 = the first 1G
	 * boundary above every memslot present at sv_exec_new. */
	uint64_t sys_gpa;
	/* Bytes kept for guest page tables (4K-aligned): in that slot, or at
	 * table_pool_gpa. */
	uint64_t table_pool;
	/* Instructions a vCPU runs before the next one gets its turn
	 * (at least 1,000: shorter slices cost more than they model). */
	uint64_t slice;
	sv_exec_mode mode;     /* the mode the run starts in */
	/* With SV_EXEC_FAST_FORWARD: switch to detailed on reaching this
	 * sync point (0 = never by itself). */
	uint32_t detail_at_sync;
	/* The memslot id of the library's slot. */
	uint32_t sys_slot;
	/* Version 2: 0, or where the guest page tables' pool lies instead,
	 * [table_pool_gpa, + table_pool), in a memslot of the caller's (its
	 * backing then decides how the nested dimension maps the tables).
	 * The guest reaches it at SV_GUEST_TABLEMAP. */
	uint64_t table_pool_gpa;
} sv_exec_options;

#define SV_EXEC_OPTIONS_INIT                                   \
	{                                                      \
		.version = SV_EXEC_OPTIONS_VERSION,            \
		.sys_gpa = 0,                                  \
		.table_pool = 64ULL << 20,                     \
		.slice = 10000,                                \
		.mode = SV_EXEC_DETAILED,                      \
		.detail_at_sync = 0,                           \
		.sys_slot = 32767,                             \
		.table_pool_gpa = 0,                           \
	}

/** Fills *opts with the defaults (SV_EXEC_OPTIONS_INIT), for callers that
 *  cannot use the macro (other languages). */
SV_API void sv_exec_options_init(sv_exec_options *opts);

/*
 * Creates the execution side of vm: one Unicorn engine per vCPU, the
 * library's memslot (after the user's: sv_exec_new reads which GPAs are
 * taken), the guest page tables in it, the boot page and the stacks.  When
 * the VM has a hypervisor MMU (sv_mmu_attach), the library's slot is an
 * anonymous 4K mapping of the simulated host.  The vCPUs' registers are
 * set for 4- or 5-level paging as the VM options say (CR0.PG|WP|PE,
 * CR4.PAE, EFER.LME|LMA|NXE).  The VM must outlive the handle.
 */
SV_API int sv_exec_new(sv_exec **out, sv_vm *vm, const sv_exec_options *opts);
/** Frees the engines and the guest page tables.  NULL is a no-op. */
SV_API void sv_exec_free(sv_exec *ex);
SV_API sv_vm *sv_exec_vm(const sv_exec *ex);

/* Permissions of a guest mapping (readable is implied). */
#define SV_EXEC_MAP_WRITE (1U << 0)
#define SV_EXEC_MAP_EXEC (1U << 1)

/*
 * Maps [gva, gva + size) onto [gpa, gpa + size) in the guest page tables,
 * with guest pages of page_size (4K, 2M, or 1G when the VM has guest_1g).
 * The GPAs need not be in a memslot (then they are MMIO) and the range must
 * not overlap the library's top 2 GiB of guest-virtual space.
 */
SV_API int sv_exec_map(sv_exec *ex, uint64_t gva, uint64_t gpa,
		       uint64_t size, uint64_t page_size, unsigned prot);

/* ---- guests ------------------------------------------------------------ */

/*
 * Loads a static x86-64 ELF executable linked in the library's image range
 * (0xffffffff80000000, 2 MiB at most; see guests/guest.ld) and points every
 * vCPU at its entry with RDI = the vCPU's index and RSP at the top of its
 * 64K stack.  One image per handle (SV_EBUSY after).  A malformed image is
 * SV_EINVAL with the reason.
 */
SV_API int sv_exec_load_elf(sv_exec *ex, const void *image, size_t len);

/* 1: without write_passes (every pass as `write` says) */
#define SV_WORKLOAD_VERSION 2
typedef struct sv_workload {
	unsigned version;  /* SV_WORKLOAD_VERSION */
	/* touch | stream | random | chase | kpt | remap | faults */
	const char *name;
	uint64_t gva;      /* the region it runs over (mapped with sv_exec_map) */
	uint64_t size;
	uint64_t stride;   /* touch, kpt, chase: bytes between accesses */
	unsigned passes;   /* touch, stream, chase: passes over the region */
	bool write;        /* touch: write (else read) */
	uint64_t seed;     /* random, chase */
	uint64_t count;    /* random: updates per vCPU; chase: links (0 =
			      passes times the node count); remap: entries
			      rewritten in steps (0: one, once) */
	/* touch, with write: bit N-1 set makes pass N write, clear makes it
	 * read; passes past 64 follow bit 63.  SV_WRITE_EVERY_PASS: all. */
	uint64_t write_passes;
} sv_workload;
#define SV_WRITE_EVERY_PASS UINT64_MAX

#define SV_WORKLOAD_INIT                                       \
	{                                                      \
		.version = SV_WORKLOAD_VERSION,                \
		.name = "touch",                               \
		.gva = 0,                                      \
		.size = 0,                                     \
		.stride = 4096,                                \
		.passes = 1,                                   \
		.write = true,                                 \
		.seed = 1,                                     \
		.count = 0,                                    \
		.write_passes = SV_WRITE_EVERY_PASS,           \
	}

/** Fills *w with the defaults (SV_WORKLOAD_INIT). */
SV_API void sv_workload_init(sv_workload *w);

/*
 * Loads the built-in guest and gives it workload w.  Sync points: touch
 * and stream write N before pass N and passes+1 at the end; kpt writes 1
 * before create, 2 before update, 3 before adjust, 4 at the end; random,
 * chase, remap and faults write 1 before their work and 2 after (remap
 * with a count: 1 to 6 before its steps, 7 at the end).  Each
 * vCPU works on its share of the region.  An unknown name or a region
 * that does not suit the workload is SV_EINVAL with the reason.
 */
SV_API int sv_exec_load_workload(sv_exec *ex, const sv_workload *w);
/*
 * The checks sv_exec_load_workload() makes of w, for vcpus vCPUs, without
 * an executor: SV_OK, or SV_EINVAL with the reason (so that a plan can be
 * refused before anything runs).
 */
SV_API int sv_workload_check(const sv_workload *w, unsigned vcpus);
/** Names of the built-in workloads, and one line about each; NULL past
 *  the end. */
SV_API const char *sv_workload_name(size_t i);
SV_API const char *sv_workload_desc(size_t i);
/** Word i of the parameter block's result area (what the workloads
 *  report: a checksum, the value read after a remap, a fault's CR2...). */
SV_API int sv_exec_guest_result(uint64_t *out, sv_exec *ex, unsigned i);

/* ---- the trap bus: port I/O and MMIO, one handler signature ----------- */

typedef enum sv_trap_kind {
	SV_TRAP_PIO,  /* in/out: addr is the port */
	SV_TRAP_MMIO, /* a GPA with no memslot, or a write to a read-only
			 slot: addr is the GPA */
} sv_trap_kind;

typedef struct sv_trap {
	sv_trap_kind kind;
	bool write;
	unsigned size;   /* 1, 2, 4 or 8 bytes */
	unsigned vcpu;
	uint64_t addr;
	uint64_t value;  /* the value written; a read handler sets it */
} sv_trap;

/* Returns 0 to go on, or a positive number to stop the run (sv_exec_run_until
 * then reports SV_EXEC_STOPPED with that number). */
typedef int (*sv_trap_fn)(sv_exec *ex, sv_trap *t, void *payload);

/*
 * Routes traps of `kind` in [base, base + len) to fn.  Unicorn 2.0.1 hands
 * an 8-byte MMIO access to the bus as two 4-byte halves, low first; the
 * model still counts it as one access and one exit.  String port I/O
 * (ins, outs) is not intercepted.  Ranges of one kind
 * must not overlap.  Reads nobody handles return all ones and writes are
 * dropped, as on a bus with no device; both are counted (trap_unclaimed).
 */
SV_API int sv_exec_trap_add(sv_exec *ex, sv_trap_kind kind, uint64_t base,
			    uint64_t len, sv_trap_fn fn, void *payload);

/*
 * The sync port: called once when every running vCPU has written sync
 * point n (a barrier, as the KVM selftests' host waits for its vCPUs).
 * Host events, dirty-log calls and mode switches may be made from fn.
 * Returns 0 to go on, or a positive number to stop the run.
 */
typedef int (*sv_sync_fn)(sv_exec *ex, uint32_t n, void *payload);
SV_API void sv_exec_set_sync(sv_exec *ex, sv_sync_fn fn, void *payload);

/* ---- running ------------------------------------------------------------- */

typedef enum sv_exec_stop {
	SV_EXEC_HALTED,   /* every vCPU executed hlt */
	SV_EXEC_LIMIT,    /* the instruction limit of the call was reached */
	SV_EXEC_STOPPED,  /* a sync or trap handler asked to stop */
	SV_EXEC_FAULT,    /* a vCPU stopped on a fault the guest cannot be
			     shown (see sv_exec_run_until) */
	SV_EXEC_SHUTDOWN, /* a vCPU triple-faulted: the VM shut down */
} sv_exec_stop;

typedef struct sv_exec_result {
	sv_exec_stop stop;
	int code;          /* SV_EXEC_STOPPED: the handler's number;
			      SV_EXEC_SHUTDOWN: the vector that began it */
	unsigned vcpu;     /* SV_EXEC_FAULT, _SHUTDOWN: which vCPU */
	uint64_t rip;      /* ... the faulting instruction (in fast-forward
			      mode, when it cannot be told, the start of
			      its block) */
	sv_fault fault;    /* SV_EXEC_FAULT: what happened; _SHUTDOWN: the
			      fault that began the chain (kind NONE when it
			      was an exception Unicorn raised) */
} sv_exec_result;

/*
 * Runs the vCPUs round-robin, `slice` instructions at a time, until every
 * vCPU halts, or each has run `limit` more instructions (0: no limit), or
 * a handler stops it.  Exceptions (0-31: #PF and #GP from the model, the
 * others from Unicorn) and software interrupts are delivered through the
 * guest's IDT as the CPU does in 64-bit mode, with the SDM's error codes,
 * #DF promotion and IDT-vectoring re-injection after an exit during
 * delivery; a fault while delivering a #DF shuts the VM down
 * (SV_EXEC_SHUTDOWN; before a guest loads an IDT its limit is 0, so its
 * first fault ends there).  SV_EXEC_FAULT is for what the guest cannot be
 * shown: an EPT misconfiguration, a TLB conflict, a fault the host cannot
 * serve, and in fast-forward mode a fault whose instruction cannot be told
 * apart from another one of its block.  Calling again resumes.  Errors (SV_E*) are
 * for the host side: Unicorn refusing a mapping, a guest mapping too
 * fragmented for Unicorn, vCPUs waiting at different sync points.
 */
SV_API int sv_exec_run_until(sv_exec_result *out, sv_exec *ex, uint64_t limit);
/** sv_exec_run_until() with the result last (the name before 0.2). */
SV_DEPRECATED("sv_exec_run_until(&out, ex, limit)")
SV_API int sv_exec_run(sv_exec *ex, uint64_t limit, sv_exec_result *out);

/* Switches every vCPU's mode; takes effect at the next instruction the
 * vCPUs run (from a sync handler: when the barrier releases them). */
SV_API void sv_exec_set_mode(sv_exec *ex, sv_exec_mode mode);
SV_API sv_exec_mode sv_exec_get_mode(const sv_exec *ex);

/*
 * Per-vCPU steal time, as KVM's MSR_KVM_STEAL_TIME: the hypervisor writes
 * each vCPU's 64-byte record (struct kvm_steal_time; vCPU i's at gpa +
 * 64 * i) through a gfn-to-pfn cache at every guest entry (a turn), or,
 * with interval > 0, at the first entry after `interval` more
 * instructions.  gpa 0 puts the records in the library's slot.  Those
 * writes reach the dirty log, a host event covering a record drops its
 * cache (mapped again at the next write), and a recording replays them.
 */
SV_API int sv_exec_set_steal_time(sv_exec *ex, uint64_t gpa, uint64_t interval);

/** A vCPU's instruction pointer (for reports). */
SV_API uint64_t sv_exec_rip(const sv_exec *ex, unsigned vcpu);

/*
 * Called after the model translated an access the guest made (not for
 * fetches in fast-forward mode): for tracing and recording.  NULL removes
 * it.  The hot path checks one pointer when it is unset.
 */
typedef void (*sv_access_fn)(sv_exec *ex, unsigned vcpu, uint64_t gva,
			     uint32_t size, sv_access access,
			     const sv_xlate *x, void *payload);
SV_API void sv_exec_set_access_hook(sv_exec *ex, sv_access_fn fn,
				    void *payload);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_EXEC_H */
