/*
 * lib/tlb/tlb.h - set-associative translation caches.
 *
 * One structure serves every cache of a vCPU: the combined TLBs (L1 I/D per
 * page size, STLB), the guest paging-structure caches, the guest-physical
 * TLB and the nested page-walk cache.  An entry maps an address prefix
 * (addr >> shift) under a tag (VPID or ASID, PCID, EP4TA) to a physical
 * address; arrays that hold several page sizes index each size by its own
 * prefix.  Lookups compare tags exactly, with global combined entries
 * matching any PCID, as the SDM's "Caching Translation Information"
 * describes.
 */
#ifndef SV_TLB_H
#define SV_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "simvirt/config.h"
#include "simvirt/vcpu.h"

/* The largest geometry an array may have. */
#define SV_TLB_MAX_SETS 65536
#define SV_TLB_MAX_WAYS 64

/* Guest and nested permissions kept in a walk and in a TLB entry. */
enum {
	SV_PERM_W = 1 << 0,  /* guest: R/W set at every level */
	SV_PERM_U = 1 << 1,  /* guest: U/S set at every level */
	SV_PERM_X = 1 << 2,  /* guest: no XD at any level */
	SV_PERM_NR = 1 << 3, /* nested: readable */
	SV_PERM_NW = 1 << 4, /* nested: writable */
	SV_PERM_NX = 1 << 5, /* nested: executable */
	SV_PERM_NU = 1 << 6, /* nested (NPT): user at every level */
};

/* May a translation whose nested permissions are `perm` serve the access?
 * Every NPT access is a user access (APM "Nested Paging"), so NPT also
 * needs U/S at every level; EPT translations always carry SV_PERM_NU. */
static inline bool sv_tlb__nested_allows(uint8_t perm, sv_access acc)
{
	static const uint8_t need[3] = {
		SV_PERM_NR | SV_PERM_NU, SV_PERM_NW | SV_PERM_NU,
		SV_PERM_NX | SV_PERM_NU,
	};

	return (perm & need[acc]) == need[acc];
}

enum {
	SV_TLBE_VALID = 1 << 0,
	SV_TLBE_GLOBAL = 1 << 1,
	SV_TLBE_DIRTY = 1 << 2, /* writes may hit without a walk */
};

typedef struct sv_tlbe {
	uint64_t vpn;    /* addr >> shift */
	uint64_t target; /* HPA of the page base, or of the next table */
	uint64_t gpa;    /* GPA of the page base, or of the next table */
	uint64_t ep4ta;
	uint64_t stamp;  /* LRU: last use; FIFO: fill time */
	uint16_t vpid;
	uint16_t pcid;
	uint8_t shift;
	uint8_t flags;
	uint8_t perm;    /* SV_PERM_* of the translation */
	uint8_t kind;    /* sv_tlb_kind */
} sv_tlbe;

typedef struct sv_tlb_arr {
	sv_tlbe *e;      /* sets * ways entries, set-major */
	uint32_t sets, ways;
	uint8_t kind;    /* sv_tlb_kind */
	uint8_t nshifts;
	uint8_t shifts[3];
} sv_tlb_arr;

typedef struct sv_tlb {
	sv_tlb_arr arr[SV_TLB__COUNT];
	uint32_t present;       /* SV_TLB_BIT(a) for every array with entries */
	uint64_t clock;
	uint64_t rng;
	sv_tlb_replacement repl;
	sv_tlb_conflict conflict;
} sv_tlb;

typedef struct sv_tlb_key {
	uint64_t ep4ta;
	uint16_t vpid;
	uint16_t pcid;
} sv_tlb_key;

#define SV_TLB_BIT(a) (1u << (a))
#define SV_TLB_PSC_ARRAYS                                          \
	(SV_TLB_BIT(SV_TLB_psc_pml5) | SV_TLB_BIT(SV_TLB_psc_pml4) | \
	 SV_TLB_BIT(SV_TLB_psc_pdpt) | SV_TLB_BIT(SV_TLB_psc_pd))
#define SV_TLB_NPWC_ARRAYS                                         \
	(SV_TLB_BIT(SV_TLB_npwc_l5) | SV_TLB_BIT(SV_TLB_npwc_l4) |   \
	 SV_TLB_BIT(SV_TLB_npwc_l3) | SV_TLB_BIT(SV_TLB_npwc_l2))

/* Does any of the arrays in the SV_TLB_BIT mask exist?  (Lets a walk skip
 * the lookups and fills of a cache the configuration leaves out.) */
static inline bool sv_tlb__any(const sv_tlb *t, uint32_t arrays)
{
	return (t->present & arrays) != 0;
}

int sv_tlb__init(sv_tlb *t, const sv_tlb_config *cfg, uint64_t seed);
void sv_tlb__fini(sv_tlb *t);

/* The entry of array a that maps addr at page shift `shift`, or NULL. */
static inline sv_tlbe *sv_tlb__find(sv_tlb *t, sv_tlb_array a,
				    const sv_tlb_key *k, uint64_t addr,
				    unsigned shift)
{
	sv_tlb_arr *r = &t->arr[a];
	uint64_t vpn = addr >> shift;
	sv_tlbe *e;
	uint32_t w;

	if (!r->sets)
		return NULL;
	e = &r->e[(vpn & (r->sets - 1)) * r->ways];
	for (w = 0; w < r->ways; w++, e++)
		if ((e->flags & SV_TLBE_VALID) && e->vpn == vpn &&
		    e->shift == shift && e->vpid == k->vpid &&
		    e->ep4ta == k->ep4ta &&
		    (e->pcid == k->pcid || (e->flags & SV_TLBE_GLOBAL)))
			return e;
	return NULL;
}

