/*
 * lib/cpu/access.c - the access path of a vCPU.
 *
 * How an access is translated (sv_vcpu_access):
 *  1. Fast path: the same 4K page as the last L1 hit of this kind, with
 *     the permissions that hit allowed.  That entry is the most recently
 *     used one of its set, so a repeat hit changes no replacement state; it
 *     is counted exactly as the full lookup would count it.
 *  2. L1: the instruction or data arrays of every page size are probed
 *     together.  Two matches of different sizes are a TLB conflict: counted,
 *     then resolved or turned into a fault as configured.  A hit whose
 *     permissions no longer allow the access is dropped and re-walked; a
 *     write to an entry not yet dirty walks to set the dirty flags.
 *  3. STLB (4K/2M array and 1G array), the same way; a hit refills L1.
 *  4. A miss in both walks (lib/cpu/gwalk.c) and fills L1 and STLB.
 *  5. With a hypervisor MMU, an EPT violation (or #NPF) on the way is an
 *     exit: the vCPU leaves guest mode, the MMU handles the fault
 *     (lib/ept/fault.c), the vCPU enters again, servicing its pending
 *     flush, and translates again.
 */
#include "cpu/vcpu.h"
#include "ept/fault.h"
#include "ept/nested.h"

_Static_assert(SV_VCPU_STAT_reads + SV_ACCESS_WRITE == SV_VCPU_STAT_writes &&
		       SV_VCPU_STAT_reads + SV_ACCESS_FETCH == SV_VCPU_STAT_fetches,
	       "access kinds index the reads/writes/fetches counters");

/* ---- the access path --------------------------------------------------- */

static const sv_tlb_array l1_data[] = {SV_TLB_l1d_4k, SV_TLB_l1d_2m,
				       SV_TLB_l1d_1g};
static const sv_tlb_array l1_fetch[] = {SV_TLB_l1i_4k, SV_TLB_l1i_2m};
static const sv_tlb_array l2_all[] = {SV_TLB_stlb, SV_TLB_stlb_1g};
/* The same groups as sv_tlb.present bits. */
#define L1_DATA_BITS                                              \
	(SV_TLB_BIT(SV_TLB_l1d_4k) | SV_TLB_BIT(SV_TLB_l1d_2m) |    \
	 SV_TLB_BIT(SV_TLB_l1d_1g))
#define L1_FETCH_BITS (SV_TLB_BIT(SV_TLB_l1i_4k) | SV_TLB_BIT(SV_TLB_l1i_2m))
#define L2_BITS (SV_TLB_BIT(SV_TLB_stlb) | SV_TLB_BIT(SV_TLB_stlb_1g))

/* The hit counter for an entry of `shift` found at a level. */
static sv_vcpu_stat hit_stat(bool fetch, bool l1, unsigned shift)
{
	unsigned s = shift == 12 ? 0 : shift == 21 ? 1 : 2;

	if (l1 && fetch)
		return s ? SV_VCPU_STAT_l1i_hit_2m : SV_VCPU_STAT_l1i_hit_4k;
	if (l1)
		return (sv_vcpu_stat)(SV_VCPU_STAT_l1d_hit_4k + s);
	return (sv_vcpu_stat)(SV_VCPU_STAT_stlb_hit_4k + s);
}

/* Does a combined entry allow the access without a walk? */
static inline bool entry_allows(const sv_vcpu *v, const sv_tlbe *e,
				sv_access acc)
{
	return sv_tlb__nested_allows(e->perm, acc) &&
	       sv_gwalk__allows(v, e->perm, acc) &&
	       (acc != SV_ACCESS_WRITE || (e->flags & SV_TLBE_DIRTY));
}

/*
 * Looks addr up in a group of arrays probed together.  Returns the entry to
 * use, NULL on a miss, and sets *conflict when entries of two sizes match
 * (then the entry is chosen by the conflict policy; for mce/abort NULL is
 * returned with *conflict set).
 */
