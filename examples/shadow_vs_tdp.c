/*
 * shadow_vs_tdp - one guest under both of KVM's MMUs.
 *
 * With EPT (TDP) the hypervisor maps guest-physical memory once and the
 * hardware walks two dimensions: the guest's tables, each of their entries
 * through EPT.  With shadow paging the hypervisor builds tables of
 * guest-virtual addresses from the guest's own, and the hardware walks one
 * dimension; the price is that the guest's page tables become the
 * hypervisor's business: it write-protects them and must see every change.
 *
 * The run, under each MMU: 256 MiB of THP-backed memory that the guest maps
 * with 4K pages (its tables in a 2 MiB pool it also maps, whose host
 * pages the VMM has written), then
 *  1. one write per 4K page (the MMU maps the region);
 *  2. one read per page in a scattered order, after a full TLB flush
 *     (every read misses the TLBs and walks);
 *  3. one write to the guest's own page-table entry for the region's
 *     first page (a PTE), and then one to its page-directory entry (a PDE),
 *     each after a read of that table page has mapped it.
 * It prints, per MMU, the counters each step moved.
 *
 * Build: cc shadow_vs_tdp.c $(pkg-config --cflags --libs simvirt)
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <simvirt/simvirt.h>

#include "example_check.h"

#define GPA 0x40000000ULL
#define SIZE (256ULL << 20)
#define POOL 0x1000000ULL
#define POOL_SIZE (2ULL << 20)
#define PAGES (SIZE >> 12)

typedef struct machine {
	sv_host *h;
	sv_vm *vm;
	sv_vcpu *v;
	sv_pt *gpt;
} machine;

/* A memslot over new host memory; `written`: the VMM has written every
 * page of it (its host pages are present and writable). */
static void slot(machine *m, uint32_t id, uint64_t gpa, uint64_t size,
		 sv_madvise advice, bool written)
{
	sv_host_leaf leaf;
	uint64_t off;
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.size = size,
		.prot = SV_PROT_READ | SV_PROT_WRITE,
		.backing = SV_BACKING_ANON,
	};
	sv_memslot_region s = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = id,
		.gpa = gpa,
		.size = size,
	};

	CHECK(sv_host_mmap(&s.hva, m->h, &a));
	CHECK(sv_host_madvise(m->h, s.hva, size, advice));
	for (off = 0; written && off < size; off += SV_PAGE_4K)
		CHECK(sv_host_fault(&leaf, m->h, s.hva + off, true));
	CHECK(sv_memslot_set(m->vm, &s));
}

static void machine_up(machine *m, sv_mmu_kind kind)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_pt_options po = {
		.version = SV_PT_OPTIONS_VERSION,
		.kind = SV_PT_GUEST,
		.pool_gpa = POOL,
		.pool_size = POOL_SIZE,
	};
	sv_vcpu_regs r;

	mo.mmu = kind;
	CHECK(sv_host_new(&m->h, &ho));
	CHECK(sv_vm_new(&m->vm, NULL));
	CHECK(sv_mmu_attach(m->vm, m->h, &mo));
	slot(m, 1, GPA, SIZE, SV_MADV_HUGEPAGE, false);
	slot(m, 2, POOL, POOL_SIZE, SV_MADV_NOHUGEPAGE, true);
	CHECK(sv_pt_new(&m->gpt, m->vm, &po));
	CHECK(sv_pt_map(m->gpt, GPA, GPA, SIZE, SV_PAGE_4K, SV_PTE_P | SV_PTE_RW));
	CHECK(sv_pt_map(m->gpt, POOL, POOL, POOL_SIZE, SV_PAGE_4K,
			SV_PTE_P | SV_PTE_RW));
	m->v = sv_vm_vcpu(m->vm, 0);
	sv_vcpu_get_regs(m->v, &r);
	r.cr0 |= SV_CR0_PG;
	r.cr3 = sv_pt_root(m->gpt);
	CHECK(sv_vcpu_set_regs(m->v, &r));
}

static void machine_down(machine *m)
{
	sv_pt_free(m->gpt);
	sv_vm_free(m->vm);
	sv_host_free(m->h);
}

static uint64_t vs(machine *m, sv_vm_stat s)
{
	return sv_vm_stat_get(m->vm, s);
}

static uint64_t cs(machine *m, sv_vcpu_stat s)
{
	return sv_vcpu_stat_get(m->v, s);
}

