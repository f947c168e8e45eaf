/*
 * tools/simvirt/sweep.c - simvirt sweep: many runs of scenarios over
 * parameter axes, on a local pool, GNU parallel or Slurm (docs/sweeps.md).
 *
 * A sweep file names base scenarios, fixed overrides and axes: each key
 * of [grid] is an axis of its own, each [zip.NAME] group one axis whose
 * keys step together.  The runs are every scenario times every point of
 * the axes' product, the first axis changing slowest.  Every run is
 * loaded (so checked) before any runs; its effective configuration is
 * written to DIR/ID/scenario.ini, where ID is the first 16 hex digits of
 * the configuration's SHA-256, and the run writes DIR/ID/report.json
 * whole or not at all.  A run whose report exists is finished: a rerun
 * skips it and retries the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <simvirt/simvirt.h>

#include "cli.h"
#include "sweep.h"

typedef struct sweep_axis {
	char *group;       /* "grid" or "zip.NAME", for messages */
	GPtrArray *keys;   /* "GROUP.KEY" */
	GPtrArray *values; /* GStrv per key, each of n values */
	guint n;
} sweep_axis;

static void axis_free(gpointer p)
{
	sweep_axis *a = p;

	g_free(a->group);
	g_ptr_array_free(a->keys, TRUE);
	g_ptr_array_free(a->values, TRUE);
	g_free(a);
}

static void run_free(gpointer p)
{
	sweep_run *r = p;

	g_free(r->id);
	g_free(r->scenario);
	g_free(r->label);
	g_free(r->config);
	g_free(r);
}

void sweep_free(sweep *sw)
{
	if (!sw)
		return;
	g_free(sw->file);
	g_free(sw->name);
	g_free(sw->dir);
	g_ptr_array_free(sw->scenarios, TRUE);
	g_ptr_array_free(sw->fixed, TRUE);
	g_ptr_array_free(sw->axes, TRUE);
	g_ptr_array_free(sw->runs, TRUE);
	g_free(sw);
}

/* A path of the sweep file: absolute, or relative to the file's folder. */
static char *beside(const char *file, const char *path)
{
	g_autofree char *folder = g_path_get_dirname(file);
	g_autofree char *joined = g_path_is_absolute(path)
					  ? g_strdup(path)
					  : g_build_filename(folder, path, NULL);

	return g_canonicalize_filename(joined, NULL);
}

/* The stripped, non-empty items of a ';' list; NULL after a message. */
static char **list(GKeyFile *kf, const char *file, const char *group,
		   const char *key)
{
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) raw = g_key_file_get_string_list(kf, group, key, NULL, &err);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	char **v;

	for (v = raw; v && *v; v++)
		if (*g_strstrip(*v))
			g_ptr_array_add(out, g_strdup(*v));
	if (!out->len) {
		fprintf(stderr, "simvirt sweep: %s: [%s] %s: expected a ';'-separated "
				"list of values, got nothing\n", file, group, key);
		return NULL;
	}
	g_ptr_array_set_free_func(out, NULL);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* A key of [grid] or [zip.NAME] names a scenario key: GROUP.KEY, once. */
static bool axis_key_ok(sweep *sw, GHashTable *seen, const char *where,
			const char *key)
{
	const char *dot = strrchr(key, '.');

	if (!dot || dot == key || !dot[1]) {
		fprintf(stderr, "simvirt sweep: %s: %s %s: expected a scenario "
				"key as GROUP.KEY (vm.kernel_version, "
				"memslot.data.backing)\n", sw->file, where, key);
		return false;
	}
	if (!g_hash_table_add(seen, g_strdup(key))) {
		fprintf(stderr, "simvirt sweep: %s: %s %s: the key is given twice "
				"(in [sweep] set or an axis)\n", sw->file, where, key);
		return false;
	}
	return true;
}

