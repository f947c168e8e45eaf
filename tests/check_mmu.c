/*
 * tests/check_mmu.c - the hypervisor MMU against the scenarios of section
 * (g) of docs/kvm-reference.md that need no guest instructions,
 * driven through the trace-driven API (a vCPU with paging off, so a
 * linear address is the GPA).  Defaults as the reference: a 1 GiB slot at
 * GPA 0x40000000, the hva aligned to the backing, EPT with 1G pages and
 * A/D, no PML, eager split on, one vCPU.  Each expected count is derived
 * next to its assertion.
 */
#include <string.h>

#include <glib.h>

#include "helpers.h"

#define SZ_4K 0x1000ULL
#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)
#define GPA 0x40000000ULL
#define PAGES_1G (SZ_1G / SZ_4K) /* 262,144 */
#define VS(f, name) sv_vm_stat_get((f)->vm, SV_VM_STAT_##name)
#define CS(f, name) sv_vcpu_stat_get((f)->v, SV_VCPU_STAT_##name)

/* What a scenario sets up. */
typedef struct scen {
	sv_host_backing backing;
	bool nohuge;          /* MADV_NOHUGEPAGE instead of MADV_HUGEPAGE */
	uint64_t gpa, size, hva_off;
	uint32_t flags;       /* SV_MEMSLOT_* */
	uint64_t dax_align;
	sv_vm_options vo;
	sv_mmu_options mo;
} scen;

typedef struct fix {
	sv_host *h;
	sv_vm *vm;
	sv_vcpu *v;
	uint64_t hva;         /* the slot's hva */
	uint64_t gpa, size;
} fix;

static scen scen_default(void)
{
	scen s;
	sv_vm_options vo = SV_VM_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;

	memset(&s, 0, sizeof(s));
	s.backing = SV_BACKING_ANON;
	s.gpa = GPA;
	s.size = SZ_1G;
	s.dax_align = SZ_2M;
	s.vo = vo;
	s.mo = mo;
	return s;
}

static void fix_up(fix *f, const scen *s)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 0, 0,
			       SV_PROT_READ | SV_PROT_WRITE, 0, s->backing, 0};
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, 1, s->flags, s->gpa,
			       s->size, 0};
	uint64_t base;

	memset(f, 0, sizeof(*f));
	ho.hugetlb_1g_pages = 2;
	ho.hugetlb_2m_pages = 1024;
	T_OK(sv_host_new(&f->h, &ho));
	T_OK(sv_vm_new(&f->vm, &s->vo));
	T_OK(sv_mmu_attach(f->vm, f->h, &s->mo));
	a.size = (s->size + s->hva_off + SZ_2M - 1) & ~(SZ_2M - 1);
	if (s->backing == SV_BACKING_HUGETLB_1G)
		a.size = (a.size + SZ_1G - 1) & ~(SZ_1G - 1);
	a.align = s->dax_align;
	T_OK(sv_host_mmap(&base, f->h, &a));
	if (s->backing == SV_BACKING_ANON)
		T_OK(sv_host_madvise(f->h, base, a.size,
				     s->nohuge ? SV_MADV_NOHUGEPAGE
					       : SV_MADV_HUGEPAGE));
	f->hva = r.hva = base + s->hva_off;
	T_OK(sv_memslot_set(f->vm, &r));
	f->v = sv_vm_vcpu(f->vm, 0);
	f->gpa = s->gpa;
	f->size = s->size;
}

static void fix_down(fix *f)
{
	sv_vm_free(f->vm);
	sv_host_free(f->h);
}

/* Accesses every `stride` bytes of [gpa, gpa + size); each must complete
 * (fault kind none) unless `want` says which fault it must end in. */
static void touch_expect(fix *f, uint64_t gpa, uint64_t size, uint64_t stride,
			 sv_access acc, sv_fault_kind want)
{
	uint64_t a;

	/* Check records every passing assertion (a write per check): the
	 * loop only calls it on a failure. */
	for (a = gpa; a < gpa + size; a += stride) {
		sv_xlate x;
		int rc = sv_vcpu_translate(&x, f->v, a, 1, acc);

		if (rc != SV_OK || x.fault.kind != want)
			ck_abort_msg("gpa 0x%llx: rc %d, fault %d, expected %d",
				     (unsigned long long)a, rc,
				     (int)x.fault.kind, (int)want);
	}
}

static void touch(fix *f, uint64_t gpa, uint64_t size, uint64_t stride,
		  sv_access acc)
{
	touch_expect(f, gpa, size, stride, acc, SV_FAULT_NONE);
}

static uint64_t bitmap_popcount(fix *f)
{
	uint64_t words = (f->size / SZ_4K + 63) / 64, i, n = 0;
	uint64_t *bm = g_new0(uint64_t, words);

	T_OK(sv_mmu_get_dirty_log(f->vm, 1, bm));
	for (i = 0; i < words; i++)
		n += (uint64_t)__builtin_popcountll(bm[i]);
	g_free(bm);
	return n;
}

/* fix_up, then one write per 2M of the 1 GiB slot: the populate most
 * scenarios start from (scenario 1: 512 faults). */
static void fix_up_populated(fix *f, const scen *s)
{
	fix_up(f, s);
	touch(f, GPA, SZ_1G, SZ_2M, SV_ACCESS_WRITE);
}

static void set_flags(fix *f, uint32_t flags)
{
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, 1, flags, f->gpa,
			       f->size, f->hva};

	T_OK(sv_memslot_set(f->vm, &r));
}

/* ---- (g) 1-11: sizing ---------------------------------------------------- */

START_TEST(thp_one_touch_per_2m)
{
	scen s = scen_default();
	fix f;

	fix_up_populated(&f, &s);
	/* 1 GiB / 2M = 512 host THPs, each mapped by one 2M SPTE at its
	 * first fault (the host PMD leaf caps the level at 2M). */
	ck_assert_uint_eq(CS(&f, pf_taken), 512);
	ck_assert_uint_eq(CS(&f, pf_fixed), 512);
	ck_assert_uint_eq(VS(&f, pages_2m), 512);
	ck_assert_uint_eq(VS(&f, pages_4k), 0);
	ck_assert_uint_eq(VS(&f, pages_1g), 0);
	/* scenario 2: the other 4K pages hit the 2M SPTEs: no new fault */
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(CS(&f, pf_taken), 512);
	fix_down(&f);
}
END_TEST

START_TEST(anon_4k_touch_all)
{
	scen s = scen_default();
	fix f;

	s.nohuge = true;
	fix_up(&f, &s);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	/* every 4K page is its own host PTE: one fault and one SPTE each */
	ck_assert_uint_eq(CS(&f, pf_taken), PAGES_1G);
	ck_assert_uint_eq(CS(&f, pf_fixed), PAGES_1G);
	ck_assert_uint_eq(VS(&f, pages_4k), PAGES_1G);
	/* tables: root + 1 PDPT + 1 PD + 512 PTs (1 GiB / 2M) */
	ck_assert_uint_eq(VS(&f, tdp_table_pages), 1 + 1 + 1 + 512);
	fix_down(&f);
}
END_TEST

/* Scenario 3, the legacy MMU (tdp_mmu off) with the host pages populated
 * first (the host process wrote them): each fault prefetches its group. */
START_TEST(legacy_mmu_prefetch)
{
	scen s = scen_default();
	fix f;
	uint64_t a;

	s.nohuge = true;
	s.mo.tdp_mmu = false;
	fix_up(&f, &s);
	for (a = 0; a < SZ_1G; a += SZ_4K) {
		sv_host_leaf l;

		if (sv_host_fault(&l, f.h, f.hva + a, true))
			ck_abort_msg("host fault at +0x%llx", (unsigned long long)a);
	}
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	/* the first page of each aligned group of 8 faults and the other 7
	 * are prefetched: 262,144 / 8 = 32,768 faults */
	ck_assert_uint_eq(CS(&f, pf_taken), PAGES_1G / 8);
	ck_assert_uint_eq(VS(&f, spte_prefetch), PAGES_1G / 8 * 7);
	ck_assert_uint_eq(VS(&f, pages_4k), PAGES_1G);
	fix_down(&f);

	/* an empty host: GUP-fast finds no neighbour, nothing prefetched */
	fix_up(&f, &s);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(CS(&f, pf_taken), PAGES_1G);
	ck_assert_uint_eq(VS(&f, spte_prefetch), 0);
	fix_down(&f);
}
END_TEST

