/*
 * lib/ept/mmu.c - the hypervisor MMU's core: attaching it to a VM, the one
 * function through which every SPTE changes, table pages, remote flushes,
 * memslot changes and the queries.
 *
 * How an SPTE change is accounted (sv_mmu__spte_set, KVM's
 * handle_changed_spte):
 *  1. The new value is stored; storing the old one again is nothing.
 *  2. A leaf that appears counts +1 in pages_4k/2m/1g at its level, one
 *     that goes -1 (a split's children +512 at the level below, one by
 *     one; a huge leaf that becomes a table -1).
 *  3. The reason's counter moves (zap_leaf_* or zap_table, split_*,
 *     recover_*, spte_prefetch, wrprot).  Steps 1-3 are inline (mmu.h).
 *  4. A table entry replaced by anything but itself unlinks its table:
 *     each of its entries becomes not-present through step 1-5 (their
 *     leaves leave the counts, their tables are freed the same way), then
 *     the page is freed.  A huge leaf split into a new table fills that
 *     table with its 512 children first (make_huge_page_split_spte), as
 *     KVM fills a new shadow page before linking it; they count at once,
 *     and inherit what the huge leaf had (no dirty mark).
 *  5. A 4K leaf that becomes writable (it was absent, read-only, or
 *     another frame) marks its gfn in the slot's dirty bitmap while the
 *     slot logs, as the TDP MMU's handle_changed_spte_dirty_log did.
 *  6. With the auditor on, a leaf from the fault path or prefetch is
 *     checked against the host.
 */
#include "ept/fault.h"
#include "ept/nested.h"
#include "hostmm/host.h"
#include "ptbuild.h"

/* ---- table pages --------------------------------------------------------------- */

uint64_t sv_mmu__sp_alloc(sv_mmu *m, uint64_t gfn, unsigned level)
{
	uint64_t hpa = sv_frames__alloc(&m->vm->tdp_frames);
	sv_sp *sp;

	if (!hpa)
		return 0;
	if (m->sp->len < m->vm->tdp_frames.used)
		g_array_set_size(m->sp, (guint)m->vm->tdp_frames.used);
	sp = sv_mmu__sp(m, hpa);
	*sp = (sv_sp){.gfn = gfn, .level = (uint8_t)level};
	sv_pt__count_pages(m->vm->tdp, 1);
	return hpa;
}

void sv_mmu__sp_free(sv_mmu *m, uint64_t hpa)
{
	sv_frames__free(&m->vm->tdp_frames, hpa);
	sv_pt__count_pages(m->vm->tdp, -1);
}

/* ---- the SPTE-change function ------------------------------------------------------ */

/* Step 4 (handle_removed_pt): the table at hpa, of `level`, mapping from
 * gfn, is gone from the tree. */
static void removed_table(sv_mmu *m, unsigned as, uint64_t hpa, unsigned level,
			  uint64_t gfn)
{
	uint64_t *t = sv_mmu__table(m, hpa);
	unsigned i;

	for (i = 0; i < SV_PT_ENTRIES; i++)
		if (sv_spte__present(t[i]))
			sv_mmu__spte_set(m, as, &t[i],
					 gfn + i * sv_spte__level_pages(level),
					 level, 0, SV_SPTE_free);
	sv_mmu__sp_free(m, hpa);
}

/* Step 5: does the change make a 4K leaf newly writable? */
static bool becomes_writable(const sv_spte_bits *b, uint64_t old, uint64_t n,
			     bool was_leaf)
{
	return sv_spte__writable(b, n) &&
	       (!was_leaf || !sv_spte__writable(b, old) ||
		sv_spte__pfn(old, 1) != sv_spte__pfn(n, 1));
}

