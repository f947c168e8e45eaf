/*
 * tools/simvirt/merge.c - simvirt merge: a sweep's reports as one tidy
 * table, one row per (run, phase, scope, counter), for pandas and R.
 *
 * Columns: run (the run's id), the configuration keys that differ between
 * the runs (every key with --all-config) in the order the reports give
 * them, end, phase, phase_index (0: the totals), scope, counter, value.
 * Runs come in the sweep's order (DIR/runs.tsv), else in id order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli.h"
#include "reports.h"

/* The runs of DIR: ids from runs.tsv, else every folder with a report. */
static GPtrArray *run_ids(const char *dir)
{
	g_autofree char *index = g_build_filename(dir, "runs.tsv", NULL);
	g_autofree char *text = NULL;
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

	if (g_file_get_contents(index, &text, NULL, NULL)) {
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
		char **l;

		/* the first line names the columns */
		for (l = lines; *l && l[1]; l++)
			if (l != lines && **l)
				g_ptr_array_add(ids, g_strndup(*l, strcspn(*l, "\t")));
	} else {
		GDir *d = g_dir_open(dir, 0, NULL);
		const char *name;

		while (d && (name = g_dir_read_name(d))) {
			g_autofree char *p = g_build_filename(dir, name,
							      "report.json", NULL);

			if (g_file_test(p, G_FILE_TEST_IS_REGULAR))
				g_ptr_array_add(ids, g_strdup(name));
		}
		if (d)
			g_dir_close(d);
		g_ptr_array_sort(ids, (GCompareFunc)g_strcmp0);
	}
	return ids;
}

static void csv_field(FILE *f, const char *s)
{
	const char *c;

	if (!s[strcspn(s, ",\"\n\r")]) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (c = s; *c; c++) {
		if (*c == '"')
			fputc('"', f);
		fputc(*c, f);
	}
	fputc('"', f);
}

static void json_str(FILE *f, const char *s)
{
	const unsigned char *c;

	fputc('"', f);
	for (c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

typedef struct table {
	FILE *f;
	bool jsonl;
	GPtrArray *keys; /* the configuration columns */
	guint64 rows;
} table;

static const char *const tail_cols[] = {"end", "phase", "phase_index",
					"scope", "counter", "value"};

static void header(table *t)
{
	guint i;

	if (t->jsonl)
		return;
	fputs("run", t->f);
	for (i = 0; i < t->keys->len; i++) {
		fputc(',', t->f);
		csv_field(t->f, g_ptr_array_index(t->keys, i));
	}
	for (i = 0; i < G_N_ELEMENTS(tail_cols); i++)
		fprintf(t->f, ",%s", tail_cols[i]);
	fputc('\n', t->f);
}

/* One run's rows. */
static void rows(table *t, const char *id, const rtab *r, const rep_filter *flt)
{
	guint i, k;

	for (i = 0; i < r->values->len; i++) {
		const rep_value *v = &g_array_index(r->values, rep_value, i);
		const char *phase = g_ptr_array_index(r->phase_names, v->phase);

		if (!rep_filter_wants(flt, r, v))
			continue;
		t->rows++;
		if (!t->jsonl) {
			fputs(id, t->f);
			for (k = 0; k < t->keys->len; k++) {
				const char *val = rep_config(r, g_ptr_array_index(t->keys, k));

				fputc(',', t->f);
				csv_field(t->f, val ? val : "");
			}
			fputc(',', t->f);
			csv_field(t->f, r->end);
			fputc(',', t->f);
			csv_field(t->f, phase);
			fprintf(t->f, ",%u,%s,%s,%" G_GINT64_FORMAT "\n", v->phase,
				v->scope, v->counter, v->value);
			continue;
		}
		fputs("{\"run\": ", t->f);
		json_str(t->f, id);
		for (k = 0; k < t->keys->len; k++) {
			const char *val = rep_config(r, g_ptr_array_index(t->keys, k));

			fputs(", ", t->f);
			json_str(t->f, g_ptr_array_index(t->keys, k));
			fputs(": ", t->f);
			if (val)
				json_str(t->f, val);
			else
				fputs("null", t->f);
		}
		fputs(", \"end\": ", t->f);
		json_str(t->f, r->end);
		fputs(", \"phase\": ", t->f);
		json_str(t->f, phase);
		fprintf(t->f, ", \"phase_index\": %u, \"scope\": \"%s\", "
			      "\"counter\": \"%s\", \"value\": %" G_GINT64_FORMAT "}\n",
			v->phase, v->scope, v->counter, v->value);
	}
}

/* The configuration columns: the keys whose value is not the same in
 * every report (all keys with all), in first-seen order. */
static GPtrArray *config_columns(rtab *const *reps, guint n, bool all)
{
	g_autoptr(GHashTable) first = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) varies = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) order = g_ptr_array_new();
	GPtrArray *cols = g_ptr_array_new_with_free_func(g_free);
	guint i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k + 1 < reps[i]->config->len; k += 2) {
			const char *key = g_ptr_array_index(reps[i]->config, k);
			const char *val = g_ptr_array_index(reps[i]->config, k + 1);
			const char *was = g_hash_table_lookup(first, key);

			if (!was) {
				g_hash_table_insert(first, (char *)key, (char *)val);
				g_ptr_array_add(order, (char *)key);
				if (i)
					g_hash_table_add(varies, (char *)key);
			} else if (strcmp(was, val)) {
				g_hash_table_add(varies, (char *)key);
			}
		}
	/* a key some report lacks varies too */
	for (k = 0; k < order->len; k++)
		for (i = 0; i < n; i++)
			if (!rep_config(reps[i], g_ptr_array_index(order, k)))
				g_hash_table_add(varies, g_ptr_array_index(order, k));
	for (k = 0; k < order->len; k++)
		if (all || g_hash_table_contains(varies, g_ptr_array_index(order, k)))
			g_ptr_array_add(cols, g_strdup(g_ptr_array_index(order, k)));
	return cols;
}

