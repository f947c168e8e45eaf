/*
 * lib/scenario/trace.c - scenarios whose workload is a memory trace: the
 * [trace] and [guestmm] groups, and the run, which goes through the guest
 * kernel's memory model (simvirt/guestmm.h) on vCPU 0 instead of Unicorn.
 *
 * How a trace run goes:
 *  1. Loading: [trace] names the file (found from the scenario file's
 *     folder) and its format; [guestmm] the memslot the guest kernel
 *     manages and its settings.  A trace scenario has no [guest] group,
 *     one vCPU, and phases bound to record counts ([phase.N] records=).
 *  2. Building: the machine as for any scenario, then the guest kernel
 *     over its memslot, vCPU 0 in long mode on the kernel's CR3 with
 *     CR0.WP set (as Linux runs), and the trace opened.
 *  3. Running: the records in runs up to the next phase boundary or the
 *     next khugepaged wake-up, whichever comes first; each boundary takes
 *     its snapshot (with the guest kernel's counters) and does its actions.
 */
#include <errno.h>

#include <glib/gstdio.h>

#include "scenario/run.h"
#include "scenario/schema.h"

/* ---- loading ------------------------------------------------------------------- */

static int trace_err(const sv_scenario *s, const char *group, const char *what)
{
	return sv_err__set(NULL, SV_ECONFIG, "%s: [%s]: %s", s->file, group, what);
}

/* The file as written, found from the scenario file's folder unless it is
 * absolute; it must be a readable file now. */
static int find_trace(sv_scenario *s, const sc_ctx *c)
{
	g_autofree char *dir = g_path_get_dirname(c->file);
	FILE *f;

	s->trace_path = g_path_is_absolute(s->trace_file) || !strcmp(dir, ".")
				? g_strdup(s->trace_file)
				: g_build_filename(dir, s->trace_file, NULL);
	if (g_file_test(s->trace_path, G_FILE_TEST_IS_DIR))
		return sv_err__set(NULL, SV_ECONFIG, "%s: [trace] file: %s is a "
						     "folder (expected a trace file)",
				   c->file, s->trace_path);
	f = fopen(s->trace_path, "rb");
	if (!f)
		return sv_err__set(NULL, SV_ECONFIG, "%s: [trace] file: %s: %s",
				   c->file, s->trace_path, g_strerror(errno));
	fclose(f);
	return SV_OK;
}

int sv_scenario__load_trace(sv_scenario *s, const sc_ctx *c)
{
	int rc;

	if (!g_key_file_has_group(c->kf, "trace")) {
		if (g_key_file_has_group(c->kf, "guestmm") &&
		    !g_key_file_has_group(c->kf, "program"))
			return trace_err(s, "guestmm", "only with a [trace] or "
					 "[program] group (the guest kernel's memory "
					 "model runs traces and programs; the "
					 "built-in workloads build their own page "
					 "tables)");
		return SV_OK;
	}
	if (g_key_file_has_group(c->kf, "guest"))
		return trace_err(s, "guest", "a scenario with a [trace] group runs "
				 "the trace as its workload: expected no [guest] "
				 "group");
	rc = sv_scenario__load_group(c->kf, c->file, "trace", SC_G_trace, s);
	if (!rc)
		rc = sv_scenario__load_group(c->kf, c->file, "guestmm", SC_G_guestmm, s);
	if (rc)
		return rc;
	if (!*s->trace_file)
		return sv_keyfile__bad(c->file, "trace", "file", "a path", "");
	if (s->vm.vcpus != 1)
		return trace_err(s, "vm", "vcpus: a trace is one vCPU's accesses: "
				 "expected 1");
	rc = find_trace(s, c);
	return rc ? rc : sv_scenario__load_gmm_slot(s, c);
}

int sv_scenario__load_gmm_slot(sv_scenario *s, const sc_ctx *c)
{
	const sc_slot *sl;
	int slot;

	if (!s->gmm_slot_name && s->slots->len)
		s->gmm_slot_name = g_strdup(g_array_index(s->slots, sc_slot, 0).name);
	if (!s->gmm_slot_name)
		return trace_err(s, "guestmm", "slot: there is no [memslot.NAME] "
				 "group for the guest's memory");
	slot = sv_scenario__find_slot(s, s->gmm_slot_name);
	if (slot < 0)
		return sv_keyfile__bad(c->file, "guestmm", "slot",
				       "the name of a [memslot.NAME] group",
				       s->gmm_slot_name);
	sl = &g_array_index(s->slots, sc_slot, slot);
	if ((sl->gpa | sl->size) & (SV_PAGE_2M - 1) || sl->size < 2 * SV_PAGE_2M)
		return sv_keyfile__bad(c->file, "guestmm", "slot",
				       "a memslot of at least 4M whose gpa and "
				       "size are multiples of 2M",
				       s->gmm_slot_name);
	s->gmm_slot = slot;
	s->gmm.mem_gpa = sl->gpa;
	s->gmm.mem_size = sl->size;
	return SV_OK;
}

