/*
 * bench/bench_access.c - trace-driven translation speed.
 *
 * (a) an L1-hit-dominated stream: 8-byte reads sweeping one 4K page, then
 *     the next of 16 pages (the DTLB holds them all);
 * (b) random 8-byte reads over a 64 GiB guest of 4K pages, default caches
 *     (almost every access misses the TLBs and walks);
 * (c) the same with every TLB and walk cache absent, so each access is a
 *     cold 4-level-over-4-level 2D walk of 24 references.
 * Prints accesses per second, ns per access and references per access,
 * and each figure against its target, all measured in this one run.
 * Before (c) it measures what one dependent load at random over memory as
 * large as the guest's page tables costs the host, since (b) and (c) wait
 * for such loads (the guest PTE's and the EPT PTE's of each data page)
 * one after the other: it bounds them from below, whatever the model does.
 * Usage: bench_access [GiB [CASES]]: GiB defaults to 64, CASES (a string
 * of the letters a-d) to all four.
 */
#define _DEFAULT_SOURCE /* madvise, MAP_ANONYMOUS */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"

const char *bench_name = "bench_access";

#define GUEST_BASE 0x100000000000ULL /* guest-virtual base */
#define DATA_GPA (1ULL << 36)        /* 64 GiB: data pages start here */

/* Bytes of guest page tables for a guest of `bytes` (PTs, PDs, upper). */
static uint64_t guest_table_bytes(uint64_t bytes)
{
	return ((bytes >> 21) + (bytes >> 30) + 64) * 4096;
}

/* A VM whose guest maps `bytes` at GUEST_BASE with 4K pages onto GPAs
 * from DATA_GPA, with a 4K nested identity map of tables and data. */
