/*
 * lib/hostmm/phys.c - host RAM: a frame allocator for 4K, 2M and 1G
 * frames and the per-frame metadata (struct page).
 *
 * How it works:
 *  1. RAM is cut into 2M blocks.  A block is FREE, PARTIAL (4K pages are
 *     handed out from it; a 512-bit map says which), WHOLE (one 2M frame)
 *     or GIANT (part of a 1G frame).  Each 1G region counts its FREE blocks.
 *  2. A 4K allocation takes the lowest free page of the lowest PARTIAL
 *     block that has one, else turns the lowest FREE block PARTIAL; a 2M
 *     allocation takes the lowest FREE block; a 1G allocation the lowest
 *     region whose 512 blocks are all FREE.  "Lowest" keeps runs
 *     deterministic; two bitmaps over the blocks make the search a scan of
 *     words.
 *  3. Fragmentation: a seeded fraction of blocks get one pinned RESERVED
 *     page at creation, so they can never serve a 2M or 1G frame - the way
 *     unmovable kernel allocations make THP allocation fail on a long-running
 *     host.
 *  4. struct page is 12 bytes per 4K frame, allocated per 2M block on first
 *     use, so untouched RAM costs nothing.
 */
#include "hostmm.h"

#define BLK_PAGES 512

static inline void bit_set(uint64_t *bm, uint64_t i)
{
	bm[i >> 6] |= 1ULL << (i & 63);
}

static inline void bit_clear(uint64_t *bm, uint64_t i)
{
	bm[i >> 6] &= ~(1ULL << (i & 63));
}

/* The lowest set bit of an nbits bitmap, or UINT64_MAX. */
static uint64_t bit_first(const uint64_t *bm, uint64_t nbits)
{
	uint64_t w;

	for (w = 0; w < (nbits + 63) / 64; w++)
		if (bm[w])
			return w * 64 + (uint64_t)__builtin_ctzll(bm[w]);
	return UINT64_MAX;
}

int sv_phys__init(sv_phys *p, uint64_t mem_size, uint64_t *stat)
{
	uint64_t words, b;

	memset(p, 0, sizeof(*p));
	p->nblocks = mem_size >> 21;
	words = (p->nblocks + 63) / 64;
	p->stat = stat;
	p->bstate = g_try_new0(uint8_t, p->nblocks);
	p->nfree = g_try_new0(uint16_t, p->nblocks);
	p->bits = g_try_malloc0(p->nblocks * sizeof(*p->bits));
	p->gfree = g_try_new0(uint16_t, p->nblocks / BLK_PAGES + 1);
	p->has_free = g_try_new0(uint64_t, words);
	p->is_free = g_try_new0(uint64_t, words);
	p->memmap = g_try_new0(sv_hpage *, p->nblocks);
	if (!p->bstate || !p->nfree || !p->bits || !p->gfree || !p->has_free ||
	    !p->is_free || !p->memmap) {
		sv_phys__fini(p);
		return SV_ENOMEM;
	}
	for (b = 0; b < p->nblocks; b++) {
		bit_set(p->is_free, b);
		p->gfree[b / BLK_PAGES]++;
	}
	return SV_OK;
}

void sv_phys__fini(sv_phys *p)
{
	uint64_t b;

	if (p->memmap)
		for (b = 0; b < p->nblocks; b++)
			g_free(p->memmap[b]);
	g_free(p->memmap);
	g_free(p->bstate);
	g_free(p->nfree);
	g_free(p->bits);
	g_free(p->gfree);
	g_free(p->has_free);
	g_free(p->is_free);
	memset(p, 0, sizeof(*p));
}

sv_hpage *sv_phys__page(sv_phys *p, uint64_t pfn)
{
	uint64_t b = pfn / BLK_PAGES;

	if (b >= p->nblocks)
		return NULL;
	if (!p->memmap[b]) {
		p->memmap[b] = g_new0(sv_hpage, BLK_PAGES);
		p->memmap_blocks++;
	}
	return &p->memmap[b][pfn % BLK_PAGES];
}

/* Block b leaves the FREE state. */
static void block_take(sv_phys *p, uint64_t b, uint8_t state)
{
	bit_clear(p->is_free, b);
	p->gfree[b / BLK_PAGES]--;
	p->bstate[b] = state;
}

static void block_release(sv_phys *p, uint64_t b)
{
	p->bstate[b] = BLK_FREE;
	bit_set(p->is_free, b);
	bit_clear(p->has_free, b);
	p->gfree[b / BLK_PAGES]++;
}

static void set_meta(sv_phys *p, uint64_t pfn, unsigned order,
		     sv_page_kind kind)
{
	uint64_t i, n = 1ULL << order;

	for (i = 0; i < n; i++) {
		sv_hpage *pg = sv_phys__page(p, pfn + i);

		memset(pg, 0, sizeof(*pg));
		pg->kind = (uint8_t)kind;
		pg->order = (uint8_t)order;
	}
}

static uint64_t alloc_4k(sv_phys *p)
{
	uint64_t b = bit_first(p->has_free, p->nblocks), i, w;

	if (b == UINT64_MAX) {
		b = bit_first(p->is_free, p->nblocks);
		if (b == UINT64_MAX)
			return UINT64_MAX;
		block_take(p, b, BLK_PARTIAL);
		memset(p->bits[b], 0, sizeof(p->bits[b]));
		p->nfree[b] = BLK_PAGES;
		bit_set(p->has_free, b);
	}
	for (w = 0; w < 8; w++)
		if (~p->bits[b][w])
			break;
	i = w * 64 + (uint64_t)__builtin_ctzll(~p->bits[b][w]);
	p->bits[b][w] |= 1ULL << (i & 63);
	if (--p->nfree[b] == 0)
		bit_clear(p->has_free, b);
	return b * BLK_PAGES + i;
}

