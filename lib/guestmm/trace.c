/*
 * lib/guestmm/trace.c - a memory trace run through the guest kernel
 * (sv_guestmm_run_trace, simvirt/tracein.h): the automatic VMAs a trace's
 * addresses need, the run, and a ready-made machine to run it on.
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

/* ---- a machine for a trace ---------------------------------------------------- */

#define TRACE_GPA SV_PAGE_1G

void sv_trace_machine_options_init(sv_trace_machine_options *o)
{
	static const sv_trace_machine_options d = SV_TRACE_MACHINE_OPTIONS_INIT;

	if (o)
		memcpy(o, &d, sizeof(d)); /* the padding too */
}

void sv_trace_machine_free(sv_trace_machine *m)
{
	if (!m)
		return;
	sv_guestmm_free(m->guest);
	sv_vm_free(m->vm);
	sv_host_free(m->host);
	memset(m, 0, sizeof(*m));
}

int sv_trace_machine_new(sv_trace_machine *m, const sv_trace_machine_options *o)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_guestmm_options go;
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.prot = SV_PROT_READ | SV_PROT_WRITE,
		.backing = SV_BACKING_ANON,
	};
	sv_memslot_region s = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = 1,
		.gpa = TRACE_GPA,
	};
	sv_vcpu_regs r;
	int rc;

	sv_err__clear();
	if (!m || !o)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_machine_new: NULL "
						    "argument");
	memset(m, 0, sizeof(*m));
	if (o->version != SV_TRACE_MACHINE_OPTIONS_VERSION || o->mem % SZ_2M ||
	    o->mem < 2 * SZ_2M || o->mem > SV_HOST_MEM_MAX - SV_PAGE_1G)
		return sv_err__set(NULL, SV_EINVAL, "trace machine options: version "
						    "%u, mem 0x%" PRIx64 " (expected "
						    "version %u, a multiple of 2M "
						    "from 4M to 1T less 1G)",
				   o->version, o->mem,
				   SV_TRACE_MACHINE_OPTIONS_VERSION);
	ho.mem_size = (o->mem + 2 * SV_PAGE_1G - 1) & ~(SV_PAGE_1G - 1);
	ho.resident_limit = 0;
	mo.mmu = o->mmu;
	a.size = s.size = o->mem;
	go = o->guest;
	go.mem_gpa = TRACE_GPA;
	go.mem_size = o->mem;
	if ((rc = sv_host_new(&m->host, &ho)) || (rc = sv_vm_new(&m->vm, NULL)) ||
	    (rc = sv_mmu_attach(m->vm, m->host, &mo)) ||
	    (rc = sv_host_mmap(&s.hva, m->host, &a)) ||
	    (!o->host_4k &&
	     (rc = sv_host_madvise(m->host, s.hva, o->mem, SV_MADV_HUGEPAGE))) ||
	    (rc = sv_memslot_set(m->vm, &s)) ||
	    (rc = sv_guestmm_new(&m->guest, m->vm, &go)))
		goto fail;
	m->vcpu = sv_vm_vcpu(m->vm, 0);
	sv_vcpu_get_regs(m->vcpu, &r);
	r.cr0 |= SV_CR0_PG | SV_CR0_WP;
	r.cr3 = sv_guestmm_cr3(m->guest);
	rc = sv_vcpu_set_regs(m->vcpu, &r);
	if (rc == SV_OK)
		return SV_OK;
fail: {
	g_autofree char *d = g_strdup(sv_error_detail());

	sv_trace_machine_free(m);
	return sv_err__set(NULL, rc, "sv_trace_machine_new: %s", d);
}
}
