/*
 * simvirt/mmu.h - the hypervisor MMU: a KVM-like TDP MMU that builds the
 * VM's EPT/NPT tables itself, from memslots over a simulated host process
 * (simvirt/hostmm.h), and keeps them in step with the host's events.
 *
 * Once a host is attached, an EPT violation (or #NPF) in sv_vcpu_access()
 * is handled as KVM handles it: fast path, fault-in through the host,
 * sizing policy, SPTE install; the access then resumes.  The result of the
 * access tells what the guest saw (sv_xlate.exits, and SV_FAULT_MMIO,
 * SV_FAULT_EFAULT or SV_FAULT_RETRY when the exit went to userspace or
 * could not complete).  Host events arrive through the MMU notifier; dirty
 * logging is driven by memslot flags and the calls below.  Every decision
 * is counted with KVM's counter names (simvirt/stats.h).
 */
#ifndef SIMVIRT_MMU_H
#define SIMVIRT_MMU_H

#include "common.h"
#include "hostmm.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Historical bugs of the huge-page code, each a switch (off by default) that
 * brings back the old behaviour (the reference: docs/kvm-reference.md,
 * table "Bugs the series fixed").  X(ID, name, in scenarios, what it does):
 * SV_BUG_<ID> is its bit; the name is what scenario files write ([vm]
 * bugs=B1,B5); B3 needs a vCPU in SMM, which only the C API has.
 */
#define SV_BUG_LIST(X)                                                        \
	X(B1_NO_MAX_LEVEL_CLAMP, "B1", 1,                                     \
	  "the host level is not clamped to the largest TDP page size: a 1G " \
	  "hugetlbfs page on a CPU without 1G EPT gets a 1G SPTE")            \
	X(B2_ANY_COMPOUND, "B2", 1,                                           \
	  "kvm-legacy: any compound page passes the THP test, so a driver's " \
	  "PTE-mapped compound page is mapped 2M")                            \
	X(B3_SMM_AS0, "B3", 0,                                                \
	  "kvm-legacy: for a vCPU in SMM the hugetlbfs size lookup "          \
	  "translates the gfn in address space 0 (the wrong slot's size, 4K " \
	  "when address space 0 has none there)")                             \
	X(B4_READONLY_4K, "B4", 1,                                            \
	  "kvm-legacy: the hugetlbfs size lookup fails on read-only "         \
	  "memslots, which are then mapped 4K")                               \
	X(B5_COLLAPSE_THP_ONLY, "B5", 1,                                      \
	  "collapsing after dirty logging accepts THP only, so a hugetlbfs "  \
	  "slot stays 4K")                                                    \
	X(B6_DAX_4K, "B6", 1, "ZONE_DEVICE (DAX) pfns are mapped 4K")         \
	X(BASE_FLUSH, "base_flush", 1,                                        \
	  "not a KVM bug but the one break-before-make forbids (reference, "  \
	  "scenario 31): after tables are replaced by a huge SPTE when "      \
	  "logging stops, only the translations of the block's base address " \
	  "are flushed, so up to 511 stale 4K entries can meet the new huge " \
	  "entry in the TLB")

typedef enum sv_bug_bit {
#define SV__BUG_BIT(id, name, scenario, what) SV_BUG_BIT_##id,
	SV_BUG_LIST(SV__BUG_BIT)
#undef SV__BUG_BIT
	SV_BUG__COUNT
} sv_bug_bit;

enum {
#define SV__BUG_FLAG(id, name, scenario, what) \
	SV_BUG_##id = 1u << SV_BUG_BIT_##id,
	SV_BUG_LIST(SV__BUG_FLAG)
#undef SV__BUG_FLAG
};
#define SV_BUG_ALL ((1u << SV_BUG__COUNT) - 1)

/**
 * Bug i of SV_BUG_LIST: its name (NULL past the end), and if asked its
 * bit, whether scenario files may switch it on, and what it does.
 */
SV_API const char *sv_mmu_bug(size_t i, unsigned *bit, bool *in_scenarios,
			      const char **desc);

/** For a setting that changed between kernels: decide by kernel_version. */
#define SV_BY_VERSION (-1)

/* 1: without tdp_mmu (taken as true); 2: without mmu (taken as TDP) */
#define SV_MMU_OPTIONS_VERSION 3

/** Which of KVM's MMUs maps the guest (sv_mmu_options.mmu). */
typedef enum sv_mmu_kind {
	/* Two-dimensional paging: the MMU builds EPT/NPT tables of
	 * guest-physical addresses and the hardware walks the guest's own
	 * tables through them. */
	SV_MMU_TDP = 0,
	/* Shadow paging: the MMU builds tables of guest-virtual addresses
	 * from the guest's tables (which it reads and write-protects) and the
	 * hardware walks only those (KVM without EPT/NPT). */
	SV_MMU_SHADOW = 1,
} sv_mmu_kind;

