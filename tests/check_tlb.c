/*
 * tests/check_tlb.c - TLB reach and replacement, splintering, every
 * invalidation instruction against a TLB holding several tags, and
 * page-size conflicts.
 */
#include <inttypes.h>

#include "helpers.h"

#define BASE 0x40000000ULL /* guest-virtual base of the test pages */

/* An environment whose guest maps `pages` 4K pages at BASE + i*stride. */
static void pages_env(t_env *e, const sv_vm_options *o, unsigned pages,
		      uint64_t stride)
{
	unsigned i;

	t_env_setup(e, o, SV_PAGE_2M);
	for (i = 0; i < pages; i++)
		T_OK(sv_pt_map(e->gpt, BASE + i * stride, 0x2000000 + i * 4096ULL,
			       4096, 4096, SV_PTE_RW));
}

static void loop(sv_vcpu *v, unsigned pages, uint64_t stride, unsigned passes)
{
	unsigned p, i;

	for (p = 0; p < passes; p++)
		for (i = 0; i < pages; i++)
			t_access(v, BASE + i * stride, SV_ACCESS_READ);
}

/* One set of 4 ways, no STLB: the smallest array that shows LRU. */
static sv_vm_options tiny(sv_tlb_replacement repl)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;

	o.tlb.array[SV_TLB_l1d_4k].sets = 1;
	o.tlb.array[SV_TLB_l1d_4k].ways = 4;
	o.tlb.array[SV_TLB_stlb].sets = 0;
	o.tlb.replacement = repl;
	return o;
}

START_TEST(lru_reach)
{
	sv_vm_options o = tiny(SV_TLB_LRU);
	t_env e;

	/* 4 pages fit 4 ways: 4 cold misses, then 4 hits per pass */
	pages_env(&e, &o, 5, 4096);
	loop(e.v, 4, 4096, 10);
	ck_assert_uint_eq(T_STAT(e.v, tlb_miss), 4);
	ck_assert_uint_eq(T_STAT(e.v, l1d_hit_4k), 4 * 9);
	sv_vcpu_stats_reset(e.v);
	/* one page more than the array holds: pages 0-3 are still cached
	 * from the loop above (4 hits), then under LRU the page needed next
	 * is always the one just evicted: 5 * 10 - 4 = 46 misses */
	loop(e.v, 5, 4096, 10);
	ck_assert_uint_eq(T_STAT(e.v, tlb_miss), 46);
	ck_assert_uint_eq(T_STAT(e.v, l1d_hit_4k), 4);
	t_env_free(&e);
}
END_TEST

/* A batch of accesses counts what the same accesses one by one count, and
 * stops after the first fault. */
START_TEST(access_batch)
{
	uint64_t gvas[64];
	uint8_t kinds[64];
	t_env one, many;
	sv_xlate x;
	size_t i, done = 99;
	unsigned k;

	pages_env(&one, NULL, 16, 4096);
	pages_env(&many, NULL, 16, 4096);
	for (i = 0; i < 64; i++) {
		gvas[i] = BASE + (i * 7 % 16) * 4096 + (i % 8) * 8;
		kinds[i] = i % 3 ? SV_ACCESS_READ : SV_ACCESS_WRITE;
		T_OK(sv_vcpu_translate(&x, one.v, gvas[i], 8, (sv_access)kinds[i]));
	}
	T_OK(sv_vcpu_access_batch(&x, &done, many.v, gvas, kinds, 64, 8, SV_ACCESS_READ));
	ck_assert_uint_eq(done, 64);
	for (k = 0; k < SV_VCPU_STAT__COUNT; k++)
		ck_assert_msg(sv_vcpu_stat_get(one.v, (sv_vcpu_stat)k) ==
				      sv_vcpu_stat_get(many.v, (sv_vcpu_stat)k),
			      "%s differs", sv_vcpu_stat_name((sv_vcpu_stat)k));
	/* page 16 is not mapped in the guest: the third access faults (#PF),
	 * and the batch stops there */
	gvas[2] = BASE + 16 * 4096;
	T_OK(sv_vcpu_access_batch(&x, &done, many.v, gvas, NULL, 64, 8, SV_ACCESS_READ));
	ck_assert_uint_eq(done, 3);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	/* a bad size: SV_EINVAL, nothing done */
	ck_assert_int_eq(sv_vcpu_access_batch(&x, &done, many.v, gvas, NULL, 4, 0,
					      SV_ACCESS_READ),
			 SV_EINVAL);
	ck_assert_uint_eq(done, 0);
	t_env_free(&one);
	t_env_free(&many);
}
END_TEST

