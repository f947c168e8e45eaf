/*
 * embed_tracedriven - linking simvirt into another simulator.
 *
 * A simulator that already produces a stream of guest memory accesses (a
 * trace, a timing model, a binary translator) can hand each access to
 * simvirt and get back what the two-stage translation cost: TLB hits and
 * misses, walk references, EPT violations and the hypervisor MMU's work.
 * Host-kernel events (migration, madvise, khugepaged) go in between, and
 * the MMU reacts to them through its MMU notifier as KVM does.
 *
 * Here the "other simulator" is a loop over 64 MiB of THP-backed guest
 * memory.  The vCPU runs with guest paging off, so each address handed in
 * is a guest-physical address; build guest page tables with sv_pt_new()
 * and set CR3 to model the guest dimension too (see walk2d.c).
 *
 * Build: cc embed_tracedriven.c $(pkg-config --cflags --libs simvirt)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <simvirt/simvirt.h>

#include "example_check.h"

#define GPA 0x40000000ULL
#define SIZE (64ULL << 20)
#define STRIDE 4096ULL

/* One access of the embedding simulator's stream. */
static void access_one(sv_vcpu *v, uint64_t gpa, bool write)
{
	sv_xlate x;

	CHECK(sv_vcpu_translate(&x, v, gpa, 8, write ? SV_ACCESS_WRITE : SV_ACCESS_READ));
	if (x.fault.kind != SV_FAULT_NONE) {
		fprintf(stderr, "gpa 0x%" PRIx64 ": %s\n", gpa,
			sv_fault_kind_name(x.fault.kind));
		exit(1);
	}
}

static void pass(sv_vcpu *v, bool write)
{
	uint64_t a;

	for (a = GPA; a < GPA + SIZE; a += STRIDE)
		access_one(v, a, write);
}

/* The counters an embedder typically reads back after each stage. */
static void report(const char *stage, sv_vm *vm, const sv_host *h)
{
	printf("%-22s pf_taken %6" PRIu64 "  pages_2m %3" PRIu64
	       "  pages_4k %5" PRIu64 "  invalidations %3" PRIu64
	       "  tlb_miss %6" PRIu64 "  cycles %9" PRIu64 "  host faults %5" PRIu64 "\n",
	       stage, sv_vm_vcpu_stat_sum(vm, SV_VCPU_STAT_pf_taken),
	       sv_vm_stat_get(vm, SV_VM_STAT_pages_2m),
	       sv_vm_stat_get(vm, SV_VM_STAT_pages_4k),
	       sv_vm_stat_get(vm, SV_VM_STAT_invalidations),
	       sv_vm_vcpu_stat_sum(vm, SV_VCPU_STAT_tlb_miss),
	       sv_vm_vcpu_stat_sum(vm, SV_VCPU_STAT_cycles),
	       sv_host_stat_get(h, SV_HOST_STAT_faults));
}

int main(void)
{
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.size = SIZE,
		.prot = SV_PROT_READ | SV_PROT_WRITE,
		.backing = SV_BACKING_ANON,
	};
	sv_memslot_region slot = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = 1,
		.gpa = GPA,
		.size = SIZE,
	};
	sv_host *host = NULL;
	sv_vm *vm = NULL;
	sv_vcpu *v;
	uint64_t hva;

	/* The host process: 16 GiB of RAM, THP for madvised VMAs. */
	CHECK(sv_host_new(&host, NULL));
	/* One vCPU with EPT, and KVM's MMU (the `kvm` policy, 6.12). */
	CHECK(sv_vm_new(&vm, NULL));
	CHECK(sv_mmu_attach(vm, host, NULL));
	/* Guest RAM as QEMU makes it: anonymous memory, MADV_HUGEPAGE. */
	CHECK(sv_host_mmap(&hva, host, &a));
	CHECK(sv_host_madvise(host, hva, SIZE, SV_MADV_HUGEPAGE));
	slot.hva = hva;
	CHECK(sv_memslot_set(vm, &slot));
	v = sv_vm_vcpu(vm, 0);

	pass(v, true);
	report("first touch", vm, host);
	/* The host migrates the first 2 MiB (NUMA balancing, compaction):
	 * the notifier zaps the 2M SPTE over it; the next touch refaults. */
	CHECK(sv_host_migrate(host, hva, 2ULL << 20));
	/* ... and the guest's balloon gives back 4 MiB (MADV_DONTNEED). */
	CHECK(sv_host_madvise(host, hva + (8ULL << 20), 4ULL << 20,
			      SV_MADV_DONTNEED));
	report("after host events", vm, host);
	pass(v, false);
	report("second pass", vm, host);

	sv_vm_free(vm);
	sv_host_free(host);
	return 0;
}
