/*
 * tests/check_vm.c - VM options, memslots, configuration files, the tree
 * builder and range iterator, counters by name, and bad input.
 */
#include <limits.h>
#include <string.h>

#include "helpers.h"
#include "vm.h"

START_TEST(bad_options)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	sv_vm *vm = NULL;

	o.vcpus = 0;
	ck_assert_int_eq(sv_vm_new(&vm, &o), SV_EINVAL);
	ck_assert_ptr_null(vm);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "vcpus"));
	o = (sv_vm_options)SV_VM_OPTIONS_INIT;
	o.tdp_levels = 3;
	ck_assert_int_eq(sv_vm_new(&vm, &o), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "tdp_levels"));
	o = (sv_vm_options)SV_VM_OPTIONS_INIT;
	o.tlb.array[SV_TLB_stlb].sets = 100; /* not a power of two */
	ck_assert_int_eq(sv_vm_new(&vm, &o), SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "stlb_sets"));
	o = (sv_vm_options)SV_VM_OPTIONS_INIT;
	o.version = 99;
	ck_assert_int_eq(sv_vm_new(&vm, &o), SV_EINVAL);
	ck_assert_int_eq(sv_vm_new(NULL, NULL), SV_EINVAL);
	sv_vm_free(NULL); /* a no-op */
}
END_TEST

START_TEST(bad_access_args)
{
	t_env e;
	sv_xlate x;

	t_env_setup(&e, NULL, SV_PAGE_2M);
	ck_assert_int_eq(sv_vcpu_translate(&x, e.v, 0, 0, SV_ACCESS_READ), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_vm_last_error(e.vm), "size"));
	ck_assert_int_eq(sv_vcpu_translate(&x, e.v, 0, 4097, SV_ACCESS_READ),
			 SV_EINVAL);
	ck_assert_int_eq(sv_vcpu_translate(&x, e.v, 0, 1, (sv_access)7), SV_EINVAL);
	ck_assert_int_eq(sv_vcpu_translate(NULL, e.v, 0, 1, SV_ACCESS_READ),
			 SV_EINVAL);
	ck_assert_int_eq(sv_vcpu_translate(&x, NULL, 0, 1, SV_ACCESS_READ),
			 SV_EINVAL);
	/* nothing was counted for the refused calls */
	ck_assert_uint_eq(T_STAT(e.v, accesses), 0);
	t_env_free(&e);
}
END_TEST

START_TEST(bad_regs)
{
	t_env e;
	sv_vcpu_regs r, saved;

	t_env_setup(&e, NULL, SV_PAGE_2M);
	sv_vcpu_get_regs(e.v, &saved);
	r = saved;
	r.cr4 &= ~SV_CR4_PAE;
	ck_assert_int_eq(sv_vcpu_set_regs(e.v, &r), SV_EINVAL);
	r = saved;
	r.eptp = (r.eptp & ~SV_EPTP_MT_MASK) | 2; /* memory type 2 */
	ck_assert_int_eq(sv_vcpu_set_regs(e.v, &r), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "memory type"));
	r = saved;
	r.eptp = 0x1000 | SV_EPT_MT_WB | (3 << SV_EPTP_PWL_SHIFT);
	ck_assert_int_eq(sv_vcpu_set_regs(e.v, &r), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "not a nested table"));
	r = saved;
	r.cpl = 4;
	ck_assert_int_eq(sv_vcpu_set_regs(e.v, &r), SV_EINVAL);
	/* the refused loads left the registers as they were */
	sv_vcpu_get_regs(e.v, &r);
	ck_assert_mem_eq(&r, &saved, sizeof(r));
	ck_assert_int_eq(sv_vcpu_invpcid(e.v, 4, 0, 0), SV_EINVAL);
	ck_assert_int_eq(sv_vcpu_invept(e.v, 0, 0), SV_EINVAL);
	ck_assert_int_eq(sv_vcpu_svm_tlb_control(e.v, 1), SV_ENOTSUP);
	t_env_free(&e);
}
END_TEST

