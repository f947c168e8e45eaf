/*
 * example_check.h - the examples' one helper: a simvirt call that fails
 * stops the program with the library's reason (sv_strerror and the detail
 * of the last error, which names what was wrong).  Not "check.h": that
 * name is the Check unit-test framework's header.
 */
#ifndef EXAMPLES_EXAMPLE_CHECK_H
#define EXAMPLES_EXAMPLE_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include <simvirt/simvirt.h>

#define CHECK(call)                                                      \
	do {                                                             \
		int rc_ = (call);                                        \
		if (rc_ != SV_OK) {                                      \
			fprintf(stderr, "%s:%d: %s: %s: %s\n", __FILE__, \
				__LINE__, #call, sv_strerror(rc_),       \
				sv_error_detail());                      \
			exit(1);                                         \
		}                                                        \
	} while (0)

#endif
