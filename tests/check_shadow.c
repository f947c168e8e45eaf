/*
 * tests/check_shadow.c - the shadow MMU ([vm] mmu=shadow) through the C
 * API: options, the guest's own faults, sizing by the guest's leaf and the
 * host's page, write protection of the guest's page tables (unsync pages,
 * emulated writes, INVLPG and MOV to CR3), and the remap workload's stale
 * reads on Unicorn.  The machine: a data slot at GPA over simulated host
 * memory, a pool slot for the guest's tables, both identity-mapped by the
 * guest.  Counts are taken as differences around the accesses they follow
 * from.
 */
#include <string.h>

#include "helpers.h"

#define SZ_4K 0x1000ULL
#define SZ_2M (2ULL << 20)
#define GPA 0x40000000ULL
#define POOL 0x1000000ULL
#define VMS(vm, name) sv_vm_stat_get((vm), SV_VM_STAT_##name)
#define CPUS(vm, name) sv_vm_vcpu_stat_sum((vm), SV_VCPU_STAT_##name)

typedef struct rig {
	sv_host *h;
	sv_vm *vm;
	sv_vcpu *v;
	sv_pt *gpt;
	uint64_t hva;
} rig;

static void slot_over_host(rig *r, uint32_t id, uint64_t gpa, uint64_t size,
			   bool thp, uint64_t *hva)
{
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

	T_OK(sv_host_mmap(&s.hva, r->h, &a));
	T_OK(sv_host_madvise(r->h, s.hva, size,
			     thp ? SV_MADV_HUGEPAGE : SV_MADV_NOHUGEPAGE));
	T_OK(sv_memslot_set(r->vm, &s));
	if (hva)
		*hva = s.hva;
}

/* size bytes of data at GPA (THP or 4K host pages) that the guest maps
 * with pages of gpage, and the table pool, mapped 4K; paging on. */
static void rig_up(rig *r, uint64_t size, bool thp, uint64_t gpage)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;

	memset(r, 0, sizeof(*r));
	mo.mmu = SV_MMU_SHADOW;
	T_OK(sv_host_new(&r->h, &ho));
	r->vm = t_vm();
	T_OK(sv_mmu_attach(r->vm, r->h, &mo));
	slot_over_host(r, 1, GPA, size, thp, &r->hva);
	slot_over_host(r, 2, POOL, SZ_2M, false, NULL);
	r->gpt = t_guest_pt(r->vm, POOL, SZ_2M);
	T_OK(sv_pt_map(r->gpt, GPA, GPA, size, gpage, SV_PTE_P | SV_PTE_RW));
	T_OK(sv_pt_map(r->gpt, POOL, POOL, SZ_2M, SZ_4K, SV_PTE_P | SV_PTE_RW));
	r->v = sv_vm_vcpu(r->vm, 0);
	t_paging(r->v, sv_pt_root(r->gpt), 0);
}

static void rig_down(rig *r)
{
	sv_pt_free(r->gpt);
	sv_vm_free(r->vm);
	sv_host_free(r->h);
}

static void write_each(rig *r, uint64_t gva, uint64_t size, uint64_t stride)
{
	uint64_t a;

	for (a = gva; a < gva + size; a += stride) {
		sv_xlate x = t_access(r->v, a, SV_ACCESS_WRITE);

		ck_assert_msg(x.fault.kind == SV_FAULT_NONE, "gva 0x%llx: %s",
			      (unsigned long long)a, sv_fault_kind_name(x.fault.kind));
	}
}

/* ---- options ------------------------------------------------------------ */

START_TEST(options_checked)
{
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_host *h;
	sv_vm *vm = t_vm();

	T_OK(sv_host_new(&h, &ho));
	mo.mmu = (sv_mmu_kind)7;
	ck_assert_int_eq(sv_mmu_attach(vm, h, &mo), SV_EINVAL);
	mo.mmu = SV_MMU_SHADOW;
	mo.pml = true;
	ck_assert_int_eq(sv_mmu_attach(vm, h, &mo), SV_EINVAL);
	mo.pml = false;
	mo.shadow_pages = 63; /* KVM_MIN_ALLOC_MMU_PAGES is 64 */
	ck_assert_int_eq(sv_mmu_attach(vm, h, &mo), SV_EINVAL);
	/* a version-2 caller's struct ends before mmu: TDP */
	mo = (sv_mmu_options)SV_MMU_OPTIONS_INIT;
	mo.version = 2;
	mo.mmu = SV_MMU_SHADOW; /* past its end: not read */
	T_OK(sv_mmu_attach(vm, h, &mo));
	ck_assert_int_eq(sv_mmu_options_get(vm)->mmu, SV_MMU_TDP);
	sv_vm_free(vm);
	sv_host_free(h);
}
END_TEST

