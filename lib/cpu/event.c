/*
 * lib/cpu/event.c - exceptions and software interrupts, and their
 * delivery through the guest's IDT.
 *
 * How it works:
 *  1. A turn that ended on a fault raises it (sv_exec__raise): the model's
 *     #PF (CR2 loaded at once, as the CPU does) and #GP, or an exception
 *     Unicorn raised (#DE, #UD, #BP, INT n...).  Raising folds the new
 *     exception into the one pending or being injected, by the classes of
 *     the SDM's Table 6-4/6-5 as KVM's kvm_multiple_exception does: two
 *     contributory, or a page fault then a contributory or page fault,
 *     make a #DF; anything during a #DF is a triple fault (shutdown);
 *     otherwise the new one replaces the old, whose instruction raises it
 *     again when it runs again.
 *  2. Delivery (sv_exec__deliver) takes the injected event, else the
 *     pending one (deciding then whether it pushes an error code), and
 *     does what the CPU does in 64-bit mode (SDM Vol. 3A 6.14): the gate
 *     from the IDT, the handler's code segment from the GDT, a new stack
 *     from the TSS for an IST gate or a change to CPL 0, then SS, RSP,
 *     RFLAGS, CS, RIP and the error code pushed.  Every access goes through
 *     the model as an implicit supervisor access.
 *  3. A fault on the way raises a new exception (step 1).  An access that
 *     exited to the hypervisor (an EPT violation or NPT fault the MMU then
 *     fixed) aborts the delivery with the IDT-vectoring information valid;
 *     the same event is injected again and its delivery starts over.
 */
#include "cpu/exec.h"

#define V_DF 8
#define V_PF 14
#define V_GP 13
#define V_NP 11
#define V_TS 10
#define V_SS 12

/* Vectors that push an error code (SDM Table 6-1). */
#define EC_VECTORS ((1U << 8) | (1U << 10) | (1U << 11) | (1U << 12) | \
		    (1U << 13) | (1U << 14) | (1U << 17) | (1U << 21) |   \
		    (1U << 29) | (1U << 30))

typedef enum ex_class { CL_BENIGN, CL_CONTRIBUTORY, CL_PF } ex_class;

/* SDM Table 6-4, as KVM's exception_class(). */
static ex_class class_of(const ex_event *e)
{
	if (e->soft)
		return CL_BENIGN;
	switch (e->vector) {
	case V_PF:
		return CL_PF;
	case 0:
	case V_TS:
	case V_NP:
	case V_SS:
	case V_GP:
		return CL_CONTRIBUTORY;
	default:
		return CL_BENIGN;
	}
}

/* The counter of a vector: exc_* for the architectural exceptions, int_n
 * for software interrupts above 31, none for the reserved vectors. */
static sv_vcpu_stat vector_stat(unsigned vector)
{
	static const sv_vcpu_stat by_vector[32] = {
		[0] = SV_VCPU_STAT_exc_de,  [1] = SV_VCPU_STAT_exc_db,
		[2] = SV_VCPU_STAT_exc_nmi, [3] = SV_VCPU_STAT_exc_bp,
		[4] = SV_VCPU_STAT_exc_of,  [5] = SV_VCPU_STAT_exc_br,
		[6] = SV_VCPU_STAT_exc_ud,  [7] = SV_VCPU_STAT_exc_nm,
		[8] = SV_VCPU_STAT_exc_df,  [10] = SV_VCPU_STAT_exc_ts,
		[11] = SV_VCPU_STAT_exc_np, [12] = SV_VCPU_STAT_exc_ss,
		[13] = SV_VCPU_STAT_exc_gp, [14] = SV_VCPU_STAT_exc_pf,
		[16] = SV_VCPU_STAT_exc_mf, [17] = SV_VCPU_STAT_exc_ac,
		[18] = SV_VCPU_STAT_exc_mc, [19] = SV_VCPU_STAT_exc_xm,
		[20] = SV_VCPU_STAT_exc_ve, [21] = SV_VCPU_STAT_exc_cp,
		[28] = SV_VCPU_STAT_exc_hv, [29] = SV_VCPU_STAT_exc_vc,
		[30] = SV_VCPU_STAT_exc_sx,
	};

	if (vector >= 32)
		return SV_VCPU_STAT_int_n;
	/* Counter 0 (accesses) is no vector's: 0 marks a reserved one. */
	return by_vector[vector] ? by_vector[vector] : SV_VCPU_STAT__COUNT;
}

