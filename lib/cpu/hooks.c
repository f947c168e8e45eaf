/*
 * lib/cpu/hooks.c - the Unicorn hooks: where guest execution meets the
 * model, and the Capstone block-cost cache.
 *
 * How it works:
 *  1. The block hook runs before each basic block.  The block's cost comes
 *     from a direct-mapped cache keyed by address; a miss decodes the block
 *     once with Capstone (id and operand kinds -> cycles from the cost
 *     table) and looks for RDTSC, INVLPG, MOV to CR3, IN and OUT, which get a code
 *     hook of their own (a new one stops the vCPU first: hooks added after
 *     translation miss cached code until the translation cache is flushed).
 *     The hook then charges the block, stops the vCPU when its turn is used
 *     up (Unicorn stops before the block runs), and in detailed mode sends
 *     the block's bytes through the model as fetches, page by page.
 *  2. The memory hook (detailed mode only) sends each read and write
 *     through sv_vcpu_translate().  A write to a guest page-table page asks
 *     for a new region sync once the instruction is done.  Unicorn calls it
 *     before checking its own region permissions, so a #PF the model finds
 *     is kept for the protection hook that follows.
 *  3. The unmapped and protection hooks turn Unicorn's fault into the
 *     model's: the same access through sv_vcpu_translate() gives the #PF with
 *     the SDM's error code, delivered by the run loop once Unicorn stops.
 *  4. IN and OUT are intercepted sites too, sent to the trap bus; the sync
 *     port stops the vCPU at its barrier.  IRETQ is emulated (Unicorn
 *     stays at CPL 0; the model takes the CPL the frame returns to), and
 *     at CPL 3 the privileged sites raise #GP.  MMIO comes through the regions'
 *     callbacks (regions.c) to the same bus.
 */
#include "cpu/exec.h"

/*
 * Stops are taken at the next block start (on_block), or at once from a
 * code hook (on_site): only there is Unicorn's RIP known to be right.  A
 * stop requested from a memory hook and taken by Unicorn at once would
 * leave RIP at the instruction that made the access, which would run
 * again.
 */
void sv_exec__stop(ex_cpu *c, ex_stop why)
{
	if (c->stop == EX_STOP_NONE)
		c->stop = why;
}

/* Model outcomes the guest cannot be shown: stop and report. */
static void report(ex_cpu *c, const sv_fault *f)
{
	if (c->stop == EX_STOP_REPORT)
		return;
	c->fault = *f;
	uc_reg_read(c->uc, UC_X86_REG_RIP, &c->fault_rip);
	c->stop = EX_STOP_REPORT;
}

static void model_fault(ex_cpu *c, const sv_xlate *x, sv_access acc,
			uint64_t addr)
{
	switch (x->fault.kind) {
	case SV_FAULT_MMIO:
		return; /* the region's callback takes it to the trap bus */
	case SV_FAULT_PF:
	case SV_FAULT_GP:
		if (!c->raised) {
			c->raised = true;
			c->fault = x->fault;
			c->fault_acc = acc;
			c->fault_addr = addr;
			uc_reg_read(c->uc, UC_X86_REG_RIP, &c->fault_rip);
			/* Unicorn's protection check follows and stops it; if
			 * it does not, the next block start ends the turn and
			 * it is reported. */
			sv_exec__stop(c, EX_STOP_PF);
		}
		return;
	default:
		report(c, &x->fault);
	}
}

/* The guest wrote one of its page tables: the regions follow now, or
 * under shadow paging, when the write left an unsync shadow page (not
 * emulated), at the vCPU's next INVLPG or MOV to CR3, as its translations
 * do. */
static void table_written(ex_cpu *c, const sv_xlate *x)
{
	sv_exec *ex = c->ex;

	if (c->v->shadow && x->source != SV_SRC_EMULATED) {
		ex->resync_deferred = true;
		return;
	}
	ex->resync = true;
	sv_exec__stop(c, EX_STOP_RESYNC);
}

