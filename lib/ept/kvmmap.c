/*
 * lib/ept/kvmmap.c - the hypervisor's own hands on guest memory: mapping a
 * guest page for itself (kvm_vcpu_map/unmap) and gfn-to-pfn caches
 * (virt/kvm/pfncache.c).  Its writes to guest memory (kvm_write_guest)
 * are sv_gpa_write's.
 *
 * A map resolves the gpa through the memslots to the host address, faults
 * the host page in for writing as KVM's gfn_to_pfn does, and pays kmap
 * for a page with a struct page or memremap for one without (PFNMAP and
 * DAX device memory).  A cache holds such a mapping until an MMU-notifier
 * invalidation covers its page or the memslots change; its next use maps
 * the page again.  Every write through either marks the page in the
 * slot's dirty log while the slot logs, as mark_page_dirty does.
 */
#include "cpu/vcpu.h"
#include "ept/mmu.h"
#include "hostmm/host.h"
#include "memslots.h"

struct sv_pfncache {
	sv_vm *vm;          /* NULL once the MMU went away */
	uint64_t gpa;
	uint32_t len;
	bool valid;
	uint64_t epoch;     /* the memslots' when it was mapped */
	sv_kvm_mapping map;
};

static sv_mmu *mmu_of(sv_vm *vm)
{
	return vm ? vm->mmu : NULL;
}

/* Maps the page of gpa for the hypervisor; charges v (may be NULL). */
static int kvm_map(sv_vm *vm, sv_vcpu *v, uint64_t gpa, sv_kvm_mapping *out)
{
	sv_mmu *m = mmu_of(vm);
	const sv_memslot *s;
	sv_host_leaf leaf;
	uint64_t page = gpa & ~0xfffULL;
	int rc;

	if (!m)
		return sv_err__set(vm, SV_ENOTSUP, "kvm map: no MMU attached "
				   "(sv_mmu_attach)");
	s = sv_memslots__find(&vm->memslots, page);
	if (!s)
		return sv_err__set(vm, SV_EFAULT, "kvm map: gpa 0x%" PRIx64
				   " is in no memslot", gpa);
	memset(out, 0, sizeof(*out));
	out->gpa = page;
	out->slot = s->id;
	out->hva = s->hva + (page - s->gpa);
	/* gfn_to_pfn for writing, unless the slot is read-only */
	rc = sv_host_fault(&leaf, m->host, out->hva,
			   !(s->flags & SV_MEMSLOT_READONLY));
	if (rc != SV_OK || !leaf.present)
		return sv_err__set(vm, SV_EFAULT, "kvm map: gpa 0x%" PRIx64
				   ": the host maps nothing at hva 0x%" PRIx64,
				   gpa, out->hva);
	out->pfn = leaf.pfn;
	out->struct_page = !leaf.special;
	if (v)
		sv_vcpu__charge(v, out->struct_page ? vm->opts.costs.kvm_map
						    : vm->opts.costs.kvm_memremap);
	vm->stat[SV_VM_STAT_kvm_maps]++;
	return SV_OK;
}

int sv_kvm_map(sv_kvm_mapping *out, sv_vcpu *v, uint64_t gpa)
{
	sv_err__clear();
	if (!out || !v)
		return sv_err__set(v ? v->vm : NULL, SV_EINVAL,
				   "sv_kvm_map: NULL argument");
	return kvm_map(v->vm, v, gpa, out);
}

int sv_kvm_unmap(sv_vcpu *v, const sv_kvm_mapping *map, bool dirty)
{
	sv_err__clear();
	if (!v || !map)
		return sv_err__set(v ? v->vm : NULL, SV_EINVAL,
				   "sv_kvm_unmap: NULL argument");
	if (dirty) {
		sv_memslot *s = sv_memslots__find(&v->vm->memslots, map->gpa);

		if (s)
			sv_memslots__hv_written(v->vm, s, map->gpa, 4096);
	}
	v->vm->stat[SV_VM_STAT_kvm_unmaps]++;
	return SV_OK;
}

