/*
 * lib/ept/dirty.c - memslot changes as the MMU sees them, and dirty logging
 * (arch/x86/kvm/x86.c kvm_mmu_slot_apply_flags, mmu.c, tdp_mmu.c,
 * virt/kvm/kvm_main.c kvm_get_dirty_log_protect / kvm_clear_dirty_log_protect).
 *
 *  start   With manual protect and INITIALLY_SET: the bitmap is all ones
 *          and nothing is protected now (each CLEAR protects).  Otherwise
 *          eager split (every huge SPTE of the slot down to 4K, no flush),
 *          then PML: clear D on every leaf and write-protect huge ones;
 *          without PML: write-protect every leaf (W only, MMU-writable
 *          stays so the fast path can restore it); one flush.
 *  stop    6.13+: each table the policy would map huge is replaced in place
 *          by the huge SPTE (one flush at the end).  6.2-6.12: each such
 *          table is zapped with its own range flush; the guest refaults.
 *          Before 6.2: each collapsible 4K leaf is zapped, one flush.
 *  GET     Without manual protect: each non-zero word is taken and its
 *          pages protected again; one flush if any.  With it: a copy.
 *  CLEAR   Per 64-page word: the bits given and set are cleared and their
 *          pages protected (with eager split, the word's range is split
 *          first and huge SPTEs at its ends write-protected); one flush.
 *  PML     A write that sets an EPT D flag logs the GPA; a full log (512)
 *          exits, and every exit empties the log into the bitmaps.
 */
#include "mmu.h"

void sv__mmu_mark_dirty(sv_mmu *m, sv_memslot *s, uint64_t gfn)
{
	uint64_t i = gfn - (s->gpa >> 12);

	if (!s->dirty)
		return;
	if (!(s->dirty[i / 64] & (1ULL << (i % 64)))) {
		s->dirty[i / 64] |= 1ULL << (i % 64);
		m->vm->stat[SV_VM_STAT_dirty_marked]++;
	}
}

static uint64_t slot_words(const sv_memslot *s)
{
	return ((s->size >> 12) + 63) / 64;
}

/* ---- memslot changes ------------------------------------------------------- */

void sv__mmu_gen_bump(sv_mmu *m)
{
	/* Two address spaces on x86: the generation moves by 2 per update;
	 * MMIO SPTEs keep 19 bits of it, so it wraps to 0 every 2^18
	 * updates and every MMIO SPTE must go (kvm_mmu_zap_all_fast). */
	m->gen += 2;
	m->vm->stat[SV_VM_STAT_memslot_updates]++;
	if ((m->gen & ((1ULL << SPTE_MMIO_GEN_BITS) - 1)) == 0) {
		unsigned as, i;

		m->vm->stat[SV_VM_STAT_mmio_gen_wraps]++;
		for (as = 0; as < 2; as++) {
			uint64_t *root;

			if (!m->root[as])
				continue;
			root = sp_table(m, m->root[as]);
			for (i = 0; i < SV_PT_ENTRIES; i++)
				sv__mmu_zap(m, &root[i], m->top);
		}
		sv__mmu_flush_remote(m);
	}
}

int sv__mmu_slot_created(sv_mmu *m, sv_memslot *s)
{
	sv__mmu_gen_bump(m);
	if ((s->flags & SV_MEMSLOT_LOG_DIRTY) && !s->dirty) {
		sv__mmu_log_start(m, s);
		if (!s->dirty)
			return sv__err(m->vm, SV_ENOMEM,
				       "memslot %u: no memory for the dirty "
				       "bitmap", s->id);
	}
	return SV_OK;
}

void sv__mmu_slot_removed(sv_mmu *m, const sv_memslot *s)
{
	/* kvm_arch_flush_shadow_memslot: every SPTE of the slot, one flush */
	if (sv__mmu_zap_leafs(m, s->as, s->gpa >> 12, (s->gpa + s->size) >> 12))
		sv__mmu_flush_remote(m);
	sv__mmu_gen_bump(m);
}

/* ---- protection ---------------------------------------------------------------- */

typedef struct prot_ctx {
	bool huge_only;   /* only leaves above 4K */
	bool clear_d;     /* PML: clear D on 4K leaves instead of W */
	bool changed;
	uint64_t base;    /* with mask: only the 4K leaves of gfns base + i */
	uint64_t mask;    /* for the bits i set in it (0: every leaf) */
} prot_ctx;

