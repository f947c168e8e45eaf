/*
 * fuzz_tracein - libFuzzer target: any bytes as a trace from elsewhere.
 * The first byte picks the format (text, lackey, champsim, simvirt: its
 * value modulo 4), the rest is the file; every record is read, and the
 * first 32 run through a small guest kernel (4 MiB of guest memory).  A
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

/* 4 MiB of guest memory at 1 GiB over anonymous host memory, its guest
 * kernel, one vCPU on its page tables; false if any step failed. */
static bool machine(sv_host **h, sv_vm **vm, sv_guestmm **gm, sv_vcpu **v)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_guestmm_options go = SV_GUESTMM_OPTIONS_INIT;
	sv_host_mmap_args a = {.version = SV_HOST_MMAP_VERSION,
			       .size = 4 << 20,
			       .prot = SV_PROT_READ | SV_PROT_WRITE,
			       .backing = SV_BACKING_ANON};
	sv_memslot_region s = {.version = SV_MEMSLOT_REGION_VERSION,
			       .slot = 1,
			       .gpa = 1ULL << 30,
			       .size = 4 << 20};
	sv_vcpu_regs r;

	ho.mem_size = 1ULL << 30;
	go.mem_gpa = s.gpa;
	go.mem_size = s.size;
	if (sv_host_new(h, &ho) || sv_vm_new(vm, NULL) ||
	    sv_mmu_attach(*vm, *h, NULL) || sv_host_mmap(&s.hva, *h, &a) ||
	    sv_memslot_set(*vm, &s) || sv_guestmm_new(gm, *vm, &go))
		return false;
	*v = sv_vm_vcpu(*vm, 0);
	sv_vcpu_get_regs(*v, &r);
	r.cr0 |= SV_CR0_PG | SV_CR0_WP;
	r.cr3 = sv_guestmm_cr3(*gm);
	return sv_vcpu_set_regs(*v, &r) == SV_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sv_host *h = NULL;
	sv_vm *vm = NULL;
	sv_guestmm *gm = NULL;
	sv_vcpu *v = NULL;
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
	if (machine(&h, &vm, &gm, &v))
		sv_guestmm_run_trace(&done, gm, v, r, 32);
	sv_trace_reader_close(r);
	sv_guestmm_free(gm);
	sv_vm_free(vm);
	sv_host_free(h);
	return 0;
}