START_TEST(default_geometry_same_set)
{
	t_env e;

	/* Default L1 DTLB 4K: 16 sets x 4 ways.  Five pages 16 pages apart
	 * share one L1 set and thrash it, but the STLB (128 sets x 12) holds
	 * them all: after the cold pass every access is an STLB hit. */
	pages_env(&e, NULL, 5, 16 * 4096);
	loop(e.v, 5, 16 * 4096, 4);
	ck_assert_uint_eq(T_STAT(e.v, tlb_miss), 5);
	ck_assert_uint_eq(T_STAT(e.v, stlb_hit_4k), 15);
	ck_assert_uint_eq(T_STAT(e.v, l1d_hit_4k), 0);
	t_env_free(&e);
}
END_TEST

START_TEST(fifo_vs_lru)
{
	/* Pages A B C D A E A in 4 ways.  LRU: the hit on A protects it, E
	 * evicts B, the last A hits (misses: A B C D E = 5).  FIFO: E evicts
	 * A, the oldest fill, so the last A misses too (6). */
	static const unsigned seq[] = {0, 1, 2, 3, 0, 4, 0};
	sv_tlb_replacement r;

	for (r = SV_TLB_LRU; r <= SV_TLB_FIFO; r++) {
		sv_vm_options o = tiny(r);
		t_env e;
		unsigned i;

		pages_env(&e, &o, 5, 4096);
		for (i = 0; i < 7; i++)
			t_access(e.v, BASE + seq[i] * 4096ULL, SV_ACCESS_READ);
		ck_assert_uint_eq(T_STAT(e.v, tlb_miss), r == SV_TLB_LRU ? 5 : 6);
		t_env_free(&e);
	}
}
END_TEST

START_TEST(random_is_seeded)
{
	uint64_t misses[2];
	unsigned run;

	/* The same seed gives the same victims, so the same counts. */
	for (run = 0; run < 2; run++) {
		sv_vm_options o = tiny(SV_TLB_RANDOM);
		t_env e;

		o.seed = 42;
		pages_env(&e, &o, 6, 4096);
		loop(e.v, 6, 4096, 20);
		misses[run] = T_STAT(e.v, tlb_miss);
		/* 6 pages, 4 ways: at least the 6 cold misses, never all hits */
		ck_assert_uint_ge(misses[run], 6);
		t_env_free(&e);
	}
	ck_assert_uint_eq(misses[0], misses[1]);
}
END_TEST

START_TEST(splintering)
{
	uint64_t npage;

	for (npage = SV_PAGE_4K; npage <= SV_PAGE_2M; npage *= 512) {
		t_env e;
		sv_xlate x;

		t_env_setup(&e, NULL, npage);
		T_OK(sv_pt_map(e.gpt, BASE, 0x2000000, SV_PAGE_2M, SV_PAGE_2M,
			       SV_PTE_RW));
		t_access(e.v, BASE, SV_ACCESS_READ);
		x = t_access(e.v, BASE + 4096, SV_ACCESS_READ);
		if (npage == SV_PAGE_4K) {
			/* guest 2M over EPT 4K: 4K entries, so the second
			 * page walks again */
			ck_assert_uint_eq(T_STAT(e.v, tlb_fill_4k), 2);
			ck_assert_uint_eq(T_STAT(e.v, tlb_splinter), 2);
			ck_assert_uint_eq(x.page_size, SV_PAGE_4K);
		} else {
			/* 2M over 2M: one 2M entry serves both pages */
			ck_assert_uint_eq(T_STAT(e.v, tlb_fill_2m), 1);
			ck_assert_uint_eq(T_STAT(e.v, l1d_hit_2m), 1);
			ck_assert_uint_eq(x.page_size, SV_PAGE_2M);
		}
		ck_assert_uint_eq(x.gpa, 0x2001000);
		/* the guest page is never the smaller one here */
		ck_assert_uint_eq(T_STAT(e.v, tlb_host_larger), 0);
		t_env_free(&e);
	}
}
END_TEST

/* The splinter cost: charged once per splintered fill, and nothing else
 * changes. */
START_TEST(splinter_cost)
{
	uint64_t cycles[2], counts[2][SV_VCPU_STAT__COUNT];
	int run;
	unsigned i;

	for (run = 0; run < 2; run++) {
		sv_vm_options o = SV_VM_OPTIONS_INIT;
		t_env e;

		o.costs.splinter = run ? 1000 : 0;
		t_env_setup(&e, &o, SV_PAGE_4K);
		T_OK(sv_pt_map(e.gpt, BASE, 0x2000000, SV_PAGE_2M, SV_PAGE_2M,
			       SV_PTE_RW));
		t_access(e.v, BASE, SV_ACCESS_READ);
		t_access(e.v, BASE + 4096, SV_ACCESS_READ);
		t_access(e.v, BASE + 4096, SV_ACCESS_READ);
		cycles[run] = T_STAT(e.v, cycles);
		for (i = 0; i < SV_VCPU_STAT__COUNT; i++)
			counts[run][i] = i == SV_VCPU_STAT_cycles ? 0 : sv_vcpu_stat_get(e.v, i);
		t_env_free(&e);
	}
	/* guest 2M over EPT 4K: the first two accesses walk and fill a
	 * splintered 4K entry each (the splintering test), the third hits */
	ck_assert_uint_eq(counts[1][SV_VCPU_STAT_tlb_splinter], 2);
	ck_assert_uint_eq(cycles[1] - cycles[0], 2 * 1000);
	for (i = 0; i < SV_VCPU_STAT__COUNT; i++)
		ck_assert_uint_eq(counts[0][i], counts[1][i]);
}
END_TEST

