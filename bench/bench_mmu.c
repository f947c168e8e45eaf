/*
 * bench/bench_mmu.c - the hypervisor MMU's speed, all in one run:
 *
 * (1) populate 1 GiB of 4K-backed memory: one write per page, 262,144 EPT
 *     violations, each a full fault (host fault-in, sizing, SPTE install);
 *     target: under 0.5 s;
 * (2) populate 1 GiB of THP-backed memory (512 violations of 2M);
 * (3) enable dirty logging with eager split over those 512 2M SPTEs
 *     (512 splits into 262,144 4K SPTEs, then write protection);
 * (4) write every page (262,144 fast-path faults);
 * (5) disable dirty logging (6.12: 512 table zaps; 6.13: 512 in-place
 *     recoveries);
 * (6) the shadow MMU: populate 1 GiB of 4K-backed memory that the guest
 *     maps with 4K pages (262,144 shadow faults, each a walk of the guest's
 *     tables, a host fault-in and an SPTE install); target: under 0.5 s;
 * (7) the same guest under both MMUs once populated: reads of one word in
 *     every 4K page of the region in a scattered order (each misses the
 *     TLBs), ns and walk references per access: the 1D walk of shadow
 *     paging against the 2D walk of EPT.
 * Each line prints the total, the time per operation and the counters that
 * say how many operations there were.
 * Usage: bench_mmu [GiB] (default 1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

const char *bench_name = "bench_mmu";

#define GPA 0x40000000ULL

typedef struct rig {
	sv_host *h;
	sv_vm *vm;
	sv_vcpu *v;
	uint64_t hva, bytes;
} rig;

/* Guest page tables for the guest itself: a pool slot below the region. */
#define POOL_GPA 0x1000000ULL
#define POOL_SIZE (16ULL << 20)

static void rig_up_mmu(rig *r, uint64_t bytes, bool thp, unsigned kernel,
		       sv_mmu_kind kind)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.size = bytes,
		.prot = SV_PROT_READ | SV_PROT_WRITE,
		.backing = SV_BACKING_ANON,
	};
	sv_memslot_region s = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = 1,
		.gpa = GPA,
		.size = bytes,
	};

	ho.mem_size = bytes + (1ULL << 30);
	mo.kernel_version = kernel;
	mo.mmu = kind;
	bench_check("host", sv_host_new(&r->h, &ho));
	bench_check("vm", sv_vm_new(&r->vm, NULL));
	bench_check("attach", sv_mmu_attach(r->vm, r->h, &mo));
	bench_check("mmap", sv_host_mmap(&r->hva, r->h, &a));
	bench_check("madvise", sv_host_madvise(r->h, r->hva, bytes,
					 thp ? SV_MADV_HUGEPAGE : SV_MADV_NOHUGEPAGE));
	s.hva = r->hva;
	bench_check("memslot", sv_memslot_set(r->vm, &s));
	r->v = sv_vm_vcpu(r->vm, 0);
	r->bytes = bytes;
}

static void rig_up(rig *r, uint64_t bytes, bool thp, unsigned kernel)
{
	rig_up_mmu(r, bytes, thp, kernel, SV_MMU_TDP);
}

/* The guest maps the region at GPA with 4K pages, tables from a pool
 * slot, and turns paging on. */
static void guest_paging(rig *r)
{
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.size = POOL_SIZE,
		.prot = SV_PROT_READ | SV_PROT_WRITE,
		.backing = SV_BACKING_ANON,
	};
	sv_memslot_region s = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = 2,
		.gpa = POOL_GPA,
		.size = POOL_SIZE,
	};
	sv_pt_options po = {
		.version = SV_PT_OPTIONS_VERSION,
		.kind = SV_PT_GUEST,
		.pool_gpa = POOL_GPA,
		.pool_size = POOL_SIZE,
	};
	sv_vcpu_regs regs;
	sv_pt *gpt;

	bench_check("pool mmap", sv_host_mmap(&s.hva, r->h, &a));
	bench_check("pool memslot", sv_memslot_set(r->vm, &s));
	bench_check("guest tables", sv_pt_new(&gpt, r->vm, &po));
	bench_check("guest map", sv_pt_map(gpt, GPA, GPA, r->bytes, SV_PAGE_4K,
					   SV_PTE_P | SV_PTE_RW));
	sv_vcpu_get_regs(r->v, &regs);
	regs.cr0 |= SV_CR0_PG;
	regs.cr3 = sv_pt_root(gpt);
	bench_check("paging on", sv_vcpu_set_regs(r->v, &regs));
	sv_pt_free(gpt); /* the tables stay in guest memory */
}

/* One read in every 4K page, in a scattered order (page i * 40503 mod
 * pages: an odd multiplier over a power of two visits each once), so
 * that the walk caches help little; returns seconds. */
static double read_all(rig *r)
{
	double t0 = bench_now();
	uint64_t i, n = r->bytes >> 12;
	sv_xlate x;

	for (i = 0; i < n; i++)
		bench_check("read", sv_vcpu_translate(&x, r->v,
						      GPA + ((i * 40503) & (n - 1)) * 4096,
						      8, SV_ACCESS_READ));
	return bench_now() - t0;
}

static void rig_down(rig *r)
{
	sv_vm_free(r->vm);
	sv_host_free(r->h);
}

