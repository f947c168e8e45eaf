/*
 * lib/pt.c - format descriptors, walker set-up, the out-of-line walk and the
 * range iterator (the walk's body is sv_pt__walk_with in pt.h).
 *
 * How a walk works:
 *  1. Start at a table of some level (the root, or a table a
 *     paging-structure cache pointed at) and fetch it through the walker's
 *     callback: a frame lookup for nested/host tables, a nested translation
 *     for guest tables.  One entry read is one memory reference.
 *  2. Not present (x86: P = 0; EPT: R = W = X = 0): stop.
 *  3. Present: a leaf if at level 1 or PS is set where a leaf may be.
 *     Any bit of rsvd[level][leaf] set, or (EPT) write-without-read,
 *     execute-only where unsupported, or a reserved leaf memory type: stop
 *     with a bad entry (a reserved-bit #PF or an EPT misconfiguration).
 *  4. Accumulate the AND and OR of the entries (permissions are ANDed,
 *     XD is ORed), then either stop at the leaf or go down one level.
 * The caller turns the status and the accumulated bits into its
 * architecture's outcome (#PF error code, EPT exit qualification, #NPF).
 */
#include <string.h>

#include "pt.h"

#include "simvirt/ept.h"
#include "simvirt/x86.h"

const sv_pt_format sv_pt__fmt_x86_4 = {
	"x86-64 4-level", SV_FMT_X86, 4, 3, SV_PTE_P, SV_PTE_PS,
	SV_PTE_ADDR_MASK, SV_PTE_P | SV_PTE_RW | SV_PTE_US,
};
const sv_pt_format sv_pt__fmt_x86_5 = {
	"x86-64 5-level", SV_FMT_X86, 5, 3, SV_PTE_P, SV_PTE_PS,
	SV_PTE_ADDR_MASK, SV_PTE_P | SV_PTE_RW | SV_PTE_US,
};
const sv_pt_format sv_pt__fmt_ept_4 = {
	"EPT 4-level", SV_FMT_EPT, 4, 3, SV_EPT_RWX, SV_EPT_PS,
	SV_EPT_ADDR_MASK, SV_EPT_RWX,
};
const sv_pt_format sv_pt__fmt_ept_5 = {
	"EPT 5-level", SV_FMT_EPT, 5, 3, SV_EPT_RWX, SV_EPT_PS,
	SV_EPT_ADDR_MASK, SV_EPT_RWX,
};

/* Bits lo..hi inclusive. */
static uint64_t bits(unsigned lo, unsigned hi)
{
	return (~0ULL >> (63 - hi)) & ~((1ULL << lo) - 1);
}

/* Bit n set for every n in 0..63 whose bits 5:0, read as an EPT entry
 * with RWX in 2:0 and the memory type in 5:3, are misconfigured (SDM "EPT
 * Misconfigurations"): write without read, execute-only where the CPU
 * lacks it, and, in a leaf, memory types 2, 3 and 7. */
static uint64_t ept_bad_low(bool leaf, bool exec_only)
{
	uint64_t bad = 0;
	unsigned n;

	for (n = 0; n < 64; n++) {
		unsigned rwx = n & 7, mt = n >> 3;
		bool r = rwx & SV_EPT_R, w = rwx & SV_EPT_W, x = rwx & SV_EPT_X;

		if ((w && !r) || (x && !r && !exec_only) ||
		    (leaf && (mt == 2 || mt == 3 || mt == 7)))
			bad |= 1ULL << n;
	}
	return bad;
}

