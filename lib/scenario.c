/*
 * lib/scenario.c - scenario files: loading and checking them, building the
 * host, VM and guest they describe, running them with their phase actions,
 * and recording or replaying the run (docs/scenarios.md, docs/trace.md).
 *
 * Loading turns the key file into a plan and checks all of it: every group
 * and key is known, every value parses whole and is in range, the
 * combinations are possible.  Nothing the user wrote is defaulted away.
 * Building and running use only the plan; the key file's text (after the
 * overrides) is what a trace stores, so a replay builds the same plan.
 */
#include <errno.h>
#include <stdlib.h>

#include "cpu/exec.h"
#include "ept/mmu.h"
#include "config.h"
#include "report.h"
#include "trace.h"

#define HVA_BASE 0x100000000000ULL /* where the memslots' host memory goes */

typedef enum sc_backing {
	B_ANON, B_THP, B_HUGETLB_2M, B_HUGETLB_1G, B_DAX_PMD, B_DAX_PUD,
	B_PFNMAP, B_READONLY, B__COUNT
} sc_backing;

static const char *const backing_names[B__COUNT] = {
	"anon", "thp", "hugetlb-2m", "hugetlb-1g", "dax-pmd", "dax-pud",
	"pfnmap", "readonly"};
static const char *const backing_descs[B__COUNT] = {
	"private anonymous memory (4K pages unless [host] thp=always)",
	"private anonymous memory with MADV_HUGEPAGE (2M THPs)",
	"hugetlbfs, 2M pages (the pool is sized for the slots)",
	"hugetlbfs, 1G pages (the pool is sized for the slots)",
	"DAX device memory mapped by PMDs (2M)",
	"DAX device memory mapped by PUDs (1G)",
	"a VM_PFNMAP | VM_IO range: pfns without struct pages",
	"anonymous memory the host maps read-only, in a READONLY memslot"};

const char *sv_scenario_backing(size_t i, const char **desc)
{
	if (i >= B__COUNT)
		return NULL;
	if (desc)
		*desc = backing_descs[i];
	return backing_names[i];
}

typedef struct sc_slot {
	char *name;
	uint64_t gpa, size, hva_offset;
	sc_backing backing;
	bool readonly;
} sc_slot;

#define VERB_LIST(X)                                                        \
	X(dirty_log_enable, "SLOT", "start dirty logging on a memslot")       \
	X(dirty_log_disable, "SLOT", "stop dirty logging on a memslot")       \
	X(dirty_log_get, "SLOT", "KVM_GET_DIRTY_LOG")                         \
	X(dirty_log_clear, "SLOT", "KVM_CLEAR_DIRTY_LOG of the last get's "   \
				   "bits (all pages if none)")                \
	X(munmap, "SLOT [OFF LEN]", "unmap the slot's host memory")           \
	X(mprotect, "SLOT none|r|rw [OFF LEN]", "change its host protection") \
	X(madvise, "SLOT ADVICE [OFF LEN]", "dontneed, free, hugepage, "      \
		   "nohugepage, collapse or pageout")                         \
	X(collapse, "SLOT [OFF LEN]", "MADV_COLLAPSE")                        \
	X(khugepaged, "", "one full khugepaged pass")                         \
	X(split_thp, "SLOT OFF", "split the THP at an offset")                \
	X(migrate, "SLOT [OFF LEN]", "migrate the pages to new frames")       \
	X(ksm, "SLOT [OFF LEN]", "KSM: merge identical pages")                \
	X(fork, "", "fork (private memory becomes copy-on-write)")            \
	X(fork_exit, "", "the forked child exits")                            \
	X(clear_refs, "", "clear_refs soft-dirty over the whole mm")          \
	X(age, "SLOT [OFF LEN]", "clear_flush_young over the range")          \
	X(age_noflush, "SLOT [OFF LEN]", "clear_young (no flush)")            \
	X(flush, "", "a remote TLB flush of every vCPU")                      \
	X(mode, "detailed|fast-forward", "switch the execution mode")

typedef enum sc_verb {
#define VERB_ENUM(name, args, what) V_##name,
	VERB_LIST(VERB_ENUM)
#undef VERB_ENUM
	V__COUNT
} sc_verb;

static const struct {
	const char *name, *args, *what;
} verbs[V__COUNT] = {
#define VERB_ROW(name, args, what) {#name, args, what},
	VERB_LIST(VERB_ROW)
#undef VERB_ROW
};

const char *sv_scenario_action(size_t i, const char **args, const char **desc)
{
	if (i >= V__COUNT)
		return NULL;
	if (args)
		*args = verbs[i].args;
	if (desc)
		*desc = verbs[i].what;
	return verbs[i].name;
}

typedef struct sc_action {
	sc_verb verb;
	int slot;          /* index into the plan's slots, or -1 */
	uint64_t off, len; /* len 0: to the end of the slot */
	unsigned arg;      /* mprotect: SV_PROT_*; madvise: sv_madvise;
			      mode: sv_exec_mode */
} sc_action;

typedef struct sc_phase {
	uint32_t n;        /* the sync point, or the group's number */
	uint64_t insn;     /* bound to this instruction count (0: sync n) */
	char *name;
	GArray *actions;   /* sc_action */
} sc_phase;

struct sv_scenario {
	char *file, *name, *text;
	sv_vm_options vm;
	sv_mmu_options mmu;
	char *policy;
	sv_host_options host;
	bool host_mem_set;    /* [host] mem given (else sized for the slots) */
	bool host_pools_set;  /* [host] hugetlb_*_pages given (else sized) */
	GArray *slots;     /* sc_slot, in the file's order (= slot ids) */
	sv_workload work;
	char *workload;
	int region;        /* slot index */
	uint64_t page_size;
	uint64_t limit;    /* [guest] instructions, 0 = none */
	sv_exec_options exec;
	GPtrArray *phases; /* sc_phase *, sync phases by n then by count */
};

/* ---- values ------------------------------------------------------------------ */

typedef struct sc_ctx {
	GKeyFile *kf;
	const char *file;
	const char *group;
} sc_ctx;

static int bad(const sc_ctx *c, const char *key, const char *expected,
	       const char *got)
{
	return sv__err(NULL, SV_ECONFIG, "%s: [%s] %s: expected %s, got '%s'",
		       c->file, c->group, key, expected, got);
}

/* The value of key, or NULL if the group does not set it. */
static char *value_of(const sc_ctx *c, const char *key)
{
	char *v = g_key_file_get_value(c->kf, c->group, key, NULL);

	if (v)
		g_strstrip(v);
	return v;
}

/* A number: decimal, or hex with 0x; with size suffixes K, M, G, T. */
static bool parse_num(const char *s, bool suffix, uint64_t *out)
{
	char *end;
	uint64_t v, mul = 1;

	if (!s || !g_ascii_isdigit(*s))
		return false;
	errno = 0;
	v = g_ascii_strtoull(s, &end, 0);
	if (errno)
		return false;
	if (suffix && *end) {
		const char *units = "KMGT";
		const char *u = strchr(units, g_ascii_toupper(*end));

		if (!u || end[1])
			return false;
		mul = 1ULL << (10 * (u - units + 1));
		end++;
		if (v > UINT64_MAX / mul)
			return false;
	}
	if (*end)
		return false;
	*out = v * mul;
	return true;
}

