/*
 * lib/hostmm/fault.c - handle_mm_fault for every backing, write-protect
 * faults (COW, zero page, KSM, soft-dirty), PMD splits, and the process's
 * loads and stores.
 *
 * How a fault goes:
 *  1. No VMA, or one whose protection forbids the access: SV_EFAULT (the
 *     process would get SIGSEGV).
 *  2. A present leaf that allows the access: only A (and D) are set.
 *  3. A present leaf that is read-only under a writable VMA: a zero page, a
 *     KSM page or a page mapped twice (after fork) is copied to a new frame
 *     (CLEAR over the page); otherwise the page is reused and made
 *     writable.  A THP PMD is split first when its page must be copied.
 *  4. A swap entry is swapped in to a new 4K frame.
 *  5. An empty entry is filled by the backing's rule (see mm.c, step 4).
 */
#include "host.h"
#include "mm.h"

static inline uint64_t level_size(unsigned level)
{
	return 1ULL << sv_pt__level_shift(level);
}

bool sv_host__thp_allowed(const sv_host *h, const sv_vma *v)
{
	if (v->backing != SV_BACKING_ANON || (v->flags & VMF_NOHUGEPAGE))
		return false;
	return h->opts.thp == SV_THP_ALWAYS ||
	       (h->opts.thp == SV_THP_MADVISE && (v->flags & VMF_HUGEPAGE));
}

uint64_t sv_host__page_size(const sv_vma *v)
{
	return v->backing == SV_BACKING_HUGETLB_2M   ? 2ULL << 20
	       : v->backing == SV_BACKING_HUGETLB_1G ? 1ULL << 30
						     : 4096;
}

bool sv_host__split_pmd(sv_host *h, uint64_t hva)
{
	uint64_t base = hva & ~((2ULL << 20) - 1), *pmd, *pte, pa, e, pfn, i;
	sv_host_range r = {SV_HOST_EVENT_CLEAR, base, base + (2ULL << 20)};
	bool zero;

	pmd = sv_host__entry(h, hva, 2, false);
	if (!pmd || !sv_host__is_leaf(*pmd, 2))
		return true;
	pa = sv_frames__alloc(&h->pt);
	if (!pa)
		return false;
	h->stat[SV_HOST_STAT_pt_pages]++;
	sv_host__ev_start(h, &r);
	e = *pmd;
	pfn = (e & HPTE_ADDR) >> 12;
	zero = pfn == h->huge_zero_pfn;
	pte = sv_host__table(h, pa);
	for (i = 0; i < 512; i++) {
		/* a huge zero PMD becomes 512 PTEs of the 4K zero page */
		pte[i] = ((zero ? h->zero_pfn : pfn + i) << 12) |
			 (e & ~(HPTE_ADDR | HPTE_PS));
		sv_host__map_pages(h, zero ? h->zero_pfn : pfn + i, 1);
	}
	sv_host__unmap_pages(h, pfn, 2);
	*pmd = pa | HPTE_TABLE;
	h->stat[SV_HOST_STAT_thp_split_pmd]++;
	sv_host__ev_end(h, &r);
	return true;
}

void sv_host__break_huge(sv_host *h, const sv_vma *v, uint64_t hva)
{
	unsigned level;
	uint64_t *e = sv_host__leaf(h, hva, &level), base;
	sv_host_range r = {SV_HOST_EVENT_CLEAR, 0, 0};

	if (!e || level == 1)
		return;
	if (level == 2 && v->backing == SV_BACKING_ANON) {
		sv_host__split_pmd(h, hva);
		return;
	}
	/* a file, DAX or PFNMAP huge leaf is dropped whole and refaulted */
	base = hva & ~(level_size(level) - 1);
	r.start = base;
	r.end = base + level_size(level);
	sv_host__ev_start(h, &r);
	sv_host__clear_leaf(h, e, level);
	sv_host__ev_end(h, &r);
}

/* The next device or driver pfn for hva inside v. */
static uint64_t bk_index(const sv_vma *v, uint64_t hva)
{
	return (v->bk_off + (hva - v->start)) >> 12;
}

/* The largest level at which hva in v can be mapped by a device leaf. */
static unsigned device_level(const sv_host *h, const sv_vma *v, uint64_t hva,
			     uint64_t pfn)
{
	unsigned l;

	if (v->backing == SV_BACKING_PFNMAP &&
	    !SV_GATE(HUGE_PFNMAP, h->opts.kernel_version))
		return 1;
	for (l = 3; l >= 2; l--) {
		uint64_t sz = level_size(l), base = hva & ~(sz - 1);

		if (v->align >= sz && base >= v->start && base + sz <= v->end &&
		    ((pfn ^ (hva >> 12)) & ((sz >> 12) - 1)) == 0)
			return l;
	}
	return 1;
}