static void count(ex_cpu *c, sv_vcpu_stat id)
{
	if (id < SV_VCPU_STAT__COUNT)
		sv_exec__stat_add(c, id, 1);
}

bool sv_exec__raise(ex_cpu *c, unsigned vector, bool soft, uint32_t error_code,
		    uint64_t rip)
{
	ex_event e = {.valid = true, .soft = soft, .vector = (uint8_t)vector,
		      .error_code = error_code, .rip = rip};
	const ex_event *prev = c->injected.valid ? &c->injected
			       : c->pending.valid ? &c->pending : NULL;

	count(c, vector_stat(vector));
	if (!prev) {
		c->pending = e;
		return true;
	}
	if (!prev->soft && prev->vector == V_DF) {
		count(c, SV_VCPU_STAT_triple_faults);
		c->injected.valid = c->pending.valid = false;
		return false;
	}
	if ((class_of(prev) == CL_CONTRIBUTORY && class_of(&e) == CL_CONTRIBUTORY) ||
	    (class_of(prev) == CL_PF && class_of(&e) != CL_BENIGN)) {
		/* A #DF's error code is 0; it returns to the instruction
		 * that raised the first exception. */
		e = (ex_event){.valid = true, .vector = V_DF, .rip = prev->rip};
		count(c, SV_VCPU_STAT_double_faults);
		count(c, SV_VCPU_STAT_exc_df);
	}
	/* Otherwise the SDM handles them serially: the new one is
	 * delivered, and the old one's instruction raises it again. */
	c->injected.valid = false;
	c->pending = e;
	return true;
}

/* ---- exceptions Unicorn raises ------------------------------------------------ */

/*
 * Where Unicorn 2.0.1 keeps the last exception it raised (QEMU's
 * env->old_exception) in a saved CPU context, or 0 if unknown.  QEMU
 * clears it when it delivers an exception; Unicorn hands the exception to
 * the hook instead and never does, so the next exception would come as a
 * #DF and the one after as a silent stop.  Learnt once: a probe engine
 * raises a #DE, and the one int that went from -1 to 0 is it.
 */
static size_t old_exception_at;

static void probe_intr(uc_engine *uc, uint32_t intno, void *payload)
{
	SV_UNUSED(intno);
	SV_UNUSED(payload);
	uc_emu_stop(uc);
}

static gpointer probe_old_exception(gpointer unused)
{
	static const uint8_t div0[] = {0x31, 0xc9, 0xf7, 0xf1}; /* xor ecx,ecx; div ecx */
	uc_context *before = NULL, *after = NULL;
	uc_engine *uc;
	uc_hook h;
	size_t at = 0, o, n, found = 0;

	SV_UNUSED(unused);
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
		return NULL;
	if (uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL) == UC_ERR_OK &&
	    uc_mem_write(uc, 0x1000, div0, sizeof(div0)) == UC_ERR_OK &&
	    uc_hook_add(uc, &h, UC_HOOK_INTR, probe_intr, NULL, 1, 0) == UC_ERR_OK &&
	    uc_context_alloc(uc, &before) == UC_ERR_OK &&
	    uc_context_alloc(uc, &after) == UC_ERR_OK &&
	    uc_context_save(uc, before) == UC_ERR_OK &&
	    uc_emu_start(uc, 0x1000, 0x1000 + sizeof(div0), 0, 0) == UC_ERR_OK &&
	    uc_context_save(uc, after) == UC_ERR_OK) {
		n = uc_context_size(uc);
		for (o = 0; o + 4 <= n; o += 4) {
			int32_t x, y;

			memcpy(&x, (const uint8_t *)before + o, 4);
			memcpy(&y, (const uint8_t *)after + o, 4);
			if (x == -1 && y == 0) {
				at = o;
				found++;
			}
		}
	}
	uc_context_free(before);
	uc_context_free(after);
	uc_close(uc);
	old_exception_at = found == 1 ? at : 0;
	return NULL;
}

int sv_exec__exceptions_init(sv_vm *vm)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, probe_old_exception, NULL);
	if (!old_exception_at)
		return sv_err__set(vm, SV_EBUG, "exec: this build of Unicorn does not "
						"show where it keeps its last exception: "
						"a guest's second exception would be a #DF");
	return SV_OK;
}