typedef struct sv_mmu_options {
	unsigned version;        /* SV_MMU_OPTIONS_VERSION */
	/* SV_KERNEL(major, minor), 5.0 .. 7.x: picks the behaviour that
	 * changed between kernels unless an override below says otherwise. */
	unsigned kernel_version;
	/* "kvm", "kvm-legacy", a registered name, or "auto" (also NULL):
	 * kvm-legacy before 5.6, kvm from 5.6 (docs/kernel-versions.md). */
	const char *policy;
	bool eager_page_split;   /* split huge SPTEs when logging starts */
	bool pml;                /* page-modification logging (EPT only) */
	bool nx_huge_pages;      /* iTLB-multihit mitigation */
	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: GET does not re-protect; CLEAR
	 * does.  initially_set: the bitmap starts all ones and nothing is
	 * protected when logging starts. */
	bool manual_protect;
	bool initially_set;
	/* Overrides, SV_BY_VERSION or 0/1: split a huge SPTE in the fault path
	 * (6.2+) rather than zap it; recover huge pages in place when logging
	 * stops (6.13+) rather than zap the collapsible tables. */
	int split_on_fault;
	int recover_in_place;
	unsigned bugs;           /* SV_BUG_* */
	bool audit;              /* run the invariant checks (slower) */
	/* kvm.tdp_mmu: false is the older (rmap) MMU for the direct map,
	 * modelled where it differs in counts: after a 4K fault it
	 * prefetches the fault's aligned group of 8 SPTEs whose host pages
	 * are present and writable (direct_pte_prefetch). */
	bool tdp_mmu;
	sv_mmu_kind mmu;         /* SV_MMU_TDP or SV_MMU_SHADOW */
	/* Shadow MMU: shadow pages at most (KVM's n_max_mmu_pages); past
	 * it the oldest are zapped (mmu_recycled).  0: KVM's default, 20 per
	 * 1,000 pages of guest memory and at least 64. */
	unsigned shadow_pages;
	/* kvm.mmio_caching: a gfn in no memslot gets an MMIO SPTE, so its
	 * later accesses go to emulation without the fault path; false:
	 * every access takes the full fault (pf_taken, pf_emulate). */
	bool mmio_caching;
} sv_mmu_options;

#define SV_MMU_OPTIONS_INIT                                    \
	{                                                      \
		.version = SV_MMU_OPTIONS_VERSION,             \
		.kernel_version = SV_KERNEL(6, 12),            \
		.policy = "auto",                              \
		.eager_page_split = true,                      \
		.pml = false,                                  \
		.nx_huge_pages = false,                        \
		.manual_protect = false,                       \
		.initially_set = false,                        \
		.split_on_fault = SV_BY_VERSION,               \
		.recover_in_place = SV_BY_VERSION,             \
		.bugs = 0,                                     \
		.audit = false,                                \
		.tdp_mmu = true,                               \
		.mmu = SV_MMU_TDP,                             \
		.shadow_pages = 0,                             \
		.mmio_caching = true,                          \
	}

/** Fills *opts with the defaults (SV_MMU_OPTIONS_INIT). */
SV_API void sv_mmu_options_init(sv_mmu_options *opts);

/**
 * Hands the VM's nested tables to the hypervisor MMU, with `host` as the
 * process whose memory backs the memslots.  Must come before any memslot
 * is created; the host must outlive the VM.  opts NULL means defaults.
 * From then on sv_pt_map()/sv_pt_write() on the VM's own tree are
 * SV_EBUSY: the MMU owns it.
 */
SV_API int sv_mmu_attach(sv_vm *vm, sv_host *host, const sv_mmu_options *opts);
/** The options in force, with SV_BY_VERSION resolved; NULL if none. */
SV_API const sv_mmu_options *sv_mmu_options_get(const sv_vm *vm);

/* ---- sizing policies ------------------------------------------------- */

/** What a sizing policy is told about one fault (or collapse check). */
typedef struct sv_mmu_fault_info {
	uint64_t gfn;
	uint64_t hva;
	uint32_t slot;         /* memslot id */
	bool write, exec;
	bool slot_readonly;
	unsigned max_level;    /* after lpage_info and the TDP page sizes */
	bool collapse;         /* asked when logging stops, not in a fault */
	unsigned kernel_version; /* the MMU's options, for policies that */
	unsigned bugs;           /* follow them (SV_BUG_*) */
	const sv_host *host;   /* to walk, look up VMAs or pages */
	/* The slot is in address space 1 (SMM); then where address space 0
	 * maps the same gfn, if it does (what bug B3 asked by mistake). */
	bool smm;
	bool as0_has_gfn;
	uint64_t as0_hva;
} sv_mmu_fault_info;

