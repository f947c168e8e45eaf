/*
 * dirty_log_stages - the stages of KVM's kvm_page_table_test, counted.
 *
 * Over THP-backed guest memory the MMU first maps 2M SPTEs (create).
 * Turning dirty logging on splits them to 4K (eager page split) and
 * write-protects every 4K SPTE, so each first write takes a fast-path
 * fault that marks the page dirty (update).  Turning logging off must give
 * the huge pages back, and how changed in Linux 6.13: up to 6.12 each 4K
 * table under a 2M range is zapped and the guest faults the 2M SPTE back
 * in on its next touch; from 6.13 the MMU rebuilds the 2M SPTE in place
 * from the 4K table, with no fault at all (adjust).
 *
 * This program runs the test's workload over 64 MiB once as kernel 6.12
 * and once as 6.13 and prints the counters of each stage side by side.
 *
 * Build: cc dirty_log_stages.c $(pkg-config --cflags --libs simvirt)
 */
#include <inttypes.h>
#include <stdio.h>

#include <simvirt/simvirt.h>

#include "example_check.h"

static const char scenario[] =
	"[scenario]\n"
	"name=dirty-log-stages\n"
	"[memslot.data]\n"
	"gpa=0x40000000\n"
	"size=64M\n"
	"backing=thp\n"
	"[guest]\n"
	"workload=kpt\n"
	"region=data\n"
	"page_size=2M\n"
	"stride=4K\n"
	"[phase.1]\n"
	"name=create\n"
	"[phase.2]\n"
	"name=update\n"
	"actions=dirty_log_enable data\n"
	"[phase.3]\n"
	"name=adjust\n"
	"actions=dirty_log_disable data\n"
	"[phase.4]\n"
	"name=done\n";

static const char *const counters[] = {
	"pf_taken", "pf_fast", "pages_4k", "pages_2m", "split_2m",
	"zap_table", "recover_2m", "remote_tlb_flush_requests",
};
#define N_COUNTERS (sizeof(counters) / sizeof(counters[0]))

static sv_report *run(const char *kernel)
{
	char set[48];
	const char *sets[] = {set, NULL};
	sv_scenario *s = NULL;
	sv_report *r = NULL;

	snprintf(set, sizeof(set), "vm.kernel_version=%s", kernel);
	CHECK(sv_scenario_load_data(&s, scenario, sizeof(scenario) - 1,
				    "dirty_log_stages", sets));
	CHECK(sv_scenario_run(&r, s, NULL));
	sv_scenario_free(s);
	return r;
}

/* A signed change: gauges such as pages_2m fall when SPTEs go away. */
static void print_change(const sv_report *r, size_t phase, const char *name)
{
	uint64_t v;

	CHECK(sv_report_get(&v, r, phase, SV_REPORT_VM, name));
	printf(" %9" PRId64, (int64_t)v);
}

int main(void)
{
	sv_report *old = run("6.12"), *now = run("6.13");
	size_t p, c;

	/* Phase 0 ("start") is the library's own set-up; 1..3 the stages. */
	for (p = 1; p <= 3; p++) {
		printf("%s%s\n%-28s %9s %9s\n", p > 1 ? "\n" : "",
		       sv_report_phase_name(old, p), "", "6.12", "6.13");
		for (c = 0; c < N_COUNTERS; c++) {
			printf("  %-26s", counters[c]);
			print_change(old, p, counters[c]);
			print_change(now, p, counters[c]);
			putchar('\n');
		}
	}
	sv_report_free(old);
	sv_report_free(now);
	return 0;
}
