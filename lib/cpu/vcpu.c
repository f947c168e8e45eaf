/*
 * lib/cpu/vcpu.c - the vCPU's state: registers and the mode derived from
 * them, the requests the hypervisor MMU makes of it, SMM, the observer
 * and the counters.  The access path is lib/cpu/access.c, the
 * TLB-maintenance instructions lib/cpu/invalidate.c.
 */
#include "cpu/vcpu.h"
#include "ept/mmu.h"
#include "ept/nested.h"
#include "ptbuild.h"
#include "scenario/keyfile.h"

int sv_vcpu__new(sv_vcpu **out, sv_vm *vm, unsigned index)
{
	sv_vcpu *v = g_try_new0(sv_vcpu, 1);
	int rc;

	if (!v)
		return sv_err__set(vm, SV_ENOMEM, "vcpu %u: no memory", index);
	v->vm = vm;
	v->index = index;
	v->fast_epoch = 1; /* the zeroed recent[] and huge[] are empty */
	rc = sv_tlb__init(&v->tlb, &vm->opts.tlb,
			  vm->opts.seed ^ (0x9e3779b97f4a7c15ULL * (index + 1)));
	if (rc) {
		g_free(v);
		return sv_err__set(vm, rc, "vcpu %u: no memory for its TLBs", index);
	}
	sv_nested__setup(v);
	v->regs.version = SV_VCPU_REGS_VERSION;
	v->regs.cr0 = SV_CR0_PE;
	v->regs.cr4 = SV_CR4_PAE | (vm->opts.guest_levels == 5 ? SV_CR4_LA57 : 0);
	v->regs.efer = SV_EFER_LME | SV_EFER_NXE;
	v->regs.rflags = 2;
	v->regs.vpid = (uint16_t)(index + 1);
	v->regs.eptp = sv_pt_pointer(vm->tdp);
	rc = sv_vcpu_set_regs(v, &v->regs);
	if (rc) {
		sv_vcpu__free(v);
		return rc;
	}
	*out = v;
	return SV_OK;
}

void sv_vcpu__free(sv_vcpu *v)
{
	if (!v)
		return;
	sv_dcache__free(v->dcache);
	sv_tlb__fini(&v->tlb);
	g_free(v->pml);
	g_free(v);
}

unsigned sv_vcpu_index(const sv_vcpu *v)
{
	return v ? v->index : UINT_MAX;
}

void sv_vcpu_get_regs(const sv_vcpu *v, sv_vcpu_regs *out)
{
	if (out)
		*out = v ? v->regs : (sv_vcpu_regs){0};
}

/* Checks an EPTP (or nCR3) against the VM: SDM "Extended-Page-Table
 * Pointer" for EPT (memory type UC or WB, walk length, reserved bits). */
static int check_tdp_pointer(sv_vm *vm, uint64_t p)
{
	uint64_t root = p & SV_EPTP_ADDR_MASK;

	if (vm->opts.tdp == SV_TDP_EPT) {
		uint64_t mt = p & SV_EPTP_MT_MASK;
		uint64_t pwl = (p & SV_EPTP_PWL_MASK) >> SV_EPTP_PWL_SHIFT;

		if (mt != SV_EPT_MT_UC && mt != SV_EPT_MT_WB)
			return sv_err__set(vm, SV_EINVAL,
					   "eptp 0x%" PRIx64 ": memory type %" PRIu64
					   " (expected 0 = UC or 6 = WB)",
					   p, mt);
		if (pwl + 1 != vm->opts.tdp_levels)
			return sv_err__set(vm, SV_EINVAL,
					   "eptp 0x%" PRIx64 ": walk length %" PRIu64
					   " (the VM's EPT has %u levels)",
					   p, pwl + 1, vm->opts.tdp_levels);
		if (p & ~(SV_EPTP_ADDR_MASK | SV_EPTP_MT_MASK |
			  SV_EPTP_PWL_MASK | SV_EPTP_AD))
			return sv_err__set(vm, SV_EINVAL,
					   "eptp 0x%" PRIx64 ": reserved bits set", p);
		if ((p & SV_EPTP_AD) && !vm->opts.tdp_ad)
			return sv_err__set(vm, SV_EINVAL,
					   "eptp 0x%" PRIx64 ": A/D enabled but the "
					   "VM's options say tdp_ad = false", p);
	}
	if (!sv_frames__live(&vm->tdp_frames, root))
		return sv_err__set(vm, SV_EINVAL,
				   "%s 0x%" PRIx64 ": root 0x%" PRIx64
				   " is not a nested table of this VM",
				   vm->opts.tdp == SV_TDP_EPT ? "eptp" : "ncr3", p,
				   root);
	return SV_OK;
}

