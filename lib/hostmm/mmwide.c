/*
 * lib/hostmm/mmwide.c - operations on the whole mm or done by the kernel's
 * own threads: khugepaged, THP split, migration, KSM, fork, clear_refs and
 * page aging.  Each has Linux's checks, its effect on the host page tables
 * and pages, and its notifier events (lib/hostmm/ops.c says how an
 * operation goes).
 */
#include "mm.h"

int sv_host_khugepaged(unsigned *collapsed, sv_host *h)
{
	unsigned n = 0;
	guint i;

	sv_err__clear();
	if (!h)
		return sv_err__set(NULL, SV_EINVAL, "khugepaged: NULL host");
	for (i = 0; i < h->vmas->len; i++) {
		sv_vma *v = g_ptr_array_index(h->vmas, i);
		uint64_t b;

		if (!sv_host__thp_allowed(h, v))
			continue;
		for (b = (v->start + SZ_2M - 1) & ~(SZ_2M - 1);
		     b + SZ_2M <= v->end; b += SZ_2M)
			if (sv_host__collapse_2m(h, v, b, h->opts.max_ptes_none) == 1)
				n++;
	}
	if (collapsed)
		*collapsed = n;
	return SV_OK;
}

int sv_host_split_thp(sv_host *h, uint64_t hva)
{
	sv_host_range r = {SV_HOST_EVENT_CLEAR, 0, 0};
	unsigned level;
	uint64_t *e, head, i;
	sv_hpage *pg;

	sv_err__clear();
	if (!h)
		return sv_err__set(NULL, SV_EINVAL, "split_thp: NULL host");
	e = sv_host__leaf(h, hva, &level);
	pg = e && (*e & HPTE_P)
		     ? sv_phys__page(&h->phys, (*e & HPTE_ADDR) >> 12)
		     : NULL;
	if (!pg || pg->kind != SV_PAGE_THP)
		return sv_err__set(NULL, SV_EINVAL, "split_thp: 0x%" PRIx64
				   " is not mapped to a THP (EINVAL)", hva);
	head = sv_host__head(h, (*e & HPTE_ADDR) >> 12);
	if (h->forked)
		return sv_err__set(NULL, SV_EBUSY, "split_thp: the THP at 0x%" PRIx64
				   " may be shared with a child (EBUSY)", hva);
	if (level == 2) {
		if (!sv_host__split_pmd(h, hva)) /* its own CLEAR over the 2M */
			return sv_err__set(NULL, SV_ENOMEM, "split_thp: no "
							    "page-table page");
	} else {
		r.start = hva & ~(SZ_2M - 1);
		r.end = r.start + SZ_2M;
		sv_host__ev_start(h, &r);
	}
	/* split_huge_page: 512 order-0 pages; unmapped ones are freed */
	sv_phys__split(&h->phys, head);
	for (i = 0; i < 512; i++) {
		pg = sv_phys__page(&h->phys, head + i);
		pg->order = 0;
		pg->kind = SV_PAGE_ANON;
		pg->ref = pg->map;
		if (!pg->map)
			sv_phys__free(&h->phys, head + i, 0);
	}
	if (level != 2)
		sv_host__ev_end(h, &r);
	return SV_OK;
}

static void migrate_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	uint64_t pfn = (*l->e & HPTE_ADDR) >> 12, npfn;
	sv_host_range r = {SV_HOST_EVENT_CLEAR, l->addr, l->addr + sv_host__level_size(l->level)};
	sv_hpage *pg;
	unsigned order = l->level == 2 ? 9 : 0;

	SV_UNUSED(ctx);
	if (!(*l->e & HPTE_P) || (*l->e & HPTE_SPECIAL) || l->level > 2)
		return;
	pg = sv_phys__page(&h->phys, pfn);
	if (!pg || pg->map > 1 ||
	    !(l->level == 2 ? pg->kind == SV_PAGE_THP : pg->kind == SV_PAGE_ANON))
		return; /* shared, PTE-mapped THP, hugetlb, file, device */
	npfn = sv_phys__alloc(&h->phys, order, (sv_page_kind)pg->kind);
	if (npfn == UINT64_MAX)
		return; /* no target frame: the page stays */
	sv_host__ev_start(h, &r);
	sv_host__unmap_pages(h, pfn, l->level);
	*l->e = (*l->e & ~HPTE_ADDR) | (npfn << 12);
	sv_host__map_pages(h, npfn, l->level);
	h->stat[SV_HOST_STAT_migrations] += 1ULL << order;
	sv_host__ev_end(h, &r);
}

int sv_host_migrate(sv_host *h, uint64_t hva, uint64_t len)
{
	int rc;

	sv_err__clear();
	len = (len + 0xfff) & ~0xfffULL;
	rc = sv_host__check_range(h, "migrate", hva, len, true);
	if (rc)
		return rc;
	sv_host__each_leaf(h, hva, hva + len, false, migrate_fn, NULL);
	return SV_OK;
}

/* A stable KSM page met during one merge pass: its content hash, its pfn
 * and the bytes of its first mapping (content lives at HVAs); `next` is
 * the next stable page whose hash shares its table slot, or -1. */
