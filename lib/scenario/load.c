/*
 * lib/scenario/load.c - loading a scenario: the key file, the overrides,
 * every group read through the key schema, then the checks that involve
 * more than one key; [tlb]/[cost] configuration files; and the plan's
 * effective configuration, every key as a file would write it.
 *
 * How a scenario is loaded:
 *  1. The text is parsed as a key file; each --set override replaces or
 *     adds its key.
 *  2. Every group must be a known one: scenario, vm, host, memslot.NAME,
 *     guest, tlb, cost, cache, trace, guestmm or phase.N.
 *  3. The plan starts from the public options' defaults and each group is
 *     read into it through the schema, in a fixed order (scenario, vm,
 *     host, the memslots in file order, guest, trace and guestmm
 *     (trace.c), tlb and cost, cache, the phases (phase.c)), so the first
 *     mistake reported does not depend on the file's layout.
 *  4. What one key cannot check alone is checked after its group: the
 *     policy exists, PML is not asked of NPT, memslots do not overlap, the
 *     guest's region exists and its range fits, actions name real slots.
 *  5. The key file after the overrides (with the name written in) is the
 *     plan's text: what a trace stores, so a replay loads the same plan.
 */
#include "scenario/run.h"
#include "scenario/schema.h"

const char *const sv_scenario__backing_names[B__COUNT] = {
	"anon", "thp", "hugetlb-2m", "hugetlb-1g", "dax-pmd", "dax-pud",
	"pfnmap", "readonly", "pfnmap-ram"};
static const char *const backing_descs[B__COUNT] = {
	"private anonymous memory (4K pages unless [host] thp=always)",
	"private anonymous memory with MADV_HUGEPAGE (2M THPs)",
	"hugetlbfs, 2M pages (the pool is sized for the slots)",
	"hugetlbfs, 1G pages (the pool is sized for the slots)",
	"DAX device memory mapped by PMDs (2M)",
	"DAX device memory mapped by PUDs (1G)",
	"a VM_PFNMAP | VM_IO range: pfns without struct pages",
	"anonymous memory the host maps read-only, in a READONLY memslot",
	("a VM_PFNMAP range over RAM outside refcounting (refcount 0, as a "
	 "driver's non-compound pages); KVM 5.13 to 6.12 refuses it (EFAULT)")};

const char *sv_scenario_backing(size_t i, const char **desc)
{
	if (i >= B__COUNT)
		return NULL;
	if (desc)
		*desc = backing_descs[i];
	return sv_scenario__backing_names[i];
}

int sv_scenario__find_slot(const sv_scenario *s, const char *name)
{
	guint i;

	for (i = 0; i < s->slots->len; i++)
		if (!strcmp(g_array_index(s->slots, sc_slot, i).name, name))
			return (int)i;
	return -1;
}

/* ---- the groups -------------------------------------------------------------------- */

static int bad(const sc_ctx *c, const char *group, const char *key,
	       const char *expected, const char *got)
{
	return sv_keyfile__bad(c->file, group, key, expected, got);
}

static int load_vm(sv_scenario *s, const sc_ctx *c)
{
	int rc = sv_scenario__load_group(c->kf, c->file, "vm", SC_G_vm, s);

	if (rc)
		return rc;
	if (s->vm.tdp == SV_TDP_NPT)
		s->vm.tdp_ad = false; /* NPT has no EPT A/D bit */
	if (s->mmu.pml && s->vm.tdp == SV_TDP_NPT)
		return sv_err__set(NULL, SV_ECONFIG, "%s: [vm] pml: PML is Intel's "
						     "(expected false with tdp=npt)",
				   c->file);
	return SV_OK;
}

static int load_host(sv_scenario *s, const sc_ctx *c)
{
	s->host_mem_set = g_key_file_has_key(c->kf, "host", "mem", NULL);
	s->host_pools_set =
		g_key_file_has_key(c->kf, "host", "hugetlb_2m_pages", NULL) ||
		g_key_file_has_key(c->kf, "host", "hugetlb_1g_pages", NULL);
	return sv_scenario__load_group(c->kf, c->file, "host", SC_G_host, s);
}

