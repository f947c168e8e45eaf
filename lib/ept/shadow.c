/*
 * lib/ept/shadow.c - the shadow MMU (arch/x86/kvm/mmu/mmu.c and
 * paging_tmpl.h): tables of guest-virtual addresses built from the
 * guest's own page tables, which the hardware walks alone (the rmap that
 * finds every leaf over a gfn is lib/ept/rmap.c).
 *
 * How a shadow page fault is handled (FNAME(page_fault)):
 *  1. pf_taken.  The guest's tables are walked in software (walk_addr): a
 *     not-present entry, reserved bits (a 1G guest page without PDPE1GB)
 *     or permissions the guest's mode forbids are the guest's own #PF,
 *     injected (pf_guest).  Otherwise A is set in every guest entry used
 *     and D in the guest leaf for a write.  Paging off: gfn = gva.
 *  2. Fault-in of the gfn the guest maps, shared with TDP (memslot, host
 *     fault, read-only slots, EFAULT).  No memslot: the access is
 *     emulated, and with mmio_caching an MMIO SPTE sends the next one to
 *     emulation at once (a reserved-bit fault of the current memslot
 *     generation).
 *  3. The level: the smaller of the guest leaf's and what the slot and
 *     the host allow (kvm_mmu_max_mapping_level; 4K in a dirty-logged
 *     slot).
 *  4. FNAME(fetch), down the gva's path from the root of the guest's
 *     CR3: above the guest leaf, each entry links the shadow page of the
 *     guest table the guest entry points at; from the guest leaf down to
 *     the chosen level, direct shadow pages for the guest page's frames.
 *     A shadow page is made on first use (mmu_cache_miss) and kept; a huge
 *     leaf in the way is dropped and a different table unlinked, each with
 *     a flush.
 *  5. The leaf: the host frame with the guest's permissions, writable
 *     only where the guest PTE is dirty or the fault writes
 *     (protect_clean_gpte); a table where the leaf goes is unlinked with
 *     a flush.  Then the other absent entries of its aligned group of 8 are
 *     prefetched where everything is at hand (prefetch below).
 * A shadow page stays cached when it is unlinked; it goes when the guest
 * floods its table with writes, or to stay under the limit (oldest
 * first).  The guest's page tables are write-protected: a page table may
 * go unsync, a write to a higher one is emulated; INVLPG and MOV to CR3
 * sync.  Not modelled: roles beyond level and direct.
 */
#include "ept/fault.h"
#include "hostmm/host.h"

/* ---- shadow pages ----------------------------------------------------------------- */

static gpointer sp_key(uint64_t gfn, unsigned level, bool direct)
{
	return GSIZE_TO_POINTER((gfn << 4) | (level << 1) | direct);
}

/* ---- write protection of the guest's page tables ------------------------------ */

/* Is a page table of the guest's shadowed in the level-sized range of
 * gfn (level 1: gfn itself)? */
static bool shadowed(const sv_mmu *m, uint64_t gfn, unsigned level)
{
	return g_hash_table_contains(m->shadowed[level - 1],
				     GSIZE_TO_POINTER(gfn >> (9 * (level - 1))));
}

/* The indirect shadow page of gfn at level, or NULL. */
static sv_sp *indirect_sp(sv_mmu *m, uint64_t gfn, unsigned level, uint64_t *hpa)
{
	gpointer v;

	if (!g_hash_table_lookup_extended(m->sps, sp_key(gfn, level, false),
					  NULL, &v))
		return NULL;
	*hpa = (uint64_t)GPOINTER_TO_SIZE(v);
	return sv_mmu__sp(m, *hpa);
}

/* Every leaf over gfn loses W (kvm_mmu_slot_gfn_write_protect); a flush
 * if any did. */
static void wrprot_gfn(sv_mmu *m, uint64_t gfn)
{
	bool changed = false;
	sv_leaf_iter it;

	sv_mmu__for_each_leaf(&it, m, 0, gfn, gfn + 1, 1) {
		uint64_t e = *it.ptr;

		if (!sv_spte__writable(&m->b, e))
			continue;
		sv_mmu__spte_set(m, 0, it.ptr, it.gfn, it.level,
				 e & ~(m->b.w | m->b.mmu_w), SV_SPTE_protect);
		changed = true;
	}
	if (changed)
		sv_mmu__flush_remote(m);
}

