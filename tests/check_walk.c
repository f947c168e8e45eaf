/*
 * tests/check_walk.c - the two-dimensional walk: reference counts, guest
 * #PF error codes and permissions, EPT violations and misconfigurations,
 * #NPF, and accessed/dirty flags.
 */
#include "helpers.h"

/* ---- reference counts over the format table ---------------------------- */

/* n = guest levels walked, m = nested levels walked per GPA;
 * refs = n*m + n + m = (n+1)(m+1) - 1 (reference section f: n guest reads,
 * each after an m-step nested walk of its table's GPA, then m steps for the
 * final GPA). */
static const struct walk_case {
	unsigned glevels, tdp_levels;
	uint64_t gpage, npage;
	unsigned refs;
} walk_cases[] = {
	{4, 4, SV_PAGE_4K, SV_PAGE_4K, 24}, /* n=4 m=4: 5*5-1 */
	{5, 5, SV_PAGE_4K, SV_PAGE_4K, 35}, /* n=5 m=5: 6*6-1 */
	{4, 5, SV_PAGE_4K, SV_PAGE_4K, 29}, /* n=4 m=5: 5*6-1 */
	{4, 4, SV_PAGE_2M, SV_PAGE_4K, 19}, /* n=3 m=4: 4*5-1 */
	{4, 4, SV_PAGE_2M, SV_PAGE_2M, 15}, /* n=3 m=3: 4*4-1 */
	{4, 4, SV_PAGE_4K, SV_PAGE_1G, 14}, /* n=4 m=2: 5*3-1 */
	{4, 4, SV_PAGE_1G, SV_PAGE_1G, 8},  /* n=2 m=2: 3*3-1 */
};
#define N_CASES (sizeof(walk_cases) / sizeof(walk_cases[0]))

#define T_GVA 0x00007f0012345000ULL

static unsigned page_level(uint64_t size)
{
	return size == SV_PAGE_4K ? 1 : size == SV_PAGE_2M ? 2 : 3;
}

static unsigned pt_index(uint64_t a, unsigned level)
{
	return (a >> (12 + 9 * (level - 1))) & 511;
}

static sv_vm *case_vm(const struct walk_case *c, sv_tdp_kind tdp,
		      bool nested_caches)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;

	o.tdp = tdp;
	o.tdp_ad = tdp == SV_TDP_EPT;
	o.tdp_levels = c->tdp_levels;
	o.guest_levels = c->glevels;
	o.maxphyaddr = 52;
	if (!nested_caches) {
		o.tlb.array[SV_TLB_ntlb].sets = 0;
		o.tlb.array[SV_TLB_npwc_l2].sets = 0;
		o.tlb.array[SV_TLB_npwc_l3].sets = 0;
		o.tlb.array[SV_TLB_npwc_l4].sets = 0;
		o.tlb.array[SV_TLB_npwc_l5].sets = 0;
	}
	return t_vm_opts(&o);
}

/*
 * Page i of a spread chain: in top-level nested region i + 1, and offset
 * by i * (2M + 4K) (rounded up to its alignment) so that the pages also
 * fall into different sets of the guest-physical TLB and the level-2
 * page-walk cache.
 */
static uint64_t spread_gpa(const struct walk_case *c, unsigned i,
			   uint64_t align)
{
	uint64_t region = 1ULL << (12 + 9 * (c->tdp_levels - 1));
	uint64_t off = (i * (SV_PAGE_2M + 4096) + align - 1) & ~(align - 1);

	return (i + 1) * region + off;
}

static void spread_map(sv_vm *vm, unsigned slot, uint64_t gpa, uint64_t npage)
{
	uint64_t base = gpa & ~(npage - 1);

	t_slot(vm, slot, gpa & ~0xfffULL, 4096);
	T_OK(sv_pt_map(sv_vm_tdp(vm), base, base, npage, npage, t_nested_all(vm)));
}

/*
 * Puts each guest table of T_GVA's walk, and its data page, in a nested
 * region of its own (one top-level nested entry each), so that no nested
 * cache can serve one walk twice: a cold walk then makes exactly the
 * references of the formula with every cache present.  Returns CR3.
 */
