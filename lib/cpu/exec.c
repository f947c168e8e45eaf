/*
 * lib/cpu/exec.c - execution-driven guests: the engines, the library's
 * memslot, and the callbacks a caller sets.  The loader is loader.c, the
 * run loop run.c, exceptions and their delivery event.c, recording and replay
 * record.c.
 *
 * How set-up works (sv_exec_new):
 *  1. One memslot is added above the user's (image, boot page with the
 *     GDT and the parameter block, stacks, guest page-table pool), with
 *     the guest page tables for it built with 4K pages.
 *  2. One Unicorn engine per vCPU is opened in 64-bit mode with Unicorn's
 *     paging off, and the model's registers are set for long mode with
 *     paging.
 */
#include "cpu/exec.h"
#include "ept/mmu.h"
#include "ptbuild.h"

#define EX_SYS_ALIGN (1ULL << 30)
#define EX_TOP2G 0xffffffff80000000ULL

/* ---- set-up ------------------------------------------------------------------ */

static uint64_t sys_gpa_default(sv_vm *vm)
{
	uint64_t end = sv_memslots__end(&vm->memslots);

	return (end + EX_SYS_ALIGN - 1) & ~(EX_SYS_ALIGN - 1);
}

/* The library's memslot: host memory first when a host is attached. */
static int sys_slot_add(sv_exec *ex)
{
	sv_vm *vm = ex->vm;
	sv_host *host = sv_mmu__host_of(vm);
	sv_memslot_region r = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = ex->opts.sys_slot,
		.gpa = ex->sys_gpa,
		.size = ex->sys_size,
	};
	int rc;

	if (host) {
		uint64_t hva;
		sv_host_mmap_args a = {
			.version = SV_HOST_MMAP_VERSION,
			.size = ex->sys_size,
			.prot = SV_PROT_READ | SV_PROT_WRITE,
			.backing = SV_BACKING_ANON,
		};

		rc = sv_host_mmap(&hva, host, &a);
		if (rc == SV_OK)
			rc = sv_host_madvise(host, hva,
					     ex->sys_size, SV_MADV_NOHUGEPAGE);
		if (rc != SV_OK)
			return rc;
		r.hva = hva;
	}
	rc = sv_memslot_set(vm, &r);
	if (rc != SV_OK)
		return sv_err__set(vm, rc, "exec: the library's memslot %u at 0x%" PRIx64
					   " (+0x%" PRIx64 "): %s", r.slot, r.gpa,
				   r.size, sv_error_detail());
	/* Without a hypervisor MMU the caller owns the nested tables; the
	 * library maps its own slot there, identity, read-write-execute. */
	if (!host)
		rc = sv_pt_map(sv_vm_tdp(vm), r.gpa, r.gpa, r.size, SV_PAGE_2M,
			       vm->opts.tdp == SV_TDP_EPT ? SV_EPT_RWX | (6ULL << SV_EPT_MT_SHIFT)
							  : SV_PTE_P | SV_PTE_RW | SV_PTE_US);
	return rc;
}

/* The guest page tables for the library's own ranges: boot page and
 * parameters, stacks, and the linear map of the whole slot. */
static int sys_map(sv_exec *ex)
{
	const uint64_t nx = SV_PTE_P | SV_PTE_RW | SV_PTE_NX;
	static const uint64_t gdt[3] = {
		0,
		0x00af9b000000ffffULL, /* 0x08: 64-bit code, DPL 0 */
		0x00cf93000000ffffULL, /* 0x10: data, DPL 0 */
	};
	int rc;

	rc = sv_pt_map(ex->gpt, SV_GUEST_BOOT, ex->sys_gpa + SV_SYS_BOOT,
		       2 * SV_PAGE_4K, SV_PAGE_4K, nx);
	if (rc == SV_OK && ex->opts.table_pool_gpa)
		rc = sv_pt_map(ex->gpt, SV_GUEST_TABLEMAP, ex->opts.table_pool_gpa,
			       ex->opts.table_pool, SV_PAGE_4K, nx);
	if (rc == SV_OK)
		rc = sv_pt_map(ex->gpt, SV_GUEST_STACKS, ex->sys_gpa + SV_SYS_STACKS,
			       ex->n * SV_GUEST_STACK_SIZE, SV_PAGE_4K, nx);
	if (rc == SV_OK)
		rc = sv_pt_map(ex->gpt, SV_GUEST_PHYSMAP, ex->sys_gpa, ex->sys_size,
			       SV_PAGE_4K, nx);
	if (rc == SV_OK)
		rc = sv_gpa_write(ex->vm, ex->sys_gpa + SV_SYS_BOOT, gdt, sizeof(gdt));
	return rc;
}