START_TEST(hugetlb_1g)
{
	scen s = scen_default();
	fix f;

	s.backing = SV_BACKING_HUGETLB_1G;
	fix_up(&f, &s);
	touch(&f, GPA, SZ_1G, SZ_4K * 4096, SV_ACCESS_WRITE);
	/* gfn and hva 1G-aligned, host PUD leaf: one 1G SPTE, one fault */
	ck_assert_uint_eq(CS(&f, pf_taken), 1);
	ck_assert_uint_eq(VS(&f, pages_1g), 1);
	fix_down(&f);
}
END_TEST

START_TEST(hugetlb_1g_without_1g_ept)
{
	scen s = scen_default();
	fix f;

	s.backing = SV_BACKING_HUGETLB_1G;
	s.vo.tdp_1g = false;
	fix_up_populated(&f, &s);
	/* max_huge_page_level = 2M clamps the 1G host leaf: 512 x 2M */
	ck_assert_uint_eq(CS(&f, pf_taken), 512);
	ck_assert_uint_eq(VS(&f, pages_2m), 512);
	ck_assert_uint_eq(VS(&f, pages_1g), 0);
	fix_down(&f);
}
END_TEST

START_TEST(bug_b1_illegal_1g)
{
	scen s = scen_default();
	fix f;
	sv_xlate x;

	s.backing = SV_BACKING_HUGETLB_1G;
	s.vo.tdp_1g = false;
	s.mo.bugs = SV_BUG_B1_NO_MAX_LEVEL_CLAMP;
	s.mo.audit = true;
	fix_up(&f, &s);
	x = t_access(f.v, GPA, SV_ACCESS_WRITE);
	/* B1: the 1G host level is not clamped, a 1G SPTE is built, and
	 * the CPU, which has no 1G EPT pages, finds PS reserved there */
	ck_assert_uint_eq(VS(&f, pages_1g), 1);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_EPT_MISCONFIG);
	ck_assert_uint_eq(sv_audit_count(f.vm, SV_AUDIT_illegal_spte), 1);
	fix_down(&f);
}
END_TEST

START_TEST(hugetlb_1g_gpa_2m_congruent)
{
	scen s = scen_default();
	fix f;

	s.backing = SV_BACKING_HUGETLB_1G;
	s.gpa = 0x40200000;
	fix_up(&f, &s);
	touch(&f, s.gpa, SZ_1G, SZ_2M, SV_ACCESS_WRITE);
	/* gfn ^ hva differs in bit 21 of the 1G offset: every 1G page is
	 * disallowed, 2M ones are congruent: 512 x 2M */
	ck_assert_uint_eq(VS(&f, pages_2m), 512);
	ck_assert_uint_eq(VS(&f, pages_1g), 0);
	fix_down(&f);
}
END_TEST

START_TEST(thp_gpa_not_2m_congruent)
{
	scen s = scen_default();
	fix f;

	s.gpa = 0x40001000;
	fix_up(&f, &s);
	touch(&f, s.gpa, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	/* incongruent at 2M: every large page disallowed, all 4K */
	ck_assert_uint_eq(VS(&f, pages_4k), PAGES_1G);
	ck_assert_uint_eq(VS(&f, pages_2m), 0);
	fix_down(&f);
}
END_TEST

START_TEST(slot_one_page_short)
{
	scen s = scen_default();
	fix f;

	s.size = SZ_1G - SZ_4K;
	fix_up(&f, &s);
	touch(&f, GPA, s.size, SZ_4K, SV_ACCESS_WRITE);
	/* the last 2M page is cut by the slot's unaligned end: 511 x 2M,
	 * then the 511 pages of the last 2M one by one */
	ck_assert_uint_eq(VS(&f, pages_2m), 511);
	ck_assert_uint_eq(VS(&f, pages_4k), 511);
	ck_assert_uint_eq(CS(&f, pf_taken), 511 + 511);
	fix_down(&f);
}
END_TEST

static void readonly_hugetlb(const char *policy, unsigned bugs,
			     uint64_t want_2m, uint64_t want_4k)
{
	scen s = scen_default();
	fix f;
	sv_spte_info si;
	sv_xlate x;

	s.backing = SV_BACKING_HUGETLB_2M;
	s.flags = SV_MEMSLOT_READONLY;
	s.mo.policy = policy;
	s.mo.bugs = bugs;
	fix_up(&f, &s);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_READ);
	ck_assert_uint_eq(VS(&f, pages_2m), want_2m);
	ck_assert_uint_eq(VS(&f, pages_4k), want_4k);
	/* a write to a read-only slot: emulation, KVM_EXIT_MMIO */
	x = t_access(f.v, GPA + 0x5000, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_MMIO);
	ck_assert_uint_eq(CS(&f, pf_emulate), 1);
	T_OK(sv_mmu_spte_get(&si, f.vm, GPA + 0x5000));
	/* the SPTE keeps (host-writable, MMU-writable, W) = 000 */
	ck_assert(!si.host_writable && !si.mmu_writable && !si.writable);
	fix_down(&f);
}

START_TEST(readonly_slot_hugetlb)
{
	/* 1 GiB of hugetlbfs 2M pages, read: 512 x 2M today */
	readonly_hugetlb("kvm", 0, 512, 0);
	/* the legacy lookup after the B4 fix sees the VMA: 512 x 2M */
	readonly_hugetlb("kvm-legacy", 0, 512, 0);
	/* B4: the size lookup fails on a read-only slot: 262,144 x 4K */
	readonly_hugetlb("kvm-legacy", SV_BUG_B4_READONLY_4K, 0, PAGES_1G);
}
END_TEST

static void driver_pages(const char *policy, unsigned bugs, uint64_t want_2m,
			 uint64_t want_audit)
{
	scen s = scen_default();
	fix f;

	s.backing = SV_BACKING_DRIVER;
	s.size = 4 * SZ_2M;
	s.mo.policy = policy;
	s.mo.bugs = bugs;
	s.mo.audit = true;
	fix_up(&f, &s);
	touch(&f, GPA, s.size, SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(VS(&f, pages_2m), want_2m);
	ck_assert_uint_eq(sv_audit_count(f.vm, SV_AUDIT_huge_not_contiguous),
			  want_audit);
	fix_down(&f);
}

START_TEST(bug_b2_driver_compound)
{
	/* driver memory: 2M compound pages mapped by 4K host PTEs */
	driver_pages("kvm", 0, 0, 0);        /* host PTE leaf: 4K */
	driver_pages("kvm-legacy", 0, 0, 0); /* not a THP: 4K */
	/* B2: any compound page passes: each 2M chunk's first touch makes
	 * a 2M SPTE over PTE-mapped memory (4 chunks), each flagged */
	driver_pages("kvm-legacy", SV_BUG_B2_ANY_COMPOUND, 4, 4);
}
END_TEST

/* Maps 2M of host memory of `backing` (anonymous: 4K pages only) as
 * memslot `slot` at gpa; returns its hva. */
static uint64_t extra_slot(fix *f, uint32_t slot, uint64_t gpa,
			   sv_host_backing backing)
{
	sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 0, SZ_2M,
			       SV_PROT_READ | SV_PROT_WRITE, 0, backing, SZ_2M};
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, slot, 0, gpa, SZ_2M, 0};

	T_OK(sv_host_mmap(&r.hva, f->h, &a));
	if (backing == SV_BACKING_ANON)
		T_OK(sv_host_madvise(f->h, r.hva, SZ_2M, SV_MADV_NOHUGEPAGE));
	T_OK(sv_memslot_set(f->vm, &r));
	return r.hva;
}

