/*
 * tools/simvirt/fit.h - the fitting behind `simvirt calibrate`: cost
 * parameters that make the model's predicted cycles per load match the
 * measured ones, relative error for relative error.
 */
#ifndef SIMVIRT_FIT_H
#define SIMVIRT_FIT_H

#include <stddef.h>

/*
 * The model is linear in its costs: case i predicts fixed[i] + sum over k
 * of x[i * np + k] * theta[k] cycles, x holding the case's counts per load
 * (references, STLB hits, cache misses by level...).  Finds theta >= 0
 * minimising the sum of ((predicted - measured) / measured)^2, by
 * coordinate descent on that convex quadratic (each step exact, clamped at
 * zero).  theta holds the starting point and gets the answer; `ceiling`
 * (or NULL) bounds each parameter from above.  Returns the largest
 * relative error |predicted - measured| / measured over the cases.
 */
double fit_costs(size_t ncases, size_t np, const double *x,
		 const double *fixed, const double *measured, double *theta,
		 const double *ceiling);

/* The relative error of case i under theta. */
double fit_error(size_t np, const double *x_i, double fixed_i,
		 double measured_i, const double *theta);

#endif