static int get_num(const sc_ctx *c, const char *key, bool suffix,
		   uint64_t min, uint64_t max, uint64_t *out)
{
	g_autofree char *v = value_of(c, key);
	uint64_t n;

	if (!v)
		return SV_OK;
	if (!parse_num(v, suffix, &n) || n < min || n > max) {
		g_autofree char *what =
			g_strdup_printf("%s from %" PRIu64 " to %" PRIu64,
					suffix ? "a size (K/M/G suffixes allowed)"
					       : "a whole number",
					min, max);
		return bad(c, key, what, v);
	}
	*out = n;
	return SV_OK;
}

static int get_u32(const sc_ctx *c, const char *key, uint64_t min,
		   uint64_t max, unsigned *out)
{
	uint64_t v = *out;
	int rc = get_num(c, key, false, min, max, &v);

	*out = (unsigned)v;
	return rc;
}

static int get_bool(const sc_ctx *c, const char *key, bool *out)
{
	g_autofree char *v = value_of(c, key);

	if (!v)
		return SV_OK;
	if (strcmp(v, "true") && strcmp(v, "false"))
		return bad(c, key, "true or false", v);
	*out = v[0] == 't';
	return SV_OK;
}

/* One of names[0..n); *out keeps its value when the key is absent. */
static int get_enum(const sc_ctx *c, const char *key, const char *const *names,
		    unsigned n, int *out)
{
	g_autofree char *v = value_of(c, key);
	g_autoptr(GString) list = g_string_new("");
	unsigned i;

	if (!v)
		return SV_OK;
	for (i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return SV_OK;
		}
		g_string_append_printf(list, "%s%s", i ? (i + 1 < n ? ", " : " or ") : "",
				       names[i]);
	}
	return bad(c, key, list->str, v);
}

/* Every key of the group must be in keys (NULL-terminated). */
static int check_keys(const sc_ctx *c, const char *const *keys)
{
	g_auto(GStrv) have = g_key_file_get_keys(c->kf, c->group, NULL, NULL);
	g_autoptr(GString) list = g_string_new("");
	unsigned i, k;

	for (i = 0; have && have[i]; i++) {
		for (k = 0; keys[k] && strcmp(keys[k], have[i]); k++)
			;
		if (keys[k])
			continue;
		for (k = 0; keys[k]; k++)
			g_string_append_printf(list, "%s%s", k ? ", " : "", keys[k]);
		return sv__err(NULL, SV_ECONFIG, "%s: [%s] %s: unknown key "
						 "(expected one of %s)",
			       c->file, c->group, have[i], list->str);
	}
	return SV_OK;
}

/* ---- the groups ------------------------------------------------------------------ */

static int load_vm(sv_scenario *s, sc_ctx *c)
{
	static const char *const keys[] = {
		"vcpus", "tdp", "tdp_levels", "guest_levels", "tdp_ad", "tdp_1g",
		"guest_1g", "maxphyaddr", "policy", "kernel_version",
		"eager_page_split", "pml", "nx_huge_pages", "manual_protect",
		"initially_set", "split_on_fault", "recover_in_place", "bugs",
		"audit", "tdp_mmu", "seed", NULL};
	static const char *const tdp[] = {"ept", "npt"};
	static const char *const tri[] = {"auto", "false", "true"};
	g_autofree char *kv = NULL, *bugs = NULL;
	int t = (int)s->vm.tdp, sof = s->mmu.split_on_fault + 1,
	    rip = s->mmu.recover_in_place + 1, rc;

	c->group = "vm";
	rc = check_keys(c, keys);
	if (!rc) rc = get_u32(c, "vcpus", 1, SV_MAX_VCPUS, &s->vm.vcpus);
	if (!rc) rc = get_enum(c, "tdp", tdp, 2, &t);
	if (!rc) rc = get_u32(c, "tdp_levels", 4, 5, &s->vm.tdp_levels);
	if (!rc) rc = get_u32(c, "guest_levels", 4, 5, &s->vm.guest_levels);
	if (!rc) rc = get_bool(c, "tdp_ad", &s->vm.tdp_ad);
	if (!rc) rc = get_bool(c, "tdp_1g", &s->vm.tdp_1g);
	if (!rc) rc = get_bool(c, "guest_1g", &s->vm.guest_1g);
	if (!rc) rc = get_u32(c, "maxphyaddr", 36, 52, &s->vm.maxphyaddr);
	if (!rc) rc = get_num(c, "seed", false, 0, UINT64_MAX, &s->vm.seed);
	if (!rc) rc = get_bool(c, "eager_page_split", &s->mmu.eager_page_split);
	if (!rc) rc = get_bool(c, "pml", &s->mmu.pml);
	if (!rc) rc = get_bool(c, "nx_huge_pages", &s->mmu.nx_huge_pages);
	if (!rc) rc = get_bool(c, "manual_protect", &s->mmu.manual_protect);
	if (!rc) rc = get_bool(c, "initially_set", &s->mmu.initially_set);
	if (!rc) rc = get_bool(c, "audit", &s->mmu.audit);
	if (!rc) rc = get_bool(c, "tdp_mmu", &s->mmu.tdp_mmu);
	if (!rc) rc = get_enum(c, "split_on_fault", tri, 3, &sof);
	if (!rc) rc = get_enum(c, "recover_in_place", tri, 3, &rip);
	if (rc)
		return rc;
	s->vm.tdp = (sv_tdp_kind)t;
	if (s->vm.tdp == SV_TDP_NPT)
		s->vm.tdp_ad = false; /* NPT has no EPT A/D bit */
	s->mmu.split_on_fault = sof - 1;
	s->mmu.recover_in_place = rip - 1;
	kv = value_of(c, "kernel_version");
	if (kv) {
		unsigned major, minor;
		char tail;

		if (sscanf(kv, "%u.%u%c", &major, &minor, &tail) != 2 ||
		    major < 5 || major > 7 || minor > 99)
			return bad(c, "kernel_version", "a version 5.0 to 7.99 "
							"such as 6.12", kv);
		s->mmu.kernel_version = SV_KERNEL(major, minor);
	}
	g_free(s->policy);
	s->policy = value_of(c, "policy");
	if (!s->policy)
		s->policy = g_strdup("kvm");
	if (!sv_mmu_policy_find(s->policy))
		return bad(c, "policy", "kvm, kvm-legacy or a registered policy",
			   s->policy);
	bugs = value_of(c, "bugs");
	if (bugs && *bugs) {
		static const struct { const char *name; unsigned bit; } b[] = {
			{"B1", SV_BUG_B1_NO_MAX_LEVEL_CLAMP},
			{"B2", SV_BUG_B2_ANY_COMPOUND},
			{"B4", SV_BUG_B4_READONLY_4K},
			{"B5", SV_BUG_B5_COLLAPSE_THP_ONLY},
			{"B6", SV_BUG_B6_DAX_4K},
			{"base_flush", SV_BUG_BASE_FLUSH}};
		g_auto(GStrv) list = g_strsplit(bugs, ",", -1);
		unsigned i, k;

		for (i = 0; list[i]; i++) {
			g_strstrip(list[i]);
			for (k = 0; k < G_N_ELEMENTS(b) && strcmp(b[k].name, list[i]); k++)
				;
			if (k == G_N_ELEMENTS(b))
				return bad(c, "bugs",
					   "a comma-separated list of B1, B2, B4, "
					   "B5, B6, base_flush (B3 needs a vCPU in "
					   "SMM: the C API's sv_vcpu_set_smm)",
					   bugs);
			s->mmu.bugs |= b[k].bit;
		}
	}
	if (s->mmu.pml && s->vm.tdp == SV_TDP_NPT)
		return sv__err(NULL, SV_ECONFIG, "%s: [vm] pml: PML is Intel's "
						 "(expected false with tdp=npt)",
			       c->file);
	return SV_OK;
}

