/*
 * tests/check_scenario.c - scenario files, reports and record/replay.
 *
 * Expected counts come from shared/reference/kvm-mmu.md (scenario numbers
 * in the comments) scaled to the slot: a slot of S bytes has S / 2M huge
 * pages and S / 4K small ones.  The guest's own code, stack and tables
 * are in the library's 4K slot, so the counts below are the ones only the
 * data slot can change (pages_2m, splits, dirty pages, fast faults).
 */
#define _GNU_SOURCE /* open_memstream, mkstemp, truncate */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#ifndef SV_SCENARIO_DIR
#error "SV_SCENARIO_DIR must name the scenarios/ directory"
#endif

/* Total of a counter, or its change in phase p. */
static uint64_t rget(const sv_report *r, size_t p, const char *name)
{
	uint64_t v = 0;

	T_OK(sv_report_get(&v, r, p, SV_REPORT_VM, name));
	return v;
}

static sv_report *run_text(const char *text, const char *const *sets)
{
	sv_scenario *s = NULL;
	sv_report *r = NULL;

	T_OK(sv_scenario_load_data(&s, text, strlen(text), "t.ini", sets));
	T_OK(sv_scenario_run(&r, s, NULL));
	sv_scenario_free(s);
	return r;
}

static sv_report *run_file(const char *name, const char *const *sets,
			   const char *record)
{
	char path[512];
	sv_scenario *s = NULL;
	sv_report *r = NULL;
	sv_run_options o = SV_RUN_OPTIONS_INIT;

	snprintf(path, sizeof(path), "%s/%s.ini", SV_SCENARIO_DIR, name);
	T_OK(sv_scenario_load(&s, path, sets));
	o.record = record;
	T_OK(sv_scenario_run(&r, s, &o));
	sv_scenario_free(s);
	return r;
}

/* The report printed as fmt, in a malloc'd string. */
static char *print(const sv_report *r, sv_report_format fmt, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	ck_assert_ptr_nonnull(f);
	T_OK(sv_report_write(r, f, fmt));
	fclose(f);
	return buf;
}

/* ---- loading: every mistake names file, group, key and what was expected */

static const struct {
	const char *text;
	const char *set;    /* or NULL */
	const char *detail; /* what the error must say */
} bad[] = {
	{"[vm]\nvcpu=2\n", NULL, "t.ini: [vm] vcpu: unknown key"},
	{"[vmm]\n", NULL, "t.ini: [vmm]: unknown group"},
	{"[vm]\ntdp=svm\n", NULL, "t.ini: [vm] tdp: expected ept or npt, got 'svm'"},
	{"[vm]\nvcpus=0\n", NULL, "[vm] vcpus: expected a whole number from 1 to 256"},
	{"[vm]\ntdp=npt\npml=true\n", NULL, "[vm] pml: PML is Intel's"},
	{"[vm]\nkernel_version=six\n", NULL, "[vm] kernel_version: expected a version"},
	{"[vm]\nbugs=B3\n", NULL, "[vm] bugs: expected a comma-separated list"},
	{"[vm]\npolicy=nope\n", NULL, "[vm] policy: expected kvm, kvm-legacy"},
	{"[memslot.a]\ngpa=0\nsize=1Q\n", NULL, "[memslot.a] size: expected a size"},
	{"[memslot.a]\ngpa=0\n", NULL, "[memslot.a] size: missing"},
	{"[memslot.a]\ngpa=0\nsize=2M\nbacking=tmpfs\n", NULL,
	 "[memslot.a] backing: expected anon, thp, hugetlb-2m"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[memslot.b]\ngpa=1M\nsize=2M\n", NULL,
	 "[memslot.b]: its GPA range overlaps [memslot.a]"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[guest]\nregion=b\n", NULL,
	 "[guest] region: expected the name of a [memslot.NAME] group, got 'b'"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[guest]\npage_size=1G\nguest_1g=true\n",
	 NULL, "[guest] guest_1g: unknown key"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[guest]\npage_size=8K\n", NULL,
	 "[guest] page_size: expected 4K, 2M or 1G"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[phase.1]\nactions=munmap b\n", NULL,
	 "[phase.1] actions: expected the name of a [memslot.NAME] group, got 'b'"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[phase.1]\nactions=explode a\n", NULL,
	 "[phase.1] actions: expected a verb"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[phase.1]\nactions=madvise a sideways\n",
	 NULL, "expected madvise SLOT dontneed|free"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[phase.0]\n", NULL,
	 "[phase.0]: expected [phase.N] with N a sync point from 1"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[tlb]\nstlb_ways=3000\n", NULL,
	 "t.ini: [tlb] stlb_ways: expected a whole number"},
	{"[memslot.a]\ngpa=0\nsize=2M\n", "vm.vcpus=many",
	 "[vm] vcpus: expected a whole number from 1 to 256, got 'many'"},
	{"[memslot.a]\ngpa=0\nsize=2M\n", "vcpus=2",
	 "--set 'vcpus=2': expected GROUP.KEY=VALUE"},
	{"[host]\nmem=1536M\n", NULL, "[host] mem: expected a multiple of 1G, "
				      "got '1536M'"},
	{"[vm\n", NULL, "t.ini: "},
};

