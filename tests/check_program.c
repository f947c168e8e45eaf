/*
 * tests/check_program.c - static Linux programs as guests through the C
 * API (sv_program_*): what sv_program_new refuses, a run cut by an
 * instruction limit and resumed, fast-forward, and the system call counts.
 *
 * The machine of every test is a trace machine (1 GiB of guest memory
 * over THP host memory, TDP, one vCPU); the program is Debian's
 * busybox-static (each test skips where it is missing).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "helpers.h"
#include <simvirt/simvirt.h>

#define BUSYBOX "/bin/busybox"

typedef struct rig {
	sv_trace_machine m;
	sv_program *p;
} rig;

static bool have_busybox(void)
{
	if (access(BUSYBOX, X_OK) == 0)
		return true;
	fprintf(stderr, "check_program: %s missing: skipped\n", BUSYBOX);
	return false;
}

static int rig_new(rig *r, const sv_program_options *po)
{
	sv_trace_machine_options mo = SV_TRACE_MACHINE_OPTIONS_INIT;

	memset(r, 0, sizeof(*r));
	T_OK(sv_trace_machine_new(&r->m, &mo));
	return sv_program_new(&r->p, r->m.guest, r->m.vcpu, po);
}

static void rig_free(rig *r)
{
	sv_program_free(r->p);
	sv_trace_machine_free(&r->m);
}

/* busybox echo with these arguments, its output kept in memory */
static void echo_options(sv_program_options *po, const char *const *argv)
{
	sv_program_options_init(po);
	po->path = BUSYBOX;
	po->argv = argv;
}

START_TEST(refused)
{
	sv_program_options po = SV_PROGRAM_OPTIONS_INIT;
	g_autofree char *text = g_build_filename(g_get_tmp_dir(),
						 "simvirt-not-elf.txt", NULL);
	rig r;

	po.path = "/nonexistent/program";
	ck_assert_int_eq(rig_new(&r, &po), SV_ENOENT);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "/nonexistent/program"));
	rig_free(&r);

	ck_assert(g_file_set_contents(text, "#!/bin/sh\n", -1, NULL));
	po.path = text;
	ck_assert_int_eq(rig_new(&r, &po), SV_EINVAL);
	ck_assert_msg(strstr(sv_error_detail(), "not an ELF file"), "'%s'",
		      sv_error_detail());
	rig_free(&r);
	unlink(text);

	/* a dynamically linked executable: this test program itself when it
	 * has an interpreter, else the system's shell */
	po.path = access("/bin/sh", X_OK) == 0 ? "/bin/sh" : NULL;
	if (po.path) {
		ck_assert_int_eq(rig_new(&r, &po), SV_EINVAL);
		ck_assert_msg(strstr(sv_error_detail(), "PT_INTERP") ||
				      strstr(sv_error_detail(), "not an"),
			      "'%s'", sv_error_detail());
		rig_free(&r);
	}

	sv_program_options_init(&po);
	po.path = BUSYBOX;
	po.version = 0;
	ck_assert_int_eq(rig_new(&r, &po), SV_EINVAL);
	rig_free(&r);
	po.version = SV_PROGRAM_OPTIONS_VERSION;
	po.clock_mhz = 0;
	ck_assert_int_eq(rig_new(&r, &po), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "clock_mhz"));
	rig_free(&r);
}
END_TEST

START_TEST(limit_and_resume)
{
	static const char *const argv[] = {"echo", "hello", "world", NULL};
	sv_program_options po;
	sv_program_result res;
	uint64_t n1, n2;
	size_t len;
	const char *out;
	rig r, whole;

	if (!have_busybox())
		return;
	echo_options(&po, argv);
	T_OK(rig_new(&whole, &po));
	T_OK(sv_program_run(&res, whole.p, 0));
	ck_assert_int_eq(res.stop, SV_PROGRAM_EXITED);
	ck_assert_int_eq(res.status, 0);
	out = sv_program_output(whole.p, 1, &len);
	ck_assert_int_eq(len, 12);
	ck_assert(!memcmp(out, "hello world\n", 12));
	n1 = sv_vcpu_stat_get(whole.m.vcpu, SV_VCPU_STAT_instructions);

	/* 1,000 instructions, then the rest: the limit stops between blocks
	 * (at most one block past it), and the two calls together run what
	 * one did */
	T_OK(rig_new(&r, &po));
	T_OK(sv_program_run(&res, r.p, 1000));
	ck_assert_int_eq(res.stop, SV_PROGRAM_LIMIT);
	ck_assert_uint_ge(sv_vcpu_stat_get(r.m.vcpu, SV_VCPU_STAT_instructions), 1000);
	ck_assert_uint_lt(sv_vcpu_stat_get(r.m.vcpu, SV_VCPU_STAT_instructions), 1200);
	T_OK(sv_program_run(&res, r.p, 0));
	ck_assert_int_eq(res.stop, SV_PROGRAM_EXITED);
	n2 = sv_vcpu_stat_get(r.m.vcpu, SV_VCPU_STAT_instructions);
	ck_assert_uint_eq(n1, n2);
	out = sv_program_output(r.p, 1, &len);
	ck_assert_int_eq(len, 12);
	ck_assert(!memcmp(out, "hello world\n", 12));
	/* the same run twice: every vCPU counter the same */
	ck_assert_uint_eq(sv_vcpu_stat_get(r.m.vcpu, SV_VCPU_STAT_cycles),
			  sv_vcpu_stat_get(whole.m.vcpu, SV_VCPU_STAT_cycles));
	ck_assert_uint_eq(sv_vcpu_stat_get(r.m.vcpu, SV_VCPU_STAT_accesses),
			  sv_vcpu_stat_get(whole.m.vcpu, SV_VCPU_STAT_accesses));
	rig_free(&r);
	rig_free(&whole);
}
END_TEST

