/*
 * lib/ept/mmu.h - the hypervisor MMU's state and the operations its units
 * share: table pages, the one function every SPTE change goes through,
 * walks over the SPTE tables, remote flushes, the memslot-facing
 * functions and the auditor.  Nothing here is installed.
 *
 * The units of lib/ept:
 *  spte.[ch]    the SPTE format
 *  mmu.c        attach, the SPTE-change function, table pages, flushes,
 *               memslot changes, queries
 *  fault.[ch]   the fault descriptor and the exit handler (fast path,
 *               fault-in, sizing)
 *  tdp.c        the TDP MMU: map, zap, split, recover
 *  dirty.c      dirty logging
 *  notifier.c   the MMU-notifier handlers
 *  policy.c     huge-page sizing policies
 *  nested.c     the hardware's nested walk (and PML)
 *  audit.c      the auditor
 *  shadow.c     the shadow MMU: shadow pages, its map, the rmap
 * The shadow MMU sits beside tdp.c and shares the rest: the walks over a
 * gfn range that want only leaves (sv_mmu__for_each_leaf) go through the
 * rmap under it.
 */
#ifndef SV_EPT_MMU_H
#define SV_EPT_MMU_H

#include "cpu/vcpu.h"
#include "ept/spte.h"
#include "gates.h"
#include "vm.h"

/* Per table page (KVM's struct kvm_mmu_page, the parts used here). */
typedef struct sv_sp {
	uint64_t gfn;      /* first gfn the table maps (shadow MMU, indirect:
			      the gfn of the guest table it shadows) */
	uint8_t level;     /* level of its entries */
	uint8_t nx;        /* made because NX forbade a huge page */
	/* Shadow MMU: a direct page (gfns follow from gfn, as in TDP) or
	 * an indirect one (it shadows the guest table at gfn; gfns[] is the
	 * gfn each leaf maps, KVM's shadowed_translation). */
	uint8_t direct;
	uint8_t unsync;    /* shadow MMU: the guest may write its table */
	uint8_t flood;     /* shadow MMU: emulated writes since its last use */
	void *parents;     /* shadow MMU: the entries that link it (one
			      pointer, or a tagged list: lib/ept/rmap.c) */
	uint64_t *gfns;
} sv_sp;

typedef struct sv_mmu {
	sv_vm *vm;
	sv_host *host;
	sv_mmu_options opts;           /* SV_BY_VERSION resolved */
	const sv_mmu_policy *policy;
	sv_spte_bits b;
	/* Walks the SPTE tables as the MMU sees them (MMU-present entries);
	 * fetch is the table frames. */
	sv_pt_walker walker;
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
	unsigned logging;              /* memslots with a dirty bitmap */
	sv_host_notifier_ops nops;
	GPtrArray *pfncaches;          /* sv_pfncache *, not owned */
	/* The auditor. */
	uint64_t audit[SV_AUDIT__COUNT];
	char *audit_first[SV_AUDIT__COUNT];
	/* The shadow MMU (lib/ept/shadow.c), when opts.mmu says so. */
	bool shadow;
	GHashTable *sps;               /* (gfn, level, direct) -> table hpa */
	GHashTable *rmap;              /* (level, gfn) -> the leaves over it */
	/* Guest page-table gfns the shadow pages follow, as counts of
	 * indirect shadow pages per gfn, per 2M and per 1G range (a huge
	 * SPTE may not cover one: it must stay write-protected). */
	GHashTable *shadowed[3];
	GArray *unsync;                /* table hpa of each unsync page */
	GQueue *active;                /* shadow pages, oldest first (hpa) */
	uint64_t sp_limit;             /* shadow pages at most (recycling) */
} sv_mmu;

void sv_mmu__free(sv_mmu *m);
/* kvmmap.c: drop the gfn-to-pfn caches over host [start, end); the MMU's
 * going away orphans them all. */
void sv_pfncache__invalidate(sv_mmu *m, uint64_t start, uint64_t end);
void sv_pfncache__orphan_all(sv_mmu *m);
/* The host process of the VM's MMU, or NULL without one. */
sv_host *sv_mmu__host_of(const sv_vm *vm);