static void on_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		   int64_t value, void *payload)
{
	ex_cpu *c = payload;
	sv_exec *ex = c->ex;
	sv_access acc = type == UC_MEM_WRITE ? SV_ACCESS_WRITE : SV_ACCESS_READ;
	uint64_t bytes = (uint64_t)value; /* x86: little-endian, as stored */
	sv_xlate x;

	sv_exec__access(c, addr, (uint32_t)size, acc,
			acc == SV_ACCESS_WRITE && size <= 8 ? &bytes : NULL, &x);
	if (SV_UNLIKELY(x.fault.kind != SV_FAULT_NONE))
		model_fault(c, &x, acc, addr);
	else if (acc == SV_ACCESS_WRITE && SV_UNLIKELY(sv_exec__is_table(ex, x.gpa)) &&
		 sv_exec__table_lookup(ex, x.gpa))
		table_written(c, &x);
	if (SV_UNLIKELY(ex->access_fn != NULL))
		ex->access_fn(ex, c->index, addr, (uint32_t)size, acc, &x,
			      ex->access_payload);
}

/* Unmapped and protection faults: Unicorn's view of an access the guest
 * page tables do not allow.  The model gives the fault; returning false
 * lets Unicorn stop with the instruction not executed. */
static bool on_fault(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		     int64_t value, void *payload)
{
	ex_cpu *c = payload;
	sv_access acc;
	sv_xlate x;

	if (c->raised || c->stop == EX_STOP_REPORT)
		return false; /* the memory hook has seen this access */
	switch (type) {
	case UC_MEM_WRITE_UNMAPPED:
	case UC_MEM_WRITE_PROT:
		acc = SV_ACCESS_WRITE;
		break;
	case UC_MEM_FETCH_UNMAPPED:
	case UC_MEM_FETCH_PROT:
		acc = SV_ACCESS_FETCH;
		break;
	default:
		acc = SV_ACCESS_READ;
	}
	sv_exec__access(c, addr, size > 0 ? (uint32_t)size : 1, acc, NULL, &x);
	if (x.fault.kind == SV_FAULT_NONE) {
		/* Unicorn's regions and the model disagree: the guest used a
		 * translation it changed without invalidating it. */
		sv_fault f = {.kind = SV_FAULT_PF, .stage = SV_STAGE_TLB,
			      .gva = addr};

		report(c, &f);
		return false;
	}
	model_fault(c, &x, acc, addr);
	return false;
}

/* ---- the block-cost cache ---------------------------------------------- */

/* A site for insn if the library intercepts it; false otherwise. */
static bool site_of(const cs_insn *in, ex_site *s)
{
	const cs_x86 *x = &in->detail->x86;

	memset(s, 0, sizeof(*s));
	s->addr = in->address;
	s->size = in->size;
	switch (in->id) {
	case X86_INS_RDTSC:
		s->kind = EX_SITE_RDTSC;
		return true;
	case X86_INS_INVLPG:
		if (x->op_count < 1 || x->operands[0].type != X86_OP_MEM)
			return false;
		s->kind = EX_SITE_INVLPG;
		s->reg_base = sv_exec__uc_reg(x->operands[0].mem.base);
		s->reg_index = sv_exec__uc_reg(x->operands[0].mem.index);
		s->scale = x->operands[0].mem.scale;
		s->disp = x->operands[0].mem.disp;
		if (x->operands[0].mem.base == X86_REG_RIP)
			s->disp += (int64_t)(in->address + in->size);
		if (x->operands[0].mem.base == X86_REG_RIP)
			s->reg_base = 0;
		return true;
	case X86_INS_IN:
	case X86_INS_OUT: {
		/* The port is operand 1 of IN and operand 0 of OUT. */
		const cs_x86_op *port = &x->operands[in->id == X86_INS_OUT ? 0 : 1];
		const cs_x86_op *data = &x->operands[in->id == X86_INS_OUT ? 1 : 0];

		if (x->op_count != 2 || data->type != X86_OP_REG)
			return false;
		s->kind = in->id == X86_INS_OUT ? EX_SITE_OUT : EX_SITE_IN;
		s->width = data->size;
		if (port->type == X86_OP_IMM)
			s->disp = port->imm & 0xff;
		else
			s->reg_base = UC_X86_REG_DX;
		return true;
	}
	case X86_INS_IRETQ:
		s->kind = EX_SITE_IRETQ;
		return true;
	case X86_INS_MOV:
		if (x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
		    x->operands[0].reg == X86_REG_CR3 &&
		    x->operands[1].type == X86_OP_REG) {
			s->kind = EX_SITE_MOV_CR3;
			s->reg_base = sv_exec__uc_reg(x->operands[1].reg);
			return true;
		}
		return false;
	default:
		return false;
	}
}