static sv_tlbe *lookup_group(sv_vcpu *v, const sv_tlb_array *arrays,
			     unsigned n, const sv_tlb_key *k, uint64_t addr,
			     bool *conflict)
{
	unsigned matches;
	sv_tlbe *e = sv_tlb__lookup(&v->tlb, arrays, n, k, addr, &matches);

	*conflict = matches > 1;
	if (SV_LIKELY(!*conflict))
		return e;
	v->stat[SV_VCPU_STAT_tlb_conflicts]++;
	if (v->audit)
		sv_audit__report(v->vm->mmu, SV_AUDIT_tlb_multi_match,
				 "vcpu %u: gva 0x%" PRIx64 " matched %u TLB "
				 "entries of different page sizes",
				 v->index, addr, matches);
	return e;
}

static void conflict_fault(sv_vcpu *v, uint64_t gva, sv_fault *f)
{
	bool mce = v->tlb.conflict == SV_TLB_CONFLICT_MCE;

	memset(f, 0, sizeof(*f));
	f->kind = mce ? SV_FAULT_MCE : SV_FAULT_TLB_CONFLICT;
	f->stage = SV_STAGE_TLB;
	f->gva = gva;
	v->stat[mce ? SV_VCPU_STAT_machine_checks : SV_VCPU_STAT_conflict_aborts]++;
}

/*
 * Does e map the 2M range of gva alone among the L1 arrays of its kind: no
 * valid entry of another size maps any of it?  Then any access in the
 * range finds e without a conflict, until the next fill.
 */
static bool alone_in_2m(const sv_vcpu *v, const sv_tlbe *e, uint64_t gva,
			bool fetch)
{
	const sv_tlb_array *arrays = fetch ? l1_fetch : l1_data;
	unsigned n = fetch ? G_N_ELEMENTS(l1_fetch) : G_N_ELEMENTS(l1_data);
	uint64_t lo = gva & ~((1ULL << 21) - 1), hi = lo + (1ULL << 21);
	unsigned a;
	uint32_t i;

	for (a = 0; a < n; a++) {
		const sv_tlb_arr *r = &v->tlb.arr[arrays[a]];

		for (i = 0; i < r->sets * r->ways; i++) {
			const sv_tlbe *x = &r->e[i];
			uint64_t start = x->vpn << x->shift;

			if ((x->flags & SV_TLBE_VALID) && x->shift != e->shift &&
			    start < hi && lo < start + (1ULL << x->shift))
				return false;
		}
	}
	return true;
}

/* Remembers an L1 hit for the fast path: as the last hit, among the recent
 * ones, and for a huge entry alone in its 2M, by that 2M. */
static void fast_set(sv_vcpu *v, sv_tlbe *e, uint64_t gva, bool fetch,
		     sv_vcpu_stat stat)
{
	sv_fast *fp = &v->fast[fetch];
	uint64_t off = (gva & ~0xfffULL) - (e->vpn << e->shift);
	unsigned a;

	fp->page = gva >> 12;
	fp->gpa_base = e->gpa + off;
	fp->hpa_base = e->target + off;
	fp->page_size = 1ULL << e->shift;
	fp->entry = e;
	fp->epoch = v->fast_epoch;
	fp->stat = (uint8_t)stat;
	fp->allow = 0;
	for (a = fetch ? SV_ACCESS_FETCH : SV_ACCESS_READ;
	     a <= (fetch ? SV_ACCESS_FETCH : SV_ACCESS_WRITE); a++)
		if (entry_allows(v, e, (sv_access)a))
			fp->allow |= (uint8_t)(1u << a);
	v->recent[fetch][v->recent_next[fetch]] = *fp;
	v->recent_next[fetch] = (uint8_t)((v->recent_next[fetch] + 1) % SV_FAST_RECENT);
	if (e->shift > 12 && alone_in_2m(v, e, gva, fetch)) {
		sv_fast *h = &v->huge[fetch][(gva >> 21) % SV_FAST_HUGE];
		uint64_t off2m = (gva & ~((1ULL << 21) - 1)) - (e->vpn << e->shift);

		*h = *fp;
		h->page = gva >> 21;
		h->gpa_base = e->gpa + off2m;
		h->hpa_base = e->target + off2m;
	}
}

