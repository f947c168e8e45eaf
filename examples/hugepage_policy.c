/*
 * hugepage_policy - which SPTE size does the hypervisor MMU choose?
 *
 * KVM maps a guest-physical range with a huge SPTE only where the host
 * maps the backing memory with a leaf at least that large.  Today's KVM
 * (policy `kvm`) finds out by walking the host page tables at the faulting
 * address, whatever the memory is: THP, hugetlbfs, DAX.  Before that
 * series (policy `kvm-legacy`) it asked two questions instead: is the page
 * a transparent huge page (PageTransCompoundMap), and if not, is the VMA
 * hugetlbfs (and of which size)?  Memory that is neither -- DAX -- got 4K.
 * A slot whose host address is not congruent with its guest address modulo
 * 2M can never be mapped huge, whoever asks.
 *
 * For each backing and each policy this program runs a small scenario (one
 * write per 2M of a 1 GiB slot) and prints the SPTEs the MMU installed.
 *
 * Build: cc hugepage_policy.c $(pkg-config --cflags --libs simvirt)
 */
#include <inttypes.h>
#include <stdio.h>

#include <simvirt/simvirt.h>

#include "example_check.h"

static const char scenario[] =
	"[scenario]\n"
	"name=hugepage-policy\n"
	"[memslot.data]\n"
	"gpa=0x40000000\n"
	"size=1G\n"
	"backing=thp\n"
	"[guest]\n"
	"workload=touch\n"
	"region=data\n"
	"page_size=2M\n"
	"stride=2M\n"
	"passes=1\n"
	"[phase.1]\n"
	"name=touch\n";

static const struct {
	const char *label, *backing, *offset, *why;
} rows[] = {
	{"THP", "thp", "0", "the host maps each 2M with a PMD leaf"},
	{"hugetlbfs 2M", "hugetlb-2m", "0", "2M hugetlbfs pages"},
	{"hugetlbfs 1G", "hugetlb-1g", "0", "one 1G hugetlbfs page"},
	{"DAX, PMD-aligned", "dax-pmd", "0",
	 "PMD-mapped device memory: no THP, no hugetlbfs VMA"},
	{"THP, misaligned slot", "thp", "4K",
	 "hva = gpa + 4K (mod 2M): no 2M range lines up"},
};

/* SPTEs of each size the `touch` phase installed (the library's own code
 * and stack slots were populated before it). */
static void run(const char *backing, const char *offset, const char *policy,
		uint64_t n[3])
{
	char set_backing[64], set_offset[64], set_policy[64];
	const char *sets[] = {set_backing, set_offset, set_policy, NULL};
	static const char *const names[3] = {"pages_4k", "pages_2m", "pages_1g"};
	sv_scenario *s = NULL;
	sv_report *r = NULL;
	unsigned i;

	snprintf(set_backing, sizeof(set_backing), "memslot.data.backing=%s", backing);
	snprintf(set_offset, sizeof(set_offset), "memslot.data.hva_offset=%s", offset);
	snprintf(set_policy, sizeof(set_policy), "vm.policy=%s", policy);
	CHECK(sv_scenario_load_data(&s, scenario, sizeof(scenario) - 1,
				    "hugepage_policy", sets));
	CHECK(sv_scenario_run(&r, s, NULL));
	for (i = 0; i < 3; i++)
		CHECK(sv_report_get(&n[i], r, 1, SV_REPORT_VM, names[i]));
	sv_report_free(r);
	sv_scenario_free(s);
}

int main(void)
{
	unsigned i;

	printf("%-22s %-24s %-24s  why\n", "1 GiB slot backed by",
	       "kvm: 4K / 2M / 1G", "kvm-legacy: 4K / 2M / 1G");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t now[3], old[3];

		run(rows[i].backing, rows[i].offset, "kvm", now);
		run(rows[i].backing, rows[i].offset, "kvm-legacy", old);
		printf("%-22s %6" PRIu64 " / %3" PRIu64 " / %1" PRIu64
		       "            %6" PRIu64 " / %3" PRIu64 " / %1" PRIu64
		       "             %s\n",
		       rows[i].label, now[0], now[1], now[2], old[0], old[1],
		       old[2], rows[i].why);
	}
	return 0;
}
