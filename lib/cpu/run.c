/*
 * lib/cpu/run.c - the run loop of execution-driven guests.
 *
 * How it works:
 *  1. Before anyone runs, the Unicorn regions, code hooks and mode are
 *     brought up to date (a handler may have moved memslots, the guest its
 *     tables).
 *  2. Each vCPU gets a turn of `slice` instructions in index order.  A
 *     turn ends when the block hook sees the budget used up, at a sync
 *     point, at a guest fault, or when the guest changed its page tables.
 *  3. Sync points are a barrier: when every running vCPU waits at the same
 *     point, the sync handler runs once and they all go on.
 *  4. A guest exception ends the turn and is raised and delivered
 *     (event.c): the model's #PF or #GP, or an exception or INT n that
 *     Unicorn raised.  A triple fault ends the run in shutdown; what the
 *     guest cannot be shown ends it with the fault in the result.
 */
#include "cpu/exec.h"

static void fault_result(sv_exec_result *out, ex_cpu *c)
{
	out->stop = SV_EXEC_FAULT;
	out->vcpu = c->index;
	out->rip = c->fault_rip;
	out->fault = c->fault;
}

static void shutdown_result(sv_exec_result *out, ex_cpu *c)
{
	out->stop = SV_EXEC_SHUTDOWN;
	out->vcpu = c->index;
	out->rip = c->origin.rip;
	out->fault = c->origin.fault;
	out->code = (int)c->origin.vector;
	c->halted = true;
	sv_vcpu_leave_guest(c->v);
	sv_exec__record_event(c->ex, SV_TEV_LEAVE, c->index, 0);
}

/* Is the exception Unicorn raised at vector v < 32 a software one (INT3,
 * INTO, INT n: EXT 0, the gate's DPL checked, no error code)?  Its RIP is
 * past the instruction, so the bytes before it tell. */
static bool soft_interrupt(ex_cpu *c, unsigned v)
{
	uint8_t b[2] = {0, 0};

	if (v >= 32)
		return true;
	if (uc_mem_read(c->uc, c->intno_rip - 2, b, 2) != UC_ERR_OK)
		return false;
	return (v == 3 && b[1] == 0xcc) || (v == 4 && b[1] == 0xce) ||
	       (b[0] == 0xcd && b[1] == v);
}

/*
 * Step 4: raises what the turn ended on and delivers it.  Returns 1 when
 * the run must end with *out filled, 0 to go on.
 */
static int turn_events(ex_cpu *c, uc_err e, sv_exec_result *out)
{
	bool ok;

	if (c->intno >= 0) {
		unsigned v = (unsigned)c->intno;

		c->origin.fault = (sv_fault){.kind = SV_FAULT_NONE};
		c->origin.rip = c->intno_rip;
		c->origin.vector = v;
		ok = sv_exec__raise(c, v, !c->intno_hw && soft_interrupt(c, v), 0,
				    c->intno_rip);
	} else {
		if (e == UC_ERR_OK && !c->fault_at_site) {
			/* Unicorn did the access the model refused. */
			c->fault.stage = SV_STAGE_TLB;
			fault_result(out, c);
			return 1;
		}
		/* Without memory hooks Unicorn's RIP is its block's start. */
		if (!c->detailed && !c->fault_at_site &&
		    !sv_exec__fault_insn(c, &c->fault_rip)) {
			fault_result(out, c);
			return 1;
		}
		c->origin.fault = c->fault;
		c->origin.rip = c->fault_rip;
		if (c->fault.kind == SV_FAULT_PF) /* CR2 as the #PF is raised */
			uc_reg_write(c->uc, UC_X86_REG_CR2, &c->fault.gva);
		/* the model's #GP is a non-canonical address: error code 0 */
		c->origin.vector = c->fault.kind == SV_FAULT_PF ? 14 : 13;
		ok = sv_exec__raise(c, c->origin.vector, false,
				    c->origin.vector == 14 ? (uint32_t)c->fault.error_code : 0,
				    c->fault_rip);
	}
	switch (ok ? sv_exec__deliver(c) : EX_SHUTDOWN) {
	case EX_DELIVERED:
		return 0;
	case EX_SHUTDOWN:
		shutdown_result(out, c);
		return 1;
	default:
		c->fault_rip = c->origin.rip;
		fault_result(out, c);
		return 1;
	}
}

static void apply_mode(sv_exec *ex)
{
	unsigned i;

	ex->mode = ex->mode_next;
	for (i = 0; i < ex->n; i++)
		sv_exec__set_detailed(&ex->cpus[i], ex->mode == SV_EXEC_DETAILED);
}

/* Regions, code hooks and mode brought up to date before anyone runs. */
static int settle(sv_exec *ex)
{
	unsigned i;
	int rc = SV_OK;

	if (ex->mode != ex->mode_next)
		apply_mode(ex);
	if (ex->resync || ex->mem_epoch != ex->vm->memslots.epoch)
		rc = sv_exec__regions_sync(ex);
	for (i = 0; i < ex->n && rc == SV_OK; i++)
		rc = sv_exec__sites_install(&ex->cpus[i]);
	return rc;
}

/*
 * One turn of vCPU c.  Returns 1 when the run must end with *out filled,
 * 0 to go on, or an error.
 */