#define SMM_SLOT(id) ((1u << 16) | (id))
#define SMRAM_ALONE 0x10000000ULL /* no address-space-0 slot here */

/* Address space 0: the default 1 GiB hugetlbfs-2M slot.  Address space
 * 1: SMRAM over its first 2M on 4K anonymous pages, and 2M of hugetlbfs
 * at SMRAM_ALONE, where address space 0 has nothing.  vCPU 0 in SMM
 * writes both 2M ranges page by page. */
static void smm_sizing(unsigned bugs, uint64_t want_faults, uint64_t want_2m,
		       uint64_t want_flagged)
{
	scen s = scen_default();
	sv_xlate smm, normal;
	sv_memslot_region alone = {SV_MEMSLOT_REGION_VERSION, SMM_SLOT(2),
				   SV_MEMSLOT_LOG_DIRTY, SMRAM_ALONE, SZ_2M, 0};
	uint64_t bm[SZ_2M / SZ_4K / 64];
	fix f;

	s.backing = SV_BACKING_HUGETLB_2M;
	s.mo.policy = "kvm-legacy";
	s.mo.bugs = bugs;
	s.mo.audit = true;
	fix_up(&f, &s);
	extra_slot(&f, SMM_SLOT(1), GPA, SV_BACKING_ANON);
	alone.hva = extra_slot(&f, SMM_SLOT(2), SMRAM_ALONE,
			       SV_BACKING_HUGETLB_2M);
	T_OK(sv_vcpu_set_smm(f.v, true));
	touch(&f, GPA, SZ_2M, SZ_4K, SV_ACCESS_WRITE);
	touch(&f, SMRAM_ALONE, SZ_2M, SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(CS(&f, pf_taken), want_faults);
	ck_assert_uint_eq(VS(&f, pages_2m), want_2m);
	ck_assert_uint_eq(sv_audit_count(f.vm, SV_AUDIT_huge_not_contiguous),
			  want_flagged);
	smm = t_access(f.v, GPA, SV_ACCESS_READ);
	/* out of SMM the same gpa is the hugetlbfs page, through the other
	 * root: one more fault, one more 2M SPTE */
	T_OK(sv_vcpu_set_smm(f.v, false));
	normal = t_access(f.v, GPA, SV_ACCESS_READ);
	ck_assert_uint_ne(smm.hpa, normal.hpa);
	ck_assert_uint_eq(CS(&f, pf_taken), want_faults + 1);
	ck_assert_uint_eq(VS(&f, pages_2m), want_2m + 1);
	/* logging on the SMM slot splits what address space 1 maps there:
	 * one 2M SPTE when fixed, none with B3 (it was mapped 4K) */
	T_OK(sv_memslot_set(f.vm, &alone));
	ck_assert_uint_eq(VS(&f, split_2m), bugs ? 0 : 1);
	T_OK(sv_mmu_get_dirty_log(f.vm, SMM_SLOT(2), bm));
	fix_down(&f);
}

START_TEST(bug_b3_smm_address_space)
{
	/* fixed: SMRAM's 4K pages give 512 x 4K (512 faults); the hugetlbfs
	 * range alone in address space 1 gives 1 x 2M (1 fault) */
	smm_sizing(0, 512 + 1, 1, 0);
	/* B3: the size comes from address space 0: SMRAM's first fault sees
	 * the hugetlbfs VMA there and maps 2M over 4K pages (1 fault,
	 * flagged); SMRAM_ALONE has no slot in address space 0, so the
	 * lookup fails and it is mapped 4K (512 faults) */
	smm_sizing(SV_BUG_B3_SMM_AS0, 1 + 512, 1, 1);
}
END_TEST

static void dax_pmd(const char *policy, unsigned bugs, uint64_t want_2m,
		    uint64_t want_4k)
{
	scen s = scen_default();
	fix f;

	s.backing = SV_BACKING_DAX;
	s.mo.policy = policy;
	s.mo.bugs = bugs;
	fix_up(&f, &s);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(VS(&f, pages_2m), want_2m);
	ck_assert_uint_eq(VS(&f, pages_4k), want_4k);
	fix_down(&f);
}

START_TEST(dax_pmd_mapped)
{
	dax_pmd("kvm", 0, 512, 0);                     /* PMD leaves: 2M */
	dax_pmd("kvm", SV_BUG_B6_DAX_4K, 0, PAGES_1G); /* B6: 4K */
	dax_pmd("kvm-legacy", 0, 0, PAGES_1G);         /* pre-series: 4K */
}
END_TEST

/* ---- (g) 12-19: dirty logging ------------------------------------------------ */

START_TEST(dirty_log_eager_split)
{
	scen s = scen_default();
	fix f;
	uint64_t taken;

	fix_up_populated(&f, &s);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	/* eager split: 512 x 2M -> 262,144 x 4K, one flush, no fault */
	ck_assert_uint_eq(VS(&f, pages_2m), 0);
	ck_assert_uint_eq(VS(&f, pages_4k), PAGES_1G);
	ck_assert_uint_eq(VS(&f, split_2m), 512);
	ck_assert_uint_eq(VS(&f, remote_tlb_flush_requests), 1);
	/* the vCPU ran, so it was in guest mode and was kicked */
	ck_assert_uint_eq(VS(&f, remote_tlb_flush), 1);
	taken = CS(&f, pf_taken);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	/* every 4K SPTE is write-protected but MMU-writable: one fast
	 * fault each */
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, PAGES_1G);
	ck_assert_uint_eq(CS(&f, pf_fast), PAGES_1G);
	/* the enable's flush request is serviced once, at the next entry */
	ck_assert_uint_eq(CS(&f, tlb_flush), 1);
	ck_assert_uint_eq(bitmap_popcount(&f), PAGES_1G);
	/* table pages: root + PDPT + PD + 512 PTs from the split */
	ck_assert_uint_eq(VS(&f, tdp_table_pages), 1 + 1 + 1 + 512);
	fix_down(&f);
}
END_TEST

START_TEST(dirty_log_pml)
{
	scen s = scen_default();
	fix f;
	uint64_t taken;

	s.mo.pml = true;
	fix_up_populated(&f, &s);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	taken = CS(&f, pf_taken);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	/* D was cleared, W kept: no EPT violation, one PML entry per page */
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, 0);
	ck_assert_uint_eq(CS(&f, pml_entries), PAGES_1G);
	/* SDM: the log-full exit comes when a write finds the index out of
	 * range, i.e. before entries 513, 1025, ...: (262,144 - 1) / 512 =
	 * 511 exits; the last 512 entries wait in the log for the GET */
	ck_assert_uint_eq(CS(&f, pml_full_exits), 511);
	ck_assert_uint_eq(bitmap_popcount(&f), PAGES_1G);
	fix_down(&f);
}
END_TEST

static void no_eager(unsigned kernel, uint64_t want_fast, uint64_t want_flushes)
{
	scen s = scen_default();
	fix f;
	uint64_t taken, flushes;

	s.mo.eager_page_split = false;
	s.mo.kernel_version = kernel;
	fix_up_populated(&f, &s);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	/* no split: the 512 2M SPTEs lose W */
	ck_assert_uint_eq(VS(&f, wrprot), 512);
	ck_assert_uint_eq(VS(&f, pages_2m), 512);
	taken = CS(&f, pf_taken);
	flushes = VS(&f, remote_tlb_flush_requests);
	if (kernel >= SV_KERNEL(6, 2)) {
		/* reads go through the read-only 2M SPTEs */
		touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_READ);
		ck_assert_uint_eq(CS(&f, pf_taken) - taken, 0);
	}
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	/* every page faults once; 6.2+: the first write per 2M is slow and
	 * splits, its 511 siblings are write-protected 4K children: fast */
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, PAGES_1G);
	ck_assert_uint_eq(CS(&f, pf_fast), want_fast);
	ck_assert_uint_eq(VS(&f, pages_4k), PAGES_1G);
	ck_assert_uint_eq(VS(&f, remote_tlb_flush_requests) - flushes,
			  want_flushes);
	fix_down(&f);
}

