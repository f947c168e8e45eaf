/*
 * tests/check_guestmm.c - the guest kernel's memory management: VMAs,
 * demand paging, guest THP under its three modes, the zero page, the
 * buddy allocator's fallback, unmapping with its TLB maintenance, under
 * either hypervisor MMU.  The machine: 64 MiB of guest memory at GUEST_MEM
 * over THP host memory, managed by the model; one vCPU running its
 * process.
 */
#define _GNU_SOURCE /* mkstemp */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define SZ_4K 0x1000ULL
#define SZ_2M (2ULL << 20)
#define GUEST_MEM (1ULL << 30) /* where sv_trace_machine puts it */
#define GMS(gm, name) sv_guestmm_stat_get((gm), SV_GUESTMM_STAT_##name)

typedef struct rig {
	sv_trace_machine m;
	sv_host *h;
	sv_vm *vm;
	sv_vcpu *v;
	sv_guestmm *gm;           /* the process the rig's accesses run in */
} rig;

/* The machine (sv_trace_machine: THP host memory, the vCPU in long mode
 * with CR0.WP, as Linux runs, so the zero page is read-only to the kernel
 * too) with the guest kernel's options go and THP mode thp. */
static void rig_up_opts(rig *r, sv_guest_thp thp, uint64_t mem, sv_mmu_kind mmu,
			sv_guestmm_options go)
{
	sv_trace_machine_options o = SV_TRACE_MACHINE_OPTIONS_INIT;

	memset(r, 0, sizeof(*r));
	o.mem = mem;
	o.mmu = mmu;
	o.guest = go;
	o.guest.thp = thp;
	T_OK(sv_trace_machine_new(&r->m, &o));
	r->h = r->m.host;
	r->vm = r->m.vm;
	r->v = r->m.vcpu;
	r->gm = r->m.guest;
}

static void rig_up(rig *r, sv_guest_thp thp, uint64_t mem, sv_mmu_kind mmu)
{
	sv_guestmm_options go = SV_GUESTMM_OPTIONS_INIT;

	rig_up_opts(r, thp, mem, mmu, go);
}

static void rig_down(rig *r)
{
	sv_trace_machine_free(&r->m);
}

static sv_xlate acc(rig *r, uint64_t gva, sv_access a)
{
	sv_xlate x;

	T_OK(sv_guestmm_access(&x, r->gm, r->v, gva, 8, a));
	return x;
}

static void write_each(rig *r, uint64_t gva, uint64_t len)
{
	uint64_t a;

	for (a = gva; a < gva + len; a += SZ_4K) {
		sv_xlate x = acc(r, a, SV_ACCESS_WRITE);

		if (x.fault.kind != SV_FAULT_NONE)
			ck_abort_msg("gva 0x%llx: %s", (unsigned long long)a,
				     sv_fault_kind_name(x.fault.kind));
	}
}

static uint64_t map8m(rig *r)
{
	uint64_t gva;

	T_OK(sv_guestmm_mmap(&gva, r->gm, 0, 8ULL << 20,
			     SV_PROT_READ | SV_PROT_WRITE, 0));
	/* a multiple of 2M is placed 2M-aligned, from 4G */
	ck_assert_uint_eq(gva, 0x100000000ULL);
	return gva;
}

START_TEST(thp_always)
{
	sv_mmu_kind mmu = _i ? SV_MMU_SHADOW : SV_MMU_TDP;
	uint64_t gva;
	rig r;

	rig_up(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, mmu);
	gva = map8m(&r);
	write_each(&r, gva, 8ULL << 20);
	/* 8M / 2M = 4 THPs, each one fault and 512 pages */
	ck_assert_uint_eq(GMS(r.gm, pgfault), 4);
	ck_assert_uint_eq(GMS(r.gm, thp_fault_alloc), 4);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), 4 * 512);
	/* the TLB holds 2M entries where guest and host both map 2M: each
	 * THP's writes fill one (4), and so does the kernel's clearing of it
	 * through its direct map, 2M pages over the host's THPs (4) */
	ck_assert_uint_eq(T_STAT(r.v, tlb_fill_2m), 4 + 4);
	/* 512 clear_page stores per THP, and the region's 2,048 writes, of
	 * which each THP's first faulted and ran again (4) */
	ck_assert_uint_eq(T_STAT(r.v, writes), 4 * 512 + 2048 + 4);
	rig_down(&r);
}
END_TEST

START_TEST(thp_never)
{
	uint64_t gva;
	rig r;

	rig_up(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP);
	gva = map8m(&r);
	write_each(&r, gva, 8ULL << 20);
	/* one fault per 4K page: 8M / 4K */
	ck_assert_uint_eq(GMS(r.gm, pgfault), 2048);
	ck_assert_uint_eq(GMS(r.gm, thp_fault_alloc), 0);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), 2048);
	/* guest 4K pages over host THP: the process's entries are 4K; the
	 * 2M ones are the kernel's direct map, one per 2M block its 2,048
	 * cleared pages came from (five: the zero page took the first
	 * block's first page) */
	ck_assert_uint_eq(T_STAT(r.v, tlb_fill_2m), 5);
	rig_down(&r);
}
END_TEST

START_TEST(thp_madvise)
{
	uint64_t gva;
	rig r;

	rig_up(&r, SV_GUEST_THP_MADVISE, 64ULL << 20, SV_MMU_TDP);
	gva = map8m(&r);
	/* the first 2M without advice: 512 4K faults; the next 2M after
	 * MADV_HUGEPAGE: one THP; the third after MADV_NOHUGEPAGE: 512 */
	write_each(&r, gva, SZ_2M);
	T_OK(sv_guestmm_madvise(r.gm, gva + SZ_2M, SZ_2M, SV_GMADV_HUGEPAGE));
	T_OK(sv_guestmm_madvise(r.gm, gva + 2 * SZ_2M, SZ_2M, SV_GMADV_NOHUGEPAGE));
	write_each(&r, gva + SZ_2M, 2 * SZ_2M);
	ck_assert_uint_eq(GMS(r.gm, thp_fault_alloc), 1);
	ck_assert_uint_eq(GMS(r.gm, pgfault), 512 + 1 + 512);
	rig_down(&r);
}
END_TEST

START_TEST(zero_page_then_write)
{
	uint64_t gva;
	sv_xlate x;
	rig r;

	rig_up(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP);
	gva = map8m(&r);
	/* a read of untouched memory maps the shared zero page */
	x = acc(&r, gva, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(GMS(r.gm, zero_page_maps), 1);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), 0);
	/* the write then faults on the read-only zero page: a page of its
	 * own (two faults in all, one page) */
	x = acc(&r, gva, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(GMS(r.gm, cow_zero), 1);
	ck_assert_uint_eq(GMS(r.gm, pgfault), 2);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), 1);
	rig_down(&r);
}
END_TEST