int sv_scenario__check_trace_phases(const sv_scenario *s)
{
	guint i, j;

	for (i = 0; i < s->phases->len; i++) {
		const sc_phase *ph = g_ptr_array_index(s->phases, i);

		if (s->trace_file && (!ph->records || ph->insn))
			return sv_err__set(NULL, SV_ECONFIG,
					   "%s: [phase.%u]: a trace run's phases are "
					   "bound to a record count: expected "
					   "records=COUNT (and no instructions)",
					   s->file, ph->n);
		if (s->prog_text && (ph->records || !ph->insn))
			return sv_err__set(NULL, SV_ECONFIG,
					   "%s: [phase.%u]: a program run's phases "
					   "are bound to an instruction count: "
					   "expected instructions=COUNT",
					   s->file, ph->n);
		if (!s->trace_file && ph->records)
			return sv_err__set(NULL, SV_ECONFIG,
					   "%s: [phase.%u] records: only in a "
					   "scenario with a [trace] group",
					   s->file, ph->n);
		for (j = 0; j < ph->actions->len; j++) {
			sc_verb v = g_array_index(ph->actions, sc_action, j).verb;

			if (v == V_guest_khugepaged && !s->trace_file &&
			    !s->prog_text)
				return sv_err__set(NULL, SV_ECONFIG,
						   "%s: [phase.%u] action "
						   "guest_khugepaged: only in a "
						   "scenario with a [trace] or "
						   "[program] group",
						   s->file, ph->n);
			if (v == V_mode && s->trace_file)
				return sv_err__set(NULL, SV_ECONFIG,
						   "%s: [phase.%u] action mode: a "
						   "trace run has no execution "
						   "mode", s->file, ph->n);
		}
	}
	return SV_OK;
}

/* ---- building ------------------------------------------------------------------ */

int sv_scenario__build_guestmm(sc_run *r)
{
	const sv_scenario *s = r->s;
	sv_vcpu_regs regs;
	int rc;

	rc = sv_guestmm_new(&r->gm, r->vm, &s->gmm);
	if (rc) {
		g_autofree char *d = sv_scenario__user_words(sv_error_detail());

		return sv_err__set(NULL, SV_ECONFIG, "%s: [guestmm]: %s", s->file, d);
	}
	r->v = sv_vm_vcpu(r->vm, 0);
	sv_vcpu_get_regs(r->v, &regs);
	regs.cr0 |= SV_CR0_PG | SV_CR0_WP;
	regs.cr3 = sv_guestmm_cr3(r->gm);
	return sv_vcpu_set_regs(r->v, &regs);
}

int sv_scenario__build_trace(sc_run *r)
{
	const sv_scenario *s = r->s;
	int rc = sv_scenario__build_guestmm(r);

	if (rc == SV_OK && !r->dry) {
		GStatBuf st;

		rc = sv_trace_reader_open(&r->tr, s->trace_path,
					  (sv_trace_format)s->trace_format);
		if (rc == SV_OK && g_stat(s->trace_path, &st) == 0)
			r->trace_size = (uint64_t)st.st_size;
	}
	return rc;
}

int sv_scenario__guest_khugepaged(sc_run *r)
{
	uint64_t passes;
	unsigned n;
	int rc;

	if (!r->gm)
		return SV_OK;
	passes = sv_guestmm_stat_get(r->gm, SV_GUESTMM_STAT_khugepaged_full_scans);
	do
		rc = sv_guestmm_khugepaged(r->gm, r->v, &n);
	while (rc == SV_OK &&
	       sv_guestmm_stat_get(r->gm, SV_GUESTMM_STAT_khugepaged_full_scans) ==
		       passes);
	return rc;
}

/* ---- running ------------------------------------------------------------------- */

/* The records up to `stop` (0: the trace's end), with khugepaged's
 * wake-ups on the way; *more: the trace has records left. */
static int run_to(sc_run *r, uint64_t stop, bool *more)
{
	const sv_scenario *s = r->s;
	const uint64_t chunk = 1u << 16;

	*more = true;
	while (!stop || r->records < stop) {
		uint64_t want = stop ? stop - r->records : chunk, done;
		uint64_t period = s->khugepaged_period;
		unsigned n;
		int rc;

		if (period)
			want = MIN(want, period - r->records % period);
		want = MIN(want, chunk);
		rc = sv_guestmm_run_trace(&done, r->gm, r->v, r->tr, want);
		r->records += done;
		if (rc != SV_OK)
			return rc;
		sv_scenario__progress(r, sv_trace_reader_offset(r->tr));
		if (period && done == want && r->records % period == 0) {
			rc = sv_guestmm_khugepaged(r->gm, r->v, &n);
			if (rc)
				return rc;
		}
		if (done < want) {
			*more = false;
			return SV_OK;
		}
	}
	return SV_OK;
}

int sv_scenario__run_trace(sc_run *r, char **end)
{
	const sv_scenario *s = r->s;
	uint64_t limit = s->trace_records;
	bool more = true;
	guint next = 0;
	int rc;

	for (;;) {
		const sc_phase *ph = next < s->phases->len
					     ? g_ptr_array_index(s->phases, next) : NULL;
		uint64_t stop = ph ? ph->records : 0;

		if (limit && (!stop || stop > limit))
			stop = limit;
		rc = run_to(r, stop, &more);
		if (rc != SV_OK) {
			g_autofree char *d = g_strdup(sv_error_detail());

			/* a record the reader or the address rule refuses is
			 * bad input, as a bad key is */
			return sv_err__set(NULL, rc == SV_EINVAL ? SV_ECONFIG : rc,
					   "%s: [trace] %s", s->file, d);
		}
		if (!more || !ph || r->records == limit) {
			*end = g_strdup_printf("%s after %" PRIu64 " records",
					       more ? "limit" : "end of trace",
					       r->records);
			return SV_OK;
		}
		rc = sv_scenario__next_phase(r, next++, end);
		if (rc || *end)
			return rc;
	}
}

int sv_scenario__next_phase(sc_run *r, guint index, char **end)
{
	int rc = sv_scenario__insn_boundary(r, index);

	if (rc == SV_OK && r->stopped)
		*end = g_strdup("stopped");
	return rc;
}
