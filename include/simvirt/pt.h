/*
 * simvirt/pt.h - page-table trees built through the API.
 *
 * A tree is either the guest's (x86-64 format, its table pages in guest
 * memory, taken from a pool of guest-physical pages) or a nested one (EPT
 * or NPT format, its table pages in host memory the VM owns).  Tests and
 * labs build both by hand; the hypervisor MMU builds nested ones itself.
 * Writing entries does not touch any TLB: as on hardware, stale cached
 * translations stay until they are invalidated.
 */
#ifndef SIMVIRT_PT_H
#define SIMVIRT_PT_H

#include "common.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_pt sv_pt;

typedef enum sv_pt_kind {
	SV_PT_GUEST, /* guest page tables in guest-physical memory */
	SV_PT_TDP,   /* EPT or NPT tables (the VM's nested format) */
} sv_pt_kind;

#define SV_PT_OPTIONS_VERSION 1
typedef struct sv_pt_options {
	unsigned version;   /* SV_PT_OPTIONS_VERSION */
	sv_pt_kind kind;
	unsigned levels;    /* 0 = the VM's guest_levels or tdp_levels */
	uint64_t pool_gpa;  /* SV_PT_GUEST: 4K-aligned guest-physical pool */
	uint64_t pool_size; /* inside memslots; table pages come from it */
} sv_pt_options;

#define SV_PAGE_4K 0x1000ULL
#define SV_PAGE_2M 0x200000ULL
#define SV_PAGE_1G 0x40000000ULL

/** Creates an empty tree (a zeroed root table). */
SV_API int sv_pt_new(sv_pt **out, sv_vm *vm, const sv_pt_options *opts);
/** Frees the handle and, for a nested tree, its table pages.  NULL: no-op.
 *  The VM's own nested tree (sv_vm_tdp) is freed with the VM. */
SV_API void sv_pt_free(sv_pt *pt);
/** The VM's default nested tree, the one new vCPUs point at. */
SV_API sv_pt *sv_vm_tdp(sv_vm *vm);

/** Physical address of the root table (CR3 base, EP4TA or nCR3). */
SV_API uint64_t sv_pt_root(const sv_pt *pt);
SV_API unsigned sv_pt_levels(const sv_pt *pt);
/** The EPTP (EPT: memory type WB, walk length, A/D as the VM says) or nCR3
 *  value that points at this tree. */
SV_API uint64_t sv_pt_pointer(const sv_pt *pt);
/** Number of table pages the tree holds. */
SV_API uint64_t sv_pt_table_pages(const sv_pt *pt);

/**
 * Maps [addr, addr+size) to [target, target+size) with leaves of page_size
 * (4K, 2M or 1G), creating tables as needed.  `flags` are the leaf's
 * permission and attribute bits in the tree's format (x86: SV_PTE_RW,
 * SV_PTE_US, SV_PTE_NX, SV_PTE_G, ...; EPT: SV_EPT_R/W/X, ...); present,
 * page-size and (EPT, when no type is given) the WB memory type are added.
 * Upper-level entries are created fully permissive.  Misaligned arguments
 * are SV_EALIGN; a range already mapped at another level is SV_EEXIST; the
 * guest pool running dry is SV_EFULL.
 */
SV_API int sv_pt_map(sv_pt *pt, uint64_t addr, uint64_t target, uint64_t size,
		     uint64_t page_size, uint64_t flags);
/** Clears the leaves covering [addr, addr+size) (tables stay). */
SV_API int sv_pt_unmap(sv_pt *pt, uint64_t addr, uint64_t size);

/**
 * Reads or writes the raw entry that translates addr at a level (1 = PTE,
 * up to the tree's levels).  SV_ENOENT if a table on the way is missing.
 */
SV_API int sv_pt_get(uint64_t *entry, sv_pt *pt, uint64_t addr, unsigned level);
SV_DEPRECATED("sv_pt_get(&entry, pt, addr, level)")
SV_API int sv_pt_read(sv_pt *pt, uint64_t addr, unsigned level, uint64_t *entry);
SV_API int sv_pt_write(sv_pt *pt, uint64_t addr, unsigned level, uint64_t entry);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_PT_H */