START_TEST(thp_fallback)
{
	uint64_t gva;
	sv_xlate x;
	rig r;

	/* 4M: 2M of tables' pool and one 2M block of frames, which the zero
	 * page splits: no 2M block is left */
	rig_up(&r, SV_GUEST_THP_ALWAYS, 4ULL << 20, SV_MMU_TDP);
	T_OK(sv_guestmm_mmap(&gva, r.gm, 0, SZ_2M, SV_PROT_READ | SV_PROT_WRITE, 0));
	x = acc(&r, gva, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(GMS(r.gm, thp_fault_fallback), 1);
	ck_assert_uint_eq(GMS(r.gm, thp_fault_alloc), 0);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), 1);
	rig_down(&r);
}
END_TEST

START_TEST(munmap_splits_and_flushes)
{
	uint64_t gva, faults;
	sv_xlate x;
	rig r;

	rig_up(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP);
	gva = map8m(&r);
	write_each(&r, gva, 8ULL << 20);
	/* one 4K page out of the first THP: the PMD splits, the page goes
	 * (one INVLPG), the other 511 stay mapped */
	T_OK(sv_guestmm_munmap(r.gm, gva + SZ_4K, SZ_4K));
	ck_assert_uint_eq(GMS(r.gm, pgfree), 1);
	ck_assert_uint_eq(GMS(r.gm, tlb_invlpg), 1);
	faults = GMS(r.gm, pgfault);
	write_each(&r, gva, SZ_4K);
	write_each(&r, gva + 2 * SZ_4K, SZ_2M - 2 * SZ_4K);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults);
	/* the hole is no VMA: the process's SIGSEGV */
	x = acc(&r, gva + SZ_4K, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults);
	/* the last three THPs whole: 3 leaves, INVLPG each (under the
	 * ceiling of 33) */
	T_OK(sv_guestmm_munmap(r.gm, gva + SZ_2M, 3 * SZ_2M));
	ck_assert_uint_eq(GMS(r.gm, pgfree), 1 + 3 * 512);
	ck_assert_uint_eq(GMS(r.gm, tlb_invlpg), 1 + 3);
	ck_assert_uint_eq(GMS(r.gm, tlb_full_flush), 0);
	/* the first 2M's 511 4K leaves: past the ceiling, one CR3 reload */
	T_OK(sv_guestmm_munmap(r.gm, gva, SZ_2M));
	ck_assert_uint_eq(GMS(r.gm, tlb_full_flush), 1);
	ck_assert_uint_eq(GMS(r.gm, pgfree), 1 + 3 * 512 + 511);
	rig_down(&r);
}
END_TEST

START_TEST(dontneed_refaults)
{
	uint64_t gva;
	rig r;

	rig_up(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP);
	gva = map8m(&r);
	write_each(&r, gva, 16 * SZ_4K);
	T_OK(sv_guestmm_madvise(r.gm, gva, 16 * SZ_4K, SV_GMADV_DONTNEED));
	/* the 16 pages went; the VMA stays, and the writes fault them back */
	ck_assert_uint_eq(GMS(r.gm, pgfree), 16);
	write_each(&r, gva, 16 * SZ_4K);
	ck_assert_uint_eq(GMS(r.gm, pgfault), 32);
	rig_down(&r);
}
END_TEST

START_TEST(bad_arguments)
{
	sv_guestmm_options go = SV_GUESTMM_OPTIONS_INIT;
	sv_guestmm *gm = NULL;
	uint64_t gva;
	rig r;

	rig_up(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP);
	/* memory outside every memslot */
	go.mem_gpa = 0x80000000ULL;
	go.mem_size = 4ULL << 20;
	ck_assert_int_eq(sv_guestmm_new(&gm, r.vm, &go), SV_EINVAL);
	ck_assert_ptr_null(gm);
	ck_assert_int_eq(sv_guestmm_mmap(&gva, r.gm, 0, 100, SV_PROT_READ, 0),
			 SV_EINVAL);
	ck_assert_int_eq(sv_guestmm_munmap(r.gm, 0x1001, SZ_4K), SV_EINVAL);
	rig_down(&r);
}
END_TEST

START_TEST(fragmentation)
{
	sv_guestmm_options go = SV_GUESTMM_OPTIONS_INIT;
	uint64_t gva, pinned, blocks;
	rig r;

	/* every 2M block of frames keeps a page: no THP anywhere */
	go.frag_percent = 100;
	rig_up_opts(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP, go);
	/* 64M less the tables' 2M pool: 31 blocks, each pinned */
	ck_assert_uint_eq(GMS(r.gm, frag_pinned), 31);
	gva = map8m(&r);
	write_each(&r, gva, 8ULL << 20);
	/* each 2M range's first fault finds no block and falls back; its
	 * other 511 pages fault 4K (the range has a page table now) */
	ck_assert_uint_eq(GMS(r.gm, thp_fault_fallback), 4);
	ck_assert_uint_eq(GMS(r.gm, thp_fault_alloc), 0);
	ck_assert_uint_eq(GMS(r.gm, pgfault), 2048);
	rig_down(&r);

	/* half: the seed picks which; the rest give THPs */
	go.frag_percent = 50;
	rig_up_opts(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP, go);
	pinned = GMS(r.gm, frag_pinned);
	ck_assert_uint_gt(pinned, 0);
	ck_assert_uint_lt(pinned, 31);
	/* the unpinned blocks are the THPs to be had (the zero page came
	 * from a pinned block's free pages: the allocator splits the
	 * smallest free block): ask for more than there are */
	blocks = 31 - pinned;
	T_OK(sv_guestmm_mmap(&gva, r.gm, 0, 64ULL << 20,
			     SV_PROT_READ | SV_PROT_WRITE, 0));
	write_each(&r, gva, 64ULL << 20 > (blocks + 2) * SZ_2M ? (blocks + 2) * SZ_2M
								: 64ULL << 20);
	ck_assert_uint_eq(GMS(r.gm, thp_fault_alloc), blocks);
	ck_assert_uint_ge(GMS(r.gm, thp_fault_fallback), 1);
	rig_down(&r);
}
END_TEST