START_TEST(memslots)
{
	sv_vm *vm = t_vm();
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, 1, 0, 0x100000, 0x100000, 0};
	uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8];

	T_OK(sv_memslot_set(vm, &r));
	ck_assert_uint_eq(sv_vm_stat_get(vm, SV_VM_STAT_memslots), 1);
	r.slot = 2;
	r.gpa = 0x180000; /* overlaps slot 1 */
	ck_assert_int_eq(sv_memslot_set(vm, &r), SV_EOVERLAP);
	ck_assert_ptr_nonnull(strstr(sv_vm_last_error(vm), "overlaps slot 1"));
	r.gpa = 0x200001;
	ck_assert_int_eq(sv_memslot_set(vm, &r), SV_EALIGN);
	r.gpa = 0x200000;
	T_OK(sv_memslot_set(vm, &r));
	ck_assert_int_eq(sv_memslot_set(vm, &r), SV_EEXIST);
	/* bytes: zero at first, written and read back, across two slots */
	T_OK(sv_gpa_read(vm, 0x1ffffc, back, 8));
	ck_assert_uint_eq(back[0] | back[7], 0);
	T_OK(sv_gpa_write(vm, 0x1ffffc, buf, 8));
	T_OK(sv_gpa_read(vm, 0x1ffffc, back, 8));
	ck_assert_mem_eq(buf, back, 8);
	ck_assert_int_eq(sv_gpa_read(vm, 0x300000, back, 1), SV_EFAULT);
	/* delete: the bytes go with it */
	r.size = 0;
	T_OK(sv_memslot_set(vm, &r));
	ck_assert_int_eq(sv_gpa_read(vm, 0x200000, back, 1), SV_EFAULT);
	ck_assert_int_eq(sv_memslot_set(vm, &r), SV_ENOENT);
	ck_assert_uint_eq(sv_vm_stat_get(vm, SV_VM_STAT_memslots), 1);
	sv_vm_free(vm);
}
END_TEST

START_TEST(config_file)
{
	sv_tlb_config t = SV_TLB_CONFIG_INIT, before;
	sv_costs c = SV_COSTS_INIT;
	const char *good = "[tlb]\nstlb_sets=256\nreplacement=fifo\n"
			   "[cost]\nwalk_ref=30\n";
	const char *unknown = "[tlb]\nstlb_setz=256\n";
	const char *badval = "[tlb]\nl1d_4k_ways=lots\n";
	const char *badcost = "[cost]\nwalk_ref=-1\n";

	T_OK(sv_config_load_data(&t, &c, good, strlen(good), "good.ini"));
	ck_assert_uint_eq(t.array[SV_TLB_stlb].sets, 256);
	ck_assert_int_eq(t.replacement, SV_TLB_FIFO);
	ck_assert_uint_eq(c.walk_ref, 30);
	ck_assert_uint_eq(c.stlb_hit, 9); /* untouched default */
	before = t;
	ck_assert_int_eq(sv_config_load_data(&t, &c, unknown, strlen(unknown),
					     "u.ini"),
			 SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "u.ini"));
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "stlb_setz"));
	ck_assert_int_eq(sv_config_load_data(&t, &c, badval, strlen(badval),
					     "v.ini"),
			 SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "'lots'"));
	ck_assert_int_eq(sv_config_load_data(&t, &c, badcost, strlen(badcost),
					     "c.ini"),
			 SV_ECONFIG);
	/* a refused file changes nothing */
	ck_assert_mem_eq(&t, &before, sizeof(t));
	ck_assert_uint_eq(c.walk_ref, 30);
	ck_assert_int_eq(sv_config_load(&t, &c, "/nonexistent/x.ini"), SV_EIO);
	ck_assert_int_eq(sv_config_load_data(&t, &c, "[tlb", 4, "s.ini"),
			 SV_ECONFIG);
}
END_TEST

START_TEST(costs_charged)
{
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	t_env e;
	sv_xlate x;

	o.costs.stlb_hit = 7;
	o.costs.walk_ref = 10;
	o.costs.ad_update = 3;
	o.costs.l1_hit = 1;
	o.costs.ntlb_hit = 0;
	o.costs.pwc_hit = 0;
	o.costs.psc_hit = 0;
	o.tdp_ad = false; /* no EPT A/D updates: only the guest's 4 A flags */
	t_env_setup(&e, &o, SV_PAGE_2M);
	T_OK(sv_pt_map(e.gpt, 0x20000000, 0x2000000, 4096, 4096, SV_PTE_RW));
	x = t_access(e.v, 0x20000000, SV_ACCESS_READ);
	/* a cold walk: STLB miss latency + each reference + one A update
	 * per guest level (4) */
	ck_assert_uint_eq(x.cycles, 7 + 10 * x.refs + 3 * 4);
	x = t_access(e.v, 0x20000000, SV_ACCESS_READ);
	ck_assert_uint_eq(x.cycles, 1); /* an L1 hit */
	ck_assert_uint_eq(T_STAT(e.v, cycles), 7 + 10 * T_STAT(e.v, walk_refs) + 12 + 1);
	t_env_free(&e);
}
END_TEST

