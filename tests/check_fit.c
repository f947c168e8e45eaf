/*
 * tests/check_fit.c - the fitting behind `simvirt calibrate`
 * (tools/simvirt/fit.c) on synthetic measurements: cases made from known
 * costs give those costs back.
 */
#include <math.h>
#include <stdint.h>

#include <check.h>

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

int main(void)
{
	Suite *s = suite_create("fit");
	TCase *tc = tcase_create("fit");

	tcase_add_test(tc, known_costs_recovered);
	tcase_add_test(tc, noise_bounded_and_limits_kept);
	suite_add_tcase(s, tc);
	return t_run(s);
}
