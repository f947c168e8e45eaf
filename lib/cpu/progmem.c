/*
 * lib/cpu/progmem.c - a program's bytes and the Unicorn regions over them.
 *
 * Unicorn 2.0.1 reads and writes guest memory at virtual addresses and
 * stands a few hundred regions at most, while a demand-paged process has
 * its pages scattered over guest-physical memory.  A program is one
 * process that never shares a page, so its bytes are a function of the
 * virtual address alone:
 *  1. Four zones of host memory, reserved and untouched until used,
 *     mirror the address ranges a program can map: [0, 4G) (an
 *     executable and its heap), [4G, 68G) (the guest kernel's mmap
 *     placement starts at 4G), 4 GiB from the 1G boundary below a static
 *     PIE's base (it and its heap) and the top 1 GiB below 2^47 (the
 *     stack).
 *  2. Unicorn regions follow the guest kernel's VMAs: one for each run of
 *     adjacent VMAs with the same permissions, pointing into the zone
 *     (PROT_NONE gets none).  After every memory call the list is
 *     compared with what is mapped; only the difference is unmapped and
 *     mapped.  A heap or a stack is one region however many pages it has.
 *  3. What the guest kernel frees reads zero after (munmap, MADV_DONTNEED,
 *     a brk shrink): those host pages are given back (MADV_DONTNEED on
 *     the zone); mremap moves the bytes.
 *  4. Which page is where in guest-physical memory, what is present, what
 *     faults and what a THP covers is the guest kernel's: in detailed mode
 *     every access goes through its page tables first.
 */
#define _DEFAULT_SOURCE /* MAP_NORESERVE, madvise */
#include <sys/mman.h>

#include "cpu/program.h"
#include "simvirt/hostmm.h"

static const struct {
	uint64_t va, size;
} zone_spans[] = {
	{0, 4ULL << 30},
	{4ULL << 30, 64ULL << 30},
	{PROG_PIE_BASE & ~((1ULL << 30) - 1), 4ULL << 30},
	{(1ULL << 47) - (1ULL << 30), 1ULL << 30},
};

int sv_prog__zones_init(sv_program *p)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(zone_spans); i++) {
		void *m = mmap(NULL, zone_spans[i].size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED)
			return sv_err__set(p->vm, SV_ENOMEM,
					   "program: cannot reserve %" PRIu64
					   " MiB of host address space: %s",
					   zone_spans[i].size >> 20, g_strerror(errno));
		p->zones[i] = (prog_zone){.va = zone_spans[i].va,
					  .size = zone_spans[i].size, .host = m};
	}
	return SV_OK;
}

void sv_prog__zones_free(sv_program *p)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(p->zones); i++)
		if (p->zones[i].host)
			munmap(p->zones[i].host, p->zones[i].size);
}

static prog_zone *zone_of(sv_program *p, uint64_t va, uint64_t len)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(p->zones); i++) {
		prog_zone *z = &p->zones[i];

		if (z->host && va >= z->va && len <= z->size &&
		    va - z->va <= z->size - len)
			return z;
	}
	return NULL;
}

uint8_t *sv_prog__host(sv_program *p, uint64_t va, uint64_t len)
{
	prog_zone *z = zone_of(p, va, len);

	return z ? z->host + (va - z->va) : NULL;
}

void sv_prog__zero(sv_program *p, uint64_t va, uint64_t len)
{
	uint8_t *h = sv_prog__host(p, va, len);
	uint64_t lo = (va + 4095) & ~4095ULL, hi = (va + len) & ~4095ULL;

	if (!h || !len)
		return;
	if (lo >= hi) {
		memset(h, 0, len);
		return;
	}
	memset(h, 0, lo - va);
	madvise(h + (lo - va), hi - lo, MADV_DONTNEED);
	memset(h + (hi - va), 0, va + len - hi);
}

void sv_prog__move(sv_program *p, uint64_t from, uint64_t to, uint64_t len)
{
	uint8_t *src = sv_prog__host(p, from, len), *dst = sv_prog__host(p, to, len);

	if (!src || !dst || from == to)
		return;
	memmove(dst, src, len);
	/* the old range reads zero when mapped again */
	if (to + len <= from || from + len <= to)
		sv_prog__zero(p, from, len);
	else if (to < from)
		sv_prog__zero(p, to + len, from - to);
	else
		sv_prog__zero(p, from, to - from);
}

/* ---- regions -------------------------------------------------------------- */

static uint32_t uc_perms(unsigned prot)
{
	uint32_t r = UC_PROT_READ; /* x86: write and exec imply read */

	if (prot & SV_PROT_WRITE)
		r |= UC_PROT_WRITE;
	if (prot & SV_PROT_EXEC)
		r |= UC_PROT_EXEC;
	return r;
}

