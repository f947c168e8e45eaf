/*
 * tools/simvirt/calnative.c - the native side of `simvirt calibrate`
 * (calnative.h): what the machine says of itself, and what timing it
 * shows.  A VM's CPUID and sysfs may describe the host's whole socket, or
 * nothing; a VM's share of a shared last-level cache is not described
 * anywhere.  So the two capacities that decide where a chase's knees fall
 * -- the STLB's reach and the LLC this process gets -- are probed.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, madvise */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include "calnative.h"

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

double cal_tsc_ghz(void)
{
#if defined(__x86_64__)
	double t0 = now_ns(), t1;
	uint64_t c0 = __rdtsc(), c1;

	do
		t1 = now_ns();
	while (t1 - t0 < 1e8);
	c1 = __rdtsc();
	return (double)(c1 - c0) / (t1 - t0);
#else
	return 0;
#endif
}

double cal_core_ghz(void)
{
#if defined(__x86_64__)
	double best = 0;
	int r;

	/* the best of three: the first may run while the clock ramps up */
	for (r = 0; r < 3; r++) {
		uint64_t x = 0, n = 0;
		double t0 = now_ns(), t1;

		do {
			__asm__ volatile(".rept 1000\n\tadd $1, %0\n\t.endr" : "+r"(x));
			n += 1000;
			t1 = now_ns();
		} while (t1 - t0 < 3e7);
		best = fmax(best, (double)n / (t1 - t0));
	}
	return best;
#else
	return 0;
#endif
}

uint64_t cal_mem_available(void)
{
	g_autofree char *text = NULL;
	const char *p;

	if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL) ||
	    !(p = strstr(text, "MemAvailable:")))
		return 0;
	return g_ascii_strtoull(p + 13, NULL, 10) << 10;
}

/* ---- the caches the machine describes ------------------------------------ */

static uint64_t pow2_floor(uint64_t v)
{
	while (v & (v - 1))
		v &= v - 1;
	return v;
}

/* A level of kb KiB and w ways as the model holds it: the largest cache
 * with a power-of-two number of sets that the real one holds. */
static bool level_set(uint64_t kb, uint64_t w, uint32_t *out_kb, uint32_t *out_ways)
{
	uint64_t sets = w ? pow2_floor(kb * 16 / w) : 0; /* kb * 1024 / 64 / w */

	if (!w || w > 64 || !sets)
		return false;
	*out_kb = (uint32_t)(sets * w / 16);
	*out_ways = (uint32_t)w;
	return true;
}

/* A level from sysfs (index = the level's entry). */
static bool sysfs_level(const char *index, uint32_t *kb, uint32_t *ways)
{
	g_autofree char *size = NULL, *assoc = NULL;
	g_autofree char *p1 = g_strdup_printf("/sys/devices/system/cpu/cpu0/cache/%s/size", index);
	g_autofree char *p2 = g_strdup_printf("/sys/devices/system/cpu/cpu0/cache/%s/ways_of_associativity", index);

	return g_file_get_contents(p1, &size, NULL, NULL) &&
	       g_file_get_contents(p2, &assoc, NULL, NULL) &&
	       level_set(g_ascii_strtoull(size, NULL, 10),
			 g_ascii_strtoull(assoc, NULL, 10), kb, ways);
}

#if defined(__x86_64__)
/* The deterministic cache leaves (Intel leaf 4, AMD 0x8000001D: the same
 * layout): the data or unified cache of `level`. */
static bool cpuid_det_level(unsigned leaf, unsigned level, uint32_t *kb, uint32_t *ways)
{
	unsigned a, b, c, d, i;

	if ((unsigned)__get_cpuid_max(leaf & 0x80000000u, NULL) < leaf)
		return false;
	for (i = 0; i < 16; i++) {
		uint64_t w, bytes;

		__cpuid_count(leaf, i, a, b, c, d);
		if (!(a & 31))
			break;
		if (((a >> 5) & 7) != level || (a & 31) == 2) /* 2: instructions */
			continue;
		w = ((b >> 22) & 0x3ff) + 1;
		bytes = w * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * ((uint64_t)c + 1);
		return level_set(bytes >> 10, w, kb, ways);
	}
	return false;
}

/* AMD's legacy leaves: L1D in 0x80000005, L2 in 0x80000006 (its ways in
 * a code, APM Vol. 3 "CPUID Fn8000_0006_ECX"). */
static bool cpuid_amd_level(unsigned level, uint32_t *kb, uint32_t *ways)
{
	static const uint8_t l2_ways[16] = {0, 1, 2, 3, 4, 0, 8, 0,
					    16, 0, 32, 48, 64, 96, 128, 0};
	unsigned a, b, c, d;

	if ((unsigned)__get_cpuid_max(0x80000000u, NULL) < 0x80000006u)
		return false;
	if (level == 1) {
		__cpuid(0x80000005u, a, b, c, d);
		return level_set(c >> 24, (c >> 16) & 0xff, kb, ways);
	}
	__cpuid(0x80000006u, a, b, c, d);
	return level_set(c >> 16, l2_ways[(c >> 12) & 15], kb, ways);
}
#endif

