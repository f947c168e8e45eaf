/*
 * custom_policy - plugging your own huge-page sizing policy into the MMU.
 *
 * A sizing policy answers one question for the hypervisor MMU: up to which
 * level (1 = 4K, 2 = 2M, 3 = 1G) may this guest frame be mapped?  The MMU
 * has already clamped the answer to what the memslot and the CPU allow
 * (info->max_level); the policy may only lower it.  Register one under a
 * name and any VM, scenario or `simvirt run --set vm.policy=NAME` can use
 * it.
 *
 * The policy here, "no-1g", is `kvm` (walk the host page tables) except
 * that it never maps 1G: a hypervisor might want that to keep 1G SPTEs
 * from being split wholesale by dirty logging.  It is compared with `kvm`
 * on random reads over a 1 GiB hugetlbfs slot with 1G guest pages: the
 * 1G SPTE lets each TLB entry cover the whole slot; 2M SPTEs cut every
 * entry to 2M (a combined entry is as large as the smaller of the guest
 * and the nested page), so the same reads miss the TLB far more often.
 *
 * Build: cc custom_policy.c $(pkg-config --cflags --libs simvirt)
 */
#include <inttypes.h>
#include <stdio.h>

#include <simvirt/simvirt.h>

#include "example_check.h"

typedef struct no_1g {
	const sv_mmu_policy *kvm; /* the built-in policy it refines */
	uint64_t refused;         /* how often it said no to 1G */
} no_1g;

static unsigned no_1g_level(const sv_mmu_fault_info *info, void *payload)
{
	no_1g *p = payload;
	unsigned level = p->kvm->level(info, p->kvm->payload);

	if (level < 3)
		return level;
	p->refused++;
	return 2;
}

static const char scenario[] =
	"[scenario]\n"
	"name=custom-policy\n"
	"[memslot.data]\n"
	"gpa=0x40000000\n"
	"size=1G\n"
	"backing=hugetlb-1g\n"
	"[guest]\n"
	"workload=random\n"
	"region=data\n"
	"page_size=1G\n"
	"count=20000\n"
	"write=false\n"
	"[phase.1]\n"
	"name=reads\n";

static void run(const char *policy)
{
	static const char *const names[] = {"pages_2m", "pages_1g", "pf_taken",
					    "tlb_miss", "walk_refs", "cycles"};
	char set[48];
	const char *sets[] = {set, NULL};
	sv_scenario *s = NULL;
	sv_report *r = NULL;
	unsigned i;

	snprintf(set, sizeof(set), "vm.policy=%s", policy);
	CHECK(sv_scenario_load_data(&s, scenario, sizeof(scenario) - 1,
				    "custom_policy", sets));
	CHECK(sv_scenario_run(&r, s, NULL));
	printf("%-8s", policy);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t v;

		/* Phase 1: the random reads (0 is the library's set-up). */
		CHECK(sv_report_get(&v, r, 1, SV_REPORT_VM, names[i]));
		printf("  %s %" PRIu64, names[i], v);
	}
	putchar('\n');
	sv_report_free(r);
	sv_scenario_free(s);
}

int main(void)
{
	no_1g state = {sv_mmu_policy_find("kvm"), 0};
	sv_mmu_policy policy = {
		.version = SV_MMU_POLICY_VERSION,
		.name = "no-1g",
		.level = no_1g_level,
		.payload = &state,
	};

	CHECK(sv_mmu_policy_register(&policy));
	run("kvm");
	run("no-1g");
	printf("no-1g refused 1G %" PRIu64 " times\n", state.refused);
	CHECK(sv_mmu_policy_unregister("no-1g"));
	return 0;
}
