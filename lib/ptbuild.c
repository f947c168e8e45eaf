/*
 * lib/ptbuild.c - building page-table trees through the API (sv_pt_*).
 *
 * How it works:
 *  1. A tree knows its format and where its tables live: guest trees in
 *     guest-physical memory (table pages from a pool of guest pages, read
 *     and written through the memslots' bytes), nested trees in frames the
 *     VM owns.
 *  2. Mapping walks down from the root with the same descriptors the
 *     hardware walker uses, creating fully permissive tables where entries
 *     are absent, and writes the leaf.  The whole range is checked first, so
 *     a call that fails for a conflict changes nothing; one that runs out of
 *     pool pages mid-way takes back the leaves it wrote.
 *  3. Unmapping uses the range iterator and clears leaves; tables stay.
 *  Nothing here touches a TLB or a counter other than the table-page
 *  counts: these are the host's edits, not the guest's accesses.
 */
#include "ptbuild.h"

static uint64_t *tree_table(void *ctx, unsigned level, uint64_t pa)
{
	sv_pt *pt = ctx;

	SV_UNUSED(level);
	if (pt->kind == SV_PT_GUEST)
		return (uint64_t *)sv_memslots__ptr(&pt->vm->memslots, pa);
	return sv_frames__ptr(&pt->vm->tdp_frames, pa);
}

/* The VM's own nested tree belongs to the hypervisor MMU once one is
 * attached: edits behind its back would desynchronise its counts. */
static const char mmu_owned_msg[] =
	"the hypervisor MMU owns the VM's nested tree";
static bool mmu_owned(const sv_pt *pt)
{
	return pt->vm_owned && pt->vm->mmu;
}

/* A walker over the tree as the host sees it (no counting, no caches). */
static void tree_walker(sv_pt *pt, sv_pt_walker *w)
{
	const sv_vm_options *o = &pt->vm->opts;

	sv_pt__walker_init(w, pt->fmt, o->maxphyaddr, true,
			   pt->kind == SV_PT_GUEST ? o->guest_1g : o->tdp_1g,
			   o->ept_exec_only);
	w->fetch = tree_table;
	w->ctx = pt;
}

/* Allocates a zeroed table page; false when none is left. */
static bool table_alloc(sv_pt *pt, uint64_t *out)
{
	uint64_t pa;
	uint8_t *p;

	if (pt->kind == SV_PT_TDP) {
		pa = sv_frames__alloc(&pt->vm->tdp_frames);
		if (!pa) /* frames start at half the physical space, never 0 */
			return false;
		pt->vm->stat[SV_VM_STAT_tdp_table_pages]++;
	} else {
		sv_pt_pool *pl = pt->pool;

		if (pl->free->len) {
			pa = g_array_index(pl->free, uint64_t, pl->free->len - 1);
			g_array_set_size(pl->free, pl->free->len - 1);
		} else if (pl->next < pl->gpa + pl->size) {
			pa = pl->next;
			pl->next += 4096;
		} else {
			return false;
		}
		p = sv_memslots__ptr(&pt->vm->memslots, pa);
		if (!p) /* the pool's slot was deleted since */
			return false;
		memset(p, 0, 4096);
		pt->vm->stat[SV_VM_STAT_guest_table_pages]++;
	}
	pt->pages++;
	*out = pa;
	return true;
}

