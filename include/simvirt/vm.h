/*
 * simvirt/vm.h - a simulated VM: its options, guest-physical memory and
 * counters.
 *
 * A VM owns its vCPUs, its memslots (guest-physical memory with real bytes)
 * and its nested page tables (EPT or NPT).  Two VMs in one process share
 * nothing.
 */
#ifndef SIMVIRT_VM_H
#define SIMVIRT_VM_H

#include "common.h"
#include "config.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_vm sv_vm;
typedef struct sv_vcpu sv_vcpu;

/** The nested-paging flavour. */
typedef enum sv_tdp_kind {
	SV_TDP_EPT, /* Intel EPT: EPT format, VPID tags, EPT violations */
	SV_TDP_NPT, /* AMD NPT: x86 format, ASID tags, #NPF */
} sv_tdp_kind;

#define SV_VM_OPTIONS_VERSION 1
#define SV_MAX_VCPUS 256

typedef struct sv_vm_options {
	unsigned version;     /* SV_VM_OPTIONS_VERSION */
	unsigned vcpus;       /* 1 .. SV_MAX_VCPUS */
	sv_tdp_kind tdp;      /* EPT or NPT */
	unsigned tdp_levels;  /* 4 or 5: EPT walk length / host paging depth */
	unsigned guest_levels;/* 4 or 5: the guest's paging (CR4.LA57) */
	bool tdp_ad;          /* EPTP bit 6: EPT A/D flags (EPT only) */
	bool tdp_1g;          /* 1G nested pages supported */
	bool guest_1g;        /* CPUID PDPE1GB: 1G guest pages supported */
	bool ept_exec_only;   /* EPT execute-only entries supported */
	unsigned maxphyaddr;  /* physical-address width, 36 .. 52 */
	uint64_t seed;        /* seeds every random choice of the model */
	sv_tlb_config tlb;
	sv_costs costs;
} sv_vm_options;

#define SV_VM_OPTIONS_INIT                                     \
	{                                                      \
		.version = SV_VM_OPTIONS_VERSION,              \
		.vcpus = 1,                                    \
		.tdp = SV_TDP_EPT,                             \
		.tdp_levels = 4,                               \
		.guest_levels = 4,                             \
		.tdp_ad = true,                                \
		.tdp_1g = true,                                \
		.guest_1g = true,                              \
		.ept_exec_only = true,                         \
		.maxphyaddr = 46,                              \
		.seed = 1,                                     \
		.tlb = SV_TLB_CONFIG_INIT,                     \
		.costs = SV_COSTS_INIT,                        \
	}

/** Fills *opts with the defaults (the same as SV_VM_OPTIONS_INIT). */
SV_API void sv_vm_options_init(sv_vm_options *opts);

/**
 * Creates a VM.  Checks every option (a bad one is SV_EINVAL or SV_ECONFIG
 * with a detail naming it); makes the vCPUs and an empty nested table tree
 * whose root the vCPUs' EPTP/nCR3 points at.  opts NULL means defaults.
 */
SV_API int sv_vm_new(sv_vm **out, const sv_vm_options *opts);
/**
 * Turns the data-cache model on for every vCPU (empty caches), or off
 * with NULL or a configuration without a level.  SV_EINVAL for a level
 * whose ways or sets do not fit (1-64 ways, a power-of-two number of
 * sets).
 */
SV_API int sv_vm_set_cache(sv_vm *vm, const sv_cache_config *cfg);
/** Frees a VM and everything it owns.  NULL is a no-op. */
SV_API void sv_vm_free(sv_vm *vm);
/** The detail message of the last error on this VM ("" if none). */
SV_API const char *sv_vm_last_error(const sv_vm *vm);
/** The options the VM was created with. */
SV_API const sv_vm_options *sv_vm_options_get(const sv_vm *vm);

SV_API unsigned sv_vm_vcpu_count(const sv_vm *vm);
/** vCPU number i, or NULL if out of range. */
SV_API sv_vcpu *sv_vm_vcpu(sv_vm *vm, unsigned i);

/* ---- guest-physical memory ------------------------------------------- */

#define SV_MEMSLOT_LOG_DIRTY (1U << 0) /* as KVM_MEM_LOG_DIRTY_PAGES */
#define SV_MEMSLOT_READONLY (1U << 1)  /* as KVM_MEM_READONLY */

#define SV_MEMSLOT_REGION_VERSION 2
typedef struct sv_memslot_region {
	unsigned version;  /* SV_MEMSLOT_REGION_VERSION (1: no hva field) */
	uint32_t slot;     /* slot id < 32768; with a host attached, 1 << 16
			      added puts it in address space 1 (SMM) */
	uint32_t flags;    /* SV_MEMSLOT_* */
	uint64_t gpa;      /* 4K-aligned guest-physical base */
	uint64_t size;     /* 4K-aligned size; 0 deletes the slot */
	uint64_t hva;      /* with a host attached (simvirt/mmu.h): the
			      userspace address the slot maps, 4K-aligned,
			      not wrapping, below 2^56 - 4K (user half) */
} sv_memslot_region;

/**
 * KVM_SET_USER_MEMORY_REGION.  Without a host attached, the VM owns the
 * bytes (zero-filled, reserved lazily: a sparse slot costs only what is
 * touched) and the call creates or deletes a slot.  With a host, the bytes
 * are the host process's at hva and the call has KVM's meanings: create; an
 * existing slot with the same size, hva and READONLY flag is moved (new
 * gpa) or has its LOG_DIRTY flag changed; size 0 deletes.  Errors are
 * KVM's: misaligned gpa/size/hva SV_EALIGN (EINVAL); an hva range that wraps or
 * reaches the kernel half SV_EINVAL; overlap SV_EOVERLAP
 * (EEXIST); any other change to an existing slot SV_EINVAL; deleting a slot
 * that does not exist SV_ENOENT.  A failed call changes nothing.
 */
SV_API int sv_memslot_set(sv_vm *vm, const sv_memslot_region *r);

/**
 * Copies guest-physical memory in or out (the host's view: no translation,
 * no counters).  SV_EFAULT if any byte is outside every memslot.
 */
SV_API int sv_gpa_read(sv_vm *vm, uint64_t gpa, void *buf, size_t len);
SV_API int sv_gpa_write(sv_vm *vm, uint64_t gpa, const void *buf, size_t len);

/* ---- counters --------------------------------------------------------- */

SV_API uint64_t sv_vm_stat_get(const sv_vm *vm, sv_vm_stat id);
/** Sum of a per-vCPU counter over the VM's vCPUs. */
SV_API uint64_t sv_vm_vcpu_stat_sum(const sv_vm *vm, sv_vcpu_stat id);
/**
 * Starts counting afresh, after a warm-up: every VM counter that counts
 * events, and every counter of every vCPU, goes to 0.  Levels (SPTEs,
 * table pages, memslots in use: sv_vm_stat_is_level) keep their values,
 * since they describe what is there.  The host's counters are the host's
 * (sv_host_stat_get).
 */
SV_API void sv_vm_stats_reset(sv_vm *vm);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_VM_H */