static bool load_axis(sweep *sw, GKeyFile *kf, GHashTable *seen,
		      const char *group)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
	g_autofree char *where = g_strdup_printf("[%s]", group);
	bool zip = strcmp(group, "grid") != 0;
	char **k;

	for (k = keys; k && *k; k++) {
		sweep_axis *a = NULL;
		char **v;

		if (!axis_key_ok(sw, seen, where, *k) ||
		    !(v = list(kf, sw->file, group, *k)))
			return false;
		if (zip && sw->axes->len &&
		    !strcmp(((sweep_axis *)g_ptr_array_index(
				     sw->axes, sw->axes->len - 1))->group, group))
			a = g_ptr_array_index(sw->axes, sw->axes->len - 1);
		if (a && g_strv_length(v) != a->n) {
			fprintf(stderr, "simvirt sweep: %s: [%s] %s: %u values, but "
					"%s has %u (keys of a [zip.NAME] group step "
					"together)\n", sw->file, group, *k,
				g_strv_length(v),
				(char *)g_ptr_array_index(a->keys, 0), a->n);
			g_strfreev(v);
			return false;
		}
		if (!a) {
			a = g_new0(sweep_axis, 1);
			a->group = g_strdup(group);
			a->keys = g_ptr_array_new_with_free_func(g_free);
			a->values = g_ptr_array_new_with_free_func(
				(GDestroyNotify)g_strfreev);
			a->n = g_strv_length(v);
			g_ptr_array_add(sw->axes, a);
		}
		g_ptr_array_add(a->keys, g_strdup(*k));
		g_ptr_array_add(a->values, v);
	}
	return true;
}

/* [sweep]: name, scenarios, dir, set. */
static bool load_head(sweep *sw, GKeyFile *kf, GHashTable *seen,
		      const char *dir)
{
	static const char *const known[] = {"name", "scenarios", "dir", "set"};
	g_auto(GStrv) keys = g_key_file_get_keys(kf, "sweep", NULL, NULL);
	g_auto(GStrv) scen = NULL, sets = NULL;
	g_autofree char *name = NULL, *d = NULL;
	char **k;

	for (k = keys; k && *k; k++)
		if (!g_strv_contains(known, *k)) {
			fprintf(stderr, "simvirt sweep: %s: [sweep] %s: unknown key "
					"(expected name, scenarios, dir or set)\n",
				sw->file, *k);
			return false;
		}
	name = g_key_file_get_string(kf, "sweep", "name", NULL);
	if (!name || !*g_strstrip(name)) {
		g_autofree char *base = g_path_get_basename(sw->file);

		g_free(name);
		name = g_strdup(base);
		if (g_str_has_suffix(name, ".ini"))
			name[strlen(name) - 4] = 0;
	}
	sw->name = g_steal_pointer(&name);
	if (g_key_file_has_key(kf, "sweep", "scenarios", NULL)) {
		if (!(scen = list(kf, sw->file, "sweep", "scenarios")))
			return false;
	} else {
		scen = g_strdupv((char *[]){"default", NULL});
	}
	for (k = scen; *k; k++) {
		char *path = strcmp(*k, "default") ? beside(sw->file, *k)
						   : g_strdup("default");

		if (strcmp(path, "default") &&
		    !cli_input_ok("sweep", "scenario", path)) {
			g_free(path);
			return false;
		}
		g_ptr_array_add(sw->scenarios, path);
	}
	if (g_key_file_has_key(kf, "sweep", "set", NULL)) {
		if (!(sets = list(kf, sw->file, "sweep", "set")))
			return false;
		for (k = sets; *k; k++) {
			g_autofree char *key = g_strndup(*k, strcspn(*k, "="));

			if (!strchr(*k, '=')) {
				fprintf(stderr, "simvirt sweep: %s: [sweep] set: "
						"expected GROUP.KEY=VALUE, got '%s'\n",
					sw->file, *k);
				return false;
			}
			if (!axis_key_ok(sw, seen, "[sweep] set", g_strstrip(key)))
				return false;
			g_ptr_array_add(sw->fixed, g_strdup(*k));
		}
	}
	d = g_key_file_get_string(kf, "sweep", "dir", NULL);
	sw->dir = dir ? g_canonicalize_filename(dir, NULL)
	      : d && *g_strstrip(d) ? beside(sw->file, d)
				    : beside(sw->file, sw->name);
	if (!dir && !(d && *d)) {
		char *runs = g_strconcat(sw->dir, ".runs", NULL);

		g_free(sw->dir);
		sw->dir = runs;
	}
	return true;
}

/* The runs: every scenario, then the axes' product (first axis slowest);
 * each loaded, so checked, and its configuration hashed.  Runs with the
 * same configuration are one. */
