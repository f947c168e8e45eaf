/*
 * tests/check_versions.c - what kernel_version changes, one test per row
 * of docs/kernel-versions.md that these suites do not cover elsewhere:
 * the sizing policy "auto", huge pfnmaps in the host (6.12), KVM's
 * refusal of non-refcounted PFNMAP pages (5.13 to 6.12), and the checks
 * on the options.  Each expected count is derived next to its assertion.
 */
#include <string.h>

#include "helpers.h"

#define SZ_4K 0x1000ULL
#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)
#define GPA 0x40000000ULL
#define SLOT_SIZE (64ULL << 20)
#define VS(f, name) sv_vm_stat_get((f)->vm, SV_VM_STAT_##name)
#define CS(f, name) sv_vcpu_stat_get((f)->v, SV_VCPU_STAT_##name)

typedef struct fix {
	sv_host *h;
	sv_vm *vm;
	sv_vcpu *v;
	uint64_t hva;
} fix;

/* A 64 MiB slot at GPA over one VMA of `backing` (2M-aligned device
 * memory for DAX and PFNMAP), the host kernel at `host`, KVM at `kvm`. */
static void fix_up2(fix *f, unsigned host, unsigned kvm, const char *policy,
		    sv_host_backing backing, unsigned map_flags)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.size = SLOT_SIZE,
		.prot = SV_PROT_READ | SV_PROT_WRITE,
		.flags = map_flags,
		.backing = backing,
		.align = SZ_2M,
	};
	sv_memslot_region r = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = 1,
		.gpa = GPA,
		.size = SLOT_SIZE,
	};

	memset(f, 0, sizeof(*f));
	ho.kernel_version = host;
	mo.kernel_version = kvm;
	mo.policy = policy;
	T_OK(sv_host_new(&f->h, &ho));
	T_OK(sv_vm_new(&f->vm, NULL));
	T_OK(sv_mmu_attach(f->vm, f->h, &mo));
	T_OK(sv_host_mmap(&f->hva, f->h, &a));
	r.hva = f->hva;
	T_OK(sv_memslot_set(f->vm, &r));
	f->v = sv_vm_vcpu(f->vm, 0);
}

/* The same, host and KVM one kernel (as in a scenario). */
static void fix_up(fix *f, unsigned kernel, const char *policy,
		   sv_host_backing backing, unsigned map_flags)
{
	fix_up2(f, kernel, kernel, policy, backing, map_flags);
}

static void fix_down(fix *f)
{
	sv_vm_free(f->vm);
	sv_host_free(f->h);
}

/* One write at the start of every 2M of the slot; every access must end
 * in `want` (SV_FAULT_NONE: it completed). */
static void write_each_2m(fix *f, sv_fault_kind want)
{
	uint64_t a;

	for (a = GPA; a < GPA + SLOT_SIZE; a += SZ_2M) {
		sv_xlate x;
		int rc = sv_vcpu_translate(&x, f->v, a, 1, SV_ACCESS_WRITE);

		if (rc != SV_OK || x.fault.kind != want)
			ck_abort_msg("gpa 0x%llx: rc %d, fault %d, expected %d",
				     (unsigned long long)a, rc,
				     (int)x.fault.kind, (int)want);
	}
}

/* ---- policy "auto" ---------------------------------------------------- */

static void dax(unsigned kernel, const char *policy, const char *resolved,
		uint64_t want_2m, uint64_t want_4k)
{
	fix f;

	fix_up(&f, kernel, policy, SV_BACKING_DAX, 0);
	ck_assert_str_eq(sv_mmu_options_get(f.vm)->policy, resolved);
	write_each_2m(&f, SV_FAULT_NONE);
	ck_assert_uint_eq(VS(&f, pages_2m), want_2m);
	ck_assert_uint_eq(VS(&f, pages_4k), want_4k);
	fix_down(&f);
}

