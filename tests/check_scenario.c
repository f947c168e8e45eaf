/*
 * tests/check_scenario.c - scenario files, reports and record/replay.
 *
 * Expected counts come from docs/kvm-reference.md (scenario numbers
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

#include <glib.h>
#include <inttypes.h>

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

/* a and b print the same bytes in format f (what: b, in the message). */
static void same_bytes(const sv_report *a, const sv_report *b,
		       sv_report_format f, const char *what)
{
	size_t la, lb;
	char *ja = print(a, f, &la), *jb = print(b, f, &lb);

	ck_assert_msg(la == lb && !memcmp(ja, jb, la), "format %d: %s differs",
		      (int)f, what);
	free(ja);
	free(jb);
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
	{"[vm]\npolicy=nope\n", NULL, "[vm] policy: expected auto (by kernel_version), kvm, kvm-legacy"},
	{"[vm]\nsteal_time=true\nsteal_time_slot=nope\n[memslot.a]\ngpa=0\nsize=2M\n", NULL,
	 "[vm] steal_time_slot: expected the name of a [memslot.NAME] group, got 'nope'"},
	{"[vm]\nsteal_time=true\nsteal_time_slot=a\n[memslot.a]\ngpa=0\nsize=2M\n", NULL,
	 "[vm] steal_time_slot: expected a memslot other than the workload's region"},
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
	/* caught when the plan is loaded, not when the guest starts */
	{"[memslot.a]\ngpa=0\nsize=2M\n[guest]\nworkload=random\n", NULL,
	 "t.ini: [guest]: workload random: count must be at least 1"},
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
	/* the whole list of [vm]'s keys, longer than any fixed buffer */
	{"[memslot.a]\ngpa=0\nsize=2M\n", "vm.nosuch=1",
	 "[vm] nosuch: unknown key (expected one of "},
	{"[memslot.a]\ngpa=0\nsize=2M\n", "vm.nosuch=1", "seed, steal_time, steal_time_interval, steal_time_slot)"},
	/* duplicates and text that is not UTF-8 */
	{"[memslot.a]\ngpa=0\nsize=2M\n[vm]\nvcpus=1\n[vm]\nvcpus=2\n", NULL,
	 "t.ini: line 6: [vm] given a second time"},
	{"[memslot.a]\ngpa=0\nsize=2M\nsize = 4M\n", NULL,
	 "t.ini: line 4: [memslot.a] size given a second time"},
	{"[memslot.a]\ngpa=0\nsize=2M\n# caf\xe9\n", NULL,
	 "t.ini: line 4: not UTF-8 text (byte 0xe9)"},
	/* --set: names only, one line of text */
	{"[memslot.a]\ngpa=0\nsize=2M\n", "vm]x.y=3",
	 "--set 'vm]x.y=3': expected GROUP.KEY=VALUE"},
	{"[memslot.a]\ngpa=0\nsize=2M\n", "vm.vcpus=1\n[vm]\nvcpus=2",
	 "--set vm.vcpus: the value holds control character 0x0a"},
	/* two phases at one point */
	{"[memslot.a]\ngpa=0\nsize=2M\n[phase.1]\n[phase.01]\n", NULL,
	 "t.ini: two [phase.N] groups for sync point 1"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[phase.1]\ninstructions=500\n"
	 "[phase.2]\ninstructions=500\n", NULL,
	 "t.ini: [phase.1] and [phase.2]: both bound to instruction count 500"},
	/* the memslots need more host RAM than is modelled */
	{"[memslot.a]\ngpa=0\nsize=2T\n", NULL,
	 "[host] mem: the memslots need 2050G of host RAM"},
	{"[memslot.a]\ngpa=0\nsize=2M\n[host]\nfrag_percent=100\n", NULL,
	 "[host] frag_percent = 100 leaves no free 2M block for the huge zero "
	 "page ([host] thp_zero_page)"},
	/* The plan, checked by building the machine at loading: */
	{"[memslot.a]\ngpa=0\nsize=2M\n[phase.1]\nactions=dirty_log_clear a\n",
	 NULL, "[phase.1] action dirty_log_clear a: dirty log: memslot 0 does "
	       "not log dirty pages"},
	{"[memslot.a]\ngpa=0\nsize=4M\n[phase.1]\nactions=dirty_log_enable a\n"
	 "[phase.2]\nactions=dirty_log_clear a\n", NULL,
	 "[phase.2] action dirty_log_clear a: clear dirty log: needs manual "
	 "protect"},
	{"[memslot.a]\ngpa=0\nsize=4M\n[phase.1]\nactions=munmap a 0 2M\n"
	 "[phase.2]\nactions=collapse a 0 2M\n", NULL,
	 "[phase.2] action collapse a: madvise: [0x100000000000, "
	 "0x100000200000) is not entirely mapped"},
	{"[memslot.a]\ngpa=0\nsize=4M\nbacking=hugetlb-2m\n[phase.1]\n"
	 "actions=split_thp a 0\n", NULL,
	 "[phase.1] action split_thp a: split_thp: 0x100000000000 is not in "
	 "private anonymous memory"},
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
	size_t la, i;
	char *ja;

	ck_assert_int_ge(fd, 0);
	close(fd);
	T_OK(sv_scenario_load_data(&s, sv_scenario_default(),
				   strlen(sv_scenario_default()), "default", small));
	T_OK(sv_scenario_run(&a, s, NULL));
	o.record = trace;
	T_OK(sv_scenario_run(&b, s, &o));
	T_OK(sv_trace_replay(&c, trace, NULL));
	/* the same scenario twice, and its replay: the same bytes */
	for (i = 0; i < 3; i++) {
		same_bytes(a, b, (sv_report_format)i, "two runs");
		same_bytes(a, c, (sv_report_format)i, "the replay");
	}
	ja = print(a, SV_REPORT_JSON, &la);
	ck_assert_ptr_nonnull(strstr(ja, "\"schema\": 2"));
	ck_assert_ptr_nonnull(strstr(ja, "\"name\": \"re-touch\""));
	free(ja);
	sv_report_free(a);
	sv_report_free(b);
	sv_report_free(c);
	sv_scenario_free(s);
	unlink(trace);
}
END_TEST