int sv_vcpu_set_regs(sv_vcpu *v, const sv_vcpu_regs *r)
{
	sv_vm *vm;
	sv_vcpu_regs n;
	bool pg;
	int rc;

	sv_err__clear();
	if (!v || !r)
		return sv_err__set(v ? v->vm : NULL, SV_EINVAL,
				   "sv_vcpu_set_regs: NULL argument");
	vm = v->vm;
	n = *r;
	if (n.version != SV_VCPU_REGS_VERSION)
		return sv_err__set(vm, SV_EINVAL, "vcpu regs: version %u, expected %u",
				   n.version, SV_VCPU_REGS_VERSION);
	if (n.cpl > 3)
		return sv_err__set(vm, SV_EINVAL, "vcpu regs: cpl %u (expected 0-3)",
				   n.cpl);
	pg = n.cr0 & SV_CR0_PG;
	if (pg && !(n.cr0 & SV_CR0_PE))
		return sv_err__set(vm, SV_EINVAL, "vcpu regs: CR0.PG without CR0.PE");
	if (pg && (!(n.cr4 & SV_CR4_PAE) || !(n.efer & SV_EFER_LME)))
		return sv_err__set(vm, SV_EINVAL,
				   "vcpu regs: paging needs CR4.PAE and EFER.LME "
				   "(simvirt models 64-bit paging only)");
	/* EFER.LMA follows LME and PG, as the processor sets it. */
	if (pg && (n.efer & SV_EFER_LME))
		n.efer |= SV_EFER_LMA;
	else
		n.efer &= ~SV_EFER_LMA;
	if ((n.cr4 & SV_CR4_PCIDE) && !(n.efer & SV_EFER_LMA))
		return sv_err__set(vm, SV_EINVAL,
				   "vcpu regs: CR4.PCIDE outside long mode");
	if (n.cr3 & SV_CR3_NOFLUSH)
		return sv_err__set(vm, SV_EINVAL,
				   "vcpu regs: CR3 bit 63 is not part of CR3 (use "
				   "sv_vcpu_mov_cr3 for a no-flush MOV to CR3)");
	if ((n.cr3 & SV_PTE_ADDR_MASK) >> vm->opts.maxphyaddr)
		return sv_err__set(vm, SV_EINVAL,
				   "vcpu regs: CR3 0x%" PRIx64 " beyond MAXPHYADDR",
				   n.cr3);
	rc = check_tdp_pointer(vm, n.eptp);
	if (rc)
		return rc;

	v->regs = n;
	v->paging = pg;
	v->lma = n.efer & SV_EFER_LMA;
	v->wp = n.cr0 & SV_CR0_WP;
	v->smep = n.cr4 & SV_CR4_SMEP;
	v->smap = n.cr4 & SV_CR4_SMAP;
	v->pge = n.cr4 & SV_CR4_PGE;
	v->pcide = n.cr4 & SV_CR4_PCIDE;
	v->nxe = n.efer & SV_EFER_NXE;
	v->user = n.cpl == 3;
	v->ac = n.rflags & SV_RFLAGS_AC;
	v->pcid = v->pcide ? (uint16_t)(n.cr3 & SV_CR3_PCID_MASK) : 0;
	v->ep4ta = n.eptp & SV_EPTP_ADDR_MASK;
	sv_gwalk__setup(v);
	sv_vcpu__fast_clear(v);
	return SV_OK;
}


/* ---- what the hypervisor MMU asks --------------------------------------------- */

bool sv_vcpu__request_flush(sv_vcpu *v)
{
	v->req_flush = true;
	sv_vcpu__fast_clear(v); /* the next access must see the request */
	return v->in_guest;
}

