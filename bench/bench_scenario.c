/*
 * bench/bench_scenario.c - what loading and running a scenario costs as
 * it grows.
 *
 * (1) Loading: a scenario of N [phase.K] groups (each "actions=flush") for
 *     N = 10,000, 40,000 and 160,000; the load must be linear in N, so the
 *     time per group stays flat (ratio of the largest to the smallest
 *     time per group printed; about 1, far from the 16 a quadratic load
 *     would give).
 * (2) Running: a THP memslot the guest maps with 2M pages and reads at
 *     1,022 places, one a stride: 2044M (stride 2M) and 1022G (stride
 *     1G).  Time must follow what is touched, not what is mapped (target:
 *     the 1022G run under 1 s; the ratio of the two times printed).
 * (3) Memory: a 1022G hugetlb-1g memslot (its pool of 1,022 1G pages
 *     sized for it) of which the guest reads one page, run in a child
 *     process whose peak resident size is printed: the pool's struct
 *     pages must cost nothing until used (target: under 256 MiB, where
 *     struct pages for the whole pool would take 3 GiB).
 * Usage: bench_scenario
 */
#include <inttypes.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "bench.h"

const char *bench_name = "bench_scenario";

static double load_seconds(unsigned groups)
{
	GString *t = g_string_new("[memslot.data]\ngpa=0x40000000\nsize=4M\n");
	sv_scenario *s;
	double t0;
	unsigned i;

	for (i = 1; i <= groups; i++)
		g_string_append_printf(t, "[phase.%u]\nactions=flush\n", i);
	t0 = bench_now();
	bench_check("load", sv_scenario_load_data(&s, t->str, t->len, "many.ini",
						  NULL));
	t0 = bench_now() - t0;
	sv_scenario_free(s);
	g_string_free(t, TRUE);
	return t0;
}

/* A THP slot of 1,022 strides, one read at the start of each. */
static double run_seconds(const char *stride)
{
	g_autofree char *size = g_strdup_printf("memslot.data.size=%u%s",
						1022 * (unsigned)atoi(stride),
						strchr(stride, 'G') ? "G" : "M");
	g_autofree char *step = g_strdup_printf("guest.stride=%s", stride);
	const char *sets[] = {size, step, "memslot.data.backing=thp",
			      "guest.page_size=2M", "guest.write=false", NULL};
	const char *text = "[memslot.data]\ngpa=0x40000000\nsize=2G\n"
			   "[guest]\nworkload=touch\n";
	sv_scenario *s;
	sv_report *r;
	double t0;

	bench_check("load", sv_scenario_load_data(&s, text, strlen(text),
						  "big.ini", sets));
	t0 = bench_now();
	bench_check("run", sv_scenario_run(&r, s, NULL));
	t0 = bench_now() - t0;
	sv_report_free(r);
	sv_scenario_free(s);
	return t0;
}

/* Peak resident KiB of a child that runs a 1022G hugetlb-1g slot with
 * one 1G page read. */
static long hugetlb_child_kib(double *secs)
{
	const char *sets[] = {"memslot.data.size=1022G",
			      "memslot.data.backing=hugetlb-1g",
			      "guest.page_size=1G", "guest.size=1G",
			      "guest.stride=1G", "guest.write=false", NULL};
	const char *text = "[memslot.data]\ngpa=0x40000000\nsize=2G\n";
	struct rusage ru;
	double t0 = bench_now();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		sv_scenario *s;
		sv_report *r;

		bench_check("load", sv_scenario_load_data(&s, text, strlen(text),
							  "pool.ini", sets));
		bench_check("run", sv_scenario_run(&r, s, NULL));
		sv_report_free(r);
		sv_scenario_free(s);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: the hugetlb child failed\n", bench_name);
		exit(1);
	}
	*secs = bench_now() - t0;
	getrusage(RUSAGE_CHILDREN, &ru);
	return ru.ru_maxrss;
}

int main(void)
{
	static const unsigned groups[] = {10000, 40000, 160000};
	double per[3], small, big;
	unsigned i;

	printf("(1) loading N phase groups:\n");
	for (i = 0; i < 3; i++) {
		double t = load_seconds(groups[i]);

		per[i] = t / groups[i];
		printf("  N = %6u: %7.3f s, %6.2f us a group\n", groups[i], t,
		       per[i] * 1e6);
	}
	printf("  time a group, N = 160,000 over N = 10,000: %.2f "
	       "(linear: about 1; quadratic: 16)\n", per[2] / per[0]);
	printf("(2) a THP slot read at 1,022 places:\n");
	small = run_seconds("2M");
	big = run_seconds("1G");
	printf("  2044M slot: %.3f s; 1022G slot: %.3f s (target < 1 s); "
	       "ratio %.1f\n", small, big, big / small);
	printf("(3) a 1022G hugetlb-1g slot, one 1G page read:\n");
	{
		double secs;
		long kib = hugetlb_child_kib(&secs);

		printf("  peak resident %.1f MiB (target < 256 MiB), %.3f s\n",
		       kib / 1024.0, secs);
	}
	return 0;
}