/* Byte `at` of the trace set to `value`: replay refuses it with a detail
 * holding `why`; then the byte is put back. */
static void poke_refused(FILE *f, const char *trace, long at, int value,
			 const char *why)
{
	sv_report *r = NULL;
	int old;

	fseek(f, at, SEEK_SET);
	old = fgetc(f);
	fseek(f, at, SEEK_SET);
	fputc(value, f);
	fflush(f);
	ck_assert_int_eq(sv_trace_replay(&r, trace, NULL), SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), why));
	fseek(f, at, SEEK_SET);
	fputc(old, f);
	fflush(f);
}

/* A damaged trace is an error naming the offset, never a crash. */
/*
 * The report's configuration is the whole plan: its CSV "# config" lines,
 * written back as a key file, load and run to the same bytes.
 */
START_TEST(t_report_config)
{
	const char *sets[] = {"memslot.data.size=16M", "vm.kernel_version=6.12",
			      "memslot.data.backing=hugetlb-2m", NULL};
	sv_report *a = run_text(sv_scenario_default(), sets), *b;
	size_t la, lb, lj;
	char *ca = print(a, SV_REPORT_CSV, &la), *cb, *ja;
	g_auto(GStrv) lines = g_strsplit(ca, "\n", -1);
	g_autoptr(GString) kf = g_string_new("");
	g_autofree char *group = NULL;
	char **l;

	ck_assert_ptr_nonnull(strstr(ca, "# end halted\n"));
	ck_assert_ptr_nonnull(strstr(ca, "# config vm.kernel_version=6.12\n"));
	ck_assert_ptr_nonnull(strstr(ca, "# config memslot.data.backing=hugetlb-2m\n"));
	for (l = lines; *l; l++) {
		const char *kv = g_str_has_prefix(*l, "# config ") ? *l + 9 : NULL;
		const char *eq = kv ? strchr(kv, '=') : NULL;
		const char *dot = eq ? g_strrstr_len(kv, eq - kv, ".") : NULL;

		if (!dot)
			continue;
		if (!group || strncmp(group, kv, dot - kv) || group[dot - kv]) {
			g_free(group);
			group = g_strndup(kv, dot - kv);
			g_string_append_printf(kf, "%s[%s]\n", kf->len ? "\n" : "",
					       group);
		}
		g_string_append_printf(kf, "%s\n", dot + 1);
	}
	b = run_text(kf->str, NULL);
	cb = print(b, SV_REPORT_CSV, &lb);
	ck_assert_msg(la == lb && !memcmp(ca, cb, la), "the configuration "
		      "written back runs differently:\n%s", kf->str);
	{
		/* the library's own key file of it is a fixed point */
		sv_scenario *s = NULL, *t = NULL;
		const char *text;

		T_OK(sv_scenario_load_data(&s, kf->str, kf->len, "c.ini", NULL));
		text = sv_scenario_config_text(s);
		ck_assert_str_eq(text, kf->str);
		T_OK(sv_scenario_load_data(&t, text, strlen(text), "d.ini", NULL));
		ck_assert_str_eq(sv_scenario_config_text(t), text);
		sv_scenario_free(s);
		sv_scenario_free(t);
	}
	ja = print(a, SV_REPORT_JSON, &lj);
	ck_assert_ptr_nonnull(strstr(ja, "\"kernel_version\": \"6.12\""));
	ck_assert_ptr_nonnull(strstr(ja, "\"backing\": \"hugetlb-2m\""));
	free(ja);
	free(ca);
	free(cb);
	sv_report_free(a);
	sv_report_free(b);
}
END_TEST

