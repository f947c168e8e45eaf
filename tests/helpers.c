#include "helpers.h"

#include <stdlib.h>

sv_vm *t_vm_opts(const sv_vm_options *o)
{
	sv_vm *vm = NULL;

	T_OK(sv_vm_new(&vm, o));
	return vm;
}

sv_vm *t_vm(void)
{
	return t_vm_opts(NULL);
}

void t_slot(sv_vm *vm, uint32_t id, uint64_t gpa, uint64_t size)
{
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, id, 0, gpa, size, 0};

	T_OK(sv_memslot_set(vm, &r));
}

sv_pt *t_guest_pt(sv_vm *vm, uint64_t pool, uint64_t size)
{
	sv_pt_options o = {SV_PT_OPTIONS_VERSION, SV_PT_GUEST, 0, pool, size};
	sv_pt *pt = NULL;

	T_OK(sv_pt_new(&pt, vm, &o));
	return pt;
}

void t_paging(sv_vcpu *v, uint64_t cr3, uint64_t cr4_extra)
{
	sv_vcpu_regs r;

	sv_vcpu_get_regs(v, &r);
	r.cr0 = SV_CR0_PE | SV_CR0_PG;
	r.cr4 |= SV_CR4_PAE | cr4_extra;
	r.efer |= SV_EFER_LME | SV_EFER_NXE;
	r.cr3 = cr3;
	T_OK(sv_vcpu_set_regs(v, &r));
}

sv_xlate t_access(sv_vcpu *v, uint64_t gva, sv_access acc)
{
	sv_xlate x;

	T_OK(sv_vcpu_translate(&x, v, gva, 1, acc));
	return x;
}

uint64_t t_nested_all(const sv_vm *vm)
{
	return sv_vm_options_get(vm)->tdp == SV_TDP_EPT
		       ? SV_EPT_RWX
		       : SV_PTE_RW | SV_PTE_US;
}

void t_env_setup(t_env *e, const sv_vm_options *o, uint64_t ept_page)
{
	e->vm = t_vm_opts(o);
	e->v = sv_vm_vcpu(e->vm, 0);
	t_slot(e->vm, 0, 0, 64ULL << 20);
	e->gpt = t_guest_pt(e->vm, 1ULL << 20, 1ULL << 20);
	e->tdp = sv_vm_tdp(e->vm);
	T_OK(sv_pt_map(e->tdp, 0, 0, 64ULL << 20, ept_page, t_nested_all(e->vm)));
	t_paging(e->v, sv_pt_root(e->gpt), 0);
}

void t_env_free(t_env *e)
{
	sv_pt_free(e->gpt);
	sv_vm_free(e->vm);
}

int t_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
