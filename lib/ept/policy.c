/*
 * lib/ept/policy.c - huge-page sizing policies: which level a gfn may be
 * mapped at, given what the host maps behind it.
 *
 *  kvm         today's KVM (host_pfn_mapping_level): walk the host page
 *              tables at the hva; a PUD leaf allows 1G, a PMD leaf 2M,
 *              anything else 4K.  No VMA lookup, no struct page.
 *  kvm-legacy  KVM before the "Huge page fixes, cleanup, and DAX" series
 *              (v5.5 and older): the VMA's page size (hugetlbfs only),
 *              else 2M for a PMD-mapped transparent huge page
 *              (PageTransCompoundMap); DAX never huge.
 * The MMU clamps the answer to lpage_info and the TDP page sizes.
 * Registered policies are looked up by name after the built-in ones.
 */
#include "ept/mmu.h"

/* Kernels from 5.6 to about 6.0 checked PageCompound before walking, so a
 * pfn without a compound struct page (PFNMAP, reserved) mapped 4K. */
static bool compound_precheck(const sv_host *h, uint64_t pfn)
{
	sv_host_page pg;

	if (sv_host_page_info(&pg, h, pfn))
		return false;
	return pg.compound || pg.zone_device;
}

static unsigned kvm_level(const sv_mmu_fault_info *info, void *payload)
{
	sv_host_leaf l;
	sv_host_page pg;

	SV_UNUSED(payload);
	if (sv_host_lookup(&l, info->host, info->hva) || !l.present)
		return 1;
	if ((info->bugs & SV_BUG_B6_DAX_4K) &&
	    !sv_host_page_info(&pg, info->host, l.pfn) && pg.zone_device)
		return 1;
	if (SV_GATE(COMPOUND_PRECHECK, info->kernel_version) &&
	    !compound_precheck(info->host, l.pfn))
		return 1;
	return l.level < info->max_level ? l.level : info->max_level;
}

static unsigned legacy_level(const sv_mmu_fault_info *info, void *payload)
{
	unsigned bugs = info->bugs;
	sv_host_vma vma;
	sv_host_leaf l;
	sv_host_page pg;
	unsigned level = 1;
	uint64_t vma_hva = info->hva;
	bool lookup = !((bugs & SV_BUG_B4_READONLY_4K) && info->slot_readonly);

	SV_UNUSED(payload);
	/* host_mapping_level: vma_kernel_pagesize(find_vma(hva)).  With B4
	 * the lookup assumed a write and failed on read-only slots; with B3
	 * it translated the gfn in address space 0 whatever the vCPU's. */
	if ((bugs & SV_BUG_B3_SMM_AS0) && info->smm) {
		lookup = lookup && info->as0_has_gfn;
		vma_hva = info->as0_hva;
	}
	if (lookup && !sv_host_vma_info(&vma, info->host, vma_hva))
		level = vma.page_size == SV_PAGE_1G   ? 3
			: vma.page_size == SV_PAGE_2M ? 2
						      : 1;
	if (level > 1)
		return level < info->max_level ? level : info->max_level;
	/* transparent_hugepage_adjust: a 4K level becomes 2M when the page
	 * is part of a PMD-mapped THP (with B2: of any compound page), but
	 * never for reserved or ZONE_DEVICE pfns. */
	if (info->max_level < 2 || sv_host_lookup(&l, info->host, info->hva) ||
	    !l.present || sv_host_page_info(&pg, info->host, l.pfn) ||
	    pg.reserved || pg.zone_device)
		return 1;
	if (bugs & SV_BUG_B2_ANY_COMPOUND)
		return pg.compound && pg.order >= 9 ? 2 : 1;
	return pg.kind == SV_PAGE_THP && l.level >= 2 ? 2 : 1;
}

const sv_mmu_policy sv_policy__kvm = {
	SV_MMU_POLICY_VERSION, "kvm", kvm_level, NULL, NULL,
};
const sv_mmu_policy sv_policy__kvm_legacy = {
	SV_MMU_POLICY_VERSION, "kvm-legacy", legacy_level, NULL, NULL,
};

static GPtrArray *registered; /* const sv_mmu_policy * */

const sv_mmu_policy *sv_mmu_policy_find(const char *name)
{
	guint i;

	if (!name)
		return NULL;
	if (!strcmp(name, sv_policy__kvm.name))
		return &sv_policy__kvm;
	if (!strcmp(name, sv_policy__kvm_legacy.name))
		return &sv_policy__kvm_legacy;
	for (i = 0; registered && i < registered->len; i++) {
		const sv_mmu_policy *p = g_ptr_array_index(registered, i);

		if (!strcmp(p->name, name))
			return p;
	}
	return NULL;
}

int sv_mmu_policy_register(const sv_mmu_policy *p)
{
	sv_err__clear();
	if (!p || !p->name || !p->level)
		return sv_err__set(NULL, SV_EINVAL,
				   "sv_mmu_policy_register: a policy needs a name "
				   "and a level callback");
	if (p->version != SV_MMU_POLICY_VERSION)
		return sv_err__set(NULL, SV_EINVAL,
				   "policy %s: version %u, expected %u", p->name,
				   p->version, SV_MMU_POLICY_VERSION);
	if (sv_mmu_policy_find(p->name) || !strcmp(p->name, "auto"))
		return sv_err__set(NULL, SV_EEXIST, "policy %s: the name is taken",
				   p->name);
	if (!registered)
		registered = g_ptr_array_new();
	g_ptr_array_add(registered, (gpointer)p);
	return SV_OK;
}

int sv_mmu_policy_unregister(const char *name)
{
	guint i;

	sv_err__clear();
	for (i = 0; registered && name && i < registered->len; i++) {
		const sv_mmu_policy *p = g_ptr_array_index(registered, i);

		if (!strcmp(p->name, name)) {
			g_ptr_array_remove_index(registered, i);
			if (!registered->len) {
				g_ptr_array_free(registered, TRUE);
				registered = NULL;
			}
			return SV_OK;
		}
	}
	return sv_err__set(NULL, SV_ENOENT, "no registered policy named \"%s\"",
			   name ? name : "(null)");
}