/* Base cycles of one instruction: its class, plus its memory operands. */
uint64_t sv_exec__insn_cost(const sv_costs *k, csh cs, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	uint64_t cost = k->insn_alu;
	uint8_t i;

	switch (in->id) {
	case X86_INS_MUL:
	case X86_INS_IMUL:
		cost = k->insn_mul;
		break;
	case X86_INS_DIV:
	case X86_INS_IDIV:
		cost = k->insn_div;
		break;
	case X86_INS_RDTSC:
		cost = k->insn_rdtsc;
		break;
	case X86_INS_PUSH:
	case X86_INS_CALL:
		cost += k->insn_store; /* the implicit stack store */
		break;
	case X86_INS_POP:
	case X86_INS_RET:
		cost += k->insn_load;
		break;
	default:
		break;
	}
	if (cs_insn_group(cs, in, CS_GRP_JUMP) || cs_insn_group(cs, in, CS_GRP_CALL) ||
	    cs_insn_group(cs, in, CS_GRP_RET))
		cost += k->insn_branch - k->insn_alu;
	if (in->id == X86_INS_LEA || in->id == X86_INS_NOP)
		return cost;
	for (i = 0; i < x->op_count; i++) {
		if (x->operands[i].type != X86_OP_MEM)
			continue;
		if (x->operands[i].access & CS_AC_READ)
			cost += k->insn_load;
		if (x->operands[i].access & CS_AC_WRITE)
			cost += k->insn_store;
	}
	return cost;
}

static ex_block *block_slot(sv_exec *ex, uint64_t addr)
{
	uint64_t h = addr * 0x9e3779b97f4a7c15ULL;

	return &ex->blocks[h >> (64 - 16)];
}

/* The site at addr, or NULL.  A guest has a handful: a linear search (a
 * GHashTable would clash with the copy of it Unicorn 2.0.1 exports). */
static const ex_site *site_find(const sv_exec *ex, uint64_t addr)
{
	guint i;

	for (i = 0; i < ex->sites->len; i++)
		if (g_array_index(ex->sites, ex_site, i).addr == addr)
			return &g_array_index(ex->sites, ex_site, i);
	return NULL;
}

void sv_exec__decode_block(csh cs, cs_insn *insn, const sv_costs *k,
			   const uint8_t *code, uint64_t addr, uint32_t size,
			   ex_block *b, bool (*site)(const cs_insn *, void *),
			   void *payload)
{
	size_t left = size;
	uint64_t pc = addr;

	*b = (ex_block){.addr = addr, .size = size};
	while (code && left && cs_disasm_iter(cs, &code, &left, &pc, insn)) {
		b->ninsn++;
		b->cycles += sv_exec__insn_cost(k, cs, insn);
		b->bytes = (uint32_t)(pc - addr);
		if (site(insn, payload))
			break;
	}
}

/* A site for the block decoder: registered once, and the block ends. */
static bool register_site(const cs_insn *in, void *payload)
{
	sv_exec *ex = payload;
	ex_site s;

	if (!site_of(in, &s))
		return false;
	if (!site_find(ex, s.addr))
		g_array_append_val(ex->sites, s);
	return true;
}

/* Decodes a block into *b, registering the sites it holds. */
static void decode(ex_cpu *c, uint64_t addr, uint32_t size, ex_block *b)
{
	sv_exec *ex = c->ex;

	if (size > ex->code_cap) {
		ex->code_cap = size;
		ex->code_buf = g_realloc(ex->code_buf, size);
	}
	sv_exec__decode_block(ex->cs, ex->insn, &ex->vm->opts.costs,
			      uc_mem_read(c->uc, addr, ex->code_buf, size) ==
					      UC_ERR_OK
				      ? ex->code_buf
				      : NULL,
			      addr, size, b, register_site, ex);
}