/* Installs a new leaf for the pages from pfn and counts the mapping. */
static int install(sv_host *h, uint64_t hva, unsigned level, uint64_t pfn,
		   uint64_t bits, unsigned *level_out)
{
	uint64_t *e = sv_host__entry(h, hva, level, true);
	uint64_t mask = level_size(level) / 4096 - 1;

	if (!e)
		return sv_err__set(NULL, SV_ENOMEM, "host fault at 0x%" PRIx64
						    ": no page-table page", hva);
	pfn &= ~mask;
	*e = (pfn << 12) | bits | HPTE_P | HPTE_US | HPTE_A |
	     (level > 1 ? HPTE_PS : 0);
	sv_host__map_pages(h, pfn, level);
	*level_out = level;
	return SV_OK;
}

static int fault_anon(sv_host *h, const sv_vma *v, uint64_t hva, bool write,
		      unsigned *level)
{
	uint64_t base = hva & ~((2ULL << 20) - 1), pfn;
	uint64_t wbits = HPTE_RW | HPTE_D | HPTE_SOFT_DIRTY;

	if (sv_host__thp_allowed(h, v) && base >= v->start &&
	    base + (2ULL << 20) <= v->end) {
		uint64_t *pmd = sv_host__entry(h, hva, 2, true);

		if (pmd && !*pmd) {
			if (!write && h->opts.thp_zero_page) {
				h->stat[SV_HOST_STAT_zero_page_maps]++;
				return install(h, hva, 2, h->huge_zero_pfn,
					       HPTE_SPECIAL, level);
			}
			pfn = sv_phys__alloc(&h->phys, 9, SV_PAGE_THP);
			if (pfn != UINT64_MAX) {
				h->stat[SV_HOST_STAT_thp_fault_alloc]++;
				h->stat[SV_HOST_STAT_pages_filled] += 512;
				return install(h, hva, 2, pfn,
					       (v->prot & SV_PROT_WRITE)
						       ? wbits
						       : HPTE_D | HPTE_SOFT_DIRTY,
					       level);
			}
			h->stat[SV_HOST_STAT_thp_fault_fallback]++;
		}
	}
	if (!write) {
		h->stat[SV_HOST_STAT_zero_page_maps]++;
		return install(h, hva, 1, h->zero_pfn, HPTE_SPECIAL, level);
	}
	pfn = sv_phys__alloc(&h->phys, 0, SV_PAGE_ANON);
	if (pfn == UINT64_MAX)
		return sv_err__set(NULL, SV_ENOMEM, "host fault at 0x%" PRIx64
						    ": out of memory (OOM)", hva);
	h->stat[SV_HOST_STAT_pages_filled]++;
	return install(h, hva, 1, pfn, wbits, level);
}