START_TEST(mprotect_rights)
{
	uint64_t gva, faults;
	sv_xlate x;
	rig r;

	rig_up(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP);
	gva = map8m(&r);
	write_each(&r, gva, 2 * SZ_2M);
	/* read-only over the first 4K of the second THP: the THP splits,
	 * one PTE loses W, one INVLPG */
	T_OK(sv_guestmm_mprotect(r.gm, gva + SZ_2M, SZ_4K, SV_PROT_READ));
	ck_assert_uint_eq(GMS(r.gm, tlb_invlpg), 1);
	faults = GMS(r.gm, pgfault);
	x = acc(&r, gva + SZ_2M, SV_ACCESS_WRITE);
	/* the VMA forbids the write: the process's SIGSEGV */
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	ck_assert_uint_eq(x.fault.error_code & SV_PFERR_P, SV_PFERR_P);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults);
	x = acc(&r, gva + SZ_2M, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	/* writable again: the page is the process's own, the write goes */
	T_OK(sv_guestmm_mprotect(r.gm, gva + SZ_2M, SZ_4K,
				 SV_PROT_READ | SV_PROT_WRITE));
	x = acc(&r, gva + SZ_2M, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults);
	/* a range with a hole is ENOMEM */
	ck_assert_int_eq(sv_guestmm_mprotect(r.gm, gva, 16ULL << 20, SV_PROT_READ),
			 SV_ENOMEM);
	/* one split so far: the second THP's */
	ck_assert_uint_eq(GMS(r.gm, thp_split_pmd), 1);
	rig_down(&r);
}
END_TEST

/* PROT_NONE keeps the pages: every access faults, and after mprotect back
 * the same pages serve without a fault or an allocation. */
START_TEST(prot_none)
{
	uint64_t gva, faults, allocs;
	unsigned collapsed;
	sv_xlate x;
	rig r;

	rig_up(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP);
	gva = map8m(&r);
	write_each(&r, gva, 2 * SZ_2M);
	faults = GMS(r.gm, pgfault);
	allocs = GMS(r.gm, pgalloc);
	/* the whole first THP: its PMD becomes PROT_NONE, one INVLPG, no
	 * split */
	T_OK(sv_guestmm_mprotect(r.gm, gva, SZ_2M, 0));
	ck_assert_uint_eq(GMS(r.gm, tlb_invlpg), 1);
	ck_assert_uint_eq(GMS(r.gm, thp_split_pmd), 0);
	x = acc(&r, gva + 5 * SZ_4K, SV_ACCESS_READ);
	/* not present: the process's SIGSEGV, no fault handled */
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	ck_assert_uint_eq(x.fault.error_code & SV_PFERR_P, 0);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults);
	/* khugepaged leaves a PROT_NONE range alone */
	T_OK(sv_guestmm_khugepaged(r.gm, r.v, &collapsed));
	ck_assert_uint_eq(collapsed, 0);
	T_OK(sv_guestmm_mprotect(r.gm, gva, SZ_2M, SV_PROT_READ | SV_PROT_WRITE));
	x = acc(&r, gva + 5 * SZ_4K, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(x.page_size, SZ_2M);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), allocs);
	/* part of the second THP: it splits (1), its first 4K goes none */
	T_OK(sv_guestmm_mprotect(r.gm, gva + SZ_2M, SZ_4K, 0));
	ck_assert_uint_eq(GMS(r.gm, thp_split_pmd), 1);
	x = acc(&r, gva + SZ_2M, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	x = acc(&r, gva + SZ_2M + SZ_4K, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	/* munmap frees a PROT_NONE page too: 1 */
	T_OK(sv_guestmm_munmap(r.gm, gva + SZ_2M, SZ_4K));
	ck_assert_uint_eq(GMS(r.gm, pgfree), 1);
	rig_down(&r);
}
END_TEST

/* mremap: growing in place, moving (a THP whole when both places are
 * 2M-aligned, split otherwise), shrinking, FIXED, and its errors. */
START_TEST(mremap_moves)
{
	uint64_t gva, to, faults, allocs;
	sv_xlate x;
	rig r;

	rig_up(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP);
	T_OK(sv_guestmm_mmap(&gva, r.gm, 0, 2 * SZ_2M,
			     SV_PROT_READ | SV_PROT_WRITE, 0));
	write_each(&r, gva, 2 * SZ_2M);
	faults = GMS(r.gm, pgfault);
	allocs = GMS(r.gm, pgalloc);
	/* nothing after it: it grows in place */
	T_OK(sv_guestmm_mremap(&to, r.gm, gva, 2 * SZ_2M, 3 * SZ_2M, 0, 0));
	ck_assert_uint_eq(to, gva);
	/* a mapping right after it: growing needs MAYMOVE */
	T_OK(sv_guestmm_mmap(&to, r.gm, gva + 3 * SZ_2M, SZ_2M, SV_PROT_READ,
			     SV_GMAP_FIXED));
	ck_assert_int_eq(sv_guestmm_mremap(&to, r.gm, gva, 3 * SZ_2M, 4 * SZ_2M,
					   0, 0), SV_ENOMEM);
	T_OK(sv_guestmm_mremap(&to, r.gm, gva, 3 * SZ_2M, 4 * SZ_2M,
			       SV_GMREMAP_MAYMOVE, 0));
	/* the lowest free 2M-aligned range: after the two mappings */
	ck_assert_uint_eq(to, gva + 4 * SZ_2M);
	/* the two THPs moved whole (2M-aligned both ends): no split, and the
	 * old range's two PMDs flushed by INVLPG */
	ck_assert_uint_eq(GMS(r.gm, thp_split_pmd), 0);
	ck_assert_uint_eq(GMS(r.gm, tlb_invlpg), 2);
	/* the data is where it went, with no fault and no new page */
	x = acc(&r, to + SZ_2M + 8 * SZ_4K, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(x.page_size, SZ_2M);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), allocs);
	x = acc(&r, gva, SV_ACCESS_READ); /* the old place: no VMA */
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	/* FIXED to a 4K-misaligned place: both THPs split (2), and 2 x 512
	 * PTEs move, past the flush ceiling: one CR3 reload */
	T_OK(sv_guestmm_mremap(&gva, r.gm, to, 2 * SZ_2M, 2 * SZ_2M,
			       SV_GMREMAP_MAYMOVE | SV_GMREMAP_FIXED,
			       0x200000000ULL + SZ_4K));
	ck_assert_uint_eq(gva, 0x200000000ULL + SZ_4K);
	ck_assert_uint_eq(GMS(r.gm, thp_split_pmd), 2);
	ck_assert_uint_eq(GMS(r.gm, tlb_full_flush), 1);
	x = acc(&r, gva + SZ_2M, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(x.page_size, SZ_4K);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), allocs);
	/* shrinking unmaps the tail: 1024 - 512 pages freed */
	T_OK(sv_guestmm_mremap(&to, r.gm, gva, 2 * SZ_2M, SZ_2M, 0, 0));
	ck_assert_uint_eq(to, gva);
	ck_assert_uint_eq(GMS(r.gm, pgfree), 512);
	/* not one mapping: EFAULT; FIXED without MAYMOVE: EINVAL */
	ck_assert_int_eq(sv_guestmm_mremap(&to, r.gm, gva, 2 * SZ_2M, SZ_2M, 0, 0),
			 SV_EFAULT);
	ck_assert_int_eq(sv_guestmm_mremap(&to, r.gm, gva, SZ_2M, SZ_2M,
					   SV_GMREMAP_FIXED, 0x300000000ULL),
			 SV_EINVAL);
	rig_down(&r);
}
END_TEST

