/*
 * lib/memslots.c - guest-physical memory: slots and their bytes.
 *
 * How it works:
 *  1. Slots are kept sorted by GPA in one array; they never overlap.
 *  2. Each slot's bytes are an anonymous MAP_NORESERVE mapping, so a large
 *     sparse guest costs only the pages it touches.
 *  3. A lookup checks the slot found last, then binary-searches.
 *  4. With a hypervisor MMU, its operations (sv_memslot_ops) give each
 *     slot the host's bytes and hear of every change.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <sys/mman.h>

#include "vm.h"

int sv_memslots__init(sv_memslots *ms)
{
	ms->slots = g_array_new(FALSE, FALSE, sizeof(sv_memslot));
	ms->last = 0;
	return SV_OK;
}

static void slot_fini(sv_memslot *s, bool own)
{
	if (own && s->mem)
		munmap(s->mem, s->size);
	g_free(s->lpage[0]);
	g_free(s->lpage[1]);
	g_free(s->dirty);
	g_free(s->written);
}

void sv_memslots__fini(sv_memslots *ms, bool own)
{
	guint i;

	if (!ms->slots)
		return;
	for (i = 0; i < ms->slots->len; i++)
		slot_fini(&g_array_index(ms->slots, sv_memslot, i), own);
	g_array_free(ms->slots, TRUE);
	ms->slots = NULL;
}

sv_memslot *sv_memslots__find(sv_memslots *ms, uint64_t gpa)
{
	GArray *a = ms->slots;
	guint lo = 0, hi = a->len;
	sv_memslot *s;

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

sv_memslot *sv_memslots__by_id(sv_memslots *ms, uint32_t id)
{
	int i = slot_index_by_id(ms, id);

	return i < 0 ? NULL : &g_array_index(ms->slots, sv_memslot, (guint)i);
}

uint64_t sv_memslots__next_start(const sv_memslots *ms, uint64_t gpa)
{
	guint i;

	for (i = 0; i < ms->slots->len; i++) {
		const sv_memslot *s = &g_array_index(ms->slots, sv_memslot, i);

		if (s->gpa > gpa)
			return s->gpa;
	}
	return ~0ULL;
}

uint64_t sv_memslots__end(const sv_memslots *ms)
{
	uint64_t end = 0;
	guint i;

	for (i = 0; i < ms->slots->len; i++) {
		const sv_memslot *s = &g_array_index(ms->slots, sv_memslot, i);

		end = MAX(end, s->gpa + s->size);
	}
	return end;
}

const sv_memslot *sv_memslots__next_hva(sv_vm *vm, guint *cursor,
					uint64_t start, uint64_t end,
					uint64_t *gs, uint64_t *ge)
{
	const GArray *a0 = vm->memslots.slots, *a1 = vm->memslots_smm.slots;

	for (; *cursor < a0->len + a1->len; (*cursor)++) {
		const sv_memslot *s =
			*cursor < a0->len
				? &g_array_index(a0, sv_memslot, *cursor)
				: &g_array_index(a1, sv_memslot, *cursor - a0->len);
		uint64_t lo = start > s->hva ? start : s->hva;
		uint64_t hi = end < s->hva + s->size ? end : s->hva + s->size;

		if (lo < hi) {
			(*cursor)++;
			*gs = (s->gpa + (lo - s->hva)) >> 12;
			*ge = (s->gpa + (hi - s->hva) + 0xfff) >> 12;
			return s;
		}
	}
	return NULL;
}

void sv_memslots__set_ops(sv_vm *vm, const sv_memslot_ops *ops, void *mmu)
{
	vm->slot_ops = ops;
	vm->slot_ops_payload = mmu;
	vm->memslots.ops = vm->memslots_smm.ops = ops;
	vm->memslots.ops_payload = vm->memslots_smm.ops_payload = mmu;
}

uint8_t *sv_memslots__run(const sv_memslots *ms, const sv_memslot *s,
			  uint64_t gpa, uint64_t len, uint64_t *run)
{
	uint64_t off = gpa - s->gpa;

	len = MIN(len, s->size - off);
	if (s->mem || !ms->ops) {
		*run = len;
		return s->mem ? s->mem + off : NULL;
	}
	return ms->ops->bytes(ms->ops_payload, s->hva + off, len, run);
}

/* The slot's bytes when one run of one backing holds them all. */
static uint8_t *whole_bytes(sv_vm *vm, const sv_memslot *s)
{
	uint64_t run;
	uint8_t *p = vm->slot_ops->bytes(vm->slot_ops_payload, s->hva, s->size,
					 &run);

	return run == s->size ? p : NULL;
}

