/*
 * tools/simvirt/plot.c - simvirt plot: per-phase bars of a report.
 */
#include <stdio.h>

#include <json-glib/json-glib.h>

#include "cli.h"
#include "draw.h"
#include "reports.h"

int cmd_plot(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("STATS.json");
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *out = NULL;
	g_autoptr(rep) r = NULL;
	char *why = NULL;
	GOptionEntry entries[] = {
		{"out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
		 "The picture to write, FILE.svg or FILE.png (required)", "FILE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};

	g_option_context_set_summary(ctx, "Draws a JSON report of 'simvirt run "
					  "--format json' as per-phase bars:\n"
					  "the SPTEs of each size at the end of "
					  "each phase, and the faults, remote\n"
					  "flushes and cycles during it.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!cli_parse(ctx, "plot", &argc, &argv))
		return EXIT_USAGE;
	if (argc != 2 || !out) {
		fprintf(stderr, "simvirt plot: expected one JSON report and "
				"--out FILE.svg|FILE.png\n");
		return EXIT_USAGE;
	}
	/* the report's schema and shape first: a clear message for a file
	 * that is not a report this simvirt reads */
	r = rep_load(argv[1], &why);
	if (!r) {
		fprintf(stderr, "simvirt plot: %s\n", why);
		g_free(why);
		return EXIT_USAGE;
	}
	parser = json_parser_new();
	if (!json_parser_load_from_file(parser, argv[1], &err)) {
		/* json-glib's message names the file, line and column */
		fprintf(stderr, "simvirt plot: %s\n", err->message);
		return EXIT_USAGE;
	}
	if (!json_parser_get_root(parser) ||
	    !plot_draw(json_parser_get_root(parser), out, &why)) {
		fprintf(stderr, "simvirt plot: %s: %s\n", argv[1],
			why ? why : "an empty file");
		g_free(why);
		return EXIT_USAGE;
	}
	return EXIT_SUCCESS;
}
