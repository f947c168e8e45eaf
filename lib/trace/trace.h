/*
 * lib/trace/trace.h - the trace of a run's model inputs (docs/trace.md).
 *
 * A trace holds everything a recorded run fed into the model after its set
 * up, in order: the accesses of each vCPU (writes with the value stored),
 * the counters the execution side adds by itself (instructions, base
 * cycles, port exits...), INVLPG and MOV CR3, a vCPU leaving guest mode,
 * and the sync points and instruction-count phases at which the scenario's
 * actions ran.  The set up itself is the scenario text in the header:
 * replay builds the same VM from it and feeds the events back.
 *
 * File: an 8-byte magic, a 4-byte version, 4 reserved bytes, then chunks.
 * A chunk is one type byte ('H' header text, 'E' events, 'Z' end), a
 * 4-byte little-endian payload length, the payload, and a CRC-32 (zlib's)
 * over type, length and payload.  Each events chunk starts with fresh
 * delta state, so chunks decode alone.  The end chunk holds the number of
 * events: a trace without one was cut short.
 */
#ifndef SV_TRACE_H
#define SV_TRACE_H

#include <stdio.h>

#include "base.h"

typedef enum sv_trace_kind {
	SV_TEV_READ,    /* vcpu, addr (gva), size */
	SV_TEV_WRITE,   /* vcpu, addr, size, data (when known) */
	SV_TEV_FETCH,   /* vcpu, addr, size */
	SV_TEV_STAT,    /* vcpu, n (sv_vcpu_stat), value (added) */
	SV_TEV_INVLPG,  /* vcpu, addr */
	SV_TEV_CR3,     /* vcpu, addr (the new CR3) */
	SV_TEV_LEAVE,   /* vcpu left guest mode (halted) */
	SV_TEV_SYNC,    /* n: every vCPU reached sync point n */
	SV_TEV_PHASE,   /* n: the instruction-count phase n began */
	SV_TEV_BLOCK,   /* vcpu ran a block: n instructions, value cycles */
	/* Version 2: */
	SV_TEV_CPL,     /* vcpu's CPL became n (event delivery, iretq) */
	SV_TEV_STEAL,   /* the hypervisor wrote vcpu's steal-time record */
	SV_TEV__COUNT
} sv_trace_kind;

typedef struct sv_trace_event {
	sv_trace_kind kind;
	unsigned vcpu;
	uint32_t size;
	uint32_t n;
	uint64_t addr;
	uint64_t value;
	/* SV_TEV_WRITE: the bytes stored (data_len == size), or none
	 * (data_len 0) when the recorder did not see them.  A reader's
	 * pointer is good until its next call. */
	const uint8_t *data;
	uint32_t data_len;
} sv_trace_event;

typedef struct sv_trace_writer sv_trace_writer;
typedef struct sv_svt_reader sv_svt_reader;

/* Creates path (truncating it) and writes the header chunk. */
int sv_trace__create(sv_trace_writer **out, const char *path,
		     const char *header);
void sv_trace__put(sv_trace_writer *w, const sv_trace_event *ev);
/* Writes the end chunk (the event count and how the run ended) and
 * closes; SV_EIO if any write failed.  NULL is a no-op. */
int sv_trace__close(sv_trace_writer *w, const char *end);

/* Opens a trace and reads its header (*header, g_free it). */
int sv_trace__open(sv_svt_reader **out, const char *path, char **header);
/* The next event: 1, or 0 at a good end, or an error (SV_ECONFIG for a
 * damaged trace, with the offset in the detail). */
int sv_trace__next(sv_svt_reader *r, sv_trace_event *ev);
/* After sv_trace__next returned 0: how the recorded run ended. */
const char *sv_trace__end(const sv_svt_reader *r);
/* Byte offset in the file of the chunk being read. */
uint64_t sv_trace__offset(const sv_svt_reader *r);
void sv_trace__free(sv_svt_reader *r);

const char *sv_trace__kind_name(sv_trace_kind k);

/* The header of a trace that holds an access stream of an embedder's
 * (sv_trace_recorder), not a scenario run: it is not replayed. */
#define SV_TRACE_STREAM_HEADER "# simvirt access stream\n"

#endif /* SV_TRACE_H */
