/*
 * lib/guestmm/madvise.c - madvise (mm/madvise.c): DONTNEED (the pages
 * zapped), FREE (the pages kept but clean and old, for reclaim to drop),
 * HUGEPAGE and NOHUGEPAGE (the VMA's THP advice).
 */
#include "guestmm/guestmm.h"

/* madvise_free_pte_range: each present page of the process's own in
 * [start, end) made clean and old, a THP covered in part split first;
 * the changed leaves flushed. */
static int lazy_free(sv_guestmm *gm, uint64_t start, uint64_t end)
{
	GArray *gvas = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	uint64_t a = start;
	int rc = SV_OK;

	while (a < end && rc == SV_OK) {
		unsigned level;
		uint64_t e = sv_guestmm__leaf(gm, a, &level);
		uint64_t base = a & ~(SZ_2M - 1);

		if (!e) {
			a = sv_guestmm__skip(gm, a);
			continue;
		}
		if (!(e & SV_PTE_P) || sv_guestmm__is_zero(gm->k, e & SV_PTE_ADDR_MASK)) {
			a = level == 2 ? base + SZ_2M : a + SV_PAGE_4K;
			continue;
		}
		if (level == 2 && (base < start || base + SZ_2M > end)) {
			rc = sv_guestmm__split_thp(gm, base, e);
			continue;
		}
		if (level == 2)
			a = base;
		gm->k->stat[SV_GUESTMM_STAT_pglazyfree] += level == 2 ? 512 : 1;
		if (e & (SV_PTE_A | SV_PTE_D)) {
			rc = sv_pt_write(gm->pt, a, level, e & ~(SV_PTE_A | SV_PTE_D));
			g_array_append_val(gvas, a);
		}
		a += level == 2 ? SZ_2M : SV_PAGE_4K;
	}
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

