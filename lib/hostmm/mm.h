/*
 * lib/hostmm/mm.h - helpers shared by the host model's files.
 */
#ifndef SV_HOSTMM_MM_H
#define SV_HOSTMM_MM_H

#include "hostmm.h"

/* Notifier events: start/end pairs, counted at start. */
void sv_host__ev_start(sv_host *h, const sv_host_range *r);
void sv_host__ev_end(sv_host *h, const sv_host_range *r);
void sv_host__event(sv_host *h, sv_host_event ev, uint64_t start, uint64_t end);

/* Host page tables. */
uint64_t *sv_host__table(sv_host *h, uint64_t pa);
bool sv_host__is_leaf(uint64_t e, unsigned level);
/* The entry for hva at `level`, creating tables if asked; NULL when a
 * huge leaf above covers hva or no table could be made. */
uint64_t *sv_host__entry(sv_host *h, uint64_t hva, unsigned level, bool create);
/* The leaf (or swap entry) mapping hva and its level, or NULL. */
uint64_t *sv_host__leaf(sv_host *h, uint64_t hva, unsigned *level);

/* Page accounting: one leaf mapping the pages from pfn at level. */
uint64_t sv_host__head(sv_host *h, uint64_t pfn);
void sv_host__map_pages(sv_host *h, uint64_t pfn, unsigned level);
void sv_host__unmap_pages(sv_host *h, uint64_t pfn, unsigned level);
void sv_host__clear_leaf(sv_host *h, uint64_t *e, unsigned level);

/* VMAs. */
sv_vma *sv_host__vma_find(sv_host *h, uint64_t hva);
guint sv_host__vma_index(sv_host *h, uint64_t hva);
bool sv_host__range_mapped(sv_host *h, uint64_t start, uint64_t end);
bool sv_host__range_free(sv_host *h, uint64_t start, uint64_t end);
void sv_host__vma_split(sv_host *h, uint64_t at);
/* vma_merge: joins each VMA touching [start, end] with its neighbours
 * where they continue each other exactly (adjacent, same protection,
 * flags, backing and offsets), as mprotect and madvise leave them. */
void sv_host__vma_merge(sv_host *h, uint64_t start, uint64_t end);
uint8_t *sv_host__vma_bytes(const sv_vma *v, uint64_t hva);
void sv_host__backing_put(sv_host *h, sv_backing *bk);
void sv_host__discard_bytes(const sv_vma *v, uint64_t start, uint64_t end);

/* Faults (fault.c). */
bool sv_host__thp_allowed(const sv_host *h, const sv_vma *v);
int sv_host__fault_in(sv_host *h, uint64_t hva, bool write, unsigned *level_out);
/* Splits the THP PMD leaf covering hva into 512 PTEs (CLEAR over 2M);
 * false if no table page could be had. */
bool sv_host__split_pmd(sv_host *h, uint64_t hva);
/* Removes a huge leaf of any kind that only partly lies in a range: a
 * THP PMD is split, anything else cleared (refaulted later). */
void sv_host__break_huge(sv_host *h, const sv_vma *v, uint64_t hva);
/* The leaf size a VMA's backing uses (bytes). */
uint64_t sv_host__page_size(const sv_vma *v);

/* MADV_COLLAPSE and khugepaged (ops.c): collapses the PTE-mapped 2M range
 * at base (at most max_none of its PTEs empty) into a new THP; 1 if
 * collapsed, 0 if there was nothing to do, or an error. */
int sv_host__collapse_2m(sv_host *h, const sv_vma *v, uint64_t base,
			 unsigned max_none);

/* Walking ranges (mm.c). */
#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)

static inline uint64_t sv_host__level_size(unsigned level)
{
	return 1ULL << sv_pt__level_shift(level);
}

/* User address space: 47 bits with 4-level paging, 56 with 5-level. */
uint64_t sv_host__user_top(const sv_host *h);

/* One leaf (or swap entry) met by sv_host__each_leaf: its VMA, entry, level and
 * the first address it maps. */
typedef struct sv_range_leaf {
	sv_vma *v;
	uint64_t *e;
	unsigned level;
	uint64_t addr;
} sv_range_leaf;

typedef void (*sv_range_leaf_fn)(sv_host *h, const sv_range_leaf *l, void *ctx);

/* Calls fn on every leaf and swap entry in [start, end).  With `breaking`,
 * a huge leaf that sticks out of the range is broken first. */
void sv_host__each_leaf(sv_host *h, uint64_t start, uint64_t end, bool breaking,
			sv_range_leaf_fn fn, void *ctx);
/* Is any entry (leaf, table or swap entry) present in [start, end)? */
bool sv_host__any_entry(sv_host *h, uint64_t start, uint64_t end);
/* Checks [hva, hva + len) for op: 4K-aligned start, inside the user
 * address space, mapped if need_mapped, and for each hugetlb VMA met,
 * ends aligned to its page size. */
int sv_host__check_range(sv_host *h, const char *op, uint64_t hva, uint64_t len,
			 bool need_mapped);

#endif /* SV_HOSTMM_MM_H */