static bool make_runs(sweep *sw)
{
	g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
	guint naxes = sw->axes->len, s, a, i;
	g_autofree guint *at = g_new0(guint, naxes + 1);

	for (s = 0; s < sw->scenarios->len; s++) {
		const char *path = g_ptr_array_index(sw->scenarios, s);

		memset(at, 0, sizeof(guint) * (naxes + 1));
		do {
			g_autoptr(GPtrArray) sets = g_ptr_array_new_with_free_func(g_free);
			g_autoptr(GString) label = g_string_new("");
			sv_scenario *sc = NULL;
			sweep_run *r;
			int rc;

			for (i = 0; i < sw->fixed->len; i++)
				g_ptr_array_add(sets, g_strdup(g_ptr_array_index(sw->fixed, i)));
			for (a = 0; a < naxes; a++) {
				sweep_axis *ax = g_ptr_array_index(sw->axes, a);

				for (i = 0; i < ax->keys->len; i++) {
					char **v = g_ptr_array_index(ax->values, i);
					char *set = g_strdup_printf(
						"%s=%s", (char *)g_ptr_array_index(ax->keys, i),
						v[at[a]]);

					g_string_append_printf(label, "%s%s",
							       label->len ? " " : "", set);
					g_ptr_array_add(sets, set);
				}
			}
			g_ptr_array_add(sets, NULL);
			rc = strcmp(path, "default")
				     ? sv_scenario_load(&sc, path,
							(const char *const *)sets->pdata)
				     : sv_scenario_load_data(
					       &sc, sv_scenario_default(),
					       strlen(sv_scenario_default()),
					       "(default scenario)",
					       (const char *const *)sets->pdata);
			if (rc != SV_OK) {
				fprintf(stderr, "simvirt sweep: %s: the run of %s%s%s: "
						"%s\n", sw->file, path,
					label->len ? " with " : "", label->str,
					sv_error_detail());
				return false;
			}
			r = g_new0(sweep_run, 1);
			r->id = g_compute_checksum_for_string(
				G_CHECKSUM_SHA256, sv_scenario_config_text(sc), -1);
			r->id[16] = 0;
			r->scenario = g_strdup(path);
			r->label = g_string_free(g_steal_pointer(&label), FALSE);
			r->config = g_strdup(sv_scenario_config_text(sc));
			sv_scenario_free(sc);
			if (g_hash_table_contains(ids, r->id)) {
				sw->duplicates++;
				run_free(r);
			} else {
				g_ptr_array_add(sw->runs, r);
				g_hash_table_add(ids, r->id);
			}
			/* the odometer: the last axis turns fastest */
			for (a = naxes; a-- > 0;) {
				sweep_axis *ax = g_ptr_array_index(sw->axes, a);

				if (++at[a] < ax->n)
					break;
				at[a] = 0;
			}
			if (a == (guint)-1)
				at[naxes] = 1;
		} while (!at[naxes]);
	}
	return true;
}

/* GKeyFile says what is wrong but not where, and takes a repeated group
 * or key silently: the first line that is not blank, a comment, a [group]
 * or KEY=VALUE, or that repeats a group or a key of its group, said with
 * its number (NULL: none such). */
static char *bad_line(const char *text)
{
	g_autoptr(GHashTable) seen =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *group = NULL;
	guint i;

	for (i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);
		size_t n = strlen(l);

		if (!*l || *l == '#')
			continue;
		if (*l == '[' && l[n - 1] == ']') {
			g_free(group);
			group = g_strndup(l + 1, n - 2);
			if (!g_hash_table_add(seen, g_strdup_printf("[%s]", group)))
				return g_strdup_printf("line %u: [%s] a second time", i + 1,
						       group);
			continue;
		}
		if (!strchr(l, '=') || *l == '=')
			return g_strdup_printf("line %u: expected [GROUP], KEY = "
					       "VALUE or a # comment, got '%s'",
					       i + 1, l);
		*strchr(l, '=') = 0;
		if (!g_hash_table_add(seen, g_strdup_printf("%s\n%s", group ? group : "",
							    g_strstrip(l))))
			return g_strdup_printf("line %u: [%s] %s a second time", i + 1,
					       group ? group : "", l);
	}
	return NULL;
}

