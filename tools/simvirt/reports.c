/*
 * tools/simvirt/reports.c - JSON reports read back as flat tables.
 */
#include "reports.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <simvirt/simvirt.h>

#include "cli.h"

typedef struct reader {
	rtab *r;
	unsigned phase;
	const char *scope;
	char *why; /* the first thing found wrong */
} reader;

static const char *keep(rtab *r, const char *s)
{
	return g_string_chunk_insert_const(r->strs, s);
}

static void wrong(reader *rd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Keeps the first thing found wrong. */
static void wrong(reader *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->why)
		return;
	va_start(ap, fmt);
	rd->why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

static void value_member(JsonObject *o, const gchar *name, JsonNode *n,
			 gpointer payload)
{
	reader *rd = payload;
	rep_value v;

	SV_UNUSED_ARG(o);
	if (!JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_INT64) {
		wrong(rd, "counter '%s' is not a whole number", name);
		return;
	}
	v.phase = rd->phase;
	v.scope = rd->scope;
	v.counter = keep(rd->r, name);
	v.value = json_node_get_int(n);
	g_array_append_val(rd->r->values, v);
}

/* One scope's object of counters. */
static void read_scope(reader *rd, JsonObject *o, const char *scope)
{
	JsonNode *n = json_object_get_member(o, scope);

	if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
		wrong(rd, "no object \"%s\"", scope);
		return;
	}
	rd->scope = keep(rd->r, scope);
	json_object_foreach_member(json_node_get_object(n), value_member, rd);
}

/* The counters of the totals or of one phase: vm, host, audit, guest (a
 * trace run's), vcpus. */
static void read_counters(reader *rd, JsonObject *o)
{
	JsonNode *vcpus = json_object_get_member(o, "vcpus");
	guint i;

	read_scope(rd, o, "vm");
	read_scope(rd, o, "host");
	read_scope(rd, o, "audit");
	if (json_object_has_member(o, "guest"))
		read_scope(rd, o, "guest");
	if (!vcpus || !JSON_NODE_HOLDS_ARRAY(vcpus)) {
		wrong(rd, "no array \"%s\"", "vcpus");
		return;
	}
	for (i = 0; i < json_array_get_length(json_node_get_array(vcpus)); i++) {
		JsonNode *n = json_array_get_element(json_node_get_array(vcpus), i);
		g_autofree char *scope = g_strdup_printf("vcpu%u", i);

		if (!JSON_NODE_HOLDS_OBJECT(n)) {
			wrong(rd, "%s is not an object", scope);
			return;
		}
		rd->scope = keep(rd->r, scope);
		json_object_foreach_member(json_node_get_object(n), value_member,
					   rd);
	}
}

static const char *string_member(reader *rd, JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING) {
		wrong(rd, "no string \"%s\"", name);
		return "";
	}
	return keep(rd->r, json_node_get_string(n));
}

static void config_key(JsonObject *o, const gchar *key, JsonNode *n,
		       gpointer payload)
{
	reader *rd = payload;
	g_autofree char *full = g_strdup_printf("%s.%s", rd->scope, key);

	SV_UNUSED_ARG(o);
	if (!JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING) {
		wrong(rd, "config key '%s' is not a string", full);
		return;
	}
	g_ptr_array_add(rd->r->config, (char *)keep(rd->r, full));
	g_ptr_array_add(rd->r->config, (char *)keep(rd->r, json_node_get_string(n)));
}

static void config_group(JsonObject *o, const gchar *group, JsonNode *n,
			 gpointer payload)
{
	reader *rd = payload;

	SV_UNUSED_ARG(o);
	if (!JSON_NODE_HOLDS_OBJECT(n)) {
		wrong(rd, "config group '%s' is not an object", group);
		return;
	}
	rd->scope = group;
	json_object_foreach_member(json_node_get_object(n), config_key, rd);
}

