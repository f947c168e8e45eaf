/*
 * lib/guestmm/fork.c - the guest kernel's processes: fork (kernel/fork.c,
 * dup_mmap and copy_page_range: private pages shared copy-on-write), the
 * write fault on a page fork shared (mm/memory.c, do_wp_page; a THP is
 * split first, as do_huge_pmd_wp_page does), a process's exit, and the
 * switch between processes (switch_mm, with PCIDs if the kernel uses
 * them).
 *
 * Sharing is counted per 4K frame in the kernel's `shared` table: the
 * mappings a frame has beyond the first.  A frame's last mapping frees
 * it; a write to a shared frame copies it, a write to one no other
 * process maps any more makes it writable where it is.
 */
#include "guestmm/guestmm.h"
#include "ptbuild.h"
#include "simvirt/hostmm.h"

static gboolean hugetlb_step(gpointer k, gpointer v, gpointer data)
{
	SV_UNUSED(k);
	*(bool *)data |= ((const gvma *)v)->hpage != 0;
	return *(bool *)data;
}

static gboolean copy_vma(gpointer k, gpointer v, gpointer data)
{
	SV_UNUSED(k);
	sv_guestmm__vma_insert(data, v);
	return FALSE;
}

typedef struct fork_walk {
	sv_guestmm *c, *p;
	GArray *gvas;
	int rc;
} fork_walk;

/* copy_page_range, one leaf: in the child too, write-protected in both
 * and old in the child; the parent's leaves that lost their write right
 * go in payload (to flush). */
static int copy_leaf(sv_guestmm *p, uint64_t base, unsigned level, uint64_t e,
		     bool partial, void *payload)
{
	fork_walk *w = payload;
	uint64_t size = sv_guestmm__level_size(level), off;
	uint64_t gpa = e & SV_PTE_ADDR_MASK & ~(size - 1);
	int rc = SV_OK;

	SV_UNUSED(partial); /* VMAs hold whole leaves */
	if (!sv_guestmm__is_zero(p->k, gpa)) {
		if (e & SV_PTE_RW) {
			e &= ~SV_PTE_RW;
			rc = sv_pt_write(p->pt, base, level, e);
			g_array_append_val(w->gvas, base);
		}
		for (off = 0; off < size; off += SV_PAGE_4K)
			sv_guestmm__set_shares(p, gpa + off,
					       sv_guestmm__shares(p, gpa + off) + 1);
	}
	return rc ? rc : sv_guestmm__put_leaf(w->c, base, level, e & ~SV_PTE_A);
}

static gboolean copy_step(gpointer k, gpointer v, gpointer data)
{
	fork_walk *w = data;
	const gvma *m = v;

	SV_UNUSED(k);
	w->rc = sv_guestmm__for_each_leaf(w->p, m->start, m->end, copy_leaf, w);
	return w->rc != SV_OK;
}

int sv_guestmm_fork(sv_guestmm **child, sv_guestmm *parent)
{
	fork_walk w = {0};
	bool hugetlb = false;
	sv_guestmm *c;
	int rc;

	sv_err__clear();
	if (!child || !parent)
		return sv_err__set(NULL, SV_EINVAL, "sv_guestmm_fork: NULL argument");
	*child = NULL;
	g_tree_foreach(parent->vmas, hugetlb_step, &hugetlb);
	if (hugetlb)
		return sv_err__set(parent->vm, SV_ENOTSUP, "sv_guestmm_fork: a "
							   "hugetlbfs mapping (not "
							   "modelled)");
	if (parent->o.pcid && parent->k->next_pcid >= SV_CR3_PCID_MASK)
		return sv_err__set(parent->vm, SV_EFULL, "sv_guestmm_fork: every "
							  "PCID (1 to 4095) is taken");
	c = g_new0(sv_guestmm, 1);
	c->k = parent->k;
	c->vm = parent->vm;
	c->o = parent->o;
	c->k->procs++;
	c->pcid = c->o.pcid ? ++c->k->next_pcid : 0;
	c->start_brk = parent->start_brk;
	c->brk = parent->brk;
	c->vmas = sv_guestmm__vma_tree();
	g_tree_foreach(parent->vmas, copy_vma, c);
	rc = sv_pt__new_sharing(&c->pt, parent->pt);
	if (rc == SV_OK) /* the kernel half: the direct map */
		rc = sv_pt_map(c->pt, PHYSMAP + c->o.mem_gpa, c->o.mem_gpa,
			       c->o.mem_size, SZ_2M, SV_PTE_RW | SV_PTE_G);
	if (rc == SV_OK) {
		w = (fork_walk){c, parent, g_array_new(FALSE, FALSE, sizeof(uint64_t)),
				SV_OK};
		g_tree_foreach(parent->vmas, copy_step, &w);
		rc = w.rc;
		/* dup_mmap ends with flush_tlb_mm(oldmm) */
		sv_guestmm__flush_mm(parent);
		g_array_free(w.gvas, TRUE);
	}
	if (rc != SV_OK) {
		g_autofree char *d = g_strdup(sv_error_detail());

		sv_guestmm_free(c);
		return sv_err__set(parent->vm, rc, "sv_guestmm_fork: %s", d);
	}
	*child = c;
	return SV_OK;
}