/* account_shadowed: the guest table at gfn now has a shadow page; what
 * maps it is write-protected. */
static void account_shadowed(sv_mmu *m, uint64_t gfn)
{
	unsigned k;

	for (k = 0; k < 3; k++) {
		gpointer key = GSIZE_TO_POINTER(gfn >> (9 * k));

		g_hash_table_insert(m->shadowed[k], key,
				    GSIZE_TO_POINTER(GPOINTER_TO_SIZE(
					    g_hash_table_lookup(m->shadowed[k], key)) + 1));
	}
	wrprot_gfn(m, gfn);
}

/*
 * mmu_try_to_unsync_pages: may a writable leaf map the shadowed guest table
 * at gfn?  Only if every shadow page of it is a page table's (level 1):
 * they become unsync, and the guest writes the table freely until a sync.
 * A higher-level table stays write-protected (its writes are emulated).
 */
static bool try_unsync(sv_mmu *m, uint64_t gfn)
{
	uint64_t hpa;
	unsigned level;
	sv_sp *sp;

	for (level = 2; level <= m->top; level++)
		if (indirect_sp(m, gfn, level, &hpa))
			return false;
	sp = indirect_sp(m, gfn, 1, &hpa);
	if (sp && !sp->unsync) {
		sp->unsync = 1;
		g_array_append_val(m->unsync, hpa);
		m->vm->stat[SV_VM_STAT_sp_unsynced]++;
		m->vm->stat[SV_VM_STAT_mmu_unsync]++;
	}
	return true;
}

/* The shadow page of (gfn, level, direct), made if there is none; 0 when
 * no table page is left. */
static uint64_t get_sp(sv_mmu *m, uint64_t gfn, unsigned level, bool direct)
{
	gpointer k = sp_key(gfn, level, direct), hit;
	uint64_t hpa;
	sv_sp *sp;

	if (g_hash_table_lookup_extended(m->sps, k, NULL, &hit))
		return (uint64_t)GPOINTER_TO_SIZE(hit);
	hpa = sv_mmu__sp_alloc(m, gfn, level);
	if (!hpa)
		return 0;
	sp = sv_mmu__sp(m, hpa);
	sp->direct = direct;
	if (!direct && level <= m->max_level)
		sp->gfns = g_new0(uint64_t, SV_PT_ENTRIES);
	g_hash_table_insert(m->sps, k, GSIZE_TO_POINTER(hpa));
	g_queue_push_tail(m->active, GSIZE_TO_POINTER(hpa));
	m->vm->stat[SV_VM_STAT_mmu_cache_miss]++;
	if (!direct)
		account_shadowed(m, gfn);
	return hpa;
}

/* ---- zapping shadow pages ----------------------------------------------------------- */

static void unaccount_shadowed(sv_mmu *m, uint64_t gfn)
{
	unsigned k;

	for (k = 0; k < 3; k++) {
		gpointer key = GSIZE_TO_POINTER(gfn >> (9 * k));
		gsize n = GPOINTER_TO_SIZE(g_hash_table_lookup(m->shadowed[k], key));

		if (n > 1)
			g_hash_table_insert(m->shadowed[k], key, GSIZE_TO_POINTER(n - 1));
		else
			g_hash_table_remove(m->shadowed[k], key);
	}
}

static bool root_in_use(sv_mmu *m, uint64_t hpa)
{
	unsigned i;

	for (i = 0; i < m->vm->opts.vcpus; i++)
		if (sv_vm_vcpu(m->vm, i)->sroot == hpa)
			return true;
	return false;
}

/*
 * kvm_mmu_prepare_zap_page and its commit: the shadow page at hpa is
 * unlinked from every entry that links it, its own entries go (leaves
 * leave the rmap, links leave their children's parents), it stops
 * following its guest table, and its frame is freed; a vCPU whose root it
 * was loads a new one at its next walk.  The caller flushes.
 */
