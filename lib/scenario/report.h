/*
 * lib/scenario/report.h - building a report (lib/scenario/report.c); the
 * scenario runner and the replayer are its only writers.
 */
#ifndef SV_REPORT_H
#define SV_REPORT_H

#include "base.h"

/* guest: the report of a trace run, with the guest kernel's counters. */
sv_report *sv_report__new(const char *scenario, unsigned nvcpu, bool guest);
/* Takes a snapshot: it ends the current phase and, when next_phase is not
 * NULL, begins one of that name (gm and records: a trace run's guest
 * kernel and the records it ran, else NULL and 0). */
void sv_report__snap(sv_report *r, const char *next_phase, const sv_vm *vm,
		     const sv_host *h, const sv_guestmm *gm, uint64_t records);
void sv_report__end(sv_report *r, const char *end);
/* The configuration the report carries: "group", "key", "value" strings
 * (sv_scenario__config); the report takes it. */
void sv_report__config(sv_report *r, GPtrArray *config);

#endif /* SV_REPORT_H */
