/*
 * tests/check_hostmm.c - the simulated host kernel: leaf sizes, notifier
 * events and ranges, frames and bytes after each mm operation, and the
 * errors of bad calls.  Expected numbers come from Linux's behaviour
 * (mm/huge_memory.c, mm/madvise.c, mm/mprotect.c, mm/memory.c), derived
 * next to each assertion.
 */
#include <string.h>

#include <glib.h>

#include "helpers.h"

#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)
#define HS(h, name) sv_host_stat_get((h), SV_HOST_STAT_##name)

/* ---- a notifier that records every event ------------------------------- */

typedef struct rec {
	GArray *ev;   /* sv_host_range, in start order */
	int depth, max_depth;
	unsigned releases, ages;
	bool young;
} rec;

static void rec_start(const sv_host_range *r, void *payload)
{
	rec *c = payload;

	g_array_append_val(c->ev, *r);
	if (++c->depth > c->max_depth)
		c->max_depth = c->depth;
}

static void rec_end(const sv_host_range *r, void *payload)
{
	rec *c = payload;

	(void)r;
	c->depth--;
}

static bool rec_age(sv_host_age_kind kind, uint64_t s, uint64_t e, void *p)
{
	rec *c = p;

	(void)kind;
	(void)s;
	(void)e;
	c->ages++;
	return c->young;
}

static void rec_release(void *p)
{
	((rec *)p)->releases++;
}

static const sv_host_notifier_ops rec_ops = {
	SV_HOST_NOTIFIER_VERSION, rec_start, rec_end, rec_age, rec_release,
};

static sv_host *host;
static rec events;

static sv_host *new_host(sv_host_options *o)
{
	sv_host *h;

	T_OK(sv_host_new(&h, o));
	events.ev = g_array_new(FALSE, FALSE, sizeof(sv_host_range));
	events.depth = events.max_depth = 0;
	events.releases = events.ages = 0;
	events.young = false;
	T_OK(sv_host_notifier_register(h, &rec_ops, &events));
	return h;
}

static void setup(void)
{
	sv_host_options o = SV_HOST_OPTIONS_INIT;

	o.mem_size = 4 * SZ_1G;
	o.hugetlb_2m_pages = 2;
	o.hugetlb_1g_pages = 1;
	host = new_host(&o);
}

static void teardown(void)
{
	sv_host_free(host);
	host = NULL;
	g_array_free(events.ev, TRUE);
}

static uint64_t map(sv_host_backing b, uint64_t size, unsigned prot)
{
	sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 0, size, prot, 0, b, 0};
	uint64_t hva;

	T_OK(sv_host_mmap(&hva, host, &a));
	return hva;
}

static uint64_t map_rw(sv_host_backing b, uint64_t size)
{
	return map(b, size, SV_PROT_READ | SV_PROT_WRITE);
}

static sv_host_leaf leaf(uint64_t hva)
{
	sv_host_leaf l;

	T_OK(sv_host_lookup(&l, host, hva));
	return l;
}

static sv_host_leaf fault(uint64_t hva, bool write)
{
	sv_host_leaf l;

	T_OK(sv_host_fault(&l, host, hva, write));
	return l;
}

static void put8(uint64_t hva, uint8_t v)
{
	T_OK(sv_host_write(host, hva, &v, 1));
}

static uint8_t get8(uint64_t hva)
{
	uint8_t v;

	T_OK(sv_host_read(host, hva, &v, 1));
	return v;
}

static unsigned nevents(sv_host_event e)
{
	unsigned i, n = 0;

	for (i = 0; i < events.ev->len; i++)
		n += g_array_index(events.ev, sv_host_range, i).event == e;
	return n;
}

static sv_host_range event_at(unsigned i)
{
	ck_assert_uint_lt(i, events.ev->len);
	return g_array_index(events.ev, sv_host_range, i);
}

static void events_reset(void)
{
	g_array_set_size(events.ev, 0);
}

/* A THP-backed, written 2M range (MADV_HUGEPAGE under thp=madvise). */
static uint64_t thp_2m(void)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, SZ_2M);

	T_OK(sv_host_madvise(host, hva, SZ_2M, SV_MADV_HUGEPAGE));
	ck_assert_uint_eq(fault(hva, true).level, 2);
	return hva;
}

/* ---- faults ------------------------------------------------------------- */

START_TEST(fault_thp_write)
{
	uint64_t a2m = HS(host, frames_alloc_2m), hva = thp_2m();

	/* one write fault in a HUGEPAGE VMA: do_huge_pmd_anonymous_page
	 * allocates one 2M frame and maps it writable by one PMD */
	ck_assert_uint_eq(HS(host, thp_fault_alloc), 1);
	ck_assert_uint_eq(HS(host, frames_alloc_2m) - a2m, 1);
	ck_assert(leaf(hva + 0x1234).writable);
	ck_assert_uint_eq(leaf(hva + 0x1234).pfn, leaf(hva).pfn + 1);
	ck_assert_uint_eq(events.ev->len, 0); /* a fault notifies nobody */
}
END_TEST