static void zap_sp(sv_mmu *m, uint64_t hpa)
{
	sv_sp *sp = sv_mmu__sp(m, hpa);
	uint64_t *t = sv_mmu__table(m, hpa), *parent;
	unsigned i, level = sp->level;

	while ((parent = sv_shadow__first_parent(sp)))
		sv_mmu__spte_set(m, 0, parent, sp->gfn, level + 1, 0, SV_SPTE_zap);
	for (i = 0; i < SV_PT_ENTRIES; i++)
		if (sv_spte__present(t[i]))
			sv_mmu__spte_set(m, 0, &t[i],
					 sv_spte__leaf(&m->b, t[i], level)
						 ? sv_shadow__leaf_gfn(m, &t[i], level)
						 : 0,
					 level, 0, SV_SPTE_zap);
	if (!sp->direct)
		unaccount_shadowed(m, sp->gfn);
	if (sp->unsync) {
		for (i = 0; i < m->unsync->len; i++)
			if (g_array_index(m->unsync, uint64_t, i) == hpa) {
				g_array_remove_index_fast(m->unsync, i);
				break;
			}
		m->vm->stat[SV_VM_STAT_mmu_unsync]--;
	}
	g_hash_table_remove(m->sps, sp_key(sp->gfn, level, sp->direct));
	g_queue_remove(m->active, GSIZE_TO_POINTER(hpa));
	for (i = 0; i < m->vm->opts.vcpus; i++) {
		sv_vcpu *v = sv_vm_vcpu(m->vm, i);

		if (v->sroot == hpa)
			sv_vcpu__set_shadow_root(v, 0, 0);
	}
	g_free(sp->gfns);
	sv_shadow__parents_free(sp);
	*sp = (sv_sp){0};
	sv_mmu__sp_free(m, hpa);
	m->vm->stat[SV_VM_STAT_mmu_shadow_zapped]++;
}

/*
 * make_mmu_pages_available: before a fault maps, room for a new shadow
 * page at each level; past the limit the oldest shadow pages that are no
 * vCPU's root go (kvm_mmu_zap_oldest_mmu_pages, mmu_recycled), one flush.
 */
static void make_room(sv_mmu *m)
{
	GList *l = m->active->head;
	bool zapped = false;

	while (l && m->active->length + m->top > m->sp_limit) {
		GList *next = l->next;
		uint64_t hpa = (uint64_t)GPOINTER_TO_SIZE(l->data);

		if (!root_in_use(m, hpa)) {
			zap_sp(m, hpa);
			m->vm->stat[SV_VM_STAT_mmu_recycled]++;
			zapped = true;
		}
		l = next;
	}
	if (zapped)
		sv_mmu__flush_remote(m);
}

void sv_shadow__limit_update(sv_mmu *m)
{
	const sv_memslots *ms = sv_vm__memslots(m->vm, 0);
	uint64_t pages = 0;
	guint i;

	if (m->opts.shadow_pages) {
		m->sp_limit = m->opts.shadow_pages;
		return;
	}
	/* kvm_mmu_calculate_default_mmu_pages */
	for (i = 0; i < ms->slots->len; i++)
		pages += g_array_index(ms->slots, sv_memslot, i).size >> 12;
	m->sp_limit = MAX(pages * 20 / 1000, 64);
}

/* ---- roots ------------------------------------------------------------------------------- */

void sv_shadow__load_root(sv_mmu *m, sv_vcpu *v)
{
	/* kvm_mmu_new_pgd: the shadow page of the guest's top table (or,
	 * paging off, the direct root of the identity map) */
	uint64_t cr3 = v->regs.cr3 & SV_PTE_ADDR_MASK;
	uint64_t root = v->paging ? get_sp(m, cr3 >> 12, m->top, false)
				  : get_sp(m, 0, m->top, true);

	sv_vcpu__set_shadow_root(v, root, v->paging ? cr3 : SV_SHADOW_NONPAGING);
}

