/*
 * simvirt/vcpu.h - one virtual CPU: its registers, the trace-driven access
 * entry point, and the TLB-maintenance instructions.
 *
 * sv_vcpu_translate() is the model's hot path.  It looks the address up in the
 * vCPU's TLBs, walks the guest and nested page tables on a miss (counting
 * every memory reference, filling the caches) and reports either the
 * translation or the fault that stopped it.  Guest outcomes (a #PF, an EPT
 * violation) are data in the result, never error codes.
 */
#ifndef SIMVIRT_VCPU_H
#define SIMVIRT_VCPU_H

#include "common.h"
#include "stats.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sv_access {
	SV_ACCESS_READ = 0,
	SV_ACCESS_WRITE = 1,
	SV_ACCESS_FETCH = 2,
} sv_access;

typedef enum sv_fault_kind {
	SV_FAULT_NONE = 0,
	SV_FAULT_PF,             /* guest #PF: error_code, gva = CR2 */
	SV_FAULT_GP,             /* guest #GP: non-canonical address */
	SV_FAULT_EPT_VIOLATION,  /* exit_qualification, gpa, gva */
	SV_FAULT_EPT_MISCONFIG,  /* gpa */
	SV_FAULT_NPF,            /* error_code = EXITINFO1, gpa = EXITINFO2 */
	SV_FAULT_MCE,            /* machine check from a TLB multi-match */
	SV_FAULT_TLB_CONFLICT,   /* conflict abort from a TLB multi-match */
	/* With the hypervisor MMU (simvirt/mmu.h), an exit it could not
	 * resolve in the kernel: */
	SV_FAULT_MMIO,           /* KVM_EXIT_MMIO at gpa: emulate the access */
	SV_FAULT_EFAULT,         /* the host cannot serve gpa: -EFAULT */
	SV_FAULT_RETRY,          /* still racing an invalidation: run again */
	/* With the shadow MMU (sv_mmu_options.mmu): a #PF on the shadow
	 * tables, which exits to the MMU.  Seen only while the MMU handles
	 * it: it becomes a guest #PF, or the access completes. */
	SV_FAULT_SHADOW_PF,      /* error_code, gva */
} sv_fault_kind;

/** Which stage of the two-dimensional translation stopped the access. */
typedef enum sv_fault_stage {
	SV_STAGE_GUEST,         /* the guest page tables */
	SV_STAGE_NESTED_TABLE,  /* nested translation of a guest table's GPA */
	SV_STAGE_NESTED_FINAL,  /* nested translation of the final GPA */
	SV_STAGE_TLB,           /* the TLB lookup itself */
	SV_STAGE_SHADOW,        /* the shadow tables (shadow MMU) */
} sv_fault_stage;

typedef struct sv_fault {
	sv_fault_kind kind;
	sv_fault_stage stage;
	unsigned level;              /* level of the faulting entry, 0 if none */
	uint64_t gva;                /* linear address (CR2 of a #PF) */
	uint64_t gpa;                /* GPA of a nested fault */
	uint64_t error_code;         /* #PF error code, or #NPF EXITINFO1 */
	uint64_t exit_qualification; /* EPT violation exit qualification */
} sv_fault;

/** A short name of the fault kind ("#PF", "EPT violation", "TLB conflict
 *  abort", ...) and of the stage ("guest tables", ...); "?" if unknown. */
SV_API const char *sv_fault_kind_name(sv_fault_kind k);
SV_API const char *sv_fault_stage_name(sv_fault_stage s);

/** Where a translation was found. */
typedef enum sv_xlate_source {
	SV_SRC_L1,   /* an L1 TLB */
	SV_SRC_STLB, /* the second-level TLB */
	SV_SRC_WALK, /* a page walk */
	/* The shadow MMU emulated it: a write to one of the guest's
	 * write-protected page tables. */
	SV_SRC_EMULATED,
} sv_xlate_source;

typedef struct sv_xlate {
	uint64_t gpa;       /* guest-physical address of the first byte */
	uint64_t hpa;       /* host-physical address of the first byte */
	uint64_t page_size; /* size of the combined TLB entry used */
	uint32_t cycles;    /* cycles this access was charged */
	uint32_t refs;      /* paging-structure references it made */
	uint32_t exits;     /* VM exits the MMU handled on the way */
	sv_xlate_source source;
	sv_fault fault;     /* kind != SV_FAULT_NONE: the access did not complete */
} sv_xlate;