static int load_slot(sv_scenario *s, const sc_ctx *c, const char *group)
{
	const char *name = group + strlen("memslot.");
	sc_slot sl = {.backing = B_ANON};
	int rc;
	guint i;

	if (!*name || strchr(name, ' '))
		return sv_err__set(NULL, SV_ECONFIG, "%s: [%s]: expected a memslot "
						     "name without spaces",
				   c->file, group);
	rc = sv_scenario__load_group(c->kf, c->file, group, SC_G_memslot, &sl);
	if (rc)
		return rc;
	for (i = 0; i < s->slots->len; i++) {
		const sc_slot *o = &g_array_index(s->slots, sc_slot, i);

		if (sl.gpa < o->gpa + o->size && o->gpa < sl.gpa + sl.size)
			return sv_err__set(NULL, SV_ECONFIG, "%s: [%s]: its GPA range "
							     "overlaps [memslot.%s]",
					   c->file, group, o->name);
	}
	sl.name = g_strdup(name);
	g_array_append_val(s->slots, sl);
	return SV_OK;
}

/* The page size the host maps a slot's backing with. */
static uint64_t backing_page_size(const sv_scenario *s, const sc_slot *sl)
{
	switch (sl->backing) {
	case B_THP:
	case B_HUGETLB_2M:
	case B_DAX_PMD:
		return SV_PAGE_2M;
	case B_HUGETLB_1G:
	case B_DAX_PUD:
		return SV_PAGE_1G;
	case B_ANON:
		return s->host.thp == SV_THP_ALWAYS ? SV_PAGE_2M : SV_PAGE_4K;
	default:
		return SV_PAGE_4K;
	}
}

static int load_guest(sv_scenario *s, const sc_ctx *c)
{
	const sc_slot *sl;
	int rc;

	rc = sv_scenario__load_group(c->kf, c->file, "guest", SC_G_guest, s);
	if (rc)
		return rc;
	if (!s->region_name && s->slots->len)
		s->region_name = g_strdup(g_array_index(s->slots, sc_slot, 0).name);
	if (!s->region_name)
		return sv_err__set(NULL, SV_ECONFIG, "%s: [guest] region: there is no "
						     "[memslot.NAME] group to run over",
				   c->file);
	s->region = sv_scenario__find_slot(s, s->region_name);
	if (s->region < 0)
		return bad(c, "guest", "region", "the name of a [memslot.NAME] group",
			   s->region_name);
	sl = &g_array_index(s->slots, sc_slot, s->region);
	/* gva and size default to the region's; kpt's stride to the large
	 * page of its backing, as kvm_page_table_test takes it */
	if (!g_key_file_has_key(c->kf, "guest", "gva", NULL))
		s->work.gva = sl->gpa;
	if (!strcmp(s->workload, "kpt") &&
	    !g_key_file_has_key(c->kf, "guest", "stride", NULL))
		s->work.stride = backing_page_size(s, sl);
	if (!g_key_file_has_key(c->kf, "guest", "size", NULL))
		s->work.size = sl->size;
	if (s->tables_name && *s->tables_name) {
		int t = sv_scenario__find_slot(s, s->tables_name);
		const sc_slot *ts;

		if (t < 0)
			return bad(c, "guest", "tables",
				   "the name of a [memslot.NAME] group",
				   s->tables_name);
		if (t == s->region)
			return bad(c, "guest", "tables",
				   "a memslot other than the region's",
				   s->tables_name);
		ts = &g_array_index(s->slots, sc_slot, t);
		if (ts->size < 0x10000)
			return bad(c, "guest", "tables",
				   "a memslot of at least 64K", s->tables_name);
		s->exec.table_pool_gpa = ts->gpa;
		s->exec.table_pool = ts->size;
	}
	if (s->steal_slot_name && *s->steal_slot_name) {
		int t = sv_scenario__find_slot(s, s->steal_slot_name);

		if (t < 0)
			return bad(c, "vm", "steal_time_slot",
				   "the name of a [memslot.NAME] group",
				   s->steal_slot_name);
		if (t == s->region)
			return bad(c, "vm", "steal_time_slot",
				   "a memslot other than the workload's region "
				   "(the records would overwrite its memory)",
				   s->steal_slot_name);
		if (g_array_index(s->slots, sc_slot, t).size < 64ULL * s->vm.vcpus)
			return bad(c, "vm", "steal_time_slot",
				   "a memslot of at least 64 bytes per vCPU",
				   s->steal_slot_name);
		s->steal_gpa = g_array_index(s->slots, sc_slot, t).gpa;
	}
	if (s->work.size > sl->size) {
		g_autofree char *v = sv_keyfile__value(c->kf, "guest", "size");
		g_autofree char *what = g_strdup_printf(
			"a size (K/M/G suffixes allowed) from 4096 to %" PRIu64
			" (the region's)", sl->size);

		return bad(c, "guest", "size", what, v);
	}
	if (s->page_size == SV_PAGE_1G && !s->vm.guest_1g)
		return sv_err__set(NULL, SV_ECONFIG, "%s: [guest] page_size: 1G guest "
						     "pages need [vm] guest_1g=true",
				   c->file);
	if ((s->work.gva | s->work.size) & (s->page_size - 1))
		return sv_err__set(NULL, SV_ECONFIG, "%s: [guest]: gva 0x%" PRIx64
						     " and size 0x%" PRIx64 " must be "
						     "multiples of page_size",
				   c->file, s->work.gva, s->work.size);
	return SV_OK;
}