/* An L1 hit the fast path serves: what the full lookup counts and charges,
 * and every field of the result the slow path would set for it (field by
 * field: a memset of the whole costs more than the rest of the hit). */
static inline __attribute__((always_inline)) void
fast_count(sv_vcpu *v, const sv_fast *fp, uint64_t gva, sv_access acc,
	   sv_xlate *out)
{
	uint32_t cost = v->vm->opts.costs.l1_hit;

	v->stat[SV_VCPU_STAT_accesses]++;
	v->stat[SV_VCPU_STAT_reads + acc]++;
	v->stat[fp->stat]++;
	v->stat[SV_VCPU_STAT_cycles] += cost;
	out->gpa = fp->gpa_base | (gva & 0xfff);
	out->hpa = fp->hpa_base | (gva & 0xfff);
	out->page_size = fp->page_size;
	out->cycles = cost;
	out->refs = 0;
	out->exits = 0;
	out->source = SV_SRC_L1;
	out->fault.kind = SV_FAULT_NONE;
}

/*
 * An access within one 4K page that a remembered L1 hit covers (recent[]
 * or huge[]): the same outcome as the L1 lookup (its counters, its cycles,
 * the entry touched), without the lookup.  The page becomes the last hit.
 * False: not there.
 */
static bool remembered_hit(sv_vcpu *v, uint64_t gva, uint32_t size,
		       sv_access acc, sv_xlate *out)
{
	bool fetch = acc == SV_ACCESS_FETCH;
	const sv_fast *r = &v->huge[fetch][(gva >> 21) % SV_FAST_HUGE];
	sv_fast *fp = &v->fast[fetch];
	uint64_t page_off;
	unsigned i;

	if ((gva & 0xfff) + size > 0x1000)
		return false;
	if (r->page == gva >> 21 && r->epoch == v->fast_epoch &&
	    (r->allow >> acc) & 1) {
		page_off = gva & 0x1ff000;
	} else {
		for (i = 0, r = v->recent[fetch]; i < SV_FAST_RECENT; i++, r++)
			if (r->page == gva >> 12 && r->epoch == v->fast_epoch &&
			    (r->allow >> acc) & 1)
				break;
		if (i == SV_FAST_RECENT)
			return false;
		page_off = 0;
	}
	sv_tlb__touch(&v->tlb, r->entry);
	*fp = *r;
	fp->page = gva >> 12;
	fp->gpa_base += page_off;
	fp->hpa_base += page_off;
	fast_count(v, fp, gva, acc, out);
	return true;
}

/* Fills L1 (by page size and kind) and the STLB with a combined entry. */
static void fill_tlbs(sv_vcpu *v, const sv_tlbe *e, uint64_t gva, bool fetch,
		      bool l1_only)
{
	sv_tlbe l1 = *e;

	sv_vcpu__fast_clear(v);
	if (!l1_only)
		sv_tlb__fill(&v->tlb, e->shift == 30 ? SV_TLB_stlb_1g : SV_TLB_stlb,
			     e);
	if (fetch) {
		/* The ITLB has no 1G array: a 1G page is cached as the 2M
		 * part of it that holds the address. */
		if (l1.shift == 30) {
			uint64_t off = (gva & ~((1ULL << 21) - 1)) -
				       (l1.vpn << 30);

			l1.shift = 21;
			l1.vpn = gva >> 21;
			l1.target += off;
			l1.gpa += off;
		}
		sv_tlb__fill(&v->tlb, l1.shift == 12 ? SV_TLB_l1i_4k : SV_TLB_l1i_2m,
			     &l1);
	} else {
		sv_tlb__fill(&v->tlb, l1.shift == 12   ? SV_TLB_l1d_4k
				      : l1.shift == 21 ? SV_TLB_l1d_2m
						       : SV_TLB_l1d_1g,
			     &l1);
	}
}

static void result_from(sv_xlate *out, const sv_tlbe *e, uint64_t gva)
{
	uint64_t off = gva - (e->vpn << e->shift);

	out->gpa = e->gpa + off;
	out->hpa = e->target + off;
	out->page_size = 1ULL << e->shift;
}

