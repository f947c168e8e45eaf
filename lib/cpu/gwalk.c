/*
 * lib/cpu/gwalk.c - the guest dimension of a walk, composed with the
 * nested one (the 2D walk).
 *
 * How it works:
 *  1. Paging off: the linear address is the guest-physical address.
 *     Paging on: a non-canonical address is a #GP; then the guest
 *     paging-structure caches give the lowest guest table they know for
 *     this address (tagged by VPID, PCID and EP4TA), else the walk starts
 *     at CR3.
 *  2. The one walker walks the guest format; each guest table it fetches
 *     is first translated through the nested dimension (a fault there is an
 *     EPT violation or #NPF at a guest table), then one entry is read.
 *  3. A not-present or reserved-bit entry, or permissions the mode forbids
 *     (SDM "Access Rights"), is a #PF with the SDM's error code, and drops
 *     the cached translations of that address, as the SDM says a #PF does.
 *  4. Accessed flags are set in every entry used and the dirty flag in the
 *     leaf for a write; each such update is a write to the guest table,
 *     which must itself be writable in the nested dimension.
 *  5. The final GPA goes through the nested dimension with the access's
 *     kind; the combined entry's page size is the smaller of the two pages
 *     (a "splintered" entry when the nested page is the smaller).
 *  6. The paging-structure caches get the non-leaf guest entries read.
 */
#include "cpu/vcpu.h"
#include "ept/mmu.h"
#include "ept/nested.h"

static const sv_tlb_array psc_array[SV_PT_MAX_LEVELS + 1] = {
	[2] = SV_TLB_psc_pd, [3] = SV_TLB_psc_pdpt,
	[4] = SV_TLB_psc_pml4, [5] = SV_TLB_psc_pml5,
};
static const sv_vcpu_stat psc_stat[SV_PT_MAX_LEVELS + 1] = {
	[2] = SV_VCPU_STAT_psc_hit_pd, [3] = SV_VCPU_STAT_psc_hit_pdpt,
	[4] = SV_VCPU_STAT_psc_hit_pml4, [5] = SV_VCPU_STAT_psc_hit_pml5,
};

/* State of one guest walk, handed to the walker's fetch callback. */
typedef struct gwalk_ctx {
	sv_vcpu *v;
	uint64_t gva;
	sv_fault *f;
	uint32_t *refs;
	bool first_known;      /* a PSC hit gave the first table's HPA */
	uint64_t first_hpa;
	uint64_t table_hpa[SV_PT_MAX_LEVELS + 1];
} gwalk_ctx;

static inline uint64_t *guest_fetch(void *ctx, unsigned level,
				   uint64_t table_gpa)
{
	gwalk_ctx *g = ctx;
	sv_vcpu *v = g->v;
	/* Guest memory outside every memslot reads as all-ones, as reads
	 * of absent physical memory do on x86 (such an entry always has
	 * reserved bits set at the upper levels). */
	uint8_t *p = sv_memslots__ptr(sv_vcpu__memslots(v), table_gpa);

	/* The entry's host address does not depend on the table's nested
	 * translation: its load (a host cache miss when the guest's tables
	 * are large) starts now and overlaps that translation's. */
	if (p)
		__builtin_prefetch(p + 8 * sv_pt__index(g->gva, level));
	if (g->first_known) {
		g->first_known = false;
		g->table_hpa[level] = g->first_hpa;
	} else {
		sv_nxlate nx;

		if (!sv_nested__translate(v, table_gpa, SV_ACCESS_READ,
					  SV_NACC_TABLE, g->gva, &nx, g->f,
					  g->refs))
			return NULL; /* the walk ends with FETCH_FAIL */
		g->table_hpa[level] = nx.hpa & ~0xfffULL;
	}
	return p ? (uint64_t *)p : v->vm->ones_table;
}

static void guest_ref(void *ctx, unsigned level, uint64_t table,
		      uint64_t entry)
{
	sv_vcpu *v = ctx;
	const gwalk_ctx *g = v->gwalk;

	sv_vcpu__observe(v, SV_WEV_GUEST_REF, level, g->gva, table, entry);
}

