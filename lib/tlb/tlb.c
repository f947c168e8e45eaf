/*
 * lib/tlb/tlb.c - the set-associative arrays behind every cache.
 *
 * How it works:
 *  1. Each array is sets x ways entries; an address's set is its prefix at
 *     the entry's page size modulo the number of sets.
 *  2. A fill first reuses an entry with the same tag (a refill after a
 *     dirty-bit walk, say), then a free way, then the victim: the lowest
 *     stamp (LRU: last use, FIFO: fill time) or a seeded random way.
 *  3. Invalidation scans every entry and drops those its filter selects;
 *     it is rare next to lookups, so it favours clarity over speed.
 */
#include "base.h"
#include "tlb/tlb.h"

/* Which page sizes (address shifts) each array holds, and its kind. */
static const struct {
	uint8_t kind;
	uint8_t n;
	uint8_t shifts[3];
} layout[SV_TLB__COUNT] = {
	[SV_TLB_l1i_4k] = {SV_TLBE_COMBINED, 1, {12}},
	[SV_TLB_l1i_2m] = {SV_TLBE_COMBINED, 1, {21}},
	[SV_TLB_l1d_4k] = {SV_TLBE_COMBINED, 1, {12}},
	[SV_TLB_l1d_2m] = {SV_TLBE_COMBINED, 1, {21}},
	[SV_TLB_l1d_1g] = {SV_TLBE_COMBINED, 1, {30}},
	[SV_TLB_stlb] = {SV_TLBE_COMBINED, 2, {12, 21}},
	[SV_TLB_stlb_1g] = {SV_TLBE_COMBINED, 1, {30}},
	[SV_TLB_psc_pml5] = {SV_TLBE_PSC, 1, {48}},
	[SV_TLB_psc_pml4] = {SV_TLBE_PSC, 1, {39}},
	[SV_TLB_psc_pdpt] = {SV_TLBE_PSC, 1, {30}},
	[SV_TLB_psc_pd] = {SV_TLBE_PSC, 1, {21}},
	[SV_TLB_ntlb] = {SV_TLBE_GUEST_PHYSICAL, 3, {12, 21, 30}},
	[SV_TLB_npwc_l5] = {SV_TLBE_NPWC, 1, {48}},
	[SV_TLB_npwc_l4] = {SV_TLBE_NPWC, 1, {39}},
	[SV_TLB_npwc_l3] = {SV_TLBE_NPWC, 1, {30}},
	[SV_TLB_npwc_l2] = {SV_TLBE_NPWC, 1, {21}},
};

int sv_tlb__init(sv_tlb *t, const sv_tlb_config *cfg, uint64_t seed)
{
	unsigned a;

	memset(t, 0, sizeof(*t));
	t->repl = cfg->replacement;
	t->conflict = cfg->conflict;
	t->rng = seed;
	for (a = 0; a < SV_TLB__COUNT; a++) {
		sv_tlb_arr *r = &t->arr[a];
		size_t n = (size_t)cfg->array[a].sets * cfg->array[a].ways;

		r->kind = layout[a].kind;
		r->nshifts = layout[a].n;
		memcpy(r->shifts, layout[a].shifts, sizeof(r->shifts));
		if (!n)
			continue; /* absent: sets stays 0, lookups miss */
		r->e = g_try_new0(sv_tlbe, n);
		if (!r->e) {
			sv_tlb__fini(t);
			return SV_ENOMEM;
		}
		r->sets = cfg->array[a].sets;
		r->ways = cfg->array[a].ways;
		t->present |= SV_TLB_BIT(a);
	}
	return SV_OK;
}

void sv_tlb__fini(sv_tlb *t)
{
	unsigned a;

	for (a = 0; a < SV_TLB__COUNT; a++) {
		g_free(t->arr[a].e);
		t->arr[a].e = NULL;
		t->arr[a].sets = 0;
	}
	t->present = 0;
}