static void forget_exception(ex_cpu *c)
{
	const int32_t none = -1;

	if (uc_context_save(c->uc, c->ctx) != UC_ERR_OK)
		return;
	memcpy((uint8_t *)c->ctx + old_exception_at, &none, sizeof(none));
	uc_context_restore(c->uc, c->ctx);
}

/* An exception or INT n: Unicorn's RIP is the faulting instruction for a
 * fault and the next one for a trap or INT n, as the frame wants it.  The
 * run loop raises it once Unicorn stops. */
static void on_intr(uc_engine *uc, uint32_t intno, void *payload)
{
	ex_cpu *c = payload;

	if (c->intno < 0) {
		c->intno = (int)intno;
		uc_reg_read(uc, UC_X86_REG_RIP, &c->intno_rip);
	}
	forget_exception(c);
	uc_emu_stop(uc);
}

/* #UD: Unicorn 2.0.1 sends it here, not to the interrupt hook; returning
 * true stops it quietly with RIP at the instruction. */
static bool on_invalid(uc_engine *uc, void *payload)
{
	ex_cpu *c = payload;

	if (c->intno < 0) {
		c->intno = 6;
		uc_reg_read(uc, UC_X86_REG_RIP, &c->intno_rip);
	}
	return true;
}

uc_err sv_exec__exception_hooks_add(ex_cpu *c)
{
	uc_hook h; /* freed with the engine */
	uc_err e;

	e = uc_hook_add(c->uc, &h, UC_HOOK_INTR, on_intr, c, 1, 0);
	if (e == UC_ERR_OK)
		e = uc_hook_add(c->uc, &h, UC_HOOK_INSN_INVALID, on_invalid, c, 1, 0);
	return e;
}

/* ---- the CPL ------------------------------------------------------------- */

/* The model's CPL (user or supervisor accesses), recorded for replay. */
void sv_exec__model_cpl(ex_cpu *c, unsigned cpl)
{
	sv_vcpu_regs r;

	sv_vcpu_get_regs(c->v, &r);
	if (r.cpl == cpl)
		return;
	r.cpl = cpl;
	sv_vcpu_set_regs(c->v, &r); /* cannot fail: only the CPL changed */
	if (SV_UNLIKELY(c->ex->rec != NULL)) {
		sv_trace_event ev = {.kind = SV_TEV_CPL, .vcpu = c->index, .n = cpl};

		sv_trace__put(c->ex->rec, &ev);
	}
}

void sv_exec__set_cpl(ex_cpu *c, unsigned cpl)
{
	c->cpl = cpl;
	sv_exec__model_cpl(c, cpl);
}

/* ---- delivery ------------------------------------------------------------ */

typedef enum acc_result { ACC_OK, ACC_EXIT, ACC_FAULT, ACC_REPORT } acc_result;

/*
 * One access the CPU makes while delivering, through the model and then
 * Unicorn's memory.  ACC_EXIT: the MMU handled an exit on the way (the
 * delivery must start over); ACC_FAULT: *f is a #PF or #GP to raise;
 * ACC_REPORT: c->fault is what the guest cannot be shown.
 */
static acc_result sys_access(ex_cpu *c, uint64_t gva, void *buf, uint32_t len,
			     sv_access acc, sv_fault *f)
{
	sv_xlate x;

	sv_exec__access(c, gva, len, acc, acc == SV_ACCESS_WRITE ? buf : NULL, &x);
	if (x.exits)
		return ACC_EXIT;
	if (x.fault.kind == SV_FAULT_PF || x.fault.kind == SV_FAULT_GP) {
		*f = x.fault;
		return ACC_FAULT;
	}
	if (x.fault.kind != SV_FAULT_NONE) {
		c->fault = x.fault;
		return ACC_REPORT;
	}
	if ((acc == SV_ACCESS_WRITE ? uc_mem_write(c->uc, gva, buf, len)
				    : uc_mem_read(c->uc, gva, buf, len)) != UC_ERR_OK) {
		c->fault = (sv_fault){.kind = SV_FAULT_PF, .stage = SV_STAGE_TLB,
				      .gva = gva};
		return ACC_REPORT;
	}
	return ACC_OK;
}

/* What one delivery attempt came to. */
typedef enum try_result { TRY_DONE, TRY_EXIT, TRY_RAISE, TRY_REPORT } try_result;

