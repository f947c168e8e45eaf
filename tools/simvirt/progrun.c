/*
 * tools/simvirt/progrun.c - `simvirt exec`: an unmodified static Linux
 * program run as a guest on a machine of its own (the trace machine:
 * guest memory over THP-capable host memory, one vCPU, the MMU chosen),
 * its kernel the guest memory model.  The program's output goes where
 * --stdout and --stderr say (by default simvirt's own), then the counters
 * that describe the run, a line each in a fixed order, to --counters (by
 * default stderr).  The exit status is the program's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

static void print_counters(FILE *out, sv_trace_machine *m, sv_program *p,
			   const sv_program_result *r)
{
	unsigned i;

	fprintf(out, "stop %s\n", sv_program_stop_name(r->stop));
	if (r->stop == SV_PROGRAM_EXITED)
		fprintf(out, "exit_status %d\n", r->status);
	else
		fprintf(out, "rip 0x%" PRIx64 "\naddr 0x%" PRIx64 "\n", r->rip,
			r->addr);
	for (i = 0; i < SV_PROGRAM_STAT__COUNT; i++)
		fprintf(out, "program.%s %" PRIu64 "\n", sv_program_stat_name(i),
			sv_program_stat_get(p, i));
	for (i = 0; i < 512; i++) {
		uint64_t n = sv_program_syscall_count(p, i);
		const char *name = sv_program_syscall_name(i);

		if (!n)
			continue;
		if (name)
			fprintf(out, "syscall.%s %" PRIu64 "%s\n", name, n,
				sv_program_syscall_emulated(i) ? "" : " ENOSYS");
		else
			fprintf(out, "syscall.%u %" PRIu64 " ENOSYS\n", i, n);
	}
	cli_machine_counters(out, m);
}

/* What stayed in memory goes to simvirt's own stdout and stderr. */
static void flush_output(sv_program *p)
{
	size_t len;
	const void *b;

	if ((b = sv_program_output(p, 1, &len)) && len)
		fwrite(b, 1, len, stdout);
	fflush(stdout);
	if ((b = sv_program_output(p, 2, &len)) && len)
		fwrite(b, 1, len, stderr);
}

static bool parse_files(GArray *out, char **specs)
{
	for (; specs && *specs; specs++) {
		char *eq = strchr(*specs, '=');
		sv_program_file f;

		if (!eq || eq == *specs || !eq[1] || **specs != '/') {
			fprintf(stderr, "simvirt exec: --file: expected "
					"/GUEST/PATH=HOST_PATH, got '%s'\n", *specs);
			return false;
		}
		*eq = '\0';
		f.guest_path = *specs;
		f.host_path = eq + 1;
		if (!cli_input_ok("exec", "--file", f.host_path))
			return false;
		g_array_append_val(out, f);
	}
	return true;
}

