/*
 * lib/ept/mmu.c - the hypervisor MMU: KVM's TDP MMU fault path, SPTE
 * install, split and zap, and the remote TLB flush.
 *
 * How a nested fault is handled (KVM's kvm_mmu_page_fault, section (b) of
 * shared/reference/kvm-mmu.md):
 *  0. A misconfiguration on an MMIO SPTE of the current generation goes to
 *     emulation at once, counting nothing; a stale one takes the full path.
 *  1. pf_taken.  2. The lockless fast path: for a write to a present SPTE
 *     that is MMU-writable (not a huge one in a dirty-logged slot) or an
 *     access-tracked SPTE, the SPTE is fixed in place; an SPTE that already
 *     allows the access is spurious.
 *  3. Fault-in: the memslot (none: an MMIO SPTE; a write to a read-only
 *     slot: emulation), the invalidation sequence snapshot, the host fault,
 *     then the staleness check (RETRY if an invalidation ran meanwhile or
 *     covers the gfn).
 *  4. Sizing: 4K in a dirty-logged slot; else the largest level lpage_info
 *     and the TDP page sizes allow, then the policy's (kvm: the host page
 *     tables).  An exec fault with NX huge pages maps 4K.
 *  5. Map: tables are linked where missing; a huge SPTE above the goal is
 *     split (kernels 6.2+) or zapped with a flush (before); the leaf comes
 *     from make_spte (a read fault of a writable host page installs a
 *     writable, dirty SPTE and marks the page dirty in a logged slot).
 * The vCPU is out of guest mode while its exit is handled; any flush it
 * asked for is serviced when it enters again (sv__mmu_enter).
 */
#include "mmu.h"

#include <stdarg.h>

/* ---- table pages ------------------------------------------------------- */

static sv_sp *sp_of(sv_mmu *m, uint64_t hpa)
{
	return &g_array_index(m->sp, sv_sp,
			      (hpa - m->vm->tdp_frames.base) >> 12);
}

static uint64_t sp_alloc(sv_mmu *m, uint64_t gfn, unsigned level)
{
	uint64_t hpa = sv__frames_alloc(&m->vm->tdp_frames);
	sv_sp *sp;

	if (!hpa)
		return 0;
	if (m->sp->len < m->vm->tdp_frames.used)
		g_array_set_size(m->sp, (guint)m->vm->tdp_frames.used);
	sp = sp_of(m, hpa);
	sp->gfn = gfn;
	sp->level = (uint8_t)level;
	sp->nx = 0;
	m->vm->tdp->pages++;
	m->vm->stat[SV_VM_STAT_tdp_table_pages]++;
	return hpa;
}

static void sp_free(sv_mmu *m, uint64_t hpa)
{
	sv__frames_free(&m->vm->tdp_frames, hpa);
	m->vm->tdp->pages--;
	m->vm->stat[SV_VM_STAT_tdp_table_pages]--;
}

static void account_leaf(sv_mmu *m, unsigned level, int delta)
{
	static const sv_vm_stat st[4] = {
		0, SV_VM_STAT_pages_4k, SV_VM_STAT_pages_2m, SV_VM_STAT_pages_1g,
	};

	m->vm->stat[st[level]] += (uint64_t)(int64_t)delta;
}

/* ---- flushes -------------------------------------------------------------- */

void sv__mmu_flush_remote(sv_mmu *m)
{
	sv_vm *vm = m->vm;
	bool kicked = false;
	unsigned i;

	vm->stat[SV_VM_STAT_remote_tlb_flush_requests]++;
	for (i = 0; i < vm->opts.vcpus; i++) {
		sv_vcpu *v = vm->vcpus[i];

		v->req_flush = true;
		sv__fast_clear(v); /* the next access must see the request */
		if (v->in_guest)
			kicked = true;
	}
	if (kicked)
		vm->stat[SV_VM_STAT_remote_tlb_flush]++;
}

void sv__mmu_flush_base(sv_mmu *m, uint64_t gfn)
{
	sv_vm *vm = m->vm;
	uint64_t gpa = gfn << 12;
	unsigned i;

	vm->stat[SV_VM_STAT_remote_tlb_flush_requests]++;
	vm->stat[SV_VM_STAT_base_only_flushes]++;
	for (i = 0; i < vm->opts.vcpus; i++) {
		/* Combined entries name their guest-physical page; the
		 * guest-physical TLB and the nested walk cache are indexed by
		 * it.  Guest paging-structure caches are left: the guest's
		 * tables did not change. */
		sv_tlb_filter f = {.kinds = SV_TLBK_COMBINED, .by_gpa = true, .gpa = gpa};

		sv__vcpu_drop(vm->vcpus[i], &f);
		f = (sv_tlb_filter){.kinds = SV_TLBK_NESTED, .by_addr = true, .addr = gpa};
		sv__vcpu_drop(vm->vcpus[i], &f);
	}
}