typedef struct attempt {
	unsigned vector;       /* TRY_RAISE: the exception to raise */
	uint32_t error_code;
	sv_fault pf;           /* ... a #PF's fault (CR2) */
} attempt;

/* Error code of a fault on a descriptor or gate (SDM 6.13): the index,
 * IDT bit, and EXT unless the event came from the program. */
static uint32_t sel_ec(const ex_event *e, uint32_t sel_or_vec, bool idt)
{
	return idt ? (sel_or_vec << 3) | 2 | !e->soft : (sel_or_vec & ~3U) | !e->soft;
}

static try_result raise_ec(attempt *a, unsigned vector, uint32_t ec)
{
	a->vector = vector;
	a->error_code = ec;
	return TRY_RAISE;
}

static try_result access_failed(attempt *a, acc_result r, const sv_fault *f,
				unsigned stack)
{
	if (r == ACC_EXIT)
		return TRY_EXIT;
	if (r == ACC_REPORT)
		return TRY_REPORT;
	if (f->kind == SV_FAULT_GP) /* a non-canonical address */
		return raise_ec(a, stack ? V_SS : V_GP, 0);
	a->pf = *f;
	return raise_ec(a, V_PF, (uint32_t)f->error_code);
}

/* One attempt at delivering e (64-bit mode, SDM Vol. 3A 6.14). */
static try_result try_deliver(ex_cpu *c, const ex_event *e, attempt *a)
{
	uc_x86_mmr idtr, gdtr, tr;
	/* Unicorn fills only a selector's low bits */
	uint64_t gate[2], desc, handler, rsp, rflags, cs, ss = 0, frame[6] = {0};
	unsigned ist, dpl, new_cpl, n;
	sv_fault f;
	acc_result r;

	uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
	if ((uint64_t)e->vector * 16 + 15 > idtr.limit)
		return raise_ec(a, V_GP, sel_ec(e, e->vector, true));
	r = sys_access(c, idtr.base + e->vector * 16ULL, gate, 16, SV_ACCESS_READ, &f);
	if (r != ACC_OK)
		return access_failed(a, r, &f, 0);
	if (((gate[0] >> 40) & 0xe) != 0xe) /* 64-bit interrupt or trap gate */
		return raise_ec(a, V_GP, sel_ec(e, e->vector, true));
	dpl = (gate[0] >> 45) & 3;
	if (e->soft && c->cpl > dpl)
		return raise_ec(a, V_GP, sel_ec(e, e->vector, true));
	if (!(gate[0] & (1ULL << 47)))
		return raise_ec(a, V_NP, sel_ec(e, e->vector, true));
	cs = (gate[0] >> 16) & 0xffff;
	ist = (gate[0] >> 32) & 7;
	handler = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ULL) |
		  (gate[1] << 32);
	/* The handler's code segment: a present 64-bit code segment of the
	 * GDT whose DPL is not above the CPL. */
	uc_reg_read(c->uc, UC_X86_REG_GDTR, &gdtr);
	if ((cs & ~3ULL) == 0 || (cs & 4) || (cs | 7) > gdtr.limit)
		return raise_ec(a, V_GP, sel_ec(e, (uint32_t)cs, false));
	r = sys_access(c, gdtr.base + (cs & ~7ULL), &desc, 8, SV_ACCESS_READ, &f);
	if (r != ACC_OK)
		return access_failed(a, r, &f, 0);
	new_cpl = (desc >> 45) & 3;
	if (((desc >> 43) & 3) != 3 || !(desc & (1ULL << 53)) || new_cpl > c->cpl)
		return raise_ec(a, V_GP, sel_ec(e, (uint32_t)cs, false));
	if (!(desc & (1ULL << 47)))
		return raise_ec(a, V_NP, sel_ec(e, (uint32_t)cs, false));
	if (desc & (1ULL << 42)) /* conforming: the CPL stays */
		new_cpl = c->cpl;
	uc_reg_read(c->uc, UC_X86_REG_RSP, &rsp);
	uc_reg_read(c->uc, UC_X86_REG_RFLAGS, &rflags);
	uc_reg_read(c->uc, UC_X86_REG_SS, &ss);
	frame[5] = ss;
	frame[4] = rsp;
	frame[3] = rflags;
	uc_reg_read(c->uc, UC_X86_REG_CS, &frame[2]);
	frame[1] = e->rip;
	frame[0] = e->error_code;
	/* A new stack: IST n, or RSP0 when the CPL drops (SDM 6.14.4-5). */
	if (ist || new_cpl < c->cpl) {
		uint32_t off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * new_cpl;

		uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
		if (off + 7 > tr.limit)
			return raise_ec(a, V_TS, (tr.selector & ~3U) | !e->soft);
		r = sys_access(c, tr.base + off, &rsp, 8, SV_ACCESS_READ, &f);
		if (r != ACC_OK)
			return access_failed(a, r, &f, 0);
		if (new_cpl < c->cpl)
			ss = new_cpl; /* a null selector, RPL = the new CPL */
	}
	n = e->has_error_code ? 6 : 5;
	rsp = (rsp & ~15ULL) - 8 * n;
	r = sys_access(c, rsp, frame + 6 - n, 8 * n, SV_ACCESS_WRITE, &f);
	if (r != ACC_OK)
		return access_failed(a, r, &f, 1);
	/* Delivered: the handler's state. */
	rflags &= ~((1ULL << 8) | (1ULL << 14) | (1ULL << 16) | (1ULL << 17)); /* TF NT RF VM */
	if (!((gate[0] >> 40) & 1))
		rflags &= ~(1ULL << 9); /* an interrupt gate clears IF */
	cs = (cs & ~3ULL) | new_cpl;
	uc_reg_write(c->uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(c->uc, UC_X86_REG_RFLAGS, &rflags);
	uc_reg_write(c->uc, UC_X86_REG_CS, &cs);
	uc_reg_write(c->uc, UC_X86_REG_SS, &ss);
	c->rip = handler;
	sv_exec__set_cpl(c, new_cpl);
	return TRY_DONE;
}