/* ---- table pages ------------------------------------------------------------ */

static inline uint64_t *sv_mmu__table(const sv_mmu *m, uint64_t hpa)
{
	return sv_frames__ptr(&m->vm->tdp_frames, hpa);
}

static inline sv_sp *sv_mmu__sp(sv_mmu *m, uint64_t hpa)
{
	return &g_array_index(m->sp, sv_sp,
			      (hpa - m->vm->tdp_frames.base) >> 12);
}

/* The table page an entry at ptr is in. */
static inline sv_sp *sv_mmu__sp_of(sv_mmu *m, const uint64_t *ptr)
{
	const sv_frames *f = &m->vm->tdp_frames;

	return &g_array_index(m->sp, sv_sp,
			      (uint64_t)((const uint8_t *)ptr - f->mem) >> 12);
}

/* The host-physical address of the entry at ptr. */
static inline uint64_t sv_mmu__entry_hpa(const sv_mmu *m, const uint64_t *ptr)
{
	const sv_frames *f = &m->vm->tdp_frames;

	return f->base + (uint64_t)((const uint8_t *)ptr - f->mem);
}

/* The index of the entry at ptr in its table. */
static inline unsigned sv_mmu__entry_index(const uint64_t *ptr)
{
	return (unsigned)(((uintptr_t)ptr & 0xfff) >> 3);
}

/* A zeroed table page for the entries of `level` from gfn; 0 if none is
 * left. */
uint64_t sv_mmu__sp_alloc(sv_mmu *m, uint64_t gfn, unsigned level);
/* Frees a table page nothing links any more. */
void sv_mmu__sp_free(sv_mmu *m, uint64_t hpa);

/* ---- SPTE changes -------------------------------------------------------------- */

/*
 * Why an SPTE changes, and what sv_mmu__spte_set counts for it beside the
 * page counts.
 */
#define SV_SPTE_CHANGE_LIST(X)                                              \
	X(install, "the fault path's leaf (audited)")                      \
	X(prefetch, "a neighbour's leaf prefetched (spte_prefetch, audited)") \
	X(link, "a new table linked below a missing entry")                \
	X(zap, "removed (zap_leaf_4k/2m/1g or zap_table)")                 \
	X(split, "a huge leaf replaced by a new table of its children "    \
		 "(split_2m/1g)")                                            \
	X(recover, "a table replaced by a huge leaf (recover_2m/1g)")      \
	X(fix, "the fast path: write access or access tracking undone")    \
	X(wrprot, "write-protected for dirty logging (wrprot)")            \
	X(protect, "write-protected by a policy's notifier handler")       \
	X(age, "aged: A cleared or access-tracked")                        \
	X(free, "an entry of a table being freed")

typedef enum sv_spte_change {
#define SV__SPTE_CHANGE_ENUM(name, what) SV_SPTE_##name,
	SV_SPTE_CHANGE_LIST(SV__SPTE_CHANGE_ENUM)
#undef SV__SPTE_CHANGE_ENUM
} sv_spte_change;

/*
 * The one place an SPTE changes (KVM's tdp_mmu_set_spte and
 * handle_changed_spte).  Stores `n` in the entry at ptr, which maps from
 * gfn at `level` in address space as, and then:
 *  1. page counts: pages_4k/2m/1g follow every leaf that appears or goes;
 *  2. the counter of the reason (the list above);
 *  3. a table that is no longer linked is freed, its entries changed to
 *     not-present through here first (handle_removed_pt); a huge leaf
 *     split into the new (empty) table n points at fills it with its 512
 *     children first (they inherit what the huge leaf had);
 *  4. dirty tracking: a 4K leaf that becomes writable in a dirty-logged
 *     slot marks its gfn dirty (handle_changed_spte_dirty_log);
 *  5. the auditor checks a new leaf from the fault path or prefetch.
 * Storing the value already there does nothing.  The store and the page
 * counts are inline; the rest, which most changes do not need, is
 * sv_mmu__spte_changed.
 */
void sv_mmu__spte_changed(sv_mmu *m, unsigned as, uint64_t *ptr,
			  uint64_t gfn, unsigned level, uint64_t old,
			  uint64_t n, sv_spte_change why);

