/*
 * tools/simvirt/calibrate.c - `simvirt calibrate`: fit the cost model to
 * the machine it runs on (docs/calibration.md).
 *
 * How it works:
 *  0. The machine (calnative.c): L1D and L2 from sysfs or CPUID; the
 *     STLB's reach and the LLC this process gets, probed.
 *  1. Native: for each working set, a THP buffer is filled, one node per
 *     4K page is linked into one random cycle (at a 64-byte offset that
 *     spreads over the cache sets), and a dependent chase is timed; then
 *     again over the same frames mapped with 4K pages; and over hugetlbfs
 *     2M pages where they are reserved.  Once per placement, over
 *     --rounds fresh mappings taken in turn over the sizes: the median
 *     ns per load, and the spread.  /proc/self/smaps says whether huge
 *     pages really backed it; the core clock turns ns into cycles.
 *  2. Simulated: the same chase, address for address, through the model
 *     (trace-driven: a guest with 4K or 2M pages over a host with 4K or
 *     THP pages, or 4K tables for both as a hypervisor's shadow tables
 *     would be, with the caches and STLB of step 0).  The model is linear in
 *     the costs fitted (the base load, the STLB hit, the walk reference,
 *     the splintered fill, and an L2, LLC and memory access), so one run
 *     per case gives its counts per load, and the rest of its cycles.
 *  3. Fit: non-negative least squares on the relative errors (fit.c), for
 *     each of those; the best is kept.  The [cost], [cache]
 *     and [tlb] groups are written with the measurements in comments.
 *  --check FILE runs 1 and 2 again with FILE's costs, caches and STLB and
 *  reports each case's error, then `max error N%`.
 */
#include <errno.h>
#include <stdlib.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <simvirt/simvirt.h>

#include "calnative.h"
#include "cli.h"
#include "fit.h"

#define MAX_ROUNDS 9

/*
 * What the hardware is believed to walk, each tried in turn (NH of them):
 * the guest's own tables over host 4K pages, or over host THP; or tables
 * that a hypervisor shadows with 4K pages (shadow paging, as under PVM or
 * KVM without EPT/NPT), so that a guest 2M page is walked as 4K ones,
 * over host 4K pages.
 */
enum { H_4K, H_THP, H_SHADOW, NH };
static const char *const host_names[NH] = {"4K", "2M", "shadow"};
static const char *const host_texts[NH] = {
	"the guest's tables over host 4K pages",
	"the guest's tables over host THP",
	"tables shadowed with 4K pages over host 4K pages"};

/* The fitted costs, in the order of a case's counts. */
enum { P_LOAD, P_STLB, P_REF, P_SPLINTER, P_L2, P_LLC, P_MEM, NP };
static const char *const param_names[NP] = {
	"insn_load", "stlb_hit", "walk_ref", "splinter", "cache_l2", "cache_llc",
	"cache_mem"};

typedef struct cal_case {
	bool huge;           /* guest 2M pages (THP or hugetlbfs) or 4K */
	bool hugetlb;        /* hugetlbfs 2M pages */
	uint64_t size;       /* working set */
	double ns;           /* measured per load: the median of the rounds */
	double round[MAX_ROUNDS]; /* each placement's time per load */
	double spread;       /* (slowest - fastest) / median */
	uint64_t huge_kb;    /* AnonHugePages of the buffer (first round) */
	double x[NH][NP];    /* counts per load, under each of H_* */
	double fixed[NH];    /* the other cycles per load */
} cal_case;

