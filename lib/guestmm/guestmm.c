/*
 * lib/guestmm/guestmm.c - the guest kernel's memory management for one
 * process: VMAs, page tables in guest memory, demand paging with THP, the
 * zero page, unmapping with the TLB maintenance Linux does.
 *
 * How a guest page fault is handled (handle_mm_fault, anonymous memory):
 *  1. The VMA that holds the address must allow the access; else the
 *     fault stays the process's (SIGSEGV).
 *  2. Present (a write to the read-only zero page): a page of its own,
 *     zeroed, mapped writable (cow_zero).
 *  3. Not present, and the 2M range around it THP-eligible (thp=always,
 *     or madvise with MADV_HUGEPAGE; not MADV_NOHUGEPAGE; the whole 2M in
 *     the VMA; no page table under its PMD yet): a 2M block from the
 *     allocator, zeroed, mapped by one PMD (thp_fault_alloc); no 2M block
 *     free: 4K (thp_fault_fallback).
 *  4. Otherwise 4K: a read maps the zero page read-only (zero_page_maps),
 *     a write a new zeroed page.  In a file mapping (SV_GMAP_FILE) every
 *     fault maps a page of its own (the page cache's, copied on write at
 *     once) and never a THP.
 * The guest's tables are an sv_pt tree whose table pages come from the
 * first part of the managed memory; page frames come from the buddy
 * allocator over the rest.  Unmapping (munmap, MADV_DONTNEED) splits a
 * THP it covers only in part, frees the pages and flushes the TLBs of
 * every vCPU running the process: INVLPG per leaf up to the flush
 * ceiling, else a CR3 reload (flush_tlb_mm_range).
 */
#include "base.h"
#include "guestmm/guestmm.h"
#include "memslots.h"
#include "simvirt/hostmm.h"
#include "simvirt/tracein.h"


/* ---- VMAs -------------------------------------------------------------- */

static gint addr_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	SV_UNUSED(unused);
	return (x > y) - (x < y);
}

/* g_tree_search's order for the VMA holding *addr: a key is the start
 * member, the first of its gvma. */
static gint vma_holds(gconstpointer key, gconstpointer addr)
{
	const gvma *m = key;
	uint64_t a = *(const uint64_t *)addr;

	return a < m->start ? -1 : a >= m->end ? 1 : 0;
}

GTree *sv_guestmm__vma_tree(void)
{
	return g_tree_new_full(addr_cmp, NULL, NULL, g_free);
}

gvma *sv_guestmm__vma_at(sv_guestmm *gm, uint64_t addr)
{
	return g_tree_search(gm->vmas, vma_holds, &addr);
}

bool sv_guestmm_vma_next(sv_guestmm_vma *out, sv_guestmm *gm, uint64_t addr)
{
	const gvma *m = sv_guestmm__vma_at(gm, addr);

	if (!m) {
		GTreeNode *n = g_tree_lower_bound(gm->vmas, &addr);

		m = n ? g_tree_node_value(n) : NULL;
	}
	if (!m)
		return false;
	*out = (sv_guestmm_vma){.start = m->start, .end = m->end, .prot = m->prot};
	return true;
}

void sv_guestmm__vma_insert(sv_guestmm *gm, const gvma *v)
{
	gvma *n = g_new(gvma, 1);

	*n = *v;
	g_tree_insert(gm->vmas, &n->start, n);
}

/* Splits the VMA holding addr (if any, and addr inside it) at addr. */
static void vma_split(sv_guestmm *gm, uint64_t addr)
{
	gvma *m = sv_guestmm__vma_at(gm, addr), upper;

	if (!m || m->start == addr)
		return;
	upper = *m;
	upper.start = addr;
	m->end = addr;
	sv_guestmm__vma_insert(gm, &upper);
}

typedef struct vma_range {
	uint64_t start, end;
	GPtrArray *hits;
} vma_range;

static gboolean range_step(gpointer k, gpointer v, gpointer data)
{
	vma_range *r = data;
	gvma *m = v;

	SV_UNUSED(k);
	if (m->start >= r->end)
		return TRUE;
	if (m->end > r->start)
		g_ptr_array_add(r->hits, m);
	return FALSE;
}

