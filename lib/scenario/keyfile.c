/*
 * lib/scenario/keyfile.c - key files and the values in them.
 */
#include <errno.h>

#include "scenario/keyfile.h"

bool sv_keyfile__parse_uint(const char *s, bool size, uint64_t *out)
{
	char *end;
	uint64_t v, mul = 1;

	if (!s || !g_ascii_isdigit(*s))
		return false;
	errno = 0;
	v = g_ascii_strtoull(s, &end, 0);
	if (errno)
		return false;
	if (size && *end) {
		const char *units = "KMGT";
		const char *u = strchr(units, g_ascii_toupper(*end));

		if (!u || end[1])
			return false;
		mul = 1ULL << (10 * (u - units + 1));
		end++;
		if (v > UINT64_MAX / mul)
			return false;
	}
	if (*end)
		return false;
	*out = v * mul;
	return true;
}

bool sv_keyfile__parse_bool(const char *s, bool *out)
{
	if (!s || (strcmp(s, "true") && strcmp(s, "false")))
		return false;
	*out = s[0] == 't';
	return true;
}

int sv_keyfile__parse_name(const char *s, const char *const *names, unsigned n)
{
	unsigned i;

	for (i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

char *sv_keyfile__name_list(const char *const *names, unsigned n)
{
	GString *list = g_string_new("");
	unsigned i;

	for (i = 0; i < n; i++)
		g_string_append_printf(list, "%s%s",
				       i ? (i + 1 < n ? ", " : " or ") : "",
				       names[i]);
	return g_string_free(list, FALSE);
}

int sv_keyfile__bad(const char *file, const char *group, const char *key,
		    const char *expected, const char *got)
{
	return sv_err__set(NULL, SV_ECONFIG, "%s: [%s] %s: expected %s, got '%s'",
			   file, group, key, expected, got);
}

/* The byte offset's line, from 1. */
static unsigned line_of(const char *data, const char *at)
{
	unsigned n = 1;

	for (; data < at; data++)
		n += *data == '\n';
	return n;
}

/*
 * What GKeyFile lets through: bytes that are not UTF-8, and a group or a
 * key given twice (it merges them, the last value winning).  One pass over
 * the lines, a hash set of "group" and "group\nkey".
 */
static int check_text(const char *data, size_t len, const char *name)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal,
							   g_free, NULL);
	g_autofree char *group = g_strdup("");
	const char *bad, *p = data, *end = data + len;

	if (!g_utf8_validate_len(data, len, &bad))
		return sv_err__set(NULL, SV_ECONFIG, "%s: line %u: not UTF-8 text "
						     "(byte 0x%02x)", name,
				   line_of(data, bad), (unsigned)(uint8_t)*bad);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *q;
		char *item = NULL;

		while (p < e && g_ascii_isspace(*p))
			p++;
		if (p < e && *p == '[' && (q = memchr(p, ']', (size_t)(e - p)))) {
			g_free(group);
			group = g_strndup(p + 1, (gsize)(q - p - 1));
			item = g_strdup(group);
		} else if (p < e && *p != '#' && (q = memchr(p, '=', (size_t)(e - p)))) {
			while (q > p && g_ascii_isspace(q[-1]))
				q--;
			item = g_strdup_printf("%s\n%.*s", group, (int)(q - p), p);
		}
		if (item && !g_hash_table_add(seen, item)) {
			const char *key = strchr(item, '\n');

			return sv_err__set(NULL, SV_ECONFIG, "%s: line %u: [%s]%s%s "
							     "given a second time",
					   name, line_of(data, p), group,
					   key ? " " : "", key ? key + 1 : "");
		}
		p = e + 1;
	}
	return SV_OK;
}

int sv_keyfile__load(GKeyFile **out, const char *data, size_t len, const char *name)
{
	GKeyFile *kf;
	GError *gerr = NULL;
	int rc;

	rc = check_text(data, len, name);
	if (rc)
		return rc;
	kf = g_key_file_new();
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
		rc = sv_err__set(NULL, SV_ECONFIG, "%s: %s", name, gerr->message);
		g_error_free(gerr);
		g_key_file_free(kf);
		return rc;
	}
	*out = kf;
	return SV_OK;
}

char *sv_keyfile__value(GKeyFile *kf, const char *group, const char *key)
{
	char *v = g_key_file_get_value(kf, group, key, NULL);

	if (v)
		g_strstrip(v);
	return v;
}

void sv_keyfile__escape(GString *out, const char *v)
{
	const char *c;

	for (c = v; *c; c++) {
		const char *esc = *c == '\\' ? "\\\\" :
				  *c == '\n' ? "\\n" :
				  *c == '\t' ? "\\t" :
				  *c == '\r' ? "\\r" :
				  *c == ' ' && c == v ? "\\s" : NULL;

		if (esc)
			g_string_append(out, esc);
		else
			g_string_append_c(out, *c);
	}
}

/*
 * [cost] file=PATH: the [cost], [cache] and [tlb] keys of a cost file (what
 * `simvirt calibrate` writes, or one of costs/), PATH relative to the
 * scenario's directory, under the scenario's own keys: a key the scenario
 * sets wins.  The keys are copied in and file= removed, so the plan's text
 * (and a trace's) stands alone.
 */
int sv_keyfile__include_costs(GKeyFile *kf, const char *file)
{
	static const char *const groups[] = {"cost", "cache", "tlb"};
	g_autofree char *path = sv_keyfile__value(kf, "cost", "file");
	g_autofree char *full = NULL, *dir = NULL, *text = NULL;
	g_autoptr(GKeyFile) inc = NULL;
	g_autoptr(GError) err = NULL;
	gsize len;
	size_t g;
	int rc;

	if (!path)
		return SV_OK;
	dir = g_path_get_dirname(file);
	full = g_path_is_absolute(path) ? g_strdup(path) : g_build_filename(dir, path, NULL);
	if (!g_file_get_contents(full, &text, &len, &err))
		return sv_err__set(NULL, SV_ECONFIG, "%s: [cost] file: %s", file,
				   err->message);
	rc = sv_keyfile__load(&inc, text, len, full);
	if (rc)
		return rc;
	for (g = 0; g < G_N_ELEMENTS(groups); g++) {
		g_auto(GStrv) keys = g_key_file_get_keys(inc, groups[g], NULL, NULL);
		size_t i;

		for (i = 0; keys && keys[i]; i++) {
			g_autofree char *v = g_key_file_get_value(inc, groups[g], keys[i], NULL);

			if (!strcmp(keys[i], "file"))
				return sv_err__set(NULL, SV_ECONFIG, "%s: [cost] file: "
								     "cost files do not nest",
						   full);
			if (!g_key_file_has_key(kf, groups[g], keys[i], NULL))
				g_key_file_set_value(kf, groups[g], keys[i], v);
		}
	}
	g_key_file_remove_key(kf, "cost", "file", NULL);
	return SV_OK;
}