/* do_wp_page for the leaf e over gva (a write to a present read-only page
 * of a writable VMA, not the zero page): true when handled. */
bool sv_guestmm__wp_fault(sv_guestmm *gm, sv_vcpu *v, uint64_t gva,
			  unsigned level, uint64_t e)
{
	gkernel *k = gm->k;
	uint64_t base = gva & ~(SZ_2M - 1), gpa, copy;
	const uint8_t *from;
	uint8_t *to;
	GArray *one;

	if (level == 2) {
		gpa = e & SV_PTE_ADDR_MASK & ~(SZ_2M - 1);
		if (!sv_guestmm__shared_in(gm, gpa, SZ_2M)) { /* ours alone: reuse it */
			k->stat[SV_GUESTMM_STAT_cow_reuse]++;
			k->stat[SV_GUESTMM_STAT_pgfault]++;
			return sv_pt_write(gm->pt, base, 2, e | SV_PTE_RW | SV_PTE_D) ==
			       SV_OK;
		}
		if (sv_guestmm__split_thp(gm, base, e))
			return false;
		e = sv_guestmm__leaf(gm, gva, &level);
	}
	gpa = e & SV_PTE_ADDR_MASK;
	k->stat[SV_GUESTMM_STAT_pgfault]++;
	if (!sv_guestmm__shares(gm, gpa)) {
		k->stat[SV_GUESTMM_STAT_cow_reuse]++;
		return sv_pt_write(gm->pt, gva, 1, e | SV_PTE_RW | SV_PTE_D) == SV_OK;
	}
	copy = sv_buddy__alloc(&k->buddy, 0);
	if (!copy || !sv_guestmm__zero_frames(gm, v, copy, SV_PAGE_4K))
		return false; /* out of memory: the fault stays */
	from = sv_memslots__ptr(&gm->vm->memslots, gpa);
	to = sv_memslots__ptr(&gm->vm->memslots, copy);
	memcpy(to, from, SV_PAGE_4K);
	sv_guestmm__set_shares(gm, gpa, sv_guestmm__shares(gm, gpa) - 1);
	k->stat[SV_GUESTMM_STAT_cow_copy]++;
	k->stat[SV_GUESTMM_STAT_pgalloc]++;
	/* ptep_clear_flush, then the new PTE */
	if (sv_pt_unmap(gm->pt, gva, SV_PAGE_4K))
		return false;
	one = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	g_array_append_val(one, gva);
	sv_guestmm__flush(gm, one);
	g_array_free(one, TRUE);
	return sv_guestmm__map(gm, gva, copy, SV_PAGE_4K, true) == SV_OK;
}

typedef struct vma_list {
	GArray *ranges; /* uint64_t pairs */
} vma_list;

static gboolean list_step(gpointer k, gpointer v, gpointer data)
{
	const gvma *m = v;

	SV_UNUSED(k);
	g_array_append_val(((vma_list *)data)->ranges, m->start);
	g_array_append_val(((vma_list *)data)->ranges, m->end);
	return FALSE;
}

void sv_guestmm__exit_mm(sv_guestmm *gm)
{
	vma_list l = {g_array_new(FALSE, FALSE, sizeof(uint64_t))};
	guint i;

	g_tree_foreach(gm->vmas, list_step, &l);
	for (i = 0; i + 1 < l.ranges->len; i += 2)
		sv_guestmm__zap(gm, g_array_index(l.ranges, uint64_t, i),
				g_array_index(l.ranges, uint64_t, i + 1));
	g_array_free(l.ranges, TRUE);
}

int sv_guestmm_switch(sv_guestmm *gm, sv_vcpu *v)
{
	sv_vcpu_regs r;
	uint64_t cr3;
	int rc;

	sv_err__clear();
	if (!gm || !v)
		return sv_err__set(NULL, SV_EINVAL, "sv_guestmm_switch: NULL argument");
	cr3 = sv_guestmm_cr3(gm);
	sv_vcpu_get_regs(v, &r);
	if (gm->o.pcid && !(r.cr4 & SV_CR4_PCIDE)) {
		/* the kernel turns PCIDs on at boot, from PCID 0 */
		r.cr3 &= ~SV_CR3_PCID_MASK;
		r.cr4 |= SV_CR4_PCIDE;
		rc = sv_vcpu_set_regs(v, &r);
		if (rc)
			return rc;
	}
	/* with PCIDs the process's entries stay unless a flush missed it */
	if (gm->o.pcid && !gm->stale)
		cr3 |= SV_CR3_NOFLUSH;
	gm->stale = false;
	return sv_vcpu_mov_cr3(v, cr3);
}
