/*
 * lib/ept/nested.c - the nested dimension: GPA -> HPA through EPT or NPT.
 *
 * How it works:
 *  1. The access kind is fixed first: a guest paging-structure access is a
 *     write when EPT A/D is on (SDM "EPT Violations": with EPTP bit 6 set,
 *     processor accesses to guest paging-structure entries are treated as
 *     writes) and under NPT (a user write, as KVM's walk_addr_generic
 *     models it for guest formats with A/D flags), else a read; the write
 *     that sets a guest A/D flag is a write.
 *  2. The guest-physical TLB (tagged by EP4TA, and by ASID under NPT) is
 *     looked up; a hit whose permissions allow the access (and, for a
 *     write, whose EPT D flag is already set) ends the translation at no
 *     memory reference.
 *  3. Otherwise the nested page-walk cache gives the lowest table it knows
 *     for this GPA and the walk starts there (from the root if none).
 *  4. The walk stops at a not-present entry (EPT violation / #NPF, P=0), a
 *     misconfigured one (EPT misconfiguration / #NPF with RSVD) or a leaf,
 *     whose accumulated permissions must allow the access.
 *  5. With EPT A/D on, A is set in every entry used and D in the leaf for a
 *     write.  The page-walk cache gets the non-leaf entries read, and the
 *     guest-physical TLB the translation, with the leaf's page size.
 *  6. An EPT violation also drops the cached translations of that GPA and
 *     linear address, as the SDM says it invalidates them.
 * With PML on, a write that sets a leaf's EPT D flag logs its GPA in the
 * vCPU's page-modification log; a full log (512) is a PML-full exit, and
 * every exit empties the log into the memslots' dirty bitmaps.
 */
#include "ept/mmu.h"
#include "ept/nested.h"

static const sv_tlb_array npwc_array[SV_PT_MAX_LEVELS + 1] = {
	[2] = SV_TLB_npwc_l2, [3] = SV_TLB_npwc_l3,
	[4] = SV_TLB_npwc_l4, [5] = SV_TLB_npwc_l5,
};
static const sv_vcpu_stat npwc_stat[SV_PT_MAX_LEVELS + 1] = {
	[2] = SV_VCPU_STAT_npwc_hit_l2, [3] = SV_VCPU_STAT_npwc_hit_l3,
	[4] = SV_VCPU_STAT_npwc_hit_l4, [5] = SV_VCPU_STAT_npwc_hit_l5,
};

/* ---- the page-modification log ------------------------------------------------ */

void sv_nested__pml_drain(sv_vcpu *v)
{
	sv_mmu *m = v->vm->mmu;
	unsigned i;

	for (i = 0; i < v->pml_n; i++) {
		sv_memslot *s = sv_memslots__find(sv_vcpu__memslots(v), v->pml[i]);

		if (s)
			sv_mmu__mark_dirty(m, s, v->pml[i] >> 12);
	}
	v->pml_n = 0;
}

/* One GPA whose EPT D flag went from 0 to 1. */
static void pml_log(sv_vcpu *v, uint64_t gpa)
{
	if (v->pml_n == 512) {
		/* The log is full: a PML-full exit before this write. */
		const sv_costs *c = &v->vm->opts.costs;

		v->stat[SV_VCPU_STAT_pml_full_exits]++;
		v->stat[SV_VCPU_STAT_exits]++;
		sv_vcpu__charge(v, c->vmexit + c->vmentry);
		sv_nested__pml_drain(v);
	}
	v->pml[v->pml_n++] = gpa & ~0xfffULL;
	v->stat[SV_VCPU_STAT_pml_entries]++;
}

/* ---- the walk --------------------------------------------------------------------- */

/* Nested permissions granted by the entries' AND (and OR, for NX). */
static uint8_t nested_perm(const sv_vm *vm, uint64_t and_bits,
			   uint64_t or_bits)
{
	if (vm->opts.tdp == SV_TDP_EPT)
		return ((and_bits & SV_EPT_R) ? SV_PERM_NR : 0) |
		       ((and_bits & SV_EPT_W) ? SV_PERM_NW : 0) |
		       ((and_bits & SV_EPT_X) ? SV_PERM_NX : 0) | SV_PERM_NU;
	return SV_PERM_NR | ((and_bits & SV_PTE_RW) ? SV_PERM_NW : 0) |
	       ((and_bits & SV_PTE_US) ? SV_PERM_NU : 0) |
	       ((or_bits & SV_PTE_NX) ? 0 : SV_PERM_NX);
}

