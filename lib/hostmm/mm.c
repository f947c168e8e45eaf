/*
 * lib/hostmm/mm.c - the simulated host process: VMAs, host page tables,
 * pages.  The mm operations are in ops.c, the notifier chain in notify.c.
 *
 * How it works:
 *  1. VMAs are kept sorted by start.  Each points into a backing object
 *     holding the bytes of its original mmap (MAP_NORESERVE, so untouched
 *     memory costs nothing); VMAs split from one mmap share it.  Bytes are
 *     addressed by HVA, so migration, collapse and COW keep the content
 *     for free, and discarding a private anonymous page zeroes its bytes.
 *  2. The host page tables are x86-64 4- or 5-level tables in their own
 *     frames, read with the walker every other format uses.  A leaf is a
 *     PTE, a PMD (PS) or a PUD (PS).  Swap entries and PROT_NONE leaves are
 *     non-present entries the model recognises by software bits.
 *  3. Each leaf holds one mapping of the pages under it: every 4K page's
 *     map count and the compound head's ref count go up by one; when the
 *     head's count drops to zero an anonymous page returns to the
 *     allocator and a hugetlb page to its pool.
 *  4. A fault picks the leaf size from the backing: THP (a 2M frame when
 *     the VMA allows it and the 2M range lies inside it, else 4K), the
 *     zero page for reads of untouched anonymous memory, hugetlb pages
 *     from the pool, device pfns for DAX and PFNMAP at the largest aligned
 *     level, page-cache pages for files, and 4K PTEs into 2M compound
 *     pages for driver memory.  A write to a shared, zero or KSM page
 *     copies it (CLEAR over the page, as wp_page_copy does).
 */
#define _DEFAULT_SOURCE /* MAP_NORESERVE, madvise */
#include <sys/mman.h>

#include "hostmm.h"
#include "mm.h"

const char *sv_host_event_name(sv_host_event e)
{
	static const char *const names[] = {
#define SV__HOST_EVENT_NAME(name, what) #name,
		SV_HOST_EVENT_LIST(SV__HOST_EVENT_NAME)
#undef SV__HOST_EVENT_NAME
	};

	return (unsigned)e < SV_HOST_EVENT__COUNT ? names[e] : NULL;
}

const char *sv_host_stat_name(sv_host_stat s)
{
	static const char *const names[] = {
#define SV__HOST_STAT_NAME(name, what) #name,
		SV_HOST_STAT_LIST(SV__HOST_STAT_NAME)
#undef SV__HOST_STAT_NAME
	};

	return (unsigned)s < SV_HOST_STAT__COUNT ? names[s] : NULL;
}

uint64_t sv_host_stat_get(const sv_host *h, sv_host_stat s)
{
	return h && (unsigned)s < SV_HOST_STAT__COUNT ? h->stat[s] : 0;
}

uint64_t sv_host_metadata_bytes(const sv_host *h)
{
	uint64_t b, i;

	if (!h)
		return 0;
	b = h->phys.memmap_blocks * 512 * sizeof(sv_hpage) +
	    h->phys.nblocks * (sizeof(h->phys.bits[0]) + 1 + 2 + 8 + 2) +
	    h->stat[SV_HOST_STAT_pt_pages] * 4096 +
	    h->vmas->len * (sizeof(sv_vma) + sizeof(sv_backing));
	for (i = 0; i < h->vmas->len; i++) {
		const sv_vma *v = g_ptr_array_index(h->vmas, i);

		if (v->bk->pages && v->bk_off == 0)
			b += (v->backing == SV_BACKING_FILE ? v->bk->size >> 12
							    : v->bk->size >> 21) *
			     8;
	}
	return b;
}

/* ---- host page tables ---------------------------------------------------- */

static uint64_t *host_fetch(void *ctx, unsigned level, uint64_t pa)
{
	sv_host *h = ctx;

	SV_UNUSED(level);
	return sv_frames__ptr(&h->pt, pa);
}