int cli_exec(int argc, char **argv)
{
	g_auto(cli_machine) ma = {0};
	g_autofree char *in = NULL, *out = NULL, *err = NULL, *counters = NULL;
	g_autofree char *name = NULL;
	g_auto(GStrv) files = NULL, env = NULL;
	gint64 seed = 1, limit = 0, ff = 0, khp = 0;
	GOptionEntry entries[] = {
		{"stdin", 0, 0, G_OPTION_ARG_FILENAME, &in,
		 "The program's standard input (default: empty)", "FILE"},
		{"stdout", 0, 0, G_OPTION_ARG_FILENAME, &out,
		 "Where its standard output goes (default: simvirt's)", "FILE"},
		{"stderr", 0, 0, G_OPTION_ARG_FILENAME, &err,
		 "Where its standard error goes (default: simvirt's)", "FILE"},
		{"file", 0, 0, G_OPTION_ARG_STRING_ARRAY, &files,
		 "A host file the program may open read-only at GUEST (an "
		 "absolute path); repeatable", "GUEST=HOST"},
		{"env", 0, 0, G_OPTION_ARG_STRING_ARRAY, &env,
		 "An environment variable; repeatable (default: none)", "NAME=VALUE"},
		{"name", 0, 0, G_OPTION_ARG_STRING, &name,
		 "The path the program sees itself at (default: PROGRAM)", "PATH"},
		{"seed", 0, 0, G_OPTION_ARG_INT64, &seed,
		 "Seeds AT_RANDOM and getrandom (default 1)", "N"},
		{"limit", 0, 0, G_OPTION_ARG_INT64, &limit,
		 "Stop after this many instructions (default: none)", "N"},
		{"fast-forward", 0, 0, G_OPTION_ARG_INT64, &ff,
		 "Run this many instructions without the translation model "
		 "first (default 0)", "N"},
		{"khugepaged", 0, 0, G_OPTION_ARG_INT64, &khp,
		 "Wake khugepaged every N instructions (default 0: never)", "N"},
		{"counters", 0, 0, G_OPTION_ARG_FILENAME, &counters,
		 "Where the counters go (default: stderr)", "FILE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("[--] PROGRAM [ARGUMENT...]");
	sv_trace_machine_options mo = SV_TRACE_MACHINE_OPTIONS_INIT;
	sv_program_options po = SV_PROGRAM_OPTIONS_INIT;
	g_autoptr(GArray) fa = g_array_new(FALSE, FALSE, sizeof(sv_program_file));
	sv_trace_machine m = {0};
	sv_program_result res = {0};
	sv_program *p = NULL;
	FILE *cf = stderr;
	int rc, status;

	g_option_context_add_main_entries(ctx, entries, NULL);
	cli_machine_entries(ctx, &ma);
	g_option_context_set_summary(ctx, "Runs an unmodified static x86-64 Linux "
					  "program as a guest: the guest kernel's\n"
					  "memory model is its kernel, every access "
					  "goes through the translation model.\n"
					  "The exit status is the program's (3 when "
					  "it ends on a signal or a limit).");
	if (!cli_parse(ctx, "exec", &argc, &argv))
		return EXIT_USAGE;
	if (argc >= 2 && !strcmp(argv[1], "--")) { /* GLib keeps it at times */
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "simvirt exec: expected a PROGRAM\n");
		return EXIT_USAGE;
	}
	if (cli_machine_parse(&mo, "exec", &ma) != EXIT_SUCCESS)
		return EXIT_USAGE;
	if (seed < 0 || limit < 0 || ff < 0 || khp < 0) {
		fprintf(stderr, "simvirt exec: --seed, --limit, --fast-forward and "
				"--khugepaged: expected numbers from 0\n");
		return EXIT_USAGE;
	}
	if (!cli_input_ok("exec", "program", argv[1]) ||
	    (in && !cli_input_ok("exec", "--stdin", in)) || !parse_files(fa, files) ||
	    (out && !cli_output_ok("exec", "--stdout", out)) ||
	    (err && !cli_output_ok("exec", "--stderr", err)) ||
	    (counters && !cli_output_ok("exec", "--counters", counters)))
		return EXIT_USAGE;
	po.path = argv[1];
	po.name = name;
	po.argv = (const char *const *)(argv + 1);
	po.envp = (const char *const *)env;
	po.stdin_path = in;
	po.stdout_path = out;
	po.stderr_path = err;
	po.files = (const sv_program_file *)fa->data;
	po.nfiles = fa->len;
	po.seed = (uint64_t)seed;
	po.khugepaged_period = (uint64_t)khp;
	if (ff) {
		po.mode = SV_EXEC_FAST_FORWARD;
		po.detail_at = (uint64_t)ff;
	}
	rc = sv_trace_machine_new(&m, &mo);
	if (rc == SV_OK)
		rc = sv_program_new(&p, m.guest, m.vcpu, &po);
	if (rc == SV_OK)
		rc = sv_program_run(&res, p, (uint64_t)limit);
	if (p)
		flush_output(p);
	if (rc != SV_OK) {
		/* what the program cannot be loaded from is bad input */
		status = cli_fail("exec", rc);
		sv_program_free(p);
		sv_trace_machine_free(&m);
		return rc == SV_EINVAL || rc == SV_ENOENT ? EXIT_USAGE : status;
	}
	if (counters && !(cf = fopen(counters, "w"))) {
		fprintf(stderr, "simvirt exec: %s: cannot write\n", counters);
		cf = stderr;
	}
	print_counters(cf, &m, p, &res);
	if (cf != stderr)
		fclose(cf);
	if (res.stop != SV_PROGRAM_EXITED)
		fprintf(stderr, "simvirt exec: the program stopped: %s at rip 0x%"
				PRIx64 " (address 0x%" PRIx64 ")\n",
			sv_program_stop_name(res.stop), res.rip, res.addr);
	status = res.stop == SV_PROGRAM_EXITED ? res.status : EXIT_GUEST_FAULT;
	sv_program_free(p);
	sv_trace_machine_free(&m);
	return status;
}
