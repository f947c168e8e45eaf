/*
 * lib/cpu/regions.c - Unicorn regions from the guest page tables.
 *
 * Unicorn 2.0.1 is a flat guest-virtual machine here, so what the guest
 * page tables map must appear as Unicorn regions at the guest-virtual
 * addresses.  How it works:
 *  1. Walk every table reachable from the vCPU's CR3 with the range
 *     iterator (the same reserved-bit and leaf rules as the model's
 *     walker: a leaf the CPU would fault on gets no region, so Unicorn
 *     faults first and the model supplies the error code).  Effective
 *     permissions are ANDed (R/W) and ORed (XD) down the levels.
 *  2. Each leaf is cut where memslots begin or end and classified: slot
 *     bytes (RAM), a read-only slot (ROM: reads from its bytes, writes
 *     trap), or no slot (MMIO: every access traps).  A slot whose host
 *     bytes are gone gets no region (the access then faults in the model).
 *  3. Consecutive pieces that continue each other in guest-virtual,
 *     guest-physical and host memory with the same kind and permissions
 *     are one region: tens of regions, never one per page.
 *  4. Each engine's current list is compared with the new one; regions in
 *     both are kept, the rest unmapped then mapped.
 *  5. The table pages seen in step 1 are kept sorted: a guest write to one
 *     of them asks for the next sync.
 */
#include "cpu/exec.h"

/* Unicorn 2.0.1 aborts past about 4,000 flatview sections and gets slow
 * (milliseconds per map) with hundreds. */
#define EX_MAX_REGIONS 1024

typedef struct sync_ctx {
	sv_exec *ex;
	sv_vcpu *v;
	GArray *out;     /* ex_region (not yet owned by an engine) */
	GArray *tables;  /* uint64_t */
	unsigned levels;
} sync_ctx;

static uint64_t canonical(uint64_t va, unsigned levels)
{
	unsigned bits = 12 + 9 * levels;

	return va & (1ULL << (bits - 1)) ? va | ~((1ULL << bits) - 1) : va;
}

static void emit(sync_ctx *c, const ex_region *r)
{
	if (c->out->len) {
		ex_region *last = &g_array_index(c->out, ex_region, c->out->len - 1);

		if (last->gva + last->size == r->gva && last->kind == r->kind &&
		    last->perms == r->perms && last->gpa + last->size == r->gpa &&
		    (r->kind == EX_MMIO || last->mem + last->size == r->mem)) {
			last->size += r->size;
			return;
		}
	}
	g_array_append_vals(c->out, r, 1);
}

/* Step 2: one leaf, cut at memslot edges. */
static void leaf(sync_ctx *c, uint64_t gva, uint64_t gpa, uint64_t size,
		 uint32_t perms)
{
	sv_memslots *ms = &c->ex->vm->memslots;
	uint64_t end = gpa + size;

	while (gpa < end) {
		sv_memslot *s = sv_memslots__find(ms, gpa);
		ex_region r = {.gva = gva, .gpa = gpa, .perms = perms};
		uint64_t piece_end;

		if (s) {
			uint64_t run;

			/* a part the host does not map gets no region: an
			 * access there is the model's (EFAULT) */
			r.mem = sv_memslots__run(ms, s, gpa,
						 MIN(end, s->gpa + s->size) - gpa,
						 &run);
			piece_end = gpa + run;
			r.kind = s->flags & SV_MEMSLOT_READONLY ? EX_ROM : EX_RAM;
		} else {
			piece_end = MIN(end, sv_memslots__next_start(ms, gpa));
			r.kind = EX_MMIO;
		}
		r.size = piece_end - gpa;
		if (r.kind == EX_MMIO || r.mem)
			emit(c, &r);
		gva += r.size;
		gpa = piece_end;
	}
}

static uint64_t *table_fetch(void *ctx, unsigned level, uint64_t gpa)
{
	SV_UNUSED(level);
	return (uint64_t *)sv_memslots__ptr(ctx, gpa);
}

