/*
 * tools/simvirt/main.c - the simvirt command.
 *
 *   simvirt run [--tlb-config FILE] [--npt] [--levels 4|5]
 *       the default case: a guest touching pages under EPT (or NPT), each
 *       2D walk printed step by step, cold and then warm, then the
 *       counters.  (Scenario files come with a later release.)
 *   simvirt list
 *       the counters, TLB arrays and costs, one line of explanation each.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <simvirt/simvirt.h>

#define EXIT_USAGE 2

static const char *ev_name(sv_walk_event_kind k)
{
	switch (k) {
	case SV_WEV_TLB_HIT:
		return "TLB hit";
	case SV_WEV_PSC_HIT:
		return "paging-structure cache hit";
	case SV_WEV_GUEST_REF:
		return "guest entry read";
	case SV_WEV_NTLB_HIT:
		return "guest-physical TLB hit";
	case SV_WEV_NPWC_HIT:
		return "nested walk-cache hit";
	case SV_WEV_NESTED_REF:
		return "nested entry read";
	case SV_WEV_FAULT:
		return "fault";
	}
	return "?";
}

static void print_event(const sv_walk_event *ev, void *payload)
{
	unsigned *n = payload;
	bool nested = ev->kind >= SV_WEV_NTLB_HIT && ev->kind <= SV_WEV_NESTED_REF;

	if (ev->kind == SV_WEV_GUEST_REF || ev->kind == SV_WEV_NESTED_REF)
		++*n;
	printf("  %s%-28s level %u  %s 0x%012" PRIx64 "  table 0x%013" PRIx64,
	       nested ? "    " : "", ev_name(ev->kind), ev->level,
	       nested ? "gpa" : "gva", ev->addr, ev->table);
	if (ev->kind == SV_WEV_GUEST_REF || ev->kind == SV_WEV_NESTED_REF)
		printf("  entry 0x%016" PRIx64 "  [ref %u]", ev->entry, *n);
	putchar('\n');
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "simvirt: %s: %s: %s\n", what, sv_strerror(rc),
		sv_error_detail());
	return EXIT_FAILURE;
}

#define CHECK(what, expr)                        \
	do {                                     \
		int rc_ = (expr);                \
		if (rc_ != SV_OK) {              \
			status = fail(what, rc_); \
			goto out;                \
		}                                \
	} while (0)

static void access_and_print(sv_vcpu *v, const char *title, uint64_t gva)
{
	unsigned n = 0;
	sv_xlate x;

	printf("\n%s: read of gva 0x%" PRIx64 "\n", title, gva);
	sv_vcpu_set_walk_observer(v, print_event, &n);
	sv_vcpu_access(v, gva, 8, SV_ACCESS_READ, &x);
	sv_vcpu_set_walk_observer(v, NULL, NULL);
	if (x.fault.kind != SV_FAULT_NONE)
		printf("  -> fault kind %d at stage %d, error code 0x%" PRIx64 "\n",
		       x.fault.kind, x.fault.stage, x.fault.error_code);
	else
		printf("  -> gpa 0x%" PRIx64 ", hpa 0x%" PRIx64
		       ", %" PRIu64 "K TLB entry, %u references, %u cycles\n",
		       x.gpa, x.hpa, x.page_size >> 10, x.refs, x.cycles);
}

static int cmd_run(int argc, char **argv)
{
	g_autofree char *tlb_config = NULL;
	gboolean npt = FALSE;
	gint levels = 4;
	GOptionEntry entries[] = {
		{"tlb-config", 't', 0, G_OPTION_ARG_FILENAME, &tlb_config,
		 "Key file with [tlb] and [cost] groups", "FILE"},
		{"npt", 0, 0, G_OPTION_ARG_NONE, &npt,
		 "Use AMD NPT instead of Intel EPT", NULL},
		{"levels", 'l', 0, G_OPTION_ARG_INT, &levels,
		 "Paging levels of both dimensions (4 or 5)", "N"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("- run the default case: 2D walks, cold and warm");
	g_autoptr(GError) err = NULL;
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	sv_pt_options po = {SV_PT_OPTIONS_VERSION, SV_PT_GUEST, 0, 0x100000, 0x100000};
	sv_memslot_region slot = {SV_MEMSLOT_REGION_VERSION, 0, 0, 0, 64ULL << 20, 0};
	const uint64_t gva = 0x7f0000200000ULL;
	sv_vm *vm = NULL;
	sv_pt *gpt = NULL;
	sv_vcpu *v;
	sv_vcpu_regs r;
	int status = EXIT_SUCCESS;
	unsigned i;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "simvirt run: %s\n", err->message);
		return EXIT_USAGE;
	}
	if (argc > 1) {
		fprintf(stderr, "simvirt run: unexpected argument '%s' (scenario "
				"files are not supported yet)\n", argv[1]);
		return EXIT_USAGE;
	}
	if (levels != 4 && levels != 5) {
		fprintf(stderr, "simvirt run: --levels: expected 4 or 5, got %d\n",
			levels);
		return EXIT_USAGE;
	}
	if (tlb_config) {
		int rc = sv_config_load(&o.tlb, &o.costs, tlb_config);

		if (rc) {
			fprintf(stderr, "simvirt run: %s\n", sv_error_detail());
			return EXIT_USAGE;
		}
	}
	o.tdp = npt ? SV_TDP_NPT : SV_TDP_EPT;
	o.tdp_ad = !npt;
	o.tdp_levels = o.guest_levels = (unsigned)levels;
	CHECK("vm", sv_vm_new(&vm, &o));
	v = sv_vm_vcpu(vm, 0);
	CHECK("memslot", sv_memslot_set(vm, &slot));
	CHECK("guest tables", sv_pt_new(&gpt, vm, &po));
	/* 16 guest 4K pages at gva -> GPA 32M, nested identity map in 4K */
	CHECK("guest map", sv_pt_map(gpt, gva, 32ULL << 20, 16 * 4096, 4096,
				     SV_PTE_RW));
	CHECK("nested map", sv_pt_map(sv_vm_tdp(vm), 0, 0, 64ULL << 20, 4096,
				      npt ? SV_PTE_RW | SV_PTE_US : SV_EPT_RWX));
	sv_vcpu_get_regs(v, &r);
	r.cr0 |= SV_CR0_PG | SV_CR0_WP;
	r.cr3 = sv_pt_root(gpt);
	CHECK("registers", sv_vcpu_set_regs(v, &r));

	printf("simvirt %s: %u-level guest paging over %u-level %s, 4K pages\n",
	       sv_version_string(), o.guest_levels, o.tdp_levels,
	       npt ? "NPT" : "EPT");
	access_and_print(v, "Cold caches", gva);
	access_and_print(v, "Same page again", gva + 8);
	access_and_print(v, "Next page (warm walk caches)", gva + 4096);
	CHECK("mov cr3", sv_vcpu_mov_cr3(v, r.cr3));
	access_and_print(v, "After MOV to CR3 (guest-physical TLB kept)", gva);

	printf("\nCounters of vCPU 0:\n");
	for (i = 0; i < SV_VCPU_STAT__COUNT; i++) {
		uint64_t val = sv_vcpu_stat_get(v, (sv_vcpu_stat)i);

		if (val)
			printf("  %-20s %10" PRIu64 "  %s\n",
			       sv_vcpu_stat_name((sv_vcpu_stat)i), val,
			       sv_vcpu_stat_desc((sv_vcpu_stat)i));
	}