#define SV_MMU_POLICY_VERSION 1

/** What a policy does with a notifier event (see on_invalidate). */
typedef enum sv_mmu_inv_action {
	SV_INV_ZAP,      /* zap every SPTE in the range (KVM) */
	SV_INV_WRPROT,   /* only write-protect them */
} sv_mmu_inv_action;

typedef struct sv_mmu_policy {
	unsigned version;   /* SV_MMU_POLICY_VERSION */
	const char *name;
	/* The largest level (1 = 4K, 2 = 2M, 3 = 1G) the gfn may be mapped
	 * at, at most info->max_level.  Called after the host page is
	 * faulted in, and for each table when logging stops. */
	unsigned (*level)(const sv_mmu_fault_info *info, void *payload);
	/* Optional: the event of an invalidation, before any SPTE of
	 * [gfn_start, gfn_end) is touched.  NULL means SV_INV_ZAP. */
	sv_mmu_inv_action (*on_invalidate)(sv_host_event event,
					   uint64_t gfn_start, uint64_t gfn_end,
					   void *payload);
	void *payload;
} sv_mmu_policy;

/** Registers a policy by its name, for every VM made afterwards (the name
 *  must not be taken; `p` must outlive its use). */
SV_API int sv_mmu_policy_register(const sv_mmu_policy *p);
SV_API int sv_mmu_policy_unregister(const char *name);
/** The policy of that name (built-in or registered), or NULL. */
SV_API const sv_mmu_policy *sv_mmu_policy_find(const char *name);

/* ---- the hypervisor's own accesses to guest memory ------------------- */

/** A guest page the hypervisor has mapped for itself (kvm_vcpu_map). */
typedef struct sv_kvm_mapping {
	uint64_t gpa;       /* the 4K page */
	uint64_t hva;
	uint64_t pfn;
	bool struct_page;   /* false: no struct page (PFNMAP, DAX device
			       memory), mapped with memremap */
	uint32_t slot;      /* the memslot */
} sv_kvm_mapping;

/**
 * kvm_vcpu_map: maps the guest page holding gpa for the hypervisor,
 * faulting the host page in for writing as KVM does (a copy-on-write
 * break, a zero page replaced), and charges v the path taken: [cost]
 * kvm_map for a page with a struct page, kvm_memremap for one without.
 * Counted in kvm_maps.  SV_EFAULT where no memslot or host page is;
 * SV_ENOTSUP without an MMU (sv_mmu_attach).
 */
SV_API int sv_kvm_map(sv_kvm_mapping *out, sv_vcpu *v, uint64_t gpa);
/** kvm_vcpu_unmap: with dirty, the page is marked in the slot's dirty
 *  log while it logs (mark_page_dirty).  Counted in kvm_unmaps. */
SV_API int sv_kvm_unmap(sv_vcpu *v, const sv_kvm_mapping *map, bool dirty);

/*
 * A gfn-to-pfn cache (KVM's pfncache, as for steal time and pvclock): a
 * host mapping of [gpa, gpa + len), within one 4K page, held while valid.
 * An MMU-notifier event covering the page, or a memslot change, drops
 * it (pfncache_invalidations, kvm_unmaps); the next use maps it again
 * (pfncache_refreshes, kvm_maps).  Free it before its VM.
 */
typedef struct sv_pfncache sv_pfncache;
SV_API int sv_pfncache_new(sv_pfncache **out, sv_vm *vm, uint64_t gpa,
			   uint32_t len);
SV_API void sv_pfncache_free(sv_pfncache *c);
/** Whether the cache holds its mapping now. */
SV_API bool sv_pfncache_valid(const sv_pfncache *c);
/** Writes len bytes at offset through the cache, refreshing it first if
 *  it was dropped (v pays the mapping), the dirty log marked while the
 *  slot logs. */
SV_API int sv_pfncache_write(sv_pfncache *c, sv_vcpu *v, uint32_t offset,
			     const void *buf, uint32_t len);

/* ---- dirty logging (the memslot flag SV_MEMSLOT_LOG_DIRTY starts it) -- */

/**
 * KVM_GET_DIRTY_LOG: copies the slot's bitmap (one bit per 4K page, bit i of
 * word i / 64) into `bitmap`, which holds at least (pages + 63) / 64 words.
 * Without manual protect the bitmap is cleared and the pages it named are
 * protected again, with one remote flush if any was dirty.  SV_ENOENT if
 * the slot does not exist or does not log.
 */