START_TEST(t_bad_scenario)
{
	const char *sets[2] = {bad[_i].set, NULL};
	sv_scenario *s = (sv_scenario *)&s;
	int rc = sv_scenario_load_data(&s, bad[_i].text, strlen(bad[_i].text),
				       "t.ini", sets);

	ck_assert_int_eq(rc, SV_ECONFIG);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(sv_error_detail(), bad[_i].detail),
		      "case %d: got \"%s\", expected it to contain \"%s\"", _i,
		      sv_error_detail(), bad[_i].detail);
}
END_TEST

START_TEST(t_set_overrides)
{
	const char *sets[] = {"memslot.data.size=64M", "vm.kernel_version=6.13",
			      NULL};
	sv_scenario *s = NULL;

	T_OK(sv_scenario_load_data(&s, sv_scenario_default(),
				   strlen(sv_scenario_default()), "default", sets));
	ck_assert_str_eq(sv_scenario_name(s), "default");
	ck_assert_ptr_nonnull(strstr(sv_scenario_text(s), "size=64M"));
	ck_assert_ptr_nonnull(strstr(sv_scenario_text(s), "kernel_version=6.13"));
	sv_scenario_free(s);
}
END_TEST

/* ---- the default scenario over 64 MiB: counts, determinism, replay ---- */

static const char *const small[] = {"memslot.data.size=64M", NULL};

START_TEST(t_default_counts)
{
	sv_report *r = run_text(sv_scenario_default(), small);

	ck_assert_str_eq(sv_report_end(r), "halted");
	/* start, populate, dirty-log, re-touch, done: one per boundary */
	ck_assert_uint_eq(sv_report_phase_count(r), 5);
	ck_assert_str_eq(sv_report_phase_name(r, 2), "dirty-log");
	/* populate (scenario 1): 64M / 2M = 32 THPs, one 2M SPTE each */
	ck_assert_uint_eq(rget(r, 1, "pages_2m"), 32);
	/* dirty-log (12): eager split of the 32; 64M / 4K = 16,384 pages each
	 * written once, each write a lockless fix of a write-protected SPTE */
	ck_assert_uint_eq(rget(r, 2, "split_2m"), 32);
	ck_assert_uint_eq(rget(r, 2, "pf_fast"), 16384);
	ck_assert_uint_eq(rget(r, 2, "dirty_marked"), 16384);
	ck_assert_uint_eq(rget(r, 2, "pages_4k"), 16384);
	/* re-touch (17, 6.12): the 32 collapsible tables are zapped and the
	 * writes fault the 2M SPTEs back */
	ck_assert_uint_eq(rget(r, 3, "zap_table"), 32);
	ck_assert_uint_eq(rget(r, 3, "pages_2m"), 32);
	ck_assert_uint_eq(rget(r, SV_REPORT_TOTAL, "pages_2m"), 32);
	/* the touch loop writes one word per 4K page per pass: 3 passes */
	ck_assert_uint_ge(rget(r, SV_REPORT_TOTAL, "writes"), 3 * 16384);
	sv_report_free(r);
}
END_TEST