/* What looking in one TLB level found. */
enum { LVL_MISS, LVL_HIT, LVL_FAULT, LVL_WALK };

/* try_level's lookup, in a group that has an array with entries. */
static int try_arrays(sv_vcpu *v, bool l1, uint64_t gva, sv_access acc,
		      const sv_tlb_key *k, sv_xlate *out, sv_tlbe **found)
{
	bool fetch = acc == SV_ACCESS_FETCH, conflict;
	const sv_tlb_array *arrays = l1 ? (fetch ? l1_fetch : l1_data) : l2_all;
	unsigned n = l1 ? (fetch ? G_N_ELEMENTS(l1_fetch) : G_N_ELEMENTS(l1_data))
			: G_N_ELEMENTS(l2_all);
	sv_tlbe *e;

	e = lookup_group(v, arrays, n, k, gva, &conflict);
	if (!e) {
		if (!conflict)
			return LVL_MISS;
		conflict_fault(v, gva, &out->fault);
		return LVL_FAULT;
	}
	if (!entry_allows(v, e, acc)) {
		if (acc == SV_ACCESS_WRITE && !(e->flags & SV_TLBE_DIRTY) &&
		    (e->perm & SV_PERM_NW) && sv_gwalk__allows(v, e->perm, acc)) {
			v->stat[SV_VCPU_STAT_tlb_dirty_miss]++;
			return LVL_WALK;
		}
		sv_tlb__drop(e);
		sv_vcpu__fast_clear(v); /* it may be among the recent hits */
		v->stat[SV_VCPU_STAT_tlb_entries_dropped]++;
		return LVL_MISS;
	}
	sv_tlb__touch(&v->tlb, e);
	v->stat[hit_stat(fetch, l1, e->shift)]++;
	*found = e;
	if (l1 && !conflict && !v->slow_only)
		fast_set(v, e, gva, fetch, hit_stat(fetch, true, e->shift));
	result_from(out, e, gva);
	return LVL_HIT;
}

/*
 * Looks up a cached entry in one TLB level.  LVL_HIT: usable, result
 * filled.  LVL_MISS: nothing usable (an entry that no longer allows the
 * access has been dropped).  LVL_WALK: a write met an entry whose dirty
 * flags are not set yet, so the walk must set them.  LVL_FAULT: a conflict
 * faulted.
 */
static inline int try_level(sv_vcpu *v, bool l1, uint64_t gva,
			    sv_access acc, const sv_tlb_key *k, sv_xlate *out,
			    sv_tlbe **found)
{
	bool fetch = acc == SV_ACCESS_FETCH;
	uint32_t bits = l1 ? (fetch ? L1_FETCH_BITS : L1_DATA_BITS) : L2_BITS;

	*found = NULL;
	if (l1)
		sv_vcpu__fast_forget_last(v); /* whatever this touches is the last
						 hit now: set again on a clean
						 hit */
	if (!sv_tlb__any(&v->tlb, bits))
		return LVL_MISS; /* no array of the group has entries */
	return try_arrays(v, l1, gva, acc, k, out, found);
}