#define SV_VCPU_REGS_VERSION 1
typedef struct sv_vcpu_regs {
	unsigned version; /* SV_VCPU_REGS_VERSION */
	uint64_t cr0, cr3, cr4, efer, rflags;
	unsigned cpl;     /* 0..3; 3 is user mode */
	uint16_t vpid;    /* VPID (EPT) or ASID (NPT); VPID 0 is the host's */
	uint64_t eptp;    /* EPT pointer (EPT) or nCR3 (NPT) */
} sv_vcpu_regs;

/**
 * Reads the registers.  A new vCPU is in 64-bit mode with paging off
 * (CR0 = PE, EFER = LME|LMA|NXE, CR4 = PAE, plus LA57 for a 5-level guest),
 * CPL 0, VPID/ASID = 1 + its index, and the EPTP/nCR3 of the VM's nested
 * table tree.  A NULL v gives all zeros; a NULL out does nothing.
 */
SV_API void sv_vcpu_get_regs(const sv_vcpu *v, sv_vcpu_regs *out);
/**
 * Loads registers as VM entry does: no TLB is flushed (the TLB is tagged).
 * Rejects impossible states with SV_EINVAL and a detail: paging without
 * PE/PAE/LME, CR4.LA57 not matching the guest's levels, PCIDE outside long
 * mode, a CPL above 3, an EPTP whose memory type or walk length is invalid
 * or whose root is not a nested table of this VM.
 */
SV_API int sv_vcpu_set_regs(sv_vcpu *v, const sv_vcpu_regs *r);
/** The vCPU's index in its VM (UINT_MAX for NULL). */
SV_API unsigned sv_vcpu_index(const sv_vcpu *v);

/**
 * Translates one access of `size` bytes (1..4096) at gva.  An access that
 * crosses a 4K boundary translates both pages (the result describes the
 * first; a fault on either is reported).  Returns SV_OK with *out filled,
 * faults included; SV_EINVAL for a bad size or access kind.
 */
SV_API int sv_vcpu_translate(sv_xlate *out, sv_vcpu *v, uint64_t gva,
			     uint32_t size, sv_access access);
/** sv_vcpu_translate() with the result last (the name before 0.2). */
SV_DEPRECATED("sv_vcpu_translate(&out, v, gva, size, access)")
SV_API int sv_vcpu_access(sv_vcpu *v, uint64_t gva, uint32_t size,
			  sv_access access, sv_xlate *out);
/**
 * n accesses of `size` bytes in order, at gvas[i], each of kind kinds[i]
 * (or `access` for every one when kinds is NULL): what n calls of
 * sv_vcpu_translate() do, counters included, for callers that pay for each
 * call (other languages, trace readers).  It stops after the first access
 * that faults.  *done is the number of accesses made (the faulting one
 * included) and *out the result of the last; SV_EINVAL as for
 * sv_vcpu_translate(), with *done the accesses made before the bad one.
 */
SV_API int sv_vcpu_access_batch(sv_xlate *out, size_t *done, sv_vcpu *v,
				const uint64_t *gvas, const uint8_t *kinds,
				size_t n, uint32_t size, sv_access access);

/** One vCPU's part in sv_vcpu_access_together(). */
typedef struct sv_access_req {
	sv_vcpu *vcpu;
	uint64_t gva;
	uint32_t size;      /* 1..4096 */
	sv_access access;
} sv_access_req;

/**
 * Accesses by several vCPUs of one VM at the same instant: every vCPU
 * translates first, so each sees the nested tables as they were before any
 * of them exited; then the nested faults are handled in array order, each
 * handler seeing what the ones before it installed.  Two vCPUs touching one
 * unmapped gfn this way give KVM's race: the first fault is fixed, the
 * second finds the SPTE in place (pf_spurious).  outs[i] is what reqs[i]
 * gave, as sv_vcpu_translate() fills it.  SV_EINVAL (nothing done) for a bad
 * request, a vCPU named twice or vCPUs of different VMs.
 */
SV_API int sv_vcpu_access_together(const sv_access_req *reqs, unsigned n,
				   sv_xlate *outs);

/* ---- TLB maintenance (each drops exactly what the SDM/APM says) ----- */

/** INVLPG: the address's linear/combined entries of the current VPID and
 *  PCID (and global ones of any PCID), all EP4TAs, plus every
 *  paging-structure-cache entry of the current PCID. */
SV_API int sv_vcpu_invlpg(sv_vcpu *v, uint64_t gva);
/** INVPCID type 0 (address), 1 (single context), 2 (all, with globals),
 *  3 (all but globals), within the current VPID. */