/* ---- [tlb] and [cost] ------------------------------------------------------------------ */

/* The [tlb] and [cost] groups into *tlb and *costs (either may be NULL):
 * all or nothing. */
static int load_tlb_cost(GKeyFile *kf, const char *file, sv_tlb_config *tlb,
			 sv_costs *costs)
{
	sv_tlb_config t = tlb ? *tlb : (sv_tlb_config)SV_TLB_CONFIG_INIT;
	sv_costs k = costs ? *costs : (sv_costs)SV_COSTS_INIT;
	int rc = SV_OK;

	if (tlb)
		rc = sv_scenario__load_group(kf, file, "tlb", SC_G_tlb, &t);
	if (!rc && tlb)
		rc = sv_tlb_config_validate(&t);
	if (!rc && costs)
		rc = sv_scenario__load_group(kf, file, "cost", SC_G_cost, &k);
	if (rc)
		return rc;
	if (tlb)
		*tlb = t;
	if (costs)
		*costs = k;
	return SV_OK;
}

int sv_config_load_data(sv_tlb_config *tlb, sv_costs *costs, const char *data,
			size_t len, const char *name)
{
	g_autoptr(GKeyFile) kf = NULL;
	int rc;

	sv_err__clear();
	if (!data)
		return sv_err__set(NULL, SV_EINVAL, "config data: NULL");
	if (!name)
		name = "(config)";
	rc = sv_keyfile__load(&kf, data, len, name);
	return rc ? rc : load_tlb_cost(kf, name, tlb, costs);
}

int sv_config_load(sv_tlb_config *tlb, sv_costs *costs, const char *path)
{
	g_autofree char *data = NULL;
	g_autoptr(GError) gerr = NULL;
	gsize len;

	sv_err__clear();
	if (!path)
		return sv_err__set(NULL, SV_EINVAL, "config path: NULL");
	if (!g_file_get_contents(path, &data, &len, &gerr))
		return sv_err__set(NULL, SV_EIO, "%s: %s", path, gerr->message);
	return sv_config_load_data(tlb, costs, data, len, path);
}