START_TEST(dirty_log_no_eager_split)
{
	/* 6.12: 512 slow (split) + 261,632 fast, no flush (a split needs
	 * none: both translations agree) */
	no_eager(SV_KERNEL(6, 12), PAGES_1G - 512, 0);
	/* 6.1: the first write zaps each 2M SPTE (512 flushes); the rest
	 * find nothing mapped: 262,144 slow faults */
	no_eager(SV_KERNEL(6, 1), 0, 512);
}
END_TEST

START_TEST(dirty_log_one_write)
{
	scen s = scen_default();
	fix f;

	s.mo.eager_page_split = false;
	fix_up_populated(&f, &s);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	t_access(f.v, GPA + 0x123000, SV_ACCESS_WRITE);
	/* one 2M SPTE split into 512 4K ones; one page dirty */
	ck_assert_uint_eq(VS(&f, pages_2m), 511);
	ck_assert_uint_eq(VS(&f, pages_4k), 512);
	ck_assert_uint_eq(bitmap_popcount(&f), 1);
	fix_down(&f);
}
END_TEST

/* KVM's own writes (kvm_write_guest) mark the pages they touch in the
 * dirty bitmap, with no SPTE involved. */
START_TEST(dirty_log_hypervisor_write)
{
	scen s = scen_default();
	uint8_t bytes[16] = {1};
	fix f;

	fix_up(&f, &s);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	/* 16 bytes across the boundary of pages 1 and 2 of the slot: two
	 * pages dirty, and no fault was taken */
	T_OK(sv_gpa_write(f.vm, GPA + 2 * SZ_4K - 8, bytes, sizeof(bytes)));
	ck_assert_uint_eq(CS(&f, pf_taken), 0);
	ck_assert_uint_eq(bitmap_popcount(&f), 2);
	/* a read marks nothing (the bitmap was harvested above) */
	T_OK(sv_gpa_read(f.vm, GPA, bytes, 1));
	ck_assert_uint_eq(bitmap_popcount(&f), 0);
	fix_down(&f);
}
END_TEST

/* ---- the hypervisor's own accesses: kvm_vcpu_map, gfn-to-pfn caches ---- */

START_TEST(kvm_map_paths)
{
	scen s = scen_default();
	sv_kvm_mapping map;
	uint64_t cycles;
	fix f;

	/* THP memory: a page with a struct page, the kmap path */
	s.size = 8 * SZ_2M;
	fix_up(&f, &s);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	cycles = CS(&f, cycles);
	T_OK(sv_kvm_map(&map, f.v, GPA + 0x1234));
	ck_assert_uint_eq(map.gpa, GPA + 0x1000);
	ck_assert_uint_eq(map.hva, f.hva + 0x1000);
	ck_assert(map.struct_page);
	ck_assert_uint_eq(CS(&f, cycles) - cycles, sv_vm_options_get(f.vm)->costs.kvm_map);
	/* unmapped dirty: one page in the log (mark_page_dirty) */
	T_OK(sv_kvm_unmap(f.v, &map, true));
	ck_assert_uint_eq(bitmap_popcount(&f), 1);
	ck_assert_uint_eq(VS(&f, kvm_maps), 1);
	ck_assert_uint_eq(VS(&f, kvm_unmaps), 1);
	/* nothing behind the slot: EFAULT */
	ck_assert_int_eq(sv_kvm_map(&map, f.v, GPA + s.size), SV_EFAULT);
	fix_down(&f);

	/* PFNMAP device memory: no struct page, the memremap path */
	s = scen_default();
	s.backing = SV_BACKING_PFNMAP;
	s.size = SZ_2M;
	fix_up(&f, &s);
	cycles = CS(&f, cycles);
	T_OK(sv_kvm_map(&map, f.v, GPA));
	ck_assert(!map.struct_page);
	ck_assert_uint_eq(CS(&f, cycles) - cycles, sv_vm_options_get(f.vm)->costs.kvm_memremap);
	fix_down(&f);
}
END_TEST

START_TEST(pfncache_invalidate_refresh)
{
	scen s = scen_default();
	sv_pfncache *c = NULL;
	uint64_t v = 42;
	fix f;

	s.size = 8 * SZ_2M;
	fix_up(&f, &s);
	/* a steal-time-like record of 64 bytes in the slot's third page */
	T_OK(sv_pfncache_new(&c, f.vm, GPA + 2 * SZ_4K, 64));
	ck_assert(!sv_pfncache_valid(c));
	/* first use maps it: one refresh, one map */
	T_OK(sv_pfncache_write(c, f.v, 0, &v, sizeof(v)));
	ck_assert(sv_pfncache_valid(c));
	T_OK(sv_pfncache_write(c, f.v, 8, &v, sizeof(v)));
	ck_assert_uint_eq(VS(&f, pfncache_refreshes), 1);
	ck_assert_uint_eq(VS(&f, kvm_maps), 1);
	/* the host migrates a 2M range that does not hold it: still valid */
	T_OK(sv_host_migrate(f.h, f.hva + 4 * SZ_2M, SZ_2M));
	ck_assert(sv_pfncache_valid(c));
	ck_assert_uint_eq(VS(&f, pfncache_invalidations), 0);
	/* ... and the range that holds it: the notifier drops it (one
	 * invalidation, one unmap), the next write maps it again */
	T_OK(sv_host_migrate(f.h, f.hva, SZ_2M));
	ck_assert(!sv_pfncache_valid(c));
	ck_assert_uint_eq(VS(&f, pfncache_invalidations), 1);
	ck_assert_uint_eq(VS(&f, kvm_unmaps), 1);
	T_OK(sv_pfncache_write(c, f.v, 0, &v, sizeof(v)));
	ck_assert_uint_eq(VS(&f, pfncache_refreshes), 2);
	ck_assert_uint_eq(VS(&f, kvm_maps), 2);
	/* a memslot change drops it too (KVM compares the generation) */
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	ck_assert(!sv_pfncache_valid(c));
	T_OK(sv_pfncache_write(c, f.v, 0, &v, sizeof(v)));
	ck_assert_uint_eq(VS(&f, pfncache_refreshes), 3);
	ck_assert_uint_eq(VS(&f, kvm_unmaps), 2);
	/* ... and while the slot logs, its writes dirty the page: one */
	ck_assert_uint_eq(bitmap_popcount(&f), 1);
	/* bad use */
	ck_assert_int_eq(sv_pfncache_write(c, f.v, 60, &v, sizeof(v)), SV_EINVAL);
	sv_pfncache_free(c);
	ck_assert_int_eq(sv_pfncache_new(&c, f.vm, GPA + 4090, 8), SV_EINVAL);
	ck_assert_ptr_null(c);
	/* a cache freed after its VM is harmless */
	T_OK(sv_pfncache_new(&c, f.vm, GPA, 8));
	fix_down(&f);
	sv_pfncache_free(c);
}
END_TEST

START_TEST(dirty_log_read_fault_marks_dirty)
{
	scen s = scen_default();
	fix f;
	sv_spte_info si;
	uint8_t byte = 1;

	s.nohuge = true;
	fix_up(&f, &s);
	/* the host process wrote one page itself: writable in the host */
	T_OK(sv_host_write(f.h, f.hva + 0x7000, &byte, 1));
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	t_access(f.v, GPA + 0x7000, SV_ACCESS_READ);
	T_OK(sv_mmu_spte_get(&si, f.vm, GPA + 0x7000));
	/* make_spte: a read fault of a writable host page installs a
	 * writable SPTE and marks the gfn dirty */
	ck_assert(si.writable);
	t_access(f.v, GPA + 0x9000, SV_ACCESS_READ);
	T_OK(sv_mmu_spte_get(&si, f.vm, GPA + 0x9000));
	/* never touched: the zero page, read-only, not dirty */
	ck_assert(!si.writable);
	ck_assert_uint_eq(bitmap_popcount(&f), 1);
	fix_down(&f);
}
END_TEST

