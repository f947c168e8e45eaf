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
 *     port stops the vCPU at its barrier.  MMIO comes through the regions'
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
		 sv_exec__table_lookup(ex, x.gpa)) {
		ex->resync = true;
		sv_exec__stop(c, EX_STOP_RESYNC);
	}
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

/* The 64-bit registers the library reads, Capstone's id to Unicorn's. */
static const struct {
	x86_reg cs;
	int uc;
} gprs[] = {
	{X86_REG_RAX, UC_X86_REG_RAX}, {X86_REG_RBX, UC_X86_REG_RBX},
	{X86_REG_RCX, UC_X86_REG_RCX}, {X86_REG_RDX, UC_X86_REG_RDX},
	{X86_REG_RSI, UC_X86_REG_RSI}, {X86_REG_RDI, UC_X86_REG_RDI},
	{X86_REG_RBP, UC_X86_REG_RBP}, {X86_REG_RSP, UC_X86_REG_RSP},
	{X86_REG_R8, UC_X86_REG_R8},   {X86_REG_R9, UC_X86_REG_R9},
	{X86_REG_R10, UC_X86_REG_R10}, {X86_REG_R11, UC_X86_REG_R11},
	{X86_REG_R12, UC_X86_REG_R12}, {X86_REG_R13, UC_X86_REG_R13},
	{X86_REG_R14, UC_X86_REG_R14}, {X86_REG_R15, UC_X86_REG_R15},
	{X86_REG_RIP, UC_X86_REG_RIP},
};

static int gpr_index(x86_reg r) /* in gprs[], or -1 */
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(gprs); i++)
		if (gprs[i].cs == r)
			return (int)i;
	return -1;
}

/* The gprs[] index of the 64-bit register r is part of (rax for al),
 * or -1. */
static int gpr_family(x86_reg r)
{
	static const x86_reg fam[16][4] = {
		{X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH},
		{X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH},
		{X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH},
		{X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH},
		{X86_REG_ESI, X86_REG_SI, X86_REG_SIL},
		{X86_REG_EDI, X86_REG_DI, X86_REG_DIL},
		{X86_REG_EBP, X86_REG_BP, X86_REG_BPL},
		{X86_REG_ESP, X86_REG_SP, X86_REG_SPL},
		{X86_REG_R8D, X86_REG_R8W, X86_REG_R8B},
		{X86_REG_R9D, X86_REG_R9W, X86_REG_R9B},
		{X86_REG_R10D, X86_REG_R10W, X86_REG_R10B},
		{X86_REG_R11D, X86_REG_R11W, X86_REG_R11B},
		{X86_REG_R12D, X86_REG_R12W, X86_REG_R12B},
		{X86_REG_R13D, X86_REG_R13W, X86_REG_R13B},
		{X86_REG_R14D, X86_REG_R14W, X86_REG_R14B},
		{X86_REG_R15D, X86_REG_R15W, X86_REG_R15B},
	};
	int i = gpr_index(r);
	unsigned k;

	if (i >= 0 || r == X86_REG_INVALID)
		return i;
	for (i = 0; i < 16; i++)
		for (k = 0; k < 4; k++)
			if (fam[i][k] == r)
				return i;
	return -1;
}

static int uc_reg_of(x86_reg r)
{
	int i = gpr_index(r);

	return i < 0 ? 0 : gprs[i].uc;
}

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
		s->reg_base = uc_reg_of(x->operands[0].mem.base);
		s->reg_index = uc_reg_of(x->operands[0].mem.index);
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
	case X86_INS_MOV:
		if (x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
		    x->operands[0].reg == X86_REG_CR3 &&
		    x->operands[1].type == X86_OP_REG) {
			s->kind = EX_SITE_MOV_CR3;
			s->reg_base = uc_reg_of(x->operands[1].reg);
			return true;
		}
		return false;
	default:
		return false;
	}
}

/* Base cycles of one instruction: its class, plus its memory operands. */
static uint64_t insn_cost(const sv_costs *k, csh cs, const cs_insn *in)
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

/*
 * Decodes a block into *b, registering the sites it holds.  A block with a
 * site is charged only up to and including it: the site's hook moves RIP
 * past it, so Unicorn leaves the block there and the rest runs (and is
 * charged) as a block of its own.
 */
