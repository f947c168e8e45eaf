/*
 * lib/ept/spte.h - the SPTE format: what the hypervisor MMU keeps in an EPT
 * or NPT entry (KVM's arch/x86/kvm/mmu/spte.h).
 *
 * An SPTE is a hardware entry of the VM's nested format plus software bits
 * in places the hardware ignores:
 *  - bit 11, MMU-present: the MMU considers the entry present whatever the
 *    hardware sees (an access-tracked SPTE has no R/W/X but is present;
 *    an MMIO SPTE has hardware bits but is not);
 *  - host-writable and MMU-writable (EPT bits 57/58, NPT bits 9/10): the
 *    host page may be written, and the MMU has not write-protected the
 *    entry for a reason of its own.  The (host-w, MMU-w, W) states that
 *    occur are 111, 110 (dirty-log write protection, undone by the fast
 *    path), 100 and 000 (a read-only host mapping or memslot);
 *  - EPT without A/D flags: an access-tracked SPTE keeps its R and X bits
 *    saved in bits 54 and 56 while R/W/X are clear;
 *  - an MMIO SPTE (not MMU-present) carries a marker the hardware faults
 *    on with a misconfiguration (EPT: W+X without R) or a reserved-bit
 *    #NPF (NPT: P with bit 51), and 19 bits of the memslot generation in
 *    bits 10:3 and 62:52.
 * Every bit below is named once; the static assertions prove the software
 * bits disjoint from each other and from the hardware bits they share an
 * entry with.  One constructor makes each kind of SPTE; the predicates
 * read them.  Changing an SPTE in a table is sv_mmu__spte_set's job
 * (lib/ept/mmu.c), never this file's.
 */
#ifndef SV_EPT_SPTE_H
#define SV_EPT_SPTE_H

#include <stdbool.h>
#include <stdint.h>

#include "simvirt/ept.h"
#include "simvirt/x86.h"
#include "simvirt/vcpu.h"

#define SPTE_BIT(n) (1ULL << (n))
/* Bits lo..hi inclusive. */
#define SPTE_BITS(lo, hi) ((~0ULL >> (63 - (hi))) & ~(SPTE_BIT(lo) - 1))

/* ---- software bits -------------------------------------------------------- */

/* KVM's SPTE_MMU_PRESENT_MASK (v5.13+): ignored by EPT and x86 entries. */
#define SPTE_MMU_PRESENT SPTE_BIT(11)
/* EPT: bits 57 and 58 (10 is MBEC's user-execute, 52-56 carry the saved
 * bits and the MMIO generation). */
#define SPTE_EPT_HOST_WRITABLE SPTE_BIT(57)
#define SPTE_EPT_MMU_WRITABLE SPTE_BIT(58)
/* NPT (x86 format): the two free AVL bits 9 and 10. */
#define SPTE_X86_HOST_WRITABLE SPTE_BIT(9)
#define SPTE_X86_MMU_WRITABLE SPTE_BIT(10)
/* EPT access tracking (no A/D flags): R and X saved this far up. */
#define SPTE_EPT_SAVED_SHIFT 54
#define SPTE_EPT_SAVED_R (SV_EPT_R << SPTE_EPT_SAVED_SHIFT)
#define SPTE_EPT_SAVED_X (SV_EPT_X << SPTE_EPT_SAVED_SHIFT)
/* MMIO SPTEs: the marker, and the generation's low 8 and high 11 bits. */
#define SPTE_EPT_MMIO_MARK (SV_EPT_W | SV_EPT_X) /* W+X without R */
#define SPTE_NPT_MMIO_MARK (SV_PTE_P | SPTE_BIT(51)) /* reserved bit 51 */
#define SPTE_MMIO_GEN_BITS 19
#define SPTE_MMIO_GEN_LOW SPTE_BITS(3, 10)
#define SPTE_MMIO_GEN_HIGH SPTE_BITS(52, 62)
#define SPTE_ADDR SV_PTE_ADDR_MASK

/* The EPT hardware bits a leaf or table SPTE uses. */
#define SPTE_EPT_HW                                                     \
	(SV_EPT_RWX | SV_EPT_MT_MASK | SV_EPT_IPAT | SV_EPT_PS | SV_EPT_A | \
	 SV_EPT_D | SV_EPT_ADDR_MASK)
/* The x86 (NPT) hardware bits, NX included. */
#define SPTE_X86_HW                                                        \
	(SV_PTE_P | SV_PTE_RW | SV_PTE_US | SV_PTE_A | SV_PTE_D | SV_PTE_PS | \
	 SV_PTE_ADDR_MASK | SV_PTE_NX)

#define SPTE_EPT_SW                                                   \
	(SPTE_MMU_PRESENT | SPTE_EPT_HOST_WRITABLE | SPTE_EPT_MMU_WRITABLE | \
	 SPTE_EPT_SAVED_R | SPTE_EPT_SAVED_X)
#define SPTE_X86_SW \
	(SPTE_MMU_PRESENT | SPTE_X86_HOST_WRITABLE | SPTE_X86_MMU_WRITABLE)

