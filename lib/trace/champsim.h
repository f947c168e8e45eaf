/*
 * lib/trace/champsim.h - ChampSim trace input for the trace reader
 * (lib/trace/champsim.c).
 */
#ifndef SV_TRACE_CHAMPSIM_H
#define SV_TRACE_CHAMPSIM_H

#include "simvirt/tracein.h"

typedef struct sv_champsim sv_champsim;

/* The trace at path, raw, gzip or xz. */
int sv_champsim__open(sv_champsim **out, const char *path);
void sv_champsim__close(sv_champsim *c);
/* Bytes of the file read so far (compressed bytes for gzip and xz). */
uint64_t sv_champsim__offset(const sv_champsim *c);
/* The next record (number `index`, for messages) as up to 7 accesses in
 * recs[0..*n), or *end. */
int sv_champsim__next(sv_champsim *c, const char *path, uint64_t index,
		      sv_trace_record *recs, unsigned *n, bool *end);

#endif /* SV_TRACE_CHAMPSIM_H */