uint64_t sv_shadow__gpa_of(sv_mmu *m, const uint64_t *leaf, unsigned level,
			   uint64_t gva)
{
	uint64_t span = sv_spte__level_pages(level) << 12;

	return (sv_shadow__leaf_gfn(m, leaf, level) << 12) + (gva & (span - 1));
}

/* ---- the fault ------------------------------------------------------------------------- */

/* What the guest's own tables say about the fault's gva. */
typedef struct gview {
	sv_walk w;
	unsigned level;   /* the guest leaf's (paging off: the largest) */
	uint8_t perm;     /* SV_PERM_W/U/X */
	bool dirty;       /* the guest leaf's D */
} gview;

static uint64_t *guest_table(void *ctx, unsigned level, uint64_t gpa)
{
	sv_vcpu *v = ctx;
	uint8_t *p = sv_memslots__ptr(sv_vcpu__memslots(v), gpa);

	SV_UNUSED(level);
	return p ? (uint64_t *)p : v->vm->ones_table;
}

/* Step 1 (FNAME(walk_addr)): false with *x the guest's #PF. */
static bool walk_guest(sv_mmu *m, sv_page_fault *f, gview *g, sv_fault *x)
{
	sv_vcpu *v = f->v;
	sv_walk *w = &g->w;
	unsigned level;

	if (!v->paging) {
		/* paging off: no guest tables, only direct shadow pages */
		w->start = 0;
		g->level = m->max_level;
		g->perm = SV_PERM_W | SV_PERM_U | SV_PERM_X;
		g->dirty = true;
		f->gfn = f->gva >> 12;
		return true;
	}
	sv_pt__walk_fetch(&v->gwalker, w, v->regs.cr3 & SV_PTE_ADDR_MASK,
			  v->gwalker.fmt->levels, f->gva, guest_table, v);
	if (w->status != SV_WALK_OK) {
		sv_gwalk__raise_pf(v, x, f->gva, f->acc, w->level,
				   w->status == SV_WALK_BAD_ENTRY,
				   w->status == SV_WALK_BAD_ENTRY);
		return false;
	}
	g->perm = sv_gwalk__perm(v, w->and_bits, w->or_bits);
	if (!sv_gwalk__allows_wp(v, g->perm, f->acc, v->wp)) {
		sv_gwalk__raise_pf(v, x, f->gva, f->acc, w->level, true, false);
		return false;
	}
	/* FNAME(update_accessed_dirty_bits) */
	for (level = w->start; level >= w->level; level--) {
		uint64_t set = SV_PTE_A;

		if (level == w->level && f->write)
			set |= SV_PTE_D;
		if ((w->entry[level] & set) != set) {
			*w->ptr[level] |= set;
			w->entry[level] |= set;
			v->stat[SV_VCPU_STAT_guest_ad_updates]++;
		}
	}
	g->level = w->level;
	g->dirty = w->entry[w->level] & SV_PTE_D;
	f->gfn = w->pa >> 12;
	return true;
}

/* The leaf for host frame pfn at level with the guest's permissions. */
static uint64_t leaf_spte(sv_mmu *m, const sv_page_fault *f, uint64_t pfn,
			  unsigned level, bool host_w, uint8_t perm, bool dirty)
{
	const sv_spte_bits *b = &m->b;
	uint64_t e = sv_spte__make(b, pfn, level, host_w);

	if (!(perm & SV_PERM_X))
		e |= SV_PTE_NX;
	if (!(perm & SV_PERM_W) && f && f->write && host_w) {
		/* CR0.WP=0: a supervisor write to a read-only page; the
		 * SPTE is writable but no longer a user page */
		e &= ~SV_PTE_US;
		perm |= SV_PERM_W;
	} else if (!(perm & SV_PERM_U)) {
		e &= ~SV_PTE_US;
	}
	if (!(perm & SV_PERM_W) || !(dirty || (f && f->write)))
		e &= ~(b->w | b->d);
	return e;
}