/* The header, the configuration, the totals and each phase. */
static void read_report(reader *rd, JsonObject *top)
{
	JsonNode *schema = json_object_get_member(top, "schema");
	JsonNode *config = json_object_get_member(top, "config");
	JsonNode *phases = json_object_get_member(top, "phases");
	rtab *r = rd->r;
	guint i;

	if (!schema || !JSON_NODE_HOLDS_VALUE(schema) ||
	    json_node_get_value_type(schema) != G_TYPE_INT64) {
		wrong(rd, "%s", "not a simvirt report (it has no \"schema\" number)");
		return;
	}
	r->schema = json_node_get_int(schema);
	if (r->schema < 1 || r->schema > SV_REPORT_SCHEMA) {
		rd->why = g_strdup_printf(
			"report schema %" G_GINT64_FORMAT ": simvirt %s reads "
			"schemas 1 to %d (a newer simvirt wrote it?)",
			r->schema, sv_version_string(), SV_REPORT_SCHEMA);
		return;
	}
	r->version = string_member(rd, top, "simvirt");
	r->scenario = string_member(rd, top, "scenario");
	r->end = string_member(rd, top, "end");
	if (config && JSON_NODE_HOLDS_OBJECT(config))
		json_object_foreach_member(json_node_get_object(config),
					   config_group, rd);
	else if (r->schema >= 2)
		wrong(rd, "no object \"%s\" (schema 2 reports have one)", "config");
	g_ptr_array_add(r->phase_names, (char *)keep(r, "total"));
	rd->phase = 0;
	read_counters(rd, top);
	if (!phases || !JSON_NODE_HOLDS_ARRAY(phases)) {
		wrong(rd, "no array \"%s\"", "phases");
		return;
	}
	for (i = 0; i < json_array_get_length(json_node_get_array(phases)); i++) {
		JsonNode *n = json_array_get_element(json_node_get_array(phases), i);

		if (!JSON_NODE_HOLDS_OBJECT(n)) {
			wrong(rd, "%s", "a phase is not an object");
			return;
		}
		g_ptr_array_add(r->phase_names,
				(char *)string_member(rd, json_node_get_object(n),
						      "name"));
		rd->phase = i + 1;
		read_counters(rd, json_node_get_object(n));
	}
}

rtab *rep_load(const char *path, char **why)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) err = NULL;
	reader rd = {0};
	JsonNode *root;

	*why = NULL;
	if (!json_parser_load_from_file(parser, path, &err)) {
		/* json-glib's message names the line and column */
		*why = g_strdup_printf("%s: %s", path, err->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		*why = g_strdup_printf("%s: not a simvirt report (%s)", path,
				       root ? "not a JSON object" : "empty");
		return NULL;
	}
	rd.r = g_new0(rtab, 1);
	rd.r->path = g_strdup(path);
	rd.r->strs = g_string_chunk_new(4096);
	rd.r->phase_names = g_ptr_array_new();
	rd.r->config = g_ptr_array_new();
	rd.r->values = g_array_new(FALSE, FALSE, sizeof(rep_value));
	read_report(&rd, json_node_get_object(root));
	if (rd.why) {
		*why = g_strdup_printf("%s: %s", path, rd.why);
		g_free(rd.why);
		rep_free(rd.r);
		return NULL;
	}
	return rd.r;
}

void rep_free(rtab *r)
{
	if (!r)
		return;
	g_free(r->path);
	g_ptr_array_free(r->phase_names, TRUE);
	g_ptr_array_free(r->config, TRUE);
	g_array_free(r->values, TRUE);
	g_string_chunk_free(r->strs);
	g_free(r);
}

void rep_human(char *buf, size_t len, double v)
{
	static const char units[] = "KMGTPE";
	int u = -1;

	while ((v >= 1000 || v <= -1000) && u + 1 < (int)sizeof(units) - 1) {
		v /= 1000;
		u++;
	}
	if (u >= 0)
		snprintf(buf, len, "%.3g%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f", v);
}

const char *rep_config(const rtab *r, const char *key)
{
	guint i;

	for (i = 0; i + 1 < r->config->len; i += 2)
		if (!strcmp(g_ptr_array_index(r->config, i), key))
			return g_ptr_array_index(r->config, i + 1);
	return NULL;
}

/* ---- filters ------------------------------------------------------------ */