START_TEST(fault_thp_read_zero_then_write)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, SZ_2M);
	sv_host_leaf l;

	T_OK(sv_host_madvise(host, hva, SZ_2M, SV_MADV_HUGEPAGE));
	l = fault(hva, false);
	/* a read of untouched THP-eligible memory maps the huge zero page:
	 * one PMD leaf, read-only, special */
	ck_assert_uint_eq(l.level, 2);
	ck_assert(!l.writable && l.special);
	ck_assert_uint_eq(HS(host, zero_page_maps), 1);
	/* the write splits the zero PMD into 512 zero PTEs (CLEAR over 2M)
	 * and copies one of them (CLEAR over 4K): do_huge_pmd_wp_page's
	 * fallback, then wp_page_copy */
	l = fault(hva + 4096, true);
	ck_assert_uint_eq(l.level, 1);
	ck_assert(l.writable && !l.special);
	ck_assert_uint_eq(nevents(SV_HOST_EVENT_CLEAR), 2);
	ck_assert_uint_eq(event_at(0).start, hva);
	ck_assert_uint_eq(event_at(0).end, hva + SZ_2M);
	ck_assert_uint_eq(event_at(1).start, hva + 4096);
	ck_assert_uint_eq(event_at(1).end, hva + 8192);
	ck_assert(leaf(hva).special); /* the other 511 still map zeros */
	ck_assert_uint_eq(HS(host, cow), 1);
}
END_TEST

START_TEST(fault_anon_4k)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, 8192), a4k;
	sv_host_page pg;

	/* no HUGEPAGE under thp=madvise: 4K pages; a read maps the zero
	 * page, a write allocates one 4K frame */
	ck_assert(fault(hva, false).special);
	a4k = HS(host, frames_alloc_4k);
	ck_assert_uint_eq(fault(hva + 4096, true).level, 1);
	ck_assert_uint_eq(HS(host, frames_alloc_4k) - a4k, 1);
	T_OK(sv_host_page_info(&pg, host, leaf(hva + 4096).pfn));
	ck_assert_int_eq(pg.kind, SV_PAGE_ANON);
	ck_assert_uint_eq(pg.refcount, 1);
	ck_assert_uint_eq(pg.mapcount, 1);
	ck_assert(!pg.compound);
}
END_TEST

START_TEST(fault_hugetlb_pool)
{
	uint64_t hva = map_rw(SV_BACKING_HUGETLB_2M, 3 * SZ_2M);
	sv_host_page pg;
	int rc;

	/* the pool holds 2 pages: two faults map 2M leaves, the third is
	 * SIGBUS and maps nothing */
	ck_assert_uint_eq(fault(hva, false).level, 2);
	ck_assert_uint_eq(fault(hva + SZ_2M, true).level, 2);
	rc = sv_host_fault(NULL, host, hva + 2 * SZ_2M, true);
	ck_assert_int_eq(rc, SV_ESIGBUS);
	ck_assert(strstr(sv_error_detail(), "exhausted"));
	ck_assert(!leaf(hva + 2 * SZ_2M).present);
	T_OK(sv_host_page_info(&pg, host, leaf(hva + 8192).pfn));
	ck_assert_int_eq(pg.kind, SV_PAGE_HUGETLB);
	ck_assert_uint_eq(pg.order, 9);
	ck_assert_uint_eq(pg.head, leaf(hva).pfn);
	/* munmap of the first page returns it to the pool: now it fits */
	T_OK(sv_host_munmap(host, hva, SZ_2M));
	ck_assert_uint_eq(fault(hva + 2 * SZ_2M, true).level, 2);
	/* a 1G hugetlb VMA maps one PUD leaf */
	hva = map_rw(SV_BACKING_HUGETLB_1G, SZ_1G);
	ck_assert_uint_eq(fault(hva + 12345, true).level, 3);
}
END_TEST