void sv_gwalk__setup(sv_vcpu *v)
{
	const sv_vm_options *o = &v->vm->opts;
	const sv_pt_format *fmt = (v->regs.cr4 & SV_CR4_LA57) ? &sv_pt__fmt_x86_5
							       : &sv_pt__fmt_x86_4;

	sv_pt__walker_init(&v->gwalker, fmt, o->maxphyaddr, v->nxe, o->guest_1g,
			   false);
	/* Walked only by sv_gwalk__walk2d, inline, with its gwalk_ctx. */
	v->gwalker.fetch = NULL;
	v->gwalker.on_ref = v->observer ? guest_ref : NULL;
	v->gwalker.ctx = v;
}

uint8_t sv_gwalk__perm(const sv_vcpu *v, uint64_t and_bits, uint64_t or_bits)
{
	return ((and_bits & SV_PTE_RW) ? SV_PERM_W : 0) |
	       ((and_bits & SV_PTE_US) ? SV_PERM_U : 0) |
	       ((v->nxe && (or_bits & SV_PTE_NX)) ? 0 : SV_PERM_X);
}

bool sv_gwalk__allows_wp(const sv_vcpu *v, uint8_t perm, sv_access acc,
			  bool wp)
{
	bool upage = perm & SV_PERM_U;

	if (acc == SV_ACCESS_FETCH) {
		if (!(perm & SV_PERM_X))
			return false;
		return v->user ? upage : !(upage && v->smep);
	}
	if (v->user)
		return upage && (acc == SV_ACCESS_READ || (perm & SV_PERM_W));
	/* Supervisor data access: SMAP forbids user pages unless EFLAGS.AC;
	 * a write needs R/W only when CR0.WP is set. */
	if (upage && v->smap && !v->ac)
		return false;
	return acc == SV_ACCESS_READ || (perm & SV_PERM_W) || !wp;
}

bool sv_gwalk__allows(const sv_vcpu *v, uint8_t perm, sv_access acc)
{
	/* Under shadow paging the CPU runs with CR0.WP set whatever the
	 * guest's (KVM forces it; a guest's WP=0 is the MMU's business, in
	 * the SPTEs it makes): write protection then holds for the kernel. */
	return sv_gwalk__allows_wp(v, perm, acc, v->wp || v->shadow);
}

/* SDM "Page-Fault Error Code"; I/D only with EFER.NXE or CR4.SMEP. */
void sv_gwalk__raise_pf(sv_vcpu *v, sv_fault *f, uint64_t gva, sv_access acc,
			unsigned level, bool present, bool rsvd)
{
	sv_tlb_filter flt = {0};

	f->kind = SV_FAULT_PF;
	f->stage = SV_STAGE_GUEST;
	f->level = level;
	f->gva = gva;
	f->gpa = 0;
	f->exit_qualification = 0;
	f->error_code = (present ? SV_PFERR_P : 0) | (rsvd ? SV_PFERR_RSVD : 0) |
			(acc == SV_ACCESS_WRITE ? SV_PFERR_W : 0) |
			(v->user ? SV_PFERR_U : 0) |
			(acc == SV_ACCESS_FETCH && (v->nxe || v->smep) ? SV_PFERR_I
									: 0);
	v->stat[SV_VCPU_STAT_pf_guest]++;

	/* A #PF invalidates the TLB entries for the faulting address and
	 * the paging-structure-cache entries that would be used for it
	 * (SDM "Operations that Invalidate TLBs and Paging-Structure
	 * Caches"). */
	flt.kinds = (1u << SV_TLBE_COMBINED) | (1u << SV_TLBE_PSC);
	flt.by_vpid = true;
	flt.vpid = v->regs.vpid;
	flt.by_pcid = true;
	flt.pcid = v->pcid;
	flt.pcid_or_global = true;
	flt.by_ep4ta = true;
	flt.ep4ta = v->ep4ta;
	flt.by_addr = true;
	flt.addr = gva;
	sv_vcpu__drop(v, &flt);
}

static bool canonical(uint64_t gva, unsigned va_bits)
{
	int64_t s = (int64_t)(gva << (64 - va_bits)) >> (64 - va_bits);

	return (uint64_t)s == gva;
}

/* Step 4: A in every entry used, D in the leaf for a write.  Each update
 * writes the guest table, so the table's GPA must be writable in the
 * nested dimension; only EPT without A/D has not checked that already
 * (elsewhere table accesses are writes, see lib/ept/nested.c). */
