/*
 * lib/ept/rmap.c - the shadow MMU's rmap (arch/x86/kvm/mmu/mmu.c, the
 * rmap and pte_list_desc): every leaf SPTE is found by its level and first
 * gfn, as the shadow tables are indexed by guest-virtual address.
 *
 * What keeps it: the SPTE-change function's shadow part
 * (sv_shadow__spte_changed) adds and removes leaves as they appear and go,
 * and counts the links to each shadow page.  What reads it: the leaf
 * iterator (sv_mmu__for_each_leaf) that dirty logging, the notifier
 * handlers and write protection walk a gfn range with, and the whole-VM
 * zap.
 */
#include "ept/mmu.h"

/* ---- the rmap ------------------------------------------------------------------------- */

/*
 * Leaves are found by (level, first gfn).  A key's value is the one SPTE
 * pointer, or a GPtrArray of them tagged with bit 0 (pte_list_desc).
 */
static gpointer rmap_key(uint64_t gfn, unsigned level)
{
	return GSIZE_TO_POINTER(((uint64_t)level << 56) | gfn);
}

static bool rmap_many(gconstpointer v)
{
	return GPOINTER_TO_SIZE(v) & 1;
}

static GPtrArray *rmap_list(gconstpointer v)
{
	return (GPtrArray *)(GPOINTER_TO_SIZE(v) & ~(gsize)1);
}

/* Leaf k of a key's value, or NULL. */
static uint64_t *rmap_get(gconstpointer v, unsigned k)
{
	const GPtrArray *a;

	if (!v || !rmap_many(v))
		return k == 0 ? (uint64_t *)v : NULL;
	a = rmap_list(v);
	return k < a->len ? g_ptr_array_index(a, k) : NULL;
}

/* The same lists in a slot of their own: a shadow page's parents. */
static void list_add(void **slot, uint64_t *p)
{
	GPtrArray *a;

	if (!*slot) {
		*slot = p;
		return;
	}
	if (rmap_many(*slot)) {
		g_ptr_array_add(rmap_list(*slot), p);
		return;
	}
	a = g_ptr_array_sized_new(4);
	g_ptr_array_add(a, *slot);
	g_ptr_array_add(a, p);
	*slot = GSIZE_TO_POINTER(GPOINTER_TO_SIZE(a) | 1);
}

static void list_remove(void **slot, uint64_t *p)
{
	GPtrArray *a;

	if (*slot == p) {
		*slot = NULL;
		return;
	}
	if (!*slot || !rmap_many(*slot))
		return;
	a = rmap_list(*slot);
	g_ptr_array_remove_fast(a, p);
	if (a->len == 1) {
		*slot = g_ptr_array_index(a, 0);
		g_ptr_array_free(a, TRUE);
	}
}

uint64_t *sv_shadow__first_parent(const sv_sp *sp)
{
	return rmap_get(sp->parents, 0);
}

void sv_shadow__parents_free(sv_sp *sp)
{
	if (sp->parents && rmap_many(sp->parents))
		g_ptr_array_free(rmap_list(sp->parents), TRUE);
	sp->parents = NULL;
}

static void rmap_add(sv_mmu *m, uint64_t gfn, unsigned level, uint64_t *p)
{
	gpointer k = rmap_key(gfn, level), v = g_hash_table_lookup(m->rmap, k);
	GPtrArray *a;

	if (!v) {
		g_hash_table_insert(m->rmap, k, p);
		return;
	}
	if (rmap_many(v)) {
		g_ptr_array_add(rmap_list(v), p);
		return;
	}
	a = g_ptr_array_sized_new(4);
	g_ptr_array_add(a, v);
	g_ptr_array_add(a, p);
	g_hash_table_insert(m->rmap, k, GSIZE_TO_POINTER(GPOINTER_TO_SIZE(a) | 1));
}

static void rmap_remove(sv_mmu *m, uint64_t gfn, unsigned level, uint64_t *p)
{
	gpointer k = rmap_key(gfn, level), v = g_hash_table_lookup(m->rmap, k);
	GPtrArray *a;

	if (v == p) {
		g_hash_table_remove(m->rmap, k);
		return;
	}
	if (!v || !rmap_many(v))
		return;
	a = rmap_list(v);
	g_ptr_array_remove_fast(a, p);
	if (a->len == 1) {
		g_hash_table_insert(m->rmap, k, g_ptr_array_index(a, 0));
		g_ptr_array_free(a, TRUE);
	}
}


/* The SPTE-change function's part for the shadow MMU: the rmap follows
 * the leaves, shadow pages count their parents, installs are counted. */
