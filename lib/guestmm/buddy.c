/*
 * lib/guestmm/buddy.c - the guest kernel's buddy allocator (mm/page_alloc.c
 * in shape: free lists per order, split on allocation, merge with the free
 * buddy on free).
 */
#include "guestmm/buddy.h"

static void list_push(sv_buddy *b, int32_t f, unsigned order)
{
	b->next[f] = b->first[order];
	b->prev[f] = -1;
	if (b->first[order] >= 0)
		b->prev[b->first[order]] = f;
	b->first[order] = f;
	b->head[f] = (uint8_t)(order + 1);
}

static void list_del(sv_buddy *b, int32_t f, unsigned order)
{
	if (b->prev[f] >= 0)
		b->next[b->prev[f]] = b->next[f];
	else
		b->first[order] = b->next[f];
	if (b->next[f] >= 0)
		b->prev[b->next[f]] = b->prev[f];
	b->head[f] = 0;
}

int sv_buddy__init(sv_buddy *b, uint64_t base, uint32_t frames)
{
	uint32_t f;
	unsigned o;

	memset(b, 0, sizeof(*b));
	b->base = base;
	b->frames = frames;
	b->next = g_try_new(int32_t, frames);
	b->prev = g_try_new(int32_t, frames);
	b->head = g_try_new0(uint8_t, frames);
	if (!b->next || !b->prev || !b->head) {
		sv_buddy__fini(b);
		return SV_ENOMEM;
	}
	for (o = 0; o <= SV_BUDDY_MAX_ORDER; o++)
		b->first[o] = -1;
	/* highest first, so that the lowest 2M block is handed out first */
	for (f = frames; f >= 512; f -= 512)
		list_push(b, (int32_t)(f - 512), SV_BUDDY_MAX_ORDER);
	b->free_frames = frames;
	return SV_OK;
}

void sv_buddy__fini(sv_buddy *b)
{
	g_free(b->next);
	g_free(b->prev);
	g_free(b->head);
	b->next = b->prev = NULL;
	b->head = NULL;
}

uint64_t sv_buddy__alloc(sv_buddy *b, unsigned order)
{
	unsigned o = order;
	int32_t f;

	while (o <= SV_BUDDY_MAX_ORDER && b->first[o] < 0)
		o++;
	if (o > SV_BUDDY_MAX_ORDER)
		return 0;
	f = b->first[o];
	list_del(b, f, o);
	/* split: the upper halves go back, one per order */
	while (o > order) {
		o--;
		list_push(b, f + (1 << o), o);
	}
	b->free_frames -= 1u << order;
	return b->base + ((uint64_t)f << 12);
}

void sv_buddy__free(sv_buddy *b, uint64_t gpa, unsigned order)
{
	int32_t f = (int32_t)((gpa - b->base) >> 12);

	b->free_frames += 1u << order;
	while (order < SV_BUDDY_MAX_ORDER) {
		int32_t buddy = f ^ (1 << order);

		if (b->head[buddy] != order + 1)
			break;
		list_del(b, buddy, order);
		f &= ~(1 << order);
		order++;
	}
	list_push(b, f, order);
}

bool sv_buddy__is_free(const sv_buddy *b, uint64_t gpa)
{
	int32_t f = (int32_t)((gpa - b->base) >> 12);
	unsigned o;

	for (o = 0; o <= SV_BUDDY_MAX_ORDER; o++)
		if (b->head[f & ~((1 << o) - 1)] == o + 1)
			return true;
	return false;
}