static bool set_guest_ad(sv_vcpu *v, const sv_walk *w, sv_access acc,
			 uint64_t gva, sv_fault *f, uint32_t *refs)
{
	const sv_costs *c = &v->vm->opts.costs;
	/* the nested entries have A/D flags: table reads were writes */
	bool checked = v->vm->tdp_abit != 0;
	unsigned level;

	/* Nothing to set: every entry has A, and the leaf D for a write. */
	if ((w->and_bits & SV_PTE_A) &&
	    (acc != SV_ACCESS_WRITE || (w->entry[w->level] & SV_PTE_D)))
		return true;
	for (level = w->start; level >= w->level; level--) {
		uint64_t set = SV_PTE_A;
		sv_nxlate nx;

		if (level == w->level && acc == SV_ACCESS_WRITE)
			set |= SV_PTE_D;
		if ((w->entry[level] & set) == set)
			continue;
		if (!checked &&
		    !sv_nested__translate(v, w->table[level], SV_ACCESS_WRITE,
					  SV_NACC_TABLE | SV_NACC_AD_WRITE, gva,
					  &nx, f, refs))
			return false;
		*w->ptr[level] |= set;
		v->stat[SV_VCPU_STAT_guest_ad_updates]++;
		sv_vcpu__charge(v, c->ad_update);
	}
	return true;
}

/* Step 1: the lowest paging-structure-cache entry for gva, or NULL; the
 * walk then starts below it (*start).  Counted and charged. */
static const sv_tlbe *psc_lookup(sv_vcpu *v, const sv_tlb_key *key,
				 uint64_t gva, unsigned *start)
{
	unsigned level;
	sv_tlbe *e = sv_tlb__lowest(&v->tlb, psc_array, *start, key, gva, &level);

	if (!e)
		return NULL;
	sv_tlb__touch(&v->tlb, e);
	sv_vcpu__observe(v, SV_WEV_PSC_HIT, level, gva, e->gpa, 0);
	v->stat[psc_stat[level]]++;
	sv_vcpu__charge(v, v->vm->opts.costs.psc_hit);
	*start = level - 1;
	return e;
}

/* Step 6: each non-leaf entry the walk w read, with the permissions
 * accumulated down to it, the next table's address as the walk sees it
 * (the entry's) and its host address (next_hpa[level - 1]). */
static void psc_fill(sv_vcpu *v, const sv_tlb_key *key, const sv_walk *w,
		     uint64_t gva, uint8_t perm_in, const uint64_t *next_hpa)
{
	uint64_t and_bits = ~0ULL, or_bits = 0;
	sv_tlbe p = {0};
	unsigned level;

	p.vpid = key->vpid;
	p.pcid = key->pcid;
	p.ep4ta = key->ep4ta;
	p.flags = SV_TLBE_VALID;
	for (level = w->start; level > w->level; level--) {
		and_bits &= w->entry[level];
		or_bits |= w->entry[level];
		p.shift = (uint8_t)sv_pt__level_shift(level);
		p.vpn = gva >> p.shift;
		p.gpa = w->entry[level] & SV_PTE_ADDR_MASK;
		p.target = next_hpa[level - 1];
		p.perm = perm_in & sv_gwalk__perm(v, and_bits, or_bits);
		sv_tlb__fill(&v->tlb, psc_array[level], &p);
	}
}

/* The shadow tables are in the VM's table frames. */
static uint64_t *shadow_fetch(void *ctx, unsigned level, uint64_t hpa)
{
	SV_UNUSED(level);
	return sv_frames__ptr(ctx, hpa);
}

static bool raise_gp(sv_vcpu *v, sv_fault *f, uint64_t gva)
{
	f->kind = SV_FAULT_GP;
	f->stage = SV_STAGE_GUEST;
	f->level = 0;
	f->gva = gva;
	f->gpa = f->error_code = f->exit_qualification = 0;
	v->stat[SV_VCPU_STAT_gp_noncanonical]++;
	return false;
}

/*
 * Shadow paging: the hardware walks the shadow tables only (its
 * paging-structure caches hold shadow tables, tagged like the guest's
 * would be); a fault on them is a #PF exit to the MMU.  Nothing sets A/D
 * here: the MMU made the leaf accessed, and dirty where it is writable.
 */