START_TEST(t_default_6_13)
{
	const char *sets[] = {"memslot.data.size=64M", "vm.kernel_version=6.13",
			      NULL};
	sv_report *r = run_text(sv_scenario_default(), sets);

	/* 6.13 (17): the 32 huge SPTEs are rebuilt in place, nothing zapped */
	ck_assert_uint_eq(rget(r, 3, "recover_2m"), 32);
	ck_assert_uint_eq(rget(r, 3, "zap_table"), 0);
	ck_assert_uint_eq(rget(r, SV_REPORT_TOTAL, "pages_2m"), 32);
	sv_report_free(r);
}
END_TEST

START_TEST(t_deterministic_and_replay)
{
	char trace[] = "/tmp/simvirt-trace-XXXXXX";
	int fd = mkstemp(trace);
	sv_scenario *s = NULL;
	sv_report *a = NULL, *b = NULL, *c = NULL;
	sv_run_options o = SV_RUN_OPTIONS_INIT;
	size_t la, lb, lc, i;
	char *ja, *jb, *jc;

	ck_assert_int_ge(fd, 0);
	close(fd);
	T_OK(sv_scenario_load_data(&s, sv_scenario_default(),
				   strlen(sv_scenario_default()), "default", small));
	T_OK(sv_scenario_run(&a, s, NULL));
	o.record = trace;
	T_OK(sv_scenario_run(&b, s, &o));
	T_OK(sv_trace_replay(&c, trace, NULL));
	for (i = 0; i < 3; i++) {
		ja = print(a, (sv_report_format)i, &la);
		jb = print(b, (sv_report_format)i, &lb);
		jc = print(c, (sv_report_format)i, &lc);
		/* the same scenario twice, and its replay: the same bytes */
		ck_assert_msg(la == lb && !memcmp(ja, jb, la), "format %zu: two runs "
							       "differ", i);
		ck_assert_msg(la == lc && !memcmp(ja, jc, la), "format %zu: the "
							       "replay differs", i);
		free(ja);
		free(jb);
		free(jc);
	}
	ja = print(a, SV_REPORT_JSON, &la);
	ck_assert_ptr_nonnull(strstr(ja, "\"schema\": 1"));
	ck_assert_ptr_nonnull(strstr(ja, "\"name\": \"re-touch\""));
	free(ja);
	sv_report_free(a);
	sv_report_free(b);
	sv_report_free(c);
	sv_scenario_free(s);
	unlink(trace);
}
END_TEST

/* A damaged trace is an error naming the offset, never a crash. */
START_TEST(t_damaged_trace)
{
	char trace[] = "/tmp/simvirt-trace-XXXXXX";
	int fd = mkstemp(trace);
	sv_report *r = NULL;
	sv_run_options o = SV_RUN_OPTIONS_INIT;
	const char *sets[] = {"memslot.data.size=4M", NULL};
	sv_scenario *s = NULL;
	FILE *f;
	long len;
	int ch;

	ck_assert_int_ge(fd, 0);
	close(fd);
	T_OK(sv_scenario_load_data(&s, sv_scenario_default(),
				   strlen(sv_scenario_default()), "default", sets));
	o.record = trace;
	T_OK(sv_scenario_run(&r, s, &o));
	sv_report_free(r);
	sv_scenario_free(s);
	f = fopen(trace, "r+b");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	/* one flipped byte in the middle: a checksum mismatch */
	fseek(f, len / 2, SEEK_SET);
	ch = fgetc(f);
	fseek(f, len / 2, SEEK_SET);
	fputc(ch ^ 0x40, f);
	fclose(f);
	ck_assert_int_eq(sv_trace_replay(&r, trace, NULL), SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "checksum mismatch"));
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), ": offset "));
	/* cut short */
	ck_assert_int_eq(truncate(trace, len / 3), 0);
	ck_assert_int_eq(sv_trace_replay(&r, trace, NULL), SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "cut short"));
	ck_assert_ptr_null(r);
	/* not a trace */
	ck_assert_int_eq(truncate(trace, 5), 0);
	ck_assert_int_eq(sv_trace_replay(&r, trace, NULL), SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "bad magic"));
	unlink(trace);
}
END_TEST

