/*
 * tests/check_tracerun.c - scenarios whose workload is a trace ([trace],
 * [guestmm], phases bound to record counts): what they run, what their
 * reports hold, and the mistakes the loader catches before a run.
 *
 * The machine of every test: one 1 GiB memslot of THP host memory at
 * 1 GiB, managed by the guest kernel; the trace writes HEAP_PAGES pages of
 * a heap from HEAP, one store each, then reads them in the same order.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "helpers.h"

#define HEAP 0x10000000ULL
#define HEAP_PAGES 2048 /* 8 MiB: four 2M ranges */

static char dir[] = "/tmp/simvirt-tracerun-XXXXXX";

/* The trace: HEAP_PAGES writes, then HEAP_PAGES reads. */
static void make_trace(const char *name, const char *extra)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	FILE *f = fopen(path, "w");
	unsigned i;

	ck_assert_ptr_nonnull(f);
	fprintf(f, "# the heap written, then read\n");
	for (i = 0; i < HEAP_PAGES; i++)
		fprintf(f, "W 0x%llx\n", HEAP + (unsigned long long)i * 4096);
	for (i = 0; i < HEAP_PAGES; i++)
		fprintf(f, "R 0x%llx 8\n", HEAP + (unsigned long long)i * 4096);
	fputs(extra, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_trace("heap.trace", "");
	make_trace("bad.trace", "R 0x10000000 8\nQ 0x10\n");
}

static void teardown(void)
{
	g_autofree char *a = g_build_filename(dir, "heap.trace", NULL);
	g_autofree char *b = g_build_filename(dir, "bad.trace", NULL);

	unlink(a);
	unlink(b);
	rmdir(dir);
	strcpy(dir, "/tmp/simvirt-tracerun-XXXXXX");
}

/* The scenario (named as if it were in the trace's folder, so that
 * file=heap.trace is found there), with the groups `more` appended and
 * the key `set` (GROUP.KEY=VALUE, or NULL) overridden. */
static int load(sv_scenario **s, const char *thp, const char *more,
		const char *set)
{
	const char *sets[] = {set, NULL};
	g_autofree char *name = g_build_filename(dir, "t.ini", NULL);
	g_autofree char *text = g_strdup_printf(
		"[memslot.ram]\ngpa=1G\nsize=1G\nbacking=thp\n"
		"[trace]\nfile=heap.trace\n"
		"[guestmm]\nthp=%s\n"
		"[phase.1]\nname=reads\nrecords=%d\n%s",
		thp, HEAP_PAGES, more);

	return sv_scenario_load_data(s, text, strlen(text), name, sets);
}

static sv_report *run(const char *thp, const char *more, const char *set)
{
	sv_scenario *s;
	sv_report *rep;

	T_OK(load(&s, thp, more, set));
	T_OK(sv_scenario_run(&rep, s, NULL));
	sv_scenario_free(s);
	return rep;
}

static uint64_t get(const sv_report *rep, size_t phase, const char *name)
{
	uint64_t v;

	T_OK(sv_report_get(&v, rep, phase, SV_REPORT_VM, name));
	return v;
}