typedef struct cal {
	GArray *cases;       /* cal_case */
	double ghz;          /* the core clock: ns to cycles */
	double tsc_ghz;      /* for the record */
	sv_cache_config cache;
	sv_tlb_config tlb;   /* the defaults, with the STLB probed */
	uint64_t loads;      /* simulated loads per case, after a warm-up */
	unsigned rounds;     /* placements of each native case */
	GString *probes;     /* what the probes saw, as comment lines */
} cal;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of t[0..n), sorting t. */
static double median(double *t, unsigned n)
{
	qsort(t, n, sizeof(t[0]), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/*
 * Step 1: each size over `rounds` placements, the rounds taken in turn
 * over all the sizes (so that a slow spell of the machine falls on many
 * cases once, not on one case every time): the median, and the spread.
 * The two cases of a size share each placement (cal_chase_pair): THP,
 * then the same frames mapped with 4K pages, so their ratio is the guest
 * page size's alone, not where the buffer landed.
 */
static bool measure(cal *cl, unsigned rounds)
{
	guint i;
	unsigned r;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < cl->cases->len; i++) {
			cal_case *k = &g_array_index(cl->cases, cal_case, i);
			double ns[2];
			uint64_t kb[2];

			if (k->hugetlb) {
				if (!cal_chase_hugetlb(k->size, &k->round[r]))
					return false;
				k->huge_kb = k->size >> 10; /* all of it, or no map */
				continue;
			}
			if (k->huge)
				continue; /* timed with the 4K case before it */
			if (!cal_chase_pair(k->size, ns, kb))
				return false;
			k[0].round[r] = ns[0];
			k[1].round[r] = ns[1];
			if (!r) {
				k[0].huge_kb = kb[0];
				k[1].huge_kb = kb[1];
			}
		}
	}
	for (i = 0; i < cl->cases->len; i++) {
		cal_case *k = &g_array_index(cl->cases, cal_case, i);
		double t[MAX_ROUNDS];

		memcpy(t, k->round, sizeof(t));
		k->ns = median(t, rounds);
		k->spread = (t[rounds - 1] - t[0]) / k->ns; /* t is sorted now */
	}
	cl->rounds = rounds;
	return true;
}

/* ---- the model --------------------------------------------------------------- */

#define SIM_GPA 0x40000000ULL

static int sim_setup(sv_host **h, sv_vm **vm, sv_pt **gpt, const cal *cl,
		     const cal_case *k, int hw, const sv_costs *costs)
{
	sv_vm_options vo = SV_VM_OPTIONS_INIT;
	/* the buffer as the native one is mapped: whole 2M pages */
	uint64_t slot = (k->size + SV_PAGE_2M - 1) & ~(SV_PAGE_2M - 1);
	uint64_t pool = ((k->size / 256 + (4u << 20)) + (2u << 20) - 1) & ~((2ULL << 20) - 1);
	uint64_t pool_gpa = (SIM_GPA + slot + SV_PAGE_1G - 1) & ~(SV_PAGE_1G - 1);
	sv_pt_options po = {.version = SV_PT_OPTIONS_VERSION, .kind = SV_PT_GUEST,
			    .pool_gpa = pool_gpa, .pool_size = pool};
	sv_vcpu_regs r;
	unsigned i;
	int rc;

	vo.costs = *costs;
	vo.tlb = cl->tlb;
	rc = sv_host_new(h, NULL);
	if (rc == SV_OK)
		rc = sv_vm_new(vm, &vo);
	if (rc == SV_OK)
		rc = sv_vm_set_cache(*vm, &cl->cache);
	if (rc == SV_OK)
		rc = sv_mmu_attach(*vm, *h, NULL);
	for (i = 0; i < 2 && rc == SV_OK; i++) {
		sv_host_mmap_args a = {.version = SV_HOST_MMAP_VERSION,
				       .size = i ? pool : slot,
				       .prot = SV_PROT_READ | SV_PROT_WRITE,
				       .backing = SV_BACKING_ANON};
		sv_memslot_region s = {.version = SV_MEMSLOT_REGION_VERSION,
				       .slot = i, .gpa = i ? pool_gpa : SIM_GPA,
				       .size = a.size};

		rc = sv_host_mmap(&s.hva, *h, &a);
		if (rc == SV_OK)
			rc = sv_host_madvise(*h, s.hva, a.size, !i && hw == H_THP
								? SV_MADV_HUGEPAGE
								: SV_MADV_NOHUGEPAGE);
		if (rc == SV_OK)
			rc = sv_memslot_set(*vm, &s);
	}
	if (rc == SV_OK)
		rc = sv_pt_new(gpt, *vm, &po);
	if (rc == SV_OK)
		rc = sv_pt_map(*gpt, SIM_GPA, SIM_GPA, slot,
			       k->huge && hw != H_SHADOW && k->size >= SV_PAGE_2M
				       ? SV_PAGE_2M : SV_PAGE_4K,
			       SV_PTE_P | SV_PTE_RW | SV_PTE_NX);
	if (rc != SV_OK)
		return rc;
	sv_vcpu_get_regs(sv_vm_vcpu(*vm, 0), &r);
	r.cr0 = SV_CR0_PG | SV_CR0_WP | SV_CR0_PE | 0x32;
	r.cr4 = SV_CR4_PAE;
	r.efer = SV_EFER_LME | SV_EFER_LMA | SV_EFER_NXE;
	r.cr3 = sv_pt_root(*gpt);
	return sv_vcpu_set_regs(sv_vm_vcpu(*vm, 0), &r);
}