/* What a nested walk fetches tables with: copies of the VM's frames and
 * all-ones table, which the compiler keeps in registers for the walk. */
typedef struct frames_ctx {
	sv_frames frames;
	uint64_t *ones;
} frames_ctx;

static inline uint64_t *frame_fetch(void *ctx, unsigned level, uint64_t pa)
{
	const frames_ctx *fc = ctx;
	/* An entry pointing outside the tables the VM owns reads as
	 * all-ones, which no format accepts as a valid entry. */
	uint64_t *p = sv_frames__ptr_or(&fc->frames, pa, fc->ones);

	SV_UNUSED(level);
	SV_ASSUME(p != NULL); /* the walk needs no fetch-failure test */
	return p;
}

static void nested_ref(void *ctx, unsigned level, uint64_t table,
		       uint64_t entry)
{
	sv_vcpu *v = ctx;

	sv_vcpu__observe(v, SV_WEV_NESTED_REF, level, v->nwalk_gpa, table, entry);
}

void sv_nested__setup(sv_vcpu *v)
{
	const sv_vm_options *o = &v->vm->opts;

	sv_pt__walker_init(&v->nwalker, v->vm->tdp_fmt, o->maxphyaddr, true,
			   o->tdp_1g, o->ept_exec_only);
	/* Walked only by sv_nested__translate, inline, with a frames_ctx. */
	v->nwalker.fetch = NULL;
	v->nwalker.on_ref = v->observer ? nested_ref : NULL;
	v->nwalker.ctx = v;
}

static void drop_for_ept_violation(sv_vcpu *v, uint64_t gpa, uint64_t gva)
{
	sv_tlb_filter f = {0};

	f.kinds = 1u << SV_TLBE_GUEST_PHYSICAL;
	f.by_ep4ta = true;
	f.ep4ta = v->ep4ta;
	f.by_addr = true;
	f.addr = gpa;
	sv_vcpu__drop(v, &f);
	f.kinds = 1u << SV_TLBE_COMBINED;
	f.by_vpid = true;
	f.vpid = v->regs.vpid;
	f.by_pcid = true;
	f.pcid = v->pcid;
	f.pcid_or_global = true;
	f.addr = gva;
	sv_vcpu__drop(v, &f);
}

/* Why a nested translation failed. */
typedef enum nfail {
	NFAIL_NOT_PRESENT, /* EPT violation / #NPF with P = 0 */
	NFAIL_BAD_ENTRY,   /* EPT misconfiguration / #NPF with RSVD */
	NFAIL_PERMISSION,  /* EPT violation / #NPF with P = 1 */
} nfail;

/* Builds the fault for a failed nested walk that stopped at `level`. */
static void nested_fault(sv_vcpu *v, sv_fault *f, nfail why, unsigned level,
			 uint8_t perm, sv_access eacc, unsigned flags,
			 uint64_t gpa, uint64_t gva)
{
	bool table = flags & SV_NACC_TABLE;

	f->stage = table ? SV_STAGE_NESTED_TABLE : SV_STAGE_NESTED_FINAL;
	f->level = level;
	f->gva = gva;
	f->gpa = gpa;
	f->error_code = 0;
	f->exit_qualification = 0;
	if (v->vm->opts.tdp == SV_TDP_NPT) {
		/* #NPF EXITINFO1: a #PF error code (every nested access is a
		 * user access) plus bit 32 (final GPA) or 33 (guest table). */
		f->kind = SV_FAULT_NPF;
		f->error_code = SV_PFERR_U;
		if (why != NFAIL_NOT_PRESENT)
			f->error_code |= SV_PFERR_P;
		if (why == NFAIL_BAD_ENTRY)
			f->error_code |= SV_PFERR_RSVD;
		if (eacc == SV_ACCESS_WRITE)
			f->error_code |= SV_PFERR_W;
		if (eacc == SV_ACCESS_FETCH)
			f->error_code |= SV_PFERR_I;
		f->error_code |= table ? SV_NPF_GUEST_TABLE : SV_NPF_FINAL_ADDR;
		v->stat[SV_VCPU_STAT_ept_violations]++;
		return;
	}
	if (why == NFAIL_BAD_ENTRY) {
		f->kind = SV_FAULT_EPT_MISCONFIG;
		v->stat[SV_VCPU_STAT_ept_misconfigs]++;
		return;
	}
	f->kind = SV_FAULT_EPT_VIOLATION;
	/* Access bits: a guest-table access under EPT A/D sets both read
	 * and write (SDM, exit qualification for EPT violations). */
	if ((flags & SV_NACC_TABLE) && !(flags & SV_NACC_AD_WRITE) &&
	    eacc == SV_ACCESS_WRITE)
		f->exit_qualification |= SV_EPT_EXITQ_READ | SV_EPT_EXITQ_WRITE;
	else
		f->exit_qualification |= eacc == SV_ACCESS_READ    ? SV_EPT_EXITQ_READ
					 : eacc == SV_ACCESS_WRITE ? SV_EPT_EXITQ_WRITE
								   : SV_EPT_EXITQ_FETCH;
	/* Bits 5:3: the AND of R, W, X over the entries used, the
	 * not-present one included. */
	if (perm & SV_PERM_NR)
		f->exit_qualification |= SV_EPT_EXITQ_READABLE;
	if (perm & SV_PERM_NW)
		f->exit_qualification |= SV_EPT_EXITQ_WRITABLE;
	if (perm & SV_PERM_NX)
		f->exit_qualification |= SV_EPT_EXITQ_EXECUTABLE;
	f->exit_qualification |= SV_EPT_EXITQ_GLA_VALID;
	if (!table)
		f->exit_qualification |= SV_EPT_EXITQ_FINAL;
	v->stat[SV_VCPU_STAT_ept_violations]++;
	drop_for_ept_violation(v, gpa, gva);
}