/* ---- gfn-to-pfn caches -------------------------------------------------- */

int sv_pfncache_new(sv_pfncache **out, sv_vm *vm, uint64_t gpa, uint32_t len)
{
	sv_mmu *m = mmu_of(vm);
	sv_pfncache *c;

	sv_err__clear();
	if (out)
		*out = NULL;
	if (!out || !vm)
		return sv_err__set(vm, SV_EINVAL, "sv_pfncache_new: NULL argument");
	if (!m)
		return sv_err__set(vm, SV_ENOTSUP, "sv_pfncache_new: no MMU "
				   "attached (sv_mmu_attach)");
	if (!len || (gpa & 0xfff) + len > 4096)
		return sv_err__set(vm, SV_EINVAL, "sv_pfncache_new: [0x%" PRIx64
				   ", +%u) is empty or crosses a 4K page", gpa, len);
	c = g_new0(sv_pfncache, 1);
	c->vm = vm;
	c->gpa = gpa;
	c->len = len;
	g_ptr_array_add(m->pfncaches, c);
	*out = c;
	return SV_OK;
}

void sv_pfncache_free(sv_pfncache *c)
{
	if (!c)
		return;
	if (c->vm && c->vm->mmu)
		g_ptr_array_remove_fast(c->vm->mmu->pfncaches, c);
	g_free(c);
}

static bool current(const sv_pfncache *c)
{
	return c->valid && c->epoch == c->vm->memslots.epoch;
}

bool sv_pfncache_valid(const sv_pfncache *c)
{
	return c && c->vm && current(c);
}

int sv_pfncache_write(sv_pfncache *c, sv_vcpu *v, uint32_t offset,
		      const void *buf, uint32_t len)
{
	int rc;

	sv_err__clear();
	if (!c || !v || (!buf && len))
		return sv_err__set(v ? v->vm : NULL, SV_EINVAL,
				   "sv_pfncache_write: NULL argument");
	if (!c->vm || v->vm != c->vm)
		return sv_err__set(v->vm, SV_EINVAL, "sv_pfncache_write: the "
				   "cache is not this vCPU's VM's");
	if (offset > c->len || len > c->len - offset)
		return sv_err__set(c->vm, SV_EINVAL, "sv_pfncache_write: %u bytes "
				   "at %u past the cache's %u", len, offset, c->len);
	if (!current(c)) {
		/* a memslot change drops it too: its mapping goes */
		if (c->valid)
			c->vm->stat[SV_VM_STAT_kvm_unmaps]++;
		c->valid = false;
		rc = kvm_map(c->vm, v, c->gpa, &c->map);
		if (rc != SV_OK)
			return rc;
		c->valid = true;
		c->epoch = c->vm->memslots.epoch;
		c->vm->stat[SV_VM_STAT_pfncache_refreshes]++;
	}
	return sv_gpa_write(c->vm, c->gpa + offset, buf, len);
}

void sv_pfncache__invalidate(sv_mmu *m, uint64_t start, uint64_t end)
{
	guint i;

	for (i = 0; i < m->pfncaches->len; i++) {
		sv_pfncache *c = g_ptr_array_index(m->pfncaches, i);

		if (!c->valid || c->map.hva >= end || c->map.hva + 4096 <= start)
			continue;
		c->valid = false;
		m->vm->stat[SV_VM_STAT_pfncache_invalidations]++;
		m->vm->stat[SV_VM_STAT_kvm_unmaps]++;
	}
}

void sv_pfncache__orphan_all(sv_mmu *m)
{
	guint i;

	for (i = 0; i < m->pfncaches->len; i++) {
		sv_pfncache *c = g_ptr_array_index(m->pfncaches, i);

		c->vm = NULL;
		c->valid = false;
	}
}
