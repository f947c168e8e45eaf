/*
 * simvirt/x86.h - named bits of the x86-64 paging formats and control
 * registers, as the guest (and NPT, which reuses the format) sees them.
 *
 * Sources: Intel SDM Vol. 3A chapter 4 "Paging" (section "4-Level Paging and
 * 5-Level Paging", tables "Format of a PML5/PML4/PDPT/PD/PT entry", and
 * "Page-Fault Exceptions"); AMD APM Vol. 2 section "Nested Paging" for the
 * #NPF EXITINFO1 bits.  Plain masks, never bitfields: a PTE is a uint64_t.
 */
#ifndef SIMVIRT_X86_H
#define SIMVIRT_X86_H

#include <stdint.h>

#include "common.h"

/* Paging-structure entry bits (SDM Vol. 3A, 4-level paging entry formats). */
#define SV_PTE_P (1ULL << 0)      /* present */
#define SV_PTE_RW (1ULL << 1)     /* writable (ANDed over all levels) */
#define SV_PTE_US (1ULL << 2)     /* user-mode (ANDed over all levels) */
#define SV_PTE_PWT (1ULL << 3)    /* page-level write-through */
#define SV_PTE_PCD (1ULL << 4)    /* page-level cache disable */
#define SV_PTE_A (1ULL << 5)      /* accessed: set by the walk */
#define SV_PTE_D (1ULL << 6)      /* dirty: leaf only, set on write */
#define SV_PTE_PS (1ULL << 7)     /* page size in PDPTE/PDE; PAT in a PTE */
#define SV_PTE_G (1ULL << 8)      /* global: leaf only, with CR4.PGE */
#define SV_PTE_PAT_LARGE (1ULL << 12) /* PAT bit of a 2M/1G leaf */
#define SV_PTE_NX (1ULL << 63)    /* execute-disable, reserved without EFER.NXE */
/* Physical-address field, bits 51:12 (the upper part may be reserved by
 * MAXPHYADDR; the walker checks that separately). */
#define SV_PTE_ADDR_MASK 0x000ffffffffff000ULL

SV_STATIC_ASSERT(((SV_PTE_P | SV_PTE_RW | SV_PTE_US | SV_PTE_PWT |
		   SV_PTE_PCD | SV_PTE_A | SV_PTE_D | SV_PTE_PS | SV_PTE_G) &
		  (SV_PTE_ADDR_MASK | SV_PTE_NX)) == 0,
		 "x86 PTE flag bits overlap the address field");
SV_STATIC_ASSERT((SV_PTE_ADDR_MASK & SV_PTE_NX) == 0,
		 "NX inside the address field");

/* Control registers (SDM Vol. 3A section "Control Registers"). */
#define SV_CR0_PE (1ULL << 0)
#define SV_CR0_WP (1ULL << 16) /* supervisor writes honour R/W */
#define SV_CR0_PG (1ULL << 31)
#define SV_CR3_PWT (1ULL << 3)
#define SV_CR3_PCD (1ULL << 4)
#define SV_CR3_PCID_MASK 0xfffULL  /* with CR4.PCIDE */
#define SV_CR3_NOFLUSH (1ULL << 63) /* MOV to CR3 keeps the PCID's entries */
#define SV_CR4_PAE (1ULL << 5)
#define SV_CR4_PGE (1ULL << 7)
#define SV_CR4_LA57 (1ULL << 12) /* 5-level paging */
#define SV_CR4_PCIDE (1ULL << 17)
#define SV_CR4_SMEP (1ULL << 20)
#define SV_CR4_SMAP (1ULL << 21)
#define SV_EFER_LME (1ULL << 8)
#define SV_EFER_LMA (1ULL << 10)
#define SV_EFER_NXE (1ULL << 11)
#define SV_RFLAGS_AC (1ULL << 18) /* with CR4.SMAP: user pages allowed */

/* #PF error code (SDM Vol. 3A, "Page-Fault Error Code"). */
#define SV_PFERR_P (1U << 0)    /* 0: not present; 1: protection or rsvd */
#define SV_PFERR_W (1U << 1)    /* the access was a write */
#define SV_PFERR_U (1U << 2)    /* the access was a user-mode access */
#define SV_PFERR_RSVD (1U << 3) /* a reserved bit was set */
#define SV_PFERR_I (1U << 4)    /* instruction fetch (with NXE or SMEP) */
#define SV_PFERR_PK (1U << 5)
#define SV_PFERR_SS (1U << 6)

/* #NPF EXITINFO1 (AMD APM Vol. 2, "Nested versus Guest Page Faults"): the
 * low bits are a #PF error code, plus where in the walk it happened. */
#define SV_NPF_FINAL_ADDR (1ULL << 32)  /* translating the final GPA */
#define SV_NPF_GUEST_TABLE (1ULL << 33) /* translating a guest table's GPA */

#endif /* SIMVIRT_X86_H */