/* MADV_FREE: the pages stay, clean and old; a THP covered in part splits. */
START_TEST(madv_free)
{
	uint64_t gva, e, faults;
	unsigned level;
	sv_xlate x;
	rig r;

	rig_up(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP);
	gva = map8m(&r);
	write_each(&r, gva, 2 * SZ_2M);
	faults = GMS(r.gm, pgfault);
	/* the first THP whole and 4K of the second: 512 + 1 pages, one split,
	 * two leaves rewritten (the PMD and one PTE): two INVLPGs */
	T_OK(sv_guestmm_madvise(r.gm, gva, SZ_2M + SZ_4K, SV_GMADV_FREE));
	ck_assert_uint_eq(GMS(r.gm, pglazyfree), 513);
	ck_assert_uint_eq(GMS(r.gm, thp_split_pmd), 1);
	ck_assert_uint_eq(GMS(r.gm, tlb_invlpg), 2);
	T_OK(sv_guestmm_leaf(&e, &level, r.gm, gva));
	ck_assert_uint_eq(level, 2);
	ck_assert_uint_eq(e & (SV_PTE_A | SV_PTE_D), 0);
	/* a write makes it dirty again, with no fault */
	x = acc(&r, gva, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults);
	T_OK(sv_guestmm_leaf(&e, &level, r.gm, gva));
	ck_assert_uint_eq(e & SV_PTE_D, SV_PTE_D);
	ck_assert_uint_eq(GMS(r.gm, pgfree), 0);
	rig_down(&r);
}
END_TEST

/* fork: copy on write, page by page and for a THP, reuse once the other
 * process lets go, and the pages an exit frees. */
START_TEST(fork_cow)
{
	uint64_t big, small, faults, allocs, frees;
	sv_guestmm *child, *parent;
	sv_xlate x;
	rig r;

	rig_up(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP);
	big = map8m(&r);
	T_OK(sv_guestmm_mmap(&small, r.gm, 0, 4 * SZ_4K,
			     SV_PROT_READ | SV_PROT_WRITE, 0));
	write_each(&r, big, SZ_2M);          /* one THP */
	write_each(&r, small, 4 * SZ_4K);    /* four 4K pages */
	T_OK(sv_guestmm_fork(&child, r.gm));
	/* dup_mmap flushed the running parent's TLB once */
	ck_assert_uint_eq(GMS(r.gm, tlb_full_flush), 1);
	faults = GMS(r.gm, pgfault);
	allocs = GMS(r.gm, pgalloc);
	/* the parent writes a shared page: a copy, its old entry flushed */
	write_each(&r, small, SZ_4K);
	ck_assert_uint_eq(GMS(r.gm, cow_copy), 1);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults + 1);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), allocs + 1);
	ck_assert_uint_eq(GMS(r.gm, tlb_invlpg), 1);
	write_each(&r, small, SZ_4K); /* its own now: no fault */
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults + 1);
	/* reads of shared pages fault nowhere */
	x = acc(&r, small + SZ_4K, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	/* the child: its first page has no other mapper now, so the write
	 * takes it back (reuse); a write into the shared THP splits it and
	 * copies the one page */
	T_OK(sv_guestmm_switch(child, r.v));
	parent = r.gm;
	r.gm = child; /* the rig's accesses go through the child now */
	write_each(&r, small, SZ_4K);
	ck_assert_uint_eq(GMS(r.gm, cow_reuse), 1);
	write_each(&r, big + 7 * SZ_4K, SZ_4K);
	ck_assert_uint_eq(GMS(r.gm, thp_split_pmd), 1);
	ck_assert_uint_eq(GMS(r.gm, cow_copy), 2);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), allocs + 2);
	/* the child exits: of its pages, the first small one and the THP
	 * page it copied are its alone (2 freed); the other 3 + 511 lose a
	 * share */
	frees = GMS(r.gm, pgfree);
	r.gm = parent;
	sv_guestmm_free(child);
	ck_assert_uint_eq(GMS(r.gm, pgfree), frees + 2);
	/* the parent again: its second small page and its THP are its alone:
	 * writes reuse them in place, the THP whole (no second split) */
	T_OK(sv_guestmm_switch(r.gm, r.v));
	write_each(&r, small + SZ_4K, SZ_4K);
	write_each(&r, big + 5 * SZ_4K, SZ_4K);
	ck_assert_uint_eq(GMS(r.gm, cow_reuse), 3);
	ck_assert_uint_eq(GMS(r.gm, thp_split_pmd), 1);
	x = acc(&r, big + 9 * SZ_4K, SV_ACCESS_WRITE);
	ck_assert_uint_eq(x.page_size, SZ_2M);
	/* every page is the parent's alone: munmap frees all 512 + 4 */
	frees = GMS(r.gm, pgfree);
	T_OK(sv_guestmm_munmap(r.gm, big, SZ_2M));
	T_OK(sv_guestmm_munmap(r.gm, small, 4 * SZ_4K));
	ck_assert_uint_eq(GMS(r.gm, pgfree), frees + 512 + 4);
	rig_down(&r);
}
END_TEST

/* PCIDs: switching keeps each process's TLB entries; a flush of a process
 * that runs nowhere happens at its next switch. */