/* Actions bound to an instruction count rather than a sync point. */
START_TEST(t_instruction_phase)
{
	const char *text = "[memslot.data]\ngpa=0x40000000\nsize=4M\nbacking=thp\n"
			   "[guest]\nworkload=touch\npage_size=2M\npasses=2\n"
			   "[phase.1]\ninstructions=5000\nname=early\n"
			   "actions=madvise data dontneed\n";
	sv_report *r = run_text(text, NULL);

	/* start, sync 1, early (5,000 instructions in), sync 2, sync 3 */
	ck_assert_uint_eq(sv_report_phase_count(r), 5);
	ck_assert_str_eq(sv_report_phase_name(r, 2), "early");
	ck_assert_str_eq(sv_report_end(r), "halted");
	/* DONTNEED over the slot is one CLEAR invalidation */
	ck_assert_uint_eq(rget(r, 2, "host.event_clear"), 1);
	sv_report_free(r);
}
END_TEST

/* ---- the shipped scenarios' headline counters ------------------------- */

START_TEST(t_kpt)
{
	static const char *const names[] = {"kpt-thp", "kpt-hugetlb-2m",
					    "kpt-hugetlb-1g", "kpt-anon"};
	const char *four[] = {"vm.vcpus=4", NULL};
	sv_report *r = run_file(names[_i % 4], _i >= 4 ? four : NULL, NULL);

	/* phases: start, create, update, adjust, done; 1 GiB */
	ck_assert_uint_eq(sv_report_phase_count(r), 5);
	/* update (12, 30): every 4K page written once with logging on */
	ck_assert_uint_eq(rget(r, 2, "dirty_marked"), 262144);
	ck_assert_uint_eq(rget(r, 2, "pf_fast"), 262144);
	switch (_i % 4) {
	case 0: /* THP (30): 512 2M SPTEs; eager split; 6.12 refaults 512 */
	case 1: /* hugetlb 2M: the same shape */
		ck_assert_uint_eq(rget(r, 1, "pages_2m"), 512);
		ck_assert_uint_eq(rget(r, 2, "split_2m"), 512);
		ck_assert_uint_eq(rget(r, 3, "zap_table"), 512);
		ck_assert_uint_eq(rget(r, 3, "pages_2m"), 512);
		break;
	case 2: /* hugetlb 1G (4, 17): 1 SPTE, split to 2M then 4K, 1 back */
		ck_assert_uint_eq(rget(r, 1, "pages_1g"), 1);
		ck_assert_uint_eq(rget(r, 2, "split_1g"), 1);
		ck_assert_uint_eq(rget(r, 2, "split_2m"), 512);
		ck_assert_uint_eq(rget(r, SV_REPORT_TOTAL, "pages_1g"), 1);
		break;
	default: /* anonymous 4K (3, 30): 262,144 4K SPTEs, nothing huge */
		ck_assert_uint_ge(rget(r, 1, "pages_4k"), 262144);
		ck_assert_uint_eq(rget(r, SV_REPORT_TOTAL, "pages_2m"), 0);
		ck_assert_uint_eq(rget(r, 3, "pages_4k"), 0);
	}
	sv_report_free(r);
}
END_TEST

START_TEST(t_dirty_log_split)
{
	sv_report *r = run_file("dirty-log-split", NULL, NULL);

	/* 14: one fault-path split per 2M region, the other 511 pages fast */
	ck_assert_uint_eq(rget(r, 2, "split_2m"), 512);
	ck_assert_uint_eq(rget(r, 2, "pf_fast"), 262144 - 512);
	ck_assert_uint_eq(rget(r, 2, "dirty_marked"), 262144);
	sv_report_free(r);
}
END_TEST

