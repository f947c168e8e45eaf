/*
 * lib/ept/mmu.h - the hypervisor MMU's structures, shared by lib/ept's MMU
 * files, the memslot code and the vCPU access path.  Nothing is installed.
 */
#ifndef SV_MMU_INTERNAL_H
#define SV_MMU_INTERNAL_H

#include "../internal.h"

/* ---- SPTE bits ---------------------------------------------------------- */

/* Software bits KVM keeps in SPTEs (arch/x86/kvm/mmu/spte.h): bit 11 marks
 * an SPTE the MMU considers present, whatever the hardware sees. */
#define SPTE_MMU_PRESENT (1ULL << 11)
#define SPTE_ADDR SV_PTE_ADDR_MASK
#define SPTE_MMIO_GEN_BITS 19

/* The bits of one format (EPT or NPT), set up at attach. */
typedef struct sv_spte_bits {
	uint64_t r, w, x;       /* grant read, write, execute when set */
	uint64_t nx;            /* NPT: forbid execute when set */
	uint64_t hw_present;    /* any of these: the CPU walks through it */
	uint64_t a, d;          /* 0 when the hardware keeps no A/D flags */
	uint64_t ps;
	uint64_t host_w, mmu_w; /* host-writable, MMU-writable */
	uint64_t leaf_attr;     /* EPT: WB + ignore PAT; NPT: U/S */
	uint64_t table;         /* a non-leaf entry's flags */
	uint64_t mmio;          /* an MMIO SPTE's marker bits */
	uint64_t saved_shift;   /* access tracking: R/X saved this far up */
} sv_spte_bits;

/* Per table page (KVM's struct kvm_mmu_page, the parts used here). */
typedef struct sv_sp {
	uint64_t gfn;      /* first gfn the table maps */
	uint8_t level;     /* level of its entries */
	uint8_t nx;        /* made because NX forbade a huge page */
} sv_sp;

/* Fault outcomes (KVM's RET_PF_*). */
typedef enum sv_pf_ret {
	PF_CONTINUE,
	PF_RETRY,
	PF_FIXED,
	PF_SPURIOUS,
	PF_EMULATE,
	PF_INVALID,
	PF_EFAULT,
} sv_pf_ret;

typedef struct sv_mmu {
	sv_vm *vm;
	sv_host *host;
	sv_mmu_options opts;           /* SV_BY_VERSION resolved */
	const sv_mmu_policy *policy;
	sv_spte_bits b;
	/* KVM's roots by role: [0] the VM's tree, [1] SMM's (made when a
	 * vCPU first enters SMM; 0 until then). */
	uint64_t root[2];
	unsigned top;                  /* levels of the TDP tree */
	unsigned max_level;            /* largest TDP page: 2 or 3 */
	bool ad;                       /* the hardware keeps A/D flags */
	GArray *sp;                    /* sv_sp per table frame index */
	/* The MMU-notifier invalidation state (kvm->mmu_invalidate_*). */
	uint64_t inv_seq;
	unsigned inv_in_progress;
	uint64_t inv_start, inv_end;   /* gfns */
	uint64_t gen;                  /* memslot generation */
	sv_host_notifier_ops nops;
	/* The auditor. */
	uint64_t audit[SV_AUDIT__COUNT];
	char *audit_first[SV_AUDIT__COUNT];
} sv_mmu;

static inline bool spte_present(uint64_t e)
{
	return (e & SPTE_MMU_PRESENT) != 0;
}

static inline bool spte_leaf(const sv_mmu *m, uint64_t e, unsigned level)
{
	return level == 1 || (e & m->b.ps);
}

static inline uint64_t *sp_table(const sv_mmu *m, uint64_t hpa)
{
	return sv__frames_ptr(&m->vm->tdp_frames, hpa);
}

/* The entry translating gfn in the table at hpa, a table of `level`. */
static inline uint64_t *sp_entry(const sv_mmu *m, uint64_t hpa, uint64_t gfn,
				 unsigned level)
{
	return &sp_table(m, hpa)[(gfn >> (9 * (level - 1))) & (SV_PT_ENTRIES - 1)];
}

static inline uint64_t level_pages(unsigned level)
{
	return 1ULL << (9 * (level - 1));
}

/* ---- lib/ept/mmu.c ------------------------------------------------------ */

