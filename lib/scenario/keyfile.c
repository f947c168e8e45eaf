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

int sv_keyfile__load(GKeyFile **out, const char *data, size_t len, const char *name)
{
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;
	int rc;

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
