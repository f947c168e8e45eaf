/*
 * bench/trace_chase.c - the TLB-miss-heavy program bench_trace traces
 * with valgrind lackey: a dependent chase over 64 MiB, one node per 4K
 * page, the pages in a seeded random cycle.  Its trace touches 16,384
 * pages in random order, ten times the reach of a 1,536-entry STLB.
 * Usage: trace_chase [LOADS]: LOADS defaults to 200,000.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define PAGES 16384
#define STRIDE (4096 / sizeof(void *))

int main(int argc, char **argv)
{
	unsigned long loads = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	void **mem = malloc((size_t)PAGES * 4096);
	uint32_t *order = malloc(PAGES * sizeof(*order));
	uint64_t seed = 1;
	void **p;
	unsigned long i;

	if (!mem || !order)
		return 1;
	for (i = 0; i < PAGES; i++)
		order[i] = (uint32_t)i;
	for (i = PAGES - 1; i > 0; i--) { /* Fisher-Yates, a fixed LCG */
		uint32_t j, t;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (uint32_t)((seed >> 33) % (i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < PAGES; i++)
		mem[order[i] * STRIDE] = &mem[order[(i + 1) % PAGES] * STRIDE];
	p = &mem[order[0] * STRIDE];
	for (i = 0; i < loads; i++)
		p = *p;
	printf("%p\n", (void *)p); /* the chase's end, so it is not elided */
	free(order);
	free(mem);
	return 0;
}