START_TEST(fast_forward)
{
	static const char *const argv[] = {"echo", "fast", NULL};
	sv_program_options po;
	sv_program_result res;
	rig det, ff;

	if (!have_busybox())
		return;
	echo_options(&po, argv);
	T_OK(rig_new(&det, &po));
	T_OK(sv_program_run(&res, det.p, 0));
	po.mode = SV_EXEC_FAST_FORWARD;
	po.detail_at = 5000;
	T_OK(rig_new(&ff, &po));
	T_OK(sv_program_run(&res, ff.p, 0));
	ck_assert_int_eq(res.stop, SV_PROGRAM_EXITED);
	/* the same instructions either way; fast-forward sends none of the
	 * first 5,000 instructions' accesses through the model */
	ck_assert_uint_eq(sv_vcpu_stat_get(det.m.vcpu, SV_VCPU_STAT_instructions),
			  sv_vcpu_stat_get(ff.m.vcpu, SV_VCPU_STAT_instructions));
	ck_assert_uint_lt(sv_vcpu_stat_get(ff.m.vcpu, SV_VCPU_STAT_accesses),
			  sv_vcpu_stat_get(det.m.vcpu, SV_VCPU_STAT_accesses));
	ck_assert_uint_gt(sv_vcpu_stat_get(ff.m.vcpu, SV_VCPU_STAT_accesses), 0);
	rig_free(&det);
	rig_free(&ff);
}
END_TEST

START_TEST(syscall_counts)
{
	static const char *const argv[] = {"echo", "x", NULL};
	sv_program_options po;
	sv_program_result res;
	uint64_t total = 0, enosys = 0;
	unsigned nr;
	rig r;

	if (!have_busybox())
		return;
	echo_options(&po, argv);
	T_OK(rig_new(&r, &po));
	T_OK(sv_program_run(&res, r.p, 0));
	for (nr = 0; nr < 512; nr++) {
		total += sv_program_syscall_count(r.p, nr);
		if (!sv_program_syscall_emulated(nr))
			enosys += sv_program_syscall_count(r.p, nr);
	}
	/* every call is counted once by number, and each number simvirt
	 * does not emulate once more as ENOSYS */
	ck_assert_uint_eq(total, sv_program_stat_get(r.p, SV_PROGRAM_STAT_syscalls));
	ck_assert_uint_eq(enosys,
			  sv_program_stat_get(r.p, SV_PROGRAM_STAT_syscalls_enosys));
	/* static glibc's start: rseq registration (ENOSYS here), then exit_group */
	ck_assert_uint_eq(sv_program_syscall_count(r.p, 334), 1);
	ck_assert_str_eq(sv_program_syscall_name(334), "rseq");
	ck_assert_uint_eq(sv_program_syscall_count(r.p, 231), 1);
	/* each call charged syscall_cycles */
	ck_assert_uint_eq(sv_program_stat_get(r.p, SV_PROGRAM_STAT_syscall_cycles),
			  total * po.syscall_cycles);
	/* one write of "x\n" */
	ck_assert_uint_eq(sv_program_stat_get(r.p, SV_PROGRAM_STAT_bytes_written), 2);
	ck_assert_uint_le(sv_program_stat_get(r.p, SV_PROGRAM_STAT_regions),
			  sv_program_stat_get(r.p, SV_PROGRAM_STAT_regions_max));
	rig_free(&r);
}
END_TEST

/* ---- as a scenario ------------------------------------------------------------ */