void sv__mmu_enter(sv_vcpu *v)
{
	v->in_guest = true;
	if (!v->req_flush)
		return;
	v->req_flush = false;
	/* kvm_vcpu_flush_tlb_all: INVEPT all-context on VMX; on SVM a flush
	 * of the vCPU's ASID at the next VMRUN.  Each counts tlb_flush. */
	if (v->vm->opts.tdp == SV_TDP_EPT)
		sv_vcpu_invept(v, 2, 0);
	else
		sv_vcpu_svm_tlb_control(v, 3);
}

void sv_vcpu_leave_guest(sv_vcpu *v)
{
	if (!v)
		return;
	v->in_guest = false;
	sv__fast_clear(v); /* its next access enters again */
}

int sv_vcpu_set_smm(sv_vcpu *v, bool smm)
{
	sv_mmu *m;
	uint64_t root;

	if (!v)
		return sv__err(NULL, SV_EINVAL, "sv_vcpu_set_smm: NULL vCPU");
	m = v->vm->mmu;
	if (!m)
		return sv__err(v->vm, SV_EINVAL,
			       "sv_vcpu_set_smm: SMM needs the hypervisor MMU "
			       "(sv_mmu_attach)");
	if (smm && !m->root[1]) {
		/* kvm_mmu_load for the first vCPU with role.smm = 1 */
		m->root[1] = sp_alloc(m, 0, m->top);
		if (!m->root[1])
			return sv__err(v->vm, SV_ENOMEM,
				       "sv_vcpu_set_smm: no table page for "
				       "the SMM root");
	}
	root = m->root[smm];
	v->smm = smm;
	/* The root switch is a new EPTP/nCR3: entries tagged with the other
	 * root stay in the TLB but cannot match. */
	v->regs.eptp = (v->regs.eptp & ~SV_EPTP_ADDR_MASK) | root;
	v->ep4ta = root;
	sv__fast_clear(v);
	return SV_OK;
}

/* ---- walking and changing the tree ---------------------------------------- */

static void walk_table(sv_mmu *m, uint64_t table, unsigned level,
		       uint64_t base, uint64_t start, uint64_t end,
		       unsigned min_level, sv_rw_fn fn, void *ctx, bool *stop)
{
	uint64_t *t = sp_table(m, table);
	uint64_t span = level_pages(level);
	unsigned i = (unsigned)(((start > base ? start : base) - base) / span);

	for (; i < SV_PT_ENTRIES && !*stop; i++) {
		uint64_t gfn = base + i * span;
		uint64_t e = t[i];
		sv_rw_ret r;

		if (gfn >= end)
			break;
		if (!spte_present(e))
			continue;
		r = fn(m, &t[i], level, gfn, ctx);
		if (r == RW_STOP) {
			*stop = true;
			return;
		}
		e = t[i]; /* fn may have changed it */
		if (r == RW_NEXT && level > min_level && spte_present(e) &&
		    !spte_leaf(m, e, level))
			walk_table(m, e & SPTE_ADDR, level - 1, gfn, start, end,
				   min_level, fn, ctx, stop);
	}
}

void sv__mmu_walk_range(sv_mmu *m, unsigned as, uint64_t start, uint64_t end,
			unsigned min_level, sv_rw_fn fn, void *ctx)
{
	bool stop = false;

	if (start < end && m->root[as])
		walk_table(m, m->root[as], m->top, 0, start, end, min_level,
			   fn, ctx, &stop);
}

static const sv_vm_stat zap_stat[4] = {
	0, SV_VM_STAT_zap_leaf_4k, SV_VM_STAT_zap_leaf_2m, SV_VM_STAT_zap_leaf_1g,
};

/* Drops a subtree's leaves from the counts and frees its tables. */
static void free_subtree(sv_mmu *m, uint64_t table, unsigned level)
{
	uint64_t *t = sp_table(m, table);
	unsigned i;

	for (i = 0; i < SV_PT_ENTRIES; i++) {
		uint64_t e = t[i];

		if (!spte_present(e))
			continue;
		if (spte_leaf(m, e, level))
			account_leaf(m, level, -1);
		else
			free_subtree(m, e & SPTE_ADDR, level - 1);
	}
	sp_free(m, table);
}

void sv__mmu_zap(sv_mmu *m, uint64_t *ptr, unsigned level)
{
	uint64_t e = *ptr;

	*ptr = 0;
	if (!spte_present(e))
		return;
	if (spte_leaf(m, e, level)) {
		account_leaf(m, level, -1);
		m->vm->stat[zap_stat[level]]++;
	} else {
		free_subtree(m, e & SPTE_ADDR, level - 1);
		m->vm->stat[SV_VM_STAT_zap_table]++;
	}
}