#define SPTE_DISJOINT(a, b) (((a) & (b)) == 0)
_Static_assert(SPTE_DISJOINT(SPTE_EPT_SW, SPTE_EPT_HW) &&
		       SPTE_DISJOINT(SPTE_X86_SW, SPTE_X86_HW),
	       "software bits must be bits the hardware ignores");
_Static_assert(SPTE_DISJOINT(SPTE_MMU_PRESENT, SPTE_EPT_HOST_WRITABLE |
						       SPTE_EPT_MMU_WRITABLE |
						       SPTE_EPT_SAVED_R |
						       SPTE_EPT_SAVED_X) &&
		       SPTE_DISJOINT(SPTE_EPT_HOST_WRITABLE,
				     SPTE_EPT_MMU_WRITABLE | SPTE_EPT_SAVED_R |
					     SPTE_EPT_SAVED_X) &&
		       SPTE_DISJOINT(SPTE_EPT_MMU_WRITABLE,
				     SPTE_EPT_SAVED_R | SPTE_EPT_SAVED_X) &&
		       SPTE_DISJOINT(SPTE_EPT_SAVED_R, SPTE_EPT_SAVED_X) &&
		       SPTE_DISJOINT(SPTE_MMU_PRESENT, SPTE_X86_HOST_WRITABLE |
							       SPTE_X86_MMU_WRITABLE) &&
		       SPTE_DISJOINT(SPTE_X86_HOST_WRITABLE,
				     SPTE_X86_MMU_WRITABLE),
	       "the software bits of one format must not overlap");
_Static_assert(SPTE_DISJOINT(SPTE_MMIO_GEN_LOW, SPTE_MMIO_GEN_HIGH) &&
		       SPTE_DISJOINT(SPTE_MMIO_GEN_LOW | SPTE_MMIO_GEN_HIGH,
				     SPTE_MMU_PRESENT | SPTE_EPT_MMIO_MARK |
					     SPTE_NPT_MMIO_MARK) &&
		       __builtin_popcountll(SPTE_MMIO_GEN_LOW) +
				       __builtin_popcountll(SPTE_MMIO_GEN_HIGH) ==
			       SPTE_MMIO_GEN_BITS,
	       "an MMIO SPTE keeps 19 generation bits beside its marker, "
	       "never MMU-present");
_Static_assert(SPTE_DISJOINT(SPTE_EPT_MMIO_MARK, SV_EPT_R) &&
		       (SPTE_NPT_MMIO_MARK & ~SV_PTE_ADDR_MASK) == SV_PTE_P &&
		       (SV_PTE_ADDR_MASK >> 51) == 1,
	       "MMIO markers: EPT W+X without R; NPT P with the top address "
	       "bit, 51, reserved when MAXPHYADDR <= 51 (sv_mmu_attach "
	       "checks)");

/* ---- the bits of one VM's format -------------------------------------------- */

/* Set up once per MMU from the VM's nested format. */
typedef struct sv_spte_bits {
	uint64_t r, w, x;       /* grant read, write, execute when set */
	uint64_t nx;            /* NPT: forbid execute when set */
	uint64_t hw_present;    /* any of these: the CPU walks through it */
	uint64_t a, d;          /* 0 when the hardware keeps no A/D flags */
	uint64_t ps;
	uint64_t host_w, mmu_w; /* SPTE_*_HOST_WRITABLE, _MMU_WRITABLE */
	uint64_t leaf_attr;     /* EPT: WB + ignore PAT; NPT: U/S */
	uint64_t table;         /* a non-leaf entry's hardware flags */
	uint64_t mmio;          /* an MMIO SPTE's marker */
	unsigned saved_shift;   /* EPT access tracking: SPTE_EPT_SAVED_SHIFT */
	bool nx_huge;           /* huge leaves are NX (iTLB multihit) */
} sv_spte_bits;

/* EPT (with or without A/D flags) or NPT; nx_huge_pages. */
void sv_spte__bits_init(sv_spte_bits *b, bool ept, bool ept_ad, bool nx_huge);

static inline uint64_t sv_spte__level_pages(unsigned level)
{
	return 1ULL << (9 * (level - 1));
}

/* ---- predicates ------------------------------------------------------------- */

static inline bool sv_spte__present(uint64_t e)
{
	return (e & SPTE_MMU_PRESENT) != 0;
}

static inline bool sv_spte__leaf(const sv_spte_bits *b, uint64_t e,
				 unsigned level)
{
	return level == 1 || (e & b->ps);
}

/* A shadow-present leaf (or table) SPTE's frame, aligned to its level. */
static inline uint64_t sv_spte__pfn(uint64_t e, unsigned level)
{
	return ((e & SPTE_ADDR) >> 12) & ~(sv_spte__level_pages(level) - 1);
}

/* Present to the MMU, but the hardware faults on it (its R/W/X cleared
 * and saved: EPT without A/D). */
static inline bool sv_spte__access_tracked(const sv_spte_bits *b, uint64_t e)
{
	return sv_spte__present(e) && !(e & b->hw_present) && !(e & b->mmio);
}

static inline bool sv_spte__is_mmio(const sv_spte_bits *b, uint64_t e)
{
	return !sv_spte__present(e) && (e & b->mmio) == b->mmio;
}