/* ---- loading ------------------------------------------------------------------------------ */

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
	g_free(s->description);
	g_free(s->text);
	g_free(s->config_text);
	g_free(s->policy);
	g_free(s->workload);
	g_free(s->region_name);
	g_free(s->tables_name);
	g_free(s->steal_slot_name);
	g_free(s->trace_file);
	g_free(s->trace_path);
	g_free(s->gmm_slot_name);
	sv_scenario__program_free(s);
	g_free(s);
}

/* "group.key=value", the group being everything before the last dot. */
/* --set GROUP.KEY=VALUE: a group and key as a file names them, and one
 * line of text. */
static int apply_set(GKeyFile *kf, const char *file, const char *set)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
	const char *eq = strchr(set, '='), *dot, *p;
	g_autofree char *lhs = NULL;

	if (!eq)
		goto bad;
	lhs = g_strndup(set, (gsize)(eq - set));
	dot = strrchr(lhs, '.');
	if (!dot || dot == lhs || !dot[1] || lhs[strspn(lhs, name_chars)] ||
	    strchr(dot + 1, '-'))
		goto bad;
	if (!g_utf8_validate(eq + 1, -1, NULL))
		return sv_err__set(NULL, SV_ECONFIG, "%s: --set %s: the value is "
						     "not UTF-8 text", file, lhs);
	for (p = eq + 1; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return sv_err__set(NULL, SV_ECONFIG,
					   "%s: --set %s: the value holds control "
					   "character 0x%02x (one line of text "
					   "expected)", file, lhs, (unsigned)*p);
	lhs[dot - lhs] = '\0';
	g_key_file_set_value(kf, lhs, dot + 1, eq + 1);
	return SV_OK;
bad:
	return sv_err__set(NULL, SV_ECONFIG, "%s: --set '%s': expected GROUP.KEY=VALUE "
					     "(letters, digits, '_', '-' and '.' "
					     "before the '=')",
			   file, set);
}

/*
 * The overrides, then the text a trace will hold read back: the run and
 * its replay parse the very same text.
 */
static int apply_sets(GKeyFile **kf, const char *file, const char *const *sets)
{
	g_autofree char *text = NULL;
	unsigned i;
	int rc;

	for (i = 0; sets && sets[i]; i++) {
		rc = apply_set(*kf, file, sets[i]);
		if (rc)
			return rc;
	}
	if (!i)
		return SV_OK;
	text = g_key_file_to_data(*kf, NULL, NULL);
	g_key_file_free(*kf);
	*kf = NULL;
	return sv_keyfile__load(kf, text, strlen(text), file);
}

/* [cache]: the geometry checked now, as the model will take it. */
static int load_cache(sv_scenario *s, const sc_ctx *c)
{
	int rc = sv_scenario__load_group(c->kf, c->file, "cache", SC_G_cache, s);

	if (!rc && sv_cache_config_validate(&s->cache))
		rc = sv_err__set(NULL, SV_ECONFIG, "%s: [cache]: %s", c->file,
				 sv_error_detail());
	return rc;
}

static bool known_group(const char *g)
{
	static const char *const plain[] = {"scenario", "vm", "host", "guest",
					    "tlb", "cost", "cache", "trace",
					    "guestmm", "program"};

	return sv_keyfile__parse_name(g, plain, G_N_ELEMENTS(plain)) >= 0 ||
	       g_str_has_prefix(g, "memslot.") || g_str_has_prefix(g, "phase.");
}