static uint64_t vstat(sv_vm *vm, sv_vcpu_stat id)
{
	return sv_vm_vcpu_stat_sum(vm, id);
}

/*
 * Step 2 for one case and what the hardware walks (H_*): the chase
 * through the model with the fitted costs at 0 (so the cycles left are
 * the fixed part),
 * after a warm-up pass that writes every page (faulting it in).
 */
static int simulate(cal *cl, cal_case *k, int hw, const sv_costs *base)
{
	sv_costs c = *base;
	sv_host *h = NULL;
	sv_vm *vm = NULL;
	sv_pt *gpt = NULL;
	uint64_t n = k->size / 4096, i, loads = MIN(cl->loads, cal_chase_loads(n));
	uint32_t *perm = cal_chase_order(n);
	uint32_t *next = g_new(uint32_t, n);
	double *x = k->x[hw], N;
	uint64_t p = 0;
	int rc;

	c.insn_load = c.stlb_hit = c.walk_ref = c.splinter = 0;
	c.cache_l2 = c.cache_llc = c.cache_mem = 0;
	for (i = 0; i < n; i++)
		next[perm[i]] = perm[(i + 1) % n];
	g_free(perm);
	rc = sim_setup(&h, &vm, &gpt, cl, k, hw, &c);
	for (i = 0; rc == SV_OK && i < n + loads; i++) {
		sv_xlate xl;

		if (i == n)
			sv_vm_stats_reset(vm);
		/* the warm-up writes, as the native buffer was filled (a
		 * read of untouched memory would map the zero page) */
		rc = sv_vcpu_translate(&xl, sv_vm_vcpu(vm, 0), SIM_GPA + cal_node_offset(p),
				       8, i < n ? SV_ACCESS_WRITE : SV_ACCESS_READ);
		if (rc == SV_OK && xl.fault.kind != SV_FAULT_NONE)
			rc = SV_EFAULT;
		p = next[p];
	}
	g_free(next);
	if (rc == SV_OK) {
		N = (double)loads;
		x[P_LOAD] = 1;
		x[P_STLB] = (double)(vstat(vm, SV_VCPU_STAT_stlb_hit_4k) +
				     vstat(vm, SV_VCPU_STAT_stlb_hit_2m) +
				     vstat(vm, SV_VCPU_STAT_stlb_hit_1g)) / N;
		x[P_REF] = (double)vstat(vm, SV_VCPU_STAT_walk_refs) / N;
		x[P_SPLINTER] = (double)vstat(vm, SV_VCPU_STAT_tlb_splinter) / N;
		x[P_L2] = (double)(vstat(vm, SV_VCPU_STAT_data_l2) +
				   vstat(vm, SV_VCPU_STAT_ref_l2)) / N;
		x[P_LLC] = (double)(vstat(vm, SV_VCPU_STAT_data_llc) +
				    vstat(vm, SV_VCPU_STAT_ref_llc)) / N;
		x[P_MEM] = (double)(vstat(vm, SV_VCPU_STAT_data_mem) +
				    vstat(vm, SV_VCPU_STAT_ref_mem)) / N;
		/* the loop's other instructions (a decrement and a branch)
		 * and the costs not fitted */
		k->fixed[hw] = 2.0 * base->insn_alu +
				      (double)vstat(vm, SV_VCPU_STAT_cycles) / N;
	}
	sv_pt_free(gpt);
	sv_vm_free(vm);
	sv_host_free(h);
	return rc;
}

/* ---- fitting, writing, checking ----------------------------------------------- */