void sv_memslots__rebind(sv_vm *vm)
{
	unsigned as;
	guint i;

	for (as = 0; as < 2; as++) {
		sv_memslots *ms = sv_vm__memslots(vm, as);

		for (i = 0; i < ms->slots->len; i++) {
			sv_memslot *s = &g_array_index(ms->slots, sv_memslot, i);

			s->mem = whole_bytes(vm, s);
		}
	}
	vm->memslots.epoch++;
}

/* Inserts s keeping the array sorted by gpa. */
static void slot_insert(sv_memslots *ms, const sv_memslot *s)
{
	guint at;

	for (at = 0; at < ms->slots->len; at++)
		if (g_array_index(ms->slots, sv_memslot, at).gpa > s->gpa)
			break;
	g_array_insert_vals(ms->slots, at, s, 1);
	ms->last = 0;
}

/*
 * lpage_info (arch/x86/kvm/x86.c, kvm_alloc_memslot_metadata): for the 2M
 * and the 1G level, one disallow count per large page the slot touches.
 * The first is disallowed when the slot starts unaligned, the last when it
 * ends unaligned, and every one when gfn and hva are not congruent modulo
 * the large page (a huge SPTE would map the wrong host pages).
 */
static int lpage_setup(sv_memslot *s)
{
	uint64_t base = s->gpa >> 12, npages = s->size >> 12;
	unsigned i;

	for (i = 0; i < 2; i++) {
		unsigned shift = 9 * (i + 1);
		uint64_t mask = (1ULL << shift) - 1;
		uint64_t n = ((base + npages - 1) >> shift) - (base >> shift) + 1;
		uint64_t j;

		g_free(s->lpage[i]);
		s->lpage[i] = g_try_new0(uint32_t, n);
		if (!s->lpage[i])
			return SV_ENOMEM;
		if (base & mask)
			s->lpage[i][0]++;
		if ((base + npages) & mask)
			s->lpage[i][n - 1]++;
		if ((base ^ (s->hva >> 12)) & mask)
			for (j = 0; j < n; j++)
				s->lpage[i][j]++;
	}
	return SV_OK;
}

#define HVA_USER_END ((1ULL << 56) - 4096)

static int check_region(sv_vm *vm, const sv_memslot_region *r, uint64_t hva)
{
	bool mmu = vm->slot_ops != NULL;
	uint32_t known = SV_MEMSLOT_READONLY | (mmu ? SV_MEMSLOT_LOG_DIRTY : 0);

	if (r->version != 1 && r->version != SV_MEMSLOT_REGION_VERSION)
		return sv_err__set(vm, SV_EINVAL,
				   "memslot region: version %u, expected %u",
				   r->version, SV_MEMSLOT_REGION_VERSION);
	if ((r->slot & 0xffff) >= 32768 || (r->slot >> 16) > 1)
		return sv_err__set(vm, SV_EINVAL,
				   "memslot 0x%x: slot ids go up to 32767 and the "
				   "address space (bits 16 and up) is 0, or 1 for SMM",
				   r->slot);
	if ((r->slot >> 16) && !mmu)
		return sv_err__set(vm, SV_EINVAL,
				   "memslot 0x%x: address space 1 (SMM) needs the "
				   "hypervisor MMU (sv_mmu_attach)", r->slot);
	if (r->flags & ~known)
		return sv_err__set(vm, SV_EINVAL,
				   "memslot %u: unknown flags 0x%x%s", r->slot,
				   r->flags & ~known,
				   mmu ? "" : " (dirty logging needs the "
						  "hypervisor MMU: sv_mmu_attach)");
	if ((r->gpa | r->size | hva) & 0xfff)
		return sv_err__set(vm, SV_EALIGN,
				   "memslot %u: gpa 0x%" PRIx64 ", size 0x%" PRIx64
				   " and hva 0x%" PRIx64 " must be 4K-aligned "
				   "(KVM: EINVAL)",
				   r->slot, r->gpa, r->size, hva);
	if (r->size && (r->gpa + r->size < r->gpa ||
			r->gpa + r->size > (1ULL << vm->opts.maxphyaddr)))
		return sv_err__set(vm, SV_ERANGE,
				   "memslot %u: [0x%" PRIx64 ", +0x%" PRIx64
				   ") goes past MAXPHYADDR (%u bits)",
				   r->slot, r->gpa, r->size, vm->opts.maxphyaddr);
	/* KVM's access_ok(): the range lies below TASK_SIZE_MAX, the top of
	 * the user half (the 5-level one, 2^56 - 4K: the widest host). */
	if (r->size && (hva + r->size < hva || hva + r->size > HVA_USER_END))
		return sv_err__set(vm, SV_EINVAL,
				   "memslot %u: hva [0x%" PRIx64 ", +0x%" PRIx64
				   ") %s (KVM: EINVAL)", r->slot, hva, r->size,
				   hva + r->size < hva ? "wraps around"
						       : "reaches into the kernel "
							 "half");
	return SV_OK;
}

