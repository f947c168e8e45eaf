/*
 * lib/cpu/exec.h - the execution side's bodies, shared by exec.c (engines
 * and callbacks), loader.c, run.c (the run loop), event.c (exceptions
 * and their delivery), decode.c (registers by name, fast-forward
 * faults' instructions), record.c (recording and replay), hooks.c (the Unicorn hooks,
 * the trap bus and the Capstone block-cost cache) and regions.c (Unicorn
 * regions from the guest page tables).
 */
#ifndef SV_CPU_EXEC_H
#define SV_CPU_EXEC_H

#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include "abi.h"
#include "cpu/vcpu.h"
#include "cpu/record.h"

/* Why a hook asked Unicorn to stop (the first reason wins). */
typedef enum ex_stop {
	EX_STOP_NONE,     /* nobody asked: hlt, or a Unicorn error */
	EX_STOP_SLICE,    /* the turn's instructions are used up */
	EX_STOP_SYNC,     /* the vCPU wrote the sync port */
	EX_STOP_SITES,    /* a new block has RDTSC/INVLPG/MOV CR3 to hook */
	EX_STOP_RESYNC,   /* the guest changed its page tables or CR3 */
	EX_STOP_TRAP,     /* a trap handler asked to stop the run */
	EX_STOP_PF,       /* the model raised a #PF or #GP (Unicorn should
			     stop on the access too) */
	EX_STOP_REPORT,   /* the model faulted where Unicorn did not */
} ex_stop;

/* One Unicorn region: a linear run of guest-virtual pages. */
typedef enum ex_region_kind {
	EX_RAM,  /* slot bytes, mapped with uc_mem_map_ptr */
	EX_ROM,  /* a read-only slot: reads from its bytes, writes trap */
	EX_MMIO, /* no slot: every access traps */
} ex_region_kind;

struct ex_cpu;

typedef struct ex_region {
	uint64_t gva, size, gpa;
	uint8_t *mem;            /* EX_RAM and EX_ROM */
	uint32_t perms;          /* UC_PROT_* */
	ex_region_kind kind;
	struct ex_cpu *cpu;      /* mapped on this engine (EX_ROM/EX_MMIO
				    callbacks need it) */
} ex_region;

/* A block's cost, decoded once: direct-mapped by address. */
typedef struct ex_block {
	uint64_t addr;
	uint32_t size;
	uint32_t ninsn;     /* instructions charged when it runs */
	uint32_t bytes;     /* their bytes (fetched through the model) */
	uint64_t cycles;
} ex_block;
#define EX_BLOCK_CACHE (1U << 16)

/* Instructions the library intercepts with a code hook. */
typedef enum ex_site_kind {
	EX_SITE_RDTSC,
	EX_SITE_INVLPG,
	EX_SITE_MOV_CR3,
	EX_SITE_IN,   /* in al/ax/eax, imm8 or dx */
	EX_SITE_OUT,  /* out imm8 or dx, al/ax/eax */
	EX_SITE_IRETQ, /* emulated: Unicorn stays at CPL 0, the model
			  follows the CPL the frame returns to */
} ex_site_kind;

typedef struct ex_site {
	uint64_t addr;
	uint32_t size;
	ex_site_kind kind;
	/* INVLPG: the memory operand; MOV CR3: reg_base is the source; IN
	 * and OUT: reg_base is the port register (0: the port is disp), and
	 * `width` bytes of RAX are the data. */
	int reg_base, reg_index; /* Unicorn register ids, 0 = none */
	int scale;
	int64_t disp;
	unsigned width;
} ex_site;

/*
 * An exception or software interrupt on its way into the guest, kept as
 * KVM keeps it since pending and injected events were split: `pending`
 * was raised and not yet delivered (another exception may still fold it
 * into a #DF); `injected` is being delivered, and an exit during its
 * delivery injects it again.
 */
typedef struct ex_event {
	bool valid;
	bool soft;           /* INT n, INT3, INTO: EXT 0, the gate's DPL
				checked, never an error code */
	bool has_error_code; /* decided when it is injected */
	uint8_t vector;
	uint32_t error_code;
	uint64_t rip;        /* the RIP its frame holds */
} ex_event;

typedef struct ex_trap {
	sv_trap_kind kind;
	uint64_t base, len;
	sv_trap_fn fn;
	void *payload;
} ex_trap;

