/*
 * lib/hostmm/ops.c - the mm operations, each with Linux's checks, its
 * effect on the host page tables and pages, and its notifier events.
 *
 * How an operation goes:
 *  1. Check the arguments as the system call does (a misaligned start is
 *     SV_EINVAL; a range with holes is SV_ENOMEM for mprotect and madvise;
 *     hugetlb ranges must be aligned to the huge page) before changing
 *     anything, so a failed call leaves the state as it was.
 *  2. Open the notifier range Linux opens (UNMAP for munmap and mremap,
 *     PROTECTION_VMA for mprotect, CLEAR for zaps, PROTECTION_PAGE for
 *     fork, SOFT_DIRTY for clear_refs).
 *  3. Walk the leaves of the range with the range iterator.  A huge leaf
 *     only partly inside is broken first: a THP PMD is split into PTEs
 *     (its own CLEAR over 2M, nested in the outer range, as
 *     __split_huge_pmd does); other huge leaves are dropped and refault.
 *  4. Change the leaves, then the VMAs (split at the range's ends), then
 *     close the notifier range.
 * This file has the per-range system calls (mmap, munmap, mremap,
 * mprotect, madvise); mmwide.c the operations of the whole mm and its
 * kernel threads.
 */
#define _DEFAULT_SOURCE /* MAP_NORESERVE */
#include <sys/mman.h>

#include "mm.h"

/* ---- mmap / munmap / mremap ----------------------------------------------- */

static uint64_t pick_hva(sv_host *h, uint64_t size, uint64_t align)
{
	uint64_t a = 1ULL << 32;
	guint i;

	for (i = 0; i < h->vmas->len; i++) {
		const sv_vma *v = g_ptr_array_index(h->vmas, i);

		a = (a + align - 1) & ~(align - 1);
		if (a + size <= v->start)
			return a;
		a = MAX(a, v->end);
	}
	a = (a + align - 1) & ~(align - 1);
	return a + size <= sv_host__user_top(h) ? a : 0;
}

