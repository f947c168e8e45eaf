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
#include "mmu.h"

/* The next memslot from index *i on (address space 0's, then SMM's) that
 * [start, end) (HVAs) overlaps, with the gfn range it covers; NULL when
 * there is none. */
static const sv_memslot *next_slot(const sv_vm *vm, guint *i, uint64_t start,
				   uint64_t end, uint64_t *gs, uint64_t *ge)
{
	const GArray *a0 = vm->memslots.slots, *a1 = vm->memslots_smm.slots;

	for (; *i < a0->len + a1->len; (*i)++) {
		const sv_memslot *s =
			*i < a0->len
				? &g_array_index(a0, sv_memslot, *i)
				: &g_array_index(a1, sv_memslot, *i - a0->len);
		uint64_t lo = start > s->hva ? start : s->hva;
		uint64_t hi = end < s->hva + s->size ? end : s->hva + s->size;

		if (lo < hi) {
			(*i)++;
			*gs = (s->gpa + (lo - s->hva)) >> 12;
			*ge = (s->gpa + (hi - s->hva) + 0xfff) >> 12;
			return s;
		}
	}
	return NULL;
}

static sv_rw_ret wrprot_fn(sv_mmu *m, uint64_t *ptr, unsigned level,
			   uint64_t gfn, void *ctx)
{
	bool *any = ctx;

	SV_UNUSED(gfn);
	if (!spte_leaf(m, *ptr, level))
		return RW_NEXT;
	if (*ptr & (m->b.w | m->b.mmu_w)) {
		*ptr &= ~(m->b.w | m->b.mmu_w);
		*any = true;
	}
	return RW_SKIP;
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
	while ((s = next_slot(vm, &i, r->start, r->end, &gs, &ge))) {
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
			sv__mmu_walk_range(m, s->as, gs, ge, 1, wrprot_fn,
					   &flush);
		else if (sv__mmu_zap_leafs(m, s->as, gs, ge))
			flush = true;
	}
	if (flush)
		sv__mmu_flush_remote(m);
}

static void inv_end(const sv_host_range *r, void *payload)
{
	sv_vm *vm = payload;
	sv_mmu *m = vm->mmu;
	uint64_t gs, ge;
	guint i = 0;

	if (!next_slot(vm, &i, r->start, r->end, &gs, &ge))
		return;
	m->inv_seq++;
	if (m->inv_in_progress)
		m->inv_in_progress--;
	/* An unmap or a move may have taken the bytes behind a slot. */
	if (r->event == SV_HOST_EVENT_UNMAP)
		sv__memslots_rebind(vm);
}

typedef struct age_ctx {
	sv_host_age_kind kind;
	bool young;
} age_ctx;

static sv_rw_ret age_fn(sv_mmu *m, uint64_t *ptr, unsigned level,
			uint64_t gfn, void *ctx)
{
	age_ctx *a = ctx;
	uint64_t e = *ptr;
	bool young;

	SV_UNUSED(gfn);
	if (!spte_leaf(m, e, level))
		return RW_NEXT;
	young = m->b.a ? (e & m->b.a) != 0 : (e & m->b.hw_present) != 0;
	if (!young)
		return RW_SKIP;
	a->young = true;
	if (a->kind == SV_AGE_TEST_YOUNG)
		return RW_SKIP;
	if (m->b.a) {
		*ptr = e & ~m->b.a;
	} else {
		/* mark_spte_for_access_track: R and X saved, RWX cleared;
		 * W comes back through the MMU-writable bit. */
		*ptr = (e & ~m->b.hw_present) |
		       ((e & (m->b.r | m->b.x)) << m->b.saved_shift);
	}
	return RW_SKIP;
}

static bool age(sv_host_age_kind kind, uint64_t start, uint64_t end,
		void *payload)
{
	sv_vm *vm = payload;
	sv_mmu *m = vm->mmu;
	age_ctx a = {kind, false};
	const sv_memslot *s;
	uint64_t gs, ge;
	guint i = 0;

	while ((s = next_slot(vm, &i, start, end, &gs, &ge)))
		sv__mmu_walk_range(m, s->as, gs, ge, 1, age_fn, &a);
	if (a.young)
		vm->stat[SV_VM_STAT_age_young]++;
	if (a.young && kind == SV_AGE_CLEAR_FLUSH_YOUNG)
		sv__mmu_flush_remote(m);
	return a.young;
}

static void release(void *payload)
{
	sv_vm *vm = payload;

	bool any = false;
	unsigned as;

	for (as = 0; as < 2; as++)
		any |= sv__mmu_zap_leafs(vm->mmu, as, 0, ~0ULL >> 12);
	if (any)
		sv__mmu_flush_remote(vm->mmu);
}

const sv_host_notifier_ops sv__mmu_notifier_ops = {
	SV_HOST_NOTIFIER_VERSION, inv_start, inv_end, age, release,
};
