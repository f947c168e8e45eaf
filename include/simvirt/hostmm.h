/*
 * simvirt/hostmm.h - the simulated host kernel: one process address space
 * (HVAs) with VMAs and their backings, the host page tables, a physical
 * frame allocator with per-frame metadata, the mm operations Linux offers,
 * and the MMU-notifier chain through which a hypervisor hears about them.
 *
 * Semantics follow Linux (mm/, include/linux/mmu_notifier.h): each
 * operation changes the host page tables as Linux would and emits the
 * notifier event Linux emits, as a start/end pair over an HVA range.
 * Errors are Linux's: a range that is not mapped is SV_ENOMEM (ENOMEM), a
 * misaligned start SV_EINVAL, an access the VMA forbids SV_EFAULT
 * (SIGSEGV), an exhausted hugetlb pool SV_ESIGBUS (SIGBUS).  A call that
 * fails changes nothing.
 */
#ifndef SIMVIRT_HOSTMM_H
#define SIMVIRT_HOSTMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_host sv_host;

/* THP policy, /sys/kernel/mm/transparent_hugepage/enabled. */
typedef enum sv_thp_mode {
	SV_THP_NEVER,
	SV_THP_MADVISE, /* only VMAs with MADV_HUGEPAGE */
	SV_THP_ALWAYS,  /* every anonymous VMA without MADV_NOHUGEPAGE */
} sv_thp_mode;

/* The most host RAM modelled ([host] mem's limit too). */
#define SV_HOST_MEM_MAX (1ULL << 40)

/* 1: without kernel_version (6.12); 2: without resident_limit (none) */
#define SV_HOST_OPTIONS_VERSION 3

typedef struct sv_host_options {
	unsigned version;         /* SV_HOST_OPTIONS_VERSION */
	unsigned levels;          /* host paging: 4 or 5 */
	uint64_t mem_size;        /* host RAM, a multiple of 1G, at most
				     SV_HOST_MEM_MAX */
	sv_thp_mode thp;
	bool thp_zero_page;       /* read faults map the huge zero page */
	/* Percent of 2M blocks that hold one unmovable 4K page from boot, so
	 * that 2M and 1G allocations can fail (seeded, deterministic). */
	unsigned frag_percent;
	uint64_t seed;
	/* hugetlbfs pools, reserved at creation (nr_hugepages). */
	unsigned hugetlb_2m_pages;
	unsigned hugetlb_1g_pages;
	/* khugepaged/max_ptes_none: empty PTEs a collapse may fill. */
	unsigned max_ptes_none;
	/* SV_KERNEL(major, minor), 5.0 .. 7.x: the host kernel.  Before 6.12
	 * a VM_PFNMAP range is mapped by 4K PTEs only (no huge pfnmaps). */
	unsigned kernel_version;
	/* The most host RAM in use (frames holding pages: every fault that
	 * fills one, less those freed) a run may reach, in bytes; a fault
	 * past it fails with SV_ENOMEM, before the simulator itself holds
	 * that many guest bytes.  0: no limit. */
	uint64_t resident_limit;
} sv_host_options;

#define SV_HOST_OPTIONS_INIT                                   \
	{                                                      \
		.version = SV_HOST_OPTIONS_VERSION,            \
		.levels = 4,                                   \
		.mem_size = 16ULL << 30,                       \
		.thp = SV_THP_MADVISE,                         \
		.thp_zero_page = true,                         \
		.frag_percent = 0,                             \
		.seed = 1,                                     \
		.hugetlb_2m_pages = 0,                         \
		.hugetlb_1g_pages = 0,                         \
		.max_ptes_none = 511,                          \
		.kernel_version = SV_KERNEL(6, 12),            \
		.resident_limit = 0,                           \
	}

/** Fills *opts with the defaults (SV_HOST_OPTIONS_INIT). */
SV_API void sv_host_options_init(sv_host_options *opts);

/* Creates a host; *out is NULL on failure. */
SV_API int sv_host_new(sv_host **out, const sv_host_options *opts);
/* Sends RELEASE to every notifier, then frees everything.  NULL is a no-op. */
SV_API void sv_host_free(sv_host *h);

/* ---- VMAs -------------------------------------------------------------- */

/* What a VMA maps. */
typedef enum sv_host_backing {
	SV_BACKING_ANON,       /* private anonymous: 4K pages, THP if allowed */
	SV_BACKING_HUGETLB_2M, /* hugetlbfs, 2M pages from the pool */
	SV_BACKING_HUGETLB_1G, /* hugetlbfs, 1G pages from the pool */
	SV_BACKING_DAX,        /* device memory, mapped by PMD or PUD (align) */
	SV_BACKING_PFNMAP,     /* VM_PFNMAP | VM_IO device range */
	SV_BACKING_FILE,       /* shared file pages (page cache) */
	SV_BACKING_DRIVER,     /* driver pages: 2M compound, mapped by 4K PTEs */
} sv_host_backing;

