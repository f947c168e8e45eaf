/*
 * fuzz_tracein - libFuzzer target: any bytes as a trace from elsewhere.
 * The first byte picks the format (text, lackey, champsim, simvirt: its
 * value modulo 4), the rest is the file; every record is read, and the
 * first 32 run through a small trace machine (4 MiB of guest memory).  A
 * bad record must be reported, never crash, leak or read out of bounds.
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
	sv_trace_machine_options o = SV_TRACE_MACHINE_OPTIONS_INIT;
	sv_trace_machine m;
	sv_trace_reader *r = NULL;
	sv_trace_record rec;
	uint64_t n = 0, done;
	bool end = false;
	FILE *f;

	if (!size)
		return 0;
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/simvirt-fuzz-tracein-%d",
			 (int)getpid());
		atexit(remove_scratch);
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1)
		abort();
	fclose(f);
	if (sv_trace_reader_open(&r, path, (sv_trace_format)(data[0] % 4)) != SV_OK)
		return 0;
	while (n < 100000 && sv_trace_reader_next(r, &rec, &end) == SV_OK && !end) {
		if (rec.size < 1 || rec.size > 4096)
			abort(); /* the readers promise 1 to 4096 */
		n++;
	}
	sv_trace_reader_close(r);
	if (sv_trace_reader_open(&r, path, (sv_trace_format)(data[0] % 4)) != SV_OK)
		abort(); /* it opened a moment ago */
	o.mem = 4 << 20;
	if (sv_trace_machine_new(&m, &o) == SV_OK)
		sv_guestmm_run_trace(&done, m.guest, m.vcpu, r, 32);
	sv_trace_reader_close(r);
	sv_trace_machine_free(&m);
	return 0;
}
