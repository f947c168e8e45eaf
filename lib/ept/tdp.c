/*
 * lib/ept/tdp.c - the TDP MMU (arch/x86/kvm/mmu/tdp_mmu.c): mapping a
 * fault, zapping ranges, splitting huge SPTEs.  Every SPTE it changes goes
 * through sv_mmu__spte_set, every walk through the range iterator.
 *
 * How a fault is mapped (kvm_tdp_mmu_map), walking down the gfn's path:
 *  1. At the goal level, if the entry holds a table that was made because
 *     NX forbade a huge page, the goal drops a level
 *     (disallowed_hugepage_adjust).
 *  2. Above the goal: a present table is followed; a missing entry gets a
 *     new table linked; a huge leaf is split into a new table with its 512
 *     children (kernels 6.2+) or zapped with a flush (before).
 *  3. At the goal: the leaf from make_spte (an MMIO SPTE without a slot);
 *     the same value again is spurious; a present entry is zapped first
 *     (with a flush when it held a table).
 *  4. The rmap MMU (tdp_mmu=false) then prefetches the 4K fault's aligned
 *     group of 8 (direct_pte_prefetch).
 */
#include "ept/fault.h"

/* ---- zap and split ---------------------------------------------------------------- */

bool sv_tdp__zap_all(sv_mmu *m, unsigned as)
{
	uint64_t *root;
	bool any = false;
	unsigned i;

	if (!m->root[as])
		return false;
	root = sv_mmu__table(m, m->root[as]);
	for (i = 0; i < SV_PT_ENTRIES; i++) {
		any |= sv_spte__present(root[i]);
		sv_mmu__spte_set(m, as, &root[i],
				 i * sv_spte__level_pages(m->top), m->top, 0,
				 SV_SPTE_zap);
	}
	return any;
}

/* Replaces the huge leaf at ptr (at level, from gfn) by a new table of
 * its 512 children (the SPTE-change function fills it); false when out of
 * table pages. */
static bool split(sv_mmu *m, unsigned as, uint64_t *ptr, uint64_t gfn,
		  unsigned level)
{
	uint64_t table = sv_mmu__sp_alloc(m, gfn, level - 1);

	if (!table)
		return false;
	sv_mmu__spte_set(m, as, ptr, gfn, level, sv_spte__table(&m->b, table),
			 SV_SPTE_split);
	return true;
}

bool sv_tdp__split_to_4k(sv_mmu *m, unsigned as, uint64_t *ptr,
			 uint64_t gfn, unsigned level)
{
	uint64_t huge = *ptr, *t;
	unsigned i;

	if (level == 1 || !sv_spte__present(huge) ||
	    !sv_spte__leaf(&m->b, huge, level))
		return true;
	if (!split(m, as, ptr, gfn, level))
		return false;
	if (level - 1 == 1)
		return true;
	t = sv_mmu__table(m, *ptr & SPTE_ADDR);
	for (i = 0; i < SV_PT_ENTRIES; i++)
		if (!sv_tdp__split_to_4k(m, as, &t[i],
					 gfn + i * sv_spte__level_pages(level - 1),
					 level - 1))
			return false;
	return true;
}

/* ---- map ------------------------------------------------------------------------------ */

/*
 * direct_pte_prefetch, the rmap MMU's (kvm.tdp_mmu=0): after a 4K fault the
 * other absent SPTEs of its aligned group of 8 in the same table are
 * filled in where the host page is present and writable already (GUP-fast
 * faults nothing in).  Not without A/D flags (a prefetched SPTE is told
 * apart by its clear A flag), not while an invalidation is in progress,
 * not in a dirty-logged slot.
 */