/* The reverse: guest 4K pages over a 2M EPT mapping fill 4K entries, each
 * counted as a guest page smaller than the host's. */
START_TEST(host_larger)
{
	t_env e;
	sv_xlate x;

	t_env_setup(&e, NULL, SV_PAGE_2M);
	T_OK(sv_pt_map(e.gpt, BASE, 0x2000000, SV_PAGE_2M, SV_PAGE_4K, SV_PTE_RW));
	t_access(e.v, BASE, SV_ACCESS_READ);
	x = t_access(e.v, BASE + 4096, SV_ACCESS_READ);
	/* two guest 4K pages, two walks, two 4K fills over the 2M EPT page */
	ck_assert_uint_eq(T_STAT(e.v, tlb_fill_4k), 2);
	ck_assert_uint_eq(T_STAT(e.v, tlb_host_larger), 2);
	ck_assert_uint_eq(T_STAT(e.v, tlb_splinter), 0);
	ck_assert_uint_eq(x.page_size, SV_PAGE_4K);
	t_env_free(&e);
}
END_TEST

/* ---- invalidation -------------------------------------------------------- */

/*
 * The matrix: VPIDs {1, 2} x PCIDs {1, 2} x EPTPs {A, B}, each accessing
 * a 4K non-global page (P4) and a 2M global page (P2) with CR4.PGE.  A
 * global entry serves every PCID of its VPID and EP4TA, so it is filled
 * once per (VPID, EPTP).  Every fill puts one entry in L1 and one in the
 * STLB, so the counts the tests start from are:
 *   P4 per (VPID, PCID): 2 copies x 2 EPTPs = 4; per VPID: 8; in all: 16
 *   P2 per VPID: 2 copies x 2 EPTPs = 4; in all: 8
 *   combined entries per VPID: 8 + 4 = 12
 */
#define P4 0x400000ULL
#define P2 0x600000ULL

typedef struct inv_env {
	t_env e;
	sv_pt *tdp_b;
	uint64_t eptp[2];
} inv_env;

static void set_tags(inv_env *m, uint16_t vpid, uint16_t pcid, int ept)
{
	sv_vcpu_regs r;

	sv_vcpu_get_regs(m->e.v, &r);
	r.vpid = vpid;
	r.cr3 = (r.cr3 & ~0xfffULL) | pcid;
	r.eptp = m->eptp[ept];
	T_OK(sv_vcpu_set_regs(m->e.v, &r));
}

static void inv_setup(inv_env *m, const sv_vm_options *base)
{
	sv_pt_options po = {SV_PT_OPTIONS_VERSION, SV_PT_TDP, 0, 0, 0};
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	uint16_t vpid, pcid;
	int ept;

	/* The 8 tagged copies of one page index the same L1 set and the same
	 * paging-structure-cache sets: give those 16 ways so that none is
	 * evicted and every copy is in L1, STLB and each PSC. */
	if (base)
		o = *base;
	o.tlb.array[SV_TLB_l1d_4k].ways = 16;
	o.tlb.array[SV_TLB_psc_pml4].ways = 16;
	o.tlb.array[SV_TLB_psc_pdpt].ways = 16;
	o.tlb.array[SV_TLB_psc_pd].ways = 16;
	t_env_setup(&m->e, &o, SV_PAGE_2M);
	T_OK(sv_pt_new(&m->tdp_b, m->e.vm, &po));
	T_OK(sv_pt_map(m->tdp_b, 0, 0, 64ULL << 20, SV_PAGE_2M,
		       t_nested_all(m->e.vm)));
	m->eptp[0] = sv_pt_pointer(m->e.tdp);
	m->eptp[1] = sv_pt_pointer(m->tdp_b);
	T_OK(sv_pt_map(m->e.gpt, P4, 0x2000000, 4096, 4096, SV_PTE_RW));
	T_OK(sv_pt_map(m->e.gpt, P2, 0x2200000, SV_PAGE_2M, SV_PAGE_2M,
		       SV_PTE_RW | SV_PTE_G));
	t_paging(m->e.v, sv_pt_root(m->e.gpt), SV_CR4_PCIDE | SV_CR4_PGE);
	for (vpid = 1; vpid <= 2; vpid++)
		for (pcid = 1; pcid <= 2; pcid++)
			for (ept = 0; ept < 2; ept++) {
				set_tags(m, vpid, pcid, ept);
				t_access(m->e.v, P4, SV_ACCESS_READ);
				t_access(m->e.v, P2, SV_ACCESS_READ);
			}
	set_tags(m, 1, 1, 0); /* the context the guest instructions run in */
}

