/*
 * lib/cpu/invalidate.c - the TLB-maintenance instructions of a vCPU.
 *
 * Each builds filters that select exactly the entries the SDM (Vol. 3A
 * "Invalidation of TLBs and Paging-Structure Caches", Vol. 3C "Invalidating
 * Cached Translation Information", the INVPCID/INVVPID/INVEPT pages) or the
 * APM (TLB_CONTROL, INVLPGA) says it invalidates, and drops them:
 *  - guest instructions (INVLPG, INVPCID, MOV to CR3) act on combined
 *    entries and paging-structure caches of the current VPID, for every
 *    EP4TA;
 *  - INVVPID acts on combined entries and paging-structure caches of a
 *    VPID, never on guest-physical ones;
 *  - INVEPT acts on guest-physical and combined entries (and both walk
 *    caches) of an EP4TA, for every VPID;
 *  - an SVM flush acts on everything tagged with an ASID.
 */
#include "cpu/vcpu.h"
#include "ept/mmu.h"

void sv_vcpu__drop(sv_vcpu *v, const sv_tlb_filter *f)
{
	unsigned n = sv_tlb__invalidate(&v->tlb, f);

	v->stat[SV_VCPU_STAT_tlb_entries_dropped] += n;
	if (n)
		sv_vcpu__fast_clear(v);
}

/* A filter on the current VPID (and, with pcid >= 0, one PCID). */
static sv_tlb_filter in_vpid(const sv_vcpu *v, unsigned kinds, int pcid)
{
	sv_tlb_filter f = {0};

	f.kinds = kinds;
	f.by_vpid = true;
	f.vpid = v->regs.vpid;
	if (pcid >= 0) {
		f.by_pcid = true;
		f.pcid = (uint16_t)pcid;
	}
	return f;
}

/* Shadow paging intercepts INVLPG and MOV to CR3: an exit, out of guest
 * mode while the MMU works (a flush it asks for is the vCPU's own, done at
 * the next entry, no IPI). */
static void intercepted(sv_vcpu *v)
{
	const sv_costs *c = &v->vm->opts.costs;

	v->in_guest = false;
	v->stat[SV_VCPU_STAT_exits]++;
	sv_vcpu__charge(v, c->vmexit + c->vmentry);
}

int sv_vcpu_invlpg(sv_vcpu *v, uint64_t gva)
{
	sv_tlb_filter f;

	sv_err__clear();
	if (!v)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_invlpg: NULL vcpu");
	/* The page's entries for the current PCID and any global ones. */
	f = in_vpid(v, SV_TLBK_COMBINED, v->pcid);
	f.pcid_or_global = true;
	f.by_addr = true;
	f.addr = gva;
	sv_vcpu__drop(v, &f);
	/* Every paging-structure-cache entry of the current PCID. */
	f = in_vpid(v, SV_TLBK_PSC, v->pcid);
	sv_vcpu__drop(v, &f);
	v->stat[SV_VCPU_STAT_invlpg]++;
	sv_vcpu__charge(v, v->vm->opts.costs.invlpg);
	/* shadow paging intercepts it: an unsync leaf for gva goes */
	if (v->shadow) {
		intercepted(v);
		sv_shadow__invlpg(v->vm->mmu, v, gva);
	}
	return SV_OK;
}

void sv_vcpu__flush_all(sv_vcpu *v)
{
	sv_tlb_filter f = in_vpid(v, SV_TLBK_ALL, -1);

	sv_vcpu__drop(v, &f);
	v->stat[SV_VCPU_STAT_tlb_flush]++;
}

