/*
 * simvirt/guestmm.h - the guest kernel's memory management: its processes
 * (VMAs, page tables), its page allocator and its TLB maintenance, kept as
 * Linux keeps them, in guest memory.
 *
 * The page tables are real tables in guest-physical memory (a vCPU runs a
 * process with CR3 = sv_guestmm_cr3()), so every walk, under either MMU,
 * reads what the guest kernel built.  Page frames and table pages come
 * from the guest-physical range the options give (inside memslots),
 * through a buddy allocator whose placement decides which 2M ranges can be
 * huge.  An access through sv_guestmm_access() that faults in a VMA is a
 * guest page fault the model handles as Linux's do_anonymous_page,
 * do_huge_pmd_anonymous_page and do_wp_page would (zero page on a read of
 * an untouched page, a THP where the policy allows one, a copy of a page
 * fork shared), then retried; every decision is counted with Linux's
 * vmstat names.  sv_guestmm_new() makes the kernel and its first process;
 * sv_guestmm_fork() more; the counters are the kernel's, over all of them.
 */
#ifndef SIMVIRT_GUESTMM_H
#define SIMVIRT_GUESTMM_H

#include "common.h"
#include "vcpu.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_guestmm sv_guestmm;

/** /sys/kernel/mm/transparent_hugepage/enabled in the guest. */
typedef enum sv_guest_thp {
	SV_GUEST_THP_NEVER,
	SV_GUEST_THP_MADVISE,  /* only in MADV_HUGEPAGE ranges */
	SV_GUEST_THP_ALWAYS,
} sv_guest_thp;

/** /sys/kernel/mm/transparent_hugepage/defrag in the guest: what a THP
 *  fault that finds no free 2M block does (compaction: see below). */
typedef enum sv_guest_defrag {
	SV_GUEST_DEFRAG_ALWAYS,        /* compact now (a stall) */
	SV_GUEST_DEFRAG_DEFER,         /* fall back; kcompactd compacts later */
	SV_GUEST_DEFRAG_DEFER_MADVISE, /* madvised ranges now, others later */
	SV_GUEST_DEFRAG_MADVISE,       /* madvised ranges now (Linux's default) */
	SV_GUEST_DEFRAG_NEVER,         /* fall back */
} sv_guest_defrag;

#define SV_GUESTMM_OPTIONS_VERSION 2 /* 1: up to seed */

typedef struct sv_guestmm_options {
	unsigned version;     /* SV_GUESTMM_OPTIONS_VERSION */
	sv_guest_thp thp;
	/* The guest-physical memory the kernel manages: page frames and page
	 * tables, 2M-aligned, inside memslots with bytes. */
	uint64_t mem_gpa, mem_size;
	/* Linux's tlb_single_page_flush_ceiling: an unmap of at most this
	 * many pages flushes with INVLPG per page, a larger one the whole
	 * TLB (a CR3 reload). */
	unsigned flush_ceiling;
	/* khugepaged: at most this many absent (or zero-page) PTEs in a 2M
	 * range it collapses (max_ptes_none), and the PTEs it scans per
	 * wake-up (pages_to_scan). */
	unsigned max_ptes_none;
	unsigned pages_to_scan;
	/* Fragmentation at boot: this percentage of the 2M blocks of page
	 * frames each hold one 4K page the kernel keeps (chosen, block and
	 * page, by seed), so no THP can come from them. */
	unsigned frag_percent;
	uint64_t seed;
	/* CR4.PCIDE in the guest: each process has a PCID of its own (from
	 * 1), so switching to it (sv_guestmm_switch) keeps the TLB entries of
	 * every process, and a flush of a process that is not running waits
	 * for its next switch, as Linux's lazy flushing does.  Without it a
	 * switch flushes every non-global entry. */
	bool pcid;
	/* hugetlbfs in the guest: pages reserved at boot, as the kernel's
	 * hugepages= and hugepagesz= parameters do; 2M pages from the page
	 * allocator (before fragmentation), 1G pages from the top of the
	 * memory, 1G-aligned (1G guest mappings need the VM's guest_1g). */
	unsigned hugetlb_2m_pages, hugetlb_1g_pages;
	/* Compaction frees one 2M block by migrating the faulting process's
	 * own 4K pages out of the lowest block that holds nothing else; a
	 * failure defers the next 63 direct attempts.  "Later" is at the
	 * start of the next khugepaged wake-up (kcompactd). */
	sv_guest_defrag defrag;
	/* transparent_hugepage/use_zero_page: a read fault in a range that
	 * may be a THP maps the huge zero page (read-only, 2M); the first
	 * write there splits it into PTEs of the 4K zero page and copies the
	 * one page written (so a range read first ends up 4K, as on Linux,
	 * until khugepaged collapses it). */
	bool use_zero_page;
} sv_guestmm_options;