typedef struct vma_overlap {
	uint64_t start, end;
	bool hit;
} vma_overlap;

static gboolean overlap_step(gpointer k, gpointer v, gpointer data)
{
	vma_overlap *o = data;
	const gvma *m = v;

	SV_UNUSED(k);
	if (m->start >= o->end)
		return TRUE;
	o->hit = m->end > o->start;
	return o->hit;
}

bool sv_guestmm__overlaps(sv_guestmm *gm, uint64_t start, uint64_t end)
{
	vma_overlap o = {start, end, false};

	g_tree_foreach(gm->vmas, overlap_step, &o);
	return o.hit;
}

/* The VMAs inside [start, end), after splitting those that cross its
 * ends. */
GPtrArray *sv_guestmm__vmas_in(sv_guestmm *gm, uint64_t start, uint64_t end)
{
	vma_range r = {start, end, g_ptr_array_new()};

	vma_split(gm, start);
	vma_split(gm, end);
	g_tree_foreach(gm->vmas, range_step, &r);
	return r.hits;
}

/* ---- frames, tables, flushes --------------------------------------------- */

int sv_guestmm__map(sv_guestmm *gm, uint64_t gva, uint64_t gpa,
		    uint64_t size, bool writable)
{
	return sv_pt_map(gm->pt, gva, gpa, size, size,
			 SV_PTE_US | (writable ? SV_PTE_RW : 0));
}

/* The leaf over gva: its entry and level (0 entry: none). */
uint64_t sv_guestmm__leaf(sv_guestmm *gm, uint64_t gva, unsigned *level)
{
	uint64_t e = 0;

	*level = 3;
	if (sv_pt_get(&e, gm->pt, gva, 3) == SV_OK &&
	    (e & (SV_PTE_P | PTE_PROTNONE)) && (e & SV_PTE_PS))
		return e;
	*level = 2;
	if (sv_pt_get(&e, gm->pt, gva, 2) == SV_OK &&
	    (e & (SV_PTE_P | PTE_PROTNONE)) && (e & SV_PTE_PS))
		return e;
	*level = 1;
	if (sv_pt_get(&e, gm->pt, gva, 1) != SV_OK)
		return 0;
	return e & (SV_PTE_P | PTE_PROTNONE) ? e : 0;
}

int sv_guestmm_leaf(uint64_t *entry, unsigned *level, sv_guestmm *gm,
		    uint64_t gva)
{
	sv_err__clear();
	if (!entry || !level || !gm)
		return sv_err__set(NULL, SV_EINVAL, "sv_guestmm_leaf: NULL argument");
	*entry = sv_guestmm__leaf(gm, gva, level);
	return *entry ? SV_OK
		      : sv_err__set(gm->vm, SV_ENOENT, "sv_guestmm_leaf: nothing "
						       "maps 0x%" PRIx64, gva);
}

int sv_guestmm__put_leaf(sv_guestmm *gm, uint64_t gva, unsigned level,
			 uint64_t e)
{
	uint64_t size = sv_guestmm__level_size(level);
	int rc = sv_pt_map(gm->pt, gva, e & SV_PTE_ADDR_MASK & ~(size - 1), size,
			   size, SV_PTE_US);

	return rc ? rc : sv_pt_write(gm->pt, gva, level, e);
}

uint64_t sv_guestmm__skip(sv_guestmm *gm, uint64_t a)
{
	uint64_t e;

	if (sv_pt_get(&e, gm->pt, a, 2) != SV_OK || !(e & SV_PTE_P))
		return (a & ~(SZ_2M - 1)) + SZ_2M; /* no page table there */
	return a + SV_PAGE_4K;
}

/* flush_tlb_mm_range on every vCPU running the process (all: the whole
 * TLB); with PCIDs, a process running nowhere is flushed at its next
 * switch instead. */