static int load_host(sv_scenario *s, sc_ctx *c)
{
	static const char *const keys[] = {"mem", "thp", "thp_zero_page",
					   "frag_percent", "hugetlb_2m_pages",
					   "hugetlb_1g_pages", "max_ptes_none",
					   NULL};
	static const char *const thp[] = {"never", "madvise", "always"};
	int t = (int)s->host.thp, rc;

	c->group = "host";
	if (!g_key_file_has_group(c->kf, "host"))
		return SV_OK;
	rc = check_keys(c, keys);
	s->host_mem_set = g_key_file_has_key(c->kf, "host", "mem", NULL);
	s->host_pools_set = g_key_file_has_key(c->kf, "host", "hugetlb_2m_pages", NULL) ||
			    g_key_file_has_key(c->kf, "host", "hugetlb_1g_pages", NULL);
	if (!rc) rc = get_num(c, "mem", true, 1ULL << 30, 1ULL << 46, &s->host.mem_size);
	if (!rc && s->host.mem_size & ((1ULL << 30) - 1)) {
		g_autofree char *v = value_of(c, "mem");

		rc = bad(c, "mem", "a multiple of 1G", v);
	}
	if (!rc) rc = get_enum(c, "thp", thp, 3, &t);
	if (!rc) rc = get_bool(c, "thp_zero_page", &s->host.thp_zero_page);
	if (!rc) rc = get_u32(c, "frag_percent", 0, 100, &s->host.frag_percent);
	if (!rc) rc = get_u32(c, "hugetlb_2m_pages", 0, 1U << 24, &s->host.hugetlb_2m_pages);
	if (!rc) rc = get_u32(c, "hugetlb_1g_pages", 0, 1U << 16, &s->host.hugetlb_1g_pages);
	if (!rc) rc = get_u32(c, "max_ptes_none", 0, 511, &s->host.max_ptes_none);
	s->host.thp = (sv_thp_mode)t;
	return rc;
}

static int load_slot(sv_scenario *s, sc_ctx *c, const char *name)
{
	static const char *const keys[] = {"gpa", "size", "backing",
					   "hva_offset", "readonly", NULL};
	sc_slot sl = {.backing = B_ANON};
	int b = B_ANON, rc;
	guint i;

	if (!*name || strchr(name, ' '))
		return sv__err(NULL, SV_ECONFIG, "%s: [%s]: expected a memslot "
						 "name without spaces",
			       c->file, c->group);
	rc = check_keys(c, keys);
	if (!rc && !g_key_file_has_key(c->kf, c->group, "size", NULL))
		rc = sv__err(NULL, SV_ECONFIG, "%s: [%s] size: missing (a "
					       "memslot needs a size)",
			     c->file, c->group);
	if (!rc && !g_key_file_has_key(c->kf, c->group, "gpa", NULL))
		rc = sv__err(NULL, SV_ECONFIG, "%s: [%s] gpa: missing (a "
					       "memslot needs a guest-physical "
					       "address)", c->file, c->group);
	if (!rc) rc = get_num(c, "gpa", true, 0, 1ULL << 52, &sl.gpa);
	if (!rc) rc = get_num(c, "size", true, 4096, 1ULL << 44, &sl.size);
	if (!rc) rc = get_num(c, "hva_offset", true, 0, 1ULL << 30, &sl.hva_offset);
	if (!rc) rc = get_enum(c, "backing", backing_names, B__COUNT, &b);
	if (!rc) rc = get_bool(c, "readonly", &sl.readonly);
	if (rc)
		return rc;
	sl.backing = (sc_backing)b;
	if ((sl.gpa | sl.size | sl.hva_offset) & 0xfff)
		return sv__err(NULL, SV_ECONFIG, "%s: [%s]: gpa, size and "
						 "hva_offset must be multiples of 4K",
			       c->file, c->group);
	for (i = 0; i < s->slots->len; i++) {
		const sc_slot *o = &g_array_index(s->slots, sc_slot, i);

		if (sl.gpa < o->gpa + o->size && o->gpa < sl.gpa + sl.size)
			return sv__err(NULL, SV_ECONFIG, "%s: [%s]: its GPA range "
							 "overlaps [memslot.%s]",
				       c->file, c->group, o->name);
	}
	sl.name = g_strdup(name);
	g_array_append_val(s->slots, sl);
	return SV_OK;
}

static int find_slot(const sv_scenario *s, const char *name)
{
	guint i;

	for (i = 0; i < s->slots->len; i++)
		if (!strcmp(g_array_index(s->slots, sc_slot, i).name, name))
			return (int)i;
	return -1;
}

static int load_guest(sv_scenario *s, sc_ctx *c)
{
	static const char *const keys[] = {
		"workload", "region", "page_size", "gva", "size", "stride",
		"passes", "write", "seed", "count", "instructions", "mode",
		"detail_at_sync", "slice", NULL};
	static const char *const modes[] = {"detailed", "fast-forward"};
	g_autofree char *region = NULL;
	int mode = (int)s->exec.mode, rc;
	const sc_slot *sl;
	size_t i;

	c->group = "guest";
	rc = check_keys(c, keys);
	if (rc)
		return rc;
	g_free(s->workload);
	s->workload = value_of(c, "workload");
	if (!s->workload)
		s->workload = g_strdup("touch");
	for (i = 0; sv_workload_name(i) && strcmp(sv_workload_name(i), s->workload); i++)
		;
	if (!sv_workload_name(i))
		return bad(c, "workload", "touch, stream, random, chase, kpt, remap "
					  "or faults", s->workload);
	region = value_of(c, "region");
	if (!region && s->slots->len)
		region = g_strdup(g_array_index(s->slots, sc_slot, 0).name);
	if (!region)
		return sv__err(NULL, SV_ECONFIG, "%s: [guest] region: there is no "
						 "[memslot.NAME] group to run over",
			       c->file);
	s->region = find_slot(s, region);
	if (s->region < 0)
		return bad(c, "region", "the name of a [memslot.NAME] group", region);
	sl = &g_array_index(s->slots, sc_slot, s->region);
	s->work.gva = sl->gpa;
	s->work.size = sl->size;
	rc = get_num(c, "page_size", true, 4096, 1ULL << 30, &s->page_size);
	if (!rc && s->page_size != SV_PAGE_4K && s->page_size != SV_PAGE_2M &&
	    s->page_size != SV_PAGE_1G) {
		g_autofree char *v = value_of(c, "page_size");

		rc = bad(c, "page_size", "4K, 2M or 1G", v);
	}
	if (!rc && s->page_size == SV_PAGE_1G && !s->vm.guest_1g)
		rc = sv__err(NULL, SV_ECONFIG, "%s: [guest] page_size: 1G guest "
					       "pages need [vm] guest_1g=true", c->file);
	if (!rc) rc = get_num(c, "gva", true, 0, (1ULL << 47) - 1, &s->work.gva);
	if (!rc) rc = get_num(c, "size", true, 4096, sl->size, &s->work.size);
	if (!rc) rc = get_num(c, "stride", true, 8, 1ULL << 30, &s->work.stride);
	if (!rc) rc = get_u32(c, "passes", 1, 1000000, &s->work.passes);
	if (!rc) rc = get_bool(c, "write", &s->work.write);
	if (!rc) rc = get_num(c, "seed", false, 0, UINT64_MAX, &s->work.seed);
	if (!rc) rc = get_num(c, "count", false, 0, 1ULL << 40, &s->work.count);
	if (!rc) rc = get_num(c, "instructions", false, 0, 1ULL << 50, &s->limit);
	if (!rc) rc = get_enum(c, "mode", modes, 2, &mode);
	if (!rc) rc = get_u32(c, "detail_at_sync", 0, UINT32_MAX, &s->exec.detail_at_sync);
	if (!rc) rc = get_num(c, "slice", false, 1000, 1ULL << 32, &s->exec.slice);
	if (rc)
		return rc;
	s->exec.mode = (sv_exec_mode)mode;
	if ((s->work.gva | s->work.size) & (s->page_size - 1))
		return sv__err(NULL, SV_ECONFIG, "%s: [guest]: gva 0x%" PRIx64
						 " and size 0x%" PRIx64 " must be "
						 "multiples of page_size",
			       c->file, s->work.gva, s->work.size);
	return SV_OK;
}