START_TEST(no_pre_fault)
{
	rig r;

	rig_up(&r, SZ_2M, false, SZ_4K);
	/* KVM_PRE_FAULT_MEMORY maps guest-physical addresses: TDP only */
	ck_assert_int_eq(sv_mmu_pre_fault(r.v, GPA, SZ_4K), SV_ENOTSUP);
	rig_down(&r);
}
END_TEST

/* ---- faults --------------------------------------------------------------- */

START_TEST(guest_fault_injected)
{
	rig r;
	sv_xlate x;

	rig_up(&r, SZ_2M, false, SZ_4K);
	x = t_access(r.v, GPA + SZ_2M, SV_ACCESS_WRITE);
	/* the guest maps nothing there: its own #PF, a supervisor write to a
	 * not-present page (error code W = 2), injected after one exit */
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	ck_assert_uint_eq(x.fault.error_code, SV_PFERR_W);
	ck_assert_uint_eq(x.fault.gva, GPA + SZ_2M);
	ck_assert_uint_eq(T_STAT(r.v, pf_taken), 1);
	ck_assert_uint_eq(T_STAT(r.v, pf_guest), 1);
	ck_assert_uint_eq(T_STAT(r.v, pf_fixed), 0);
	rig_down(&r);
}
END_TEST

START_TEST(guest_4k_pages)
{
	sv_spte_info si;
	uint64_t pte, miss;
	rig r;

	rig_up(&r, SZ_2M, false, SZ_4K);
	write_each(&r, GPA, SZ_2M, SZ_4K);
	/* one fault per page: the guest PTEs were not accessed (no prefetch)
	 * and 4K host pages come one at a time */
	ck_assert_uint_eq(T_STAT(r.v, pf_fixed), 512);
	ck_assert_uint_eq(VMS(r.vm, pages_4k), 512);
	ck_assert_uint_eq(VMS(r.vm, spte_install_4k), 512);
	/* shadow pages: the guest's PML4, the PDPT and PD above GPA, its
	 * page table */
	miss = VMS(r.vm, mmu_cache_miss);
	ck_assert_uint_eq(miss, 4);
	/* the MMU's walk set A and D in the guest's PTE for the write */
	T_OK(sv_pt_get(&pte, r.gpt, GPA, 1));
	ck_assert_uint_eq(pte & (SV_PTE_A | SV_PTE_D), SV_PTE_A | SV_PTE_D);
	/* the SPTE over the gfn maps the host page, writable */
	T_OK(sv_mmu_spte_get(&si, r.vm, GPA));
	ck_assert(si.present && si.writable);
	ck_assert_uint_eq(si.level, 1);
	rig_down(&r);
}
END_TEST

START_TEST(guest_2m_pages_over_thp)
{
	rig r;

	rig_up(&r, 2 * SZ_2M, true, SZ_2M);
	write_each(&r, GPA, 2 * SZ_2M, SZ_4K);
	/* min(guest 2M, host THP) = 2M: one fault per 2M page */
	ck_assert_uint_eq(T_STAT(r.v, pf_fixed), 2);
	ck_assert_uint_eq(VMS(r.vm, pages_2m), 2);
	ck_assert_uint_eq(VMS(r.vm, pages_4k), 0);
	/* PML4, PDPT, PD: no page table below a 2M leaf */
	ck_assert_uint_eq(VMS(r.vm, mmu_cache_miss), 3);
	rig_down(&r);
}
END_TEST

START_TEST(guest_2m_pages_over_4k)
{
	rig r;

	rig_up(&r, 2 * SZ_2M, false, SZ_2M);
	write_each(&r, GPA, 2 * SZ_2M, SZ_4K);
	/* min(guest 2M, host 4K) = 4K, in one direct shadow page per 2M
	 * guest page; anonymous 4K pages: nothing to prefetch */
	ck_assert_uint_eq(T_STAT(r.v, pf_fixed), 1024);
	ck_assert_uint_eq(VMS(r.vm, pages_4k), 1024);
	ck_assert_uint_eq(VMS(r.vm, mmu_cache_miss), 3 + 2);
	rig_down(&r);
}
END_TEST