/* Translates the 4K page holding gva.  out->fault says how it ended. */
static void translate_page(sv_vcpu *v, uint64_t gva, sv_access acc,
			   sv_xlate *out)
{
	const sv_costs *c = &v->vm->opts.costs;
	sv_tlb_key key = {v->ep4ta, v->regs.vpid, v->pcid};
	bool fetch = acc == SV_ACCESS_FETCH;
	uint64_t before = v->stat[SV_VCPU_STAT_cycles];
	uint32_t refs = 0;
	sv_tlbe *e, walked;
	int r;

	out->fault.kind = SV_FAULT_NONE;
	r = try_level(v, true, gva, acc, &key, out, &e);
	if (r == LVL_HIT) {
		sv_vcpu__charge(v, c->l1_hit);
		out->source = SV_SRC_L1;
		goto done;
	}
	if (r == LVL_FAULT)
		goto done;
	if (r == LVL_MISS) {
		r = try_level(v, false, gva, acc, &key, out, &e);
		if (r == LVL_HIT) {
			sv_vcpu__charge(v, c->stlb_hit);
			fill_tlbs(v, e, gva, fetch, true);
			out->source = SV_SRC_STLB;
			goto done;
		}
		if (r == LVL_FAULT)
			goto done;
	}

	/* A miss (or a write to a clean entry): the STLB lookup's latency,
	 * then the walk. */
	sv_vcpu__charge(v, c->stlb_hit);
	v->stat[SV_VCPU_STAT_tlb_miss]++;
	out->source = SV_SRC_WALK;
	if (v->shadow ? sv_gwalk__walk_shadow(v, gva, acc, &walked, &refs,
					      &out->fault)
		      : sv_gwalk__walk2d(v, gva, acc, &walked, &refs,
					 &out->fault)) {
		v->stat[walked.shift == 12   ? SV_VCPU_STAT_tlb_fill_4k
			: walked.shift == 21 ? SV_VCPU_STAT_tlb_fill_2m
					     : SV_VCPU_STAT_tlb_fill_1g]++;
		fill_tlbs(v, &walked, gva, fetch, false);
		result_from(out, &walked, gva);
	}
done:
	if (SV_UNLIKELY(v->observer != NULL)) {
		if (out->fault.kind != SV_FAULT_NONE)
			sv_vcpu__observe(v, SV_WEV_FAULT, out->fault.level, gva, 0,
					 out->fault.error_code);
		else if (out->source != SV_SRC_WALK)
			sv_vcpu__observe(v, SV_WEV_TLB_HIT, 0, gva, out->hpa, 0);
	}
	out->refs += refs;
	out->cycles += (uint32_t)(v->stat[SV_VCPU_STAT_cycles] - before);
}

/*
 * When an access gives up instead of spinning (SV_FAULT_RETRY): after one
 * exit, the same in kind, GPA and qualification, comes back SAME_EXITS
 * times in a row, or after MAX_EXITS exits in all.  An access may legitimately take
 * several: every guest table page and the data page can each need a
 * fault, and each of those a retry when its own fault-in invalidated
 * something (a copy-on-write break after fork, say).
 */
#define SAME_EXITS 4
#define MAX_EXITS 64

static bool same_exit(const sv_fault *a, const sv_fault *b)
{
	return a->kind == b->kind && a->gpa == b->gpa &&
	       a->exit_qualification == b->exit_qualification &&
	       a->error_code == b->error_code;
}

/* VM entry (vcpu_enter_guest): the vCPU is in guest mode, and services
 * its pending TLB flush. */
static void enter_guest(sv_vcpu *v)
{
	v->in_guest = true;
	if (!v->req_flush)
		return;
	v->req_flush = false;
	/* kvm_vcpu_flush_tlb_all: INVEPT all-context on VMX; on SVM a flush
	 * of the vCPU's ASID at the next VMRUN; under shadow paging every
	 * translation of the vCPU.  Each counts tlb_flush. */
	if (v->shadow)
		sv_vcpu__flush_all(v);
	else if (v->vm->opts.tdp == SV_TDP_EPT)
		sv_vcpu_invept(v, 2, 0);
	else
		sv_vcpu_svm_tlb_control(v, 3);
}

/* VM exit: out of guest mode, counted and charged for the round trip; KVM
 * empties the PML log on every exit. */
static void exit_guest(sv_vcpu *v)
{
	const sv_costs *c = &v->vm->opts.costs;

	v->in_guest = false;
	v->stat[SV_VCPU_STAT_exits]++;
	sv_vcpu__charge(v, c->vmexit + c->vmentry);
	if (v->pml_n)
		sv_nested__pml_drain(v);
}

static bool is_tdp_exit(sv_fault_kind k)
{
	return k == SV_FAULT_EPT_VIOLATION || k == SV_FAULT_EPT_MISCONFIG ||
	       k == SV_FAULT_NPF || k == SV_FAULT_SHADOW_PF;
}

/* The shadow MMU emulated the access (a write to a write-protected guest
 * page table): done, at the guest-physical address it found, with no TLB
 * fill. */