/* Parses "verb args" of one action. */
static int parse_action(sv_scenario *s, sc_ctx *c, const char *text,
			sc_action *a)
{
	g_auto(GStrv) tok = g_strsplit_set(text, " \t", -1);
	const char *w[6];
	unsigned n = 0, i, want_slot, extra = 0;
	int v;

	for (i = 0; tok[i]; i++)
		if (*tok[i] && n < G_N_ELEMENTS(w))
			w[n++] = tok[i];
		else if (*tok[i])
			n++;
	if (n == 0)
		return bad(c, "actions", "a verb (simvirt list shows them)", text);
	for (v = 0; v < V__COUNT && strcmp(verbs[v].name, w[0]); v++)
		;
	if (v == V__COUNT)
		return bad(c, "actions", "a verb (dirty_log_enable, munmap, "
					 "madvise, khugepaged, ...; simvirt list "
					 "shows them all)", w[0]);
	memset(a, 0, sizeof(*a));
	a->verb = (sc_verb)v;
	a->slot = -1;
	want_slot = verbs[v].args[0] == 'S';
	if (a->verb == V_mprotect || a->verb == V_madvise || a->verb == V_split_thp)
		extra = 1;
	if (a->verb == V_mode) {
		if (n != 2 || (strcmp(w[1], "detailed") && strcmp(w[1], "fast-forward")))
			return bad(c, "actions", "mode detailed|fast-forward", text);
		a->arg = w[1][0] == 'f' ? SV_EXEC_FAST_FORWARD : SV_EXEC_DETAILED;
		return SV_OK;
	}
	if (n != 1 + want_slot + extra &&
	    !(strstr(verbs[v].args, "[OFF LEN]") && n == 3 + want_slot + extra)) {
		g_autofree char *what = g_strdup_printf("%s %s", verbs[v].name,
							verbs[v].args);
		return bad(c, "actions", what, text);
	}
	if (want_slot) {
		a->slot = find_slot(s, w[1]);
		if (a->slot < 0)
			return bad(c, "actions", "the name of a [memslot.NAME] group",
				   w[1]);
	}
	if (a->verb == V_mprotect) {
		static const char *const p[] = {"none", "r", "rw"};
		static const unsigned bits[] = {0, SV_PROT_READ,
						SV_PROT_READ | SV_PROT_WRITE};

		for (i = 0; i < 3 && strcmp(p[i], w[2]); i++)
			;
		if (i == 3)
			return bad(c, "actions", "mprotect SLOT none|r|rw", text);
		a->arg = bits[i];
	} else if (a->verb == V_madvise) {
		static const char *const adv[] = {"dontneed", "free", "hugepage",
						  "nohugepage", "collapse", "pageout"};
		static const sv_madvise m[] = {SV_MADV_DONTNEED, SV_MADV_FREE,
					       SV_MADV_HUGEPAGE, SV_MADV_NOHUGEPAGE,
					       SV_MADV_COLLAPSE, SV_MADV_PAGEOUT};

		for (i = 0; i < 6 && strcmp(adv[i], w[2]); i++)
			;
		if (i == 6)
			return bad(c, "actions", "madvise SLOT dontneed|free|hugepage|"
						 "nohugepage|collapse|pageout", text);
		a->arg = m[i];
	} else if (a->verb == V_split_thp && !parse_num(w[2], true, &a->off)) {
		return bad(c, "actions", "split_thp SLOT OFFSET", text);
	}
	if (n == 1 + want_slot + extra + 2) {
		const sc_slot *sl = &g_array_index(s->slots, sc_slot, a->slot);

		if (!parse_num(w[n - 2], true, &a->off) ||
		    !parse_num(w[n - 1], true, &a->len) || !a->len ||
		    (a->off | a->len) & 0xfff || a->off > sl->size ||
		    a->len > sl->size - a->off)
			return bad(c, "actions", "OFF LEN: 4K multiples inside the "
						 "memslot", text);
	}
	if (a->slot >= 0 && a->off >= g_array_index(s->slots, sc_slot, a->slot).size)
		return bad(c, "actions", "an offset inside the memslot", text);
	return SV_OK;
}

static gint phase_cmp(gconstpointer pa, gconstpointer pb)
{
	const sc_phase *a = *(sc_phase *const *)pa, *b = *(sc_phase *const *)pb;

	if ((a->insn != 0) != (b->insn != 0))
		return a->insn ? 1 : -1;
	if (a->insn != b->insn)
		return a->insn < b->insn ? -1 : 1;
	return a->n < b->n ? -1 : a->n > b->n;
}

static void phase_free(gpointer p)
{
	sc_phase *ph = p;

	g_free(ph->name);
	g_array_free(ph->actions, TRUE);
	g_free(ph);
}

