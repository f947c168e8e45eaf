/*
 * lib/frames.c - host-physical frames for page tables the model owns.
 *
 * How it works:
 *  1. sv_frames__init reserves one range of limit * 4K bytes without
 *     backing (MAP_NORESERVE); the kernel backs a page of it when it is
 *     first written.  Frame i is at HPA base + i * 4K and at mem + i * 4K.
 *  2. Allocation pops the most recently freed frame, or else takes the
 *     next never-used one (raising `used`); either way it is zeroed.
 *  3. Freeing poisons the frame with all-ones and pushes it on the stack.
 *  4. The range is marked for transparent huge pages: walks touch tables
 *     at random, and one host TLB entry then covers 512 of them.
 */
#define _DEFAULT_SOURCE /* madvise, MAP_NORESERVE */
#include <string.h>
#include <sys/mman.h>

#include "frames.h"

int sv_frames__init(sv_frames *f, uint64_t base, uint64_t limit)
{
	void *mem;

	memset(f, 0, sizeof(*f));
	mem = mmap(NULL, limit << 12, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return SV_ENOMEM;
	madvise(mem, limit << 12, MADV_HUGEPAGE); /* a hint; failure is harmless */
	f->base = base;
	f->limit = limit;
	f->mem = mem;
	f->live = g_byte_array_new();
	f->free_list = g_array_new(FALSE, FALSE, sizeof(guint));
	return SV_OK;
}

void sv_frames__fini(sv_frames *f)
{
	if (!f->mem)
		return;
	munmap(f->mem, f->limit << 12);
	g_byte_array_free(f->live, TRUE);
	g_array_free(f->free_list, TRUE);
	f->mem = NULL;
}

uint64_t sv_frames__alloc(sv_frames *f)
{
	static const guint8 one = 1;
	guint i;

	if (f->free_list->len) {
		i = g_array_index(f->free_list, guint, f->free_list->len - 1);
		g_array_set_size(f->free_list, f->free_list->len - 1);
		f->live->data[i] = 1;
	} else {
		if (f->used >= f->limit)
			return 0;
		i = (guint)f->used++;
		g_byte_array_append(f->live, &one, 1);
	}
	memset(f->mem + ((size_t)i << 12), 0, 4096);
	return f->base + ((uint64_t)i << 12);
}

void sv_frames__free(sv_frames *f, uint64_t hpa)
{
	guint i = (guint)((hpa - f->base) >> 12);

	if (!sv_frames__live(f, hpa))
		return;
	f->live->data[i] = 0;
	memset(f->mem + ((size_t)i << 12), 0xff, 4096);
	g_array_append_val(f->free_list, i);
}
