/*
 * lib/ept/fault.h - one hypervisor page fault, as KVM's struct
 * kvm_page_fault: what the exit said, what fault-in found, and the level
 * the sizing chose.  Built once per exit (designated initialisers, in
 * lib/ept/fault.c) and handed to the MMU that maps it.
 */
#ifndef SV_EPT_FAULT_H
#define SV_EPT_FAULT_H

#include "ept/mmu.h"

/* Fault outcomes (KVM's RET_PF_*). */
typedef enum sv_pf_ret {
	PF_CONTINUE,
	PF_RETRY,
	PF_FIXED,
	PF_SPURIOUS,
	PF_EMULATE,
	PF_INVALID,
	PF_EFAULT,
	PF_GUEST,       /* shadow MMU: the guest's own #PF, to inject */
} sv_pf_ret;

typedef struct sv_page_fault {
	/* From the exit. */
	sv_vcpu *v;
	unsigned as;              /* the vCPU's address space */
	uint64_t gva;             /* shadow MMU: the address that faulted */
	uint64_t gfn;             /* (shadow MMU: from the guest's tables) */
	sv_access acc;
	bool write, exec, present, rsvd;
	bool prefault;            /* KVM_PRE_FAULT_MEMORY: no cycles */
	bool pt_write;            /* shadow MMU: a write to a protected guest
				     page table, to emulate */
	/* Fault-in (kvm_faultin_pfn). */
	sv_memslot *slot;         /* NULL: no slot, an MMIO SPTE */
	uint64_t hva, pfn;
	bool host_writable;
	uint64_t seq;             /* mmu_invalidate_seq at fault-in */
	/* Sizing (kvm_mmu_hugepage_adjust). */
	unsigned req_level;       /* what the slot and host allow */
	unsigned goal_level;      /* what will be mapped */
	bool huge_disallowed;     /* an exec fault with NX huge pages */
} sv_page_fault;

/* The TDP MMU's map (kvm_tdp_mmu_map): lib/ept/tdp.c. */
sv_pf_ret sv_tdp__map(sv_mmu *m, sv_page_fault *f);
/* The shadow MMU's fault (FNAME(page_fault)): lib/ept/shadow.c.  PF_GUEST
 * with *x the guest's #PF. */
sv_pf_ret sv_shadow__page_fault(sv_mmu *m, sv_page_fault *f, sv_fault *x);

/* Shared steps of the fault path (lib/ept/fault.c): fault-in (memslot,
 * invalidation snapshot, host fault; PF_CONTINUE with f->slot NULL for a
 * gfn in no memslot) and sizing (req_level and goal_level). */
sv_pf_ret sv_mmu__faultin(sv_mmu *m, sv_page_fault *f);
void sv_mmu__size_fault(sv_mmu *m, sv_page_fault *f);

/* Handles a nested fault of vCPU v (which has left guest mode): true when
 * the access should run again; false with *f turned into what the caller
 * sees (left alone for a fault the MMU does not own). */
bool sv_mmu__handle_exit(sv_mmu *m, sv_vcpu *v, sv_fault *f);

#endif /* SV_EPT_FAULT_H */