uint64_t *sv_host__table(sv_host *h, uint64_t pa)
{
	return sv_frames__ptr(&h->pt, pa);
}

bool sv_host__is_leaf(uint64_t e, unsigned level)
{
	return (e & (HPTE_P | HPTE_PROTNONE)) && (level == 1 || (e & HPTE_PS));
}

uint64_t *sv_host__entry(sv_host *h, uint64_t hva, unsigned level, bool create)
{
	uint64_t *t = sv_host__table(h, h->root);
	unsigned l;

	for (l = h->walker.fmt->levels;; l--) {
		uint64_t *e = &t[sv_pt__index(hva, l)];
		uint64_t pa;

		if (l == level)
			return e;
		if (sv_host__is_leaf(*e, l))
			return NULL; /* a huge leaf covers it */
		if (!(*e & HPTE_P)) {
			if (!create)
				return NULL;
			pa = sv_frames__alloc(&h->pt);
			if (!pa)
				return NULL;
			h->stat[SV_HOST_STAT_pt_pages]++;
			*e = pa | HPTE_TABLE;
		}
		t = sv_host__table(h, *e & HPTE_ADDR);
	}
}

/* The leaf mapping hva: its entry and level, or NULL. */
uint64_t *sv_host__leaf(sv_host *h, uint64_t hva, unsigned *level)
{
	uint64_t *t = sv_host__table(h, h->root);
	unsigned l;

	for (l = h->walker.fmt->levels; l >= 1; l--) {
		uint64_t *e = &t[sv_pt__index(hva, l)];

		if (sv_host__is_leaf(*e, l) || (l == 1 && *e)) {
			*level = l;
			return e;
		}
		if (!(*e & HPTE_P))
			return NULL;
		t = sv_host__table(h, *e & HPTE_ADDR);
	}
	return NULL;
}

int sv_host_lookup(sv_host_leaf *out, const sv_host *h, uint64_t hva)
{
	sv_walk w;

	sv_err__clear();
	if (!out || !h)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_lookup: NULL argument");
	memset(out, 0, sizeof(*out));
	sv_pt__walk(&h->walker, &w, h->root, h->walker.fmt->levels, hva);
	if (w.status == SV_WALK_OK) {
		uint64_t e = w.entry[w.level];

		out->present = true;
		out->level = w.level;
		out->pfn = w.pa >> 12;
		out->writable = e & HPTE_RW;
		out->dirty = e & HPTE_D;
		out->young = e & HPTE_A;
		out->soft_dirty = e & HPTE_SOFT_DIRTY;
		out->special = e & HPTE_SPECIAL;
	} else if (w.status == SV_WALK_NOT_PRESENT && w.level == 1) {
		out->swapped = w.entry[1] & HPTE_SWAP;
	}
	return SV_OK;
}

/* ---- pages --------------------------------------------------------------- */

/* Pages a leaf at level covers. */
static inline uint64_t level_pages(unsigned level)
{
	return 1ULL << (9 * (level - 1));
}

uint64_t sv_host__head(sv_host *h, uint64_t pfn)
{
	sv_hpage *pg = sv_phys__page(&h->phys, pfn);

	return pg ? pfn & ~((1ULL << pg->order) - 1) : pfn;
}

void sv_host__map_pages(sv_host *h, uint64_t pfn, unsigned level)
{
	uint64_t i, n = level_pages(level);
	sv_hpage *head;

	if (!sv_phys__page(&h->phys, pfn))
		return; /* device memory: no struct page to count */
	for (i = 0; i < n; i++)
		sv_phys__page(&h->phys, pfn + i)->map++;
	head = sv_phys__page(&h->phys, sv_host__head(h, pfn));
	if (head->kind != SV_PAGE_DEVICE)
		head->ref++;
}

