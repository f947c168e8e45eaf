/*
 * lib/scenario/run.c - running a plan: building its host, VM and guest
 * through the public API, running the guest, and carrying out each
 * phase's actions at its boundary; the report snapshots every boundary.
 *
 * How a run goes:
 *  1. Build: the host (its RAM and hugetlbfs pools sized for the memslots
 *     unless the plan says), the VM and its MMU, one host mapping and one
 *     memslot per [memslot.NAME] (1G-aligned host addresses plus the
 *     slot's hva_offset), then the guest: its page tables over the region
 *     and the workload.
 *  2. The first phase, "start", begins; the guest runs.  At each sync
 *     point the guest reaches, and at each instruction count a phase is
 *     bound to, a boundary snapshots the counters and runs that phase's
 *     actions in order.
 *  3. The run ends when every vCPU halted, at [guest] instructions, at a
 *     guest fault, or when the caller's on_phase stops it; the last
 *     snapshot closes the report.
 * With a recording, the guest's model inputs go into the trace (the one
 * seam of lib/cpu/record.h), and so do the boundaries.
 */
#include <unistd.h>

#include "scenario/run.h"
#include "scenario/schema.h"

#define HVA_BASE 0x100000000000ULL /* where the memslots' host memory goes */

/* ---- building ----------------------------------------------------------------------- */

/* A set-up call failed: say which group it came from. */
static int setup_err(const sv_scenario *s, const char *group, int rc)
{
	g_autofree char *d = sv_scenario__user_words(sv_error_detail());

	rc = rc == SV_ENOMEM || rc == SV_EIO ? rc : SV_ECONFIG;
	if (d[0] == '[') /* it names the key already */
		return sv_err__set(NULL, rc, "%s: %s", s->file, d);
	return sv_err__set(NULL, rc, "%s: [%s]: %s", s->file, group, d);
}

static uint64_t slot_pages(const sc_slot *sl)
{
	return sl->size >> 12;
}

/* The mmap of a slot's backing over [hva, hva + size): its arguments. */
static sv_host_mmap_args slot_mmap(const sc_slot *sl, uint64_t hva,
				   uint64_t size)
{
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.hva = hva,
		.size = size,
		.prot = SV_PROT_READ | SV_PROT_WRITE,
		.flags = SV_MAP_FIXED,
		.backing = SV_BACKING_ANON,
	};

	switch (sl->backing) {
	case B_HUGETLB_2M: a.backing = SV_BACKING_HUGETLB_2M; break;
	case B_HUGETLB_1G: a.backing = SV_BACKING_HUGETLB_1G; break;
	case B_DAX_PMD: a.backing = SV_BACKING_DAX; a.align = SV_PAGE_2M; break;
	case B_DAX_PUD: a.backing = SV_BACKING_DAX; a.align = SV_PAGE_1G; break;
	case B_PFNMAP:
		a.backing = SV_BACKING_PFNMAP;
		a.flags |= SV_MAP_NO_STRUCT_PAGE;
		break;
	case B_PFNMAP_RAM:
		a.backing = SV_BACKING_PFNMAP;
		a.flags |= SV_MAP_NO_REFCOUNT;
		break;
	case B_READONLY: a.prot = SV_PROT_READ; break;
	default: break;
	}
	return a;
}

/* mmap of the slot's backing at [hva, hva + len), madvised for THP as the
 * slot was. */
static int map_backing(sc_run *r, const sc_slot *sl, uint64_t hva,
		       uint64_t len, uint64_t *out)
{
	sv_host_mmap_args a = slot_mmap(sl, hva, len);
	int rc = sv_host_mmap(out, r->h, &a);

	if (rc == SV_OK && sl->backing == B_THP)
		rc = sv_host_madvise(r->h, *out, len, SV_MADV_HUGEPAGE);
	return rc;
}

