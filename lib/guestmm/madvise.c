/*
 * lib/guestmm/madvise.c - madvise (mm/madvise.c): DONTNEED (the pages
 * zapped), FREE (the pages kept but clean and old, for reclaim to drop),
 * HUGEPAGE and NOHUGEPAGE (the VMA's THP advice).
 */
#include "guestmm/guestmm.h"

/* madvise_free_pte_range: each present page of the process's own in
 * [start, end) made clean and old, a THP covered in part split first (the
 * huge zero page left alone); the changed leaves flushed. */
static int lazy_free_leaf(sv_guestmm *gm, uint64_t base, unsigned level,
			  uint64_t e, bool partial, void *gvas)
{
	if (!(e & SV_PTE_P) || sv_guestmm__is_zero(gm->k, e & SV_PTE_ADDR_MASK))
		return SV_OK;
	if (level == 2 && partial)
		return sv_guestmm__split_again(gm, base, e);
	gm->k->stat[SV_GUESTMM_STAT_pglazyfree] += level == 2 ? 512 : 1;
	if (!(e & (SV_PTE_A | SV_PTE_D)))
		return SV_OK;
	g_array_append_val((GArray *)gvas, base);
	return sv_pt_write(gm->pt, base, level, e & ~(SV_PTE_A | SV_PTE_D));
}

static int lazy_free(sv_guestmm *gm, uint64_t start, uint64_t end)
{
	GArray *gvas = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	int rc = sv_guestmm__for_each_leaf(gm, start, end, lazy_free_leaf, gvas);

	sv_guestmm__flush(gm, gvas);
	g_array_free(gvas, TRUE);
	return rc;
}

int sv_guestmm_madvise(sv_guestmm *gm, uint64_t addr, uint64_t len,
		       sv_guest_madvise advice)
{
	GPtrArray *hits;
	guint i;
	int rc;

	sv_err__clear();
	rc = sv_guestmm__check_range(gm, "sv_guestmm_madvise", addr, len);
	if (rc)
		return rc;
	if ((unsigned)advice > SV_GMADV_FREE)
		return sv_err__set(gm->vm, SV_EINVAL, "sv_guestmm_madvise: advice "
						      "%d (expected DONTNEED, "
						      "HUGEPAGE, NOHUGEPAGE or FREE)",
				   (int)advice);
	rc = sv_guestmm__hugetlb_whole(gm, "sv_guestmm_madvise", addr, addr + len);
	if (rc)
		return rc;
	if (advice == SV_GMADV_DONTNEED)
		return sv_guestmm__zap(gm, addr, addr + len);
	if (advice == SV_GMADV_FREE)
		return lazy_free(gm, addr, addr + len);
	hits = sv_guestmm__vmas_in(gm, addr, addr + len);
	for (i = 0; i < hits->len; i++)
		((gvma *)g_ptr_array_index(hits, i))->advice = advice;
	g_ptr_array_free(hits, TRUE);
	return SV_OK;
}

