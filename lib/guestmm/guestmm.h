/*
 * lib/guestmm/guestmm.h - the guest kernel's memory management, inside:
 * the kernel's and a process's state and what the units share.
 * guestmm.c: VMAs, faults, unmapping, mmap; frames.c: clearing frames and
 * counting who maps them; mprotect.c: mprotect, mremap, brk; madvise.c;
 * khugepaged.c: collapsing into THPs; compact.c: compaction for THP
 * defrag; hugetlb.c: hugetlbfs; fork.c: fork, copy-on-write, exit, switch;
 * trace.c: traces run through it; buddy.c: the page allocator.
 */
#ifndef SV_GUESTMM_GUESTMM_H
#define SV_GUESTMM_GUESTMM_H

#include "guestmm/buddy.h"
#include "simvirt/guestmm.h"
#include "simvirt/pt.h"
#include "vm.h"

#define SZ_2M (2ULL << 20)
#define MMAP_BASE 0x100000000ULL       /* where placement starts: 4G */
#define MMAP_END (1ULL << 47)          /* the 4-level user half */
#define MMAP_MIN 0x10000ULL            /* vm.mmap_min_addr */
/* A PROT_NONE leaf: not present, its page kept (Linux's _PAGE_PROTNONE,
 * a bit the hardware ignores in a non-present entry). */
#define PTE_PROTNONE (1ULL << 9)
/* The kernel's direct map of guest-physical memory (page_offset_base of
 * a 4-level x86-64 Linux), by 2M pages, supervisor only. */
#define PHYSMAP 0xffff888000000000ULL

typedef struct gvma {
	uint64_t start, end;       /* start first: it is the tree's key */
	unsigned prot;
	sv_guest_madvise advice;   /* HUGEPAGE, NOHUGEPAGE, or DONTNEED: none */
	uint64_t hpage;            /* hugetlbfs: its page size, else 0 */
	bool file;                 /* SV_GMAP_FILE */
} gvma;

/* The kernel: what its processes share (Linux's global state). */
typedef struct gkernel {
	sv_buddy buddy;
	uint64_t zero_gpa;
	uint64_t huge_zero_gpa;    /* the huge zero page, once made (else 0) */
	/* frames handed out before, a bit each from mem_gpa: only theirs can
	 * hold bytes, so clearing a fresh one leaves its memory untouched
	 * (a trace run holds no guest data bytes) */
	uint64_t *used;
	/* 4K frames mapped by more than one process (after fork): gpa ->
	 * the mappings beyond the first; a frame not in it has one mapper */
	GArray *htlb_free[2];      /* hugetlbfs pools: free 2M, 1G pages */
	GHashTable *shared;
	unsigned procs;            /* processes alive */
	unsigned compact_defer;    /* direct compactions still to skip */
	bool kcompactd_wake;       /* a deferred THP fault fell back */
	uint16_t next_pcid;
	uint64_t stat[SV_GUESTMM_STAT__COUNT];
} gkernel;

/* A process (what a sv_guestmm is). */
struct sv_guestmm {
	gkernel *k;
	sv_vm *vm;
	sv_guestmm_options o;
	sv_pt *pt;
	GTree *vmas;               /* start -> gvma */
	uint64_t khugepaged_at;    /* where khugepaged's scan goes on */
	uint64_t start_brk, brk;   /* the heap (0: none set) */
	uint16_t pcid;             /* with options.pcid, else 0 */
	bool stale;                /* a flush missed it (PCID, not running) */
};

/* Is gpa in the zero page or the huge zero page (never freed, never
 * written)? */
static inline bool sv_guestmm__is_zero(const struct gkernel *k, uint64_t gpa)
{
	return gpa == k->zero_gpa ||
	       (k->huge_zero_gpa && gpa - k->huge_zero_gpa < (2ULL << 20));
}

/* The mappings of a 4K frame beyond the first (0: one mapper), and
 * setting them. */
unsigned sv_guestmm__shares(const sv_guestmm *gm, uint64_t gpa);
void sv_guestmm__set_shares(sv_guestmm *gm, uint64_t gpa, unsigned n);
/* Does another process map any frame of [gpa, gpa + len)? */
bool sv_guestmm__shared_in(const sv_guestmm *gm, uint64_t gpa, uint64_t len);
/* Where to look after a, where nothing maps a: the next 4K page, or the
 * next 2M range where no page table is. */
uint64_t sv_guestmm__skip(sv_guestmm *gm, uint64_t a);

/*
 * Each leaf (present or PROT_NONE) over [start, end), in order:
 * fn(gm, base, level, e, partial, payload), base the leaf's first address,
 * partial when the leaf reaches outside [start, end).  fn returns SV_OK to
 * go on past the leaf, LEAF_AGAIN to look at base again (it split the
 * leaf), or an error, which ends the walk with it.  gvas, when not NULL,
 * collects what fn appends there, and is flushed at the end.
 */
#define LEAF_AGAIN 1
typedef int (*sv_guestmm__leaf_fn)(sv_guestmm *gm, uint64_t base, unsigned level,
				   uint64_t e, bool partial, void *payload);
int sv_guestmm__for_each_leaf(sv_guestmm *gm, uint64_t start, uint64_t end,
			      sv_guestmm__leaf_fn fn, void *payload);
/* A mapping of the 4K frames [gpa, gpa + len) goes: each shared one
 * loses a share, the others are freed (a whole 2M block at once when it
 * is one THP that nobody shares). */
void sv_guestmm__put_frames(sv_guestmm *gm, uint64_t gpa, uint64_t len);