void sv__mmu_install_huge(sv_mmu *m, uint64_t *ptr, unsigned level,
			  uint64_t huge)
{
	free_subtree(m, *ptr & SPTE_ADDR, level - 1);
	*ptr = huge;
	account_leaf(m, level, 1);
}

static sv_rw_ret zap_leaf_fn(sv_mmu *m, uint64_t *ptr, unsigned level,
			     uint64_t gfn, void *ctx)
{
	bool *any = ctx;

	SV_UNUSED(gfn);
	if (!spte_leaf(m, *ptr, level))
		return RW_NEXT;
	sv__mmu_zap(m, ptr, level);
	*any = true;
	return RW_SKIP;
}

bool sv__mmu_zap_leafs(sv_mmu *m, unsigned as, uint64_t start, uint64_t end)
{
	bool any = false;

	sv__mmu_walk_range(m, as, start, end, 1, zap_leaf_fn, &any);
	return any;
}

/* make_huge_page_split_spte: child i of a huge leaf keeps its bits. */
static uint64_t split_child(const sv_mmu *m, uint64_t huge, unsigned level,
			    unsigned i)
{
	uint64_t e = huge + ((uint64_t)i << (12 + 9 * (level - 2)));

	if (level - 1 == 1) {
		e &= ~m->b.ps;
		/* 4K children may execute: only huge pages are NX for the
		 * iTLB-multihit mitigation. */
		if (m->opts.nx_huge_pages)
			e = (e | m->b.x) & ~m->b.nx;
	}
	return e;
}

/* Fills a new table with the 512 children of the huge leaf `huge`. */
static void split_into(sv_mmu *m, uint64_t table, uint64_t huge,
		       unsigned level)
{
	uint64_t *t = sp_table(m, table);
	unsigned i;

	for (i = 0; i < SV_PT_ENTRIES; i++)
		t[i] = split_child(m, huge, level, i);
	account_leaf(m, level, -1);
	account_leaf(m, level - 1, SV_PT_ENTRIES);
	m->vm->stat[level == 3 ? SV_VM_STAT_split_1g : SV_VM_STAT_split_2m]++;
}

static uint64_t table_spte(const sv_mmu *m, uint64_t table)
{
	return table | m->b.table | SPTE_MMU_PRESENT;
}

bool sv__mmu_split_to_4k(sv_mmu *m, uint64_t *ptr, unsigned level,
			 uint64_t gfn)
{
	uint64_t huge = *ptr, table, *t;
	unsigned i;

	if (level == 1 || !spte_present(huge) || !spte_leaf(m, huge, level))
		return true;
	table = sp_alloc(m, gfn, level - 1);
	if (!table)
		return false;
	split_into(m, table, huge, level);
	*ptr = table_spte(m, table);
	if (level - 1 > 1) {
		t = sp_table(m, table);
		for (i = 0; i < SV_PT_ENTRIES; i++)
			if (!sv__mmu_split_to_4k(m, &t[i], level - 1,
						 gfn + i * level_pages(level - 1)))
				return false;
	}
	return true;
}

/* ---- SPTE contents ------------------------------------------------------ */

static bool spte_access_tracked(const sv_mmu *m, uint64_t e)
{
	return spte_present(e) && !(e & m->b.hw_present) && !(e & m->b.mmio);
}

static bool spte_is_mmio(const sv_mmu *m, uint64_t e)
{
	return !spte_present(e) && (e & m->b.mmio) == m->b.mmio;
}

static uint64_t mmio_spte(const sv_mmu *m)
{
	uint64_t g = m->gen & ((1ULL << SPTE_MMIO_GEN_BITS) - 1);

	return m->b.mmio | ((g & 0xff) << 3) | ((g >> 8) << 52);
}

static uint64_t mmio_spte_gen(uint64_t e)
{
	return ((e >> 3) & 0xff) | (((e >> 52) & 0x7ff) << 8);
}

/* Does a shadow-present, hardware-present SPTE allow the access? */
static bool spte_allows(const sv_mmu *m, uint64_t e, sv_access acc)
{
	if (!(e & m->b.hw_present))
		return false;
	switch (acc) {
	case SV_ACCESS_WRITE:
		return (e & m->b.w) != 0;
	case SV_ACCESS_FETCH:
		return m->b.nx ? !(e & m->b.nx) : (e & m->b.x) != 0;
	default:
		return (e & m->b.r) != 0;
	}
}

/* One fault, as KVM's struct kvm_page_fault. */
typedef struct pf {
	sv_vcpu *v;
	unsigned as;       /* the vCPU's address space */
	uint64_t gfn;
	sv_access acc;
	bool write, exec, present, rsvd;
	sv_memslot *slot;
	uint64_t hva, pfn;
	bool host_writable;
	unsigned req_level, goal_level;
	bool huge_disallowed;
	uint64_t seq;
} pf;