/* Frees a compound (or order-0 page) nothing refers to any more. */
static void release_head(sv_host *h, uint64_t head_pfn, sv_hpage *head)
{
	switch (head->kind) {
	case SV_PAGE_ANON:
	case SV_PAGE_THP:
	case SV_PAGE_KSM:
		sv_phys__free(&h->phys, head_pfn, head->order);
		break;
	case SV_PAGE_HUGETLB:
		head->flags |= HP_POOL;
		if (head->order == 9)
			g_array_append_val(h->pool_2m, head_pfn);
		else
			g_array_append_val(h->pool_1g, head_pfn);
		break;
	default: /* zero, file and driver pages belong to someone else */
		break;
	}
}

void sv_host__unmap_pages(sv_host *h, uint64_t pfn, unsigned level)
{
	uint64_t i, n = level_pages(level), hp;
	sv_hpage *head;

	if (!sv_phys__page(&h->phys, pfn))
		return;
	for (i = 0; i < n; i++)
		sv_phys__page(&h->phys, pfn + i)->map--;
	hp = sv_host__head(h, pfn);
	head = sv_phys__page(&h->phys, hp);
	if (head->kind == SV_PAGE_DEVICE || head->kind == SV_PAGE_ZERO)
		return;
	if (--head->ref == 0)
		release_head(h, hp, head);
}

/* Clears one leaf (or swap entry) and drops its mapping. */
void sv_host__clear_leaf(sv_host *h, uint64_t *e, unsigned level)
{
	if (*e & (HPTE_P | HPTE_PROTNONE))
		sv_host__unmap_pages(h, (*e & HPTE_ADDR) >> 12, level);
	*e = 0;
}

/* ---- VMAs ----------------------------------------------------------------- */

sv_vma *sv_host__vma_find(sv_host *h, uint64_t hva)
{
	guint lo = 0, hi = h->vmas->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		sv_vma *v = g_ptr_array_index(h->vmas, mid);

		if (hva < v->start)
			hi = mid;
		else if (hva >= v->end)
			lo = mid + 1;
		else
			return v;
	}
	return NULL;
}