static uint64_t spread_chain(sv_vm *vm, const struct walk_case *c)
{
	unsigned gleaf = page_level(c->gpage), l;
	unsigned ntables = c->glevels - gleaf + 1;
	uint64_t data = spread_gpa(c, ntables, c->gpage);

	for (l = c->glevels; l >= gleaf; l--) {
		unsigned i = c->glevels - l;
		uint64_t table = spread_gpa(c, i, 4096);
		uint64_t next = l == gleaf ? data : spread_gpa(c, i + 1, 4096);
		uint64_t e = next | SV_PTE_P | SV_PTE_RW | SV_PTE_US |
			     (l == gleaf && l > 1 ? SV_PTE_PS : 0);

		spread_map(vm, i, table, c->npage);
		T_OK(sv_gpa_write(vm, table + 8 * pt_index(T_GVA, l), &e, 8));
	}
	spread_map(vm, ntables, data + (T_GVA & (c->gpage - 1)), c->npage);
	return spread_gpa(c, 0, 4096);
}

static void check_cold(sv_tdp_kind tdp, int i)
{
	const struct walk_case *c = &walk_cases[i];
	sv_vm *vm = case_vm(c, tdp, true);
	sv_vcpu *v = sv_vm_vcpu(vm, 0);
	sv_xlate x;

	t_paging(v, spread_chain(vm, c), c->glevels == 5 ? SV_CR4_LA57 : 0);
	x = t_access(v, T_GVA, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(x.refs, c->refs);
	ck_assert_uint_eq(T_STAT(v, walk_refs), c->refs);
	/* the guest reads n entries, the nested dimension the rest */
	ck_assert_uint_eq(T_STAT(v, guest_walk_refs),
			  c->glevels - page_level(c->gpage) + 1);
	/* the combined entry is the smaller of the two pages */
	ck_assert_uint_eq(x.page_size, c->gpage < c->npage ? c->gpage : c->npage);
	sv_vm_free(vm);
}

START_TEST(cold_walk_ept)
{
	check_cold(SV_TDP_EPT, _i);
}
END_TEST

START_TEST(cold_walk_npt)
{
	/* NPT walks the same number of levels: the same counts. */
	check_cold(SV_TDP_NPT, _i);
}
END_TEST

/* Compact layout (guest tables packed in one pool) with the nested caches
 * absent: nothing can be reused, so the formula holds again. */
START_TEST(cold_walk_no_nested_caches)
{
	const struct walk_case *c = &walk_cases[_i];
	sv_vm *vm = case_vm(c, SV_TDP_EPT, false);
	sv_vcpu *v = sv_vm_vcpu(vm, 0);
	uint64_t data = SV_PAGE_1G, span = c->gpage > c->npage ? c->gpage : c->npage;
	uint64_t low = c->npage > (64ULL << 20) ? c->npage : 64ULL << 20;
	sv_pt *gpt;
	sv_xlate x;

	t_slot(vm, 0, 0, 64ULL << 20);
	gpt = t_guest_pt(vm, 1ULL << 20, 1ULL << 20);
	T_OK(sv_pt_map(gpt, T_GVA & ~(c->gpage - 1), data, c->gpage, c->gpage,
		       SV_PTE_RW | SV_PTE_US));
	T_OK(sv_pt_map(sv_vm_tdp(vm), 0, 0, low, c->npage, t_nested_all(vm)));
	T_OK(sv_pt_map(sv_vm_tdp(vm), data, data, span, c->npage,
		       t_nested_all(vm)));
	t_paging(v, sv_pt_root(gpt), c->glevels == 5 ? SV_CR4_LA57 : 0);
	x = t_access(v, T_GVA, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(x.refs, c->refs);
	ck_assert_uint_eq(x.gpa, data + (T_GVA & (c->gpage - 1)));
	sv_pt_free(gpt);
	sv_vm_free(vm);
}
END_TEST

/* Warm caches on the 4-level 4K/4K spread layout. */
START_TEST(warm_walks)
{
	const struct walk_case *c = &walk_cases[0];
	sv_vm *vm = case_vm(c, SV_TDP_EPT, true);
	sv_vcpu *v = sv_vm_vcpu(vm, 0);
	uint64_t cr3 = spread_chain(vm, c);
	uint64_t pt = spread_gpa(c, 3, 4096), data = spread_gpa(c, 4, 4096);
	uint64_t e = (data + 4096) | SV_PTE_P | SV_PTE_RW | SV_PTE_US;
	sv_xlate x;

	/* a second page in the same guest PT, next to the first data page */
	T_OK(sv_gpa_write(vm, pt + 8 * pt_index(T_GVA + 4096, 1), &e, 8));
	T_OK(sv_pt_map(sv_vm_tdp(vm), data + 4096, data + 4096, 4096, 4096,
		       SV_EPT_RWX));
	t_paging(v, cr3, 0);

	x = t_access(v, T_GVA, SV_ACCESS_READ);
	ck_assert_uint_eq(x.refs, 24); /* cold: 5*5-1 */

	x = t_access(v, T_GVA + 4096, SV_ACCESS_READ);
	/* PD-cache hit: 1 guest PTE read, its table's HPA comes with the
	 * cached entry; the new data GPA misses the guest-physical TLB but
	 * the level-2 page-walk cache holds its EPT PT: 1 nested read. */
	ck_assert_uint_eq(x.refs, 2);
	ck_assert_uint_eq(T_STAT(v, psc_hit_pd), 1);
	ck_assert_uint_eq(T_STAT(v, npwc_hit_l2), 1);

	/* MOV to CR3 without PCIDs drops the combined entries and the
	 * paging-structure caches, not the guest-physical mappings: every
	 * GPA hits the nested TLB, leaving the 4 guest reads (scenario 32). */
	T_OK(sv_vcpu_mov_cr3(v, cr3));
	x = t_access(v, T_GVA, SV_ACCESS_READ);
	ck_assert_uint_eq(x.refs, 4);
	ck_assert_uint_eq(T_STAT(v, ntlb_hit), 5); /* 4 tables + data */

	/* INVEPT single-context drops everything of this EP4TA: cold again. */
	T_OK(sv_vcpu_invept(v, 1, sv_pt_pointer(sv_vm_tdp(vm))));
	x = t_access(v, T_GVA, SV_ACCESS_READ);
	ck_assert_uint_eq(x.refs, 24);

	/* A repeat access hits the L1 DTLB: no reference. */
	x = t_access(v, T_GVA, SV_ACCESS_READ);
	ck_assert_uint_eq(x.refs, 0);
	ck_assert_int_eq(x.source, SV_SRC_L1);
	sv_vm_free(vm);
}
END_TEST

/* ---- guest #PF error codes and permissions ------------------------------- */

#define G_USER_RW 0x10000000ULL /* user, writable */
#define G_USER_RO 0x10001000ULL /* user, read-only */
#define G_SUP_RW 0x10002000ULL  /* supervisor, writable */
#define G_SUP_RO 0x10003000ULL  /* supervisor, read-only */
#define G_USER_NX 0x10004000ULL /* user, execute-disable */
#define G_ABSENT 0x10005000ULL  /* not mapped */

static void perm_env(t_env *e, const sv_vm_options *o)
{
	t_env_setup(e, o, SV_PAGE_2M);
	T_OK(sv_pt_map(e->gpt, G_USER_RW, 0x2000000, 4096, 4096,
		       SV_PTE_RW | SV_PTE_US));
	T_OK(sv_pt_map(e->gpt, G_USER_RO, 0x2001000, 4096, 4096, SV_PTE_US));
	T_OK(sv_pt_map(e->gpt, G_SUP_RW, 0x2002000, 4096, 4096, SV_PTE_RW));
	T_OK(sv_pt_map(e->gpt, G_SUP_RO, 0x2003000, 4096, 4096, 0));
	T_OK(sv_pt_map(e->gpt, G_USER_NX, 0x2004000, 4096, 4096,
		       SV_PTE_RW | SV_PTE_US | SV_PTE_NX));
}

static void set_mode(sv_vcpu *v, unsigned cpl, uint64_t cr0_set,
		     uint64_t cr4_set, uint64_t rflags_set)
{
	sv_vcpu_regs r;

	sv_vcpu_get_regs(v, &r);
	r.cpl = cpl;
	r.cr0 |= cr0_set;
	r.cr4 |= cr4_set;
	r.rflags |= rflags_set;
	T_OK(sv_vcpu_set_regs(v, &r));
}

/* Expects a #PF with this error code, or success when pfec < 0. */
static void expect(sv_vcpu *v, uint64_t gva, sv_access acc, int pfec)
{
	sv_xlate x = t_access(v, gva, acc);

	if (pfec < 0) {
		ck_assert_msg(x.fault.kind == SV_FAULT_NONE,
			      "gva %#llx acc %d: fault %d ec %#llx",
			      (unsigned long long)gva, acc, x.fault.kind,
			      (unsigned long long)x.fault.error_code);
		return;
	}
	ck_assert_msg(x.fault.kind == SV_FAULT_PF, "gva %#llx acc %d: no #PF",
		      (unsigned long long)gva, acc);
	ck_assert_int_eq(x.fault.stage, SV_STAGE_GUEST);
	ck_assert_uint_eq(x.fault.gva, gva);
	ck_assert_msg(x.fault.error_code == (uint64_t)pfec,
		      "gva %#llx acc %d: error code %#llx, expected %#x",
		      (unsigned long long)gva, acc,
		      (unsigned long long)x.fault.error_code, pfec);
}

START_TEST(pf_error_codes)
{
	t_env e;

	perm_env(&e, NULL);
	/* Supervisor (CPL 0), CR0.WP = 0, no SMEP/SMAP. */
	expect(e.v, G_ABSENT, SV_ACCESS_READ, 0x0);  /* not present, read */
	expect(e.v, G_ABSENT, SV_ACCESS_WRITE, 0x2); /* W */
	expect(e.v, G_ABSENT, SV_ACCESS_FETCH, 0x10); /* I (EFER.NXE on) */
	expect(e.v, G_SUP_RO, SV_ACCESS_WRITE, -1); /* WP=0: allowed */
	expect(e.v, G_USER_RO, SV_ACCESS_READ, -1);
	expect(e.v, G_USER_NX, SV_ACCESS_FETCH, 0x11); /* P|I: XD */
	/* CR0.WP = 1: a supervisor write needs R/W. */
	set_mode(e.v, 0, SV_CR0_WP, 0, 0);
	expect(e.v, G_SUP_RO, SV_ACCESS_WRITE, 0x3); /* P|W */
	expect(e.v, G_USER_RO, SV_ACCESS_WRITE, 0x3);
	expect(e.v, G_USER_RW, SV_ACCESS_WRITE, -1);
	/* User mode: supervisor pages and read-only writes fault. */
	set_mode(e.v, 3, 0, 0, 0);
	expect(e.v, G_SUP_RW, SV_ACCESS_READ, 0x5);  /* P|U */
	expect(e.v, G_USER_RO, SV_ACCESS_WRITE, 0x7); /* P|W|U */
	expect(e.v, G_ABSENT, SV_ACCESS_READ, 0x4);  /* U */
	expect(e.v, G_USER_RW, SV_ACCESS_WRITE, -1);
	expect(e.v, G_USER_RW, SV_ACCESS_FETCH, -1);
	t_env_free(&e);
}
END_TEST

START_TEST(smep_smap)
{
	t_env e;

	perm_env(&e, NULL);
	set_mode(e.v, 0, 0, SV_CR4_SMEP | SV_CR4_SMAP, 0);
	/* SMEP: a supervisor fetch from a user page is P|I. */
	expect(e.v, G_USER_RW, SV_ACCESS_FETCH, 0x11);
	expect(e.v, G_SUP_RW, SV_ACCESS_FETCH, -1);
	/* SMAP without EFLAGS.AC: supervisor data access to a user page. */
	expect(e.v, G_USER_RW, SV_ACCESS_READ, 0x1);
	expect(e.v, G_USER_RW, SV_ACCESS_WRITE, 0x3);
	/* with EFLAGS.AC set the same accesses are allowed */
	set_mode(e.v, 0, 0, 0, SV_RFLAGS_AC);
	expect(e.v, G_USER_RW, SV_ACCESS_READ, -1);
	expect(e.v, G_USER_RW, SV_ACCESS_WRITE, -1);
	/* pf_guest counted each #PF: 3 above */
	ck_assert_uint_eq(T_STAT(e.v, pf_guest), 3);
	t_env_free(&e);
}
END_TEST

START_TEST(reserved_bits)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	uint64_t pte, pde, pml4e;
	sv_xlate x;
	t_env e;

	o.guest_1g = false;
	perm_env(&e, &o); /* MAXPHYADDR 46 by default */
	T_OK(sv_pt_get(&pte, e.gpt, G_USER_RW, 1));
	/* bit 51 is beyond MAXPHYADDR: P|RSVD on a read */
	T_OK(sv_pt_write(e.gpt, G_USER_RW, 1, pte | (1ULL << 51)));
	expect(e.v, G_USER_RW, SV_ACCESS_READ, 0x9);
	T_OK(sv_pt_write(e.gpt, G_USER_RW, 1, pte));
	expect(e.v, G_USER_RW, SV_ACCESS_READ, -1);
	/* PS in a PML4E is reserved: the fault names level 4 */
	T_OK(sv_pt_get(&pml4e, e.gpt, G_USER_RW, 4));
	T_OK(sv_pt_write(e.gpt, G_USER_RW, 4, pml4e | SV_PTE_PS));
	T_OK(sv_vcpu_mov_cr3(e.v, sv_pt_root(e.gpt))); /* drop cached state */
	x = t_access(e.v, G_USER_RW, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	ck_assert_uint_eq(x.fault.error_code, 0x9);
	ck_assert_uint_eq(x.fault.level, 4);
	T_OK(sv_pt_write(e.gpt, G_USER_RW, 4, pml4e));
	/* PS in a PDPTE without 1G pages (CPUID PDPE1GB off) is reserved */
	{
		uint64_t pdpte;

		T_OK(sv_pt_get(&pdpte, e.gpt, G_USER_RW, 3));
		T_OK(sv_pt_write(e.gpt, G_USER_RW, 3, pdpte | SV_PTE_PS));
		T_OK(sv_vcpu_mov_cr3(e.v, sv_pt_root(e.gpt)));
		x = t_access(e.v, G_USER_RW, SV_ACCESS_READ);
		ck_assert_uint_eq(x.fault.error_code, 0x9);
		ck_assert_uint_eq(x.fault.level, 3);
		T_OK(sv_pt_write(e.gpt, G_USER_RW, 3, pdpte));
	}
	/* a 2M leaf reserves bits 20:13 */
	T_OK(sv_pt_get(&pde, e.gpt, G_USER_RW, 2));
	T_OK(sv_pt_write(e.gpt, G_USER_RW, 2,
			 0x2000000 | SV_PTE_P | SV_PTE_PS | (1ULL << 13)));
	T_OK(sv_vcpu_mov_cr3(e.v, sv_pt_root(e.gpt)));
	x = t_access(e.v, G_USER_RW, SV_ACCESS_READ);
	ck_assert_uint_eq(x.fault.error_code, 0x9);
	ck_assert_uint_eq(x.fault.level, 2);
	T_OK(sv_pt_write(e.gpt, G_USER_RW, 2, pde));
	T_OK(sv_vcpu_mov_cr3(e.v, sv_pt_root(e.gpt)));
	/* XD is reserved without EFER.NXE: P|RSVD even on a read */
	{
		sv_vcpu_regs r;

		sv_vcpu_get_regs(e.v, &r);
		r.efer &= ~SV_EFER_NXE;
		T_OK(sv_vcpu_set_regs(e.v, &r));
		expect(e.v, G_USER_NX, SV_ACCESS_READ, 0x9);
		/* and without NXE (or SMEP) a fetch fault has no I bit */
		expect(e.v, G_ABSENT, SV_ACCESS_FETCH, 0x0);
	}
	t_env_free(&e);
}
END_TEST

START_TEST(noncanonical_gp)
{
	t_env e;
	sv_xlate x;

	t_env_setup(&e, NULL, SV_PAGE_2M);
	x = t_access(e.v, 0x0000800000000000ULL, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_GP);
	ck_assert_uint_eq(T_STAT(e.v, gp_noncanonical), 1);
	ck_assert_uint_eq(T_STAT(e.v, walk_refs), 0); /* no walk at all */
	t_env_free(&e);
}
END_TEST

START_TEST(accessed_dirty)
{
	uint64_t ent;
	t_env e;
	unsigned l;

	perm_env(&e, NULL);
	expect(e.v, G_USER_RW, SV_ACCESS_READ, -1);
	for (l = 1; l <= 4; l++) {
		T_OK(sv_pt_get(&ent, e.gpt, G_USER_RW, l));
		ck_assert(ent & SV_PTE_A);
		ck_assert(!(ent & SV_PTE_D));
	}
	/* a fresh 4-level walk sets A at 4 levels */
	ck_assert_uint_eq(T_STAT(e.v, guest_ad_updates), 4);
	/* the write hits a clean TLB entry and walks to set D */
	expect(e.v, G_USER_RW, SV_ACCESS_WRITE, -1);
	ck_assert_uint_eq(T_STAT(e.v, tlb_dirty_miss), 1);
	ck_assert_uint_eq(T_STAT(e.v, guest_ad_updates), 5);
	T_OK(sv_pt_get(&ent, e.gpt, G_USER_RW, 1));
	ck_assert(ent & SV_PTE_D);
	/* now dirty in the TLB: the next write hits */
	expect(e.v, G_USER_RW, SV_ACCESS_WRITE, -1);
	/* misses: the cold read, and the write that found a clean entry;
	 * this last write hit */
	ck_assert_uint_eq(T_STAT(e.v, tlb_miss), 2);
	t_env_free(&e);
}
END_TEST

/* ---- EPT violations, misconfigurations, #NPF ----------------------------- */

START_TEST(ept_violation_final)
{
	t_env e;
	sv_xlate x;

	t_env_setup(&e, NULL, SV_PAGE_2M);
	/* guest maps a page at GPA 1G, which EPT does not map */
	T_OK(sv_pt_map(e.gpt, 0x20000000, SV_PAGE_1G, 4096, 4096, SV_PTE_RW));
	x = t_access(e.v, 0x20000123, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_EPT_VIOLATION);
	ck_assert_int_eq(x.fault.stage, SV_STAGE_NESTED_FINAL);
	ck_assert_uint_eq(x.fault.gpa, SV_PAGE_1G + 0x123);
	ck_assert_uint_eq(x.fault.gva, 0x20000123);
	/* write, nothing permitted (not present), GLA valid, final GPA */
	ck_assert_uint_eq(x.fault.exit_qualification,
			  SV_EPT_EXITQ_WRITE | SV_EPT_EXITQ_GLA_VALID |
				  SV_EPT_EXITQ_FINAL);
	/* now map it read+execute only: a write is a permission violation
	 * reporting what the entries allow (R and X, not W) */
	T_OK(sv_pt_map(e.tdp, SV_PAGE_1G, 0x80000000, SV_PAGE_2M, SV_PAGE_2M,
		       SV_EPT_R | SV_EPT_X));
	x = t_access(e.v, 0x20000123, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_EPT_VIOLATION);
	ck_assert_uint_eq(x.fault.exit_qualification,
			  SV_EPT_EXITQ_WRITE | SV_EPT_EXITQ_READABLE |
				  SV_EPT_EXITQ_EXECUTABLE |
				  SV_EPT_EXITQ_GLA_VALID | SV_EPT_EXITQ_FINAL);
	/* a read succeeds and lands in the right host frame */
	x = t_access(e.v, 0x20000123, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(x.hpa, 0x80000123);
	/* the two writes above: not present, then not writable */
	ck_assert_uint_eq(T_STAT(e.v, ept_violations), 2);
	t_env_free(&e);
}
END_TEST

/* A guest table whose GPA is not mapped in EPT: the violation happens at
 * a guest paging-structure access (bit 8 clear); with EPT A/D on that
 * access counts as a write, so bits 0 and 1 are both set. */
static void table_violation(bool ad)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	sv_vcpu_regs r;
	t_env e;
	sv_xlate x;
	uint64_t want = SV_EPT_EXITQ_READ | SV_EPT_EXITQ_GLA_VALID;

	o.tdp_ad = ad;
	t_env_setup(&e, &o, SV_PAGE_2M);
	T_OK(sv_pt_map(e.gpt, 0x20000000, 0x2000000, 4096, 4096, SV_PTE_RW));
	/* unmap the 2M nested page holding the guest tables [1M, 2M) */
	T_OK(sv_pt_unmap(e.tdp, 0, SV_PAGE_2M));
	sv_vcpu_get_regs(e.v, &r);
	x = t_access(e.v, 0x20000000, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_EPT_VIOLATION);
	ck_assert_int_eq(x.fault.stage, SV_STAGE_NESTED_TABLE);
	ck_assert_uint_eq(x.fault.gpa, r.cr3 & SV_PTE_ADDR_MASK);
	/* the walk stopped at the nested PDE that mapped [0, 2M) */
	ck_assert_uint_eq(x.fault.level, 2);
	/* nested PML4E, PDPTE and the absent PDE; the guest's root table
	 * was never reached, so no guest entry was read */
	ck_assert_uint_eq(x.refs, 3);
	ck_assert_uint_eq(T_STAT(e.v, guest_walk_refs), 0);
	if (ad)
		want |= SV_EPT_EXITQ_WRITE;
	ck_assert_uint_eq(x.fault.exit_qualification, want);
	t_env_free(&e);
}

START_TEST(ept_violation_table)
{
	table_violation(false);
	table_violation(true);
}
END_TEST

START_TEST(ept_misconfig)
{
	static const uint64_t bad[] = {
		SV_EPT_W | (6 << 3),                         /* W without R */
		SV_EPT_R | (2 << 3),                         /* memory type 2 */
		SV_EPT_R | (7 << 3),                         /* memory type 7 */
		SV_EPT_RWX | (6 << 3) | (1ULL << 50),        /* above MAXPHYADDR */
	};
	unsigned i;

	for (i = 0; i < 4; i++) {
		t_env e;
		sv_xlate x;

		t_env_setup(&e, NULL, SV_PAGE_2M);
		T_OK(sv_pt_map(e.gpt, 0x20000000, 0x2000000, 4096, 4096, 0));
		/* the 2M nested leaf for [32M, 34M) */
		T_OK(sv_pt_write(e.tdp, 0x2000000, 2,
				 0x2000000 | SV_EPT_PS | bad[i]));
		x = t_access(e.v, 0x20000000, SV_ACCESS_READ);
		ck_assert_msg(x.fault.kind == SV_FAULT_EPT_MISCONFIG,
			      "case %u: kind %d", i, x.fault.kind);
		ck_assert_uint_eq(x.fault.gpa, 0x2000000);
		ck_assert_uint_eq(T_STAT(e.v, ept_misconfigs), 1);
		t_env_free(&e);
	}
}
END_TEST

/* Bits 2:0 of a nested entry that points at a table (SDM "EPT
 * Misconfigurations"): W without R is misconfigured, and so is X without R
 * where execute-only translations are not supported; where they are, an
 * X-only table entry is valid and a read through it is a violation. */
START_TEST(ept_misconfig_table)
{
	static const struct {
		uint64_t rwx;
		bool exec_only;
		sv_fault_kind want;
	} cases[] = {
		{SV_EPT_W, false, SV_FAULT_EPT_MISCONFIG},
		{SV_EPT_W, true, SV_FAULT_EPT_MISCONFIG},
		{SV_EPT_W | SV_EPT_X, true, SV_FAULT_EPT_MISCONFIG},
		{SV_EPT_X, false, SV_FAULT_EPT_MISCONFIG},
		{SV_EPT_X, true, SV_FAULT_EPT_VIOLATION},
		{SV_EPT_R, false, SV_FAULT_NONE},
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sv_vm_options o = SV_VM_OPTIONS_INIT;
		uint64_t pde;
		t_env e;
		sv_xlate x;

		o.ept_exec_only = cases[i].exec_only;
		t_env_setup(&e, &o, SV_PAGE_4K);
		T_OK(sv_pt_map(e.gpt, 0x20000000, 0x2000000, 4096, 4096, 0));
		/* the nested PDE for [32M, 34M), which points at a table */
		T_OK(sv_pt_get(&pde, e.tdp, 0x2000000, 2));
		T_OK(sv_pt_write(e.tdp, 0x2000000, 2,
				 (pde & SV_EPT_ADDR_MASK) | cases[i].rwx));
		x = t_access(e.v, 0x20000000, SV_ACCESS_READ);
		ck_assert_msg(x.fault.kind == cases[i].want, "case %u: kind %d",
			      i, x.fault.kind);
		/* a misconfiguration stops at the PDE, the final GPA's walk */
		ck_assert_uint_eq(T_STAT(e.v, ept_misconfigs),
				  cases[i].want == SV_FAULT_EPT_MISCONFIG);
		if (cases[i].want == SV_FAULT_EPT_MISCONFIG)
			ck_assert_uint_eq(x.fault.gpa, 0x2000000);
		/* the violation: a read, through entries that allow X only */
		if (cases[i].want == SV_FAULT_EPT_VIOLATION)
			ck_assert_uint_eq(x.fault.exit_qualification,
					  SV_EPT_EXITQ_READ |
						  SV_EPT_EXITQ_EXECUTABLE |
						  SV_EPT_EXITQ_GLA_VALID |
						  SV_EPT_EXITQ_FINAL);
		t_env_free(&e);
	}
}
END_TEST

START_TEST(ept_ad_flags)
{
	t_env e;
	uint64_t ent;

	t_env_setup(&e, NULL, SV_PAGE_2M); /* default: EPT A/D on */
	T_OK(sv_pt_map(e.gpt, 0x20000000, 0x2000000, 4096, 4096, SV_PTE_RW));
	t_access(e.v, 0x20000000, SV_ACCESS_READ);
	T_OK(sv_pt_get(&ent, e.tdp, 0x2000000, 2));
	ck_assert(ent & SV_EPT_A);
	ck_assert(!(ent & SV_EPT_D));
	/* the guest tables live in [0, 2M): with A/D on, the walk's accesses
	 * to them are writes, so that nested page is dirty */
	T_OK(sv_pt_get(&ent, e.tdp, 0, 2));
	ck_assert(ent & SV_EPT_D);
	t_access(e.v, 0x20000000, SV_ACCESS_WRITE);
	T_OK(sv_pt_get(&ent, e.tdp, 0x2000000, 2));
	ck_assert(ent & SV_EPT_D);
	t_env_free(&e);
}
END_TEST

/* Without EPT A/D, setting a guest A flag writes the guest table: if that
 * table is read-only in EPT, the write is an EPT violation at a table. */
START_TEST(guest_ad_needs_nested_write)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	t_env e;
	sv_xlate x;

	o.tdp_ad = false;
	t_env_setup(&e, &o, SV_PAGE_2M);
	T_OK(sv_pt_map(e.gpt, 0x20000000, 0x2000000, 4096, 4096, SV_PTE_RW));
	T_OK(sv_pt_write(e.tdp, 0, 2, 0 | SV_EPT_PS | SV_EPT_R | SV_EPT_X | (6 << 3)));
	x = t_access(e.v, 0x20000000, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_EPT_VIOLATION);
	ck_assert_int_eq(x.fault.stage, SV_STAGE_NESTED_TABLE);
	ck_assert_uint_eq(x.fault.exit_qualification & 7, SV_EPT_EXITQ_WRITE);
	t_env_free(&e);
}
END_TEST

START_TEST(npf_error_codes)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	t_env e;
	sv_xlate x;

	o.tdp = SV_TDP_NPT;
	o.tdp_ad = false;
	t_env_setup(&e, &o, SV_PAGE_2M);
	T_OK(sv_pt_map(e.gpt, 0x20000000, SV_PAGE_1G, 4096, 4096, SV_PTE_RW));
	T_OK(sv_pt_map(e.gpt, 0x20001000, 0x2000000, 4096, 4096, SV_PTE_RW));
	/* not present at the final GPA: U (nested accesses are user) and
	 * bit 32 */
	x = t_access(e.v, 0x20000000, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NPF);
	ck_assert_uint_eq(x.fault.error_code, SV_PFERR_U | SV_NPF_FINAL_ADDR);
	/* the nested leaf read-only: a write is P|W|U, bit 32 */
	T_OK(sv_pt_write(e.tdp, 0x2000000, 2,
			 0x2000000 | SV_PTE_P | SV_PTE_US | SV_PTE_PS));
	x = t_access(e.v, 0x20001000, SV_ACCESS_WRITE);
	ck_assert_uint_eq(x.fault.error_code,
			  SV_PFERR_P | SV_PFERR_W | SV_PFERR_U | SV_NPF_FINAL_ADDR);
	/* a nested leaf without U/S: even a read faults (P|U) */
	T_OK(sv_pt_write(e.tdp, 0x2000000, 2,
			 0x2000000 | SV_PTE_P | SV_PTE_RW | SV_PTE_PS));
	x = t_access(e.v, 0x20001000, SV_ACCESS_READ);
	ck_assert_uint_eq(x.fault.error_code,
			  SV_PFERR_P | SV_PFERR_U | SV_NPF_FINAL_ADDR);
	/* the guest tables' nested page gone: bit 33, and W, since NPT
	 * accesses to guest tables are user writes */
	T_OK(sv_pt_unmap(e.tdp, 0, SV_PAGE_2M));
	T_OK(sv_vcpu_svm_tlb_control(e.v, 3));
	x = t_access(e.v, 0x20001000, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.stage, SV_STAGE_NESTED_TABLE);
	ck_assert_uint_eq(x.fault.error_code,
			  SV_PFERR_W | SV_PFERR_U | SV_NPF_GUEST_TABLE);
	t_env_free(&e);
}
END_TEST