/* The costs fitted, as doubles in param order, from a cost table. */
static void theta_of(const sv_costs *c, double *theta)
{
	theta[P_LOAD] = c->insn_load;
	theta[P_STLB] = c->stlb_hit;
	theta[P_REF] = c->walk_ref;
	theta[P_SPLINTER] = c->splinter;
	theta[P_L2] = c->cache_l2;
	theta[P_LLC] = c->cache_llc;
	theta[P_MEM] = c->cache_mem;
}

static void costs_of(const double *theta, sv_costs *c)
{
	c->insn_load = (uint32_t)lround(theta[P_LOAD]);
	c->stlb_hit = (uint32_t)lround(theta[P_STLB]);
	c->walk_ref = (uint32_t)lround(theta[P_REF]);
	c->splinter = (uint32_t)lround(theta[P_SPLINTER]);
	c->cache_l2 = (uint32_t)lround(theta[P_L2]);
	c->cache_llc = (uint32_t)lround(theta[P_LLC]);
	c->cache_mem = (uint32_t)lround(theta[P_MEM]);
}

/* Predicted ns per load of case k under H_* hh and theta. */
static double predicted_ns(const cal *cl, const cal_case *k, int hh,
			   const double *theta)
{
	double cyc = k->fixed[hh];
	size_t j;

	for (j = 0; j < NP; j++)
		cyc += k->x[hh][j] * theta[j];
	return cyc / cl->ghz;
}

/*
 * Does the size of case k show a TLB effect: 4K pages slower than huge
 * ones by more than 10% natively?  The two were timed one after the other
 * in each round, so each round gives a ratio under the same conditions;
 * the median of those ratios decides (a slow spell of the machine that
 * falls on one backing's placement does not make an effect).
 */
static bool tlb_effect(const cal *cl, const cal_case *k)
{
	const cal_case *small = NULL, *huge = NULL;
	double ratio[MAX_ROUNDS];
	unsigned r;
	guint i;

	for (i = 0; i < cl->cases->len; i++) {
		const cal_case *o = &g_array_index(cl->cases, cal_case, i);

		if (o->size == k->size && !o->hugetlb)
			*(o->huge ? &huge : &small) = o;
	}
	if (!small || !huge)
		return false;
	for (r = 0; r < cl->rounds; r++)
		ratio[r] = small->round[r] / huge->round[r];
	return median(ratio, cl->rounds) > 1.1;
}

/* The largest relative error over the cases (those with a TLB effect
 * only, when tlb_only). */
static double cal_max_error(const cal *cl, int hh, const double *theta,
			    bool tlb_only)
{
	double worst = 0;
	guint i;

	for (i = 0; i < cl->cases->len; i++) {
		const cal_case *k = &g_array_index(cl->cases, cal_case, i);

		if (tlb_only && !tlb_effect(cl, k))
			continue;
		worst = fmax(worst, fabs(predicted_ns(cl, k, hh, theta) - k->ns) / k->ns);
	}
	return worst;
}

/* Fits theta for H_* hh (integer cycles, as the file holds
 * them); the largest relative error. */
static double fit_for(const cal *cl, int hh, double *theta)
{
	guint n = cl->cases->len, i;
	g_autofree double *x = g_new(double, (size_t)n * NP);
	g_autofree double *fixed = g_new(double, n);
	g_autofree double *meas = g_new(double, n);
	/* the memory latency bounds them all: nothing costs more than
	 * 2,000 cycles */
	static const double ceiling[NP] = {50, 100, 500, 2000, 200, 500, 2000};
	sv_costs c = SV_COSTS_INIT;

	for (i = 0; i < n; i++) {
		const cal_case *k = &g_array_index(cl->cases, cal_case, i);

		memcpy(x + (size_t)i * NP, k->x[hh], sizeof(k->x[hh]));
		fixed[i] = k->fixed[hh];
		meas[i] = k->ns * cl->ghz;
	}
	theta_of(&c, theta);
	fit_costs(n, NP, x, fixed, meas, theta, ceiling);
	costs_of(theta, &c);
	theta_of(&c, theta); /* what the file will say */
	return cal_max_error(cl, hh, theta, false);
}