bool sv_gwalk__walk_shadow(sv_vcpu *v, uint64_t gva, sv_access acc,
			   sv_tlbe *entry, uint32_t *refs, sv_fault *f)
{
	const sv_costs *c = &v->vm->opts.costs;
	const sv_frames *frames = &v->vm->tdp_frames;
	sv_tlb_key key = {v->ep4ta, v->regs.vpid, v->pcid};
	uint64_t cr3 = v->paging ? v->regs.cr3 & SV_PTE_ADDR_MASK : SV_SHADOW_NONPAGING;
	uint64_t table;
	unsigned start = v->swalker.fmt->levels, level;
	uint8_t perm_in = 0xff, perm;
	bool psc = sv_tlb__any(&v->tlb, SV_TLB_PSC_ARRAYS);
	sv_walk w;

	if (v->lma && !canonical(gva, sv_pt__va_bits(v->swalker.fmt)))
		return raise_gp(v, f, gva);
	if (SV_UNLIKELY(v->sroot_cr3 != cr3 || !v->sroot))
		sv_shadow__load_root(v->vm->mmu, v);
	table = v->sroot;
	if (psc) {
		const sv_tlbe *e = psc_lookup(v, &key, gva, &start);

		if (e) {
			table = e->target;
			perm_in = e->perm;
		}
	}
	sv_pt__walk_fetch(&v->swalker, &w, table, start, gva, shadow_fetch,
			  (void *)frames);
	*refs += w.refs;
	v->stat[SV_VCPU_STAT_walk_refs] += w.refs;
	sv_vcpu__charge(v, (uint64_t)w.refs * c->walk_ref);
	if (SV_UNLIKELY(v->dcache != NULL))
		sv_vcpu__dcache_walk(v, &w, gva, 0);
	if (SV_UNLIKELY(v->observer != NULL))
		for (level = start; level >= w.level && level > 0; level--)
			sv_vcpu__observe(v, SV_WEV_SHADOW_REF, level, gva,
					 w.table[level], w.entry[level]);
	perm = perm_in & sv_gwalk__perm(v, w.and_bits, w.or_bits);
	if (w.status != SV_WALK_OK || !sv_gwalk__allows(v, perm, acc)) {
		bool present = w.status != SV_WALK_NOT_PRESENT;

		f->kind = SV_FAULT_SHADOW_PF;
		f->stage = SV_STAGE_SHADOW;
		f->level = w.level;
		f->gva = gva;
		f->gpa = f->exit_qualification = 0;
		f->error_code = (present ? SV_PFERR_P : 0) |
				(w.status == SV_WALK_BAD_ENTRY ? SV_PFERR_RSVD : 0) |
				(acc == SV_ACCESS_WRITE ? SV_PFERR_W : 0) |
				(v->user ? SV_PFERR_U : 0) |
				(acc == SV_ACCESS_FETCH ? SV_PFERR_I : 0);
		return false;
	}
	if (psc) /* each table's address is its host address */
		psc_fill(v, &key, &w, gva, perm_in, w.table);
	memset(entry, 0, sizeof(*entry));
	entry->shift = (uint8_t)sv_pt__level_shift(w.level);
	entry->vpn = gva >> entry->shift;
	entry->gpa = sv_shadow__gpa_of(v->vm->mmu, w.ptr[w.level], w.level, gva) &
		     ~((1ULL << entry->shift) - 1);
	entry->target = w.pa & ~((1ULL << entry->shift) - 1);
	entry->vpid = key.vpid;
	entry->pcid = key.pcid;
	entry->ep4ta = key.ep4ta;
	/* no nested dimension: every nested permission */
	entry->perm = perm | SV_PERM_NR | SV_PERM_NW | SV_PERM_NX | SV_PERM_NU;
	entry->flags = SV_TLBE_VALID |
		       ((w.entry[w.level] & SV_PTE_D) || acc == SV_ACCESS_WRITE
				? SV_TLBE_DIRTY
				: 0);
	return true;
}