/* Step 3 for a split: the new table gets the huge leaf's children
 * (make_huge_page_split_spte), before it is linked: no TLB can hold them
 * yet, and they count at once. */
static inline void sv_mmu__split_fill(sv_mmu *m, uint64_t huge,
				      uint64_t table_spte, unsigned level)
{
	uint64_t *t = sv_mmu__table(m, table_spte & SPTE_ADDR);
	unsigned i;

	for (i = 0; i < SV_PT_ENTRIES; i++)
		t[i] = sv_spte__split_child(&m->b, huge, level, i);
	m->vm->stat[SV_VM_STAT_pages_4k + level - 2] += SV_PT_ENTRIES;
}

/* Step 3 of sv_mmu__spte_set: what the reason counts (why is a constant
 * at each call site, so all but one case go). */
static inline __attribute__((always_inline)) void
sv_mmu__count_change(sv_mmu *m, sv_spte_change why, uint64_t old,
		     unsigned level, bool was_leaf)
{
	uint64_t *stat = m->vm->stat;

	switch (why) {
	case SV_SPTE_zap:
		if (sv_spte__present(old))
			stat[was_leaf ? SV_VM_STAT_zap_leaf_4k + level - 1
				      : SV_VM_STAT_zap_table]++;
		break;
	case SV_SPTE_split:
		stat[level == 3 ? SV_VM_STAT_split_1g : SV_VM_STAT_split_2m]++;
		break;
	case SV_SPTE_recover:
		stat[level == 2 ? SV_VM_STAT_recover_2m : SV_VM_STAT_recover_1g]++;
		break;
	case SV_SPTE_prefetch:
		stat[SV_VM_STAT_spte_prefetch]++;
		break;
	case SV_SPTE_wrprot:
		stat[SV_VM_STAT_wrprot]++;
		break;
	default:
		break;
	}
}

_Static_assert(SV_VM_STAT_pages_2m == SV_VM_STAT_pages_4k + 1 &&
		       SV_VM_STAT_pages_1g == SV_VM_STAT_pages_4k + 2 &&
		       SV_VM_STAT_zap_leaf_2m == SV_VM_STAT_zap_leaf_4k + 1 &&
		       SV_VM_STAT_zap_leaf_1g == SV_VM_STAT_zap_leaf_4k + 2,
	       "pages_4k/2m/1g and zap_leaf_4k/2m/1g are indexed by level");

static inline __attribute__((always_inline)) void
sv_mmu__spte_set(sv_mmu *m, unsigned as, uint64_t *ptr, uint64_t gfn,
		 unsigned level, uint64_t n, sv_spte_change why)
{
	const sv_spte_bits *b = &m->b;
	uint64_t old = *ptr;
	bool was_leaf, is_leaf;

	if (n == old)
		return;
	if (why == SV_SPTE_split)
		sv_mmu__split_fill(m, old, n, level);
	*ptr = n;
	was_leaf = sv_spte__present(old) && sv_spte__leaf(b, old, level);
	is_leaf = sv_spte__present(n) && sv_spte__leaf(b, n, level);
	if (was_leaf != is_leaf)
		m->vm->stat[SV_VM_STAT_pages_4k + level - 1] += is_leaf ? 1 : -1;
	sv_mmu__count_change(m, why, old, level, was_leaf);
	/* the rest: a table unlinked, a page to mark dirty or a leaf to
	 * audit */
	if ((sv_spte__present(old) && !was_leaf) ||
	    (is_leaf && level == 1 && SV_UNLIKELY(m->logging) &&
	     (why == SV_SPTE_install || why == SV_SPTE_fix)) ||
	    (is_leaf && SV_UNLIKELY(m->opts.audit)) || SV_UNLIKELY(m->shadow))
		sv_mmu__spte_changed(m, as, ptr, gfn, level, old, n, why);
}

/* ---- walks over the SPTE tables ---------------------------------------------------- */

/*
 * for each entry of [start, end) (gfns) under address space as's root, at
 * levels from the top down to min_level (the range iterator of lib/pt.h
 * over the MMU's walker).  The body sees it.ptr, it.level and the entry's
 * first gfn (it.addr >> 12); sv_pt__iter_skip_children keeps the walk
 * from going below the entry.
 */