typedef struct ksm_page {
	uint64_t hash;
	uint64_t pfn;
	const uint8_t *bytes;
	gint next;
} ksm_page;

/*
 * The stable pages by content hash: an open-addressing table of chain
 * heads (indices into `pages`), at most half full.  Not a GHashTable:
 * Unicorn 2.0.1 exports its own g_hash_table_* and g_slist_*, and in a
 * process that loads both, calls would mix the two implementations.
 */
typedef struct ksm_ctx {
	GArray *pages;      /* ksm_page */
	gint *slots;        /* chain heads, -1 = empty */
	guint cap;          /* a power of two */
	unsigned merged;
} ksm_ctx;

static gint *ksm_slot(ksm_ctx *k, uint64_t hash)
{
	guint i = (guint)((hash * 0x9e3779b97f4a7c15ULL) >> 40) & (k->cap - 1);

	for (;; i = (i + 1) & (k->cap - 1)) {
		gint *s = &k->slots[i];

		if (*s < 0 || g_array_index(k->pages, ksm_page, *s).hash == hash)
			return s;
	}
}

static void ksm_link(ksm_ctx *k, gint i)
{
	ksm_page *kp = &g_array_index(k->pages, ksm_page, i);
	gint *s = ksm_slot(k, kp->hash);

	kp->next = *s;
	*s = i;
}

/* Adds a stable page, doubling the table first when it would be more
 * than half full. */
static void ksm_add(ksm_ctx *k, uint64_t hash, uint64_t pfn,
		    const uint8_t *bytes)
{
	ksm_page kp = {hash, pfn, bytes, -1};
	guint i;

	g_array_append_val(k->pages, kp);
	if (k->pages->len * 2 > k->cap) {
		k->cap *= 2;
		k->slots = g_renew(gint, k->slots, k->cap);
		memset(k->slots, 0xff, k->cap * sizeof(gint));
		for (i = 0; i < k->pages->len; i++)
			ksm_link(k, (gint)i);
		return;
	}
	ksm_link(k, (gint)k->pages->len - 1);
}

/* FNV-1a over the page: only picks candidates, memcmp decides. */
static guint64 page_hash(const uint8_t *p)
{
	guint64 x = 1469598103934665603ULL;
	unsigned i;

	for (i = 0; i < 4096; i++)
		x = (x ^ p[i]) * 1099511628211ULL;
	return x;
}

static void ksm_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	ksm_ctx *k = ctx;
	uint64_t pfn = (*l->e & HPTE_ADDR) >> 12;
	const uint8_t *bytes = sv_host__vma_bytes(l->v, l->addr);
	sv_host_range r = {SV_HOST_EVENT_CLEAR, l->addr, l->addr + 4096};
	guint64 hash;
	gint i;
	sv_hpage *pg;

	if (l->level != 1 || !(*l->e & HPTE_P) || (*l->e & HPTE_SPECIAL) ||
	    l->v->backing != SV_BACKING_ANON)
		return;
	pg = sv_phys__page(&h->phys, pfn);
	if (pg->kind != SV_PAGE_ANON || pg->map > 1)
		return;
	hash = page_hash(bytes);
	for (i = *ksm_slot(k, hash); i >= 0;
	     i = g_array_index(k->pages, ksm_page, i).next) {
		const ksm_page *kp = &g_array_index(k->pages, ksm_page, i);

		if (memcmp(kp->bytes, bytes, 4096))
			continue;
		/* write_protect_page, then replace_page: a CLEAR each */
		sv_host__ev_start(h, &r);
		*l->e &= ~HPTE_RW;
		sv_host__ev_end(h, &r);
		sv_host__ev_start(h, &r);
		sv_host__clear_leaf(h, l->e, 1);
		*l->e = (kp->pfn << 12) | HPTE_P | HPTE_US | HPTE_A;
		sv_host__map_pages(h, kp->pfn, 1);
		sv_host__ev_end(h, &r);
		k->merged++;
		h->stat[SV_HOST_STAT_ksm_merged]++;
		return;
	}
	/* the first page with this content becomes a stable KSM page */
	sv_host__ev_start(h, &r);
	*l->e &= ~HPTE_RW;
	pg->kind = SV_PAGE_KSM;
	sv_host__ev_end(h, &r);
	ksm_add(k, hash, pfn, bytes);
}

int sv_host_ksm(unsigned *merged, sv_host *h, uint64_t hva, uint64_t len)
{
	ksm_ctx k = {NULL, NULL, 64, 0};
	int rc;

	sv_err__clear();
	len = (len + 0xfff) & ~0xfffULL;
	rc = sv_host__check_range(h, "ksm_merge", hva, len, true);
	if (rc)
		return rc;
	k.pages = g_array_new(FALSE, FALSE, sizeof(ksm_page));
	k.slots = g_new(gint, k.cap);
	memset(k.slots, 0xff, k.cap * sizeof(gint));
	sv_host__each_leaf(h, hva, hva + len, false, ksm_fn, &k);
	g_array_free(k.pages, TRUE);
	g_free(k.slots);
	if (merged)
		*merged = k.merged;
	return SV_OK;
}

