/*
 * lib/vm.c - creating and freeing a VM; VM-wide counters.
 */
#include "cpu/vcpu.h"
#include "ept/mmu.h"
#include "ptbuild.h"

void sv_vm_options_init(sv_vm_options *opts)
{
	static const sv_vm_options d = SV_VM_OPTIONS_INIT;

	if (opts)
		memcpy(opts, &d, sizeof(d)); /* the padding too */
}

static int check_options(const sv_vm_options *o)
{
	if (o->version != SV_VM_OPTIONS_VERSION)
		return sv_err__set(NULL, SV_EINVAL,
				   "vm options: version %u, expected %u (initialise "
				   "with SV_VM_OPTIONS_INIT)",
				   o->version, SV_VM_OPTIONS_VERSION);
	if (o->vcpus < 1 || o->vcpus > SV_MAX_VCPUS)
		return sv_err__set(NULL, SV_EINVAL,
				   "vm options: vcpus = %u (expected 1 to %u)",
				   o->vcpus, SV_MAX_VCPUS);
	if (o->tdp != SV_TDP_EPT && o->tdp != SV_TDP_NPT)
		return sv_err__set(NULL, SV_EINVAL,
				   "vm options: tdp = %d (expected SV_TDP_EPT or "
				   "SV_TDP_NPT)", (int)o->tdp);
	if (o->tdp_levels != 4 && o->tdp_levels != 5)
		return sv_err__set(NULL, SV_EINVAL,
				   "vm options: tdp_levels = %u (expected 4 or 5)",
				   o->tdp_levels);
	if (o->guest_levels != 4 && o->guest_levels != 5)
		return sv_err__set(NULL, SV_EINVAL,
				   "vm options: guest_levels = %u (expected 4 or 5)",
				   o->guest_levels);
	if (o->maxphyaddr < 36 || o->maxphyaddr > 52)
		return sv_err__set(NULL, SV_EINVAL,
				   "vm options: maxphyaddr = %u (expected 36 to 52)",
				   o->maxphyaddr);
	if (o->tdp == SV_TDP_NPT && o->tdp_ad)
		return sv_err__set(NULL, SV_EINVAL,
				   "vm options: tdp_ad is EPTP bit 6, EPT only (NPT "
				   "sets A/D like ordinary page tables)");
	return sv_tlb_config_validate(&o->tlb);
}

int sv_vm_new(sv_vm **out, const sv_vm_options *opts)
{
	sv_vm_options defaults = SV_VM_OPTIONS_INIT;
	sv_pt_options po = {.version = SV_PT_OPTIONS_VERSION, .kind = SV_PT_TDP};
	sv_vm *vm;
	unsigned i;
	int rc;

	sv_err__clear();
	if (out)
		*out = NULL;
	if (!out)
		return sv_err__set(NULL, SV_EINVAL, "sv_vm_new: NULL out");
	if (!opts)
		opts = &defaults;
	rc = check_options(opts);
	if (rc)
		return rc;
	vm = g_try_new0(sv_vm, 1);
	if (!vm)
		return sv_err__set(NULL, SV_ENOMEM, "sv_vm_new: no memory");
	vm->opts = *opts;
	sv_memslots__init(&vm->memslots);
	sv_memslots__init(&vm->memslots_smm);
	/* Nested tables live in the upper half of host-physical space, out
	 * of the way of the frames a test maps guest memory to.  Up to 1M
	 * table pages (4 GiB: 4K EPT mappings of 2 TiB) are reserved. */
	if (sv_frames__init(&vm->tdp_frames, 1ULL << (opts->maxphyaddr - 1),
			    MIN(1ULL << (opts->maxphyaddr - 13), 1ULL << 20))) {
		rc = sv_err__set(NULL, SV_ENOMEM,
				 "sv_vm_new: cannot reserve address space "
				 "for the nested tables");
		goto free_vm;
	}
	vm->tdp_fmt = opts->tdp == SV_TDP_EPT
			      ? (opts->tdp_levels == 5 ? &sv_pt__fmt_ept_5 : &sv_pt__fmt_ept_4)
			      : (opts->tdp_levels == 5 ? &sv_pt__fmt_x86_5 : &sv_pt__fmt_x86_4);
	if (opts->tdp == SV_TDP_NPT || opts->tdp_ad) {
		vm->tdp_abit = opts->tdp == SV_TDP_EPT ? SV_EPT_A : SV_PTE_A;
		vm->tdp_dbit = opts->tdp == SV_TDP_EPT ? SV_EPT_D : SV_PTE_D;
	}
	vm->ones_table = g_try_malloc(4096);
	if (!vm->ones_table) {
		rc = sv_err__set(NULL, SV_ENOMEM, "sv_vm_new: no memory");
		goto free_vm;
	}
	memset(vm->ones_table, 0xff, 4096);
	rc = sv_pt_new(&vm->tdp, vm, &po);
	if (rc)
		goto free_vm;
	vm->tdp->vm_owned = true;
	vm->vcpus = g_try_new0(sv_vcpu *, opts->vcpus);
	if (!vm->vcpus) {
		rc = sv_err__set(NULL, SV_ENOMEM, "sv_vm_new: no memory");
		goto free_vm;
	}
	for (i = 0; i < opts->vcpus; i++) {
		rc = sv_vcpu__new(&vm->vcpus[i], vm, i);
		if (rc)
			goto free_vm;
	}
	*out = vm;
	return SV_OK;

free_vm:
	sv_vm_free(vm);
	return rc;
}