/* sv_tlb__fill for an array that is present. */
sv_tlbe *sv_tlb__fill_present(sv_tlb *t, sv_tlb_array a, const sv_tlbe *proto)
{
	sv_tlb_arr *r = &t->arr[a];
	sv_tlbe *set, *victim = NULL;
	uint32_t w;

	set = &r->e[(proto->vpn & (r->sets - 1)) * r->ways];
	for (w = 0; w < r->ways; w++) {
		sv_tlbe *e = &set[w];

		if ((e->flags & SV_TLBE_VALID) && e->vpn == proto->vpn &&
		    e->shift == proto->shift && e->vpid == proto->vpid &&
		    e->pcid == proto->pcid && e->ep4ta == proto->ep4ta) {
			victim = e;
			break;
		}
		if (!victim && !(e->flags & SV_TLBE_VALID))
			victim = e;
	}
	if (!victim) {
		if (t->repl == SV_TLB_RANDOM) {
			victim = &set[sv_rng__next(&t->rng) % r->ways];
		} else {
			victim = &set[0];
			for (w = 1; w < r->ways; w++)
				if (set[w].stamp < victim->stamp)
					victim = &set[w];
		}
	}
	*victim = *proto;
	victim->kind = r->kind;
	victim->stamp = ++t->clock;
	return victim;
}

static bool filter_match(const sv_tlb_filter *f, const sv_tlbe *e)
{
	bool global = e->flags & SV_TLBE_GLOBAL;

	if (!(f->kinds & (1u << e->kind)))
		return false;
	if (f->by_vpid && e->vpid != f->vpid)
		return false;
	if (f->skip_vpid0 && e->vpid == 0)
		return false;
	if (f->by_pcid && e->pcid != f->pcid && !(f->pcid_or_global && global))
		return false;
	if (f->keep_global && global)
		return false;
	if (f->by_ep4ta && e->ep4ta != f->ep4ta)
		return false;
	if (f->by_addr && (f->addr >> e->shift) != e->vpn)
		return false;
	if (f->by_gpa && (f->gpa >> e->shift) != (e->gpa >> e->shift))
		return false;
	return true;
}

/* Drops the matching valid entries among n from e. */
static unsigned drop_matching(sv_tlbe *e, size_t n, const sv_tlb_filter *f)
{
	unsigned dropped = 0;
	size_t i;

	for (i = 0; i < n; i++, e++) {
		if ((e->flags & SV_TLBE_VALID) && filter_match(f, e)) {
			sv_tlb__drop(e);
			dropped++;
		}
	}
	return dropped;
}

unsigned sv_tlb__invalidate(sv_tlb *t, const sv_tlb_filter *f)
{
	unsigned a, i, dropped = 0;

	for (a = 0; a < SV_TLB__COUNT; a++) {
		sv_tlb_arr *r = &t->arr[a];

		if (!r->sets || !(f->kinds & (1u << r->kind)))
			continue;
		if (!f->by_addr) {
			dropped += drop_matching(r->e, (size_t)r->sets * r->ways, f);
			continue;
		}
		/* An entry covering addr can only sit in the set addr's page
		 * number selects, for each page size the array holds. */
		for (i = 0; i < r->nshifts; i++) {
			uint64_t set = (f->addr >> r->shifts[i]) & (r->sets - 1);

			dropped += drop_matching(&r->e[set * r->ways], r->ways, f);
		}
	}
	return dropped;
}

void sv_tlb__foreach(const sv_tlb *t, sv_tlb_visit_fn fn, void *payload)
{
	unsigned a;

	for (a = 0; a < SV_TLB__COUNT; a++) {
		const sv_tlb_arr *r = &t->arr[a];
		size_t i, n = (size_t)r->sets * r->ways;

		for (i = 0; i < n; i++) {
			const sv_tlbe *e = &r->e[i];
			sv_tlb_entry_info info;

			if (!(e->flags & SV_TLBE_VALID))
				continue;
			info.array = (sv_tlb_array)a;
			info.kind = (sv_tlb_kind)e->kind;
			info.addr = e->vpn << e->shift;
			info.size = 1ULL << e->shift;
			info.target = e->target;
			info.ep4ta = e->ep4ta;
			info.vpid = e->vpid;
			info.pcid = e->pcid;
			info.global = e->flags & SV_TLBE_GLOBAL;
			fn(&info, payload);
		}
	}
}
