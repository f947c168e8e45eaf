/*
 * lib/scenario/schema.h - every key a scenario (or a [tlb]/[cost]
 * configuration file) may hold, one row each: its group, name, type,
 * range, where its value goes and what it means.  Loading reads keys
 * through it, `simvirt list` and docs/scenarios.md print it, and a
 * report can give every key's value: one table, so they cannot drift.
 */
#ifndef SV_SCENARIO_SCHEMA_H
#define SV_SCENARIO_SCHEMA_H

#include "scenario/keyfile.h"
#include "scenario/plan.h"

/* The groups: X(id, how a file names it). */
#define SC_GROUP_LIST(X)              \
	X(scenario, "scenario")       \
	X(vm, "vm")                   \
	X(host, "host")               \
	X(memslot, "memslot.NAME")    \
	X(guest, "guest")             \
	X(tlb, "tlb")                 \
	X(cost, "cost")               \
	X(cache, "cache")             \
	X(trace, "trace")             \
	X(guestmm, "guestmm")         \
	X(program, "program")         \
	X(phase, "phase.N")

typedef enum sc_group {
#define SC_GROUP_ENUM(id, name) SC_G_##id,
	SC_GROUP_LIST(SC_GROUP_ENUM)
#undef SC_GROUP_ENUM
	SC_G__COUNT
} sc_group;

typedef enum sc_type {
	SC_UINT,    /* a whole number in [min, max] */
	SC_SIZE,    /* a number or size (K/M/G/T) in [min, max], align */
	SC_BOOL,    /* true or false */
	SC_ENUM,    /* one of names[] (stored as an int) */
	SC_TRI,     /* auto, false, true: SV_BY_VERSION, 0, 1 (an int) */
	SC_STR,     /* text (a char *, g_free'd; checked by the loader) */
	SC_WORKLOAD, /* a built-in workload's name (a char *) */
	SC_POLICY,  /* a sizing policy's name, built-in or registered */
	SC_KVER,    /* a kernel version MAJOR.MINOR: SV_KERNEL() */
	SC_BUGS,    /* a comma-separated list of SV_BUG_LIST names */
	SC_PAGE,    /* a page size: 4K, 2M or 1G */
	SC_LIMIT,   /* "auto" (SC_AUTO) or a size; 0: none */
	SC_ACTIONS, /* phase actions (parsed by the loader) */
	SC_WRITES,  /* true, false, or one of them per pass, comma-separated
		       (the last repeats): a mask, bit N-1 for pass N */
} sc_type;

#define SC_AUTO UINT64_MAX /* an SC_LIMIT left to the runner */

typedef struct sc_key {
	sc_group group;
	const char *name;
	sc_type type;
	uint64_t min, max;     /* SC_UINT, SC_SIZE */
	uint64_t align;        /* SC_SIZE: a multiple of this (0: any) */
	bool pow2;             /* SC_UINT: 0 or a power of two */
	bool required;
	const char *const *names; /* SC_ENUM */
	unsigned nnames;
	size_t off;            /* where the value goes in the group's struct */
	unsigned width;        /* its size in bytes */
	const char *field;     /* the member it is stored in ("host.mem_size") */
	const char *def;       /* the default in words, or NULL: the value a
				  default plan holds */
	const char *takes;     /* SC_STR: what it takes, in words */
	const char *help;
} sc_key;

extern const char *const sv_scenario__group_names[SC_G__COUNT];

/* Row i of the table (NULL past the end). */
const sc_key *sv_scenario__key(size_t i);
const sc_key *sv_scenario__key_find(sc_group g, const char *name);

/*
 * Reads every key of the key file's group `group` (of kind g) into the
 * struct at base, row by row: an unknown key, a missing required one or a
 * value that does not parse whole or is out of range is SV_ECONFIG naming
 * file, group, key and what was expected.  Keys the group lacks keep what
 * base holds.  SC_ACTIONS keys are left to the caller.
 */
int sv_scenario__load_group(GKeyFile *kf, const char *file, const char *group,
			    sc_group g, void *base);

/* A library message in the scenario's words: each "sv_host_options.mem_size"
 * (any public option struct's member that a key sets) becomes "[host] mem".
 * g_free it. */
char *sv_scenario__user_words(const char *detail);
/* What a key takes, in words ("1 to 256", "ept or npt"...; g_free it). */
char *sv_scenario__values(const sc_key *k);
/* The value a key has in the struct at base, as a file would write it
 * (g_free it). */
char *sv_scenario__format(const sc_key *k, const void *base);

#endif /* SV_SCENARIO_SCHEMA_H */
