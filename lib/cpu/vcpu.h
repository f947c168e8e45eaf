/*
 * lib/cpu/vcpu.h - the vCPU: its registers and mode, its TLBs and walk
 * caches, the fast path's remembered hits, its pending requests and its
 * counters (lib/cpu/vcpu.c, gwalk.c, invalidate.c).  Other modules change
 * a vCPU only through the functions below.
 */
#ifndef SV_CPU_VCPU_H
#define SV_CPU_VCPU_H

#include "cpu/dcache.h"
#include "memslots.h"
#include "pt.h"
#include "tlb/tlb.h"
#include "vm.h"

/*
 * An L1 hit remembered for the page it was on, so that the next access to
 * that page is counted without a lookup.  Two kinds, for data and for
 * fetches:
 *  - fast[]: the last L1 hit, by 4K page.  A repeat hit on the most
 *    recently used entry changes no replacement state, so it is counted
 *    inline, without touching the entry.
 *  - recent[]: the last few 4K pages hit, and huge[]: 2M ranges that a 2M
 *    or 1G entry maps with no L1 entry of another size anywhere in them,
 *    direct-mapped.  Both out of line: a hit there touches the entry as
 *    the array's own lookup would (streams that take turns over a few
 *    pages, and random accesses over huge pages, hit here).
 * An entry of another size that also maps a remembered page would make a
 * conflict; it can appear only with a fill, and every change to the L1
 * arrays (fill, drop, invalidation) or to the vCPU's mode forgets them
 * all: fast[] by its page, recent[] and huge[] by a new epoch.
 */
typedef struct sv_fast {
	uint64_t page;       /* gva >> 12 (huge[]: gva >> 21); fast[]: ~0 when empty */
	uint64_t gpa_base;   /* gpa of that page */
	uint64_t hpa_base;   /* hpa of that page */
	uint64_t page_size;  /* of the entry */
	sv_tlbe *entry;      /* the L1 entry that maps it */
	uint32_t epoch;      /* recent[] and huge[]: valid while the vCPU's */
	uint8_t allow;       /* 1 << sv_access for the kinds that may hit */
	uint8_t stat;        /* sv_vcpu_stat of the hit */
} sv_fast;
#define SV_FAST_RECENT 4
#define SV_FAST_HUGE 32

struct sv_vcpu {
	sv_vm *vm;
	unsigned index;
	sv_vcpu_regs regs;
	/* derived from regs */
	bool paging, wp, smep, smap, nxe, pge, pcide, user, ac, lma;
	uint16_t pcid;
	uint64_t ep4ta;        /* EPTP/nCR3 address bits */
	sv_pt_walker gwalker;  /* guest format and reserved bits for the mode */
	sv_pt_walker nwalker;  /* nested format and reserved bits */
	void *gwalk;           /* the guest walk in progress (gwalk.c) */
	uint64_t nwalk_gpa;    /* the GPA of the nested walk in progress */
	sv_walk_observer_fn observer;
	void *observer_payload;
	sv_tlb tlb;
	sv_fast fast[2];       /* [0] data, [1] fetch */
	sv_fast recent[2][SV_FAST_RECENT]; /* the same two kinds */
	sv_fast huge[2][SV_FAST_HUGE];
	uint8_t recent_next[2]; /* the slot the next one takes */
	uint32_t fast_epoch;   /* of recent[] and huge[]; never 0 */
	bool audit;            /* the MMU audits every access */
	bool slow_only;        /* observer, auditor or cache model: no fast path */
	/* Guest mode and requests (KVM's vcpu->mode and vcpu->requests). */
	bool in_guest;         /* a remote flush must kick it */
	bool req_flush;        /* KVM_REQ_TLB_FLUSH pending */
	bool smm;              /* in SMM: address space 1, its own root */
	/* The page-modification log (EPT PML), while the MMU uses it. */
	bool pml_on;
	unsigned pml_n;        /* entries in the log */
	uint64_t *pml;         /* 512 GPAs */
	sv_dcache *dcache;     /* the data-cache model, or NULL (off) */
	/* Shadow paging (the shadow MMU): the hardware walks the shadow
	 * table at sroot, which the MMU chose for the guest CR3 sroot_cr3
	 * (SV_SHADOW_NONPAGING with paging off); swalker reads it. */
	bool shadow;
	uint64_t sroot, sroot_cr3;
	sv_pt_walker swalker;
	uint64_t stat[SV_VCPU_STAT__COUNT];
};

/* ---- lib/cpu/vcpu.c ----------------------------------------------------- */

int sv_vcpu__new(sv_vcpu **out, sv_vm *vm, unsigned index);
void sv_vcpu__free(sv_vcpu *v);

/* Forgets the last hits only (the entries stay remembered as recent). */
static inline void sv_vcpu__fast_forget_last(sv_vcpu *v)
{
	v->fast[0].page = ~0ULL;
	v->fast[1].page = ~0ULL;
}

/* Forgets every remembered hit. */
static inline void sv_vcpu__fast_clear(sv_vcpu *v)
{
	sv_vcpu__fast_forget_last(v);
	if (SV_UNLIKELY(++v->fast_epoch == 0)) {
		/* a wrap: entries of epoch 1 could match again */
		memset(v->recent, 0, sizeof(v->recent));
		memset(v->huge, 0, sizeof(v->huge));
		v->fast_epoch = 1;
	}
}

/* The memslots the vCPU sees: SMRAM's address space while in SMM. */
static inline sv_memslots *sv_vcpu__memslots(sv_vcpu *v)
{
	return sv_vm__memslots(v->vm, v->smm);
}