static int fault_none(sv_host *h, sv_vma *v, uint64_t hva, bool write,
		      unsigned *level)
{
	uint64_t wbits = write ? HPTE_RW | HPTE_D | HPTE_SOFT_DIRTY : 0;
	uint64_t pfn, *slot;
	GArray *pool;

	switch (v->backing) {
	case SV_BACKING_ANON:
		return fault_anon(h, v, hva, write, level);
	case SV_BACKING_HUGETLB_2M:
	case SV_BACKING_HUGETLB_1G:
		pool = v->backing == SV_BACKING_HUGETLB_2M ? h->pool_2m
							   : h->pool_1g;
		if (!pool->len)
			return sv_err__set(NULL, SV_ESIGBUS,
					   "host fault at 0x%" PRIx64 ": the hugetlb "
					   "%s pool is exhausted (SIGBUS)", hva,
					   pool == h->pool_2m ? "2M" : "1G");
		pfn = g_array_index(pool, uint64_t, pool->len - 1);
		g_array_set_size(pool, pool->len - 1);
		sv_phys__claim(&h->phys, pfn);
		sv_phys__page(&h->phys, pfn)->flags &= (uint16_t)~HP_POOL;
		h->stat[SV_HOST_STAT_pages_filled] +=
			pool == h->pool_2m ? 512 : 512 * 512;
		/* hugetlb memory is shared: writable when the VMA is */
		return install(h, hva, pool == h->pool_2m ? 2 : 3, pfn,
			       ((v->prot & SV_PROT_WRITE) ? HPTE_RW : 0) |
				       (write ? HPTE_D | HPTE_SOFT_DIRTY : 0),
			       level);
	case SV_BACKING_DAX:
	case SV_BACKING_PFNMAP:
		pfn = v->bk->dev_pfn + bk_index(v, hva);
		return install(h, hva, device_level(h, v, hva, pfn), pfn,
			       (v->backing == SV_BACKING_PFNMAP
					? HPTE_SPECIAL |
						  ((v->prot & SV_PROT_WRITE)
							   ? HPTE_RW
							   : 0)
					: 0) |
				       wbits,
			       level);
	case SV_BACKING_FILE:
		slot = &v->bk->pages[bk_index(v, hva)];
		if (!*slot) {
			pfn = sv_phys__alloc(&h->phys, 0, SV_PAGE_FILE);
			if (pfn == UINT64_MAX)
				return sv_err__set(NULL, SV_ENOMEM,
						   "host fault at 0x%" PRIx64
						   ": out of memory (OOM)", hva);
			sv_phys__page(&h->phys, pfn)->ref = 1; /* page cache */
			h->stat[SV_HOST_STAT_pages_filled]++;
			*slot = pfn + 1;
		}
		return install(h, hva, 1, *slot - 1, wbits, level);
	case SV_BACKING_DRIVER:
		slot = &v->bk->pages[bk_index(v, hva) >> 9];
		if (!*slot) {
			pfn = sv_phys__alloc(&h->phys, 9, SV_PAGE_DRIVER);
			if (pfn == UINT64_MAX)
				return sv_err__set(NULL, SV_ENOMEM,
						   "host fault at 0x%" PRIx64
						   ": the driver found no 2M page",
						   hva);
			sv_phys__page(&h->phys, pfn)->ref = 1; /* the driver's */
			*slot = pfn + 1;
		}
		return install(h, hva, 1, *slot - 1 + (bk_index(v, hva) & 511),
			       ((v->prot & SV_PROT_WRITE) ? HPTE_RW : 0) |
				       wbits,
			       level);
	}
	return sv_err__set(NULL, SV_EBUG, "host fault: unknown backing %d",
			   (int)v->backing);
}

/* Copies the 4K page under a read-only PTE to a new frame (wp_page_copy). */
static int cow_4k(sv_host *h, uint64_t hva, uint64_t *e)
{
	uint64_t page = hva & ~0xfffULL, pfn;
	sv_host_range r = {SV_HOST_EVENT_CLEAR, page, page + 4096};

	pfn = sv_phys__alloc(&h->phys, 0, SV_PAGE_ANON);
	if (pfn == UINT64_MAX)
		return sv_err__set(NULL, SV_ENOMEM, "host COW at 0x%" PRIx64
						    ": out of memory (OOM)", hva);
	sv_host__ev_start(h, &r);
	sv_host__clear_leaf(h, e, 1);
	*e = (pfn << 12) | HPTE_P | HPTE_RW | HPTE_US | HPTE_A | HPTE_D |
	     HPTE_SOFT_DIRTY;
	sv_host__map_pages(h, pfn, 1);
	h->stat[SV_HOST_STAT_cow]++;
	h->stat[SV_HOST_STAT_pages_filled]++;
	sv_host__ev_end(h, &r);
	return SV_OK;
}

/* A write to a present, read-only leaf under a writable VMA. */
static int wp_fault(sv_host *h, const sv_vma *v, uint64_t hva, uint64_t *e,
		    unsigned level)
{
	uint64_t pfn = ((*e & HPTE_ADDR) >> 12) +
		       ((hva & (level_size(level) - 1)) >> 12);
	sv_hpage *pg = sv_phys__page(&h->phys, pfn);
	bool shared = pg && (pg->map > 1 || pg->kind == SV_PAGE_ZERO ||
			     pg->kind == SV_PAGE_KSM);
	unsigned l;

	if (shared && v->backing == SV_BACKING_ANON) {
		if (level == 2) {
			if (!sv_host__split_pmd(h, hva))
				return sv_err__set(NULL, SV_ENOMEM,
						   "host fault at 0x%" PRIx64
						   ": no page-table page", hva);
			e = sv_host__leaf(h, hva, &l);
		}
		return cow_4k(h, hva, e);
	}
	/* reuse: the page is ours alone (or shared memory) */
	*e |= HPTE_RW | HPTE_A | HPTE_D | HPTE_SOFT_DIRTY;
	if (pg)
		pg->flags &= (uint16_t)~HP_LAZYFREE;
	return SV_OK;
}