static void flush_range(sv_guestmm *gm, const GArray *gvas, bool all)
{
	uint64_t cr3 = sv_pt_root(gm->pt);
	unsigned i, n = sv_vm_vcpu_count(gm->vm);
	bool running = false;
	guint k;

	for (i = 0; i < n; i++) {
		sv_vcpu *v = sv_vm_vcpu(gm->vm, i);
		sv_vcpu_regs r;

		sv_vcpu_get_regs(v, &r);
		if ((r.cr3 & SV_PTE_ADDR_MASK) != cr3)
			continue;
		running = true;
		if (all || gvas->len > gm->o.flush_ceiling) {
			sv_vcpu_mov_cr3(v, r.cr3);
			gm->k->stat[SV_GUESTMM_STAT_tlb_full_flush]++;
			continue;
		}
		for (k = 0; k < gvas->len; k++)
			sv_vcpu_invlpg(v, g_array_index(gvas, uint64_t, k));
		gm->k->stat[SV_GUESTMM_STAT_tlb_invlpg] += gvas->len;
	}
	if (!running && gm->o.pcid)
		gm->stale = true;
}

void sv_guestmm__flush(sv_guestmm *gm, const GArray *gvas)
{
	if (gvas->len)
		flush_range(gm, gvas, false);
}

void sv_guestmm__flush_mm(sv_guestmm *gm)
{
	GArray none = {0};

	flush_range(gm, &none, true);
}

int sv_guestmm__split_thp(sv_guestmm *gm, uint64_t base, uint64_t pmd)
{
	/* the PTEs keep the PMD's flags, A/D and PROT_NONE (bit 7 is PAT
	 * in a PTE, bit 12 the PMD's PAT) */
	uint64_t i, gpa = pmd & SV_PTE_ADDR_MASK & ~(SZ_2M - 1);
	uint64_t flags = pmd & ~SV_PTE_ADDR_MASK & ~SV_PTE_PS;
	bool zero = gpa == gm->k->huge_zero_gpa; /* PTEs of the 4K zero page */
	int rc = sv_pt_unmap(gm->pt, base, SZ_2M);

	for (i = 0; i < 512 && rc == SV_OK; i++)
		rc = sv_guestmm__put_leaf(gm, base + i * SV_PAGE_4K, 1,
					  (zero ? gm->k->zero_gpa
						: gpa + i * SV_PAGE_4K) | flags);
	gm->k->stat[SV_GUESTMM_STAT_thp_split_pmd]++;
	return rc;
}

int sv_guestmm__for_each_leaf(sv_guestmm *gm, uint64_t start, uint64_t end,
			      sv_guestmm__leaf_fn fn, void *payload)
{
	uint64_t a = start;
	int rc = SV_OK;

	while (a < end && rc >= SV_OK) {
		unsigned level;
		uint64_t e = sv_guestmm__leaf(gm, a, &level), size, base;

		if (!e) {
			a = sv_guestmm__skip(gm, a);
			continue;
		}
		size = sv_guestmm__level_size(level);
		base = a & ~(size - 1);
		rc = fn(gm, base, level, e, base < start || base + size > end,
			payload);
		if (rc == SV_OK)
			a = base + size;
	}
	return rc < SV_OK ? rc : SV_OK;
}

/* One leaf of a zap: a THP covered in part split first (its other pages
 * stay, 4K); a hugetlbfs page back to its pool; any other page freed
 * unless another process maps it or it is a zero page. */
static int zap_leaf(sv_guestmm *gm, uint64_t base, unsigned level, uint64_t e,
		    bool partial, void *gvas)
{
	uint64_t size = sv_guestmm__level_size(level);
	uint64_t gpa = e & SV_PTE_ADDR_MASK & ~(size - 1);
	const gvma *m = sv_guestmm__vma_at(gm, base);
	int rc;

	if (level == 2 && partial && !(m && m->hpage))
		return sv_guestmm__split_again(gm, base, e);
	rc = sv_pt_unmap(gm->pt, base, size);
	if (level > 1 && m && m->hpage)
		sv_guestmm__hugetlb_put(gm, gpa, size);
	else if (!sv_guestmm__is_zero(gm->k, gpa))
		sv_guestmm__put_frames(gm, gpa, size);
	g_array_append_val((GArray *)gvas, base);
	return rc;
}

