/*
 * lib/frames.c - host-physical frames for page tables the model owns.
 *
 * How it works:
 *  1. Frame i is at HPA base + i * 4K and its bytes are pages[i].
 *  2. A free frame's slot is NULL and its index sits on a stack; the next
 *     allocation pops the most recently freed one, so the HPAs a run hands
 *     out depend only on its sequence of operations (determinism).
 *  3. Frame i's bytes are page i % 512 of 2M block i / 512, allocated
 *     2M-aligned and marked for transparent huge pages: walks touch tables
 *     at random, and one host TLB entry then covers 512 of them.
 */
#define _DEFAULT_SOURCE /* madvise */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define CHUNK (2u << 20)
#define PER_CHUNK (CHUNK / 4096)

void sv__frames_init(sv_frames *f, uint64_t base, uint64_t limit)
{
	f->base = base;
	f->limit = limit;
	f->pages = g_ptr_array_new();
	f->chunks = g_ptr_array_new();
	f->free_list = g_array_new(FALSE, FALSE, sizeof(guint));
}

void sv__frames_fini(sv_frames *f)
{
	guint i;

	if (!f->pages)
		return;
	for (i = 0; i < f->chunks->len; i++)
		free(g_ptr_array_index(f->chunks, i));
	g_ptr_array_free(f->chunks, TRUE);
	g_ptr_array_free(f->pages, TRUE);
	g_array_free(f->free_list, TRUE);
	f->pages = NULL;
	f->free_list = NULL;
}

/* The bytes of frame i, carving a new 2M block when i starts one. */
static uint64_t *frame_bytes(sv_frames *f, guint i)
{
	void *chunk;

	if (i / PER_CHUNK < f->chunks->len)
		return (uint64_t *)((uint8_t *)g_ptr_array_index(f->chunks,
								 i / PER_CHUNK) +
				    (size_t)(i % PER_CHUNK) * 4096);
	if (posix_memalign(&chunk, CHUNK, CHUNK))
		return NULL;
	madvise(chunk, CHUNK, MADV_HUGEPAGE); /* a hint; failure is harmless */
	g_ptr_array_add(f->chunks, chunk);
	return chunk;
}

uint64_t sv__frames_alloc(sv_frames *f)
{
	uint64_t *page;
	guint i;

	if (f->free_list->len) {
		i = g_array_index(f->free_list, guint, f->free_list->len - 1);
		g_array_set_size(f->free_list, f->free_list->len - 1);
		page = frame_bytes(f, i);
		f->pages->pdata[i] = page;
	} else {
		if (f->pages->len >= f->limit)
			return 0;
		i = f->pages->len;
		page = frame_bytes(f, i);
		if (!page)
			return 0;
		g_ptr_array_add(f->pages, page);
	}
	memset(page, 0, 4096);
	return f->base + ((uint64_t)i << 12);
}

void sv__frames_free(sv_frames *f, uint64_t hpa)
{
	guint i = (guint)((hpa - f->base) >> 12);

	if (hpa < f->base || i >= f->pages->len || !f->pages->pdata[i])
		return;
	f->pages->pdata[i] = NULL;
	g_array_append_val(f->free_list, i);
}