int sv_host_mmap(uint64_t *hva, sv_host *h, const sv_host_mmap_args *a)
{
	sv_backing *bk;
	sv_vma *v;
	uint64_t ps, align, at;

	sv_err__clear();
	if (!hva || !h || !a)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: NULL argument");
	if (a->version != SV_HOST_MMAP_VERSION)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: args version %u, "
				   "expected %u", a->version, SV_HOST_MMAP_VERSION);
	if ((unsigned)a->backing > SV_BACKING_DRIVER)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: unknown backing "
				   "%d", (int)a->backing);
	if (a->prot & ~(unsigned)(SV_PROT_READ | SV_PROT_WRITE | SV_PROT_EXEC))
		return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: prot 0x%x has "
				   "unknown bits", a->prot);
	if (a->flags & ~(unsigned)(SV_MAP_FIXED | SV_MAP_NO_STRUCT_PAGE |
				   SV_MAP_NO_REFCOUNT))
		return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: flags 0x%x have "
				   "unknown bits", a->flags);
	if ((a->flags & (SV_MAP_NO_STRUCT_PAGE | SV_MAP_NO_REFCOUNT)) &&
	    (a->backing != SV_BACKING_PFNMAP ||
	     ((a->flags & SV_MAP_NO_STRUCT_PAGE) &&
	      (a->flags & SV_MAP_NO_REFCOUNT))))
		return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: NO_STRUCT_PAGE "
				   "and NO_REFCOUNT describe a PFNMAP range, one "
				   "or the other");
	ps = a->backing == SV_BACKING_HUGETLB_2M   ? SZ_2M
	     : a->backing == SV_BACKING_HUGETLB_1G ? SZ_1G
						   : 4096;
	align = a->backing == SV_BACKING_DAX ? (a->align ? a->align : SZ_2M)
					     : (a->align ? a->align : ps);
	if (align != 4096 && align != SZ_2M && align != SZ_1G)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: align 0x%" PRIx64
				   ": expected 4K, 2M or 1G", align);
	if (!a->size || (a->size & (ps - 1)))
		return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: size 0x%" PRIx64
				   " is not a positive multiple of %" PRIu64 "K "
				   "(EINVAL)", a->size, ps >> 10);
	if (a->flags & SV_MAP_FIXED) {
		at = a->hva;
		if (at & (ps - 1))
			return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: fixed "
					   "address 0x%" PRIx64 " is not aligned to "
					   "%" PRIu64 "K (EINVAL)", at, ps >> 10);
		if (at < 4096 || at + a->size < at || at + a->size > sv_host__user_top(h))
			return sv_err__set(NULL, SV_EINVAL, "sv_host_mmap: fixed "
					   "range 0x%" PRIx64 " + 0x%" PRIx64
					   " is outside user space", at, a->size);
		if (!sv_host__range_free(h, at, at + a->size))
			return sv_err__set(NULL, SV_EEXIST, "sv_host_mmap: fixed "
					   "range 0x%" PRIx64 " + 0x%" PRIx64
					   " overlaps a mapping (EEXIST, as "
					   "MAP_FIXED_NOREPLACE)", at, a->size);
	} else {
		at = pick_hva(h, a->size, MAX(align, a->size >= SZ_2M ? SZ_2M
								      : 4096));
		if (!at)
			return sv_err__set(NULL, SV_ENOMEM, "sv_host_mmap: no free "
					   "range of 0x%" PRIx64 " bytes", a->size);
	}
	bk = g_new0(sv_backing, 1);
	bk->kind = a->backing;
	bk->size = a->size;
	bk->refs = 1;
	bk->mem = mmap(NULL, a->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bk->mem == MAP_FAILED) {
		g_free(bk);
		return sv_err__set(NULL, SV_ENOMEM, "sv_host_mmap: cannot reserve "
				   "0x%" PRIx64 " bytes", a->size);
	}
	if (a->backing == SV_BACKING_FILE)
		bk->pages = g_new0(uint64_t, a->size >> 12);
	if (a->backing == SV_BACKING_DRIVER)
		bk->pages = g_new0(uint64_t, (a->size + SZ_2M - 1) >> 21);
	if (a->backing == SV_BACKING_DAX || a->backing == SV_BACKING_PFNMAP) {
		sv_devrange d;
		uint64_t g = 1ULL << 18; /* device ranges start 1G-aligned */

		d.base = (h->dev_next + g - 1) & ~(g - 1);
		d.n = a->size >> 12;
		d.kind = a->backing == SV_BACKING_DAX        ? SV_PAGE_DEVICE
			 : (a->flags & SV_MAP_NO_STRUCT_PAGE) ? SV_PAGE_NONE
			 : (a->flags & SV_MAP_NO_REFCOUNT)    ? SV_PAGE_NOREF
							     : SV_PAGE_RESERVED;
		h->dev_next = d.base + d.n;
		bk->dev_pfn = d.base;
		g_array_append_val(h->devs, d);
	}
	v = g_new0(sv_vma, 1);
	v->start = at;
	v->end = at + a->size;
	v->prot = a->prot;
	v->backing = a->backing;
	v->align = a->backing == SV_BACKING_DAX || a->backing == SV_BACKING_PFNMAP
			   ? align
			   : ps;
	v->flags = (a->flags & SV_MAP_NO_STRUCT_PAGE) ? VMF_NO_STRUCT_PAGE : 0;
	v->bk = bk;
	g_ptr_array_insert(h->vmas, (gint)sv_host__vma_index(h, at), v);
	*hva = at;
	return SV_OK;
}

static void zap_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	SV_UNUSED(ctx);
	sv_host__clear_leaf(h, l->e, l->level);
}

/* Removes the VMAs (pieces) inside [start, end) after their leaves went. */
static void drop_vmas(sv_host *h, uint64_t start, uint64_t end)
{
	guint i;

	sv_host__vma_split(h, start);
	sv_host__vma_split(h, end);
	i = sv_host__vma_index(h, start);
	while (i < h->vmas->len) {
		sv_vma *v = g_ptr_array_index(h->vmas, i);

		if (v->start >= end)
			break;
		if (v->bk->refs > 1)
			sv_host__discard_bytes(v, v->start, v->end);
		sv_host__backing_put(h, v->bk);
		g_ptr_array_remove_index(h->vmas, i);
		g_free(v);
	}
}