START_TEST(fault_device_backings)
{
	sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 0, SZ_1G,
			       SV_PROT_READ | SV_PROT_WRITE, 0, SV_BACKING_DAX,
			       SZ_1G};
	uint64_t hva;
	sv_host_page pg;

	/* DAX with 1G device alignment: a PUD leaf, zone-device page */
	T_OK(sv_host_mmap(&hva, host, &a));
	ck_assert_uint_eq(fault(hva, true).level, 3);
	T_OK(sv_host_page_info(&pg, host, leaf(hva).pfn));
	ck_assert(pg.zone_device);
	ck_assert_uint_eq(pg.refcount, 0);
	/* DAX with 2M alignment: PMD leaves */
	a.align = SZ_2M;
	a.size = SZ_2M;
	T_OK(sv_host_mmap(&hva, host, &a));
	ck_assert_uint_eq(fault(hva, false).level, 2);
	/* PFNMAP without struct pages: special 4K PTEs, no metadata */
	a.backing = SV_BACKING_PFNMAP;
	a.align = 0;
	a.flags = SV_MAP_NO_STRUCT_PAGE;
	T_OK(sv_host_mmap(&hva, host, &a));
	ck_assert_uint_eq(fault(hva, false).level, 1);
	ck_assert(leaf(hva).special);
	T_OK(sv_host_page_info(&pg, host, leaf(hva).pfn));
	ck_assert_int_eq(pg.kind, SV_PAGE_NONE);
	/* driver memory: 4K PTEs into a 2M compound page that is not THP */
	hva = map_rw(SV_BACKING_DRIVER, SZ_2M);
	ck_assert_uint_eq(fault(hva + 4096, true).level, 1);
	T_OK(sv_host_page_info(&pg, host, leaf(hva + 4096).pfn));
	ck_assert_int_eq(pg.kind, SV_PAGE_DRIVER);
	ck_assert(pg.compound);
	ck_assert_uint_eq(pg.order, 9);
}
END_TEST

/* resident_limit: faults fill frames until the RAM in use reaches it,
 * then fail with SV_ENOMEM naming the option; freeing makes room again. */
START_TEST(resident_limit_stops_faults)
{
	sv_host_options o = SV_HOST_OPTIONS_INIT;
	sv_host_leaf l;
	uint64_t hva, i;
	int rc = SV_OK;

	teardown();
	o.mem_size = SZ_1G;
	o.thp = SV_THP_NEVER;
	o.resident_limit = 8ULL << 20;
	host = new_host(&o);
	hva = map_rw(SV_BACKING_ANON, 8ULL << 20);
	for (i = 0; i < 2048 && rc == SV_OK; i++)
		rc = sv_host_fault(&l, host, hva + (i << 12), true);
	/* 8M is 2,048 frames; the zero page and the huge zero page hold 513
	 * from creation, so 2048 - 513 = 1,535 faults fill and the next fails */
	ck_assert_int_eq(rc, SV_ENOMEM);
	ck_assert_uint_eq(i, 1535 + 1);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "resident_limit"));
	ck_assert_uint_eq(HS(host, pages_filled), 1535);
	/* a page already present is no new frame: it faults fine */
	T_OK(sv_host_fault(&l, host, hva, true));
	/* MADV_DONTNEED frees one frame: one more fault fits */
	T_OK(sv_host_madvise(host, hva, 4096, SV_MADV_DONTNEED));
	T_OK(sv_host_fault(&l, host, hva + (1535ULL << 12), true));
	ck_assert_int_eq(sv_host_fault(&l, host, hva + (1536ULL << 12), true),
			 SV_ENOMEM);
}
END_TEST

START_TEST(fault_fragmented_falls_back)
{
	sv_host_options o = SV_HOST_OPTIONS_INIT;
	uint64_t hva;

	teardown();
	o.mem_size = SZ_1G;
	o.frag_percent = 100;
	o.thp = SV_THP_ALWAYS;
	/* every 2M block holds a pinned page, so neither the huge zero page
	 * nor a THP can be allocated: options that cannot go together */
	ck_assert_int_eq(sv_host_new(&(sv_host *){NULL}, &o), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "sv_host_options."
							"frag_percent = 100"));
	o.thp_zero_page = false;
	host = new_host(&o);
	hva = map_rw(SV_BACKING_ANON, SZ_2M);
	/* the 2M allocation fails: THP_FAULT_FALLBACK, one 4K page */
	ck_assert_uint_eq(fault(hva, true).level, 1);
	ck_assert_uint_eq(HS(host, thp_fault_fallback), 1);
	ck_assert_uint_eq(HS(host, thp_fault_alloc), 0);
}
END_TEST

/* ---- operations ----------------------------------------------------------- */

/* mprotect back to what it was merges the VMAs again (vma_merge), so the
 * range can be collapsed to one THP: 3 VMAs after the first mprotect, 1
 * after the second; the PMD split stays (512 PTEs) until MADV_COLLAPSE
 * makes the 2M one PMD leaf again. */