START_TEST(thp_always_and_never)
{
	sv_report *always = run("always", "", NULL);
	sv_report *never = run("never", "", NULL);

	ck_assert_str_eq(sv_report_end(always), "end of trace after 4096 records");
	ck_assert_uint_eq(sv_report_phase_count(always), 2);
	/* phases by records: 2048 writes in "start", 2048 reads in "reads" */
	ck_assert_uint_eq(get(always, 0, "guest.records"), HEAP_PAGES);
	ck_assert_uint_eq(get(always, 1, "guest.records"), HEAP_PAGES);
	/* always: the first write to each 2M range faults in a THP: 8M / 2M */
	ck_assert_uint_eq(get(always, SV_REPORT_TOTAL, "guest.pgfault"), 4);
	ck_assert_uint_eq(get(always, SV_REPORT_TOTAL, "guest.thp_fault_alloc"), 4);
	/* never: one write fault per 4K page */
	ck_assert_uint_eq(get(never, SV_REPORT_TOTAL, "guest.pgfault"), HEAP_PAGES);
	ck_assert_uint_eq(get(never, SV_REPORT_TOTAL, "guest.thp_fault_alloc"), 0);
	/* either way the heap is 2048 pages of the process's own */
	ck_assert_uint_eq(get(always, SV_REPORT_TOTAL, "guest.pgalloc"), HEAP_PAGES);
	ck_assert_uint_eq(get(never, SV_REPORT_TOTAL, "guest.pgalloc"), HEAP_PAGES);
	/* the reads fault nowhere: every page is mapped by then */
	ck_assert_uint_eq(get(always, 1, "guest.pgfault"), 0);
	ck_assert_uint_eq(get(never, 1, "guest.pgfault"), 0);
	/* always: 2M in the guest over 2M THPs in the host: the reads fill
	 * only 2M entries, at most one per range */
	ck_assert_uint_eq(get(always, 1, "tlb_fill_4k"), 0);
	ck_assert_uint_le(get(always, 1, "tlb_fill_2m"), 4);
	/* never: 2048 pages read in the order written through a 1,536-entry
	 * LRU STLB (12 ways; 2048 / 128 sets = 16 pages a set, cyclic): every
	 * read misses and fills a 4K entry */
	ck_assert_uint_eq(get(never, 1, "tlb_fill_4k"), HEAP_PAGES);
	sv_report_free(always);
	sv_report_free(never);
}
END_TEST

/* Two runs, the same bytes (JSON holds every counter and the config). */
START_TEST(repeatable)
{
	sv_report *a = run("always", "actions=dirty_log_enable ram\n", NULL);
	sv_report *b = run("always", "actions=dirty_log_enable ram\n", NULL);
	char *ta = NULL, *tb = NULL;
	size_t la = 0, lb = 0;
	FILE *fa = open_memstream(&ta, &la), *fb = open_memstream(&tb, &lb);

	T_OK(sv_report_write(a, fa, SV_REPORT_JSON));
	T_OK(sv_report_write(b, fb, SV_REPORT_JSON));
	fclose(fa);
	fclose(fb);
	ck_assert_uint_eq(la, lb);
	ck_assert_int_eq(memcmp(ta, tb, la), 0);
	ck_assert_ptr_nonnull(strstr(ta, "\"guest\": {"));
	ck_assert_ptr_nonnull(strstr(ta, "\"trace\": {"));
	/* dirty logging on at record 2048 split every huge SPTE (eager
	 * splitting, 6.12): the heap's 4 THPs and the 2M range of the guest
	 * kernel's page tables (the first 2M of its table pool) */
	ck_assert_uint_eq(get(a, 1, "split_2m"), 4 + 1);
	free(ta);
	free(tb);
	sv_report_free(a);
	sv_report_free(b);
}
END_TEST

START_TEST(records_limit_and_khugepaged)
{
	sv_scenario *s;
	sv_report *rep;
	const char *sets[] = {"trace.records=3000",
			      "guestmm.khugepaged_period=1000",
			      "guestmm.pages_to_scan=1048576", NULL};
	g_autofree char *name = g_build_filename(dir, "t.ini", NULL);
	static const char text[] = "[memslot.ram]\ngpa=1G\nsize=1G\nbacking=thp\n"
				   "[trace]\nfile=heap.trace\n"
				   "[guestmm]\nthp=always\n"
				   "[phase.1]\nrecords=2048\n";

	T_OK(sv_scenario_load_data(&s, text, strlen(text), name, sets));
	T_OK(sv_scenario_run(&rep, s, NULL));
	sv_scenario_free(s);

	/* the records limit ends the run inside the second phase */
	ck_assert_str_eq(sv_report_end(rep), "limit after 3000 records");
	ck_assert_uint_eq(get(rep, 1, "guest.records"), 3000 - HEAP_PAGES);
	/* a wake-up every 1000 records: at 1000, 2000 and 3000; each a full
	 * pass: the heap's automatic VMA [64K, 1G) has 511 whole 2M ranges,
	 * 511 x 512 PTEs within the 1,048,576 a wake-up scans */
	ck_assert_uint_eq(get(rep, SV_REPORT_TOTAL, "guest.khugepaged_full_scans"),
			  3);
	sv_report_free(rep);
}
END_TEST