SV_API int sv_mmu_get_dirty_log(sv_vm *vm, uint32_t slot, uint64_t *bitmap);
/**
 * KVM_CLEAR_DIRTY_LOG (manual protect only): for the `num_pages` pages from
 * `first_page` (a multiple of 64), clears the bits set in `bitmap` and
 * protects those pages again; one remote flush if any bit was cleared.
 */
SV_API int sv_mmu_clear_dirty_log(sv_vm *vm, uint32_t slot,
				  uint64_t first_page, uint64_t num_pages,
				  const uint64_t *bitmap);

/**
 * KVM_PRE_FAULT_MEMORY (6.10): maps [gpa, gpa + size) of vCPU v's address
 * space as a read fault there would, without an exit: the host pages are
 * faulted in (a page the host maps writable gets a writable SPTE) and the
 * mapping is sized as for a fault.  pf_fixed counts each SPTE made,
 * pf_taken nothing; no cycles are charged.  SV_ENOENT where no memslot
 * is, SV_EFAULT where the host cannot fault in.
 */
SV_API int sv_mmu_pre_fault(sv_vcpu *v, uint64_t gpa, uint64_t size);

/**
 * kvm_flush_remote_tlbs: every vCPU flushes its TLBs at its next guest
 * entry.  Counted as remote_tlb_flush_requests, and as remote_tlb_flush
 * when a vCPU in guest mode had to be kicked.  SV_ENOTSUP without an MMU.
 */
SV_API int sv_mmu_flush_remote_tlbs(sv_vm *vm);

/* ---- the leaf SPTE of a GPA, for tests and labs ---------------------- */

typedef struct sv_spte_info {
	bool present;        /* MMU-present (bit 11), hardware-present or not */
	bool mmio;           /* an MMIO SPTE */
	unsigned level;      /* of the leaf or of the lowest entry found */
	uint64_t hpa;        /* the page it maps (level-aligned) */
	bool readable, writable, executable;
	bool host_writable, mmu_writable;
	bool accessed, dirty;
	bool access_tracked;
	uint64_t raw;
} sv_spte_info;

SV_API int sv_mmu_spte_get(sv_spte_info *out, sv_vm *vm, uint64_t gpa);
SV_DEPRECATED("sv_mmu_spte_get(&out, vm, gpa)")
SV_API int sv_mmu_spte(sv_vm *vm, uint64_t gpa, sv_spte_info *out);

/**
 * Enters (smm true) or leaves System Management Mode.  A vCPU in SMM sees
 * address space 1: memslots whose id has 1 in bits 16 and up (KVM's
 * as_id, e.g. SMRAM over guest memory), mapped by a second nested root
 * (KVM's role.smm) that its EPTP/nCR3 then points at, so the two views
 * never share an SPTE or a TLB entry.  The guest's own page tables are
 * read through the same view.  Needs the hypervisor MMU (SV_EINVAL
 * otherwise); for the trace-driven API (sv_vcpu_access), not for vCPUs
 * that run guest code.
 */
SV_API int sv_vcpu_set_smm(sv_vcpu *v, bool smm);

/** The vCPU has left guest mode for good until its next access (HLT or an
 *  exit to userspace): remote flushes no longer kick it. */
SV_API void sv_vcpu_leave_guest(sv_vcpu *v);

/* ---- the auditor -------------------------------------------------------- */

#define SV_AUDIT_LIST(X)                                                      \
	X(stale_translation, "a translation used after the host freed or "   \
			     "remapped its page")                             \
	X(huge_not_contiguous, "a huge SPTE over host memory that is not one " \
			       "host mapping of at least that size")          \
	X(lost_dirty, "a guest write during dirty logging missing from the "  \
		      "next dirty bitmap")                                    \
	X(writable_over_readonly, "a writable SPTE over a host mapping that " \
				  "is not writable")                          \
	X(illegal_spte, "an SPTE the hardware cannot use (a 1G page without " \
			"1G support)")                                        \
	X(tlb_multi_match, "a TLB lookup that matched two page sizes")

typedef enum sv_audit_kind {
#define SV__AUDIT_ENUM(name, what) SV_AUDIT_##name,
	SV_AUDIT_LIST(SV__AUDIT_ENUM)
#undef SV__AUDIT_ENUM
	SV_AUDIT__COUNT
} sv_audit_kind;

SV_API const char *sv_audit_name(sv_audit_kind k);
/** Violations of one kind found so far (0 without audit). */
SV_API uint64_t sv_audit_count(const sv_vm *vm, sv_audit_kind k);
/** The report of the first violation of that kind, or "". */
SV_API const char *sv_audit_first(const sv_vm *vm, sv_audit_kind k);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_MMU_H */