static void fork_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	uint64_t pfn = (*l->e & HPTE_ADDR) >> 12, rec[2];

	SV_UNUSED(ctx);
	if (!(*l->e & HPTE_P))
		return;
	if (l->v->backing == SV_BACKING_ANON)
		*l->e &= ~HPTE_RW; /* COW */
	rec[0] = pfn;
	rec[1] = l->level;
	sv_host__map_pages(h, pfn, l->level); /* the child's mapping */
	g_array_append_vals(h->child, rec, 2);
}

int sv_host_fork(sv_host *h)
{
	guint i;

	sv_err__clear();
	if (!h)
		return sv_err__set(NULL, SV_EINVAL, "fork: NULL host");
	if (h->forked)
		return sv_err__set(NULL, SV_EBUSY, "fork: a child already exists "
						   "(call sv_host_fork_exit)");
	for (i = 0; i < h->vmas->len; i++) {
		sv_vma *v = g_ptr_array_index(h->vmas, i);
		sv_host_range r = {SV_HOST_EVENT_PROTECTION_PAGE, v->start,
				   v->end};
		bool cow = v->backing == SV_BACKING_ANON &&
			   (v->prot & SV_PROT_WRITE);

		if (v->flags & VMF_DONTFORK)
			continue;
		/* copy_page_range skips a VMA with nothing to copy, and
		 * opens PROTECTION_PAGE only for COW mappings */
		if (!sv_host__any_entry(h, v->start, v->end))
			continue;
		if (cow)
			sv_host__ev_start(h, &r);
		sv_host__each_leaf(h, v->start, v->end, false, fork_fn, NULL);
		if (cow)
			sv_host__ev_end(h, &r);
	}
	h->forked = true;
	return SV_OK;
}

int sv_host_fork_exit(sv_host *h)
{
	guint i;

	sv_err__clear();
	if (!h || !h->forked)
		return sv_err__set(NULL, SV_EINVAL, "fork_exit: no child");
	for (i = 0; i < h->child->len; i += 2)
		sv_host__unmap_pages(h, g_array_index(h->child, uint64_t, i),
				     (unsigned)g_array_index(h->child, uint64_t, i + 1));
	g_array_set_size(h->child, 0);
	h->forked = false;
	return SV_OK;
}

static void soft_dirty_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	SV_UNUSED(h);
	SV_UNUSED(ctx);
	if (*l->e & HPTE_P)
		*l->e &= ~(HPTE_RW | HPTE_SOFT_DIRTY);
}

int sv_host_clear_refs(sv_host *h)
{
	sv_host_range r = {SV_HOST_EVENT_SOFT_DIRTY, 0, UINT64_MAX};

	sv_err__clear();
	if (!h)
		return sv_err__set(NULL, SV_EINVAL, "clear_refs: NULL host");
	sv_host__ev_start(h, &r);
	sv_host__each_leaf(h, 0, sv_host__user_top(h), false, soft_dirty_fn, NULL);
	sv_host__ev_end(h, &r);
	return SV_OK;
}

typedef struct age_ctx {
	sv_host_age_kind kind;
	bool young;
} age_ctx;

static void age_fn(sv_host *h, const sv_range_leaf *l, void *ctx)
{
	age_ctx *a = ctx;

	SV_UNUSED(h);
	if ((*l->e & HPTE_P) && (*l->e & HPTE_A)) {
		a->young = true;
		if (a->kind != SV_AGE_TEST_YOUNG)
			*l->e &= ~HPTE_A;
	}
}

int sv_host_age(bool *young, sv_host *h, uint64_t hva, uint64_t len,
		sv_host_age_kind kind)
{
	age_ctx a = {kind, false};
	guint i;
	int rc;

	sv_err__clear();
	len = (len + 0xfff) & ~0xfffULL;
	rc = sv_host__check_range(h, "age", hva, len, false);
	if (rc)
		return rc;
	if ((unsigned)kind > SV_AGE_TEST_YOUNG)
		return sv_err__set(NULL, SV_EINVAL, "age: unknown kind %d", (int)kind);
	h->stat[SV_HOST_STAT_age_calls]++;
	for (i = 0; i < h->notifiers->len; i++) {
		const sv_notifier *n = &g_array_index(h->notifiers, sv_notifier, i);

		if (n->ops->age && n->ops->age(kind, hva, hva + len, n->payload))
			a.young = true;
	}
	sv_host__each_leaf(h, hva, hva + len, false, age_fn, &a);
	if (young)
		*young = a.young;
	return SV_OK;
}

/* The names before 0.2, their results last. */
int sv_host_khugepaged_scan(sv_host *h, unsigned *collapsed)
{
	return sv_host_khugepaged(collapsed, h);
}

int sv_host_ksm_merge(sv_host *h, uint64_t hva, uint64_t len, unsigned *merged)
{
	return sv_host_ksm(merged, h, hva, len);
}
