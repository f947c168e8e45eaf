/*
 * fuzz_trace - libFuzzer target: any bytes as a trace file, read to the
 * end (sv_trace_dump) and then replayed through the model
 * (sv_trace_replay: the header loaded as a scenario, the machine built,
 * every event applied).  A damaged trace must be reported, never crash,
 * leak or read out of bounds.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <simvirt/simvirt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_scratch(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	sv_report *rep = NULL;
	FILE *f;

	/* The reader takes a path: one scratch file per process. */
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/simvirt-fuzz-trace-%d",
			 (int)getpid());
		sink = fopen("/dev/null", "w");
		if (!sink)
			abort();
		atexit(remove_scratch);
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	sv_trace_dump(path, sink);
	if (sv_trace_replay(&rep, path, NULL) == SV_OK)
		sv_report_free(rep);
	return 0;
}
