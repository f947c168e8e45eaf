/*
 * lib/ept/dirty.c - dirty logging (arch/x86/kvm/x86.c
 * kvm_mmu_slot_apply_flags, mmu.c, tdp_mmu.c, virt/kvm/kvm_main.c
 * kvm_get_dirty_log_protect / kvm_clear_dirty_log_protect).
 *
 *  start   With manual protect and INITIALLY_SET: the bitmap is all ones
 *          and nothing is protected now (each CLEAR protects).  Otherwise
 *          eager split (every huge SPTE of the slot down to 4K, no flush),
 *          then PML: clear D on every leaf and write-protect huge ones;
 *          without PML: write-protect every leaf (W only, MMU-writable
 *          stays so the fast path can restore it); one flush.
 *  stop    6.13+: each table the policy would map huge is replaced in place
 *          by the huge SPTE (one flush at the end).  6.2-6.12: each such
 *          table is zapped with its own range flush; the guest refaults.
 *          Before 6.2: each collapsible 4K leaf is zapped, one flush.
 *  GET     Without manual protect: each non-zero word is taken and its
 *          pages protected again; one flush if any.  With it: a copy.
 *  CLEAR   Per 64-page word: the bits given and set are cleared and their
 *          pages protected (with eager split, the word's range is split
 *          first and huge SPTEs at its ends write-protected); one flush.
 * A page becomes dirty when a 4K SPTE over it becomes writable (the
 * SPTE-change function marks it) or when PML logs it (lib/ept/nested.c).
 */
#include "ept/mmu.h"
#include "ept/nested.h"

void sv_mmu__mark_dirty(sv_mmu *m, sv_memslot *s, uint64_t gfn)
{
	uint64_t i = gfn - (s->gpa >> 12);

	if (!s->dirty)
		return;
	if (!(s->dirty[i / 64] & (1ULL << (i % 64)))) {
		s->dirty[i / 64] |= 1ULL << (i % 64);
		m->vm->stat[SV_VM_STAT_dirty_marked]++;
	}
}

static uint64_t slot_words(const sv_memslot *s)
{
	return ((s->size >> 12) + 63) / 64;
}

static uint64_t slot_start(const sv_memslot *s)
{
	return s->gpa >> 12;
}

static uint64_t slot_end(const sv_memslot *s)
{
	return (s->gpa + s->size) >> 12;
}

/* ---- protection ------------------------------------------------------------------- */

typedef struct prot {
	bool huge_only;   /* only leaves above 4K */
	bool clear_d;     /* PML: clear D on 4K leaves instead of W */
	uint64_t base;    /* with mask: only the 4K leaves of gfns base + i */
	uint64_t mask;    /* for the bits i set in it (0: every leaf) */
} prot;

/* Write-protects (or, PML, cleans) the leaves of [start, end) at levels
 * down to min_level that c selects; true if any changed. */
static bool protect(sv_mmu *m, unsigned as, uint64_t start, uint64_t end,
		    unsigned min_level, const prot *c)
{
	const sv_spte_bits *b = &m->b;
	bool changed = false;
	sv_leaf_iter it;

	sv_mmu__for_each_leaf(&it, m, as, start, end, min_level) {
		uint64_t e = *it.ptr, gfn = it.gfn, n;

		if (c->huge_only && it.level == 1)
			continue;
		if (c->mask && (it.level > 1 || !((c->mask >> (gfn - c->base)) & 1)))
			continue;
		n = c->clear_d && it.level == 1 ? e & ~b->d : sv_spte__wrprot(b, e);
		if (n != e) {
			sv_mmu__spte_set(m, as, it.ptr, gfn, it.level, n,
					 SV_SPTE_wrprot);
			changed = true;
		}
	}
	return changed;
}

/* Eager page split: every huge leaf of [start, end) down to 4K. */
static void split_range(sv_mmu *m, unsigned as, uint64_t start, uint64_t end)
{
	sv_pt_iter it;

	sv_mmu__for_each(&it, m, as, start, end, 2) {
		uint64_t e = *it.ptr;

		if (it.level > 1 && sv_spte__present(e) &&
		    sv_spte__leaf(&m->b, e, it.level)) {
			sv_tdp__split_to_4k(m, as, it.ptr, it.addr >> 12, it.level);
			sv_pt__iter_skip_children(&it);
		}
	}
}

/* Protects [start, end) of address space as for logging: PML clears D
 * (and write-protects huge leaves), else every leaf loses W.  True if
 * anything changed. */
static bool protect_range(sv_mmu *m, unsigned as, uint64_t start,
			  uint64_t end)
{
	const prot huge = {.huge_only = true};
	const prot all = {.clear_d = m->opts.pml};
	bool changed = false;

	if (m->opts.pml)
		changed = protect(m, as, start, end, 1, &huge);
	return protect(m, as, start, end, 1, &all) || changed;
}

