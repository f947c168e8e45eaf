/*
 * lib/ept/fault.c - the hypervisor's page-fault path: from the exit to the
 * MMU's map (KVM's kvm_mmu_page_fault, section (b) of the reference).
 *
 * How a nested fault is handled:
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
 *  5. Map: the MMU in use installs the SPTE (lib/ept/tdp.c).
 * The vCPU is out of guest mode while its exit is handled; any flush it
 * asked for is serviced when it enters again.
 */
#include "ept/fault.h"
#include "hostmm/host.h"

/* ---- the fast path -------------------------------------------------------------- */

static sv_pf_ret fast_page_fault(sv_mmu *m, sv_page_fault *f)
{
	const sv_spte_bits *b = &m->b;
	unsigned level;
	uint64_t *p, e, n;

	/* page_fault_can_be_fast */
	if (f->rsvd)
		return PF_INVALID;
	if (!f->present ? m->ad : !f->write)
		return PF_INVALID;
	p = sv_mmu__leaf_ptr(m, m->root[f->as], f->gfn, &level);
	e = *p;
	if (!sv_spte__present(e))
		return PF_INVALID;
	if (sv_spte__allows(b, e, f->acc))
		return PF_SPURIOUS;
	n = e;
	if (sv_spte__access_tracked(b, e))
		n = sv_spte__restore(b, e);
	if (f->write && (e & b->mmu_w)) {
		const sv_memslot *s = sv_memslots__find(sv_vcpu__memslots(f->v),
							f->gfn << 12);

		/* A huge SPTE in a dirty-logged slot needs the slow path,
		 * which maps 4K. */
		if (level > 1 && s && s->dirty)
			return PF_INVALID;
		/* (a 4K leaf made writable marks its gfn dirty: the
		 * SPTE-change function does it) */
		n |= b->w | b->d;
	}
	if (n == e || !sv_spte__allows(b, n, f->acc))
		return PF_INVALID;
	sv_mmu__spte_set(m, f->as, p,
			 f->gfn & ~(sv_spte__level_pages(level) - 1), level, n,
			 SV_SPTE_fix);
	return PF_FIXED;
}

/* ---- fault-in and sizing ---------------------------------------------------------- */

static bool inv_covers(const sv_mmu *m, uint64_t gfn)
{
	return m->inv_in_progress && gfn >= m->inv_start && gfn < m->inv_end;
}

static bool fault_stale(const sv_mmu *m, const sv_page_fault *f)
{
	return f->seq != m->inv_seq || inv_covers(m, f->gfn);
}