/* Index of the first VMA ending after hva. */
guint sv_host__vma_index(sv_host *h, uint64_t hva)
{
	guint lo = 0, hi = h->vmas->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (((sv_vma *)g_ptr_array_index(h->vmas, mid))->end <= hva)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool sv_host__range_mapped(sv_host *h, uint64_t start, uint64_t end)
{
	uint64_t a = start;

	while (a < end) {
		sv_vma *v = sv_host__vma_find(h, a);

		if (!v)
			return false;
		a = v->end;
	}
	return true;
}

bool sv_host__range_free(sv_host *h, uint64_t start, uint64_t end)
{
	guint i = sv_host__vma_index(h, start);

	return i >= h->vmas->len ||
	       ((sv_vma *)g_ptr_array_index(h->vmas, i))->start >= end;
}

/* Splits the VMA holding `at` so that a VMA starts at `at`. */
/* Does n continue v exactly (vma_merge's is_mergeable_vma)? */
static bool mergeable(const sv_vma *v, const sv_vma *n)
{
	return v->end == n->start && v->prot == n->prot &&
	       v->flags == n->flags && v->backing == n->backing &&
	       v->align == n->align && v->bk == n->bk &&
	       n->bk_off == v->bk_off + (v->end - v->start);
}

void sv_host__vma_merge(sv_host *h, uint64_t start, uint64_t end)
{
	guint i = sv_host__vma_index(h, start);

	if (i > 0)
		i--; /* the one before may take the first */
	while (i + 1 < h->vmas->len) {
		sv_vma *v = g_ptr_array_index(h->vmas, i);
		sv_vma *n = g_ptr_array_index(h->vmas, i + 1);

		if (v->start > end)
			break;
		if (!mergeable(v, n)) {
			i++;
			continue;
		}
		v->end = n->end;
		n->bk->refs--;
		g_ptr_array_remove_index(h->vmas, i + 1);
		g_free(n);
	}
}

void sv_host__vma_split(sv_host *h, uint64_t at)
{
	sv_vma *v = sv_host__vma_find(h, at), *n;

	if (!v || v->start == at)
		return;
	n = g_new(sv_vma, 1);
	*n = *v;
	n->start = at;
	n->bk_off = v->bk_off + (at - v->start);
	v->end = at;
	v->bk->refs++;
	g_ptr_array_insert(h->vmas, (gint)sv_host__vma_index(h, at), n);
}

uint8_t *sv_host__vma_bytes(const sv_vma *v, uint64_t hva)
{
	return v->bk->mem + v->bk_off + (hva - v->start);
}

void sv_host__backing_put(sv_host *h, sv_backing *bk)
{
	uint64_t i;

	if (--bk->refs)
		return;
	if (bk->kind == SV_BACKING_DRIVER) {
		/* driver memory: 2M compound pages, one per 2M chunk */
		for (i = 0; i < bk->size >> 21; i++)
			if (bk->pages[i])
				sv_phys__free(&h->phys, bk->pages[i] - 1, 9);
	} else if (bk->kind == SV_BACKING_FILE) {
		for (i = 0; i < bk->size >> 12; i++)
			if (bk->pages[i])
				sv_phys__free(&h->phys, bk->pages[i] - 1, 0);
	}
	g_free(bk->pages);
	munmap(bk->mem, bk->size);
	g_free(bk);
}

/* Discards the bytes of [start, end) of a VMA (they read back as 0). */
void sv_host__discard_bytes(const sv_vma *v, uint64_t start, uint64_t end)
{
	uint8_t *p = sv_host__vma_bytes(v, start);

	/* whole host pages are returned; any partial edge is cleared */
	if (madvise(p, end - start, MADV_DONTNEED))
		memset(p, 0, end - start);
}

/* ---- the host ------------------------------------------------------------ */

static int check_options(const sv_host_options *o)
{
	if (o->version < 1 || o->version > SV_HOST_OPTIONS_VERSION)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_options.version = %u, "
				   "expected %u", o->version, SV_HOST_OPTIONS_VERSION);
	if (o->version > 1 && (o->kernel_version < SV_KERNEL(5, 0) ||
			       o->kernel_version > SV_KERNEL(7, 99)))
		return sv_err__set(NULL, SV_EINVAL,
				   "sv_host_options.kernel_version = %u: expected "
				   "SV_KERNEL(5, 0) to SV_KERNEL(7, 99)",
				   o->kernel_version);
	if (o->levels != 4 && o->levels != 5)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_options.levels = %u, "
				   "expected 4 or 5", o->levels);
	if (!o->mem_size || (o->mem_size & ((1ULL << 30) - 1)) ||
	    o->mem_size > SV_HOST_MEM_MAX)
		return sv_err__set(NULL, SV_EINVAL,
				   "sv_host_options.mem_size = %" PRIu64
				   ": expected a multiple of 1G, at most 1T",
				   o->mem_size);
	if (o->thp > SV_THP_ALWAYS)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_options.thp = %d: "
				   "expected never, madvise or always", (int)o->thp);
	if (o->frag_percent > 100)
		return sv_err__set(NULL, SV_EINVAL,
				   "sv_host_options.frag_percent = %u: expected "
				   "0..100", o->frag_percent);
	if (o->max_ptes_none > 511)
		return sv_err__set(NULL, SV_EINVAL,
				   "sv_host_options.max_ptes_none = %u: expected "
				   "0..511", o->max_ptes_none);
	return SV_OK;
}