static GArray *wanted(sv_program *p)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(prog_region));
	sv_guestmm_vma m;
	uint64_t at = 0;

	while (sv_guestmm_vma_next(&m, p->gm, at)) {
		prog_region r = {.va = m.start, .size = m.end - m.start,
				 .perms = uc_perms(m.prot)};
		prog_region *last = out->len ? &g_array_index(out, prog_region,
							      out->len - 1)
					     : NULL;

		at = m.end;
		if (!m.prot || !zone_of(p, r.va, r.size))
			continue;
		if (last && last->va + last->size == r.va &&
		    last->perms == r.perms &&
		    zone_of(p, last->va, last->size + r.size)) {
			last->size += r.size;
			continue;
		}
		g_array_append_val(out, r);
	}
	return out;
}

static bool has(GArray *list, const prog_region *r)
{
	guint i;

	for (i = 0; i < list->len; i++) {
		const prog_region *x = &g_array_index(list, prog_region, i);

		if (x->va == r->va && x->size == r->size && x->perms == r->perms)
			return true;
	}
	return false;
}

int sv_prog__regions_sync(sv_program *p)
{
	GArray *want = wanted(p), *keep;
	guint i;
	int rc = SV_OK;

	p->regions_dirty = false;
	if (want->len > PROG_MAX_REGIONS) {
		rc = sv_err__set(p->vm, SV_ENOTSUP,
				 "program: its mappings need %u Unicorn regions (at "
				 "most %u: Unicorn 2.0.1 slows down with hundreds "
				 "and aborts near 4,000)", want->len,
				 PROG_MAX_REGIONS);
		g_array_free(want, TRUE);
		return rc;
	}
	keep = g_array_new(FALSE, FALSE, sizeof(prog_region));
	for (i = 0; i < p->regions->len; i++) {
		const prog_region *r = &g_array_index(p->regions, prog_region, i);

		if (has(want, r))
			g_array_append_val(keep, *r);
		else
			uc_mem_unmap(p->uc, r->va, r->size);
	}
	for (i = 0; i < want->len && rc == SV_OK; i++) {
		const prog_region *r = &g_array_index(want, prog_region, i);
		uc_err e;

		if (has(keep, r))
			continue;
		e = uc_mem_map_ptr(p->uc, r->va, r->size, r->perms,
				   sv_prog__host(p, r->va, r->size));
		if (e != UC_ERR_OK)
			rc = sv_err__set(p->vm, SV_ENOMEM,
					 "program: Unicorn refused to map [0x%" PRIx64
					 ", +0x%" PRIx64 "): %s", r->va, r->size,
					 uc_strerror(e));
		else
			g_array_append_val(keep, *r);
	}
	g_array_free(p->regions, TRUE);
	g_array_free(want, TRUE);
	p->regions = keep;
	p->stat[SV_PROGRAM_STAT_regions] = keep->len;
	p->stat[SV_PROGRAM_STAT_regions_max] =
		MAX(p->stat[SV_PROGRAM_STAT_regions_max], keep->len);
	return rc;
}

/* ---- the kernel's user copies ------------------------------------------------ */

static bool user_range(sv_program *p, uint64_t va, uint64_t len, bool write)
{
	uint64_t end = va + len, a = va;
	sv_guestmm_vma m;

	if (end < va || !sv_prog__host(p, va, len))
		return false;
	while (a < end) {
		if (!sv_guestmm_vma_next(&m, p->gm, a) || m.start > a ||
		    !m.prot || (write && !(m.prot & SV_PROT_WRITE)))
			return false;
		a = m.end;
	}
	if (!p->detailed)
		return true;
	/* each page once through the model, as the copy's first touch */
	for (a = va & ~4095ULL; a < end; a += 4096) {
		sv_xlate x;

		if (sv_guestmm_access(&x, p->gm, p->v, MAX(a, va), 1,
				      write ? SV_ACCESS_WRITE : SV_ACCESS_READ) ||
		    x.fault.kind != SV_FAULT_NONE)
			return false;
	}
	return true;
}

bool sv_prog__copy_in(sv_program *p, void *dst, uint64_t va, uint64_t len)
{
	if (!len)
		return true;
	if (!user_range(p, va, len, false))
		return false;
	memcpy(dst, sv_prog__host(p, va, len), len);
	return true;
}

bool sv_prog__copy_out(sv_program *p, uint64_t va, const void *src,
		       uint64_t len)
{
	if (!len)
		return true;
	if (!user_range(p, va, len, true))
		return false;
	memcpy(sv_prog__host(p, va, len), src, len);
	return true;
}

char *sv_prog__string_in(sv_program *p, uint64_t va, size_t max)
{
	GString *s = g_string_new(NULL);

	/* a page at a time: one touch of each page, as strncpy_from_user */
	while (s->len < max) {
		uint64_t a = va + s->len, n = MIN(4096 - (a & 4095), max - s->len);
		char buf[4096];
		const char *nul;

		if (!sv_prog__copy_in(p, buf, a, n))
			break;
		nul = memchr(buf, 0, n);
		g_string_append_len(s, buf, nul ? nul - buf : (gssize)n);
		if (nul)
			return g_string_free(s, FALSE);
	}
	g_string_free(s, TRUE);
	return NULL;
}