static void decode(ex_cpu *c, uint64_t addr, uint32_t size, ex_block *b)
{
	sv_exec *ex = c->ex;
	const sv_costs *k = &ex->vm->opts.costs;
	const uint8_t *code;
	size_t left = size;
	uint64_t pc = addr;

	if (size > ex->code_cap) {
		ex->code_cap = size;
		ex->code_buf = g_realloc(ex->code_buf, size);
	}
	b->addr = addr;
	b->size = size;
	b->ninsn = 0;
	b->bytes = 0;
	b->cycles = 0;
	if (uc_mem_read(c->uc, addr, ex->code_buf, size) != UC_ERR_OK)
		return;
	code = ex->code_buf;
	while (left && cs_disasm_iter(ex->cs, &code, &left, &pc, ex->insn)) {
		ex_site s;

		b->ninsn++;
		b->cycles += insn_cost(k, ex->cs, ex->insn);
		b->bytes = (uint32_t)(pc - addr);
		if (!site_of(ex->insn, &s))
			continue;
		if (!site_find(ex, s.addr))
			g_array_append_val(ex->sites, s);
		break;
	}
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

static void skip(ex_cpu *c, const ex_site *s)
{
	uint64_t next = s->addr + s->size;

	uc_reg_write(c->uc, UC_X86_REG_RIP, &next);
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

static void on_site(uc_engine *uc, uint64_t addr, uint32_t size, void *payload)
{
	ex_cpu *c = payload;
	sv_exec *ex = c->ex;
	const ex_site *s = site_find(ex, addr);

	if (!s)
		return;
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
	}
	/* The instruction is emulated here and must not run.  Going on,
	 * RIP written from a hook makes Unicorn leave the block and resume
	 * past it; stopping, RIP must stay (Unicorn 2.0.1 drops a stop
	 * request when RIP is written, and stops before the hooked
	 * instruction), so the run loop resumes past it instead.  Its own
	 * INVLPG and MOV CR3 would mean nothing with its paging off. */
	if (c->stop != EX_STOP_NONE) {
		c->resume = s->addr + s->size;
		uc_emu_stop(uc);
	} else {
		skip(c, s);
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

/* ---- fast-forward faults --------------------------------------------------- */

/* The accesses of in, with the registers as they are now: explicit
 * memory operands, and the stack for push, pop, call and ret.  False
 * for an instruction whose accesses are not computed here. */
static bool insn_hits(ex_cpu *c, const cs_insn *in, uint64_t addr,
		      sv_access acc, bool *hit)
{
	const cs_x86 *x = &in->detail->x86;
	uint64_t rsp = reg(c, UC_X86_REG_RSP);
	uint8_t i;

	*hit = false;
	switch (in->id) {
	case X86_INS_PUSH:
	case X86_INS_PUSHFQ:
	case X86_INS_CALL:
		*hit |= acc == SV_ACCESS_WRITE && addr - (rsp - 8) < 8;
		break;
	case X86_INS_POP:
	case X86_INS_POPFQ:
	case X86_INS_RET:
		*hit |= acc == SV_ACCESS_READ && addr - rsp < 8;
		break;
	default:
		if (cs_insn_group(c->ex->cs, in, CS_GRP_IRET) ||
		    (in->id >= X86_INS_CMPSB && in->id <= X86_INS_CMPSW) ||
		    in->id == X86_INS_MOVSB || in->id == X86_INS_MOVSW ||
		    in->id == X86_INS_MOVSD || in->id == X86_INS_MOVSQ ||
		    in->id == X86_INS_STOSB || in->id == X86_INS_STOSW ||
		    in->id == X86_INS_STOSD || in->id == X86_INS_STOSQ ||
		    in->id == X86_INS_LODSB || in->id == X86_INS_LODSW ||
		    in->id == X86_INS_LODSD || in->id == X86_INS_LODSQ ||
		    in->id == X86_INS_SCASB || in->id == X86_INS_SCASW ||
		    in->id == X86_INS_SCASD || in->id == X86_INS_SCASQ ||
		    in->id == X86_INS_LEAVE || in->id == X86_INS_ENTER ||
		    in->id == X86_INS_XLATB)
			return false;
	}
	if (in->id == X86_INS_LEA || in->id == X86_INS_NOP)
		return true;
	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		uint64_t ea;

		if (op->type != X86_OP_MEM)
			continue;
		if (!(op->access & (acc == SV_ACCESS_WRITE ? CS_AC_WRITE : CS_AC_READ)))
			continue;
		ea = (op->mem.base == X86_REG_RIP ? in->address + in->size
						  : reg(c, uc_reg_of(op->mem.base))) +
		     reg(c, uc_reg_of(op->mem.index)) * (uint64_t)op->mem.scale +
		     (uint64_t)op->mem.disp;
		if (op->mem.segment == X86_REG_FS)
			ea += reg(c, UC_X86_REG_FS_BASE);
		else if (op->mem.segment == X86_REG_GS)
			ea += reg(c, UC_X86_REG_GS_BASE);
		if ((op->mem.base && !uc_reg_of(op->mem.base)) ||
		    (op->mem.index && !uc_reg_of(op->mem.index)))
			return false; /* a 32-bit or 16-bit address */
		*hit |= addr - ea < op->size;
	}
	return true;
}

/* The value a `lea r64, m` or `mov r64, r64/imm` would give now, in *v,
 * and its destination; false for any other instruction. */
static bool simple_def(ex_cpu *c, const cs_insn *in, int *dst, uint64_t *v)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *d = &x->operands[0], *sop = &x->operands[1];

	if ((in->id != X86_INS_LEA && in->id != X86_INS_MOV && in->id != X86_INS_MOVABS) ||
	    x->op_count != 2 || d->type != X86_OP_REG || (*dst = gpr_index(d->reg)) < 0 ||
	    d->reg == X86_REG_RIP)
		return false;
	if (in->id == X86_INS_LEA) {
		if (sop->mem.segment != X86_REG_INVALID ||
		    (sop->mem.base && !uc_reg_of(sop->mem.base)) ||
		    (sop->mem.index && !uc_reg_of(sop->mem.index)))
			return false;
		*v = (sop->mem.base == X86_REG_RIP ? in->address + in->size
						   : reg(c, uc_reg_of(sop->mem.base))) +
		     reg(c, uc_reg_of(sop->mem.index)) * (uint64_t)sop->mem.scale +
		     (uint64_t)sop->mem.disp;
		return true;
	}
	if (sop->type == X86_OP_IMM) {
		*v = (uint64_t)sop->imm;
		return true;
	}
	if (sop->type != X86_OP_REG || !uc_reg_of(sop->reg) || sop->reg == X86_REG_RIP)
		return false;
	*v = reg(c, uc_reg_of(sop->reg));
	return true;
}

/*
 * Could the block have run up to instruction j (0..j-1 done) and be where
 * it is now?  Walking back from j, the last `lea` or register `mov` to a
 * register before j, with nothing after it writing that register (or a
 * part of it) or its sources, must give what the register holds now.
 */
static bool consistent(ex_cpu *c, const cs_insn *ins, size_t j)
{
	uint64_t written = 0; /* bit i: gprs[i] written after */
	size_t k;

	for (k = j; k-- > 0;) {
		const cs_insn *in = &ins[k];
		cs_regs rd, wr;
		uint8_t nr, nw, i;
		uint64_t v, uses = 0;
		int dst;

		if (cs_regs_access(c->ex->cs, in, rd, &nr, wr, &nw) != CS_ERR_OK)
			return true;
		for (i = 0; i < nr; i++)
			if (gpr_family(rd[i]) >= 0)
				uses |= 1ULL << gpr_family(rd[i]);
		if (simple_def(c, in, &dst, &v) && !(written & (1ULL << dst)) &&
		    !(written & uses) && v != reg(c, gprs[dst].uc))
			return false;
		for (i = 0; i < nw; i++)
			if (gpr_family(wr[i]) >= 0)
				written |= 1ULL << gpr_family(wr[i]);
	}
	return true;
}

bool sv_exec__fault_insn(ex_cpu *c, uint64_t *rip)
{
	sv_exec *ex = c->ex;
	uint8_t *code;
	cs_insn *ins = NULL;
	size_t n, j, found = 0;
	bool ok = true;

	code = g_malloc(c->block_size ? c->block_size : 1);
	n = uc_mem_read(c->uc, c->block, code, c->block_size) == UC_ERR_OK
		    ? cs_disasm(ex->cs, code, c->block_size, c->block, 0, &ins) : 0;
	g_free(code);
	for (j = 0; j < n && ok; j++) {
		bool hit;

		ok = insn_hits(c, &ins[j], c->fault_addr, c->fault_acc, &hit);
		if (ok && hit && consistent(c, ins, j)) {
			*rip = ins[j].address;
			found++;
		}
	}
	if (n)
		cs_free(ins, n);
	return ok && found == 1;
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