static void disable_after_eager(sv_host_backing backing, unsigned kernel,
				uint64_t touch_stride, uint64_t want_refaults,
				uint64_t want_flushes)
{
	scen s = scen_default();
	fix f;
	uint64_t taken, flushes, huge_before;

	s.backing = backing;
	s.mo.kernel_version = kernel;
	fix_up_populated(&f, &s);
	huge_before = VS(&f, pages_2m) + VS(&f, pages_1g);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	flushes = VS(&f, remote_tlb_flush_requests);
	set_flags(&f, 0);
	ck_assert_uint_eq(VS(&f, remote_tlb_flush_requests) - flushes,
			  want_flushes);
	taken = CS(&f, pf_taken);
	touch(&f, GPA, SZ_1G, touch_stride, SV_ACCESS_WRITE);
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, want_refaults);
	ck_assert_uint_eq(VS(&f, pages_2m) + VS(&f, pages_1g), huge_before);
	ck_assert_uint_eq(VS(&f, pages_4k), 0);
	fix_down(&f);
}

START_TEST(dirty_log_disable)
{
	/* 6.12: each of the 512 PT tables is zapped with its own range
	 * flush; one refault per 2M rebuilds 512 x 2M */
	disable_after_eager(SV_BACKING_ANON, SV_KERNEL(6, 12), SZ_4K, 512, 512);
	/* 6.13: the 512 2M SPTEs are rebuilt in place from their (by now
	 * writable) children, one flush, no refault */
	disable_after_eager(SV_BACKING_ANON, SV_KERNEL(6, 13), SZ_4K, 0, 1);
	/* hugetlbfs 1G, 6.12: the whole 1G table is one collapsible
	 * entry: 1 zap, 1 flush, 1 refault back to 1G */
	disable_after_eager(SV_BACKING_HUGETLB_1G, SV_KERNEL(6, 12), SZ_4K, 1, 1);
}
END_TEST

/*
 * Scenario 30: kvm_page_table_test's stages on a 1 GiB slot, one vCPU.
 * CREATE writes the first 8 bytes of each "large page" (2M for THP, 4K
 * for anonymous 4K memory); logging starts (eager split); UPDATE writes
 * each host page (anonymous) or, per 2M, writes its first page and reads
 * its upper 256 pages (THP); logging stops; ADJUST reads every 4K page.
 * want_* are the EPT violations of each stage.
 */
static void page_table_test(bool thp, unsigned kernel, uint64_t want_create,
			    uint64_t want_update, uint64_t want_adjust)
{
	scen s = scen_default();
	fix f;
	uint64_t lpage = thp ? SZ_2M : SZ_4K, a, taken, fast;

	s.nohuge = !thp;
	s.mo.kernel_version = kernel;
	fix_up(&f, &s);
	touch(&f, GPA, SZ_1G, lpage, SV_ACCESS_WRITE);
	ck_assert_uint_eq(CS(&f, pf_taken), want_create);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);

	taken = CS(&f, pf_taken);
	fast = CS(&f, pf_fast);
	if (!thp) {
		touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	} else {
		/* 512 writes and 512 x 256 = 131,072 middle-page reads */
		for (a = GPA; a < GPA + SZ_1G; a += SZ_2M) {
			touch(&f, a, 8, 8, SV_ACCESS_WRITE);
			touch(&f, a + SZ_2M / 2, SZ_2M / 2, SZ_4K,
			      SV_ACCESS_READ);
		}
	}
	/* every fault of UPDATE restores W on a write-protected 4K SPTE
	 * that eager split left MMU-writable: all of them fast */
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, want_update);
	ck_assert_uint_eq(CS(&f, pf_fast) - fast, want_update);

	set_flags(&f, 0);
	taken = CS(&f, pf_taken);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_READ);
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, want_adjust);
	/* whatever the kernel, ADJUST ends with the host's page sizes */
	ck_assert_uint_eq(VS(&f, pages_2m), thp ? 512 : 0);
	ck_assert_uint_eq(VS(&f, pages_4k), thp ? 0 : PAGES_1G);
	fix_down(&f);
}

START_TEST(kvm_page_table_test_stages)
{
	/* THP: CREATE 1 fault per 2M = 512; UPDATE 512 writes, one per 2M
	 * (the 131,072 reads hit present 4K SPTEs from the eager split: 0);
	 * ADJUST on 6.12: the 512 zapped PT tables refault once each */
	page_table_test(true, SV_KERNEL(6, 12), 512, 512, 512);
	/* 6.13: the 2M SPTEs are recovered in place: ADJUST takes none */
	page_table_test(true, SV_KERNEL(6, 13), 512, 512, 0);
	/* anonymous 4K: CREATE 262,144; UPDATE writes all 262,144
	 * write-protected 4K SPTEs; ADJUST: nothing is collapsible, the 4K
	 * SPTEs stay readable: 0 */
	page_table_test(false, SV_KERNEL(6, 12), PAGES_1G, PAGES_1G, 0);
}
END_TEST

static void hugetlb_2m_log_cycle(unsigned bugs, uint64_t want_2m)
{
	scen s = scen_default();
	fix f;

	s.backing = SV_BACKING_HUGETLB_2M;
	s.mo.bugs = bugs;
	fix_up_populated(&f, &s);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	set_flags(&f, 0);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(VS(&f, pages_2m), want_2m);
	fix_down(&f);
}

START_TEST(bug_b5_hugetlb_stays_4k)
{
	hugetlb_2m_log_cycle(0, 512);                           /* fixed */
	hugetlb_2m_log_cycle(SV_BUG_B5_COLLAPSE_THP_ONLY, 0);   /* B5 */
}
END_TEST

START_TEST(dirty_log_initially_set)
{
	scen s = scen_default();
	fix f;
	uint64_t taken, *all;
	uint64_t words = PAGES_1G / 64, i;

	s.mo.manual_protect = true;
	s.mo.initially_set = true;
	fix_up_populated(&f, &s);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	/* INITIALLY_SET: nothing protected, nothing split */
	ck_assert_uint_eq(VS(&f, pages_2m), 512);
	taken = CS(&f, pf_taken);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, 0); /* iteration 1 */
	all = g_new(uint64_t, words);
	for (i = 0; i < words; i++)
		all[i] = ~0ULL;
	T_OK(sv_mmu_clear_dirty_log(f.vm, 1, 0, PAGES_1G, all));
	/* the first word of each 2M splits it: 512 splits; then every 4K
	 * SPTE loses W */
	ck_assert_uint_eq(VS(&f, split_2m), 512);
	ck_assert_uint_eq(VS(&f, wrprot), PAGES_1G);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(CS(&f, pf_fast), PAGES_1G); /* iteration 2 */
	g_free(all);
	fix_down(&f);
}
END_TEST

/* ---- (g) 20-25: NX, host events, aging ------------------------------------------ */

START_TEST(nx_huge_pages_exec)
{
	scen s = scen_default();
	fix f;
	uint64_t taken;

	s.mo.nx_huge_pages = true;
	fix_up_populated(&f, &s);
	taken = CS(&f, pf_taken);
	t_access(f.v, GPA + 0x3000, SV_ACCESS_FETCH);
	/* the 2M SPTE is NX: one fault splits it for the 4K exec mapping */
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, 1);
	ck_assert_uint_eq(VS(&f, pages_2m), 511);
	ck_assert_uint_eq(VS(&f, pages_4k), 512);
	ck_assert_uint_eq(VS(&f, nx_lpage_splits), 1);
	/* the split's 4K children are executable: no more faults there */
	touch_expect(&f, GPA, SZ_2M, SZ_4K, SV_ACCESS_FETCH, SV_FAULT_NONE);
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, 1);
	fix_down(&f);
}
END_TEST