/* Populates (MADV_POPULATE_WRITE) and pre-faults [gpa, gpa + len), slot by
 * slot. */
static int prefault_range(sv_exec *ex, sv_host *host, uint64_t gpa,
			  uint64_t len)
{
	uint64_t end = gpa + len;
	int rc = SV_OK;

	while (gpa < end && rc == SV_OK) {
		const sv_memslot *s = sv_memslots__find(&ex->vm->memslots, gpa);
		uint64_t n;

		if (!s)
			return sv_err__set(ex->vm, SV_EFAULT,
					   "exec: gpa 0x%" PRIx64 " of the guest's "
					   "own pages is in no memslot", gpa);
		n = MIN(end, s->gpa + s->size) - gpa;
		rc = sv_host_madvise(host, sv_memslot__hva(s, gpa >> 12), n,
				     SV_MADV_POPULATE_WRITE);
		if (rc == SV_OK)
			rc = sv_mmu_pre_fault(ex->cpus[0].v, gpa, n);
		gpa += n;
	}
	return rc;
}

/*
 * The library's own pages in use -- image, boot page and parameters,
 * stacks, guest page tables -- are resident before the guest runs, as a
 * guest kernel's own memory is: the host populates them
 * (MADV_POPULATE_WRITE) and the MMU maps them (KVM_PRE_FAULT_MEMORY), so
 * no phase of a run counts their faults.  Without a host the caller's
 * nested tables map the slot already.
 */
int sv_exec__prefault(sv_exec *ex)
{
	sv_host *host = sv_mmu__host_of(ex->vm);
	uint64_t pool, pool_used = sv_pt__pool_used(ex->gpt, &pool);
	const struct {
		uint64_t gpa, len;
	} part[] = {
		{ex->sys_gpa + SV_SYS_IMAGE, ex->image_end - SV_SYS_IMAGE},
		{ex->sys_gpa + SV_SYS_BOOT, 2 * SV_PAGE_4K}, /* GDT, parameters */
		{ex->sys_gpa + SV_SYS_STACKS, ex->n * SV_GUEST_STACK_SIZE},
		{pool, pool_used},
	};
	unsigned i;
	int rc = SV_OK;

	/* Shadow paging maps guest-virtual addresses: nothing to pre-fault
	 * (KVM_PRE_FAULT_MEMORY needs TDP); the guest faults its first
	 * touches in itself. */
	if (!host || sv_mmu_options_get(ex->vm)->mmu == SV_MMU_SHADOW)
		return SV_OK;
	for (i = 0; i < G_N_ELEMENTS(part) && rc == SV_OK; i++)
		if (part[i].len)
			rc = prefault_range(ex, host, part[i].gpa, part[i].len);
	return rc;
}

static int cpu_open(sv_exec *ex, ex_cpu *c)
{
	sv_vcpu_regs r;
	uc_x86_mmr gdtr = {.base = SV_GUEST_BOOT, .limit = 23}, idtr = {0};
	uint64_t cs = 0x08, ds = 0x10, zero = 0;
	uc_err e;
	int rc;

	if (ex->engines) {
		e = uc_open(UC_ARCH_X86, UC_MODE_64, &c->uc);
		if (e != UC_ERR_OK)
			return sv_err__set(ex->vm, SV_ENOMEM, "exec: uc_open: %s",
					   uc_strerror(e));
		uc_reg_write(c->uc, UC_X86_REG_GDTR, &gdtr);
		/* No IDT until the guest loads one: its first exception
		 * ends in shutdown, as on a CPU. */
		uc_reg_write(c->uc, UC_X86_REG_IDTR, &idtr);
		/* In 64-bit mode Unicorn only stores the selectors; iretq
		 * reads the descriptors from the GDT. */
		uc_reg_write(c->uc, UC_X86_REG_CS, &cs);
		uc_reg_write(c->uc, UC_X86_REG_SS, &ds);
		uc_reg_write(c->uc, UC_X86_REG_DS, &zero);
		c->regions = g_array_new(FALSE, FALSE, sizeof(ex_region *));
		rc = sv_exec__hooks_add(c);
		if (rc != SV_OK)
			return rc;
		sv_exec__set_detailed(c, ex->mode == SV_EXEC_DETAILED);
	}

	sv_vcpu_get_regs(c->v, &r);
	r.cr0 = SV_CR0_PG | SV_CR0_WP | SV_CR0_PE | 0x32; /* + NE, ET, MP */
	r.cr4 = SV_CR4_PAE | (sv_pt_levels(ex->gpt) == 5 ? SV_CR4_LA57 : 0);
	r.efer = SV_EFER_LME | SV_EFER_LMA | SV_EFER_NXE;
	r.cr3 = sv_pt_root(ex->gpt);
	r.cpl = 0;
	rc = sv_vcpu_set_regs(c->v, &r);
	if (rc == SV_OK && c->uc)
		uc_reg_write(c->uc, UC_X86_REG_CR3, &r.cr3);
	c->halted = true; /* until an image is loaded */
	return rc;
}