START_TEST(op_mprotect_back_merges)
{
	uint64_t hva = thp_2m();
	sv_host_vma v;

	T_OK(sv_host_mprotect(host, hva + 4096, 4096, SV_PROT_READ));
	T_OK(sv_host_vma_info(&v, host, hva));
	ck_assert_uint_eq(v.end, hva + 4096); /* [hva, hva + 4K) alone */
	T_OK(sv_host_mprotect(host, hva + 4096, 4096,
			      SV_PROT_READ | SV_PROT_WRITE));
	T_OK(sv_host_vma_info(&v, host, hva));
	ck_assert_uint_eq(v.start, hva);
	ck_assert_uint_eq(v.end, hva + SZ_2M);
	ck_assert_uint_eq(leaf(hva).level, 1);
	T_OK(sv_host_madvise(host, hva, SZ_2M, SV_MADV_COLLAPSE));
	ck_assert_uint_eq(leaf(hva).level, 2);
	ck_assert_uint_eq(leaf(hva + SZ_2M - 1).level, 2);
}
END_TEST

START_TEST(op_mprotect_splits_thp)
{
	uint64_t hva = thp_2m(), a = HS(host, frames_alloc_4k);
	uint64_t f = HS(host, frames_free_4k) + HS(host, frames_free_2m);
	unsigned i, ptes = 0;

	events_reset();
	T_OK(sv_host_mprotect(host, hva + 4096, 4096, SV_PROT_READ));
	/* one PROTECTION_VMA over the 4K, and inside it the PMD split's
	 * CLEAR over the 2M (change_pmd_range -> __split_huge_pmd) */
	ck_assert_uint_eq(nevents(SV_HOST_EVENT_PROTECTION_VMA), 1);
	ck_assert_uint_eq(nevents(SV_HOST_EVENT_CLEAR), 1);
	ck_assert_uint_eq(event_at(0).start, hva + 4096);
	ck_assert_uint_eq(event_at(0).end, hva + 8192);
	ck_assert_uint_eq(event_at(1).end - event_at(1).start, SZ_2M);
	ck_assert_int_eq(events.max_depth, 2);
	for (i = 0; i < 512; i++)
		ptes += leaf(hva + i * 4096ULL).level == 1;
	ck_assert_uint_eq(ptes, 512); /* 512 PTEs, the same frames */
	ck_assert(!leaf(hva + 4096).writable);
	ck_assert(leaf(hva + 8192).writable);
	ck_assert_uint_eq(HS(host, frames_alloc_4k), a);
	ck_assert_uint_eq(HS(host, frames_free_4k) + HS(host, frames_free_2m), f);
	ck_assert_int_eq(sv_host_write(host, hva + 4096, "x", 1), SV_EFAULT);
}
END_TEST

START_TEST(op_collapse)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, SZ_2M), i;
	uint64_t a2m = HS(host, frames_alloc_2m), f4k = HS(host, frames_free_4k);

	for (i = 0; i < 512; i++)
		put8(hva + i * 4096, (uint8_t)(i + 1));
	ck_assert_uint_eq(leaf(hva).level, 1);
	events_reset();
	T_OK(sv_host_madvise(host, hva, SZ_2M, SV_MADV_COLLAPSE));
	/* one PMD leaf, one CLEAR over the 2M, a new 2M frame, 512 4K
	 * frames freed, and the bytes kept */
	ck_assert_uint_eq(leaf(hva + 0x12345).level, 2);
	ck_assert_uint_eq(events.ev->len, 1);
	ck_assert_int_eq(event_at(0).event, SV_HOST_EVENT_CLEAR);
	ck_assert_uint_eq(event_at(0).start, hva);
	ck_assert_uint_eq(event_at(0).end, hva + SZ_2M);
	ck_assert_uint_eq(HS(host, frames_alloc_2m) - a2m, 1);
	ck_assert_uint_eq(HS(host, frames_free_4k) - f4k, 512);
	ck_assert_uint_eq(get8(hva + 77 * 4096), 78);
}
END_TEST

START_TEST(op_khugepaged)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, 2 * SZ_2M), i;
	unsigned n;

	/* 100 pages of the first 2M, none of the second */
	for (i = 0; i < 100; i++)
		put8(hva + i * 4096, 1);
	T_OK(sv_host_khugepaged(&n, host));
	ck_assert_uint_eq(n, 0); /* not THP-eligible under thp=madvise */
	T_OK(sv_host_madvise(host, hva, 2 * SZ_2M, SV_MADV_HUGEPAGE));
	events_reset();
	T_OK(sv_host_khugepaged(&n, host));
	/* 412 empty PTEs <= max_ptes_none 511: the first 2M collapses; the
	 * second has no PTE table at all: nothing to scan */
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(nevents(SV_HOST_EVENT_CLEAR), 1);
	ck_assert_uint_eq(leaf(hva).level, 2);
	ck_assert_uint_eq(get8(hva + 99 * 4096), 1);
	ck_assert_uint_eq(get8(hva + 100 * 4096), 0);
}
END_TEST

