/*
 * tools/simvirt/cli.h - what the simvirt command's files share: the exit
 * statuses, option parsing, file checks, and each command's entry point.
 */
#ifndef SIMVIRT_CLI_H
#define SIMVIRT_CLI_H

#include <stdbool.h>

#include <glib.h>
#include <stdio.h>

#include <simvirt/simvirt.h>

#define EXIT_USAGE 2
#define EXIT_GUEST_FAULT 3
#define EXIT_STATUS_HELP                                                        \
	"Exit status: 0 success; 1 a valid run failed (diff: the reports\n"     \
	"differ; sweep: a run failed); 2 bad input (usage, a file that cannot\n" \
	"be read or written, a bad scenario, trace, report or sweep file),\n"   \
	"found before the run; 3 the run ended in a guest fault (the report\n"  \
	"is written and says so)."
#define SV_UNUSED_ARG(x) (void)(x)

/* Parses a subcommand's options; false (after a message) on a mistake. */
bool cli_parse(GOptionContext *ctx, const char *cmd, int *argc, char ***argv);
/* A library error: its detail on stderr, and the exit status it deserves. */
int cli_fail(const char *cmd, int rc);
/* An input file (`what` names it) exists, is no directory and can be read;
 * false after a message. */
bool cli_input_ok(const char *cmd, const char *what, const char *path);
/* An output file can be written (nothing it holds is lost); false after a
 * message. */
bool cli_output_ok(const char *cmd, const char *opt, const char *path);
/* Writes text to path whole (through a temporary file renamed over it);
 * false after a message. */
bool cli_write_file(const char *cmd, const char *path, const char *text,
		    gssize len);

int cmd_plot(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
/* tracerun.c: a trace machine's options: --thp, --mmu, --mem and
 * --host-pages added to a command's options (each NULL when not given),
 * then parsed into *mo (EXIT_SUCCESS, or EXIT_USAGE after saying what was
 * wrong); and the machine's counters, a line each. */
typedef struct cli_machine {
	char *thp, *mmu, *mem, *host;
} cli_machine;
void cli_machine_entries(GOptionContext *ctx, cli_machine *a);
void cli_machine_clear(cli_machine *a);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(cli_machine, cli_machine_clear)
int cli_machine_parse(sv_trace_machine_options *mo, const char *cmd,
		      const cli_machine *a);
void cli_machine_counters(FILE *out, sv_trace_machine *m);
/* progrun.c: `simvirt exec`. */
int cli_exec(int argc, char **argv);
/* tracerun.c: `simvirt trace run` (argv[1] is "run"). */
int cli_trace_run(int argc, char **argv);

#endif /* SIMVIRT_CLI_H */