static int fill_pools(sv_host *h)
{
	unsigned i;

	for (i = 0; i < h->opts.hugetlb_1g_pages + h->opts.hugetlb_2m_pages; i++) {
		bool giant = i < h->opts.hugetlb_1g_pages;
		uint64_t pfn = sv_phys__reserve(&h->phys, giant ? 18 : 9,
						SV_PAGE_HUGETLB);

		if (pfn == UINT64_MAX)
			return sv_err__set(NULL, SV_ENOMEM,
					   "sv_host_new: RAM cannot hold %u 1G and "
					   "%u 2M hugetlb pages",
					   h->opts.hugetlb_1g_pages,
					   h->opts.hugetlb_2m_pages);
		sv_phys__page(&h->phys, pfn)->flags |= HP_POOL;
		g_array_append_val(giant ? h->pool_1g : h->pool_2m, pfn);
	}
	return SV_OK;
}

void sv_host_options_init(sv_host_options *opts)
{
	static const sv_host_options d = SV_HOST_OPTIONS_INIT;

	if (opts)
		memcpy(opts, &d, sizeof(d)); /* the padding too */
}

int sv_host_new(sv_host **out, const sv_host_options *opts)
{
	static const sv_host_options defaults = SV_HOST_OPTIONS_INIT;
	sv_host *h;
	int rc;

	sv_err__clear();
	if (!out)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_new: NULL out");
	*out = NULL;
	if (!opts)
		opts = &defaults;
	rc = check_options(opts);
	if (rc)
		return rc;
	h = g_new0(sv_host, 1);
	/* an older caller's struct ends before the fields it did not have */
	if (opts->version == 1) {
		memcpy(&h->opts, opts, offsetof(sv_host_options, kernel_version));
		h->opts.kernel_version = SV_KERNEL(6, 12);
	} else if (opts->version == 2) {
		memcpy(&h->opts, opts, offsetof(sv_host_options, resident_limit));
	} else {
		h->opts = *opts;
	}
	h->opts.version = SV_HOST_OPTIONS_VERSION;
	opts = &h->opts;
	h->vmas = g_ptr_array_new();
	h->notifiers = g_array_new(FALSE, FALSE, sizeof(sv_notifier));
	h->devs = g_array_new(FALSE, FALSE, sizeof(sv_devrange));
	h->child = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	h->pool_2m = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	h->pool_1g = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	/* Device pfns start 1G above RAM; table frames far above both. */
	h->dev_next = (opts->mem_size >> 12) + (1ULL << 18);
	if (sv_phys__init(&h->phys, opts->mem_size, h->stat) ||
	    sv_frames__init(&h->pt, 1ULL << 46, 1ULL << 19)) {
		rc = sv_err__set(NULL, SV_ENOMEM, "sv_host_new: no memory");
		goto free_host;
	}
	sv_pt__walker_init(&h->walker, opts->levels == 5 ? &sv_pt__fmt_x86_5
							 : &sv_pt__fmt_x86_4,
			   52, true, true, false);
	h->walker.fetch = host_fetch;
	h->walker.ctx = h;
	h->root = sv_frames__alloc(&h->pt);
	h->stat[SV_HOST_STAT_pt_pages]++;
	rc = fill_pools(h);
	if (rc)
		goto free_host;
	sv_phys__fragment(&h->phys, opts->frag_percent, opts->seed);
	h->zero_pfn = sv_phys__alloc(&h->phys, 0, SV_PAGE_ZERO);
	h->huge_zero_pfn = opts->thp_zero_page
				   ? sv_phys__alloc(&h->phys, 9, SV_PAGE_ZERO)
				   : UINT64_MAX - 1;
	if (h->zero_pfn == UINT64_MAX || h->huge_zero_pfn == UINT64_MAX) {
		rc = h->zero_pfn == UINT64_MAX
			     ? sv_err__set(NULL, SV_ENOMEM, "sv_host_options.mem_size"
						      ": no RAM left for the zero page")
			     : sv_err__set(NULL, SV_EINVAL,
					   "sv_host_options.frag_percent = %u "
					   "leaves no free 2M block for the huge "
					   "zero page (sv_host_options."
					   "thp_zero_page)", opts->frag_percent);
		goto free_host;
	}
	*out = h;
	return SV_OK;
free_host:
	sv_host_free(h);
	return rc;
}

