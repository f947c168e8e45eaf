/*
 * bench/bench_hostmm.c - the simulated host kernel's speed and footprint.
 *
 * (1) fault in 1 GiB of anonymous memory with 4K pages (one write per
 *     page: 262,144 faults);
 * (2) the same with THP (512 faults of 2M);
 * (3) a khugepaged pass over 1 GiB of PTE-mapped memory (512 collapses).
 * Prints operations per second and bytes of model metadata per mapped 4K
 * page against the 64-byte target, all measured in this one run.
 * Usage: bench_hostmm [GiB] (default 1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

const char *bench_name = "bench_hostmm";

/* A host with room for the region, and the region mapped in it. */
static sv_host *make(uint64_t bytes, bool thp, uint64_t *hva)
{
	sv_host_options o = SV_HOST_OPTIONS_INIT;
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.size = bytes,
		.prot = SV_PROT_READ | SV_PROT_WRITE,
		.backing = SV_BACKING_ANON,
	};
	sv_host *h;

	o.mem_size = bytes + (1ULL << 30);
	bench_check("host", sv_host_new(&h, &o));
	bench_check("mmap", sv_host_mmap(hva, h, &a));
	if (thp)
		bench_check("madvise", sv_host_madvise(h, *hva, bytes, SV_MADV_HUGEPAGE));
	return h;
}

static void report(const char *name, uint64_t ops, double secs,
		   const sv_host *h, uint64_t pages)
{
	double per = (double)sv_host_metadata_bytes(h) / (double)pages;

	printf("%-40s %10" PRIu64 " ops %8.3f s %12.0f ops/s %7.1f ns/op"
	       "   metadata %5.1f B/4K page, target <= 64: %s\n",
	       name, ops, secs, ops / secs, secs * 1e9 / (double)ops, per,
	       per <= 64 ? "met" : "MISSED");
}

int main(int argc, char **argv)
{
	uint64_t gib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
	uint64_t bytes = gib << 30, pages = bytes >> 12, hva, i;
	unsigned collapsed = 0;
	sv_host *h;
	double t0;

	if (!gib || gib > 64 || argc > 2) {
		fprintf(stderr, "usage: bench_hostmm [GiB 1..64]\n");
		return 2;
	}
	printf("simvirt %s host-kernel benchmark, %" PRIu64 " GiB region\n",
	       sv_version_string(), gib);

	h = make(bytes, false, &hva);
	t0 = bench_now();
	for (i = 0; i < pages; i++)
		bench_check("fault", sv_host_fault(NULL, h, hva + (i << 12), true));
	report("(1) fault-in, 4K pages", pages, bench_now() - t0, h, pages);

	/* (3) on the same, PTE-mapped memory */
	bench_check("madvise", sv_host_madvise(h, hva, bytes, SV_MADV_HUGEPAGE));
	t0 = bench_now();
	bench_check("khugepaged", sv_host_khugepaged(&collapsed, h));
	report("(3) khugepaged pass (2M collapses)", collapsed, bench_now() - t0, h,
	       pages);
	sv_host_free(h);

	h = make(bytes, true, &hva);
	t0 = bench_now();
	for (i = 0; i < pages; i += 512)
		bench_check("fault", sv_host_fault(NULL, h, hva + (i << 12), true));
	report("(2) fault-in, THP (2M faults)", pages / 512, bench_now() - t0, h,
	       pages);
	sv_host_free(h);
	return 0;
}