#define sv_mmu__for_each(it, m, as, start, end, min_level)                 \
	for (sv_mmu__iter_start(it, m, as, start, end, min_level);         \
	     (it)->valid; sv_pt__iter_next(it))
void sv_mmu__iter_start(sv_pt_iter *it, sv_mmu *m, unsigned as,
			uint64_t start, uint64_t end, unsigned min_level);

/*
 * for each present leaf SPTE over [start, end) (gfns) in address space as,
 * at levels min_level and up: it.ptr, it.level and the leaf's first gfn
 * it.gfn.  TDP: the range iterator; shadow MMU: the rmap (a guest page can
 * have several leaves, at several gvas).  The body may change or zap the
 * leaf it sees, nothing else.
 */
typedef struct sv_leaf_iter {
	bool valid;
	uint64_t *ptr;
	unsigned level;
	uint64_t gfn;
	/* the walk's state */
	sv_mmu *m;
	sv_pt_iter pt;
	uint64_t start, end, base;
	unsigned min_level;
	unsigned k;
} sv_leaf_iter;
#define sv_mmu__for_each_leaf(it, m, as, start, end, min_level)          \
	for (sv_mmu__leaf_start(it, m, as, start, end, min_level);       \
	     (it)->valid; sv_mmu__leaf_next(it))
void sv_mmu__leaf_start(sv_leaf_iter *it, sv_mmu *m, unsigned as,
			uint64_t start, uint64_t end, unsigned min_level);
void sv_mmu__leaf_next(sv_leaf_iter *it);

/* The lowest MMU-present SPTE on gfn's path under root, or the first
 * absent one, with its level. */
uint64_t *sv_mmu__leaf_ptr(sv_mmu *m, uint64_t root, uint64_t gfn,
			   unsigned *level);

/* ---- flushes --------------------------------------------------------------------- */

/* kvm_flush_remote_tlbs: every vCPU flushes at its next entry; counted as
 * a request, and as a remote flush when a vCPU had to be kicked. */
void sv_mmu__flush_remote(sv_mmu *m);
/* The flush SV_BUG_BASE_FLUSH leaves after a huge SPTE replaced the tables
 * of the block at gfn: every vCPU drops, at once, only what it caches for
 * the block's base address. */
void sv_mmu__flush_base(sv_mmu *m, uint64_t gfn);

/* ---- sizing, memslots ------------------------------------------------------------- */

/* The largest level gfn may be mapped at (kvm_mmu_max_mapping_level). */
unsigned sv_mmu__max_mapping_level(sv_mmu *m, const sv_memslot *s,
				   uint64_t gfn, bool collapse);
/* mark_page_dirty_in_slot. */
void sv_mmu__mark_dirty(sv_mmu *m, sv_memslot *s, uint64_t gfn);
/* The memslot generation moved (every memslot update). */
void sv_mmu__gen_bump(sv_mmu *m);
/* The root of address space as, made for the first vCPU that needs it;
 * 0 when no table page is left. */
uint64_t sv_mmu__root(sv_mmu *m, unsigned as);

/* Zaps every leaf of address space as intersecting [start, end) (gfns);
 * true if any was.  Either MMU. */
bool sv_mmu__zap_leafs(sv_mmu *m, unsigned as, uint64_t start, uint64_t end);
/* Zaps every leaf (the TDP MMU: everything below the root) of address
 * space as; true if anything was. */
bool sv_mmu__zap_all(sv_mmu *m, unsigned as);

/* ---- lib/ept/tdp.c ------------------------------------------------------------------ */

/* Zaps everything below the root of address space as. */
bool sv_tdp__zap_all(sv_mmu *m, unsigned as);
/* Splits the huge leaf at *ptr (mapping from gfn at level) down to 4K,
 * recursively; false if out of table pages. */
bool sv_tdp__split_to_4k(sv_mmu *m, unsigned as, uint64_t *ptr,
			 uint64_t gfn, unsigned level);

/* ---- lib/ept/shadow.c --------------------------------------------------------------- */