static int build_slot(sc_run *r, guint i, uint64_t *next)
{
	const sc_slot *sl = &g_array_index(r->s->slots, sc_slot, i);
	g_autofree char *group = g_strdup_printf("memslot.%s", sl->name);
	sv_memslot_region m = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = i,
		.gpa = sl->gpa,
		.size = sl->size,
	};
	uint64_t hva;
	int rc;

	/* Naturally aligned (1G), plus the deliberate misalignment. */
	hva = ((*next + SV_PAGE_1G - 1) & ~(SV_PAGE_1G - 1)) + sl->hva_offset;
	if (sl->vma_align) {
		/* one VMA over the aligned range around the slot */
		uint64_t lo = hva & ~(sl->vma_align - 1);
		uint64_t hi = (hva + sl->size + sl->vma_align - 1) &
			      ~(sl->vma_align - 1);

		rc = map_backing(r, sl, lo, hi - lo, &r->hva[i]);
		r->hva[i] = hva;
		*next = hi;
	} else {
		rc = map_backing(r, sl, hva, sl->size, &r->hva[i]);
		*next = hva + sl->size;
	}
	if (rc != SV_OK)
		return setup_err(r->s, group, rc);
	if (sl->readonly || sl->backing == B_READONLY)
		m.flags = SV_MEMSLOT_READONLY;
	m.hva = r->hva[i];
	r->flags[i] = m.flags;
	rc = sv_memslot_set(r->vm, &m);
	return rc == SV_OK ? SV_OK : setup_err(r->s, group, rc);
}

/* This machine's RAM in bytes (0 if it cannot tell: then no limit). */
static uint64_t machine_ram(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* Host memory, hugetlbfs pools and RAM sized for the slots unless the
 * scenario says otherwise; mem_limit auto is half of this machine's RAM. */
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
	ho.kernel_version = s->mmu.kernel_version; /* KVM is the host's */
	if (ho.resident_limit == SC_AUTO)
		ho.resident_limit = machine_ram() / 2;
	if (!s->host_mem_set)
		ho.mem_size = MAX(ho.mem_size, need);
	if (!s->host_pools_set) {
		ho.hugetlb_2m_pages = p2;
		ho.hugetlb_1g_pages = p1;
	}
	return ho;
}

/* The host, the VM and its memslots: everything but the guest. */
static int build_machine(sc_run *r)
{
	const sv_scenario *s = r->s;
	sv_host_options ho = host_options(s);
	sv_mmu_options mo = s->mmu;
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
	if (rc == SV_OK)
		rc = sv_vm_set_cache(r->vm, &s->cache);
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
	return SV_OK;
}

int sv_scenario__build(sc_run *r)
{
	const sv_scenario *s = r->s;
	sv_workload w = s->work;
	const sc_slot *reg;
	int rc;

	rc = build_machine(r);
	if (rc || s->trace_file)
		return rc ? rc : sv_scenario__build_trace(r);
	if (s->prog_text)
		return sv_scenario__build_program(r);
	rc = sv_exec__create(&r->ex, r->vm, &s->exec, !r->replay);
	if (rc)
		return setup_err(s, "guest", rc);
	reg = &g_array_index(s->slots, sc_slot, s->region);
	rc = sv_exec_map(r->ex, w.gva, reg->gpa, w.size, s->page_size,
			 SV_EXEC_MAP_WRITE);
	w.name = s->workload;
	if (rc == SV_OK && s->steal_time)
		rc = sv_exec_set_steal_time(r->ex, s->steal_gpa, s->steal_interval);
	if (rc == SV_OK)
		rc = sv_exec_load_workload(r->ex, &w);
	return rc == SV_OK ? SV_OK : setup_err(s, "guest", rc);
}

void sv_scenario__run_free(sc_run *r)
{
	guint i;

	sv_exec_free(r->ex);
	sv_program_free(r->prog);
	sv_trace_reader_close(r->tr);
	sv_guestmm_free(r->gm);
	sv_vm_free(r->vm);
	sv_host_free(r->h);
	for (i = 0; r->bitmap && i < r->s->slots->len; i++)
		g_free(r->bitmap[i]);
	g_free(r->bitmap);
	g_free(r->hva);
	g_free(r->flags);
	g_free(r->phase);
}

void sv_run_options_init(sv_run_options *opts)
{
	static const sv_run_options d = SV_RUN_OPTIONS_INIT;

	if (opts)
		memcpy(opts, &d, sizeof(d)); /* the padding too */
}

int sv_scenario__options(sc_run *r, const sv_run_options *opts)
{
	sv_run_options def = SV_RUN_OPTIONS_INIT;

	r->opts = def;
	r->o = &r->opts;
	if (!opts)
		return SV_OK;
	if (opts->version != 1 && opts->version != SV_RUN_OPTIONS_VERSION)
		return sv_err__set(NULL, SV_EINVAL, "run options: version %u "
				   "(expected 1 or %u)", opts->version,
				   SV_RUN_OPTIONS_VERSION);
	/* version 1 ends at payload */
	r->opts.record = opts->record;
	r->opts.on_phase = opts->on_phase;
	r->opts.payload = opts->payload;
	if (opts->version >= 2) {
		r->opts.on_progress = opts->on_progress;
		r->opts.progress_interval = opts->progress_interval;
	}
	if (!(r->opts.progress_interval > 0))
		r->opts.progress_interval = 0.25;
	r->t0 = r->last = g_get_monotonic_time();
	return SV_OK;
}

