/*
 * lib/cpu/dcache.h - a vCPU's data-cache model (lib/cpu/dcache.c): up to
 * three set-associative LRU levels of 64-byte lines, looked up by the
 * walks' paging-structure references and by the data accesses when
 * sv_vm_set_cache turned it on.  It decides only what a reference costs:
 * no count of the translation model depends on it.
 */
#ifndef SV_CPU_DCACHE_H
#define SV_CPU_DCACHE_H

#include "base.h"

#define SV_DCACHE_LEVELS 3 /* L1D, L2, LLC; index 3 is memory */

typedef struct sv_dcache_level {
	uint32_t sets, ways;   /* sets a power of two; 0 ways: absent */
	uint64_t *line;        /* sets * ways line numbers + 1, 0 = empty */
	uint64_t *stamp;       /* when each way was last used */
} sv_dcache_level;

typedef struct sv_dcache {
	sv_dcache_level lv[SV_DCACHE_LEVELS];
	uint64_t clock;
} sv_dcache;

/* NULL (off) when cfg has no level; SV_EINVAL for a bad geometry. */
int sv_dcache__new(sv_dcache **out, const sv_cache_config *cfg);
void sv_dcache__free(sv_dcache *c);
/* Looks a line up: the level that held it (0 L1D, 1 L2, 2 LLC, 3
 * memory), filling it into every level that missed. */
unsigned sv_dcache__access(sv_dcache *c, uint64_t line);

#endif