/*
 * The data-cache model: an L1D of 4K in 1 way (64 sets) and an L2 of 8K in
 * 2 ways (64 sets), no LLC, so lines 4K apart share a set at both levels.
 * The TLB is warmed first and the caches emptied after, so that no walk
 * reference takes a line: A, A, B, A, C, A then go
 *   A: memory; A: L1D; B: memory (L1D now B; L2 A, B); A: L2 (L1D A);
 *   C: memory (L1D C; L2 drops B, the least recent); A: L2.
 */
START_TEST(data_cache_levels)
{
	static const uint64_t seq[] = {0, 0, 1, 0, 2, 0}; /* A = page 0 ... */
	sv_vm_options o = SV_VM_OPTIONS_INIT;
	sv_cache_config cc = {.l1d_kb = 4, .l1d_ways = 1, .l2_kb = 8, .l2_ways = 2};
	sv_cache_config bad = {.l1d_kb = 3, .l1d_ways = 1};
	t_env e;
	unsigned i;

	o.costs.cache_l2 = 10;
	o.costs.cache_mem = 100;
	o.costs.l1_hit = 0;
	t_env_setup(&e, &o, SV_PAGE_2M);
	T_OK(sv_pt_map(e.gpt, 0x20000000, 0x2000000, 3 * 4096, 4096, SV_PTE_RW));
	for (i = 0; i < 3; i++)
		t_access(e.v, 0x20000000 + i * 4096ULL + 0xc00, SV_ACCESS_READ);
	T_OK(sv_vm_set_cache(e.vm, &cc));
	sv_vm_stats_reset(e.vm);
	for (i = 0; i < G_N_ELEMENTS(seq); i++)
		t_access(e.v, 0x20000000 + seq[i] * 4096 + 0xc00, SV_ACCESS_READ);
	ck_assert_uint_eq(T_STAT(e.v, tlb_miss), 0); /* no walk: no reference */
	ck_assert_uint_eq(T_STAT(e.v, data_l1d), 1);
	ck_assert_uint_eq(T_STAT(e.v, data_l2), 2);
	ck_assert_uint_eq(T_STAT(e.v, data_mem), 3);
	/* 2 L2 hits of 10 cycles and 3 trips to memory of 100 */
	ck_assert_uint_eq(T_STAT(e.v, cycles), 2 * 10 + 3 * 100);
	/* a geometry the model cannot hold: 3K is 48 lines, not a power of
	 * two of sets */
	ck_assert_int_eq(sv_vm_set_cache(e.vm, &bad), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "l1d of 3 K"));
	t_env_free(&e);
}
END_TEST

/* The cache model changes cycles only: the same accesses, with and
 * without it, give every other counter the same. */
START_TEST(data_cache_counts_unchanged)
{
	sv_cache_config cc = {32, 8, 1024, 16, 8192, 16};
	uint64_t stat[2][SV_VCPU_STAT__COUNT];
	unsigned run, i, k;

	for (run = 0; run < 2; run++) {
		t_env e;

		t_env_setup(&e, NULL, SV_PAGE_2M);
		if (run)
			T_OK(sv_vm_set_cache(e.vm, &cc));
		T_OK(sv_pt_map(e.gpt, 0x20000000, 0x2000000, 16 << 20, 4096, SV_PTE_RW));
		for (i = 0; i < 3 * 4096; i++)
			t_access(e.v, 0x20000000 + (i * 7919ULL % 4096) * 4096,
				 i & 1 ? SV_ACCESS_WRITE : SV_ACCESS_READ);
		for (k = 0; k < SV_VCPU_STAT__COUNT; k++)
			stat[run][k] = sv_vcpu_stat_get(e.v, (sv_vcpu_stat)k);
		t_env_free(&e);
	}
	for (k = 0; k < SV_VCPU_STAT__COUNT; k++) {
		const char *n = sv_vcpu_stat_name((sv_vcpu_stat)k);

		if (k == SV_VCPU_STAT_cycles || g_str_has_prefix(n, "data_") ||
		    g_str_has_prefix(n, "ref_"))
			continue;
		ck_assert_msg(stat[0][k] == stat[1][k], "%s: %" PRIu64 " without the "
			      "cache model, %" PRIu64 " with it", n, stat[0][k], stat[1][k]);
	}
	/* and the model saw every data access and every reference */
	ck_assert_uint_eq(stat[1][SV_VCPU_STAT_data_l1d] + stat[1][SV_VCPU_STAT_data_l2] +
			  stat[1][SV_VCPU_STAT_data_llc] + stat[1][SV_VCPU_STAT_data_mem],
			  stat[1][SV_VCPU_STAT_reads] + stat[1][SV_VCPU_STAT_writes]);
	ck_assert_uint_eq(stat[1][SV_VCPU_STAT_ref_l1d] + stat[1][SV_VCPU_STAT_ref_l2] +
			  stat[1][SV_VCPU_STAT_ref_llc] + stat[1][SV_VCPU_STAT_ref_mem],
			  stat[1][SV_VCPU_STAT_walk_refs]);
	ck_assert_uint_gt(stat[1][SV_VCPU_STAT_cycles], stat[0][SV_VCPU_STAT_cycles]);
}
END_TEST