static void inv_free(inv_env *m)
{
	sv_pt_free(m->tdp_b);
	t_env_free(&m->e);
}

/* A category of cached entries; -1 is "any". */
typedef struct cat {
	int kind, vpid, pcid, ept, global;
	int64_t addr;
	const inv_env *m;
	unsigned n;
} cat;

static void count_cb(const sv_tlb_entry_info *i, void *payload)
{
	cat *c = payload;

	if ((c->kind < 0 || (int)i->kind == c->kind) &&
	    (c->vpid < 0 || i->vpid == c->vpid) &&
	    (c->pcid < 0 || i->pcid == c->pcid) &&
	    (c->global < 0 || i->global == (bool)c->global) &&
	    (c->ept < 0 || i->ep4ta == (c->m->eptp[c->ept] & SV_EPTP_ADDR_MASK)) &&
	    (c->addr < 0 || ((uint64_t)c->addr >= i->addr &&
			     (uint64_t)c->addr - i->addr < i->size)))
		c->n++;
}

static unsigned count(const inv_env *m, int kind, int vpid, int pcid, int ept,
		      int global, int64_t addr)
{
	cat c = {kind, vpid, pcid, ept, global, addr, m, 0};

	sv_vcpu_tlb_foreach(m->e.v, count_cb, &c);
	return c.n;
}

#define C SV_TLBE_COMBINED
#define PSC SV_TLBE_PSC
#define GPH SV_TLBE_GUEST_PHYSICAL
#define NPWC SV_TLBE_NPWC

START_TEST(matrix_filled)
{
	inv_env m;

	inv_setup(&m, NULL);
	/* P4: one L1 and one STLB entry per (VPID, PCID, EPTP): 2*2*2*2 */
	ck_assert_uint_eq(count(&m, C, -1, -1, -1, 0, P4), 16);
	/* P2 global: L1 + STLB per (VPID, EPTP), shared by both PCIDs */
	ck_assert_uint_eq(count(&m, C, -1, -1, -1, 1, P2), 8);
	/* guest-physical entries exist for both EP4TAs, never VPID-tagged */
	ck_assert_uint_gt(count(&m, GPH, 0, -1, 0, -1, -1), 0);
	ck_assert_uint_gt(count(&m, GPH, 0, -1, 1, -1, -1), 0);
	ck_assert_uint_gt(count(&m, PSC, 1, 1, 0, -1, -1), 0);
	inv_free(&m);
}
END_TEST

START_TEST(invlpg)
{
	inv_env m;
	unsigned gph, p2;

	inv_setup(&m, NULL);
	gph = count(&m, GPH, -1, -1, -1, -1, -1);
	p2 = count(&m, C, -1, -1, -1, -1, P2);
	T_OK(sv_vcpu_invlpg(m.e.v, P4));
	/* the page's entries of VPID 1 / PCID 1 go, for both EP4TAs */
	ck_assert_uint_eq(count(&m, C, 1, 1, -1, -1, P4), 0);
	/* other PCIDs and VPIDs keep theirs: 2 entries x 2 EPTPs each */
	ck_assert_uint_eq(count(&m, C, 1, 2, -1, -1, P4), 4);
	ck_assert_uint_eq(count(&m, C, 2, -1, -1, -1, P4), 8);
	/* other addresses stay; all PSC entries of VPID 1 / PCID 1 go */
	ck_assert_uint_eq(count(&m, C, -1, -1, -1, -1, P2), p2);
	ck_assert_uint_eq(count(&m, PSC, 1, 1, -1, -1, -1), 0);
	ck_assert_uint_gt(count(&m, PSC, 1, 2, -1, -1, -1), 0);
	/* guest-physical mappings are not linear ones: untouched */
	ck_assert_uint_eq(count(&m, GPH, -1, -1, -1, -1, -1), gph);
	/* a global page is dropped by INVLPG whatever its PCID */
	T_OK(sv_vcpu_invlpg(m.e.v, P2));
	ck_assert_uint_eq(count(&m, C, 1, -1, -1, -1, P2), 0);
	ck_assert_uint_eq(count(&m, C, 2, -1, -1, -1, P2), 4);
	inv_free(&m);
}
END_TEST