START_TEST(guest_1g_page_reserved)
{
	sv_vm_options vo = SV_VM_OPTIONS_INIT;
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_xlate x;
	rig r = {0};

	vo.guest_1g = false; /* no PDPE1GB in the guest's CPUID */
	mo.mmu = SV_MMU_SHADOW;
	T_OK(sv_host_new(&r.h, &ho));
	r.vm = t_vm_opts(&vo);
	T_OK(sv_mmu_attach(r.vm, r.h, &mo));
	slot_over_host(&r, 1, GPA, SZ_2M, false, NULL);
	slot_over_host(&r, 2, POOL, SZ_2M, false, NULL);
	r.gpt = t_guest_pt(r.vm, POOL, SZ_2M);
	T_OK(sv_pt_map(r.gpt, GPA, GPA, SZ_2M, SZ_4K, SV_PTE_P | SV_PTE_RW));
	/* the guest writes a 1G leaf where its PDPT points at a directory */
	T_OK(sv_pt_write(r.gpt, GPA, 3, GPA | SV_PTE_P | SV_PTE_RW | SV_PTE_PS));
	r.v = sv_vm_vcpu(r.vm, 0);
	t_paging(r.v, sv_pt_root(r.gpt), 0);
	x = t_access(r.v, GPA, SV_ACCESS_READ);
	/* PS in a PDPTE is reserved without 1G pages: the MMU's walk of the
	 * guest's tables injects #PF with P and RSVD (error code 9) */
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	ck_assert_uint_eq(x.fault.error_code, SV_PFERR_P | SV_PFERR_RSVD);
	ck_assert_uint_eq(T_STAT(r.v, pf_guest), 1);
	ck_assert_uint_eq(VMS(r.vm, pages_1g) + VMS(r.vm, pages_2m), 0);
	rig_down(&r);
}
END_TEST

/* The guest maps MMIO_GVA to a guest-physical page in no memslot. */
#define MMIO_GVA 0xfe000000ULL

static void mmio_twice(bool caching, uint64_t *taken, uint64_t *exits)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_xlate x;
	rig r = {0};
	unsigned i;

	mo.mmu = SV_MMU_SHADOW;
	mo.mmio_caching = caching;
	T_OK(sv_host_new(&r.h, &ho));
	r.vm = t_vm();
	T_OK(sv_mmu_attach(r.vm, r.h, &mo));
	slot_over_host(&r, 2, POOL, SZ_2M, false, NULL);
	r.gpt = t_guest_pt(r.vm, POOL, SZ_2M);
	T_OK(sv_pt_map(r.gpt, MMIO_GVA, MMIO_GVA, SZ_4K, SZ_4K,
		       SV_PTE_P | SV_PTE_RW));
	r.v = sv_vm_vcpu(r.vm, 0);
	t_paging(r.v, sv_pt_root(r.gpt), 0);
	for (i = 0; i < 2; i++) {
		x = t_access(r.v, MMIO_GVA + 8, SV_ACCESS_READ);
		ck_assert_int_eq(x.fault.kind, SV_FAULT_MMIO);
		ck_assert_uint_eq(x.fault.gpa, MMIO_GVA + 8);
	}
	*taken = T_STAT(r.v, pf_taken);
	*exits = T_STAT(r.v, mmio_exits);
	ck_assert_uint_eq(T_STAT(r.v, pf_mmio_spte_created), caching ? 1 : 0);
	rig_down(&r);
}

START_TEST(mmio_sptes)
{
	uint64_t taken, exits;

	/* caching: the first access faults (and makes the MMIO SPTE), the
	 * second exits on its reserved bit straight to emulation */
	mmio_twice(true, &taken, &exits);
	ck_assert_uint_eq(taken, 1);
	ck_assert_uint_eq(exits, 2);
	/* kvm.mmio_caching=N, as on the measured KVM: both take the fault */
	mmio_twice(false, &taken, &exits);
	ck_assert_uint_eq(taken, 2);
	ck_assert_uint_eq(exits, 2);
}
END_TEST

