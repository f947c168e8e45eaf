/*
 * lib/ept/notifier.c - the MMU-notifier handlers (virt/kvm/kvm_main.c and
 * the TDP MMU's handlers behind them).
 *
 *  invalidate_start  For the memslots the HVA range overlaps: the first
 *                    start of a burst resets the in-progress gfn range,
 *                    each adds its gfns, in_progress rises; every leaf
 *                    SPTE intersecting the range is zapped (a huge one
 *                    whole, however little of it the range covers); one
 *                    remote flush if anything was zapped.  A policy with
 *                    on_invalidate may ask to write-protect instead.
 *  invalidate_end    For the same slots: seq rises, in_progress falls.
 *  age               clear_flush_young clears A (A/D off: access-tracks
 *                    the SPTE) and flushes if anything was young;
 *                    clear_young does not flush; test_young reads only.
 *  release           Zaps everything.
 * Events that touch no memslot change nothing, as in KVM.
 */
#include "ept/mmu.h"

/* A policy's SV_INV_WRPROT: the leaves of [start, end) lose W and
 * MMU-writable; true if any did. */
static bool wrprot_range(sv_mmu *m, unsigned as, uint64_t start, uint64_t end)
{
	const sv_spte_bits *b = &m->b;
	bool any = false;
	sv_leaf_iter it;

	sv_mmu__for_each_leaf(&it, m, as, start, end, 1) {
		uint64_t e = *it.ptr;

		if (!(e & (b->w | b->mmu_w)))
			continue;
		sv_mmu__spte_set(m, as, it.ptr, it.gfn, it.level,
				 e & ~(b->w | b->mmu_w), SV_SPTE_protect);
		any = true;
	}
	return any;
}

static void inv_start(const sv_host_range *r, void *payload)
{
	sv_vm *vm = payload;
	sv_mmu *m = vm->mmu;
	bool found = false, flush = false;
	const sv_memslot *s;
	uint64_t gs, ge;
	guint i = 0;

	vm->stat[SV_VM_STAT_invalidations]++;
	sv_pfncache__invalidate(m, r->start, r->end);
	while ((s = sv_memslots__next_hva(vm, &i, r->start, r->end, &gs, &ge))) {
		sv_mmu_inv_action act = SV_INV_ZAP;

		if (!found) {
			found = true;
			if (++m->inv_in_progress == 1) {
				m->inv_start = gs;
				m->inv_end = ge;
			}
		}
		if (gs < m->inv_start)
			m->inv_start = gs;
		if (ge > m->inv_end)
			m->inv_end = ge;
		if (m->policy->on_invalidate)
			act = m->policy->on_invalidate(r->event, gs, ge,
						       m->policy->payload);
		if (act == SV_INV_WRPROT)
			flush |= wrprot_range(m, s->as, gs, ge);
		else
			flush |= sv_mmu__zap_leafs(m, s->as, gs, ge);
	}
	if (flush)
		sv_mmu__flush_remote(m);
}

static void inv_end(const sv_host_range *r, void *payload)
{
	sv_vm *vm = payload;
	sv_mmu *m = vm->mmu;
	uint64_t gs, ge;
	guint i = 0;

	if (!sv_memslots__next_hva(vm, &i, r->start, r->end, &gs, &ge))
		return;
	m->inv_seq++;
	if (m->inv_in_progress)
		m->inv_in_progress--;
	/* An unmap or a move may have taken the bytes behind a slot. */
	if (r->event == SV_HOST_EVENT_UNMAP)
		sv_memslots__rebind(vm);
}

/* Ages the leaves of [start, end); true if any was young. */
static bool age_range(sv_mmu *m, unsigned as, uint64_t start, uint64_t end,
		      sv_host_age_kind kind)
{
	const sv_spte_bits *b = &m->b;
	bool young = false;
	sv_leaf_iter it;

	sv_mmu__for_each_leaf(&it, m, as, start, end, 1) {
		uint64_t e = *it.ptr;

		if (!sv_spte__young(b, e))
			continue;
		young = true;
		if (kind != SV_AGE_TEST_YOUNG)
			sv_mmu__spte_set(m, as, it.ptr, it.gfn, it.level,
					 sv_spte__age(b, e), SV_SPTE_age);
	}
	return young;
}

static bool age(sv_host_age_kind kind, uint64_t start, uint64_t end,
		void *payload)
{
	sv_vm *vm = payload;
	sv_mmu *m = vm->mmu;
	const sv_memslot *s;
	bool young = false;
	uint64_t gs, ge;
	guint i = 0;

	while ((s = sv_memslots__next_hva(vm, &i, start, end, &gs, &ge)))
		young |= age_range(m, s->as, gs, ge, kind);
	if (young)
		vm->stat[SV_VM_STAT_age_young]++;
	if (young && kind == SV_AGE_CLEAR_FLUSH_YOUNG)
		sv_mmu__flush_remote(m);
	return young;
}

static void release(void *payload)
{
	sv_vm *vm = payload;
	bool any = false;
	unsigned as;

	for (as = 0; as < 2; as++)
		any |= sv_mmu__zap_all(vm->mmu, as);
	if (any)
		sv_mmu__flush_remote(vm->mmu);
}

const sv_host_notifier_ops sv_mmu__notifier_ops = {
	.version = SV_HOST_NOTIFIER_VERSION,
	.invalidate_start = inv_start,
	.invalidate_end = inv_end,
	.age = age,
	.release = release,
};