void sv_mmu__spte_changed(sv_mmu *m, unsigned as, uint64_t *ptr,
			  uint64_t gfn, unsigned level, uint64_t old,
			  uint64_t n, sv_spte_change why)
{
	const sv_spte_bits *b = &m->b;
	bool was_leaf = sv_spte__present(old) && sv_spte__leaf(b, old, level);
	bool is_leaf = sv_spte__present(n) && sv_spte__leaf(b, n, level);

	/* A shadow page outlives its links (it stays cached); the rmap
	 * follows the leaves. */
	if (m->shadow)
		sv_shadow__spte_changed(m, ptr, gfn, level, old, n, why);
	else if (sv_spte__present(old) && !was_leaf &&
	    (!sv_spte__present(n) || is_leaf ||
	     (old & SPTE_ADDR) != (n & SPTE_ADDR)))
		removed_table(m, as, old & SPTE_ADDR, level - 1, gfn);
	if (!is_leaf)
		return;
	/* only the fault path and the fast path make a 4K leaf writable:
	 * prefetch is off in a logged slot, split children only inherit, the
	 * rest never add W */
	if (m->logging && level == 1 &&
	    (why == SV_SPTE_install || why == SV_SPTE_fix) &&
	    becomes_writable(b, old, n, was_leaf)) {
		sv_memslot *s = sv_memslots__find(sv_vm__memslots(m->vm, as),
						  gfn << 12);

		if (s && s->dirty)
			sv_mmu__mark_dirty(m, s, gfn);
	}
	if (SV_UNLIKELY(m->opts.audit) &&
	    (why == SV_SPTE_install || why == SV_SPTE_prefetch)) {
		const sv_memslot *s = sv_memslots__find(sv_vm__memslots(m->vm, as),
							gfn << 12);

		if (s)
			sv_audit__spte(m, s, gfn, level, n);
	}
}

/* ---- walks ------------------------------------------------------------------------- */

void sv_mmu__iter_start(sv_pt_iter *it, sv_mmu *m, unsigned as,
			uint64_t start, uint64_t end, unsigned min_level)
{
	if (!m->root[as]) {
		it->valid = false;
		return;
	}
	sv_pt__iter_start(it, &m->walker, m->root[as], start << 12, end << 12,
			  min_level);
}

/* The TDP MMU's leaves: the range iterator's leaf entries. */
static void tdp_leaf_find(sv_leaf_iter *it)
{
	for (; it->pt.valid; sv_pt__iter_next(&it->pt)) {
		uint64_t e = *it->pt.ptr;

		if (sv_spte__present(e) && sv_spte__leaf(&it->m->b, e, it->pt.level)) {
			it->valid = true;
			it->ptr = it->pt.ptr;
			it->level = it->pt.level;
			it->gfn = it->pt.addr >> 12;
			return;
		}
	}
	it->valid = false;
}

void sv_mmu__leaf_start(sv_leaf_iter *it, sv_mmu *m, unsigned as,
			uint64_t start, uint64_t end, unsigned min_level)
{
	it->m = m;
	it->start = start;
	it->end = end;
	it->min_level = min_level;
	if (m->shadow) {
		sv_shadow__leaf_first(it, as);
		return;
	}
	sv_mmu__iter_start(&it->pt, m, as, start, end, min_level);
	tdp_leaf_find(it);
}

void sv_mmu__leaf_next(sv_leaf_iter *it)
{
	if (it->m->shadow) {
		sv_shadow__leaf_next(it);
		return;
	}
	sv_pt__iter_next(&it->pt);
	tdp_leaf_find(it);
}

bool sv_mmu__zap_leafs(sv_mmu *m, unsigned as, uint64_t start, uint64_t end)
{
	bool any = false;
	sv_leaf_iter it;

	sv_mmu__for_each_leaf(&it, m, as, start, end, 1) {
		sv_mmu__spte_set(m, as, it.ptr, it.gfn, it.level, 0, SV_SPTE_zap);
		any = true;
	}
	return any;
}

bool sv_mmu__zap_all(sv_mmu *m, unsigned as)
{
	if (m->shadow)
		return as == 0 && sv_shadow__zap_all(m);
	return sv_tdp__zap_all(m, as);
}

/* The MMU's tables are always in the VM's frames. */
static inline uint64_t *frame_fetch(void *ctx, unsigned level, uint64_t hpa)
{
	uint64_t *p = sv_frames__ptr(ctx, hpa);

	SV_UNUSED(level);
	SV_ASSUME(p != NULL);
	return p;
}

uint64_t *sv_mmu__leaf_ptr(sv_mmu *m, uint64_t root, uint64_t gfn,
			   unsigned *level)
{
	sv_walk w;

	sv_pt__walk_fetch(&m->walker, &w, root, m->top, gfn << 12, frame_fetch,
			  &m->vm->tdp_frames);
	*level = w.level;
	return w.ptr[w.level];
}

/* ---- flushes ------------------------------------------------------------------------- */

