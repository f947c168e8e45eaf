/*
 * tools/simvirt/fit.c - non-negative least squares on relative errors,
 * by cyclic coordinate descent: a handful of parameters and tens of
 * cases, so each sweep is cheap and a few thousand converge to the
 * optimum of the convex problem.
 */
#include <math.h>

#include "fit.h"

double fit_error(size_t np, const double *x_i, double fixed_i,
		 double measured_i, const double *theta)
{
	double p = fixed_i;
	size_t k;

	for (k = 0; k < np; k++)
		p += x_i[k] * theta[k];
	return (p - measured_i) / measured_i;
}

double fit_costs(size_t ncases, size_t np, const double *x,
		 const double *fixed, const double *measured, double *theta,
		 const double *ceiling)
{
	double worst = 0;
	size_t i, k, sweep;

	for (sweep = 0; sweep < 20000; sweep++) {
		double moved = 0;

		for (k = 0; k < np; k++) {
			/* The residual's derivative in theta[k]: exact step
			 * on the one-dimensional quadratic. */
			double num = 0, den = 0, t;

			for (i = 0; i < ncases; i++) {
				double w = 1 / measured[i];
				double xi = x[i * np + k] * w;
				double r = fit_error(np, x + i * np, fixed[i],
						     measured[i], theta);

				num += xi * r;
				den += xi * xi;
			}
			if (den <= 0)
				continue;
			t = theta[k] - num / den;
			if (t < 0)
				t = 0;
			if (ceiling && t > ceiling[k])
				t = ceiling[k];
			moved = fmax(moved, fabs(t - theta[k]) / fmax(1, fabs(t)));
			theta[k] = t;
		}
		if (moved < 1e-12)
			break;
	}
	for (i = 0; i < ncases; i++)
		worst = fmax(worst, fabs(fit_error(np, x + i * np, fixed[i],
						  measured[i], theta)));
	return worst;
}