START_TEST(dontneed_splits_thp)
{
	scen s = scen_default();
	fix f;
	uint64_t taken;

	fix_up_populated(&f, &s);
	T_OK(sv_host_madvise(f.h, f.hva + 0x5000, SZ_4K, SV_MADV_DONTNEED));
	/* CLEAR over the THP's split: the 2M SPTE is zapped, one flush */
	ck_assert_uint_eq(VS(&f, zap_leaf_2m), 1);
	ck_assert_uint_eq(VS(&f, remote_tlb_flush_requests), 1);
	taken = CS(&f, pf_taken);
	touch(&f, GPA, SZ_2M, SZ_4K, SV_ACCESS_WRITE);
	/* the host maps that 2M by PTEs now: 512 4K faults */
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, 512);
	ck_assert_uint_eq(VS(&f, pages_4k), 512);
	/* scenario 22: khugepaged collapses it back; its CLEAR zaps the
	 * 512 4K SPTEs with one flush; the next touch maps 2M again */
	T_OK(sv_host_khugepaged(NULL, f.h));
	ck_assert_uint_eq(VS(&f, zap_leaf_4k), 512);
	ck_assert_uint_eq(VS(&f, remote_tlb_flush_requests), 2);
	taken = CS(&f, pf_taken);
	touch(&f, GPA, SZ_2M, SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, 1);
	ck_assert_uint_eq(VS(&f, pages_2m), 512);
	fix_down(&f);
}
END_TEST

START_TEST(mprotect_readonly)
{
	scen s = scen_default();
	fix f;
	sv_spte_info si;
	sv_xlate x;
	uint64_t taken;

	fix_up_populated(&f, &s);
	T_OK(sv_host_mprotect(f.h, f.hva, SZ_1G, SV_PROT_READ));
	/* PROTECTION_VMA over the slot: all 512 zapped, one flush */
	ck_assert_uint_eq(VS(&f, zap_leaf_2m), 512);
	ck_assert_uint_eq(VS(&f, remote_tlb_flush_requests), 1);
	taken = CS(&f, pf_taken);
	touch(&f, GPA, SZ_1G, SZ_4K, SV_ACCESS_READ);
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, 512);
	T_OK(sv_mmu_spte_get(&si, f.vm, GPA));
	ck_assert(si.level == 2 && !si.writable && !si.host_writable);
	x = t_access(f.v, GPA, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_EFAULT);
	fix_down(&f);
}
END_TEST

START_TEST(fork_and_clear_refs_zap_all)
{
	scen s = scen_default();
	fix f;

	fix_up_populated(&f, &s);
	T_OK(sv_host_fork(f.h));
	/* PROTECTION_PAGE: every SPTE goes */
	ck_assert_uint_eq(VS(&f, pages_2m), 0);
	T_OK(sv_host_fork_exit(f.h));
	touch(&f, GPA, SZ_1G, SZ_2M, SV_ACCESS_READ);
	ck_assert_uint_eq(VS(&f, pages_2m), 512);
	T_OK(sv_host_clear_refs(f.h));
	/* SOFT_DIRTY over the whole mm: again all */
	ck_assert_uint_eq(VS(&f, pages_2m), 0);
	fix_down(&f);
}
END_TEST

static void clear_young(bool ad, uint64_t want_faults)
{
	scen s = scen_default();
	fix f;
	bool young;
	uint64_t taken, flushes;

	s.nohuge = true;
	s.size = 64 * SZ_4K;
	s.vo.tdp_ad = ad;
	fix_up(&f, &s);
	touch(&f, GPA, s.size, SZ_4K, SV_ACCESS_WRITE);
	flushes = VS(&f, remote_tlb_flush_requests);
	T_OK(sv_host_age(&young, f.h, f.hva, s.size, SV_AGE_CLEAR_YOUNG));
	ck_assert(young);
	/* clear_young never flushes */
	ck_assert_uint_eq(VS(&f, remote_tlb_flush_requests), flushes);
	taken = CS(&f, pf_taken);
	touch(&f, GPA, s.size, SZ_4K, SV_ACCESS_READ);
	/* 64 consecutive pages fill the 4K L1 DTLB's 16 sets x 4 ways
	 * exactly: every read hits, no walk, so no fault either way */
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, 0);
	T_OK(sv_vcpu_invept(f.v, 2, 0));
	touch(&f, GPA, s.size, SZ_4K, SV_ACCESS_READ);
	/* after a TLB flush: A/D on, the walk sets A again, no fault; A/D
	 * off, each access-tracked SPTE takes one fast fault */
	ck_assert_uint_eq(CS(&f, pf_taken) - taken, want_faults);
	ck_assert_uint_eq(CS(&f, pf_fast), want_faults);
	fix_down(&f);
}

START_TEST(aging_clear_young)
{
	clear_young(true, 0);
	clear_young(false, 64);
}
END_TEST

/* ---- (g) 26, 28, 29, 33: races, MMIO, flushes -------------------------------------- */

typedef struct racer {
	fix *f;
	uint64_t gpa;
	sv_fault_kind seen;
} racer;

static void racer_start(const sv_host_range *r, void *payload)
{
	racer *c = payload;
	sv_xlate x = t_access(c->f->v, c->gpa, SV_ACCESS_WRITE);

	(void)r;
	c->seen = x.fault.kind;
}

static const sv_host_notifier_ops racer_ops = {
	SV_HOST_NOTIFIER_VERSION, racer_start, NULL, NULL, NULL,
};

START_TEST(fault_races_invalidation)
{
	scen s = scen_default();
	fix f;
	racer c;

	s.nohuge = true;
	fix_up(&f, &s);
	c.f = &f;
	c.gpa = GPA + 0x4000;
	/* registered after the VM: runs while its invalidation is open */
	T_OK(sv_host_notifier_register(f.h, &racer_ops, &c));
	T_OK(sv_host_madvise(f.h, f.hva + 0x4000, SZ_4K, SV_MADV_DONTNEED));
	ck_assert_int_eq(c.seen, SV_FAULT_RETRY);
	ck_assert_uint_eq(CS(&f, pf_taken), 1);
	ck_assert_uint_eq(CS(&f, pf_fixed), 0);
	T_OK(sv_host_notifier_unregister(f.h, &racer_ops, &c));
	t_access(f.v, c.gpa, SV_ACCESS_WRITE);
	/* the retry after the invalidation ended fixes it */
	ck_assert_uint_eq(CS(&f, pf_taken), 2);
	ck_assert_uint_eq(CS(&f, pf_fixed), 1);
	/* a gfn outside the range is not retried even mid-invalidation */
	c.gpa = GPA + 0x100000;
	T_OK(sv_host_notifier_register(f.h, &racer_ops, &c));
	T_OK(sv_host_madvise(f.h, f.hva + 0x4000, SZ_4K, SV_MADV_DONTNEED));
	ck_assert_int_eq(c.seen, SV_FAULT_NONE);
	ck_assert_uint_eq(CS(&f, pf_fixed), 2);
	fix_down(&f);
}
END_TEST

START_TEST(noslot_mmio)
{
	scen s = scen_default();
	fix f;
	sv_xlate x;
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, 2, 0, 0x100000000ULL,
			       SZ_2M, 0};

	fix_up(&f, &s);
	x = t_access(f.v, 0xfee00000, SV_ACCESS_READ);
	/* first access: full fault, MMIO SPTE, emulation */
	ck_assert_int_eq(x.fault.kind, SV_FAULT_MMIO);
	ck_assert_uint_eq(CS(&f, pf_taken), 1);
	ck_assert_uint_eq(CS(&f, pf_mmio_spte_created), 1);
	ck_assert_uint_eq(CS(&f, pf_emulate), 1);
	x = t_access(f.v, 0xfee00000, SV_ACCESS_READ);
	/* second: a misconfiguration of the current generation, no pf_* */
	ck_assert_int_eq(x.fault.kind, SV_FAULT_MMIO);
	ck_assert_uint_eq(CS(&f, pf_taken), 1);
	ck_assert_uint_eq(CS(&f, ept_misconfigs), 1);
	r.hva = f.hva; /* any hva: a second slot elsewhere in guest memory */
	T_OK(sv_memslot_set(f.vm, &r));
	x = t_access(f.v, 0xfee00000, SV_ACCESS_READ);
	/* the update moved the generation: one more full fault */
	ck_assert_int_eq(x.fault.kind, SV_FAULT_MMIO);
	ck_assert_uint_eq(CS(&f, pf_taken), 2);
	ck_assert_uint_eq(CS(&f, pf_mmio_spte_created), 2);
	fix_down(&f);
}
END_TEST