START_TEST(pcid_switch)
{
	sv_guestmm_options go = SV_GUESTMM_OPTIONS_INIT;
	uint64_t gva, misses;
	sv_guestmm *child;
	sv_xlate x;
	rig r;

	go.pcid = true;
	rig_up_opts(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP, go);
	T_OK(sv_guestmm_switch(r.gm, r.v));
	T_OK(sv_guestmm_mmap(&gva, r.gm, 0, 2 * SZ_4K,
			     SV_PROT_READ | SV_PROT_WRITE, 0));
	write_each(&r, gva, 2 * SZ_4K);
	T_OK(sv_guestmm_fork(&child, r.gm));
	ck_assert_uint_eq(sv_guestmm_cr3(r.gm) & 0xfff, 1);
	ck_assert_uint_eq(sv_guestmm_cr3(child) & 0xfff, 2);
	acc(&r, gva, SV_ACCESS_READ);             /* parent: PCID 1 */
	T_OK(sv_guestmm_switch(child, r.v));
	T_OK(sv_guestmm_access(&x, child, r.v, gva, 8, SV_ACCESS_READ));
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE); /* child: PCID 2 */
	T_OK(sv_guestmm_switch(r.gm, r.v));
	misses = T_STAT(r.v, tlb_miss);
	acc(&r, gva, SV_ACCESS_READ);             /* PCID 1's entry stayed */
	ck_assert_uint_eq(T_STAT(r.v, tlb_miss), misses);
	/* the child's second page goes while it runs nowhere: no INVLPG now,
	 * its next switch flushes PCID 2 */
	T_OK(sv_guestmm_munmap(child, gva + SZ_4K, SZ_4K));
	ck_assert_uint_eq(GMS(r.gm, tlb_invlpg), 0);
	T_OK(sv_guestmm_switch(child, r.v));
	misses = T_STAT(r.v, tlb_miss);
	T_OK(sv_guestmm_access(&x, child, r.v, gva, 8, SV_ACCESS_READ));
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE); /* flushed: it walks */
	ck_assert_uint_eq(T_STAT(r.v, tlb_miss), misses + 1);
	sv_guestmm_free(child);
	rig_down(&r);
}
END_TEST

/* hugetlbfs in the guest: pages from the boot-time pools, whole, 2M and
 * 1G; an empty pool is the process's SIGBUS. */