/* Each mistake is caught at loading, naming the group and key. */
START_TEST(mistakes)
{
	static const struct {
		const char *more, *set, *says;
	} cases[] = {
		{"[guest]\nworkload=touch\n", NULL,
		 "[guest]: a scenario with a [trace]"},
		{"[vm]\nvcpus=2\n", NULL, "vcpus: a trace is one vCPU's accesses"},
		{"[phase.2]\ninstructions=5\n", NULL,
		 "[phase.2]: a trace run's phases"},
		{"", "guestmm.slot=nope", "[guestmm] slot"},
		{"", "trace.file=missing.trace", "missing.trace"},
		{"", "trace.format=csv", "[trace] format"},
		{"[phase.2]\nrecords=100\nactions=mode detailed\n", NULL,
		 "action mode: a trace run has no execution mode"},
		{"[phase.2]\nrecords=2048\n", NULL,
		 "both bound to record count 2048"},
	};
	unsigned i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		sv_scenario *s = NULL;

		ck_assert_int_eq(load(&s, "always", cases[i].more, cases[i].set),
				 SV_ECONFIG);
		ck_assert_ptr_null(s);
		ck_assert_msg(strstr(sv_error_detail(), cases[i].says),
			      "case %u: '%s'", i, sv_error_detail());
	}
}
END_TEST

/* Trace keys in a scenario without a trace are mistakes too. */
START_TEST(not_a_trace_scenario)
{
	static const char *const texts[] = {
		"[memslot.ram]\ngpa=1G\nsize=1G\n[guestmm]\nthp=always\n",
		"[memslot.ram]\ngpa=1G\nsize=1G\n[phase.1]\nrecords=5\n",
		"[memslot.ram]\ngpa=1G\nsize=1G\n[phase.1]\n"
		"actions=guest_khugepaged\n",
	};
	static const char *const says[] = {
		"[guestmm]: only with a [trace] or [program] group",
		"[phase.1] records: only in a scenario with a [trace] group",
		"guest_khugepaged: only in a scenario with a [trace] or [program] "
		"group",
	};
	unsigned i;

	for (i = 0; i < G_N_ELEMENTS(texts); i++) {
		sv_scenario *s = NULL;

		ck_assert_int_eq(sv_scenario_load_data(&s, texts[i], strlen(texts[i]),
						       "x.ini", NULL),
				 SV_ECONFIG);
		ck_assert_msg(strstr(sv_error_detail(), says[i]), "'%s'",
			      sv_error_detail());
	}
}
END_TEST

/* A trace scenario is not recorded: its trace is the input already. */
START_TEST(no_recording)
{
	sv_run_options o = SV_RUN_OPTIONS_INIT;
	g_autofree char *out = g_build_filename(dir, "r.svt", NULL);
	sv_scenario *s;
	sv_report *rep = NULL;

	T_OK(load(&s, "never", "", NULL));
	o.record = out;
	ck_assert_int_eq(sv_scenario_run(&rep, s, &o), SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "cannot be recorded"));
	ck_assert_ptr_null(rep);
	sv_scenario_free(s);
}
END_TEST

/* A bad record stops the run with its line; no report. */
START_TEST(bad_record)
{
	sv_scenario *s;
	sv_report *rep = NULL;

	T_OK(load(&s, "never", "", "trace.file=bad.trace"));
	ck_assert_int_eq(sv_scenario_run(&rep, s, NULL), SV_ECONFIG);
	ck_assert_ptr_null(rep);
	/* the header line, 4096 records, the good read: the bad one is 4099 */
	ck_assert_msg(strstr(sv_error_detail(), "bad.trace:4099: expected"), "'%s'",
		      sv_error_detail());
	sv_scenario_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tracerun");
	TCase *tc = tcase_create("scenario");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, thp_always_and_never);
	tcase_add_test(tc, repeatable);
	tcase_add_test(tc, records_limit_and_khugepaged);
	tcase_add_test(tc, mistakes);
	tcase_add_test(tc, not_a_trace_scenario);
	tcase_add_test(tc, bad_record);
	tcase_add_test(tc, no_recording);
	suite_add_tcase(s, tc);
	return t_run(s);
}
