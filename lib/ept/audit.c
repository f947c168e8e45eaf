/*
 * lib/ept/audit.c - the auditor: invariants of the two-stage translation that
 * a correct hypervisor MMU keeps, checked as the model runs (when the MMU
 * was attached with audit on).  Each violation is counted; the first of
 * each kind keeps a report.
 *
 *  stale_translation       an access translated (TLB or walk) to a frame
 *                          the host no longer maps at the slot's hva
 *  huge_not_contiguous     a huge SPTE over host memory that is not one
 *                          host leaf of at least its size (bug B2)
 *  lost_dirty              a write during logging missing from the bitmap
 *                          handed out next (checked in lib/ept/dirty.c)
 *  writable_over_readonly  a writable SPTE, or a write through one, where
 *                          the host mapping is not writable
 *  illegal_spte            a 1G SPTE on a CPU without 1G pages (bug B1)
 *  tlb_multi_match         a TLB lookup that matched two page sizes
 */
#include "ept/mmu.h"
#include "hostmm/host.h"

#include <stdarg.h>

static const char *const audit_names[] = {
#define SV__AUDIT_NAME(name, what) #name,
	SV_AUDIT_LIST(SV__AUDIT_NAME)
#undef SV__AUDIT_NAME
};

const char *sv_audit_name(sv_audit_kind k)
{
	return (unsigned)k < SV_AUDIT__COUNT ? audit_names[k] : NULL;
}

uint64_t sv_audit_count(const sv_vm *vm, sv_audit_kind k)
{
	return vm && vm->mmu && (unsigned)k < SV_AUDIT__COUNT ? vm->mmu->audit[k] : 0;
}

const char *sv_audit_first(const sv_vm *vm, sv_audit_kind k)
{
	if (!vm || !vm->mmu || (unsigned)k >= SV_AUDIT__COUNT ||
	    !vm->mmu->audit_first[k])
		return "";
	return vm->mmu->audit_first[k];
}

void sv_audit__report(sv_mmu *m, sv_audit_kind k, const char *fmt, ...)
{
	va_list ap;

	if (m->audit[k]++)
		return;
	va_start(ap, fmt);
	m->audit_first[k] = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

void sv_audit__spte(sv_mmu *m, const sv_memslot *s, uint64_t gfn,
		    unsigned level, uint64_t spte)
{
	uint64_t hva = sv_memslot__hva(s, gfn);
	uint64_t pfn = sv_spte__pfn(spte, 1);
	sv_host_leaf l = {0};

	if (level == 3 && !m->vm->opts.tdp_1g)
		sv_audit__report(m, SV_AUDIT_illegal_spte,
			  "gpa 0x%" PRIx64 ": a 1G SPTE, but the CPU has no 1G "
			  "nested pages", gfn << 12);
	if (sv_host_lookup(&l, m->host, hva) || !l.present) {
		sv_audit__report(m, SV_AUDIT_stale_translation,
			  "gpa 0x%" PRIx64 ": SPTE installed over hva 0x%" PRIx64
			  " which the host does not map", gfn << 12, hva);
		return;
	}
	if (level > 1 && (l.level < level || l.pfn != pfn))
		sv_audit__report(m, SV_AUDIT_huge_not_contiguous,
			  "gpa 0x%" PRIx64 ": a %s SPTE over hva 0x%" PRIx64
			  ", which the host maps with a %s leaf",
			  gfn << 12, level == 3 ? "1G" : "2M", hva,
			  l.level == 3 ? "1G" : l.level == 2 ? "2M" : "4K");
	if ((spte & m->b.w) && !l.writable)
		sv_audit__report(m, SV_AUDIT_writable_over_readonly,
			  "gpa 0x%" PRIx64 ": writable SPTE over hva 0x%" PRIx64
			  ", read-only in the host", gfn << 12, hva);
}

void sv_audit__access(sv_vcpu *v, sv_access acc, const sv_xlate *x)
{
	sv_mmu *m = v->vm->mmu;
	sv_memslot *s = sv_memslots__find(sv_vcpu__memslots(v), x->gpa);
	uint64_t hva, page;
	sv_host_leaf l = {0};

	if (!s)
		return;
	page = (x->gpa - s->gpa) >> 12;
	if (acc == SV_ACCESS_WRITE && s->written)
		s->written[page / 64] |= 1ULL << (page % 64);
	hva = s->hva + (x->gpa - s->gpa);
	if (sv_host_lookup(&l, m->host, hva) || !l.present ||
	    l.pfn != x->hpa >> 12) {
		sv_audit__report(m, SV_AUDIT_stale_translation,
			  "vcpu %u: gpa 0x%" PRIx64 " used hpa 0x%" PRIx64
			  "; the host maps hva 0x%" PRIx64 " %s",
			  v->index, x->gpa, x->hpa, hva,
			  l.present ? "elsewhere" : "to nothing");
		return;
	}
	if (acc == SV_ACCESS_WRITE && !l.writable)
		sv_audit__report(m, SV_AUDIT_writable_over_readonly,
			  "vcpu %u: a write to gpa 0x%" PRIx64 " went through; "
			  "hva 0x%" PRIx64 " is read-only in the host",
			  v->index, x->gpa, hva);
}
