/*
 * simvirt/tracein.h - memory traces from elsewhere, as workloads: a reader
 * interface over the formats the field uses, and a run of a trace through
 * the guest kernel's memory model (simvirt/guestmm.h) and the whole
 * translation model behind it.
 *
 * Formats (streamed, a line at a time: a trace is never loaded whole):
 *  - text: one access a line, `R|W|X ADDR [SIZE]` (ADDR in C notation,
 *    0x for hex; SIZE 1 to 4096, default 8); `#` starts a comment.
 *  - lackey: what `valgrind --tool=lackey --trace-mem=yes` prints:
 *    `I  ADDR,SIZE` (a fetch), ` L ADDR,SIZE`, ` S ADDR,SIZE`, ` M
 *    ADDR,SIZE` (a load then a store), ADDR in hex; valgrind's own `==`
 *    lines are skipped.
 *  - champsim: ChampSim's binary instruction traces (64-byte records: ip,
 *    branch fields, register ids, two destination and four source memory
 *    addresses), raw, gzip or xz; each record is the fetch of its ip (4
 *    bytes), a read of each source address and a write of each
 *    destination address (8 bytes each: the format has no sizes).
 *  - simvirt: simvirt's own trace format (docs/trace.md): a stream an
 *    embedder recorded with sv_trace_recorder below, or the accesses of a
 *    run recorded with `simvirt run --record` (every vCPU's, in order;
 *    those of its guest kernel, in the upper half, are left out).
 * Other formats plug in as a function that gives the next record.
 */
#ifndef SIMVIRT_TRACEIN_H
#define SIMVIRT_TRACEIN_H

#include "common.h"
#include "guestmm.h"
#include "hostmm.h"
#include "mmu.h"
#include "vcpu.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sv_trace_format {
	SV_TRACE_TEXT,
	SV_TRACE_LACKEY,
	SV_TRACE_CHAMPSIM,
	SV_TRACE_SIMVIRT, /* simvirt's own: a recorder's, or a recorded run's */
} sv_trace_format;

/** One access of a trace. */
typedef struct sv_trace_record {
	uint64_t addr;      /* guest-virtual */
	uint32_t size;      /* 1 to 4096 bytes */
	sv_access access;
} sv_trace_record;

typedef struct sv_trace_reader sv_trace_reader;

/** "text", "lackey" or "champsim": the format; SV_EINVAL naming the
 *  choices. */
SV_API int sv_trace_format_parse(sv_trace_format *out, const char *name);

/** Opens the trace at path (a file, read a line at a time). */
SV_API int sv_trace_reader_open(sv_trace_reader **out, const char *path,
				sv_trace_format fmt);

/**
 * A reader of your own: next() fills *rec and returns SV_OK, sets *end at
 * the end, or returns an error (with sv_err_set-style detail left to the
 * caller's message).
 */
typedef int (*sv_trace_next_fn)(void *payload, sv_trace_record *rec,
				bool *end);
SV_API int sv_trace_reader_custom(sv_trace_reader **out, sv_trace_next_fn next,
				  void *payload);

/**
 * The next record, or *end at the end of the trace.  A malformed line is
 * SV_EINVAL with the file, the line number and what was expected.
 */
SV_API int sv_trace_reader_next(sv_trace_reader *r, sv_trace_record *rec,
				bool *end);
/** The line the last record came from (ChampSim: the record's number; 0
 *  for a reader of your own). */
SV_API uint64_t sv_trace_reader_line(const sv_trace_reader *r);
/** Bytes of the trace's file read so far (compressed bytes for gzip and
 *  xz; 0 for a reader of your own): with the file's size, the progress. */
SV_API uint64_t sv_trace_reader_offset(const sv_trace_reader *r);
SV_API void sv_trace_reader_close(sv_trace_reader *r);

/**
 * Recording an access stream of your own, to run later (format simvirt):
 * simvirt's trace format, its events zstd-compressed (a few bytes per
 * access for strided streams), written as they come.
 */
typedef struct sv_trace_recorder sv_trace_recorder;

/** Creates (or truncates) path. */
SV_API int sv_trace_recorder_open(sv_trace_recorder **out, const char *path);
/** One access (size 1 to 4096). */
SV_API int sv_trace_recorder_put(sv_trace_recorder *r,
				 const sv_trace_record *rec);
/** Ends the file and closes it; SV_EIO if any write failed (the file is
 *  then incomplete, and reading it says so).  NULL is a no-op. */
SV_API int sv_trace_recorder_close(sv_trace_recorder *r);

/**
 * A machine to run a trace on, ready made: `mem` bytes of guest memory at
 * guest-physical 1 GiB over host anonymous memory (MADV_HUGEPAGE, so 2M
 * THPs, unless host_4k; host RAM sized for it), the hypervisor MMU `mmu`,
 * the guest kernel with the
 * `guest` options over all of that memory (mem_gpa and mem_size are set
 * here), and vCPU 0 running its first process (paging on, CR0.WP set).
 */
#define SV_TRACE_MACHINE_OPTIONS_VERSION 1

typedef struct sv_trace_machine_options {
	unsigned version;         /* SV_TRACE_MACHINE_OPTIONS_VERSION */
	uint64_t mem;             /* a multiple of 2M, 4M to 1T */
	sv_mmu_kind mmu;
	sv_guestmm_options guest;
	bool host_4k;             /* the host maps the guest's memory 4K */
} sv_trace_machine_options;

#define SV_TRACE_MACHINE_OPTIONS_INIT                         \
	{                                                     \
		.version = SV_TRACE_MACHINE_OPTIONS_VERSION,  \
		.mem = 1ULL << 30,                            \
		.mmu = SV_MMU_TDP,                            \
		.guest = SV_GUESTMM_OPTIONS_INIT,             \
		.host_4k = false,                             \
	}

/** Fills *o with the defaults (SV_TRACE_MACHINE_OPTIONS_INIT). */
SV_API void sv_trace_machine_options_init(sv_trace_machine_options *o);

typedef struct sv_trace_machine {
	sv_host *host;
	sv_vm *vm;
	sv_vcpu *vcpu;            /* vCPU 0 */
	sv_guestmm *guest;
} sv_trace_machine;

/** Builds *m (zeroed on failure, with nothing left to free). */
SV_API int sv_trace_machine_new(sv_trace_machine *m,
				const sv_trace_machine_options *o);
/** Frees what *m holds (a zeroed one too) and zeroes it. */
SV_API void sv_trace_machine_free(sv_trace_machine *m);

/**
 * Runs the trace (up to max records; 0: to its end) as accesses of vCPU v
 * through the guest kernel gm: demand paging and guest THP first, then the
 * translation model.  A trace shows no mmap: the first access outside
 * every VMA makes one, anonymous, readable, writable and executable, over
 * the 1 GiB-aligned range around it less what other VMAs hold (and never
 * below mmap_min_addr, 64K).  *done: the records run.  An
 * access that still faults ends the run with SV_EFAULT naming it.
 */
SV_API int sv_guestmm_run_trace(uint64_t *done, sv_guestmm *gm, sv_vcpu *v,
				sv_trace_reader *r, uint64_t max);

#ifdef __cplusplus
}
#endif

#endif /* SIMVIRT_TRACEIN_H */
