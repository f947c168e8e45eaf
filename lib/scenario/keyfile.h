/*
 * lib/scenario/keyfile.h - reading key files (scenarios, [tlb]/[cost]
 * configuration): loading the text, and the one parser of the values they
 * hold (numbers, sizes, booleans, names from a list).
 */
#ifndef SV_SCENARIO_KEYFILE_H
#define SV_SCENARIO_KEYFILE_H

#include "base.h"

/*
 * A number: decimal, or hex with 0x; with `size`, also a K, M, G or T
 * suffix (binary: K is 1024).  The whole text must be the number.
 */
bool sv_keyfile__parse_uint(const char *s, bool size, uint64_t *out);
/* "true" or "false". */
bool sv_keyfile__parse_bool(const char *s, bool *out);
/* The index of s in names[0..n), or -1. */
int sv_keyfile__parse_name(const char *s, const char *const *names, unsigned n);
/* "a, b or c" from names[0..n) (g_free it). */
char *sv_keyfile__name_list(const char *const *names, unsigned n);

/* SV_ECONFIG with "FILE: [GROUP] KEY: expected WHAT, got 'VALUE'". */
int sv_keyfile__bad(const char *file, const char *group, const char *key,
		    const char *expected, const char *got);

/* The key file in data (name is used in messages); SV_ECONFIG with the
 * parser's message when it is not one. */
int sv_keyfile__load(GKeyFile **out, const char *data, size_t len,
		     const char *name);
/* The value of group.key with surrounding blanks cut, or NULL (g_free). */
char *sv_keyfile__value(GKeyFile *kf, const char *group, const char *key);

/* Appends v as a key file writes a value: \\, \n, \t, \r, and \s for a
 * leading blank, so that one line holds it whole and reads back as v. */
void sv_keyfile__escape(GString *out, const char *v);

/* [cost] file=PATH: that file's [cost], [cache] and [tlb] keys copied
 * under the scenario's own (file names the scenario, for the path and
 * messages). */
int sv_keyfile__include_costs(GKeyFile *kf, const char *file);

#endif /* SV_SCENARIO_KEYFILE_H */
