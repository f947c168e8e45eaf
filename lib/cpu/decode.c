/*
 * lib/cpu/decode.c - what the execution side reads out of instructions
 * beyond their cost: registers by Capstone's name, and the instruction
 * of a fast-forward block that made a faulting access.
 *
 * How the faulting instruction is found: without memory hooks Unicorn
 * 2.0.1 leaves RIP at the block's start, but the instructions before the
 * faulting one have run and it has not.  So the block is decoded again,
 * and the candidates are the instructions whose access, computed from the
 * registers as they are now, is the one that faulted.  A candidate is
 * dropped when a `lea` or register `mov` before it, whose operands
 * nothing changed since, would have left a register other than it is.
 * One candidate left is the answer; none or several, no answer.
 */
#include "cpu/exec.h"

static uint64_t reg(ex_cpu *c, int r)
{
	uint64_t v = 0;

	if (r)
		uc_reg_read(c->uc, r, &v);
	return v;
}

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

int sv_exec__uc_reg(x86_reg r)
{
	int i = gpr_index(r);

	return i < 0 ? 0 : gprs[i].uc;
}


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
						  : reg(c, sv_exec__uc_reg(op->mem.base))) +
		     reg(c, sv_exec__uc_reg(op->mem.index)) * (uint64_t)op->mem.scale +
		     (uint64_t)op->mem.disp;
		if (op->mem.segment == X86_REG_FS)
			ea += reg(c, UC_X86_REG_FS_BASE);
		else if (op->mem.segment == X86_REG_GS)
			ea += reg(c, UC_X86_REG_GS_BASE);
		if ((op->mem.base && !sv_exec__uc_reg(op->mem.base)) ||
		    (op->mem.index && !sv_exec__uc_reg(op->mem.index)))
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
		    (sop->mem.base && !sv_exec__uc_reg(sop->mem.base)) ||
		    (sop->mem.index && !sv_exec__uc_reg(sop->mem.index)))
			return false;
		*v = (sop->mem.base == X86_REG_RIP ? in->address + in->size
						   : reg(c, sv_exec__uc_reg(sop->mem.base))) +
		     reg(c, sv_exec__uc_reg(sop->mem.index)) * (uint64_t)sop->mem.scale +
		     (uint64_t)sop->mem.disp;
		return true;
	}
	if (sop->type == X86_OP_IMM) {
		*v = (uint64_t)sop->imm;
		return true;
	}
	if (sop->type != X86_OP_REG || !sv_exec__uc_reg(sop->reg) || sop->reg == X86_REG_RIP)
		return false;
	*v = reg(c, sv_exec__uc_reg(sop->reg));
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