void sv_shadow__init(sv_mmu *m);
void sv_shadow__fini(sv_mmu *m);
/* The shadow-page limit, after a memslot change (kvm_mmu_change_mmu_pages
 * with KVM's default when the options give none). */
void sv_shadow__limit_update(sv_mmu *m);
/* lib/ept/rmap.c */
void sv_shadow__rmap_init(sv_mmu *m);
void sv_shadow__rmap_fini(sv_mmu *m);
/* An entry that links the shadow page sp (the first, or NULL). */
uint64_t *sv_shadow__first_parent(const sv_sp *sp);
void sv_shadow__parents_free(sv_sp *sp);

/* The first gfn the shadow MMU's leaf at ptr (at level) maps. */
static inline uint64_t sv_shadow__leaf_gfn(sv_mmu *m, const uint64_t *ptr,
					   unsigned level)
{
	const sv_sp *sp = sv_mmu__sp_of(m, ptr);
	unsigned i = sv_mmu__entry_index(ptr);

	if (sp->direct || !sp->gfns)
		return sp->gfn + i * sv_spte__level_pages(level);
	return sp->gfns[i];
}
/* sv_mmu__spte_changed's part for the shadow MMU (the rmap, parents,
 * spte_install_*). */
void sv_shadow__spte_changed(sv_mmu *m, uint64_t *ptr, uint64_t gfn,
			     unsigned level, uint64_t old, uint64_t n,
			     sv_spte_change why);
/* The leaf iterator's walk over the rmap. */
void sv_shadow__leaf_first(sv_leaf_iter *it, unsigned as);
void sv_shadow__leaf_next(sv_leaf_iter *it);
bool sv_shadow__zap_all(sv_mmu *m);
/* A leaf over gfn (the first the rmap has), with its level; NULL if none. */
uint64_t *sv_shadow__first_leaf(sv_mmu *m, uint64_t gfn, unsigned *level);
/* The guest's INVLPG (kvm_mmu_invlpg): an unsync leaf for gva goes. */
void sv_shadow__invlpg(sv_mmu *m, sv_vcpu *v, uint64_t gva);
/* Every unsync shadow page is synced with the guest's table (a MOV to
 * CR3: kvm_mmu_sync_roots). */
void sv_shadow__sync_all(sv_mmu *m);
/* An emulated write of the guest's to one of its write-protected page
 * tables at gpa (kvm_mmu_pte_write): the shadow entries of the written
 * guest entry go. */
void sv_shadow__pte_write(sv_mmu *m, uint64_t gpa);
/* The host-physical address of gpa (0 if its host page is not present). */
uint64_t sv_shadow__hpa_of(sv_mmu *m, uint64_t gpa);
/* For the vCPU's walk over the shadow tables: the root for its CR3
 * (kvm_mmu_new_pgd), and the guest-physical address a leaf maps gva to. */
void sv_shadow__load_root(sv_mmu *m, sv_vcpu *v);
uint64_t sv_shadow__gpa_of(sv_mmu *m, const uint64_t *leaf, unsigned level,
			   uint64_t gva);

/* ---- lib/ept/dirty.c ---------------------------------------------------------------- */

void sv_mmu__log_start(sv_mmu *m, sv_memslot *s);
void sv_mmu__log_stop(sv_mmu *m, sv_memslot *s);

/* ---- lib/ept/policy.c --------------------------------------------------------------- */

extern const sv_mmu_policy sv_policy__kvm, sv_policy__kvm_legacy;

/* ---- lib/ept/notifier.c -------------------------------------------------------------- */

extern const sv_host_notifier_ops sv_mmu__notifier_ops;

/* ---- lib/ept/audit.c ----------------------------------------------------------------- */

void sv_audit__report(sv_mmu *m, sv_audit_kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* After a translated access: is its page still the host's at the slot's
 * hva, writable for a write?  (Audit on only.) */
void sv_audit__access(sv_vcpu *v, sv_access acc, const sv_xlate *x);
/* A new leaf SPTE: legal for the hardware, over one host mapping at least
 * its size, writable only over writable host memory. */
void sv_audit__spte(sv_mmu *m, const sv_memslot *s, uint64_t gfn,
		    unsigned level, uint64_t spte);

#endif /* SV_EPT_MMU_H */