START_TEST(auto_policy_by_version)
{
	/* 5.5 and older chose the size from the VMA and PageTransCompoundMap:
	 * DAX was never huge, so 32 writes (one per 2M) map 32 x 4K */
	dax(SV_KERNEL(5, 4), "auto", "kvm-legacy", 0, 32);
	dax(SV_KERNEL(5, 5), NULL, "kvm-legacy", 0, 32);
	/* the series came with 5.6: the host walk finds the PMD, 32 x 2M */
	dax(SV_KERNEL(5, 6), "auto", "kvm", 32, 0);
	dax(SV_KERNEL(6, 12), NULL, "kvm", 32, 0);
	/* an explicit policy is what-if: today's sizing on an old kernel */
	dax(SV_KERNEL(5, 4), "kvm", "kvm", 32, 0);
}
END_TEST

static unsigned level_4k(const sv_mmu_fault_info *info, void *payload)
{
	(void)info;
	(void)payload;
	return 1;
}

START_TEST(auto_is_not_a_policy_name)
{
	static const sv_mmu_policy p = {
		.version = SV_MMU_POLICY_VERSION,
		.name = "auto",
		.level = level_4k,
	};

	/* "auto" names the choice by version, so no policy may take it */
	ck_assert_int_eq(sv_mmu_policy_register(&p), SV_EEXIST);
	ck_assert_ptr_null(sv_mmu_policy_find("auto"));
}
END_TEST

/* ---- huge pfnmaps (6.12) ---------------------------------------------- */

static void pfnmap(unsigned host, unsigned kvm, unsigned host_level,
		   uint64_t want_2m, uint64_t want_4k)
{
	sv_host_leaf l;
	fix f;

	fix_up2(&f, host, kvm, NULL, SV_BACKING_PFNMAP, SV_MAP_NO_STRUCT_PAGE);
	write_each_2m(&f, SV_FAULT_NONE);
	T_OK(sv_host_lookup(&l, f.h, f.hva));
	ck_assert(l.present);
	ck_assert_uint_eq(l.level, host_level);
	ck_assert_uint_eq(VS(&f, pages_2m), want_2m);
	ck_assert_uint_eq(VS(&f, pages_4k), want_4k);
	fix_down(&f);
}

START_TEST(huge_pfnmap_from_6_12)
{
	/* 6.12: the 2M-aligned device range gets PMD leaves, which the host
	 * walk reports: 32 writes, 32 x 2M */
	pfnmap(SV_KERNEL(6, 12), SV_KERNEL(6, 12), 2, 32, 0);
	/* 6.11: PTEs only, so KVM maps 4K: 32 x 4K */
	pfnmap(SV_KERNEL(6, 11), SV_KERNEL(6, 11), 1, 0, 32);
	/* a 6.12 host under KVM 6.0: PMD leaves, but KVM from 5.6 to 6.0
	 * asked PageCompound first, and a pfn without a struct page is not:
	 * 4K; KVM 6.1 dropped the check: 2M */
	pfnmap(SV_KERNEL(6, 12), SV_KERNEL(6, 0), 2, 0, 32);
	pfnmap(SV_KERNEL(6, 12), SV_KERNEL(6, 1), 2, 32, 0);
	/* KVM 5.5 (kvm-legacy): no hugetlbfs VMA, not a THP: 4K */
	pfnmap(SV_KERNEL(6, 12), SV_KERNEL(5, 5), 2, 0, 32);
}
END_TEST

/* ---- non-refcounted PFNMAP pages (5.13 to 6.12) -------------------------- */

static void noref(unsigned kernel, bool refused)
{
	fix f;

	fix_up(&f, kernel, NULL, SV_BACKING_PFNMAP, SV_MAP_NO_REFCOUNT);
	write_each_2m(&f, refused ? SV_FAULT_EFAULT : SV_FAULT_NONE);
	/* refused: each of the 32 writes ends in one EFAULT and maps nothing;
	 * else 32 faults map 32 x 4K (before 6.12 no huge pfnmap) or 2M */
	ck_assert_uint_eq(CS(&f, pf_efault), refused ? 32 : 0);
	ck_assert_uint_eq(VS(&f, pages_4k) + VS(&f, pages_2m), refused ? 0 : 32);
	fix_down(&f);
}

