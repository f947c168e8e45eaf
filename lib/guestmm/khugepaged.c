/*
 * lib/guestmm/khugepaged.c - collapsing 4K pages into THPs
 * (mm/khugepaged.c): the khugepaged thread's scan, and MADV_COLLAPSE.
 *
 * How a 2M range is collapsed (collapse_huge_page):
 *  1. It lies whole in one VMA that allows a THP (khugepaged: the THP mode
 *     and MADV_HUGEPAGE/NOHUGEPAGE as for faults; MADV_COLLAPSE: any mode,
 *     not MADV_NOHUGEPAGE), and a page table maps it.
 *  2. Its PTEs: at least one page of the process's own, and (khugepaged
 *     only) at most max_ptes_none absent or zero-page ones.
 *  3. A 2M block from the allocator (thp_collapse_alloc, or
 *     thp_collapse_alloc_failed and nothing changes); the kernel fills it
 *     through its direct map (the stores are vCPU v's) with the old pages'
 *     contents, zeros elsewhere.
 *  4. The 4K leaves go, their page table back to the pool, the old pages
 *     back to the allocator; one PMD maps the THP; the range is flushed
 *     (a 2M range is past the flush ceiling: every vCPU running the
 *     process reloads CR3).
 */
#include "guestmm/guestmm.h"
#include "memslots.h"
#include "ptbuild.h"
#include "simvirt/hostmm.h"

/* Steps 1-4 for the range at base; true if it was collapsed. */
static bool collapse_pmd(sv_guestmm *gm, sv_vcpu *v, uint64_t base, bool madv)
{
	gvma *m = sv_guestmm__vma_at(gm, base);
	uint64_t e, blk, old[512];
	unsigned i, own = 0, none = 0;
	GArray *gvas;

	if (!m || base + SZ_2M > m->end || m->advice == SV_GMADV_NOHUGEPAGE ||
	    !m->prot || /* PROT_NONE: its entries are not present */
	    m->hpage ||  /* hugetlbfs */
	    (!madv && !sv_guestmm__thp_eligible(gm, m, base)))
		return false;
	if (sv_pt_get(&e, gm->pt, base, 2) != SV_OK || !(e & SV_PTE_P) ||
	    (e & SV_PTE_PS))
		return false;
	for (i = 0; i < 512; i++) {
		old[i] = 0;
		if (sv_pt_get(&e, gm->pt, base + i * SV_PAGE_4K, 1) == SV_OK &&
		    (e & SV_PTE_P) && !sv_guestmm__is_zero(gm->k, e & SV_PTE_ADDR_MASK)) {
			old[i] = e & SV_PTE_ADDR_MASK;
			own++;
			/* a page another process maps too stays (as with
			 * max_ptes_shared 0) */
			if (sv_guestmm__shares(gm, old[i]))
				return false;
		} else {
			none++;
		}
	}
	if (!own || (!madv && none > gm->o.max_ptes_none))
		return false;
	blk = sv_buddy__alloc(&gm->k->buddy, SV_BUDDY_MAX_ORDER);
	if (!blk) {
		gm->k->stat[SV_GUESTMM_STAT_thp_collapse_alloc_failed]++;
		return false;
	}
	if (!sv_guestmm__zero_frames(gm, v, blk, SZ_2M)) {
		sv_buddy__free(&gm->k->buddy, blk, SV_BUDDY_MAX_ORDER);
		return false;
	}
	for (i = 0; i < 512; i++) {
		uint8_t *to = sv_memslots__ptr(&gm->vm->memslots, blk + i * SV_PAGE_4K);
		const uint8_t *from = old[i] ? sv_memslots__ptr(&gm->vm->memslots,
								old[i])
					     : NULL;

		if (to && from)
			memcpy(to, from, SV_PAGE_4K);
		if (old[i])
			sv_buddy__free(&gm->k->buddy, old[i], 0); /* unshared */
	}
	if (sv_pt_unmap(gm->pt, base, SZ_2M) || sv_pt__free_table(gm->pt, base, 1) ||
	    sv_guestmm__map(gm, base, blk, SZ_2M, m->prot & SV_PROT_WRITE))
		return false;
	gm->k->stat[SV_GUESTMM_STAT_thp_collapse_alloc]++;
	gm->k->stat[SV_GUESTMM_STAT_pgalloc] += 512;
	gm->k->stat[SV_GUESTMM_STAT_pgfree] += own;
	gvas = g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), 512);
	for (i = 0; i < 512; i++)
		g_array_append_val(gvas, (uint64_t){base + i * SV_PAGE_4K});
	sv_guestmm__flush(gm, gvas);
	g_array_free(gvas, TRUE);
	return true;
}