START_TEST(names)
{
	sv_vcpu_stat id;
	unsigned i;

	T_OK(sv_vcpu_stat_lookup(&id, "pf_guest"));
	ck_assert_int_eq(id, SV_VCPU_STAT_pf_guest);
	ck_assert_int_eq(sv_vcpu_stat_lookup(&id, "nope"), SV_ENOENT);
	for (i = 0; i < SV_VCPU_STAT__COUNT; i++)
		ck_assert_ptr_nonnull(sv_vcpu_stat_desc((sv_vcpu_stat)i));
	ck_assert_ptr_null(sv_vcpu_stat_name(SV_VCPU_STAT__COUNT));
	ck_assert_str_eq(sv_cost_name(0), "l1_hit");
	ck_assert_str_eq(sv_tlb_array_name(SV_TLB_stlb), "stlb");
	ck_assert_str_eq(sv_strerror(SV_ENOMEM), "no memory (SV_ENOMEM)");
	ck_assert_str_eq(sv_strerror(12345), "unknown error");
	ck_assert_int_eq(sv_version_number(), SV_VERSION_NUMBER);
}
END_TEST

/* Each *_options_init() gives what its *_INIT macro gives. */
/* Each *_options_init() gives what its *_INIT macro gives: the same
 * bytes, padding included; a string member (fix: SAME_TEXT(member)) the
 * same text, since two copies of a literal need not share an address. */