void sv_host_free(sv_host *h)
{
	guint i;

	if (!h)
		return;
	for (i = 0; i < h->notifiers->len; i++) {
		const sv_notifier *n = &g_array_index(h->notifiers, sv_notifier, i);

		if (n->ops->release)
			n->ops->release(n->payload);
	}
	if (h->notifiers->len)
		h->stat[SV_HOST_STAT_event_release]++;
	for (i = 0; i < h->vmas->len; i++) {
		sv_vma *v = g_ptr_array_index(h->vmas, i);

		sv_host__backing_put(h, v->bk);
		g_free(v);
	}
	g_ptr_array_free(h->vmas, TRUE);
	g_array_free(h->notifiers, TRUE);
	g_array_free(h->devs, TRUE);
	g_array_free(h->child, TRUE);
	g_array_free(h->pool_2m, TRUE);
	g_array_free(h->pool_1g, TRUE);
	sv_frames__fini(&h->pt);
	sv_phys__fini(&h->phys);
	g_free(h);
}

int sv_host_page_info(sv_host_page *out, const sv_host *h, uint64_t pfn)
{
	const sv_hpage *pg, *head;
	guint i;

	sv_err__clear();
	if (!out || !h)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_page_info: NULL "
						    "argument");
	memset(out, 0, sizeof(*out));
	if (pfn < sv_phys__pages(&h->phys)) {
		uint64_t fresh = sv_phys__reserved_head(&h->phys, pfn);

		/* a page of a pool frame never used: its head tells */
		pg = sv_phys__peek(&h->phys, fresh != UINT64_MAX ? fresh : pfn);
		out->head = pfn;
		if (!pg)
			return SV_OK; /* a block never used: a free page */
		out->head = pfn & ~((1ULL << pg->order) - 1);
		head = sv_phys__peek(&h->phys, out->head);
		out->kind = (sv_page_kind)pg->kind;
		out->order = pg->order;
		out->refcount = head->ref;
		out->mapcount = pg->map;
		out->compound = pg->order > 0;
		out->reserved = pg->kind == SV_PAGE_RESERVED ||
				pg->kind == SV_PAGE_ZERO;
		return SV_OK;
	}
	for (i = 0; i < h->devs->len; i++) {
		const sv_devrange *d = &g_array_index(h->devs, sv_devrange, i);

		if (pfn - d->base < d->n) {
			out->kind = d->kind;
			out->head = pfn;
			out->zone_device = d->kind == SV_PAGE_DEVICE;
			out->reserved = d->kind == SV_PAGE_RESERVED;
			return SV_OK;
		}
	}
	return sv_err__set(NULL, SV_ENOENT, "pfn 0x%" PRIx64 " is not RAM or a "
					    "mapped device range", pfn);
}

uint8_t *sv_host__bytes(sv_host *h, uint64_t hva, uint64_t len, uint64_t *run)
{
	sv_vma *v = sv_host__vma_find(h, hva), *n;
	uint64_t r;

	if (!v) {
		guint i = sv_host__vma_index(h, hva);
		uint64_t next = i < h->vmas->len
					? ((sv_vma *)g_ptr_array_index(h->vmas, i))->start
					: UINT64_MAX;

		*run = MIN(len, next - hva);
		return NULL;
	}
	/* Further VMAs continue the run while they continue the same
	 * backing without a gap (an mprotect or madvise splits one mmap
	 * into several). */
	for (r = v->end - hva; r < len; r = n->end - hva) {
		n = sv_host__vma_find(h, hva + r);
		if (!n || n->bk != v->bk ||
		    n->bk_off != v->bk_off + (n->start - v->start))
			break;
	}
	*run = MIN(r, len);
	return sv_host__vma_bytes(v, hva);
}