static sv_vm *make_vm(uint64_t bytes, bool caches, sv_pt **gpt_out)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	uint64_t pool = guest_table_bytes(bytes);
	sv_memslot_region slot = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.size = pool + 0x100000,
	};
	sv_pt_options po = {
		.version = SV_PT_OPTIONS_VERSION,
		.kind = SV_PT_GUEST,
		.pool_gpa = 0x100000,
		.pool_size = pool,
	};
	sv_vcpu_regs r;
	sv_vm *vm;
	unsigned a;

	if (!caches)
		for (a = 0; a < SV_TLB__COUNT; a++)
			o.tlb.array[a].sets = 0;
	bench_check("vm", sv_vm_new(&vm, &o));
	bench_check("slot", sv_memslot_set(vm, &slot));
	bench_check("guest tables", sv_pt_new(gpt_out, vm, &po));
	bench_check("guest map", sv_pt_map(*gpt_out, GUEST_BASE, DATA_GPA, bytes, 4096,
				     SV_PTE_RW));
	bench_check("nested map tables", sv_pt_map(sv_vm_tdp(vm), 0, 0, slot.size,
					     4096, SV_EPT_RWX));
	bench_check("nested map data", sv_pt_map(sv_vm_tdp(vm), DATA_GPA, DATA_GPA,
					   bytes, 4096, SV_EPT_RWX));
	sv_vcpu_get_regs(sv_vm_vcpu(vm, 0), &r);
	r.cr0 |= SV_CR0_PG;
	r.cr3 = sv_pt_root(*gpt_out);
	bench_check("regs", sv_vcpu_set_regs(sv_vm_vcpu(vm, 0), &r));
	return vm;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Nanoseconds the host takes for one load whose address depends on the
 * load before, at random over `bytes` of memory allocated as the model's
 * is (anonymous, huge pages advised): a chase around one random cycle of
 * the cache lines (Sattolo's shuffle).
 */
static double host_load_ns(uint64_t bytes)
{
	uint64_t lines = bytes / 64, n = 4000000, seed = 7, i, p = 0;
	uint64_t *next = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	double t0, t;

	if (next == MAP_FAILED) {
		perror("bench_access: mmap");
		exit(1);
	}
	madvise(next, bytes, MADV_HUGEPAGE); /* a hint, as for the model */
	for (i = 0; i < lines; i++)
		next[i * 8] = i;
	for (i = lines - 1; i > 0; i--) {
		uint64_t j = rng_next(&seed) % i, x = next[i * 8];

		next[i * 8] = next[j * 8];
		next[j * 8] = x;
	}
	t0 = bench_now();
	for (i = 0; i < n; i++)
		p = next[p * 8];
	t = bench_now() - t0;
	if (p >= lines) /* keeps the chase; never true */
		abort();
	munmap(next, bytes);
	return t * 1e9 / (double)n;
}

/* Times n 8-byte reads at random pages among the first `span` pages. */
static double time_random_reads(sv_vcpu *v, uint64_t n, uint64_t span,
				uint64_t *seed)
{
	double t0 = bench_now();
	sv_xlate x;
	uint64_t i;

	for (i = 0; i < n; i++)
		sv_vcpu_translate(&x, v, GUEST_BASE + (rng_next(seed) % span) * 4096, 8,
			       SV_ACCESS_READ);
	return bench_now() - t0;
}

static void report(const char *name, uint64_t n, double secs, uint64_t refs,
		   double target_ns)
{
	double ns = secs * 1e9 / (double)n;

	printf("%-44s %12.0f acc/s %8.2f ns/access %6.2f refs/access"
	       "   target <= %.0f ns: %s (%.2fx of target)\n",
	       name, n / secs, ns, (double)refs / (double)n, target_ns,
	       ns <= target_ns ? "met" : "MISSED", ns / target_ns);
}

int main(int argc, char **argv)
{
	uint64_t gib = argc > 1 ? strtoull(argv[1], NULL, 10) : 64;
	const char *cases = argc > 2 ? argv[2] : "abcd";
	uint64_t bytes = gib << 30, pages = bytes >> 12, i, seed = 1;
	uint64_t n_hit = 200000000, n_rand = 4000000, n_cold = 2000000;
	sv_pt *gpt;
	sv_vm *vm;
	sv_vcpu *v;
	sv_xlate x;
	double t0, t;

	if (!gib || gib > 1024 || argc > 3 || !*cases ||
	    strspn(cases, "abcd") != strlen(cases)) {
		fprintf(stderr, "usage: bench_access [GiB 1..1024 [CASES a-d]]\n");
		return 2;
	}
	printf("simvirt %s trace-driven access benchmark, %" PRIu64
	       " GiB guest of 4K pages over 4K EPT\n",
	       sv_version_string(), gib);

#define RUN(c) (strchr(cases, (c)) != NULL)
	if (RUN('a') || RUN('b')) {
		t0 = bench_now();
		vm = make_vm(bytes, true, &gpt);
		printf("setup: guest and EPT tables for %" PRIu64
		       " pages built in %.2f s\n", pages, bench_now() - t0);
		v = sv_vm_vcpu(vm, 0);
		if (RUN('a')) {
			/* 16 pages, 512 reads each, round and round */
			for (i = 0; i < 16; i++)
				sv_vcpu_translate(&x, v, GUEST_BASE + i * 4096, 8,
					       SV_ACCESS_READ);
			sv_vcpu_stats_reset(v);
			t0 = bench_now();
			for (i = 0; i < n_hit; i++)
				sv_vcpu_translate(&x, v, GUEST_BASE +
						       ((i >> 9) & 15) * 4096 +
						       (i & 511) * 8,
					       8, SV_ACCESS_READ);
			t = bench_now() - t0;
			report("(a) L1-hit stream", n_hit, t,
			       sv_vcpu_stat_get(v, SV_VCPU_STAT_walk_refs), 5);
			printf("    L1 hits %" PRIu64 " of %" PRIu64 "\n",
			       sv_vcpu_stat_get(v, SV_VCPU_STAT_l1d_hit_4k),
			       n_hit);
		}
		if (RUN('b')) {
			/* random reads over the whole guest, default caches */
			sv_vcpu_stats_reset(v);
			t = time_random_reads(v, n_rand, pages, &seed);
			report("(b) random over the guest, default caches",
			       n_rand, t,
			       sv_vcpu_stat_get(v, SV_VCPU_STAT_walk_refs), 150);
			printf("    TLB misses %" PRIu64 " of %" PRIu64 "\n",
			       sv_vcpu_stat_get(v, SV_VCPU_STAT_tlb_miss),
			       n_rand);
		}
		sv_pt_free(gpt);
		sv_vm_free(vm);
	}
	if (RUN('c') || RUN('d')) {
		double load_ns = RUN('c') ? host_load_ns(guest_table_bytes(bytes)) : 0;

		vm = make_vm(bytes, false, &gpt);
		v = sv_vm_vcpu(vm, 0);
		if (RUN('c')) {
			/* every access a cold 24-reference walk */
			printf("host: one dependent load at random over %" PRIu64
			       " MiB (the guest's page tables) takes %.1f ns\n",
			       guest_table_bytes(bytes) >> 20, load_ns);
			t = time_random_reads(v, n_cold, pages, &seed);
			report("(c) cold 4-over-4 2D walk (no caches)", n_cold,
			       t, sv_vcpu_stat_get(v, SV_VCPU_STAT_walk_refs),
			       150);
			printf("    %.1f dependent host loads' worth per access\n",
			       t * 1e9 / (double)n_cold / load_ns);
		}
		if (RUN('d')) {
			/* the same walks over 16 pages: the simulated tables
			 * stay in the host's caches, so this is the model's
			 * own cost per walk */
			sv_vcpu_stats_reset(v);
			t = time_random_reads(v, n_cold, 16, &seed);
			report("(d) cold 2D walk, host-cache-resident tables",
			       n_cold, t,
			       sv_vcpu_stat_get(v, SV_VCPU_STAT_walk_refs), 150);
		}
		sv_pt_free(gpt);
		sv_vm_free(vm);
	}
#undef RUN
	return 0;
}