/*
 * The walk caches (guest paging-structure caches, nested page-walk cache)
 * keep one array per level, by_level[l] caching level-l entries.  Returns
 * the entry of the lowest level from 2 up to top that holds addr, with its
 * level in *level, or NULL: a walk restarts below the lowest hit.
 */
static inline sv_tlbe *sv_tlb__lowest(sv_tlb *t, const sv_tlb_array *by_level,
				      unsigned top, const sv_tlb_key *k,
				      uint64_t addr, unsigned *level)
{
	unsigned l;

	for (l = 2; l <= top; l++) {
		sv_tlbe *e = sv_tlb__find(t, by_level[l], k, addr, 12 + 9 * (l - 1));

		if (e) {
			*level = l;
			return e;
		}
	}
	return NULL;
}

/* Every entry of array a that maps addr, one per page size it holds;
 * returns how many (0..3). */
static inline unsigned sv_tlb__probe(sv_tlb *t, sv_tlb_array a,
				     const sv_tlb_key *k, uint64_t addr,
				     sv_tlbe **hits)
{
	const sv_tlb_arr *r = &t->arr[a];
	unsigned i, n = 0;

	if (!r->sets)
		return 0;
	for (i = 0; i < r->nshifts; i++) {
		sv_tlbe *e = sv_tlb__find(t, a, k, addr, r->shifts[i]);

		if (e)
			hits[n++] = e;
	}
	return n;
}

/*
 * Looks addr up in a group of arrays probed together (an L1 of every page
 * size, say).  *matches says how many entries matched: more than one, of
 * different page sizes, is a multi-match (a TLB conflict), resolved by
 * the TLB's conflict policy: the smaller or the larger entry, or NULL for
 * a machine check or an abort.  One match is returned as it is; none is
 * NULL.
 */
static inline sv_tlbe *sv_tlb__lookup(sv_tlb *t, const sv_tlb_array *arrays,
				      unsigned n, const sv_tlb_key *k,
				      uint64_t addr, unsigned *matches)
{
	sv_tlbe *hits[6], *best;
	unsigned i, nh = 0;

	for (i = 0; i < n; i++)
		nh += sv_tlb__probe(t, arrays[i], k, addr, hits + nh);
	*matches = nh;
	if (nh <= 1)
		return nh ? hits[0] : NULL;
	if (t->conflict == SV_TLB_CONFLICT_MCE ||
	    t->conflict == SV_TLB_CONFLICT_ABORT)
		return NULL;
	best = hits[0];
	for (i = 1; i < nh; i++) {
		bool smaller = hits[i]->shift < best->shift;

		if (smaller == (t->conflict == SV_TLB_CONFLICT_USE_SMALLER))
			best = hits[i];
	}
	return best;
}

/* Marks an entry used (LRU only). */
static inline void sv_tlb__touch(sv_tlb *t, sv_tlbe *e)
{
	if (t->repl == SV_TLB_LRU)
		e->stamp = ++t->clock;
}

sv_tlbe *sv_tlb__fill_present(sv_tlb *t, sv_tlb_array a, const sv_tlbe *proto);

/*
 * Puts *proto (flags must include VALID) into array a: over an entry with
 * the same tag and size if there is one, else into a free way, else over
 * the victim the replacement policy picks.  Returns the entry, or NULL if
 * the array is absent.
 */
static inline sv_tlbe *sv_tlb__fill(sv_tlb *t, sv_tlb_array a,
				    const sv_tlbe *proto)
{
	if (!t->arr[a].sets)
		return NULL;
	return sv_tlb__fill_present(t, a, proto);
}

static inline void sv_tlb__drop(sv_tlbe *e)
{
	e->flags = 0;
}

/* Which entries an invalidation drops. */
/* Entry kinds for sv_tlb_filter.kinds. */
#define SV_TLBK_COMBINED (1u << SV_TLBE_COMBINED)
#define SV_TLBK_PSC (1u << SV_TLBE_PSC)
#define SV_TLBK_NESTED ((1u << SV_TLBE_GUEST_PHYSICAL) | (1u << SV_TLBE_NPWC))
#define SV_TLBK_ALL (SV_TLBK_COMBINED | SV_TLBK_PSC | SV_TLBK_NESTED)

typedef struct sv_tlb_filter {
	unsigned kinds;       /* 1 << sv_tlb_kind */
	bool by_vpid;         /* else any VPID */
	uint16_t vpid;
	bool skip_vpid0;      /* INVVPID all-context spares VPID 0 */
	bool by_pcid;         /* else any PCID */
	uint16_t pcid;
	bool pcid_or_global;  /* with by_pcid: global entries match too */
	bool keep_global;
	bool by_ep4ta;
	uint64_t ep4ta;
	bool by_addr;         /* only entries that cover addr */
	uint64_t addr;
	bool by_gpa;          /* only entries whose guest-physical page */
	uint64_t gpa;         /* (or next table) covers gpa */
} sv_tlb_filter;

/* Drops every matching entry; returns how many. */
unsigned sv_tlb__invalidate(sv_tlb *t, const sv_tlb_filter *f);

void sv_tlb__foreach(const sv_tlb *t, sv_tlb_visit_fn fn, void *payload);

#endif /* SV_TLB_H */