out:
	sv_pt_free(gpt);
	sv_vm_free(vm);
	return status;
}

static int cmd_list(void)
{
	sv_tlb_config t = SV_TLB_CONFIG_INIT;
	sv_costs c = SV_COSTS_INIT;
	size_t i;

	printf("vCPU counters:\n");
	for (i = 0; i < SV_VCPU_STAT__COUNT; i++)
		printf("  %-20s %s\n", sv_vcpu_stat_name((sv_vcpu_stat)i),
		       sv_vcpu_stat_desc((sv_vcpu_stat)i));
	printf("VM counters:\n");
	for (i = 0; i < SV_VM_STAT__COUNT; i++)
		printf("  %-20s %s\n", sv_vm_stat_name((sv_vm_stat)i),
		       sv_vm_stat_desc((sv_vm_stat)i));
	printf("TLB arrays ([tlb] <name>_sets, <name>_ways; default sets x ways):\n");
	for (i = 0; i < SV_TLB__COUNT; i++)
		printf("  %-10s %5u x %-3u %s\n", sv_tlb_array_name((sv_tlb_array)i),
		       t.array[i].sets, t.array[i].ways,
		       sv_tlb_array_desc((sv_tlb_array)i));
	printf("Costs ([cost] <name>, cycles; default):\n");
	for (i = 0; i < sv_cost_count(); i++)
		printf("  %-10s %5u  %s\n", sv_cost_name(i), *sv_cost_slot(&c, i),
		       sv_cost_desc(i));
	return EXIT_SUCCESS;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: simvirt COMMAND [OPTIONS]\n\n"
		   "Commands:\n"
		   "  run     run the default case (2D walks, cold and warm)\n"
		   "  list    counters, TLB arrays and costs, explained\n"
		   "  version print the version\n\n"
		   "'simvirt COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_list();
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("simvirt %s\n", sv_version_string());
		return EXIT_SUCCESS;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	fprintf(stderr, "simvirt: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
