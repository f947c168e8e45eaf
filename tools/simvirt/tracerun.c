/*
 * tools/simvirt/tracerun.c - `simvirt trace run`: a memory trace from
 * elsewhere (valgrind lackey, or simvirt's text format) run through the
 * guest kernel's memory model and the translation model, on a machine of
 * its own: the guest's memory over THP-capable host memory, one vCPU, the
 * MMU chosen.  Prints the counters that moved, a line each, in a fixed
 * order (the same trace gives the same bytes).
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include <simvirt/simvirt.h>

#include "cli.h"

void cli_machine_counters(FILE *out, sv_trace_machine *m)
{
	unsigned i;

	for (i = 0; i < SV_GUESTMM_STAT__COUNT; i++)
		fprintf(out, "guest.%s %" PRIu64 "\n", sv_guestmm_stat_name(i),
			sv_guestmm_stat_get(m->guest, i));
	for (i = 0; i < SV_VM_STAT__COUNT; i++)
		if (sv_vm_stat_get(m->vm, i))
			fprintf(out, "%s %" PRIu64 "\n", sv_vm_stat_name(i),
				sv_vm_stat_get(m->vm, i));
	for (i = 0; i < SV_VCPU_STAT__COUNT; i++)
		if (sv_vcpu_stat_get(m->vcpu, i))
			fprintf(out, "%s %" PRIu64 "\n", sv_vcpu_stat_name(i),
				sv_vcpu_stat_get(m->vcpu, i));
}

void cli_machine_entries(GOptionContext *ctx, cli_machine *a)
{
	GOptionEntry e[] = {
		{"thp", 0, 0, G_OPTION_ARG_STRING, &a->thp,
		 "The guest's transparent huge pages: never, madvise (default) "
		 "or always", "MODE"},
		{"mmu", 0, 0, G_OPTION_ARG_STRING, &a->mmu,
		 "The hypervisor MMU: tdp (default) or shadow", "MMU"},
		{"mem", 0, 0, G_OPTION_ARG_STRING, &a->mem,
		 "The guest's memory (default 1G)", "SIZE"},
		{"host-pages", 0, 0, G_OPTION_ARG_STRING, &a->host,
		 "How the host maps the guest's memory: 2M (THPs, default) or "
		 "4K", "SIZE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};

	g_option_context_add_main_entries(ctx, e, NULL);
}

void cli_machine_clear(cli_machine *a)
{
	g_free(a->thp);
	g_free(a->mmu);
	g_free(a->mem);
	g_free(a->host);
}

int cli_machine_parse(sv_trace_machine_options *mo, const char *cmd,
		      const cli_machine *a)
{
	const char *thp = a->thp, *mmu = a->mmu, *mem = a->mem, *host = a->host;
	char *end;

	if (thp && !strcmp(thp, "never"))
		mo->guest.thp = SV_GUEST_THP_NEVER;
	else if (thp && !strcmp(thp, "always"))
		mo->guest.thp = SV_GUEST_THP_ALWAYS;
	else if (thp && !strcmp(thp, "madvise"))
		mo->guest.thp = SV_GUEST_THP_MADVISE;
	else if (thp) {
		fprintf(stderr, "simvirt %s: --thp: expected never, madvise or "
				"always, got '%s'\n", cmd, thp);
		return EXIT_USAGE;
	}
	if (mmu && !strcmp(mmu, "shadow"))
		mo->mmu = SV_MMU_SHADOW;
	else if (mmu && strcmp(mmu, "tdp")) {
		fprintf(stderr, "simvirt %s: --mmu: expected tdp or shadow, got "
				"'%s'\n", cmd, mmu);
		return EXIT_USAGE;
	}
	if (mem) {
		uint64_t bytes = g_ascii_strtoull(mem, &end, 10);

		bytes <<= *end == 'G' ? 30 : *end == 'M' ? 20 : 0;
		if (end == mem || (*end && end[1]) || (*end && *end != 'G' && *end != 'M') ||
		    bytes < (4ULL << 20) || bytes % (2ULL << 20) || bytes > (64ULL << 30)) {
			fprintf(stderr, "simvirt %s: --mem: expected a size such as "
					"512M or 4G, a multiple of 2M from 4M to "
					"64G, got '%s'\n", cmd, mem);
			return EXIT_USAGE;
		}
		mo->mem = bytes;
	}
	if (host && strcmp(host, "2M") && strcmp(host, "4K")) {
		fprintf(stderr, "simvirt %s: --host-pages: expected 2M or 4K, got "
				"'%s'\n", cmd, host);
		return EXIT_USAGE;
	}
	mo->host_4k = host && !strcmp(host, "4K");
	return EXIT_SUCCESS;
}

/* The run, in chunks so that a terminal sees progress. */
static int run(sv_trace_machine *m, sv_trace_reader *tr, uint64_t max,
	       uint64_t *done)
{
	const uint64_t chunk = 1u << 20;
	bool tty = isatty(STDERR_FILENO);
	uint64_t n;
	int rc;

	*done = 0;
	do {
		uint64_t want = max ? MIN(chunk, max - *done) : chunk;

		rc = sv_guestmm_run_trace(&n, m->guest, m->vcpu, tr, want);
		*done += n;
		if (tty)
			fprintf(stderr, "\rsimvirt trace run: %" PRIu64 " records",
				*done);
	} while (rc == SV_OK && n == chunk && (!max || *done < max));
	if (tty)
		fprintf(stderr, "\r\033[K");
	return rc;
}

