/*
 * tools/simvirt/diff.c - simvirt diff: what differs between two reports.
 *
 * First the configuration keys whose values differ (or that only one
 * report has), then the counters, matched by (phase position, scope,
 * counter): those of A in A's order, then those only B has.  Filters
 * choose scopes, phases and counters, and a smallest relative change;
 * they apply to counters, never to the configuration.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "cli.h"
#include "reports.h"

typedef struct diff_filter {
	const rep_filter *f;
	double min_change; /* percent; < 0: none */
} diff_filter;

/* One counter that differs: A's and B's (NULL where the report lacks it). */
typedef struct diff_row {
	const rep_value *a, *b;
} diff_row;

/* (B - A) / |A| in percent; INFINITY when A is 0 and B is not. */
static double relative(gint64 a, gint64 b)
{
	if (a == b)
		return 0;
	if (!a)
		return INFINITY;
	return 100.0 * (double)(b - a) / fabs((double)a);
}

static bool row_wanted(const diff_filter *f, const rtab *ra, const rtab *rb,
		       const diff_row *d)
{
	const rep_value *v = d->a ? d->a : d->b;
	const rtab *r = d->a ? ra : rb;

	if (!rep_filter_wants(f->f, r, v))
		return false;
	if (f->min_change < 0 || !d->a || !d->b)
		return true;
	return fabs(relative(d->a->value, d->b->value)) >= f->min_change;
}

static char *value_key(const rep_value *v)
{
	return g_strdup_printf("%u\t%s\t%s", v->phase, v->scope, v->counter);
}

/* The counters that differ, after the filters. */
static GArray *diff_counters(const rtab *a, const rtab *b, const diff_filter *f)
{
	g_autoptr(GHashTable) in_b =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) in_a =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GArray *rows = g_array_new(FALSE, FALSE, sizeof(diff_row));
	guint i;

	for (i = 0; i < b->values->len; i++) {
		const rep_value *v = &g_array_index(b->values, rep_value, i);

		g_hash_table_insert(in_b, value_key(v), (gpointer)v);
	}
	for (i = 0; i < a->values->len; i++) {
		const rep_value *v = &g_array_index(a->values, rep_value, i);
		char *k = value_key(v);
		diff_row d = {v, g_hash_table_lookup(in_b, k)};

		g_hash_table_insert(in_a, k, (gpointer)v);
		if ((!d.b || d.a->value != d.b->value) && row_wanted(f, a, b, &d))
			g_array_append_val(rows, d);
	}
	for (i = 0; i < b->values->len; i++) {
		const rep_value *v = &g_array_index(b->values, rep_value, i);
		g_autofree char *k = value_key(v);
		diff_row d = {NULL, v};

		if (!g_hash_table_contains(in_a, k) && row_wanted(f, a, b, &d))
			g_array_append_val(rows, d);
	}
	return rows;
}

/* The configuration keys that differ: "KEY", A's value, B's value (NULL
 * where one report lacks the key), in A's order, then B's own. */
static GPtrArray *diff_config(const rtab *a, const rtab *b)
{
	GPtrArray *out = g_ptr_array_new();
	guint i;

	for (i = 0; i < a->config->len; i += 2) {
		const char *k = g_ptr_array_index(a->config, i);
		const char *va = g_ptr_array_index(a->config, i + 1);
		const char *vb = rep_config(b, k);

		if (!vb || strcmp(va, vb)) {
			g_ptr_array_add(out, (char *)k);
			g_ptr_array_add(out, (char *)va);
			g_ptr_array_add(out, (char *)vb);
		}
	}
	for (i = 0; i < b->config->len; i += 2) {
		const char *k = g_ptr_array_index(b->config, i);

		if (!rep_config(a, k)) {
			g_ptr_array_add(out, (char *)k);
			g_ptr_array_add(out, NULL);
			g_ptr_array_add(out, g_ptr_array_index(b->config, i + 1));
		}
	}
	return out;
}

static const char *phase_name(const rtab *ra, const rtab *rb, const diff_row *d)
{
	const rep_value *v = d->a ? d->a : d->b;

	return g_ptr_array_index((d->a ? ra : rb)->phase_names, v->phase);
}

static void print_table(const rtab *a, const rtab *b, GPtrArray *cfg,
			GArray *rows)
{
	guint i;

	printf("A: %s\nB: %s\n", a->path, b->path);
	if (a->schema < 2 || b->schema < 2)
		printf("(a schema 1 report carries no configuration)\n");
	printf("\nconfiguration: %u key%s differ%s\n", cfg->len / 3,
	       cfg->len == 3 ? "" : "s", cfg->len == 3 ? "s" : "");
	for (i = 0; i < cfg->len; i += 3) {
		const char *va = g_ptr_array_index(cfg, i + 1);
		const char *vb = g_ptr_array_index(cfg, i + 2);

		printf("  %-36s %-20s %s\n", (char *)g_ptr_array_index(cfg, i),
		       va ? va : "-", vb ? vb : "-");
	}
	printf("\ncounters: %u differ%s\n", rows->len, rows->len == 1 ? "s" : "");
	if (rows->len)
		printf("  %-16s %-6s %-24s %15s %15s %15s %9s\n", "phase", "scope",
		       "counter", "A", "B", "B - A", "change");
	for (i = 0; i < rows->len; i++) {
		const diff_row *d = &g_array_index(rows, diff_row, i);
		const rep_value *v = d->a ? d->a : d->b;
		char va[24] = "-", vb[24] = "-", dv[24] = "-", rel[16] = "-";

		if (d->a)
			snprintf(va, sizeof(va), "%" G_GINT64_FORMAT, d->a->value);
		if (d->b)
			snprintf(vb, sizeof(vb), "%" G_GINT64_FORMAT, d->b->value);
		if (d->a && d->b) {
			double r = relative(d->a->value, d->b->value);

			snprintf(dv, sizeof(dv), "%+" G_GINT64_FORMAT,
				 d->b->value - d->a->value);
			if (isinf(r))
				snprintf(rel, sizeof(rel), "new");
			else
				snprintf(rel, sizeof(rel), "%+.1f%%", r);
		}
		printf("  %-16s %-6s %-24s %15s %15s %15s %9s\n",
		       phase_name(a, b, d), v->scope, v->counter, va, vb, dv, rel);
	}
}

