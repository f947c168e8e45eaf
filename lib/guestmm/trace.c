/*
 * lib/guestmm/trace.c - a memory trace run through the guest kernel
 * (sv_guestmm_run_trace, simvirt/tracein.h): the automatic VMAs a trace's
 * addresses need, and the run.
 */
#include "guestmm/guestmm.h"
#include "simvirt/hostmm.h"
#include "simvirt/tracein.h"

typedef struct gap_around {
	uint64_t addr, lo, hi;
} gap_around;

static gboolean around_step(gpointer k, gpointer v, gpointer data)
{
	gap_around *g = data;
	const gvma *m = v;

	SV_UNUSED(k);
	if (m->end <= g->addr) {
		g->lo = MAX(g->lo, m->end);
		return FALSE;
	}
	g->hi = MIN(g->hi, m->start);
	return TRUE;
}

/* The rule for a trace's addresses: a VMA over the 1G-aligned range
 * around addr, less what other VMAs hold. */
static int auto_vma(sv_guestmm *gm, uint64_t addr)
{
	gap_around g = {addr, MAX(addr & ~(SV_PAGE_1G - 1), MMAP_MIN),
			(addr & ~(SV_PAGE_1G - 1)) + SV_PAGE_1G};
	uint64_t gva;

	if (addr < MMAP_MIN)
		return sv_err__set(gm->vm, SV_EINVAL, "gva 0x%" PRIx64 " is below "
						      "mmap_min_addr (0x%llx)", addr,
				   (unsigned long long)MMAP_MIN);
	g_tree_foreach(gm->vmas, around_step, &g);
	return sv_guestmm_mmap(&gva, gm, g.lo, g.hi - g.lo,
			       SV_PROT_READ | SV_PROT_WRITE | SV_PROT_EXEC,
			       SV_GMAP_FIXED);
}

int sv_guestmm_run_trace(uint64_t *done, sv_guestmm *gm, sv_vcpu *v,
			 sv_trace_reader *r, uint64_t max)
{
	sv_trace_record rec;
	uint64_t n = 0;
	int rc = SV_OK;

	sv_err__clear();
	if (!done || !gm || !v || !r)
		return sv_err__set(NULL, SV_EINVAL, "sv_guestmm_run_trace: NULL "
						    "argument");
	while (!max || n < max) {
		bool end;
		sv_xlate x;

		rc = sv_trace_reader_next(r, &rec, &end);
		if (rc != SV_OK || end)
			break;
		if (rec.addr + rec.size > MMAP_END) {
			rc = sv_err__set(gm->vm, SV_EINVAL,
					 "trace record %" PRIu64 " (line %" PRIu64
					 "): gva 0x%" PRIx64 " is outside the user "
					 "half of a 4-level address space",
					 n + 1, sv_trace_reader_line(r), rec.addr);
			break;
		}
		/* both ends: an access may cross into the next page */
		if (!sv_guestmm__vma_at(gm, rec.addr))
			rc = auto_vma(gm, rec.addr);
		if (rc == SV_OK && !sv_guestmm__vma_at(gm, rec.addr + rec.size - 1))
			rc = auto_vma(gm, rec.addr + rec.size - 1);
		if (rc != SV_OK) {
			g_autofree char *d = g_strdup(sv_error_detail());

			rc = sv_err__set(gm->vm, rc, "trace record %" PRIu64
					 " (line %" PRIu64 "): %s", n + 1,
					 sv_trace_reader_line(r), d);
			break;
		}
		rc = sv_guestmm_access(&x, gm, v, rec.addr, rec.size, rec.access);
		if (rc == SV_OK && x.fault.kind != SV_FAULT_NONE)
			rc = sv_err__set(gm->vm, SV_EFAULT,
					 "trace record %" PRIu64 " (line %" PRIu64
					 "): %s of gva 0x%" PRIx64 " ended in %s",
					 n + 1, sv_trace_reader_line(r),
					 rec.access == SV_ACCESS_WRITE ? "write"
					 : rec.access == SV_ACCESS_FETCH ? "fetch"
									 : "read",
					 rec.addr, sv_fault_kind_name(x.fault.kind));
		if (rc != SV_OK)
			break;
		n++;
	}
	*done = n;
	return rc;
}
