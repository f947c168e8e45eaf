/*
 * lib/hostmm/hostmm.h - the simulated host kernel's structures, shared by
 * lib/hostmm (its .c files) only.
 */
#ifndef SV_HOSTMM_INTERNAL_H
#define SV_HOSTMM_INTERNAL_H

#include "frames.h"
#include "gates.h"
#include "hostmm/host.h"
#include "pt.h"

/* ---- host PTE bits (arch/x86/include/asm/pgtable_types.h) -------------- */

#define HPTE_P (1ULL << 0)
#define HPTE_RW (1ULL << 1)
#define HPTE_US (1ULL << 2)
#define HPTE_A (1ULL << 5)
#define HPTE_D (1ULL << 6)
#define HPTE_PS (1ULL << 7)
#define HPTE_SPECIAL (1ULL << 9)     /* _PAGE_SPECIAL (SOFTW1) */
#define HPTE_SWAP (1ULL << 10)       /* model: a swap entry when P = 0 */
#define HPTE_SOFT_DIRTY (1ULL << 11) /* _PAGE_SOFT_DIRTY (SOFTW3) */
#define HPTE_PROTNONE (1ULL << 8)    /* _PAGE_PROTNONE: P = 0, mapped */
#define HPTE_ADDR SV_PTE_ADDR_MASK
#define HPTE_TABLE (HPTE_P | HPTE_RW | HPTE_US | HPTE_A | HPTE_D)

/* ---- physical memory (lib/hostmm/phys.c) ------------------------------- */

#define HP_LAZYFREE (1u << 0) /* MADV_FREE: drop at reclaim if clean */
#define HP_POOL (1u << 1)     /* hugetlb page sitting in the free pool */
#define HP_FRESH (1u << 2)    /* head of a pool page never used: only the
				 head has metadata (sv_phys__reserve) */

/* struct page, 12 bytes: what this model and the legacy policy read. */
typedef struct sv_hpage {
	uint32_t ref;   /* head: mappings + pins of the whole compound */
	uint32_t map;   /* mappings covering this 4K page */
	uint8_t kind;   /* sv_page_kind */
	uint8_t order;  /* compound order, the same in every sub-page */
	uint16_t flags; /* HP_* */
} sv_hpage;

enum { BLK_FREE, BLK_PARTIAL, BLK_WHOLE, BLK_GIANT };

typedef struct sv_phys {
	uint64_t nblocks;   /* 2M blocks of RAM */
	uint8_t *bstate;    /* BLK_* per block */
	uint16_t *nfree;    /* BLK_PARTIAL: free 4K pages */
	uint64_t (*bits)[8]; /* BLK_PARTIAL: allocated 4K pages */
	uint16_t *gfree;    /* per 1G region: BLK_FREE blocks */
	uint64_t *has_free; /* bitmap over blocks: partial with free pages */
	uint64_t *is_free;  /* bitmap over blocks: BLK_FREE */
	sv_hpage **memmap;  /* per block, allocated on first use */
	uint64_t memmap_blocks;
	uint64_t inuse;     /* 4K frames allocated (reserved ones once claimed) */
	uint64_t *stat;     /* the host's counters */
} sv_phys;

int sv_phys__init(sv_phys *p, uint64_t mem_size, uint64_t *stat);
void sv_phys__fini(sv_phys *p);
/* Allocates 2^order frames (order 0, 9 or 18), the lowest that fit;
 * returns the first pfn or UINT64_MAX.  Metadata is zeroed, kind set. */
uint64_t sv_phys__alloc(sv_phys *p, unsigned order, sv_page_kind kind);
/* The same, but only the head's metadata is written (flags HP_FRESH):
 * a reserved pool costs nothing until sv_phys__claim() at first use.
 * Until then, sv_phys__kind() still tells what its pages are. */
uint64_t sv_phys__reserve(sv_phys *p, unsigned order, sv_page_kind kind);
/* The rest of a reserved frame's metadata, written (once) before use. */
void sv_phys__claim(sv_phys *p, uint64_t pfn);
/* Turns the 2M frame at pfn into 512 order-0 frames, all allocated. */
void sv_phys__split(sv_phys *p, uint64_t pfn);
void sv_phys__free(sv_phys *p, uint64_t pfn, unsigned order);
/* Pins one random 4K page in frag_percent% of the blocks (seeded). */
void sv_phys__fragment(sv_phys *p, unsigned percent, uint64_t seed);
/* The metadata of a RAM pfn (NULL beyond RAM), made on first use. */
sv_hpage *sv_phys__page(sv_phys *p, uint64_t pfn);
/* The same without making it: NULL also for a never-used block, whose
 * pages are all free. */
static inline const sv_hpage *sv_phys__peek(const sv_phys *p, uint64_t pfn)
{
	uint64_t b = pfn / 512;

	return b < p->nblocks && p->memmap[b] ? &p->memmap[b][pfn % 512] : NULL;
}
/* A page of a reserved frame not yet claimed: its head's pfn, else
 * UINT64_MAX (its own metadata, if any, says what it is). */
uint64_t sv_phys__reserved_head(const sv_phys *p, uint64_t pfn);
static inline uint64_t sv_phys__pages(const sv_phys *p)
{
	return p->nblocks << 9;
}

/* ---- the process ------------------------------------------------------- */

/* The bytes and pages behind one mmap, shared by the VMAs split from it. */
typedef struct sv_backing {
	sv_host_backing kind;
	uint8_t *mem;       /* size bytes, MAP_NORESERVE */
	uint64_t size;
	unsigned refs;      /* VMAs using it */
	uint64_t dev_pfn;   /* DAX / PFNMAP: first device pfn */
	uint64_t *pages;    /* FILE: pfn + 1 per 4K page; DRIVER: per 2M */
} sv_backing;

enum {
	VMF_HUGEPAGE = 1 << 0,
	VMF_NOHUGEPAGE = 1 << 1,
	VMF_DONTFORK = 1 << 2,
	VMF_NO_STRUCT_PAGE = 1 << 3,
};

typedef struct sv_vma {
	uint64_t start, end;
	unsigned prot;      /* SV_PROT_* */
	unsigned flags;     /* VMF_* */
	sv_host_backing backing;
	uint64_t align;     /* largest leaf this VMA may use */
	sv_backing *bk;
	uint64_t bk_off;    /* bk offset of start */
} sv_vma;

typedef struct sv_notifier {
	const sv_host_notifier_ops *ops;
	void *payload;
} sv_notifier;

/* A device range (DAX or PFNMAP): pfns [base, base + n). */
typedef struct sv_devrange {
	uint64_t base, n;
	sv_page_kind kind;  /* DEVICE, RESERVED or NONE */
} sv_devrange;

struct sv_host {
	sv_host_options opts;
	sv_phys phys;
	sv_frames pt;           /* host page-table pages */
	sv_pt_walker walker;
	uint64_t root;
	GPtrArray *vmas;        /* sv_vma *, sorted by start */
	GArray *notifiers;      /* sv_notifier */
	GArray *devs;           /* sv_devrange */
	uint64_t dev_next;      /* next free device pfn */
	GArray *child;          /* fork: uint64_t head pfns the child holds */
	bool forked;
	uint64_t zero_pfn, huge_zero_pfn;
	GArray *pool_2m, *pool_1g; /* hugetlb free pools: uint64_t pfns */
	uint64_t swap_next;
	uint64_t stat[SV_HOST_STAT__COUNT];
};

#endif /* SV_HOSTMM_INTERNAL_H */