typedef struct ex_cpu {
	sv_exec *ex;
	sv_vcpu *v;
	uc_engine *uc;
	unsigned index;
	uint64_t rip;           /* where the next turn starts */
	uint64_t resume;        /* where to go on when Unicorn's RIP is not
				   to be trusted (past an emulated site, or
				   a block stopped before it ran), or 0 */
	int64_t budget;         /* instructions left in this turn */
	uint64_t left;          /* instructions left in this sv_exec_run_until */
	ex_stop stop;
	int trap_code;          /* EX_STOP_TRAP: the handler's number */
	bool at_sync;           /* waits at the barrier of sync point */
	uint32_t sync_n;        /* ... this one */
	bool halted;
	bool raised;            /* the model raised a #PF or #GP this turn */
	sv_access fault_acc;    /* ... on this access, as Unicorn made it */
	uint64_t fault_addr;
	uint64_t block, block_size; /* the block the block hook saw last */
	sv_fault fault;         /* that fault, or what EX_STOP_REPORT saw */
	uint64_t fault_rip;     /* its instruction (fast-forward: its block's
				   start until resolved) */
	bool fault_at_site;     /* ... raised by an emulated instruction:
				   fault_rip is exact, Unicorn saw nothing */
	int intno;              /* an exception Unicorn raised this turn, or -1 */
	uint64_t intno_rip;     /* ... and the RIP it gave */
	bool intno_hw;          /* ... certainly not INT n (a site raised it) */
	ex_event pending, injected;
	struct {                /* the first event of a chain that ends in
				   shutdown, for the result */
		sv_fault fault;
		uint64_t rip;
		unsigned vector;
	} origin;
	unsigned cpl;           /* 0 or 3 */
	sv_pfncache *steal;     /* the steal-time record's cache, or NULL */
	uint32_t steal_version; /* of the last record written */
	uint64_t steal_at;      /* instructions at that write */
	bool detailed;          /* memory hooks installed */
	bool started;           /* Unicorn has run (may hold translated code) */
	uc_hook h_mem;
	uc_context *ctx;        /* for clearing Unicorn's last exception */
	GArray *regions;        /* ex_region *, sorted by gva */
	guint sites_hooked;     /* ex->sites entries hooked on this engine */
} ex_cpu;

struct sv_exec {
	sv_vm *vm;
	sv_exec_options opts;
	ex_cpu *cpus;
	unsigned n;
	sv_pt *gpt;                 /* the guest page tables */
	uint64_t sys_gpa, sys_size;
	uint64_t image_end;         /* offset in the slot past the image */
	uint64_t entry;             /* the loaded image's entry point */
	bool loaded;
	sv_exec_mode mode, mode_next;
	/* Guest page-table pages seen by the last region sync, sorted: a
	 * guest write to one of them asks for a new sync. */
	GArray *tables;             /* uint64_t GPAs */
	uint64_t tbl_lo, tbl_span;  /* [lo, lo + span) holds all of them */
	bool resync;                /* the regions must be rebuilt */
	/* Shadow paging: the guest wrote a page table whose shadow page is
	 * unsync, so the vCPU still translates what the table said before;
	 * the regions follow at its next INVLPG or MOV to CR3. */
	bool resync_deferred;
	uint64_t mem_epoch;         /* memslots epoch the regions follow */
	csh cs;
	cs_insn *insn;
	uint8_t *code_buf;
	size_t code_cap;
	ex_block *blocks;           /* EX_BLOCK_CACHE entries */
	GArray *sites;              /* ex_site, in the order found */
	GArray *traps;              /* ex_trap */
	sv_sync_fn sync_fn;
	void *sync_payload;
	sv_access_fn access_fn;
	void *access_payload;
	sv_trace_writer *rec;       /* every model input goes here too */
	void (*beat)(void *);       /* after every turn (progress), or NULL */
	void *beat_payload;
	bool engines;               /* false: built for replay, no Unicorn */
	uint64_t steal_interval;    /* instructions between steal-time writes */
};

/* hooks.c */
int sv_exec__hooks_add(ex_cpu *c);
void sv_exec__set_detailed(ex_cpu *c, bool on);
int sv_exec__sites_install(ex_cpu *c);
int sv_exec__decoder_init(sv_exec *ex);
/* Base cycles of one decoded instruction: its class (the cost table's
 * insn_*), plus its memory operands (programs share it). */
uint64_t sv_exec__insn_cost(const sv_costs *k, csh cs, const cs_insn *in);
/*
 * A block's cost, decoded once into *b (code NULL: nothing could be read,
 * an empty block).  site(insn, payload) says whether an instruction is
 * one the caller intercepts with a code hook; the block is then charged
 * only up to and including it: the site's hook moves RIP past it, so
 * Unicorn leaves the block there and the rest runs (and is charged) as a
 * block of its own.
 */
void sv_exec__decode_block(csh cs, cs_insn *insn, const sv_costs *k,
			   const uint8_t *code, uint64_t addr, uint32_t size,
			   ex_block *b, bool (*site)(const cs_insn *, void *),
			   void *payload);
void sv_exec__decoder_fini(sv_exec *ex);
/* Asks for this vCPU's turn to end at the next block start, keeping the
 * first reason. */
void sv_exec__stop(ex_cpu *c, ex_stop why);
/* Traps: dispatches t to its handler (or counts it unclaimed). */
void sv_exec__trap(ex_cpu *c, sv_trap *t);