/*
 * FNAME(pte_prefetch): after a 4K leaf, the other entries of its aligned
 * group of 8, unless an invalidation is in progress or the slot is
 * dirty-logged (then nothing), with a leaf where everything is at hand:
 * the host page present and writable already (GUP-fast faults nothing
 * in).  A prefetched leaf has A clear.
 *  - Indirect page: entries in order, a present one skipped; the first
 *    whose guest PTE is not present, accessed and legal, or whose host
 *    page is not at hand, ends the prefetch.
 *  - Direct page (__direct_pte_prefetch): each run of absent entries gets
 *    the leaves of its first pages up to one whose host page is not at
 *    hand; a run whose first page is not ends the prefetch.
 */
typedef struct pf_ctx {
	sv_mmu *m;
	const sv_page_fault *f;
	const gview *g;
	const sv_sp *sp;
	const uint64_t *gpt;      /* indirect: the guest's page table */
	uint64_t up_and, up_or;   /* indirect: the guest entries above */
} pf_ctx;

/* One neighbour at entry i of the table: false when its page is not at
 * hand (or its guest PTE not fit). */
static bool prefetch_one(const pf_ctx *c, uint64_t *table, unsigned i)
{
	sv_mmu *m = c->m;
	uint64_t gfn, gpte;
	const sv_memslot *s;
	uint8_t perm = c->g->perm;
	sv_host_leaf l;
	bool dirty = true;

	if (c->sp->direct) {
		gfn = c->sp->gfn + i;
	} else {
		gpte = c->gpt[i];
		if (!(gpte & SV_PTE_P) || !(gpte & SV_PTE_A) ||
		    sv_pt__walker_bad(&c->f->v->gwalker, gpte, 1, true))
			return false;
		gfn = (gpte & SV_PTE_ADDR_MASK) >> 12;
		perm = sv_gwalk__perm(c->f->v, c->up_and & gpte, c->up_or | gpte);
		dirty = gpte & SV_PTE_D;
	}
	s = sv_memslots__find(sv_vcpu__memslots(c->f->v), gfn << 12);
	if (!s || s->dirty ||
	    sv_host_lookup(&l, m->host, sv_memslot__hva(s, gfn)) || !l.present ||
	    !l.writable)
		return false;
	sv_mmu__spte_set(m, 0, &table[i], gfn, 1,
			 leaf_spte(m, NULL, l.pfn, 1,
				   !(s->flags & SV_MEMSLOT_READONLY), perm, dirty) &
				 ~m->b.a,
			 SV_SPTE_prefetch);
	return true;
}

static void prefetch(sv_mmu *m, const sv_page_fault *f, const gview *g,
		     uint64_t *table, unsigned idx)
{
	unsigned i, lv, first = idx & ~7u;
	pf_ctx c = {
		.m = m,
		.f = f,
		.g = g,
		.sp = sv_mmu__sp_of(m, table),
		.up_and = ~0ULL,
	};
	bool in_run = false, run_ok = false;

	if (m->inv_in_progress || f->slot->dirty)
		return;
	if (!c.sp->direct) {
		c.gpt = guest_table(f->v, 1, g->w.table[1]);
		for (lv = g->w.start; lv > 1; lv--) { /* the entries above */
			c.up_and &= g->w.entry[lv];
			c.up_or |= g->w.entry[lv];
		}
		for (i = first; i < first + 8; i++)
			if (i != idx && !sv_spte__present(table[i]) &&
			    !prefetch_one(&c, table, i))
				return;
		return;
	}
	for (i = first; i < first + 8; i++) {
		if (i == idx || sv_spte__present(table[i])) {
			in_run = false;
			continue;
		}
		if (!in_run) { /* a run starts: its first page must be there */
			in_run = true;
			run_ok = prefetch_one(&c, table, i);
			if (!run_ok)
				return;
		} else if (run_ok) {
			run_ok = prefetch_one(&c, table, i);
		}
	}
}

/* Step 4 at one level above the leaf: the child table the entry must
 * link; 0 when no table page is left. */