static void json_opt_string(JsonBuilder *j, const char *name, const char *v)
{
	json_builder_set_member_name(j, name);
	if (v)
		json_builder_add_string_value(j, v);
	else
		json_builder_add_null_value(j);
}

static void json_opt_int(JsonBuilder *j, const char *name, const rep_value *v)
{
	json_builder_set_member_name(j, name);
	if (v)
		json_builder_add_int_value(j, v->value);
	else
		json_builder_add_null_value(j);
}

static void print_json(const rtab *a, const rtab *b, GPtrArray *cfg,
		       GArray *rows)
{
	g_autoptr(JsonBuilder) j = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;
	guint i;

	json_builder_begin_object(j);
	json_opt_string(j, "a", a->path);
	json_opt_string(j, "b", b->path);
	json_builder_set_member_name(j, "config");
	json_builder_begin_array(j);
	for (i = 0; i < cfg->len; i += 3) {
		json_builder_begin_object(j);
		json_opt_string(j, "key", g_ptr_array_index(cfg, i));
		json_opt_string(j, "a", g_ptr_array_index(cfg, i + 1));
		json_opt_string(j, "b", g_ptr_array_index(cfg, i + 2));
		json_builder_end_object(j);
	}
	json_builder_end_array(j);
	json_builder_set_member_name(j, "counters");
	json_builder_begin_array(j);
	for (i = 0; i < rows->len; i++) {
		const diff_row *d = &g_array_index(rows, diff_row, i);
		const rep_value *v = d->a ? d->a : d->b;

		json_builder_begin_object(j);
		json_opt_string(j, "phase", phase_name(a, b, d));
		json_builder_set_member_name(j, "phase_index");
		json_builder_add_int_value(j, v->phase);
		json_opt_string(j, "scope", v->scope);
		json_opt_string(j, "counter", v->counter);
		json_opt_int(j, "a", d->a);
		json_opt_int(j, "b", d->b);
		/* the relative change in percent; null when A is 0 or absent */
		json_builder_set_member_name(j, "change_percent");
		if (d->a && d->b && d->a->value)
			json_builder_add_double_value(
				j, relative(d->a->value, d->b->value));
		else
			json_builder_add_null_value(j);
		json_builder_end_object(j);
	}
	json_builder_end_array(j);
	json_builder_end_object(j);
	root = json_builder_get_root(j);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	printf("%s\n", text);
}

int cmd_diff(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("A.json B.json");
	g_autofree char *format = NULL, *min = NULL;
	g_autoptr(rtab) a = NULL;
	g_autoptr(rtab) b = NULL;
	g_autoptr(GPtrArray) cfg = NULL;
	g_autoptr(GArray) rows = NULL;
	g_auto(rep_filter) rf = {NULL, NULL, NULL};
	diff_filter f = {&rf, -1};
	GOptionEntry entries[] = {
		{"min-change", 0, 0, G_OPTION_ARG_STRING, &min,
		 "Only counters that changed by at least PCT percent of A's "
		 "value (from 0 always counts)", "PCT"},
		{"format", 'f', 0, G_OPTION_ARG_STRING, &format,
		 "Output: table (default) or json", "FORMAT"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	char *why = NULL, *end;

	g_option_context_set_summary(
		ctx, "Compares two JSON reports of 'simvirt run --format json': "
		     "first the\nconfiguration keys that differ, then the "
		     "counters (phase, scope, name,\nA, B, B - A and the "
		     "relative change).  Exit status 0 when nothing shown\n"
		     "differs, 1 when something does.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	rep_filter_entries(ctx, &rf);
	if (!cli_parse(ctx, "diff", &argc, &argv) ||
	    !rep_filter_ready(&rf, "diff"))
		return EXIT_USAGE;
	if (argc != 3) {
		fprintf(stderr, "simvirt diff: expected two JSON reports\n");
		return EXIT_USAGE;
	}
	if (format && strcmp(format, "table") && strcmp(format, "json")) {
		fprintf(stderr, "simvirt diff: --format: expected table or json, "
				"got '%s'\n", format);
		return EXIT_USAGE;
	}
	if (min) {
		f.min_change = g_ascii_strtod(min, &end);
		if (end == min || *end || !(f.min_change >= 0) ||
		    isinf(f.min_change)) {
			fprintf(stderr, "simvirt diff: --min-change: expected a "
					"percentage of 0 or more, got '%s'\n", min);
			return EXIT_USAGE;
		}
	}
	if (!(a = rep_load(argv[1], &why)) || !(b = rep_load(argv[2], &why))) {
		fprintf(stderr, "simvirt diff: %s\n", why);
		g_free(why);
		return EXIT_USAGE;
	}
	if (!rep_filter_matches_some(&rf, (rtab *const[]){a, b}, 2, "diff"))
		return EXIT_USAGE;
	cfg = diff_config(a, b);
	rows = diff_counters(a, b, &f);
	if (format && !strcmp(format, "json"))
		print_json(a, b, cfg, rows);
	else
		print_table(a, b, cfg, rows);
	return cfg->len || rows->len ? EXIT_FAILURE : EXIT_SUCCESS;
}
