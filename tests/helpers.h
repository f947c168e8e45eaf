/*
 * tests/helpers.h - one-line default VMs and full-control constructors for
 * the Check suites.
 */
#ifndef SV_TEST_HELPERS_H
#define SV_TEST_HELPERS_H

#include <check.h>
#include <simvirt/simvirt.h>

#define T_OK(expr)                                                        \
	do {                                                              \
		int t_rc_ = (expr);                                       \
		ck_assert_msg(t_rc_ == SV_OK, "%s: %s: %s", #expr,        \
			      sv_strerror(t_rc_), sv_error_detail());     \
	} while (0)

/* A VM with the default options, or with *o. */
sv_vm *t_vm(void);
sv_vm *t_vm_opts(const sv_vm_options *o);
/* A memslot with bytes at [gpa, gpa + size). */
void t_slot(sv_vm *vm, uint32_t id, uint64_t gpa, uint64_t size);
/* A guest tree whose tables come from [pool, pool + size). */
sv_pt *t_guest_pt(sv_vm *vm, uint64_t pool, uint64_t size);
/* Turns 64-bit paging on with CR3 = cr3, adding cr4 bits. */
void t_paging(sv_vcpu *v, uint64_t cr3, uint64_t cr4_extra);
/* One access that must return SV_OK (faults are in the result). */
sv_xlate t_access(sv_vcpu *v, uint64_t gva, sv_access acc);
/* A counter of vCPU v. */
#define T_STAT(v, name) sv_vcpu_stat_get((v), SV_VCPU_STAT_##name)

/*
 * The usual small machine: guest RAM [0, 64M) in slot 0, guest tables
 * from [1M, 2M), the VM's nested tree identity-mapping [0, 64M) with
 * nested pages of ept_page, paging on with CR3 = the guest tree.
 */
typedef struct t_env {
	sv_vm *vm;
	sv_vcpu *v;
	sv_pt *gpt;
	sv_pt *tdp;
} t_env;
void t_env_setup(t_env *e, const sv_vm_options *o, uint64_t ept_page);
void t_env_free(t_env *e);
/* Nested leaf permissions meaning "all" in the VM's format. */
uint64_t t_nested_all(const sv_vm *vm);

/* Runs a suite: one Check runner, the exit status ctest expects. */
int t_run(Suite *s);

#endif
