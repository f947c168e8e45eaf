/*
 * tools/simvirt/sweep.h - sweeps: the sweep file, its runs and the run
 * directory (sweep.c), and the engines that do the runs (backends.c).
 */
#ifndef SIMVIRT_SWEEP_H
#define SIMVIRT_SWEEP_H

#include <stdbool.h>

#include <glib.h>

typedef struct sweep_run {
	char *id;       /* 16 hex digits of the configuration's SHA-256 */
	char *scenario; /* the base scenario's path, or "default" */
	char *label;    /* the axis settings, "G.K=V G.K=V" */
	char *config;   /* its configuration, until sweep_prepare() */
} sweep_run;

typedef struct sweep {
	char *file, *name;
	char *dir;           /* the run directory, absolute */
	GPtrArray *scenarios; /* paths, or "default" */
	GPtrArray *fixed;    /* "G.K=V" for every run */
	GPtrArray *axes;     /* sweep_axis * */
	GPtrArray *runs;     /* sweep_run *, in sweep order, one per config */
	unsigned duplicates; /* points whose configuration another run has */
} sweep;

/* Reads and checks a sweep file and every run it makes (each loaded);
 * dir, unless NULL, replaces the file's run directory.  NULL after a
 * message. */
sweep *sweep_load(const char *file, const char *dir);
void sweep_free(sweep *sw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sweep, sweep_free)

/* Makes the run directory: DIR/runs.tsv and DIR/ID/scenario.ini. */
bool sweep_prepare(sweep *sw);
/* DIR/ID/file (g_free). */
char *sweep_path(const sweep *sw, const sweep_run *r, const char *file);
/* The run's report exists: it is finished. */
bool sweep_finished(const sweep *sw, const sweep_run *r);
/* The command of one run, as argv (g_strfreev) and as a shell line with
 * its stderr to DIR/ID/log.txt (g_free); self is the simvirt command. */
char **sweep_command(const sweep *sw, const sweep_run *r, const char *self);
char *sweep_shell_line(const sweep *sw, const sweep_run *r, const char *self);

#endif /* SIMVIRT_SWEEP_H */