#define SV_GUESTMM_OPTIONS_INIT                               \
	{                                                     \
		.version = SV_GUESTMM_OPTIONS_VERSION,        \
		.thp = SV_GUEST_THP_MADVISE,                  \
		.mem_gpa = 0,                                 \
		.mem_size = 0,                                \
		.flush_ceiling = 33,                          \
		.max_ptes_none = 511,                         \
		.pages_to_scan = 4096,                        \
		.frag_percent = 0,                            \
		.seed = 1,                                    \
		.pcid = false,                                \
		.hugetlb_2m_pages = 0,                        \
		.hugetlb_1g_pages = 0,                        \
		.defrag = SV_GUEST_DEFRAG_MADVISE,            \
		.use_zero_page = true,                        \
	}

/** Fills *o with the defaults (SV_GUESTMM_OPTIONS_INIT). */
SV_API void sv_guestmm_options_init(sv_guestmm_options *o);

/**
 * The guest kernel of vm, managing [mem_gpa, mem_gpa + mem_size): an empty
 * process whose page-table root is sv_guestmm_cr3().  SV_EINVAL for a
 * range that is misaligned, too small (4 MiB at least) or not all in
 * memslots.  The VM must outlive it.
 */
SV_API int sv_guestmm_new(sv_guestmm **out, sv_vm *vm,
			  const sv_guestmm_options *opts);
/** The process exits: its pages go back (a page another process still
 *  maps stays), and its page tables; the kernel goes with its last
 *  process. */
SV_API void sv_guestmm_free(sv_guestmm *gm);
/** The process's CR3: its PML4's guest-physical address, and its PCID
 *  with options.pcid. */
SV_API uint64_t sv_guestmm_cr3(const sv_guestmm *gm);

/**
 * fork: a child process with a copy of parent's VMAs and page tables
 * (its own tables, from the kernel's pool).  Every private page becomes
 * copy-on-write: read-only in both, shared; the parent's TLB is flushed
 * (dup_mmap's flush_tlb_mm).  The first write to a shared page copies it
 * (cow_copy; a THP is split first, thp_split_pmd); a write to one that
 * no other process maps any more takes it back writable (cow_reuse).
 */
SV_API int sv_guestmm_fork(sv_guestmm **child, sv_guestmm *parent);
/**
 * switch_mm: vCPU v runs process gm from now (MOV to CR3).  Without
 * options.pcid every non-global TLB entry goes; with it, CR4.PCIDE is
 * set if it was not, and the load keeps the TLB (bit 63) unless a flush
 * of gm happened while it ran nowhere.
 */
SV_API int sv_guestmm_switch(sv_guestmm *gm, sv_vcpu *v);

/**
 * The process's leaf entry over gva (its raw bits: a PROT_NONE one is not
 * present) and its level, 1 (4K) or 2 (2M); SV_ENOENT where nothing is
 * mapped.
 */
SV_API int sv_guestmm_leaf(uint64_t *entry, unsigned *level, sv_guestmm *gm,
			   uint64_t gva);

/** A VMA as the program loader and system calls see it. */
typedef struct sv_guestmm_vma {
	uint64_t start, end;
	unsigned prot;            /* SV_PROT_*; 0: PROT_NONE */
} sv_guestmm_vma;

/** The VMA that holds addr, or else the first above it: true and *out,
 *  or false when there is none. */
SV_API bool sv_guestmm_vma_next(sv_guestmm_vma *out, sv_guestmm *gm,
				uint64_t addr);

/** The guest's mmap flags. */
enum {
	SV_GMAP_FIXED = 1 << 0,       /* at exactly addr (what was there goes) */
	SV_GMAP_HUGETLB_2M = 1 << 1,  /* MAP_HUGETLB | MAP_HUGE_2MB */
	SV_GMAP_HUGETLB_1G = 1 << 2,  /* MAP_HUGETLB | MAP_HUGE_1GB */
	/* A private file mapping (a program's segments, a mapped file): a
	 * fault maps a page of its own, as the page cache's copied at once
	 * when the mapping is writable (no zero page, no file THP). */
	SV_GMAP_FILE = 1 << 3,
};