void sv_vm_free(sv_vm *vm)
{
	unsigned i;
	bool own_bytes;

	if (!vm)
		return;
	own_bytes = !vm->mmu;
	sv_mmu__free(vm->mmu); /* first: it reaches into the vCPUs */
	vm->mmu = NULL;
	if (vm->vcpus)
		for (i = 0; i < vm->opts.vcpus; i++)
			sv_vcpu__free(vm->vcpus[i]);
	g_free(vm->vcpus);
	g_free(vm->errbuf);
	if (vm->tdp) {
		vm->tdp->vm_owned = false;
		sv_pt_free(vm->tdp);
	}
	sv_frames__fini(&vm->tdp_frames);
	sv_memslots__fini(&vm->memslots, own_bytes);
	sv_memslots__fini(&vm->memslots_smm, own_bytes);
	g_free(vm->ones_table);
	g_free(vm);
}

const char *sv_vm_last_error(const sv_vm *vm)
{
	return vm && vm->errbuf ? vm->errbuf : "";
}

const sv_vm_options *sv_vm_options_get(const sv_vm *vm)
{
	return &vm->opts;
}

unsigned sv_vm_vcpu_count(const sv_vm *vm)
{
	return vm ? vm->opts.vcpus : 0;
}

sv_vcpu *sv_vm_vcpu(sv_vm *vm, unsigned i)
{
	return vm && i < vm->opts.vcpus ? vm->vcpus[i] : NULL;
}

uint64_t sv_vm_stat_get(const sv_vm *vm, sv_vm_stat id)
{
	return vm && (unsigned)id < SV_VM_STAT__COUNT ? vm->stat[id] : 0;
}

uint64_t sv_vm_vcpu_stat_sum(const sv_vm *vm, sv_vcpu_stat id)
{
	uint64_t sum = 0;
	unsigned i;

	if (!vm || (unsigned)id >= SV_VCPU_STAT__COUNT)
		return 0;
	for (i = 0; i < vm->opts.vcpus; i++)
		sum += sv_vcpu_stat_get(vm->vcpus[i], id);
	return sum;
}

void sv_vm_stats_reset(sv_vm *vm)
{
	unsigned i;

	if (!vm)
		return;
	for (i = 0; i < SV_VM_STAT__COUNT; i++)
		if (!sv_vm_stat_is_level((sv_vm_stat)i))
			vm->stat[i] = 0;
	for (i = 0; i < vm->opts.vcpus; i++)
		sv_vcpu_stats_reset(vm->vcpus[i]);
}
