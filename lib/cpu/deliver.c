/*
 * lib/cpu/deliver.c - delivering a guest exception the model raised.
 *
 * A guest #PF that Unicorn stopped on is delivered the way the CPU does it
 * in 64-bit mode: the IDT gate is read and the frame pushed through the
 * model (a fault there is not delivered: it is reported), CR2 set, RIP
 * moved to the handler.  Unicorn never sees the exception, so its 2.0.1
 * pending-exception bug (#DF on the second fault) cannot arise.
 */
#include "cpu/exec.h"

/* A 64-bit access the CPU makes while delivering an exception, through the
 * model and then Unicorn's memory.  False if it faults. */
static bool sys_access(ex_cpu *c, uint64_t gva, void *buf, uint32_t len,
		       sv_access acc)
{
	sv_xlate x;

	sv_exec__access(c, gva, len, acc, acc == SV_ACCESS_WRITE ? buf : NULL, &x);
	if (x.fault.kind != SV_FAULT_NONE)
		return false;
	return (acc == SV_ACCESS_WRITE ? uc_mem_write(c->uc, gva, buf, len)
				       : uc_mem_read(c->uc, gva, buf, len)) == UC_ERR_OK;
}

/*
 * Delivers the pending #PF to the guest's vector-14 gate (SDM Vol. 3A
 * "Interrupt and Exception Handling in 64-bit Mode": RSP aligned to 16,
 * then SS, RSP, RFLAGS, CS, RIP and the error code pushed).  Returns
 * false when it cannot: no IDT entry, or a fault on the way (the CPU would
 * raise #DF; simvirt reports the first fault instead).
 */
bool sv_exec__deliver_pf(ex_cpu *c)
{
	uc_x86_mmr idtr;
	uint64_t gate[2], handler, rsp, rflags, cs, ss, frame[6];

	uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
	if (idtr.limit < 14 * 16 + 15 ||
	    !sys_access(c, idtr.base + 14 * 16, gate, 16, SV_ACCESS_READ))
		return false;
	if (!(gate[0] & (1ULL << 47)) || ((gate[0] >> 40) & 0xe) != 0xe)
		return false; /* not present, or not an interrupt/trap gate */
	handler = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ULL) |
		  (gate[1] << 32);
	uc_reg_read(c->uc, UC_X86_REG_RSP, &rsp);
	uc_reg_read(c->uc, UC_X86_REG_RFLAGS, &rflags);
	uc_reg_read(c->uc, UC_X86_REG_CS, &cs);
	uc_reg_read(c->uc, UC_X86_REG_SS, &ss);
	frame[0] = c->fault.error_code;
	frame[1] = c->fault_rip;
	frame[2] = cs;
	frame[3] = rflags;
	frame[4] = rsp;
	frame[5] = ss;
	rsp = (rsp & ~15ULL) - sizeof(frame);
	if (!sys_access(c, rsp, frame, sizeof(frame), SV_ACCESS_WRITE))
		return false;
	cs = (gate[0] >> 16) & 0xffff;
	if (!(gate[0] & (1ULL << 40)))
		rflags &= ~(1ULL << 9); /* an interrupt gate clears IF */
	rflags &= ~((1ULL << 8) | (1ULL << 16)); /* TF, RF */
	uc_reg_write(c->uc, UC_X86_REG_CR2, &c->fault.gva);
	uc_reg_write(c->uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(c->uc, UC_X86_REG_RFLAGS, &rflags);
	uc_reg_write(c->uc, UC_X86_REG_CS, &cs);
	c->rip = handler;
	sv_exec__stat_add(c, SV_VCPU_STAT_pf_delivered, 1);
	return true;
}