void sv_vcpu__flush_gpa(sv_vcpu *v, uint64_t gpa)
{
	/* Combined entries name their guest-physical page; the guest-physical
	 * TLB and the nested walk cache are indexed by it.  Guest
	 * paging-structure caches are left: the guest's tables did not
	 * change. */
	sv_tlb_filter f = {.kinds = SV_TLBK_COMBINED, .by_gpa = true, .gpa = gpa};

	sv_vcpu__drop(v, &f);
	f = (sv_tlb_filter){.kinds = SV_TLBK_NESTED, .by_addr = true, .addr = gpa};
	sv_vcpu__drop(v, &f);
}

void sv_vcpu__set_root(sv_vcpu *v, uint64_t root)
{
	v->regs.eptp = (v->regs.eptp & ~SV_EPTP_ADDR_MASK) | root;
	v->ep4ta = root;
	sv_vcpu__fast_clear(v);
}

void sv_vcpu__set_shadow_root(sv_vcpu *v, uint64_t root, uint64_t cr3)
{
	v->sroot = root;
	v->sroot_cr3 = cr3;
	sv_vcpu__fast_clear(v);
}

int sv_vcpu__mmu_attached(sv_vcpu *v, bool pml, bool audit, bool shadow)
{
	v->shadow = shadow;
	if (shadow) {
		const sv_vm_options *o = &v->vm->opts;

		/* the shadow tables: x86 tables of the guest's depth, with
		 * 1G leaves only where the guest has them */
		sv_pt__walker_init(&v->swalker,
				   o->guest_levels == 5 ? &sv_pt__fmt_x86_5
							: &sv_pt__fmt_x86_4,
				   o->maxphyaddr, true, o->guest_1g, false);
		v->swalker.fetch = NULL;
		v->sroot = v->sroot_cr3 = 0;
	}
	v->pml_on = pml;
	if (pml) {
		v->pml = g_try_new0(uint64_t, 512);
		if (!v->pml)
			return sv_err__set(v->vm, SV_ENOMEM,
					   "vcpu %u: no memory for its PML log",
					   v->index);
	}
	v->audit = audit;
	if (audit) {
		v->slow_only = true;
		sv_vcpu__fast_clear(v);
	}
	return SV_OK;
}

void sv_vcpu__mmu_detached(sv_vcpu *v)
{
	v->shadow = false;
	v->sroot = v->sroot_cr3 = 0;
	g_free(v->pml);
	v->pml = NULL;
	v->pml_on = false;
	v->pml_n = 0;
}

void sv_vcpu_leave_guest(sv_vcpu *v)
{
	if (!v)
		return;
	v->in_guest = false;
	sv_vcpu__fast_clear(v); /* its next access enters again */
}

int sv_vcpu_set_smm(sv_vcpu *v, bool smm)
{
	sv_mmu *m;
	uint64_t root;

	sv_err__clear();
	if (!v)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_set_smm: NULL vCPU");
	m = v->vm->mmu;
	if (!m)
		return sv_err__set(v->vm, SV_EINVAL,
				   "sv_vcpu_set_smm: SMM needs the hypervisor MMU "
				   "(sv_mmu_attach)");
	root = sv_mmu__root(m, smm);
	if (!root)
		return sv_err__set(v->vm, SV_ENOMEM,
				   "sv_vcpu_set_smm: no table page for the SMM "
				   "root");
	v->smm = smm;
	/* The root switch is a new EPTP/nCR3: entries tagged with the other
	 * root stay in the TLB but cannot match. */
	sv_vcpu__set_root(v, root);
	return SV_OK;
}

/* ---- observer and counters ---------------------------------------------------- */

#define NAME(name, desc) #name,
#define DESC(name, desc) desc,
static const char *const vcpu_stat_names[] = {SV_VCPU_STAT_LIST(NAME)};
static const char *const vcpu_stat_descs[] = {SV_VCPU_STAT_LIST(DESC)};
#undef NAME
#undef DESC

const char *sv_vcpu_stat_name(sv_vcpu_stat id)
{
	return (unsigned)id < SV_VCPU_STAT__COUNT ? vcpu_stat_names[id] : NULL;
}

const char *sv_vcpu_stat_desc(sv_vcpu_stat id)
{
	return (unsigned)id < SV_VCPU_STAT__COUNT ? vcpu_stat_descs[id] : NULL;
}