static uint64_t make_spte(sv_mmu *m, const pf *f, unsigned level)
{
	uint64_t e = SPTE_MMU_PRESENT | m->b.r | m->b.leaf_attr | m->b.a;
	uint64_t size = level_pages(level);

	if (level > 1)
		e |= m->b.ps;
	if (!(m->opts.nx_huge_pages && level > 1))
		e |= m->b.x;
	else
		e |= m->b.nx;
	e |= ((f->pfn & ~(size - 1)) << 12);
	if (f->host_writable) {
		e |= m->b.host_w | m->b.w | m->b.mmu_w | m->b.d;
		if (f->slot->dirty)
			sv__mmu_mark_dirty(m, f->slot, f->gfn);
	}
	return e;
}

/* ---- the fast path ------------------------------------------------------ */

/* The lowest shadow-present SPTE on gfn's path under root, or the first
 * absent one. */
static uint64_t *leaf_ptr(sv_mmu *m, uint64_t root, uint64_t gfn,
			  unsigned *level)
{
	uint64_t table = root;
	unsigned l;

	for (l = m->top;; l--) {
		uint64_t *p = sp_entry(m, table, gfn, l);

		if (!spte_present(*p) || spte_leaf(m, *p, l)) {
			*level = l;
			return p;
		}
		table = *p & SPTE_ADDR;
	}
}

static sv_pf_ret fast_page_fault(sv_mmu *m, pf *f)
{
	unsigned level;
	uint64_t *p, e, n;

	/* page_fault_can_be_fast */
	if (f->rsvd)
		return PF_INVALID;
	if (!f->present ? m->ad : !f->write)
		return PF_INVALID;
	p = leaf_ptr(m, m->root[f->as], f->gfn, &level);
	e = *p;
	if (!spte_present(e))
		return PF_INVALID;
	if (spte_allows(m, e, f->acc))
		return PF_SPURIOUS;
	n = e;
	if (spte_access_tracked(m, e))
		n |= ((e >> m->b.saved_shift) & (m->b.r | m->b.x));
	if (f->write && (e & m->b.mmu_w)) {
		sv_memslot *s = sv__memslot_find(sv__vcpu_memslots(f->v),
						 f->gfn << 12);

		/* A huge SPTE in a dirty-logged slot needs the slow path,
		 * which maps 4K. */
		if (level > 1 && s && s->dirty)
			return PF_INVALID;
		n |= m->b.w | m->b.d;
		if (s && s->dirty)
			sv__mmu_mark_dirty(m, s, f->gfn);
	}
	if (n == e || !spte_allows(m, n, f->acc))
		return PF_INVALID;
	*p = n;
	return PF_FIXED;
}

/* ---- fault-in and sizing ---------------------------------------------------- */

static bool inv_covers(const sv_mmu *m, uint64_t gfn)
{
	return m->inv_in_progress && gfn >= m->inv_start && gfn < m->inv_end;
}

static bool fault_stale(const sv_mmu *m, const pf *f)
{
	return f->seq != m->inv_seq || inv_covers(m, f->gfn);
}

unsigned sv__mmu_max_mapping_level(sv_mmu *m, const sv_memslot *s,
				   uint64_t gfn, bool collapse)
{
	unsigned level = m->max_level, lp = 3;
	sv_mmu_fault_info info = {0};
	uint64_t idx;

	/* lpage_info, from the 1G level down */
	while (lp > 1) {
		unsigned shift = 9 * (lp - 1);

		idx = (gfn >> shift) - ((s->gpa >> 12) >> shift);
		if (!s->lpage[lp - 2][idx])
			break;
		lp--;
	}
	if (!(m->opts.bugs & SV_BUG_B1_NO_MAX_LEVEL_CLAMP) && lp > level)
		lp = level;
	if (lp == 1)
		return 1;
	info.gfn = gfn;
	info.hva = s->hva + ((gfn << 12) - s->gpa);
	info.smm = s->as == 1;
	if (info.smm) {
		const sv_memslot *s0 = sv__memslot_find(&m->vm->memslots,
							gfn << 12);

		info.as0_has_gfn = s0 != NULL;
		info.as0_hva = s0 ? s0->hva + ((gfn << 12) - s0->gpa) : 0;
	}
	info.slot = s->id;
	info.slot_readonly = s->flags & SV_MEMSLOT_READONLY;
	info.max_level = lp;
	info.collapse = collapse;
	info.kernel_version = m->opts.kernel_version;
	info.bugs = m->opts.bugs;
	info.host = m->host;
	level = m->policy->level(&info, m->policy->payload);
	if (level > lp)
		level = lp;
	if (collapse && (m->opts.bugs & SV_BUG_B5_COLLAPSE_THP_ONLY) && level > 1) {
		sv_host_leaf l;
		sv_host_page pg;

		if (sv_host_lookup(&l, m->host, info.hva) || !l.present ||
		    sv_host_page_info(&pg, m->host, l.pfn) ||
		    pg.kind != SV_PAGE_THP)
			level = 1;
	}
	return level ? level : 1;
}