START_TEST(t_dax)
{
	const char *legacy[] = {"vm.policy=kvm-legacy", "vm.bugs=B6", NULL};
	sv_report *r = run_file("dax-pmd", _i ? legacy : NULL, NULL);

	/* 11: the host walk sees the PMD (512 x 2M); the old policy saw a
	 * ZONE_DEVICE pfn and mapped 262,144 x 4K */
	ck_assert_uint_eq(rget(r, 1, "pages_2m"), _i ? 0 : 512);
	ck_assert_uint_ge(rget(r, 1, "pages_4k"), _i ? 262144 : 0);
	sv_report_free(r);
}
END_TEST

START_TEST(t_b5)
{
	const char *fixed[] = {"vm.bugs=", NULL};
	sv_report *r = run_file("b5-hugetlb-recollapse", _i ? fixed : NULL, NULL);

	/* 18: with B5 the hugetlbfs slot stays 4K after logging; fixed, the
	 * re-touch maps the 512 2M pages again */
	ck_assert_uint_eq(rget(r, 3, "pages_2m"), _i ? 512 : 0);
	ck_assert_uint_eq(rget(r, SV_REPORT_TOTAL, "pages_2m"), _i ? 512 : 0);
	sv_report_free(r);
}
END_TEST

START_TEST(t_tlb_conflict)
{
	const char *fixed[] = {"vm.bugs=", NULL};
	sv_report *r = run_file("tlb-conflict", _i ? fixed : NULL, NULL);

	/* 31: logging stops, the 4K tables become one 2M SPTE (6.13).  Base
	 * flush: 512 4K entries sat in the STLB (4 per set of 128, 12 ways),
	 * page 0's is dropped, pages 1..511 each match 4K + 2M: 511.  A whole
	 * flush leaves nothing to match: 0 */
	ck_assert_uint_eq(rget(r, 3, "recover_2m"), 1);
	ck_assert_uint_eq(rget(r, 3, "base_only_flushes"), _i ? 0 : 1);
	ck_assert_uint_eq(rget(r, 3, "tlb_conflicts"), _i ? 0 : 511);
	ck_assert_uint_eq(rget(r, 3, "audit.tlb_multi_match"), _i ? 0 : 511);
	sv_report_free(r);
}
END_TEST

START_TEST(t_tlb_conflict_abort)
{
	const char *abort_[] = {"tlb.conflict=abort", NULL};
	sv_report *r = run_file("tlb-conflict", abort_, NULL);

	/* As on ARM: the first multi-match (page 1 of the re-touch, gva
	 * 0x40001000) is a conflict abort that stops the guest */
	ck_assert_ptr_nonnull(strstr(sv_report_end(r),
				     "fault: TLB conflict abort on vCPU 0 at rip"));
	ck_assert_ptr_nonnull(strstr(sv_report_end(r), ", gva 0x40001000,"));
	ck_assert_uint_eq(rget(r, 3, "conflict_aborts"), 1);
	sv_report_free(r);
}
END_TEST

START_TEST(t_walk_lab)
{
	sv_report *r = run_file("walk-lab", NULL, NULL);

	/* 3: 64M / 4K = 16,384 4K SPTEs for the data, all in populate */
	ck_assert_uint_ge(rget(r, 1, "pages_4k"), 16384);
	ck_assert_uint_eq(rget(r, SV_REPORT_TOTAL, "pages_2m"), 0);
	sv_report_free(r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("load");

	tcase_add_loop_test(tc, t_bad_scenario, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, t_set_overrides);
	suite_add_tcase(s, tc);
	tc = tcase_create("run");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, t_default_counts);
	tcase_add_test(tc, t_default_6_13);
	tcase_add_test(tc, t_deterministic_and_replay);
	tcase_add_test(tc, t_damaged_trace);
	tcase_add_test(tc, t_instruction_phase);
	suite_add_tcase(s, tc);
	tc = tcase_create("shipped");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, t_kpt, 0, 5);
	tcase_add_test(tc, t_dirty_log_split);
	tcase_add_loop_test(tc, t_dax, 0, 2);
	tcase_add_loop_test(tc, t_b5, 0, 2);
	tcase_add_loop_test(tc, t_tlb_conflict, 0, 2);
	tcase_add_test(tc, t_tlb_conflict_abort);
	tcase_add_test(tc, t_walk_lab);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