int sv_guestmm__zap(sv_guestmm *gm, uint64_t start, uint64_t end)
{
	GArray *gvas = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	int rc = sv_guestmm__for_each_leaf(gm, start, end, zap_leaf, gvas);

	sv_guestmm__flush(gm, gvas);
	g_array_free(gvas, TRUE);
	return rc;
}

/* ---- faults ---------------------------------------------------------------- */

bool sv_guestmm__thp_eligible(const sv_guestmm *gm, const gvma *m,
			       uint64_t gva)
{
	uint64_t base = gva & ~(SZ_2M - 1);

	if (gm->o.thp == SV_GUEST_THP_NEVER || m->advice == SV_GMADV_NOHUGEPAGE ||
	    m->hpage || m->file ||
	    (gm->o.thp == SV_GUEST_THP_MADVISE && m->advice != SV_GMADV_HUGEPAGE))
		return false;
	return base >= m->start && base + SZ_2M <= m->end;
}

/* The huge zero page, made on first use (get_huge_zero_page): false if
 * no 2M block is free for it. */
static bool huge_zero(sv_guestmm *gm, sv_vcpu *v)
{
	gkernel *k = gm->k;
	uint64_t gpa;

	if (k->huge_zero_gpa)
		return true;
	gpa = sv_buddy__alloc(&k->buddy, SV_BUDDY_MAX_ORDER);
	if (!gpa || !sv_guestmm__zero_frames(gm, v, gpa, SZ_2M)) {
		if (gpa)
			sv_buddy__free(&k->buddy, gpa, SV_BUDDY_MAX_ORDER);
		k->stat[SV_GUESTMM_STAT_thp_zero_page_alloc_failed]++;
		return false;
	}
	k->huge_zero_gpa = gpa;
	k->stat[SV_GUESTMM_STAT_thp_zero_page_alloc]++;
	return true;
}