static sv_pf_ret faultin(sv_mmu *m, pf *f)
{
	const sv_costs *c = &m->vm->opts.costs;
	uint64_t faults, filled;
	sv_host_leaf leaf;
	bool ro;
	int rc;

	f->slot = sv__memslot_find(sv__vcpu_memslots(f->v), f->gfn << 12);
	f->seq = m->inv_seq;
	if (!f->slot)
		return PF_CONTINUE; /* an MMIO SPTE */
	ro = f->slot->flags & SV_MEMSLOT_READONLY;
	if (f->write && ro)
		return PF_EMULATE;
	if (inv_covers(m, f->gfn))
		return PF_RETRY;
	f->hva = f->slot->hva + ((f->gfn << 12) - f->slot->gpa);
	faults = sv_host_stat_get(m->host, SV_HOST_STAT_faults);
	filled = sv_host_stat_get(m->host, SV_HOST_STAT_pages_filled);
	rc = sv_host_fault(&leaf, m->host, f->hva, f->write);
	/* the host's work is the vCPU's time: GUP runs in its thread */
	sv__charge(f->v, (sv_host_stat_get(m->host, SV_HOST_STAT_faults) -
			  faults) * c->host_fault +
				 (sv_host_stat_get(m->host,
						   SV_HOST_STAT_pages_filled) -
				  filled) * c->host_fill_4k);
	if (rc)
		return PF_EFAULT;
	f->pfn = leaf.pfn;
	f->host_writable = !ro && leaf.writable;
	if (fault_stale(m, f))
		return PF_RETRY;
	return PF_CONTINUE;
}

static void size_fault(sv_mmu *m, pf *f)
{
	f->huge_disallowed = f->exec && m->opts.nx_huge_pages;
	f->req_level = 1;
	if (f->slot && !f->slot->dirty)
		f->req_level = sv__mmu_max_mapping_level(m, f->slot, f->gfn, false);
	f->goal_level = f->huge_disallowed ? 1 : f->req_level;
}

/* ---- map ------------------------------------------------------------------ */

/*
 * direct_pte_prefetch, the rmap MMU's (kvm.tdp_mmu=0): after a 4K fault the
 * other absent SPTEs of its aligned group of 8 in the same table are
 * filled in where the host page is present and writable already (GUP-fast
 * faults nothing in).  Not without A/D flags (a prefetched SPTE is told
 * apart by its clear A flag), not while an invalidation is in progress,
 * not in a dirty-logged slot.
 */
static void direct_prefetch(sv_mmu *m, const pf *f, uint64_t table)
{
	const sv_memslot *s = f->slot;
	uint64_t gfn, first = f->gfn & ~7ULL;

	if (!m->ad || m->inv_in_progress || s->dirty)
		return;
	for (gfn = first; gfn < first + 8; gfn++) {
		uint64_t *p = sp_entry(m, table, gfn, 1), n;
		sv_host_leaf l;
		pf g = *f;

		if (gfn == f->gfn || spte_present(*p) ||
		    (gfn << 12) - s->gpa >= s->size)
			continue;
		g.gfn = gfn;
		g.hva = s->hva + ((gfn << 12) - s->gpa);
		if (sv_host_lookup(&l, m->host, g.hva) || !l.present ||
		    !l.writable)
			continue;
		g.pfn = l.pfn;
		g.host_writable = !(s->flags & SV_MEMSLOT_READONLY);
		n = make_spte(m, &g, 1) & ~m->b.a;
		*p = n;
		account_leaf(m, 1, 1);
		m->vm->stat[SV_VM_STAT_spte_prefetch]++;
		if (SV_UNLIKELY(m->opts.audit))
			sv__audit_spte(m, s, gfn, 1, n);
	}
}