/* The implicit accesses of delivery are supervisor accesses whatever the
 * CPL (SDM 4.6.1): the model sees CPL 0 while they are made. */
static try_result attempt_at_cpl0(ex_cpu *c, const ex_event *e, attempt *a)
{
	unsigned cpl = c->cpl;
	try_result t;

	if (cpl)
		sv_exec__model_cpl(c, 0);
	t = try_deliver(c, e, a);
	if (cpl && t != TRY_DONE)
		sv_exec__model_cpl(c, cpl);
	return t;
}

/* A bound on the attempts of one delivery: every exit maps what it
 * faulted on, and every fault folds into a #DF or shutdown by the third. */
#define EX_DELIVERY_ATTEMPTS 64

ex_deliver sv_exec__deliver(ex_cpu *c)
{
	unsigned i;

	for (i = 0; i < EX_DELIVERY_ATTEMPTS; i++) {
		attempt a = {0};
		ex_event *e = &c->injected;

		if (!e->valid) {
			if (!c->pending.valid)
				return EX_DELIVERED;
			*e = c->pending;
			c->pending.valid = false;
			/* Whether it pushes an error code is decided now,
			 * when it is injected. */
			e->has_error_code = !e->soft && e->vector < 32 &&
					    (EC_VECTORS >> e->vector) & 1;
		}
		switch (attempt_at_cpl0(c, e, &a)) {
		case TRY_DONE:
			count(c, SV_VCPU_STAT_events_delivered);
			if (e->vector == V_PF && !e->soft)
				count(c, SV_VCPU_STAT_pf_delivered);
			e->valid = false;
			break;
		case TRY_EXIT:
			/* The exit's IDT-vectoring information holds e; the
			 * hypervisor injects it again on the next entry. */
			count(c, SV_VCPU_STAT_exits_idt_vectoring);
			count(c, SV_VCPU_STAT_event_reinjections);
			break;
		case TRY_REPORT:
			c->injected.valid = c->pending.valid = false;
			return EX_REPORT;
		case TRY_RAISE:
			if (a.vector == V_PF)
				uc_reg_write(c->uc, UC_X86_REG_CR2, &a.pf.gva);
			if (!sv_exec__raise(c, a.vector, false, a.error_code, e->rip))
				return EX_SHUTDOWN;
			break;
		}
	}
	c->fault = (sv_fault){.kind = SV_FAULT_PF, .stage = SV_STAGE_TLB};
	c->injected.valid = c->pending.valid = false;
	return EX_REPORT;
}