/* Steps 1-4; true when the fault was handled (the access may retry). */
static bool handle_fault(sv_guestmm *gm, sv_vcpu *v, const sv_fault *f,
			 sv_access acc)
{
	uint64_t gva = f->gva & ~0xfffULL, e = 0, gpa;
	bool write = acc == SV_ACCESS_WRITE;
	gvma *m = sv_guestmm__vma_at(gm, gva);
	unsigned level;

	if (!m || (write && !(m->prot & SV_PROT_WRITE)) ||
	    (acc == SV_ACCESS_READ && !(m->prot & SV_PROT_READ)) ||
	    (acc == SV_ACCESS_FETCH && !(m->prot & SV_PROT_EXEC)))
		return false;
	if (m->hpage)
		return !(f->error_code & SV_PFERR_P) &&
		       sv_guestmm__hugetlb_fault(gm, v, m, gva);
	if (f->error_code & SV_PFERR_P) {
		e = sv_guestmm__leaf(gm, gva, &level);
		if (!write || !e || !(e & SV_PTE_P) || (e & SV_PTE_RW))
			return false;
		if (!sv_guestmm__is_zero(gm->k, e & SV_PTE_ADDR_MASK))
			return sv_guestmm__wp_fault(gm, v, gva, level, e);
		/* the huge zero page: split into PTEs of the 4K zero page, and
		 * the one page written copied below */
		if (level == 2 &&
		    sv_guestmm__split_thp(gm, gva & ~(SZ_2M - 1), e) != SV_OK)
			return false;
		gpa = sv_buddy__alloc(&gm->k->buddy, 0);
		if (!gpa || sv_pt_unmap(gm->pt, gva, SV_PAGE_4K))
			return false;
		if (!sv_guestmm__zero_frames(gm, v, gpa, SV_PAGE_4K))
			return false;
		gm->k->stat[SV_GUESTMM_STAT_cow_zero]++;
		gm->k->stat[SV_GUESTMM_STAT_pgalloc]++;
		gm->k->stat[SV_GUESTMM_STAT_pgfault]++;
		return sv_guestmm__map(gm, gva, gpa, SV_PAGE_4K, true) == SV_OK;
	}
	gm->k->stat[SV_GUESTMM_STAT_pgfault]++;
	if (sv_guestmm__thp_eligible(gm, m, gva) &&
	    (sv_pt_get(&e, gm->pt, gva, 2) != SV_OK || !(e & SV_PTE_P))) {
		if (!write && gm->o.use_zero_page && huge_zero(gm, v)) {
			gm->k->stat[SV_GUESTMM_STAT_zero_page_maps]++;
			return sv_guestmm__map(gm, gva & ~(SZ_2M - 1),
					       gm->k->huge_zero_gpa, SZ_2M,
					       false) == SV_OK;
		}
		gpa = sv_buddy__alloc(&gm->k->buddy, SV_BUDDY_MAX_ORDER);
		if (!gpa && sv_guestmm__defrag_direct(gm, m))
			gpa = sv_guestmm__compact(gm, v, true);
		if (!gpa && sv_guestmm__defrag_defer(gm, m))
			gm->k->kcompactd_wake = true;
		if (gpa) {
			if (!sv_guestmm__zero_frames(gm, v, gpa, SZ_2M))
				return false;
			gm->k->stat[SV_GUESTMM_STAT_thp_fault_alloc]++;
			gm->k->stat[SV_GUESTMM_STAT_pgalloc] += 512;
			return sv_guestmm__map(gm, gva & ~(SZ_2M - 1), gpa, SZ_2M, true) == SV_OK;
		}
		gm->k->stat[SV_GUESTMM_STAT_thp_fault_fallback]++;
	}
	if (!write && !m->file) {
		gm->k->stat[SV_GUESTMM_STAT_zero_page_maps]++;
		return sv_guestmm__map(gm, gva, gm->k->zero_gpa, SV_PAGE_4K, false) == SV_OK;
	}
	gpa = sv_buddy__alloc(&gm->k->buddy, 0);
	if (!gpa || !sv_guestmm__zero_frames(gm, v, gpa, SV_PAGE_4K))
		return false; /* out of memory: the fault stays */
	gm->k->stat[SV_GUESTMM_STAT_pgalloc]++;
	return sv_guestmm__map(gm, gva, gpa, SV_PAGE_4K,
			       (m->prot & SV_PROT_WRITE) != 0) == SV_OK;
}

int sv_guestmm_fault_in(sv_xlate *out, sv_guestmm *gm, sv_vcpu *v,
			uint64_t gva, uint32_t size, sv_access acc)
{
	unsigned tries;
	int rc = SV_OK;

	/* a fault per page the access spans, and one more for the zero
	 * page's copy: four at most */
	for (tries = 0; tries < 4; tries++) {
		if (out->fault.kind != SV_FAULT_PF ||
		    !handle_fault(gm, v, &out->fault, acc))
			return rc;
		rc = sv_vcpu_translate(out, v, gva, size, acc);
		if (rc != SV_OK)
			return rc;
	}
	return SV_OK;
}

int sv_guestmm_access(sv_xlate *out, sv_guestmm *gm, sv_vcpu *v,
		      uint64_t gva, uint32_t size, sv_access acc)
{
	int rc;

	sv_err__clear();
	if (!out || !gm || !v)
		return sv_err__set(NULL, SV_EINVAL, "sv_guestmm_access: NULL argument");
	rc = sv_vcpu_translate(out, v, gva, size, acc);
	if (rc != SV_OK || SV_LIKELY(out->fault.kind == SV_FAULT_NONE))
		return rc;
	return sv_guestmm_fault_in(out, gm, v, gva, size, acc);
}

/* ---- the calls ------------------------------------------------------------------ */

void sv_guestmm_options_init(sv_guestmm_options *o)
{
	static const sv_guestmm_options d = SV_GUESTMM_OPTIONS_INIT;

	if (o)
		memcpy(o, &d, sizeof(d));
}

/* frag_percent: every 2M block taken, then given back whole, or less one
 * 4K page the kernel keeps (block and page chosen by the seed). */
