/*
 * lib/gates.h - the behaviours that follow the modelled kernel's version
 * (sv_host_options.kernel_version, sv_mmu_options.kernel_version): one
 * table, which the code tests with SV_GATE() and which `simvirt list
 * --versions` prints as docs/kernel-versions.md has it.
 */
#ifndef SV_GATES_H
#define SV_GATES_H

#include "base.h"

/*
 * X(ID, FROM, UNTIL, what, source): the behaviour holds for kernels in
 * [FROM, UNTIL), SV_KERNEL numbers; FROM 0 is "every kernel before",
 * UNTIL 0 "every kernel from".
 */
#define SV_GATE_LIST(X)                                                        \
	X(LEGACY_SIZING, 0, SV_KERNEL(5, 6),                                   \
	  "policy=auto is kvm-legacy: the size comes from the hugetlbfs VMA "  \
	  "or PageTransCompoundMap (THP, 2M at most); DAX is never huge",      \
	  "the series \"KVM: x86/mmu: Huge page fixes, cleanup, and DAX\" "    \
	  "(kvm-reference.md (a))")                                            \
	X(COMPOUND_PRECHECK, SV_KERNEL(5, 6), SV_KERNEL(6, 1),                 \
	  "policy kvm asks PageCompound before walking: a pfn without a "      \
	  "compound struct page (PFNMAP, reserved) is mapped 4K",              \
	  "host_pfn_mapping_level (kvm-reference.md (a)); the end is given "   \
	  "as about 6.0 there")                                                \
	X(NOREF_PFN_EFAULT, SV_KERNEL(5, 13), SV_KERNEL(6, 13),                \
	  "a VM_PFNMAP page with a struct page outside refcounting cannot be " \
	  "pinned: the fault is EFAULT (backing=pfnmap-ram)",                  \
	  "f8be156be163 (CVE-2021-22543) until \"KVM: Stop grabbing "          \
	  "references to PFNMAP'd pages\" (kvm-reference.md (a))")             \
	X(SPLIT_ON_FAULT, SV_KERNEL(6, 2), 0,                                  \
	  "a fault below a huge SPTE splits it in place; before, it was "      \
	  "zapped with a flush ([vm] split_on_fault overrides)",               \
	  "c4b33d28ea51 (kvm-reference.md (b) step 6, (g) 14)")                \
	X(COLLAPSE_TABLES, SV_KERNEL(6, 2), 0,                                 \
	  "disabling dirty logging zaps each collapsible non-leaf SPTE; "      \
	  "before, each collapsible 4K leaf",                                  \
	  "kvm_tdp_mmu_zap_collapsible_sptes (kvm-reference.md (c))")          \
	X(HUGE_PFNMAP, SV_KERNEL(6, 12), 0,                                    \
	  "the host maps an aligned VM_PFNMAP range with PMD and PUD leaves; " \
	  "before, with 4K PTEs only",                                         \
	  "huge pfnmap support in mm (\"mm: Support huge pfnmaps\", "          \
	  "vfio-pci's huge_fault)")                                            \
	X(RECOVER_IN_PLACE, SV_KERNEL(6, 13), 0,                               \
	  "disabling dirty logging installs the huge SPTEs in place, no "      \
	  "refault ([vm] recover_in_place overrides)",                         \
	  "kvm_mmu_recover_huge_pages (kvm-reference.md (c), (g) 17)")

enum {
#define SV__GATE_BOUNDS(id, from, until, what, source) \
	SV_GATE_FROM_##id = (from), SV_GATE_UNTIL_##id = (until),
	SV_GATE_LIST(SV__GATE_BOUNDS)
#undef SV__GATE_BOUNDS
};

static inline bool sv_gate__in(unsigned kernel, unsigned from, unsigned until)
{
	return kernel >= from && (!until || kernel < until);
}

/* Whether gate ID's behaviour holds for `kernel`. */
#define SV_GATE(id, kernel) \
	sv_gate__in((kernel), SV_GATE_FROM_##id, SV_GATE_UNTIL_##id)

#endif /* SV_GATES_H */