static bool cpuid_level(unsigned level, uint32_t *kb, uint32_t *ways)
{
#if defined(__x86_64__)
	return cpuid_det_level(4, level, kb, ways) ||
	       cpuid_det_level(0x8000001Du, level, kb, ways) ||
	       (level < 3 && cpuid_amd_level(level, kb, ways));
#else
	(void)level, (void)kb, (void)ways;
	return false;
#endif
}

sv_cache_config cal_machine_cache(const char **from)
{
	sv_cache_config c = {32, 8, 1024, 16, 16384, 16}; /* Skylake-SP's */

	if (sysfs_level("index0", &c.l1d_kb, &c.l1d_ways) &&
	    sysfs_level("index2", &c.l2_kb, &c.l2_ways)) {
		sysfs_level("index3", &c.llc_kb, &c.llc_ways);
		*from = "sysfs";
	} else if (cpuid_level(1, &c.l1d_kb, &c.l1d_ways) &&
		   cpuid_level(2, &c.l2_kb, &c.l2_ways)) {
		cpuid_level(3, &c.llc_kb, &c.llc_ways);
		*from = "CPUID";
	} else {
		*from = "Skylake-SP's sizes (neither sysfs nor CPUID says)";
	}
	return c;
}

/* ---- chases ------------------------------------------------------------------ */

/* splitmix64: the chase's order. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t *cal_chase_order(uint64_t n)
{
	uint32_t *perm = g_new(uint32_t, n);
	uint64_t i, seed = 1;

	for (i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (i = n - 1; i > 0; i--) {
		uint64_t j = next_rand(&seed) % (i + 1);
		uint32_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	return perm;
}

/* The line is picked by a hash of p so that the nodes spread over the
 * cache sets whatever the page size (p % 64 alone would repeat every 64
 * pages and, in a 2M page, leave most sets of a physically indexed cache
 * unused). */
uint64_t cal_node_offset(uint64_t p)
{
	uint64_t h = p * 0x9e3779b97f4a7c15ULL;

	return p * 4096 + (h >> 58) * 64;
}

uint64_t cal_chase_loads(uint64_t nodes)
{
	return MAX(2 * nodes, 2000000);
}

/* AnonHugePages (kB) of the mapping holding addr, from /proc/self/smaps. */
static uint64_t huge_kb_at(const void *addr)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	bool in = false;
	size_t i;

	if (!g_file_get_contents("/proc/self/smaps", &text, NULL, NULL))
		return 0;
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++) {
		uint64_t lo, hi;

		/* a mapping's first line is "lo-hi perms ..."; its fields
		 * ("AnonHugePages:", ...) never parse as two numbers */
		if (sscanf(lines[i], "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2)
			in = (uint64_t)(uintptr_t)addr >= lo && (uint64_t)(uintptr_t)addr < hi;
		else if (in && g_str_has_prefix(lines[i], "AnonHugePages:"))
			return g_ascii_strtoull(lines[i] + 14, NULL, 10);
	}
	return 0;
}

static void *volatile chase_end;

static uint64_t node_at(uint64_t stride, uint64_t p)
{
	return stride == 4096 ? cal_node_offset(p) : p * stride;
}

/* Backings of a chase's buffer. */
enum { B_4K, B_THP, B_HUGETLB };

/* A mapping of size bytes on a 2M boundary (THP asked for or refused, or
 * hugetlbfs 2M pages), every byte written, and one node per stride bytes
 * linked into the random cycle; NULL with errno when the map fails. */
static char *chase_map(uint64_t size, int backing, uint64_t stride, char **raw,
		       size_t *len)
{
	uint64_t n = size / stride, i;
	uint32_t *perm;
	char *buf;

	*len = backing == B_HUGETLB ? size : size + (2u << 20);
	*raw = mmap(NULL, *len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | (backing == B_HUGETLB ? MAP_HUGETLB : 0),
		    -1, 0);
	if (*raw == MAP_FAILED)
		return NULL;
	buf = (char *)(((uintptr_t)*raw + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1));
	if (backing != B_HUGETLB)
		madvise(buf, size, backing == B_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(buf, 1, size);
	perm = cal_chase_order(n);
	for (i = 0; i < n; i++)
		*(void **)(buf + node_at(stride, perm[i])) = buf + node_at(stride, perm[(i + 1) % n]);
	g_free(perm);
	return buf;
}

/* The chase over n nodes once to warm, then timed: ns per load. */
static double chase_time(char *buf, uint64_t n, uint64_t stride)
{
	uint64_t i, steps = cal_chase_loads(n);
	void **p = (void **)(buf + node_at(stride, 0));
	double t0;

	for (i = 0; i < n; i++)
		p = *p;
	t0 = now_ns();
	for (i = 0; i < steps; i++)
		p = *p;
	chase_end = p; /* the chase's result is used: no compiler drops it */
	return (now_ns() - t0) / (double)steps;
}

/* One placement of a chase over 4K pages or THP, for the probes: ns per
 * load; false with errno when the map fails. */
static bool chase_once(uint64_t size, bool huge, uint64_t stride, double *ns)
{
	size_t len;
	char *raw, *buf = chase_map(size, huge ? B_THP : B_4K, stride, &raw, &len);

	if (!buf)
		return false;
	*ns = chase_time(buf, size / stride, stride);
	munmap(raw, len);
	return true;
}

bool cal_chase_pair(uint64_t size, double ns[2], uint64_t huge_kb[2])
{
	uint64_t off;
	size_t len;
	char *raw, *buf = chase_map(size, B_THP, 4096, &raw, &len);

	if (!buf)
		return false;
	ns[1] = chase_time(buf, size / 4096, 4096);
	huge_kb[1] = huge_kb_at(buf);
	/* Changing the protection of one 4K page splits the PMD mapping its
	 * 2M page; changing it back leaves the 512 PTEs (and the frames) as
	 * they are, and MADV_NOHUGEPAGE keeps khugepaged away. */
	madvise(buf, size, MADV_NOHUGEPAGE);
	for (off = 0; off < size; off += 2u << 20) {
		mprotect(buf + off, 4096, PROT_READ);
		mprotect(buf + off, 4096, PROT_READ | PROT_WRITE);
	}
	ns[0] = chase_time(buf, size / 4096, 4096);
	huge_kb[0] = huge_kb_at(buf);
	munmap(raw, len);
	return true;
}

bool cal_chase_hugetlb(uint64_t size, double *ns)
{
	size_t len;
	char *raw, *buf = chase_map(size, B_HUGETLB, 4096, &raw, &len);

	if (!buf)
		return false;
	*ns = chase_time(buf, size / 4096, 4096);
	munmap(raw, len);
	return true;
}

uint64_t cal_hugetlb_free(void)
{
	g_autofree char *text = NULL;
	const char *free_at, *size_at;

	if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL) ||
	    !(free_at = strstr(text, "HugePages_Free:")) ||
	    !(size_at = strstr(text, "Hugepagesize:")) ||
	    g_ascii_strtoull(size_at + 13, NULL, 10) != 2048)
		return 0;
	return g_ascii_strtoull(free_at + 15, NULL, 10) << 21;
}