/* ---- the guest's page tables ------------------------------------------------ */

/* The guest-physical address of the table at `level` on gva's path. */
static uint64_t table_gpa(rig *r, uint64_t gva, unsigned level)
{
	uint64_t e;

	T_OK(sv_pt_get(&e, r->gpt, gva, level + 1));
	return e & SV_PTE_ADDR_MASK;
}

START_TEST(page_table_write_unsyncs)
{
	uint64_t pt, flushes;
	sv_xlate x;
	rig r;

	rig_up(&r, SZ_2M, false, SZ_4K);
	write_each(&r, GPA, 8 * SZ_4K, SZ_4K);
	ck_assert_uint_eq(VMS(r.vm, pages_4k), 8);
	pt = table_gpa(&r, GPA, 1);
	/* a write to the page table (its gva is its gpa): it has only a
	 * level-1 shadow page, which goes unsync; the write then completes */
	x = t_access(r.v, pt, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_int_ne(x.source, SV_SRC_EMULATED);
	ck_assert_uint_eq(VMS(r.vm, sp_unsynced), 1);
	ck_assert_uint_eq(VMS(r.vm, mmu_unsync), 1);
	ck_assert_uint_eq(VMS(r.vm, mmu_pte_write), 0);
	/* the 8 data pages and the page table's own page */
	ck_assert_uint_eq(VMS(r.vm, pages_4k), 8 + 1);
	/* INVLPG of a page the unsync table maps drops its SPTE, with a
	 * flush */
	flushes = VMS(r.vm, remote_tlb_flush_requests);
	T_OK(sv_vcpu_invlpg(r.v, GPA));
	ck_assert_uint_eq(VMS(r.vm, pages_4k), 7 + 1);
	ck_assert_uint_eq(VMS(r.vm, remote_tlb_flush_requests), flushes + 1);
	/* MOV to CR3 syncs it: the guest's entries did not change, so the
	 * other 7 SPTEs stay; the table is write-protected again */
	T_OK(sv_vcpu_mov_cr3(r.v, sv_pt_root(r.gpt)));
	ck_assert_uint_eq(VMS(r.vm, sp_synced), 1);
	ck_assert_uint_eq(VMS(r.vm, mmu_unsync), 0);
	ck_assert_uint_eq(VMS(r.vm, pages_4k), 7 + 1);
	rig_down(&r);
}
END_TEST

START_TEST(invpcid_syncs)
{
	rig r;

	rig_up(&r, SZ_2M, false, SZ_4K);
	write_each(&r, GPA, 8 * SZ_4K, SZ_4K);
	t_access(r.v, table_gpa(&r, GPA, 1), SV_ACCESS_WRITE);
	ck_assert_uint_eq(VMS(r.vm, mmu_unsync), 1);
	/* INVPCID of one address does what INVLPG does: the unsync leaf
	 * goes (8 data pages and the table's own, less 1) */
	T_OK(sv_vcpu_invpcid(r.v, 0, 0, GPA));
	ck_assert_uint_eq(VMS(r.vm, pages_4k), 8 + 1 - 1);
	ck_assert_uint_eq(VMS(r.vm, mmu_unsync), 1);
	/* a whole context is a sync, as MOV to CR3 */
	T_OK(sv_vcpu_invpcid(r.v, 1, 0, 0));
	ck_assert_uint_eq(VMS(r.vm, sp_synced), 1);
	ck_assert_uint_eq(VMS(r.vm, mmu_unsync), 0);
	rig_down(&r);
}
END_TEST

START_TEST(upper_table_write_emulated)
{
	uint64_t pd, pte_writes;
	sv_xlate x;
	rig r;

	rig_up(&r, SZ_2M, false, SZ_4K);
	write_each(&r, GPA, SZ_4K, SZ_4K);
	pd = table_gpa(&r, GPA, 2);
	/* the page directory has a level-2 shadow page: it stays
	 * write-protected and the write to its entry for GPA is emulated,
	 * zapping that entry's link to the page table's shadow page */
	pte_writes = VMS(r.vm, mmu_pte_write);
	x = t_access(r.v, pd + 8 * ((GPA >> 21) & 511), SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_int_eq(x.source, SV_SRC_EMULATED);
	ck_assert_uint_eq(x.gpa, pd + 8 * ((GPA >> 21) & 511));
	ck_assert_uint_eq(VMS(r.vm, mmu_pte_write), pte_writes + 1);
	ck_assert_uint_eq(VMS(r.vm, mmu_pde_zapped), 1);
	ck_assert_uint_eq(T_STAT(r.v, pf_emulate), 1);
	ck_assert_uint_eq(VMS(r.vm, sp_unsynced), 0);
	/* GPA refaults through a new link: one more fault */
	x = t_access(r.v, GPA, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	rig_down(&r);
}
END_TEST

START_TEST(table_write_flooding)
{
	uint64_t pd, e, zapped, misses;
	sv_xlate x;
	unsigned i;
	rig r;

	rig_up(&r, SZ_2M, false, SZ_4K);
	write_each(&r, GPA, SZ_4K, SZ_4K);
	pd = table_gpa(&r, GPA, 2);
	e = pd + 8 * ((GPA >> 21) & 511);
	zapped = VMS(r.vm, mmu_shadow_zapped);
	/* three emulated writes to the directory with no fault walking it in
	 * between: the third finds it flooded and zaps its shadow page */
	for (i = 0; i < 3; i++) {
		x = t_access(r.v, e, SV_ACCESS_WRITE);
		ck_assert_int_eq(x.source, SV_SRC_EMULATED);
	}
	ck_assert_uint_eq(VMS(r.vm, mmu_pte_write), 3);
	ck_assert_uint_eq(VMS(r.vm, mmu_flooded), 1);
	ck_assert_uint_eq(VMS(r.vm, mmu_shadow_zapped), zapped + 1);
	/* no longer shadowed: the fourth write is a plain one */
	x = t_access(r.v, e, SV_ACCESS_WRITE);
	ck_assert_int_ne(x.source, SV_SRC_EMULATED);
	ck_assert_uint_eq(VMS(r.vm, mmu_pte_write), 3);
	/* GPA maps again through a new shadow page of the directory (its
	 * page table's is still cached) */
	misses = VMS(r.vm, mmu_cache_miss);
	x = t_access(r.v, GPA, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(VMS(r.vm, mmu_cache_miss), misses + 1);
	rig_down(&r);
}
END_TEST

START_TEST(shadow_pages_recycled)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	uint64_t size = 160ULL << 20;
	rig r = {0};

	mo.mmu = SV_MMU_SHADOW;
	mo.shadow_pages = 64;
	T_OK(sv_host_new(&r.h, &ho));
	r.vm = t_vm();
	T_OK(sv_mmu_attach(r.vm, r.h, &mo));
	slot_over_host(&r, 1, GPA, size, false, NULL);
	slot_over_host(&r, 2, POOL, SZ_2M, false, NULL);
	r.gpt = t_guest_pt(r.vm, POOL, SZ_2M);
	T_OK(sv_pt_map(r.gpt, GPA, GPA, size, SZ_4K, SV_PTE_P | SV_PTE_RW));
	r.v = sv_vm_vcpu(r.vm, 0);
	t_paging(r.v, sv_pt_root(r.gpt), 0);
	write_each(&r, GPA, size, SZ_4K);
	/* 160M / 2M = 80 page tables and 3 tables above them need 83
	 * shadow pages: past 64 the oldest go; before each fault there is
	 * room for one per level (4), so the MMU never holds more than 64
	 * (its table pages: those and the VM's unused EPT root) */
	ck_assert_uint_gt(VMS(r.vm, mmu_recycled), 0);
	ck_assert_uint_le(VMS(r.vm, tdp_table_pages), 64 + 1);
	ck_assert_uint_eq(VMS(r.vm, mmu_shadow_zapped), VMS(r.vm, mmu_recycled));
	/* every page is still reachable: a second pass completes */
	write_each(&r, GPA, size, SZ_2M);
	rig_down(&r);
}
END_TEST

/* ---- the remap workload on Unicorn ------------------------------------------------ */

typedef struct remap_fix {
	sv_vm *vm;
	uint64_t at[8][5]; /* at sync n: invlpg, tlb_flush, pf_fixed,
			      sp_unsynced, sp_synced */
} remap_fix;

static int remap_sync(sv_exec *ex, uint32_t n, void *payload)
{
	remap_fix *f = payload;

	(void)ex;
	ck_assert_uint_lt(n, 8);
	f->at[n][0] = CPUS(f->vm, invlpg);
	f->at[n][1] = CPUS(f->vm, tlb_flush);
	f->at[n][2] = CPUS(f->vm, pf_fixed);
	f->at[n][3] = VMS(f->vm, sp_unsynced);
	f->at[n][4] = VMS(f->vm, sp_synced);
	return 0;
}

#define STEP(f, n, k) ((f).at[(n) + 1][k] - (f).at[n][k])

START_TEST(remap_stale_until_invalidated)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_workload w = SV_WORKLOAD_INIT;
	sv_exec_result res;
	uint64_t seen[7];
	remap_fix f = {0};
	sv_exec *ex;
	sv_host *h;
	rig r = {0};
	unsigned i;

	mo.mmu = SV_MMU_SHADOW;
	T_OK(sv_host_new(&h, &ho));
	r.h = h;
	r.vm = f.vm = t_vm();
	T_OK(sv_mmu_attach(r.vm, h, &mo));
	slot_over_host(&r, 1, GPA, 4ULL << 20, false, NULL);
	T_OK(sv_exec_new(&ex, r.vm, NULL));
	T_OK(sv_exec_map(ex, GPA, GPA, 4ULL << 20, SZ_4K, SV_EXEC_MAP_WRITE));
	sv_exec_set_sync(ex, remap_sync, &f);
	w.name = "remap";
	w.gva = GPA;
	w.size = 4ULL << 20;
	w.count = 512;
	T_OK(sv_exec_load_workload(ex, &w));
	T_OK(sv_exec_run_until(&res, ex, 0));
	ck_assert_int_eq(res.stop, SV_EXEC_HALTED);
	for (i = 1; i <= 6; i++)
		T_OK(sv_exec_guest_result(&seen[i], ex, i));
	/* 1: before any rewrite no read sees a B page */
	ck_assert_uint_eq(seen[1], 0);
	/* 2: the first write to the page table made its shadow page unsync;
	 * the others did not trap, and no SPTE changed: all 512 reads see the
	 * old pages */
	ck_assert_uint_eq(STEP(f, 2, 3), 1);
	ck_assert_uint_eq(STEP(f, 2, 2), 1);
	ck_assert_uint_eq(seen[2], 0);
	/* 3: and still on a second read */
	ck_assert_uint_eq(seen[3], 0);
	/* 4: each INVLPG drops its page's SPTE with a flush (one per page,
	 * done at the next entry); each read faults B in (fresh guest PTEs,
	 * A clear: nothing prefetched) */
	ck_assert_uint_eq(STEP(f, 4, 0), 512);
	ck_assert_uint_eq(STEP(f, 4, 1), 512);
	ck_assert_uint_eq(STEP(f, 4, 2), 512);
	ck_assert_uint_eq(seen[4], 512);
	/* 5: back to A, each write followed by its INVLPG: no read sees B */
	ck_assert_uint_eq(STEP(f, 5, 2), 512);
	ck_assert_uint_eq(seen[5], 0);
	/* 6: to B without INVLPG, then MOV to CR3: the sync drops the 512
	 * changed SPTEs, which fault back as B */
	ck_assert_uint_eq(STEP(f, 6, 4), 1);
	ck_assert_uint_eq(STEP(f, 6, 2), 512);
	ck_assert_uint_eq(seen[6], 512);
	sv_exec_free(ex);
	sv_vm_free(r.vm);
	sv_host_free(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shadow");
	TCase *tc = tcase_create("shadow");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, options_checked);
	tcase_add_test(tc, no_pre_fault);
	tcase_add_test(tc, guest_fault_injected);
	tcase_add_test(tc, guest_4k_pages);
	tcase_add_test(tc, guest_2m_pages_over_thp);
	tcase_add_test(tc, guest_2m_pages_over_4k);
	tcase_add_test(tc, guest_1g_page_reserved);
	tcase_add_test(tc, mmio_sptes);
	tcase_add_test(tc, page_table_write_unsyncs);
	tcase_add_test(tc, invpcid_syncs);
	tcase_add_test(tc, upper_table_write_emulated);
	tcase_add_test(tc, table_write_flooding);
	tcase_add_test(tc, shadow_pages_recycled);
	tcase_add_test(tc, remap_stale_until_invalidated);
	suite_add_tcase(s, tc);
	return t_run(s);
}