/* A progress line on a terminal, at most every quarter second. */
static void merge_progress(const char *what, guint i, guint n, gint64 *last)
{
	gint64 now = g_get_monotonic_time();

	if (!isatty(STDERR_FILENO))
		return;
	if (i < n && now - *last < 250000)
		return;
	*last = now;
	if (i < n)
		fprintf(stderr, "\r\033[Ksimvirt merge: %s report %u of %u", what,
			i + 1, n);
	else
		fprintf(stderr, "\r\033[K");
	fflush(stderr);
}

int cmd_merge(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("DIR");
	g_autofree char *out = NULL, *format = NULL, *tmp = NULL;
	g_auto(rep_filter) flt = {NULL, NULL, NULL};
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GPtrArray) reps = g_ptr_array_new_with_free_func(
		(GDestroyNotify)rep_free);
	g_autoptr(GPtrArray) got = g_ptr_array_new();
	g_autoptr(GPtrArray) missing = g_ptr_array_new();
	rep_filter_seen seen = {NULL, 0};
	gint64 shown = 0;
	gboolean all = FALSE;
	table t = {stdout, false, NULL, 0};
	GOptionEntry entries[] = {
		{"out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
		 "Write the table here (default: stdout)", "FILE"},
		{"format", 'f', 0, G_OPTION_ARG_STRING, &format,
		 "csv (default) or jsonl (JSON lines; the default for an --out "
		 "ending in .jsonl)", "FORMAT"},
		{"all-config", 'a', 0, G_OPTION_ARG_NONE, &all,
		 "A column for every configuration key, not only for those that "
		 "differ between the runs", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	guint i;
	int status = EXIT_SUCCESS, fd;
	char *why = NULL;

	g_option_context_set_summary(
		ctx, "Gathers the reports of a sweep's run directory into one "
		     "tidy table: a row\nper run, phase, scope and counter, "
		     "with the configuration keys that differ\nbetween the "
		     "runs as columns (pandas: pd.read_csv(FILE)).  Exit "
		     "status 1\nwhen some runs have no report yet (the table "
		     "holds the others).");
	g_option_context_add_main_entries(ctx, entries, NULL);
	rep_filter_entries(ctx, &flt);
	if (!cli_parse(ctx, "merge", &argc, &argv) ||
	    !rep_filter_ready(&flt, "merge"))
		return EXIT_USAGE;
	if (argc != 2 || !g_file_test(argv[1], G_FILE_TEST_IS_DIR)) {
		fprintf(stderr, "simvirt merge: expected a sweep's run "
				"directory%s%s\n", argc == 2 ? ", got " : "",
			argc == 2 ? argv[1] : "");
		return EXIT_USAGE;
	}
	if (format && strcmp(format, "csv") && strcmp(format, "jsonl")) {
		fprintf(stderr, "simvirt merge: --format: expected csv or jsonl, "
				"got '%s'\n", format);
		return EXIT_USAGE;
	}
	t.jsonl = format ? !strcmp(format, "jsonl")
			 : out && g_str_has_suffix(out, ".jsonl");
	if (out && !cli_output_ok("merge", "--out", out))
		return EXIT_USAGE;
	ids = run_ids(argv[1]);
	for (i = 0; i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		g_autofree char *p = g_build_filename(argv[1], id, "report.json",
						      NULL);
		rtab *r;

		merge_progress("reading", i, ids->len, &shown);
		if (!g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
			g_ptr_array_add(missing, (char *)id);
			continue;
		}
		if (!(r = rep_load(p, &why))) {
			fprintf(stderr, "simvirt merge: %s\n", why);
			g_free(why);
			return EXIT_USAGE;
		}
		/* the configurations stay, the counters are read again when
		 * written: the memory stays small for large sweeps */
		rep_filter_note(&flt, r, &seen);
		g_array_set_size(r->values, 0);
		g_ptr_array_add(reps, r);
		g_ptr_array_add(got, (char *)id);
	}
	if (!reps->len) {
		fprintf(stderr, "simvirt merge: %s: no run has a report yet "
				"(%u runs)\n", argv[1], ids->len);
		return EXIT_FAILURE;
	}
	if (!rep_filter_check(&flt, &seen, "merge"))
		return EXIT_USAGE;
	t.keys = config_columns((rtab *const *)reps->pdata, reps->len, all);
	if (out) {
		tmp = g_strdup_printf("%s.XXXXXX", out);
		if ((fd = g_mkstemp(tmp)) < 0 || !(t.f = fdopen(fd, "w"))) {
			fprintf(stderr, "simvirt merge: %s: %s\n", out,
				g_strerror(errno));
			g_ptr_array_free(t.keys, TRUE);
			return EXIT_FAILURE;
		}
		fchmod(fd, 0644);
	}
	header(&t);
	for (i = 0; i < reps->len && status == EXIT_SUCCESS; i++) {
		g_autofree char *p = g_build_filename(
			argv[1], (char *)g_ptr_array_index(got, i), "report.json",
			NULL);
		g_autoptr(rtab) r = rep_load(p, &why);

		merge_progress("writing", i, reps->len, &shown);
		if (!r) {
			fprintf(stderr, "simvirt merge: %s\n", why);
			g_free(why);
			status = EXIT_FAILURE;
			break;
		}
		rows(&t, g_ptr_array_index(got, i), r, &flt);
	}
	merge_progress("writing", reps->len, reps->len, &shown);
	if (out && status != EXIT_SUCCESS) {
		fclose(t.f);
		g_unlink(tmp);
		g_ptr_array_free(t.keys, TRUE);
		return status;
	}
	if (out && (fclose(t.f) != 0 || g_rename(tmp, out) != 0)) {
		fprintf(stderr, "simvirt merge: %s: %s\n", out, g_strerror(errno));
		g_unlink(tmp);
		status = EXIT_FAILURE;
	}
	g_ptr_array_free(t.keys, TRUE);
	if (missing->len) {
		fprintf(stderr, "simvirt merge: %u of %u runs have no report (not "
				"run yet, or failed: DIR/ID/log.txt says why):",
			missing->len, ids->len);
		for (i = 0; i < missing->len && i < 8; i++)
			fprintf(stderr, " %s", (char *)g_ptr_array_index(missing, i));
		fprintf(stderr, "%s\n", missing->len > 8 ? " ..." : "");
		status = EXIT_FAILURE;
	}
	return status;
}