void sv_scenario__progress(sc_run *r, uint64_t trace_done)
{
	gint64 now;
	sv_progress p;
	unsigned i;

	if (!r->o->on_progress)
		return;
	now = g_get_monotonic_time();
	if ((double)(now - r->last) < r->o->progress_interval * 1e6)
		return;
	r->last = now;
	memset(&p, 0, sizeof(p));
	p.phase = r->phase ? r->phase : "start";
	p.boundaries = r->boundaries;
	for (i = 0; r->vm && i < r->s->vm.vcpus; i++)
		p.instructions += sv_vcpu_stat_get(sv_vm_vcpu(r->vm, i),
						   SV_VCPU_STAT_instructions);
	p.instructions_total = r->s->limit * r->s->vm.vcpus;
	p.trace_done = trace_done;
	p.trace_size = r->trace_size;
	p.seconds = (double)(now - r->t0) / 1e6;
	r->o->on_progress(&p, r->o->payload);
}

static void beat(void *payload)
{
	sv_scenario__progress(payload, 0);
}

/* ---- actions -------------------------------------------------------------------------- */

static int dirty_log(sc_run *r, const sc_action *a)
{
	const sc_slot *sl = &g_array_index(r->s->slots, sc_slot, a->slot);
	uint64_t words = (slot_pages(sl) + 63) / 64;
	sv_memslot_region m = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = (uint32_t)a->slot,
		.gpa = sl->gpa,
		.size = sl->size,
		.hva = r->hva[a->slot],
	};
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

/* Before the run no THP is mapped yet: a split can only be checked to
 * fall in memory that may hold one. */
static int dry_split_thp(sc_run *r, uint64_t hva)
{
	sv_host_vma v;

	if (sv_host_vma_info(&v, r->h, hva) || v.backing != SV_BACKING_ANON)
		return sv_err__set(NULL, SV_EINVAL, "split_thp: 0x%" PRIx64
				   " is not in private anonymous memory, which "
				   "no THP can back (EINVAL)", hva);
	return SV_OK;
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
	case V_mmap:
		return map_backing(r, sl, start, len, &start);
	case V_mprotect:
		return sv_host_mprotect(r->h, start, len, a->arg);
	case V_madvise:
		return sv_host_madvise(r->h, start, len, (sv_madvise)a->arg);
	case V_collapse:
		return sv_host_madvise(r->h, start, len, SV_MADV_COLLAPSE);
	case V_khugepaged:
		return sv_host_khugepaged(&n, r->h);
	case V_split_thp:
		return r->dry ? dry_split_thp(r, start) : sv_host_split_thp(r->h, start);
	case V_migrate:
		return sv_host_migrate(r->h, start, len);
	case V_ksm:
		return sv_host_ksm(&n, r->h, start, len);
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
		return sv_mmu_flush_remote_tlbs(r->vm);
	case V_guest_khugepaged:
		return sv_scenario__guest_khugepaged(r);
	case V_mode:
		if (r->prog)
			sv_program_set_mode(r->prog, (sv_exec_mode)a->arg);
		else if (!r->replay && r->ex)
			sv_exec_set_mode(r->ex, (sv_exec_mode)a->arg);
		return SV_OK;
	default:
		return sv_err__set(NULL, SV_EBUG, "action %d", (int)a->verb);
	}
}

/* ---- phase boundaries ------------------------------------------------------------------ */

/* A phase's actions, in order; an error names the phase and action. */
static int phase_actions(sc_run *r, const sc_phase *ph)
{
	guint i;

	for (i = 0; ph && i < ph->actions->len; i++) {
		const sc_action *a = &g_array_index(ph->actions, sc_action, i);
		int rc = do_action(r, a);

		if (rc != SV_OK) {
			g_autofree char *d = g_strdup(sv_error_detail());

			return sv_err__set(NULL, r->dry ? SV_ECONFIG : rc,
					   "%s: [phase.%u] action %s%s%s: %s",
					   r->s->file, ph->n, sv_scenario__verb_name(a->verb),
					   a->slot >= 0 ? " " : "",
					   a->slot >= 0 ? g_array_index(r->s->slots,
									sc_slot, a->slot).name
							: "",
					   d);
		}
	}
	return SV_OK;
}