static const char *size_text(uint64_t size, char *buf, size_t len)
{
	if (size >= SV_PAGE_1G && !(size % SV_PAGE_1G))
		g_snprintf(buf, len, "%" PRIu64 "G", size >> 30);
	else if (size >= (1u << 20) && !(size % (1u << 20)))
		g_snprintf(buf, len, "%" PRIu64 "M", size >> 20);
	else
		g_snprintf(buf, len, "%" PRIu64 "K", size >> 10);
	return buf;
}

/* The table of cases: measured and predicted ns, and the error. */
static void case_table(GString *out, const char *prefix, const cal *cl, int hh,
		       const double *theta)
{
	guint i;

	g_string_append_printf(out, "%s%-7s %-6s %11s %7s %9s %8s  %s\n", prefix,
			       "pages", "size", "measured-ns", "spread", "model-ns",
			       "error", "huge pages seen");
	for (i = 0; i < cl->cases->len; i++) {
		const cal_case *k = &g_array_index(cl->cases, cal_case, i);
		double p = predicted_ns(cl, k, hh, theta);
		char sz[32];

		g_string_append_printf(out, "%s%-7s %-6s %11.1f %6.0f%% %9.1f %7.1f%%  %" PRIu64
				       " kB%s\n", prefix,
				       k->hugetlb ? "hugetlb" : k->huge ? "thp" : "4k",
				       size_text(k->size, sz, sizeof(sz)), k->ns,
				       100 * k->spread, p, 100 * (p - k->ns) / k->ns,
				       k->huge_kb, tlb_effect(cl, k) ? "  (TLB effect)" : "");
	}
}

static char *cost_file(const cal *cl, int hh, const double *theta, const double *err)
{
	GString *t = g_string_new(NULL);
	g_autofree char *info = NULL, *cpu = NULL;
	g_autofree char *date = NULL;
	g_autoptr(GDateTime) d = g_date_time_new_now_utc();
	const char *m;
	size_t j;

	date = g_date_time_format(d, "%Y-%m-%d");
	if (g_file_get_contents("/proc/cpuinfo", &info, NULL, NULL) &&
	    (m = strstr(info, "model name"))) {
		const char *v = strchr(m, ':'), *e = strchr(m, '\n');

		cpu = v && e ? g_strndup(v + 2, (gsize)(e - v - 2)) : g_strdup("?");
	} else {
		cpu = g_strdup("?");
	}
	g_string_append_printf(t, "# simvirt calibrate, %s, on %s\n", date, cpu);
	g_string_append_printf(t, "# Core clock %.3f GHz (dependent adds), TSC %.3f GHz; costs are\n"
				  "# core cycles.  A dependent chase, one load per 4K page,\n"
				  "# natively and through the model (docs/calibration.md).\n",
			       cl->ghz, cl->tsc_ghz);
	g_string_append(t, "# What the hardware walks, the largest error of each fit:\n");
	for (j = 0; j < NH; j++)
		g_string_append_printf(t, "#   %-50s %5.1f%%%s\n", host_texts[j], 100 * err[j],
				       (int)j == hh ? "  (kept)" : "");
	g_string_append(t, "# Each case: the median of its placements, and their spread.\n");
	case_table(t, "#   ", cl, hh, theta);
	g_string_append(t, cl->probes->str);
	g_string_append(t, "[calibration]\n");
	g_string_append_printf(t, "host_pages=%s\ncore_ghz=%.3f\n", host_names[hh], cl->ghz);
	g_string_append(t, "[cost]\n");
	for (j = 0; j < NP; j++)
		g_string_append_printf(t, "%s=%ld\n", param_names[j], lround(theta[j]));
	g_string_append_printf(t, "[cache]\nl1d_kb=%u\nl1d_ways=%u\nl2_kb=%u\nl2_ways=%u\n"
				  "llc_kb=%u\nllc_ways=%u\n",
			       cl->cache.l1d_kb, cl->cache.l1d_ways, cl->cache.l2_kb,
			       cl->cache.l2_ways, cl->cache.llc_kb, cl->cache.llc_ways);
	g_string_append_printf(t, "[tlb]\nstlb_sets=%u\nstlb_ways=%u\n",
			       cl->tlb.array[SV_TLB_stlb].sets, cl->tlb.array[SV_TLB_stlb].ways);
	return g_string_free(t, FALSE);
}

/* A calibration file: its [cost] (over the defaults), [cache] and host
 * page size; false after a message. */