int sv_host_munmap(sv_host *h, uint64_t hva, uint64_t len)
{
	sv_host_range r = {SV_HOST_EVENT_UNMAP, hva, 0};
	int rc;

	sv_err__clear();
	len = (len + 0xfff) & ~0xfffULL;
	rc = sv_host__check_range(h, "munmap", hva, len, false);
	if (rc)
		return rc;
	if (!len)
		return sv_err__set(NULL, SV_EINVAL, "munmap: zero length (EINVAL)");
	r.end = hva + len;
	if (sv_host__range_free(h, r.start, r.end))
		return SV_OK; /* nothing mapped: nothing to do */
	sv_host__ev_start(h, &r);
	sv_host__each_leaf(h, r.start, r.end, true, zap_fn, NULL);
	drop_vmas(h, r.start, r.end);
	sv_host__ev_end(h, &r);
	return SV_OK;
}

static void move_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	const int64_t *delta = ctx;
	uint64_t na = l->addr + (uint64_t)*delta, *ne;

	if (na & (sv_host__level_size(l->level) - 1)) {
		/* a misaligned huge leaf refaults at the new address */
		sv_host__clear_leaf(h, l->e, l->level);
		return;
	}
	ne = sv_host__entry(h, na, l->level, true);
	if (!ne) {
		sv_host__clear_leaf(h, l->e, l->level);
		return;
	}
	*ne = *l->e;
	*l->e = 0;
}

static void split_misaligned_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	const int64_t *delta = ctx;

	if (l->level == 2 && l->v->backing == SV_BACKING_ANON &&
	    ((l->addr + (uint64_t)*delta) & (SZ_2M - 1)))
		sv_host__split_pmd(h, l->addr);
}

int sv_host_mremap(sv_host *h, uint64_t old_hva, uint64_t len,
		   uint64_t new_hva)
{
	sv_host_range r = {SV_HOST_EVENT_UNMAP, old_hva, old_hva + len};
	int64_t delta = (int64_t)(new_hva - old_hva);
	sv_vma *v;
	int rc;

	sv_err__clear();
	rc = sv_host__check_range(h, "mremap", old_hva, len, true);
	if (rc)
		return rc;
	v = sv_host__vma_find(h, old_hva);
	if (!len || v->start != old_hva || v->end != old_hva + len)
		return sv_err__set(NULL, SV_EINVAL, "mremap: [0x%" PRIx64 ", 0x%" PRIx64
				   ") is not one whole VMA (this model moves "
				   "whole VMAs only)", old_hva, old_hva + len);
	if ((new_hva & (sv_host__page_size(v) - 1)) || new_hva + len > sv_host__user_top(h) ||
	    new_hva < 4096)
		return sv_err__set(NULL, SV_EINVAL, "mremap: new address 0x%" PRIx64
				   " is misaligned or outside user space (EINVAL)",
				   new_hva);
	if (!sv_host__range_free(h, new_hva, new_hva + len) ||
	    (new_hva < old_hva + len && old_hva < new_hva + len))
		return sv_err__set(NULL, SV_EEXIST, "mremap: new range 0x%" PRIx64
				   " + 0x%" PRIx64 " is not free", new_hva, len);
	sv_host__ev_start(h, &r);
	sv_host__each_leaf(h, r.start, r.end, false, split_misaligned_fn, &delta);
	sv_host__each_leaf(h, r.start, r.end, false, move_fn, &delta);
	g_ptr_array_remove(h->vmas, v);
	v->start = new_hva;
	v->end = new_hva + len;
	g_ptr_array_insert(h->vmas, (gint)sv_host__vma_index(h, new_hva), v);
	sv_host__ev_end(h, &r);
	return SV_OK;
}

/* ---- mprotect -------------------------------------------------------------- */

