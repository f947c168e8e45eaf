// A C++ program outside the tree, built against an installed simvirt as
// a simulator written in C++ (ChampSim, gem5, Sniper) would embed it: it
// feeds its own address stream to the trace-driven API.
#include <cinttypes>
#include <cstdio>
#include <memory>

#include <simvirt/simvirt.h>

namespace {

struct vm_deleter {
	void operator()(sv_vm *vm) const { sv_vm_free(vm); }
};
struct host_deleter {
	void operator()(sv_host *h) const { sv_host_free(h); }
};

bool ok(int rc, const char *what)
{
	if (rc == SV_OK)
		return true;
	std::fprintf(stderr, "%s: %s: %s\n", what, sv_strerror(rc),
		     sv_error_detail());
	return false;
}

} // namespace

int main()
{
	constexpr uint64_t gpa = 0x40000000, size = 8 << 20;
	sv_host_options ho;
	sv_host *hraw = nullptr;
	sv_vm *vraw = nullptr;
	uint64_t hva = 0;

	sv_host_options_init(&ho);
	if (!ok(sv_host_new(&hraw, &ho), "sv_host_new"))
		return 1;
	std::unique_ptr<sv_host, host_deleter> host(hraw);
	if (!ok(sv_vm_new(&vraw, nullptr), "sv_vm_new"))
		return 1;
	std::unique_ptr<sv_vm, vm_deleter> vm(vraw);
	if (!ok(sv_mmu_attach(vm.get(), host.get(), nullptr), "sv_mmu_attach"))
		return 1;

	sv_host_mmap_args a{};
	a.version = SV_HOST_MMAP_VERSION;
	a.size = size;
	a.prot = SV_PROT_READ | SV_PROT_WRITE;
	a.backing = SV_BACKING_ANON;
	if (!ok(sv_host_mmap(&hva, host.get(), &a), "sv_host_mmap") ||
	    !ok(sv_host_madvise(host.get(), hva, size, SV_MADV_HUGEPAGE),
		"sv_host_madvise"))
		return 1;
	sv_memslot_region slot{};
	slot.version = SV_MEMSLOT_REGION_VERSION;
	slot.slot = 1;
	slot.gpa = gpa;
	slot.size = size;
	slot.hva = hva;
	if (!ok(sv_memslot_set(vm.get(), &slot), "sv_memslot_set"))
		return 1;

	// The embedding simulator's stream: one write per 4K page.
	sv_vcpu *v = sv_vm_vcpu(vm.get(), 0);
	for (uint64_t p = gpa; p < gpa + size; p += 4096) {
		sv_xlate x;

		if (!ok(sv_vcpu_translate(&x, v, p, 8, SV_ACCESS_WRITE),
			"sv_vcpu_translate") ||
		    x.fault.kind != SV_FAULT_NONE)
			return 1;
	}
	// 8M of THP-backed memory: 8M / 2M = 4 huge SPTEs, one fault each.
	uint64_t huge = sv_vm_stat_get(vm.get(), SV_VM_STAT_pages_2m);
	uint64_t faults = sv_vm_vcpu_stat_sum(vm.get(), SV_VCPU_STAT_pf_taken);
	std::printf("simvirt %s C++ consumer: pages_2m %" PRIu64
		    ", pf_taken %" PRIu64 "\n",
		    sv_version_string(), huge, faults);
	return huge == 4 && faults == 4 ? 0 : 1;
}
