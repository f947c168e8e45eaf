/*
 * lib/cpu/record.h - the one internal seam between the execution side and
 * the scenario runner (lib/scenario/run.c, lib/trace/replay.c): recording
 * the model inputs of a run into a trace, feeding them back, and a beat
 * for progress lines.  For everything else the runner uses the public
 * API.
 */
#ifndef SV_CPU_RECORD_H
#define SV_CPU_RECORD_H

#include "trace/trace.h"

/* sv_exec_new, or with engines false a handle to replay into: the guest's
 * memory, tables and image, but no Unicorn engine. */
int sv_exec__create(sv_exec **out, sv_vm *vm, const sv_exec_options *opts,
		    bool engines);
/* Every model input the execution side makes goes to w too (NULL: off). */
void sv_exec__set_recorder(sv_exec *ex, sv_trace_writer *w);
/* Feeds one event of the execution side (not SYNC or PHASE) back, as the
 * execution side fed it. */
int sv_exec__replay(sv_exec *ex, const sv_trace_event *ev);

/* fn(payload) after every vCPU turn of sv_exec_run_until (NULL: none).  It must
 * not change the model: it is for progress lines. */
void sv_exec__set_beat(sv_exec *ex, void (*fn)(void *payload), void *payload);

#endif /* SV_CPU_RECORD_H */