static sv_pf_ret tdp_map(sv_mmu *m, pf *f)
{
	uint64_t table = m->root[f->as], *p, e, n;
	unsigned level;

	for (level = m->top;; level--) {
		uint64_t child, base = f->gfn & ~(level_pages(level) - 1);

		p = sp_entry(m, table, f->gfn, level);
		e = *p;
		/* disallowed_hugepage_adjust */
		if (m->opts.nx_huge_pages && level > 1 && level == f->goal_level &&
		    spte_present(e) && !spte_leaf(m, e, level) &&
		    sp_of(m, e & SPTE_ADDR)->nx)
			f->goal_level--;
		if (level == f->goal_level)
			break;
		if (spte_present(e) && !spte_leaf(m, e, level)) {
			table = e & SPTE_ADDR;
			continue;
		}
		child = sp_alloc(m, base, level - 1);
		if (!child)
			return PF_EFAULT;
		sp_of(m, child)->nx = f->huge_disallowed;
		if (spte_present(e)) {
			if (m->opts.split_on_fault) {
				split_into(m, child, e, level);
				sv__charge(f->v, m->vm->opts.costs.pf_split);
			} else {
				sv__mmu_zap(m, p, level);
				sv__mmu_flush_remote(m);
			}
		}
		*p = table_spte(m, child);
		if (f->huge_disallowed && f->req_level >= level)
			m->vm->stat[SV_VM_STAT_nx_lpage_splits]++;
		table = child;
	}

	n = f->slot ? make_spte(m, f, level) : mmio_spte(m);
	if (n == e)
		return PF_SPURIOUS;
	if (spte_present(e)) {
		bool table_gone = !spte_leaf(m, e, level);

		sv__mmu_zap(m, p, level);
		if (table_gone)
			sv__mmu_flush_remote(m);
	}
	*p = n;
	if (!f->slot) {
		f->v->stat[SV_VCPU_STAT_pf_mmio_spte_created]++;
		return PF_EMULATE;
	}
	account_leaf(m, level, 1);
	if (SV_UNLIKELY(m->opts.audit))
		sv__audit_spte(m, f->slot, f->gfn & ~(level_pages(level) - 1),
			       level, n);
	if (!m->opts.tdp_mmu && level == 1)
		direct_prefetch(m, f, table);
	return PF_FIXED;
}

/* ---- the exit handler --------------------------------------------------------- */

static sv_pf_ret page_fault(sv_mmu *m, pf *f)
{
	sv_pf_ret r;

	if (f->rsvd) {
		unsigned level;
		uint64_t e = *leaf_ptr(m, m->root[f->as], f->gfn, &level);

		if (!spte_is_mmio(m, e))
			return PF_INVALID;
		if (mmio_spte_gen(e) == (m->gen & ((1ULL << SPTE_MMIO_GEN_BITS) - 1)))
			return PF_EMULATE; /* handle_mmio_page_fault: no pf_* */
		f->rsvd = false; /* stale generation: the full fault */
		f->present = false;
	}
	f->v->stat[SV_VCPU_STAT_pf_taken]++;
	r = fast_page_fault(m, f);
	if (r != PF_INVALID) {
		f->v->stat[SV_VCPU_STAT_pf_fast]++;
		sv__charge(f->v, m->vm->opts.costs.pf_fast);
		return r;
	}
	sv__charge(f->v, m->vm->opts.costs.pf_slow);
	r = faultin(m, f);
	if (r != PF_CONTINUE)
		return r;
	size_fault(m, f);
	r = tdp_map(m, f);
	return r;
}

bool sv__mmu_exit(sv_vcpu *v, sv_fault *f)
{
	sv_vm *vm = v->vm;
	sv_mmu *m = vm->mmu;
	const sv_costs *c = &vm->opts.costs;
	pf p = {0};
	sv_pf_ret r;

	p.v = v;
	p.as = v->smm;
	p.gfn = f->gpa >> 12;
	if (f->kind == SV_FAULT_EPT_VIOLATION) {
		uint64_t q = f->exit_qualification;

		p.write = q & SV_EPT_EXITQ_WRITE;
		p.exec = q & SV_EPT_EXITQ_FETCH;
		p.present = q & (SV_EPT_EXITQ_READABLE | SV_EPT_EXITQ_WRITABLE |
				 SV_EPT_EXITQ_EXECUTABLE);
	} else if (f->kind == SV_FAULT_EPT_MISCONFIG) {
		p.rsvd = true;
	} else {
		p.write = f->error_code & SV_PFERR_W;
		p.exec = f->error_code & SV_PFERR_I;
		p.present = f->error_code & SV_PFERR_P;
		p.rsvd = f->error_code & SV_PFERR_RSVD;
	}
	p.acc = p.write ? SV_ACCESS_WRITE : p.exec ? SV_ACCESS_FETCH : SV_ACCESS_READ;
	v->in_guest = false;
	v->stat[SV_VCPU_STAT_exits]++;
	sv__charge(v, c->vmexit + c->vmentry);
	if (v->pml_n)
		sv__pml_drain(v); /* KVM empties the log on every exit */
	r = page_fault(m, &p);
	switch (r) {
	case PF_FIXED:
		v->stat[SV_VCPU_STAT_pf_fixed]++;
		return true;
	case PF_SPURIOUS:
		v->stat[SV_VCPU_STAT_pf_spurious]++;
		return true;
	case PF_RETRY:
		v->stat[SV_VCPU_STAT_pf_retry]++;
		/* While an invalidation still covers the gfn nothing can
		 * change until it ends: the caller runs the access again
		 * then.  A moved sequence alone retries at once. */
		if (inv_covers(m, p.gfn)) {
			f->kind = SV_FAULT_RETRY;
			return false;
		}
		return true;
	case PF_EMULATE:
		/* p.rsvd still set: the MMIO fast path, which counts no pf_* */
		if (!p.rsvd)
			v->stat[SV_VCPU_STAT_pf_emulate]++;
		v->stat[SV_VCPU_STAT_mmio_exits]++;
		f->kind = SV_FAULT_MMIO;
		return false;
	case PF_EFAULT:
		v->stat[SV_VCPU_STAT_pf_efault]++;
		f->kind = SV_FAULT_EFAULT;
		return false;
	default:
		return false; /* not ours: the fault stands */
	}
}