static bool load_file(const char *path, sv_costs *costs, sv_tlb_config *tlb,
		      sv_cache_config *cache, int *hh, double *ghz)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	g_autofree char *hp = NULL, *ghz_text = NULL;
	uint32_t *f[6] = {&cache->l1d_kb, &cache->l1d_ways, &cache->l2_kb,
			  &cache->l2_ways, &cache->llc_kb, &cache->llc_ways};
	static const char *const keys[6] = {"l1d_kb", "l1d_ways", "l2_kb",
					    "l2_ways", "llc_kb", "llc_ways"};
	size_t i;
	int rc;

	*costs = (sv_costs)SV_COSTS_INIT;
	sv_tlb_config_init(tlb);
	rc = sv_config_load(tlb, costs, path);
	if (rc != SV_OK) {
		cli_fail("calibrate", rc);
		return false;
	}
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
		fprintf(stderr, "simvirt calibrate: %s: %s\n", path, err->message);
		return false;
	}
	for (i = 0; i < 6; i++) {
		g_autofree char *v = g_key_file_get_value(kf, "cache", keys[i], NULL);

		if (v)
			*f[i] = (uint32_t)g_ascii_strtoull(v, NULL, 10);
	}
	ghz_text = g_key_file_get_value(kf, "calibration", "core_ghz", NULL);
	*ghz = ghz_text ? g_ascii_strtod(ghz_text, NULL) : 0;
	if (ghz_text && !(*ghz > 0 && *ghz < 100)) {
		fprintf(stderr, "simvirt calibrate: %s: [calibration] core_ghz: "
				"expected a clock in GHz, got '%s'\n", path, ghz_text);
		return false;
	}
	hp = g_key_file_get_value(kf, "calibration", "host_pages", NULL);
	for (*hh = 0; hp && *hh < NH; (*hh)++)
		if (!strcmp(hp, host_names[*hh]))
			return true;
	fprintf(stderr, "simvirt calibrate: %s: [calibration] host_pages: "
			"expected 4K, 2M or shadow, got '%s'\n", path, hp ? hp : "(missing)");
	return false;
}

/* --sizes: a comma-separated list of sizes, 4K multiples (K/M/G). */
static bool parse_sizes(const char *text, GArray *sizes)
{
	g_auto(GStrv) parts = g_strsplit(text, ",", -1);
	size_t i;

	for (i = 0; parts[i]; i++) {
		char *end;
		uint64_t v = g_ascii_strtoull(parts[i], &end, 10);

		if (*end == 'K' || *end == 'k')
			v <<= 10, end++;
		else if (*end == 'M' || *end == 'm')
			v <<= 20, end++;
		else if (*end == 'G' || *end == 'g')
			v <<= 30, end++;
		if (*end || !v || v % (2u << 20 > v ? 4096 : 2u << 20) || v > (16ULL << 30)) {
			fprintf(stderr, "simvirt calibrate: --sizes: '%s' (expected "
					"sizes like 64K, 8M or 1G: 4K multiples below 2M, "
					"2M multiples above, at most 16G)\n", parts[i]);
			return false;
		}
		g_array_append_val(sizes, v);
	}
	return true;
}

/*
 * The model's caches and STLB for --out: L1D and L2 as the machine
 * describes them; the LLC and the STLB's reach probed (unless told not
 * to), each written into the file's comments with where it came from.
 */
static void describe_machine(cal *cl, const char *from, bool probe)
{
	sv_tlb_geometry *st = &cl->tlb.array[SV_TLB_stlb];
	uint32_t llc_kb = 0, stlb = 0;

	cl->probes = g_string_new(NULL);
	g_string_append_printf(cl->probes, "# L1D and L2: from %s.\n", from);
	if (probe) {
		stlb = cal_probe_stlb(cl->probes);
		llc_kb = cal_probe_llc_kb(cl->cache.l2_kb, cl->probes);
	}
	if (llc_kb) {
		uint32_t sets, ways;

		cal_geometry((uint64_t)llc_kb * 16, &sets, &ways); /* 16 lines a KiB */
		cl->cache.llc_kb = sets * ways / 16;
		cl->cache.llc_ways = ways;
		g_string_append_printf(cl->probes, "# LLC: probed, %u KiB as %u ways.\n",
				       cl->cache.llc_kb, cl->cache.llc_ways);
	} else {
		g_string_append_printf(cl->probes, "# LLC: from %s%s.\n", from,
				       probe ? " (the probe saw no step)" : "");
	}
	if (stlb) {
		cal_geometry(stlb, &st->sets, &st->ways);
		g_string_append_printf(cl->probes, "# STLB: probed, %u entries (%u sets of %u).\n",
				       st->sets * st->ways, st->sets, st->ways);
	} else {
		g_string_append_printf(cl->probes, "# STLB: the default, %u entries%s.\n",
				       st->sets * st->ways,
				       probe ? " (the probe saw no step)" : "");
	}
}