enum {
	SV_PROT_READ = 1 << 0,
	SV_PROT_WRITE = 1 << 1,
	SV_PROT_EXEC = 1 << 2,
};

enum {
	SV_MAP_FIXED = 1 << 0,          /* at exactly hva (must be free) */
	SV_MAP_NO_STRUCT_PAGE = 1 << 1, /* PFNMAP: pfns without struct pages */
	/* PFNMAP over RAM whose struct pages are outside refcounting
	 * (refcount 0, as the tail pages of a driver's non-compound
	 * allocation); KVM 5.13 to 6.12 refuses them. */
	SV_MAP_NO_REFCOUNT = 1 << 2,
};

#define SV_HOST_MMAP_VERSION 1

typedef struct sv_host_mmap_args {
	unsigned version;      /* SV_HOST_MMAP_VERSION */
	uint64_t hva;          /* with SV_MAP_FIXED; else ignored */
	uint64_t size;         /* a multiple of the backing's page size */
	unsigned prot;         /* SV_PROT_* */
	unsigned flags;        /* SV_MAP_* */
	sv_host_backing backing;
	uint64_t align;        /* DAX: 2M (PMD) or 1G (PUD) device alignment */
} sv_host_mmap_args;

/*
 * Maps a new VMA and returns its start in *hva.  Without SV_MAP_FIXED the
 * lowest free range at or above 4G aligned to the backing's largest page
 * is chosen.  Nothing is faulted in.
 */
SV_API int sv_host_mmap(uint64_t *hva, sv_host *h, const sv_host_mmap_args *a);
/* munmap: removes [hva, hva + len) (UNMAP); frees what only it used. */
SV_API int sv_host_munmap(sv_host *h, uint64_t hva, uint64_t len);
/* mremap(MREMAP_MAYMOVE | MREMAP_FIXED): moves one whole VMA (UNMAP over
 * the old range); pages and bytes move with it. */
SV_API int sv_host_mremap(sv_host *h, uint64_t old_hva, uint64_t len,
			  uint64_t new_hva);
/* mprotect (PROTECTION_VMA over the range; a THP PMD only partly covered
 * is split first, with CLEAR over its 2M). */
SV_API int sv_host_mprotect(sv_host *h, uint64_t hva, uint64_t len,
			    unsigned prot);

typedef enum sv_madvise {
	SV_MADV_DONTNEED,  /* CLEAR; private anonymous pages read back as 0 */
	SV_MADV_FREE,      /* CLEAR; clean pages are dropped at reclaim */
	SV_MADV_HUGEPAGE,  /* VM_HUGEPAGE */
	SV_MADV_NOHUGEPAGE,
	SV_MADV_COLLAPSE,  /* collapse PTE-mapped 2M ranges now (CLEAR) */
	SV_MADV_DONTFORK,
	SV_MADV_DOFORK,
	SV_MADV_PAGEOUT,   /* reclaim: swap out (CLEAR) */
	/* MADV_POPULATE_WRITE (5.14): fault every page in for writing, as
	 * the process's writes would (EFAULT where it may not write) */
	SV_MADV_POPULATE_WRITE,
} sv_madvise;

SV_API int sv_host_madvise(sv_host *h, uint64_t hva, uint64_t len,
			   sv_madvise advice);

/* What one VMA is (for /proc/PID/maps-like queries and sizing policies). */
typedef struct sv_host_vma {
	uint64_t start, end;
	unsigned prot;          /* SV_PROT_* */
	sv_host_backing backing;
	uint64_t page_size;     /* vma_kernel_pagesize: 4K, or the hugetlb size */
} sv_host_vma;

/* The VMA holding hva; SV_ENOMEM (as find_vma fails) if none does. */
SV_API int sv_host_vma_info(sv_host_vma *out, const sv_host *h, uint64_t hva);

/* ---- faults and lookups ------------------------------------------------- */

/* What the host page tables map at one HVA. */
typedef struct sv_host_leaf {
	bool present;
	unsigned level;    /* 1 = PTE (4K), 2 = PMD (2M), 3 = PUD (1G) */
	uint64_t pfn;      /* of the 4K page holding the HVA */
	bool writable;
	bool dirty;
	bool young;
	bool soft_dirty;
	bool special;      /* zero page or pfn without struct page */
	bool swapped;      /* not present: a swap entry */
} sv_host_leaf;