#define SCN_HEAD                                                             \
	"[memslot.ram]\ngpa=1G\nsize=64M\nbacking=thp\n"

static int load_text(sv_scenario **s, const char *text)
{
	return sv_scenario_load_data(s, text, strlen(text), "t.ini", NULL);
}

/* Each mistake is refused at load, naming the group and key. */
START_TEST(scenario_mistakes)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{SCN_HEAD "[program]\nargs=x\n", "[program] path"},
		{SCN_HEAD "[program]\npath=/nonexistent/prog\n",
		 "/nonexistent/prog: no readable file"},
		{SCN_HEAD "[program]\npath=" BUSYBOX "\n[guest]\nworkload=touch\n",
		 "expected no [guest]"},
		{SCN_HEAD "[vm]\nvcpus=2\n[program]\npath=" BUSYBOX "\n",
		 "vcpus: a program is one thread"},
		{SCN_HEAD "[program]\npath=" BUSYBOX "\nfiles=in=/etc/hostname\n",
		 "expected GUEST=HOST"},
		{SCN_HEAD "[program]\npath=" BUSYBOX "\nenv=NOEQUALS\n",
		 "[program] env"},
		{SCN_HEAD "[program]\npath=" BUSYBOX "\nargs='unclosed\n",
		 "[program] args"},
		{SCN_HEAD "[program]\npath=" BUSYBOX "\n[phase.1]\nactions=flush\n",
		 "bound to an instruction count"},
		{SCN_HEAD "[program]\npath=/etc/hostname\n", "not an ELF file"},
		{SCN_HEAD "[guestmm]\nthp=always\n", "[trace] or [program]"},
	};
	unsigned i;

	if (!have_busybox())
		return;
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		sv_scenario *s = NULL;

		ck_assert_int_eq(load_text(&s, bad[i].text), SV_ECONFIG);
		ck_assert_msg(strstr(sv_error_detail(), bad[i].says),
			      "case %u: '%s' does not say '%s'", i,
			      sv_error_detail(), bad[i].says);
		ck_assert_ptr_null(s);
	}
}
END_TEST

/* echo as a scenario: its end, its counters in the guest scope, equal to
 * the C API's, and a phase bound to an instruction count. */
START_TEST(scenario_run)
{
	static const char *const argv[] = {BUSYBOX, "echo", "a b", NULL};
	sv_program_options po;
	sv_program_result res;
	sv_scenario *s;
	sv_report *r;
	uint64_t v, insns;
	rig direct;

	if (!have_busybox())
		return;
	T_OK(load_text(&s, SCN_HEAD "[program]\npath=" BUSYBOX
				     "\nargs=echo 'a b'\n"
				     "[phase.1]\nname=later\ninstructions=2000\n"));
	T_OK(sv_scenario_run(&r, s, NULL));
	/* the same program through the C API: the same instructions, calls
	 * and bytes */
	echo_options(&po, argv);
	T_OK(rig_new(&direct, &po));
	T_OK(sv_program_run(&res, direct.p, 0));
	insns = sv_vcpu_stat_get(direct.m.vcpu, SV_VCPU_STAT_instructions);
	{
		g_autofree char *want = g_strdup_printf(
			"exited with status 0 after %" PRIu64 " instructions", insns);

		ck_assert_str_eq(sv_report_end(r), want);
	}
	ck_assert_uint_eq(sv_report_phase_count(r), 2);
	ck_assert_str_eq(sv_report_phase_name(r, 1), "later");
	T_OK(sv_report_get(&v, r, SV_REPORT_TOTAL, SV_REPORT_VM, "guest.syscalls"));
	ck_assert_uint_eq(v, sv_program_stat_get(direct.p, SV_PROGRAM_STAT_syscalls));
	/* "a b\n" */
	T_OK(sv_report_get(&v, r, SV_REPORT_TOTAL, SV_REPORT_VM,
			   "guest.bytes_written"));
	ck_assert_uint_eq(v, 4);
	/* the first phase stops at the first block boundary at or past 2,000
	 * instructions (a block is at most a few dozen) */
	T_OK(sv_report_get(&v, r, 0, SV_REPORT_VM, "instructions"));
	ck_assert_uint_ge(v, 2000);
	ck_assert_uint_lt(v, 2200);
	sv_report_free(r);
	rig_free(&direct);
	sv_scenario_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("program");
	TCase *tc = tcase_create("program");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, limit_and_resume);
	tcase_add_test(tc, fast_forward);
	tcase_add_test(tc, syscall_counts);
	tcase_add_test(tc, scenario_mistakes);
	tcase_add_test(tc, scenario_run);
	suite_add_tcase(s, tc);
	return t_run(s);
}