static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *payload)
{
	ex_cpu *c = payload;
	sv_exec *ex = c->ex;
	ex_block *b = block_slot(ex, addr);
	uint64_t a, end;

	if (SV_UNLIKELY(b->addr != addr || b->size != size))
		decode(c, addr, size, b);
	c->block = addr;
	c->block_size = size;
	/* A stop from here comes before the block runs, but Unicorn's RIP
	 * may still be the last one a memory hook synchronised: the run
	 * loop resumes at the block instead. */
	if (SV_UNLIKELY(c->sites_hooked < ex->sites->len))
		sv_exec__stop(c, EX_STOP_SITES);
	else if (c->budget <= 0)
		sv_exec__stop(c, EX_STOP_SLICE);
	if (SV_UNLIKELY(c->stop != EX_STOP_NONE)) {
		c->resume = addr;
		uc_emu_stop(uc);
		return;
	}
	c->budget -= b->ninsn;
	sv_exec__charge(c, b->ninsn, b->cycles);
	if (!c->detailed)
		return;
	for (a = addr, end = addr + b->bytes; a < end; a = (a | 0xfff) + 1) {
		uint64_t n = MIN(end, (a | 0xfff) + 1) - a;
		sv_xlate x;

		sv_exec__access(c, a, (uint32_t)n, SV_ACCESS_FETCH, NULL, &x);
		if (SV_UNLIKELY(x.fault.kind != SV_FAULT_NONE)) {
			report(c, &x.fault);
			return;
		}
		if (SV_UNLIKELY(ex->access_fn != NULL))
			ex->access_fn(ex, c->index, a, (uint32_t)n,
				      SV_ACCESS_FETCH, &x, ex->access_payload);
	}
}

/* ---- intercepted instructions --------------------------------------------- */

static uint64_t reg(ex_cpu *c, int r)
{
	uint64_t v = 0;

	if (r)
		uc_reg_read(c->uc, r, &v);
	return v;
}

/*
 * Port I/O: a VM exit to userspace (KVM_EXIT_IO), then the trap bus; the
 * sync port stops the vCPU at its barrier.  Handled here rather than in
 * Unicorn's IN/OUT hooks, which do not give the instruction's address (a
 * stop from them resumes at the start of the block).
 */
static void port_io(ex_cpu *c, const ex_site *s)
{
	const sv_costs *k = &c->ex->vm->opts.costs;
	uint64_t mask = s->width >= 4 ? 0xffffffffULL : (1ULL << (8 * s->width)) - 1;
	sv_trap t = {.kind = SV_TRAP_PIO, .write = s->kind == EX_SITE_OUT,
		     .size = s->width, .vcpu = c->index};

	t.addr = s->reg_base ? reg(c, s->reg_base) & 0xffff : (uint64_t)s->disp;
	sv_exec__stat_add(c, SV_VCPU_STAT_pio_exits, 1);
	sv_exec__stat_add(c, SV_VCPU_STAT_cycles, (uint64_t)k->vmexit + k->vmentry);
	/* Out of guest mode until its next access (KVM's vcpu->mode): a
	 * remote flush while it waits, at a sync point say, kicks nobody. */
	sv_vcpu_leave_guest(c->v);
	sv_exec__record_event(c->ex, SV_TEV_LEAVE, c->index, 0);
	if (t.write) {
		t.value = reg(c, UC_X86_REG_RAX) & mask;
		if (t.addr == SV_PORT_SYNC) {
			c->at_sync = true;
			c->sync_n = (uint32_t)t.value;
			sv_exec__stop(c, EX_STOP_SYNC);
			return;
		}
		sv_exec__trap(c, &t);
	} else {
		uint64_t rax = reg(c, UC_X86_REG_RAX);

		sv_exec__trap(c, &t);
		/* in eax zero-extends into RAX; al and ax merge */
		rax = s->width >= 4 ? (t.value & mask) : (rax & ~mask) | (t.value & mask);
		uc_reg_write(c->uc, UC_X86_REG_RAX, &rax);
	}
}

/* An emulated instruction at rip raises #GP: the run loop delivers it as
 * it does Unicorn's exceptions (a hardware one, never INT n). */
static void site_gp(ex_cpu *c, uint64_t rip)
{
	c->intno = 13;
	c->intno_hw = true;
	c->intno_rip = rip;
}

/*
 * IRETQ in 64-bit mode (SDM Vol. 2A IRET): RIP, CS, RFLAGS, RSP and SS
 * popped through the model; a return to an outer level takes the CPL of
 * CS's RPL.  Unicorn itself stays at CPL 0 (its CPL could not be moved
 * back by delivery, which happens outside it).  True with *next where to
 * go on; false when the instruction faulted (then it is raised).
 */