int cmd_calibrate(int argc, char **argv)
{
	g_autofree char *out = NULL, *check = NULL, *sizes_text = NULL;
	gint64 loads = 300000, rounds = 3;
	gboolean no_probe = FALSE;
	const char *from = NULL;
	GOptionEntry entries[] = {
		{"out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
		 "Write the fitted [cost], [cache] and [tlb] groups here", "FILE"},
		{"check", 'c', 0, G_OPTION_ARG_FILENAME, &check,
		 "Measure and simulate again with FILE's costs and report the "
		 "error of each case", "FILE"},
		{"sizes", 's', 0, G_OPTION_ARG_STRING, &sizes_text,
		 "Working sets (default 64K,1M,8M,64M,256M,1G,4G; a size the "
		 "machine's free memory cannot hold is left out, saying so)", "LIST"},
		{"loads", 'l', 0, G_OPTION_ARG_INT64, &loads,
		 "Loads each simulated case counts after its warm-up pass "
		 "(default 300000)", "N"},
		{"rounds", 'r', 0, G_OPTION_ARG_INT64, &rounds,
		 "Placements of each native case, taken in turn over the cases: "
		 "the median counts (1-9, default 3)", "N"},
		{"no-probe", 0, 0, G_OPTION_ARG_NONE, &no_probe,
		 "Take the caches and the STLB as sysfs or CPUID describe them "
		 "(--out), instead of probing what this process gets", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
	g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	cal cl = {.cases = g_array_new(FALSE, TRUE, sizeof(cal_case))};
	sv_costs costs = SV_COSTS_INIT;
	double theta[NH][NP], err[NH] = {0};
	uint64_t avail, hugetlb_free;
	double file_ghz = 0;
	int status = EXIT_SUCCESS, hh = 0, h;
	guint i;

	g_option_context_set_summary(ctx,
		"Fits the cost model to this machine: times a dependent pointer chase\n"
		"over 4K and THP memory natively, runs the same chase through the\n"
		"model, and fits the costs of a load, an STLB hit, a walk reference,\n"
		"a splintered TLB fill and an L2, LLC or memory access so that the\n"
		"two agree (docs/calibration.md).  With --out, writes them; with\n"
		"--check FILE, reports each case's error under FILE's costs and\n"
		"ends with 'max error N%'.");
	g_option_context_set_description(ctx,
		"Exit status: 0 done (--check: every case with a TLB effect, 4K\n"
		"pages over 10% slower than huge ones, is within 15%); 1 --check\n"
		"found a larger error, or the core clock cannot be measured here;\n"
		"2 bad input.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!cli_parse(ctx, "calibrate", &argc, &argv)) {
		status = EXIT_USAGE;
		goto done;
	}
	if (argc > 1 || (!out && !check) || (out && check) || loads < 1000 ||
	    rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "simvirt calibrate: %s\n",
			argc > 1 ? "no arguments expected" :
			loads < 1000 ? "--loads: at least 1000" :
			rounds < 1 || rounds > MAX_ROUNDS ? "--rounds: 1 to 9" :
			"one of --out FILE or --check FILE");
		status = EXIT_USAGE;
		goto done;
	}
	if (!parse_sizes(sizes_text ? sizes_text : "64K,1M,8M,64M,256M,1G,4G", sizes) ||
	    (out && !cli_output_ok("calibrate", "--out", out)) ||
	    (check && !cli_input_ok("calibrate", "calibration", check))) {
		status = EXIT_USAGE;
		goto done;
	}
	cl.cache = cal_machine_cache(&from);
	sv_tlb_config_init(&cl.tlb);
	if (check && !load_file(check, &costs, &cl.tlb, &cl.cache, &hh, &file_ghz)) {
		status = EXIT_USAGE;
		goto done;
	}
	cl.loads = (uint64_t)loads;
	cl.ghz = cal_core_ghz();
	cl.tsc_ghz = cal_tsc_ghz();
	if (cl.ghz > 0 && file_ghz > 0) {
		/* the costs are cycles at the clock they were fitted at */
		printf("core clock %.3f GHz now, %.3f GHz in the file: the file's "
		       "turns cycles into ns\n", cl.ghz, file_ghz);
		cl.ghz = file_ghz;
	}
	if (cl.ghz <= 0) {
		fprintf(stderr, "simvirt calibrate: the core clock cannot be measured "
				"here (x86-64 only) to turn time into cycles\n");
		status = EXIT_FAILURE;
		goto done;
	}
	if (out)
		describe_machine(&cl, from, !no_probe);
	avail = cal_mem_available();
	hugetlb_free = cal_hugetlb_free();
	for (i = 0; i < sizes->len; i++) {
		uint64_t size = g_array_index(sizes, uint64_t, i);
		int huge;

		if (avail && size + (1ULL << 30) > avail) {
			fprintf(stderr, "simvirt calibrate: %" PRIu64 " MiB left out: "
					"%" PRIu64 " MiB of memory is free\n",
				size >> 20, avail >> 20);
			continue;
		}
		for (huge = 0; huge < 3; huge++) {
			cal_case k = {.huge = huge > 0, .hugetlb = huge == 2, .size = size};

			/* hugetlbfs where the machine has the pages reserved */
			if (k.hugetlb && (size % SV_PAGE_2M || size > hugetlb_free))
				continue;
			g_array_append_val(cl.cases, k);
		}
	}
	if (!measure(&cl, (unsigned)rounds)) {
		fprintf(stderr, "simvirt calibrate: cannot map a working set: %s\n",
			g_strerror(errno));
		status = EXIT_FAILURE;
		goto done;
	}
	for (h = 0; h < NH; h++) {
		if (check && h != hh)
			continue;
		for (i = 0; i < cl.cases->len; i++) {
			cal_case *k = &g_array_index(cl.cases, cal_case, i);
			int rc = SV_OK;

			if (k->hugetlb) {
				/* the model's guest 2M pages, as the THP case
				 * before it: the same run */
				memcpy(k->x[h], k[-1].x[h], sizeof(k->x[h]));
				k->fixed[h] = k[-1].fixed[h];
			} else {
				rc = simulate(&cl, k, h, &costs);
			}
			if (rc != SV_OK) {
				status = cli_fail("calibrate", rc);
				goto done;
			}
		}
		if (check)
			theta_of(&costs, theta[h]);
		else
			err[h] = fit_for(&cl, h, theta[h]);
	}
	if (out) {
		g_autofree char *text = NULL;

		for (hh = 0, h = 1; h < NH; h++)
			if (err[h] < err[hh])
				hh = h;
		text = cost_file(&cl, hh, theta[hh], err);
		if (!cli_write_file("calibrate", out, text, -1))
			status = EXIT_FAILURE;
		else
			fputs(text, stdout);
	} else {
		g_autoptr(GString) t = g_string_new(NULL);
		double all = cal_max_error(&cl, hh, theta[hh], false);
		double tlb = cal_max_error(&cl, hh, theta[hh], true);
		bool any = false;

		for (i = 0; i < cl.cases->len; i++)
			any |= tlb_effect(&cl, &g_array_index(cl.cases, cal_case, i));
		case_table(t, "", &cl, hh, theta[hh]);
		fputs(t->str, stdout);
		if (any)
			printf("max error %.0f%% (cases with a TLB effect; %.0f%% over all)\n",
			       100 * tlb, 100 * all);
		else
			printf("max error %.0f%% (no case shows a TLB effect here: 4K "
			       "pages are within 10%% of huge ones at every size)\n",
			       100 * all);
		status = tlb <= 0.15 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
done:
	g_array_free(cl.cases, TRUE);
	if (cl.probes)
		g_string_free(cl.probes, TRUE);
	return status;
}
