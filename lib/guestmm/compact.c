/*
 * lib/guestmm/compact.c - memory compaction (mm/compaction.c) as the THP
 * defrag setting asks for it: a THP fault that finds no free 2M block may
 * compact directly (a stall), or wake kcompactd to compact before the next
 * khugepaged pass, or neither.
 *
 * One compaction frees one 2M block: the lowest block of the page
 * allocator whose used frames are all pages of the process's own (present
 * 4K PTEs, not shared with another process, not the zero page) has them
 * migrated to free frames elsewhere (copied by the kernel, the PTEs
 * pointed at the copies, the old entries flushed), and the block is the
 * caller's.  A block holding anything else (a page the kernel keeps, from
 * frag_percent; a THP; another process's page) cannot be compacted.  A
 * failed compaction defers the next 63 direct attempts, as Linux's
 * compaction deferral does at its deepest.
 */
#include "guestmm/guestmm.h"

#define DEFER_AFTER_FAIL 63

typedef struct owner_walk {
	sv_guestmm *gm;
	GHashTable *gva_of;   /* frame gpa -> gva, the process's own 4K pages */
} owner_walk;

/* A leaf of the process: a present 4K page of its own goes in the map. */
static int owner_leaf(sv_guestmm *gm, uint64_t base, unsigned level,
		      uint64_t e, bool partial, void *gva_of)
{
	uint64_t gpa = e & SV_PTE_ADDR_MASK;

	SV_UNUSED(partial);
	if (level == 1 && (e & SV_PTE_P) && !sv_guestmm__is_zero(gm->k, gpa) &&
	    !sv_guestmm__shares(gm, gpa))
		g_hash_table_insert(gva_of, g_memdup2(&gpa, sizeof(gpa)),
				    g_memdup2(&base, sizeof(base)));
	return SV_OK;
}

static gboolean owner_step(gpointer key, gpointer val, gpointer data)
{
	owner_walk *w = data;
	const gvma *m = val;

	SV_UNUSED(key);
	sv_guestmm__for_each_leaf(w->gm, m->start, m->end, owner_leaf, w->gva_of);
	return FALSE;
}

/* The lowest 2M block whose used frames are all in gva_of; 0 if none. */
static uint64_t pick_block(sv_guestmm *gm, GHashTable *gva_of)
{
	const sv_buddy *b = &gm->k->buddy;
	uint64_t blk, f;

	for (blk = b->base; blk < b->base + ((uint64_t)b->frames << 12);
	     blk += SZ_2M) {
		bool movable = true;

		for (f = blk; f < blk + SZ_2M && movable; f += SV_PAGE_4K)
			movable = sv_buddy__is_free(b, f) ||
				  g_hash_table_contains(gva_of, &f);
		if (movable)
			return blk;
	}
	return 0;
}

/* Migrates the used frames of blk (all in gva_of) out of it; false (and
 * nothing moved) when too few frames are free elsewhere. */
static bool evacuate(sv_guestmm *gm, sv_vcpu *v, uint64_t blk, GHashTable *gva_of)
{
	gkernel *k = gm->k;
	GArray *dst = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GArray *inside = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GArray *gvas = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	uint64_t f, used = 0, d;
	unsigned level;
	guint i, n = 0;
	bool ok = true;

	for (f = blk; f < blk + SZ_2M; f += SV_PAGE_4K)
		used += !sv_buddy__is_free(&k->buddy, f);
	/* destinations outside the block: its own free frames are set aside */
	while (ok && dst->len < used) {
		d = sv_buddy__alloc(&k->buddy, 0);
		ok = d != 0;
		if (ok)
			g_array_append_val(d >= blk && d < blk + SZ_2M ? inside : dst, d);
	}
	for (i = 0; !ok && i < dst->len; i++)
		sv_buddy__free(&k->buddy, g_array_index(dst, uint64_t, i), 0);
	for (f = blk; ok && f < blk + SZ_2M; f += SV_PAGE_4K) {
		const uint64_t *gva = g_hash_table_lookup(gva_of, &f);
		uint64_t e;

		if (!gva)
			continue;
		d = g_array_index(dst, uint64_t, n++);
		e = sv_guestmm__leaf(gm, *gva, &level);
		/* the kernel's copy: stores to the new frame, then the bytes */
		sv_guestmm__zero_frames(gm, v, d, SV_PAGE_4K);
		memcpy(sv_memslots__ptr(&gm->vm->memslots, d),
		       sv_memslots__ptr(&gm->vm->memslots, f), SV_PAGE_4K);
		sv_pt_write(gm->pt, *gva, 1, (e & ~SV_PTE_ADDR_MASK) | d);
		g_array_append_val(gvas, *gva);
		sv_buddy__free(&k->buddy, f, 0);
		k->stat[SV_GUESTMM_STAT_pgmigrate_success]++;
	}
	for (i = 0; i < inside->len; i++)
		sv_buddy__free(&k->buddy, g_array_index(inside, uint64_t, i), 0);
	sv_guestmm__flush(gm, gvas);
	g_array_free(dst, TRUE);
	g_array_free(inside, TRUE);
	g_array_free(gvas, TRUE);
	return ok;
}

uint64_t sv_guestmm__compact(sv_guestmm *gm, sv_vcpu *v, bool direct)
{
	gkernel *k = gm->k;
	owner_walk w = {gm, g_hash_table_new_full(g_int64_hash, g_int64_equal,
						  g_free, g_free)};
	uint64_t blk, got = 0;

	if (direct && k->compact_defer) {
		k->compact_defer--;
		g_hash_table_destroy(w.gva_of);
		return 0;
	}
	if (direct)
		k->stat[SV_GUESTMM_STAT_compact_stall]++;
	g_tree_foreach(gm->vmas, owner_step, &w);
	blk = pick_block(gm, w.gva_of);
	if (blk && evacuate(gm, v, blk, w.gva_of))
		got = sv_buddy__alloc(&k->buddy, SV_BUDDY_MAX_ORDER);
	g_hash_table_destroy(w.gva_of);
	if (!got) {
		k->stat[SV_GUESTMM_STAT_compact_fail]++;
		k->compact_defer = DEFER_AFTER_FAIL;
		return 0;
	}
	k->stat[SV_GUESTMM_STAT_compact_success]++;
	return got;
}

bool sv_guestmm__defrag_direct(const sv_guestmm *gm, const gvma *m)
{
	bool madvised = m->advice == SV_GMADV_HUGEPAGE;

	switch (gm->o.defrag) {
	case SV_GUEST_DEFRAG_ALWAYS: return true;
	case SV_GUEST_DEFRAG_DEFER_MADVISE:
	case SV_GUEST_DEFRAG_MADVISE: return madvised;
	default: return false;
	}
}

bool sv_guestmm__defrag_defer(const sv_guestmm *gm, const gvma *m)
{
	return gm->o.defrag == SV_GUEST_DEFRAG_DEFER ||
	       (gm->o.defrag == SV_GUEST_DEFRAG_DEFER_MADVISE &&
		m->advice != SV_GMADV_HUGEPAGE);
}