static bool iretq(ex_cpu *c, const ex_site *s, uint64_t *next)
{
	uint64_t rsp = reg(c, UC_X86_REG_RSP), f[5];
	unsigned rpl;
	sv_xlate x;

	sv_exec__access(c, rsp, sizeof(f), SV_ACCESS_READ, NULL, &x);
	if (x.fault.kind == SV_FAULT_PF || x.fault.kind == SV_FAULT_GP) {
		c->raised = true;
		c->fault_at_site = true;
		c->fault = x.fault;
		c->fault_rip = s->addr;
		return false;
	}
	if (x.fault.kind != SV_FAULT_NONE || uc_mem_read(c->uc, rsp, f, sizeof(f))) {
		report(c, &x.fault);
		return false;
	}
	rpl = f[1] & 3;
	if (rpl < c->cpl) { /* a return to an inner level */
		site_gp(c, s->addr);
		return false;
	}
	uc_reg_write(c->uc, UC_X86_REG_CS, &f[1]);
	uc_reg_write(c->uc, UC_X86_REG_RFLAGS, &f[2]);
	uc_reg_write(c->uc, UC_X86_REG_RSP, &f[3]);
	uc_reg_write(c->uc, UC_X86_REG_SS, &f[4]);
	if (rpl != c->cpl)
		sv_exec__set_cpl(c, rpl);
	*next = f[0];
	return true;
}

/* What a CPL above 0 may not do (IOPL 0, CR4.TSD clear): port I/O,
 * INVLPG and MOV to CR3 raise #GP(0); RDTSC and IRETQ are allowed. */
static bool privileged(ex_cpu *c, const ex_site *s)
{
	if (!c->cpl || s->kind == EX_SITE_RDTSC || s->kind == EX_SITE_IRETQ)
		return false;
	site_gp(c, s->addr);
	return true;
}

static void on_site(uc_engine *uc, uint64_t addr, uint32_t size, void *payload)
{
	ex_cpu *c = payload;
	sv_exec *ex = c->ex;
	const ex_site *s = site_find(ex, addr);
	uint64_t next;

	if (!s)
		return;
	next = s->addr + s->size;
	if (privileged(c, s)) {
		uc_emu_stop(uc);
		return;
	}
	switch (s->kind) {
	case EX_SITE_RDTSC: {
		/* The TSC is the vCPU's cycle counter: guests never see host
		 * time. */
		uint64_t tsc = c->v->stat[SV_VCPU_STAT_cycles];
		uint64_t lo = tsc & 0xffffffffULL, hi = tsc >> 32;

		sv_exec__stat_add(c, SV_VCPU_STAT_rdtsc, 1);
		uc_reg_write(uc, UC_X86_REG_RAX, &lo);
		uc_reg_write(uc, UC_X86_REG_RDX, &hi);
		break;
	}
	case EX_SITE_INVLPG: {
		uint64_t gva = reg(c, s->reg_base) +
			       reg(c, s->reg_index) * (uint64_t)s->scale +
			       (uint64_t)s->disp;

		sv_vcpu_invlpg(c->v, gva);
		sv_exec__record_event(ex, SV_TEV_INVLPG, c->index, gva);
		/* Without memory hooks no write to a table was seen: the
		 * guest says here that one changed. */
		if (!c->detailed || ex->resync_deferred) {
			ex->resync = true;
			sv_exec__stop(c, EX_STOP_RESYNC);
		}
		break;
	}
	case EX_SITE_MOV_CR3: {
		uint64_t cr3 = reg(c, s->reg_base);

		sv_vcpu_mov_cr3(c->v, cr3);
		sv_exec__record_event(ex, SV_TEV_CR3, c->index, cr3);
		uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
		ex->resync = true;
		sv_exec__stop(c, EX_STOP_RESYNC);
		break;
	}
	case EX_SITE_IN:
	case EX_SITE_OUT:
		port_io(c, s);
		break;
	case EX_SITE_IRETQ:
		if (!iretq(c, s, &next)) {
			uc_emu_stop(uc);
			return;
		}
		break;
	}
	/* The instruction is emulated here and must not run.  Going on,
	 * RIP written from a hook makes Unicorn leave the block and resume
	 * past it; stopping, RIP must stay (Unicorn 2.0.1 drops a stop
	 * request when RIP is written, and stops before the hooked
	 * instruction), so the run loop resumes past it instead.  Its own
	 * INVLPG and MOV CR3 would mean nothing with its paging off. */
	if (c->stop != EX_STOP_NONE) {
		c->resume = next;
		uc_emu_stop(uc);
	} else {
		uc_reg_write(uc, UC_X86_REG_RIP, &next);
	}
}