START_TEST(hugetlb_pages)
{
	sv_guestmm_options go = SV_GUESTMM_OPTIONS_INIT;
	uint64_t a, b, c, g, moved, e;
	unsigned level;
	sv_guestmm *child;
	sv_xlate x;
	rig r;

	go.hugetlb_2m_pages = 2;
	go.hugetlb_1g_pages = 1;
	/* 2G at 1G: the 1G page is the highest 1G-aligned one, [2G, 3G) */
	rig_up_opts(&r, SV_GUEST_THP_NEVER, 2ULL << 30, SV_MMU_TDP, go);
	T_OK(sv_guestmm_mmap(&a, r.gm, 0, 2 * SZ_2M, SV_PROT_READ | SV_PROT_WRITE,
			     SV_GMAP_HUGETLB_2M));
	ck_assert_uint_eq(a % SZ_2M, 0);
	write_each(&r, a, SZ_4K);
	x = acc(&r, a + SZ_2M + 5 * SZ_4K, SV_ACCESS_READ);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(x.page_size, SZ_2M);
	/* two faults, two pool pages, none from the page allocator */
	ck_assert_uint_eq(GMS(r.gm, htlb_fault_alloc), 2);
	ck_assert_uint_eq(GMS(r.gm, pgfault), 2);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), 0);
	/* the pool is empty: a third page faults for good (SIGBUS) */
	T_OK(sv_guestmm_mmap(&b, r.gm, 0, SZ_4K, SV_PROT_READ | SV_PROT_WRITE,
			     SV_GMAP_HUGETLB_2M));
	x = acc(&r, b, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_PF);
	ck_assert_uint_eq(GMS(r.gm, htlb_fault_fail), 1);
	/* pages go whole or not at all */
	ck_assert_int_eq(sv_guestmm_munmap(r.gm, a, SZ_4K), SV_EINVAL);
	ck_assert_int_eq(sv_guestmm_mprotect(r.gm, a, SZ_4K, SV_PROT_READ),
			 SV_EINVAL);
	ck_assert_int_eq(sv_guestmm_mremap(&moved, r.gm, a, SZ_2M, 2 * SZ_2M,
					   SV_GMREMAP_MAYMOVE, 0), SV_ENOTSUP);
	ck_assert_int_eq(sv_guestmm_fork(&child, r.gm), SV_ENOTSUP);
	/* the first page back to the pool: the third mapping gets it */
	T_OK(sv_guestmm_munmap(r.gm, a, SZ_2M));
	x = acc(&r, b, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	ck_assert_uint_eq(GMS(r.gm, htlb_fault_alloc), 3);
	/* 1G: the length rounds up to the page, one fault maps it all */
	T_OK(sv_guestmm_mmap(&c, r.gm, 0, SZ_4K, SV_PROT_READ | SV_PROT_WRITE,
			     SV_GMAP_HUGETLB_1G));
	ck_assert_uint_eq(c % (1ULL << 30), 0);
	x = acc(&r, c + (1ULL << 29), SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	T_OK(sv_guestmm_leaf(&e, &level, r.gm, c));
	ck_assert_uint_eq(level, 3);
	/* the host backs the guest's memory with 2M THPs: the TLB entry is
	 * 2M, a splinter of the 1G guest page */
	ck_assert_uint_eq(x.page_size, SZ_2M);
	g = x.gpa;
	/* the highest 1G-aligned page of [1G, 3G): 2G, at offset
	 * 512M of it */
	ck_assert_uint_eq(g, (2ULL << 30) + (1ULL << 29));
	ck_assert_uint_eq(GMS(r.gm, htlb_fault_alloc), 4);
	T_OK(sv_guestmm_munmap(r.gm, c, 1ULL << 30));
	rig_down(&r);
}
END_TEST

/*
 * Defrag: 8 MiB of guest memory is a 2M table pool and three 2M blocks of
 * page frames: block 0 holds the zero page.  A 4K-only mapping of 1,400
 * pages takes frames from the lowest up (page i at frame i + 1: block 0 to
 * page 510, block 1 pages 511-1022, block 2 the rest); unmapping all of
 * blocks 1 and 2 but pages 600 and 1100 leaves no free 2M block, each of
 * the two holding one page of the process's own.  Then a THP fault in a
 * madvised 2M range.  _i: the defrag setting (madvise, never, defer).
 */
START_TEST(defrag_compacts)
{
	static const sv_guest_defrag modes[] = {SV_GUEST_DEFRAG_MADVISE,
						SV_GUEST_DEFRAG_NEVER,
						SV_GUEST_DEFRAG_DEFER};
	sv_guestmm_options go = SV_GUESTMM_OPTIONS_INIT;
	uint64_t s, t, e, before;
	unsigned level, collapsed;
	sv_xlate x;
	rig r;

	go.defrag = modes[_i];
	rig_up_opts(&r, SV_GUEST_THP_MADVISE, 8ULL << 20, SV_MMU_TDP, go);
	T_OK(sv_guestmm_mmap(&s, r.gm, 0, 1400 * SZ_4K,
			     SV_PROT_READ | SV_PROT_WRITE, 0));
	write_each(&r, s, 1400 * SZ_4K);
	T_OK(sv_guestmm_leaf(&e, &level, r.gm, s + 600 * SZ_4K));
	before = e & SV_PTE_ADDR_MASK;
	ck_assert_uint_eq(before, GUEST_MEM + 2 * SZ_2M + 89 * SZ_4K); /* 601 - 512 */
	T_OK(sv_guestmm_munmap(r.gm, s + 511 * SZ_4K, 89 * SZ_4K));
	T_OK(sv_guestmm_munmap(r.gm, s + 601 * SZ_4K, 499 * SZ_4K));
	T_OK(sv_guestmm_munmap(r.gm, s + 1101 * SZ_4K, 299 * SZ_4K));
	T_OK(sv_guestmm_mmap(&t, r.gm, 0, SZ_2M, SV_PROT_READ | SV_PROT_WRITE, 0));
	T_OK(sv_guestmm_madvise(r.gm, t, SZ_2M, SV_GMADV_HUGEPAGE));
	x = acc(&r, t, SV_ACCESS_WRITE);
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	if (_i == 0) {
		/* madvise, a madvised range: compaction now; block 0 holds
		 * the zero page, block 1 only page 600: it moves (1 page),
		 * and block 1 is the THP */
		ck_assert_uint_eq(GMS(r.gm, compact_stall), 1);
		ck_assert_uint_eq(GMS(r.gm, compact_success), 1);
		ck_assert_uint_eq(GMS(r.gm, pgmigrate_success), 1);
		ck_assert_uint_eq(GMS(r.gm, thp_fault_alloc), 1);
		ck_assert_uint_eq(x.gpa, GUEST_MEM + 2 * SZ_2M);
		/* page 600 elsewhere, still mapped: no fault to read it */
		T_OK(sv_guestmm_leaf(&e, &level, r.gm, s + 600 * SZ_4K));
		ck_assert_uint_ne(e & SV_PTE_ADDR_MASK, before);
		before = GMS(r.gm, pgfault);
		x = acc(&r, s + 600 * SZ_4K, SV_ACCESS_READ);
		ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
		ck_assert_uint_eq(GMS(r.gm, pgfault), before);
	} else {
		/* never, defer: no stall, the fault falls back to 4K */
		ck_assert_uint_eq(GMS(r.gm, compact_stall), 0);
		ck_assert_uint_eq(GMS(r.gm, thp_fault_fallback), 1);
		ck_assert_uint_eq(x.page_size, SZ_4K);
		T_OK(sv_guestmm_khugepaged(r.gm, r.v, &collapsed));
		/* defer: kcompactd frees block 1 before khugepaged's pass,
		 * which collapses the range into it; never: nothing frees a
		 * block, the collapse finds none */
		ck_assert_uint_eq(GMS(r.gm, compact_success), _i == 2);
		ck_assert_uint_eq(collapsed, _i == 2);
		ck_assert_uint_eq(GMS(r.gm, thp_collapse_alloc_failed), _i == 1);
	}
	rig_down(&r);
}
END_TEST

/* A compaction that fails defers the next direct attempts (63). */
START_TEST(defrag_defers)
{
	sv_guestmm_options go = SV_GUESTMM_OPTIONS_INIT;
	uint64_t t;
	rig r;

	go.defrag = SV_GUEST_DEFRAG_ALWAYS;
	go.frag_percent = 100; /* every block holds a page the kernel keeps */
	rig_up_opts(&r, SV_GUEST_THP_ALWAYS, 8ULL << 20, SV_MMU_TDP, go);
	T_OK(sv_guestmm_mmap(&t, r.gm, 0, 2 * SZ_2M, SV_PROT_READ | SV_PROT_WRITE,
			     0));
	write_each(&r, t, SZ_4K);
	write_each(&r, t + SZ_2M, SZ_4K);
	/* two THP faults, one stall that fails; the second one deferred */
	ck_assert_uint_eq(GMS(r.gm, thp_fault_fallback), 2);
	ck_assert_uint_eq(GMS(r.gm, compact_stall), 1);
	ck_assert_uint_eq(GMS(r.gm, compact_fail), 1);
	rig_down(&r);
}
END_TEST

START_TEST(brk_grows_and_shrinks)
{
	uint64_t cur;
	rig r;

	rig_up(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP);
	ck_assert_int_eq(sv_guestmm_brk(&cur, r.gm, 0), SV_ENOTSUP);
	T_OK(sv_guestmm_set_brk(r.gm, 0x800000));
	T_OK(sv_guestmm_brk(&cur, r.gm, 0));
	ck_assert_uint_eq(cur, 0x800000);
	/* 16K more (and a byte): the heap's pages fault in on use */
	T_OK(sv_guestmm_brk(&cur, r.gm, 0x804001));
	ck_assert_uint_eq(cur, 0x804001);
	write_each(&r, 0x800000, 5 * SZ_4K);
	ck_assert_uint_eq(GMS(r.gm, pgfault), 5);
	/* back to 8K: the three pages past it go */
	T_OK(sv_guestmm_brk(&cur, r.gm, 0x802000));
	ck_assert_uint_eq(GMS(r.gm, pgfree), 3);
	/* below the start, or into another VMA: the break stays */
	T_OK(sv_guestmm_brk(&cur, r.gm, 0x7ff000));
	ck_assert_uint_eq(cur, 0x802000);
	{
		uint64_t gva;

		T_OK(sv_guestmm_mmap(&gva, r.gm, 0x900000, SZ_4K,
				     SV_PROT_READ | SV_PROT_WRITE, SV_GMAP_FIXED));
	}
	T_OK(sv_guestmm_brk(&cur, r.gm, 0xa00000));
	ck_assert_uint_eq(cur, 0x802000);
	rig_down(&r);
}
END_TEST

/* ---- khugepaged and MADV_COLLAPSE ------------------------------------------ */

START_TEST(khugepaged_collapses)
{
	unsigned collapsed;
	uint64_t gva, faults;
	rig r;

	rig_up(&r, SV_GUEST_THP_MADVISE, 64ULL << 20, SV_MMU_TDP);
	gva = map8m(&r);
	/* 4K pages first (no advice yet): 256 of the first 2M's 512 written,
	 * all 512 of the second's */
	write_each(&r, gva, 256 * SZ_4K);
	write_each(&r, gva + SZ_2M, SZ_2M);
	T_OK(sv_guestmm_madvise(r.gm, gva, 8ULL << 20, SV_GMADV_HUGEPAGE));
	/* one wake-up scans 4,096 PTEs: the VMA's four 2M ranges (2,048),
	 * and starts over; the two with pages of their own collapse (the
	 * first has 256 absent PTEs, within max_ptes_none 511); the other
	 * two have no page table */
	T_OK(sv_guestmm_khugepaged(r.gm, r.v, &collapsed));
	ck_assert_uint_eq(collapsed, 2);
	ck_assert_uint_eq(GMS(r.gm, thp_collapse_alloc), 2);
	ck_assert_uint_eq(GMS(r.gm, pgfree), 256 + 512);
	ck_assert_uint_eq(GMS(r.gm, khugepaged_full_scans), 1);
	/* a 2M range is past the flush ceiling: one CR3 reload each */
	ck_assert_uint_eq(GMS(r.gm, tlb_full_flush), 2);
	/* the collapsed ranges fault no more */
	faults = GMS(r.gm, pgfault);
	write_each(&r, gva, 2 * SZ_2M);
	ck_assert_uint_eq(GMS(r.gm, pgfault), faults);
	rig_down(&r);
}
END_TEST

START_TEST(max_ptes_none_and_madv_collapse)
{
	sv_guestmm_options go = SV_GUESTMM_OPTIONS_INIT;
	unsigned collapsed;
	uint64_t gva;
	rig r;

	/* thp=always, max_ptes_none 255: a range with 256 absent PTEs stays */
	go.max_ptes_none = 255;
	rig_up_opts(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP, go);
	gva = map8m(&r);
	T_OK(sv_guestmm_madvise(r.gm, gva, 8ULL << 20, SV_GMADV_NOHUGEPAGE));
	write_each(&r, gva, 256 * SZ_4K); /* 4K pages: no THP at fault */
	T_OK(sv_guestmm_madvise(r.gm, gva, 8ULL << 20, SV_GMADV_HUGEPAGE));
	T_OK(sv_guestmm_khugepaged(r.gm, r.v, &collapsed));
	ck_assert_uint_eq(collapsed, 0);
	/* MADV_COLLAPSE does it whatever max_ptes_none says */
	T_OK(sv_guestmm_collapse(r.gm, r.v, gva, 8ULL << 20, &collapsed));
	ck_assert_uint_eq(collapsed, 1);
	ck_assert_uint_eq(GMS(r.gm, thp_collapse_alloc), 1);
	/* but not in a MADV_NOHUGEPAGE range */
	write_each(&r, gva + SZ_2M, SZ_4K);
	T_OK(sv_guestmm_madvise(r.gm, gva + SZ_2M, SZ_2M, SV_GMADV_NOHUGEPAGE));
	T_OK(sv_guestmm_collapse(r.gm, r.v, gva, 8ULL << 20, &collapsed));
	ck_assert_uint_eq(collapsed, 0);
	rig_down(&r);
}
END_TEST

/* ---- traces ------------------------------------------------------------------ */

/* A trace file with `text` in it; its path in path (a template). */
static void trace_file(char *path, const char *text)
{
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(text_trace)
{
	char path[] = "/tmp/simvirt-trace-XXXXXX";
	sv_trace_reader *tr;
	uint64_t done;
	rig r;

	trace_file(path,
		   "# a comment, then a blank line\n"
		   "\n"
		   "W 0x100000000 8\n"
		   "W 0x100001000\n"       /* size 8 by default */
		   "R 0x100002000 4   # a read of an untouched page\n"
		   "W 0x100002000 4\n"
		   "X 0x400000 1\n");
	rig_up(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP);
	T_OK(sv_trace_reader_open(&tr, path, SV_TRACE_TEXT));
	T_OK(sv_guestmm_run_trace(&done, r.gm, r.v, tr, 0));
	ck_assert_uint_eq(done, 5);
	/* two writes to new pages (2 faults), a read of a third (the zero
	 * page) and its write (a copy), a fetch in a second automatic VMA
	 * (the zero page): 5 faults, 3 pages of their own */
	ck_assert_uint_eq(GMS(r.gm, pgfault), 5);
	ck_assert_uint_eq(GMS(r.gm, pgalloc), 3);
	ck_assert_uint_eq(GMS(r.gm, zero_page_maps), 2);
	/* the fetch faulted once and ran again: two fetches translated */
	ck_assert_uint_eq(T_STAT(r.v, fetches), 2);
	sv_trace_reader_close(tr);
	unlink(path);
	rig_down(&r);
}
END_TEST

START_TEST(lackey_trace)
{
	char path[] = "/tmp/simvirt-lackey-XXXXXX";
	sv_trace_reader *tr;
	uint64_t done;
	rig r;

	trace_file(path,
		   "==12345== Lackey, an example Valgrind tool\n"
		   "I  04016b35,3\n"
		   " S 7ff000a38,8\n"
		   " L 7ff000a38,8\n"
		   " M 0421c7f0,4\n"
		   "==12345== \n");
	rig_up(&r, SV_GUEST_THP_ALWAYS, 64ULL << 20, SV_MMU_TDP);
	T_OK(sv_trace_reader_open(&tr, path, SV_TRACE_LACKEY));
	T_OK(sv_guestmm_run_trace(&done, r.gm, r.v, tr, 0));
	/* I, S, L, and M as a load and a store: 5 records; the fetch, the
	 * store and M's load and store fault first and run again (translated
	 * twice) */
	ck_assert_uint_eq(done, 5);
	ck_assert_uint_eq(T_STAT(r.v, fetches), 1 + 1);
	ck_assert_uint_eq(T_STAT(r.v, reads), 2 + 1);
	/* THP always over the automatic 1G VMAs: the fetch, a read, maps
	 * the huge zero page over the code's 2M (made now: cleared, 512
	 * stores); the stack's store faults in a THP (512 stores); M's load
	 * maps the huge zero page over 0x4200000's 2M, and its store splits
	 * that into PTEs of the 4K zero page and copies the one page (1
	 * store): 4 faults, one THP */
	ck_assert_uint_eq(T_STAT(r.v, writes), 2 + 2 + 512 + 512 + 1);
	ck_assert_uint_eq(GMS(r.gm, pgfault), 4);
	ck_assert_uint_eq(GMS(r.gm, thp_fault_alloc), 1);
	ck_assert_uint_eq(GMS(r.gm, thp_zero_page_alloc), 1);
	ck_assert_uint_eq(GMS(r.gm, zero_page_maps), 2);
	ck_assert_uint_eq(GMS(r.gm, thp_split_pmd), 1);
	ck_assert_uint_eq(GMS(r.gm, cow_zero), 1);
	sv_trace_reader_close(tr);
	unlink(path);
	rig_down(&r);
}
END_TEST

START_TEST(bad_trace_line)
{
	char path[] = "/tmp/simvirt-bad-XXXXXX";
	sv_trace_reader *tr;
	uint64_t done;
	rig r;

	trace_file(path, "W 0x100000000 8\nQ 0x100000000 8\n");
	rig_up(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP);
	T_OK(sv_trace_reader_open(&tr, path, SV_TRACE_TEXT));
	ck_assert_int_eq(sv_guestmm_run_trace(&done, r.gm, r.v, tr, 0), SV_EINVAL);
	/* the first record ran; the error names the file and line 2 */
	ck_assert_uint_eq(done, 1);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), ":2: expected R, W or X"));
	sv_trace_reader_close(tr);
	unlink(path);
	/* a NUL byte inside a line (a binary file given as text) */
	{
		char p2[] = "/tmp/simvirt-nul-XXXXXX";
		int fd = mkstemp(p2);
		static const char bytes[] = "W 0x100000000 8\n\0W 0x1\n";

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, bytes, sizeof(bytes) - 1),
				 (ssize_t)sizeof(bytes) - 1);
		close(fd);
		T_OK(sv_trace_reader_open(&tr, p2, SV_TRACE_TEXT));
		ck_assert_int_eq(sv_guestmm_run_trace(&done, r.gm, r.v, tr, 0),
				 SV_EINVAL);
		ck_assert_ptr_nonnull(strstr(sv_error_detail(), ":2: expected text "
							 "(the line holds a NUL"));
		sv_trace_reader_close(tr);
		unlink(p2);
	}
	ck_assert_int_eq(sv_trace_reader_open(&tr, "/nonexistent/trace",
					      SV_TRACE_TEXT), SV_ENOENT);
	rig_down(&r);
}
END_TEST

