/*
 * lib/frames.h - host-physical 4K frames for the page tables the model
 * owns (the VM's nested tables, the host's page tables); lib/frames.c.
 *
 * Frame i has HPA base + i * 4K and its bytes sit at mem + i * 4K in one
 * reserved, lazily backed range, so the walker turns an HPA into a pointer
 * with one subtraction and one comparison.  Frames below `used` have been
 * handed out at least once; live[i] says whether frame i is allocated now.
 * Freed frames are reused last-in first-out, so the HPAs a run gets depend
 * only on the order of its operations.
 */
#ifndef SV_FRAMES_H
#define SV_FRAMES_H

#include "base.h"

typedef struct sv_frames {
	uint64_t base;
	uint64_t limit;       /* frames the range can hold */
	uint64_t used;        /* high-water mark */
	uint8_t *mem;         /* limit * 4K bytes, MAP_NORESERVE */
	GByteArray *live;     /* one byte per frame below used */
	GArray *free_list;    /* guint frame indices */
} sv_frames;

/* Reserves room for up to `limit` frames; SV_ENOMEM if it cannot. */
int sv_frames__init(sv_frames *f, uint64_t base, uint64_t limit);
void sv_frames__fini(sv_frames *f);
/* Allocates a zeroed frame; returns its HPA or 0 when out of memory. */
uint64_t sv_frames__alloc(sv_frames *f);
void sv_frames__free(sv_frames *f, uint64_t hpa);
/*
 * The bytes of the frame at hpa: NULL (or `outside`) outside every frame
 * ever handed out.
 * A frame freed since reads as all-ones (it is poisoned on free), which
 * no format accepts as an entry, so a stale pointer to it is caught.
 */
static inline uint64_t *sv_frames__ptr_or(const sv_frames *f, uint64_t hpa,
					  uint64_t *outside)
{
	uint64_t off = hpa - f->base;

	if (SV_UNLIKELY((off >> 12) >= f->used))
		return outside;
	return (uint64_t *)(f->mem + (off & ~0xfffULL));
}
static inline uint64_t *sv_frames__ptr(const sv_frames *f, uint64_t hpa)
{
	return sv_frames__ptr_or(f, hpa, NULL);
}
/* Is the frame at hpa allocated now? */
static inline bool sv_frames__live(const sv_frames *f, uint64_t hpa)
{
	uint64_t i = (hpa - f->base) >> 12;

	return i < f->used && f->live->data[i];
}

#endif /* SV_FRAMES_H */
