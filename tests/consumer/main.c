/* A program outside the tree, built against an installed simvirt. */
#include <stdio.h>

#include <simvirt/simvirt.h>

int main(void)
{
	sv_vm *vm = NULL;
	sv_xlate x;
	int rc = sv_vm_new(&vm, NULL);

	if (rc) {
		fprintf(stderr, "sv_vm_new: %s\n", sv_strerror(rc));
		return 1;
	}
	/* paging off, nothing mapped in EPT: an EPT violation */
	rc = sv_vcpu_translate(&x, sv_vm_vcpu(vm, 0), 0x1000, 8, SV_ACCESS_READ);
	sv_vm_free(vm);
	if (rc || x.fault.kind != SV_FAULT_EPT_VIOLATION) {
		fprintf(stderr, "unexpected result %d/%d\n", rc, x.fault.kind);
		return 1;
	}
	printf("simvirt %s consumer: ok\n", sv_version_string());
	return 0;
}