SV_API int sv_vcpu_invpcid(sv_vcpu *v, unsigned type, uint16_t pcid,
			   uint64_t gva);
/** The guest's MOV to CR3: without CR4.PCIDE drops PCID 0's non-global
 *  entries; with it drops the new PCID's non-global entries unless bit 63
 *  is set (which is not stored in CR3). */
SV_API int sv_vcpu_mov_cr3(sv_vcpu *v, uint64_t cr3);
/** INVVPID type 0 (address), 1 (single VPID), 2 (all VPIDs but 0),
 *  3 (single VPID, keep globals).  Never touches guest-physical entries. */
SV_API int sv_vcpu_invvpid(sv_vcpu *v, unsigned type, uint16_t vpid,
			   uint64_t gva);
/** INVEPT type 1 (the EP4TA of eptp) or 2 (all): guest-physical and
 *  combined entries, every VPID. */
SV_API int sv_vcpu_invept(sv_vcpu *v, unsigned type, uint64_t eptp);
/** VMRUN with VMCB TLB_CONTROL = 1 (every ASID), 3 (this vCPU's ASID) or
 *  7 (this ASID's non-global entries). 0 does nothing. */
SV_API int sv_vcpu_svm_tlb_control(sv_vcpu *v, unsigned tlb_control);
/** INVLPGA: the address's entries tagged with asid. */
SV_API int sv_vcpu_invlpga(sv_vcpu *v, uint64_t gva, uint16_t asid);

/* ---- watching walks (teaching, tracing) ------------------------------ */

typedef enum sv_walk_event_kind {
	SV_WEV_TLB_HIT,     /* the access hit a TLB; no walk */
	SV_WEV_PSC_HIT,     /* guest walk starts below a cached entry */
	SV_WEV_GUEST_REF,   /* one guest paging-structure entry read */
	SV_WEV_NTLB_HIT,    /* a GPA found in the guest-physical TLB */
	SV_WEV_NPWC_HIT,    /* nested walk starts below a cached entry */
	SV_WEV_NESTED_REF,  /* one EPT/NPT entry read */
	SV_WEV_FAULT,       /* the access faulted (see the result) */
	SV_WEV_SHADOW_REF,  /* one shadow paging-structure entry read (shadow
			       paging: the hardware walks only those) */
} sv_walk_event_kind;

typedef struct sv_walk_event {
	sv_walk_event_kind kind;
	unsigned level;   /* level of the entry read or cached */
	uint64_t addr;    /* GVA (guest events) or GPA (nested events) */
	uint64_t table;   /* physical address of the table read, or of the
			     table a cache hit starts from */
	uint64_t entry;   /* the entry's value (refs only) */
} sv_walk_event;

typedef void (*sv_walk_observer_fn)(const sv_walk_event *ev, void *payload);
/**
 * Calls fn for every step of this vCPU's translations, in the order the
 * hardware takes them.  NULL removes the observer.  Observing changes no
 * counter.
 */
SV_API void sv_vcpu_set_walk_observer(sv_vcpu *v, sv_walk_observer_fn fn,
				      void *payload);

/* ---- counters and TLB contents -------------------------------------- */

SV_API uint64_t sv_vcpu_stat_get(const sv_vcpu *v, sv_vcpu_stat id);
SV_API void sv_vcpu_stats_reset(sv_vcpu *v);

/** Kinds of cached entries. */
typedef enum sv_tlb_kind {
	SV_TLBE_COMBINED,       /* GVA -> HPA (VPID, PCID, EP4TA) */
	SV_TLBE_GUEST_PHYSICAL, /* GPA -> HPA (EP4TA) */
	SV_TLBE_PSC,            /* guest paging-structure cache */
	SV_TLBE_NPWC,           /* nested page-walk cache */
} sv_tlb_kind;

typedef struct sv_tlb_entry_info {
	sv_tlb_array array;
	sv_tlb_kind kind;
	uint64_t addr;      /* base GVA (or GPA) the entry covers */
	uint64_t size;      /* bytes it covers */
	uint64_t target;    /* HPA of the page, or of the next table */
	uint64_t ep4ta;     /* nested root it belongs to */
	uint16_t vpid;
	uint16_t pcid;
	bool global;
} sv_tlb_entry_info;

typedef void (*sv_tlb_visit_fn)(const sv_tlb_entry_info *e, void *payload);
/** Calls fn for every valid cached entry, array by array, set by set. */
SV_API void sv_vcpu_tlb_foreach(const sv_vcpu *v, sv_tlb_visit_fn fn,
				void *payload);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_VCPU_H */
