/*
 * simvirt/scenario.h - scenario files, running them, their reports, and
 * record/replay.
 *
 * A scenario is a GLib key file (docs/scenarios.md): the VM, the host and
 * its memslots, the guest workload, TLB and cost overrides, and actions
 * bound to the guest's sync points or to instruction counts.  Loading
 * checks every group, key and value; a mistake is SV_ECONFIG with a detail
 * naming the file, the group, the key and what was expected.
 *
 * Running one gives a report: every counter of the VM, the host and the
 * auditor, for the whole run and for each phase (from one sync point to
 * the next), written as a table, JSON (docs/stats.md) or CSV.  The same
 * scenario gives byte-identical output on every run.  A run can be
 * recorded (docs/trace.md); replaying the trace gives the same report
 * without executing the guest.
 */
#ifndef SIMVIRT_SCENARIO_H
#define SIMVIRT_SCENARIO_H

#include <stdio.h>

#include "common.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_scenario sv_scenario;
typedef struct sv_report sv_report;

/**
 * Loads a scenario file.  sets: NULL or a NULL-terminated list of
 * "group.key=value" overrides applied before the checks (the command's
 * --set); a group name may contain dots ("memslot.data.size=2G").
 */
SV_API int sv_scenario_load(sv_scenario **out, const char *path,
			    const char *const *sets);
/** The same from text in memory; name is used in messages. */
SV_API int sv_scenario_load_data(sv_scenario **out, const char *data,
				 size_t len, const char *name,
				 const char *const *sets);
SV_API void sv_scenario_free(sv_scenario *s);
/** [scenario] name, or the file name without its directory and ".ini". */
SV_API const char *sv_scenario_name(const sv_scenario *s);
/** The scenario as a key file after the overrides (what a trace stores). */
SV_API const char *sv_scenario_text(const sv_scenario *s);
/**
 * The effective configuration as a key file: every group and key the run
 * uses, defaults included, after the file and the overrides; what reports
 * carry as "config", and a scenario file that runs to the same report.
 * Made on the first call; owned by s.
 */
SV_API const char *sv_scenario_config_text(sv_scenario *s);
/** The VM the scenario builds ([vm] and its defaults; NULL for NULL). */
SV_API const sv_vm_options *sv_scenario_vm_options(const sv_scenario *s);
/** The built-in default scenario (what `simvirt run` runs without one). */
SV_API const char *sv_scenario_default(void);
/** The memslot backings ([memslot.NAME] backing=) and the phase actions
 *  (verb, its arguments, one line about it); NULL past the end. */
SV_API const char *sv_scenario_backing(size_t i, const char **desc);
SV_API const char *sv_scenario_action(size_t i, const char **args,
				      const char **desc);

/** One key a scenario file may hold (the schema behind docs/scenarios.md
 *  and `simvirt list`). */
typedef struct sv_scenario_key_info {
	const char *group;   /* "vm", "memslot.NAME", "phase.N", ... */
	const char *name;
	const char *values;  /* what it takes, in words */
	const char *def;     /* its default, as a file would write it */
	const char *help;    /* what it does */
} sv_scenario_key_info;

/** Key i of the schema, in the order the loader reads them; NULL past the
 *  end.  The strings live as long as the program. */
SV_API const sv_scenario_key_info *sv_scenario_key(size_t i);

typedef struct sv_vm sv_vm;

/**
 * Called when a phase begins (after its snapshot and its actions), and
 * once more with phase "end" when the run is over, with the VM: for
 * progress lines or a look at the model (simvirt walk).  Returns 0 to go
 * on, or non-zero to end the run there (the report's `end` is then
 * "stopped").
 */
typedef int (*sv_phase_fn)(const char *phase, sv_vm *vm, void *payload);

/** How far a run or replay has come, for progress lines. */
typedef struct sv_progress {
	const char *phase;           /* the phase running ("start" first) */
	unsigned boundaries;         /* phase boundaries passed, "start" is 1 */
	uint64_t instructions;       /* guest instructions so far, all vCPUs */
	uint64_t instructions_total; /* where the run stops ([guest]
					instructions x vCPUs), or 0: unknown */
	uint64_t trace_done;         /* a replay: bytes of the trace read */
	uint64_t trace_size;         /* ... of its size (0: not a replay) */
	double seconds;              /* wall time since the run began */
} sv_progress;

/**
 * Called every progress_interval seconds of wall time while a run or a
 * replay goes (between vCPU turns, or between trace events).  It only
 * looks: what the model does and reports is the same with or without it.
 */
typedef void (*sv_progress_fn)(const sv_progress *p, void *payload);

/* 2: on_progress and progress_interval (version 1 options still work) */
#define SV_RUN_OPTIONS_VERSION 2
typedef struct sv_run_options {
	unsigned version;      /* SV_RUN_OPTIONS_VERSION */
	const char *record;    /* write a trace of the run here, or NULL */
	sv_phase_fn on_phase;
	void *payload;         /* for on_phase and on_progress */
	sv_progress_fn on_progress;
	double progress_interval; /* seconds; 0: the default, 0.25 */
} sv_run_options;

#define SV_RUN_OPTIONS_INIT                                    \
	{                                                      \
		.version = SV_RUN_OPTIONS_VERSION,             \
		.record = NULL,                                \
		.on_phase = NULL,                              \
		.payload = NULL,                               \
		.on_progress = NULL,                           \
		.progress_interval = 0,                        \
	}

/** Fills *opts with the defaults (SV_RUN_OPTIONS_INIT). */
SV_API void sv_run_options_init(sv_run_options *opts);

/**
 * Builds the scenario's host, VM and guest and runs it to the end (every
 * vCPU halted, or [guest] instructions reached).  A guest fault it cannot
 * deliver ends the run; the report says so in its `end`.
 */
SV_API int sv_scenario_run(sv_report **out, const sv_scenario *s,
			   const sv_run_options *opts);
/** Replays a trace through the model without executing the guest. */
SV_API int sv_trace_replay(sv_report **out, const char *path,
			   const sv_run_options *opts);
/** Prints a trace readably: its scenario, then one event a line. */
SV_API int sv_trace_dump(const char *path, FILE *out);

/* ---- reports ------------------------------------------------------------ */

typedef enum sv_report_format {
	SV_REPORT_TABLE, /* readable: the VM's non-zero counters by phase */
	SV_REPORT_JSON,  /* everything (docs/stats.md) */
	SV_REPORT_CSV,   /* phase,scope,counter,value: everything */
} sv_report_format;

/* 2: the configuration ("config" in JSON, "# config" lines in CSV) */
#define SV_REPORT_SCHEMA 2
#define SV_REPORT_TOTAL ((size_t)-1)
#define SV_REPORT_VM (-1)

SV_API int sv_report_write(const sv_report *r, FILE *f, sv_report_format fmt);
SV_API void sv_report_free(sv_report *r);
SV_API size_t sv_report_phase_count(const sv_report *r);
SV_API const char *sv_report_phase_name(const sv_report *r, size_t phase);
/** How the run ended: "halted", "limit", or "fault: ..." */
SV_API const char *sv_report_end(const sv_report *r);
/**
 * A counter of the whole run (SV_REPORT_TOTAL) or the change during one
 * phase, for the VM (SV_REPORT_VM: VM counters, vCPU counters summed,
 * "host.NAME" and "audit.NAME") or one vCPU.  SV_ENOENT for an unknown
 * name, SV_ERANGE for a phase or vCPU out of range.
 */
SV_API int sv_report_get(uint64_t *out, const sv_report *r, size_t phase,
			 int vcpu, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_SCENARIO_H */