int sv_pt_new(sv_pt **out, sv_vm *vm, const sv_pt_options *o)
{
	unsigned levels;
	sv_pt *pt;

	sv_err__clear();
	if (out)
		*out = NULL;
	if (!out || !vm || !o)
		return sv_err__set(vm, SV_EINVAL, "sv_pt_new: NULL argument");
	if (o->version != SV_PT_OPTIONS_VERSION)
		return sv_err__set(vm, SV_EINVAL, "pt options: version %u, expected %u",
				   o->version, SV_PT_OPTIONS_VERSION);
	if (o->kind != SV_PT_GUEST && o->kind != SV_PT_TDP)
		return sv_err__set(vm, SV_EINVAL, "pt options: kind %d", (int)o->kind);
	levels = o->levels ? o->levels
			   : o->kind == SV_PT_GUEST ? vm->opts.guest_levels
						    : vm->opts.tdp_levels;
	if (levels != 4 && levels != 5)
		return sv_err__set(vm, SV_EINVAL,
				   "pt options: levels = %u (expected 4 or 5)", levels);
	if (o->kind == SV_PT_TDP && levels != vm->opts.tdp_levels)
		return sv_err__set(vm, SV_EINVAL,
				   "pt options: a nested tree has the VM's %u levels, "
				   "not %u", vm->opts.tdp_levels, levels);
	if (o->kind == SV_PT_GUEST) {
		uint64_t a;

		if ((o->pool_gpa | o->pool_size) & 0xfff || !o->pool_size)
			return sv_err__set(vm, SV_EALIGN,
					   "pt options: pool gpa 0x%" PRIx64
					   " and size 0x%" PRIx64
					   " must be 4K-aligned and non-empty",
					   o->pool_gpa, o->pool_size);
		for (a = o->pool_gpa; a < o->pool_gpa + o->pool_size; a += 4096)
			if (!sv_memslots__ptr(&vm->memslots, a))
				return sv_err__set(vm, SV_EFAULT,
						   "pt options: pool page 0x%" PRIx64
						   " is in no memslot", a);
	}
	pt = g_try_new0(sv_pt, 1);
	if (!pt)
		return sv_err__set(vm, SV_ENOMEM, "sv_pt_new: no memory");
	pt->vm = vm;
	pt->kind = o->kind;
	if (o->kind == SV_PT_GUEST)
		pt->fmt = levels == 5 ? &sv_pt__fmt_x86_5 : &sv_pt__fmt_x86_4;
	else
		pt->fmt = vm->tdp_fmt;
	if (o->kind == SV_PT_GUEST) {
		pt->pool = g_new0(sv_pt_pool, 1);
		pt->pool->gpa = pt->pool->next = o->pool_gpa;
		pt->pool->size = o->pool_size;
		pt->pool->free = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		pt->pool->refs = 1;
	}
	if (!table_alloc(pt, &pt->root)) {
		sv_pt_free(pt);
		return sv_err__set(vm, o->kind == SV_PT_GUEST ? SV_EFULL : SV_ENOMEM,
				   "sv_pt_new: no page for the root table");
	}
	*out = pt;
	return SV_OK;
}

/* Frees a nested table and every table below it. */
static void free_tables(sv_pt *pt, uint64_t pa, unsigned level)
{
	uint64_t *t = sv_frames__ptr(&pt->vm->tdp_frames, pa);
	unsigned i;

	if (!t)
		return;
	for (i = 0; level > 1 && i < SV_PT_ENTRIES; i++)
		if (sv_pt__pte_present(pt->fmt, t[i]) &&
		    !(t[i] & pt->fmt->ps_bit))
			free_tables(pt, t[i] & pt->fmt->addr_mask, level - 1);
	sv_frames__free(&pt->vm->tdp_frames, pa);
	pt->vm->stat[SV_VM_STAT_tdp_table_pages]--;
}

/* A guest table and every table below it back to the pool. */
static void pool_give_back(sv_pt *pt, uint64_t pa, unsigned level)
{
	uint64_t *t = tree_table(pt, level, pa);
	unsigned i;

	for (i = 0; t && level > 1 && i < SV_PT_ENTRIES; i++)
		if (sv_pt__pte_present(pt->fmt, t[i]) &&
		    !sv_pt__pte_leaf(pt->fmt, t[i], level))
			pool_give_back(pt, t[i] & pt->fmt->addr_mask, level - 1);
	g_array_append_val(pt->pool->free, pa);
}

void sv_pt_free(sv_pt *pt)
{
	if (!pt || pt->vm_owned)
		return;
	if (pt->kind == SV_PT_TDP)
		free_tables(pt, pt->root, pt->fmt->levels);
	else if (pt->root) /* 0: its root never came */
		pt->vm->stat[SV_VM_STAT_guest_table_pages] -= pt->pages;
	if (pt->pool && --pt->pool->refs) {
		if (pt->root)
			pool_give_back(pt, pt->root, pt->fmt->levels);
	} else if (pt->pool) {
		g_array_free(pt->pool->free, TRUE);
		g_free(pt->pool);
	}
	g_free(pt);
}

int sv_pt__new_sharing(sv_pt **out, sv_pt *other)
{
	sv_pt *pt;

	*out = NULL;
	if (other->kind != SV_PT_GUEST)
		return sv_err__set(other->vm, SV_EINVAL, "pt: only guest trees "
							 "share a pool");
	pt = g_new0(sv_pt, 1);
	pt->vm = other->vm;
	pt->kind = SV_PT_GUEST;
	pt->fmt = other->fmt;
	pt->pool = other->pool;
	pt->pool->refs++;
	if (!table_alloc(pt, &pt->root)) {
		sv_pt_free(pt);
		return sv_err__set(other->vm, SV_EFULL, "pt: the guest table pool "
							"[0x%" PRIx64 ", +0x%" PRIx64
							") is used up",
				   other->pool->gpa, other->pool->size);
	}
	*out = pt;
	return SV_OK;
}