START_TEST(invpcid)
{
	unsigned type;

	for (type = 0; type <= 3; type++) {
		inv_env m;

		inv_setup(&m, NULL);
		/* type 0 and 1 name PCID 2, from context PCID 1 */
		T_OK(sv_vcpu_invpcid(m.e.v, type, 2, P4));
		switch (type) {
		case 0: /* that address, that PCID, non-global */
		case 1: /* that PCID's non-global entries */
			ck_assert_uint_eq(count(&m, C, 1, 2, -1, 0, P4), 0);
			ck_assert_uint_eq(count(&m, C, 1, 1, -1, 0, P4), 4);
			ck_assert_uint_eq(count(&m, C, 1, -1, -1, 1, P2), 4);
			ck_assert_uint_eq(count(&m, PSC, 1, 2, -1, -1, -1), 0);
			ck_assert_uint_gt(count(&m, PSC, 1, 1, -1, -1, -1), 0);
			break;
		case 2: /* everything of VPID 1, globals included */
			ck_assert_uint_eq(count(&m, C, 1, -1, -1, -1, -1), 0);
			ck_assert_uint_eq(count(&m, PSC, 1, -1, -1, -1, -1), 0);
			break;
		default: /* everything of VPID 1 but globals */
			ck_assert_uint_eq(count(&m, C, 1, -1, -1, 0, -1), 0);
			ck_assert_uint_eq(count(&m, C, 1, -1, -1, 1, P2), 4);
			break;
		}
		/* never another VPID, never guest-physical entries */
		ck_assert_uint_eq(count(&m, C, 2, -1, -1, 0, P4), 8);
		ck_assert_uint_eq(count(&m, C, 2, -1, -1, 1, P2), 4);
		ck_assert_uint_gt(count(&m, GPH, -1, -1, -1, -1, -1), 0);
		inv_free(&m);
	}
}
END_TEST

START_TEST(mov_cr3)
{
	inv_env m;
	sv_vcpu_regs r;

	inv_setup(&m, NULL);
	sv_vcpu_get_regs(m.e.v, &r);
	/* bit 63 set: nothing dropped, PCID 2 now current */
	T_OK(sv_vcpu_mov_cr3(m.e.v, (r.cr3 & ~0xfffULL) | 2 | SV_CR3_NOFLUSH));
	ck_assert_uint_eq(count(&m, C, 1, 2, -1, 0, P4), 4);
	/* bit 63 clear: PCID 2's non-global entries of VPID 1 go */
	T_OK(sv_vcpu_mov_cr3(m.e.v, (r.cr3 & ~0xfffULL) | 2));
	ck_assert_uint_eq(count(&m, C, 1, 2, -1, 0, P4), 0);
	ck_assert_uint_eq(count(&m, PSC, 1, 2, -1, -1, -1), 0);
	ck_assert_uint_eq(count(&m, C, 1, 1, -1, 0, P4), 4);
	ck_assert_uint_eq(count(&m, C, 1, -1, -1, 1, P2), 4);
	ck_assert_uint_eq(count(&m, C, 2, -1, -1, -1, -1), 12);
	sv_vcpu_get_regs(m.e.v, &r);
	ck_assert_uint_eq(r.cr3 & SV_CR3_NOFLUSH, 0); /* not stored */
	inv_free(&m);
}
END_TEST

START_TEST(invvpid)
{
	unsigned type;

	for (type = 0; type <= 3; type++) {
		inv_env m;
		unsigned gph;

		inv_setup(&m, NULL);
		gph = count(&m, GPH, -1, -1, -1, -1, -1);
		T_OK(sv_vcpu_invvpid(m.e.v, type, 2, P4));
		switch (type) {
		case 0: /* VPID 2's entries for P4: every PCID and EP4TA */
			ck_assert_uint_eq(count(&m, C, 2, -1, -1, -1, P4), 0);
			ck_assert_uint_eq(count(&m, C, 2, -1, -1, -1, P2), 4);
			break;
		case 1: /* all of VPID 2 */
			ck_assert_uint_eq(count(&m, C, 2, -1, -1, -1, -1), 0);
			ck_assert_uint_eq(count(&m, PSC, 2, -1, -1, -1, -1), 0);
			break;
		case 2: /* every VPID but 0 */
			ck_assert_uint_eq(count(&m, C, -1, -1, -1, -1, -1), 0);
			ck_assert_uint_eq(count(&m, PSC, -1, -1, -1, -1, -1), 0);
			break;
		default: /* VPID 2 but its globals */
			ck_assert_uint_eq(count(&m, C, 2, -1, -1, 0, -1), 0);
			ck_assert_uint_eq(count(&m, C, 2, -1, -1, 1, P2), 4);
			break;
		}
		if (type != 2)
			ck_assert_uint_eq(count(&m, C, 1, -1, -1, -1, -1), 12);
		/* INVVPID never touches guest-physical mappings */
		ck_assert_uint_eq(count(&m, GPH, -1, -1, -1, -1, -1), gph);
		inv_free(&m);
	}
	{
		t_env e;

		t_env_setup(&e, NULL, SV_PAGE_2M);
		ck_assert_int_eq(sv_vcpu_invvpid(e.v, 1, 0, 0), SV_EINVAL);
		ck_assert_int_eq(sv_vcpu_invvpid(e.v, 4, 1, 0), SV_EINVAL);
		t_env_free(&e);
	}
}
END_TEST