static void prot_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	unsigned prot = *(const unsigned *)ctx;

	SV_UNUSED(h);
	if (!(*l->e & (HPTE_P | HPTE_PROTNONE)))
		return; /* swap entries keep their state */
	if (!(prot & SV_PROT_WRITE))
		*l->e &= ~HPTE_RW;
	if (!prot)
		*l->e = (*l->e & ~HPTE_P) | HPTE_PROTNONE;
	else if (*l->e & HPTE_PROTNONE)
		*l->e = (*l->e | HPTE_P) & ~(HPTE_PROTNONE | HPTE_RW);
	/* adding write leaves the entry read-only: the next write fault
	 * makes it writable (or copies it) */
}

static void set_prot(sv_host *h, uint64_t start, uint64_t end, unsigned prot,
		     unsigned set_flags, unsigned clear_flags)
{
	guint i;

	sv_host__vma_split(h, start);
	sv_host__vma_split(h, end);
	for (i = sv_host__vma_index(h, start); i < h->vmas->len; i++) {
		sv_vma *v = g_ptr_array_index(h->vmas, i);

		if (v->start >= end)
			break;
		if (prot != ~0u)
			v->prot = prot;
		v->flags = (v->flags | set_flags) & ~clear_flags;
	}
	sv_host__vma_merge(h, start, end);
}

int sv_host_mprotect(sv_host *h, uint64_t hva, uint64_t len, unsigned prot)
{
	sv_host_range r = {SV_HOST_EVENT_PROTECTION_VMA, hva, 0};
	bool any;
	int rc;

	sv_err__clear();
	len = (len + 0xfff) & ~0xfffULL;
	rc = sv_host__check_range(h, "mprotect", hva, len, true);
	if (rc)
		return rc;
	if (prot & ~(unsigned)(SV_PROT_READ | SV_PROT_WRITE | SV_PROT_EXEC))
		return sv_err__set(NULL, SV_EINVAL, "mprotect: prot 0x%x has "
						    "unknown bits (EINVAL)", prot);
	r.end = hva + len;
	/* change_protection opens its range only where something is mapped */
	any = sv_host__any_entry(h, r.start, r.end);
	if (any)
		sv_host__ev_start(h, &r);
	sv_host__each_leaf(h, r.start, r.end, true, prot_fn, &prot);
	set_prot(h, r.start, r.end, prot, 0, 0);
	if (any)
		sv_host__ev_end(h, &r);
	return SV_OK;
}

/* ---- madvise --------------------------------------------------------------- */

static void dontneed_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	SV_UNUSED(ctx);
	sv_host__clear_leaf(h, l->e, l->level);
	if (l->v->backing == SV_BACKING_ANON)
		sv_host__discard_bytes(l->v, l->addr, l->addr + sv_host__level_size(l->level));
}

static void free_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	uint64_t pfn = (*l->e & HPTE_ADDR) >> 12, i;

	SV_UNUSED(ctx);
	if (!(*l->e & HPTE_P)) {
		if (*l->e & HPTE_SWAP) { /* the swapped copy is freed */
			*l->e = 0;
			sv_host__discard_bytes(l->v, l->addr, l->addr + 4096);
		}
		return;
	}
	if (*l->e & HPTE_SPECIAL)
		return; /* the zero page */
	*l->e &= ~(HPTE_D | HPTE_A);
	for (i = 0; i < sv_host__level_size(l->level) / 4096; i++)
		sv_phys__page(&h->phys, pfn + i)->flags |= HP_LAZYFREE;
}

static void swapout_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	sv_host_range r = {SV_HOST_EVENT_CLEAR, l->addr, l->addr + 4096};
	sv_hpage *pg;

	SV_UNUSED(ctx);
	if (l->level != 1 || !(*l->e & HPTE_P) || (*l->e & HPTE_SPECIAL))
		return;
	pg = sv_phys__page(&h->phys, (*l->e & HPTE_ADDR) >> 12);
	if (!pg || (pg->kind != SV_PAGE_ANON && pg->kind != SV_PAGE_THP &&
		    pg->kind != SV_PAGE_FILE))
		return;
	sv_host__ev_start(h, &r);
	if (pg->kind == SV_PAGE_FILE) {
		sv_host__clear_leaf(h, l->e, 1); /* the page cache keeps it */
	} else if ((pg->flags & HP_LAZYFREE) && !(*l->e & HPTE_D)) {
		sv_host__clear_leaf(h, l->e, 1); /* clean lazy-free page: dropped */
		sv_host__discard_bytes(l->v, l->addr, l->addr + 4096);
	} else {
		sv_host__clear_leaf(h, l->e, 1);
		*l->e = HPTE_SWAP | (++h->swap_next << 12);
		h->stat[SV_HOST_STAT_swap_out]++;
	}
	sv_host__ev_end(h, &r);
}

