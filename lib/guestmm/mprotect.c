/*
 * lib/guestmm/mprotect.c - the calls that change a VMA's rights or extent:
 * mprotect (mm/mprotect.c, change_protection), mremap (mm/mremap.c) and
 * brk (mm/mmap.c).
 */
#include "guestmm/guestmm.h"
#include "simvirt/hostmm.h"

/* One leaf at a (level, entry e) with rights prot (0: PROT_NONE, the
 * entry not present but keeping its page), its other bits kept as
 * change_pte_range keeps them: rewritten if they differ; true if it was. */
static bool reprotect(sv_guestmm *gm, uint64_t a, unsigned level, uint64_t e,
		      unsigned prot, int *rc)
{
	uint64_t gpa = e & SV_PTE_ADDR_MASK, n;
	/* the zero page, and a page another process maps (copy on write),
	 * stay read-only */
	uint64_t size = sv_guestmm__level_size(level);
	bool writable = (prot & SV_PROT_WRITE) && !sv_guestmm__is_zero(gm->k, gpa) &&
			!sv_guestmm__shared_in(gm, gpa & ~(size - 1), size);

	if (!prot)
		n = (e & ~(SV_PTE_P | SV_PTE_RW)) | PTE_PROTNONE;
	else
		n = ((e & ~(PTE_PROTNONE | SV_PTE_RW)) | SV_PTE_P) |
		    (writable ? SV_PTE_RW : 0);
	if (n == e)
		return false;
	*rc = sv_pt_write(gm->pt, a, level, n);
	return true;
}

typedef struct reprotect_arg {
	unsigned prot;
	GArray *gvas;
} reprotect_arg;

/* A leaf of the range: a THP covered in part split first. */
static int reprotect_leaf(sv_guestmm *gm, uint64_t base, unsigned level,
			  uint64_t e, bool partial, void *payload)
{
	reprotect_arg *r = payload;
	int rc = SV_OK;

	if (level == 2 && partial)
		return sv_guestmm__split_again(gm, base, e);
	if (reprotect(gm, base, level, e, r->prot, &rc))
		g_array_append_val(r->gvas, base);
	return rc;
}

int sv_guestmm_mprotect(sv_guestmm *gm, uint64_t addr, uint64_t len,
			unsigned prot)
{
	uint64_t end = addr + len, covered = 0;
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
	rc = sv_guestmm__hugetlb_whole(gm, "sv_guestmm_mprotect", addr, end);
	if (rc)
		return rc;
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
	rc = sv_guestmm__for_each_leaf(gm, addr, end, reprotect_leaf,
				       &(reprotect_arg){prot, gvas});
	sv_guestmm__flush(gm, gvas);
	g_array_free(gvas, TRUE);
	return rc;
}

/* ---- mremap ------------------------------------------------------------------ */

/* move_page_tables: the leaves of [old, old + len) to [to, to + len),
 * entries whole (flags, A/D, PROT_NONE), a THP covered in part or whose
 * new place is not 2M-aligned split first; the old range flushed. */
typedef struct move_arg {
	uint64_t old, to;
	GArray *gvas;
} move_arg;

static int move_leaf(sv_guestmm *gm, uint64_t base, unsigned level, uint64_t e,
		     bool partial, void *payload)
{
	move_arg *mv = payload;
	int rc;

	if (level == 2 && (partial || (mv->to + (base - mv->old)) & (SZ_2M - 1)))
		return sv_guestmm__split_again(gm, base, e);
	rc = sv_pt_unmap(gm->pt, base, sv_guestmm__level_size(level));
	if (rc == SV_OK)
		rc = sv_guestmm__put_leaf(gm, mv->to + (base - mv->old), level, e);
	g_array_append_val(mv->gvas, base);
	return rc;
}

static int move_leaves(sv_guestmm *gm, uint64_t old, uint64_t len, uint64_t to)
{
	move_arg mv = {old, to, g_array_new(FALSE, FALSE, sizeof(uint64_t))};
	int rc = sv_guestmm__for_each_leaf(gm, old, old + len, move_leaf, &mv);

	sv_guestmm__flush(gm, mv.gvas);
	g_array_free(mv.gvas, TRUE);
	return rc;
}

