/*
 * lib/ptbuild.h - a page-table tree built through the API (lib/ptbuild.c).
 */
#ifndef SV_PTBUILD_H
#define SV_PTBUILD_H

#include "vm.h"

struct sv_pt {
	sv_vm *vm;
	sv_pt_kind kind;
	const sv_pt_format *fmt;
	uint64_t root;        /* physical address of the root table */
	uint64_t pages;       /* table pages in the tree */
	bool vm_owned;        /* the VM's default nested tree */
	/* SV_PT_GUEST: the pool table pages come from, maybe shared */
	struct sv_pt_pool *pool;
};

/* A guest pool: [gpa, gpa + size), taken up to next, plus what went back;
 * trees made by sv_pt__new_sharing share their first tree's. */
typedef struct sv_pt_pool {
	uint64_t gpa, size, next;
	GArray *free;         /* uint64_t GPAs of freed pool pages */
	unsigned refs;        /* the trees using it */
} sv_pt_pool;

/* SV_PT_GUEST: a new empty tree of other's format whose tables come from
 * other's pool (a guest kernel's second process); freeing either gives
 * its table pages back to the pool. */
int sv_pt__new_sharing(sv_pt **out, sv_pt *other);

/* SV_PT_GUEST: the part of the pool table pages have been taken from,
 * [*gpa, *gpa + the bytes returned). */
uint64_t sv_pt__pool_used(const sv_pt *pt, uint64_t *gpa);

/* The hypervisor MMU, which owns the VM's nested tree once attached,
 * counts the table pages it adds (+1) or frees (-1) there. */
void sv_pt__count_pages(sv_pt *pt, int delta);

/* SV_PT_GUEST: the table of `level` under the entry that covers addr
 * goes back to the pool and that entry is cleared, when the table maps
 * nothing (SV_EBUSY if it does; SV_ENOENT without one). */
int sv_pt__free_table(sv_pt *pt, uint64_t addr, unsigned level);

#endif /* SV_PTBUILD_H */
