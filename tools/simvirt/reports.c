/*
 * tools/simvirt/reports.c - JSON reports read back as flat tables.
 */
#include "reports.h"

#include <stdarg.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <simvirt/simvirt.h>

#include "cli.h"

typedef struct reader {
	rep *r;
	unsigned phase;
	const char *scope;
	char *why; /* the first thing found wrong */
} reader;

static const char *keep(rep *r, const char *s)
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

/* The counters of the totals or of one phase: vm, host, audit, vcpus. */
static void read_counters(reader *rd, JsonObject *o)
{
	JsonNode *vcpus = json_object_get_member(o, "vcpus");
	guint i;

	read_scope(rd, o, "vm");
	read_scope(rd, o, "host");
	read_scope(rd, o, "audit");
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
	rep *r = rd->r;
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

rep *rep_load(const char *path, char **why)
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
	rd.r = g_new0(rep, 1);
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

void rep_free(rep *r)
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

const char *rep_config(const rep *r, const char *key)
{
	guint i;

	for (i = 0; i + 1 < r->config->len; i += 2)
		if (!strcmp(g_ptr_array_index(r->config, i), key))
			return g_ptr_array_index(r->config, i + 1);
	return NULL;
}
