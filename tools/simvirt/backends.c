/*
 * tools/simvirt/backends.c - simvirt sweep: the runs done by a local pool
 * of processes, or handed to GNU parallel or Slurm as files they take.
 *
 * Every engine does a run the same way: `simvirt run DIR/ID/scenario.ini
 * --format json --out DIR/ID/report.json`, its stderr in DIR/ID/log.txt.
 * A run is finished when its report exists (written whole or not at all);
 * only unfinished runs are started or emitted.
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <simvirt/simvirt.h>

#include "cli.h"
#include "sweep.h"

/* The simvirt command itself (the runs start it again). */
static char *self_path(void)
{
	char *p = g_file_read_link("/proc/self/exe", NULL);

	return p ? p : g_strdup("simvirt");
}

/* The progress line, on a terminal only: done of total, rate, ETA. */
static void progress(const sweep *sw, guint done, guint total, guint failed,
		     gint64 start)
{
	double secs = (double)(g_get_monotonic_time() - start) / 1e6;
	double rate = secs > 0 ? done / secs : 0;
	unsigned eta = rate > 0 ? (unsigned)((total - done) / rate + 0.5) : 0;
	char bar[21];
	guint i, fill = total ? 20 * done / total : 20;

	if (!isatty(STDERR_FILENO))
		return;
	for (i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[20] = 0;
	fprintf(stderr, "\r\033[Ksimvirt sweep %s: [%s] %u/%u runs", sw->name,
		bar, done, total);
	if (failed)
		fprintf(stderr, ", %u failed", failed);
	if (done)
		fprintf(stderr, ", %.2f runs/s, ETA %u:%02u:%02u", rate,
			eta / 3600, eta / 60 % 60, eta % 60);
	if (done == total)
		fprintf(stderr, "\r\033[K");
	fflush(stderr);
}

/* Starts one run; its pid, or -1 after a message. */
static GPid start(const sweep *sw, const sweep_run *r, const char *self)
{
	g_auto(GStrv) argv = sweep_command(sw, r, self);
	g_autofree char *log = sweep_path(sw, r, "log.txt");
	g_autoptr(GError) err = NULL;
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	GPid pid = -1;

	if (fd < 0 || null < 0)
		fprintf(stderr, "simvirt sweep: %s: %s\n", log, g_strerror(errno));
	else if (!g_spawn_async_with_fds(NULL, argv, NULL,
					 G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
					 &pid, null, null, fd, &err))
		fprintf(stderr, "simvirt sweep: %s: %s\n", argv[0], err->message);
	if (fd >= 0)
		close(fd);
	if (null >= 0)
		close(null);
	return pid;
}

/* The last line of a failed run's log, for the summary. */
static char *last_line(const sweep *sw, const sweep_run *r)
{
	g_autofree char *log = sweep_path(sw, r, "log.txt");
	g_autofree char *text = NULL;
	char *end, *line;

	if (!g_file_get_contents(log, &text, NULL, NULL) || !*text)
		return g_strdup("(no message)");
	end = text + strlen(text);
	while (end > text && end[-1] == '\n')
		*--end = 0;
	line = strrchr(text, '\n');
	return g_strdup(line ? line + 1 : text);
}

/* Runs the pending runs, jobs at a time; the failed ones in *failed. */
static void run_pool(const sweep *sw, GPtrArray *pending, guint jobs,
		     const char *self, GPtrArray *failed)
{
	g_autoptr(GHashTable) running = g_hash_table_new(NULL, NULL);
	gint64 t0 = g_get_monotonic_time();
	guint next = 0, done = 0;

	progress(sw, 0, pending->len, 0, t0);
	while (next < pending->len || g_hash_table_size(running)) {
		sweep_run *r;
		GPid pid;
		int st;

		while (g_hash_table_size(running) < jobs && next < pending->len) {
			r = g_ptr_array_index(pending, next++);
			pid = start(sw, r, self);
			if (pid < 0) {
				g_ptr_array_add(failed, r);
				done++;
				continue;
			}
			g_hash_table_insert(running, GINT_TO_POINTER(pid), r);
		}
		if (!g_hash_table_size(running))
			break;
		do
			pid = waitpid(-1, &st, 0);
		while (pid < 0 && errno == EINTR);
		if (pid < 0)
			break;
		r = g_hash_table_lookup(running, GINT_TO_POINTER(pid));
		if (!r)
			continue;
		g_hash_table_remove(running, GINT_TO_POINTER(pid));
		g_spawn_close_pid(pid);
		/* 0, or 3 (the guest faulted, the report says so): finished */
		if (!WIFEXITED(st) ||
		    (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != EXIT_GUEST_FAULT) ||
		    !sweep_finished(sw, r))
			g_ptr_array_add(failed, r);
		progress(sw, ++done, pending->len, failed->len, t0);
	}
}

/* ---- files for GNU parallel and Slurm ----------------------------------- */

static bool emit_parallel(const sweep *sw, GPtrArray *pending, const char *self)
{
	g_autofree char *jobs = g_build_filename(sw->dir, "jobs.parallel", NULL);
	g_autofree char *qjobs = g_shell_quote(jobs);
	g_autofree char *log = g_build_filename(sw->dir, "parallel.log", NULL);
	g_autofree char *qlog = g_shell_quote(log);
	g_autofree char *qdir = g_shell_quote(sw->dir);
	g_autofree char *qself = g_shell_quote(self);
	g_autoptr(GString) t = g_string_new("");
	guint i;

	for (i = 0; i < pending->len; i++) {
		g_autofree char *line = sweep_shell_line(
			sw, g_ptr_array_index(pending, i), self);

		g_string_append_printf(t, "%s\n", line);
	}
	if (!cli_write_file("sweep", jobs, t->str, (gssize)t->len))
		return false;
	printf("%s: %u runs for GNU parallel, one command a line.\n"
	       "Run them (add --sshloginfile FILE for other hosts that see "
	       "the same paths), then merge:\n"
	       "  parallel --will-cite --bar --joblog %s < %s\n"
	       "  %s merge %s\n", jobs, pending->len, qlog, qjobs, qself, qdir);
	return true;
}

typedef struct slurm_opts {
	char *mem, *time;
	char **lines; /* extra #SBATCH options */
	gint jobs;    /* array throttle, 0: none */
} slurm_opts;

static void sbatch_head(GString *t, const char *name, const slurm_opts *o)
{
	char **l;

	g_string_append_printf(t, "#!/bin/bash\n#SBATCH --job-name=%s\n"
			       "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n"
			       "#SBATCH --mem=%s\n#SBATCH --time=%s\n",
			       name, o->mem, o->time);
	for (l = o->lines; l && *l; l++)
		g_string_append_printf(t, "#SBATCH %s\n", *l);
}

static bool emit_slurm(const sweep *sw, GPtrArray *pending, const char *self,
		       const slurm_opts *o)
{
	g_autofree char *list = g_build_filename(sw->dir, "pending.txt", NULL);
	g_autofree char *runs = g_build_filename(sw->dir, "sweep.sbatch", NULL);
	g_autofree char *merge = g_build_filename(sw->dir, "merge.sbatch", NULL);
	g_autofree char *submit = g_build_filename(sw->dir, "submit.sh", NULL);
	g_autofree char *out = g_build_filename(sw->dir, "slurm", NULL);
	g_autofree char *merged = g_build_filename(sw->dir, "merged.csv", NULL);
	g_autofree char *qself = g_shell_quote(self);
	g_autofree char *qdir = g_shell_quote(sw->dir);
	g_autofree char *qlist = g_shell_quote(list);
	g_autofree char *qruns = g_shell_quote(runs);
	g_autofree char *qmerge = g_shell_quote(merge);
	g_autofree char *qmerged = g_shell_quote(merged);
	g_autofree char *name = g_strdup_printf("simvirt-%s", sw->name);
	g_autofree char *mname = g_strdup_printf("%s-merge", name);
	g_autoptr(GString) ids = g_string_new(""), t = g_string_new("");
	guint i;

	for (i = 0; i < pending->len; i++)
		g_string_append_printf(
			ids, "%s\n", ((sweep_run *)g_ptr_array_index(pending, i))->id);
	if (g_mkdir_with_parents(out, 0777) != 0) {
		fprintf(stderr, "simvirt sweep: %s: %s\n", out, g_strerror(errno));
		return false;
	}
	if (!cli_write_file("sweep", list, ids->str, (gssize)ids->len))
		return false;
	sbatch_head(t, name, o);
	g_string_append_printf(t, "#SBATCH --array=1-%u", pending->len);
	if (o->jobs > 0)
		g_string_append_printf(t, "%%%d", o->jobs);
	g_string_append_printf(
		t, "\n#SBATCH --output=%s/%%A_%%a.out\n"
		   "# One run per array task: the run named on line\n"
		   "# SLURM_ARRAY_TASK_ID of pending.txt.\n"
		   "set -eu\n"
		   "dir=%s\n"
		   "id=$(sed -n \"${SLURM_ARRAY_TASK_ID}p\" %s)\n"
		   "exec %s run \"$dir/$id/scenario.ini\" --format json \\\n"
		   "\t--out \"$dir/$id/report.json\" 2> \"$dir/$id/log.txt\"\n",
		out, qdir, qlist, qself);
	if (!cli_write_file("sweep", runs, t->str, (gssize)t->len))
		return false;
	g_string_truncate(t, 0);
	sbatch_head(t, mname, o);
	g_string_append_printf(t, "#SBATCH --output=%s/merge-%%j.out\n"
				  "exec %s merge %s --out %s\n",
			       out, qself, qdir, qmerged);
	if (!cli_write_file("sweep", merge, t->str, (gssize)t->len))
		return false;
	g_string_printf(t, "#!/bin/sh\n"
			   "# Submits the sweep's runs as one array job, and the "
			   "merge after it.\n"
			   "set -eu\n"
			   "runs=$(sbatch --parsable %s)\n"
			   "runs=${runs%%%%;*}\n"
			   "merge=$(sbatch --parsable --dependency=afterany:$runs %s)\n"
			   "echo \"submitted: runs $runs, merge ${merge%%%%;*} "
			   "(writes %s)\"\n",
			qruns, qmerge, merged);
	if (!cli_write_file("sweep", submit, t->str, (gssize)t->len) ||
	    g_chmod(submit, 0755) != 0)
		return false;
	printf("%s: %u runs as a Slurm array job, %s: the merge after it.\n"
	       "Submit both:\n  sh %s\n", runs, pending->len, merge, submit);
	return true;
}

/* ---- the command --------------------------------------------------------- */

static void list_runs(const sweep *sw)
{
	guint i;

	for (i = 0; i < sw->runs->len; i++) {
		const sweep_run *r = g_ptr_array_index(sw->runs, i);

		printf("%s  %-8s %s%s%s\n", r->id,
		       sweep_finished(sw, r) ? "finished" : "pending", r->scenario,
		       *r->label ? "  " : "", r->label);
	}
}

int cmd_sweep(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("SWEEP.ini");
	g_autofree char *dir = NULL, *emit = NULL, *self = NULL;
	g_autoptr(sweep) sw = NULL;
	g_autoptr(GPtrArray) pending = g_ptr_array_new();
	g_autoptr(GPtrArray) failed = g_ptr_array_new();
	slurm_opts so = {NULL, NULL, NULL, 0};
	gboolean list = FALSE;
	gint jobs = 0;
	GOptionEntry entries[] = {
		{"dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir,
		 "The run directory (default: the sweep file's dir=, else "
		 "NAME.runs beside it)", "DIR"},
		{"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
		 "Runs at a time (default: the machine's cores; with --emit "
		 "slurm: the array's limit, default none)", "N"},
		{"emit", 'e', 0, G_OPTION_ARG_STRING, &emit,
		 "Do not run: write files for 'parallel' (GNU parallel) or "
		 "'slurm' (sbatch) instead", "ENGINE"},
		{"list", 'l', 0, G_OPTION_ARG_NONE, &list,
		 "Print the runs (id, finished or pending, settings) and stop",
		 NULL},
		{"mem", 0, 0, G_OPTION_ARG_STRING, &so.mem,
		 "Slurm: memory per run (default 2G)", "SIZE"},
		{"time", 0, 0, G_OPTION_ARG_STRING, &so.time,
		 "Slurm: time limit per run (default 1:00:00)", "TIME"},
		{"sbatch", 0, 0, G_OPTION_ARG_STRING_ARRAY, &so.lines,
		 "Slurm: one more #SBATCH option, e.g. --partition=short "
		 "(repeatable)", "OPTION"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	guint i;
	int status = EXIT_SUCCESS;

	g_option_context_set_summary(
		ctx, "Runs every scenario of a sweep file over its parameter "
		     "axes (docs/sweeps.md):\non this machine, or as files for "
		     "GNU parallel or Slurm.  Runs already finished\nare "
		     "skipped; failed ones are tried again.  'simvirt merge "
		     "DIR' gathers the\nreports into one table.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!cli_parse(ctx, "sweep", &argc, &argv))
		status = EXIT_USAGE;
	else if (argc != 2) {
		fprintf(stderr, "simvirt sweep: expected one sweep file\n");
		status = EXIT_USAGE;
	} else if (emit && strcmp(emit, "parallel") && strcmp(emit, "slurm")) {
		fprintf(stderr, "simvirt sweep: --emit: expected parallel or "
				"slurm, got '%s'\n", emit);
		status = EXIT_USAGE;
	} else if (jobs < 0) {
		fprintf(stderr, "simvirt sweep: --jobs: expected 1 or more, got "
				"%d\n", jobs);
		status = EXIT_USAGE;
	} else if (!(sw = sweep_load(argv[1], dir))) {
		status = EXIT_USAGE;
	}
	if (status != EXIT_SUCCESS)
		goto out;
	if (list) {
		list_runs(sw);
		goto out;
	}
	if (sw->duplicates)
		fprintf(stderr, "simvirt sweep: %s: %u point%s of the axes make a "
				"configuration another point makes: run once\n",
			sw->file, sw->duplicates, sw->duplicates == 1 ? "" : "s");
	if (!sweep_prepare(sw)) {
		status = EXIT_FAILURE;
		goto out;
	}
	for (i = 0; i < sw->runs->len; i++)
		if (!sweep_finished(sw, g_ptr_array_index(sw->runs, i)))
			g_ptr_array_add(pending, g_ptr_array_index(sw->runs, i));
	self = self_path();
	if (!pending->len) {
		printf("simvirt sweep %s: all %u runs in %s are finished; "
		       "'simvirt merge %s' gathers them\n",
		       sw->name, sw->runs->len, sw->dir, sw->dir);
		goto out;
	}
	if (emit) {
		so.jobs = jobs;
		if (!so.mem)
			so.mem = g_strdup("2G");
		if (!so.time)
			so.time = g_strdup("1:00:00");
		if (!(strcmp(emit, "slurm") ? emit_parallel(sw, pending, self)
					    : emit_slurm(sw, pending, self, &so)))
			status = EXIT_FAILURE;
		goto out;
	}
	run_pool(sw, pending, jobs ? (guint)jobs : g_get_num_processors(), self,
		 failed);
	printf("simvirt sweep %s: %u runs in %s: %u run now, %u finished "
	       "before, %u failed%s\n",
	       sw->name, sw->runs->len, sw->dir, pending->len - failed->len,
	       sw->runs->len - pending->len, failed->len,
	       failed->len ? " (run the sweep again to retry them)" : "");
	for (i = 0; i < failed->len; i++) {
		const sweep_run *r = g_ptr_array_index(failed, i);
		g_autofree char *why = last_line(sw, r);
		g_autofree char *log = sweep_path(sw, r, "log.txt");

		fprintf(stderr, "simvirt sweep: run %s (%s%s%s) failed: %s (%s)\n",
			r->id, r->scenario, *r->label ? " " : "", r->label, why,
			log);
	}
	if (failed->len)
		status = EXIT_FAILURE;
out:
	g_free(so.mem);
	g_free(so.time);
	g_strfreev(so.lines);
	return status;
}
