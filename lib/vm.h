/*
 * lib/vm.h - the VM (lib/vm.c): its options, vCPUs, memslots, nested
 * tables and VM-wide counters.
 */
#ifndef SV_VM_H
#define SV_VM_H

#include "frames.h"
#include "memslots.h"
#include "pt.h"

struct sv_vm {
	sv_vm_options opts;
	sv_vcpu **vcpus;
	sv_memslots memslots;  /* address space 0 */
	sv_memslots memslots_smm; /* address space 1 (SMM), with an MMU */
	const sv_memslot_ops *slot_ops; /* the MMU's, once attached */
	void *slot_ops_payload;
	sv_frames tdp_frames;  /* nested table pages */
	sv_pt *tdp;            /* default nested tree */
	const sv_pt_format *tdp_fmt;
	/* The nested entries' A and D flags: NPT's, EPT's with EPTP bit 6,
	 * else 0 (no A/D). */
	uint64_t tdp_abit, tdp_dbit;
	uint64_t *ones_table;  /* what unbacked guest-physical memory reads as */
	struct sv_mmu *mmu;    /* the hypervisor MMU, once a host is attached */
	uint64_t stat[SV_VM_STAT__COUNT];
	char *errbuf;         /* the last error's detail, or NULL */
	/* An error no guest fault can stand for (the host's resident_limit
	 * reached): every access from then on returns it. */
	int fatal;
};

/* The memslots of address space `as` (KVM's as_id; 1 is SMM's). */
static inline sv_memslots *sv_vm__memslots(sv_vm *vm, unsigned as)
{
	return as ? &vm->memslots_smm : &vm->memslots;
}

#endif /* SV_VM_H */