/* ---- attach, free, queries ------------------------------------------------------ */

static void bits_setup(sv_mmu *m)
{
	sv_spte_bits *b = &m->b;
	const sv_vm_options *o = &m->vm->opts;

	memset(b, 0, sizeof(*b));
	if (o->tdp == SV_TDP_EPT) {
		b->r = SV_EPT_R;
		b->w = SV_EPT_W;
		b->x = SV_EPT_X;
		b->hw_present = SV_EPT_RWX;
		b->a = o->tdp_ad ? SV_EPT_A : 0;
		b->d = o->tdp_ad ? SV_EPT_D : 0;
		b->ps = SV_EPT_PS;
		b->host_w = 1ULL << 57;
		b->mmu_w = 1ULL << 58;
		b->leaf_attr = (SV_EPT_MT_WB << SV_EPT_MT_SHIFT) | SV_EPT_IPAT;
		b->table = SV_EPT_RWX;
		/* write + execute without read: a misconfiguration */
		b->mmio = SV_EPT_W | SV_EPT_X;
		b->saved_shift = 54; /* R to bit 54, X to bit 56 */
		m->ad = o->tdp_ad;
	} else {
		b->r = SV_PTE_P;
		b->w = SV_PTE_RW;
		b->nx = SV_PTE_NX;
		b->hw_present = SV_PTE_P;
		b->ps = SV_PTE_PS;
		b->host_w = 1ULL << 9;
		b->mmu_w = 1ULL << 10;
		b->leaf_attr = SV_PTE_US;
		b->table = SV_PTE_P | SV_PTE_RW | SV_PTE_US;
		/* present with reserved bit 51 set: #NPF with RSVD */
		b->mmio = SV_PTE_P | (1ULL << 51);
		b->a = SV_PTE_A;
		b->d = SV_PTE_D;
		m->ad = true; /* NPT entries always have A/D flags */
	}
}

static int check_mmu_options(sv_vm *vm, const sv_mmu_options *o)
{
	if (o->version != 1 && o->version != SV_MMU_OPTIONS_VERSION)
		return sv__err(vm, SV_EINVAL,
			       "mmu options: version %u, expected %u "
			       "(initialise with SV_MMU_OPTIONS_INIT)",
			       o->version, SV_MMU_OPTIONS_VERSION);
	if (o->kernel_version < SV_KERNEL(5, 0) ||
	    o->kernel_version > SV_KERNEL(7, 99) || o->kernel_version % 100 > 99)
		return sv__err(vm, SV_EINVAL,
			       "mmu options: kernel_version %u (expected "
			       "SV_KERNEL(5, 0) to SV_KERNEL(7, 99))",
			       o->kernel_version);
	if (o->split_on_fault < -1 || o->split_on_fault > 1 ||
	    o->recover_in_place < -1 || o->recover_in_place > 1)
		return sv__err(vm, SV_EINVAL,
			       "mmu options: split_on_fault and recover_in_place "
			       "are SV_BY_VERSION, 0 or 1");
	if (o->bugs & ~SV_BUG_ALL)
		return sv__err(vm, SV_EINVAL, "mmu options: unknown bugs 0x%x",
			       o->bugs & ~SV_BUG_ALL);
	if (o->pml && (vm->opts.tdp != SV_TDP_EPT || !vm->opts.tdp_ad))
		return sv__err(vm, SV_EINVAL,
			       "mmu options: pml needs EPT with A/D flags");
	if (vm->opts.tdp == SV_TDP_NPT && vm->opts.maxphyaddr > 51)
		return sv__err(vm, SV_EINVAL,
			       "mmu options: NPT MMIO SPTEs need a reserved "
			       "physical-address bit (maxphyaddr <= 51)");
	if (!o->policy || !sv_mmu_policy_find(o->policy))
		return sv__err(vm, SV_ENOENT,
			       "mmu options: no sizing policy named \"%s\" "
			       "(kvm, kvm-legacy or a registered one)",
			       o->policy ? o->policy : "(null)");
	return SV_OK;
}

