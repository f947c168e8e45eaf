/*
 * lib/scenario/run.h - one run of a plan: what it built and the phase
 * boundaries, shared by the runner (run.c) and the replayer
 * (lib/trace/replay.c), which drives the same boundaries from a trace.
 */
#ifndef SV_SCENARIO_RUN_H
#define SV_SCENARIO_RUN_H

#include "cpu/record.h"
#include "scenario/plan.h"
#include "scenario/report.h"

typedef struct sc_run {
	const sv_scenario *s;
	const sv_run_options *o; /* &opts */
	sv_run_options opts;  /* the caller's, at the current version */
	bool replay;          /* built to replay into: no Unicorn engines */
	bool dry;             /* checking the plan: no guest, no report */
	sv_host *h;
	sv_vm *vm;
	sv_exec *ex;
	sv_guestmm *gm;       /* a trace run's guest kernel, its vCPU, */
	sv_vcpu *v;
	sv_trace_reader *tr;  /* its trace, */
	sv_program *prog;     /* or its program, */
	uint64_t records;     /* and the records run so far */
	uint64_t *hva;        /* each slot's host address */
	uint32_t *flags;      /* each slot's memslot flags now */
	uint64_t **bitmap;    /* each slot's last dirty_log_get, or NULL */
	sv_report *rep;
	sv_trace_writer *w;
	int err;              /* an action failed: the run stops */
	bool stopped;         /* the caller's on_phase asked to stop */
	char *phase;          /* the phase running, for progress */
	unsigned boundaries;  /* phase boundaries passed */
	gint64 t0, last;      /* when the run began, and the last progress */
	uint64_t trace_size;  /* a replay or trace run: the trace's bytes */
} sc_run;

/* The caller's options (NULL: the defaults) at the current version, in r;
 * SV_EINVAL for an unknown version. */
int sv_scenario__options(sc_run *r, const sv_run_options *opts);
/* Calls the caller's on_progress if it is time (trace_done: a replay's
 * position). */
void sv_scenario__progress(sc_run *r, uint64_t trace_done);

/* Builds the plan's host, VM, memslots and guest (r->s, r->o and
 * r->replay set). */
int sv_scenario__build(sc_run *r);
void sv_scenario__run_free(sc_run *r);
/* The phase bound to sync point n begins (its snapshot, then its
 * actions), or the n-th instruction-count phase of the plan. */
int sv_scenario__sync_boundary(sc_run *r, uint32_t n);
int sv_scenario__insn_boundary(sc_run *r, uint32_t index);
/*
 * Checks what a plan can only show when built: the host, the VM and its
 * memslots are made and every phase's actions done in order, with no
 * guest (SV_ECONFIG naming the phase and action if any fails).
 */
int sv_scenario__check(const sv_scenario *s);
/* The first phase, "start", begins (the report is made). */
int sv_scenario__start(sc_run *r);
/* The run is over: the last snapshot, how it ended, the caller told. */
void sv_scenario__finish(sc_run *r, const char *end);

/* A trace run (lib/scenario/trace.c): the guest kernel, its vCPU and the
 * trace, after the machine; the run through the phases to the trace's end
 * or [trace] records (*end says which); one full pass of the guest's
 * khugepaged (the guest_khugepaged action). */
int sv_scenario__build_trace(sc_run *r);
/* The guest kernel over [guestmm] slot and vCPU 0 on its CR3 (a trace's
 * or a program's). */
int sv_scenario__build_guestmm(sc_run *r);
/* A program run (lib/scenario/program.c): the guest kernel, vCPU 0 and
 * the program loaded; the run through the phases to its end (*end says
 * how it ended). */
int sv_scenario__build_program(sc_run *r);
int sv_scenario__run_program(sc_run *r, char **end);
/* A trace's or program's run reached phase `index` (bound to a count):
 * its boundary; *end is "stopped" when the caller asked to stop there. */
int sv_scenario__next_phase(sc_run *r, guint index, char **end);
int sv_scenario__run_trace(sc_run *r, char **end);
int sv_scenario__guest_khugepaged(sc_run *r);

#endif /* SV_SCENARIO_RUN_H */
