/*
 * lib/scenario/report.h - building a report (lib/scenario/report.c); the
 * scenario runner and the replayer are its only writers.
 */
#ifndef SV_REPORT_H
#define SV_REPORT_H

#include "base.h"

/* What the report's guest scope holds: nothing (a built-in workload's
 * run), the guest kernel's counters and the records (a trace run's), or
 * the guest kernel's and the program's counters (a program's). */
typedef enum sv_report__kind {
	SV_REPORT__EXEC,
	SV_REPORT__TRACE,
	SV_REPORT__PROGRAM,
} sv_report__kind;
sv_report *sv_report__new(const char *scenario, unsigned nvcpu,
			  sv_report__kind kind);
/* Takes a snapshot: it ends the current phase and, when next_phase is not
 * NULL, begins one of that name (gm, records and prog: a trace run's or a
 * program's guest kernel, the records run, the program, else NULL and 0). */
void sv_report__snap(sv_report *r, const char *next_phase, const sv_vm *vm,
		     const sv_host *h, const sv_guestmm *gm, uint64_t records,
		     const sv_program *prog);
void sv_report__end(sv_report *r, const char *end);
/* The configuration the report carries: "group", "key", "value" strings
 * (sv_scenario__config); the report takes it. */
void sv_report__config(sv_report *r, GPtrArray *config);

#endif /* SV_REPORT_H */