/* Handles a nested fault of vCPU v on the way of an access: true when the
 * access should run again; false with *f turned into what the caller sees
 * (left alone for a fault the MMU does not own). */
bool sv__mmu_exit(sv_vcpu *v, sv_fault *f);
/* VM entry: services the vCPU's pending TLB flush. */
void sv__mmu_enter(sv_vcpu *v);
void sv__mmu_free(sv_mmu *m);
/* kvm_flush_remote_tlbs. */
void sv__mmu_flush_remote(sv_mmu *m);
/* The flush SV_BUG_BASE_FLUSH leaves after a huge SPTE replaced the tables
 * of the block at gfn: every vCPU drops, at once, only what it caches for
 * the block's base address. */
void sv__mmu_flush_base(sv_mmu *m, uint64_t gfn);

/* What a range walk does with one entry. */
typedef enum { RW_NEXT, RW_SKIP, RW_STOP } sv_rw_ret;
typedef sv_rw_ret (*sv_rw_fn)(sv_mmu *m, uint64_t *ptr, unsigned level,
			      uint64_t gfn, void *ctx);
/* Pre-order over every shadow-present SPTE of [start, end) (gfns) under
 * address space as's root at levels >= min_level; RW_SKIP does not descend
 * below an entry. */
void sv__mmu_walk_range(sv_mmu *m, unsigned as, uint64_t start, uint64_t end,
			unsigned min_level, sv_rw_fn fn, void *ctx);
/* Zaps the SPTE at *ptr (a leaf, or a table with everything below it). */
void sv__mmu_zap(sv_mmu *m, uint64_t *ptr, unsigned level);
/* Replaces the table at *ptr (freed with what is below) by a huge leaf. */
void sv__mmu_install_huge(sv_mmu *m, uint64_t *ptr, unsigned level,
			  uint64_t huge);
/* Zaps every leaf of address space as intersecting [start, end); true if
 * any was. */
bool sv__mmu_zap_leafs(sv_mmu *m, unsigned as, uint64_t start, uint64_t end);
/* Splits the huge leaf at *ptr down to 4K (recursively); false if out of
 * table pages. */
bool sv__mmu_split_to_4k(sv_mmu *m, uint64_t *ptr, unsigned level,
			 uint64_t gfn);
/* The largest level gfn may be mapped at (kvm_mmu_max_mapping_level). */
unsigned sv__mmu_max_mapping_level(sv_mmu *m, const sv_memslot *s,
				   uint64_t gfn, bool collapse);

/* ---- lib/ept/policy.c --------------------------------------------------- */

extern const sv_mmu_policy sv__policy_kvm, sv__policy_kvm_legacy;

/* ---- lib/ept/dirty.c ---------------------------------------------------- */

/* Memslot changes, after the memslot array has them. */
int sv__mmu_slot_created(sv_mmu *m, sv_memslot *s);
void sv__mmu_slot_removed(sv_mmu *m, const sv_memslot *s);
void sv__mmu_log_start(sv_mmu *m, sv_memslot *s);
void sv__mmu_log_stop(sv_mmu *m, sv_memslot *s);
void sv__mmu_gen_bump(sv_mmu *m);
/* mark_page_dirty_in_slot. */
void sv__mmu_mark_dirty(sv_mmu *m, sv_memslot *s, uint64_t gfn);
/* Page-modification log: one GPA whose EPT D flag went from 0 to 1. */
void sv__pml_log(sv_vcpu *v, uint64_t gpa);
void sv__pml_drain(sv_vcpu *v);

/* ---- lib/ept/notifier.c -------------------------------------------------- */

extern const sv_host_notifier_ops sv__mmu_notifier_ops;

/* ---- lib/audit.c ---------------------------------------------------------- */

void sv__audit(sv_mmu *m, sv_audit_kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* After a translated access: is its page still the host's at the slot's
 * hva, writable for a write?  (Audit on only.) */
void sv__audit_access(sv_vcpu *v, sv_access acc, const sv_xlate *x);
/* A new leaf SPTE: legal for the hardware, over one host mapping at least
 * its size, writable only over writable host memory. */
void sv__audit_spte(sv_mmu *m, const sv_memslot *s, uint64_t gfn,
		    unsigned level, uint64_t spte);

#endif /* SV_MMU_INTERNAL_H */