START_TEST(op_khugepaged_max_ptes_none)
{
	sv_host_options o = SV_HOST_OPTIONS_INIT;
	uint64_t hva;
	unsigned n;

	teardown();
	o.mem_size = SZ_1G;
	o.max_ptes_none = 0;
	host = new_host(&o);
	hva = map_rw(SV_BACKING_ANON, SZ_2M);
	put8(hva, 1);
	T_OK(sv_host_madvise(host, hva, SZ_2M, SV_MADV_HUGEPAGE));
	T_OK(sv_host_khugepaged(&n, host));
	ck_assert_uint_eq(n, 0); /* 511 empty PTEs > max_ptes_none 0 */
	/* MADV_COLLAPSE ignores max_ptes_none */
	T_OK(sv_host_madvise(host, hva, SZ_2M, SV_MADV_COLLAPSE));
	ck_assert_uint_eq(leaf(hva).level, 2);
}
END_TEST

START_TEST(op_dontneed_in_thp)
{
	uint64_t hva = thp_2m();
	uint64_t f = HS(host, frames_free_4k) + HS(host, frames_free_2m);

	put8(hva + 4096, 0xaa);
	put8(hva + 8192, 0xbb);
	events_reset();
	T_OK(sv_host_madvise(host, hva + 4096, 4096, SV_MADV_DONTNEED));
	/* CLEAR over the 4K (zap_page_range_single), inside it CLEAR over
	 * the 2M (the PMD split); the THP stays, PTE-mapped (deferred
	 * split): no frame is freed */
	ck_assert_uint_eq(nevents(SV_HOST_EVENT_CLEAR), 2);
	ck_assert_uint_eq(event_at(0).start, hva + 4096);
	ck_assert_uint_eq(event_at(0).end, hva + 8192);
	ck_assert_uint_eq(event_at(1).end - event_at(1).start, SZ_2M);
	ck_assert(!leaf(hva + 4096).present);
	ck_assert_uint_eq(leaf(hva + 8192).level, 1);
	ck_assert_uint_eq(HS(host, frames_free_4k) + HS(host, frames_free_2m), f);
	ck_assert_uint_eq(get8(hva + 4096), 0);    /* zeroed */
	ck_assert_uint_eq(get8(hva + 8192), 0xbb); /* neighbour kept */
}
END_TEST

START_TEST(op_munmap_and_remap)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, 16384), f, again;
	sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 0, 16384,
			       SV_PROT_READ | SV_PROT_WRITE, SV_MAP_FIXED,
			       SV_BACKING_ANON, 0};

	put8(hva, 7);
	put8(hva + 4096, 8);
	f = HS(host, frames_free_4k);
	events_reset();
	T_OK(sv_host_munmap(host, hva, 16384));
	/* one UNMAP over the whole range; both written frames freed */
	ck_assert_uint_eq(events.ev->len, 1);
	ck_assert_int_eq(event_at(0).event, SV_HOST_EVENT_UNMAP);
	ck_assert_uint_eq(event_at(0).end - event_at(0).start, 16384);
	ck_assert_uint_eq(HS(host, frames_free_4k) - f, 2);
	ck_assert_int_eq(sv_host_read(host, hva, &(uint8_t){0}, 1), SV_EFAULT);
	a.hva = hva;
	T_OK(sv_host_mmap(&again, host, &a));
	ck_assert_uint_eq(get8(hva), 0); /* a new mapping reads zeros */
}
END_TEST

START_TEST(op_mremap_moves_pages)
{
	uint64_t hva = thp_2m(), pfn = leaf(hva).pfn, to = hva + 64 * SZ_2M;

	put8(hva + 5, 42);
	events_reset();
	T_OK(sv_host_mremap(host, hva, SZ_2M, to));
	/* UNMAP over the old range; the PMD moved whole (both 2M-aligned) */
	ck_assert_uint_eq(events.ev->len, 1);
	ck_assert_int_eq(event_at(0).event, SV_HOST_EVENT_UNMAP);
	ck_assert_uint_eq(event_at(0).start, hva);
	ck_assert_uint_eq(leaf(to).level, 2);
	ck_assert_uint_eq(leaf(to).pfn, pfn);
	ck_assert(!leaf(hva).present);
	ck_assert_uint_eq(get8(to + 5), 42);
}
END_TEST

START_TEST(op_split_thp)
{
	uint64_t hva = thp_2m();
	sv_host_page pg;

	events_reset();
	T_OK(sv_host_split_thp(host, hva + 4096));
	/* split_huge_page: one CLEAR over the 2M, 512 order-0 pages */
	ck_assert_uint_eq(events.ev->len, 1);
	ck_assert_uint_eq(HS(host, thp_split_pmd), 1);
	ck_assert_uint_eq(leaf(hva + 4096).level, 1);
	T_OK(sv_host_page_info(&pg, host, leaf(hva + 4096).pfn));
	ck_assert(!pg.compound);
	ck_assert_int_eq(pg.kind, SV_PAGE_ANON);
	ck_assert_int_eq(sv_host_split_thp(host, hva), SV_EINVAL);
}
END_TEST

