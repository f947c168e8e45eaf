/*
 * tlb_conflict - what an incomplete flush leaves in the TLB.
 *
 * When dirty logging stops, Linux 6.13 rebuilds each 2M SPTE in place from
 * the 512 4K SPTEs below it.  The new 2M translation and the old 4K ones
 * agree on every address, so x86 KVM may let both sit in the TLB until one
 * flush of the whole context.  Flush only the block's base address instead
 * (what break-before-make on ARM forbids, and a classic bug when porting a
 * collapse path) and the other 511 4K entries stay: the next lookup of each
 * of those pages matches two entries of different sizes.  Intel's SDM says
 * either may be used; some cores raise a machine check; ARM raises a TLB
 * conflict abort.  simvirt counts each multi-match (tlb_conflicts) and its
 * auditor reports them (tlb_multi_match).
 *
 * The run: one 2M THP block, written with logging on (512 4K entries),
 * logging off (the 2M SPTE rebuilt, then the flush), then written again.
 *
 * Build: cc tlb_conflict.c $(pkg-config --cflags --libs simvirt)
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <simvirt/simvirt.h>

#include "example_check.h"

static const char scenario[] =
	"[scenario]\n"
	"name=tlb-conflict\n"
	"[vm]\n"
	"kernel_version=6.13\n"
	"audit=true\n"
	/* One TLB level, so that every lookup sees every stale entry. */
	"[tlb]\n"
	"l1d_4k_sets=0\n"
	"l1d_2m_sets=0\n"
	"[memslot.data]\n"
	"gpa=0x40000000\n"
	"size=2M\n"
	"backing=thp\n"
	"[guest]\n"
	"workload=touch\n"
	"region=data\n"
	"page_size=2M\n"
	"stride=4K\n"
	"passes=3\n"
	"[phase.1]\n"
	"name=populate\n"
	"[phase.2]\n"
	"name=dirty-log\n"
	"actions=dirty_log_enable data\n"
	"[phase.3]\n"
	"name=re-touch\n"
	"actions=dirty_log_disable data\n";

/* At the end of the run the VM still exists: ask the auditor for the
 * report of the first multi-match it found. */
static int at_phase(const char *phase, sv_vm *vm, void *payload)
{
	const char *first = sv_audit_first(vm, SV_AUDIT_tlb_multi_match);

	(void)payload;
	if (strcmp(phase, "end") == 0)
		printf("  auditor's first report: %s\n", *first ? first : "(none)");
	return 0;
}

static void run(const char *title, const char *bugs)
{
	const char *sets[] = {bugs, NULL};
	sv_run_options o = SV_RUN_OPTIONS_INIT;
	sv_scenario *s = NULL;
	sv_report *r = NULL;
	uint64_t base, whole, conflicts, audit;

	printf("%s\n", title);
	o.on_phase = at_phase;
	CHECK(sv_scenario_load_data(&s, scenario, sizeof(scenario) - 1,
				    "tlb_conflict", sets));
	CHECK(sv_scenario_run(&r, s, &o));
	/* Phase 3 is the re-touch, after logging stopped. */
	CHECK(sv_report_get(&base, r, 3, SV_REPORT_VM, "base_only_flushes"));
	CHECK(sv_report_get(&whole, r, 3, SV_REPORT_VM, "tlb_flush"));
	CHECK(sv_report_get(&conflicts, r, 3, SV_REPORT_VM, "tlb_conflicts"));
	CHECK(sv_report_get(&audit, r, 3, SV_REPORT_VM, "audit.tlb_multi_match"));
	printf("  base-only flushes %" PRIu64 ", whole flushes %" PRIu64
	       ", TLB multi-matches %" PRIu64 " (auditor: %" PRIu64 ")\n\n",
	       base, whole, conflicts, audit);
	sv_report_free(r);
	sv_scenario_free(s);
}

int main(void)
{
	run("flush of the block's base address only:", "vm.bugs=base_flush");
	run("flush of the whole context (KVM):", "vm.bugs=");
	return 0;
}