static int load_phase(sv_scenario *s, sc_ctx *c, const char *num)
{
	static const char *const keys[] = {"actions", "name", "instructions", NULL};
	g_autofree char *acts = NULL;
	sc_phase *ph;
	uint64_t n;
	guint i;
	int rc;

	if (!parse_num(num, false, &n) || n == 0 || n > UINT32_MAX)
		return sv__err(NULL, SV_ECONFIG, "%s: [%s]: expected [phase.N] with "
						 "N a sync point from 1, got '%s'",
			       c->file, c->group, num);
	rc = check_keys(c, keys);
	if (rc)
		return rc;
	ph = g_new0(sc_phase, 1);
	ph->n = (uint32_t)n;
	ph->name = value_of(c, "name");
	ph->actions = g_array_new(FALSE, FALSE, sizeof(sc_action));
	g_ptr_array_add(s->phases, ph);
	rc = get_num(c, "instructions", false, 1, 1ULL << 50, &ph->insn);
	if (rc)
		return rc;
	acts = value_of(c, "actions");
	if (acts) {
		g_auto(GStrv) list = g_strsplit(acts, ";", -1);

		for (i = 0; list[i]; i++) {
			sc_action a;

			g_strstrip(list[i]);
			if (!*list[i])
				continue;
			rc = parse_action(s, c, list[i], &a);
			if (rc)
				return rc;
			g_array_append_val(ph->actions, a);
		}
	}
	for (i = 0; i + 1 < s->phases->len; i++) {
		const sc_phase *o = g_ptr_array_index(s->phases, i);

		if (o->insn == ph->insn && (ph->insn || o->n == ph->n))
			return sv__err(NULL, SV_ECONFIG, "%s: [%s]: another phase "
							 "is bound to the same point",
				       c->file, c->group);
	}
	return SV_OK;
}

/* ---- loading ------------------------------------------------------------------------ */

void sv_scenario_free(sv_scenario *s)
{
	guint i;

	if (!s)
		return;
	for (i = 0; s->slots && i < s->slots->len; i++)
		g_free(g_array_index(s->slots, sc_slot, i).name);
	if (s->slots)
		g_array_free(s->slots, TRUE);
	if (s->phases)
		g_ptr_array_free(s->phases, TRUE);
	g_free(s->file);
	g_free(s->name);
	g_free(s->text);
	g_free(s->policy);
	g_free(s->workload);
	g_free(s);
}

/* "group.key=value", the group being everything before the last dot. */
static int apply_set(GKeyFile *kf, const char *file, const char *set)
{
	const char *eq = strchr(set, '='), *dot;
	g_autofree char *lhs = NULL;

	if (!eq)
		goto bad;
	lhs = g_strndup(set, (gsize)(eq - set));
	dot = strrchr(lhs, '.');
	if (!dot || dot == lhs || !dot[1])
		goto bad;
	lhs[dot - lhs] = '\0';
	g_key_file_set_value(kf, lhs, dot + 1, eq + 1);
	return SV_OK;
bad:
	return sv__err(NULL, SV_ECONFIG, "%s: --set '%s': expected GROUP.KEY=VALUE",
		       file, set);
}

static int load_kf(sv_scenario *s, GKeyFile *kf, const char *const *sets)
{
	static const char *const top[] = {"scenario", "vm", "host", "guest",
					  "tlb", "cost", NULL};
	sc_ctx c = {.kf = kf, .file = s->file};
	g_auto(GStrv) groups = NULL;
	unsigned i, k;
	int rc;

	for (i = 0; sets && sets[i]; i++) {
		rc = apply_set(kf, s->file, sets[i]);
		if (rc)
			return rc;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (i = 0; groups[i]; i++) {
		for (k = 0; top[k] && strcmp(top[k], groups[i]); k++)
			;
		if (top[k] || g_str_has_prefix(groups[i], "memslot.") ||
		    g_str_has_prefix(groups[i], "phase."))
			continue;
		return sv__err(NULL, SV_ECONFIG, "%s: [%s]: unknown group (expected "
						 "scenario, vm, host, memslot.NAME, "
						 "guest, tlb, cost or phase.N)",
			       s->file, groups[i]);
	}
	if (g_key_file_has_group(kf, "scenario")) {
		static const char *const keys[] = {"name", "description", NULL};
		g_autofree char *name = NULL;

		c.group = "scenario";
		rc = check_keys(&c, keys);
		if (rc)
			return rc;
		name = value_of(&c, "name");
		if (name) {
			g_free(s->name);
			s->name = g_steal_pointer(&name);
		}
	}
	rc = load_vm(s, &c);
	if (!rc) rc = load_host(s, &c);
	for (i = 0; !rc && groups[i]; i++)
		if (g_str_has_prefix(groups[i], "memslot.")) {
			c.group = groups[i];
			rc = load_slot(s, &c, groups[i] + 8);
		}
	if (!rc) rc = load_guest(s, &c);
	if (!rc) rc = sv__config_load_keyfile(&s->vm.tlb, &s->vm.costs, kf, s->file);
	for (i = 0; !rc && groups[i]; i++)
		if (g_str_has_prefix(groups[i], "phase.")) {
			c.group = groups[i];
			rc = load_phase(s, &c, groups[i] + 6);
		}
	if (rc)
		return rc;
	g_ptr_array_sort(s->phases, phase_cmp);
	/* The name goes into the text, so a replay reports the same one. */
	g_key_file_set_value(kf, "scenario", "name", s->name);
	s->text = g_key_file_to_data(kf, NULL, NULL);
	return SV_OK;
}

static sv_scenario *scenario_new(const char *file)
{
	sv_scenario *s = g_new0(sv_scenario, 1);
	sv_vm_options vo = SV_VM_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_workload w = SV_WORKLOAD_INIT;
	sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
	g_autofree char *base = g_path_get_basename(file);

	s->file = g_strdup(file);
	if (g_str_has_suffix(base, ".ini"))
		base[strlen(base) - 4] = '\0';
	s->name = g_strdup(base);
	s->vm = vo;
	s->mmu = mo;
	s->host = ho;
	s->work = w;
	s->exec = eo;
	s->page_size = SV_PAGE_4K;
	s->slots = g_array_new(FALSE, TRUE, sizeof(sc_slot));
	s->phases = g_ptr_array_new_with_free_func(phase_free);
	return s;
}

int sv_scenario_load_data(sv_scenario **out, const char *data, size_t len,
			  const char *name, const char *const *sets)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) gerr = NULL;
	sv_scenario *s;
	int rc;

	if (!out || !data)
		return sv__err(NULL, SV_EINVAL, "sv_scenario_load_data: NULL argument");
	*out = NULL;
	if (!name)
		name = "(scenario)";
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr))
		return sv__err(NULL, SV_ECONFIG, "%s: %s", name, gerr->message);
	s = scenario_new(name);
	rc = load_kf(s, kf, sets);
	if (rc) {
		sv_scenario_free(s);
		return rc;
	}
	*out = s;
	return SV_OK;
}

int sv_scenario_load(sv_scenario **out, const char *path,
		     const char *const *sets)
{
	g_autofree char *data = NULL;
	g_autoptr(GError) gerr = NULL;
	gsize len;

	if (!out || !path)
		return sv__err(NULL, SV_EINVAL, "sv_scenario_load: NULL argument");
	*out = NULL;
	if (!g_file_get_contents(path, &data, &len, &gerr))
		return sv__err(NULL, SV_EIO, "%s", gerr->message);
	return sv_scenario_load_data(out, data, len, path, sets);
}

const char *sv_scenario_name(const sv_scenario *s)
{
	return s ? s->name : NULL;
}

const char *sv_scenario_text(const sv_scenario *s)
{
	return s ? s->text : NULL;
}