int sv_vcpu_invpcid(sv_vcpu *v, unsigned type, uint16_t pcid, uint64_t gva)
{
	sv_tlb_filter f;

	sv_err__clear();
	if (!v)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_invpcid: NULL vcpu");
	if (type > 3)
		return sv_err__set(v->vm, SV_EINVAL,
				   "invpcid: type %u (expected 0-3; the CPU raises "
				   "#GP)", type);
	if (pcid > SV_CR3_PCID_MASK)
		return sv_err__set(v->vm, SV_EINVAL,
				   "invpcid: pcid %u does not fit 12 bits", pcid);
	switch (type) {
	case 0: /* individual address, non-global, that PCID */
		f = in_vpid(v, SV_TLBK_COMBINED, pcid);
		f.keep_global = true;
		f.by_addr = true;
		f.addr = gva;
		sv_vcpu__drop(v, &f);
		f = in_vpid(v, SV_TLBK_PSC, pcid);
		sv_vcpu__drop(v, &f);
		break;
	case 1: /* single context: that PCID's non-global entries */
		f = in_vpid(v, SV_TLBK_COMBINED, pcid);
		f.keep_global = true;
		sv_vcpu__drop(v, &f);
		f = in_vpid(v, SV_TLBK_PSC, pcid);
		sv_vcpu__drop(v, &f);
		break;
	case 2: /* all contexts, globals included */
		f = in_vpid(v, SV_TLBK_COMBINED | SV_TLBK_PSC, -1);
		sv_vcpu__drop(v, &f);
		break;
	default: /* all contexts but globals */
		f = in_vpid(v, SV_TLBK_COMBINED | SV_TLBK_PSC, -1);
		f.keep_global = true;
		sv_vcpu__drop(v, &f);
		break;
	}
	v->stat[SV_VCPU_STAT_invpcid]++;
	sv_vcpu__charge(v, v->vm->opts.costs.invpcid);
	/* shadow paging intercepts it (kvm_handle_invpcid): one address is
	 * an INVLPG's work, a whole context a sync */
	if (v->shadow) {
		intercepted(v);
		if (type == 0)
			sv_shadow__invlpg(v->vm->mmu, v, gva);
		else
			sv_shadow__sync_all(v->vm->mmu);
	}
	return SV_OK;
}

int sv_vcpu_mov_cr3(sv_vcpu *v, uint64_t cr3)
{
	bool noflush;
	uint64_t stored;
	sv_vcpu_regs r;
	int rc;

	sv_err__clear();
	if (!v)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_mov_cr3: NULL vcpu");
	noflush = cr3 & SV_CR3_NOFLUSH;
	if (noflush && !v->pcide)
		return sv_err__set(v->vm, SV_EINVAL,
				   "mov cr3: bit 63 set without CR4.PCIDE (#GP)");
	stored = cr3 & ~SV_CR3_NOFLUSH;
	r = v->regs;
	r.cr3 = stored;
	rc = sv_vcpu_set_regs(v, &r);
	if (rc)
		return rc;
	if (!noflush) {
		/* The new PCID's (PCID 0 without PCIDE) non-global entries. */
		sv_tlb_filter f = in_vpid(v, SV_TLBK_COMBINED | SV_TLBK_PSC, v->pcid);

		f.keep_global = true;
		sv_vcpu__drop(v, &f);
	}
	v->stat[SV_VCPU_STAT_mov_cr3]++;
	sv_vcpu__charge(v, v->vm->opts.costs.mov_cr3);
	/* shadow paging intercepts it: unsync pages are synced, and the
	 * next walk loads the root of the new CR3 */
	if (v->shadow) {
		intercepted(v);
		sv_shadow__sync_all(v->vm->mmu);
	}
	return SV_OK;
}