static void access(machine *m, uint64_t gva, sv_access acc)
{
	sv_xlate x;

	CHECK(sv_vcpu_translate(&x, m->v, gva, 8, acc));
	if (x.fault.kind != SV_FAULT_NONE) {
		fprintf(stderr, "shadow_vs_tdp: gva 0x%" PRIx64 ": %s\n", gva,
			sv_fault_kind_name(x.fault.kind));
		exit(1);
	}
}

/* What one step moved. */
typedef struct step {
	uint64_t faults, tables, exits, refs, cycles, misses, nested;
} step;

static step snap(machine *m)
{
	return (step){
		.faults = cs(m, SV_VCPU_STAT_pf_taken),
		.tables = vs(m, SV_VM_STAT_tdp_table_pages),
		.exits = cs(m, SV_VCPU_STAT_exits),
		.refs = cs(m, SV_VCPU_STAT_walk_refs),
		.cycles = cs(m, SV_VCPU_STAT_cycles),
		.misses = cs(m, SV_VCPU_STAT_tlb_miss),
		.nested = cs(m, SV_VCPU_STAT_nested_walk_refs),
	};
}

static step since(machine *m, step a)
{
	step b = snap(m);

	return (step){b.faults - a.faults, b.tables - a.tables,
		      b.exits - a.exits, b.refs - a.refs, b.cycles - a.cycles,
		      b.misses - a.misses, b.nested - a.nested};
}

/* The guest-physical address of the guest's entry for gva at level. */
static uint64_t entry_gpa(machine *m, uint64_t gva, unsigned level)
{
	uint64_t up;

	CHECK(sv_pt_get(&up, m->gpt, gva, level + 1));
	return (up & SV_PTE_ADDR_MASK) + 8 * ((gva >> (12 + 9 * (level - 1))) & 511);
}

static void run(sv_mmu_kind kind, const char *name)
{
	machine m;
	step s, a;
	uint64_t i, pte, pde;

	machine_up(&m, kind);
	printf("%s:\n", name);

	a = snap(&m);
	for (i = 0; i < PAGES; i++)
		access(&m, GPA + (i << 12), SV_ACCESS_WRITE);
	s = since(&m, a);
	printf("  1. populate      %6" PRIu64 " faults, %4" PRIu64
	       " table pages of the MMU's, %4.1f cycles per write\n",
	       s.faults, vs(&m, SV_VM_STAT_tdp_table_pages),
	       (double)s.cycles / PAGES);

	CHECK(sv_vcpu_invpcid(m.v, 2, 0, 0)); /* every TLB entry */
	a = snap(&m);
	for (i = 0; i < PAGES; i++) /* an odd stride over a power of two */
		access(&m, GPA + (((i * 40503) & (PAGES - 1)) << 12),
		       SV_ACCESS_READ);
	s = since(&m, a);
	printf("  2. cold reads    %6" PRIu64 " TLB misses, %4.2f walk references "
	       "per miss (%4.2f of EPT), %5.1f cycles per read\n",
	       s.misses, (double)s.refs / (double)s.misses,
	       (double)s.nested / (double)s.misses, (double)s.cycles / PAGES);

	pte = entry_gpa(&m, GPA, 1);
	pde = entry_gpa(&m, GPA, 2);
	access(&m, pte, SV_ACCESS_READ);
	access(&m, pde, SV_ACCESS_READ);
	a = snap(&m);
	access(&m, pte, SV_ACCESS_WRITE);
	s = since(&m, a);
	printf("  3. a PTE write   %6" PRIu64 " exits, %6" PRIu64 " cycles",
	       s.exits, s.cycles);
	a = snap(&m);
	access(&m, pde, SV_ACCESS_WRITE);
	s = since(&m, a);
	printf("; a PDE write %" PRIu64 " exits, %" PRIu64 " cycles\n", s.exits,
	       s.cycles);
	printf("     unsync pages %" PRIu64 ", emulated table writes %" PRIu64
	       "\n", vs(&m, SV_VM_STAT_sp_unsynced),
	       vs(&m, SV_VM_STAT_mmu_pte_write));
	machine_down(&m);
}

int main(void)
{
	run(SV_MMU_TDP, "EPT (mmu=tdp)");
	run(SV_MMU_SHADOW, "shadow paging (mmu=shadow)");
	return 0;
}