/*
 * Drops Unicorn's translated code for [addr, addr + len): blocks translated
 * before a hook was added do not call it.  uc_ctl_flush_tlb would drop all
 * of it, but in 2.0.1 a flush rewrites the whole code buffer: the first
 * one on an engine costs about a second and a gigabyte of memory.
 */
static void drop_code(ex_cpu *c, uint64_t addr, uint64_t len)
{
	if (c->started)
		uc_ctl_remove_cache(c->uc, addr, addr + len);
}

int sv_exec__sites_install(ex_cpu *c)
{
	sv_exec *ex = c->ex;

	for (; c->sites_hooked < ex->sites->len; c->sites_hooked++) {
		const ex_site *s = &g_array_index(ex->sites, ex_site, c->sites_hooked);
		uc_hook h; /* freed with the engine */

		if (uc_hook_add(c->uc, &h, UC_HOOK_CODE, on_site, c, s->addr,
				s->addr) != UC_ERR_OK)
			return sv_err__set(ex->vm, SV_ENOMEM,
					   "exec: Unicorn refused a code hook at 0x%" PRIx64,
					   s->addr);
		drop_code(c, s->addr, s->size);
	}
	return SV_OK;
}

/* ---- ports ---------------------------------------------------------------- */

void sv_exec__trap(ex_cpu *c, sv_trap *t)
{
	sv_exec *ex = c->ex;
	guint i;

	for (i = 0; i < ex->traps->len; i++) {
		const ex_trap *tr = &g_array_index(ex->traps, ex_trap, i);
		int rc;

		if (tr->kind != t->kind || t->addr - tr->base >= tr->len)
			continue;
		rc = tr->fn(ex, t, tr->payload);
		if (rc > 0) {
			c->trap_code = rc;
			sv_exec__stop(c, EX_STOP_TRAP);
		}
		return;
	}
	sv_exec__stat_add(c, SV_VCPU_STAT_trap_unclaimed, 1);
	if (!t->write)
		t->value = t->size >= 8 ? ~0ULL : (1ULL << (8 * t->size)) - 1;
}

/* ---- set-up ----------------------------------------------------------------- */

int sv_exec__hooks_add(ex_cpu *c)
{
	uc_hook h;
	uc_err e;

	c->intno = -1;
	e = uc_context_alloc(c->uc, &c->ctx);
	if (e == UC_ERR_OK)
		e = uc_hook_add(c->uc, &h, UC_HOOK_BLOCK, on_block, c, 1, 0);
	if (e == UC_ERR_OK)
		e = sv_exec__exception_hooks_add(c);
	if (e == UC_ERR_OK)
		e = uc_hook_add(c->uc, &h, UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT,
				on_fault, c, 1, 0);
	if (e != UC_ERR_OK)
		return sv_err__set(c->ex->vm, SV_ENOMEM, "exec: Unicorn hook: %s",
				   uc_strerror(e));
	return SV_OK;
}

void sv_exec__set_detailed(ex_cpu *c, bool on)
{
	guint i;

	if (on == c->detailed)
		return;
	if (on)
		uc_hook_add(c->uc, &c->h_mem, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
			    on_mem, c, 1, 0);
	else
		uc_hook_del(c->uc, c->h_mem);
	c->detailed = on;
	/* Hooks change what Unicorn translates: drop the code translated in
	 * every region (an engine that has not run has none). */
	for (i = 0; i < c->regions->len; i++) {
		const ex_region *r = g_array_index(c->regions, ex_region *, i);

		drop_code(c, r->gva, r->size);
	}
}

int sv_exec__decoder_init(sv_exec *ex)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &ex->cs) != CS_ERR_OK)
		return sv_err__set(ex->vm, SV_ENOMEM, "exec: Capstone would not open");
	cs_option(ex->cs, CS_OPT_DETAIL, CS_OPT_ON);
	ex->insn = cs_malloc(ex->cs);
	ex->blocks = g_new0(ex_block, EX_BLOCK_CACHE);
	memset(ex->blocks, 0xff, sizeof(ex_block) * EX_BLOCK_CACHE);
	ex->sites = g_array_new(FALSE, FALSE, sizeof(ex_site));
	return SV_OK;
}

void sv_exec__decoder_fini(sv_exec *ex)
{
	if (ex->insn)
		cs_free(ex->insn, 1);
	if (ex->cs)
		cs_close(&ex->cs);
	g_free(ex->blocks);
	g_free(ex->code_buf);
	if (ex->sites)
		g_array_free(ex->sites, TRUE);
}