/* ---- progress: it only looks ---- */

typedef struct seen_progress {
	unsigned calls;
	uint64_t last_insn, last_trace, trace_size;
	bool backwards;
} seen_progress;

static void note_progress(const sv_progress *p, void *payload)
{
	seen_progress *sp = payload;

	sp->backwards |= p->instructions < sp->last_insn ||
			 p->trace_done < sp->last_trace;
	sp->last_insn = p->instructions;
	sp->last_trace = p->trace_done;
	sp->trace_size = p->trace_size;
	sp->calls++;
}

START_TEST(t_progress)
{
	char trace[] = "/tmp/simvirt-progress-XXXXXX";
	int fd = mkstemp(trace);
	sv_scenario *s = NULL;
	sv_report *a = NULL, *b = NULL, *c = NULL;
	sv_run_options o = SV_RUN_OPTIONS_INIT;
	seen_progress run = {0}, rep = {0};

	ck_assert_int_ge(fd, 0);
	close(fd);
	T_OK(sv_scenario_load_data(&s, sv_scenario_default(),
				   strlen(sv_scenario_default()), "default", small));
	T_OK(sv_scenario_run(&a, s, NULL));
	o.on_progress = note_progress;
	o.payload = &run;
	o.progress_interval = 1e-9; /* every vCPU turn */
	o.record = trace;
	T_OK(sv_scenario_run(&b, s, &o));
	o.record = NULL;
	o.payload = &rep;
	T_OK(sv_trace_replay(&c, trace, &o));
	/* the touch loop writes 3 passes x 64M / 4K = 49,152 pages, a store
	 * and a branch at least each: >= 98,304 instructions, at most 10,000
	 * a turn (SV_EXEC_OPTIONS_INIT's slice), so >= 10 turns and as many
	 * calls; never going backwards, ending within the run's count */
	ck_assert_uint_ge(run.calls, 10);
	ck_assert(!run.backwards);
	ck_assert_uint_le(run.last_insn,
			  rget(b, SV_REPORT_TOTAL, "instructions"));
	/* the replay: one call per 1,024 events, and the 49,152 writes are
	 * events each: >= 48 calls */
	ck_assert_uint_ge(rep.calls, 48);
	ck_assert(!rep.backwards);
	ck_assert_uint_gt(rep.last_trace, 0);
	ck_assert_uint_le(rep.last_trace, rep.trace_size);
	/* and the model did the same: the same report bytes */
	same_bytes(a, b, SV_REPORT_JSON, "with progress");
	same_bytes(a, c, SV_REPORT_JSON, "the replay with progress");
	sv_report_free(a);
	sv_report_free(b);
	sv_report_free(c);
	/* version 1 options (no progress fields) are still taken */
	o.version = 1;
	T_OK(sv_scenario_run(&a, s, &o));
	sv_report_free(a);
	o.version = 3;
	ck_assert_int_eq(sv_scenario_run(&a, s, &o), SV_EINVAL);
	sv_scenario_free(s);
	unlink(trace);
}
END_TEST

