/*
 * tests/check_fit.c - the fitting behind `simvirt calibrate`
 * (tools/simvirt/fit.c) on synthetic measurements: cases made from known
 * costs give those costs back; and its probes' arithmetic
 * (tools/simvirt/calnative.c) on synthetic latency curves.
 */
#include <math.h>
#include <stdint.h>

#include <check.h>

#include "calnative.h"
#include "fit.h"
#include "helpers.h"

#define NC 14
#define NP 6

/* Counts per load like the model's (a load, STLB hits, references, L2,
 * LLC and memory accesses), from a seeded generator: cases that differ
 * enough for the costs to be told apart. */
static void cases(double *x, double *fixed)
{
	uint64_t s = 42;
	size_t i, k;

	for (i = 0; i < NC; i++) {
		for (k = 0; k < NP; k++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			x[i * NP + k] = k == 0 ? 1 : (double)(s >> 40) / (double)(1 << 24) * (k + 1);
		}
		fixed[i] = 2 + (double)i / 4;
	}
}

static double predict(const double *x, double fixed, const double *theta)
{
	double p = fixed;
	size_t k;

	for (k = 0; k < NP; k++)
		p += x[k] * theta[k];
	return p;
}

START_TEST(known_costs_recovered)
{
	static const double truth[NP] = {4, 9, 14, 8, 38, 240};
	double x[NC * NP], fixed[NC], meas[NC], theta[NP] = {1, 1, 1, 1, 1, 1};
	size_t i, k;

	cases(x, fixed);
	for (i = 0; i < NC; i++)
		meas[i] = predict(x + i * NP, fixed[i], truth);
	/* exact measurements: every relative error 0 at the truth, the
	 * unique optimum of a full-rank problem */
	ck_assert(fit_costs(NC, NP, x, fixed, meas, theta, NULL) < 1e-6);
	for (k = 0; k < NP; k++)
		ck_assert_msg(fabs(theta[k] - truth[k]) < 1e-4 * truth[k],
			      "cost %zu: %g, expected %g", k, theta[k], truth[k]);
}
END_TEST

START_TEST(noise_bounded_and_limits_kept)
{
	static const double truth[NP] = {4, 9, 14, 8, 38, 240};
	static const double ceiling[NP] = {50, 100, 500, 200, 30, 2000};
	double x[NC * NP], fixed[NC], meas[NC], theta[NP] = {0};
	double worst;
	size_t i;

	cases(x, fixed);
	/* +-4% alternating.  At the true costs every case's relative error
	 * is at most 0.04 / 0.96, so the optimum's sum of squares is at most
	 * NC of those squared, and its worst error at most sqrt(NC) times
	 * 0.04 / 0.96. */
	for (i = 0; i < NC; i++)
		meas[i] = predict(x + i * NP, fixed[i], truth) * (i & 1 ? 1.04 : 0.96);
	worst = fit_costs(NC, NP, x, fixed, meas, theta, NULL);
	ck_assert_msg(worst <= sqrt(NC) * 0.04 / 0.96 + 1e-9, "worst error %g", worst);
	/* a ceiling below the truth holds (LLC at most 30), and nothing
	 * goes negative */
	for (i = 0; i < NP; i++)
		theta[i] = 0;
	fit_costs(NC, NP, x, fixed, meas, theta, ceiling);
	ck_assert(theta[4] <= 30);
	for (i = 0; i < NP; i++)
		ck_assert(theta[i] >= 0);
}
END_TEST

/* The STLB probe's page counts. */
static const uint64_t pages[] = {256, 512, 1024, 1536, 2048, 3072, 4096,
				 5120, 6144, 8192, 12288, 16384};

START_TEST(knee_found_where_the_curve_steps)
{
	/* a 4,096-entry STLB as a 2D walk shows it: 6 ns while the pages
	 * fit, 50 ns past them, a miss rate that climbs over the last
	 * 1,024 pages before the step (16 ns), and an L1 TLB below 1,024 */
	static const double t[] = {3, 3, 6, 6, 6, 6.5, 7.5, 16, 24, 45, 50, 50};
	/* a sharp step of 2x at 2,048 pages: the cut is sqrt(2) x 6 = 8.5 */
	static const double sharp[] = {3, 3, 6, 6, 6, 12, 12, 12, 12, 12, 12, 12};
	/* a ramp that never reaches 1.5x of 1,024 pages: no step */
	static const double flat[] = {3, 3, 6, 6.2, 6.4, 6.6, 6.8, 7, 7.2, 7.4, 7.6, 8.9};

	/* cut sqrt(6 x 50) = 17.3: 5,120 pages (16 ns) is the last below */
	ck_assert_uint_eq(cal_knee(pages, t, G_N_ELEMENTS(pages), 2), 5120);
	ck_assert_uint_eq(cal_knee(pages, sharp, G_N_ELEMENTS(pages), 2), 2048);
	/* 8.9 < 1.5 x 6 */
	ck_assert_uint_eq(cal_knee(pages, flat, G_N_ELEMENTS(pages), 2), 0);
}
END_TEST

START_TEST(geometry_holds_at_most_the_entries)
{
	uint32_t sets, ways;

	/* 4,096 = 256 x 16, the largest product; 16 ways tried first */
	cal_geometry(4096, &sets, &ways);
	ck_assert_uint_eq(sets, 256);
	ck_assert_uint_eq(ways, 16);
	/* 3,072 = 256 x 12 exactly; 16 ways give only 128 x 16 = 2,048 */
	cal_geometry(3072, &sets, &ways);
	ck_assert_uint_eq(sets, 256);
	ck_assert_uint_eq(ways, 12);
	/* 5,120: 16 ways give 256 sets (4,096); 12 give 256 (3,072); 8
	 * give 512 (4,096), not more, so 16 ways stay */
	cal_geometry(5120, &sets, &ways);
	ck_assert_uint_eq(sets * ways, 4096);
	ck_assert_uint_eq(ways, 16);
	/* a 6 MiB LLC: 98,304 lines = 8,192 sets of 12 */
	cal_geometry(6144 * 16, &sets, &ways);
	ck_assert_uint_eq(sets, 8192);
	ck_assert_uint_eq(ways, 12);
	/* fewer entries than the fewest ways: nothing */
	cal_geometry(3, &sets, &ways);
	ck_assert_uint_eq(sets * ways, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fit");
	TCase *tc = tcase_create("fit");

	tcase_add_test(tc, known_costs_recovered);
	tcase_add_test(tc, noise_bounded_and_limits_kept);
	tcase_add_test(tc, knee_found_where_the_curve_steps);
	tcase_add_test(tc, geometry_holds_at_most_the_entries);
	suite_add_tcase(s, tc);
	return t_run(s);
}