void sv_mmu__flush_remote(sv_mmu *m)
{
	sv_vm *vm = m->vm;
	bool kicked = false;
	unsigned i;

	vm->stat[SV_VM_STAT_remote_tlb_flush_requests]++;
	for (i = 0; i < vm->opts.vcpus; i++)
		kicked |= sv_vcpu__request_flush(sv_vm_vcpu(vm, i));
	if (kicked)
		vm->stat[SV_VM_STAT_remote_tlb_flush]++;
}

void sv_mmu__flush_base(sv_mmu *m, uint64_t gfn)
{
	sv_vm *vm = m->vm;
	unsigned i;

	vm->stat[SV_VM_STAT_remote_tlb_flush_requests]++;
	vm->stat[SV_VM_STAT_base_only_flushes]++;
	for (i = 0; i < vm->opts.vcpus; i++)
		sv_vcpu__flush_gpa(sv_vm_vcpu(vm, i), gfn << 12);
}

/* ---- roots and memslots -------------------------------------------------------------- */

uint64_t sv_mmu__root(sv_mmu *m, unsigned as)
{
	/* kvm_mmu_load for the first vCPU with that role */
	if (!m->root[as])
		m->root[as] = sv_mmu__sp_alloc(m, 0, m->top);
	return m->root[as];
}

void sv_mmu__gen_bump(sv_mmu *m)
{
	/* Two address spaces on x86: the generation moves by 2 per update;
	 * MMIO SPTEs keep 19 bits of it, so it wraps to 0 every 2^18
	 * updates and every MMIO SPTE must go (kvm_mmu_zap_all_fast). */
	m->gen += 2;
	m->vm->stat[SV_VM_STAT_memslot_updates]++;
	if (m->shadow)
		sv_shadow__limit_update(m);
	if (sv_spte__gen_of(m->gen) == 0) {
		m->vm->stat[SV_VM_STAT_mmio_gen_wraps]++;
		sv_mmu__zap_all(m, 0);
		sv_mmu__zap_all(m, 1);
		sv_mmu__flush_remote(m);
	}
}

static uint8_t *slot_bytes(void *mmu, uint64_t hva, uint64_t len,
			   uint64_t *run)
{
	sv_mmu *m = mmu;

	return sv_host__bytes(m->host, hva, len, run);
}

static int slot_created(void *mmu, sv_memslot *s)
{
	sv_mmu *m = mmu;
	bool logging = s->flags & SV_MEMSLOT_LOG_DIRTY;

	sv_mmu__gen_bump(m);
	if (s->dirty && logging) {
		m->logging++; /* moved, still logging */
	} else if (s->dirty) {
		/* moved with logging turned off: the bitmap goes */
		g_free(s->dirty);
		g_free(s->written);
		s->dirty = NULL;
		s->written = NULL;
	} else if (logging) {
		sv_mmu__log_start(m, s);
		if (!s->dirty)
			return sv_err__set(m->vm, SV_ENOMEM,
					   "memslot %u: no memory for the dirty "
					   "bitmap", s->id);
	}
	return SV_OK;
}

static void slot_removed(void *mmu, const sv_memslot *s)
{
	sv_mmu *m = mmu;

	if (s->dirty)
		m->logging--;
	/* kvm_arch_flush_shadow_memslot: every SPTE of the slot, one flush */
	if (sv_mmu__zap_leafs(m, s->as, s->gpa >> 12, (s->gpa + s->size) >> 12))
		sv_mmu__flush_remote(m);
	sv_mmu__gen_bump(m);
}

static int slot_flags_changed(void *mmu, sv_memslot *s)
{
	sv_mmu *m = mmu;
	bool logging = s->flags & SV_MEMSLOT_LOG_DIRTY;

	if (logging)
		sv_mmu__log_start(m, s);
	else
		sv_mmu__log_stop(m, s);
	sv_mmu__gen_bump(m);
	return s->dirty || !logging
		       ? SV_OK
		       : sv_err__set(m->vm, SV_ENOMEM, "memslot %u: no memory for "
						       "the dirty bitmap", s->id);
}

static void slot_written(void *mmu, sv_memslot *s, uint64_t gpa, uint64_t len)
{
	uint64_t gfn;

	for (gfn = gpa >> 12; gfn < (gpa + len + 0xfff) >> 12; gfn++)
		sv_mmu__mark_dirty(mmu, s, gfn);
}

static const sv_memslot_ops slot_ops = {
	.bytes = slot_bytes,
	.created = slot_created,
	.removed = slot_removed,
	.flags_changed = slot_flags_changed,
	.written = slot_written,
};

