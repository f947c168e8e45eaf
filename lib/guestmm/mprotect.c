/*
 * lib/guestmm/mprotect.c - the calls that change a VMA's rights or extent:
 * mprotect (mm/mprotect.c, change_protection) and brk (mm/mmap.c).
 */
#include "guestmm/guestmm.h"
#include "simvirt/hostmm.h"

/* One leaf at a (level, entry e) with rights prot: rewritten if they
 * differ; true if it was. */
static bool reprotect(sv_guestmm *gm, uint64_t a, unsigned level, uint64_t e,
		      unsigned prot, int *rc)
{
	uint64_t gpa = e & SV_PTE_ADDR_MASK, size = level == 2 ? SZ_2M : SV_PAGE_4K;
	bool writable = (prot & SV_PROT_WRITE) && gpa != gm->zero_gpa;

	if (!!(e & SV_PTE_RW) == writable)
		return false;
	*rc = sv_pt_unmap(gm->pt, a, size);
	if (*rc == SV_OK)
		*rc = sv_guestmm__map(gm, a, gpa, size, writable);
	return true;
}

int sv_guestmm_mprotect(sv_guestmm *gm, uint64_t addr, uint64_t len,
			unsigned prot)
{
	uint64_t end = addr + len, covered = 0, a = addr;
	GArray *gvas;
	GPtrArray *hits;
	int rc = SV_OK;
	guint i;

	sv_err__clear();
	if (!gm || !len || (addr | len) & 0xfff || end < addr || end > MMAP_END)
		return sv_err__set(gm ? gm->vm : NULL, SV_EINVAL,
				   "sv_guestmm_mprotect: [0x%" PRIx64 ", +0x%" PRIx64
				   ") is not a 4K-aligned range of the user half",
				   addr, len);
	if (prot & ~(SV_PROT_READ | SV_PROT_WRITE | SV_PROT_EXEC))
		return sv_err__set(gm->vm, SV_EINVAL, "sv_guestmm_mprotect: prot 0x%x",
				   prot);
	if (!(prot & SV_PROT_READ))
		return sv_err__set(gm->vm, SV_ENOTSUP, "sv_guestmm_mprotect: "
						      "PROT_NONE is not modelled");
	hits = sv_guestmm__vmas_in(gm, addr, end);
	for (i = 0; i < hits->len; i++) {
		const gvma *m = g_ptr_array_index(hits, i);

		covered += m->end - m->start;
	}
	if (covered != len) {
		g_ptr_array_free(hits, TRUE);
		return sv_err__set(gm->vm, SV_ENOMEM,
				   "sv_guestmm_mprotect: [0x%" PRIx64 ", +0x%" PRIx64
				   ") is not all mapped (ENOMEM)", addr, len);
	}
	for (i = 0; i < hits->len; i++)
		((gvma *)g_ptr_array_index(hits, i))->prot = prot;
	g_ptr_array_free(hits, TRUE);
	gvas = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	while (a < end && rc == SV_OK) {
		unsigned level;
		uint64_t e = sv_guestmm__leaf(gm, a, &level);
		uint64_t base = a & ~(SZ_2M - 1);

		if (!e) {
			a += SV_PAGE_4K;
			continue;
		}
		if (level == 2 && (base < addr || base + SZ_2M > end)) {
			rc = sv_guestmm__split_thp(gm, base, e);
			continue;
		}
		if (level == 2)
			a = base;
		if (reprotect(gm, a, level, e, prot, &rc))
			g_array_append_val(gvas, a);
		a += level == 2 ? SZ_2M : SV_PAGE_4K;
	}
	sv_guestmm__flush(gm, gvas);
	g_array_free(gvas, TRUE);
	return rc;
}

int sv_guestmm_set_brk(sv_guestmm *gm, uint64_t start)
{
	sv_err__clear();
	if (!gm || start & 0xfff || !start || start >= MMAP_END)
		return sv_err__set(gm ? gm->vm : NULL, SV_EINVAL,
				   "sv_guestmm_set_brk: 0x%" PRIx64 " (expected a "
				   "4K-aligned address of the user half)", start);
	gm->start_brk = gm->brk = start;
	return SV_OK;
}

int sv_guestmm_brk(uint64_t *out, sv_guestmm *gm, uint64_t addr)
{
	uint64_t old_end, new_end;
	int rc = SV_OK;

	sv_err__clear();
	if (!out || !gm)
		return sv_err__set(NULL, SV_EINVAL, "sv_guestmm_brk: NULL argument");
	if (!gm->start_brk)
		return sv_err__set(gm->vm, SV_ENOTSUP, "sv_guestmm_brk: no heap "
						      "(sv_guestmm_set_brk first)");
	old_end = (gm->brk + 0xfff) & ~0xfffULL;
	new_end = (addr + 0xfff) & ~0xfffULL;
	if (addr < gm->start_brk || addr >= MMAP_END ||
	    (new_end > old_end && sv_guestmm__overlaps(gm, old_end, new_end))) {
		*out = gm->brk;
		return SV_OK;
	}
	if (new_end > old_end) {
		gvma *heap = old_end > gm->start_brk
				     ? sv_guestmm__vma_at(gm, old_end - 1)
				     : NULL;

		if (heap && heap->end == old_end) {
			heap->end = new_end;
		} else {
			gvma m = {old_end, new_end, SV_PROT_READ | SV_PROT_WRITE,
				  SV_GMADV_DONTNEED};

			sv_guestmm__vma_insert(gm, &m);
		}
	} else if (new_end < old_end) {
		rc = sv_guestmm_munmap(gm, new_end, old_end - new_end);
	}
	if (rc == SV_OK)
		gm->brk = addr;
	*out = gm->brk;
	return rc;
}