int sv_host_vma_info(sv_host_vma *out, const sv_host *h, uint64_t hva)
{
	const sv_vma *v;

	sv_err__clear();
	if (!out || !h)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_vma_info: NULL argument");
	v = sv_host__vma_find((sv_host *)h, hva);
	if (!v)
		return sv_err__set(NULL, SV_ENOMEM,
				   "hva 0x%" PRIx64 " is in no VMA", hva);
	out->start = v->start;
	out->end = v->end;
	out->prot = v->prot;
	out->backing = v->backing;
	out->page_size = v->backing == SV_BACKING_HUGETLB_2M   ? SV_PAGE_2M
			 : v->backing == SV_BACKING_HUGETLB_1G ? SV_PAGE_1G
							       : SV_PAGE_4K;
	return SV_OK;
}

/* ---- walking ranges --------------------------------------------------------- */

uint64_t sv_host__user_top(const sv_host *h)
{
	return h->opts.levels == 5 ? 1ULL << 56 : 1ULL << 47;
}

void sv_host__each_leaf(sv_host *h, uint64_t start, uint64_t end, bool breaking,
			    sv_range_leaf_fn fn, void *ctx)
{
	sv_pt_iter it;

	sv_pt__for_each(&it, &h->walker, h->root, start, end, 1)
	{
		uint64_t x = *it.ptr, at = MAX(it.addr, start);
		sv_vma *v;

		if (!sv_host__is_leaf(x, it.level) && !(it.level == 1 && x))
			continue;
		v = sv_host__vma_find(h, at);
		if (!v)
			continue;
		if (breaking && it.level > 1 &&
		    (it.addr < start || it.addr + sv_host__level_size(it.level) > end)) {
			sv_host__break_huge(h, v, at);
			continue; /* a split PMD is walked next */
		}
		{
			sv_range_leaf l = {v, it.ptr, it.level, it.addr};

			fn(h, &l, ctx);
		}
	}
}

bool sv_host__any_entry(sv_host *h, uint64_t start, uint64_t end)
{
	sv_pt_iter it;

	sv_pt__for_each(&it, &h->walker, h->root, start, end, 1)
		if (*it.ptr)
			return true;
	return false;
}

int sv_host__check_range(sv_host *h, const char *op, uint64_t hva, uint64_t len,
			     bool need_mapped)
{
	uint64_t a;

	if (!h)
		return sv_err__set(NULL, SV_EINVAL, "%s: NULL host", op);
	if (hva & 0xfff)
		return sv_err__set(NULL, SV_EINVAL, "%s: start 0x%" PRIx64
				   " is not page-aligned (EINVAL)", op, hva);
	if (hva + len < hva || hva + len > sv_host__user_top(h))
		return sv_err__set(NULL, SV_EINVAL, "%s: range 0x%" PRIx64
				   " + 0x%" PRIx64 " leaves the user address "
				   "space (EINVAL)", op, hva, len);
	if (need_mapped && !sv_host__range_mapped(h, hva, hva + len))
		return sv_err__set(NULL, SV_ENOMEM, "%s: [0x%" PRIx64 ", 0x%" PRIx64
				   ") is not entirely mapped (ENOMEM)", op, hva,
				   hva + len);
	for (a = hva; a < hva + len;) {
		sv_vma *v = sv_host__vma_find(h, a);
		uint64_t ps, e;

		if (!v) { /* skip the hole to the next VMA */
			guint i = sv_host__vma_index(h, a);

			if (i >= h->vmas->len)
				break;
			a = ((sv_vma *)g_ptr_array_index(h->vmas, i))->start;
			continue;
		}
		ps = sv_host__page_size(v);
		e = MIN(v->end, hva + len);
		if ((MAX(a, v->start) & (ps - 1)) || (e & (ps - 1)))
			return sv_err__set(NULL, SV_EINVAL,
					   "%s: [0x%" PRIx64 ", 0x%" PRIx64
					   ") is not aligned to the %" PRIu64
					   "K pages of its hugetlb VMA (EINVAL)",
					   op, hva, hva + len, ps >> 10);
		a = v->end;
	}
	return SV_OK;
}