START_TEST(op_migrate)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, 8192), p0, p1;

	put8(hva, 1);
	put8(hva + 4096, 2);
	p0 = leaf(hva).pfn;
	p1 = leaf(hva + 4096).pfn;
	events_reset();
	T_OK(sv_host_migrate(host, hva, 8192));
	/* one CLEAR per migrated page, new frames, same bytes */
	ck_assert_uint_eq(nevents(SV_HOST_EVENT_CLEAR), 2);
	ck_assert_uint_eq(HS(host, migrations), 2);
	ck_assert_uint_ne(leaf(hva).pfn, p0);
	ck_assert_uint_ne(leaf(hva + 4096).pfn, p1);
	ck_assert_uint_eq(get8(hva), 1);
	ck_assert_uint_eq(get8(hva + 4096), 2);
}
END_TEST

START_TEST(op_ksm)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, 4 * 4096);
	unsigned merged;

	put8(hva, 9);
	put8(hva + 4096, 9);
	put8(hva + 8192, 9);
	put8(hva + 12288, 5);
	events_reset();
	T_OK(sv_host_ksm(&merged, host, hva, 4 * 4096));
	/* pages 0-2 are equal: page 0 becomes the KSM page (1 CLEAR for its
	 * write-protect), pages 1 and 2 merge into it (write_protect_page
	 * and replace_page: 2 CLEARs each); page 3 is alone (1 CLEAR) */
	ck_assert_uint_eq(merged, 2);
	ck_assert_uint_eq(nevents(SV_HOST_EVENT_CLEAR), 1 + 2 * 2 + 1);
	ck_assert_uint_eq(leaf(hva + 4096).pfn, leaf(hva).pfn);
	ck_assert(!leaf(hva + 4096).writable);
	/* a write breaks COW: a new frame, one CLEAR, content kept */
	events_reset();
	put8(hva + 4097, 3);
	ck_assert_uint_eq(HS(host, cow), 1);
	ck_assert_uint_eq(nevents(SV_HOST_EVENT_CLEAR), 1);
	ck_assert_uint_ne(leaf(hva + 4096).pfn, leaf(hva).pfn);
	ck_assert_uint_eq(get8(hva + 4096), 9);
}
END_TEST

START_TEST(op_fork_cow)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, 8192);
	uint64_t quiet = map_rw(SV_BACKING_ANON, 4096), p0;
	sv_host_page pg;

	put8(hva, 1);
	put8(quiet, 1);
	T_OK(sv_host_madvise(host, quiet, 4096, SV_MADV_DONTFORK));
	p0 = leaf(hva).pfn;
	events_reset();
	T_OK(sv_host_fork(host));
	/* PROTECTION_PAGE over the one copied VMA (DONTFORK skipped) */
	ck_assert_uint_eq(events.ev->len, 1);
	ck_assert_int_eq(event_at(0).event, SV_HOST_EVENT_PROTECTION_PAGE);
	ck_assert_uint_eq(event_at(0).start, hva);
	ck_assert(!leaf(hva).writable);
	T_OK(sv_host_page_info(&pg, host, p0));
	ck_assert_uint_eq(pg.mapcount, 2); /* parent and child */
	put8(hva, 2); /* COW: the parent gets a copy */
	ck_assert_uint_eq(HS(host, cow), 1);
	ck_assert_uint_ne(leaf(hva).pfn, p0);
	ck_assert_uint_eq(get8(hva), 2);
	T_OK(sv_host_fork_exit(host));
	T_OK(sv_host_page_info(&pg, host, p0));
	ck_assert_int_eq(pg.kind, SV_PAGE_FREE); /* the child's copy went */
}
END_TEST

START_TEST(op_clear_refs)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, 4096), pfn, a;

	put8(hva, 1);
	pfn = leaf(hva).pfn;
	ck_assert(leaf(hva).soft_dirty);
	events_reset();
	T_OK(sv_host_clear_refs(host));
	/* one SOFT_DIRTY over the whole mm */
	ck_assert_uint_eq(events.ev->len, 1);
	ck_assert_int_eq(event_at(0).event, SV_HOST_EVENT_SOFT_DIRTY);
	ck_assert_uint_eq(event_at(0).start, 0);
	ck_assert_uint_eq(event_at(0).end, UINT64_MAX);
	ck_assert(!leaf(hva).soft_dirty && !leaf(hva).writable);
	a = HS(host, frames_alloc_4k);
	put8(hva, 2); /* the page is ours alone: reused, made dirty again */
	ck_assert(leaf(hva).soft_dirty && leaf(hva).writable);
	ck_assert_uint_eq(leaf(hva).pfn, pfn);
	ck_assert_uint_eq(HS(host, frames_alloc_4k), a);
}
END_TEST