static inline uint64_t sv_spte__mmio_gen(uint64_t e)
{
	return ((e & SPTE_MMIO_GEN_LOW) >> 3) |
	       (((e & SPTE_MMIO_GEN_HIGH) >> 52) << 8);
}

/* The generation an MMIO SPTE can hold: the memslot generation's low bits. */
static inline uint64_t sv_spte__gen_of(uint64_t memslot_gen)
{
	return memslot_gen & ((1ULL << SPTE_MMIO_GEN_BITS) - 1);
}

static inline bool sv_spte__writable(const sv_spte_bits *b, uint64_t e)
{
	return (e & b->w) != 0;
}

/* Does a shadow-present, hardware-present SPTE allow the access? */
static inline bool sv_spte__allows(const sv_spte_bits *b, uint64_t e,
				   sv_access acc)
{
	if (!(e & b->hw_present))
		return false;
	switch (acc) {
	case SV_ACCESS_WRITE:
		return (e & b->w) != 0;
	case SV_ACCESS_FETCH:
		return b->nx ? !(e & b->nx) : (e & b->x) != 0;
	default:
		return (e & b->r) != 0;
	}
}

/* Young, for aging: A set, or (without A/D flags) not access-tracked. */
static inline bool sv_spte__young(const sv_spte_bits *b, uint64_t e)
{
	return b->a ? (e & b->a) != 0 : (e & b->hw_present) != 0;
}

/* ---- constructors ----------------------------------------------------------- */

/*
 * make_spte: a leaf for the host frame pfn (rounded down to the level).
 * Readable, executable unless NX huge pages forbid it for a huge leaf,
 * accessed; host-writable ones are also writable, MMU-writable and dirty
 * (KVM sets D at once, so a read fault of a writable page installs a
 * writable SPTE).
 */
static inline uint64_t sv_spte__make(const sv_spte_bits *b, uint64_t pfn,
				     unsigned level, bool host_writable)
{
	uint64_t e = SPTE_MMU_PRESENT | b->r | b->leaf_attr | b->a;

	if (level > 1)
		e |= b->ps;
	e |= b->nx_huge && level > 1 ? b->nx : b->x;
	e |= (pfn & ~(sv_spte__level_pages(level) - 1)) << 12;
	if (host_writable)
		e |= b->host_w | b->w | b->mmu_w | b->d;
	return e;
}

/* A non-leaf SPTE pointing at the table at hpa. */
static inline uint64_t sv_spte__table(const sv_spte_bits *b, uint64_t hpa)
{
	return hpa | b->table | SPTE_MMU_PRESENT;
}

/* An MMIO SPTE of the given memslot generation. */
static inline uint64_t sv_spte__mmio(const sv_spte_bits *b, uint64_t memslot_gen)
{
	uint64_t g = sv_spte__gen_of(memslot_gen);

	return b->mmio | ((g & 0xff) << 3) | ((g >> 8) << 52);
}

/* make_huge_page_split_spte: child i of the huge leaf `huge` at `level`
 * keeps its bits; 4K children may execute (only huge pages are NX for
 * the iTLB-multihit mitigation). */
static inline uint64_t sv_spte__split_child(const sv_spte_bits *b,
					    uint64_t huge, unsigned level,
					    unsigned i)
{
	uint64_t e = huge + ((uint64_t)i << (12 + 9 * (level - 2)));

	if (level - 1 == 1) {
		e &= ~b->ps;
		if (b->nx_huge)
			e = (e | b->x) & ~b->nx;
	}
	return e;
}

/* The huge leaf at `level` that replaces a table whose leaves map one
 * host mapping: the bits of one of them (`leaf`), its frame rounded down
 * to the huge page (in-place recovery). */
static inline uint64_t sv_spte__huge_from(const sv_spte_bits *b, uint64_t leaf,
					  unsigned level)
{
	uint64_t e = (leaf & ~SPTE_ADDR) |
		     ((leaf & SPTE_ADDR) &
		      ~((sv_spte__level_pages(level) << 12) - 1)) |
		     b->ps;

	return b->nx_huge ? (e & ~b->x) | b->nx : e;
}

/* Write protection for dirty logging: W cleared, MMU-writable kept (the
 * fast path may give it back). */
static inline uint64_t sv_spte__wrprot(const sv_spte_bits *b, uint64_t e)
{
	return e & ~b->w;
}

/* Aging: A cleared; without A/D flags, mark_spte_for_access_track: R and
 * X saved, R/W/X cleared (W comes back through MMU-writable). */
static inline uint64_t sv_spte__age(const sv_spte_bits *b, uint64_t e)
{
	if (b->a)
		return e & ~b->a;
	return (e & ~b->hw_present) | ((e & (b->r | b->x)) << b->saved_shift);
}

/* Undoes access tracking: R and X restored from their saved place. */
static inline uint64_t sv_spte__restore(const sv_spte_bits *b, uint64_t e)
{
	return e | ((e >> b->saved_shift) & (b->r | b->x));
}

#endif /* SV_EPT_SPTE_H */