/* kvm.mmio_caching=N: no MMIO SPTE, each access takes the full fault */
START_TEST(noslot_mmio_uncached)
{
	scen s = scen_default();
	fix f;
	sv_xlate x;

	s.mo.mmio_caching = false;
	fix_up(&f, &s);
	x = t_access(f.v, 0xfee00000, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_MMIO);
	x = t_access(f.v, 0xfee00000, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_MMIO);
	ck_assert_uint_eq(CS(&f, pf_taken), 2);
	ck_assert_uint_eq(CS(&f, pf_emulate), 2);
	ck_assert_uint_eq(CS(&f, pf_mmio_spte_created), 0);
	ck_assert_uint_eq(CS(&f, ept_misconfigs), 0);
	fix_down(&f);
}
END_TEST

START_TEST(mmio_generation_wrap)
{
	scen s = scen_default();
	fix f;
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, 2, 0, 0x100000000ULL,
			       SZ_4K, 0};
	unsigned i;

	fix_up(&f, &s);
	r.hva = f.hva;
	/* the slot creation was update 1; 2^18 - 1 more (create/delete
	 * pairs and one flags toggle) bring the 19-bit generation, +2
	 * each, back to 0 */
	for (i = 0; i < (1u << 17) - 1; i++) {
		r.size = SZ_4K;
		T_OK(sv_memslot_set(f.vm, &r));
		r.size = 0;
		T_OK(sv_memslot_set(f.vm, &r));
	}
	ck_assert_uint_eq(VS(&f, mmio_gen_wraps), 0);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	ck_assert_uint_eq(VS(&f, memslot_updates), 1u << 18);
	ck_assert_uint_eq(VS(&f, mmio_gen_wraps), 1);
	fix_down(&f);
}
END_TEST

/* Scenario 27: vCPUs 0 and 1 make the same access to one gfn at once;
 * both exit before either handler runs. */
static void race_same_gfn(fix *f, sv_access acc, uint64_t gpa)
{
	sv_vcpu *v1 = sv_vm_vcpu(f->vm, 1);
	sv_access_req q[2] = {{f->v, gpa, 8, acc}, {v1, gpa, 8, acc}};
	sv_xlate x[2];

	T_OK(sv_vcpu_access_together(q, 2, x));
	ck_assert_int_eq(x[0].fault.kind, SV_FAULT_NONE);
	ck_assert_int_eq(x[1].fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(x[0].exits, 1);
	ck_assert_uint_eq(x[1].exits, 1);
}

#define CS1(f, name) \
	sv_vcpu_stat_get(sv_vm_vcpu((f)->vm, 1), SV_VCPU_STAT_##name)

START_TEST(two_vcpus_same_gfn)
{
	scen s = scen_default();
	fix f;

	/* A/D on: a not-present fault cannot take the fast path */
	s.vo.vcpus = 2;
	fix_up(&f, &s);
	race_same_gfn(&f, SV_ACCESS_READ, GPA + 0x5000);
	/* vCPU 0 maps the 2M THP block; vCPU 1's slow path then finds the
	 * identical SPTE in place: RET_PF_SPURIOUS */
	ck_assert_uint_eq(CS(&f, pf_taken), 1);
	ck_assert_uint_eq(CS(&f, pf_fixed), 1);
	ck_assert_uint_eq(CS1(&f, pf_taken), 1);
	ck_assert_uint_eq(CS1(&f, pf_spurious), 1);
	ck_assert_uint_eq(CS1(&f, pf_fixed), 0);
	ck_assert_uint_eq(CS1(&f, pf_fast), 0);
	ck_assert_uint_eq(VS(&f, pages_2m), 1);
	fix_down(&f);

	/* A/D off: the not-present fault is fast-path eligible (access
	 * tracking), so vCPU 1's fast path sees the new SPTE allow the read */
	s.vo.tdp_ad = false;
	fix_up(&f, &s);
	race_same_gfn(&f, SV_ACCESS_READ, GPA + 0x5000);
	ck_assert_uint_eq(CS(&f, pf_fixed), 1);
	ck_assert_uint_eq(CS(&f, pf_fast), 0); /* nothing present yet */
	ck_assert_uint_eq(CS1(&f, pf_spurious), 1);
	ck_assert_uint_eq(CS1(&f, pf_fast), 1);
	fix_down(&f);

	/* Writes to a page write-protected by dirty logging: both faults are
	 * present+write, so both take the fast path; the first sets W
	 * (fixed), the second finds W set (spurious) */
	s.vo.tdp_ad = true;
	fix_up_populated(&f, &s);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	race_same_gfn(&f, SV_ACCESS_WRITE, GPA + 0x5000);
	ck_assert_uint_eq(CS(&f, pf_taken), 512 + 1); /* populate + this */
	ck_assert_uint_eq(CS(&f, pf_fast), 1);
	ck_assert_uint_eq(CS(&f, pf_fixed), 512 + 1);
	ck_assert_uint_eq(CS1(&f, pf_fast), 1);
	ck_assert_uint_eq(CS1(&f, pf_spurious), 1);
	/* one page written, one bit, whoever wrote it */
	ck_assert_uint_eq(bitmap_popcount(&f), 1);
	fix_down(&f);
}
END_TEST

START_TEST(flush_without_vcpu_in_guest)
{
	scen s = scen_default();
	fix f;

	s.vo.vcpus = 2;
	fix_up(&f, &s);
	touch(&f, GPA, SZ_2M, SZ_2M, SV_ACCESS_WRITE);
	sv_vcpu_leave_guest(f.v);
	T_OK(sv_host_mprotect(f.h, f.hva, SZ_1G, SV_PROT_READ));
	/* one request; vCPU 0 left guest mode and vCPU 1 never ran: no
	 * kick, so no remote_tlb_flush */
	ck_assert_uint_eq(VS(&f, remote_tlb_flush_requests), 1);
	ck_assert_uint_eq(VS(&f, remote_tlb_flush), 0);
	t_access(f.v, GPA, SV_ACCESS_READ);
	/* the request is serviced at vCPU 0's next entry */
	ck_assert_uint_eq(CS(&f, tlb_flush), 1);
	fix_down(&f);
}
END_TEST

/* The handler's own cycles: every cost zero but the fault path's, each a
 * different power of ten so a sum shows which were charged. */
START_TEST(handler_costs)
{
	scen s = scen_default();
	fix f;
	size_t i;
	uint64_t c0;

	for (i = 0; i < sv_cost_count(); i++)
		*sv_cost_slot(&s.vo.costs, i) = 0;
	s.vo.costs.pf_fast = 1;
	s.vo.costs.pf_slow = 10;
	s.vo.costs.pf_split = 100;
	s.vo.costs.host_fault = 1000;
	s.vo.costs.host_fill_4k = 10000;
	s.mo.eager_page_split = false;
	fix_up(&f, &s);
	t_access(f.v, GPA, SV_ACCESS_WRITE);
	/* slow path + one host fault that zeroes a new THP (512 x 4K) */
	ck_assert_uint_eq(CS(&f, cycles), 10 + 1000 + 512 * 10000);
	ck_assert_uint_eq(sv_host_stat_get(f.h, SV_HOST_STAT_pages_filled), 512);
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	c0 = CS(&f, cycles);
	t_access(f.v, GPA + SZ_4K, SV_ACCESS_WRITE);
	/* eager split off: the write-protected 2M SPTE is split in the
	 * slow path; the host page is present and writable: no host work */
	ck_assert_uint_eq(CS(&f, cycles) - c0, 10 + 100);
	c0 = CS(&f, cycles);
	t_access(f.v, GPA + 2 * SZ_4K, SV_ACCESS_WRITE);
	/* a 4K child of the split, write-protected but MMU-writable: fast */
	ck_assert_uint_eq(CS(&f, cycles) - c0, 1);
	fix_down(&f);
}
END_TEST

/* ---- bad input ------------------------------------------------------------- */

START_TEST(memslot_errors)
{
	scen s = scen_default();
	fix f;
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, 2, 0, GPA + SZ_2M,
			       SZ_2M, 0};
	uint64_t bm[8];

	fix_up(&f, &s);
	r.hva = f.hva;
	ck_assert_int_eq(sv_memslot_set(f.vm, &r), SV_EOVERLAP);
	r.gpa = 0x100000000ULL;
	r.hva = f.hva + 0x800;
	ck_assert_int_eq(sv_memslot_set(f.vm, &r), SV_EALIGN);
	r.hva = f.hva;
	r.size = SZ_2M + 0x10;
	ck_assert_int_eq(sv_memslot_set(f.vm, &r), SV_EALIGN);
	/* x86 KVM has two address spaces: as_id 2 does not exist */
	r.size = SZ_2M;
	r.slot = (2u << 16) | 2;
	ck_assert_int_eq(sv_memslot_set(f.vm, &r), SV_EINVAL);
	/* changing an existing slot's size is EINVAL, nothing changes */
	r.slot = 1;
	r.gpa = GPA;
	r.size = SZ_2M;
	ck_assert_int_eq(sv_memslot_set(f.vm, &r), SV_EINVAL);
	touch(&f, GPA, SZ_1G, SZ_2M, SV_ACCESS_WRITE);
	ck_assert_uint_eq(VS(&f, pages_2m), 512);
	/* deleting a slot while it logs is allowed; its log is gone */
	set_flags(&f, SV_MEMSLOT_LOG_DIRTY);
	r.size = 0;
	T_OK(sv_memslot_set(f.vm, &r));
	ck_assert_uint_eq(VS(&f, pages_4k) + VS(&f, pages_2m), 0);
	ck_assert_int_eq(sv_mmu_get_dirty_log(f.vm, 1, bm), SV_ENOENT);
	ck_assert_uint_eq(VS(&f, memslots), 0);
	fix_down(&f);
}
END_TEST

START_TEST(smm_needs_mmu)
{
	sv_vm *vm;
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, SMM_SLOT(0), 0, 0,
			       SZ_2M, 0};

	T_OK(sv_vm_new(&vm, NULL));
	/* without a hypervisor MMU there is one address space */
	ck_assert_int_eq(sv_memslot_set(vm, &r), SV_EINVAL);
	ck_assert_int_eq(sv_vcpu_set_smm(sv_vm_vcpu(vm, 0), true), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_vm_last_error(vm), "hypervisor MMU"));
	ck_assert_int_eq(sv_vcpu_set_smm(NULL, true), SV_EINVAL);
	sv_vm_free(vm);
}
END_TEST