int sv_vcpu_invvpid(sv_vcpu *v, unsigned type, uint16_t vpid, uint64_t gva)
{
	sv_tlb_filter f = {0};

	sv_err__clear();
	if (!v)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_invvpid: NULL vcpu");
	if (v->vm->opts.tdp != SV_TDP_EPT)
		return sv_err__set(v->vm, SV_ENOTSUP, "invvpid: an NPT VM has no VPIDs");
	if (type > 3)
		return sv_err__set(v->vm, SV_EINVAL,
				   "invvpid: type %u (expected 0-3)", type);
	if (type != 2 && vpid == 0)
		return sv_err__set(v->vm, SV_EINVAL,
				   "invvpid: type %u with VPID 0 fails (VMfailValid)",
				   type);
	f.kinds = SV_TLBK_COMBINED | SV_TLBK_PSC;
	f.by_vpid = type != 2;
	f.vpid = vpid;
	f.skip_vpid0 = type == 2;
	f.keep_global = type == 3;
	if (type == 0) {
		/* The entries that would translate gva, for every PCID and
		 * EP4TA, globals included. */
		f.by_addr = true;
		f.addr = gva;
	}
	sv_vcpu__drop(v, &f);
	v->stat[SV_VCPU_STAT_invvpid]++;
	if (type != 0)
		v->stat[SV_VCPU_STAT_tlb_flush]++;
	sv_vcpu__charge(v, v->vm->opts.costs.invvpid);
	return SV_OK;
}

int sv_vcpu_invept(sv_vcpu *v, unsigned type, uint64_t eptp)
{
	sv_tlb_filter f = {0};

	sv_err__clear();
	if (!v)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_invept: NULL vcpu");
	if (v->vm->opts.tdp != SV_TDP_EPT)
		return sv_err__set(v->vm, SV_ENOTSUP, "invept: the VM uses NPT");
	if (type != 1 && type != 2)
		return sv_err__set(v->vm, SV_EINVAL,
				   "invept: type %u (expected 1 single-context or "
				   "2 all-context)", type);
	f.kinds = SV_TLBK_ALL;
	f.by_ep4ta = type == 1;
	f.ep4ta = eptp & SV_EPTP_ADDR_MASK;
	sv_vcpu__drop(v, &f);
	v->stat[SV_VCPU_STAT_invept]++;
	v->stat[SV_VCPU_STAT_tlb_flush]++;
	sv_vcpu__charge(v, v->vm->opts.costs.invept);
	return SV_OK;
}

int sv_vcpu_svm_tlb_control(sv_vcpu *v, unsigned ctl)
{
	sv_tlb_filter f = {0};

	sv_err__clear();
	if (!v)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_svm_tlb_control: NULL vcpu");
	if (v->vm->opts.tdp != SV_TDP_NPT)
		return sv_err__set(v->vm, SV_ENOTSUP,
				   "tlb_control: the VM uses EPT, not SVM");
	if (ctl == 0)
		return SV_OK;
	if (ctl != 1 && ctl != 3 && ctl != 7)
		return sv_err__set(v->vm, SV_EINVAL,
				   "tlb_control: %u (expected 0, 1, 3 or 7)", ctl);
	f.kinds = SV_TLBK_ALL;
	f.by_vpid = ctl != 1;
	f.vpid = v->regs.vpid;
	f.keep_global = ctl == 7;
	sv_vcpu__drop(v, &f);
	v->stat[SV_VCPU_STAT_asid_flush]++;
	v->stat[SV_VCPU_STAT_tlb_flush]++;
	sv_vcpu__charge(v, v->vm->opts.costs.asid_flush);
	return SV_OK;
}

int sv_vcpu_invlpga(sv_vcpu *v, uint64_t gva, uint16_t asid)
{
	sv_tlb_filter f = {0};

	sv_err__clear();
	if (!v)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_invlpga: NULL vcpu");
	if (v->vm->opts.tdp != SV_TDP_NPT)
		return sv_err__set(v->vm, SV_ENOTSUP,
				   "invlpga: the VM uses EPT, not SVM");
	f.kinds = SV_TLBK_COMBINED;
	f.by_vpid = true;
	f.vpid = asid;
	f.by_addr = true;
	f.addr = gva;
	sv_vcpu__drop(v, &f);
	f.kinds = SV_TLBK_PSC;
	f.by_addr = false;
	sv_vcpu__drop(v, &f);
	v->stat[SV_VCPU_STAT_asid_flush]++;
	sv_vcpu__charge(v, v->vm->opts.costs.invlpg);
	return SV_OK;
}