void sv_mmu__log_start(sv_mmu *m, sv_memslot *s)
{
	uint64_t words = slot_words(s);

	s->dirty = g_try_new0(uint64_t, words);
	if (m->opts.audit)
		s->written = g_try_new0(uint64_t, words);
	if (!s->dirty)
		return;
	m->logging++;
	if (m->opts.manual_protect && m->opts.initially_set) {
		uint64_t i, pages = s->size >> 12;

		for (i = 0; i < words; i++)
			s->dirty[i] = ~0ULL;
		if (pages % 64)
			s->dirty[words - 1] = (1ULL << (pages % 64)) - 1;
		return;
	}
	/* eager splitting is the TDP MMU's: the shadow MMU only protects */
	if (m->opts.eager_page_split && !m->shadow)
		split_range(m, s->as, slot_start(s), slot_end(s));
	protect_range(m, s->as, slot_start(s), slot_end(s));
	sv_mmu__flush_remote(m);
}

/* ---- stopping: collapse ------------------------------------------------------------- */

/* The first present leaf of [start, end), or 0. */
static uint64_t first_leaf(sv_mmu *m, unsigned as, uint64_t start,
			   uint64_t end)
{
	sv_pt_iter it;

	sv_mmu__for_each(&it, m, as, start, end, 1)
		if (sv_spte__present(*it.ptr) &&
		    sv_spte__leaf(&m->b, *it.ptr, it.level))
			return *it.ptr;
	return 0;
}

/* 6.2+: each table at 2M and above that may be mapped huge is zapped
 * (6.2-6.12) or replaced by the huge leaf in place (6.13+); true if a
 * flush is owed at the end. */
static bool collapse_tables(sv_mmu *m, const sv_memslot *s)
{
	bool any = false;
	sv_pt_iter it;

	sv_mmu__for_each(&it, m, s->as, slot_start(s), slot_end(s), 2) {
		uint64_t e = *it.ptr, gfn = it.addr >> 12, span, huge;

		if (!sv_spte__present(e) || sv_spte__leaf(&m->b, e, it.level))
			continue;
		span = sv_spte__level_pages(it.level);
		/* The whole range of the entry must lie in the slot. */
		if (gfn < slot_start(s) || gfn + span > slot_end(s) ||
		    sv_mmu__max_mapping_level(m, s, gfn, true) < it.level)
			continue;
		if (!m->opts.recover_in_place) {
			/* kvm_tdp_mmu_zap_collapsible_sptes: zap, flush the
			 * range */
			sv_mmu__spte_set(m, s->as, it.ptr, gfn, it.level, 0,
					 SV_SPTE_zap);
			if (m->opts.bugs & SV_BUG_BASE_FLUSH)
				sv_mmu__flush_base(m, gfn);
			else
				sv_mmu__flush_remote(m);
			continue;
		}
		/* kvm_mmu_recover_huge_pages: any present leaf below gives
		 * the frame (rounded down to the huge page, which the policy
		 * found to be one host mapping) and the bits; the huge SPTE
		 * replaces the table at once. */
		huge = first_leaf(m, s->as, gfn, gfn + span);
		if (!huge)
			continue;
		sv_mmu__spte_set(m, s->as, it.ptr, gfn, it.level,
				 sv_spte__huge_from(&m->b, huge, it.level),
				 SV_SPTE_recover);
		if (m->opts.bugs & SV_BUG_BASE_FLUSH)
			sv_mmu__flush_base(m, gfn);
		else
			any = true; /* one flush when the walk is done */
	}
	return any;
}

/* Before 6.2, and always in the shadow MMU: every 4K leaf whose gfn could
 * be mapped huge is zapped (the shadow MMU's only in direct shadow pages:
 * a leaf that shadows a 4K guest PTE cannot be huge). */
static bool collapse_leaves(sv_mmu *m, const sv_memslot *s)
{
	bool any = false;
	sv_leaf_iter it;

	sv_mmu__for_each_leaf(&it, m, s->as, slot_start(s), slot_end(s), 1) {
		uint64_t gfn = it.gfn;

		if (it.level != 1 ||
		    (m->shadow && !sv_mmu__sp_of(m, it.ptr)->direct) ||
		    sv_mmu__max_mapping_level(m, s, gfn, true) <= 1)
			continue;
		sv_mmu__spte_set(m, s->as, it.ptr, gfn, 1, 0, SV_SPTE_zap);
		any = true;
	}
	return any;
}

void sv_mmu__log_stop(sv_mmu *m, sv_memslot *s)
{
	unsigned i;
	bool flush;

	for (i = 0; i < m->vm->opts.vcpus; i++)
		sv_nested__pml_drain(sv_vm_vcpu(m->vm, i));
	if (s->dirty)
		m->logging--;
	g_free(s->dirty);
	g_free(s->written);
	s->dirty = NULL;
	s->written = NULL;
	if (m->shadow || (!SV_GATE(COLLAPSE_TABLES, m->opts.kernel_version) &&
			  !m->opts.recover_in_place))
		flush = collapse_leaves(m, s);
	else
		flush = collapse_tables(m, s);
	if (flush)
		sv_mmu__flush_remote(m);
}

/* ---- GET and CLEAR ------------------------------------------------------------------- */