static int check_options(sv_vm *vm, const sv_exec_options *o)
{
	if (o->version != 1 && o->version != SV_EXEC_OPTIONS_VERSION)
		return sv_err__set(vm, SV_EINVAL, "exec options: version %u (expected %u)",
				   o->version, SV_EXEC_OPTIONS_VERSION);
	if (o->slice < 1000)
		return sv_err__set(vm, SV_EINVAL, "exec options: slice %" PRIu64
						  " (expected at least 1000 instructions)",
				   o->slice);
	if (o->table_pool < 0x10000 || o->table_pool & 0xfff)
		return sv_err__set(vm, SV_EINVAL, "exec options: table_pool 0x%" PRIx64
						  " (expected a 4K multiple of at least 64K)",
				   o->table_pool);
	if ((unsigned)o->mode > SV_EXEC_FAST_FORWARD)
		return sv_err__set(vm, SV_EINVAL, "exec options: mode %d (expected "
						  "detailed or fast-forward)", (int)o->mode);
	if (o->sys_gpa & (SV_PAGE_2M - 1))
		return sv_err__set(vm, SV_EALIGN, "exec options: sys_gpa 0x%" PRIx64
						  " (expected 2M-aligned)", o->sys_gpa);
	if (o->version >= 2 && o->table_pool_gpa & 0xfff)
		return sv_err__set(vm, SV_EALIGN,
				   "exec options: table_pool_gpa 0x%" PRIx64
				   " (expected 4K-aligned)", o->table_pool_gpa);
	return SV_OK;
}

int sv_exec_new(sv_exec **out, sv_vm *vm, const sv_exec_options *opts)
{
	sv_err__clear();
	return sv_exec__create(out, vm, opts, true);
}

void sv_exec_options_init(sv_exec_options *opts)
{
	static const sv_exec_options d = SV_EXEC_OPTIONS_INIT;

	if (opts)
		memcpy(opts, &d, sizeof(d)); /* the padding too */
}

int sv_exec__create(sv_exec **out, sv_vm *vm, const sv_exec_options *opts,
		    bool engines)
{
	sv_exec_options def = SV_EXEC_OPTIONS_INIT;
	sv_pt_options po = {.version = SV_PT_OPTIONS_VERSION, .kind = SV_PT_GUEST};
	sv_exec *ex;
	unsigned i;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !vm)
		return sv_err__set(vm, SV_EINVAL, "sv_exec_new: NULL argument");
	if (!opts)
		opts = &def;
	rc = check_options(vm, opts);
	if (rc != SV_OK)
		return rc;
	ex = g_new0(sv_exec, 1);
	ex->vm = vm;
	ex->engines = engines;
	if (opts->version == 1) {
		/* a version-1 caller's struct ends before table_pool_gpa */
		memcpy(&ex->opts, opts, offsetof(sv_exec_options, table_pool_gpa));
		ex->opts.table_pool_gpa = 0;
	} else {
		ex->opts = *opts;
	}
	ex->opts.version = SV_EXEC_OPTIONS_VERSION;
	opts = &ex->opts;
	ex->mode = ex->mode_next = opts->mode;
	ex->n = sv_vm_vcpu_count(vm);
	ex->sys_gpa = opts->sys_gpa ? opts->sys_gpa : sys_gpa_default(vm);
	ex->sys_size = (SV_SYS_STACKS + ex->n * SV_GUEST_STACK_SIZE +
			(opts->table_pool_gpa ? 0 : opts->table_pool) +
			SV_PAGE_2M - 1) & ~(SV_PAGE_2M - 1);
	ex->tables = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	ex->traps = g_array_new(FALSE, FALSE, sizeof(ex_trap));
	ex->cpus = g_new0(ex_cpu, ex->n);
	if (ex->sys_size > SV_PAGE_1G) {
		rc = sv_err__set(vm, SV_ERANGE, "exec: the library's memslot would "
						"need 0x%" PRIx64 " bytes (at most 1G)",
				 ex->sys_size);
		goto fail;
	}
	rc = sys_slot_add(ex);
	if (rc != SV_OK)
		goto fail;
	if (opts->table_pool_gpa) {
		po.pool_gpa = opts->table_pool_gpa;
		po.pool_size = opts->table_pool;
	} else {
		po.pool_gpa = ex->sys_gpa + SV_SYS_STACKS +
			      ex->n * SV_GUEST_STACK_SIZE;
		po.pool_size = ex->sys_gpa + ex->sys_size - po.pool_gpa;
	}
	rc = sv_pt_new(&ex->gpt, vm, &po);
	if (rc == SV_OK)
		rc = sys_map(ex);
	if (rc == SV_OK && engines)
		rc = sv_exec__decoder_init(ex);
	if (rc == SV_OK && engines)
		rc = sv_exec__exceptions_init(vm);
	for (i = 0; i < ex->n && rc == SV_OK; i++) {
		ex->cpus[i].ex = ex;
		ex->cpus[i].index = i;
		ex->cpus[i].v = sv_vm_vcpu(vm, i);
		rc = cpu_open(ex, &ex->cpus[i]);
	}
	if (rc != SV_OK)
		goto fail;
	ex->resync = true;
	*out = ex;
	return SV_OK;
