/*
 * bench/bench.h - what every benchmark needs: a monotonic clock and an exit
 * that names the call that failed.
 */
#ifndef SV_BENCH_H
#define SV_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <simvirt/simvirt.h>

/* Set by each benchmark to its own name, for messages. */
extern const char *bench_name;

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Exits with the error's text when rc is not SV_OK. */
static inline void bench_check(const char *what, int rc)
{
	if (rc) {
		fprintf(stderr, "%s: %s: %s: %s\n", bench_name, what,
			sv_strerror(rc), sv_error_detail());
		exit(1);
	}
}

#endif /* SV_BENCH_H */
