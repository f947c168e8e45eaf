/*
 * lib/pt.h - page-table formats as descriptors, the one walker that serves
 * them all, and the range iterator.
 *
 * Every format (x86-64 4- and 5-level for the guest, NPT and the host; EPT
 * 4- and 5-level) is a descriptor; every loop reads it, none hard-codes a
 * depth.  A table is 512 eight-byte entries in a 4K frame, indexed by nine
 * address bits per level.
 */
#ifndef SV_PT_H
#define SV_PT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simvirt/ept.h"

#define SV_PT_MAX_LEVELS 5
#define SV_PT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SV_PT_ENTRIES 512

typedef enum sv_fmt_kind {
	SV_FMT_X86, /* present = P; perms R/W, U/S, XD */
	SV_FMT_EPT, /* present = any of R/W/X */
} sv_fmt_kind;

typedef struct sv_pt_format {
	const char *name;
	sv_fmt_kind kind;
	unsigned levels;        /* 4 or 5 */
	unsigned max_leaf;      /* highest level that can map a page (3 = 1G) */
	uint64_t present_mask;
	uint64_t ps_bit;        /* marks a leaf above level 1 */
	uint64_t addr_mask;     /* bits 51:12 */
	uint64_t table_flags;   /* a new, fully permissive non-leaf entry */
} sv_pt_format;

extern const sv_pt_format sv_pt__fmt_x86_4, sv_pt__fmt_x86_5;
extern const sv_pt_format sv_pt__fmt_ept_4, sv_pt__fmt_ept_5;

static inline unsigned sv_pt__level_shift(unsigned level)
{
	return 12 + 9 * (level - 1);
}

static inline unsigned sv_pt__index(uint64_t addr, unsigned level)
{
	return (addr >> sv_pt__level_shift(level)) & (SV_PT_ENTRIES - 1);
}

static inline bool sv_pt__pte_present(const sv_pt_format *fmt, uint64_t e)
{
	return (e & fmt->present_mask) != 0;
}

/* Is e, read at level, a leaf?  (Reserved PS bits are caught separately.) */
static inline bool sv_pt__pte_leaf(const sv_pt_format *fmt, uint64_t e,
				   unsigned level)
{
	return level == 1 || (e & fmt->ps_bit);
}

/* The page or table an entry points at, aligned to what it maps. */
static inline uint64_t sv_pt__pte_addr(const sv_pt_format *fmt, uint64_t e,
				       unsigned level, bool leaf)
{
	uint64_t a = e & fmt->addr_mask;

	if (leaf && level > 1)
		a &= ~((1ULL << sv_pt__level_shift(level)) - 1);
	return a;
}

/*
 * Resolves a table's physical address to its entries.  For nested and host
 * tables this is a frame lookup; for guest tables it is the nested
 * translation of the table's GPA (which may fault: return NULL and record
 * why in ctx).  `level` is the level of the table being fetched.
 */
typedef uint64_t *(*sv_pt_fetch_fn)(void *ctx, unsigned level,
				    uint64_t table_pa);

/*
 * A walker: a format, the reserved bits that apply in the current mode
 * (MAXPHYADDR, EFER.NXE, 1G support...), and how to reach tables, all
 * precomputed so that checking an entry takes a few instructions:
 *  - rsvd[level][leaf] holds the bits that must be 0 in a present entry; a
 *    PS bit at a level that cannot hold a leaf is in rsvd[level][0];
 *  - a present entry is a leaf when it has a bit of leaf_mask[level] (all
 *    bits at level 1, the PS bit where a leaf may be, none elsewhere);
 *  - bit n of bad_low[leaf] says that an entry whose bits 5:0 equal n is
 *    misconfigured beyond its reserved bits (EPT only; 0 for x86);
 *  - a table entry with a bit of table_low_ok set is not misconfigured by
 *    its bits 5:0 (EPT: R), so the walk looks in bad_low[0] only for the
 *    rare entry without one.
 */
typedef struct sv_pt_walker {
	const sv_pt_format *fmt;
	uint64_t present_mask;  /* copies of fmt's, one load closer */
	uint64_t addr_mask;
	uint64_t rsvd[SV_PT_MAX_LEVELS + 1][2];
	uint64_t leaf_mask[SV_PT_MAX_LEVELS + 1];
	uint64_t bad_low[2];
	uint64_t table_low_ok;
	/* How sv_pt__walk and the range iterator reach tables, with ctx.
	 * NULL for a walker that only callers of sv_pt__walk_fetch use
	 * (they pass their own fetch and context). */
	sv_pt_fetch_fn fetch;
	/* Called with ctx after each entry is read, when set (observers). */
	void (*on_ref)(void *ctx, unsigned level, uint64_t table_pa,
		       uint64_t entry);
	void *ctx;
} sv_pt_walker;

