/*
 * lib/cpu/record.c - recording the execution side's model inputs, and
 * feeding a recorded event back (lib/cpu/record.h).
 */
#include "cpu/exec.h"

void sv_exec__set_beat(sv_exec *ex, void (*fn)(void *payload), void *payload)
{
	ex->beat = fn;
	ex->beat_payload = payload;
}

void sv_exec__set_recorder(sv_exec *ex, sv_trace_writer *w)
{
	ex->rec = w;
}

void sv_exec__record_event(sv_exec *ex, sv_trace_kind kind, unsigned vcpu,
			   uint64_t addr)
{
	sv_trace_event ev = {.kind = kind, .vcpu = vcpu, .addr = addr};

	if (ex->rec)
		sv_trace__put(ex->rec, &ev);
}

/*
 * Feeds one recorded event back into the model as the execution side fed
 * it: the same call, and a write's bytes stored where Unicorn stored them
 * (the slot's bytes, unless the slot is read-only or the access faulted).
 */
int sv_exec__replay(sv_exec *ex, const sv_trace_event *ev)
{
	static const sv_access acc[] = {[SV_TEV_READ] = SV_ACCESS_READ,
					[SV_TEV_WRITE] = SV_ACCESS_WRITE,
					[SV_TEV_FETCH] = SV_ACCESS_FETCH};
	sv_vcpu *v;
	sv_xlate x;
	int rc;

	if (ev->vcpu >= ex->n)
		return sv_err__set(ex->vm, SV_ECONFIG, "trace: vCPU %u, but the scenario "
						       "has %u", ev->vcpu, ex->n);
	v = ex->cpus[ev->vcpu].v;
	switch (ev->kind) {
	case SV_TEV_READ:
	case SV_TEV_WRITE:
	case SV_TEV_FETCH:
		rc = sv_vcpu_translate(&x, v, ev->addr, ev->size, acc[ev->kind]);
		if (rc) /* the host's resident_limit reached */
			return rc;
		if (ev->data_len && x.fault.kind == SV_FAULT_NONE) {
			sv_memslot *s = sv_memslots__find(&ex->vm->memslots, x.gpa);
			uint64_t run = 0;
			uint8_t *p = s && !(s->flags & SV_MEMSLOT_READONLY)
					     ? sv_memslots__run(&ex->vm->memslots,
								s, x.gpa,
								ev->data_len, &run)
					     : NULL;

			if (p && run == ev->data_len)
				memcpy(p, ev->data, ev->data_len);
		}
		return SV_OK;
	case SV_TEV_STAT:
		v->stat[ev->n] += ev->value;
		return SV_OK;
	case SV_TEV_BLOCK:
		v->stat[SV_VCPU_STAT_instructions] += ev->n;
		v->stat[SV_VCPU_STAT_insn_cycles] += ev->value;
		v->stat[SV_VCPU_STAT_cycles] += ev->value;
		return SV_OK;
	case SV_TEV_INVLPG:
		return sv_vcpu_invlpg(v, ev->addr);
	case SV_TEV_CR3:
		return sv_vcpu_mov_cr3(v, ev->addr);
	case SV_TEV_LEAVE:
		sv_vcpu_leave_guest(v);
		return SV_OK;
	case SV_TEV_CPL:
		sv_exec__model_cpl(&ex->cpus[ev->vcpu], ev->n);
		return SV_OK;
	case SV_TEV_STEAL:
		return sv_exec__steal_time(&ex->cpus[ev->vcpu]);
	default:
		return sv_err__set(ex->vm, SV_EBUG, "trace: event %s is not the "
						    "execution side's",
				   sv_trace__kind_name(ev->kind));
	}
}