/* kvm_arch_mmu_enable_log_dirty_pt_masked for the pages in mask of the
 * word starting at page `first` of the slot. */
static bool protect_masked(sv_mmu *m, const sv_memslot *s, uint64_t first,
			   uint64_t mask)
{
	uint64_t base = slot_start(s) + first;
	uint64_t lo = base + (uint64_t)__builtin_ctzll(mask);
	uint64_t hi = base + 63 - (uint64_t)__builtin_clzll(mask);
	const prot pages = {.clear_d = m->opts.pml, .base = base, .mask = mask};
	const prot huge = {.huge_only = true};
	bool changed = false;

	if (m->opts.manual_protect && m->opts.initially_set) {
		if (m->opts.eager_page_split && !m->shadow)
			split_range(m, s->as, lo, hi + 1);
		changed = protect(m, s->as, lo, lo + 1, 2, &huge);
		if ((lo >> 9) != (hi >> 9))
			changed |= protect(m, s->as, hi, hi + 1, 2, &huge);
	}
	/* the 4K leaves of the pages in mask (huge ones were handled above) */
	return protect(m, s->as, lo, hi + 1, 1, &pages) || changed;
}

static int dirty_slot(sv_vm *vm, uint32_t id, sv_memslot **out)
{
	sv_memslot *s;
	unsigned i;

	if (!vm)
		return sv_err__set(NULL, SV_EINVAL, "dirty log: NULL vm");
	if (!vm->mmu)
		return sv_err__set(vm, SV_ENOTSUP, "dirty log: no MMU attached");
	s = sv_memslots__by_id(sv_vm__memslots(vm, id >> 16), id);
	if (!s || !s->dirty)
		return sv_err__set(vm, SV_ENOENT,
				   "dirty log: memslot %u %s (KVM: ENOENT)", id,
				   s ? "does not log dirty pages" : "does not exist");
	for (i = 0; i < vm->opts.vcpus; i++)
		sv_nested__pml_drain(sv_vm_vcpu(vm, i));
	*out = s;
	return SV_OK;
}

/* Auditor: pages written but absent from what the user is handed. */
static void audit_harvest(sv_mmu *m, sv_memslot *s, uint64_t w,
			  uint64_t handed)
{
	uint64_t lost = s->written[w] & ~handed;

	if (lost)
		sv_audit__report(m, SV_AUDIT_lost_dirty,
				 "memslot %u: gpa 0x%" PRIx64 " written during "
				 "dirty logging but not in the bitmap",
				 s->id,
				 s->gpa + ((w * 64 +
					    (uint64_t)__builtin_ctzll(lost)) << 12));
	s->written[w] &= ~handed;
}

int sv_mmu_get_dirty_log(sv_vm *vm, uint32_t slot, uint64_t *bitmap)
{
	sv_mmu *m;
	sv_memslot *s;
	uint64_t w, words;
	bool flush = false;
	int rc;

	sv_err__clear();
	rc = dirty_slot(vm, slot, &s);
	if (rc)
		return rc;
	if (!bitmap)
		return sv_err__set(vm, SV_EINVAL, "dirty log: NULL bitmap");
	m = vm->mmu;
	words = slot_words(s);
	for (w = 0; w < words; w++) {
		uint64_t mask = s->dirty[w];

		bitmap[w] = mask;
		if (s->written)
			audit_harvest(m, s, w, mask);
		if (m->opts.manual_protect || !mask)
			continue;
		s->dirty[w] = 0;
		protect_masked(m, s, w * 64, mask);
		flush = true;
	}
	if (flush)
		sv_mmu__flush_remote(m);
	return SV_OK;
}

int sv_mmu_clear_dirty_log(sv_vm *vm, uint32_t slot, uint64_t first_page,
			   uint64_t num_pages, const uint64_t *bitmap)
{
	sv_mmu *m;
	sv_memslot *s;
	uint64_t w, pages;
	bool flush = false;
	int rc;

	sv_err__clear();
	rc = dirty_slot(vm, slot, &s);
	if (rc)
		return rc;
	m = vm->mmu;
	pages = s->size >> 12;
	if (!m->opts.manual_protect)
		return sv_err__set(vm, SV_EINVAL,
				   "clear dirty log: needs manual protect (KVM: "
				   "EINVAL)");
	if (!bitmap || first_page % 64 || first_page > pages ||
	    num_pages > pages - first_page ||
	    (num_pages % 64 && first_page + num_pages != pages))
		return sv_err__set(vm, SV_EINVAL,
				   "clear dirty log: pages [%" PRIu64 ", +%" PRIu64
				   ") of %" PRIu64 ": the first must be a multiple "
				   "of 64, the count too unless it reaches the end",
				   first_page, num_pages, pages);
	for (w = 0; w < (num_pages + 63) / 64; w++) {
		uint64_t word = first_page / 64 + w;
		uint64_t mask = s->dirty[word] & bitmap[w];

		if (!mask)
			continue;
		s->dirty[word] &= ~mask;
		protect_masked(m, s, word * 64, mask);
		flush = true;
	}
	if (flush)
		sv_mmu__flush_remote(m);
	return SV_OK;
}
