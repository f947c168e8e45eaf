/*
 * simvirt/ept.h - named bits of Intel's EPT format, the EPT pointer and the
 * EPT-violation exit qualification.
 *
 * Source: Intel SDM Vol. 3C, chapter "VMX Support for Address Translation"
 * (sections "The EPT Translation Mechanism", tables "Format of an EPT
 * PML4/PDPT/PD/PT Entry", "EPT Misconfigurations", "EPT Violations",
 * "Accessed and Dirty Flags for EPT") and the VM-execution-control table
 * "Format of Extended-Page-Table Pointer"; "Exit Qualification for EPT
 * Violations" in chapter "VM Exits".
 */
#ifndef SIMVIRT_EPT_H
#define SIMVIRT_EPT_H

#include <stdint.h>

#include "common.h"

/* EPT paging-structure entry. An entry is present iff bits 2:0 != 0. */
#define SV_EPT_R (1ULL << 0)
#define SV_EPT_W (1ULL << 1)
#define SV_EPT_X (1ULL << 2)
#define SV_EPT_RWX (SV_EPT_R | SV_EPT_W | SV_EPT_X)
#define SV_EPT_MT_SHIFT 3 /* memory type, bits 5:3, leaf only */
#define SV_EPT_MT_MASK (7ULL << SV_EPT_MT_SHIFT)
#define SV_EPT_MT_UC 0ULL
#define SV_EPT_MT_WC 1ULL
#define SV_EPT_MT_WT 4ULL
#define SV_EPT_MT_WP 5ULL
#define SV_EPT_MT_WB 6ULL /* types 2, 3 and 7 are reserved: misconfiguration */
#define SV_EPT_IPAT (1ULL << 6) /* ignore guest PAT, leaf only */
#define SV_EPT_PS (1ULL << 7)   /* leaf in a PDPTE (1G) or PDE (2M) */
#define SV_EPT_A (1ULL << 8)    /* accessed, with EPTP.AD */
#define SV_EPT_D (1ULL << 9)    /* dirty, leaf only, with EPTP.AD */
#define SV_EPT_XU (1ULL << 10)  /* user-mode execute (MBEC) */
#define SV_EPT_SVE (1ULL << 63) /* suppress #VE */
#define SV_EPT_ADDR_MASK 0x000ffffffffff000ULL

SV_STATIC_ASSERT(((SV_EPT_RWX | SV_EPT_MT_MASK | SV_EPT_IPAT | SV_EPT_PS |
		   SV_EPT_A | SV_EPT_D | SV_EPT_XU) &
		  (SV_EPT_ADDR_MASK | SV_EPT_SVE)) == 0,
		 "EPT flag bits overlap the address field");
SV_STATIC_ASSERT((SV_EPT_MT_MASK & (SV_EPT_RWX | SV_EPT_IPAT)) == 0,
		 "EPT memory type overlaps permissions");

/* EPT pointer. */
#define SV_EPTP_MT_MASK 7ULL       /* 0 = UC, 6 = WB; others invalid */
#define SV_EPTP_PWL_SHIFT 3        /* page-walk length - 1, bits 5:3 */
#define SV_EPTP_PWL_MASK (7ULL << 3)
#define SV_EPTP_AD (1ULL << 6)     /* enable EPT A/D flags */
#define SV_EPTP_ADDR_MASK 0x000ffffffffff000ULL /* the EP4TA */

/* Exit qualification of an EPT violation. */
#define SV_EPT_EXITQ_READ (1ULL << 0)
#define SV_EPT_EXITQ_WRITE (1ULL << 1)
#define SV_EPT_EXITQ_FETCH (1ULL << 2)
#define SV_EPT_EXITQ_READABLE (1ULL << 3)   /* AND of R over entries used */
#define SV_EPT_EXITQ_WRITABLE (1ULL << 4)   /* AND of W */
#define SV_EPT_EXITQ_EXECUTABLE (1ULL << 5) /* AND of X */
#define SV_EPT_EXITQ_GLA_VALID (1ULL << 7)
#define SV_EPT_EXITQ_FINAL (1ULL << 8) /* 1: the final GPA; 0: a guest table */

#endif /* SIMVIRT_EPT_H */