static sv_rw_ret protect_fn(sv_mmu *m, uint64_t *ptr, unsigned level,
			    uint64_t gfn, void *ctx)
{
	prot_ctx *c = ctx;
	uint64_t e = *ptr, n;

	SV_UNUSED(gfn);
	if (!spte_leaf(m, e, level))
		return RW_NEXT;
	if (c->huge_only && level == 1)
		return RW_SKIP;
	if (c->mask && (level > 1 || !((c->mask >> (gfn - c->base)) & 1)))
		return RW_SKIP;
	n = c->clear_d && level == 1 ? e & ~m->b.d : e & ~m->b.w;
	if (n != e) {
		*ptr = n;
		c->changed = true;
		m->vm->stat[SV_VM_STAT_wrprot]++;
	}
	return RW_SKIP;
}

static sv_rw_ret split_fn(sv_mmu *m, uint64_t *ptr, unsigned level,
			  uint64_t gfn, void *ctx)
{
	SV_UNUSED(ctx);
	if (level > 1 && spte_leaf(m, *ptr, level)) {
		sv__mmu_split_to_4k(m, ptr, level, gfn);
		return RW_SKIP;
	}
	return RW_NEXT;
}

/* Protects [start, end) of address space as for logging: PML clears D
 * (and write-protects huge leaves), else every leaf loses W.  True if
 * anything changed. */
static bool protect_range(sv_mmu *m, unsigned as, uint64_t start,
			  uint64_t end)
{
	prot_ctx c = {false, m->opts.pml, false, 0, 0};

	if (m->opts.pml) {
		prot_ctx h = {true, false, false, 0, 0};

		sv__mmu_walk_range(m, as, start, end, 1, protect_fn, &h);
		c.changed = h.changed;
	}
	sv__mmu_walk_range(m, as, start, end, 1, protect_fn, &c);
	return c.changed;
}

void sv__mmu_log_start(sv_mmu *m, sv_memslot *s)
{
	uint64_t start = s->gpa >> 12, end = (s->gpa + s->size) >> 12;
	uint64_t words = slot_words(s);

	s->dirty = g_try_new0(uint64_t, words);
	if (m->opts.audit)
		s->written = g_try_new0(uint64_t, words);
	if (!s->dirty)
		return;
	if (m->opts.manual_protect && m->opts.initially_set) {
		uint64_t i, pages = s->size >> 12;

		for (i = 0; i < words; i++)
			s->dirty[i] = ~0ULL;
		if (pages % 64)
			s->dirty[words - 1] = (1ULL << (pages % 64)) - 1;
		return;
	}
	if (m->opts.eager_page_split)
		sv__mmu_walk_range(m, s->as, start, end, 2, split_fn, NULL);
	protect_range(m, s->as, start, end);
	sv__mmu_flush_remote(m);
}

/* ---- stopping: collapse ------------------------------------------------------- */

typedef struct collapse_ctx {
	const sv_memslot *s;
	bool any;
} collapse_ctx;

/* Stops at the first present leaf of a range walk and keeps it. */
static sv_rw_ret first_leaf_fn(sv_mmu *m, uint64_t *ptr, unsigned level,
			       uint64_t gfn, void *ctx)
{
	uint64_t *leaf = ctx;

	SV_UNUSED(gfn);
	if (!spte_leaf(m, *ptr, level))
		return RW_NEXT;
	*leaf = *ptr;
	return RW_STOP;
}

static sv_rw_ret collapse_fn(sv_mmu *m, uint64_t *ptr, unsigned level,
			     uint64_t gfn, void *ctx)
{
	collapse_ctx *c = ctx;
	uint64_t slot_start = c->s->gpa >> 12, slot_end = slot_start + (c->s->size >> 12);
	uint64_t e = *ptr, huge;

	if (spte_leaf(m, e, level))
		return RW_SKIP;
	/* The whole range of the entry must lie in the slot. */
	if (gfn < slot_start || gfn + level_pages(level) > slot_end ||
	    sv__mmu_max_mapping_level(m, c->s, gfn, true) < level)
		return RW_NEXT;
	if (!m->opts.recover_in_place) {
		/* kvm_tdp_mmu_zap_collapsible_sptes: zap, flush the range */
		sv__mmu_zap(m, ptr, level);
		if (m->opts.bugs & SV_BUG_BASE_FLUSH)
			sv__mmu_flush_base(m, gfn);
		else
			sv__mmu_flush_remote(m);
		return RW_SKIP;
	}
	/* kvm_mmu_recover_huge_pages: a leaf below gives the frame and
	 * the bits; the huge SPTE replaces the table at once. */
	/* Any present leaf below: the caller rounds its frame down to the
	 * huge page, which the policy found to be one host mapping. */
	huge = 0;
	sv__mmu_walk_range(m, c->s->as, gfn, gfn + level_pages(level), 1,
			   first_leaf_fn, &huge);
	if (!huge)
		return RW_NEXT;
	huge = (huge & ~SPTE_ADDR) |
	       ((huge & SPTE_ADDR) & ~((level_pages(level) << 12) - 1)) | m->b.ps;
	if (m->opts.nx_huge_pages)
		huge = (huge & ~m->b.x) | m->b.nx;
	sv__mmu_install_huge(m, ptr, level, huge);
	m->vm->stat[level == 2 ? SV_VM_STAT_recover_2m : SV_VM_STAT_recover_1g]++;
	if (m->opts.bugs & SV_BUG_BASE_FLUSH)
		sv__mmu_flush_base(m, gfn);
	else
		c->any = true; /* one flush when the walk is done */
	return RW_SKIP;
}