/* Unicorn's permissions for the entry the iterator is at: R/W ANDed and
 * XD ORed over it and the entries above it. */
static uint32_t path_perms(const sv_pt_iter *it)
{
	uint32_t p = UC_PROT_READ | UC_PROT_WRITE | UC_PROT_EXEC;
	unsigned l;

	for (l = it->level; l <= it->top; l++) {
		uint64_t e = l == it->level ? *it->ptr : sv_pt__iter_parent(it, l);

		if (!(e & SV_PTE_RW))
			p &= ~(uint32_t)UC_PROT_WRITE;
		if (e & SV_PTE_NX)
			p &= ~(uint32_t)UC_PROT_EXEC;
	}
	return p;
}

/* Step 1: every table reachable from the root at root_gpa. */
static void walk_tables(sync_ctx *c, uint64_t root_gpa)
{
	sv_memslots *ms = &c->ex->vm->memslots;
	sv_pt_walker w = c->v->gwalker;
	uint64_t va_end = 1ULL << sv_pt__va_bits(w.fmt);
	sv_pt_iter it;

	w.fetch = table_fetch;
	w.ctx = ms;
	w.on_ref = NULL;
	if (sv_memslots__ptr(ms, root_gpa))
		g_array_append_val(c->tables, root_gpa);
	sv_pt__for_each(&it, &w, root_gpa, 0, va_end, 1)
	{
		uint64_t e = *it.ptr, table;
		bool is_leaf;

		if (!(e & w.present_mask))
			continue;
		is_leaf = sv_pt__walker_leaf(&w, e, it.level);
		if (sv_pt__walker_bad(&w, e, it.level, is_leaf)) {
			sv_pt__iter_skip_children(&it);
			continue;
		}
		if (is_leaf) {
			leaf(c, canonical(it.addr, c->levels),
			     sv_pt__pte_addr(w.fmt, e, it.level, true),
			     1ULL << sv_pt__level_shift(it.level), path_perms(&it));
			continue;
		}
		table = e & w.addr_mask;
		if (sv_memslots__ptr(ms, table))
			g_array_append_val(c->tables, table);
	}
}

static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size,
			  void *payload)
{
	ex_region *r = payload;
	sv_trap t = {.kind = SV_TRAP_MMIO, .size = size, .vcpu = r->cpu->index,
		     .addr = r->gpa + off};

	if (r->kind == EX_ROM) {
		uint64_t val = 0;

		memcpy(&val, r->mem + off, size);
		return val;
	}
	sv_exec__trap(r->cpu, &t);
	return t.value;
}

static void mmio_write(uc_engine *uc, uint64_t off, unsigned size,
		       uint64_t value, void *payload)
{
	ex_region *r = payload;
	sv_trap t = {.kind = SV_TRAP_MMIO, .write = true, .size = size,
		     .vcpu = r->cpu->index, .addr = r->gpa + off, .value = value};

	sv_exec__trap(r->cpu, &t);
}

static bool same_region(const ex_region *a, const ex_region *b)
{
	return a->gva == b->gva && a->size == b->size && a->gpa == b->gpa &&
	       a->mem == b->mem && a->perms == b->perms && a->kind == b->kind;
}

static bool in_list(GArray *list, const ex_region *r)
{
	guint i;

	for (i = 0; i < list->len; i++)
		if (same_region(g_array_index(list, ex_region *, i), r))
			return true;
	return false;
}

static int uc_fail(sv_exec *ex, const char *what, const ex_region *r, uc_err e)
{
	return sv_err__set(ex->vm, SV_ENOMEM,
			   "exec: Unicorn refused to %s [0x%" PRIx64 ", +0x%" PRIx64
			   ") (gpa 0x%" PRIx64 "): %s", what, r->gva, r->size,
			   r->gpa, uc_strerror(e));
}

