/*
 * lib/memslots.c - guest-physical memory: slots and their bytes.
 *
 * How it works:
 *  1. Slots are kept sorted by GPA in one array; they never overlap.
 *  2. Each slot's bytes are an anonymous MAP_NORESERVE mapping, so a large
 *     sparse guest costs only the pages it touches.
 *  3. A lookup checks the slot found last, then binary-searches.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <sys/mman.h>

#include "internal.h"

int sv__memslots_init(sv_memslots *ms)
{
	ms->slots = g_array_new(FALSE, FALSE, sizeof(sv_memslot));
	ms->last = 0;
	return SV_OK;
}

void sv__memslots_fini(sv_memslots *ms)
{
	guint i;

	if (!ms->slots)
		return;
	for (i = 0; i < ms->slots->len; i++) {
		sv_memslot *s = &g_array_index(ms->slots, sv_memslot, i);

		munmap(s->mem, s->size);
	}
	g_array_free(ms->slots, TRUE);
	ms->slots = NULL;
}

const sv_memslot *sv__memslot_find(sv_memslots *ms, uint64_t gpa)
{
	GArray *a = ms->slots;
	guint lo = 0, hi = a->len;
	const sv_memslot *s;

	if (ms->last < a->len) {
		s = &g_array_index(a, sv_memslot, ms->last);
		if (gpa - s->gpa < s->size)
			return s;
	}
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		s = &g_array_index(a, sv_memslot, mid);
		if (gpa < s->gpa) {
			hi = mid;
		} else if (gpa - s->gpa >= s->size) {
			lo = mid + 1;
		} else {
			ms->last = mid;
			return s;
		}
	}
	return NULL;
}

static int slot_index_by_id(sv_memslots *ms, uint32_t id)
{
	guint i;

	for (i = 0; i < ms->slots->len; i++)
		if (g_array_index(ms->slots, sv_memslot, i).id == id)
			return (int)i;
	return -1;
}

int sv_memslot_set(sv_vm *vm, const sv_memslot_region *r)
{
	sv_memslots *ms;
	sv_memslot s;
	guint i, at;
	int old;

	if (!vm || !r)
		return sv__err(vm, SV_EINVAL, "sv_memslot_set: NULL argument");
	ms = &vm->memslots;
	if (r->version != SV_MEMSLOT_REGION_VERSION)
		return sv__err(vm, SV_EINVAL,
			       "memslot region: version %u, expected %u",
			       r->version, SV_MEMSLOT_REGION_VERSION);
	if (r->slot >= 32768)
		return sv__err(vm, SV_EINVAL,
			       "memslot %u: slot ids go up to 32767", r->slot);
	if (r->flags & ~SV_MEMSLOT_READONLY)
		return sv__err(vm, SV_EINVAL,
			       "memslot %u: unknown flags 0x%x", r->slot,
			       r->flags & ~SV_MEMSLOT_READONLY);
	if ((r->gpa | r->size) & 0xfff)
		return sv__err(vm, SV_EALIGN,
			       "memslot %u: gpa 0x%" PRIx64 " and size 0x%" PRIx64
			       " must be 4K-aligned",
			       r->slot, r->gpa, r->size);
	old = slot_index_by_id(ms, r->slot);
	if (r->size == 0) {
		sv_memslot *d;

		if (old < 0)
			return sv__err(vm, SV_ENOENT,
				       "memslot %u: no such slot to delete",
				       r->slot);
		d = &g_array_index(ms->slots, sv_memslot, old);
		munmap(d->mem, d->size);
		g_array_remove_index(ms->slots, (guint)old);
		ms->last = 0;
		vm->stat[SV_VM_STAT_memslots]--;
		return SV_OK;
	}
	if (r->gpa + r->size < r->gpa ||
	    r->gpa + r->size > (1ULL << vm->opts.maxphyaddr))
		return sv__err(vm, SV_ERANGE,
			       "memslot %u: [0x%" PRIx64 ", +0x%" PRIx64
			       ") goes past MAXPHYADDR (%u bits)",
			       r->slot, r->gpa, r->size, vm->opts.maxphyaddr);
	if (old >= 0)
		return sv__err(vm, SV_EEXIST,
			       "memslot %u: exists; delete it (size 0) first",
			       r->slot);
	for (i = 0; i < ms->slots->len; i++) {
		const sv_memslot *o = &g_array_index(ms->slots, sv_memslot, i);

		if (r->gpa < o->gpa + o->size && o->gpa < r->gpa + r->size)
			return sv__err(vm, SV_EOVERLAP,
				       "memslot %u: [0x%" PRIx64 ", 0x%" PRIx64
				       ") overlaps slot %u",
				       r->slot, r->gpa, r->gpa + r->size, o->id);
	}
	s.id = r->slot;
	s.flags = r->flags;
	s.gpa = r->gpa;
	s.size = r->size;
	s.mem = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s.mem == MAP_FAILED)
		return sv__err(vm, SV_ENOMEM,
			       "memslot %u: cannot reserve 0x%" PRIx64 " bytes",
			       r->slot, r->size);
	/* Guest page tables in here are read at random by walks: huge pages
	 * keep the host's TLB misses down.  Only a hint. */
	madvise(s.mem, r->size, MADV_HUGEPAGE);
	for (at = 0; at < ms->slots->len; at++)
		if (g_array_index(ms->slots, sv_memslot, at).gpa > s.gpa)
			break;
	g_array_insert_val(ms->slots, at, s);
	ms->last = 0;
	vm->stat[SV_VM_STAT_memslots]++;
	return SV_OK;
}

static int gpa_copy(sv_vm *vm, uint64_t gpa, void *buf, size_t len, bool in)
{
	uint8_t *b = buf;

	if (!vm || (!buf && len))
		return sv__err(vm, SV_EINVAL, "guest memory copy: NULL argument");
	while (len) {
		const sv_memslot *s = sv__memslot_find(&vm->memslots, gpa);
		size_t n;

		if (!s)
			return sv__err(vm, SV_EFAULT,
				       "gpa 0x%" PRIx64 " is in no memslot", gpa);
		n = (size_t)MIN((uint64_t)len, s->gpa + s->size - gpa);
		if (in)
			memcpy(s->mem + (gpa - s->gpa), b, n);
		else
			memcpy(b, s->mem + (gpa - s->gpa), n);
		b += n;
		gpa += n;
		len -= n;
	}
	return SV_OK;
}

int sv_gpa_read(sv_vm *vm, uint64_t gpa, void *buf, size_t len)
{
	return gpa_copy(vm, gpa, buf, len, false);
}

int sv_gpa_write(sv_vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	return gpa_copy(vm, gpa, (void *)buf, len, true);
}