sweep *sweep_load(const char *file, const char *dir)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	g_autofree char *text = NULL, *where = NULL;
	gsize len = 0;
	g_autoptr(GHashTable) seen =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) groups = NULL;
	sweep *sw;
	char **g;

	if (!cli_input_ok("sweep", "sweep file", file))
		return NULL;
	if (g_file_get_contents(file, &text, &len, &err) &&
	    (where = bad_line(text)) != NULL) {
		fprintf(stderr, "simvirt sweep: %s: %s\n", file, where);
		return NULL;
	}
	if (err || !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE,
					      &err)) {
		fprintf(stderr, "simvirt sweep: %s: %s\n", file, err->message);
		return NULL;
	}
	sw = g_new0(sweep, 1);
	sw->file = g_strdup(file);
	sw->scenarios = g_ptr_array_new_with_free_func(g_free);
	sw->fixed = g_ptr_array_new_with_free_func(g_free);
	sw->axes = g_ptr_array_new_with_free_func(axis_free);
	sw->runs = g_ptr_array_new_with_free_func(run_free);
	groups = g_key_file_get_groups(kf, NULL);
	for (g = groups; *g; g++)
		if (strcmp(*g, "sweep") && strcmp(*g, "grid") &&
		    !g_str_has_prefix(*g, "zip.")) {
			fprintf(stderr, "simvirt sweep: %s: [%s]: unknown group "
					"(expected [sweep], [grid] or [zip.NAME])\n",
				file, *g);
			goto bad;
		}
	if (!load_head(sw, kf, seen, dir))
		goto bad;
	for (g = groups; *g; g++)
		if (strcmp(*g, "sweep") && !load_axis(sw, kf, seen, *g))
			goto bad;
	if (make_runs(sw))
		return sw;
bad:
	sweep_free(sw);
	return NULL;
}

/* ---- the run directory --------------------------------------------------- */

char *sweep_path(const sweep *sw, const sweep_run *r, const char *file)
{
	return g_build_filename(sw->dir, r->id, file, NULL);
}

bool sweep_finished(const sweep *sw, const sweep_run *r)
{
	g_autofree char *p = sweep_path(sw, r, "report.json");

	return g_file_test(p, G_FILE_TEST_IS_REGULAR);
}

/* DIR/runs.tsv (the index merge reads) and every DIR/ID/scenario.ini;
 * false after a message. */
bool sweep_prepare(sweep *sw)
{
	g_autoptr(GString) tsv = g_string_new("run\tscenario\tsettings\n");
	g_autofree char *index = g_build_filename(sw->dir, "runs.tsv", NULL);
	guint i;

	if (g_mkdir_with_parents(sw->dir, 0777) != 0) {
		fprintf(stderr, "simvirt sweep: %s: %s\n", sw->dir, g_strerror(errno));
		return false;
	}
	for (i = 0; i < sw->runs->len; i++) {
		sweep_run *r = g_ptr_array_index(sw->runs, i);
		g_autofree char *d = g_build_filename(sw->dir, r->id, NULL);
		g_autofree char *ini = sweep_path(sw, r, "scenario.ini");
		g_autofree char *old = NULL;

		g_string_append_printf(tsv, "%s\t%s\t%s\n", r->id, r->scenario,
				       r->label);
		if (g_mkdir_with_parents(d, 0777) != 0) {
			fprintf(stderr, "simvirt sweep: %s: %s\n", d, g_strerror(errno));
			return false;
		}
		if (!(g_file_get_contents(ini, &old, NULL, NULL) &&
		      !strcmp(old, r->config)) &&
		    !cli_write_file("sweep", ini, r->config, -1))
			return false;
		g_clear_pointer(&r->config, g_free);
	}
	return cli_write_file("sweep", index, tsv->str, (gssize)tsv->len);
}

/* The command that does one run: argv (NULL-terminated, g_strfreev). */
char **sweep_command(const sweep *sw, const sweep_run *r, const char *self)
{
	char **argv = g_new0(char *, 8);

	argv[0] = g_strdup(self);
	argv[1] = g_strdup("run");
	argv[2] = sweep_path(sw, r, "scenario.ini");
	argv[3] = g_strdup("--format");
	argv[4] = g_strdup("json");
	argv[5] = g_strdup("--out");
	argv[6] = sweep_path(sw, r, "report.json");
	return argv;
}

/* The same as one shell line, its stderr to DIR/ID/log.txt. */
char *sweep_shell_line(const sweep *sw, const sweep_run *r, const char *self)
{
	g_auto(GStrv) argv = sweep_command(sw, r, self);
	g_autofree char *log = sweep_path(sw, r, "log.txt");
	g_autofree char *qlog = g_shell_quote(log);
	GString *line = g_string_new("");
	char **a;

	for (a = argv; *a; a++) {
		g_autofree char *q = g_shell_quote(*a);

		g_string_append_printf(line, "%s ", q);
	}
	g_string_append_printf(line, "2> %s", qlog);
	return g_string_free(line, FALSE);
}
