/*
 * lib/guestmm/frames.c - the guest kernel's page frames: clearing one as
 * the kernel does (stores through its direct map), and how many processes
 * map one (fork shares them), down to the last mapping, which frees it.
 */
#include "guestmm/guestmm.h"

/*
 * clear_page for each 4K page of [gpa, gpa + len): the kernel's stores
 * through its direct map, as vCPU v's accesses (at CPL 0), so that the
 * host sees them written and the TLBs and cycles see the kernel's work.
 * v NULL (the zero page, at set-up): the bytes only.  False when a store
 * faulted (the host could not give the page).
 */
bool sv_guestmm__zero_frames(sv_guestmm *gm, sv_vcpu *v, uint64_t gpa,
			     uint64_t len)
{
	sv_vcpu_regs regs, kernel;
	bool ok = true;
	uint64_t off;

	if (v) {
		sv_vcpu_get_regs(v, &regs);
		kernel = regs;
		kernel.cpl = 0;
		if (regs.cpl && sv_vcpu_set_regs(v, &kernel))
			return false;
	}
	for (off = 0; off < len && ok; off += SV_PAGE_4K) {
		uint64_t f = (gpa + off - gm->o.mem_gpa) >> 12;
		uint64_t bit = 1ULL << (f & 63);
		sv_xlate x;

		if (v)
			ok = sv_vcpu_translate(&x, v, PHYSMAP + gpa + off, 8,
					       SV_ACCESS_WRITE) == SV_OK &&
			     x.fault.kind == SV_FAULT_NONE;
		if (!ok)
			break;
		/* the memory under a frame never handed out is still zero */
		if (gm->k->used[f >> 6] & bit)
			memset(sv_memslots__ptr(&gm->vm->memslots, gpa + off), 0,
			       SV_PAGE_4K);
		gm->k->used[f >> 6] |= bit;
	}
	if (v && regs.cpl)
		sv_vcpu_set_regs(v, &regs);
	return ok;
}

unsigned sv_guestmm__shares(const sv_guestmm *gm, uint64_t gpa)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(gm->k->shared, &gpa));
}

bool sv_guestmm__shared_in(const sv_guestmm *gm, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	for (off = 0; off < len && g_hash_table_size(gm->k->shared); off += SV_PAGE_4K)
		if (sv_guestmm__shares(gm, gpa + off))
			return true;
	return false;
}

void sv_guestmm__set_shares(sv_guestmm *gm, uint64_t gpa, unsigned n)
{
	if (!n)
		g_hash_table_remove(gm->k->shared, &gpa);
	else /* an existing key stays; this copy is freed */
		g_hash_table_insert(gm->k->shared, g_memdup2(&gpa, sizeof(gpa)),
				    GUINT_TO_POINTER(n));
}

void sv_guestmm__put_frames(sv_guestmm *gm, uint64_t gpa, uint64_t len)
{
	gkernel *k = gm->k;
	bool last[512];
	unsigned i, n = (unsigned)(len >> 12), nlast = 0;

	for (i = 0; i < n; i++) {
		unsigned sh = sv_guestmm__shares(gm, gpa + i * SV_PAGE_4K);

		last[i] = !sh;
		nlast += last[i];
		if (sh)
			sv_guestmm__set_shares(gm, gpa + i * SV_PAGE_4K, sh - 1);
	}
	k->stat[SV_GUESTMM_STAT_pgfree] += nlast;
	if (n == 512 && nlast == 512) { /* an unshared THP: one block */
		sv_buddy__free(&k->buddy, gpa, SV_BUDDY_MAX_ORDER);
		return;
	}
	for (i = 0; i < n; i++)
		if (last[i])
			sv_buddy__free(&k->buddy, gpa + i * SV_PAGE_4K, 0);
}