#define SAME_AS_INIT(type, fn, macro, fix)                                 \
	do {                                                               \
		static const type want_ = macro; /* padding zeroed */      \
		type got_;                                                 \
		memset(&got_, 0xa5, sizeof(got_));                         \
		fn(&got_);                                                 \
		fix;                                                       \
		ck_assert_msg(!memcmp(&want_, &got_, sizeof(want_)),       \
			      #fn " differs from " #macro);                \
		fn(NULL); /* takes NULL */                                 \
	} while (0)
#define SAME_TEXT(m)                                                       \
	do {                                                               \
		ck_assert_str_eq(got_.m, want_.m);                         \
		got_.m = want_.m;                                          \
	} while (0)
#define NOTHING ((void)0)

START_TEST(option_inits)
{
	SAME_AS_INIT(sv_vm_options, sv_vm_options_init, SV_VM_OPTIONS_INIT, NOTHING);
	SAME_AS_INIT(sv_host_options, sv_host_options_init, SV_HOST_OPTIONS_INIT,
		     NOTHING);
	SAME_AS_INIT(sv_mmu_options, sv_mmu_options_init, SV_MMU_OPTIONS_INIT,
		     SAME_TEXT(policy));
	SAME_AS_INIT(sv_exec_options, sv_exec_options_init, SV_EXEC_OPTIONS_INIT,
		     NOTHING);
	SAME_AS_INIT(sv_workload, sv_workload_init, SV_WORKLOAD_INIT,
		     SAME_TEXT(name));
	SAME_AS_INIT(sv_run_options, sv_run_options_init, SV_RUN_OPTIONS_INIT,
		     NOTHING);
	SAME_AS_INIT(sv_tlb_config, sv_tlb_config_init, SV_TLB_CONFIG_INIT, NOTHING);
	SAME_AS_INIT(sv_costs, sv_costs_init, SV_COSTS_INIT, NOTHING);
	SAME_AS_INIT(sv_guestmm_options, sv_guestmm_options_init,
		     SV_GUESTMM_OPTIONS_INIT, NOTHING);
	SAME_AS_INIT(sv_trace_machine_options, sv_trace_machine_options_init,
		     SV_TRACE_MACHINE_OPTIONS_INIT, NOTHING);
}
END_TEST

/* Every counter listed once, by name and kind, in the enums' order. */
START_TEST(stat_info)
{
	sv_stat_info in;
	size_t i, levels = 0;

	for (i = 0; sv_stat_info_get(i, &in); i++) {
		ck_assert_ptr_nonnull(in.desc);
		if (in.vcpu) {
			ck_assert_str_eq(in.name, sv_vcpu_stat_name(in.vcpu_id));
			ck_assert_uint_eq(in.vcpu_id, i - SV_VM_STAT__COUNT);
		} else {
			ck_assert_str_eq(in.name, sv_vm_stat_name(in.vm_id));
			ck_assert_uint_eq(in.vm_id, i);
		}
		levels += in.level;
	}
	ck_assert_uint_eq(i, SV_VM_STAT__COUNT + SV_VCPU_STAT__COUNT);
	/* the levels: EPT/NPT and guest table pages, memslots, the SPTEs
	 * of each of the three sizes (KVM's pages_4k/2m/1g) and the shadow
	 * pages unsync now (mmu_unsync) */
	ck_assert_uint_eq(levels, 7);
	ck_assert(sv_stat_info_get(SV_VM_STAT_pages_2m, &in) && in.level);
	ck_assert(sv_stat_info_get(SV_VM_STAT_zap_table, &in) && !in.level);
	ck_assert(!sv_stat_info_get(0, NULL));
}
END_TEST

/* The names before 0.2 still work, with their results last, and say
 * what replaces them (the compiler warns: -Wdeprecated-declarations). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
START_TEST(old_names)
{
	t_env e;
	sv_xlate a, b;
	uint64_t ea = 0, eb = 1;

	t_env_setup(&e, NULL, SV_PAGE_2M);
	T_OK(sv_pt_map(e.gpt, 0x40000000, 0x2000000, 4096, 4096, SV_PTE_RW));
	T_OK(sv_vcpu_translate(&a, e.v, 0x40000000, 8, SV_ACCESS_READ));
	T_OK(sv_vcpu_access(e.v, 0x40000000, 8, SV_ACCESS_READ, &b));
	ck_assert_uint_eq(a.hpa, b.hpa);
	ck_assert_uint_eq(a.gpa, 0x2000000);
	T_OK(sv_pt_get(&ea, e.gpt, 0x40000000, 1));
	T_OK(sv_pt_read(e.gpt, 0x40000000, 1, &eb));
	ck_assert_uint_eq(ea, eb);
	ck_assert_uint_eq(ea & ~0xfffULL & ((1ULL << 52) - 1), 0x2000000);
	t_env_free(&e);
}
END_TEST
#pragma GCC diagnostic pop

/* ---- the tree builder and the range iterator ------------------------------ */

START_TEST(builder_errors)
{
	t_env e;
	uint64_t ent;

	t_env_setup(&e, NULL, SV_PAGE_2M);
	T_OK(sv_pt_map(e.gpt, 0x40000000, 0x2000000, SV_PAGE_2M, SV_PAGE_2M, 0));
	/* a 4K page inside the 2M page: refused, nothing changed */
	ck_assert_int_eq(sv_pt_map(e.gpt, 0x40001000, 0, 4096, 4096, 0),
			 SV_EEXIST);
	/* a range whose second half collides maps nothing at all */
	ck_assert_int_eq(sv_pt_map(e.gpt, 0x3fe00000, 0, 2 * SV_PAGE_2M,
				   SV_PAGE_2M, 0),
			 SV_EEXIST);
	/* not even a table was created for the first half */
	ck_assert_int_eq(sv_pt_get(&ent, e.gpt, 0x3fe00000, 2), SV_ENOENT);
	ck_assert_int_eq(sv_pt_map(e.gpt, 0x40200000, 0x1000, SV_PAGE_2M,
				   SV_PAGE_2M, 0),
			 SV_EALIGN);
	ck_assert_int_eq(sv_pt_map(e.gpt, 0x0000800000000000ULL, 0, 4096, 4096,
				   0),
			 SV_ERANGE);
	ck_assert_int_eq(sv_pt_map(e.gpt, 0x50000000, 0, 4096, 8192, 0),
			 SV_EINVAL);
	/* unmapping half of the 2M page is refused */
	ck_assert_int_eq(sv_pt_unmap(e.gpt, 0x40000000, 4096), SV_EINVAL);
	T_OK(sv_pt_unmap(e.gpt, 0x40000000, SV_PAGE_2M));
	T_OK(sv_pt_get(&ent, e.gpt, 0x40000000, 2));
	ck_assert_uint_eq(ent, 0);
	t_env_free(&e);
}
END_TEST

START_TEST(pool_exhaustion)
{
	sv_vm *vm = t_vm();
	sv_pt *gpt;
	uint64_t ent;

	t_slot(vm, 0, 0, 1ULL << 20);
	/* root + 2 pages: a 4K mapping needs 3 more tables (PDPT, PD, PT) */
	gpt = t_guest_pt(vm, 0, 3 * 4096);
	ck_assert_int_eq(sv_pt_map(gpt, 0x1000, 0x5000, 4096, 4096, 0),
			 SV_EFULL);
	ck_assert_ptr_nonnull(strstr(sv_vm_last_error(vm), "pool"));
	ck_assert_int_eq(sv_pt_get(&ent, gpt, 0x1000, 1), SV_ENOENT);
	/* a 2M mapping needs only PDPT and PD: it fits */
	T_OK(sv_pt_map(gpt, 0x200000, 0x200000, SV_PAGE_2M, SV_PAGE_2M, 0));
	ck_assert_uint_eq(sv_pt_table_pages(gpt), 3);
	sv_pt_free(gpt);
	sv_vm_free(vm);
}
END_TEST

static uint64_t *frames_fetch(void *ctx, unsigned level, uint64_t pa)
{
	return sv_frames__ptr(ctx, pa);
}

START_TEST(range_iterator)
{
	sv_vm *vm = t_vm();
	sv_pt *tdp = sv_vm_tdp(vm);
	sv_pt_walker w;
	sv_pt_iter it;
	unsigned leaves = 0, tables = 0;
	uint64_t first = 0, last = 0;

	/* 3 x 4K at 1G, one 2M at 1G + 4M, one 1G at 4G */
	T_OK(sv_pt_map(tdp, SV_PAGE_1G, 0x10000000, 3 * 4096, 4096, SV_EPT_RWX));
	T_OK(sv_pt_map(tdp, SV_PAGE_1G + 0x400000, 0x20000000, SV_PAGE_2M,
		       SV_PAGE_2M, SV_EPT_RWX));
	T_OK(sv_pt_map(tdp, 4 * SV_PAGE_1G, 0x40000000, SV_PAGE_1G, SV_PAGE_1G,
		       SV_EPT_RWX));
	sv_pt__walker_init(&w, &sv_pt__fmt_ept_4, 46, true, true, false);
	w.fetch = frames_fetch;
	w.ctx = &vm->tdp_frames;
	sv_pt__for_each(&it, &w, sv_pt_root(tdp), 0, 8 * SV_PAGE_1G, 1)
	{
		uint64_t e = *it.ptr;

		if (!(e & SV_EPT_RWX))
			continue;
		if (it.level == 1 || (e & SV_EPT_PS)) {
			if (!leaves++)
				first = it.addr;
			last = it.addr;
		} else {
			tables++;
		}
	}
	ck_assert_uint_eq(leaves, 5); /* 3 PTEs, one 2M PDE, one 1G PDPTE */
	ck_assert_uint_eq(first, SV_PAGE_1G);
	ck_assert_uint_eq(last, 4 * SV_PAGE_1G);
	/* table entries crossed: PML4E, PDPTE (1G), PDE (the PT) */
	ck_assert_uint_eq(tables, 3);
	/* a sub-range starting inside the first PT sees 2 PTEs and the 2M
	 * page, and stops before the 1G page */
	leaves = 0;
	sv_pt__for_each(&it, &w, sv_pt_root(tdp), SV_PAGE_1G + 4096,
			SV_PAGE_1G + SV_PAGE_1G / 2, 1)
	{
		uint64_t e = *it.ptr;

		if ((e & SV_EPT_RWX) && (it.level == 1 || (e & SV_EPT_PS)))
			leaves++;
	}
	ck_assert_uint_eq(leaves, 3);
	/* min_level 2 never descends into the PT */
	leaves = 0;
	sv_pt__for_each(&it, &w, sv_pt_root(tdp), 0, 8 * SV_PAGE_1G, 2)
		if (it.level == 1)
			leaves++;
	ck_assert_uint_eq(leaves, 0);
	/* skipping the children of the PDPTE over the first 1G leaves the
	 * 3 PTEs and the 2M page unseen: only the 1G page at 4G remains */
	leaves = 0;
	sv_pt__for_each(&it, &w, sv_pt_root(tdp), 0, 8 * SV_PAGE_1G, 1)
	{
		uint64_t e = *it.ptr;

		if (it.level == 3 && it.addr == SV_PAGE_1G)
			sv_pt__iter_skip_children(&it);
		if ((e & SV_EPT_RWX) && (it.level == 1 || (e & SV_EPT_PS)))
			leaves++;
	}
	ck_assert_uint_eq(leaves, 1);
	/* from the PD of the second 1G (a table of level 2): the 3 PTEs and
	 * the 2M page, and nothing above it */
	leaves = tables = 0;
	{
		uint64_t pdpte; /* points at the PD */

		T_OK(sv_pt_get(&pdpte, tdp, SV_PAGE_1G, 3));
		sv_pt__iter_start_at(&it, &w, pdpte & SV_EPT_ADDR_MASK, 2,
				     SV_PAGE_1G, 2 * SV_PAGE_1G, 1);
		for (; it.valid; sv_pt__iter_next(&it)) {
			uint64_t e = *it.ptr;

			ck_assert_uint_le(it.level, 2);
			if (!(e & SV_EPT_RWX))
				continue;
			if (it.level == 1 || (e & SV_EPT_PS))
				leaves++;
			else
				tables++;
		}
	}
	ck_assert_uint_eq(leaves, 4);
	ck_assert_uint_eq(tables, 1); /* the PDE over the PT */
	sv_vm_free(vm);
}
END_TEST

START_TEST(walker_reserved_masks)
{
	sv_pt_walker w;

	/* x86, MAXPHYADDR 46, no NXE, no 1G: bits 51:46 and XD everywhere,
	 * PS in PDPTE and PML4E, 20:13 in a 2M leaf */
	sv_pt__walker_init(&w, &sv_pt__fmt_x86_4, 46, false, false, false);
	ck_assert_uint_eq(w.rsvd[1][1], 0x000fc00000000000ULL | SV_PTE_NX);
	ck_assert(w.rsvd[4][0] & SV_PTE_PS);
	ck_assert(w.rsvd[3][0] & SV_PTE_PS);
	ck_assert(!(w.rsvd[2][0] & SV_PTE_PS));
	ck_assert_uint_eq(w.rsvd[2][1] & 0x1fffff, 0x1fe000);
	/* EPT: 7:3 in a PML4E, 6:3 in a table PDE, 20:12 in a 2M leaf */
	sv_pt__walker_init(&w, &sv_pt__fmt_ept_4, 46, true, true, false);
	ck_assert_uint_eq(w.rsvd[4][0] & 0xff, 0xf8);
	ck_assert_uint_eq(w.rsvd[2][0] & 0xff, 0x78);
	ck_assert_uint_eq(w.rsvd[2][1] & 0x1fffff, 0x1ff000);
	ck_assert_uint_eq(w.rsvd[1][1], 0x000fc00000000000ULL);
}
END_TEST

/* NULL where a pointer is expected: SV_EINVAL (or a documented neutral
 * value), never a crash; a constructor that fails leaves *out NULL. */
START_TEST(null_arguments)
{
	t_env e;
	sv_vcpu_regs regs = {.cr3 = 1};
	sv_vcpu_stat vs;
	sv_vm_stat ms;
	sv_report *rep = (sv_report *)&e;
	sv_scenario *sc = (sv_scenario *)&e;
	sv_host *h = (sv_host *)&e;
	sv_exec *ex = (sv_exec *)&e;
	sv_pt *pt = (sv_pt *)&e;
	sv_pt_options po = {.version = SV_PT_OPTIONS_VERSION, .kind = SV_PT_GUEST};
	sv_host_options ho = SV_HOST_OPTIONS_INIT;

	t_env_setup(&e, NULL, SV_PAGE_2M);
	ck_assert_int_eq(sv_pt_get(NULL, sv_vm_tdp(e.vm), 0, 1), SV_EINVAL);
	ck_assert_int_eq(sv_vcpu_stat_lookup(NULL, "accesses"), SV_EINVAL);
	ck_assert_int_eq(sv_vm_stat_lookup(NULL, "memslots"), SV_EINVAL);
	sv_vcpu_get_regs(NULL, &regs);
	ck_assert_uint_eq(regs.cr3, 0);
	sv_vcpu_get_regs(e.v, NULL);
	ck_assert_uint_eq(sv_vcpu_index(NULL), UINT_MAX);
	ck_assert_ptr_null(sv_cost_slot(NULL, 0));
	ck_assert_int_eq(sv_scenario_run(&rep, NULL, NULL), SV_EINVAL);
	ck_assert_ptr_null(rep);
	ck_assert_int_eq(sv_trace_replay(&rep, NULL, NULL), SV_EINVAL);
	ck_assert_ptr_null(rep);
	ck_assert_int_eq(sv_scenario_load(&sc, NULL, NULL), SV_EINVAL);
	ck_assert_ptr_null(sc);
	ck_assert_int_eq(sv_pt_new(&pt, NULL, &po), SV_EINVAL);
	ck_assert_ptr_null(pt);
	ck_assert_int_eq(sv_exec_new(&ex, NULL, NULL), SV_EINVAL);
	ck_assert_ptr_null(ex);
	ho.levels = 3;
	ck_assert_int_eq(sv_host_new(&h, &ho), SV_EINVAL);
	ck_assert_ptr_null(h);
	/* the detail speaks of the last call: empty after one that succeeds */
	ck_assert_str_ne(sv_error_detail(), "");
	T_OK(sv_vcpu_stat_lookup(&vs, "accesses"));
	ck_assert_str_eq(sv_error_detail(), "");
	ck_assert_int_eq(sv_vm_stat_lookup(&ms, "no-such"), SV_ENOENT);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "no-such"));
	T_OK(sv_vcpu_invlpg(e.v, 0));
	ck_assert_str_eq(sv_error_detail(), "");
	t_env_free(&e);
}
END_TEST