/* Reads the host page tables at hva, faulting nothing in. */
SV_API int sv_host_lookup(sv_host_leaf *out, const sv_host *h, uint64_t hva);
/*
 * handle_mm_fault: makes hva mapped (writable for a write), allocating,
 * COW-copying or swapping in as Linux would, and reports the leaf.  A read
 * of untouched anonymous memory maps the zero page (the huge zero page
 * for a THP-eligible 2M range when thp_zero_page is on).
 */
SV_API int sv_host_fault(sv_host_leaf *out, sv_host *h, uint64_t hva,
			 bool write);

/* Reads and writes the process's memory as its loads and stores would,
 * faulting pages in.  A write needs PROT_WRITE (else SV_EFAULT). */
SV_API int sv_host_read(sv_host *h, uint64_t hva, void *buf, size_t len);
SV_API int sv_host_write(sv_host *h, uint64_t hva, const void *buf,
			 size_t len);

/* ---- frames ------------------------------------------------------------ */

typedef enum sv_page_kind {
	SV_PAGE_FREE,
	SV_PAGE_ANON,      /* order-0 anonymous */
	SV_PAGE_THP,       /* part of a transparent huge page */
	SV_PAGE_HUGETLB,   /* part of a hugetlbfs page (in use or pooled) */
	SV_PAGE_DRIVER,    /* part of a driver's non-THP compound page */
	SV_PAGE_DEVICE,    /* ZONE_DEVICE (DAX): no refcount */
	SV_PAGE_FILE,      /* page cache */
	SV_PAGE_ZERO,      /* the zero page or the huge zero page */
	SV_PAGE_KSM,       /* a merged KSM page */
	SV_PAGE_RESERVED,  /* PageReserved: boot-time unmovable */
	SV_PAGE_NONE,      /* a pfn without struct page (PFNMAP) */
	SV_PAGE_NOREF,     /* RAM outside refcounting (refcount 0, PFNMAP) */
} sv_page_kind;

/* What the legacy KVM policy could read from a struct page. */
typedef struct sv_host_page {
	sv_page_kind kind;
	uint64_t head;       /* pfn of the compound head (itself if order 0) */
	unsigned order;      /* compound order: 0, 9 or 18 */
	uint32_t refcount;
	uint32_t mapcount;
	bool compound;
	bool reserved;
	bool zone_device;
} sv_host_page;

SV_API int sv_host_page_info(sv_host_page *out, const sv_host *h,
			     uint64_t pfn);

/* ---- whole-mm operations ------------------------------------------------ */

/* One full khugepaged pass over every eligible VMA; *collapsed counts the
 * 2M ranges collapsed (each a CLEAR).  collapsed may be NULL. */
SV_API int sv_host_khugepaged(unsigned *collapsed, sv_host *h);
SV_DEPRECATED("sv_host_khugepaged(&collapsed, h)")
SV_API int sv_host_khugepaged_scan(sv_host *h, unsigned *collapsed);
/* split_huge_page of the THP mapped at hva (CLEAR over its 2M). */
SV_API int sv_host_split_thp(sv_host *h, uint64_t hva);
/* Migrates the pages of a range to new frames, content kept (CLEAR). */
SV_API int sv_host_migrate(sv_host *h, uint64_t hva, uint64_t len);
/* KSM: merges identical anonymous pages of the range into one read-only
 * page each (CLEAR per merged page); *merged counts pages freed. */
SV_API int sv_host_ksm(unsigned *merged, sv_host *h, uint64_t hva,
		       uint64_t len);
SV_DEPRECATED("sv_host_ksm(&merged, h, hva, len)")
SV_API int sv_host_ksm_merge(sv_host *h, uint64_t hva, uint64_t len,
			     unsigned *merged);
/* fork without exec: every private writable VMA without DONTFORK is
 * write-protected for COW (PROTECTION_PAGE); the child keeps a reference
 * to each page until sv_host_fork_exit. */
SV_API int sv_host_fork(sv_host *h);
SV_API int sv_host_fork_exit(sv_host *h);
/* echo 4 > /proc/PID/clear_refs: SOFT_DIRTY over the whole mm. */
SV_API int sv_host_clear_refs(sv_host *h);

typedef enum sv_host_age_kind {
	SV_AGE_CLEAR_FLUSH_YOUNG,
	SV_AGE_CLEAR_YOUNG,
	SV_AGE_TEST_YOUNG,
} sv_host_age_kind;

/* Page aging over a range: asks the notifiers (and clears the host A bits
 * unless testing); *young says whether anything was young. */
SV_API int sv_host_age(bool *young, sv_host *h, uint64_t hva, uint64_t len,
		       sv_host_age_kind kind);

/* ---- MMU notifiers ------------------------------------------------------ */