const char *sv_scenario_default(void)
{
	return "# The default scenario: a guest writes 1 GiB of THP-backed memory\n"
	       "# three times: it populates it, writes it again with dirty\n"
	       "# logging on, and touches it again once logging is off.\n"
	       "[scenario]\n"
	       "name=default\n"
	       "[vm]\n"
	       "vcpus=1\n"
	       "tdp=ept\n"
	       "tdp_levels=4\n"
	       "policy=kvm\n"
	       "kernel_version=6.12\n"
	       "eager_page_split=true\n"
	       "[memslot.data]\n"
	       "gpa=0x40000000\n"
	       "size=1G\n"
	       "backing=thp\n"
	       "[guest]\n"
	       "workload=touch\n"
	       "region=data\n"
	       "page_size=2M\n"
	       "stride=4K\n"
	       "passes=3\n"
	       "write=true\n"
	       "[phase.1]\n"
	       "name=populate\n"
	       "[phase.2]\n"
	       "name=dirty-log\n"
	       "actions=dirty_log_enable data\n"
	       "[phase.3]\n"
	       "name=re-touch\n"
	       "actions=dirty_log_get data; dirty_log_disable data\n"
	       "[phase.4]\n"
	       "name=done\n";
}

/* ---- building and running ----------------------------------------------------------- */

typedef struct sc_run {
	const sv_scenario *s;
	const sv_run_options *o;
	sv_host *h;
	sv_vm *vm;
	sv_exec *ex;
	uint64_t *hva;        /* each slot's host address */
	uint32_t *flags;      /* each slot's memslot flags now */
	uint64_t **bitmap;    /* each slot's last dirty_log_get, or NULL */
	sv_report *rep;
	sv_trace_writer *w;
	int err;              /* an action failed: the run stops */
	bool stopped;         /* the caller's on_phase asked to stop */
} sc_run;

/* A set-up call failed: say which group it came from. */
static int setup_err(const sv_scenario *s, const char *group, int rc)
{
	g_autofree char *d = g_strdup(sv_error_detail());

	return sv__err(NULL, rc == SV_ENOMEM || rc == SV_EIO ? rc : SV_ECONFIG,
		       "%s: [%s]: %s", s->file, group, d);
}

static uint64_t slot_pages(const sc_slot *sl)
{
	return sl->size >> 12;
}

static int build_slot(sc_run *r, guint i, uint64_t *next)
{
	const sc_slot *sl = &g_array_index(r->s->slots, sc_slot, i);
	g_autofree char *group = g_strdup_printf("memslot.%s", sl->name);
	sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 0, sl->size,
			       SV_PROT_READ | SV_PROT_WRITE, SV_MAP_FIXED,
			       SV_BACKING_ANON, 0};
	sv_memslot_region m = {SV_MEMSLOT_REGION_VERSION, i, 0, sl->gpa,
			       sl->size, 0};
	int rc;

	switch (sl->backing) {
	case B_HUGETLB_2M: a.backing = SV_BACKING_HUGETLB_2M; break;
	case B_HUGETLB_1G: a.backing = SV_BACKING_HUGETLB_1G; break;
	case B_DAX_PMD: a.backing = SV_BACKING_DAX; a.align = SV_PAGE_2M; break;
	case B_DAX_PUD: a.backing = SV_BACKING_DAX; a.align = SV_PAGE_1G; break;
	case B_PFNMAP:
		a.backing = SV_BACKING_PFNMAP;
		a.flags |= SV_MAP_NO_STRUCT_PAGE;
		break;
	case B_READONLY: a.prot = SV_PROT_READ; break;
	default: break;
	}
	/* Naturally aligned (1G), plus the deliberate misalignment. */
	a.hva = ((*next + SV_PAGE_1G - 1) & ~(SV_PAGE_1G - 1)) + sl->hva_offset;
	rc = sv_host_mmap(&r->hva[i], r->h, &a);
	if (rc == SV_OK && sl->backing == B_THP)
		rc = sv_host_madvise(r->h, r->hva[i], sl->size, SV_MADV_HUGEPAGE);
	if (rc != SV_OK)
		return setup_err(r->s, group, rc);
	*next = a.hva + sl->size;
	if (sl->readonly || sl->backing == B_READONLY)
		m.flags = SV_MEMSLOT_READONLY;
	m.hva = r->hva[i];
	r->flags[i] = m.flags;
	rc = sv_memslot_set(r->vm, &m);
	return rc == SV_OK ? SV_OK : setup_err(r->s, group, rc);
}

/* Host memory, hugetlbfs pools and RAM sized for the slots unless the
 * scenario says otherwise. */
static sv_host_options host_options(const sv_scenario *s)
{
	sv_host_options ho = s->host;
	uint64_t need = 2 * SV_PAGE_1G;
	unsigned p2 = 0, p1 = 0;
	guint i;

	for (i = 0; i < s->slots->len; i++) {
		const sc_slot *sl = &g_array_index(s->slots, sc_slot, i);

		need += (sl->size + SV_PAGE_1G - 1) & ~(SV_PAGE_1G - 1);
		if (sl->backing == B_HUGETLB_2M)
			p2 += (unsigned)((sl->size + SV_PAGE_2M - 1) / SV_PAGE_2M);
		if (sl->backing == B_HUGETLB_1G)
			p1 += (unsigned)((sl->size + SV_PAGE_1G - 1) / SV_PAGE_1G);
	}
	ho.levels = s->vm.tdp_levels;
	ho.seed = s->vm.seed;
	if (!s->host_mem_set)
		ho.mem_size = MAX(ho.mem_size, need);
	if (!s->host_pools_set) {
		ho.hugetlb_2m_pages = p2;
		ho.hugetlb_1g_pages = p1;
	}
	return ho;
}

static int build(sc_run *r, bool engines)
{
	const sv_scenario *s = r->s;
	sv_host_options ho = host_options(s);
	sv_mmu_options mo = s->mmu;
	sv_workload w = s->work;
	const sc_slot *reg;
	uint64_t next = HVA_BASE;
	guint i;
	int rc;

	r->hva = g_new0(uint64_t, s->slots->len);
	r->flags = g_new0(uint32_t, s->slots->len);
	r->bitmap = g_new0(uint64_t *, s->slots->len);
	rc = sv_host_new(&r->h, &ho);
	if (rc)
		return setup_err(s, "host", rc);
	rc = sv_vm_new(&r->vm, &s->vm);
	if (rc)
		return setup_err(s, "vm", rc);
	mo.policy = s->policy;
	rc = sv_mmu_attach(r->vm, r->h, &mo);
	if (rc)
		return setup_err(s, "vm", rc);
	for (i = 0; i < s->slots->len; i++) {
		rc = build_slot(r, i, &next);
		if (rc)
			return rc;
	}
	rc = sv__exec_create(&r->ex, r->vm, &s->exec, engines);
	if (rc)
		return setup_err(s, "guest", rc);
	reg = &g_array_index(s->slots, sc_slot, s->region);
	rc = sv_exec_map(r->ex, w.gva, reg->gpa, w.size, s->page_size,
			 SV_EXEC_MAP_WRITE);
	w.name = s->workload;
	if (rc == SV_OK)
		rc = sv_exec_load_workload(r->ex, &w);
	return rc == SV_OK ? SV_OK : setup_err(s, "guest", rc);
}

static void run_free(sc_run *r)
{
	guint i;

	sv_exec_free(r->ex);
	sv_vm_free(r->vm);
	sv_host_free(r->h);
	for (i = 0; r->bitmap && i < r->s->slots->len; i++)
		g_free(r->bitmap[i]);
	g_free(r->bitmap);
	g_free(r->hva);
	g_free(r->flags);
}