/* KVM's access_ok(): a slot's host range may not wrap or reach past the
 * user half (TASK_SIZE_MAX; 2^56 - 4K with 5-level paging). */
START_TEST(memslot_hva_range)
{
	sv_vm *vm = t_vm();
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, 1, 0, 0x100000, 0x2000,
			       0xfffffffffffff000ULL};

	ck_assert_int_eq(sv_memslot_set(vm, &r), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "wraps around"));
	r.hva = (1ULL << 56) - 0x2000; /* ends 4K past TASK_SIZE_MAX */
	ck_assert_int_eq(sv_memslot_set(vm, &r), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "kernel half"));
	r.hva = 0xffff800000000000ULL;
	ck_assert_int_eq(sv_memslot_set(vm, &r), SV_EINVAL);
	r.hva = (1ULL << 56) - 0x3000; /* ends exactly at TASK_SIZE_MAX */
	T_OK(sv_memslot_set(vm, &r));
	ck_assert_uint_eq(sv_vm_stat_get(vm, SV_VM_STAT_memslots), 1);
	sv_vm_free(vm);
}
END_TEST

static Suite *vm_suite(void)
{
	Suite *s = suite_create("vm");
	TCase *tc;

	tc = tcase_create("bad_input");
	tcase_add_test(tc, bad_options);
	tcase_add_test(tc, bad_access_args);
	tcase_add_test(tc, bad_regs);
	tcase_add_test(tc, memslots);
	tcase_add_test(tc, config_file);
	tcase_add_test(tc, null_arguments);
	tcase_add_test(tc, memslot_hva_range);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_add_test(tc, costs_charged);
	tcase_add_test(tc, data_cache_levels);
	tcase_add_test(tc, data_cache_counts_unchanged);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	tc = tcase_create("trees");
	tcase_add_test(tc, builder_errors);
	tcase_add_test(tc, pool_exhaustion);
	tcase_add_test(tc, range_iterator);
	tcase_add_test(tc, walker_reserved_masks);
	tcase_add_test(tc, option_inits);
	tcase_add_test(tc, old_names);
	tcase_add_test(tc, stat_info);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return t_run(vm_suite());
}