/* One write every `stride` bytes; returns seconds. */
static double write_all(rig *r, uint64_t stride)
{
	double t0 = bench_now();
	uint64_t a;
	sv_xlate x;

	for (a = GPA; a < GPA + r->bytes; a += stride) {
		bench_check("access", sv_vcpu_translate(&x, r->v, a, 8, SV_ACCESS_WRITE));
		if (x.fault.kind != SV_FAULT_NONE) {
			fprintf(stderr, "bench_mmu: gpa 0x%" PRIx64 ": fault %d\n",
				a, (int)x.fault.kind);
			exit(1);
		}
	}
	return bench_now() - t0;
}

static void flags(rig *r, uint32_t f)
{
	sv_memslot_region s = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = 1,
		.flags = f,
		.gpa = GPA,
		.size = r->bytes,
		.hva = r->hva,
	};

	bench_check("memslot flags", sv_memslot_set(r->vm, &s));
}

static void line(const char *what, double secs, uint64_t ops, const char *unit)
{
	printf("%-52s %8.3f s  %9" PRIu64 " %-10s %8.1f ns each\n", what, secs,
	       ops, unit, ops ? secs * 1e9 / (double)ops : 0.0);
}

#define VS(r, n) sv_vm_stat_get((r)->vm, SV_VM_STAT_##n)
#define CS(r, n) sv_vcpu_stat_get((r)->v, SV_VCPU_STAT_##n)

int main(int argc, char **argv)
{
	uint64_t gib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
	uint64_t bytes = gib << 30;
	unsigned kernels[2] = {SV_KERNEL(6, 12), SV_KERNEL(6, 13)};
	double t;
	rig r;
	unsigned k;

	if (!gib || gib > 64) {
		fprintf(stderr, "usage: bench_mmu [GiB, 1 to 64]\n");
		return 2;
	}
	printf("bench_mmu: %" PRIu64 " GiB, EPT 4-level with 1G pages, one vCPU\n",
	       gib);

	rig_up(&r, bytes, false, SV_KERNEL(6, 12));
	t = write_all(&r, 4096);
	line("(1) populate, 4K anonymous (EPT violations)", t, CS(&r, pf_taken),
	     "faults");
	printf("    target for 1 GiB: 262,144 faults in < 0.5 s: %s\n",
	       gib != 1 ? "(run with 1 GiB)" : t < 0.5 ? "met" : "missed");
	rig_down(&r);

	for (k = 0; k < 2; k++) {
		char title[64];

		printf("kernel %u.%u:\n", kernels[k] / 100, kernels[k] % 100);
		rig_up(&r, bytes, true, kernels[k]);
		t = write_all(&r, 4096);
		line("(2) populate, THP (2M faults; writes per 4K)", t,
		     CS(&r, pf_taken), "faults");
		t = bench_now();
		flags(&r, SV_MEMSLOT_LOG_DIRTY);
		t = bench_now() - t;
		line("(3) dirty logging on, eager split", t, VS(&r, split_2m),
		     "2M splits");
		t = write_all(&r, 4096);
		line("(4) write every page (fast-path faults)", t,
		     CS(&r, pf_fast), "faults");
		t = bench_now();
		flags(&r, 0);
		t = bench_now() - t;
		snprintf(title, sizeof(title), "(5) dirty logging off (%s)",
			 kernels[k] >= SV_KERNEL(6, 13) ? "recover in place"
							: "zap collapsible");
		line(title, t,
		     VS(&r, zap_table) + VS(&r, recover_2m) + VS(&r, recover_1g),
		     "tables");
		rig_down(&r);
	}

	printf("shadow paging (guest 4K pages over 4K anonymous memory):\n");
	rig_up_mmu(&r, bytes, false, SV_KERNEL(6, 12), SV_MMU_SHADOW);
	guest_paging(&r);
	t = write_all(&r, 4096);
	line("(6) populate under the shadow MMU (shadow faults)", t,
	     CS(&r, pf_taken), "faults");
	printf("    target for 1 GiB: 262,144 faults in < 0.5 s: %s\n",
	       gib != 1 ? "(run with 1 GiB)" : t < 0.5 ? "met" : "missed");
	{
		double ts, te;
		uint64_t refs, rs, re, n = bytes >> 12;

		refs = CS(&r, walk_refs);
		ts = read_all(&r);
		rs = CS(&r, walk_refs) - refs;
		rig_down(&r);
		rig_up_mmu(&r, bytes, false, SV_KERNEL(6, 12), SV_MMU_TDP);
		guest_paging(&r);
		write_all(&r, 4096);
		refs = CS(&r, walk_refs);
		te = read_all(&r);
		re = CS(&r, walk_refs) - refs;
		rig_down(&r);
		printf("(7) one read per 4K page, TLB misses, %" PRIu64 " reads:\n", n);
		printf("    shadow (1D walk)  %8.1f ns  %5.2f references per access\n",
		       ts * 1e9 / (double)n, (double)rs / (double)n);
		printf("    EPT (2D walk)     %8.1f ns  %5.2f references per access\n",
		       te * 1e9 / (double)n, (double)re / (double)n);
		printf("    ratio 2D/1D       %8.2f x time, %5.2f x references\n",
		       te / ts, (double)re / (double)rs);
	}
	return 0;
}