/* Before 6.2: every 4K leaf whose gfn could be mapped huge is zapped. */
static sv_rw_ret leaf_collapse_fn(sv_mmu *m, uint64_t *ptr, unsigned level,
				  uint64_t gfn, void *ctx)
{
	collapse_ctx *c = ctx;

	if (!spte_leaf(m, *ptr, level))
		return RW_NEXT;
	if (level == 1 && sv__mmu_max_mapping_level(m, c->s, gfn, true) > 1) {
		sv__mmu_zap(m, ptr, level);
		c->any = true;
	}
	return RW_SKIP;
}

void sv__mmu_log_stop(sv_mmu *m, sv_memslot *s)
{
	uint64_t start = s->gpa >> 12, end = (s->gpa + s->size) >> 12;
	unsigned i;

	for (i = 0; i < m->vm->opts.vcpus; i++)
		sv__pml_drain(m->vm->vcpus[i]);
	g_free(s->dirty);
	g_free(s->written);
	s->dirty = NULL;
	s->written = NULL;
	if (m->opts.kernel_version < SV_KERNEL(6, 2) && !m->opts.recover_in_place) {
		collapse_ctx c = {s, false};

		sv__mmu_walk_range(m, s->as, start, end, 1, leaf_collapse_fn,
				   &c);
		if (c.any)
			sv__mmu_flush_remote(m);
	} else {
		collapse_ctx c = {s, false};

		sv__mmu_walk_range(m, s->as, start, end, 2, collapse_fn, &c);
		if (c.any)
			sv__mmu_flush_remote(m);
	}
}

/* ---- PML ---------------------------------------------------------------------- */

void sv__pml_drain(sv_vcpu *v)
{
	sv_mmu *m = v->vm->mmu;
	unsigned i;

	for (i = 0; i < v->pml_n; i++) {
		sv_memslot *s = sv__memslot_find(sv__vcpu_memslots(v), v->pml[i]);

		if (s)
			sv__mmu_mark_dirty(m, s, v->pml[i] >> 12);
	}
	v->pml_n = 0;
}

void sv__pml_log(sv_vcpu *v, uint64_t gpa)
{
	if (v->pml_n == 512) {
		/* The log is full: a PML-full exit before this write. */
		const sv_costs *c = &v->vm->opts.costs;

		v->stat[SV_VCPU_STAT_pml_full_exits]++;
		v->stat[SV_VCPU_STAT_exits]++;
		sv__charge(v, c->vmexit + c->vmentry);
		sv__pml_drain(v);
	}
	v->pml[v->pml_n++] = gpa & ~0xfffULL;
	v->stat[SV_VCPU_STAT_pml_entries]++;
}

/* ---- GET and CLEAR --------------------------------------------------------------- */

/* kvm_arch_mmu_enable_log_dirty_pt_masked for the pages in mask of the
 * word starting at page `first` of the slot. */