static int dirty_log(sc_run *r, const sc_action *a)
{
	const sc_slot *sl = &g_array_index(r->s->slots, sc_slot, a->slot);
	uint64_t words = (slot_pages(sl) + 63) / 64;
	sv_memslot_region m = {SV_MEMSLOT_REGION_VERSION, (uint32_t)a->slot, 0,
			       sl->gpa, sl->size, r->hva[a->slot]};
	uint64_t *all;
	int rc;

	switch (a->verb) {
	case V_dirty_log_enable:
	case V_dirty_log_disable:
		m.flags = a->verb == V_dirty_log_enable
				  ? r->flags[a->slot] | SV_MEMSLOT_LOG_DIRTY
				  : r->flags[a->slot] & ~SV_MEMSLOT_LOG_DIRTY;
		rc = sv_memslot_set(r->vm, &m);
		if (rc == SV_OK)
			r->flags[a->slot] = m.flags;
		return rc;
	case V_dirty_log_get:
		if (!r->bitmap[a->slot])
			r->bitmap[a->slot] = g_new0(uint64_t, words);
		return sv_mmu_get_dirty_log(r->vm, (uint32_t)a->slot,
					    r->bitmap[a->slot]);
	default:
		if (r->bitmap[a->slot])
			return sv_mmu_clear_dirty_log(r->vm, (uint32_t)a->slot, 0,
						      slot_pages(sl), r->bitmap[a->slot]);
		all = g_new(uint64_t, words);
		memset(all, 0xff, words * sizeof(*all));
		rc = sv_mmu_clear_dirty_log(r->vm, (uint32_t)a->slot, 0,
					    slot_pages(sl), all);
		g_free(all);
		return rc;
	}
}

static int do_action(sc_run *r, const sc_action *a)
{
	const sc_slot *sl = a->slot >= 0 ? &g_array_index(r->s->slots, sc_slot, a->slot)
					 : NULL;
	uint64_t start = sl ? r->hva[a->slot] + a->off : 0;
	uint64_t len = sl ? (a->len ? a->len : sl->size - a->off) : 0;
	unsigned n;
	bool young;

	switch (a->verb) {
	case V_dirty_log_enable:
	case V_dirty_log_disable:
	case V_dirty_log_get:
	case V_dirty_log_clear:
		return dirty_log(r, a);
	case V_munmap:
		return sv_host_munmap(r->h, start, len);
	case V_mprotect:
		return sv_host_mprotect(r->h, start, len, a->arg);
	case V_madvise:
		return sv_host_madvise(r->h, start, len, (sv_madvise)a->arg);
	case V_collapse:
		return sv_host_madvise(r->h, start, len, SV_MADV_COLLAPSE);
	case V_khugepaged:
		return sv_host_khugepaged_scan(r->h, &n);
	case V_split_thp:
		return sv_host_split_thp(r->h, start);
	case V_migrate:
		return sv_host_migrate(r->h, start, len);
	case V_ksm:
		return sv_host_ksm_merge(r->h, start, len, &n);
	case V_fork:
		return sv_host_fork(r->h);
	case V_fork_exit:
		return sv_host_fork_exit(r->h);
	case V_clear_refs:
		return sv_host_clear_refs(r->h);
	case V_age:
	case V_age_noflush:
		return sv_host_age(&young, r->h, start, len,
				   a->verb == V_age ? SV_AGE_CLEAR_FLUSH_YOUNG
						    : SV_AGE_CLEAR_YOUNG);
	case V_flush:
		sv_mmu__flush_remote(r->vm->mmu);
		return SV_OK;
	case V_mode:
		if (r->ex->engines)
			sv_exec_set_mode(r->ex, (sv_exec_mode)a->arg);
		return SV_OK;
	default:
		return sv__err(NULL, SV_EBUG, "action %d", (int)a->verb);
	}
}

/* A phase begins: snapshot (ending the last one), then its actions. */
static int boundary(sc_run *r, const sc_phase *ph, const char *fallback)
{
	const char *name = ph && ph->name ? ph->name : fallback;
	guint i;

	sv__report_snap(r->rep, name, r->vm, r->h);
	for (i = 0; ph && i < ph->actions->len; i++) {
		const sc_action *a = &g_array_index(ph->actions, sc_action, i);
		int rc = do_action(r, a);

		if (rc != SV_OK) {
			g_autofree char *d = g_strdup(sv_error_detail());

			return sv__err(NULL, rc, "%s: [phase.%u] action %s%s%s: %s",
				       r->s->file, ph->n, verbs[a->verb].name,
				       a->slot >= 0 ? " " : "",
				       a->slot >= 0 ? g_array_index(r->s->slots,
								    sc_slot, a->slot).name
						    : "",
				       d);
		}
	}
	if (r->o->on_phase && r->o->on_phase(name, r->vm, r->o->payload))
		r->stopped = true;
	return SV_OK;
}

static int sync_boundary(sc_run *r, uint32_t n)
{
	g_autofree char *name = g_strdup_printf("sync %u", n);
	const sc_phase *ph = NULL;
	guint i;

	for (i = 0; i < r->s->phases->len; i++) {
		const sc_phase *p = g_ptr_array_index(r->s->phases, i);

		if (!p->insn && p->n == n)
			ph = p;
	}
	return boundary(r, ph, name);
}

static int insn_boundary(sc_run *r, uint32_t index)
{
	const sc_phase *ph;
	g_autofree char *name = NULL;

	if (index >= r->s->phases->len)
		return sv__err(NULL, SV_ECONFIG, "trace: phase %u, but the scenario "
						 "has %u", index, r->s->phases->len);
	ph = g_ptr_array_index(r->s->phases, index);
	name = g_strdup_printf("insn %" PRIu64, ph->insn);
	return boundary(r, ph, name);
}

static int on_sync(sv_exec *ex, uint32_t n, void *payload)
{
	sc_run *r = payload;
	sv_trace_event ev = {.kind = SV_TEV_SYNC, .n = n};

	SV_UNUSED(ex);
	if (r->w)
		sv__trace_put(r->w, &ev);
	r->err = sync_boundary(r, n);
	return r->err || r->stopped ? 1 : 0;
}

static char *end_text(const sv_exec_result *res)
{
	switch (res->stop) {
	case SV_EXEC_HALTED:
		return g_strdup("halted");
	case SV_EXEC_LIMIT:
		return g_strdup("limit");
	default:
		return g_strdup_printf("fault: %s on vCPU %u at rip 0x%" PRIx64
				       ", gva 0x%" PRIx64 ", error code 0x%" PRIx64,
				       sv_fault_kind_name(res->fault.kind),
				       res->vcpu, res->rip, res->fault.gva,
				       res->fault.error_code);
	}
}