/* Slots overlap only within one address space. */
static int check_overlap(sv_vm *vm, const sv_memslot_region *r)
{
	sv_memslots *ms = sv_vm__memslots(vm, r->slot >> 16);
	guint i;

	for (i = 0; i < ms->slots->len; i++) {
		const sv_memslot *o = &g_array_index(ms->slots, sv_memslot, i);

		if (o->id != r->slot && r->gpa < o->gpa + o->size &&
		    o->gpa < r->gpa + r->size)
			return sv_err__set(vm, SV_EOVERLAP,
					   "memslot %u: [0x%" PRIx64 ", 0x%" PRIx64
					   ") overlaps slot %u (KVM: EEXIST)",
					   r->slot, r->gpa, r->gpa + r->size, o->id);
	}
	return SV_OK;
}

/* A change to an existing slot: delete, move or flags (KVM_MR_*). */
static int slot_change(sv_vm *vm, int idx, const sv_memslot_region *r,
		       uint64_t hva)
{
	sv_memslots *ms = sv_vm__memslots(vm, r->slot >> 16);
	sv_memslot *o = &g_array_index(ms->slots, sv_memslot, (guint)idx);
	const sv_memslot_ops *ops = vm->slot_ops;
	sv_memslot moved;
	int rc;

	if (r->size == 0) {
		sv_memslot gone = *o;

		g_array_remove_index(ms->slots, (guint)idx);
		ms->last = 0;
		if (ops)
			ops->removed(vm->slot_ops_payload, &gone);
		slot_fini(&gone, !ops);
		vm->stat[SV_VM_STAT_memslots]--;
		return SV_OK;
	}
	if (!ops)
		return sv_err__set(vm, SV_EEXIST,
				   "memslot %u: exists; delete it (size 0) first",
				   r->slot);
	if (r->size != o->size || hva != o->hva ||
	    ((r->flags ^ o->flags) & SV_MEMSLOT_READONLY))
		return sv_err__set(vm, SV_EINVAL,
				   "memslot %u: an existing slot may only move or "
				   "change SV_MEMSLOT_LOG_DIRTY; size, hva and "
				   "READONLY stay (KVM: EINVAL)",
				   r->slot);
	if (r->gpa != o->gpa) {
		rc = check_overlap(vm, r);
		if (rc)
			return rc;
		moved = *o;
		moved.lpage[0] = moved.lpage[1] = NULL;
		moved.gpa = r->gpa;
		if (lpage_setup(&moved)) {
			g_free(moved.lpage[0]);
			return sv_err__set(vm, SV_ENOMEM, "memslot %u: no memory",
					   r->slot);
		}
		/* The old range goes away as a deletion would take it. */
		ops->removed(vm->slot_ops_payload, o);
		g_free(o->lpage[0]);
		g_free(o->lpage[1]);
		g_array_remove_index(ms->slots, (guint)idx);
		moved.flags = r->flags;
		slot_insert(ms, &moved);
		o = sv_memslots__by_id(ms, r->slot);
		return ops->created(vm->slot_ops_payload, o);
	}
	if (r->flags == o->flags) /* nothing changes, as in KVM */
		return SV_OK;
	o->flags = r->flags;
	return ops->flags_changed(vm->slot_ops_payload, o);
}