int sv_mmu_attach(sv_vm *vm, sv_host *host, const sv_mmu_options *opts)
{
	sv_mmu_options defaults = SV_MMU_OPTIONS_INIT;
	sv_mmu *m;
	unsigned i;
	int rc;

	if (!vm || !host)
		return sv__err(vm, SV_EINVAL, "sv_mmu_attach: NULL argument");
	if (!opts)
		opts = &defaults;
	if (vm->mmu)
		return sv__err(vm, SV_EEXIST, "sv_mmu_attach: already attached");
	if (vm->memslots.slots->len)
		return sv__err(vm, SV_EBUSY,
			       "sv_mmu_attach: the VM has memslots already; "
			       "attach the host first");
	if (vm->tdp->pages != 1)
		return sv__err(vm, SV_EBUSY,
			       "sv_mmu_attach: the VM's nested tree has entries");
	rc = check_mmu_options(vm, opts);
	if (rc)
		return rc;
	m = g_new0(sv_mmu, 1);
	m->vm = vm;
	m->host = host;
	if (opts->version == 1) {
		/* a version-1 caller's struct ends before tdp_mmu */
		memcpy(&m->opts, opts, offsetof(sv_mmu_options, tdp_mmu));
		m->opts.tdp_mmu = true;
	} else {
		m->opts = *opts;
	}
	m->opts.version = SV_MMU_OPTIONS_VERSION;
	m->policy = sv_mmu_policy_find(opts->policy);
	m->opts.policy = m->policy->name;
	if (m->opts.split_on_fault == SV_BY_VERSION)
		m->opts.split_on_fault = opts->kernel_version >= SV_KERNEL(6, 2);
	if (m->opts.recover_in_place == SV_BY_VERSION)
		m->opts.recover_in_place = opts->kernel_version >= SV_KERNEL(6, 13);
	m->top = vm->tdp_fmt->levels;
	m->max_level = vm->opts.tdp_1g ? 3 : 2;
	bits_setup(m);
	m->sp = g_array_new(FALSE, TRUE, sizeof(sv_sp));
	g_array_set_size(m->sp, (guint)vm->tdp_frames.used);
	sp_of(m, vm->tdp->root)->level = (uint8_t)m->top;
	m->root[0] = vm->tdp->root;
	m->nops = sv__mmu_notifier_ops;
	rc = sv_host_notifier_register(host, &m->nops, vm);
	if (rc) {
		g_array_free(m->sp, TRUE);
		g_free(m);
		return rc;
	}
	for (i = 0; i < vm->opts.vcpus; i++) {
		sv_vcpu *v = vm->vcpus[i];

		v->pml_on = m->opts.pml;
		if (v->pml_on)
			v->pml = g_new0(uint64_t, 512);
		if (m->opts.audit) {
			v->slow_only = true;
			sv__fast_clear(v);
		}
	}
	vm->mmu = m;
	return SV_OK;
}

void sv__mmu_free(sv_mmu *m)
{
	unsigned i;

	if (!m)
		return;
	sv_host_notifier_unregister(m->host, &m->nops, m->vm);
	for (i = 0; i < m->vm->opts.vcpus; i++) {
		g_free(m->vm->vcpus[i]->pml);
		m->vm->vcpus[i]->pml = NULL;
	}
	for (i = 0; i < SV_AUDIT__COUNT; i++)
		g_free(m->audit_first[i]);
	g_array_free(m->sp, TRUE);
	g_free(m);
}

const sv_mmu_options *sv_mmu_options_get(const sv_vm *vm)
{
	return vm && vm->mmu ? &vm->mmu->opts : NULL;
}

int sv_mmu_spte(sv_vm *vm, uint64_t gpa, sv_spte_info *out)
{
	sv_mmu *m;
	uint64_t e, *p;
	unsigned level;

	if (!vm || !out)
		return sv__err(vm, SV_EINVAL, "sv_mmu_spte: NULL argument");
	m = vm->mmu;
	if (!m)
		return sv__err(vm, SV_ENOTSUP, "sv_mmu_spte: no MMU attached");
	memset(out, 0, sizeof(*out));
	p = leaf_ptr(m, m->root[0], gpa >> 12, &level);
	e = *p;
	out->raw = e;
	out->level = level;
	out->mmio = spte_is_mmio(m, e);
	out->present = spte_present(e);
	if (!out->present)
		return SV_OK;
	out->hpa = (e & SPTE_ADDR) & ~((level_pages(level) << 12) - 1);
	out->access_tracked = spte_access_tracked(m, e);
	out->readable = spte_allows(m, e, SV_ACCESS_READ);
	out->writable = spte_allows(m, e, SV_ACCESS_WRITE);
	out->executable = spte_allows(m, e, SV_ACCESS_FETCH);
	out->host_writable = e & m->b.host_w;
	out->mmu_writable = e & m->b.mmu_w;
	out->accessed = m->b.a ? (e & m->b.a) != 0 : !out->access_tracked;
	out->dirty = m->b.d ? (e & m->b.d) != 0 : out->writable;
	return SV_OK;
}