START_TEST(noref_pfnmap_refused_5_13_to_6_12)
{
	noref(SV_KERNEL(5, 12), false); /* before f8be156be163: mapped */
	noref(SV_KERNEL(5, 13), true);  /* kvm_try_get_pfn fails: -EFAULT */
	noref(SV_KERNEL(6, 12), true);
	noref(SV_KERNEL(6, 13), false); /* no reference taken any more */
}
END_TEST

START_TEST(reserved_pfnmap_always_mapped)
{
	fix f;

	/* PageReserved pfns need no reference: mapped at every version */
	fix_up(&f, SV_KERNEL(5, 13), NULL, SV_BACKING_PFNMAP, 0);
	write_each_2m(&f, SV_FAULT_NONE);
	ck_assert_uint_eq(CS(&f, pf_efault), 0);
	ck_assert_uint_eq(VS(&f, pages_4k), 32); /* 32 writes, no huge pfnmap */
	fix_down(&f);
}
END_TEST

/* ---- the options --------------------------------------------------------- */

START_TEST(host_options_versions)
{
	sv_host_options o = SV_HOST_OPTIONS_INIT;
	sv_host *h = NULL;
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.size = SZ_2M,
		.prot = SV_PROT_READ,
		.backing = SV_BACKING_PFNMAP,
		.align = SZ_2M,
	};
	sv_host_leaf l;
	uint64_t hva;

	o.kernel_version = SV_KERNEL(4, 19);
	ck_assert_int_eq(sv_host_new(&h, &o), SV_EINVAL);
	ck_assert_ptr_null(h);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "kernel_version"));
	/* a version-1 caller has no kernel_version: it gets 6.12, whose
	 * pfnmaps are huge (a 2M-aligned range: one PMD leaf) */
	o.version = 1;
	o.kernel_version = 0;
	T_OK(sv_host_new(&h, &o));
	T_OK(sv_host_mmap(&hva, h, &a));
	T_OK(sv_host_fault(&l, h, hva, false));
	ck_assert_uint_eq(l.level, 2);
	sv_host_free(h);
}
END_TEST

START_TEST(map_flags_checked)
{
	sv_host *h = NULL;
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.size = SZ_2M,
		.prot = SV_PROT_READ,
		.backing = SV_BACKING_ANON,
	};
	uint64_t hva;

	T_OK(sv_host_new(&h, NULL));
	a.flags = SV_MAP_NO_REFCOUNT; /* only PFNMAP ranges have it */
	ck_assert_int_eq(sv_host_mmap(&hva, h, &a), SV_EINVAL);
	a.backing = SV_BACKING_PFNMAP;
	a.flags = SV_MAP_NO_REFCOUNT | SV_MAP_NO_STRUCT_PAGE; /* one or other */
	ck_assert_int_eq(sv_host_mmap(&hva, h, &a), SV_EINVAL);
	a.flags = 1u << 7;
	ck_assert_int_eq(sv_host_mmap(&hva, h, &a), SV_EINVAL);
	a.flags = SV_MAP_NO_REFCOUNT;
	T_OK(sv_host_mmap(&hva, h, &a));
	sv_host_free(h);
}
END_TEST

static Suite *versions_suite(void)
{
	Suite *s = suite_create("versions");
	TCase *t = tcase_create("gates");

	tcase_add_test(t, auto_policy_by_version);
	tcase_add_test(t, auto_is_not_a_policy_name);
	tcase_add_test(t, huge_pfnmap_from_6_12);
	tcase_add_test(t, noref_pfnmap_refused_5_13_to_6_12);
	tcase_add_test(t, reserved_pfnmap_always_mapped);
	tcase_add_test(t, host_options_versions);
	tcase_add_test(t, map_flags_checked);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return t_run(versions_suite());
}