/* At the end of the default run over 64M: a VM-wide reset for a warm-up
 * zeroes every count and keeps every level. */
static int reset_at_end(const char *phase, sv_vm *vm, void *payload)
{
	uint64_t pages_2m = sv_vm_stat_get(vm, SV_VM_STAT_pages_2m);
	uint64_t tables = sv_vm_stat_get(vm, SV_VM_STAT_tdp_table_pages);
	sv_stat_info in;
	size_t i;

	if (strcmp(phase, "end") != 0)
		return 0;
	ck_assert_uint_gt(sv_vm_stat_get(vm, SV_VM_STAT_zap_table), 0);
	ck_assert_uint_gt(sv_vm_vcpu_stat_sum(vm, SV_VCPU_STAT_accesses), 0);
	sv_vm_stats_reset(vm);
	/* 64M / 2M = 32 huge SPTEs stay, and the tables holding them */
	ck_assert_uint_eq(sv_vm_stat_get(vm, SV_VM_STAT_pages_2m), pages_2m);
	ck_assert_uint_eq(pages_2m, 32);
	ck_assert_uint_eq(sv_vm_stat_get(vm, SV_VM_STAT_tdp_table_pages), tables);
	for (i = 0; sv_stat_info_get(i, &in); i++)
		if (in.vcpu)
			ck_assert_uint_eq(sv_vm_vcpu_stat_sum(vm, in.vcpu_id), 0);
		else if (!in.level)
			ck_assert_uint_eq(sv_vm_stat_get(vm, in.vm_id), 0);
	*(bool *)payload = true;
	return 0;
}

START_TEST(t_stats_reset)
{
	sv_run_options o = SV_RUN_OPTIONS_INIT;
	sv_scenario *s = NULL;
	sv_report *r = NULL;
	bool done = false;

	T_OK(sv_scenario_load_data(&s, sv_scenario_default(),
				   strlen(sv_scenario_default()), "default", small));
	o.on_phase = reset_at_end;
	o.payload = &done;
	T_OK(sv_scenario_run(&r, s, &o));
	ck_assert(done);
	sv_report_free(r);
	sv_scenario_free(s);
}
END_TEST

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
	/* a byte after the end chunk */
	f = fopen(trace, "ab");
	ck_assert_ptr_nonnull(f);
	fputc(0, f);
	fclose(f);
	ck_assert_int_eq(sv_trace_replay(&r, trace, NULL), SV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "bytes after the end chunk"));
	f = fopen(trace, "r+b");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f) - 1;
	ck_assert_int_eq(ftruncate(fileno(f), len), 0);
	/* the reserved header field (bytes 12-15) not zero */
	poke_refused(f, trace, 12, 1, "reserved header field");
	T_OK(sv_trace_replay(&r, trace, NULL));
	sv_report_free(r);
	/* a format version this reader does not know (bytes 8-11): it
	 * reads 1 to 3 */
	poke_refused(f, trace, 8, 4, "format version 4");
	poke_refused(f, trace, 8, 0, "format version 0");
	/* a compressed chunk in a version-2 trace (they came with 3) */
	poke_refused(f, trace, 8, 2, "unknown chunk type");
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