static int load_kf(sv_scenario *s, GKeyFile *kf)
{
	const sc_ctx c = {.kf = kf, .file = s->file};
	g_auto(GStrv) groups = NULL;
	unsigned i;
	int rc;

	groups = g_key_file_get_groups(kf, NULL);
	for (i = 0; groups[i]; i++)
		if (!known_group(groups[i]))
			return sv_err__set(NULL, SV_ECONFIG,
					   "%s: [%s]: unknown group (expected "
					   "scenario, vm, host, memslot.NAME, guest, "
					   "tlb, cost, cache, trace, guestmm, "
					   "program or phase.N)",
					   s->file, groups[i]);
	rc = sv_keyfile__include_costs(kf, s->file);
	if (!rc)
		rc = sv_scenario__load_group(kf, s->file, "scenario", SC_G_scenario, s);
	if (!rc)
		rc = load_vm(s, &c);
	if (!rc)
		rc = load_host(s, &c);
	for (i = 0; !rc && groups[i]; i++)
		if (g_str_has_prefix(groups[i], "memslot."))
			rc = load_slot(s, &c, groups[i]);
	if (!rc)
		rc = load_guest(s, &c);
	if (!rc)
		rc = sv_scenario__load_trace(s, &c);
	if (!rc)
		rc = sv_scenario__load_program(s, &c);
	if (!rc)
		rc = load_tlb_cost(kf, s->file, &s->vm.tlb, &s->vm.costs);
	if (!rc)
		rc = load_cache(s, &c);
	for (i = 0; !rc && groups[i]; i++)
		if (g_str_has_prefix(groups[i], "phase."))
			rc = sv_scenario__load_phase(s, &c, groups[i]);
	if (!rc)
		rc = sv_scenario__sort_phases(s);
	if (!rc)
		rc = sv_scenario__check_trace_phases(s);
	if (rc)
		return rc;
	/* The name goes into the text, so a replay reports the same one. */
	g_key_file_set_value(kf, "scenario", "name", s->name);
	s->text = g_key_file_to_data(kf, NULL, NULL);
	return SV_OK;
}

/* A plan holding every default: the public options' *_INIT values, and
 * [host] mem_limit auto (the runner sizes it for the machine). */
static sv_scenario *scenario_new(const char *file)
{
	sv_scenario *s = g_new0(sv_scenario, 1);
	g_autofree char *base = g_path_get_basename(file);

	s->file = g_strdup(file);
	if (g_str_has_suffix(base, ".ini"))
		base[strlen(base) - 4] = '\0';
	s->name = g_strdup(base);
	s->vm = (sv_vm_options)SV_VM_OPTIONS_INIT;
	s->mmu = (sv_mmu_options)SV_MMU_OPTIONS_INIT;
	s->policy = g_strdup(s->mmu.policy);
	s->host = (sv_host_options)SV_HOST_OPTIONS_INIT;
	s->host.resident_limit = SC_AUTO;
	s->work = (sv_workload)SV_WORKLOAD_INIT;
	s->workload = g_strdup(s->work.name);
	s->exec = (sv_exec_options)SV_EXEC_OPTIONS_INIT;
	s->cache = (sv_cache_config)SV_CACHE_CONFIG_INIT;
	s->page_size = SV_PAGE_4K;
	s->gmm = (sv_guestmm_options)SV_GUESTMM_OPTIONS_INIT;
	s->prog = (sv_program_options)SV_PROGRAM_OPTIONS_INIT;
	s->slots = g_array_new(FALSE, TRUE, sizeof(sc_slot));
	s->phases = g_ptr_array_new_with_free_func(sv_scenario__phase_free);
	return s;
}