static uint64_t link_child(sv_mmu *m, const sv_page_fault *f, const gview *g,
			   uint64_t *p, unsigned level)
{
	bool direct = !f->v->paging || level <= g->level;
	uint64_t e = *p, cgfn, child;

	cgfn = direct ? f->gfn & ~(sv_spte__level_pages(level) - 1)
		      : (g->w.entry[level] & SV_PTE_ADDR_MASK) >> 12;
	if (sv_spte__present(e) && !sv_spte__leaf(&m->b, e, level)) {
		const sv_sp *c = sv_mmu__sp(m, e & SPTE_ADDR);

		if (c->direct == direct && c->gfn == cgfn)
			return e & SPTE_ADDR;
	}
	child = get_sp(m, cgfn, level - 1, direct);
	if (!child)
		return 0;
	sv_mmu__spte_set(m, 0, p, cgfn, level, sv_spte__table(&m->b, child),
			 SV_SPTE_link);
	if (sv_spte__present(e)) /* a huge leaf dropped, a table unlinked */
		sv_mmu__flush_remote(m);
	return child;
}

/* Step 4: the tables down to the goal level; the last one's hpa, or 0
 * when no table page is left. */
static uint64_t shadow_map_tables(sv_mmu *m, sv_page_fault *f,
				  const gview *g)
{
	uint64_t table = f->v->sroot, *p;
	unsigned level;

	for (level = m->top; level > f->goal_level; level--) {
		/* clear_sp_write_flooding_count: the table is in use */
		sv_mmu__sp(m, table)->flood = 0;
		p = &sv_mmu__table(m, table)[sv_pt__index(f->gva, level)];
		table = link_child(m, f, g, p, level);
		if (!table)
			return 0;
	}
	return table;
}

static sv_pf_ret shadow_map(sv_mmu *m, sv_page_fault *f, const gview *g)
{
	uint64_t table = shadow_map_tables(m, f, g), *p, e, n;
	unsigned level = f->goal_level, idx;

	if (!table)
		return PF_EFAULT;
	idx = sv_pt__index(f->gva, level);
	p = &sv_mmu__table(m, table)[idx];
	e = *p;
	n = leaf_spte(m, f, f->pfn, level, f->host_writable, g->perm, g->dirty);
	/* a guest page table stays write-protected unless its shadow pages
	 * may go unsync; a write to it is then emulated */
	if (sv_spte__writable(&m->b, n) && shadowed(m, f->gfn, 1) &&
	    !try_unsync(m, f->gfn)) {
		n &= ~(m->b.w | m->b.mmu_w);
		if (f->write)
			f->pt_write = true;
	}
	if (n == e)
		return f->pt_write ? PF_EMULATE : PF_SPURIOUS;
	sv_mmu__spte_set(m, 0, p, f->gfn & ~(sv_spte__level_pages(level) - 1),
			 level, n, SV_SPTE_install);
	/* mmu_set_spte: a table replaced, or another frame, needs a flush */
	if (sv_spte__present(e) &&
	    (!sv_spte__leaf(&m->b, e, level) ||
	     sv_spte__pfn(e, level) != sv_spte__pfn(n, level)))
		sv_mmu__flush_remote(m);
	if (level == 1)
		prefetch(m, f, g, sv_mmu__table(m, table), idx);
	return f->pt_write ? PF_EMULATE : PF_FIXED;
}

/* The leaf entry on gva's path in the vCPU's shadow tables, or NULL. */
static uint64_t *shadow_entry(sv_mmu *m, const sv_vcpu *v, uint64_t gva)
{
	uint64_t table = v->sroot;
	unsigned level;

	for (level = m->top; table && level >= 1; level--) {
		uint64_t *p = &sv_mmu__table(m, table)[sv_pt__index(gva, level)];

		if (!sv_spte__present(*p) || sv_spte__leaf(&m->b, *p, level))
			return p;
		table = *p & SPTE_ADDR;
	}
	return NULL;
}

/*
 * handle_mmio_page_fault: a reserved-bit fault is an MMIO SPTE's (the MMU
 * makes no other).  Of the current memslot generation: emulation at once,
 * counting nothing; stale: the full fault.  True when handled.
 */