static int memslot_set(sv_vm *vm, const sv_memslot_region *r)
{
	sv_memslots *ms;
	sv_memslot s = {0};
	uint64_t hva;
	int old, rc;

	if (!vm || !r)
		return sv_err__set(vm, SV_EINVAL, "sv_memslot_set: NULL argument");
	hva = r->version >= 2 ? r->hva : 0;
	rc = check_region(vm, r, hva);
	if (rc)
		return rc;
	ms = sv_vm__memslots(vm, r->slot >> 16);
	old = slot_index_by_id(ms, r->slot);
	if (old >= 0)
		return slot_change(vm, old, r, hva);
	if (r->size == 0)
		return sv_err__set(vm, SV_ENOENT,
				   "memslot %u: no such slot to delete", r->slot);
	rc = check_overlap(vm, r);
	if (rc)
		return rc;
	s.id = r->slot;
	s.as = (uint8_t)(r->slot >> 16);
	s.flags = r->flags;
	s.gpa = r->gpa;
	s.size = r->size;
	s.hva = hva;
	if (vm->slot_ops) {
		s.hva = hva;
		s.size = r->size;
		s.mem = whole_bytes(vm, &s);
		if (lpage_setup(&s)) {
			slot_fini(&s, false);
			return sv_err__set(vm, SV_ENOMEM, "memslot %u: no memory",
					   r->slot);
		}
	} else {
		s.mem = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (s.mem == MAP_FAILED)
			return sv_err__set(vm, SV_ENOMEM,
					   "memslot %u: cannot reserve 0x%" PRIx64
					   " bytes",
					   r->slot, r->size);
		/* Guest page tables in here are read at random by walks:
		 * huge pages keep the host's TLB misses down.  A hint. */
		madvise(s.mem, r->size, MADV_HUGEPAGE);
	}
	slot_insert(ms, &s);
	vm->stat[SV_VM_STAT_memslots]++;
	if (vm->slot_ops)
		return vm->slot_ops->created(vm->slot_ops_payload,
					     sv_memslots__by_id(ms, r->slot));
	return SV_OK;
}

static int gpa_copy(sv_vm *vm, uint64_t gpa, void *buf, size_t len, bool in)
{
	uint8_t *b = buf;

	if (!vm || (!buf && len))
		return sv_err__set(vm, SV_EINVAL, "guest memory copy: NULL argument");
	while (len) {
		sv_memslot *s = sv_memslots__find(&vm->memslots, gpa);
		uint64_t run;
		uint8_t *p;
		size_t n;

		if (!s)
			return sv_err__set(vm, SV_EFAULT,
					   "gpa 0x%" PRIx64 " is in no memslot", gpa);
		p = sv_memslots__run(&vm->memslots, s, gpa, len, &run);
		if (!p)
			return sv_err__set(vm, SV_EFAULT,
					   "gpa 0x%" PRIx64 ": the host maps nothing "
					   "behind memslot %u there", gpa, s->id);
		n = (size_t)run;
		if (in) {
			memcpy(p, b, n);
			sv_memslots__hv_written(vm, s, gpa, n);
		} else {
			memcpy(b, p, n);
		}
		b += n;
		gpa += n;
		len -= n;
	}
	return SV_OK;
}

void sv_memslots__hv_written(sv_vm *vm, sv_memslot *s, uint64_t gpa,
			     uint64_t len)
{
	if (s->dirty && vm->slot_ops)
		vm->slot_ops->written(vm->slot_ops_payload, s, gpa, len);
}

int sv_gpa_read(sv_vm *vm, uint64_t gpa, void *buf, size_t len)
{
	sv_err__clear();
	return gpa_copy(vm, gpa, buf, len, false);
}

int sv_gpa_write(sv_vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	sv_err__clear();
	return gpa_copy(vm, gpa, (void *)buf, len, true);
}

int sv_memslot_set(sv_vm *vm, const sv_memslot_region *r)
{
	int rc;

	sv_err__clear();
	rc = memslot_set(vm, r);
	if (rc == SV_OK)
		vm->memslots.epoch++;
	return rc;
}