int sv_scenario_load_data(sv_scenario **out, const char *data, size_t len,
			  const char *name, const char *const *sets)
{
	g_autoptr(GKeyFile) kf = NULL;
	sv_scenario *s;
	int rc;

	sv_err__clear();
	if (out)
		*out = NULL;
	if (!out || !data)
		return sv_err__set(NULL, SV_EINVAL, "sv_scenario_load_data: NULL argument");
	if (!name)
		name = "(scenario)";
	rc = sv_keyfile__load(&kf, data, len, name);
	if (rc == SV_OK)
		rc = apply_sets(&kf, name, sets);
	if (rc)
		return rc;
	s = scenario_new(name);
	rc = load_kf(s, kf);
	if (rc == SV_OK)
		rc = sv_scenario__check(s);
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

	sv_err__clear();
	if (out)
		*out = NULL;
	if (!out || !path)
		return sv_err__set(NULL, SV_EINVAL, "sv_scenario_load: NULL argument");
	if (!g_file_get_contents(path, &data, &len, &gerr))
		return sv_err__set(NULL, SV_EIO, "%s", gerr->message);
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

const sv_vm_options *sv_scenario_vm_options(const sv_scenario *s)
{
	return s ? &s->vm : NULL;
}

/* ---- the effective configuration ------------------------------------------------------- */

/* Every key of one group instance at base, as "group", "key", "value". */
static void config_group(GPtrArray *out, sc_group g, const char *group,
			 const void *base)
{
	const sc_key *k;
	size_t i;

	for (i = 0; (k = sv_scenario__key(i)); i++)
		if (k->group == g) {
			g_ptr_array_add(out, g_strdup(group));
			g_ptr_array_add(out, g_strdup(k->name));
			g_ptr_array_add(out, sv_scenario__format(k, base));
		}
}

GPtrArray *sv_scenario__config(const sv_scenario *s, const sv_host_options *host)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	sv_scenario eff = *s;
	guint i;

	eff.host = *host;
	config_group(out, SC_G_scenario, "scenario", &eff);
	config_group(out, SC_G_vm, "vm", &eff);
	config_group(out, SC_G_host, "host", &eff);
	for (i = 0; i < s->slots->len; i++) {
		const sc_slot *sl = &g_array_index(s->slots, sc_slot, i);
		g_autofree char *name = g_strdup_printf("memslot.%s", sl->name);

		config_group(out, SC_G_memslot, name, sl);
	}
	if (!s->trace_file && !s->prog_text)
		config_group(out, SC_G_guest, "guest", &eff);
	config_group(out, SC_G_tlb, "tlb", &eff.vm.tlb);
	config_group(out, SC_G_cost, "cost", &eff.vm.costs);
	config_group(out, SC_G_cache, "cache", &eff);
	if (s->trace_file)
		config_group(out, SC_G_trace, "trace", &eff);
	if (s->prog_text)
		config_group(out, SC_G_program, "program", &eff);
	if (s->trace_file || s->prog_text)
		config_group(out, SC_G_guestmm, "guestmm", &eff);
	for (i = 0; i < s->phases->len; i++) {
		const sc_phase *ph = g_ptr_array_index(s->phases, i);
		g_autofree char *name = g_strdup_printf("phase.%u", ph->n);

		config_group(out, SC_G_phase, name, ph);
	}
	return out;
}

/* ---- the schema, for users -------------------------------------------------------------- */

/* Every key with its values and default in words, made once. */
static gpointer make_key_infos(gpointer unused)
{
	sv_scenario *s = scenario_new("default.ini");
	sc_slot slot = {.backing = B_ANON};
	sc_phase phase = {0};
	const sc_key *k;
	GArray *out = g_array_new(TRUE, TRUE, sizeof(sv_scenario_key_info));
	size_t i;

	SV_UNUSED(unused);
	for (i = 0; (k = sv_scenario__key(i)); i++) {
		const void *base = k->group == SC_G_memslot ? (const void *)&slot
				   : k->group == SC_G_phase ? (const void *)&phase
				   : k->group == SC_G_tlb   ? (const void *)&s->vm.tlb
				   : k->group == SC_G_cost  ? (const void *)&s->vm.costs
							    : (const void *)s;
		sv_scenario_key_info info = {
			.group = sv_scenario__group_names[k->group],
			.name = k->name,
			.values = sv_scenario__values(k),
			.def = k->def ? k->def : sv_scenario__format(k, base),
			.help = k->help,
		};

		g_array_append_val(out, info);
	}
	sv_scenario_free(s);
	return g_array_free(out, FALSE);
}

const sv_scenario_key_info *sv_scenario_key(size_t i)
{
	static GOnce once = G_ONCE_INIT;
	const sv_scenario_key_info *all = g_once(&once, make_key_infos, NULL);

	return sv_scenario__key(i) ? &all[i] : NULL;
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