/* ---- the shipped scenarios' stated numbers ------------------------------ */

/*
 * Each shipped scenario states its headline counters in its comment, in
 * lines this test reads:
 *   #   PHASE: COUNTER VALUE, COUNTER VALUE, ...
 * (PHASE a phase's name, or "total"; VALUE a phase's change or the total,
 * with an optional sign and thousands commas), after an optional
 *   # With --set GROUP.KEY=VALUE [--set ...]:
 * line, which starts a variant run with those overrides.  Every stated
 * number must be what a run of the file gives.
 */
typedef struct stated {
	char *sets[12];       /* the variant's overrides, NULL-terminated */
	GPtrArray *checks;    /* char *: "PHASE\tCOUNTER\tVALUE" */
	uint64_t walk_gva;    /* "cold walk of GVA: N references" */
	uint64_t walk_refs;
	bool walk;
} stated;

static void stated_free(gpointer p)
{
	stated *v = p;
	unsigned i;

	for (i = 0; v->sets[i]; i++)
		g_free(v->sets[i]);
	g_ptr_array_free(v->checks, TRUE);
	g_free(v);
}

/* The variants a scenario file states, the plain run first. */
static GPtrArray *stated_of(const char *path)
{
	g_autoptr(GRegex) line = g_regex_new(
		"^#\\s+([\\w.-]+): ([a-z_][\\w.]* [+-]?[\\d,]+(, [a-z_][\\w.]* "
		"[+-]?[\\d,]+)*)\\s*$", 0, 0, NULL);
	g_autoptr(GRegex) with = g_regex_new("^# With ((--set \\S+ ?)+)", 0, 0,
					     NULL);
	g_autoptr(GRegex) walk = g_regex_new(
		"^#\\s+cold walk of (0x[0-9a-f]+): (\\d+) references$", 0, 0, NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *out = g_ptr_array_new_with_free_func(stated_free);
	stated *cur = g_new0(stated, 1);
	unsigned i, k;

	ck_assert(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	cur->checks = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(out, cur);
	for (i = 0; lines[i] && lines[i][0] != '['; i++) {
		g_autoptr(GMatchInfo) m = NULL;

		if (g_regex_match(with, lines[i], 0, &m)) {
			g_autofree char *all = g_match_info_fetch(m, 1);
			g_auto(GStrv) w = g_strsplit(g_strstrip(all), " ", -1);
			unsigned n = 0;

			cur = g_new0(stated, 1);
			cur->checks = g_ptr_array_new_with_free_func(g_free);
			for (k = 0; w[k]; k++)
				if (strcmp(w[k], "--set") && n < 11)
					cur->sets[n++] = g_strndup(w[k],
								   strcspn(w[k], ":"));
			g_ptr_array_add(out, cur);
			continue;
		}
		g_match_info_free(g_steal_pointer(&m));
		if (g_regex_match(walk, lines[i], 0, &m)) {
			g_autofree char *gva = g_match_info_fetch(m, 1);
			g_autofree char *refs = g_match_info_fetch(m, 2);

			cur->walk = true;
			cur->walk_gva = g_ascii_strtoull(gva, NULL, 16);
			cur->walk_refs = g_ascii_strtoull(refs, NULL, 10);
			continue;
		}
		g_match_info_free(g_steal_pointer(&m));
		if (g_regex_match(line, lines[i], 0, &m)) {
			g_autofree char *phase = g_match_info_fetch(m, 1);
			g_autofree char *items = g_match_info_fetch(m, 2);
			g_auto(GStrv) it = g_strsplit(items, ", ", -1);

			for (k = 0; it[k]; k++) {
				char *sp = strchr(it[k], ' ');

				*sp = '\t';
				g_ptr_array_add(cur->checks,
						g_strdup_printf("%s\t%s", phase, it[k]));
			}
		}
	}
	return out;
}

static size_t phase_index(const sv_report *r, const char *name)
{
	size_t p;

	if (!strcmp(name, "total"))
		return SV_REPORT_TOTAL;
	for (p = 0; p < sv_report_phase_count(r); p++)
		if (!strcmp(sv_report_phase_name(r, p), name))
			return p;
	ck_abort_msg("no phase named '%s'", name);
	return 0;
}

/* What `simvirt walk --cold` does at the end of a run: every TLB and walk
 * cache emptied (INVEPT all-context, or an SVM flush of every ASID), then
 * one read; the references it made. */
typedef struct cold_walk {
	uint64_t gva;
	uint32_t refs;
	bool done;
} cold_walk;

static int cold_walk_at_end(const char *phase, sv_vm *vm, void *payload)
{
	cold_walk *w = payload;
	sv_vcpu *v = sv_vm_vcpu(vm, 0);
	sv_xlate x;

	if (strcmp(phase, "end"))
		return 0;
	if (sv_vm_options_get(vm)->tdp == SV_TDP_NPT)
		T_OK(sv_vcpu_svm_tlb_control(v, 1));
	else
		T_OK(sv_vcpu_invept(v, 2, 0));
	T_OK(sv_vcpu_translate(&x, v, w->gva, 8, SV_ACCESS_READ));
	ck_assert_int_eq(x.fault.kind, SV_FAULT_NONE);
	w->refs = x.refs;
	w->done = true;
	return 0;
}

/* The triple fault's run ends in shutdown, its end naming the #PF that
 * began it: the guest's read of 0x7f0000000000 (not present, supervisor
 * read: error code 0); a replay of its recording ends the same way. */
START_TEST(t_triple_fault_end)
{
	char trace[] = "/tmp/simvirt-triple-XXXXXX";
	int fd = mkstemp(trace);
	sv_report *r, *p = NULL;

	ck_assert_int_ge(fd, 0);
	close(fd);
	r = run_file("triple-fault", NULL, trace);
	ck_assert_ptr_nonnull(strstr(sv_report_end(r),
				     "shutdown: triple fault on vCPU 0, from #PF"));
	ck_assert_ptr_nonnull(strstr(sv_report_end(r),
				     "gva 0x7f0000000000, error code 0x0"));
	T_OK(sv_trace_replay(&p, trace, NULL));
	ck_assert_str_eq(sv_report_end(p), sv_report_end(r));
	ck_assert_uint_eq(rget(p, 1, "triple_faults"), 1);
	sv_report_free(p);
	sv_report_free(r);
	unlink(trace);
}
END_TEST

/*
 * [vm] steal_time: the hypervisor writes each vCPU's record through a
 * gfn-to-pfn cache.  The default scenario (1 vCPU, phases start,
 * populate, dirty-log, retouch, done): the first write maps the cache
 * (kvm_maps 1 in start); enabling and disabling dirty logging each change
 * the memslots, which drops every cache (KVM's generation check), so the
 * next entry maps it again: 1 in dirty-log and 1 in retouch.
 */
START_TEST(t_steal_time)
{
	const char *sets[] = {"vm.steal_time=true", NULL};
	sv_report *r = run_text(sv_scenario_default(), sets);

	ck_assert_uint_eq(rget(r, 0, "kvm_maps"), 1);
	ck_assert_uint_eq(rget(r, 2, "pfncache_refreshes"), 1);
	ck_assert_uint_eq(rget(r, 3, "pfncache_refreshes"), 1);
	ck_assert_uint_eq(rget(r, 1, "kvm_maps"), 0);
	sv_report_free(r);
}
END_TEST

START_TEST(t_stated_numbers)
{
	static const char *const files[] = {
		"b5-hugetlb-recollapse", "dax-pmd", "dirty-log-split",
		"event-reinjection", "kpt-anon", "kpt-hugetlb-1g",
		"kpt-hugetlb-2m", "kpt-thp", "steal-time", "tlb-conflict",
		"triple-fault", "user-mode", "walk-lab", "shadow/matrix",
		"shadow/mprotect", "shadow/hugetlb-1g", "shadow/remap",
		"shadow/hostsplit", "shadow/manual-protect", "trace/heap",
		"programs/sort"};
	char path[512];
	GPtrArray *vars;
	guint v, c;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/%s.ini", SV_SCENARIO_DIR, files[_i]);
	vars = stated_of(path);
	for (v = 0; v < vars->len; v++) {
		const stated *st = g_ptr_array_index(vars, v);
		sv_report *r;

		if (!st->checks->len && !st->walk)
			continue;
		if (st->walk) {
			cold_walk w = {.gva = st->walk_gva};
			sv_run_options o = SV_RUN_OPTIONS_INIT;
			sv_scenario *s = NULL;

			o.on_phase = cold_walk_at_end;
			o.payload = &w;
			T_OK(sv_scenario_load(&s, path, (const char *const *)st->sets));
			T_OK(sv_scenario_run(&r, s, &o));
			sv_scenario_free(s);
			ck_assert(w.done);
			ck_assert_msg(w.refs == st->walk_refs,
				      "%s%s%s: cold walk of 0x%" PRIx64 ": the comment "
				      "says %" PRIu64 " references, a run gives %u",
				      files[_i], st->sets[0] ? " with " : "",
				      st->sets[0] ? st->sets[0] : "", st->walk_gva,
				      st->walk_refs, w.refs);
			n++;
		} else {
			r = run_file(files[_i], (const char *const *)st->sets, NULL);
		}
		for (c = 0; c < st->checks->len; c++) {
			g_auto(GStrv) f = g_strsplit(g_ptr_array_index(st->checks, c),
						     "\t", 3);
			g_autofree char *digits = g_strdup(f[2]);
			uint64_t want, got = 0;
			char *d, *s;

			/* "262,144", "+512", "-262,144": the value, as the
			 * report's unsigned change (a fall wraps) */
			for (d = s = digits; *s; s++)
				if (g_ascii_isdigit(*s))
					*d++ = *s;
			*d = '\0';
			want = g_ascii_strtoull(digits, NULL, 10);
			if (f[2][0] == '-')
				want = -want;
			T_OK(sv_report_get(&got, r, phase_index(r, f[0]),
					   SV_REPORT_VM, f[1]));
			ck_assert_msg(got == want,
				      "%s%s%s: %s %s: the comment says %s, a run gives "
				      "%" PRId64, files[_i], st->sets[0] ? " with " : "",
				      st->sets[0] ? st->sets[0] : "", f[0], f[1], f[2],
				      (int64_t)got);
			n++;
		}
		sv_report_free(r);
	}
	/* every shipped scenario states some numbers */
	ck_assert_uint_gt(n, 0);
	g_ptr_array_free(vars, TRUE);
}
END_TEST

/* ---- the shipped scenarios' headline counters ------------------------- */

/*
 * kvm_page_table_test over 1 GiB (reference scenario 30): create touches
 * each large page once; update writes the first 4K of each large page
 * and reads its upper half; adjust reads every 4K page.  _i % 4 picks the
 * backing, _i / 4: 1 vCPU, 4 vCPUs, 1 vCPU on kernel 6.13.
 */
START_TEST(t_kpt)
{
	static const char *const names[] = {"kpt-thp", "kpt-hugetlb-2m",
					    "kpt-hugetlb-1g", "kpt-anon"};
	/* large pages in 1 GiB: 2M, 2M, 1G, 4K */
	static const uint64_t large[] = {512, 512, 1, 262144};
	const char *four[] = {"vm.vcpus=4", NULL};
	const char *v613[] = {"vm.kernel_version=6.13", NULL};
	const char *const *sets = _i / 4 == 1 ? four : _i / 4 == 2 ? v613 : NULL;
	unsigned b = _i % 4;
	uint64_t n = large[b];
	sv_report *r = run_file(names[b], sets, NULL);

	/* phases: start, create, update, adjust, done */
	ck_assert_uint_eq(sv_report_phase_count(r), 5);
	/* start: the guest's own pages are resident before the run */
	ck_assert_uint_eq(rget(r, 0, "pf_taken"), 0);
	/* create: one EPT violation per large page, each one SPTE of that
	 * size (with 4 vCPUs every vCPU goes over the whole region at the
	 * same pace and vCPU 0, which writes, takes the first turn, so the
	 * others find each page mapped) */
	ck_assert_uint_eq(rget(r, 1, "pf_taken"), n);
	ck_assert_uint_eq(rget(r, 1, b == 2 ? "pages_1g" : b == 3 ? "pages_4k"
							 : "pages_2m"), n);
	/* update (12, 30): eager split made every 4K SPTE read-only; the
	 * write to each large page's first 4K is one fast fault and one
	 * dirty page, the reads of its upper half fault nothing */
	ck_assert_uint_eq(rget(r, 2, "pf_fast"), n);
	ck_assert_uint_eq(rget(r, 2, "pf_taken"), n);
	ck_assert_uint_eq(rget(r, 2, "dirty_marked"), n);
	ck_assert_uint_eq(rget(r, 2, "split_2m"), b == 3 ? 0 : 512);
	ck_assert_uint_eq(rget(r, 2, "split_1g"), b == 2);
	/* adjust, logging off: 6.12 zaps each collapsible table (one per
	 * large page) and the reads fault each large page back; 6.13
	 * recovers them in place and nothing faults; 4K memory has nothing
	 * to collapse */
	if (_i / 4 == 2) {
		ck_assert_uint_eq(rget(r, 3, "recover_2m"), 512);
		ck_assert_uint_eq(rget(r, 3, "pf_taken"), 0);
	} else {
		ck_assert_uint_eq(rget(r, 3, "zap_table"), b == 3 ? 0 : n);
		ck_assert_uint_eq(rget(r, 3, "pf_taken"), b == 3 ? 0 : n);
	}
	/* every flush was asked for at a sync point, with every vCPU out of
	 * guest mode: no IPI (33) */
	ck_assert_uint_eq(rget(r, SV_REPORT_TOTAL, "remote_tlb_flush"), 0);
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
	tcase_add_test(tc, t_report_config);
	tcase_add_test(tc, t_progress);
	tcase_add_test(tc, t_stats_reset);
	tcase_add_test(tc, t_damaged_trace);
	tcase_add_test(tc, t_instruction_phase);
	suite_add_tcase(s, tc);
	tc = tcase_create("shipped");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, t_kpt, 0, 9);
	tcase_add_test(tc, t_dirty_log_split);
	tcase_add_loop_test(tc, t_dax, 0, 2);
	tcase_add_loop_test(tc, t_b5, 0, 2);
	tcase_add_loop_test(tc, t_tlb_conflict, 0, 2);
	tcase_add_test(tc, t_tlb_conflict_abort);
	tcase_add_test(tc, t_walk_lab);
	suite_add_tcase(s, tc);
	tc = tcase_create("stated");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, t_stated_numbers, 0, 21);
	tcase_add_test(tc, t_triple_fault_end);
	tcase_add_test(tc, t_steal_time);
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