static int turn(sv_exec *ex, ex_cpu *c, sv_exec_result *out)
{
	uint64_t before = c->v->stat[SV_VCPU_STAT_instructions], ran;
	uc_err e;
	int rc;

	c->budget = (int64_t)MIN(ex->opts.slice, c->left);
	c->stop = EX_STOP_NONE;
	c->raised = false;
	c->fault_at_site = false;
	c->intno = -1;
	c->intno_hw = false;
	c->resume = 0;
	c->started = true;
	rc = sv_exec__entry(c);
	if (rc != SV_OK)
		return rc;
	e = uc_emu_start(c->uc, c->rip, 0, 0, 0);
	uc_reg_read(c->uc, UC_X86_REG_RIP, &c->rip);
	if (c->resume)
		c->rip = c->resume;
	ran = c->v->stat[SV_VCPU_STAT_instructions] - before;
	c->left -= MIN(ran, c->left);
	if (c->stop == EX_STOP_REPORT) {
		fault_result(out, c);
		return 1;
	}
	if (c->raised || c->intno >= 0)
		return turn_events(c, e, out);
	if (e != UC_ERR_OK) {
		out->stop = SV_EXEC_FAULT;
		out->vcpu = c->index;
		out->rip = c->rip;
		return sv_err__set(ex->vm, SV_EINVAL, "exec: vCPU %u at 0x%" PRIx64
						      ": Unicorn stopped: %s",
				   c->index, c->rip, uc_strerror(e));
	}
	if (c->stop == EX_STOP_TRAP) {
		out->stop = SV_EXEC_STOPPED;
		out->code = c->trap_code;
		return 1;
	}
	if (c->stop == EX_STOP_NONE) {
		c->halted = true;
		sv_vcpu_leave_guest(c->v);
		sv_exec__record_event(ex, SV_TEV_LEAVE, c->index, 0);
	}
	return 0;
}

/* Step 3: releases the barrier when every running vCPU waits at it.
 * Returns 2 when it did, 1 when the handler stopped the run, 0 when some
 * vCPU does not wait yet, or an error. */
static int barrier(sv_exec *ex, sv_exec_result *out)
{
	uint32_t n = 0;
	bool waiting = false;
	unsigned i;
	int rc;

	for (i = 0; i < ex->n; i++) {
		const ex_cpu *c = &ex->cpus[i];

		if (c->halted)
			continue;
		if (!c->at_sync)
			return 0;
		if (waiting && c->sync_n != n)
			return sv_err__set(ex->vm, SV_EINVAL,
					   "exec: vCPUs wait at different sync points "
					   "(%u and %u): the guest's phases disagree",
					   n, c->sync_n);
		n = c->sync_n;
		waiting = true;
	}
	if (!waiting)
		return 0;
	for (i = 0; i < ex->n; i++)
		ex->cpus[i].at_sync = false;
	if (ex->opts.mode == SV_EXEC_FAST_FORWARD && ex->opts.detail_at_sync == n)
		ex->mode_next = SV_EXEC_DETAILED;
	rc = ex->sync_fn ? ex->sync_fn(ex, n, ex->sync_payload) : 0;
	if (rc > 0) {
		out->stop = SV_EXEC_STOPPED;
		out->code = rc;
		return 1;
	}
	return rc < 0 ? rc : 2;
}

int sv_exec_run_until(sv_exec_result *out, sv_exec *ex, uint64_t limit)
{
	sv_exec_result dummy;
	unsigned i;
	int rc;

	sv_err__clear();
	if (!ex)
		return sv_err__set(NULL, SV_EINVAL, "sv_exec_run_until: NULL handle");
	if (!ex->engines)
		return sv_err__set(ex->vm, SV_EINVAL, "sv_exec_run_until: a handle built "
						      "for replay has no engines");
	if (!out)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	if (!ex->loaded)
		return sv_err__set(ex->vm, SV_EINVAL, "exec run: no guest loaded "
						      "(sv_exec_load_elf or _workload)");
	for (i = 0; i < ex->n; i++)
		ex->cpus[i].left = limit ? limit : UINT64_MAX;
	for (;;) {
		bool ran = false, all_halted = true;

		rc = settle(ex);
		if (rc != SV_OK)
			return rc;
		for (i = 0; i < ex->n; i++) {
			ex_cpu *c = &ex->cpus[i];

			if (c->halted)
				continue;
			all_halted = false;
			if (c->at_sync || !c->left)
				continue;
			rc = turn(ex, c, out);
			if (SV_UNLIKELY(ex->vm->fatal))
				return sv_err__set(ex->vm, ex->vm->fatal, "%s",
						   sv_vm_last_error(ex->vm));
			if (rc)
				return rc > 0 ? SV_OK : rc;
			ran = true;
			if (ex->beat)
				ex->beat(ex->beat_payload);
			/* A handler may have moved memslots, the guest its
			 * tables: the next vCPU must see the same memory. */
			rc = settle(ex);
			if (rc != SV_OK)
				return rc;
		}
		if (all_halted) {
			out->stop = SV_EXEC_HALTED;
			return SV_OK;
		}
		rc = barrier(ex, out);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return SV_OK;
		if (rc == 0 && !ran) {
			/* Nobody could run: the rest used up the limit. */
			out->stop = SV_EXEC_LIMIT;
			return SV_OK;
		}
	}
}

/* The name before 0.2, its result last. */
int sv_exec_run(sv_exec *ex, uint64_t limit, sv_exec_result *out)
{
	return sv_exec_run_until(out, ex, limit);
}