START_TEST(memslot_move)
{
	scen s = scen_default();
	fix f;
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, 1, 0, 2 * SZ_1G,
			       SZ_1G, 0};
	sv_xlate x;

	fix_up_populated(&f, &s);
	r.hva = f.hva;
	T_OK(sv_memslot_set(f.vm, &r));
	/* the old range's SPTEs go with the move; the new GPA faults in */
	ck_assert_uint_eq(VS(&f, pages_2m), 0);
	x = t_access(f.v, 2 * SZ_1G, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	x = t_access(f.v, GPA, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_MMIO);
	fix_down(&f);
}
END_TEST

static unsigned no_1g_level(const sv_mmu_fault_info *info, void *payload)
{
	sv_host_leaf l;

	(void)payload;
	if (sv_host_lookup(&l, info->host, info->hva) || !l.present)
		return 1;
	return l.level > 2 ? 2 : l.level;
}

START_TEST(user_policy)
{
	static const sv_mmu_policy p = {SV_MMU_POLICY_VERSION, "no-1g",
					no_1g_level, NULL, NULL};
	scen s = scen_default();
	fix f;

	T_OK(sv_mmu_policy_register(&p));
	ck_assert_int_eq(sv_mmu_policy_register(&p), SV_EEXIST);
	s.backing = SV_BACKING_HUGETLB_1G;
	s.mo.policy = "no-1g";
	fix_up_populated(&f, &s);
	/* the policy refuses 1G: 512 x 2M where kvm maps one 1G */
	ck_assert_uint_eq(VS(&f, pages_2m), 512);
	ck_assert_uint_eq(VS(&f, pages_1g), 0);
	fix_down(&f);
	T_OK(sv_mmu_policy_unregister("no-1g"));
	s.mo.policy = "no-such";
	{
		sv_vm *vm;
		sv_host *h;

		T_OK(sv_host_new(&h, NULL));
		T_OK(sv_vm_new(&vm, NULL));
		ck_assert_int_eq(sv_mmu_attach(vm, h, &s.mo), SV_ENOENT);
		sv_vm_free(vm);
		sv_host_free(h);
	}
}
END_TEST

static Suite *mmu_suite(void)
{
	Suite *s = suite_create("mmu");
	TCase *t = tcase_create("sizing");

	tcase_add_test(t, thp_one_touch_per_2m);
	tcase_add_test(t, anon_4k_touch_all);
	tcase_add_test(t, legacy_mmu_prefetch);
	tcase_add_test(t, hugetlb_1g);
	tcase_add_test(t, hugetlb_1g_without_1g_ept);
	tcase_add_test(t, bug_b1_illegal_1g);
	tcase_add_test(t, hugetlb_1g_gpa_2m_congruent);
	tcase_add_test(t, thp_gpa_not_2m_congruent);
	tcase_add_test(t, slot_one_page_short);
	tcase_add_test(t, readonly_slot_hugetlb);
	tcase_add_test(t, bug_b2_driver_compound);
	tcase_add_test(t, bug_b3_smm_address_space);
	tcase_add_test(t, dax_pmd_mapped);
	tcase_add_test(t, user_policy);
	suite_add_tcase(s, t);
	t = tcase_create("dirty");
	tcase_add_test(t, dirty_log_eager_split);
	tcase_add_test(t, dirty_log_pml);
	tcase_add_test(t, dirty_log_no_eager_split);
	tcase_add_test(t, dirty_log_one_write);
	tcase_add_test(t, dirty_log_hypervisor_write);
	tcase_add_test(t, kvm_map_paths);
	tcase_add_test(t, pfncache_invalidate_refresh);
	tcase_add_test(t, dirty_log_read_fault_marks_dirty);
	tcase_add_test(t, dirty_log_disable);
	tcase_add_test(t, bug_b5_hugetlb_stays_4k);
	tcase_add_test(t, kvm_page_table_test_stages);
	tcase_add_test(t, dirty_log_initially_set);
	suite_add_tcase(s, t);
	t = tcase_create("events");
	tcase_add_test(t, nx_huge_pages_exec);
	tcase_add_test(t, dontneed_splits_thp);
	tcase_add_test(t, mprotect_readonly);
	tcase_add_test(t, fork_and_clear_refs_zap_all);
	tcase_add_test(t, aging_clear_young);
	tcase_add_test(t, fault_races_invalidation);
	tcase_add_test(t, two_vcpus_same_gfn);
	tcase_add_test(t, noslot_mmio);
	tcase_add_test(t, noslot_mmio_uncached);
	tcase_add_test(t, mmio_generation_wrap);
	tcase_add_test(t, flush_without_vcpu_in_guest);
	tcase_add_test(t, handler_costs);
	tcase_add_test(t, memslot_errors);
	tcase_add_test(t, memslot_move);
	tcase_add_test(t, smm_needs_mmu);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return t_run(mmu_suite());
}