static void emulated(sv_vcpu *v, sv_xlate *out)
{
	out->source = SV_SRC_EMULATED;
	out->gpa = out->fault.gpa;
	out->hpa = sv_shadow__hpa_of(v->vm->mmu, out->gpa);
	out->page_size = SV_PAGE_4K;
	out->fault = (sv_fault){.kind = SV_FAULT_NONE};
}

/* Lets the hypervisor MMU resolve the nested fault a translation of the
 * page at gva ended in (if any), translating again after each exit it
 * fixed. */
static void resolve_exits(sv_vcpu *v, uint64_t gva, sv_access acc,
			  sv_xlate *out)
{
	unsigned n, same = 0;
	sv_fault last = {.kind = SV_FAULT_NONE};

	for (n = 0; is_tdp_exit(out->fault.kind); n++) {
		same = same_exit(&out->fault, &last) ? same + 1 : 0;
		if (same == SAME_EXITS || n == MAX_EXITS) {
			out->fault.kind = SV_FAULT_RETRY;
			break;
		}
		last = out->fault;
		out->exits++;
		exit_guest(v);
		if (!sv_mmu__handle_exit(v->vm->mmu, v, &out->fault)) {
			if (out->fault.kind == SV_FAULT_NONE)
				emulated(v, out);
			break;
		}
		enter_guest(v);
		translate_page(v, gva, acc, out);
	}
	if (SV_UNLIKELY(v->audit) && out->fault.kind == SV_FAULT_NONE)
		sv_audit__access(v, acc, out);
}

/* translate_page, with the hypervisor MMU resolving nested faults. */
static void translate_mmu(sv_vcpu *v, uint64_t gva, sv_access acc,
			  sv_xlate *out)
{
	translate_page(v, gva, acc, out);
	if (v->vm->mmu)
		resolve_exits(v, gva, acc, out);
}

/* An access starts: counted, and the vCPU (re-)enters guest mode. */
static void access_begin(sv_vcpu *v, sv_access acc, sv_xlate *out)
{
	/* field by field: a memset of the whole is a slow string store */
	out->gpa = out->hpa = out->page_size = 0;
	out->cycles = out->refs = out->exits = 0;
	out->source = SV_SRC_L1;
	out->fault = (sv_fault){.kind = SV_FAULT_NONE};
	v->stat[SV_VCPU_STAT_accesses]++;
	v->stat[SV_VCPU_STAT_reads + acc]++;
	if (v->vm->mmu)
		enter_guest(v);
}

/* The first page has translated: an access that continues on the next
 * page must translate there too; the result keeps the first page's
 * addresses. */
static void access_finish(sv_vcpu *v, uint64_t gva, uint32_t size,
			  sv_access acc, sv_xlate *out)
{
	sv_xlate second;

	if (out->fault.kind != SV_FAULT_NONE || (gva & 0xfff) + size <= 0x1000)
		return;
	memset(&second, 0, sizeof(second));
	translate_mmu(v, (gva | 0xfff) + 1, acc, &second);
	out->cycles += second.cycles;
	out->refs += second.refs;
	out->exits += second.exits;
	if (second.fault.kind != SV_FAULT_NONE)
		out->fault = second.fault;
}

SV_NOINLINE static int access_slow(sv_vcpu *v, uint64_t gva, uint32_t size,
				   sv_access acc, sv_xlate *out)
{
	if (remembered_hit(v, gva, size, acc, out))
		return SV_OK;
	access_begin(v, acc, out);
	translate_mmu(v, gva, acc, out);
	access_finish(v, gva, size, acc, out);
	/* The cache model: a vCPU with it has no fast path (slow_only),
	 * so every data access comes here. */
	if (SV_UNLIKELY(v->dcache != NULL) && acc != SV_ACCESS_FETCH &&
	    out->fault.kind == SV_FAULT_NONE)
		out->cycles += sv_vcpu__dcache(v, out->hpa >> 6, false);
	if (SV_UNLIKELY(v->vm->fatal))
		return sv_err__set(v->vm, v->vm->fatal, "%s", sv_vm_last_error(v->vm));
	return SV_OK;
}