static void split_all_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	SV_UNUSED(ctx);
	if (l->level == 2 && l->v->backing == SV_BACKING_ANON)
		sv_host__split_pmd(h, l->addr);
}

int sv_host__collapse_2m(sv_host *h, const sv_vma *v, uint64_t base,
			 unsigned max_none)
{
	sv_host_range r = {SV_HOST_EVENT_CLEAR, base, base + SZ_2M};
	uint64_t *pmd = sv_host__entry(h, base, 2, false), *pte, pfn, table;
	unsigned i, none = 0;

	if (!pmd || !(*pmd & HPTE_P) || sv_host__is_leaf(*pmd, 2))
		return 0;
	table = *pmd & HPTE_ADDR;
	pte = sv_host__table(h, table);
	for (i = 0; i < 512; i++) {
		sv_hpage *pg;

		if (!pte[i] || (pte[i] & HPTE_SPECIAL)) {
			none++;
			continue;
		}
		if (!(pte[i] & HPTE_P))
			return 0; /* swapped or PROT_NONE: left alone */
		pg = sv_phys__page(&h->phys, (pte[i] & HPTE_ADDR) >> 12);
		if (!pg || pg->map > 1 || pg->kind == SV_PAGE_KSM)
			return 0; /* shared pages are not collapsed */
	}
	if (none > max_none || none == 512)
		return 0;
	pfn = sv_phys__alloc(&h->phys, 9, SV_PAGE_THP);
	if (pfn == UINT64_MAX) {
		h->stat[SV_HOST_STAT_thp_collapse_alloc_failed]++;
		return sv_err__set(NULL, SV_ENOMEM, "collapse at 0x%" PRIx64
				   ": no free 2M frame (ENOMEM)", base);
	}
	sv_host__ev_start(h, &r);
	for (i = 0; i < 512; i++)
		sv_host__clear_leaf(h, &pte[i], 1);
	sv_frames__free(&h->pt, table);
	h->stat[SV_HOST_STAT_pt_pages]--;
	*pmd = (pfn << 12) | HPTE_P | HPTE_US | HPTE_A | HPTE_D | HPTE_PS |
	       HPTE_SOFT_DIRTY | ((v->prot & SV_PROT_WRITE) ? HPTE_RW : 0);
	sv_host__map_pages(h, pfn, 2);
	h->stat[SV_HOST_STAT_thp_collapse_alloc]++;
	sv_host__ev_end(h, &r);
	return 1;
}

static int madv_collapse(sv_host *h, uint64_t start, uint64_t end)
{
	uint64_t b;
	int rc = SV_OK;

	for (b = (start + SZ_2M - 1) & ~(SZ_2M - 1); b + SZ_2M <= end;
	     b += SZ_2M) {
		sv_vma *v = sv_host__vma_find(h, b);
		int r;

		if (!v || v->end < b + SZ_2M || v->start > b)
			continue;
		r = sv_host__collapse_2m(h, v, b, 511);
		if (r < 0)
			rc = r;
	}
	return rc;
}