START_TEST(invept)
{
	inv_env m;

	inv_setup(&m, NULL);
	T_OK(sv_vcpu_invept(m.e.v, 1, m.eptp[1]));
	/* EP4TA B: combined (every VPID), PSC, guest-physical, walk cache */
	ck_assert_uint_eq(count(&m, C, -1, -1, 1, -1, -1), 0);
	ck_assert_uint_eq(count(&m, PSC, -1, -1, 1, -1, -1), 0);
	ck_assert_uint_eq(count(&m, GPH, -1, -1, 1, -1, -1), 0);
	ck_assert_uint_eq(count(&m, NPWC, -1, -1, 1, -1, -1), 0);
	/* EP4TA A untouched: 8 P4 + 4 P2 combined entries */
	ck_assert_uint_eq(count(&m, C, -1, -1, 0, -1, -1), 12);
	ck_assert_uint_gt(count(&m, GPH, -1, -1, 0, -1, -1), 0);
	T_OK(sv_vcpu_invept(m.e.v, 2, 0));
	ck_assert_uint_eq(count(&m, -1, -1, -1, -1, -1, -1), 0);
	ck_assert_uint_eq(T_STAT(m.e.v, tlb_flush), 2);
	inv_free(&m);
}
END_TEST

START_TEST(svm_flushes)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	unsigned ctl;

	o.tdp = SV_TDP_NPT;
	o.tdp_ad = false;
	for (ctl = 1; ctl <= 7; ctl += 2) {
		inv_env m;

		if (ctl == 5)
			continue;
		inv_setup(&m, &o); /* "VPID" is the ASID here */
		T_OK(sv_vcpu_svm_tlb_control(m.e.v, ctl));
		if (ctl == 1) {
			ck_assert_uint_eq(count(&m, -1, -1, -1, -1, -1, -1), 0);
		} else {
			/* ASID 1's entries go (7 keeps its globals); nested
			 * entries are ASID-tagged under NPT and go too */
			ck_assert_uint_eq(count(&m, C, 1, -1, -1, 0, -1), 0);
			ck_assert_uint_eq(count(&m, C, 1, -1, -1, 1, -1),
					  ctl == 7 ? 4 : 0);
			ck_assert_uint_eq(count(&m, GPH, 1, -1, -1, -1, -1), 0);
			ck_assert_uint_eq(count(&m, C, 2, -1, -1, -1, -1), 12);
			ck_assert_uint_gt(count(&m, GPH, 2, -1, -1, -1, -1), 0);
		}
		inv_free(&m);
	}
	{
		inv_env m;

		inv_setup(&m, &o);
		T_OK(sv_vcpu_invlpga(m.e.v, P4, 2));
		ck_assert_uint_eq(count(&m, C, 2, -1, -1, -1, P4), 0);
		ck_assert_uint_eq(count(&m, C, 1, -1, -1, -1, P4), 8);
		ck_assert_int_eq(sv_vcpu_invept(m.e.v, 1, 0), SV_ENOTSUP);
		inv_free(&m);
	}
}
END_TEST

/* ---- conflicts ----------------------------------------------------------- */

/*
 * A stale 4K entry for A (0x800000) and a new 2M entry covering it: the
 * guest remaps [8M, 10M) from 4K pages to one 2M page without INVLPG of A;
 * INVLPG of another page B only drops B's entries and the
 * paging-structure caches, so the next access to B walks the new 2M PDE.
 */
static void conflict_env(t_env *e, sv_tlb_conflict policy)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;

	o.tlb.conflict = policy;
	t_env_setup(e, &o, SV_PAGE_2M);
	T_OK(sv_pt_map(e->gpt, 0x800000, 0x2000000, SV_PAGE_2M, SV_PAGE_4K,
		       SV_PTE_RW));
	t_access(e->v, 0x800000, SV_ACCESS_READ); /* 4K entry for A */
	T_OK(sv_pt_write(e->gpt, 0x800000, 2,
			 0x2200000 | SV_PTE_P | SV_PTE_RW | SV_PTE_PS));
	T_OK(sv_vcpu_invlpg(e->v, 0x801000));
	t_access(e->v, 0x801000, SV_ACCESS_READ); /* 2M entry */
}