typedef struct scan {
	sv_guestmm *gm;
	sv_vcpu *v;
	uint64_t budget;       /* PTEs left to scan */
	unsigned collapsed;
	bool stopped;          /* the budget ran out inside a VMA */
} scan;

static gboolean scan_vma(gpointer k, gpointer val, gpointer data)
{
	scan *s = data;
	gvma *m = val;
	uint64_t a;

	SV_UNUSED(k);
	if (m->end <= s->gm->khugepaged_at)
		return FALSE;
	a = MAX(m->start, s->gm->khugepaged_at);
	for (a = (a + SZ_2M - 1) & ~(SZ_2M - 1); a + SZ_2M <= m->end; a += SZ_2M) {
		if (s->budget < 512) {
			s->gm->khugepaged_at = a;
			s->stopped = true;
			return TRUE;
		}
		s->budget -= 512;
		s->collapsed += collapse_pmd(s->gm, s->v, a, false);
	}
	s->gm->khugepaged_at = m->end;
	return FALSE;
}

int sv_guestmm_khugepaged(sv_guestmm *gm, sv_vcpu *v, unsigned *collapsed)
{
	scan s = {gm, v, 0, 0, false};

	sv_err__clear();
	if (!gm || !v || !collapsed)
		return sv_err__set(NULL, SV_EINVAL, "sv_guestmm_khugepaged: NULL "
						    "argument");
	if (gm->k->kcompactd_wake) { /* kcompactd ran since: one block */
		uint64_t blk = sv_buddy__alloc(&gm->k->buddy, SV_BUDDY_MAX_ORDER);

		gm->k->kcompactd_wake = false;
		if (!blk)
			blk = sv_guestmm__compact(gm, v, false);
		if (blk)
			sv_buddy__free(&gm->k->buddy, blk, SV_BUDDY_MAX_ORDER);
	}
	s.budget = MAX(gm->o.pages_to_scan, 512);
	g_tree_foreach(gm->vmas, scan_vma, &s);
	if (!s.stopped) { /* past the last VMA: the next pass starts over */
		gm->khugepaged_at = 0;
		gm->k->stat[SV_GUESTMM_STAT_khugepaged_full_scans]++;
	}
	*collapsed = s.collapsed;
	return SV_OK;
}

int sv_guestmm_collapse(sv_guestmm *gm, sv_vcpu *v, uint64_t addr,
			uint64_t len, unsigned *collapsed)
{
	uint64_t a;

	sv_err__clear();
	if (!gm || !v || !collapsed)
		return sv_err__set(NULL, SV_EINVAL, "sv_guestmm_collapse: NULL "
						    "argument");
	if (!len || (addr | len) & 0xfff || addr + len < addr)
		return sv_err__set(gm->vm, SV_EINVAL,
				   "sv_guestmm_collapse: [0x%" PRIx64 ", +0x%" PRIx64
				   ") is not a 4K-aligned range", addr, len);
	*collapsed = 0;
	for (a = (addr + SZ_2M - 1) & ~(SZ_2M - 1); a + SZ_2M <= addr + len;
	     a += SZ_2M)
		*collapsed += collapse_pmd(gm, v, a, true);
	return SV_OK;
}