/* Is every VMA over [start, end) one the advice applies to? */
static int check_advice(sv_host *h, uint64_t start, uint64_t end,
			sv_madvise advice)
{
	uint64_t a;

	for (a = start; a < end;) {
		sv_vma *v = sv_host__vma_find(h, a);

		if ((advice == SV_MADV_DONTNEED ||
		     advice == SV_MADV_POPULATE_WRITE) &&
		    v->backing == SV_BACKING_PFNMAP)
			return sv_err__set(NULL, SV_EINVAL, "madvise(%s): "
					   "0x%" PRIx64 " is in a VM_PFNMAP VMA "
					   "(EINVAL)", advice == SV_MADV_DONTNEED
					   ? "DONTNEED" : "POPULATE_WRITE", a);
		if ((advice == SV_MADV_FREE || advice == SV_MADV_COLLAPSE) &&
		    v->backing != SV_BACKING_ANON)
			return sv_err__set(NULL, SV_EINVAL, "madvise(%s): 0x%" PRIx64
					   " is not private anonymous memory "
					   "(EINVAL)", advice == SV_MADV_FREE
					   ? "FREE" : "COLLAPSE", a);
		if (advice == SV_MADV_COLLAPSE && (v->flags & VMF_NOHUGEPAGE))
			return sv_err__set(NULL, SV_EINVAL, "madvise(COLLAPSE): "
					   "0x%" PRIx64 " is in a NOHUGEPAGE VMA "
					   "(EINVAL)", a);
		a = v->end;
	}
	return SV_OK;
}

/* MADV_POPULATE_WRITE: a write fault at each page not mapped writable
 * yet, stepping by the leaf each fault made. */
static int populate_write(sv_host *h, uint64_t start, uint64_t end)
{
	uint64_t a = start;

	while (a < end) {
		sv_host_leaf l;
		int rc = sv_host_lookup(&l, h, a);

		if (rc == SV_OK && !(l.present && l.writable))
			rc = sv_host_fault(&l, h, a, true);
		if (rc != SV_OK)
			return sv_err__set(NULL, SV_EFAULT,
					   "madvise(POPULATE_WRITE): hva 0x%" PRIx64
					   " cannot be written (EFAULT)", a);
		a = (a & ~(sv_host__level_size(l.level) - 1)) +
		    sv_host__level_size(l.level);
	}
	return SV_OK;
}

int sv_host_madvise(sv_host *h, uint64_t hva, uint64_t len, sv_madvise advice)
{
	uint64_t end, a;
	int rc;

	sv_err__clear();
	len = (len + 0xfff) & ~0xfffULL;
	rc = sv_host__check_range(h, "madvise", hva, len, true);
	if (rc)
		return rc;
	if ((unsigned)advice > SV_MADV_POPULATE_WRITE)
		return sv_err__set(NULL, SV_EINVAL, "madvise: unknown advice %d "
						    "(EINVAL)", (int)advice);
	end = hva + len;
	rc = check_advice(h, hva, end, advice);
	if (rc)
		return rc;
	switch (advice) {
	case SV_MADV_DONTNEED:
	case SV_MADV_FREE:
		/* one CLEAR per VMA, as zap_page_range_single and
		 * madvise_free_single_vma open one each */
		for (a = hva; a < end;) {
			sv_vma *v = sv_host__vma_find(h, a);
			sv_host_range r = {SV_HOST_EVENT_CLEAR, a,
					   MIN(v->end, end)};

			sv_host__ev_start(h, &r);
			sv_host__each_leaf(h, r.start, r.end, true,
				  advice == SV_MADV_FREE ? free_fn : dontneed_fn,
				  NULL);
			sv_host__ev_end(h, &r);
			a = r.end;
		}
		return SV_OK;
	case SV_MADV_HUGEPAGE:
		set_prot(h, hva, end, ~0u, VMF_HUGEPAGE, VMF_NOHUGEPAGE);
		return SV_OK;
	case SV_MADV_NOHUGEPAGE:
		set_prot(h, hva, end, ~0u, VMF_NOHUGEPAGE, VMF_HUGEPAGE);
		return SV_OK;
	case SV_MADV_DONTFORK:
		set_prot(h, hva, end, ~0u, VMF_DONTFORK, 0);
		return SV_OK;
	case SV_MADV_DOFORK:
		set_prot(h, hva, end, ~0u, 0, VMF_DONTFORK);
		return SV_OK;
	case SV_MADV_COLLAPSE:
		return madv_collapse(h, hva, end);
	case SV_MADV_PAGEOUT:
		sv_host__each_leaf(h, hva, end, true, split_all_fn, NULL);
		sv_host__each_leaf(h, hva, end, false, swapout_fn, NULL);
		return SV_OK;
	case SV_MADV_POPULATE_WRITE:
		return populate_write(h, hva, end);
	}
	return SV_OK;
}