/* ---- attach, free, queries --------------------------------------------------------------- */

/* "auto" (or NULL): the policy of the kernel the options name.  The
 * sizing series ("Huge page fixes, cleanup, and DAX") came with 5.6. */
static const char *policy_name(const sv_mmu_options *o)
{
	if (!o->policy || !strcmp(o->policy, "auto"))
		return SV_GATE(LEGACY_SIZING, o->kernel_version) ? "kvm-legacy"
								 : "kvm";
	return o->policy;
}

static int check_mmu_options(sv_vm *vm, const sv_mmu_options *o)
{
	if (o->version < 1 || o->version > SV_MMU_OPTIONS_VERSION)
		return sv_err__set(vm, SV_EINVAL,
				   "mmu options: version %u, expected %u "
				   "(initialise with SV_MMU_OPTIONS_INIT)",
				   o->version, SV_MMU_OPTIONS_VERSION);
	if (o->kernel_version < SV_KERNEL(5, 0) ||
	    o->kernel_version > SV_KERNEL(7, 99) || o->kernel_version % 100 > 99)
		return sv_err__set(vm, SV_EINVAL,
				   "mmu options: kernel_version %u (expected "
				   "SV_KERNEL(5, 0) to SV_KERNEL(7, 99))",
				   o->kernel_version);
	if (o->split_on_fault < -1 || o->split_on_fault > 1 ||
	    o->recover_in_place < -1 || o->recover_in_place > 1)
		return sv_err__set(vm, SV_EINVAL,
				   "mmu options: split_on_fault and recover_in_place "
				   "are SV_BY_VERSION, 0 or 1");
	if (o->version == SV_MMU_OPTIONS_VERSION && o->mmu != SV_MMU_TDP &&
	    o->mmu != SV_MMU_SHADOW)
		return sv_err__set(vm, SV_EINVAL,
				   "mmu options: mmu %d (expected SV_MMU_TDP or "
				   "SV_MMU_SHADOW)", (int)o->mmu);
	if (o->version == SV_MMU_OPTIONS_VERSION && o->shadow_pages &&
	    o->shadow_pages < 64)
		return sv_err__set(vm, SV_EINVAL,
				   "mmu options: shadow_pages %u (expected 0 for "
				   "KVM's default, or at least 64: "
				   "KVM_MIN_ALLOC_MMU_PAGES)", o->shadow_pages);
	if (o->version == SV_MMU_OPTIONS_VERSION && o->mmu == SV_MMU_SHADOW &&
	    o->pml)
		return sv_err__set(vm, SV_EINVAL,
				   "mmu options: pml needs EPT, not shadow paging");
	if (o->bugs & ~SV_BUG_ALL)
		return sv_err__set(vm, SV_EINVAL, "mmu options: unknown bugs 0x%x",
				   o->bugs & ~SV_BUG_ALL);
	if (o->pml && (vm->opts.tdp != SV_TDP_EPT || !vm->opts.tdp_ad))
		return sv_err__set(vm, SV_EINVAL,
				   "mmu options: pml needs EPT with A/D flags");
	if ((vm->opts.tdp == SV_TDP_NPT ||
	     (o->version == SV_MMU_OPTIONS_VERSION && o->mmu == SV_MMU_SHADOW)) &&
	    vm->opts.maxphyaddr > 51)
		return sv_err__set(vm, SV_EINVAL,
				   "mmu options: NPT and shadow MMIO SPTEs need a "
				   "reserved physical-address bit (maxphyaddr <= "
				   "51)");
	if (!sv_mmu_policy_find(policy_name(o)))
		return sv_err__set(vm, SV_ENOENT,
				   "mmu options: no sizing policy named \"%s\" "
				   "(auto, kvm, kvm-legacy or a registered one)",
				   o->policy);
	return SV_OK;
}

static void mmu_free(sv_mmu *m)
{
	unsigned i;

	for (i = 0; i < m->vm->opts.vcpus; i++)
		sv_vcpu__mmu_detached(sv_vm_vcpu(m->vm, i));
	for (i = 0; i < SV_AUDIT__COUNT; i++)
		g_free(m->audit_first[i]);
	sv_pfncache__orphan_all(m);
	g_ptr_array_free(m->pfncaches, TRUE);
	sv_shadow__fini(m);
	g_array_free(m->sp, TRUE);
	g_free(m);
}