void rep_filter_entries(GOptionContext *ctx, rep_filter *f)
{
	GOptionEntry e[] = {
		{"scope", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->scopes,
		 "Only counters of these scopes: vm, vcpu (every vCPU), vcpuN, "
		 "host, audit, guest (repeatable, or a comma list)", "SCOPE"},
		{"phase", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->phases,
		 "Only this phase: its name, 'total', or its position from 1 "
		 "(repeatable)", "PHASE"},
		{"counter", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->counters,
		 "Only counters whose name matches this glob, e.g. 'pages_*' "
		 "(repeatable)", "GLOB"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};

	g_option_context_add_main_entries(ctx, e, NULL);
}

/* "a,b" "c" -> "a" "b" "c", in place. */
static void split_lists(char ***v)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new();
	char **s;

	for (s = *v; s && *s; s++) {
		g_auto(GStrv) parts = g_strsplit(*s, ",", -1);
		char **p;

		for (p = parts; *p; p++)
			if (*g_strstrip(*p))
				g_ptr_array_add(out, g_strdup(*p));
	}
	g_strfreev(*v);
	*v = NULL;
	if (out->len) {
		g_ptr_array_add(out, NULL);
		*v = (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
	}
}

static bool is_scope(const char *w)
{
	static const char *const kinds[] = {"vm", "vcpu", "host", "audit",
					    "guest"};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (!strcmp(w, kinds[i]))
			return true;
	return g_str_has_prefix(w, "vcpu") && w[4] &&
	       strspn(w + 4, "0123456789") == strlen(w + 4);
}

bool rep_filter_ready(rep_filter *f, const char *cmd)
{
	char **s;

	split_lists(&f->scopes);
	split_lists(&f->phases);
	split_lists(&f->counters);
	for (s = f->scopes; s && *s; s++)
		if (!is_scope(*s)) {
			fprintf(stderr, "simvirt %s: --scope: expected vm, vcpu, "
					"vcpuN, host, audit or guest, got '%s'\n", cmd, *s);
			return false;
		}
	return true;
}

static bool scope_wanted(const rep_filter *f, const char *scope)
{
	char **s;

	if (!f->scopes)
		return true;
	for (s = f->scopes; *s; s++)
		if (!strcmp(*s, scope) ||
		    (!strcmp(*s, "vcpu") && g_str_has_prefix(scope, "vcpu")))
			return true;
	return false;
}

static bool phase_is(const char *word, const rtab *r, unsigned phase)
{
	char *end;
	unsigned long n = strtoul(word, &end, 10);

	return !strcmp(word, g_ptr_array_index(r->phase_names, phase)) ||
	       (!*end && end != word && n == phase);
}

static bool phase_wanted(const rep_filter *f, const rtab *r, unsigned phase)
{
	char **p;

	if (!f->phases)
		return true;
	for (p = f->phases; *p; p++)
		if (phase_is(*p, r, phase))
			return true;
	return false;
}

static bool counter_wanted(const rep_filter *f, const char *name)
{
	char **g;

	if (!f->counters)
		return true;
	for (g = f->counters; *g; g++)
		if (g_pattern_match_simple(*g, name))
			return true;
	return false;
}

bool rep_filter_wants(const rep_filter *f, const rtab *r, const rep_value *v)
{
	return scope_wanted(f, v->scope) && phase_wanted(f, r, v->phase) &&
	       counter_wanted(f, v->counter);
}

void rep_filter_note(const rep_filter *f, const rtab *r, rep_filter_seen *seen)
{
	char **w;
	guint i;

	if (!seen->words)
		seen->words = g_hash_table_new(g_str_hash, g_str_equal);
	seen->phases = MAX(seen->phases, r->phase_names->len - 1);
	for (w = f->phases; w && *w; w++)
		for (i = 0; i < r->phase_names->len; i++)
			if (phase_is(*w, r, i))
				g_hash_table_add(seen->words, *w);
	for (w = f->counters; w && *w; w++)
		for (i = 0; i < r->values->len &&
			    !g_hash_table_contains(seen->words, *w); i++)
			if (g_pattern_match_simple(
				    *w, g_array_index(r->values, rep_value, i).counter))
				g_hash_table_add(seen->words, *w);
}

bool rep_filter_check(const rep_filter *f, rep_filter_seen *seen,
		      const char *cmd)
{
	bool ok = true;
	char **w;

	for (w = f->phases; ok && w && *w; w++)
		if (!seen->words || !g_hash_table_contains(seen->words, *w)) {
			fprintf(stderr, "simvirt %s: --phase: no report has a phase "
					"'%s' (a name, 'total', or 1 to %u)\n",
				cmd, *w, seen->phases);
			ok = false;
		}
	for (w = f->counters; ok && w && *w; w++)
		if (!seen->words || !g_hash_table_contains(seen->words, *w)) {
			fprintf(stderr, "simvirt %s: --counter: no counter matches "
					"'%s' (simvirt list names them)\n", cmd, *w);
			ok = false;
		}
	if (seen->words)
		g_hash_table_destroy(seen->words);
	seen->words = NULL;
	return ok;
}

bool rep_filter_matches_some(const rep_filter *f, rtab *const *reps, size_t n,
			     const char *cmd)
{
	rep_filter_seen seen = {NULL, 0};
	size_t k;

	for (k = 0; k < n; k++)
		rep_filter_note(f, reps[k], &seen);
	return rep_filter_check(f, &seen, cmd);
}

void rep_filter_clear(rep_filter *f)
{
	g_strfreev(f->scopes);
	g_strfreev(f->phases);
	g_strfreev(f->counters);
	memset(f, 0, sizeof(*f));
}
