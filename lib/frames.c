/*
 * lib/frames.c - host-physical frames for page tables the model owns.
 *
 * How it works:
 *  1. Frame i is at HPA base + i * 4K and its bytes are pages[i].
 *  2. A free frame's slot is NULL and its index sits on a stack; the next
 *     allocation pops the most recently freed one, so the HPAs a run hands
 *     out depend only on its sequence of operations (determinism).
 */
#include <string.h>

#include "internal.h"

void sv__frames_init(sv_frames *f, uint64_t base, uint64_t limit)
{
	f->base = base;
	f->limit = limit;
	f->pages = g_ptr_array_new();
	f->free_list = g_array_new(FALSE, FALSE, sizeof(guint));
	f->in_use = 0;
}

void sv__frames_fini(sv_frames *f)
{
	guint i;

	if (!f->pages)
		return;
	for (i = 0; i < f->pages->len; i++)
		g_free(g_ptr_array_index(f->pages, i));
	g_ptr_array_free(f->pages, TRUE);
	g_array_free(f->free_list, TRUE);
	f->pages = NULL;
	f->free_list = NULL;
}

uint64_t sv__frames_alloc(sv_frames *f)
{
	uint64_t *page = g_try_malloc0(4096);
	guint i;

	if (!page)
		return 0;
	if (f->free_list->len) {
		i = g_array_index(f->free_list, guint, f->free_list->len - 1);
		g_array_set_size(f->free_list, f->free_list->len - 1);
		f->pages->pdata[i] = page;
	} else {
		if (f->pages->len >= f->limit) {
			g_free(page);
			return 0;
		}
		i = f->pages->len;
		g_ptr_array_add(f->pages, page);
	}
	f->in_use++;
	return f->base + ((uint64_t)i << 12);
}

void sv__frames_free(sv_frames *f, uint64_t hpa)
{
	guint i = (guint)((hpa - f->base) >> 12);

	if (hpa < f->base || i >= f->pages->len || !f->pages->pdata[i])
		return;
	g_free(f->pages->pdata[i]);
	f->pages->pdata[i] = NULL;
	g_array_append_val(f->free_list, i);
	f->in_use--;
}