/* An empty tree of VMAs (start -> gvma, freeing them). */
GTree *sv_guestmm__vma_tree(void);
/* flush_tlb_mm: every vCPU running the process reloads CR3 (with PCIDs,
 * a process not running is flushed at its next switch). */
void sv_guestmm__flush_mm(sv_guestmm *gm);
/* fork.c: do_wp_page for the leaf e (level) over gva; true if handled. */
bool sv_guestmm__wp_fault(sv_guestmm *gm, sv_vcpu *v, uint64_t gva,
			  unsigned level, uint64_t e);
/* fork.c: every VMA's pages unmapped (the VMAs stay), for an exit. */
void sv_guestmm__exit_mm(sv_guestmm *gm);

/* SV_OK for a non-empty 4K-aligned range of the user half, else
 * SV_EINVAL naming the call `what`. */
int sv_guestmm__check_range(const sv_guestmm *gm, const char *what,
			    uint64_t addr, uint64_t len);

/* hugetlb.c: the pools reserved at boot (1G pages below *top, which
 * moves down past them; 2M pages from the buddy), and a fault in a
 * hugetlbfs VMA; its pages back to the pool. */
int sv_guestmm__hugetlb_init(sv_guestmm *gm, uint64_t *top);
int sv_guestmm__hugetlb_init_2m(sv_guestmm *gm);
bool sv_guestmm__hugetlb_fault(sv_guestmm *gm, sv_vcpu *v, const gvma *m,
			       uint64_t gva);
void sv_guestmm__hugetlb_put(sv_guestmm *gm, uint64_t gpa, uint64_t size);
/* compact.c: one compaction for gm (direct: a faulting THP's, counted as
 * a stall and subject to deferral): the 2M block it freed, allocated to
 * the caller, or 0; and what the defrag setting asks of a THP fault in m
 * that found no free block: compact now, or wake kcompactd. */
uint64_t sv_guestmm__compact(sv_guestmm *gm, sv_vcpu *v, bool direct);
bool sv_guestmm__defrag_direct(const sv_guestmm *gm, const gvma *m);
bool sv_guestmm__defrag_defer(const sv_guestmm *gm, const gvma *m);

/* SV_EINVAL if [start, end) cuts a hugetlbfs page of a VMA in it. */
int sv_guestmm__hugetlb_whole(sv_guestmm *gm, const char *what, uint64_t start,
			      uint64_t end);
/* The bytes a leaf of this level maps. */
static inline uint64_t sv_guestmm__level_size(unsigned level)
{
	return level == 3 ? SV_PAGE_1G : level == 2 ? SZ_2M : SV_PAGE_4K;
}

/* The VMA holding addr, or NULL. */
gvma *sv_guestmm__vma_at(sv_guestmm *gm, uint64_t addr);
void sv_guestmm__vma_insert(sv_guestmm *gm, const gvma *v);
/* Does any VMA overlap [start, end)? */
bool sv_guestmm__overlaps(sv_guestmm *gm, uint64_t start, uint64_t end);
/* The VMAs inside [start, end), after splitting those across its ends. */
GPtrArray *sv_guestmm__vmas_in(sv_guestmm *gm, uint64_t start, uint64_t end);
/* split_huge_pmd: the THP at base (its PMD pmd) mapped by 512 PTEs. */
int sv_guestmm__split_thp(sv_guestmm *gm, uint64_t base, uint64_t pmd);
/* For a leaf function: the THP at base split, then LEAF_AGAIN (or the
 * split's error). */
static inline int sv_guestmm__split_again(sv_guestmm *gm, uint64_t base, uint64_t pmd)
{
	int rc = sv_guestmm__split_thp(gm, base, pmd);

	return rc ? rc : LEAF_AGAIN;
}
/* clear_page over [gpa, gpa + len) through the direct map, as vCPU v's
 * stores (NULL: the bytes only); false when a store faulted. */
bool sv_guestmm__zero_frames(sv_guestmm *gm, sv_vcpu *v, uint64_t gpa,
			     uint64_t len);
/* A leaf of the process's tables: gva to gpa, size 4K or 2M. */
int sv_guestmm__map(sv_guestmm *gm, uint64_t gva, uint64_t gpa,
		    uint64_t size, bool writable);
/* The leaf over gva and its level (present or PROT_NONE); 0 if none. */
uint64_t sv_guestmm__leaf(sv_guestmm *gm, uint64_t gva, unsigned *level);
/* The leaf e (its raw bits: flags, A/D, PROT_NONE kept) at gva, level 1
 * or 2, tables made as needed. */
int sv_guestmm__put_leaf(sv_guestmm *gm, uint64_t gva, unsigned level,
			 uint64_t e);
/* Every page of [start, end) unmapped and freed, a THP covered in part
 * split first, the range flushed (zap_page_range). */
int sv_guestmm__zap(sv_guestmm *gm, uint64_t start, uint64_t end);
/* The lowest free range of len bytes at or above 4G, aligned to align
 * (0: 2M for 2M multiples, else 4K); 0 if none. */
uint64_t sv_guestmm__free_range(sv_guestmm *gm, uint64_t len, uint64_t align);
/* The TLB flush after the leaves at gvas went (flush_tlb_mm_range). */
void sv_guestmm__flush(sv_guestmm *gm, const GArray *gvas);
/* May the 2M range around gva in m be a THP (mode, advice, bounds)? */
bool sv_guestmm__thp_eligible(const sv_guestmm *gm, const gvma *m,
			      uint64_t gva);

#endif /* SV_GUESTMM_GUESTMM_H */