void sv_mmu_options_init(sv_mmu_options *opts)
{
	static const sv_mmu_options d = SV_MMU_OPTIONS_INIT;

	if (opts)
		memcpy(opts, &d, sizeof(d)); /* the padding too */
}

int sv_mmu_attach(sv_vm *vm, sv_host *host, const sv_mmu_options *opts)
{
	sv_mmu_options defaults = SV_MMU_OPTIONS_INIT;
	sv_mmu *m;
	unsigned i;
	int rc;

	sv_err__clear();
	if (!vm || !host)
		return sv_err__set(vm, SV_EINVAL, "sv_mmu_attach: NULL argument");
	if (!opts)
		opts = &defaults;
	if (vm->mmu)
		return sv_err__set(vm, SV_EEXIST, "sv_mmu_attach: already attached");
	if (!sv_memslots__empty(&vm->memslots))
		return sv_err__set(vm, SV_EBUSY,
				   "sv_mmu_attach: the VM has memslots already; "
				   "attach the host first");
	if (sv_pt_table_pages(vm->tdp) != 1)
		return sv_err__set(vm, SV_EBUSY,
				   "sv_mmu_attach: the VM's nested tree has entries");
	rc = check_mmu_options(vm, opts);
	if (rc)
		return rc;
	m = g_new0(sv_mmu, 1);
	m->vm = vm;
	m->host = host;
	if (opts->version == 1) {
		/* a version-1 caller's struct ends before tdp_mmu */
		memcpy(&m->opts, opts, offsetof(sv_mmu_options, tdp_mmu));
		m->opts.tdp_mmu = true;
		m->opts.mmu = SV_MMU_TDP;
		m->opts.mmio_caching = true;
	} else if (opts->version == 2) {
		/* a version-2 caller's struct ends before mmu */
		memcpy(&m->opts, opts, offsetof(sv_mmu_options, mmu));
		m->opts.mmu = SV_MMU_TDP;
		m->opts.shadow_pages = 0;
		m->opts.mmio_caching = true;
	} else {
		m->opts = *opts;
	}
	m->opts.version = SV_MMU_OPTIONS_VERSION;
	m->policy = sv_mmu_policy_find(policy_name(opts));
	m->opts.policy = m->policy->name;
	if (m->opts.split_on_fault == SV_BY_VERSION)
		m->opts.split_on_fault =
			SV_GATE(SPLIT_ON_FAULT, opts->kernel_version);
	if (m->opts.recover_in_place == SV_BY_VERSION)
		m->opts.recover_in_place =
			SV_GATE(RECOVER_IN_PLACE, opts->kernel_version);
	m->shadow = m->opts.mmu == SV_MMU_SHADOW;
	if (m->shadow) {
		/* Shadow tables are x86 tables of the guest's depth; their
		 * leaves are at most as large as the guest's (a 1G one only
		 * with guest 1G pages). */
		m->top = vm->opts.guest_levels;
		m->max_level = vm->opts.guest_1g ? 3 : 2;
		m->ad = true;
		sv_spte__bits_init(&m->b, false, false, m->opts.nx_huge_pages);
		sv_pt__walker_init_soft(&m->walker,
					m->top == 5 ? &sv_pt__fmt_x86_5
						    : &sv_pt__fmt_x86_4,
					SPTE_MMU_PRESENT);
		sv_shadow__init(m);
	} else {
		m->top = vm->tdp_fmt->levels;
		m->max_level = vm->opts.tdp_1g ? 3 : 2;
		/* NPT entries always have A/D flags; EPT ones with EPTP bit
		 * 6. */
		m->ad = vm->opts.tdp == SV_TDP_NPT || vm->opts.tdp_ad;
		sv_spte__bits_init(&m->b, vm->opts.tdp == SV_TDP_EPT,
				   vm->opts.tdp_ad, m->opts.nx_huge_pages);
		sv_pt__walker_init_soft(&m->walker, vm->tdp_fmt,
					SPTE_MMU_PRESENT);
	}
	m->walker.fetch = frame_fetch;
	m->walker.ctx = &vm->tdp_frames;
	m->sp = g_array_new(FALSE, TRUE, sizeof(sv_sp));
	m->pfncaches = g_ptr_array_new();
	g_array_set_size(m->sp, (guint)vm->tdp_frames.used);
	m->root[0] = sv_pt_root(vm->tdp);
	sv_mmu__sp(m, m->root[0])->level = (uint8_t)m->top;
	m->nops = sv_mmu__notifier_ops;
	for (i = 0; i < vm->opts.vcpus; i++) {
		rc = sv_vcpu__mmu_attached(sv_vm_vcpu(vm, i), m->opts.pml,
					   m->opts.audit, m->shadow);
		if (rc)
			goto fail;
	}
	rc = sv_host_notifier_register(host, &m->nops, vm);
	if (rc)
		goto fail;
	sv_memslots__set_ops(vm, &slot_ops, m);
	vm->mmu = m;
	return SV_OK;
fail:
	mmu_free(m);
	return rc;
}