unsigned sv_mmu__max_mapping_level(sv_mmu *m, const sv_memslot *s,
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
	info.hva = sv_memslot__hva(s, gfn);
	info.smm = s->as == 1;
	if (info.smm) {
		const sv_memslot *s0 = sv_memslots__find(&m->vm->memslots,
							 gfn << 12);

		info.as0_has_gfn = s0 != NULL;
		info.as0_hva = s0 ? sv_memslot__hva(s0, gfn) : 0;
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

/*
 * hva_to_pfn_remapped from 5.13 (f8be156be163, CVE-2021-22543) to 6.12:
 * a VM_PFNMAP pfn with a struct page that is neither reserved nor
 * refcounted cannot be pinned (kvm_try_get_pfn), and the fault is
 * -EFAULT.  Before, KVM took a reference anyway; from 6.13 it maps such
 * pages without one.
 */
static bool refuses_pfn(const sv_mmu *m, uint64_t gfn, uint64_t pfn)
{
	sv_host_page pg;

	if (!SV_GATE(NOREF_PFN_EFAULT, m->opts.kernel_version) ||
	    sv_host_page_info(&pg, m->host, pfn) || pg.kind != SV_PAGE_NOREF)
		return false;
	sv_err__set(m->vm, SV_EFAULT, "gfn 0x%" PRIx64 ": pfn 0x%" PRIx64
		    " has a struct page outside refcounting, which KVM %u.%u "
		    "refuses to map", gfn, pfn, m->opts.kernel_version / 100,
		    m->opts.kernel_version % 100);
	return true;
}

sv_pf_ret sv_mmu__faultin(sv_mmu *m, sv_page_fault *f)
{
	const sv_costs *c = &m->vm->opts.costs;
	uint64_t faults, filled;
	sv_host_leaf leaf;
	bool ro;
	int rc;

	f->slot = sv_memslots__find(sv_vcpu__memslots(f->v), f->gfn << 12);
	f->seq = m->inv_seq;
	if (!f->slot)
		return PF_CONTINUE; /* an MMIO SPTE */
	ro = f->slot->flags & SV_MEMSLOT_READONLY;
	if (f->write && ro)
		return PF_EMULATE;
	if (inv_covers(m, f->gfn))
		return PF_RETRY;
	f->hva = sv_memslot__hva(f->slot, f->gfn);
	faults = sv_host_stat_get(m->host, SV_HOST_STAT_faults);
	filled = sv_host_stat_get(m->host, SV_HOST_STAT_pages_filled);
	rc = sv_host_fault(&leaf, m->host, f->hva, f->write);
	faults = sv_host_stat_get(m->host, SV_HOST_STAT_faults) - faults;
	filled = sv_host_stat_get(m->host, SV_HOST_STAT_pages_filled) - filled;
	/* the host's work is the vCPU's time: GUP runs in its thread */
	if (!f->prefault)
		sv_vcpu__charge(f->v, faults * c->host_fault +
					      filled * c->host_fill_4k);
	if (rc && sv_host__over_limit(m->host)) /* the run ends */
		m->vm->fatal = sv_err__set(m->vm, rc, "%s", sv_error_detail());
	if (rc || (leaf.special && refuses_pfn(m, f->gfn, leaf.pfn)))
		return PF_EFAULT;
	f->pfn = leaf.pfn;
	f->host_writable = !ro && leaf.writable;
	if (fault_stale(m, f))
		return PF_RETRY;
	return PF_CONTINUE;
}

void sv_mmu__size_fault(sv_mmu *m, sv_page_fault *f)
{
	f->huge_disallowed = f->exec && m->opts.nx_huge_pages;
	f->req_level = 1;
	if (f->slot && !f->slot->dirty)
		f->req_level = sv_mmu__max_mapping_level(m, f->slot, f->gfn, false);
	f->goal_level = f->huge_disallowed ? 1 : f->req_level;
}

/* ---- the exit handler ---------------------------------------------------------------- */

static sv_pf_ret page_fault(sv_mmu *m, sv_page_fault *f, sv_fault *x)
{
	sv_pf_ret r;

	if (m->shadow)
		return sv_shadow__page_fault(m, f, x);
	if (f->rsvd) {
		unsigned level;
		uint64_t e = *sv_mmu__leaf_ptr(m, m->root[f->as], f->gfn, &level);

		if (!sv_spte__is_mmio(&m->b, e))
			return PF_INVALID;
		if (sv_spte__mmio_gen(e) == sv_spte__gen_of(m->gen))
			return PF_EMULATE; /* handle_mmio_page_fault: no pf_* */
		f->rsvd = false; /* stale generation: the full fault */
		f->present = false;
	}
	f->v->stat[SV_VCPU_STAT_pf_taken]++;
	r = fast_page_fault(m, f);
	if (r != PF_INVALID) {
		f->v->stat[SV_VCPU_STAT_pf_fast]++;
		sv_vcpu__charge(f->v, m->vm->opts.costs.pf_fast);
		return r;
	}
	sv_vcpu__charge(f->v, m->vm->opts.costs.pf_slow);
	r = sv_mmu__faultin(m, f);
	if (r != PF_CONTINUE)
		return r;
	sv_mmu__size_fault(m, f);
	return sv_tdp__map(m, f);
}

/* The fault an exit describes (EPT violation or misconfiguration, #NPF). */
static sv_page_fault fault_of(sv_vcpu *v, const sv_fault *x)
{
	bool write, exec, present, rsvd = false;

	if (x->kind == SV_FAULT_EPT_VIOLATION) {
		uint64_t q = x->exit_qualification;

		write = q & SV_EPT_EXITQ_WRITE;
		exec = q & SV_EPT_EXITQ_FETCH;
		present = q & (SV_EPT_EXITQ_READABLE | SV_EPT_EXITQ_WRITABLE |
			       SV_EPT_EXITQ_EXECUTABLE);
	} else if (x->kind == SV_FAULT_SHADOW_PF) {
		write = x->error_code & SV_PFERR_W;
		exec = x->error_code & SV_PFERR_I;
		present = x->error_code & SV_PFERR_P;
		rsvd = x->error_code & SV_PFERR_RSVD;
	} else if (x->kind == SV_FAULT_EPT_MISCONFIG) {
		write = exec = present = false;
		rsvd = true;
	} else {
		write = x->error_code & SV_PFERR_W;
		exec = x->error_code & SV_PFERR_I;
		present = x->error_code & SV_PFERR_P;
		rsvd = x->error_code & SV_PFERR_RSVD;
	}
	return (sv_page_fault){
		.v = v,
		.as = v->smm,
		.gva = x->gva,
		.gfn = x->gpa >> 12,
		.acc = write ? SV_ACCESS_WRITE
			     : exec ? SV_ACCESS_FETCH : SV_ACCESS_READ,
		.write = write,
		.exec = exec,
		.present = present,
		.rsvd = rsvd,
	};
}

bool sv_mmu__handle_exit(sv_mmu *m, sv_vcpu *v, sv_fault *x)
{
	sv_page_fault f = fault_of(v, x);
	sv_pf_ret r = page_fault(m, &f, x);

	/* a shadow fault learns its gpa from the guest's tables */
	if (m->shadow && r != PF_GUEST)
		x->gpa = (f.gfn << 12) | (x->gva & 0xfff);
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
		if (inv_covers(m, f.gfn)) {
			x->kind = SV_FAULT_RETRY;
			return false;
		}
		return true;
	case PF_EMULATE:
		if (f.pt_write) {
			/* the shadow MMU emulates the write itself: the access
			 * completes (SV_FAULT_NONE) once its table entry's
			 * shadows are gone */
			v->stat[SV_VCPU_STAT_pf_emulate]++;
			sv_shadow__pte_write(m, x->gpa);
			x->kind = SV_FAULT_NONE;
			return false;
		}
		/* f.rsvd still set: the MMIO fast path, which counts no pf_* */
		if (!f.rsvd)
			v->stat[SV_VCPU_STAT_pf_emulate]++;
		v->stat[SV_VCPU_STAT_mmio_exits]++;
		x->kind = SV_FAULT_MMIO;
		return false;
	case PF_EFAULT:
		v->stat[SV_VCPU_STAT_pf_efault]++;
		x->kind = SV_FAULT_EFAULT;
		return false;
	case PF_GUEST:
		return false; /* *x is the guest's #PF now */
	default:
		return false; /* not ours: the fault stands */
	}
}

/* ---- pre-faulting ------------------------------------------------------------------- */

int sv_mmu_pre_fault(sv_vcpu *v, uint64_t gpa, uint64_t size)
{
	sv_mmu *m;
	uint64_t end;

	sv_err__clear();
	if (!v)
		return sv_err__set(NULL, SV_EINVAL, "sv_mmu_pre_fault: NULL vCPU");
	m = v->vm->mmu;
	if (!m)
		return sv_err__set(v->vm, SV_ENOTSUP,
				   "sv_mmu_pre_fault: no MMU attached");
	if (m->shadow)
		return sv_err__set(v->vm, SV_ENOTSUP,
				   "sv_mmu_pre_fault: the shadow MMU maps guest-"
				   "virtual addresses (KVM_PRE_FAULT_MEMORY needs "
				   "TDP)");
	if ((gpa | size) & 0xfff || gpa + size < gpa)
		return sv_err__set(v->vm, SV_EINVAL,
				   "sv_mmu_pre_fault: [0x%" PRIx64 ", +0x%" PRIx64
				   ") is not a 4K-aligned range", gpa, size);
	for (end = gpa + size; gpa < end;) {
		sv_page_fault f = {
			.v = v,
			.as = v->smm,
			.gfn = gpa >> 12,
			.acc = SV_ACCESS_READ,
			.prefault = true,
		};
		sv_pf_ret r = sv_mmu__faultin(m, &f);
		uint64_t span;
		unsigned level;

		if (r == PF_CONTINUE && !f.slot)
			return sv_err__set(v->vm, SV_ENOENT,
					   "sv_mmu_pre_fault: gpa 0x%" PRIx64
					   " is in no memslot", gpa);
		if (r == PF_EFAULT)
			return sv_err__set(v->vm, SV_EFAULT,
					   "sv_mmu_pre_fault: the host cannot "
					   "fault in gpa 0x%" PRIx64, gpa);
		if (r == PF_RETRY && inv_covers(m, f.gfn))
			return sv_err__set(v->vm, SV_EBUSY,
					   "sv_mmu_pre_fault: gpa 0x%" PRIx64
					   " is being invalidated", gpa);
		if (r == PF_RETRY)
			continue; /* the sequence moved meanwhile: again */
		if (r == PF_CONTINUE) {
			sv_mmu__size_fault(m, &f);
			if (sv_tdp__map(m, &f) == PF_FIXED)
				v->stat[SV_VCPU_STAT_pf_fixed]++;
		}
		/* on past the page now mapped */
		sv_mmu__leaf_ptr(m, m->root[f.as], f.gfn, &level);
		span = sv_spte__level_pages(level) << 12;
		gpa = (gpa & ~(span - 1)) + span;
	}
	return SV_OK;
}