/* Step 4 for one engine. */
static int apply(ex_cpu *c, GArray *want)
{
	GArray *keep = g_array_new(FALSE, FALSE, sizeof(ex_region *));
	guint i;
	int rc = SV_OK;

	for (i = 0; i < c->regions->len; i++) {
		ex_region *r = g_array_index(c->regions, ex_region *, i);
		bool wanted = false;
		guint j;

		for (j = 0; j < want->len && !wanted; j++)
			wanted = same_region(r, &g_array_index(want, ex_region, j));
		if (wanted) {
			g_array_append_val(keep, r);
			continue;
		}
		uc_mem_unmap(c->uc, r->gva, r->size);
		g_free(r);
	}
	g_array_set_size(c->regions, 0);
	g_array_append_vals(c->regions, keep->data, keep->len);
	for (i = 0; i < want->len && rc == SV_OK; i++) {
		const ex_region *w = &g_array_index(want, ex_region, i);
		ex_region *r;
		uc_err e;

		if (in_list(keep, w))
			continue;
		r = g_memdup2(w, sizeof(*w));
		r->cpu = c;
		if (r->kind == EX_RAM)
			e = uc_mem_map_ptr(c->uc, r->gva, r->size, r->perms, r->mem);
		else
			e = uc_mmio_map(c->uc, r->gva, r->size, mmio_read, r,
					mmio_write, r);
		if (e != UC_ERR_OK) {
			rc = uc_fail(c->ex, "map", r, e);
			g_free(r);
			break;
		}
		g_array_append_val(c->regions, r);
	}
	g_array_free(keep, TRUE);
	return rc;
}

static gint cmp_u64(gconstpointer a, gconstpointer b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int sv_exec__regions_sync(sv_exec *ex)
{
	sync_ctx c = {.ex = ex};
	unsigned i;
	int rc = SV_OK;

	c.tables = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	for (i = 0; i < ex->n && rc == SV_OK; i++) {
		ex_cpu *cpu = &ex->cpus[i];

		c.v = cpu->v;
		c.levels = sv_pt_levels(ex->gpt);
		c.out = g_array_new(FALSE, FALSE, sizeof(ex_region));
		walk_tables(&c, cpu->v->regs.cr3 & SV_PTE_ADDR_MASK);
		if (c.out->len > EX_MAX_REGIONS)
			rc = sv_err__set(ex->vm, SV_ENOTSUP,
					 "exec: the guest mappings need %u Unicorn "
					 "regions (at most %u: Unicorn 2.0.1 slows "
					 "down with hundreds and aborts near 4,000); "
					 "map longer linear runs", c.out->len,
					 EX_MAX_REGIONS);
		else
			rc = apply(cpu, c.out);
		g_array_free(c.out, TRUE);
	}
	g_array_sort(c.tables, cmp_u64);
	g_array_free(ex->tables, TRUE);
	ex->tables = c.tables;
	ex->tbl_lo = ex->tables->len ? g_array_index(ex->tables, uint64_t, 0) : 0;
	ex->tbl_span = ex->tables->len
			       ? g_array_index(ex->tables, uint64_t,
					       ex->tables->len - 1) + 4096 - ex->tbl_lo
			       : 0;
	ex->resync = rc != SV_OK;
	ex->resync_deferred = false;
	ex->mem_epoch = ex->vm->memslots.epoch;
	return rc;
}

bool sv_exec__table_lookup(const sv_exec *ex, uint64_t gpa)
{
	uint64_t page = gpa & ~0xfffULL;
	guint lo = 0, hi = ex->tables->len;

	while (lo < hi) {
		guint mid = (lo + hi) / 2;
		uint64_t t = g_array_index(ex->tables, uint64_t, mid);

		if (t == page)
			return true;
		if (t < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void sv_exec__regions_free(ex_cpu *c)
{
	guint i;

	/* No uc_mem_unmap: uc_close() drops every region at once, where an
	 * unmap in Unicorn 2.0.1 flushes its TLB page by page (seconds for
	 * a region of hundreds of GiB). */
	for (i = 0; c->regions && i < c->regions->len; i++)
		g_free(g_array_index(c->regions, ex_region *, i));
	if (c->regions)
		g_array_free(c->regions, TRUE);
	c->regions = NULL;
}