static bool mmio_fast(sv_mmu *m, sv_page_fault *f)
{
	const uint64_t *p = shadow_entry(m, f->v, f->gva);

	f->rsvd = false;
	if (!p || !sv_spte__is_mmio(&m->b, *p) ||
	    sv_spte__mmio_gen(*p) != sv_spte__gen_of(m->gen))
		return false;
	f->gfn = (*p & SV_PTE_ADDR_MASK & ~SPTE_NPT_MMIO_MARK) >> 12;
	f->rsvd = true;
	return true;
}

/* An MMIO SPTE for gfn (kvm.mmio_caching): the next access faults with a
 * reserved bit and goes to emulation. */
static void mmio_spte(sv_mmu *m, sv_page_fault *f)
{
	uint64_t *p = shadow_entry(m, f->v, f->gva);

	if (!p || sv_spte__present(*p))
		return;
	sv_mmu__spte_set(m, 0, p, f->gfn, 1,
			 sv_spte__mmio(&m->b, m->gen) | (f->gfn << 12),
			 SV_SPTE_install);
	f->v->stat[SV_VCPU_STAT_pf_mmio_spte_created]++;
}

sv_pf_ret sv_shadow__page_fault(sv_mmu *m, sv_page_fault *f, sv_fault *x)
{
	sv_pf_ret r;
	gview g;

	if (f->rsvd && mmio_fast(m, f))
		return PF_EMULATE;

	f->v->stat[SV_VCPU_STAT_pf_taken]++;
	sv_vcpu__charge(f->v, m->vm->opts.costs.pf_slow);
	make_room(m);
	if (!f->v->sroot)
		sv_shadow__load_root(m, f->v);
	if (!f->v->sroot)
		return PF_EFAULT;
	if (!walk_guest(m, f, &g, x))
		return PF_GUEST;
	r = sv_mmu__faultin(m, f);
	if (r == PF_CONTINUE && !f->slot) {
		if (m->opts.mmio_caching) {
			/* the tables down to a 4K leaf, then the MMIO SPTE */
			f->goal_level = 1;
			if (shadow_map_tables(m, f, &g) == 0)
				return PF_EFAULT;
			mmio_spte(m, f);
		}
		return PF_EMULATE;
	}
	if (r != PF_CONTINUE)
		return r;
	sv_mmu__size_fault(m, f);
	if (f->goal_level > g.level)
		f->goal_level = g.level;
	/* no huge SPTE over a guest page table (it must stay protected) */
	while (f->goal_level > 1 && shadowed(m, f->gfn, f->goal_level))
		f->goal_level--;
	return shadow_map(m, f, &g);
}

/* ---- guest page-table writes, INVLPG and syncs ------------------------------------ */

void sv_shadow__pte_write(sv_mmu *m, uint64_t gpa)
{
	uint64_t gfn = gpa >> 12, hpa;
	unsigned level, idx = (unsigned)((gpa & 0xfff) >> 3);
	bool flush = false;

	m->vm->stat[SV_VM_STAT_mmu_pte_write]++;
	for (level = 1; level <= m->top; level++) {
		uint64_t *p, e;
		sv_sp *sp = indirect_sp(m, gfn, level, &hpa);

		if (!sp)
			continue;
		/* detect_write_flooding: a table written three times
		 * without a fault walking it in between is no longer one (a
		 * page table can go unsync instead) */
		if (level > 1 && ++sp->flood >= 3) {
			zap_sp(m, hpa);
			m->vm->stat[SV_VM_STAT_mmu_flooded]++;
			flush = true;
			continue;
		}
		p = &sv_mmu__table(m, hpa)[idx];
		e = *p;
		if (!sv_spte__present(e))
			continue;
		if (!sv_spte__leaf(&m->b, e, level))
			m->vm->stat[SV_VM_STAT_mmu_pde_zapped]++;
		sv_mmu__spte_set(m, 0, p, sv_shadow__leaf_gfn(m, p, level), level, 0,
				 SV_SPTE_zap);
		flush = true;
	}
	if (flush)
		sv_mmu__flush_remote(m);
}