/* Caches what a nested walk found: a page-walk-cache entry (the next
 * table's HPA as target) or a guest-physical TLB entry. */
static void nested_fill(sv_vcpu *v, sv_tlb_array a, const sv_tlb_key *key,
			uint64_t gpa, unsigned shift, uint64_t target,
			uint64_t target_gpa, uint8_t perm, uint8_t flags)
{
	sv_tlbe e = {0};

	e.vpn = gpa >> shift;
	e.target = target;
	e.gpa = target_gpa;
	e.ep4ta = key->ep4ta;
	e.vpid = key->vpid;
	e.shift = (uint8_t)shift;
	e.flags = flags;
	e.perm = perm;
	sv_tlb__fill(&v->tlb, a, &e);
}

bool sv_nested__translate(sv_vcpu *v, uint64_t gpa, sv_access acc,
			  unsigned flags, uint64_t gva, sv_nxlate *out,
			  sv_fault *f, uint32_t *refs)
{
	sv_vm *vm = v->vm;
	const sv_costs *c = &vm->opts.costs;
	/* NPT entries always have A/D flags; EPT ones with EPTP bit 6. */
	uint64_t abit = vm->tdp_abit, dbit = vm->tdp_dbit;
	bool ad = abit != 0;
	sv_tlb_key key = {v->ep4ta,
			  vm->opts.tdp == SV_TDP_EPT ? 0 : v->regs.vpid, 0};
	sv_tlbe *hits[3];
	uint8_t perm_in = 0xff, perm;
	uint64_t table = v->ep4ta;
	unsigned start = vm->tdp_fmt->levels, n, i, level;
	frames_ctx fc;
	sv_walk w;

	if (flags & SV_NACC_AD_WRITE)
		acc = SV_ACCESS_WRITE;
	else if (flags & SV_NACC_TABLE)
		acc = ad ? SV_ACCESS_WRITE : SV_ACCESS_READ;

	/* 2. The guest-physical TLB. */
	n = sv_tlb__probe(&v->tlb, SV_TLB_ntlb, &key, gpa, hits);
	for (i = 0; i < n; i++) {
		sv_tlbe *e = hits[i];

		if (sv_tlb__nested_allows(e->perm, acc) &&
		    (acc != SV_ACCESS_WRITE || (e->flags & SV_TLBE_DIRTY))) {
			sv_tlb__touch(&v->tlb, e);
			sv_vcpu__observe(v, SV_WEV_NTLB_HIT, 0, gpa, e->target, 0);
			v->stat[SV_VCPU_STAT_ntlb_hit]++;
			sv_vcpu__charge(v, c->ntlb_hit);
			out->hpa = e->target | (gpa & ((1ULL << e->shift) - 1));
			out->shift = e->shift;
			out->perm = e->perm;
			out->dirty = e->flags & SV_TLBE_DIRTY;
			return true;
		}
	}
	v->stat[SV_VCPU_STAT_ntlb_miss]++;

	/* 3. The page-walk cache: the lowest cached level wins. */
	if (sv_tlb__any(&v->tlb, SV_TLB_NPWC_ARRAYS)) {
		sv_tlbe *e = sv_tlb__lowest(&v->tlb, npwc_array,
					    vm->tdp_fmt->levels, &key, gpa, &level);

		if (e) {
			sv_tlb__touch(&v->tlb, e);
			sv_vcpu__observe(v, SV_WEV_NPWC_HIT, level, gpa, e->target, 0);
			v->stat[npwc_stat[level]]++;
			sv_vcpu__charge(v, c->pwc_hit);
			start = level - 1;
			table = e->target;
			perm_in = e->perm;
		}
	}

	/* 4. The walk. */
	v->nwalk_gpa = gpa;
	fc.frames = vm->tdp_frames;
	fc.ones = vm->ones_table;
	sv_pt__walk_fetch(&v->nwalker, &w, table, start, gpa, frame_fetch, &fc);
	*refs += w.refs;
	v->stat[SV_VCPU_STAT_walk_refs] += w.refs;
	v->stat[SV_VCPU_STAT_nested_walk_refs] += w.refs;
	sv_vcpu__charge(v, (uint64_t)w.refs * c->walk_ref);
	if (SV_UNLIKELY(v->dcache != NULL))
		sv_vcpu__dcache_walk(v, &w, gpa, 0);
	perm = perm_in & nested_perm(vm, w.and_bits, w.or_bits);
	if (w.status != SV_WALK_OK) {
		/* Nested tables always resolve (frame_fetch), so a walk
		 * that did not reach a leaf met a bad or absent entry. */
		nested_fault(v, f,
			     w.status == SV_WALK_BAD_ENTRY ? NFAIL_BAD_ENTRY
							   : NFAIL_NOT_PRESENT,
			     w.level, perm, acc, flags, gpa, gva);
		return false;
	}
	if (!sv_tlb__nested_allows(perm, acc)) {
		nested_fault(v, f, NFAIL_PERMISSION, w.level, perm, acc, flags,
			     gpa, gva);
		return false;
	}

	/* 5. EPT A/D flags (nothing to set when every entry has A and, for
	 * a write, the leaf has D). */
	if (ad && !((w.and_bits & abit) &&
		    (acc != SV_ACCESS_WRITE || (w.entry[w.level] & dbit)))) {
		for (level = w.start; level >= w.level; level--) {
			uint64_t set = abit;

			if (level == w.level && acc == SV_ACCESS_WRITE)
				set |= dbit;
			if ((w.entry[level] & set) != set) {
				/* PML logs the GPA whose leaf D goes 0 -> 1 */
				if (v->pml_on && (set & ~w.entry[level] & dbit))
					pml_log(v, gpa);
				*w.ptr[level] |= set;
				v->stat[SV_VCPU_STAT_nested_ad_updates]++;
				sv_vcpu__charge(v, c->ad_update);
			}
		}
	}
	/* Fill the page-walk cache with the non-leaf entries this walk
	 * read, each with the permissions accumulated down to it. */
	if (sv_tlb__any(&v->tlb, SV_TLB_NPWC_ARRAYS)) {
		uint64_t and_bits = ~0ULL, or_bits = 0;

		for (level = w.start; level > w.level; level--) {
			and_bits &= w.entry[level];
			or_bits |= w.entry[level];
			nested_fill(v, npwc_array[level], &key, gpa,
				    sv_pt__level_shift(level),
				    w.entry[level] & vm->tdp_fmt->addr_mask, 0,
				    perm_in & nested_perm(vm, and_bits, or_bits),
				    SV_TLBE_VALID);
		}
	}
	out->hpa = w.pa;
	out->shift = (uint8_t)sv_pt__level_shift(w.level);
	out->perm = perm;
	out->dirty = !ad || acc == SV_ACCESS_WRITE || (w.entry[w.level] & dbit);
	if (sv_tlb__any(&v->tlb, SV_TLB_BIT(SV_TLB_ntlb))) {
		uint64_t mask = (1ULL << out->shift) - 1;

		nested_fill(v, SV_TLB_ntlb, &key, gpa, out->shift, w.pa & ~mask,
			    gpa & ~mask, perm,
			    SV_TLBE_VALID | (out->dirty ? SV_TLBE_DIRTY : 0));
	}
	return true;
}