void sv_shadow__spte_changed(sv_mmu *m, uint64_t *ptr, uint64_t gfn,
			     unsigned level, uint64_t old, uint64_t n,
			     sv_spte_change why)
{
	const sv_spte_bits *b = &m->b;
	bool was_leaf = sv_spte__present(old) && sv_spte__leaf(b, old, level);
	bool is_leaf = sv_spte__present(n) && sv_spte__leaf(b, n, level);
	sv_sp *sp;

	if (sv_spte__present(old) && !was_leaf &&
	    (old & SPTE_ADDR) != (n & SPTE_ADDR))
		list_remove(&sv_mmu__sp(m, old & SPTE_ADDR)->parents, ptr);
	if (sv_spte__present(n) && !is_leaf &&
	    (!sv_spte__present(old) || was_leaf ||
	     (old & SPTE_ADDR) != (n & SPTE_ADDR)))
		list_add(&sv_mmu__sp(m, n & SPTE_ADDR)->parents, ptr);
	if (was_leaf && is_leaf && sv_shadow__leaf_gfn(m, ptr, level) == gfn)
		return; /* the same page: the rmap stays */
	if (was_leaf)
		rmap_remove(m, sv_shadow__leaf_gfn(m, ptr, level), level, ptr);
	if (!is_leaf)
		return;
	sp = sv_mmu__sp_of(m, ptr);
	if (sp->gfns)
		sp->gfns[sv_mmu__entry_index(ptr)] = gfn;
	rmap_add(m, gfn, level, ptr);
	if (why == SV_SPTE_install || why == SV_SPTE_prefetch)
		m->vm->stat[level == 1 ? SV_VM_STAT_spte_install_4k
				       : SV_VM_STAT_spte_install_2m]++;
}

/* ---- the leaf iterator over the rmap ------------------------------------------------ */

/* From the current (level, base, k) on: the first leaf there is. */
static void leaf_find(sv_leaf_iter *it)
{
	sv_mmu *m = it->m;

	for (;;) {
		uint64_t span = sv_spte__level_pages(it->level), *p;

		if (it->base >= it->end) {
			if (it->level >= m->max_level) {
				it->valid = false;
				return;
			}
			it->level++;
			it->base = it->start & ~(sv_spte__level_pages(it->level) - 1);
			it->k = 0;
			continue;
		}
		p = rmap_get(g_hash_table_lookup(m->rmap,
						 rmap_key(it->base, it->level)),
			     it->k);
		if (p) {
			it->valid = true;
			it->ptr = p;
			it->gfn = it->base;
			return;
		}
		it->base += span;
		it->k = 0;
	}
}

void sv_shadow__leaf_first(sv_leaf_iter *it, unsigned as)
{
	it->valid = false;
	if (as != 0 || it->start >= it->end)
		return; /* the shadow MMU has no SMM address space */
	it->level = it->min_level;
	it->base = it->start & ~(sv_spte__level_pages(it->level) - 1);
	it->k = 0;
	leaf_find(it);
}

void sv_shadow__leaf_next(sv_leaf_iter *it)
{
	/* Past the leaf seen, unless the body zapped it: then another took
	 * its place in the list. */
	if (rmap_get(g_hash_table_lookup(it->m->rmap,
					 rmap_key(it->base, it->level)),
		     it->k) == it->ptr)
		it->k++;
	leaf_find(it);
}

static gint cmp_ptr(gconstpointer a, gconstpointer b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return (x > y) - (x < y);
}

/* Every leaf the rmap has goes, and every MMIO SPTE (kvm_mmu_zap_all's
 * entries; the shadow pages stay); true if any did.  The rmap is read
 * first: zapping changes it. */
bool sv_shadow__zap_all(sv_mmu *m)
{
	GPtrArray *leaves = g_ptr_array_new();
	GHashTableIter hi;
	gpointer k, v;
	GList *l;
	guint i;
	bool any;

	for (l = m->active->head; l; l = l->next) {
		uint64_t hpa = (uint64_t)GPOINTER_TO_SIZE(l->data);
		uint64_t *t = sv_mmu__table(m, hpa);

		for (i = 0; i < SV_PT_ENTRIES; i++)
			if (sv_spte__is_mmio(&m->b, t[i]))
				sv_mmu__spte_set(m, 0, &t[i], 0,
						 sv_mmu__sp(m, hpa)->level, 0,
						 SV_SPTE_zap);
	}

	g_hash_table_iter_init(&hi, m->rmap);
	while (g_hash_table_iter_next(&hi, &k, &v)) {
		uint64_t *p;
		unsigned j;

		for (j = 0; (p = rmap_get(v, j)); j++)
			g_ptr_array_add(leaves, p);
	}
	/* the pointers' order (the frames') keeps the run deterministic */
	g_ptr_array_sort(leaves, cmp_ptr);
	any = leaves->len > 0;
	for (i = 0; i < leaves->len; i++) {
		uint64_t *p = g_ptr_array_index(leaves, i);
		unsigned level = sv_mmu__sp_of(m, p)->level;

		sv_mmu__spte_set(m, 0, p, sv_shadow__leaf_gfn(m, p, level), level, 0,
				 SV_SPTE_zap);
	}
	g_ptr_array_free(leaves, TRUE);
	return any;
}

uint64_t *sv_shadow__first_leaf(sv_mmu *m, uint64_t gfn, unsigned *level)
{
	sv_leaf_iter it;

	sv_mmu__for_each_leaf(&it, m, 0, gfn, gfn + 1, 1) {
		*level = it.level;
		return it.ptr;
	}
	return NULL;
}

void sv_shadow__rmap_init(sv_mmu *m)
{
	/* (lists are freed by hand: replacing a value must not free it) */
	m->rmap = g_hash_table_new(g_direct_hash, g_direct_equal);
}

static void rmap_value_free(gpointer k, gpointer v, gpointer unused)
{
	SV_UNUSED(k);
	SV_UNUSED(unused);
	if (rmap_many(v))
		g_ptr_array_free(rmap_list(v), TRUE);
}

void sv_shadow__rmap_fini(sv_mmu *m)
{
	g_hash_table_foreach(m->rmap, rmap_value_free, NULL);
	g_hash_table_destroy(m->rmap);
}