/* A phase begins: snapshot (ending the last one), then its actions. */
static int boundary(sc_run *r, const sc_phase *ph, const char *fallback)
{
	const char *name = ph && ph->name ? ph->name : fallback;
	int rc;

	sv_report__snap(r->rep, name, r->vm, r->h, r->gm, r->records, r->prog);
	g_free(r->phase);
	r->phase = g_strdup(name);
	r->boundaries++;
	rc = phase_actions(r, ph);
	if (rc)
		return rc;
	if (r->o->on_phase && r->o->on_phase(name, r->vm, r->o->payload))
		r->stopped = true;
	return SV_OK;
}

int sv_scenario__sync_boundary(sc_run *r, uint32_t n)
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

int sv_scenario__insn_boundary(sc_run *r, uint32_t index)
{
	const sc_phase *ph;
	g_autofree char *name = NULL;

	if (index >= r->s->phases->len)
		return sv_err__set(NULL, SV_ECONFIG, "trace: phase %u, but the scenario "
						     "has %u", index, r->s->phases->len);
	ph = g_ptr_array_index(r->s->phases, index);
	name = ph->records ? g_strdup_printf("records %" PRIu64, ph->records)
			   : g_strdup_printf("insn %" PRIu64, ph->insn);
	return boundary(r, ph, name);
}

int sv_scenario__check(const sv_scenario *s)
{
	sv_run_options def = SV_RUN_OPTIONS_INIT;
	sc_run r = {.s = s, .o = &def, .replay = true, .dry = true};
	bool sync = false, insn = false;
	guint i;
	int rc;

	if (host_options(s).mem_size > SV_HOST_MEM_MAX)
		return sv_err__set(NULL, SV_ECONFIG, "%s: [host] mem: the memslots "
				   "need %" PRIu64 "G of host RAM (each rounded "
				   "up to 1G, and 2G more), past the %lluG "
				   "modelled: set a smaller mem to overcommit",
				   s->file, host_options(s).mem_size >> 30,
				   SV_HOST_MEM_MAX >> 30);
	rc = build_machine(&r);
	if (rc == SV_OK && s->trace_file) {
		rc = sv_scenario__build_trace(&r);
	} else if (rc == SV_OK && s->prog_text) {
		rc = sv_scenario__build_program(&r);
	} else if (rc == SV_OK) {
		sv_workload w = s->work;

		w.name = s->workload;
		rc = sv_workload_check(&w, s->vm.vcpus);
		if (rc != SV_OK)
			rc = setup_err(s, "guest", rc);
	}
	for (i = 0; i < s->phases->len; i++) {
		const sc_phase *ph = g_ptr_array_index(s->phases, i);

		sync |= !ph->insn;
		insn |= ph->insn != 0;
	}
	/* Sync and instruction-count phases interleave as the guest runs:
	 * then only each action's own arguments were checked at loading. */
	for (i = 0; rc == SV_OK && !(sync && insn) && i < s->phases->len; i++)
		rc = phase_actions(&r, g_ptr_array_index(s->phases, i));
	if (rc != SV_OK && rc != SV_ECONFIG)
		rc = sv_err__set(NULL, SV_ECONFIG, "%s", sv_error_detail());
	sv_scenario__run_free(&r);
	return rc;
}

/* The configuration reports carry: [host] as the runner sizes it, but
 * mem_limit as planned ("auto" stays so: the same on every machine). */
static GPtrArray *plan_config(const sv_scenario *s)
{
	sv_host_options ho = host_options(s);

	ho.resident_limit = s->host.resident_limit;
	return sv_scenario__config(s, &ho);
}

const char *sv_scenario_config_text(sv_scenario *s)
{
	g_autoptr(GPtrArray) c = NULL;
	const char *group = NULL;
	GString *t;
	guint i;

	if (!s)
		return NULL;
	if (s->config_text)
		return s->config_text;
	c = plan_config(s);
	t = g_string_new("");
	for (i = 0; i + 2 < c->len; i += 3) {
		const char *g = g_ptr_array_index(c, i);

		if (!group || strcmp(group, g))
			g_string_append_printf(t, "%s[%s]\n", group ? "\n" : "", g);
		group = g;
		g_string_append_printf(t, "%s=", (char *)g_ptr_array_index(c, i + 1));
		sv_keyfile__escape(t, g_ptr_array_index(c, i + 2));
		g_string_append_c(t, '\n');
	}
	s->config_text = g_string_free(t, FALSE);
	return s->config_text;
}

