/*
 * tools/simvirt/reports.h - JSON reports (docs/stats.md) read back as flat
 * tables, for diff, plot and merge.
 *
 * A report becomes its header (schema, version, scenario, end), its
 * configuration as "GROUP.KEY" = "VALUE" pairs in report order, and one
 * value per (phase, scope, counter): phase 0 is the totals ("total"),
 * phase i the report's i-th phase; scope is "vm", "host", "audit" or
 * "vcpuN"; counters keep the report's order.
 */
#ifndef SIMVIRT_REPORTS_H
#define SIMVIRT_REPORTS_H

#include <stdbool.h>

#include <glib.h>

typedef struct rep_value {
	unsigned phase;      /* 0: the totals; i: phases[i - 1] of the report */
	const char *scope;   /* vm, host, audit, vcpuN */
	const char *counter;
	gint64 value;
} rep_value;

typedef struct rtab {
	char *path;
	gint64 schema;
	const char *version, *scenario, *end;
	GPtrArray *phase_names; /* "total", then each phase's name */
	GPtrArray *config;      /* "GROUP.KEY", "VALUE", ... (schema 2) */
	GArray *values;         /* rep_value */
	GStringChunk *strs;     /* every string above */
} rtab;

/*
 * Reads the JSON report at path.  NULL on failure, with *why saying what
 * is wrong and where (the file, and the line and column for bad JSON); a
 * report of a newer schema than this simvirt reads is refused so.
 */
rtab *rep_load(const char *path, char **why);
void rep_free(rtab *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rtab, rep_free)

/* v with a K, M, G, T, P or E suffix and 3 digits: 12345678 -> "12.3M". */
void rep_human(char *buf, size_t len, double v);

/* The configuration's value of "GROUP.KEY", or NULL. */
const char *rep_config(const rtab *r, const char *key);

/*
 * The counters a command looks at: --scope (vm, vcpu for every vCPU,
 * vcpuN, host, audit), --phase (a name, "total", or a position from 1)
 * and --counter (a glob), each repeatable or a comma list; NULL lists
 * take everything.
 */
typedef struct rep_filter {
	char **scopes, **phases, **counters;
} rep_filter;

/* Adds --scope, --phase and --counter to ctx, filling f. */
void rep_filter_entries(GOptionContext *ctx, rep_filter *f);
/* After the options are parsed: splits the comma lists and checks the
 * scopes; false after a message naming cmd. */
bool rep_filter_ready(rep_filter *f, const char *cmd);
/* Every --phase word names a phase and every --counter glob matches a
 * counter of at least one of the n reports (a filter that matches nothing
 * is a typo); false after a message naming cmd. */
bool rep_filter_matches_some(const rep_filter *f, rtab *const *reps, size_t n,
			     const char *cmd);
/* The same a report at a time: note each, then check (and clear) once. */
typedef struct rep_filter_seen {
	GHashTable *words; /* the --phase and --counter words matched */
	unsigned phases;   /* the most phases of a report */
} rep_filter_seen;
void rep_filter_note(const rep_filter *f, const rtab *r, rep_filter_seen *seen);
bool rep_filter_check(const rep_filter *f, rep_filter_seen *seen,
		      const char *cmd);
bool rep_filter_wants(const rep_filter *f, const rtab *r, const rep_value *v);
void rep_filter_clear(rep_filter *f);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(rep_filter, rep_filter_clear)

#endif /* SIMVIRT_REPORTS_H */