/* A reader of one's own: n writes, one per 4K page from 4G. */
static int my_next(void *payload, sv_trace_record *rec, bool *end)
{
	unsigned *left = payload;

	*end = *left == 0;
	if (*end)
		return SV_OK;
	(*left)--;
	rec->addr = 0x100000000ULL + (uint64_t)*left * SZ_4K;
	rec->size = 8;
	rec->access = SV_ACCESS_WRITE;
	return SV_OK;
}

START_TEST(custom_reader)
{
	sv_trace_reader *tr;
	unsigned left = 100;
	uint64_t done;
	rig r;

	rig_up(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP);
	T_OK(sv_trace_reader_custom(&tr, my_next, &left));
	T_OK(sv_guestmm_run_trace(&done, r.gm, r.v, tr, 40));
	/* at most 40 records: 40 pages, 40 faults */
	ck_assert_uint_eq(done, 40);
	ck_assert_uint_eq(GMS(r.gm, pgfault), 40);
	T_OK(sv_guestmm_run_trace(&done, r.gm, r.v, tr, 0));
	ck_assert_uint_eq(done, 60);
	sv_trace_reader_close(tr);
	rig_down(&r);
}
END_TEST

/* The recorder: a stream written in simvirt's format, zstd-compressed,
 * read back as format simvirt, gives the run the same stream gives. */