START_TEST(op_reclaim_and_free)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, 3 * 4096);

	put8(hva, 11);
	put8(hva + 4096, 12);
	put8(hva + 8192, 13);
	T_OK(sv_host_madvise(host, hva + 4096, 8192, SV_MADV_FREE));
	put8(hva + 8192, 14); /* written after FREE: must survive */
	events_reset();
	T_OK(sv_host_madvise(host, hva, 3 * 4096, SV_MADV_PAGEOUT));
	/* one CLEAR per reclaimed page; page 0 and 2 go to swap, page 1
	 * (lazy-free and still clean) is dropped */
	ck_assert_uint_eq(nevents(SV_HOST_EVENT_CLEAR), 3);
	ck_assert_uint_eq(HS(host, swap_out), 2);
	ck_assert(leaf(hva).swapped);
	ck_assert_uint_eq(get8(hva), 11);
	ck_assert_uint_eq(HS(host, swap_in), 1);
	ck_assert_uint_eq(get8(hva + 4096), 0);
	ck_assert_uint_eq(get8(hva + 8192), 14);
}
END_TEST

START_TEST(op_age)
{
	uint64_t hva = map_rw(SV_BACKING_ANON, 4096);
	bool young;

	put8(hva, 1);
	T_OK(sv_host_age(&young, host, hva, 4096, SV_AGE_TEST_YOUNG));
	ck_assert(young && leaf(hva).young); /* test_young clears nothing */
	T_OK(sv_host_age(&young, host, hva, 4096, SV_AGE_CLEAR_YOUNG));
	ck_assert(young && !leaf(hva).young);
	T_OK(sv_host_age(&young, host, hva, 4096, SV_AGE_CLEAR_FLUSH_YOUNG));
	ck_assert(!young); /* nobody young: neither host nor notifier */
	events.young = true;
	T_OK(sv_host_age(&young, host, hva, 4096, SV_AGE_CLEAR_FLUSH_YOUNG));
	ck_assert(young);
	/* four sv_host_age calls, each asking the one subscriber once */
	ck_assert_uint_eq(events.ages, 4);
	ck_assert_uint_eq(HS(host, age_calls), 4);
	ck_assert_uint_eq(events.ev->len, 0); /* aging is not invalidation */
}
END_TEST

START_TEST(op_release_on_free)
{
	rec *saved = &events;

	sv_host_free(host);
	host = NULL;
	ck_assert_uint_eq(saved->releases, 1);
	g_array_free(events.ev, TRUE);
	events.ev = g_array_new(FALSE, FALSE, sizeof(sv_host_range));
}
END_TEST

START_TEST(five_level_host)
{
	sv_host_options o = SV_HOST_OPTIONS_INIT;
	sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 1ULL << 52, SZ_2M,
			       SV_PROT_READ | SV_PROT_WRITE, SV_MAP_FIXED,
			       SV_BACKING_ANON, 0};
	uint64_t hva;

	teardown();
	o.mem_size = SZ_1G;
	o.levels = 5;
	host = new_host(&o);
	/* above 2^47: only a 5-level host reaches it */
	T_OK(sv_host_mmap(&hva, host, &a));
	put8(hva + 4096, 3);
	ck_assert_uint_eq(leaf(hva + 4096).level, 1);
	ck_assert_uint_eq(get8(hva + 4096), 3);
}
END_TEST

/* ---- bad calls ----------------------------------------------------------- */