int sv_host__fault_in(sv_host *h, uint64_t hva, bool write, unsigned *level)
{
	sv_vma *v = sv_host__vma_find(h, hva);
	unsigned l;
	uint64_t *e;
	int rc;

	if (!v)
		return sv_err__set(NULL, SV_EFAULT, "host fault at 0x%" PRIx64
						    ": no VMA (SIGSEGV)", hva);
	if (!(v->prot & (write ? SV_PROT_WRITE : SV_PROT_READ)))
		return sv_err__set(NULL, SV_EFAULT,
				   "host %s fault at 0x%" PRIx64 ": the VMA is not "
				   "%s (SIGSEGV)", write ? "write" : "read", hva,
				   write ? "writable" : "readable");
	e = sv_host__leaf(h, hva, &l);
	if (e && (*e & HPTE_P) && (!write || (*e & HPTE_RW))) {
		*e |= HPTE_A | (write ? HPTE_D | HPTE_SOFT_DIRTY : 0);
		*level = l;
		return SV_OK;
	}
	if (h->opts.resident_limit && h->phys.inuse << 12 >= h->opts.resident_limit)
		return sv_err__set(NULL, SV_ENOMEM,
				   "host fault at 0x%" PRIx64 ": %" PRIu64 " MiB "
				   "of host RAM in use reach sv_host_options."
				   "resident_limit (%" PRIu64 " MiB): the run "
				   "stops before the simulator holds more guest "
				   "bytes", hva, h->phys.inuse >> 8,
				   h->opts.resident_limit >> 20);
	h->stat[SV_HOST_STAT_faults]++;
	if (e && (*e & HPTE_P)) {
		rc = wp_fault(h, v, hva, e, l);
		if (!rc)
			sv_host__leaf(h, hva, level);
		return rc;
	}
	if (e && (*e & HPTE_SWAP)) {
		uint64_t pfn = sv_phys__alloc(&h->phys, 0, SV_PAGE_ANON);

		if (pfn == UINT64_MAX)
			return sv_err__set(NULL, SV_ENOMEM, "host swap-in at 0x%" PRIx64
							    ": out of memory (OOM)", hva);
		*e = 0;
		h->stat[SV_HOST_STAT_swap_in]++;
		h->stat[SV_HOST_STAT_pages_filled]++;
		return install(h, hva, 1, pfn,
			       (v->prot & SV_PROT_WRITE)
				       ? HPTE_RW | (write ? HPTE_D | HPTE_SOFT_DIRTY
							  : 0)
				       : 0,
			       level);
	}
	return fault_none(h, v, hva, write, level);
}

int sv_host_fault(sv_host_leaf *out, sv_host *h, uint64_t hva, bool write)
{
	unsigned level;
	int rc;

	sv_err__clear();
	if (!h)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_fault: NULL host");
	rc = sv_host__fault_in(h, hva, write, &level);
	if (rc)
		return rc;
	return out ? sv_host_lookup(out, h, hva) : SV_OK;
}

/* Copies between buf and [hva, hva + len), faulting each page in. */
static int access_bytes(sv_host *h, uint64_t hva, uint8_t *buf, size_t len,
			bool write)
{
	while (len) {
		size_t n = (size_t)MIN((uint64_t)len, 4096 - (hva & 0xfff));
		unsigned level;
		sv_vma *v;
		int rc = sv_host__fault_in(h, hva, write, &level);

		if (rc)
			return rc;
		v = sv_host__vma_find(h, hva);
		if (write)
			memcpy(sv_host__vma_bytes(v, hva), buf, n);
		else
			memcpy(buf, sv_host__vma_bytes(v, hva), n);
		hva += n;
		buf += n;
		len -= n;
	}
	return SV_OK;
}

int sv_host_read(sv_host *h, uint64_t hva, void *buf, size_t len)
{
	sv_err__clear();
	if (!h || (!buf && len))
		return sv_err__set(NULL, SV_EINVAL, "sv_host_read: NULL argument");
	return access_bytes(h, hva, buf, len, false);
}

int sv_host_write(sv_host *h, uint64_t hva, const void *buf, size_t len)
{
	sv_err__clear();
	if (!h || (!buf && len))
		return sv_err__set(NULL, SV_EINVAL, "sv_host_write: NULL argument");
	return access_bytes(h, hva, (uint8_t *)(uintptr_t)buf, len, true);
}

bool sv_host__over_limit(const sv_host *h)
{
	return h->opts.resident_limit &&
	       h->phys.inuse << 12 >= h->opts.resident_limit;
}