/* Runs to the end, stopping at each instruction-count phase. */
static int run_loop(sc_run *r, char **end)
{
	const sv_scenario *s = r->s;
	uint64_t done = 0;
	guint next = 0;
	int rc;

	while (next < s->phases->len &&
	       !((const sc_phase *)g_ptr_array_index(s->phases, next))->insn)
		next++;
	for (;;) {
		const sc_phase *ph = next < s->phases->len
					     ? g_ptr_array_index(s->phases, next) : NULL;
		uint64_t stop = ph ? ph->insn : 0, step = 0;
		sv_exec_result res;

		if (s->limit && (!stop || stop > s->limit))
			stop = s->limit;
		if (stop)
			step = stop - done;
		rc = sv_exec_run(r->ex, step, &res);
		if (r->err)
			return r->err;
		if (rc != SV_OK)
			return setup_err(s, "guest", rc);
		if (r->stopped) {
			*end = g_strdup("stopped");
			return SV_OK;
		}
		if (res.stop == SV_EXEC_LIMIT)
			done = stop;
		if (res.stop != SV_EXEC_LIMIT || !ph || done == s->limit) {
			*end = end_text(&res);
			return SV_OK;
		}
		if (r->w) {
			sv_trace_event ev = {.kind = SV_TEV_PHASE, .n = next};

			sv__trace_put(r->w, &ev);
		}
		rc = insn_boundary(r, next++);
		if (rc)
			return rc;
		if (r->stopped) {
			*end = g_strdup("stopped");
			return SV_OK;
		}
	}
}

int sv_scenario_run(sv_report **out, const sv_scenario *s,
		    const sv_run_options *opts)
{
	sv_run_options def = SV_RUN_OPTIONS_INIT;
	sc_run r = {.s = s, .o = opts ? opts : &def};
	g_autofree char *end = NULL;
	int rc;

	if (!out || !s)
		return sv__err(NULL, SV_EINVAL, "sv_scenario_run: NULL argument");
	*out = NULL;
	if (r.o->version != SV_RUN_OPTIONS_VERSION)
		return sv__err(NULL, SV_EINVAL, "run options: version %u (expected %u)",
			       r.o->version, SV_RUN_OPTIONS_VERSION);
	rc = build(&r, true);
	if (rc == SV_OK && r.o->record)
		rc = sv__trace_create(&r.w, r.o->record, s->text);
	if (rc == SV_OK) {
		r.rep = sv__report_new(s->name, s->vm.vcpus);
		sv__exec_set_recorder(r.ex, r.w);
		sv_exec_set_sync(r.ex, on_sync, &r);
		rc = boundary(&r, NULL, "start");
	}
	if (rc == SV_OK)
		rc = run_loop(&r, &end);
	if (rc == SV_OK) {
		sv__report_snap(r.rep, NULL, r.vm, r.h);
		sv__report_end(r.rep, end);
		if (r.o->on_phase && !r.stopped)
			r.o->on_phase("end", r.vm, r.o->payload);
	}
	if (r.w) {
		int crc = sv__trace_close(r.w, end ? end : "error");

		if (rc == SV_OK)
			rc = crc;
	}
	run_free(&r);
	if (rc == SV_OK)
		*out = r.rep;
	else
		sv_report_free(r.rep);
	return rc;
}

int sv_trace_replay(sv_report **out, const char *path,
		    const sv_run_options *opts)
{
	sv_run_options def = SV_RUN_OPTIONS_INIT;
	sc_run r = {.o = opts ? opts : &def};
	sv_trace_reader *rd = NULL;
	g_autofree char *text = NULL;
	sv_scenario *s = NULL;
	sv_trace_event ev;
	int rc;

	if (!out || !path)
		return sv__err(NULL, SV_EINVAL, "sv_trace_replay: NULL argument");
	*out = NULL;
	rc = sv__trace_open(&rd, path, &text);
	if (rc == SV_OK)
		rc = sv_scenario_load_data(&s, text, strlen(text), path, NULL);
	if (rc != SV_OK) {
		sv__trace_free(rd);
		return rc;
	}
	r.s = s;
	rc = build(&r, false);
	if (rc == SV_OK) {
		r.rep = sv__report_new(s->name, s->vm.vcpus);
		rc = boundary(&r, NULL, "start");
	}
	while (rc == SV_OK && !r.stopped && (rc = sv__trace_next(rd, &ev)) == 1) {
		if (ev.kind == SV_TEV_SYNC)
			rc = sync_boundary(&r, ev.n);
		else if (ev.kind == SV_TEV_PHASE)
			rc = insn_boundary(&r, ev.n);
		else
			rc = sv__exec_replay(r.ex, &ev);
		if (rc != SV_OK) {
			g_autofree char *d = g_strdup(sv_error_detail());

			rc = sv__err(NULL, rc, "trace %s: offset %" PRIu64 ": %s", path,
				     sv__trace_offset(rd), d);
		}
	}
	if (rc == SV_OK) {
		sv__report_snap(r.rep, NULL, r.vm, r.h);
		sv__report_end(r.rep, r.stopped ? "stopped" : sv__trace_end(rd));
		if (r.o->on_phase && !r.stopped)
			r.o->on_phase("end", r.vm, r.o->payload);
	}
	run_free(&r);
	sv__trace_free(rd);
	sv_scenario_free(s);
	if (rc == SV_OK)
		*out = r.rep;
	else
		sv_report_free(r.rep);
	return rc;
}

int sv_trace_dump(const char *path, FILE *out)
{
	sv_trace_reader *rd = NULL;
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	sv_trace_event ev;
	uint64_t n = 0;
	unsigned i;
	int rc;

	if (!path || !out)
		return sv__err(NULL, SV_EINVAL, "sv_trace_dump: NULL argument");
	rc = sv__trace_open(&rd, path, &text);
	if (rc != SV_OK)
		return rc;
	lines = g_strsplit(text, "\n", -1);
	fprintf(out, "# scenario (the trace's header):\n");
	for (i = 0; lines[i]; i++)
		if (*lines[i])
			fprintf(out, "#   %s\n", lines[i]);
	while ((rc = sv__trace_next(rd, &ev)) == 1) {
		fprintf(out, "%10" PRIu64 "  ", n++);
		switch (ev.kind) {
		case SV_TEV_SYNC:
		case SV_TEV_PHASE:
			fprintf(out, "%-6s %u\n", sv__trace_kind_name(ev.kind), ev.n);
			break;
		case SV_TEV_STAT:
			fprintf(out, "vcpu %-3u stat   %s += %" PRIu64 "\n", ev.vcpu,
				sv_vcpu_stat_name((sv_vcpu_stat)ev.n), ev.value);
			break;
		case SV_TEV_BLOCK:
			fprintf(out, "vcpu %-3u block  %u instructions, %" PRIu64
				" cycles\n", ev.vcpu, ev.n, ev.value);
			break;
		case SV_TEV_LEAVE:
			fprintf(out, "vcpu %-3u leave\n", ev.vcpu);
			break;
		default:
			fprintf(out, "vcpu %-3u %-6s 0x%016" PRIx64, ev.vcpu,
				sv__trace_kind_name(ev.kind), ev.addr);
			if (ev.size)
				fprintf(out, " size %u", ev.size);
			for (i = 0; i < ev.data_len && i < 16; i++)
				fprintf(out, "%s%02x", i ? "" : " data ", ev.data[i]);
			fputc('\n', out);
		}
	}
	if (rc == 0)
		fprintf(out, "# end: %" PRIu64 " events; the run ended: %s\n", n,
			sv__trace_end(rd));
	sv__trace_free(rd);
	return rc < 0 ? rc : SV_OK;
}