uint64_t sv_pt__pool_used(const sv_pt *pt, uint64_t *gpa)
{
	*gpa = pt->pool->gpa;
	return pt->pool->next - pt->pool->gpa;
}

void sv_pt__count_pages(sv_pt *pt, int delta)
{
	pt->pages += (uint64_t)(int64_t)delta;
	pt->vm->stat[SV_VM_STAT_tdp_table_pages] += (uint64_t)(int64_t)delta;
}

sv_pt *sv_vm_tdp(sv_vm *vm)
{
	return vm ? vm->tdp : NULL;
}

uint64_t sv_pt_root(const sv_pt *pt)
{
	return pt ? pt->root : 0;
}

unsigned sv_pt_levels(const sv_pt *pt)
{
	return pt ? pt->fmt->levels : 0;
}

uint64_t sv_pt_table_pages(const sv_pt *pt)
{
	return pt ? pt->pages : 0;
}

uint64_t sv_pt_pointer(const sv_pt *pt)
{
	if (!pt)
		return 0;
	if (pt->kind == SV_PT_TDP && pt->fmt->kind == SV_FMT_EPT)
		return pt->root | SV_EPT_MT_WB |
		       ((uint64_t)(pt->fmt->levels - 1) << SV_EPTP_PWL_SHIFT) |
		       (pt->vm->opts.tdp_ad ? SV_EPTP_AD : 0);
	return pt->root;
}

/* The leaf entry for a page at a level. */
static uint64_t leaf_entry(const sv_pt *pt, uint64_t target, unsigned level,
			   uint64_t flags)
{
	uint64_t e = target | flags;

	if (level > 1)
		e |= pt->fmt->ps_bit;
	if (pt->fmt->kind == SV_FMT_X86)
		return e | SV_PTE_P;
	if (!(flags & SV_EPT_MT_MASK))
		e |= SV_EPT_MT_WB << SV_EPT_MT_SHIFT;
	return e;
}

static unsigned size_level(uint64_t page_size)
{
	return page_size == SV_PAGE_4K ? 1 : page_size == SV_PAGE_2M ? 2
				     : page_size == SV_PAGE_1G ? 3 : 0;
}

/* The tree's address: guest trees take canonical linear addresses and
 * index their low 48 or 57 bits; nested trees take GPAs. */
static bool tree_addr_ok(const sv_pt *pt, uint64_t addr)
{
	unsigned bits = sv_pt__va_bits(pt->fmt);
	int64_t s = (int64_t)(addr << (64 - bits)) >> (64 - bits);

	if (pt->kind == SV_PT_GUEST)
		return (uint64_t)s == addr;
	return addr >> pt->vm->opts.maxphyaddr == 0;
}

/*
 * Finds (create = false) or makes (create = true) the table of `level`
 * covering addr.  Returns SV_OK with *table set, SV_ENOENT if absent,
 * SV_EEXIST if a larger leaf covers addr, SV_EFULL/SV_ENOMEM if a table
 * could not be allocated.
 */
static int table_at(sv_pt *pt, uint64_t addr, unsigned level, bool create,
		    uint64_t **table)
{
	uint64_t *t = tree_table(pt, pt->fmt->levels, pt->root);
	unsigned l;

	for (l = pt->fmt->levels; l > level; l--) {
		uint64_t *e;

		if (!t)
			return SV_EFAULT;
		e = &t[sv_pt__index(addr, l)];
		if (!sv_pt__pte_present(pt->fmt, *e)) {
			uint64_t pa;

			if (!create)
				return SV_ENOENT;
			if (!table_alloc(pt, &pa))
				return pt->kind == SV_PT_GUEST ? SV_EFULL : SV_ENOMEM;
			*e = pa | pt->fmt->table_flags;
		} else if (sv_pt__pte_leaf(pt->fmt, *e, l)) {
			return SV_EEXIST;
		}
		t = tree_table(pt, l - 1, *e & pt->fmt->addr_mask);
	}
	if (!t)
		return SV_EFAULT;
	*table = t;
	return SV_OK;
}

