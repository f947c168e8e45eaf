/*
 * lib/hostmm/mm.h - helpers shared by the host model's files.
 */
#ifndef SV_HOSTMM_MM_H
#define SV_HOSTMM_MM_H

#include "hostmm.h"

/* Notifier events: start/end pairs, counted at start. */
void hm_ev_start(sv_host *h, const sv_host_range *r);
void hm_ev_end(sv_host *h, const sv_host_range *r);
void hm_event(sv_host *h, sv_host_event ev, uint64_t start, uint64_t end);

/* Host page tables. */
uint64_t *hm_table(sv_host *h, uint64_t pa);
bool hm_is_leaf(uint64_t e, unsigned level);
/* The entry for hva at `level`, creating tables if asked; NULL when a
 * huge leaf above covers hva or no table could be made. */
uint64_t *hm_entry(sv_host *h, uint64_t hva, unsigned level, bool create);
/* The leaf (or swap entry) mapping hva and its level, or NULL. */
uint64_t *hm_leaf(sv_host *h, uint64_t hva, unsigned *level);

/* Page accounting: one leaf mapping the pages from pfn at level. */
uint64_t hm_head(sv_host *h, uint64_t pfn);
void hm_map_pages(sv_host *h, uint64_t pfn, unsigned level);
void hm_unmap_pages(sv_host *h, uint64_t pfn, unsigned level);
void hm_clear_leaf(sv_host *h, uint64_t *e, unsigned level);

/* VMAs. */
sv_vma *hm_vma_find(sv_host *h, uint64_t hva);
guint hm_vma_index(sv_host *h, uint64_t hva);
bool hm_range_mapped(sv_host *h, uint64_t start, uint64_t end);
bool hm_range_free(sv_host *h, uint64_t start, uint64_t end);
void hm_vma_split(sv_host *h, uint64_t at);
uint8_t *hm_bytes(const sv_vma *v, uint64_t hva);
void hm_backing_put(sv_host *h, sv_backing *bk);
void hm_discard_bytes(const sv_vma *v, uint64_t start, uint64_t end);

/* Faults (fault.c). */
bool hm_thp_allowed(const sv_host *h, const sv_vma *v);
int hm_fault(sv_host *h, uint64_t hva, bool write, unsigned *level_out);
/* Splits the THP PMD leaf covering hva into 512 PTEs (CLEAR over 2M);
 * false if no table page could be had. */
bool hm_split_pmd(sv_host *h, uint64_t hva);
/* Removes a huge leaf of any kind that only partly lies in a range: a
 * THP PMD is split, anything else cleared (refaulted later). */
void hm_break_huge(sv_host *h, const sv_vma *v, uint64_t hva);
/* The leaf size a VMA's backing uses (bytes). */
uint64_t hm_page_size(const sv_vma *v);

/* MADV_COLLAPSE and khugepaged (ops.c): collapses the PTE-mapped 2M range
 * at base (at most max_none of its PTEs empty) into a new THP; 1 if
 * collapsed, 0 if there was nothing to do, or an error. */
int hm_collapse_2m(sv_host *h, const sv_vma *v, uint64_t base,
		   unsigned max_none);

/* Walking ranges (mm.c). */
#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)

static inline uint64_t hm_level_size(unsigned level)
{
	return 1ULL << sv__level_shift(level);
}

/* User address space: 47 bits with 4-level paging, 56 with 5-level. */
uint64_t hm_user_top(const sv_host *h);

/* One leaf (or swap entry) met by hm_each_leaf: its VMA, entry, level and
 * the first address it maps. */
typedef struct hm_rleaf {
	sv_vma *v;
	uint64_t *e;
	unsigned level;
	uint64_t addr;
} hm_rleaf;

typedef void (*hm_leaf_fn)(sv_host *h, const hm_rleaf *l, void *ctx);

/* Calls fn on every leaf and swap entry in [start, end).  With `breaking`,
 * a huge leaf that sticks out of the range is broken first. */
void hm_each_leaf(sv_host *h, uint64_t start, uint64_t end, bool breaking,
		  hm_leaf_fn fn, void *ctx);
/* Is any entry (leaf, table or swap entry) present in [start, end)? */
bool hm_any_entry(sv_host *h, uint64_t start, uint64_t end);
/* Checks [hva, hva + len) for op: 4K-aligned start, inside the user
 * address space, mapped if need_mapped, and for each hugetlb VMA met,
 * ends aligned to its page size. */
int hm_check_range(sv_host *h, const char *op, uint64_t hva, uint64_t len,
		   bool need_mapped);

#endif /* SV_HOSTMM_MM_H */