/**
 * mmap of anonymous private memory (prot: simvirt/hostmm.h's SV_PROT_READ,
 * _WRITE and _EXEC).  Without SV_GMAP_FIXED the lowest free range
 * at or above 4G is chosen, 2M-aligned when len is a multiple of 2M (as
 * Linux's THP-aware placement does).  Nothing is faulted in.  With
 * SV_GMAP_HUGETLB_2M or SV_GMAP_HUGETLB_1G the mapping is of hugetlbfs
 * pages of that size:
 * len is rounded up to it, addr (FIXED) must be aligned to it; the first
 * touch of each page takes one from the pool (none left: the fault stays,
 * the process's SIGBUS); munmap, mprotect and madvise must cover its
 * pages whole, and fork and mremap of it are SV_ENOTSUP (not modelled).
 */
SV_API int sv_guestmm_mmap(uint64_t *gva, sv_guestmm *gm, uint64_t addr,
			   uint64_t len, unsigned prot, unsigned flags);
/** munmap: the pages of [addr, addr + len) are freed, their TLB entries
 *  flushed (INVLPG per page up to the flush ceiling, else a CR3 reload). */
SV_API int sv_guestmm_munmap(sv_guestmm *gm, uint64_t addr, uint64_t len);

/**
 * mprotect: the VMAs of [addr, addr + len) (which they must cover whole:
 * SV_ENOMEM otherwise) get prot (0: PROT_NONE); their leaves follow (a THP
 * covered in part is split first; the zero page stays read-only; under
 * PROT_NONE a leaf is not present but keeps its page, as Linux's
 * _PAGE_PROTNONE entries do, so an access faults and the page comes back
 * with the next mprotect) and the changed ones are flushed.
 */
SV_API int sv_guestmm_mprotect(sv_guestmm *gm, uint64_t addr, uint64_t len,
			       unsigned prot);

/** mremap's flags. */
enum {
	SV_GMREMAP_MAYMOVE = 1 << 0, /* it may move to grow */
	SV_GMREMAP_FIXED = 1 << 1,   /* to exactly new_addr (with MAYMOVE) */
};

/**
 * mremap of [old, old + old_len), which one VMA must hold (SV_EFAULT
 * otherwise), to new_len bytes: shrinking unmaps the tail; growing extends
 * the VMA in place when the range after it is free, else (MAYMOVE) moves
 * it to the lowest free range (2M-aligned for 2M multiples) or, with
 * FIXED, to new_addr (what was there goes).  A move carries the page-table
 * entries, not the pages: a THP whose old and new addresses are both
 * 2M-aligned moves whole (one PMD), any other is split first; the old
 * range is flushed.  *out: where the mapping now starts.  Growing without
 * room and without MAYMOVE is SV_ENOMEM.
 */
SV_API int sv_guestmm_mremap(uint64_t *out, sv_guestmm *gm, uint64_t old,
			     uint64_t old_len, uint64_t new_len, unsigned flags,
			     uint64_t new_addr);

/** The heap starts at `start` (4K-aligned; brk == start): a program
 *  loader's call, after it placed the program. */
SV_API int sv_guestmm_set_brk(sv_guestmm *gm, uint64_t start);
/**
 * brk(addr): the heap grows (a read-write VMA over the new pages) or
 * shrinks (its pages freed) to end at addr, page-aligned up; *out is the
 * break after the call.  As Linux's, it never fails as a call: an addr
 * below the heap's start, or one whose growth would meet another VMA,
 * leaves the break where it was.
 */
SV_API int sv_guestmm_brk(uint64_t *out, sv_guestmm *gm, uint64_t addr);

typedef enum sv_guest_madvise {
	SV_GMADV_DONTNEED,    /* the pages go; the range reads zero after */
	SV_GMADV_HUGEPAGE,    /* THP allowed under thp=madvise */
	SV_GMADV_NOHUGEPAGE,  /* never THP */
	SV_GMADV_FREE,        /* lazy free: the pages stay mapped but clean
				 and old (their dirty and accessed flags
				 cleared, flushed), for reclaim to take
				 without writing them back; a THP covered in
				 part is split (pglazyfree counts the pages) */
} sv_guest_madvise;

SV_API int sv_guestmm_madvise(sv_guestmm *gm, uint64_t addr, uint64_t len,
			      sv_guest_madvise advice);

/**
 * One wake-up of khugepaged: from where the last stopped, the 2M ranges of
 * THP-eligible VMAs mapped by page tables are scanned (512 PTEs each, up
 * to pages_to_scan), and each with a page of its own and at most
 * max_ptes_none absent ones is collapsed into a new THP: its pages copied
 * (as vCPU v's kernel stores), the page table freed, the range flushed.
 * *collapsed: how many.
 */