static const char *access_args_error(const sv_vcpu *v, uint32_t size,
				     sv_access acc, const sv_xlate *out)
{
	if (!v || !out)
		return "NULL argument";
	if ((unsigned)acc > SV_ACCESS_FETCH)
		return "access must be read, write or fetch";
	if (size - 1 >= 4096)
		return "size must be 1 to 4096 bytes";
	return NULL;
}

int sv_vcpu_access_together(const sv_access_req *reqs, unsigned n,
			    sv_xlate *outs)
{
	sv_vm *vm;
	unsigned i, j;

	sv_err__clear();
	if (!reqs || !outs || !n || !reqs[0].vcpu)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_access_together: %s",
				   !n ? "no access" : "NULL argument");
	vm = reqs[0].vcpu->vm;
	for (i = 0; i < n; i++) {
		const sv_access_req *q = &reqs[i];
		const char *why = access_args_error(q->vcpu, q->size, q->access,
						    &outs[i]);

		if (!why && q->vcpu->vm != vm)
			why = "every vCPU must belong to one VM";
		for (j = 0; !why && j < i; j++)
			if (reqs[j].vcpu == q->vcpu)
				why = "a vCPU appears twice";
		if (why)
			return sv_err__set(vm, SV_EINVAL,
					   "sv_vcpu_access_together: access %u: %s",
					   i, why);
	}
	/* Every vCPU translates, and exits, before any handler runs... */
	for (i = 0; i < n; i++) {
		access_begin(reqs[i].vcpu, reqs[i].access, &outs[i]);
		translate_page(reqs[i].vcpu, reqs[i].gva, reqs[i].access,
			       &outs[i]);
	}
	/* ...then the handlers run one after the other, in the given order,
	 * each seeing what the ones before it installed. */
	for (i = 0; i < n; i++) {
		const sv_access_req *q = &reqs[i];

		if (vm->mmu)
			resolve_exits(q->vcpu, q->gva, q->access, &outs[i]);
		access_finish(q->vcpu, q->gva, q->size, q->access, &outs[i]);
	}
	return SV_OK;
}

int sv_vcpu_translate(sv_xlate *out, sv_vcpu *v, uint64_t gva, uint32_t size,
		      sv_access acc)
{
	const sv_fast *fp;

	sv_err__clear();
	if (SV_UNLIKELY(!v || !out || (unsigned)acc > SV_ACCESS_FETCH ||
			size - 1 >= 4096))
		return sv_err__set(v ? v->vm : NULL, SV_EINVAL, "sv_vcpu_translate: %s",
				   access_args_error(v, size, acc, out));
	/* the test above, not access_args_error(), on this path: its one
	 * combined condition keeps an L1 hit measurably shorter */
	fp = &v->fast[acc == SV_ACCESS_FETCH];
	if (SV_LIKELY(fp->page == gva >> 12 && (fp->allow >> acc) & 1 &&
		      (gva & 0xfff) + size <= 0x1000)) {
		fast_count(v, fp, gva, acc, out);
		return SV_OK;
	}
	return access_slow(v, gva, size, acc, out);
}

int sv_vcpu_access_batch(sv_xlate *out, size_t *done, sv_vcpu *v,
			 const uint64_t *gvas, const uint8_t *kinds, size_t n,
			 uint32_t size, sv_access access)
{
	size_t i;
	int rc = SV_OK;

	sv_err__clear();
	if (done)
		*done = 0;
	if (!v || !out || !done || (n && !gvas))
		return sv_err__set(v ? v->vm : NULL, SV_EINVAL,
				   "sv_vcpu_access_batch: NULL argument");
	for (i = 0; i < n; i++) {
		rc = sv_vcpu_translate(out, v, gvas[i], size,
				       kinds ? (sv_access)kinds[i] : access);
		if (rc != SV_OK)
			break;
		*done = i + 1;
		if (out->fault.kind != SV_FAULT_NONE)
			break;
	}
	return rc;
}

/* The name before 0.2, its result last. */
int sv_vcpu_access(sv_vcpu *v, uint64_t gva, uint32_t size, sv_access acc,
		   sv_xlate *out)
{
	return sv_vcpu_translate(out, v, gva, size, acc);
}