START_TEST(recorder_round_trip)
{
	char path[] = "/tmp/simvirt-stream-XXXXXX";
	sv_report *rep = NULL;
	sv_trace_recorder *rec;
	sv_trace_reader *tr;
	uint64_t done, i;
	FILE *f;
	long size;
	int fd = mkstemp(path);
	rig r;

	ck_assert_int_ge(fd, 0);
	close(fd);
	T_OK(sv_trace_recorder_open(&rec, path));
	for (i = 0; i < 4096; i++) {
		sv_trace_record one = {0x100000000ULL + (i % 2048) * SZ_4K, 8,
				       i < 2048 ? SV_ACCESS_WRITE : SV_ACCESS_READ};

		T_OK(sv_trace_recorder_put(rec, &one));
	}
	ck_assert_int_eq(sv_trace_recorder_put(rec, &(sv_trace_record){0, 0,
				SV_ACCESS_READ}), SV_EINVAL);
	T_OK(sv_trace_recorder_close(rec));
	/* uncompressed, each access is a tag, a two-byte address delta and a
	 * size (a write one byte more): at least 4 bytes; the repeating
	 * stream compresses far below that */
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	ck_assert_int_lt(size, 4096 * 4 / 8);
	rig_up(&r, SV_GUEST_THP_NEVER, 64ULL << 20, SV_MMU_TDP);
	T_OK(sv_trace_reader_open(&tr, path, SV_TRACE_SIMVIRT));
	T_OK(sv_guestmm_run_trace(&done, r.gm, r.v, tr, 0));
	ck_assert_uint_eq(done, 4096);
	/* 2048 pages written once each: 2048 faults, none for the reads */
	ck_assert_uint_eq(GMS(r.gm, pgfault), 2048);
	/* the reads, in the stream's order: each one access, none faulted */
	ck_assert_uint_eq(T_STAT(r.v, reads), 2048);
	sv_trace_reader_close(tr);
	rig_down(&r);
	/* a stream is no recorded run: replay refuses it, saying so */
	ck_assert_int_eq(sv_trace_replay(&rep, path, NULL), SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "an access stream"));
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guestmm");
	TCase *tc = tcase_create("guestmm");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, thp_always, 0, 2); /* TDP, then shadow */
	tcase_add_test(tc, thp_never);
	tcase_add_test(tc, thp_madvise);
	tcase_add_test(tc, zero_page_then_write);
	tcase_add_test(tc, thp_fallback);
	tcase_add_test(tc, munmap_splits_and_flushes);
	tcase_add_test(tc, dontneed_refaults);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, fragmentation);
	tcase_add_test(tc, mprotect_rights);
	tcase_add_test(tc, prot_none);
	tcase_add_test(tc, mremap_moves);
	tcase_add_test(tc, madv_free);
	tcase_add_test(tc, fork_cow);
	tcase_add_test(tc, pcid_switch);
	tcase_add_test(tc, hugetlb_pages);
	tcase_add_loop_test(tc, defrag_compacts, 0, 3);
	tcase_add_test(tc, defrag_defers);
	tcase_add_test(tc, brk_grows_and_shrinks);
	tcase_add_test(tc, khugepaged_collapses);
	tcase_add_test(tc, max_ptes_none_and_madv_collapse);
	tcase_add_test(tc, text_trace);
	tcase_add_test(tc, lackey_trace);
	tcase_add_test(tc, bad_trace_line);
	tcase_add_test(tc, custom_reader);
	tcase_add_test(tc, recorder_round_trip);
	suite_add_tcase(s, tc);
	return t_run(s);
}