fail:
	sv_exec_free(ex);
	return rc;
}

void sv_exec_free(sv_exec *ex)
{
	unsigned i;

	if (!ex)
		return;
	for (i = 0; ex->cpus && i < ex->n; i++) {
		ex_cpu *c = &ex->cpus[i];

		sv_exec__regions_free(c);
		sv_pfncache_free(c->steal);
		if (c->ctx)
			uc_context_free(c->ctx);
		if (c->uc)
			uc_close(c->uc);
	}
	g_free(ex->cpus);
	sv_exec__decoder_fini(ex);
	sv_pt_free(ex->gpt);
	if (ex->tables)
		g_array_free(ex->tables, TRUE);
	if (ex->traps)
		g_array_free(ex->traps, TRUE);
	g_free(ex);
}

sv_vm *sv_exec_vm(const sv_exec *ex)
{
	return ex ? ex->vm : NULL;
}

int sv_exec_map(sv_exec *ex, uint64_t gva, uint64_t gpa, uint64_t size,
		uint64_t page_size, unsigned prot)
{
	uint64_t flags = SV_PTE_P;
	int rc;

	sv_err__clear();
	if (!ex)
		return sv_err__set(NULL, SV_EINVAL, "sv_exec_map: NULL handle");
	if (prot & ~(SV_EXEC_MAP_WRITE | SV_EXEC_MAP_EXEC))
		return sv_err__set(ex->vm, SV_EINVAL, "exec map: prot 0x%x (expected "
						      "SV_EXEC_MAP_WRITE and/or _EXEC)", prot);
	if (gva + size < gva || gva + size > (1ULL << 47) || gva >= EX_TOP2G)
		return sv_err__set(ex->vm, SV_ERANGE,
				   "exec map: [0x%" PRIx64 ", +0x%" PRIx64
				   ") must end below 0x800000000000 (the top 2G are "
				   "the library's)", gva, size);
	if (prot & SV_EXEC_MAP_WRITE)
		flags |= SV_PTE_RW;
	if (!(prot & SV_EXEC_MAP_EXEC))
		flags |= SV_PTE_NX;
	rc = sv_pt_map(ex->gpt, gva, gpa, size, page_size, flags);
	if (rc == SV_OK)
		ex->resync = true;
	return rc;
}

/* ---- traps and callbacks ------------------------------------------------------ */

int sv_exec_trap_add(sv_exec *ex, sv_trap_kind kind, uint64_t base,
		     uint64_t len, sv_trap_fn fn, void *payload)
{
	ex_trap t = {kind, base, len, fn, payload};
	guint i;

	sv_err__clear();
	if (!ex || !fn)
		return sv_err__set(ex ? ex->vm : NULL, SV_EINVAL, "sv_exec_trap_add: NULL argument");
	if ((unsigned)kind > SV_TRAP_MMIO || !len || base + len - 1 < base ||
	    (kind == SV_TRAP_PIO && base + len > 0x10000))
		return sv_err__set(ex->vm, SV_EINVAL, "trap: [0x%" PRIx64 ", +0x%" PRIx64
						      ") is not a %s range", base, len,
				   kind == SV_TRAP_PIO ? "port (< 0x10000)" : "GPA");
	if (kind == SV_TRAP_PIO && SV_PORT_SYNC - base < len)
		return sv_err__set(ex->vm, SV_EEXIST, "trap: port 0x%x is the sync port",
				   SV_PORT_SYNC);
	for (i = 0; i < ex->traps->len; i++) {
		const ex_trap *o = &g_array_index(ex->traps, ex_trap, i);

		if (o->kind == kind && base < o->base + o->len && o->base < base + len)
			return sv_err__set(ex->vm, SV_EOVERLAP, "trap: [0x%" PRIx64 ", +0x%"
								PRIx64 ") overlaps a handler's "
								"range", base, len);
	}
	g_array_append_val(ex->traps, t);
	return SV_OK;
}