static bool protect_masked(sv_mmu *m, const sv_memslot *s, uint64_t first,
			   uint64_t mask)
{
	uint64_t base = (s->gpa >> 12) + first;
	uint64_t lo = base + (uint64_t)__builtin_ctzll(mask);
	uint64_t hi = base + 63 - (uint64_t)__builtin_clzll(mask);
	prot_ctx c = {false, m->opts.pml, false, base, mask};
	prot_ctx h = {true, false, false, 0, 0};

	if (m->opts.manual_protect && m->opts.initially_set) {
		if (m->opts.eager_page_split)
			sv__mmu_walk_range(m, s->as, lo, hi + 1, 2, split_fn,
					   NULL);
		sv__mmu_walk_range(m, s->as, lo, lo + 1, 2, protect_fn, &h);
		if ((lo >> 9) != (hi >> 9))
			sv__mmu_walk_range(m, s->as, hi, hi + 1, 2, protect_fn,
					   &h);
	}
	/* the 4K leaves of the pages in mask (huge ones were handled above) */
	sv__mmu_walk_range(m, s->as, lo, hi + 1, 1, protect_fn, &c);
	return h.changed || c.changed;
}

static int dirty_slot(sv_vm *vm, uint32_t id, sv_memslot **out)
{
	sv_memslot *s;
	unsigned i;

	if (!vm)
		return sv__err(NULL, SV_EINVAL, "dirty log: NULL vm");
	if (!vm->mmu)
		return sv__err(vm, SV_ENOTSUP, "dirty log: no MMU attached");
	s = sv__memslot_by_id(sv__memslots_as(vm, id >> 16), id);
	if (!s || !s->dirty)
		return sv__err(vm, SV_ENOENT,
			       "dirty log: memslot %u %s (KVM: ENOENT)", id,
			       s ? "does not log dirty pages" : "does not exist");
	for (i = 0; i < vm->opts.vcpus; i++)
		sv__pml_drain(vm->vcpus[i]);
	*out = s;
	return SV_OK;
}

/* Auditor: pages written but absent from what the user is handed. */
static void audit_harvest(sv_mmu *m, sv_memslot *s, uint64_t w,
			  uint64_t handed)
{
	uint64_t lost = s->written[w] & ~handed;

	if (lost)
		sv__audit(m, SV_AUDIT_lost_dirty,
			  "memslot %u: gpa 0x%" PRIx64 " written during dirty "
			  "logging but not in the bitmap",
			  s->id, s->gpa + ((w * 64 + (uint64_t)__builtin_ctzll(lost)) << 12));
	s->written[w] &= ~handed;
}

int sv_mmu_get_dirty_log(sv_vm *vm, uint32_t slot, uint64_t *bitmap)
{
	sv_mmu *m;
	sv_memslot *s;
	uint64_t w, words;
	bool flush = false;
	int rc = dirty_slot(vm, slot, &s);

	if (rc)
		return rc;
	if (!bitmap)
		return sv__err(vm, SV_EINVAL, "dirty log: NULL bitmap");
	m = vm->mmu;
	words = slot_words(s);
	for (w = 0; w < words; w++) {
		uint64_t mask = s->dirty[w];

		bitmap[w] = mask;
		if (s->written)
			audit_harvest(m, s, w, mask);
		if (m->opts.manual_protect || !mask)
			continue;
		s->dirty[w] = 0;
		protect_masked(m, s, w * 64, mask);
		flush = true;
	}
	if (flush)
		sv__mmu_flush_remote(m);
	return SV_OK;
}

int sv_mmu_clear_dirty_log(sv_vm *vm, uint32_t slot, uint64_t first_page,
			   uint64_t num_pages, const uint64_t *bitmap)
{
	sv_mmu *m;
	sv_memslot *s;
	uint64_t w, pages;
	bool flush = false;
	int rc = dirty_slot(vm, slot, &s);

	if (rc)
		return rc;
	m = vm->mmu;
	pages = s->size >> 12;
	if (!m->opts.manual_protect)
		return sv__err(vm, SV_EINVAL,
			       "clear dirty log: needs manual protect (KVM: "
			       "EINVAL)");
	if (!bitmap || first_page % 64 || first_page > pages ||
	    num_pages > pages - first_page ||
	    (num_pages % 64 && first_page + num_pages != pages))
		return sv__err(vm, SV_EINVAL,
			       "clear dirty log: pages [%" PRIu64 ", +%" PRIu64
			       ") of %" PRIu64 ": the first must be a multiple "
			       "of 64, the count too unless it reaches the end",
			       first_page, num_pages, pages);
	for (w = 0; w < (num_pages + 63) / 64; w++) {
		uint64_t word = first_page / 64 + w;
		uint64_t mask = s->dirty[word] & bitmap[w];

		if (!mask)
			continue;
		s->dirty[word] &= ~mask;
		protect_masked(m, s, word * 64, mask);
		flush = true;
	}
	if (flush)
		sv__mmu_flush_remote(m);
	return SV_OK;
}