static void fragment(sv_guestmm *gm)
{
	uint64_t state = gm->o.seed, n = gm->k->buddy.frames / 512, i, *blocks;

	if (!gm->o.frag_percent)
		return;
	blocks = g_new(uint64_t, n);
	for (i = 0; i < n; i++)
		blocks[i] = sv_buddy__alloc(&gm->k->buddy, SV_BUDDY_MAX_ORDER);
	for (i = 0; i < n; i++) {
		uint64_t keep, p;

		if (sv_rng__next(&state) % 100 >= gm->o.frag_percent) {
			sv_buddy__free(&gm->k->buddy, blocks[i], SV_BUDDY_MAX_ORDER);
			continue;
		}
		keep = sv_rng__next(&state) % 512;
		for (p = 0; p < 512; p++)
			if (p != keep)
				sv_buddy__free(&gm->k->buddy, blocks[i] + p * SV_PAGE_4K, 0);
		gm->k->stat[SV_GUESTMM_STAT_frag_pinned]++;
	}
	g_free(blocks);
}

int sv_guestmm_new(sv_guestmm **out, sv_vm *vm, const sv_guestmm_options *opts)
{
	uint64_t pool, a, top;
	sv_pt_options po = {
		.version = SV_PT_OPTIONS_VERSION,
		.kind = SV_PT_GUEST,
	};
	sv_guestmm *gm;
	int rc;

	sv_err__clear();
	if (!out || !vm || !opts)
		return sv_err__set(vm, SV_EINVAL, "sv_guestmm_new: NULL argument");
	*out = NULL;
	if (opts->version != 1 && opts->version != SV_GUESTMM_OPTIONS_VERSION)
		return sv_err__set(vm, SV_EINVAL, "guestmm options: version %u "
						  "(expected 1 or %u)", opts->version,
				   SV_GUESTMM_OPTIONS_VERSION);
	if (opts->frag_percent > 100)
		return sv_err__set(vm, SV_EINVAL, "guestmm options: frag_percent %u "
						  "(expected 0 to 100)", opts->frag_percent);
	if ((unsigned)opts->thp > SV_GUEST_THP_ALWAYS ||
	    (opts->version >= 2 && (unsigned)opts->defrag > SV_GUEST_DEFRAG_NEVER) ||
	    (opts->mem_gpa | opts->mem_size) & (SZ_2M - 1) ||
	    opts->mem_size < 2 * SZ_2M ||
	    opts->mem_gpa + opts->mem_size < opts->mem_gpa)
		return sv_err__set(vm, SV_EINVAL,
				   "guestmm options: memory [0x%" PRIx64 ", +0x%" PRIx64
				   ") and thp %d (expected a 2M-aligned range of 4M "
				   "or more, thp never, madvise or always)",
				   opts->mem_gpa, opts->mem_size, (int)opts->thp);
	for (a = opts->mem_gpa; a < opts->mem_gpa + opts->mem_size; a += SV_PAGE_4K)
		if (!sv_memslots__ptr(&vm->memslots, a))
			return sv_err__set(vm, SV_EINVAL,
					   "guestmm options: gpa 0x%" PRIx64 " is "
					   "in no memslot with bytes", a);
	gm = g_new0(sv_guestmm, 1);
	gm->vm = vm;
	if (opts->version == 1) { /* it ends before pcid */
		sv_guestmm_options_init(&gm->o);
		memcpy(&gm->o, opts, offsetof(sv_guestmm_options, pcid));
	} else
		gm->o = *opts;
	gm->o.version = SV_GUESTMM_OPTIONS_VERSION;
	gm->k = g_new0(gkernel, 1);
	gm->k->procs = 1;
	gm->k->used = g_new0(uint64_t, (opts->mem_size >> 12) / 64);
	gm->k->shared = g_hash_table_new_full(g_int64_hash, g_int64_equal,
					      g_free, NULL);
	gm->pcid = gm->o.pcid ? ++gm->k->next_pcid : 0;
	/* the tables' pool: 1/64 of the memory, 2M at least */
	pool = MAX(opts->mem_size / 64 & ~(SZ_2M - 1), SZ_2M);
	po.pool_gpa = opts->mem_gpa;
	po.pool_size = pool;
	top = opts->mem_gpa + opts->mem_size;
	rc = sv_pt_new(&gm->pt, vm, &po);
	if (rc == SV_OK)
		rc = sv_guestmm__hugetlb_init(gm, &top);
	if (rc == SV_OK && top <= opts->mem_gpa + pool)
		rc = sv_err__set(vm, SV_EINVAL, "guestmm options: the hugetlbfs "
						"pages leave no memory for the "
						"page allocator");
	if (rc == SV_OK)
		rc = sv_buddy__init(&gm->k->buddy, opts->mem_gpa + pool,
				    (uint32_t)((top - opts->mem_gpa - pool) >> 12));
	if (rc == SV_OK)
		rc = sv_guestmm__hugetlb_init_2m(gm);
	if (rc == SV_OK)
		fragment(gm);
	if (rc == SV_OK) {
		gm->k->zero_gpa = sv_buddy__alloc(&gm->k->buddy, 0);
		sv_guestmm__zero_frames(gm, NULL, gm->k->zero_gpa, SV_PAGE_4K);
		/* the direct map, global: every process's kernel half */
		rc = sv_pt_map(gm->pt, PHYSMAP + opts->mem_gpa, opts->mem_gpa,
			       opts->mem_size, SZ_2M, SV_PTE_RW | SV_PTE_G);
	}
	if (rc != SV_OK) {
		sv_guestmm_free(gm);
		return sv_err__set(vm, rc, "sv_guestmm_new: %s", sv_error_detail());
	}
	gm->vmas = sv_guestmm__vma_tree();
	*out = gm;
	return SV_OK;
}