int sv_scenario__start(sc_run *r)
{
	r->rep = sv_report__new(r->s->name, r->s->vm.vcpus,
				r->s->trace_file  ? SV_REPORT__TRACE
				: r->s->prog_text ? SV_REPORT__PROGRAM
						  : SV_REPORT__EXEC);
	sv_report__config(r->rep, plan_config(r->s));
	return boundary(r, NULL, "start");
}

void sv_scenario__finish(sc_run *r, const char *end)
{
	sv_report__snap(r->rep, NULL, r->vm, r->h, r->gm, r->records, r->prog);
	sv_report__end(r->rep, end);
	if (r->o->on_phase && !r->stopped)
		r->o->on_phase("end", r->vm, r->o->payload);
}

/* ---- running ---------------------------------------------------------------------------- */

static int on_sync(sv_exec *ex, uint32_t n, void *payload)
{
	sc_run *r = payload;
	sv_trace_event ev = {.kind = SV_TEV_SYNC, .n = n};

	SV_UNUSED(ex);
	if (r->w)
		sv_trace__put(r->w, &ev);
	r->err = sv_scenario__sync_boundary(r, n);
	return r->err || r->stopped ? 1 : 0;
}

static char *end_text(const sv_exec_result *res)
{
	switch (res->stop) {
	case SV_EXEC_HALTED:
		return g_strdup("halted");
	case SV_EXEC_LIMIT:
		return g_strdup("limit");
	case SV_EXEC_SHUTDOWN:
		if (res->fault.kind == SV_FAULT_NONE)
			return g_strdup_printf("shutdown: triple fault on vCPU %u, from "
					       "vector %d at rip 0x%" PRIx64,
					       res->vcpu, res->code, res->rip);
		return g_strdup_printf("shutdown: triple fault on vCPU %u, from %s "
				       "at rip 0x%" PRIx64 ", gva 0x%" PRIx64
				       ", error code 0x%" PRIx64,
				       res->vcpu, sv_fault_kind_name(res->fault.kind),
				       res->rip, res->fault.gva, res->fault.error_code);
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
		rc = sv_exec_run_until(&res, r->ex, step);
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

			sv_trace__put(r->w, &ev);
		}
		rc = sv_scenario__insn_boundary(r, next++);
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
	sc_run r = {.s = s};
	g_autofree char *end = NULL;
	int rc;

	sv_err__clear();
	if (out)
		*out = NULL;
	if (!out || !s)
		return sv_err__set(NULL, SV_EINVAL, "sv_scenario_run: NULL argument");
	rc = sv_scenario__options(&r, opts);
	if (rc != SV_OK)
		return rc;
	if (s->trace_file && r.o->record)
		return sv_err__set(NULL, SV_ECONFIG, "%s: a trace scenario cannot be "
						    "recorded: its trace is already "
						    "the input a rerun needs",
				   s->file);
	if (s->prog_text && r.o->record)
		return sv_err__set(NULL, SV_ECONFIG, "%s: a program scenario cannot "
						    "be recorded: the program and its "
						    "files are the input a rerun "
						    "needs", s->file);
	rc = sv_scenario__build(&r);
	if (rc == SV_OK && r.o->record)
		rc = sv_trace__create(&r.w, r.o->record, s->text);
	if (rc == SV_OK && s->trace_file) {
		rc = sv_scenario__start(&r);
		if (rc == SV_OK)
			rc = sv_scenario__run_trace(&r, &end);
	} else if (rc == SV_OK && s->prog_text) {
		rc = sv_scenario__start(&r);
		if (rc == SV_OK)
			rc = sv_scenario__run_program(&r, &end);
	} else if (rc == SV_OK) {
		sv_exec__set_recorder(r.ex, r.w);
		sv_exec_set_sync(r.ex, on_sync, &r);
		if (r.o->on_progress)
			sv_exec__set_beat(r.ex, beat, &r);
		rc = sv_scenario__start(&r);
	}
	if (rc == SV_OK && !end)
		rc = run_loop(&r, &end);
	if (rc == SV_OK)
		sv_scenario__finish(&r, end);
	if (r.w) {
		int crc = sv_trace__close(r.w, end ? end : "error");

		if (rc == SV_OK)
			rc = crc;
	}
	sv_scenario__run_free(&r);
	if (rc == SV_OK)
		*out = r.rep;
	else
		sv_report_free(r.rep);
	return rc;
}
