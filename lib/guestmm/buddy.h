/*
 * lib/guestmm/buddy.h - the guest kernel's page allocator: a binary buddy
 * allocator over 4K guest frames, orders 0 (4K) to 9 (2M).  Free blocks
 * are kept per order, last freed first, so that where a run's pages land
 * depends only on its operations.
 */
#ifndef SV_GUESTMM_BUDDY_H
#define SV_GUESTMM_BUDDY_H

#include "base.h"

#define SV_BUDDY_MAX_ORDER 9

typedef struct sv_buddy {
	uint64_t base;        /* gpa of frame 0, 2M-aligned */
	uint32_t frames;      /* a multiple of 512 */
	int32_t *next, *prev; /* free-list links by frame (-1: none) */
	uint8_t *head;        /* order + 1 at the head frame of a free block */
	int32_t first[SV_BUDDY_MAX_ORDER + 1];
	uint64_t free_frames;
} sv_buddy;

/* All of [base, base + frames * 4K) free, as 2M blocks. */
int sv_buddy__init(sv_buddy *b, uint64_t base, uint32_t frames);
void sv_buddy__fini(sv_buddy *b);
/* A block of 2^order frames: its gpa, or 0 when none is free. */
uint64_t sv_buddy__alloc(sv_buddy *b, unsigned order);
/* Frees the block at gpa of 2^order frames (merging with free buddies). */
void sv_buddy__free(sv_buddy *b, uint64_t gpa, unsigned order);
/* Is the frame at gpa free (inside a free block of some order)? */
bool sv_buddy__is_free(const sv_buddy *b, uint64_t gpa);

#endif /* SV_GUESTMM_BUDDY_H */
