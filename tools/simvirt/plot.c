/*
 * tools/simvirt/plot.c - simvirt plot: per-phase bars of one or more
 * reports, side by side, one panel per counter (draw.c draws them).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "draw.h"
#include "reports.h"

int cmd_plot(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("REPORT.json...");
	g_autoptr(GPtrArray) reps = g_ptr_array_new_with_free_func(
		(GDestroyNotify)rep_free);
	g_autofree char *out = NULL, *scope = NULL;
	g_auto(rep_filter) flt = {NULL, NULL, NULL};
	g_auto(GStrv) counters = NULL;
	gboolean log = FALSE;
	plot_input in;
	char *why = NULL;
	GOptionEntry entries[] = {
		{"out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
		 "The picture to write, FILE.svg or FILE.png (required)", "FILE"},
		{"counter", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &counters,
		 "A panel for each counter this name or glob matches, in report "
		 "order (repeatable, or a comma list; default " PLOT_DEFAULT ")",
		 "GLOB"},
		{"scope", 0, 0, G_OPTION_ARG_STRING, &scope,
		 "The counters' scope: vm (default), vcpuN, host or audit", "SCOPE"},
		{"log", 'l', 0, G_OPTION_ARG_NONE, &log,
		 "A log-10 axis instead of a linear one", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	int i;

	g_option_context_set_summary(
		ctx, "Draws JSON reports of 'simvirt run --format json' as bars "
		     "per phase: a panel\nper counter, with an axis of values; "
		     "two or more reports side by side, the\nconfiguration keys "
		     "that differ between them in the legend.  A level\n"
		     "(pages_2m, ...) is drawn at the end of each phase, any "
		     "other counter as\nits change during the phase.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!cli_parse(ctx, "plot", &argc, &argv))
		return EXIT_USAGE;
	if (argc < 2 || !out) {
		fprintf(stderr, "simvirt plot: expected one or more JSON reports "
				"and --out FILE.svg|FILE.png\n");
		return EXIT_USAGE;
	}
	/* --scope is one word; the comma lists of --counter are split */
	flt.scopes = scope ? g_strsplit(scope, "\n", 2) : NULL;
	flt.counters = g_steal_pointer(&counters);
	if (!rep_filter_ready(&flt, "plot"))
		return EXIT_USAGE;
	if (flt.scopes && (flt.scopes[1] || !strcmp(flt.scopes[0], "vcpu"))) {
		fprintf(stderr, "simvirt plot: --scope: expected one scope (vm, "
				"vcpuN, host or audit)\n");
		return EXIT_USAGE;
	}
	if (!cli_output_ok("plot", "--out", out))
		return EXIT_USAGE;
	for (i = 1; i < argc; i++) {
		rtab *r = rep_load(argv[i], &why);

		if (!r) {
			fprintf(stderr, "simvirt plot: %s\n", why);
			g_free(why);
			return EXIT_USAGE;
		}
		g_ptr_array_add(reps, r);
	}
	in.reps = (rtab *const *)reps->pdata;
	in.nreps = reps->len;
	in.counters = flt.counters;
	in.scope = flt.scopes ? flt.scopes[0] : "vm";
	in.log = log;
	if (!plot_draw(&in, out, &why)) {
		fprintf(stderr, "simvirt plot: %s\n", why);
		g_free(why);
		return EXIT_USAGE;
	}
	return EXIT_SUCCESS;
}