void sv_pt__walker_init(sv_pt_walker *w, const sv_pt_format *fmt,
			unsigned maxphyaddr, bool nxe, bool gbpages,
			bool ept_exec_only)
{
	/* Address bits at or above MAXPHYADDR are reserved in every entry. */
	uint64_t high = maxphyaddr < 52 ? bits(maxphyaddr, 51) : 0;
	bool leaf_ok[SV_PT_MAX_LEVELS + 1];
	unsigned l, b, n;

	w->fmt = fmt;
	w->present_mask = fmt->present_mask;
	w->addr_mask = fmt->addr_mask;
	w->on_ref = NULL;
	for (l = 0; l <= SV_PT_MAX_LEVELS; l++) {
		w->rsvd[l][0] = w->rsvd[l][1] = high;
		leaf_ok[l] = l == 1 || l == 2 || (l == 3 && gbpages);
		/* Every present entry has a bit set, so all-ones makes each
		 * present PTE a leaf. */
		w->leaf_mask[l] = l == 1 ? ~0ULL : leaf_ok[l] ? fmt->ps_bit : 0;
	}
	w->bad_low[0] = w->bad_low[1] = 0;
	if (fmt->kind == SV_FMT_X86) {
		/* SDM 4-level paging entry formats: XD is reserved without
		 * EFER.NXE; PS is reserved in PML5Es and PML4Es (and in PDPTEs
		 * without 1G pages); a 2M leaf reserves bits 20:13 and a 1G
		 * leaf bits 29:13 (bit 12 is their PAT bit). */
		for (l = 1; l <= SV_PT_MAX_LEVELS; l++) {
			if (!nxe) {
				w->rsvd[l][0] |= SV_PTE_NX;
				w->rsvd[l][1] |= SV_PTE_NX;
			}
			if (!leaf_ok[l])
				w->rsvd[l][0] |= SV_PTE_PS;
		}
		w->rsvd[2][1] |= bits(13, 20);
		w->rsvd[3][1] |= bits(13, 29);
	} else {
		/* SDM EPT entry formats: bits 7:3 are reserved in PML5Es and
		 * PML4Es, bits 6:3 in PDPTEs and PDEs that point at a table;
		 * a 2M leaf reserves 20:12 and a 1G leaf 29:12; a PTE has no
		 * reserved low bits (bit 7 is ignored there). */
		for (l = 2; l <= SV_PT_MAX_LEVELS; l++)
			w->rsvd[l][0] |= l >= 4 ? bits(3, 7) : bits(3, 6);
		if (!leaf_ok[3])
			w->rsvd[3][0] |= SV_EPT_PS;
		w->rsvd[2][1] |= bits(12, 20);
		w->rsvd[3][1] |= bits(12, 29);
		w->bad_low[0] = ept_bad_low(false, ept_exec_only);
		w->bad_low[1] = ept_bad_low(true, ept_exec_only);
	}
	/* A PTE is a leaf whatever bit 7 says. */
	w->rsvd[1][0] = w->rsvd[1][1];
	/* The low bits no misconfigured table entry has. */
	w->table_low_ok = 0;
	for (b = 0; b < 6; b++) {
		bool in_bad = false;

		for (n = 0; n < 64; n++)
			if (((w->bad_low[0] >> n) & 1) && ((n >> b) & 1))
				in_bad = true;
		if (!in_bad)
			w->table_low_ok |= 1ULL << b;
	}
}

void sv_pt__walker_init_soft(sv_pt_walker *w, const sv_pt_format *fmt,
			     uint64_t present_mask)
{
	unsigned l;

	memset(w, 0, sizeof(*w));
	w->fmt = fmt;
	w->present_mask = present_mask;
	w->addr_mask = fmt->addr_mask;
	for (l = 0; l <= SV_PT_MAX_LEVELS; l++)
		w->leaf_mask[l] = l == 1 ? ~0ULL : fmt->ps_bit;
	/* No pattern of bits 5:0 is misconfigured. */
	w->table_low_ok = 0x3f;
}

void sv_pt__walk(const sv_pt_walker *w, sv_walk *out, uint64_t table_pa,
		 unsigned start, uint64_t addr)
{
	sv_pt__walk_fetch(w, out, table_pa, start, addr, w->fetch, w->ctx);
}

/* ---- range iterator ---------------------------------------------------- */

static inline uint64_t entry_size(unsigned level)
{
	return 1ULL << sv_pt__level_shift(level);
}

static void iter_point(sv_pt_iter *it)
{
	it->ptr = &it->tables[it->level][sv_pt__index(it->addr, it->level)];
}

void sv_pt__iter_start_at(sv_pt_iter *it, const sv_pt_walker *w,
			  uint64_t table, unsigned level, uint64_t start,
			  uint64_t end, unsigned min_level)
{
	it->w = w;
	it->start = start;
	it->end = end;
	it->min_level = min_level ? min_level : 1;
	it->level = it->top = level;
	it->valid = false;
	it->skip = false;
	if (start >= end)
		return;
	it->tables[level] = w->fetch(w->ctx, level, table);
	if (!it->tables[level])
		return;
	it->addr = start & ~(entry_size(level) - 1);
	iter_point(it);
	it->valid = true;
}

void sv_pt__iter_start(sv_pt_iter *it, const sv_pt_walker *w, uint64_t root,
		       uint64_t start, uint64_t end, unsigned min_level)
{
	sv_pt__iter_start_at(it, w, root, w->fmt->levels, start, end,
			     min_level);
}

void sv_pt__iter_next(sv_pt_iter *it)
{
	const sv_pt_walker *w = it->w;
	uint64_t e = *it->ptr;
	bool skip = it->skip;

	it->skip = false;
	/* Down: into a present table entry above min_level. */
	if (!skip && it->level > it->min_level && (e & w->present_mask) &&
	    !sv_pt__walker_leaf(w, e, it->level)) {
		uint64_t *t = w->fetch(w->ctx, it->level - 1,
				       e & w->fmt->addr_mask);

		if (t) {
			uint64_t target = it->addr > it->start ? it->addr
							       : it->start;

			it->level--;
			it->tables[it->level] = t;
			it->addr = target & ~(entry_size(it->level) - 1);
			iter_point(it);
			return;
		}
	}
	/* Sideways, climbing up past the last entry of each table. */
	for (;;) {
		if (sv_pt__index(it->addr, it->level) != SV_PT_ENTRIES - 1) {
			it->addr = (it->addr & ~(entry_size(it->level) - 1)) +
				   entry_size(it->level);
			if (it->addr >= it->end) {
				it->valid = false;
				return;
			}
			iter_point(it);
			return;
		}
		if (it->level == it->top) {
			it->valid = false;
			return;
		}
		it->level++;
		it->addr &= ~(entry_size(it->level) - 1);
	}
}