static int map_error(sv_pt *pt, int rc, uint64_t addr)
{
	switch (rc) {
	case SV_EEXIST:
		return sv_err__set(pt->vm, rc,
				   "pt map: 0x%" PRIx64 " is already mapped (by a "
				   "page or a table at another level)", addr);
	case SV_EFULL:
		return sv_err__set(pt->vm, rc,
				   "pt map: the guest table pool [0x%" PRIx64
				   ", +0x%" PRIx64 ") is used up",
				   pt->pool->gpa, pt->pool->size);
	case SV_EFAULT:
		return sv_err__set(pt->vm, rc,
				   "pt map: a table on the way to 0x%" PRIx64
				   " is outside the tree's memory", addr);
	default:
		return sv_err__set(pt->vm, rc, "pt map: 0x%" PRIx64 ": no memory",
				   addr);
	}
}

int sv_pt_map(sv_pt *pt, uint64_t addr, uint64_t target, uint64_t size,
	      uint64_t page_size, uint64_t flags)
{
	unsigned level = size_level(page_size);
	uint64_t off, *t;
	bool gb;
	int rc;

	sv_err__clear();
	if (!pt)
		return sv_err__set(NULL, SV_EINVAL, "sv_pt_map: NULL tree");
	if (mmu_owned(pt))
		return sv_err__set(pt->vm, SV_EBUSY, "pt map: %s", mmu_owned_msg);
	if (!level)
		return sv_err__set(pt->vm, SV_EINVAL,
				   "pt map: page size 0x%" PRIx64
				   " (expected 4K, 2M or 1G)", page_size);
	gb = pt->kind == SV_PT_GUEST ? pt->vm->opts.guest_1g : pt->vm->opts.tdp_1g;
	if (level == 3 && !gb)
		return sv_err__set(pt->vm, SV_ENOTSUP,
				   "pt map: 1G pages are off for this tree (vm "
				   "option %s)", pt->kind == SV_PT_GUEST ? "guest_1g"
									 : "tdp_1g");
	if ((addr | target | size) & (page_size - 1) || !size)
		return sv_err__set(pt->vm, SV_EALIGN,
				   "pt map: addr 0x%" PRIx64 ", target 0x%" PRIx64
				   " and size 0x%" PRIx64
				   " must be non-zero multiples of the page size 0x%"
				   PRIx64, addr, target, size, page_size);
	if (!tree_addr_ok(pt, addr) || !tree_addr_ok(pt, addr + size - 1) ||
	    addr + size - 1 < addr)
		return sv_err__set(pt->vm, SV_ERANGE,
				   "pt map: [0x%" PRIx64 ", +0x%" PRIx64
				   ") is outside what the tree translates",
				   addr, size);
	if ((target + size - 1) >> pt->vm->opts.maxphyaddr)
		return sv_err__set(pt->vm, SV_ERANGE,
				   "pt map: target range ends past MAXPHYADDR (%u bits)",
				   pt->vm->opts.maxphyaddr);
	if (flags & (pt->fmt->addr_mask | pt->fmt->ps_bit))
		return sv_err__set(pt->vm, SV_EINVAL,
				   "pt map: flags 0x%" PRIx64
				   " hold address or page-size bits", flags);

	/* Check the whole range first: nothing may be mapped there. */
	for (off = 0; off < size; off += page_size) {
		rc = table_at(pt, addr + off, level, false, &t);
		if (rc == SV_ENOENT)
			continue;
		if (rc == SV_OK &&
		    !sv_pt__pte_present(pt->fmt, t[sv_pt__index(addr + off, level)]))
			continue;
		return map_error(pt, rc == SV_OK ? SV_EEXIST : rc, addr + off);
	}
	for (off = 0; off < size; off += page_size) {
		rc = table_at(pt, addr + off, level, true, &t);
		if (rc) {
			uint64_t back;

			for (back = 0; back < off; back += page_size)
				if (table_at(pt, addr + back, level, false, &t) ==
				    SV_OK)
					t[sv_pt__index(addr + back, level)] = 0;
			return map_error(pt, rc, addr + off);
		}
		t[sv_pt__index(addr + off, level)] =
			leaf_entry(pt, target + off, level, flags);
	}
	return SV_OK;
}