void sv_shadow__invlpg(sv_mmu *m, sv_vcpu *v, uint64_t gva)
{
	uint64_t *p = shadow_entry(m, v, gva);
	unsigned level;

	if (!p || !sv_spte__present(*p) || !sv_mmu__sp_of(m, p)->unsync)
		return;
	level = sv_mmu__sp_of(m, p)->level;
	sv_mmu__spte_set(m, 0, p, sv_shadow__leaf_gfn(m, p, level), level, 0,
			 SV_SPTE_zap);
	sv_mmu__flush_remote(m);
}

/* kvm_sync_page: each leaf of an unsync page table that no longer
 * matches the guest's entry (absent, another frame, fewer rights) goes;
 * true if any did. */
static bool sync_sp(sv_mmu *m, uint64_t hpa)
{
	sv_sp *sp = sv_mmu__sp(m, hpa);
	uint64_t *t = sv_mmu__table(m, hpa);
	const uint64_t *g = (const uint64_t *)sv_memslots__ptr(
		sv_vm__memslots(m->vm, 0), sp->gfn << 12);
	bool zapped = false;
	unsigned i;

	for (i = 0; i < SV_PT_ENTRIES; i++) {
		uint64_t e = t[i], gpte = g ? g[i] : 0;

		if (!sv_spte__present(e))
			continue;
		if ((gpte & SV_PTE_P) &&
		    (gpte & SV_PTE_ADDR_MASK) >> 12 == sp->gfns[i] &&
		    ((gpte & SV_PTE_RW) || !sv_spte__writable(&m->b, e)) &&
		    ((gpte & SV_PTE_US) || !(e & SV_PTE_US)))
			continue;
		sv_mmu__spte_set(m, 0, &t[i], sp->gfns[i], 1, 0, SV_SPTE_zap);
		zapped = true;
	}
	sp->unsync = 0;
	m->vm->stat[SV_VM_STAT_sp_synced]++;
	m->vm->stat[SV_VM_STAT_mmu_unsync]--;
	return zapped;
}

void sv_shadow__sync_all(sv_mmu *m)
{
	GArray *done = m->unsync;
	bool flush = false;
	guint i;

	if (!done->len)
		return;
	m->unsync = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	for (i = 0; i < done->len; i++)
		flush |= sync_sp(m, g_array_index(done, uint64_t, i));
	/* synced: the tables are write-protected again */
	for (i = 0; i < done->len; i++)
		wrprot_gfn(m, sv_mmu__sp(m, g_array_index(done, uint64_t, i))->gfn);
	g_array_free(done, TRUE);
	if (flush)
		sv_mmu__flush_remote(m);
}

uint64_t sv_shadow__hpa_of(sv_mmu *m, uint64_t gpa)
{
	const sv_memslot *s = sv_memslots__find(sv_vm__memslots(m->vm, 0), gpa);
	sv_host_leaf l;

	if (!s || sv_host_lookup(&l, m->host, sv_memslot__hva(s, gpa >> 12)) ||
	    !l.present)
		return 0;
	return (l.pfn << 12) | (gpa & 0xfff);
}

/* ---- set-up and the rest ------------------------------------------------------------ */

void sv_shadow__init(sv_mmu *m)
{
	unsigned k;

	for (k = 0; k < 3; k++)
		m->shadowed[k] = g_hash_table_new(g_direct_hash, g_direct_equal);
	m->unsync = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	m->active = g_queue_new();
	sv_shadow__limit_update(m);
	m->sps = g_hash_table_new(g_direct_hash, g_direct_equal);
	sv_shadow__rmap_init(m);
}

void sv_shadow__fini(sv_mmu *m)
{
	guint i;

	if (!m->sps)
		return;
	for (i = 0; i < m->sp->len; i++) {
		g_free(g_array_index(m->sp, sv_sp, i).gfns);
		sv_shadow__parents_free(&g_array_index(m->sp, sv_sp, i));
	}
	g_queue_free(m->active);
	g_hash_table_destroy(m->sps);
	sv_shadow__rmap_fini(m);
	for (i = 0; i < 3; i++)
		g_hash_table_destroy(m->shadowed[i]);
	g_array_free(m->unsync, TRUE);
}