void sv_guestmm_free(sv_guestmm *gm)
{
	if (!gm)
		return;
	/* a process that exits gives its pages back (the kernel stays
	 * while another process lives) */
	if (gm->vmas && gm->k->procs > 1)
		sv_guestmm__exit_mm(gm);
	if (gm->vmas)
		g_tree_destroy(gm->vmas);
	sv_pt_free(gm->pt);
	if (--gm->k->procs == 0) {
		sv_buddy__fini(&gm->k->buddy);
		if (gm->k->htlb_free[0])
			g_array_free(gm->k->htlb_free[0], TRUE);
		if (gm->k->htlb_free[1])
			g_array_free(gm->k->htlb_free[1], TRUE);
		g_hash_table_destroy(gm->k->shared);
		g_free(gm->k->used);
		g_free(gm->k);
	}
	g_free(gm);
}

uint64_t sv_guestmm_cr3(const sv_guestmm *gm)
{
	return gm ? sv_pt_root(gm->pt) | gm->pcid : 0;
}

int sv_guestmm__check_range(const sv_guestmm *gm, const char *what,
			    uint64_t addr, uint64_t len)
{
	if (!gm)
		return sv_err__set(NULL, SV_EINVAL, "%s: NULL argument", what);
	if (!len || (addr | len) & 0xfff || addr + len < addr || addr + len > MMAP_END)
		return sv_err__set(gm->vm, SV_EINVAL,
				   "%s: [0x%" PRIx64 ", +0x%" PRIx64 ") is not a "
				   "4K-aligned range of the user half", what, addr, len);
	return SV_OK;
}

typedef struct gap_find {
	uint64_t len, align, at;
} gap_find;

static gboolean gap_step(gpointer k, gpointer v, gpointer data)
{
	gap_find *g = data;
	const gvma *m = v;

	SV_UNUSED(k);
	if (m->end <= g->at)
		return FALSE;
	if (m->start >= g->at + g->len)
		return TRUE; /* the gap before it fits */
	g->at = (m->end + g->align - 1) & ~(g->align - 1);
	return FALSE;
}

uint64_t sv_guestmm__free_range(sv_guestmm *gm, uint64_t len, uint64_t align)
{
	gap_find g = {len, align ? align : len % SZ_2M ? SV_PAGE_4K : SZ_2M,
		      MMAP_BASE};

	g_tree_foreach(gm->vmas, gap_step, &g);
	return g.at + len > MMAP_END ? 0 : g.at;
}