bool sv_gwalk__walk2d(sv_vcpu *v, uint64_t gva, sv_access acc, sv_tlbe *entry,
		      uint32_t *refs, sv_fault *f)
{
	const sv_costs *c = &v->vm->opts.costs;
	const sv_pt_format *fmt = v->gwalker.fmt;
	sv_tlb_key key = {v->ep4ta, v->regs.vpid, v->pcid};
	uint64_t gpa, table = v->regs.cr3 & SV_PTE_ADDR_MASK;
	unsigned start = fmt->levels, guest_shift = 30;
	uint8_t perm_in = 0xff, gperm = SV_PERM_W | SV_PERM_U | SV_PERM_X;
	bool paging = v->paging, global = false, gdirty = true;
	gwalk_ctx g; /* table_hpa[] is written as the walk fetches tables */
	sv_nxlate nx;
	sv_walk w;

	if (!paging) {
		/* Linear = guest-physical; the entry's size is the nested
		 * page's (guest_shift starts at the largest, 1G). */
		gpa = gva;
		if (gpa >> v->vm->opts.maxphyaddr == 0)
			goto nested_final;
	}
	if (!paging || (v->lma && !canonical(gva, sv_pt__va_bits(fmt)))) {
		f->kind = SV_FAULT_GP;
		f->stage = SV_STAGE_GUEST;
		f->level = 0;
		f->gva = gva;
		f->gpa = f->error_code = f->exit_qualification = 0;
		v->stat[SV_VCPU_STAT_gp_noncanonical]++;
		return false;
	}

	/* 1. The lowest paging-structure cache that knows this address. */
	g.v = v;
	g.gva = gva;
	g.f = f;
	g.refs = refs;
	g.first_known = false;
	if (sv_tlb__any(&v->tlb, SV_TLB_PSC_ARRAYS)) {
		const sv_tlbe *e = psc_lookup(v, &key, gva, &start);

		if (e) {
			table = e->gpa;
			g.first_known = true;
			g.first_hpa = e->target;
			perm_in = e->perm;
		}
	}

	/* 2. Walk the guest tables. */
	v->gwalk = &g;
	sv_pt__walk_fetch(&v->gwalker, &w, table, start, gva, guest_fetch, &g);
	v->gwalk = NULL;
	*refs += w.refs;
	v->stat[SV_VCPU_STAT_walk_refs] += w.refs;
	v->stat[SV_VCPU_STAT_guest_walk_refs] += w.refs;
	sv_vcpu__charge(v, (uint64_t)w.refs * c->walk_ref);
	if (SV_UNLIKELY(v->dcache != NULL))
		sv_vcpu__dcache_walk(v, &w, gva, SV_DCACHE_GUEST_LINE);
	if (w.status == SV_WALK_FETCH_FAIL)
		return false; /* the nested fault is already in *f */

	/* 3. Not present, reserved bits, permissions. */
	if (w.status != SV_WALK_OK) {
		sv_gwalk__raise_pf(v, f, gva, acc, w.level, w.status == SV_WALK_BAD_ENTRY,
			 w.status == SV_WALK_BAD_ENTRY);
		return false;
	}
	gperm = perm_in & sv_gwalk__perm(v, w.and_bits, w.or_bits);
	if (!sv_gwalk__allows(v, gperm, acc)) {
		sv_gwalk__raise_pf(v, f, gva, acc, w.level, true, false);
		return false;
	}

	/* 4. Accessed and dirty flags. */
	if (!set_guest_ad(v, &w, acc, gva, f, refs))
		return false;
	gdirty = (w.entry[w.level] & SV_PTE_D) || acc == SV_ACCESS_WRITE;
	global = v->pge && (w.entry[w.level] & SV_PTE_G);
	guest_shift = sv_pt__level_shift(w.level);
	gpa = w.pa;

nested_final:
	/* 5. The final guest-physical address. */
	if (!sv_nested__translate(v, gpa, acc, 0, gva, &nx, f, refs))
		return false;

	/* 6. Paging-structure caches: each non-leaf guest entry read, with
	 * the permissions accumulated down to it and the next table's GPA
	 * and HPA (known now that every table was fetched). */
	if (paging && sv_tlb__any(&v->tlb, SV_TLB_PSC_ARRAYS))
		psc_fill(v, &key, &w, gva, perm_in, g.table_hpa);

	/* The combined entry: the smaller of the two page sizes. */
	memset(entry, 0, sizeof(*entry));
	entry->shift = (uint8_t)MIN(guest_shift, (unsigned)nx.shift);
	if (entry->shift < guest_shift) {
		v->stat[SV_VCPU_STAT_tlb_splinter]++;
		sv_vcpu__charge(v, c->splinter);
	} else if (nx.shift > guest_shift)
		v->stat[SV_VCPU_STAT_tlb_host_larger]++;
	entry->vpn = gva >> entry->shift;
	entry->gpa = gpa & ~((1ULL << entry->shift) - 1);
	entry->target = nx.hpa & ~((1ULL << entry->shift) - 1);
	entry->vpid = key.vpid;
	entry->pcid = key.pcid;
	entry->ep4ta = key.ep4ta;
	entry->perm = gperm | nx.perm;
	entry->flags = SV_TLBE_VALID | (global ? SV_TLBE_GLOBAL : 0) |
		       (gdirty && nx.dirty ? SV_TLBE_DIRTY : 0);
	return true;
}