START_TEST(conflict_counted)
{
	sv_tlb_conflict p;

	for (p = SV_TLB_CONFLICT_USE_SMALLER; p <= SV_TLB_CONFLICT_ABORT; p++) {
		t_env e;
		sv_xlate x;
		unsigned i;

		conflict_env(&e, p);
		ck_assert_uint_eq(T_STAT(e.v, tlb_conflicts), 0);
		for (i = 0; i < 3; i++) {
			x = t_access(e.v, 0x800010, SV_ACCESS_READ);
			switch (p) {
			case SV_TLB_CONFLICT_USE_SMALLER: /* the stale 4K page */
				ck_assert_uint_eq(x.gpa, 0x2000010);
				break;
			case SV_TLB_CONFLICT_USE_LARGER: /* the new 2M page */
				ck_assert_uint_eq(x.gpa, 0x2200010);
				break;
			case SV_TLB_CONFLICT_MCE:
				ck_assert_int_eq(x.fault.kind, SV_FAULT_MCE);
				break;
			default:
				ck_assert_int_eq(x.fault.kind, SV_FAULT_TLB_CONFLICT);
				break;
			}
		}
		/* counted once per conflicting lookup: 3 lookups */
		ck_assert_uint_eq(T_STAT(e.v, tlb_conflicts), 3);
		ck_assert_uint_eq(T_STAT(e.v, machine_checks),
				  p == SV_TLB_CONFLICT_MCE ? 3 : 0);
		/* INVLPG of A ends the conflict */
		T_OK(sv_vcpu_invlpg(e.v, 0x800000));
		x = t_access(e.v, 0x800010, SV_ACCESS_READ);
		ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
		ck_assert_uint_eq(x.gpa, 0x2200010);
		ck_assert_uint_eq(T_STAT(e.v, tlb_conflicts), 3);
		t_env_free(&e);
	}
}
END_TEST

/* A hit on the 2M entry at a page the stale 4K entry does not map has no
 * conflict; the next lookup of A still has one (the fast path must not
 * remember the 2M range as the 2M entry's alone). */
START_TEST(conflict_after_clean_hit)
{
	t_env e;
	sv_xlate x;

	conflict_env(&e, SV_TLB_CONFLICT_USE_LARGER);
	x = t_access(e.v, 0x802000, SV_ACCESS_READ);
	ck_assert_uint_eq(x.gpa, 0x2202000);
	ck_assert_uint_eq(T_STAT(e.v, tlb_conflicts), 0);
	x = t_access(e.v, 0x800010, SV_ACCESS_READ);
	ck_assert_uint_eq(x.gpa, 0x2200010);
	/* A: the 4K and the 2M entry both match, one conflicting lookup */
	ck_assert_uint_eq(T_STAT(e.v, tlb_conflicts), 1);
	t_env_free(&e);
}
END_TEST

/* The fast path must count exactly what the full lookup counts. */
START_TEST(fast_path_counts)
{
	t_env e;
	unsigned i;

	pages_env(&e, NULL, 2, 4096);
	for (i = 0; i < 100; i++) {
		t_access(e.v, BASE + (i & 1) * 4096ULL, SV_ACCESS_READ);
		t_access(e.v, BASE, SV_ACCESS_READ);
	}
	/* 2 cold misses; the other 198 accesses hit the L1 DTLB */
	ck_assert_uint_eq(T_STAT(e.v, tlb_miss), 2);
	ck_assert_uint_eq(T_STAT(e.v, l1d_hit_4k), 198);
	ck_assert_uint_eq(T_STAT(e.v, accesses), 200);
	ck_assert_uint_eq(T_STAT(e.v, reads), 200);
	/* a fast-path hit fills in every field of the result: BASE is the
	 * last hit (inline), then BASE + 4K a recent one */
	for (i = 0; i < 2; i++) {
		sv_xlate x;

		memset(&x, 0xa5, sizeof(x));
		T_OK(sv_vcpu_translate(&x, e.v, BASE + i * 4096ULL, 8,
				    SV_ACCESS_READ));
		ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
		ck_assert_int_eq(x.source, SV_SRC_L1);
		ck_assert_uint_eq(x.gpa, 0x2000000 + i * 4096ULL);
		ck_assert_uint_eq(x.page_size, 4096);
		ck_assert_uint_eq(x.refs, 0);
		ck_assert_uint_eq(x.exits, 0);
	}
	t_env_free(&e);
}
END_TEST

static void quiet_observer(const sv_walk_event *ev, void *payload)
{
	(void)ev;
	(void)payload;
}

/*
 * Reads addrs[] in order on an environment `setup` makes, twice: with the
 * fast path, and with an observer (every access then takes the full
 * lookup).  Both runs must count `misses` TLB misses and `hits` of the
 * counter `hit`, and every counter must come out the same.
 */
static void both_ways(void (*setup)(t_env *e), const uint64_t *addrs,
		      unsigned n, uint64_t misses, sv_vcpu_stat hit, uint64_t hits)
{
	uint64_t stats[2][SV_VCPU_STAT__COUNT];
	unsigned run, i;

	for (run = 0; run < 2; run++) {
		t_env e;

		setup(&e);
		if (run == 1)
			sv_vcpu_set_walk_observer(e.v, quiet_observer, NULL);
		for (i = 0; i < n; i++)
			t_access(e.v, addrs[i], SV_ACCESS_READ);
		ck_assert_uint_eq(T_STAT(e.v, tlb_miss), misses);
		ck_assert_uint_eq(sv_vcpu_stat_get(e.v, hit), hits);
		for (i = 0; i < SV_VCPU_STAT__COUNT; i++)
			stats[run][i] = sv_vcpu_stat_get(e.v, (sv_vcpu_stat)i);
		t_env_free(&e);
	}
	for (i = 0; i < SV_VCPU_STAT__COUNT; i++)
		ck_assert_msg(stats[0][i] == stats[1][i],
			      "%s: %" PRIu64 " with the fast path, %" PRIu64
			      " without", sv_vcpu_stat_name((sv_vcpu_stat)i),
			      stats[0][i], stats[1][i]);
}