void sv_exec_set_sync(sv_exec *ex, sv_sync_fn fn, void *payload)
{
	if (!ex)
		return;
	ex->sync_fn = fn;
	ex->sync_payload = payload;
}

void sv_exec_set_access_hook(sv_exec *ex, sv_access_fn fn, void *payload)
{
	if (!ex)
		return;
	ex->access_fn = fn;
	ex->access_payload = payload;
}

void sv_exec_set_mode(sv_exec *ex, sv_exec_mode mode)
{
	if (ex && (unsigned)mode <= SV_EXEC_FAST_FORWARD)
		ex->mode_next = mode;
}

sv_exec_mode sv_exec_get_mode(const sv_exec *ex)
{
	return ex ? ex->mode_next : SV_EXEC_DETAILED;
}

uint64_t sv_exec_rip(const sv_exec *ex, unsigned vcpu)
{
	return ex && vcpu < ex->n ? ex->cpus[vcpu].rip : 0;
}


/* ---- steal time ------------------------------------------------------------- */

/* KVM's struct kvm_steal_time, as much of it as the model fills. */
struct steal_record {
	uint64_t steal;
	uint32_t version;
	uint32_t flags;
	uint8_t preempted;
	uint8_t pad[47];
};
_Static_assert(sizeof(struct steal_record) == 64, "kvm_steal_time is 64 bytes");

int sv_exec_set_steal_time(sv_exec *ex, uint64_t gpa, uint64_t interval)
{
	unsigned i;
	int rc = SV_OK;

	sv_err__clear();
	if (!ex)
		return sv_err__set(NULL, SV_EINVAL, "sv_exec_set_steal_time: NULL handle");
	if (!gpa)
		gpa = ex->sys_gpa + SV_SYS_STEAL;
	if (gpa & 63)
		return sv_err__set(ex->vm, SV_EALIGN, "steal time: gpa 0x%" PRIx64
						      " (expected 64-byte aligned)", gpa);
	for (i = 0; i < ex->n; i++) {
		ex_cpu *c = &ex->cpus[i];

		sv_pfncache_free(c->steal);
		c->steal = NULL;
		if (rc == SV_OK)
			rc = sv_pfncache_new(&c->steal, ex->vm, gpa + 64ULL * i, 64);
		c->steal_version = 0;
		c->steal_at = 0;
	}
	if (rc != SV_OK) {
		for (i = 0; i < ex->n; i++) {
			sv_pfncache_free(ex->cpus[i].steal);
			ex->cpus[i].steal = NULL;
		}
		return sv_err__set(ex->vm, rc, "steal time at gpa 0x%" PRIx64 ": %s",
				   gpa, sv_error_detail());
	}
	ex->steal_interval = interval;
	return SV_OK;
}

/*
 * KVM's record_steal_time: the hypervisor writes the vCPU's record
 * through its gfn-to-pfn cache (mapping it again if a host event dropped
 * it; the dirty log marked while the slot logs).  `steal` is what the
 * other vCPUs ran meanwhile: the cycles the round robin kept it waiting.
 */
int sv_exec__steal_time(ex_cpu *c)
{
	sv_exec *ex = c->ex;
	struct steal_record rec = {0};
	unsigned i;

	if (!c->steal)
		return sv_err__set(ex->vm, SV_ECONFIG, "trace: a steal-time write, "
						       "but the scenario has no steal time");
	for (i = 0; i < ex->n; i++)
		if (i != c->index)
			rec.steal += ex->cpus[i].v->stat[SV_VCPU_STAT_cycles];
	c->steal_version += 2;
	rec.version = c->steal_version;
	return sv_pfncache_write(c->steal, c->v, 0, &rec, sizeof(rec));
}

/* At a guest entry: the record is due at every entry (interval 0), or
 * once `interval` instructions ran since the last one. */
int sv_exec__entry(ex_cpu *c)
{
	sv_exec *ex = c->ex;
	uint64_t now = c->v->stat[SV_VCPU_STAT_instructions];

	if (!c->steal || (c->steal_version && now - c->steal_at < ex->steal_interval))
		return SV_OK;
	c->steal_at = now;
	sv_exec__record_event(ex, SV_TEV_STEAL, c->index, 0);
	return sv_exec__steal_time(c);
}