int sv_mmu_flush_remote_tlbs(sv_vm *vm)
{
	sv_err__clear();
	if (!vm)
		return sv_err__set(NULL, SV_EINVAL, "sv_mmu_flush_remote_tlbs: NULL vm");
	if (!vm->mmu)
		return sv_err__set(vm, SV_ENOTSUP,
				   "sv_mmu_flush_remote_tlbs: no MMU attached");
	sv_mmu__flush_remote(vm->mmu);
	return SV_OK;
}

const char *sv_mmu_bug(size_t i, unsigned *bit, bool *in_scenarios,
		       const char **desc)
{
	static const struct {
		const char *name, *desc;
		bool scenario;
	} bugs[SV_BUG__COUNT] = {
#define SV__BUG_ROW(id, name, scenario, what) {name, what, scenario},
		SV_BUG_LIST(SV__BUG_ROW)
#undef SV__BUG_ROW
	};

	if (i >= SV_BUG__COUNT)
		return NULL;
	if (bit)
		*bit = 1u << i;
	if (in_scenarios)
		*in_scenarios = bugs[i].scenario;
	if (desc)
		*desc = bugs[i].desc;
	return bugs[i].name;
}

sv_host *sv_mmu__host_of(const sv_vm *vm)
{
	return vm->mmu ? vm->mmu->host : NULL;
}

void sv_mmu__free(sv_mmu *m)
{
	if (!m)
		return;
	sv_host__notifier_remove(m->host, &m->nops, m->vm);
	mmu_free(m);
}

const sv_mmu_options *sv_mmu_options_get(const sv_vm *vm)
{
	return vm && vm->mmu ? &vm->mmu->opts : NULL;
}

int sv_mmu_spte_get(sv_spte_info *out, sv_vm *vm, uint64_t gpa)
{
	const sv_spte_bits *b;
	sv_mmu *m;
	uint64_t e;
	unsigned level;

	sv_err__clear();
	if (!vm || !out)
		return sv_err__set(vm, SV_EINVAL, "sv_mmu_spte_get: NULL argument");
	m = vm->mmu;
	if (!m)
		return sv_err__set(vm, SV_ENOTSUP, "sv_mmu_spte_get: no MMU attached");
	b = &m->b;
	memset(out, 0, sizeof(*out));
	if (m->shadow) {
		/* the first leaf the rmap has over the gfn, if any */
		const uint64_t *p = sv_shadow__first_leaf(m, gpa >> 12, &level);

		e = p ? *p : 0;
		if (!p)
			level = 1;
	} else {
		e = *sv_mmu__leaf_ptr(m, m->root[0], gpa >> 12, &level);
	}
	out->raw = e;
	out->level = level;
	out->mmio = sv_spte__is_mmio(b, e);
	out->present = sv_spte__present(e);
	if (!out->present)
		return SV_OK;
	out->hpa = sv_spte__pfn(e, level) << 12;
	out->access_tracked = sv_spte__access_tracked(b, e);
	out->readable = sv_spte__allows(b, e, SV_ACCESS_READ);
	out->writable = sv_spte__allows(b, e, SV_ACCESS_WRITE);
	out->executable = sv_spte__allows(b, e, SV_ACCESS_FETCH);
	out->host_writable = e & b->host_w;
	out->mmu_writable = e & b->mmu_w;
	out->accessed = b->a ? (e & b->a) != 0 : !out->access_tracked;
	out->dirty = b->d ? (e & b->d) != 0 : out->writable;
	return SV_OK;
}

/* The name before 0.2, its result last. */
int sv_mmu_spte(sv_vm *vm, uint64_t gpa, sv_spte_info *out)
{
	return sv_mmu_spte_get(out, vm, gpa);
}