/*
 * The model inputs the execution side makes besides sv_vcpu_access: each
 * goes through one of these so that a recording sees it.
 */
static inline void sv_exec__stat_add(ex_cpu *c, sv_vcpu_stat id, uint64_t d)
{
	c->v->stat[id] += d;
	if (SV_UNLIKELY(c->ex->rec != NULL)) {
		sv_trace_event ev = {.kind = SV_TEV_STAT, .vcpu = c->index,
				     .n = id, .value = d};

		sv_trace__put(c->ex->rec, &ev);
	}
}

/* A block ran: its instructions and their base cycles. */
static inline void sv_exec__charge(ex_cpu *c, uint32_t ninsn, uint64_t cycles)
{
	c->v->stat[SV_VCPU_STAT_instructions] += ninsn;
	c->v->stat[SV_VCPU_STAT_insn_cycles] += cycles;
	c->v->stat[SV_VCPU_STAT_cycles] += cycles;
	if (SV_UNLIKELY(c->ex->rec != NULL)) {
		sv_trace_event ev = {.kind = SV_TEV_BLOCK, .vcpu = c->index,
				     .n = ninsn, .value = cycles};

		sv_trace__put(c->ex->rec, &ev);
	}
}

/* An access sent through the model; a write's bytes when known (NULL
 * otherwise) so that a replay stores them too. */
static inline void sv_exec__access(ex_cpu *c, uint64_t gva, uint32_t size,
				   sv_access acc, const void *data,
				   sv_xlate *x)
{
	sv_vcpu_translate(x, c->v, gva, size, acc);
	if (SV_UNLIKELY(c->ex->rec != NULL)) {
		static const sv_trace_kind k[] = {
			[SV_ACCESS_READ] = SV_TEV_READ,
			[SV_ACCESS_WRITE] = SV_TEV_WRITE,
			[SV_ACCESS_FETCH] = SV_TEV_FETCH};
		sv_trace_event ev = {.kind = k[acc], .vcpu = c->index,
				     .addr = gva, .size = size, .data = data,
				     .data_len = data ? size : 0};

		sv_trace__put(c->ex->rec, &ev);
	}
}
void sv_exec__record_event(sv_exec *ex, sv_trace_kind kind, unsigned vcpu,
			   uint64_t addr);

/* exec.c: makes the library's pages in use resident (host and MMU). */
int sv_exec__prefault(sv_exec *ex);
/* exec.c: what the hypervisor does at every guest entry of c (the
 * steal-time record when due); the write itself, as replay repeats it. */
int sv_exec__entry(ex_cpu *c);
int sv_exec__steal_time(ex_cpu *c);

/* event.c */
typedef enum ex_deliver {
	EX_DELIVERED,   /* nothing left to deliver */
	EX_SHUTDOWN,    /* a triple fault */
	EX_REPORT,      /* a fault the guest cannot be shown (c->fault) */
} ex_deliver;
/* Raises an exception (vector < 32) or software interrupt, folding it
 * into what is pending or being injected as the SDM's Table 6-5 and KVM
 * do.  False on a triple fault. */
bool sv_exec__raise(ex_cpu *c, unsigned vector, bool soft, uint32_t error_code,
		    uint64_t rip);
/* Delivers what is injected, then what is pending. */
ex_deliver sv_exec__deliver(ex_cpu *c);
/* The guest's CPL (c->cpl and the model's), and the model's alone. */
void sv_exec__set_cpl(ex_cpu *c, unsigned cpl);
void sv_exec__model_cpl(ex_cpu *c, unsigned cpl);

/* Unicorn 2.0.1 folds a second caught exception into a #DF because it
 * never clears its record of the first.  The exception hooks clear it
 * for every exception they catch, at an offset in Unicorn's CPU context
 * learnt once per process (SV_EBUG if this build of Unicorn hides it). */
int sv_exec__exceptions_init(sv_vm *vm);
uc_err sv_exec__exception_hooks_add(ex_cpu *c);
/* hooks.c: */
/* decode.c: the Unicorn id of a 64-bit register (or RIP), 0 for others. */
int sv_exec__uc_reg(x86_reg r);
/* decode.c: fast-forward mode: the instruction of the block that made the faulting
 * access, from the registers as they are now (the instructions before it
 * ran, it did not).  False when no instruction or more than one could
 * have made it. */
bool sv_exec__fault_insn(ex_cpu *c, uint64_t *rip);

/* regions.c */
int sv_exec__regions_sync(sv_exec *ex);
/* The engine's region list freed, as the engine is about to be closed. */
void sv_exec__regions_free(ex_cpu *c);
/* Is gpa a guest page-table page of the last sync? */
static inline bool sv_exec__is_table(const sv_exec *ex, uint64_t gpa)
{
	return gpa - ex->tbl_lo < ex->tbl_span;
}
bool sv_exec__table_lookup(const sv_exec *ex, uint64_t gpa);

#endif