int cli_trace_run(int argc, char **argv)
{
	g_autofree char *format = NULL;
	g_auto(cli_machine) ma = {0};
	gint64 max = 0, seed = 1;
	gint frag = 0;
	GOptionEntry entries[] = {
		{"format", 'f', 0, G_OPTION_ARG_STRING, &format,
		 "The trace's format: text (default), lackey, champsim or simvirt "
		 "(simvirt's own: a recorder's stream or a recorded run)", "FORMAT"},
		{"max", 0, 0, G_OPTION_ARG_INT64, &max,
		 "Stop after this many records (default: the whole trace)", "N"},
		{"frag", 0, 0, G_OPTION_ARG_INT, &frag,
		 "Percent of the guest's 2M blocks that hold a kernel page from "
		 "boot (no THP from them; default 0)", "PERCENT"},
		{"seed", 0, 0, G_OPTION_ARG_INT64, &seed,
		 "Seeds which blocks --frag takes (default 1)", "N"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) ctx = g_option_context_new("run TRACE");
	sv_trace_format fmt = SV_TRACE_TEXT;
	uint64_t done = 0;
	sv_trace_machine_options mo = SV_TRACE_MACHINE_OPTIONS_INIT;
	sv_trace_reader *tr = NULL;
	sv_trace_machine m = {0};
	int rc;

	g_option_context_add_main_entries(ctx, entries, NULL);
	cli_machine_entries(ctx, &ma);
	g_option_context_set_summary(ctx, "Runs a memory trace through the guest "
					  "kernel's memory model (demand paging,\n"
					  "guest THP) and the translation model, and "
					  "prints the counters.");
	if (!cli_parse(ctx, "trace run", &argc, &argv))
		return EXIT_USAGE;
	if (argc != 3) {
		fprintf(stderr, "simvirt trace run: expected one TRACE\n");
		return EXIT_USAGE;
	}
	if (format && sv_trace_format_parse(&fmt, format) != SV_OK)
		return cli_fail("trace run: --format", SV_EINVAL);
	if (cli_machine_parse(&mo, "trace run", &ma) != EXIT_SUCCESS)
		return EXIT_USAGE;
	if (max < 0 || frag < 0 || frag > 100 || seed < 0) {
		fprintf(stderr, "simvirt trace run: --max and --seed: expected "
				"numbers from 0; --frag: 0 to 100\n");
		return EXIT_USAGE;
	}
	if (!cli_input_ok("trace run", "trace", argv[2]))
		return EXIT_USAGE;
	rc = sv_trace_reader_open(&tr, argv[2], fmt);
	mo.guest.frag_percent = (unsigned)frag;
	mo.guest.seed = (uint64_t)seed;
	if (rc == SV_OK)
		rc = sv_trace_machine_new(&m, &mo);
	if (rc == SV_OK)
		rc = run(&m, tr, (uint64_t)max, &done);
	if (rc == SV_OK) {
		printf("records %" PRIu64 "\n", done);
		cli_machine_counters(stdout, &m);
	}
	sv_trace_reader_close(tr);
	if (rc != SV_OK) {
		/* a bad line is bad input; anything else the run's failure */
		int status = cli_fail("trace run", rc);

		sv_trace_machine_free(&m);
		return rc == SV_EINVAL ? EXIT_USAGE : status;
	}
	sv_trace_machine_free(&m);
	return EXIT_SUCCESS;
}