int sv_pt_unmap(sv_pt *pt, uint64_t addr, uint64_t size)
{
	sv_pt_walker w;
	sv_pt_iter it;
	int pass;

	sv_err__clear();
	if (!pt)
		return sv_err__set(NULL, SV_EINVAL, "sv_pt_unmap: NULL tree");
	if (mmu_owned(pt))
		return sv_err__set(pt->vm, SV_EBUSY, "pt unmap: %s", mmu_owned_msg);
	if ((addr | size) & 0xfff || addr + size < addr)
		return sv_err__set(pt->vm, SV_EALIGN,
				   "pt unmap: addr 0x%" PRIx64 " and size 0x%" PRIx64
				   " must be 4K-aligned", addr, size);
	tree_walker(pt, &w);
	/* Pass 0 checks that no leaf straddles the range; pass 1 clears. */
	for (pass = 0; pass < 2; pass++) {
		sv_pt__for_each(&it, &w, pt->root, addr, addr + size, 1)
		{
			uint64_t e = *it.ptr, len;

			if (!sv_pt__pte_present(pt->fmt, e) ||
			    !sv_pt__pte_leaf(pt->fmt, e, it.level))
				continue;
			len = 1ULL << sv_pt__level_shift(it.level);
			if (pass == 0 &&
			    (it.addr < addr || it.addr + len > addr + size))
				return sv_err__set(pt->vm, SV_EINVAL,
						   "pt unmap: the page at 0x%" PRIx64
						   " (0x%" PRIx64 " bytes) is only "
						   "partly inside the range",
						   it.addr, len);
			if (pass == 1)
				*it.ptr = 0;
		}
	}
	return SV_OK;
}

static int entry_ptr(sv_pt *pt, uint64_t addr, unsigned level, uint64_t **p)
{
	uint64_t *t;
	int rc;

	if (!pt)
		return sv_err__set(NULL, SV_EINVAL, "pt entry: NULL tree");
	if (level < 1 || level > pt->fmt->levels)
		return sv_err__set(pt->vm, SV_EINVAL,
				   "pt entry: level %u (expected 1 to %u)", level,
				   pt->fmt->levels);
	rc = table_at(pt, addr, level, false, &t);
	if (rc)
		return sv_err__set(pt->vm, rc,
				   "pt entry: no level-%u table for 0x%" PRIx64 "%s",
				   level, addr,
				   rc == SV_EEXIST ? " (a larger page maps it)" : "");
	*p = &t[sv_pt__index(addr, level)];
	return SV_OK;
}

int sv_pt_get(uint64_t *entry, sv_pt *pt, uint64_t addr, unsigned level)
{
	uint64_t *p = NULL;
	int rc;

	sv_err__clear();
	if (!entry)
		return sv_err__set(NULL, SV_EINVAL, "sv_pt_get: NULL entry");
	rc = entry_ptr(pt, addr, level, &p);
	if (!rc)
		*entry = *p;
	return rc;
}

int sv_pt_write(sv_pt *pt, uint64_t addr, unsigned level, uint64_t entry)
{
	uint64_t *p = NULL;
	int rc;

	sv_err__clear();
	if (pt && mmu_owned(pt))
		return sv_err__set(pt->vm, SV_EBUSY, "pt write: %s", mmu_owned_msg);
	rc = entry_ptr(pt, addr, level, &p);
	if (!rc)
		*p = entry;
	return rc;
}

/* The name before 0.2, its result last. */
int sv_pt_read(sv_pt *pt, uint64_t addr, unsigned level, uint64_t *entry)
{
	return sv_pt_get(entry, pt, addr, level);
}

int sv_pt__free_table(sv_pt *pt, uint64_t addr, unsigned level)
{
	uint64_t *up, *t;
	unsigned i;
	int rc;

	if (pt->kind != SV_PT_GUEST || level >= pt->fmt->levels)
		return SV_EINVAL;
	rc = table_at(pt, addr, level + 1, false, &up);
	if (rc)
		return rc;
	up += sv_pt__index(addr, level + 1);
	if (!sv_pt__pte_present(pt->fmt, *up) ||
	    sv_pt__pte_leaf(pt->fmt, *up, level + 1))
		return SV_ENOENT;
	t = tree_table(pt, level, *up & pt->fmt->addr_mask);
	for (i = 0; t && i < SV_PT_ENTRIES; i++)
		if (sv_pt__pte_present(pt->fmt, t[i]))
			return SV_EBUSY;
	g_array_append_val(pt->pool->free, (uint64_t){*up & pt->fmt->addr_mask});
	*up = 0;
	pt->pages--;
	pt->vm->stat[SV_VM_STAT_guest_table_pages]--;
	return SV_OK;
}