START_TEST(paging_off)
{
	t_env e;
	sv_vcpu_regs r;
	sv_xlate x;

	t_env_setup(&e, NULL, SV_PAGE_2M);
	sv_vcpu_get_regs(e.v, &r);
	r.cr0 &= ~SV_CR0_PG;
	T_OK(sv_vcpu_set_regs(e.v, &r));
	/* linear = guest-physical: only the 3-level nested walk (2M) */
	x = t_access(e.v, 0x3000123, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(x.gpa, 0x3000123);
	ck_assert_uint_eq(x.refs, 3);
	ck_assert_uint_eq(x.page_size, SV_PAGE_2M);
	t_env_free(&e);
}
END_TEST

static Suite *walk_suite(void)
{
	Suite *s = suite_create("walk");
	TCase *tc;

	tc = tcase_create("reference_counts");
	tcase_add_loop_test(tc, cold_walk_ept, 0, N_CASES);
	tcase_add_loop_test(tc, cold_walk_npt, 0, N_CASES);
	tcase_add_loop_test(tc, cold_walk_no_nested_caches, 0, N_CASES);
	tcase_add_test(tc, warm_walks);
	suite_add_tcase(s, tc);
	tc = tcase_create("guest_faults");
	tcase_add_test(tc, pf_error_codes);
	tcase_add_test(tc, smep_smap);
	tcase_add_test(tc, reserved_bits);
	tcase_add_test(tc, noncanonical_gp);
	tcase_add_test(tc, accessed_dirty);
	tcase_add_test(tc, paging_off);
	suite_add_tcase(s, tc);
	tc = tcase_create("nested_faults");
	tcase_add_test(tc, ept_violation_final);
	tcase_add_test(tc, ept_violation_table);
	tcase_add_test(tc, ept_misconfig);
	tcase_add_test(tc, ept_misconfig_table);
	tcase_add_test(tc, ept_ad_flags);
	tcase_add_test(tc, guest_ad_needs_nested_write);
	tcase_add_test(tc, npf_error_codes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_run(walk_suite());
}
