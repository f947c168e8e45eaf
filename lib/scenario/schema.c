/*
 * lib/scenario/schema.c - the key table and the reading of one group
 * through it.
 *
 * How a group is read (sv_scenario__load_group):
 *  1. Every key the group has must be a row of its kind, else the error
 *     lists the keys it may have.
 *  2. Every required row must be there.
 *  3. Each key present is parsed by its row's type, whole, and checked
 *     against the row's range, alignment or names; then stored at the
 *     row's offset in the group's struct.  A bad value stops the reading
 *     with the file, group, key, what was expected and what was given.
 * Defaults are not in the table: the loader starts from the public
 * options' *_INIT values, and sv_scenario__format prints them from there.
 */
#include "scenario/schema.h"
#include "tlb/tlb.h"

const char *const sv_scenario__group_names[SC_G__COUNT] = {
#define SC_GROUP_NAME(id, name) name,
	SC_GROUP_LIST(SC_GROUP_NAME)
#undef SC_GROUP_NAME
};

static const char *const tdp_names[] = {"ept", "npt"};
static const char *const mmu_names[] = {"tdp", "shadow"};
static const char *const thp_names[] = {"never", "madvise", "always"};
static const char *const mode_names[] = {"detailed", "fast-forward"};
static const char *const repl_names[] = {"lru", "fifo", "random"};
static const char *const conflict_names[] = {"smaller", "larger", "mce",
					     "abort"};
static const char *const tri_names[] = {"auto", "false", "true"};
static const char *const trace_names[] = {"text", "lackey", "champsim",
					  "simvirt"};
static const char *const defrag_names[] = {"always", "defer", "defer+madvise",
					   "madvise", "never"};

#define SZ(type, member) \
	offsetof(type, member), sizeof(((type *)0)->member), #member
#define S(member) SZ(sv_scenario, member)
#define NAMES(a) a, G_N_ELEMENTS(a)
#define K 1024ULL

#define NONAMES NULL, 0
/* A row; `names` stands for the names and their count (NAMES() or
 * NONAMES), `where` for the offset, width and member (S() or SZ()): ROW
 * expands them before ROW14 takes its arguments. */
#define ROW14(g, name, type, lo, hi, al, req, names, n, off, width, field, \
	      def, help)                                                    \
	{SC_G_##g, name, type, lo, hi, al, false, req, names, n, off, width,  \
	 field, def, NULL, help}
#define ROW(...) ROW14(__VA_ARGS__)
#define UINT(g, name, lo, hi, where, help) \
	ROW(g, name, SC_UINT, lo, hi, 0, false, NONAMES, where, NULL, help)
#define SIZE(g, name, lo, hi, al, where, def, help) \
	ROW(g, name, SC_SIZE, lo, hi, al, false, NONAMES, where, def, help)
#define BOOL(g, name, where, help) \
	ROW(g, name, SC_BOOL, 0, 1, 0, false, NONAMES, where, NULL, help)
#define ENUM(g, name, names, where, help) \
	ROW(g, name, SC_ENUM, 0, 0, 0, false, NAMES(names), where, NULL, help)
#define TEXT(g, name, where, def, takes, help)                        \
	{SC_G_##g, name, SC_STR, 0, 0, 0, false, false, NULL, 0, where, def, \
	 takes, help}
#define OTHER(g, name, type, where, def, help) \
	ROW(g, name, type, 0, 0, 0, false, NONAMES, where, def, help)