static void direct_prefetch(sv_mmu *m, const sv_page_fault *f, uint64_t *table)
{
	const sv_memslot *s = f->slot;
	uint64_t gfn, first = f->gfn & ~7ULL;

	if (!m->ad || m->inv_in_progress || s->dirty)
		return;
	for (gfn = first; gfn < first + 8; gfn++) {
		uint64_t *p = &table[gfn & (SV_PT_ENTRIES - 1)];
		sv_host_leaf l;

		if (gfn == f->gfn || sv_spte__present(*p) ||
		    (gfn << 12) - s->gpa >= s->size)
			continue;
		if (sv_host_lookup(&l, m->host, sv_memslot__hva(s, gfn)) ||
		    !l.present || !l.writable)
			continue;
		sv_mmu__spte_set(m, f->as, p, gfn, 1,
				 sv_spte__make(&m->b, l.pfn, 1,
					       !(s->flags & SV_MEMSLOT_READONLY)) &
					 ~m->b.a,
				 SV_SPTE_prefetch);
	}
}

/* Step 2 for an entry above the goal that is not a table: a new table
 * below it (the huge leaf it held split into it, or zapped). */
static bool link_table(sv_mmu *m, sv_page_fault *f, const sv_pt_iter *it)
{
	uint64_t gfn = it->addr >> 12, e = *it->ptr, table;

	if (sv_spte__present(e) && m->opts.split_on_fault) {
		if (!split(m, f->as, it->ptr, gfn, it->level))
			return false;
		sv_vcpu__charge(f->v, m->vm->opts.costs.pf_split);
		table = *it->ptr & SPTE_ADDR;
	} else {
		table = sv_mmu__sp_alloc(m, gfn, it->level - 1);
		if (!table)
			return false;
		if (sv_spte__present(e)) {
			/* before 6.2: the huge SPTE goes, with a flush */
			sv_mmu__spte_set(m, f->as, it->ptr, gfn, it->level, 0,
					 SV_SPTE_zap);
			sv_mmu__flush_remote(m);
		}
		sv_mmu__spte_set(m, f->as, it->ptr, gfn, it->level,
				 sv_spte__table(&m->b, table), SV_SPTE_link);
	}
	sv_mmu__sp(m, table)->nx = f->huge_disallowed;
	if (f->huge_disallowed && f->req_level >= it->level)
		m->vm->stat[SV_VM_STAT_nx_lpage_splits]++;
	return true;
}

sv_pf_ret sv_tdp__map(sv_mmu *m, sv_page_fault *f)
{
	const sv_spte_bits *b = &m->b;
	sv_pt_iter it;
	uint64_t e = 0, n;

	sv_mmu__for_each(&it, m, f->as, f->gfn, f->gfn + 1, 1) {
		e = *it.ptr;
		/* Step 1: disallowed_hugepage_adjust */
		if (m->opts.nx_huge_pages && it.level > 1 &&
		    it.level == f->goal_level && sv_spte__present(e) &&
		    !sv_spte__leaf(b, e, it.level) &&
		    sv_mmu__sp(m, e & SPTE_ADDR)->nx)
			f->goal_level--;
		if (it.level == f->goal_level)
			break;
		/* Step 2 */
		if (!sv_spte__present(e) || sv_spte__leaf(b, e, it.level))
			if (!link_table(m, f, &it))
				return PF_EFAULT;
	}

	/* Step 3: the leaf (with MMIO caching off, none for MMIO). */
	if (!f->slot && !m->opts.mmio_caching)
		return PF_EMULATE;
	n = f->slot ? sv_spte__make(b, f->pfn, it.level, f->host_writable)
		    : sv_spte__mmio(b, m->gen);
	if (n == e)
		return PF_SPURIOUS;
	if (sv_spte__present(e)) {
		bool table_gone = !sv_spte__leaf(b, e, it.level);

		sv_mmu__spte_set(m, f->as, it.ptr, it.addr >> 12, it.level, 0,
				 SV_SPTE_zap);
		if (table_gone)
			sv_mmu__flush_remote(m);
	}
	sv_mmu__spte_set(m, f->as, it.ptr, it.addr >> 12, it.level, n,
			 SV_SPTE_install);
	if (!f->slot) {
		f->v->stat[SV_VCPU_STAT_pf_mmio_spte_created]++;
		return PF_EMULATE;
	}
	/* Step 4 */
	if (!m->opts.tdp_mmu && it.level == 1)
		direct_prefetch(m, f, it.tables[1]);
	return PF_FIXED;
}