/* Fills in the masks for a format; maxphyaddr and the feature flags. */
void sv_pt__walker_init(sv_pt_walker *w, const sv_pt_format *fmt,
			unsigned maxphyaddr, bool nxe, bool gbpages,
			bool ept_exec_only);
/*
 * A walker over a format as software keeps it rather than as the CPU
 * checks it: an entry is present when it has a bit of `present_mask` (the
 * hypervisor MMU's MMU-present bit, say), a leaf at level 1 or with the
 * format's PS bit, and no bit is reserved.  fetch and ctx are the
 * caller's to set.
 */
void sv_pt__walker_init_soft(sv_pt_walker *w, const sv_pt_format *fmt,
			     uint64_t present_mask);

typedef enum sv_walk_status {
	SV_WALK_OK,          /* reached a leaf */
	SV_WALK_NOT_PRESENT, /* an entry was not present */
	SV_WALK_BAD_ENTRY,   /* reserved bits / misconfigured EPT entry */
	SV_WALK_FETCH_FAIL,  /* the fetch callback refused a table */
} sv_walk_status;

/* Everything one walk saw, level by level. */
typedef struct sv_walk {
	sv_walk_status status;
	unsigned start;                          /* first level read */
	unsigned level;                          /* level where it stopped */
	uint64_t entry[SV_PT_MAX_LEVELS + 1];    /* value read at each level */
	uint64_t *ptr[SV_PT_MAX_LEVELS + 1];     /* where that entry lives */
	uint64_t table[SV_PT_MAX_LEVELS + 1];    /* table physical address */
	uint64_t and_bits;                       /* AND of entries read */
	uint64_t or_bits;                        /* OR of entries read */
	uint64_t pa;                             /* leaf: address for addr, else 0 */
	unsigned refs;                           /* entries read */
} sv_walk;

/*
 * Walks addr from the table at table_pa, which is a table of level `start`
 * (the root is a table of level fmt->levels), down to a leaf or a fault.
 * Each entry read is one reference.  On SV_WALK_OK, out->pa is the physical
 * address addr maps to and out->level the leaf's level.
 */
void sv_pt__walk(const sv_pt_walker *w, sv_walk *out, uint64_t table_pa,
		 unsigned start, uint64_t addr);

/* Is e, a present entry read at level, a leaf? */
static inline bool sv_pt__walker_leaf(const sv_pt_walker *w, uint64_t e,
				      unsigned level)
{
	return (e & w->leaf_mask[level]) != 0;
}

/* Does e, a present entry, have reserved bits set or (EPT) a
 * misconfigured permission or memory-type combination? */
static inline bool sv_pt__walker_bad(const sv_pt_walker *w, uint64_t e,
				     unsigned level, bool leaf)
{
	return ((e & w->rsvd[level][leaf]) | ((w->bad_low[leaf] >> (e & 63)) & 1)) != 0;
}

/*
 * The walk itself, inlined where the fetch callback is known so that the
 * compiler can inline the fetch too (the nested walker's frame lookup,
 * which serves most references of a 2D walk).  `ctx` is what the fetch
 * gets (w->ctx for the out-of-line walk; a caller may pass a context it
 * has loaded into locals).  `observe` (a constant at each call site) says
 * whether w->on_ref is set, so the common walk without an observer
 * carries no test for it.  *out is written only through `out` and the
 * walker's fields are read into locals first, so the compiler keeps them
 * in registers across the walk's stores.
 */