static uint64_t alloc_1g(sv_phys *p)
{
	uint64_t r, b, regions = p->nblocks / BLK_PAGES;

	for (r = 0; r < regions; r++)
		if (p->gfree[r] == BLK_PAGES)
			break;
	if (r == regions)
		return UINT64_MAX;
	for (b = r * BLK_PAGES; b < (r + 1) * BLK_PAGES; b++)
		block_take(p, b, BLK_GIANT);
	return r * BLK_PAGES * BLK_PAGES;
}

/* Takes 2^order frames without writing their metadata. */
static uint64_t take(sv_phys *p, unsigned order)
{
	uint64_t pfn;

	if (order == 0) {
		pfn = alloc_4k(p);
	} else if (order == 9) {
		uint64_t b = bit_first(p->is_free, p->nblocks);

		if (b == UINT64_MAX)
			return UINT64_MAX;
		block_take(p, b, BLK_WHOLE);
		pfn = b * BLK_PAGES;
	} else {
		pfn = alloc_1g(p);
	}
	if (pfn == UINT64_MAX)
		return pfn;
	p->stat[order == 0 ? SV_HOST_STAT_frames_alloc_4k
		: order == 9 ? SV_HOST_STAT_frames_alloc_2m
			     : SV_HOST_STAT_frames_alloc_1g]++;
	return pfn;
}

uint64_t sv_phys__alloc(sv_phys *p, unsigned order, sv_page_kind kind)
{
	uint64_t pfn = take(p, order);

	if (pfn != UINT64_MAX) {
		set_meta(p, pfn, order, kind);
		p->inuse += 1ULL << order;
	}
	return pfn;
}

uint64_t sv_phys__reserve(sv_phys *p, unsigned order, sv_page_kind kind)
{
	uint64_t pfn = take(p, order);
	sv_hpage *head;

	if (pfn == UINT64_MAX)
		return pfn;
	head = sv_phys__page(p, pfn);
	memset(head, 0, sizeof(*head));
	head->kind = (uint8_t)kind;
	head->order = (uint8_t)order;
	head->flags = HP_FRESH;
	return pfn;
}

void sv_phys__claim(sv_phys *p, uint64_t pfn)
{
	sv_hpage *head = sv_phys__page(p, pfn);
	uint16_t flags = head->flags & (uint16_t)~HP_FRESH;

	if (!(head->flags & HP_FRESH))
		return;
	set_meta(p, pfn, head->order, (sv_page_kind)head->kind);
	head->flags = flags;
	p->inuse += 1ULL << head->order;
}

uint64_t sv_phys__reserved_head(const sv_phys *p, uint64_t pfn)
{
	uint64_t b = pfn / BLK_PAGES, head;
	const sv_hpage *h;

	if (b >= p->nblocks || (p->bstate[b] != BLK_WHOLE && p->bstate[b] != BLK_GIANT))
		return UINT64_MAX;
	head = p->bstate[b] == BLK_GIANT ? pfn & ~((1ULL << 18) - 1)
					 : pfn & ~(uint64_t)(BLK_PAGES - 1);
	h = sv_phys__peek(p, head);
	return head != pfn && h && (h->flags & HP_FRESH) ? head : UINT64_MAX;
}

void sv_phys__split(sv_phys *p, uint64_t pfn)
{
	uint64_t b = pfn / BLK_PAGES;

	p->bstate[b] = BLK_PARTIAL;
	memset(p->bits[b], 0xff, sizeof(p->bits[b]));
	p->nfree[b] = 0;
}

void sv_phys__free(sv_phys *p, uint64_t pfn, unsigned order)
{
	uint64_t b = pfn / BLK_PAGES, i;

	set_meta(p, pfn, order, SV_PAGE_FREE);
	p->inuse -= 1ULL << order;
	if (order == 0) {
		i = pfn % BLK_PAGES;
		p->bits[b][i / 64] &= ~(1ULL << (i % 64));
		p->nfree[b]++;
		bit_set(p->has_free, b);
		if (p->nfree[b] == BLK_PAGES)
			block_release(p, b);
		p->stat[SV_HOST_STAT_frames_free_4k]++;
	} else if (order == 9) {
		block_release(p, b);
		p->stat[SV_HOST_STAT_frames_free_2m]++;
	} else {
		for (i = 0; i < BLK_PAGES; i++)
			block_release(p, b + i);
		p->stat[SV_HOST_STAT_frames_free_1g]++;
	}
}

void sv_phys__fragment(sv_phys *p, unsigned percent, uint64_t seed)
{
	uint64_t b, rng = seed;

	for (b = 0; b < p->nblocks && percent; b++) {
		uint64_t i;

		if (sv_rng__next(&rng) % 100 >= percent)
			continue;
		i = sv_rng__next(&rng) % BLK_PAGES;
		block_take(p, b, BLK_PARTIAL);
		memset(p->bits[b], 0, sizeof(p->bits[b]));
		p->bits[b][i / 64] |= 1ULL << (i % 64);
		p->nfree[b] = BLK_PAGES - 1;
		bit_set(p->has_free, b);
		set_meta(p, b * BLK_PAGES + i, 0, SV_PAGE_RESERVED);
		sv_phys__page(p, b * BLK_PAGES + i)->ref = 1;
	}
}