#define SV_HOST_EVENT_LIST(X)                                              \
	X(UNMAP, "munmap, mremap move")                                    \
	X(CLEAR, "DONTNEED, FREE, THP split, collapse, COW, KSM, "         \
		 "migration, reclaim")                                     \
	X(PROTECTION_VMA, "mprotect")                                      \
	X(PROTECTION_PAGE, "fork write-protect")                           \
	X(SOFT_DIRTY, "clear_refs soft-dirty")                             \
	X(RELEASE, "the mm goes away")

typedef enum sv_host_event {
#define SV__HOST_EVENT_ENUM(name, what) SV_HOST_EVENT_##name,
	SV_HOST_EVENT_LIST(SV__HOST_EVENT_ENUM)
#undef SV__HOST_EVENT_ENUM
	SV_HOST_EVENT__COUNT
} sv_host_event;

SV_API const char *sv_host_event_name(sv_host_event e);

/* One invalidation: its event and the HVA range [start, end). */
typedef struct sv_host_range {
	sv_host_event event;
	uint64_t start, end;
} sv_host_range;

#define SV_HOST_NOTIFIER_VERSION 1

/* A subscriber's callbacks; any may be NULL. */
typedef struct sv_host_notifier_ops {
	unsigned version;   /* SV_HOST_NOTIFIER_VERSION */
	void (*invalidate_start)(const sv_host_range *r, void *payload);
	void (*invalidate_end)(const sv_host_range *r, void *payload);
	/* Returns whether the range was young for this subscriber. */
	bool (*age)(sv_host_age_kind kind, uint64_t start, uint64_t end,
		    void *payload);
	void (*release)(void *payload);
} sv_host_notifier_ops;

/* Subscribers are called in registration order.  ops must outlive the
 * registration. */
SV_API int sv_host_notifier_register(sv_host *h,
				     const sv_host_notifier_ops *ops,
				     void *payload);
SV_API int sv_host_notifier_unregister(sv_host *h,
				       const sv_host_notifier_ops *ops,
				       void *payload);

/* ---- counters ----------------------------------------------------------- */

#define SV_HOST_STAT_LIST(X)                                                \
	X(event_unmap, "UNMAP invalidations")                               \
	X(event_clear, "CLEAR invalidations")                               \
	X(event_protection_vma, "PROTECTION_VMA invalidations")             \
	X(event_protection_page, "PROTECTION_PAGE invalidations")           \
	X(event_soft_dirty, "SOFT_DIRTY invalidations")                     \
	X(event_release, "RELEASE notifications")                           \
	X(age_calls, "aging calls (clear_flush_young, clear_young, "        \
		     "test_young)")                                         \
	X(faults, "page faults handled")                                    \
	X(thp_fault_alloc, "faults that mapped a new THP")                  \
	X(thp_fault_fallback, "THP faults that fell back to 4K")            \
	X(zero_page_maps, "read faults that mapped a zero page")            \
	X(cow, "copy-on-write copies")                                      \
	X(pages_filled, "4K pages faults zeroed, copied or read in (a new " \
			"THP or 2M hugetlb page: 512)")                      \
	X(thp_split_pmd, "THP PMDs split into 512 PTEs")                    \
	X(thp_collapse_alloc, "2M ranges collapsed into a THP")             \
	X(thp_collapse_alloc_failed, "collapses without a free 2M frame")   \
	X(migrations, "pages (4K units) migrated")                          \
	X(ksm_merged, "pages freed by KSM merging")                         \
	X(swap_out, "pages swapped out")                                    \
	X(swap_in, "pages swapped in")                                      \
	X(frames_alloc_4k, "4K frames allocated")                           \
	X(frames_alloc_2m, "2M frames allocated")                           \
	X(frames_alloc_1g, "1G frames allocated")                           \
	X(frames_free_4k, "4K frames freed")                                \
	X(frames_free_2m, "2M frames freed")                                \
	X(frames_free_1g, "1G frames freed")                                \
	X(pt_pages, "host page-table pages in use")

typedef enum sv_host_stat {
#define SV__HOST_STAT_ENUM(name, what) SV_HOST_STAT_##name,
	SV_HOST_STAT_LIST(SV__HOST_STAT_ENUM)
#undef SV__HOST_STAT_ENUM
	SV_HOST_STAT__COUNT
} sv_host_stat;

SV_API uint64_t sv_host_stat_get(const sv_host *h, sv_host_stat s);
SV_API const char *sv_host_stat_name(sv_host_stat s);
/* Bytes of model metadata (frame metadata, host page tables, VMAs). */
SV_API uint64_t sv_host_metadata_bytes(const sv_host *h);

#ifdef __cplusplus
}
#endif

#endif /* SIMVIRT_HOSTMM_H */
