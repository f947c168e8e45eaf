/*
 * tools/simvirt/main.c - the simvirt command.
 *
 *   simvirt run [SCENARIO] [--set G.K=V]... [--format F] [--out FILE]
 *               [--record TRACE]
 *   simvirt replay TRACE [--format F] [--out FILE]
 *   simvirt trace dump TRACE
 *   simvirt trace run TRACE [--format text|lackey] [--thp MODE] [--mmu MMU]
 *   simvirt walk [SCENARIO] --gva ADDR [--phase N] [--vcpu N] [--cold]
 *                [--svg FILE]
 *   simvirt plot STATS.json --out FILE.svg|FILE.png
 *   simvirt diff A.json B.json [--scope S] [--phase P] [--counter GLOB]
 *                [--min-change PCT] [--format table|json]
 *   simvirt sweep SWEEP.ini [--dir DIR] [--jobs N] [--emit parallel|slurm]
 *   simvirt merge DIR [--out FILE] [--format csv|jsonl] [--all-config]
 *   simvirt calibrate --out FILE | --check FILE [--sizes LIST]
 *   simvirt list
 *
 * Exit status: 0 success; 1 a valid run failed, or a report could not be
 * written (diff: the reports differ); 2 bad input, found before anything
 * runs: usage, a missing, unreadable or directory file, a bad scenario or
 * trace, an --out or --record that cannot be written; 3 the run ended in a
 * guest fault (the report is written; its end says "fault: ..." or, for a
 * triple fault, "shutdown: ...").
 */
#include <errno.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <unistd.h>
#include <simvirt/simvirt.h>

#include "cli.h"
#include "draw.h"


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
	case SV_WEV_SHADOW_REF:
		return "shadow entry read";
	}
	return "?";
}

typedef struct walk_print {
	unsigned n;       /* references so far */
	walk_grid *grid;  /* also fill this grid, or NULL */
} walk_print;

static void print_event(const sv_walk_event *ev, void *payload)
{
	walk_print *wp = payload;
	unsigned *n = &wp->n;
	bool nested = ev->kind >= SV_WEV_NTLB_HIT && ev->kind <= SV_WEV_NESTED_REF;

	bool ref = ev->kind == SV_WEV_GUEST_REF || ev->kind == SV_WEV_NESTED_REF ||
		   ev->kind == SV_WEV_SHADOW_REF;

	if (ref)
		++*n;
	printf("  %s%-28s level %u  %s 0x%012" PRIx64 "  table 0x%013" PRIx64,
	       nested ? "    " : "", ev_name(ev->kind), ev->level,
	       nested ? "gpa" : "gva", ev->addr, ev->table);
	if (ref)
		printf("  entry 0x%016" PRIx64 "  [ref %u]", ev->entry, *n);
	putchar('\n');
	if (wp->grid)
		walk_grid_event(ev, wp->grid);
}

/* One access on v, each step of its walk printed (and drawn into grid
 * unless NULL). */
static void access_and_print(sv_vcpu *v, const char *title, uint64_t gva,
			     walk_grid *grid)
{
	walk_print wp = {0, grid};
	sv_xlate x;

	printf("\n%s: read of gva 0x%" PRIx64 "\n", title, gva);
	sv_vcpu_set_walk_observer(v, print_event, &wp);
	sv_vcpu_translate(&x, v, gva, 8, SV_ACCESS_READ);
	sv_vcpu_set_walk_observer(v, NULL, NULL);
	if (grid)
		walk_grid_end(grid, &x);
	if (x.fault.kind != SV_FAULT_NONE)
		printf("  -> %s at the %s, error code 0x%" PRIx64 "\n",
		       sv_fault_kind_name(x.fault.kind),
		       sv_fault_stage_name(x.fault.stage), x.fault.error_code);
	else
		printf("  -> gpa 0x%" PRIx64 ", hpa 0x%" PRIx64
		       ", %" PRIu64 "K TLB entry, %u references, %u exits, "
		       "%u cycles\n",
		       x.gpa, x.hpa, x.page_size >> 10, x.refs, x.exits, x.cycles);
}