#define TLB_ROWS(name, def_sets, def_ways, desc)                                      \
	{SC_G_tlb, #name "_sets", SC_UINT, 0, SV_TLB_MAX_SETS, 0, true, false,  \
	 NULL, 0,                                                             \
	 SZ(sv_tlb_config, array[SV_TLB_##name].sets), NULL, NULL,            \
	 "sets of the " desc " (0: none)"},                                  \
	UINT(tlb, #name "_ways", 0, SV_TLB_MAX_WAYS,                          \
	     SZ(sv_tlb_config, array[SV_TLB_##name].ways),                    \
	     "ways of the " desc " (0: none)"),
#define COST_ROW(name, def, desc) \
	UINT(cost, #name, 0, 1000000000, SZ(sv_costs, name), "cycles: " desc),

static const sc_key keys[] = {
	TEXT(scenario, "name", S(name), "the file name without .ini", "text",
	     "the name in reports"),
	TEXT(scenario, "description", S(description), "none", "text",
	     "free text"),

	UINT(vm, "vcpus", 1, SV_MAX_VCPUS, S(vm.vcpus), "vCPUs"),
	ENUM(vm, "tdp", tdp_names, S(vm.tdp),
	     "the nested paging: Intel EPT or AMD NPT"),
	ENUM(vm, "mmu", mmu_names, S(mmu.mmu),
	     "the hypervisor MMU: tdp (EPT/NPT tables of guest-physical "
	     "addresses) or shadow (tables of guest-virtual addresses built "
	     "from the guest's; the hardware walks only those)"),
	UINT(vm, "tdp_levels", 4, 5, S(vm.tdp_levels),
	     "levels of the nested tables (and of the host's)"),
	UINT(vm, "guest_levels", 4, 5, S(vm.guest_levels),
	     "levels of the guest's page tables (5: CR4.LA57)"),
	BOOL(vm, "tdp_ad", S(vm.tdp_ad),
	     "EPT A/D flags (EPTP bit 6); forced off with NPT"),
	BOOL(vm, "tdp_1g", S(vm.tdp_1g), "1G nested pages supported"),
	BOOL(vm, "guest_1g", S(vm.guest_1g),
	     "1G guest pages supported (CPUID PDPE1GB)"),
	UINT(vm, "maxphyaddr", 36, 52, S(vm.maxphyaddr),
	     "physical-address width"),
	OTHER(vm, "policy", SC_POLICY, S(policy), NULL,
	      "the huge-page sizing policy (simvirt list explains each)"),
	OTHER(vm, "kernel_version", SC_KVER, S(mmu.kernel_version), NULL,
	      "picks the behaviour that changed between kernels"),
	BOOL(vm, "eager_page_split", S(mmu.eager_page_split),
	     "split huge SPTEs when dirty logging starts"),
	BOOL(vm, "pml", S(mmu.pml), "page-modification logging (EPT only)"),
	BOOL(vm, "nx_huge_pages", S(mmu.nx_huge_pages),
	     "the iTLB-multihit mitigation: huge SPTEs are not executable"),
	BOOL(vm, "manual_protect", S(mmu.manual_protect),
	     "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: GET does not re-protect, "
	     "CLEAR does"),
	BOOL(vm, "initially_set", S(mmu.initially_set),
	     "with manual_protect: the bitmap starts all ones, nothing is "
	     "protected when logging starts"),
	ENUM(vm, "split_on_fault", tri_names, S(mmu.split_on_fault),
	     "split a huge SPTE in the fault path (6.2+) rather than zap it; "
	     "auto: by kernel_version"),
	ENUM(vm, "recover_in_place", tri_names, S(mmu.recover_in_place),
	     "recover huge pages in place when logging stops (6.13+) rather "
	     "than zap the tables; auto: by kernel_version"),
	OTHER(vm, "bugs", SC_BUGS, S(mmu.bugs), "none",
	      "historical bugs to switch on (simvirt list explains each)"),
	BOOL(vm, "audit", S(mmu.audit),
	     "run the invariant checks (counted as audit.*)"),
	UINT(vm, "shadow_pages", 0, 1u << 30, S(mmu.shadow_pages),
	     "with mmu=shadow: shadow pages at most, the oldest zapped past it "
	     "(mmu_recycled); 0: KVM's default, 20 per 1,000 guest pages, at "
	     "least 64"),
	BOOL(vm, "mmio_caching", S(mmu.mmio_caching),
	     "kvm.mmio_caching: MMIO SPTEs send a gfn in no memslot to "
	     "emulation without the fault path (false: every access faults)"),
	BOOL(vm, "tdp_mmu", S(mmu.tdp_mmu),
	     "false: the older rmap MMU's difference in counts, the prefetch "
	     "of the 8-page group around a 4K fault where the host pages are "
	     "present and writable"),
	UINT(vm, "seed", 0, UINT64_MAX, S(vm.seed), "seeds every random choice"),
	BOOL(vm, "steal_time", S(steal_time),
	     "the hypervisor writes each vCPU's steal-time record through a "
	     "gfn-to-pfn cache at guest entries"),
	UINT(vm, "steal_time_interval", 0, UINT64_MAX, S(steal_interval),
	     "with steal_time: instructions between two writes (0: at every "
	     "guest entry)"),
	TEXT(vm, "steal_time_slot", S(steal_slot_name), "the library's own slot",
	     "the NAME of a [memslot.NAME]",
	     "with steal_time: the memslot whose first bytes hold the records, "
	     "64 per vCPU (so that dirty logging and host events can reach "
	     "them); not the workload's region"),

	SIZE(host, "mem", 1ULL << 30, SV_HOST_MEM_MAX, 1ULL << 30, S(host.mem_size),
	     "16G, or enough for the memslots", "host RAM"),
	ENUM(host, "thp", thp_names, S(host.thp),
	     "transparent huge pages: /sys/kernel/mm/transparent_hugepage/enabled"),
	BOOL(host, "thp_zero_page", S(host.thp_zero_page),
	     "read faults map the huge zero page"),
	UINT(host, "frag_percent", 0, 100, S(host.frag_percent),
	     "percent of 2M blocks pinned by an unmovable page"),
	ROW(host, "hugetlb_2m_pages", SC_UINT, 0, 1U << 24, 0, false, NONAMES,
	    S(host.hugetlb_2m_pages), "sized for the memslots",
	    "the 2M hugetlbfs pool"),
	ROW(host, "hugetlb_1g_pages", SC_UINT, 0, 1U << 16, 0, false, NONAMES,
	    S(host.hugetlb_1g_pages), "sized for the memslots",
	    "the 1G hugetlbfs pool"),
	UINT(host, "max_ptes_none", 0, 511, S(host.max_ptes_none),
	     "khugepaged's max_ptes_none"),
	OTHER(host, "mem_limit", SC_LIMIT, S(host.resident_limit), NULL,
	      "host RAM the guest may fill (the simulator holds those bytes): a "
	      "fault past it stops the run with an error; auto: half of the "
	      "RAM of the machine running simvirt"),

	ROW(memslot, "gpa", SC_SIZE, 0, 1ULL << 52, 4 * K, true, NONAMES,
	    SZ(sc_slot, gpa), "required", "guest-physical base"),
	ROW(memslot, "size", SC_SIZE, 4 * K, 1ULL << 44, 4 * K, true, NONAMES,
	    SZ(sc_slot, size), "required", "bytes"),
	ENUM(memslot, "backing", sv_scenario__backing_names, SZ(sc_slot, backing),
	     "the host memory behind it (simvirt list explains each)"),
	SIZE(memslot, "hva_offset", 0, 1ULL << 30, 4 * K,
	     SZ(sc_slot, hva_offset), NULL,
	     "bytes added to its 1G-aligned host address (a deliberately "
	     "misaligned slot)"),
	{SC_G_memslot, "vma_align", SC_SIZE, 0, 1ULL << 30, 0, true, false,
	 NULL, 0, SZ(sc_slot, vma_align), "0", NULL,
	 "the host mapping around the slot, widened to this alignment (a "
	 "VMM's larger mapping; with hva_offset, THPs then cover the slot's "
	 "ends too); 0: the slot's range"},
	BOOL(memslot, "readonly", SZ(sc_slot, readonly),
	     "a KVM_MEM_READONLY slot"),

	OTHER(guest, "workload", SC_WORKLOAD, S(workload), NULL,
	      "the built-in workload (simvirt list explains each)"),
	TEXT(guest, "region", S(region_name), "the first memslot",
	     "the NAME of a [memslot.NAME]", "the memslot the workload runs "
					      "over"),
	TEXT(guest, "tables", S(tables_name), "the library's own slot",
	     "the NAME of a [memslot.NAME]",
	     "the memslot whose whole range holds the guest's page tables "
	     "(empty: the library's own slot): its backing decides how the "
	     "nested dimension maps them"),
	OTHER(guest, "page_size", SC_PAGE, S(page_size), NULL,
	      "the guest's page size over the region"),
	SIZE(guest, "gva", 0, (1ULL << 47) - 1, 0, S(work.gva),
	     "the region's GPA", "guest-virtual start, mapped onto the slot"),
	SIZE(guest, "size", 4 * K, 1ULL << 52, 0, S(work.size),
	     "the region's size", "bytes mapped and worked over"),
	SIZE(guest, "stride", 8, 1ULL << 30, 0, S(work.stride),
	     "4K; kpt: the backing's page",
	     "bytes between accesses (touch, chase); kpt: its large page"),
	UINT(guest, "passes", 1, 1000000, S(work.passes),
	     "passes over the region (touch, stream, chase)"),
	OTHER(guest, "write", SC_WRITES, S(work.write_passes), NULL,
	      "touch writes (else reads); a list gives each pass its own "
	      "(true,true,false: the third and later passes read)"),
	UINT(guest, "seed", 0, UINT64_MAX, S(work.seed), "random, chase"),
	UINT(guest, "count", 0, 1ULL << 40, S(work.count),
	     "random: updates per vCPU; chase: links (0: passes times the "
	     "nodes)"),
	UINT(guest, "instructions", 0, 1ULL << 50, S(limit),
	     "stop after each vCPU ran this many (0: run to the end)"),
	ENUM(guest, "mode", mode_names, S(exec.mode),
	     "the execution mode the run starts in"),
	UINT(guest, "detail_at_sync", 0, UINT32_MAX, S(exec.detail_at_sync),
	     "from fast-forward, switch to detailed at this sync point "
	     "(0: never)"),
	UINT(guest, "slice", 1000, 1ULL << 32, S(exec.slice),
	     "instructions per vCPU turn (round-robin)"),

	SV_TLB_ARRAY_LIST(TLB_ROWS)
	ENUM(tlb, "replacement", repl_names, SZ(sv_tlb_config, replacement),
	     "the TLBs' replacement policy"),
	ENUM(tlb, "conflict", conflict_names, SZ(sv_tlb_config, conflict),
	     "a lookup that matches two page sizes: use the smaller or the "
	     "larger entry, a machine check, or an abort"),

	SV_COST_LIST(COST_ROW)

	UINT(cache, "l1d_kb", 0, 1U << 20, S(cache.l1d_kb),
	     "KiB of L1 data cache (0: absent; a level present turns the "
	     "cache model on)"),
	UINT(cache, "l1d_ways", 1, 64, S(cache.l1d_ways), "its ways"),
	UINT(cache, "l2_kb", 0, 1U << 20, S(cache.l2_kb), "KiB of L2 (0: absent)"),
	UINT(cache, "l2_ways", 1, 64, S(cache.l2_ways), "its ways"),
	UINT(cache, "llc_kb", 0, 1U << 22, S(cache.llc_kb),
	     "KiB of last-level cache (0: absent)"),
	UINT(cache, "llc_ways", 1, 64, S(cache.llc_ways), "its ways"),

	{SC_G_trace, "file", SC_STR, 0, 0, 0, false, true, NULL, 0,
	 S(trace_file), "required", "a path (from the scenario file's folder)",
	 "the trace: the workload, run through the guest kernel's memory "
	 "model on vCPU 0"},
	ENUM(trace, "format", trace_names, S(trace_format),
	     "docs/trace.md: text, lackey (valgrind's), champsim (raw, gzip "
	     "or xz) or simvirt (a recorder's stream or a recorded run)"),
	UINT(trace, "records", 0, UINT64_MAX, S(trace_records),
	     "stop after this many records (0: run the whole trace)"),

	TEXT(guestmm, "slot", S(gmm_slot_name), "the first memslot",
	     "the NAME of a [memslot.NAME]",
	     "the memslot whose whole range the guest kernel manages (page "
	     "frames and page tables; 2M-aligned, 4M at least)"),
	ENUM(guestmm, "thp", thp_names, SZ(sv_scenario, gmm.thp),
	     "the guest's transparent huge pages (MADV_HUGEPAGE ranges only "
	     "under madvise; a trace's automatic VMAs have none)"),
	UINT(guestmm, "max_ptes_none", 0, 511, S(gmm.max_ptes_none),
	     "the guest khugepaged's max_ptes_none"),
	UINT(guestmm, "pages_to_scan", 1, 1U << 24, S(gmm.pages_to_scan),
	     "PTEs the guest's khugepaged scans per wake-up"),
	UINT(guestmm, "khugepaged_period", 0, UINT64_MAX, S(khugepaged_period),
	     "trace records (a program: instructions) between two wake-ups "
	     "of the guest's khugepaged (0: it never runs)"),
	UINT(guestmm, "flush_ceiling", 0, 1U << 20, S(gmm.flush_ceiling),
	     "tlb_single_page_flush_ceiling: unmaps of more pages flush the "
	     "whole TLB"),
	UINT(guestmm, "frag_percent", 0, 100, S(gmm.frag_percent),
	     "percent of the guest's 2M blocks holding a kernel page from "
	     "boot (no THP from them)"),
	UINT(guestmm, "seed", 0, UINT64_MAX, S(gmm.seed),
	     "seeds which blocks frag_percent takes"),
	BOOL(guestmm, "use_zero_page", S(gmm.use_zero_page),
	     "a read fault that may be a THP maps the huge zero page"),
	ENUM(guestmm, "defrag", defrag_names, S(gmm.defrag),
	     "what a THP fault that finds no free 2M block does: compact now "
	     "(always; madvise and defer+madvise for madvised ranges), let "
	     "kcompactd compact before khugepaged's next pass (defer), or "
	     "fall back (never)"),

	{SC_G_program, "path", SC_STR, 0, 0, 0, false, true, NULL, 0,
	 S(prog_text), "required", "a path (from the scenario file's folder)",
	 "the static x86-64 Linux executable: the workload, its kernel the "
	 "guest kernel's memory model (docs/programs.md)"},
	TEXT(program, "args", S(prog_args), "none", "words, as a shell splits "
	     "them", "its arguments after argv[0] (the path)"),
	TEXT(program, "env", S(prog_env), "none", "NAME=VALUE words",
	     "its environment"),
	TEXT(program, "stdin", S(prog_stdin), "empty", "a path (from the "
	     "scenario file's folder)", "its standard input"),
	TEXT(program, "files", S(prog_files), "none", "GUEST=HOST words (HOST "
	     "from the scenario file's folder)",
	     "host files it may open read-only, each at the absolute path "
	     "GUEST"),
	TEXT(program, "stdout", S(prog_stdout), "discarded", "a path",
	     "where its standard output goes (bytes_written counts it)"),
	TEXT(program, "stderr", S(prog_stderr), "discarded", "a path",
	     "where its standard error goes"),
	UINT(program, "seed", 0, UINT64_MAX, S(prog.seed),
	     "seeds AT_RANDOM and getrandom"),
	ENUM(program, "mode", mode_names, S(prog.mode),
	     "the execution mode the run starts in"),
	UINT(program, "detail_at", 0, 1ULL << 50, S(prog.detail_at),
	     "from fast-forward, switch to detailed after this many "
	     "instructions (0: never)"),
	UINT(program, "instructions", 0, 1ULL << 50, S(prog_limit),
	     "stop after this many instructions (0: run to its exit)"),
	UINT(program, "syscall_cycles", 0, 1000000, S(prog.syscall_cycles),
	     "cycles of a system call's entry and return (its copies are "
	     "charged as accesses besides)"),
	UINT(program, "clock_mhz", 1, 100000, S(prog.clock_mhz),
	     "the rate its clock reads the cycles at (from 2026-01-01)"),

	ROW(phase, "actions", SC_ACTIONS, 0, 0, 0, false, NONAMES,
	    SZ(sc_phase, actions_text), "none",
	      "';'-separated VERB ARGS (simvirt list shows the verbs)"),
	TEXT(phase, "name", SZ(sc_phase, name), "sync N, insn COUNT or records COUNT", "text",
	     "the phase's name in reports"),
	UINT(phase, "instructions", 0, 1ULL << 50, SZ(sc_phase, insn),
	     "bind the phase to this instruction count instead of sync N "
	     "(0: sync N)"),
	UINT(phase, "records", 0, UINT64_MAX, SZ(sc_phase, records),
	     "a trace run's phases: the phase begins after this many records"),
};

const sc_key *sv_scenario__key(size_t i)
{
	return i < G_N_ELEMENTS(keys) ? &keys[i] : NULL;
}

const sc_key *sv_scenario__key_find(sc_group g, const char *name)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(keys); i++)
		if (keys[i].group == g && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* The public option structs the groups' members are. */
static const struct {
	const char *member, *type;
} option_types[] = {
	{"vm.", "sv_vm_options."},     {"mmu.", "sv_mmu_options."},
	{"host.", "sv_host_options."}, {"work.", "sv_workload."},
	{"exec.", "sv_exec_options."}, {"gmm.", "sv_guestmm_options."},
};

/* The key whose value is stored in that member of that struct, or NULL. */
static const sc_key *key_of_field(const char *member, const char *field,
				  size_t len)
{
	size_t i, m = strlen(member);

	for (i = 0; i < G_N_ELEMENTS(keys); i++)
		if (keys[i].field && !strncmp(keys[i].field, member, m) &&
		    strlen(keys[i].field + m) == len &&
		    !strncmp(keys[i].field + m, field, len))
			return &keys[i];
	return NULL;
}

char *sv_scenario__user_words(const char *detail)
{
	static const char ident[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
	GString *out = g_string_new(NULL);
	const char *p = detail;
	size_t i;

	while (*p) {
		const sc_key *k = NULL;
		size_t n = 0;

		for (i = 0; !k && i < G_N_ELEMENTS(option_types); i++) {
			const char *f;

			if (!g_str_has_prefix(p, option_types[i].type))
				continue;
			f = p + strlen(option_types[i].type);
			n = strspn(f, ident);
			k = key_of_field(option_types[i].member, f, n);
			n += (size_t)(f - p);
		}
		if (k) {
			g_string_append_printf(out, "[%s] %s",
					       sv_scenario__group_names[k->group],
					       k->name);
			p += n;
		} else {
			g_string_append_c(out, *p++);
		}
	}
	return g_string_free(out, FALSE);
}

/* ---- values in words ------------------------------------------------------------- */

/* A size as a file would write it: the largest exact K/M/G/T, else the
 * number. */
static char *size_text(uint64_t v)
{
	static const char units[] = "KMGT";
	int u;

	for (u = 3; u >= 0 && v; u--) {
		uint64_t mul = 1ULL << (10 * (u + 1));

		if (v % mul == 0)
			return g_strdup_printf("%" PRIu64 "%c", v / mul, units[u]);
	}
	return g_strdup_printf("%" PRIu64, v);
}

static char *bug_list(void)
{
	GString *list = g_string_new("a comma-separated list of ");
	GString *c_only = g_string_new("");
	bool scenario;
	const char *name;
	size_t i, n = 0;

	for (i = 0; (name = sv_mmu_bug(i, NULL, &scenario, NULL)); i++) {
		if (!scenario) {
			g_string_append_printf(c_only, "%s%s", c_only->len ? ", " : "",
					       name);
			continue;
		}
		g_string_append_printf(list, "%s%s", n++ ? ", " : "", name);
	}
	if (c_only->len)
		g_string_append_printf(list, " (%s needs a vCPU in SMM: the C "
					     "API's sv_vcpu_set_smm)",
				       c_only->str);
	g_string_free(c_only, TRUE);
	return g_string_free(list, FALSE);
}

/* "true,false,true": bit i for pass i+1, the last value for the passes
 * after it. */
static bool parse_writes(const char *v, uint64_t *out)
{
	g_auto(GStrv) parts = g_strsplit(v, ",", -1);
	unsigned i, n = g_strv_length(parts);
	bool b = false;

	if (n == 0 || n > 64)
		return false;
	*out = 0;
	for (i = 0; i < 64; i++) {
		if (i < n && !sv_keyfile__parse_bool(g_strstrip(parts[i]), &b))
			return false;
		if (b)
			*out |= 1ULL << i;
	}
	return true;
}

/* The shortest list that gives the mask back. */
static char *writes_text(uint64_t v)
{
	GString *s = g_string_new("");
	unsigned n = 64, i;

	while (n > 1 && ((v >> (n - 1)) & 1) == ((v >> (n - 2)) & 1))
		n--;
	for (i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s", i ? "," : "",
				       (v >> i) & 1 ? "true" : "false");
	return g_string_free(s, FALSE);
}

char *sv_scenario__values(const sc_key *k)
{
	switch (k->type) {
	case SC_UINT:
		if (k->pow2)
			return g_strdup_printf("0 or a power of two up to %" PRIu64,
					       k->max);
		return g_strdup_printf("a whole number from %" PRIu64 " to %" PRIu64,
				       k->min, k->max);
	case SC_SIZE: {
		g_autofree char *lo = size_text(k->min), *hi = size_text(k->max);

		if (k->pow2)
			return g_strdup_printf("0 or a power of two (K/M/G "
					       "suffixes allowed) up to %s", hi);
		g_autofree char *al = k->align ? size_text(k->align) : NULL;

		return g_strdup_printf("a size (K/M/G suffixes allowed) from %s "
				       "to %s%s%s",
				       lo, hi, al ? ", a multiple of " : "",
				       al ? al : "");
	}
	case SC_BOOL:
		return g_strdup("true or false");
	case SC_ENUM:
		return sv_keyfile__name_list(k->names, k->nnames);
	case SC_KVER:
		return g_strdup("a version 5.0 to 7.99 such as 6.12");
	case SC_BUGS:
		return bug_list();
	case SC_PAGE:
		return g_strdup("4K, 2M or 1G");
	case SC_LIMIT:
		return g_strdup("auto or a size (K/M/G suffixes allowed); 0: no "
				"limit");
	case SC_ACTIONS:
		return g_strdup("VERB ARGS; VERB ARGS; ...");
	case SC_WRITES:
		return g_strdup("true or false, or a comma-separated list of "
				"them, one per pass (the last repeats), at most "
				"64");
	case SC_WORKLOAD: {
		GPtrArray *names = g_ptr_array_new();
		const char *name;
		char *list;
		size_t i;

		for (i = 0; (name = sv_workload_name(i)); i++)
			g_ptr_array_add(names, (gpointer)name);
		list = sv_keyfile__name_list((const char *const *)names->pdata,
					     names->len);
		g_ptr_array_free(names, TRUE);
		return list;
	}
	case SC_POLICY:
		return g_strdup("auto (by kernel_version), kvm, kvm-legacy or a "
				"policy registered with sv_mmu_policy_register");
	default:
		return g_strdup(k->takes ? k->takes : "text");
	}
}

/* ---- storing and reading values --------------------------------------------------- */

static void store(const sc_key *k, void *base, uint64_t v)
{
	uint8_t *p = (uint8_t *)base + k->off;

	switch (k->width) {
	case 1: {
		uint8_t x = (uint8_t)v;

		memcpy(p, &x, 1);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;

		memcpy(p, &x, 4);
		break;
	}
	default:
		memcpy(p, &v, 8);
	}
}

static uint64_t fetch(const sc_key *k, const void *base)
{
	const uint8_t *p = (const uint8_t *)base + k->off;

	switch (k->width) {
	case 1:
		return *p;
	case 4: {
		uint32_t x;

		memcpy(&x, p, 4);
		return x;
	}
	default: {
		uint64_t x;

		memcpy(&x, p, 8);
		return x;
	}
	}
}

static bool parse_kver(const char *v, uint64_t *out)
{
	unsigned major, minor;
	char tail;

	if (sscanf(v, "%u.%u%c", &major, &minor, &tail) != 2 || major < 5 ||
	    major > 7 || minor > 99)
		return false;
	*out = SV_KERNEL(major, minor);
	return true;
}

static bool parse_bugs(const char *v, uint64_t *out)
{
	g_auto(GStrv) list = g_strsplit(v, ",", -1);
	unsigned i, bit;
	bool scenario;
	const char *name;
	size_t b;

	*out = 0;
	if (!*v)
		return true;
	for (i = 0; list[i]; i++) {
		g_strstrip(list[i]);
		for (b = 0; (name = sv_mmu_bug(b, &bit, &scenario, NULL)); b++)
			if (scenario && !strcmp(name, list[i]))
				break;
		if (!name)
			return false;
		*out |= bit;
	}
	return true;
}

/* Parses v for row k: true with *out, false for a value the row refuses. */
static bool parse(const sc_key *k, const char *v, uint64_t *out)
{
	bool b;
	int i;

	switch (k->type) {
	case SC_UINT:
	case SC_SIZE:
		if (!sv_keyfile__parse_uint(v, k->type == SC_SIZE, out) ||
		    *out < k->min || *out > k->max)
			return false;
		return !k->pow2 || !(*out & (*out - 1));
	case SC_BOOL:
		if (!sv_keyfile__parse_bool(v, &b))
			return false;
		*out = b;
		return true;
	case SC_ENUM:
		i = sv_keyfile__parse_name(v, k->names, k->nnames);
		/* the tri-state's names stand for SV_BY_VERSION, 0, 1 */
		*out = (uint64_t)(int64_t)(k->names == tri_names ? i - 1 : i);
		return i >= 0;
	case SC_KVER:
		return parse_kver(v, out);
	case SC_BUGS:
		return parse_bugs(v, out);
	case SC_WRITES:
		return parse_writes(v, out);
	case SC_PAGE:
		return sv_keyfile__parse_uint(v, true, out) &&
		       (*out == SV_PAGE_4K || *out == SV_PAGE_2M ||
			*out == SV_PAGE_1G);
	case SC_LIMIT:
		if (!strcmp(v, "auto")) {
			*out = SC_AUTO;
			return true;
		}
		return sv_keyfile__parse_uint(v, true, out) && *out != SC_AUTO;
	case SC_WORKLOAD:
		for (i = 0; sv_workload_name((size_t)i); i++)
			if (!strcmp(sv_workload_name((size_t)i), v))
				return true;
		return false;
	case SC_POLICY:
		return !strcmp(v, "auto") || sv_mmu_policy_find(v) != NULL;
	default:
		return true;
	}
}

/* Kept as the text itself (a char * in the struct). */
static bool is_text(const sc_key *k)
{
	return k->type == SC_STR || k->type == SC_WORKLOAD ||
	       k->type == SC_POLICY || k->type == SC_ACTIONS;
}

static int bad_key(const char *file, const char *group, const char *key,
		   sc_group g)
{
	g_autoptr(GString) list = g_string_new("");
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(keys); i++)
		if (keys[i].group == g)
			g_string_append_printf(list, "%s%s", list->len ? ", " : "",
					       keys[i].name);
	return sv_err__set(NULL, SV_ECONFIG,
			   "%s: [%s] %s: unknown key (expected one of %s)", file,
			   group, key, list->str);
}

int sv_scenario__load_group(GKeyFile *kf, const char *file, const char *group,
			    sc_group g, void *base)
{
	g_auto(GStrv) have = g_key_file_get_keys(kf, group, NULL, NULL);
	size_t i;

	for (i = 0; have && have[i]; i++)
		if (!sv_scenario__key_find(g, have[i]))
			return bad_key(file, group, have[i], g);
	for (i = 0; i < G_N_ELEMENTS(keys); i++) {
		const sc_key *k = &keys[i];
		g_autofree char *v = NULL;
		uint64_t n;

		if (k->group != g)
			continue;
		v = sv_keyfile__value(kf, group, k->name);
		if (!v) {
			if (k->required)
				return sv_err__set(NULL, SV_ECONFIG,
						   "%s: [%s] %s: missing (%s)", file,
						   group, k->name, k->help);
			continue;
		}
		if (k->type == SC_ACTIONS)
			continue;
		if (!parse(k, v, &n)) {
			g_autofree char *what = sv_scenario__values(k);

			return sv_keyfile__bad(file, group, k->name, what, v);
		}
		if (k->type == SC_SIZE && k->align && n % k->align) {
			g_autofree char *al = size_text(k->align);
			g_autofree char *what = g_strdup_printf("a multiple of %s", al);

			return sv_keyfile__bad(file, group, k->name, what, v);
		}
		if (is_text(k)) {
			char **p = (char **)((uint8_t *)base + k->off);

			g_free(*p);
			*p = g_steal_pointer(&v);
			continue;
		}
		store(k, base, n);
	}
	return SV_OK;
}

char *sv_scenario__format(const sc_key *k, const void *base)
{
	uint64_t v;

	if (is_text(k)) {
		const char *const *p =
			(const char *const *)((const uint8_t *)base + k->off);

		return g_strdup(*p ? *p : "");
	}
	v = fetch(k, base);
	switch (k->type) {
	case SC_BOOL:
		return g_strdup(v ? "true" : "false");
	case SC_ENUM: {
		int i = (int)(int32_t)v + (k->names == tri_names ? 1 : 0);

		return g_strdup(i >= 0 && (unsigned)i < k->nnames ? k->names[i]
								  : "?");
	}
	case SC_KVER:
		return g_strdup_printf("%u.%u", (unsigned)v / 100,
				       (unsigned)v % 100);
	case SC_BUGS: {
		GString *list = g_string_new("");
		const char *name;
		unsigned bit;
		size_t b;

		for (b = 0; (name = sv_mmu_bug(b, &bit, NULL, NULL)); b++)
			if (v & bit)
				g_string_append_printf(list, "%s%s",
						       list->len ? "," : "", name);
		return g_string_free(list, FALSE);
	}
	case SC_WRITES:
		return writes_text(v);
	case SC_LIMIT:
		if (v == SC_AUTO)
			return g_strdup("auto");
		/* fall through */
	case SC_SIZE:
	case SC_PAGE:
		return size_text(v);
	default:
		return g_strdup_printf("%" PRIu64, v);
	}
}