/* Charges cycles to a vCPU. */
static inline void sv_vcpu__charge(sv_vcpu *v, uint64_t cycles)
{
	v->stat[SV_VCPU_STAT_cycles] += cycles;
}

/* Guest-physical lines of the guest's tables, kept apart from the
 * host-physical lines of data and nested tables in one cache. */
#define SV_DCACHE_GUEST_LINE (1ULL << 62)

/*
 * With the cache model on: a reference (ref) or data access to the 64-byte
 * line `line`, counted by the level that held it and charged that level's
 * cost beyond an L1D hit.  Returns the cycles charged.
 */
uint32_t sv_vcpu__dcache(sv_vcpu *v, uint64_t line, bool ref);
/* The references of a walk w of addr (its refs entries, from level
 * w->start down), through the cache model; the cycles charged. */
uint32_t sv_vcpu__dcache_walk(sv_vcpu *v, const sv_walk *w, uint64_t addr,
			      uint64_t tag);

/* Reports a walk step to the vCPU's observer, if it has one. */
static inline void sv_vcpu__observe(sv_vcpu *v, sv_walk_event_kind kind,
				    unsigned level, uint64_t addr, uint64_t table,
				    uint64_t entry)
{
	if (SV_UNLIKELY(v->observer != NULL)) {
		sv_walk_event ev = {kind, level, addr, table, entry};

		v->observer(&ev, v->observer_payload);
	}
}

/*
 * What the hypervisor MMU asks of a vCPU (KVM's requests and vCPU mode).
 *  request_flush  KVM_REQ_TLB_FLUSH: serviced at the next guest entry;
 *                 true when the vCPU is in guest mode and must be kicked.
 *  flush_gpa      drops at once what the vCPU caches for the 4K
 *                 guest-physical page at gpa (combined and nested entries).
 *  set_root       a new EPTP/nCR3 root (address-space switch): entries
 *                 tagged with the old one stay but cannot match.
 *  mmu_attached   the MMU's choices that the vCPU carries out: PML, and
 *                 an auditor that must see every access.
 */
bool sv_vcpu__request_flush(sv_vcpu *v);
void sv_vcpu__flush_gpa(sv_vcpu *v, uint64_t gpa);
void sv_vcpu__set_root(sv_vcpu *v, uint64_t root);
/* The shadow MMU's root for the guest CR3 `cr3` (shadow paging): the
 * vCPU's hardware walk starts there. */
#define SV_SHADOW_NONPAGING 1
void sv_vcpu__set_shadow_root(sv_vcpu *v, uint64_t root, uint64_t cr3);
int sv_vcpu__mmu_attached(sv_vcpu *v, bool pml, bool audit, bool shadow);
void sv_vcpu__mmu_detached(sv_vcpu *v);

/* ---- lib/cpu/invalidate.c ------------------------------------------------ */

/* Drops the vCPU's cached entries that f selects, counts them and forgets
 * the fast path's remembered hits. */
void sv_vcpu__drop(sv_vcpu *v, const sv_tlb_filter *f);

/* ---- lib/cpu/gwalk.c ------------------------------------------------------- */

/*
 * The full two-dimensional walk after a TLB miss.  On success fills *entry
 * with the combined TLB entry to cache (page size = the smaller of the
 * guest and nested pages) and returns true; otherwise fills *f.  Adds the
 * references it made to *refs.
 */
bool sv_gwalk__walk2d(sv_vcpu *v, uint64_t gva, sv_access acc, sv_tlbe *entry,
		      uint32_t *refs, sv_fault *f);

/* Does the guest part of a translation (SV_PERM_W/U/X) allow the access
 * in the vCPU's current mode (CPL, CR0.WP, CR4.SMEP/SMAP, RFLAGS.AC)? */
bool sv_gwalk__allows(const sv_vcpu *v, uint8_t perm, sv_access acc);
/* The same with CR0.WP as given (the shadow MMU asks with the guest's). */
bool sv_gwalk__allows_wp(const sv_vcpu *v, uint8_t perm, sv_access acc,
			 bool wp);

/* Sets up the vCPU's guest walker for its mode. */
void sv_gwalk__setup(sv_vcpu *v);

/*
 * Shadow paging: the hardware's one-dimensional walk of gva through the
 * shadow tables.  On success fills *entry as sv_gwalk__walk2d does;
 * otherwise *f is the #PF that exits to the shadow MMU
 * (SV_FAULT_SHADOW_PF) or a #GP.
 */
bool sv_gwalk__walk_shadow(sv_vcpu *v, uint64_t gva, sv_access acc,
			   sv_tlbe *entry, uint32_t *refs, sv_fault *f);
/* The guest permissions (SV_PERM_W/U/X) of a walk's AND and OR of
 * entries, in the vCPU's mode. */
uint8_t sv_gwalk__perm(const sv_vcpu *v, uint64_t and_bits, uint64_t or_bits);
/* Makes *f the guest #PF for gva (SDM error code) and drops what the
 * vCPU caches for gva, as a #PF does; counts pf_guest. */
void sv_gwalk__raise_pf(sv_vcpu *v, sv_fault *f, uint64_t gva, sv_access acc,
			unsigned level, bool present, bool rsvd);
/* Shadow paging: every cached translation goes (KVM_REQ_TLB_FLUSH). */
void sv_vcpu__flush_all(sv_vcpu *v);

#endif /* SV_CPU_VCPU_H */
