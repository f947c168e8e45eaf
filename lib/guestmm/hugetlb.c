/*
 * lib/guestmm/hugetlb.c - hugetlbfs in the guest (mm/hugetlb.c): pools of
 * 2M and 1G pages reserved at boot, and the fault that maps one whole
 * (hugetlb_no_page: a page from the pool, cleared, one PMD or PUD).
 * Nothing else moves them: no zero page, no splitting, no khugepaged.
 */
#include "guestmm/guestmm.h"

int sv_guestmm__hugetlb_init(sv_guestmm *gm, uint64_t *top)
{
	gkernel *k = gm->k;
	uint64_t gpa, low = gm->o.mem_gpa + SZ_2M; /* past the table pool's start */
	unsigned i;

	k->htlb_free[0] = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	k->htlb_free[1] = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	gpa = *top & ~(SV_PAGE_1G - 1);
	for (i = 0; i < gm->o.hugetlb_1g_pages; i++) {
		if (gpa < low + SV_PAGE_1G)
			return sv_err__set(gm->vm, SV_EINVAL,
					   "guestmm options: hugetlb_1g_pages %u: the "
					   "memory holds %u 1G-aligned pages above "
					   "the page-table pool", gm->o.hugetlb_1g_pages, i);
		gpa -= SV_PAGE_1G;
		g_array_append_val(k->htlb_free[1], gpa);
	}
	if (gm->o.hugetlb_1g_pages)
		*top = gpa;
	return SV_OK;
}

/* The 2M pages, from the buddy once it exists (the caller's next step). */
int sv_guestmm__hugetlb_init_2m(sv_guestmm *gm)
{
	unsigned i;

	for (i = 0; i < gm->o.hugetlb_2m_pages; i++) {
		uint64_t gpa = sv_buddy__alloc(&gm->k->buddy, SV_BUDDY_MAX_ORDER);

		if (!gpa)
			return sv_err__set(gm->vm, SV_EINVAL,
					   "guestmm options: hugetlb_2m_pages %u: "
					   "only %u free 2M blocks",
					   gm->o.hugetlb_2m_pages, i);
		g_array_append_val(gm->k->htlb_free[0], gpa);
	}
	return SV_OK;
}

bool sv_guestmm__hugetlb_fault(sv_guestmm *gm, sv_vcpu *v, const gvma *m,
			       uint64_t gva)
{
	GArray *pool = gm->k->htlb_free[m->hpage == SV_PAGE_1G];
	uint64_t base = gva & ~(m->hpage - 1), gpa;

	gm->k->stat[SV_GUESTMM_STAT_pgfault]++;
	if (!pool->len) {
		gm->k->stat[SV_GUESTMM_STAT_htlb_fault_fail]++;
		return false;
	}
	gpa = g_array_index(pool, uint64_t, pool->len - 1);
	g_array_set_size(pool, pool->len - 1);
	if (!sv_guestmm__zero_frames(gm, v, gpa, m->hpage) ||
	    sv_pt_map(gm->pt, base, gpa, m->hpage, m->hpage,
		      SV_PTE_US | (m->prot & SV_PROT_WRITE ? SV_PTE_RW : 0))) {
		g_array_append_val(pool, gpa);
		return false;
	}
	gm->k->stat[SV_GUESTMM_STAT_htlb_fault_alloc]++;
	return true;
}

void sv_guestmm__hugetlb_put(sv_guestmm *gm, uint64_t gpa, uint64_t size)
{
	g_array_append_val(gm->k->htlb_free[size == SV_PAGE_1G], gpa);
}

typedef struct whole {
	uint64_t start, end;
	bool cut;
} whole;

static gboolean whole_step(gpointer k, gpointer v, gpointer data)
{
	whole *w = data;
	const gvma *m = v;

	SV_UNUSED(k);
	if (m->start >= w->end)
		return TRUE;
	if (m->end > w->start && m->hpage &&
	    ((MAX(w->start, m->start) | MIN(w->end, m->end)) & (m->hpage - 1)))
		w->cut = true;
	return w->cut;
}

int sv_guestmm__hugetlb_whole(sv_guestmm *gm, const char *what, uint64_t start,
			      uint64_t end)
{
	whole w = {start, end, false};

	g_tree_foreach(gm->vmas, whole_step, &w);
	return w.cut ? sv_err__set(gm->vm, SV_EINVAL,
				   "%s: [0x%" PRIx64 ", 0x%" PRIx64 ") cuts a "
				   "hugetlbfs page (EINVAL)", what, start, end)
		     : SV_OK;
}