int sv_guestmm_mmap(uint64_t *gva, sv_guestmm *gm, uint64_t addr,
		    uint64_t len, unsigned prot, unsigned flags)
{
	const unsigned ok = SV_GMAP_FIXED | SV_GMAP_HUGETLB_2M |
			    SV_GMAP_HUGETLB_1G | SV_GMAP_FILE;
	gvma m = {0};
	int rc;

	sv_err__clear();
	if (gm && (flags & SV_GMAP_HUGETLB_2M || flags & SV_GMAP_HUGETLB_1G))
		m.hpage = flags & SV_GMAP_HUGETLB_1G ? SV_PAGE_1G : SZ_2M;
	if (m.hpage) /* hugetlbfs rounds the length up to its pages */
		len = (len + m.hpage - 1) & ~(m.hpage - 1);
	rc = sv_guestmm__check_range(gm, "sv_guestmm_mmap",
				     flags & SV_GMAP_FIXED ? addr : 0, len);
	if (rc)
		return rc;
	if (!gva || flags & ~ok ||
	    (flags & SV_GMAP_HUGETLB_2M && flags & SV_GMAP_HUGETLB_1G) ||
	    (m.hpage && flags & SV_GMAP_FIXED && addr & (m.hpage - 1)) ||
	    prot & ~(SV_PROT_READ | SV_PROT_WRITE | SV_PROT_EXEC))
		return sv_err__set(gm->vm, SV_EINVAL,
				   "sv_guestmm_mmap: addr 0x%" PRIx64 ", prot 0x%x, "
				   "flags 0x%x (expected SV_PROT_READ, _WRITE, "
				   "_EXEC; SV_GMAP_FIXED and one HUGETLB size, a "
				   "hugetlbfs mapping at an address aligned to "
				   "its pages)", addr, prot, flags);
	if (flags & SV_GMAP_FIXED) {
		rc = sv_guestmm_munmap(gm, addr, len);
		if (rc)
			return rc;
		m.start = addr;
	} else {
		m.start = sv_guestmm__free_range(gm, len, m.hpage);
		if (!m.start)
			return sv_err__set(gm->vm, SV_ENOMEM, "sv_guestmm_mmap: no "
							      "free range of 0x%" PRIx64
							      " bytes", len);
	}
	m.end = m.start + len;
	m.prot = prot;
	m.advice = SV_GMADV_DONTNEED;
	m.file = (flags & SV_GMAP_FILE) != 0 && !m.hpage;
	sv_guestmm__vma_insert(gm, &m);
	*gva = m.start;
	return SV_OK;
}

int sv_guestmm_munmap(sv_guestmm *gm, uint64_t addr, uint64_t len)
{
	GPtrArray *hits;
	guint i;
	int rc;

	sv_err__clear();
	rc = sv_guestmm__check_range(gm, "sv_guestmm_munmap", addr, len);
	if (rc == SV_OK)
		rc = sv_guestmm__hugetlb_whole(gm, "sv_guestmm_munmap", addr,
					       addr + len);
	if (rc)
		return rc;
	rc = sv_guestmm__zap(gm, addr, addr + len);
	hits = sv_guestmm__vmas_in(gm, addr, addr + len);
	for (i = 0; i < hits->len; i++) {
		gvma *m = g_ptr_array_index(hits, i);

		g_tree_remove(gm->vmas, &m->start);
	}
	g_ptr_array_free(hits, TRUE);
	return rc;
}

uint64_t sv_guestmm_stat_get(const sv_guestmm *gm, sv_guestmm_stat s)
{
	return gm && (unsigned)s < SV_GUESTMM_STAT__COUNT ? gm->k->stat[s] : 0;
}

const char *sv_guestmm_stat_name(sv_guestmm_stat s)
{
	static const char *const names[] = {
#define SV__GMSTAT_NAME(name, desc) #name,
		SV_GUESTMM_STAT_LIST(SV__GMSTAT_NAME)
#undef SV__GMSTAT_NAME
	};

	return (unsigned)s < SV_GUESTMM_STAT__COUNT ? names[s] : NULL;
}