/* A library error: the detail, and the exit status it deserves. */
int cli_fail(const char *cmd, int rc)
{
	fprintf(stderr, "simvirt %s: %s\n", cmd,
		*sv_error_detail() ? sv_error_detail() : sv_strerror(rc));
	return rc == SV_ECONFIG ? EXIT_USAGE : EXIT_FAILURE;
}

/* An input file (`what` names it): it must exist, not be a directory and
 * be readable; false after a message. */
bool cli_input_ok(const char *cmd, const char *what, const char *path)
{
	struct stat st;
	FILE *f;

	if (stat(path, &st) != 0 || (S_ISDIR(st.st_mode) && (errno = EISDIR)) ||
	    !(f = fopen(path, "rb"))) {
		fprintf(stderr, "simvirt %s: %s %s: %s\n", cmd, what, path,
			g_strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

/* An output file that the run will write: opened for appending (nothing
 * it holds is lost) and removed again if this made it; false after a
 * message. */
bool cli_output_ok(const char *cmd, const char *opt, const char *path)
{
	struct stat st;
	bool existed = stat(path, &st) == 0;
	FILE *f;

	if ((existed && S_ISDIR(st.st_mode) && (errno = EISDIR)) ||
	    !(f = fopen(path, "a"))) {
		fprintf(stderr, "simvirt %s: %s %s: %s\n", cmd, opt, path,
			g_strerror(errno));
		return false;
	}
	fclose(f);
	if (!existed)
		unlink(path);
	return true;
}

bool cli_write_file(const char *cmd, const char *path, const char *text,
		    gssize len)
{
	g_autoptr(GError) err = NULL;

	if (g_file_set_contents(path, text, len, &err))
		return true;
	fprintf(stderr, "simvirt %s: %s\n", cmd, err->message);
	return false;
}

/* The status of a run that produced its report. */
static int run_status(const sv_report *rep)
{
	const char *end = sv_report_end(rep);

	return g_str_has_prefix(end, "fault:") || g_str_has_prefix(end, "shutdown:")
		       ? EXIT_GUEST_FAULT : EXIT_SUCCESS;
}

/* Parses a subcommand's options; false (after a message) on a mistake. */
bool cli_parse(GOptionContext *ctx, const char *cmd, int *argc,
		  char ***argv)
{
	g_autoptr(GError) err = NULL;

	g_option_context_set_description(ctx, EXIT_STATUS_HELP);
	if (g_option_context_parse(ctx, argc, argv, &err))
		return true;
	fprintf(stderr, "simvirt %s: %s (see simvirt %s --help)\n", cmd,
		err->message, cmd);
	return false;
}

static int load_scenario(sv_scenario **s, int argc, char **argv,
			 char **sets, const char *cmd)
{
	int rc;

	if (argc > 2) {
		fprintf(stderr, "simvirt %s: one scenario at most, got '%s' too\n",
			cmd, argv[2]);
		return EXIT_USAGE;
	}
	if (argc == 2 && !cli_input_ok(cmd, "scenario", argv[1]))
		return EXIT_USAGE;
	rc = argc == 2 ? sv_scenario_load(s, argv[1], (const char *const *)sets)
		       : sv_scenario_load_data(s, sv_scenario_default(),
					       strlen(sv_scenario_default()),
					       "(default scenario)",
					       (const char *const *)sets);
	return rc == SV_OK ? EXIT_SUCCESS : cli_fail(cmd, rc);
}

static bool parse_format(const char *f, sv_report_format *out)
{
	static const char *const names[] = {"table", "json", "csv"};
	unsigned i;

	for (i = 0; i < G_N_ELEMENTS(names); i++)
		if (!strcmp(f, names[i])) {
			*out = (sv_report_format)i;
			return true;
		}
	return false;
}

/* --format and --out, shared by the commands that print a report. */
typedef struct out_opts {
	char *format, *out;
} out_opts;

static void add_out_entries(GOptionContext *ctx, out_opts *o)
{
	GOptionEntry e[] = {
		{"format", 'f', 0, G_OPTION_ARG_STRING, &o->format,
		 "Output: table (default), json or csv", "FORMAT"},
		{"out", 'o', 0, G_OPTION_ARG_FILENAME, &o->out,
		 "Write the report here instead of stdout", "FILE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};

	g_option_context_add_main_entries(ctx, e, NULL);
}

/* --set, shared by the commands that load a scenario. */
static void add_set_entry(GOptionContext *ctx, char ***sets)
{
	GOptionEntry e[] = {
		{"set", 's', 0, G_OPTION_ARG_STRING_ARRAY, sets,
		 "Override a scenario key (repeatable)", "GROUP.KEY=VALUE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};

	g_option_context_add_main_entries(ctx, e, NULL);
}

/* --format and --out are good (before the run); false after a message. */
static bool out_opts_ok(const out_opts *o, const char *cmd)
{
	sv_report_format f;

	if (o->format && !parse_format(o->format, &f)) {
		fprintf(stderr, "simvirt %s: --format: expected table, json or csv, "
				"got '%s'\n", cmd, o->format);
		return false;
	}
	return !o->out || cli_output_ok(cmd, "--out", o->out);
}

/* Writes the report to --out or stdout (out_opts_ok() passed). */
/* Writes the report to --out or stdout (out_opts_ok() passed).  --out is
 * written whole or not at all: into a temporary file beside it, renamed
 * over it at the end, so a killed run never leaves half a report (sweeps
 * take a report that exists for a finished run). */
static int write_report(const sv_report *rep, out_opts *o, const char *cmd)
{
	g_autofree char *tmp = NULL;
	sv_report_format f = SV_REPORT_TABLE;
	FILE *fp = stdout;
	struct stat st;
	mode_t mask;
	int rc, fd = -1;

	if (o->format)
		parse_format(o->format, &f);
	/* a device or a pipe (--out /dev/stdout) is written as it is */
	if (o->out && stat(o->out, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !(fp = fopen(o->out, "w"))) {
		fprintf(stderr, "simvirt %s: %s: %s\n", cmd, o->out,
			g_strerror(errno));
		return EXIT_FAILURE;
	}
	if (o->out && fp == stdout)
		tmp = g_strdup_printf("%s.XXXXXX", o->out);
	if (tmp) {
		mask = umask(0);
		umask(mask);
		if ((fd = g_mkstemp(tmp)) < 0 || fchmod(fd, 0666 & ~mask) != 0 ||
		    !(fp = fdopen(fd, "w"))) {
			fprintf(stderr, "simvirt %s: %s: %s\n", cmd, o->out,
				g_strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			return EXIT_FAILURE;
		}
	}
	rc = sv_report_write(rep, fp, f);
	if (fp != stdout && fclose(fp) != 0 && rc == SV_OK)
		rc = SV_EIO;
	if (tmp && rc == SV_OK && rename(tmp, o->out) != 0) {
		fprintf(stderr, "simvirt %s: %s: %s\n", cmd, o->out,
			g_strerror(errno));
		unlink(tmp);
		return EXIT_FAILURE;
	}
	if (tmp && rc != SV_OK)
		unlink(tmp);
	return rc == SV_OK ? EXIT_SUCCESS : cli_fail(cmd, rc);
}

static void out_opts_clear(out_opts *o)
{
	g_free(o->format);
	g_free(o->out);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(out_opts, out_opts_clear)

/* The progress line (on stderr, only when it is a terminal): the phase,
 * guest instructions and their rate, or the trace position; an ETA where
 * the end is known. */
static void print_progress(const char *cmd, const sv_progress *p)
{
	double frac = p->trace_size ? (double)p->trace_done / (double)p->trace_size
		      : p->instructions_total
			      ? (double)p->instructions / (double)p->instructions_total
			      : 0;
	char n[16], rate[16];

	rep_human(n, sizeof(n), (double)p->instructions);
	rep_human(rate, sizeof(rate),
		  p->seconds > 0 ? (double)p->instructions / p->seconds : 0);
	fprintf(stderr, "\r\033[Ksimvirt %s: phase %u '%s', ", cmd, p->boundaries,
		p->phase);
	if (p->trace_size)
		fprintf(stderr, "%.0f%% of the trace", 100 * frac);
	else
		fprintf(stderr, "%s instructions, %s/s", n, rate);
	if (frac > 0 && frac < 1) {
		unsigned eta = (unsigned)(p->seconds * (1 - frac) / frac + 0.5);

		fprintf(stderr, ", ETA %u:%02u:%02u", eta / 3600, eta / 60 % 60,
			eta % 60);
	}
	fflush(stderr);
}

static void show_progress(const sv_progress *p, void *payload)
{
	print_progress(payload, p);
}

/* The end of a run clears the progress line. */
static int progress_end(const char *phase, sv_vm *vm, void *payload)
{
	SV_UNUSED_ARG(vm);
	SV_UNUSED_ARG(payload);
	if (!strcmp(phase, "end")) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	return 0;
}

/* Progress on a terminal, for cmd. */
static void want_progress(sv_run_options *ro, const char *cmd)
{
	if (!isatty(STDERR_FILENO))
		return;
	ro->on_phase = progress_end;
	ro->on_progress = show_progress;
	ro->payload = (void *)cmd;
}

static int cmd_run(int argc, char **argv)
{
	g_auto(GStrv) sets = NULL;
	g_auto(out_opts) oo = {NULL, NULL};
	g_autofree char *record = NULL;
	GOptionEntry entries[] = {
		{"record", 'r', 0, G_OPTION_ARG_FILENAME, &record,
		 "Record every model input into a trace", "TRACE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) ctx = g_option_context_new("[SCENARIO]");
	sv_run_options ro = SV_RUN_OPTIONS_INIT;
	sv_scenario *s = NULL;
	sv_report *rep = NULL;
	int status, rc;

	g_option_context_set_summary(ctx, "Runs a scenario file (or, without one, "
					  "the built-in default: 1 GiB of THP\n"
					  "memory populated, written with dirty "
					  "logging on, then touched again) and\n"
					  "prints its counters, in total and for "
					  "each phase.");
	add_set_entry(ctx, &sets);
	add_out_entries(ctx, &oo);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!cli_parse(ctx, "run", &argc, &argv) || !out_opts_ok(&oo, "run") ||
	    (record && !cli_output_ok("run", "--record", record)))
		return EXIT_USAGE;
	status = load_scenario(&s, argc, argv, sets, "run");
	if (status != EXIT_SUCCESS)
		return status;
	ro.record = record;
	want_progress(&ro, "run");
	rc = sv_scenario_run(&rep, s, &ro);
	status = rc == SV_OK ? write_report(rep, &oo, "run") : cli_fail("run", rc);
	if (status == EXIT_SUCCESS)
		status = run_status(rep);
	sv_report_free(rep);
	sv_scenario_free(s);
	return status;
}

static int cmd_replay(int argc, char **argv)
{
	g_auto(out_opts) oo = {NULL, NULL};
	g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE");
	sv_run_options ro = SV_RUN_OPTIONS_INIT;
	sv_report *rep = NULL;
	int status, rc;

	g_option_context_set_summary(ctx, "Replays a trace made by 'simvirt run "
					  "--record' through the model, without\n"
					  "executing the guest, and prints the "
					  "same report as the recorded run.");
	add_out_entries(ctx, &oo);
	if (!cli_parse(ctx, "replay", &argc, &argv) || !out_opts_ok(&oo, "replay"))
		return EXIT_USAGE;
	if (argc != 2) {
		fprintf(stderr, "simvirt replay: expected one TRACE\n");
		return EXIT_USAGE;
	}
	if (!cli_input_ok("replay", "trace", argv[1]))
		return EXIT_USAGE;
	want_progress(&ro, "replay");
	rc = sv_trace_replay(&rep, argv[1], &ro);
	status = rc == SV_OK ? write_report(rep, &oo, "replay") : cli_fail("replay", rc);
	if (status == EXIT_SUCCESS)
		status = run_status(rep);
	sv_report_free(rep);
	return status;
}

static int cmd_trace(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = NULL;
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cli_trace_run(argc, argv);
	ctx = g_option_context_new("dump TRACE");
	g_option_context_set_summary(ctx, "Prints a trace readably: the scenario "
					  "it holds, one event a line, and how\n"
					  "the run ended.");
	if (!cli_parse(ctx, "trace", &argc, &argv))
		return EXIT_USAGE;
	if (argc != 3 || strcmp(argv[1], "dump")) {
		fprintf(stderr, "simvirt trace: expected 'dump TRACE' or 'run "
				"TRACE'\n");
		return EXIT_USAGE;
	}
	if (!cli_input_ok("trace dump", "trace", argv[2]))
		return EXIT_USAGE;
	rc = sv_trace_dump(argv[2], stdout);
	return rc == SV_OK ? EXIT_SUCCESS : cli_fail("trace dump", rc);
}

/* ---- walk ---------------------------------------------------------------- */

typedef struct walk_req {
	uint64_t gva;
	gint phase;      /* stop at this phase boundary; -1: at the end */
	gint vcpu;
	gboolean cold;
	gint seen;       /* boundaries so far */
	char *svg;       /* draw the first walk here, or NULL */
	char *draw_err;  /* why drawing failed */
	bool done;
	int rc;
} walk_req;

static void walk_progress(const sv_progress *p, void *payload)
{
	SV_UNUSED_ARG(payload);
	print_progress("walk", p);
}

static int walk_at(const char *phase, sv_vm *vm, void *payload)
{
	walk_req *w = payload;
	walk_grid grid;
	sv_vcpu *v;
	bool shadow;

	if (w->phase >= 0 ? w->seen++ != w->phase : strcmp(phase, "end") != 0)
		return 0;
	if (isatty(STDERR_FILENO)) /* the progress line goes */
		fprintf(stderr, "\r\033[K");
	v = sv_vm_vcpu(vm, (unsigned)w->vcpu);
	if (!v) {
		w->rc = SV_ERANGE;
		return 1;
	}
	shadow = sv_mmu_options_get(vm) &&
		 sv_mmu_options_get(vm)->mmu == SV_MMU_SHADOW;
	if (shadow && w->svg) {
		fprintf(stderr, "simvirt walk: --svg draws the 2D walk, and this "
				"scenario's MMU is shadow paging ([vm] mmu=shadow: "
				"a one-dimensional walk); leave --svg out\n");
		w->rc = SV_EINVAL;
		return 1;
	}
	if (shadow)
		printf("simvirt walk: phase %s, vCPU %d, %u-level guest paging "
		       "under shadow paging (the hardware walks the MMU's "
		       "shadow tables)\n", phase, w->vcpu,
		       sv_vm_options_get(vm)->guest_levels);
	else
		printf("simvirt walk: phase %s, vCPU %d, %u-level guest paging "
		       "over %u-level %s\n", phase, w->vcpu,
		       sv_vm_options_get(vm)->guest_levels,
		       sv_vm_options_get(vm)->tdp_levels,
		       sv_vm_options_get(vm)->tdp == SV_TDP_NPT ? "NPT" : "EPT");
	if (w->cold) {
		/* EPT: INVEPT all-context, combined and guest-physical mappings
		 * and the paging-structure caches go (SDM 28.4.3.1); NPT: a
		 * TLB_CONTROL flush of every ASID (APM 15.16.1). */
		w->rc = sv_vm_options_get(vm)->tdp == SV_TDP_NPT
				? sv_vcpu_svm_tlb_control(v, 1)
				: sv_vcpu_invept(v, 2, 0);
		if (w->rc)
			return 1;
	}
	walk_grid_init(&grid, sv_vm_options_get(vm)->guest_levels,
		       sv_vm_options_get(vm)->tdp_levels, w->gva);
	access_and_print(v, !w->cold ? "As the caches stand"
			    : shadow ? "After a flush of every TLB and walk "
				       "cache (all cold)"
				     : "After INVEPT (all caches cold)", w->gva,
			 w->svg ? &grid : NULL);
	access_and_print(v, "The same address again", w->gva, NULL);
	if (w->svg && walk_grid_draw(&grid, w->svg, &w->draw_err))
		printf("\nsimvirt walk: drew the first walk to %s (%u references)\n",
		       w->svg, grid.refs);
	w->done = true;
	return 1;
}

/* walk's options and scenario, all checked before the run. */
static int walk_options(walk_req *w, char **gva_text, sv_scenario **s,
			int argc, char **argv, GOptionContext *ctx, char ***sets)
{
	const char *gva;
	char *end = NULL;
	int status;

	if (!cli_parse(ctx, "walk", &argc, &argv))
		return EXIT_USAGE;
	gva = *gva_text;
	errno = 0;
	if (gva && *gva)
		w->gva = g_ascii_strtoull(gva, &end, 0);
	if (!gva || !*gva || errno || *end) {
		fprintf(stderr, "simvirt walk: --gva: expected an address such as "
				"0x40000000, got '%s'\n", gva ? gva : "");
		return EXIT_USAGE;
	}
	if (w->vcpu < 0 || w->phase < -1) {
		fprintf(stderr, "simvirt walk: --vcpu and --phase: expected "
				"numbers from 0\n");
		return EXIT_USAGE;
	}
	if (w->svg && !cli_output_ok("walk", "--svg", w->svg))
		return EXIT_USAGE;
	status = load_scenario(s, argc, argv, *sets, "walk");
	if (status != EXIT_SUCCESS)
		return status;
	if ((unsigned)w->vcpu >= sv_scenario_vm_options(*s)->vcpus) {
		fprintf(stderr, "simvirt walk: --vcpu %d: the scenario has %u "
				"vCPUs, 0 to %u\n", w->vcpu,
			sv_scenario_vm_options(*s)->vcpus,
			sv_scenario_vm_options(*s)->vcpus - 1);
		return EXIT_USAGE;
	}
	return EXIT_SUCCESS;
}

static int cmd_walk(int argc, char **argv)
{
	g_auto(GStrv) sets = NULL;
	g_autofree char *gva = NULL;
	walk_req w = {.phase = -1};
	GOptionEntry entries[] = {
		{"gva", 'g', 0, G_OPTION_ARG_STRING, &gva,
		 "The guest-virtual address to translate (required)", "ADDR"},
		{"phase", 'p', 0, G_OPTION_ARG_INT, &w.phase,
		 "Walk when the run reaches its Nth phase boundary (the built-in "
		 "workloads' sync point N; 0 = before the guest runs; default: "
		 "the end)", "N"},
		{"vcpu", 'v', 0, G_OPTION_ARG_INT, &w.vcpu, "The vCPU (default 0)",
		 "N"},
		{"cold", 'c', 0, G_OPTION_ARG_NONE, &w.cold,
		 "Empty the TLBs and walk caches first (INVEPT, or with NPT a "
		 "flush of every ASID)", NULL},
		{"svg", 0, 0, G_OPTION_ARG_FILENAME, &w.svg,
		 "Also draw the first walk as the 2D grid (guest levels down, "
		 "nested levels across) to FILE, .svg or .png", "FILE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) ctx = g_option_context_new("[SCENARIO]");
	sv_run_options ro = SV_RUN_OPTIONS_INIT;
	sv_scenario *s = NULL;
	sv_report *rep = NULL;
	int status, rc;

	g_option_context_set_summary(ctx, "Runs a scenario to a phase and prints "
					  "the 2D walk of one address step by\n"
					  "step: each guest level, each nested "
					  "reference, the caches that hit, the\n"
					  "fault if any, and the cycles.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	add_set_entry(ctx, &sets);
	status = walk_options(&w, &gva, &s, argc, argv, ctx, &sets);
	if (status != EXIT_SUCCESS)
		goto out;
	ro.on_phase = walk_at;
	ro.payload = &w;
	if (isatty(STDERR_FILENO))
		ro.on_progress = walk_progress;
	rc = sv_scenario_run(&rep, s, &ro);
	if (ro.on_progress) /* the progress line goes */
		fprintf(stderr, "\r\033[K");
	if (rc == SV_OK && w.rc)
		rc = w.rc;
	if (rc != SV_OK) {
		status = cli_fail("walk", rc);
	} else if (w.draw_err) {
		fprintf(stderr, "simvirt walk: --svg %s\n", w.draw_err);
		status = EXIT_FAILURE;
	} else if (!w.done) {
		fprintf(stderr, "simvirt walk: the run ended after %d phase "
				"boundaries, before --phase %d\n", w.seen, w.phase);
		status = EXIT_USAGE;
	}
out:
	g_free(w.svg);
	g_free(w.draw_err);
	sv_report_free(rep);
	sv_scenario_free(s);
	return status;
}

/* The scenario keys: a table each group as docs/scenarios.md has them
 * (markdown), or one line each. */
static void list_keys(bool markdown)
{
	const sv_scenario_key_info *k;
	const char *group = "";
	size_t i;

	for (i = 0; (k = sv_scenario_key(i)); i++) {
		if (!markdown) {
			g_autofree char *full =
				g_strdup_printf("[%s] %s", k->group, k->name);

			printf("  %-28s %s (default %s): %s\n", full, k->values,
			       *k->def ? k->def : "none", k->help);
			continue;
		}
		if (strcmp(group, k->group)) {
			printf("%s### [%s]\n\n| key | values | default | meaning |\n"
			       "| --- | --- | --- | --- |\n",
			       i ? "\n" : "", k->group);
			group = k->group;
		}
		printf("| `%s` | %s | %s | %s |\n", k->name, k->values,
		       *k->def ? k->def : "none", k->help);
	}
}

static char *kernel_name(unsigned v)
{
	return g_strdup_printf("%u.%u", v / 100, v % 100);
}

/* The behaviours that follow [vm] kernel_version, one line each or as the
 * table of docs/kernel-versions.md (markdown). */
static void list_versions(bool markdown)
{
	const char *what, *source;
	unsigned from, until;
	size_t i;

	if (markdown)
		printf("| kernels | behaviour | source |\n| --- | --- | --- |\n");
	for (i = 0; (what = sv_kernel_gate(i, &from, &until, &source)); i++) {
		g_autofree char *f = kernel_name(from), *u = kernel_name(until);
		g_autofree char *range =
			!from	 ? g_strdup_printf("before %s", u)
			: !until ? g_strdup_printf("%s and later", f)
				 : g_strdup_printf("%s to before %s", f, u);

		if (markdown)
			printf("| %s | %s | %s |\n", range, what, source);
		else
			printf("  %-22s %s\n  %-22s (%s)\n", range, what, "",
			       source);
	}
}

static int cmd_list(int argc, char **argv)
{
	sv_tlb_config t = SV_TLB_CONFIG_INIT;
	sv_costs c = SV_COSTS_INIT;
	const char *args, *desc, *name;
	gboolean keys = FALSE, markdown = FALSE, versions = FALSE;
	GOptionEntry entries[] = {
		{"keys", 'k', 0, G_OPTION_ARG_NONE, &keys,
		 "Only the scenario keys", NULL},
		{"versions", 'V', 0, G_OPTION_ARG_NONE, &versions,
		 "Only what follows [vm] kernel_version", NULL},
		{"markdown", 'm', 0, G_OPTION_ARG_NONE, &markdown,
		 "With --keys or --versions: as Markdown tables "
		 "(docs/scenarios.md, docs/kernel-versions.md); alone, the keys",
		 NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("");
	size_t i;

	g_option_context_set_summary(
		ctx, "Lists what scenarios and reports name: workloads, policies, "
		     "backings, phase actions, historical bugs, counters, TLB "
		     "arrays, costs and every scenario key with its values and "
		     "default.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!cli_parse(ctx, "list", &argc, &argv))
		return EXIT_USAGE;
	if (argc > 1) {
		fprintf(stderr, "simvirt list: no arguments expected, got '%s'\n",
			argv[1]);
		return EXIT_USAGE;
	}
	if (versions) {
		list_versions(markdown);
		return EXIT_SUCCESS;
	}
	if (keys || markdown) {
		list_keys(markdown);
		return EXIT_SUCCESS;
	}
	printf("Workloads ([guest] workload=):\n");
	for (i = 0; (name = sv_workload_name(i)); i++)
		printf("  %-20s %s\n", name, sv_workload_desc(i));
	printf("Policies ([vm] policy=):\n"
	       "  %-20s %s\n  %-20s %s\n  %-20s %s\n",
	       "auto", "kvm-legacy before 5.6, else kvm (the default)", "kvm",
	       "walk the host page tables (KVM since 5.6)", "kvm-legacy",
	       "PageTransCompoundMap plus the HugeTLB VMA lookup (before the "
	       "host-walk series)");
	printf("Backings ([memslot.NAME] backing=):\n");
	for (i = 0; (name = sv_scenario_backing(i, &desc)); i++)
		printf("  %-20s %s\n", name, desc);
	printf("Phase actions ([phase.N] actions=VERB ARGS; VERB ARGS; ...):\n");
	for (i = 0; (name = sv_scenario_action(i, &args, &desc)); i++) {
		g_autofree char *full = g_strdup_printf("%s %s", name, args);

		printf("  %-36s %s\n", full, desc);
	}
	printf("Kernel versions ([vm] kernel_version=):\n");
	list_versions(false);
	printf("Historical bugs ([vm] bugs=NAME,NAME):\n");
	for (i = 0; (name = sv_mmu_bug(i, NULL, NULL, &desc)); i++)
		printf("  %-20s %s\n", name, desc);
	printf("vCPU counters:\n");
	for (i = 0; i < SV_VCPU_STAT__COUNT; i++)
		printf("  %-20s %s\n", sv_vcpu_stat_name((sv_vcpu_stat)i),
		       sv_vcpu_stat_desc((sv_vcpu_stat)i));
	printf("VM counters:\n");
	for (i = 0; i < SV_VM_STAT__COUNT; i++)
		printf("  %-20s %s\n", sv_vm_stat_name((sv_vm_stat)i),
		       sv_vm_stat_desc((sv_vm_stat)i));
	printf("Host counters (host.NAME):\n");
	for (i = 0; i < SV_HOST_STAT__COUNT; i++)
		printf("  %-20s\n", sv_host_stat_name((sv_host_stat)i));
	printf("Auditor checks (audit.NAME, with [vm] audit=true):\n");
	for (i = 0; i < SV_AUDIT__COUNT; i++)
		printf("  %-20s\n", sv_audit_name((sv_audit_kind)i));
	printf("TLB arrays ([tlb] <name>_sets, <name>_ways; default sets x ways):\n");
	for (i = 0; i < SV_TLB__COUNT; i++)
		printf("  %-10s %5u x %-3u %s\n", sv_tlb_array_name((sv_tlb_array)i),
		       t.array[i].sets, t.array[i].ways,
		       sv_tlb_array_desc((sv_tlb_array)i));
	printf("Costs ([cost] <name>, cycles; default):\n");
	for (i = 0; i < sv_cost_count(); i++)
		printf("  %-10s %5u  %s\n", sv_cost_name(i), *sv_cost_slot(&c, i),
		       sv_cost_desc(i));
	printf("Scenario keys ([GROUP] KEY):\n");
	list_keys(false);
	return EXIT_SUCCESS;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: simvirt COMMAND [OPTIONS]\n\n"
		   "Commands:\n"
		   "  run [SCENARIO]       run a scenario (default: the built-in one)\n"
		   "  replay TRACE         replay a recorded run through the model\n"
		   "  trace dump TRACE     print a trace readably\n"
		   "  trace run TRACE      run a memory trace (lackey, ChampSim, "
		   "text, simvirt)\n"
		   "                       through the guest kernel's memory "
		   "model\n"
		   "  walk [SCENARIO]      the 2D walk of one address, step by step\n"
		   "  plot REPORT.json...  per-phase bars of reports, side by side "
		   "(SVG/PNG)\n"
		   "  diff A.json B.json   what differs between two reports\n"
		   "  sweep SWEEP.ini      many runs over parameter axes (local, GNU "
		   "parallel, Slurm)\n"
		   "  merge DIR            a sweep's reports as one table\n"
		   "  exec PROGRAM [ARG...] an unmodified static Linux program as "
		   "a guest\n"
		   "  calibrate            fit the cost model to this machine\n"
		   "  list                 workloads, policies, backings, actions, "
		   "counters, scenario keys\n"
		   "  version              print the version\n\n"
		   "'simvirt COMMAND --help' describes a command's options.\n\n"
		   EXIT_STATUS_HELP "\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"run", cmd_run},	    {"replay", cmd_replay},
		    {"trace", cmd_trace}, {"walk", cmd_walk},
		    {"plot", cmd_plot},   {"diff", cmd_diff},
		    {"sweep", cmd_sweep}, {"merge", cmd_merge},
		    {"calibrate", cmd_calibrate}, {"exec", cli_exec}};
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < G_N_ELEMENTS(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			g_autofree char *name = g_strdup_printf("simvirt %s", argv[1]);

			/* --help says "simvirt run [OPTION...]" */
			g_set_prgname(name);
			return cmds[i].fn(argc - 1, argv + 1);
		}
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
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