/* ---- probes ------------------------------------------------------------------ */

uint64_t cal_knee(const uint64_t *sizes, const double *t, size_t n, size_t ref)
{
	double cut = sqrt(t[ref] * t[n - 1]);
	uint64_t found = 0;
	size_t i;

	if (!(t[n - 1] >= 1.5 * t[ref]))
		return 0;
	for (i = 0; i < n && t[i] <= cut; i++)
		found = sizes[i];
	return found;
}

/* Times each of sizes[0..n) (the smaller of two placements: a
 * neighbour's burst only ever slows one down), logs them, and finds the
 * knee. */
static uint64_t probe(const uint64_t *sizes, size_t n, size_t ref, bool huge,
		      uint64_t stride, const char *what, GString *log)
{
	double t[24];
	size_t i, r;

	g_assert(n <= G_N_ELEMENTS(t));
	for (i = 0; i < n; i++) {
		t[i] = INFINITY;
		for (r = 0; r < 2; r++) {
			double ns;

			if (chase_once(sizes[i], huge, stride, &ns))
				t[i] = fmin(t[i], ns);
		}
		g_string_append_printf(log, "#   %s %" PRIu64 " %s: %.1f ns\n", what,
				       stride == 4096 ? sizes[i] >> 12 : sizes[i] >> 10,
				       stride == 4096 ? "pages" : "KiB", t[i]);
	}
	return cal_knee(sizes, t, n, ref);
}

uint32_t cal_probe_stlb(GString *log)
{
	static const uint64_t pages[] = {256, 512, 1024, 1536, 2048, 3072, 4096,
					 5120, 6144, 8192, 12288, 16384};
	uint64_t sizes[G_N_ELEMENTS(pages)];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(pages); i++)
		sizes[i] = pages[i] << 12;
	return (uint32_t)(probe(sizes, G_N_ELEMENTS(sizes), 2, false, 4096,
				"STLB probe, 4K pages, one line each:", log) >> 12);
}

uint32_t cal_probe_llc_kb(uint32_t l2_kb, GString *log)
{
	static const uint32_t times[] = {2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
	uint64_t sizes[G_N_ELEMENTS(times)];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(times); i++)
		sizes[i] = ((uint64_t)l2_kb * times[i]) << 10;
	return (uint32_t)(probe(sizes, G_N_ELEMENTS(sizes), 0, true, 64,
				"LLC probe, every line of THP memory:", log) >> 10);
}

void cal_geometry(uint64_t entries, uint32_t *sets, uint32_t *ways)
{
	static const uint32_t w[] = {16, 12, 8, 6, 4};
	uint64_t best = 0;
	size_t i;

	*sets = *ways = 0;
	for (i = 0; i < G_N_ELEMENTS(w); i++) {
		uint64_t s = pow2_floor(entries / w[i]);

		if (s && s * w[i] > best) {
			best = s * w[i];
			*sets = (uint32_t)s;
			*ways = w[i];
		}
	}
}