/* The mapping [old, old + len) of VMA kind m moves to `to`. */
static int move_mapping(sv_guestmm *gm, const gvma *m, uint64_t old,
			uint64_t len, uint64_t to)
{
	gvma moved = *m;
	GPtrArray *hits;
	guint i;
	int rc = move_leaves(gm, old, len, to);

	hits = sv_guestmm__vmas_in(gm, old, old + len);
	for (i = 0; i < hits->len; i++)
		g_tree_remove(gm->vmas, &((gvma *)g_ptr_array_index(hits, i))->start);
	g_ptr_array_free(hits, TRUE);
	moved.start = to;
	moved.end = to + len;
	sv_guestmm__vma_insert(gm, &moved);
	return rc;
}

int sv_guestmm_mremap(uint64_t *out, sv_guestmm *gm, uint64_t old,
		      uint64_t old_len, uint64_t new_len, unsigned flags,
		      uint64_t new_addr)
{
	const uint64_t ok = SV_GMREMAP_MAYMOVE | SV_GMREMAP_FIXED;
	gvma *m, kind;
	uint64_t to;
	int rc;

	sv_err__clear();
	if (!out || !gm)
		return sv_err__set(NULL, SV_EINVAL, "sv_guestmm_mremap: NULL argument");
	if (!old_len || !new_len || (old | old_len | new_len) & 0xfff ||
	    old + old_len < old || old + old_len > MMAP_END || new_len > MMAP_END ||
	    flags & ~ok || ((flags & SV_GMREMAP_FIXED) &&
			    (!(flags & SV_GMREMAP_MAYMOVE) || new_addr & 0xfff ||
			     new_addr + new_len > MMAP_END ||
			     (new_addr < old + old_len && old < new_addr + new_len))))
		return sv_err__set(gm->vm, SV_EINVAL,
				   "sv_guestmm_mremap: [0x%" PRIx64 ", +0x%" PRIx64
				   ") to 0x%" PRIx64 " bytes, flags 0x%x, new_addr 0x%"
				   PRIx64 " (expected 4K-aligned ranges of the user "
				   "half, FIXED only with MAYMOVE and apart from "
				   "the old range)", old, old_len, new_len, flags,
				   new_addr);
	m = sv_guestmm__vma_at(gm, old);
	if (!m || old + old_len > m->end)
		return sv_err__set(gm->vm, SV_EFAULT,
				   "sv_guestmm_mremap: [0x%" PRIx64 ", +0x%" PRIx64
				   ") is not inside one mapping (EFAULT)", old, old_len);
	if (m->hpage)
		return sv_err__set(gm->vm, SV_ENOTSUP, "sv_guestmm_mremap: a "
						      "hugetlbfs mapping (not "
						      "modelled)");
	kind = *m;
	if (flags & SV_GMREMAP_FIXED) {
		rc = sv_guestmm_munmap(gm, new_addr, new_len);
		if (rc == SV_OK && new_len < old_len)
			rc = sv_guestmm_munmap(gm, old + new_len, old_len - new_len);
		if (rc == SV_OK)
			rc = move_mapping(gm, &kind, old, MIN(old_len, new_len),
					  new_addr);
		*out = new_addr;
		return rc;
	}
	*out = old;
	if (new_len <= old_len)
		return new_len < old_len ? sv_guestmm_munmap(gm, old + new_len,
							     old_len - new_len)
					 : SV_OK;
	if (old + old_len == m->end && old + new_len <= MMAP_END &&
	    !sv_guestmm__overlaps(gm, old + old_len, old + new_len)) {
		m->end = old + new_len; /* vma_expand */
		return SV_OK;
	}
	if (!(flags & SV_GMREMAP_MAYMOVE))
		return sv_err__set(gm->vm, SV_ENOMEM, "sv_guestmm_mremap: no room "
						      "to grow in place and no "
						      "MAYMOVE (ENOMEM)");
	to = sv_guestmm__free_range(gm, new_len, 0);
	if (!to)
		return sv_err__set(gm->vm, SV_ENOMEM, "sv_guestmm_mremap: no free "
						      "range of 0x%" PRIx64 " bytes",
				   new_len);
	rc = move_mapping(gm, &kind, old, old_len, to);
	if (rc == SV_OK) /* the moved VMA grows over the rest */
		sv_guestmm__vma_at(gm, to)->end = to + new_len;
	*out = to;
	return rc;
}

/* ---- brk ------------------------------------------------------------------- */

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
			gvma m = {.start = old_end, .end = new_end,
				  .prot = SV_PROT_READ | SV_PROT_WRITE,
				  .advice = SV_GMADV_DONTNEED};

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