START_TEST(bad_calls_change_nothing)
{
	sv_host_options o = SV_HOST_OPTIONS_INIT;
	sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 0x12345000, 4096,
			       SV_PROT_READ, SV_MAP_FIXED, SV_BACKING_ANON, 0};
	uint64_t hva = map_rw(SV_BACKING_ANON, 8192), h2 = 0;
	sv_host *bad;

	put8(hva, 5);
	events_reset();
	ck_assert_int_eq(sv_host_madvise(host, hva + 1, 4096, SV_MADV_DONTNEED),
			 SV_EINVAL);
	ck_assert(strstr(sv_error_detail(), "page-aligned"));
	ck_assert_int_eq(sv_host_madvise(host, hva, 3 * 4096, SV_MADV_DONTNEED),
			 SV_ENOMEM);
	ck_assert(strstr(sv_error_detail(), "not entirely mapped"));
	ck_assert_int_eq(sv_host_mprotect(host, hva - 4096, 8192, SV_PROT_READ),
			 SV_ENOMEM);
	ck_assert_int_eq(sv_host_madvise(host, hva, 4096, SV_MADV_COLLAPSE + 9),
			 SV_EINVAL);
	ck_assert_uint_eq(events.ev->len, 0);
	ck_assert_uint_eq(get8(hva), 5);
	ck_assert(leaf(hva).writable);
	/* hugetlb ranges must be huge-page aligned */
	h2 = map_rw(SV_BACKING_HUGETLB_2M, SZ_2M);
	ck_assert_int_eq(sv_host_munmap(host, h2, 4096), SV_EINVAL);
	/* a fixed mapping over another is refused */
	a.hva = hva;
	ck_assert_int_eq(sv_host_mmap(&h2, host, &a), SV_EEXIST);
	a.size = 4097;
	ck_assert_int_eq(sv_host_mmap(&h2, host, &a), SV_EINVAL);
	/* options */
	o.levels = 3;
	ck_assert_int_eq(sv_host_new(&bad, &o), SV_EINVAL);
	ck_assert(strstr(sv_error_detail(), "levels"));
	o.levels = 4;
	o.mem_size = SZ_1G + 4096;
	ck_assert_int_eq(sv_host_new(&bad, &o), SV_EINVAL);
	o.mem_size = SZ_1G;
	o.hugetlb_1g_pages = 2;
	ck_assert_int_eq(sv_host_new(&bad, &o), SV_ENOMEM);
	ck_assert_ptr_null(bad);
	/* allocation is lowest-first, so the last page of the 4G of RAM
	 * is untouched and free; a pfn beyond RAM and devices is unknown */
	{
		sv_host_page pg;

		T_OK(sv_host_page_info(&pg, host, (4 * SZ_1G >> 12) - 1));
		ck_assert_int_eq(pg.kind, SV_PAGE_FREE);
		ck_assert_int_eq(sv_host_page_info(&pg, host, 1ULL << 40),
				 SV_ENOENT);
	}
	/* munmap of a range with nothing mapped succeeds and emits nothing */
	T_OK(sv_host_munmap(host, 1ULL << 44, 1ULL << 40));
	ck_assert_uint_eq(events.ev->len, 0);
	/* reads of unmapped memory and writes to read-only memory */
	ck_assert_int_eq(sv_host_read(host, 0x1000, &(uint8_t){0}, 1),
			 SV_EFAULT);
	h2 = map(SV_BACKING_ANON, 4096, SV_PROT_READ);
	ck_assert_int_eq(sv_host_write(host, h2, "x", 1), SV_EFAULT);
	ck_assert(strstr(sv_error_detail(), "SIGSEGV"));
}
END_TEST

START_TEST(metadata_is_small)
{
	sv_host_options o = SV_HOST_OPTIONS_INIT;
	uint64_t hva, i, pages = 64 * 512;

	teardown();
	o.mem_size = SZ_1G; /* no hugetlb pool: only what the pages need */
	host = new_host(&o);
	hva = map_rw(SV_BACKING_ANON, 64 * SZ_2M);

	for (i = 0; i < pages; i++)
		put8(hva + i * 4096, 1);
	/* 12 B of struct page + 8 B of PTE per 4K page, plus per-block
	 * allocator state: well under 64 B per mapped page */
	ck_assert_uint_lt(sv_host_metadata_bytes(host) / pages, 64);
}
END_TEST

static Suite *hostmm_suite(void)
{
	Suite *s = suite_create("hostmm");
	TCase *t;

	t = tcase_create("faults");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, fault_thp_write);
	tcase_add_test(t, fault_thp_read_zero_then_write);
	tcase_add_test(t, fault_anon_4k);
	tcase_add_test(t, fault_hugetlb_pool);
	tcase_add_test(t, fault_device_backings);
	tcase_add_test(t, fault_fragmented_falls_back);
	tcase_add_test(t, resident_limit_stops_faults);
	tcase_add_test(t, five_level_host);
	suite_add_tcase(s, t);

	t = tcase_create("operations");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, op_mprotect_splits_thp);
	tcase_add_test(t, op_mprotect_back_merges);
	tcase_add_test(t, op_collapse);
	tcase_add_test(t, op_khugepaged);
	tcase_add_test(t, op_khugepaged_max_ptes_none);
	tcase_add_test(t, op_dontneed_in_thp);
	tcase_add_test(t, op_munmap_and_remap);
	tcase_add_test(t, op_mremap_moves_pages);
	tcase_add_test(t, op_split_thp);
	tcase_add_test(t, op_migrate);
	tcase_add_test(t, op_ksm);
	tcase_add_test(t, op_fork_cow);
	tcase_add_test(t, op_clear_refs);
	tcase_add_test(t, op_reclaim_and_free);
	tcase_add_test(t, op_age);
	tcase_add_test(t, op_release_on_free);
	suite_add_tcase(s, t);

	t = tcase_create("bad_input");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, bad_calls_change_nothing);
	tcase_add_test(t, metadata_is_small);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return t_run(hostmm_suite());
}