SV_API int sv_guestmm_khugepaged(sv_guestmm *gm, sv_vcpu *v,
				 unsigned *collapsed);
/**
 * MADV_COLLAPSE: every 2M range inside [addr, addr + len) that page tables
 * map is collapsed now, whatever the THP mode and max_ptes_none (not in
 * MADV_NOHUGEPAGE ranges).  *collapsed: how many.
 */
SV_API int sv_guestmm_collapse(sv_guestmm *gm, sv_vcpu *v, uint64_t addr,
			       uint64_t len, unsigned *collapsed);

/**
 * One access of vCPU v (whose CR3 must be sv_guestmm_cr3(), with CR0.WP
 * set as Linux runs, so that the zero page is read-only): translated
 * as sv_vcpu_translate() does; a guest page fault in a VMA that allows
 * the access is handled (demand paging) and the access retried, counted
 * in the fault counters below.  A page fault outside every VMA, or
 * against its protection, stays in out->fault (the process's SIGSEGV).
 */
SV_API int sv_guestmm_access(sv_xlate *out, sv_guestmm *gm, sv_vcpu *v,
			     uint64_t gva, uint32_t size, sv_access acc);

/**
 * The rest of sv_guestmm_access() for a caller that translated the access
 * itself (sv_vcpu_translate() into *out) and found a fault: the fault
 * handled and the access retried as there, counters included.  A hot
 * path translates first and calls this only when out->fault is set.
 */
SV_API int sv_guestmm_fault_in(sv_xlate *out, sv_guestmm *gm, sv_vcpu *v,
			       uint64_t gva, uint32_t size, sv_access acc);

/** The guest kernel's counters (Linux's vmstat names). */
#define SV_GUESTMM_STAT_LIST(X)                                               \
	X(pgfault, "guest page faults the kernel handled")                    \
	X(pgalloc, "4K pages allocated to the process (a THP counts 512)")    \
	X(pgfree, "4K pages freed (a THP counts 512)")                        \
	X(zero_page_maps, "read faults that mapped the zero page (4K or "   \
	  "huge)")                                                            \
	X(cow_zero, "writes that replaced the zero page by a page of its own") \
	X(thp_zero_page_alloc, "huge zero pages allocated (once: it stays)")  \
	X(thp_zero_page_alloc_failed, "huge zero page allocations that "      \
	  "found no free 2M block")                                           \
	X(thp_fault_alloc, "faults that mapped a new THP")                    \
	X(thp_fault_fallback, "THP-eligible faults that found no free 2M "   \
	  "block and mapped 4K")                                              \
	X(thp_collapse_alloc, "THPs khugepaged or MADV_COLLAPSE made")        \
	X(compact_stall, "THP faults that compacted directly (defrag)")      \
	X(compact_success, "compactions that freed a 2M block")               \
	X(compact_fail, "compactions that found no block to free")            \
	X(pgmigrate_success, "4K pages compaction migrated")                  \
	X(thp_collapse_alloc_failed, "collapses that found no free 2M block") \
	X(khugepaged_full_scans, "khugepaged passes over every VMA")          \
	X(frag_pinned, "4K pages the kernel holds from boot (frag_percent)") \
	X(cow_copy, "writes to a page fork shared that copied it")           \
	X(cow_reuse, "writes to a page fork shared, no longer mapped by "     \
	  "another process, that made it writable in place")                  \
	X(thp_split_pmd, "THPs split into 512 PTEs (munmap, mprotect, "       \
	  "madvise or mremap of part of one)")                                \
	X(pglazyfree, "4K pages MADV_FREE marked lazily free")                \
	X(htlb_fault_alloc, "faults that mapped a hugetlbfs page")           \
	X(htlb_fault_fail, "hugetlbfs faults that found the pool empty "      \
	  "(SIGBUS)")                                                         \
	X(tlb_invlpg, "INVLPG for unmaps, protection changes and madvise")    \
	X(tlb_full_flush, "whole-TLB flushes (CR3 reloads) for them")

typedef enum sv_guestmm_stat {
#define SV__GMSTAT_ENUM(name, desc) SV_GUESTMM_STAT_##name,
	SV_GUESTMM_STAT_LIST(SV__GMSTAT_ENUM)
#undef SV__GMSTAT_ENUM
	SV_GUESTMM_STAT__COUNT
} sv_guestmm_stat;

SV_API uint64_t sv_guestmm_stat_get(const sv_guestmm *gm, sv_guestmm_stat s);
SV_API const char *sv_guestmm_stat_name(sv_guestmm_stat s);

#ifdef __cplusplus
}
#endif

#endif /* SIMVIRT_GUESTMM_H */