int sv_vcpu_stat_lookup(sv_vcpu_stat *out, const char *name)
{
	int i = sv_keyfile__parse_name(name, vcpu_stat_names, SV_VCPU_STAT__COUNT);

	sv_err__clear();
	if (!out)
		return sv_err__set(NULL, SV_EINVAL, "sv_vcpu_stat_lookup: NULL out");
	if (i < 0)
		return sv_err__set(NULL, SV_ENOENT, "no vCPU counter named '%s'",
				   name ? name : "(null)");
	*out = (sv_vcpu_stat)i;
	return SV_OK;
}


void sv_vcpu_set_walk_observer(sv_vcpu *v, sv_walk_observer_fn fn,
			       void *payload)
{
	if (!v)
		return;
	v->observer = fn;
	v->observer_payload = payload;
	v->slow_only = fn || v->audit || v->dcache;
	sv_gwalk__setup(v);
	sv_nested__setup(v);
	/* With an observer every access takes the full path, so that TLB
	 * hits are reported too; the counters are the same either way. */
	sv_vcpu__fast_clear(v);
}

uint64_t sv_vcpu_stat_get(const sv_vcpu *v, sv_vcpu_stat id)
{
	return v && (unsigned)id < SV_VCPU_STAT__COUNT ? v->stat[id] : 0;
}

void sv_vcpu_stats_reset(sv_vcpu *v)
{
	if (v)
		memset(v->stat, 0, sizeof(v->stat));
}

void sv_vcpu_tlb_foreach(const sv_vcpu *v, sv_tlb_visit_fn fn, void *payload)
{
	if (v && fn)
		sv_tlb__foreach(&v->tlb, fn, payload);
}

/* ---- the data-cache model -------------------------------------------------- */

uint32_t sv_vcpu__dcache(sv_vcpu *v, uint64_t line, bool ref)
{
	static const sv_vcpu_stat data[] = {
		SV_VCPU_STAT_data_l1d, SV_VCPU_STAT_data_l2,
		SV_VCPU_STAT_data_llc, SV_VCPU_STAT_data_mem};
	static const sv_vcpu_stat refs[] = {
		SV_VCPU_STAT_ref_l1d, SV_VCPU_STAT_ref_l2,
		SV_VCPU_STAT_ref_llc, SV_VCPU_STAT_ref_mem};
	const sv_costs *c = &v->vm->opts.costs;
	unsigned level = sv_dcache__access(v->dcache, line);
	uint32_t cost = level == 0 ? 0 : level == 1 ? c->cache_l2
			: level == 2 ? c->cache_llc : c->cache_mem;

	v->stat[(ref ? refs : data)[level]]++;
	sv_vcpu__charge(v, cost);
	return cost;
}

uint32_t sv_vcpu__dcache_walk(sv_vcpu *v, const sv_walk *w, uint64_t addr,
			      uint64_t tag)
{
	uint32_t cycles = 0;
	unsigned i;

	for (i = 0; i < w->refs; i++) {
		unsigned level = w->start - i;
		uint64_t entry = w->table[level] +
				 ((addr >> (12 + 9 * (level - 1))) & 511) * 8;

		cycles += sv_vcpu__dcache(v, (entry >> 6) | tag, true);
	}
	return cycles;
}

int sv_vm_set_cache(sv_vm *vm, const sv_cache_config *cfg)
{
	unsigned i;
	int rc = SV_OK;

	sv_err__clear();
	if (!vm)
		return sv_err__set(NULL, SV_EINVAL, "sv_vm_set_cache: NULL VM");
	for (i = 0; i < vm->opts.vcpus && rc == SV_OK; i++) {
		sv_vcpu *v = vm->vcpus[i];
		sv_dcache *c;

		rc = sv_dcache__new(&c, cfg);
		if (rc != SV_OK)
			break;
		sv_dcache__free(v->dcache);
		v->dcache = c;
		/* the fast path counts an L1 hit without the access's line */
		v->slow_only = v->observer || v->audit || c;
		sv_vcpu__fast_clear(v);
	}
	if (rc != SV_OK)
		return sv_err__set(vm, rc, "%s", sv_error_detail());
	return SV_OK;
}