/* Five 4K pages at BASE, one L1 set of 4 ways, no STLB. */
static void five_4k_pages(t_env *e)
{
	sv_vm_options o = tiny(SV_TLB_LRU);

	pages_env(e, &o, 5, 4096);
}

/* Hits through the recent-pages table touch their entry as the array's
 * lookup does, so LRU stays exact. */
START_TEST(recent_hits_keep_lru)
{
	/* A B C D fill the one set; A B C D hit through the full lookup,
	 * which makes each a recent page; A B hit again, now through the
	 * recent table; E evicts the least recently used, C; D hits; C
	 * misses. */
	static const unsigned seq[] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 4, 3, 2};
	uint64_t addrs[sizeof(seq) / sizeof(seq[0])];
	unsigned i;

	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		addrs[i] = BASE + seq[i] * 4096ULL;
	/* misses: A B C D, E, then C again = 6; hits: 4 + 2 + D = 7 (were
	 * recent hits not touching their entry, E would evict A, and C would
	 * hit) */
	both_ways(five_4k_pages, addrs, i, 6, SV_VCPU_STAT_l1d_hit_4k, 7);
}
END_TEST

/* Five guest 2M pages at BASE over EPT 2M, one L1 2M set of 4 ways, no
 * STLB. */
static void five_2m_pages(t_env *e)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;

	o.tlb.array[SV_TLB_l1d_2m].sets = 1;
	o.tlb.array[SV_TLB_l1d_2m].ways = 4;
	o.tlb.array[SV_TLB_stlb].sets = 0;
	t_env_setup(e, &o, SV_PAGE_2M);
	T_OK(sv_pt_map(e->gpt, BASE, 0x2000000, 5 * SV_PAGE_2M, SV_PAGE_2M,
		       SV_PTE_RW));
}

/* The same through the 2M ranges remembered for huge entries: each access
 * at another 4K page of its 2M page, so that neither the last hit nor the
 * recent 4K pages serve it. */
START_TEST(huge_hits_keep_lru)
{
	/* (2M page, 4K page in it): A B C D miss; A B C D hit through the
	 * full lookup, which remembers each 2M range; A B hit through those
	 * ranges; E evicts the least recently used, C; D hits; C misses. */
	static const unsigned seq[][2] = {
		{0, 0}, {1, 0}, {2, 0}, {3, 0}, {0, 1}, {1, 1}, {2, 1},
		{3, 1}, {0, 2}, {1, 2}, {4, 0}, {3, 3}, {2, 3},
	};
	uint64_t addrs[sizeof(seq) / sizeof(seq[0])];
	unsigned i;

	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		addrs[i] = BASE + seq[i][0] * SV_PAGE_2M + seq[i][1] * 4096ULL;
	/* misses: A B C D, E, then C again = 6; hits: 4 + 2 + D = 7 */
	both_ways(five_2m_pages, addrs, i, 6, SV_VCPU_STAT_l1d_hit_2m, 7);
}
END_TEST

static Suite *tlb_suite(void)
{
	Suite *s = suite_create("tlb");
	TCase *tc;

	tc = tcase_create("reach_replacement");
	tcase_add_test(tc, lru_reach);
	tcase_add_test(tc, access_batch);
	tcase_add_test(tc, default_geometry_same_set);
	tcase_add_test(tc, fifo_vs_lru);
	tcase_add_test(tc, random_is_seeded);
	tcase_add_test(tc, splintering);
	tcase_add_test(tc, splinter_cost);
	tcase_add_test(tc, host_larger);
	tcase_add_test(tc, fast_path_counts);
	tcase_add_test(tc, recent_hits_keep_lru);
	tcase_add_test(tc, huge_hits_keep_lru);
	suite_add_tcase(s, tc);
	tc = tcase_create("invalidation");
	tcase_add_test(tc, matrix_filled);
	tcase_add_test(tc, invlpg);
	tcase_add_test(tc, invpcid);
	tcase_add_test(tc, mov_cr3);
	tcase_add_test(tc, invvpid);
	tcase_add_test(tc, invept);
	tcase_add_test(tc, svm_flushes);
	suite_add_tcase(s, tc);
	tc = tcase_create("conflicts");
	tcase_add_test(tc, conflict_counted);
	tcase_add_test(tc, conflict_after_clean_hit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_run(tlb_suite());
}