static inline __attribute__((always_inline)) void
sv_pt__walk_with(const sv_pt_walker *w, sv_walk *restrict out,
		 uint64_t table_pa, unsigned start, uint64_t addr,
		 sv_pt_fetch_fn fetch, void *ctx, bool observe)
{
	const uint64_t present = w->present_mask, amask = w->addr_mask;
	const uint64_t bad_table = w->bad_low[0], bad_leaf = w->bad_low[1];
	const uint64_t table_ok = w->table_low_ok;
	uint64_t and_bits = ~0ULL, or_bits = 0, pa = 0;
	unsigned level = start, shift = sv_pt__level_shift(start);
	sv_walk_status status;

	for (;; level--, shift -= 9) {
		uint64_t *tbl, *ptr, e;

		out->table[level] = table_pa;
		tbl = fetch(ctx, level, table_pa);
		if (!tbl) {
			status = SV_WALK_FETCH_FAIL;
			break;
		}
		ptr = &tbl[(addr >> shift) & (SV_PT_ENTRIES - 1)];
		e = *ptr;
		out->entry[level] = e;
		out->ptr[level] = ptr;
		if (observe)
			w->on_ref(w->ctx, level, table_pa, e);
		if (!(e & present)) {
			and_bits &= e;
			status = SV_WALK_NOT_PRESENT;
			break;
		}
		/* (leaf_mask[1] is all-ones; testing the level as well shows
		 * the compiler that the loop ends at level 1.) */
		if (level > 1 && !(e & w->leaf_mask[level])) {
			/* A table entry: the likely case, one level down. */
			if (SV_PT_UNLIKELY(e & w->rsvd[level][0]) ||
			    (SV_PT_UNLIKELY(!(e & table_ok)) &&
			     ((bad_table >> (e & 63)) & 1))) {
				status = SV_WALK_BAD_ENTRY;
				break;
			}
			and_bits &= e;
			or_bits |= e;
			table_pa = e & amask;
			continue;
		}
		if (SV_PT_UNLIKELY((e & w->rsvd[level][1]) |
				   ((bad_leaf >> (e & 63)) & 1))) {
			status = SV_WALK_BAD_ENTRY;
			break;
		}
		and_bits &= e;
		or_bits |= e;
		pa = (e & amask & ~((1ULL << shift) - 1)) |
		     (addr & ((1ULL << shift) - 1));
		status = SV_WALK_OK;
		break;
	}
	out->status = status;
	out->pa = pa;
	out->start = start;
	out->level = level;
	out->refs = start - level + (status != SV_WALK_FETCH_FAIL);
	out->and_bits = and_bits;
	out->or_bits = or_bits;
}

/*
 * sv_pt__walk_with for a fetch known at the call site, choosing the
 * observed or unobserved body once per walk.  An unobserved walk from the
 * root of a 4-level format, the usual walk, gets a body of its own in
 * which the start is a constant: the compiler unrolls it, with each
 * level's shift and masks known.
 */
static inline __attribute__((always_inline)) void
sv_pt__walk_fetch(const sv_pt_walker *w, sv_walk *restrict out,
		  uint64_t table_pa, unsigned start, uint64_t addr,
		  sv_pt_fetch_fn fetch, void *ctx)
{
	if (SV_PT_UNLIKELY(w->on_ref != NULL))
		sv_pt__walk_with(w, out, table_pa, start, addr, fetch, ctx, true);
	else if (start == 4)
		sv_pt__walk_with(w, out, table_pa, 4, addr, fetch, ctx, false);
	else
		sv_pt__walk_with(w, out, table_pa, start, addr, fetch, ctx, false);
}

/*
 * The range iterator: a pre-order walk over every entry of [start, end) at
 * levels from the root down to min_level, stepping down into present
 * non-leaf entries, sideways, and up (the shape of KVM's tdp_iter).  The
 * caller may change *it.ptr; if it turns a table entry into a leaf or a
 * non-present entry before calling next, the iterator will not descend.
 * sv_pt__iter_skip_children keeps it from descending below the current
 * entry even when that stays a table.  Tables the fetch callback refuses
 * are stepped over.
 */
typedef struct sv_pt_iter {
	const sv_pt_walker *w;
	uint64_t *tables[SV_PT_MAX_LEVELS + 1];
	uint64_t start, end;
	uint64_t addr;     /* first address the current entry maps */
	uint64_t *ptr;     /* the current entry */
	unsigned level;
	unsigned top;      /* level of the table the walk started in */
	unsigned min_level;
	bool valid;
	bool skip;         /* do not descend below the current entry */
} sv_pt_iter;

void sv_pt__iter_start(sv_pt_iter *it, const sv_pt_walker *w, uint64_t root,
		       uint64_t start, uint64_t end, unsigned min_level);
/* The same from a table of `level` that maps [base, base + its span). */
void sv_pt__iter_start_at(sv_pt_iter *it, const sv_pt_walker *w,
			  uint64_t table, unsigned level, uint64_t start,
			  uint64_t end, unsigned min_level);
void sv_pt__iter_next(sv_pt_iter *it);

static inline void sv_pt__iter_skip_children(sv_pt_iter *it)
{
	it->skip = true;
}

/* The entry at `level` above the current one (level > it->level) on the
 * path the iterator came down. */
static inline uint64_t sv_pt__iter_parent(const sv_pt_iter *it, unsigned level)
{
	return it->tables[level][sv_pt__index(it->addr, level)];
}

#define sv_pt__for_each(it, w, root, start, end, min_level)          \
	for (sv_pt__iter_start(it, w, root, start, end, min_level);  \
	     (it)->valid; sv_pt__iter_next(it))

/* Bits of the address space a format translates (48 or 57). */
static inline unsigned sv_pt__va_bits(const sv_pt_format *fmt)
{
	return sv_pt__level_shift(fmt->levels) + 9;
}

#endif /* SV_PT_H */
