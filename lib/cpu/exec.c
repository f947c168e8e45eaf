/*
 * lib/cpu/exec.c - execution-driven guests: engines, the library's
 * memslot, the ELF loader, the run loop, exception delivery, the trap bus.
 *
 * How it works:
 *  1. sv_exec_new adds one memslot above the user's (image, boot page with
 *     the GDT and the parameter block, stacks, guest page-table pool),
 *     builds the guest page tables for it with 4K pages, opens one Unicorn
 *     engine per vCPU in 64-bit mode with Unicorn's paging off, and sets
 *     the model's registers for long mode with paging.
 *  2. The run loop gives each vCPU a turn of `slice` instructions in index
 *     order.  A turn ends when the block hook sees the budget used up, at a
 *     sync point, at a guest fault, or when the guest changed its page
 *     tables (the Unicorn regions are then rebuilt before anyone runs).
 *  3. Sync points are a barrier: when every running vCPU waits at the same
 *     point, the sync handler runs once and they all go on.
 *  4. A guest #PF that Unicorn stopped on is delivered the way the CPU does
 *     it in 64-bit mode: the IDT gate is read and the frame pushed through
 *     the model (a fault there is not delivered: it is reported), CR2 set,
 *     RIP moved to the handler.  Unicorn never sees the exception, so its
 *     2.0.1 pending-exception bug (#DF on the second fault) cannot arise.
 */
#include <elf.h>

#include "cpu/exec.h"
#include "ept/mmu.h"

extern const unsigned char sv__guest_workloads[];
extern const size_t sv__guest_workloads_len;

#define EX_SYS_ALIGN (1ULL << 30)
#define EX_TOP2G 0xffffffff80000000ULL

/* ---- set-up ------------------------------------------------------------------ */

static uint64_t sys_gpa_default(sv_vm *vm)
{
	uint64_t end = sv__memslots_end(&vm->memslots);

	return (end + EX_SYS_ALIGN - 1) & ~(EX_SYS_ALIGN - 1);
}

/* The library's memslot: host memory first when a host is attached. */
static int sys_slot_add(sv_exec *ex)
{
	sv_vm *vm = ex->vm;
	sv_host *host = sv_mmu__host_of(vm);
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, ex->opts.sys_slot, 0,
			       ex->sys_gpa, ex->sys_size, 0};
	int rc;

	if (host) {
		uint64_t hva;
		sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 0, ex->sys_size,
				       SV_PROT_READ | SV_PROT_WRITE, 0,
				       SV_BACKING_ANON, 0};

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
		return sv__err(vm, rc, "exec: the library's memslot %u at 0x%" PRIx64
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

static uint64_t stack_top(unsigned i)
{
	return SV_GUEST_STACKS + (uint64_t)(i + 1) * SV_GUEST_STACK_SIZE;
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

static int cpu_open(sv_exec *ex, ex_cpu *c)
{
	sv_vcpu_regs r;
	uc_x86_mmr gdtr = {.base = SV_GUEST_BOOT, .limit = 23};
	uint64_t cs = 0x08, ds = 0x10, zero = 0;
	uc_err e;
	int rc;

	if (ex->engines) {
		e = uc_open(UC_ARCH_X86, UC_MODE_64, &c->uc);
		if (e != UC_ERR_OK)
			return sv__err(ex->vm, SV_ENOMEM, "exec: uc_open: %s",
				       uc_strerror(e));
		uc_reg_write(c->uc, UC_X86_REG_GDTR, &gdtr);
		/* In 64-bit mode Unicorn only stores the selectors; iretq
		 * reads the descriptors from the GDT. */
		uc_reg_write(c->uc, UC_X86_REG_CS, &cs);
		uc_reg_write(c->uc, UC_X86_REG_SS, &ds);
		uc_reg_write(c->uc, UC_X86_REG_DS, &zero);
		c->regions = g_array_new(FALSE, FALSE, sizeof(ex_region *));
		rc = sv__exec_hooks_add(c);
		if (rc != SV_OK)
			return rc;
		sv__exec_set_detailed(c, ex->mode == SV_EXEC_DETAILED);
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
	if (o->version != SV_EXEC_OPTIONS_VERSION)
		return sv__err(vm, SV_EINVAL, "exec options: version %u (expected %u)",
			       o->version, SV_EXEC_OPTIONS_VERSION);
	if (o->slice < 1000)
		return sv__err(vm, SV_EINVAL, "exec options: slice %" PRIu64
					      " (expected at least 1000 instructions)",
			       o->slice);
	if (o->table_pool < 0x10000 || o->table_pool & 0xfff)
		return sv__err(vm, SV_EINVAL, "exec options: table_pool 0x%" PRIx64
					      " (expected a 4K multiple of at least 64K)",
			       o->table_pool);
	if ((unsigned)o->mode > SV_EXEC_FAST_FORWARD)
		return sv__err(vm, SV_EINVAL, "exec options: mode %d (expected "
					      "detailed or fast-forward)", (int)o->mode);
	if (o->sys_gpa & (SV_PAGE_2M - 1))
		return sv__err(vm, SV_EALIGN, "exec options: sys_gpa 0x%" PRIx64
					      " (expected 2M-aligned)", o->sys_gpa);
	return SV_OK;
}

int sv_exec_new(sv_exec **out, sv_vm *vm, const sv_exec_options *opts)
{
	return sv__exec_create(out, vm, opts, true);
}

int sv__exec_create(sv_exec **out, sv_vm *vm, const sv_exec_options *opts,
		    bool engines)
{
	sv_exec_options def = SV_EXEC_OPTIONS_INIT;
	sv_pt_options po = {SV_PT_OPTIONS_VERSION, SV_PT_GUEST, 0, 0, 0};
	sv_exec *ex;
	unsigned i;
	int rc;

	if (!out || !vm)
		return sv__err(vm, SV_EINVAL, "sv_exec_new: NULL argument");
	*out = NULL;
	if (!opts)
		opts = &def;
	rc = check_options(vm, opts);
	if (rc != SV_OK)
		return rc;
	ex = g_new0(sv_exec, 1);
	ex->vm = vm;
	ex->engines = engines;
	ex->opts = *opts;
	ex->mode = ex->mode_next = opts->mode;
	ex->n = sv_vm_vcpu_count(vm);
	ex->sys_gpa = opts->sys_gpa ? opts->sys_gpa : sys_gpa_default(vm);
	ex->sys_size = (SV_SYS_STACKS + ex->n * SV_GUEST_STACK_SIZE +
			opts->table_pool + SV_PAGE_2M - 1) & ~(SV_PAGE_2M - 1);
	ex->tables = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	ex->traps = g_array_new(FALSE, FALSE, sizeof(ex_trap));
	ex->cpus = g_new0(ex_cpu, ex->n);
	if (ex->sys_size > SV_PAGE_1G) {
		rc = sv__err(vm, SV_ERANGE, "exec: the library's memslot would "
					    "need 0x%" PRIx64 " bytes (at most 1G)",
			     ex->sys_size);
		goto fail;
	}
	rc = sys_slot_add(ex);
	if (rc != SV_OK)
		goto fail;
	po.pool_gpa = ex->sys_gpa + SV_SYS_STACKS + ex->n * SV_GUEST_STACK_SIZE;
	po.pool_size = ex->sys_gpa + ex->sys_size - po.pool_gpa;
	rc = sv_pt_new(&ex->gpt, vm, &po);
	if (rc == SV_OK)
		rc = sys_map(ex);
	if (rc == SV_OK && engines)
		rc = sv__exec_decoder_init(ex);
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

		sv__exec_regions_drop(c);
		if (c->regions)
			g_array_free(c->regions, TRUE);
		if (c->uc)
			uc_close(c->uc);
	}
	g_free(ex->cpus);
	sv__exec_decoder_fini(ex);
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

	if (!ex)
		return sv__err(NULL, SV_EINVAL, "sv_exec_map: NULL handle");
	if (prot & ~(SV_EXEC_MAP_WRITE | SV_EXEC_MAP_EXEC))
		return sv__err(ex->vm, SV_EINVAL, "exec map: prot 0x%x (expected "
						  "SV_EXEC_MAP_WRITE and/or _EXEC)", prot);
	if (gva + size < gva || gva + size > (1ULL << 47) || gva >= EX_TOP2G)
		return sv__err(ex->vm, SV_ERANGE,
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

/* ---- the loader ------------------------------------------------------------- */

static int bad_elf(sv_exec *ex, const char *why)
{
	return sv__err(ex->vm, SV_EINVAL, "exec load: not a guest image: %s", why);
}

/* Loads one PT_LOAD segment into the image range of the library's slot and
 * maps its pages with the segment's permissions. */
static int load_segment(sv_exec *ex, const uint8_t *img, size_t len,
			const Elf64_Phdr *ph)
{
	uint64_t first = ph->p_vaddr & ~0xfffULL;
	uint64_t last = (ph->p_vaddr + ph->p_memsz + 0xfff) & ~0xfffULL;
	uint64_t flags = SV_PTE_P;
	uint64_t gpa = ex->sys_gpa + SV_SYS_IMAGE + (first - SV_GUEST_IMAGE);
	uint8_t *mem;

	if (ph->p_vaddr < SV_GUEST_IMAGE || ph->p_memsz > SV_GUEST_IMAGE_MAX ||
	    ph->p_vaddr + ph->p_memsz > SV_GUEST_IMAGE + SV_GUEST_IMAGE_MAX)
		return bad_elf(ex, "a segment lies outside 0xffffffff80000000 "
				   "+ 2M (link with guests/guest.ld)");
	if (ph->p_filesz > ph->p_memsz || ph->p_offset > len ||
	    ph->p_filesz > len - ph->p_offset)
		return bad_elf(ex, "a segment's bytes run past the end of the file");
	mem = sv__gpa_ptr(&ex->vm->memslots, gpa);
	if (!mem)
		return sv__err(ex->vm, SV_EFAULT, "exec load: the library's memslot "
						  "has no bytes");
	memset(mem, 0, last - first);
	memcpy(mem + (ph->p_vaddr - first), img + ph->p_offset, ph->p_filesz);
	if (ph->p_flags & PF_W)
		flags |= SV_PTE_RW;
	if (!(ph->p_flags & PF_X))
		flags |= SV_PTE_NX;
	return sv_pt_map(ex->gpt, first, gpa, last - first, SV_PAGE_4K, flags);
}

static void cpu_reset(sv_exec *ex, ex_cpu *c)
{
	uint64_t rsp = stack_top(c->index), rdi = c->index, rflags = 2;

	if (!c->uc)
		return;
	uc_reg_write(c->uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(c->uc, UC_X86_REG_RDI, &rdi);
	uc_reg_write(c->uc, UC_X86_REG_RFLAGS, &rflags);
	c->rip = ex->entry;
	c->halted = false;
	c->at_sync = false;
	c->pf_pending = false;
}

int sv_exec_load_elf(sv_exec *ex, const void *image, size_t len)
{
	const uint8_t *img = image;
	const Elf64_Ehdr *eh = image;
	unsigned i;
	int rc;

	if (!ex || !image)
		return sv__err(ex ? ex->vm : NULL, SV_EINVAL, "sv_exec_load_elf: NULL argument");
	if (ex->loaded)
		return sv__err(ex->vm, SV_EBUSY, "exec load: an image is loaded "
						 "already (one per sv_exec)");
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return bad_elf(ex, "no ELF header");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC)
		return bad_elf(ex, "expected a little-endian x86-64 ET_EXEC file");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return bad_elf(ex, "the program headers run past the end of the file");
	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		rc = load_segment(ex, img, len, &ph);
		if (rc == SV_EEXIST)
			return bad_elf(ex, "two segments share a page");
		if (rc != SV_OK)
			return rc;
	}
	if (eh->e_entry < SV_GUEST_IMAGE ||
	    eh->e_entry >= SV_GUEST_IMAGE + SV_GUEST_IMAGE_MAX)
		return bad_elf(ex, "the entry point is outside the image");
	ex->entry = eh->e_entry;
	ex->loaded = true;
	ex->resync = true;
	for (i = 0; i < ex->n; i++)
		cpu_reset(ex, &ex->cpus[i]);
	return SV_OK;
}

/* ---- built-in workloads ------------------------------------------------------ */

static const struct {
	const char *name;
	unsigned id;
	const char *desc;
} workloads[] = {
	{"touch", SV_GW_TOUCH, "passes over the region, one access per stride "
			       "(sync N before pass N)"},
	{"stream", SV_GW_STREAM, "STREAM copy, scale, add and triad over three "
				 "arrays in the region"},
	{"random", SV_GW_RANDOM, "GUPS-style random read-modify-write updates, "
				 "seeded"},
	{"chase", SV_GW_CHASE, "pointer chase through one random cycle of "
			       "stride-sized nodes"},
	{"kpt", SV_GW_KPT, "kvm_page_table_test's stages: create (write), "
			   "update (write), adjust (read)"},
	{"remap", SV_GW_REMAP, "rewrites its own page table entry, invlpg, "
			       "reads the new page"},
	{"faults", SV_GW_FAULTS, "three accesses to unmapped pages, each a #PF "
				 "its handler steps over"},
	{"sites", SV_GW_SITES, "RDTSC twice, then MOV to CR3 between two reads "
			       "of one word"},
};

const char *sv_workload_name(size_t i)
{
	return i < G_N_ELEMENTS(workloads) ? workloads[i].name : NULL;
}

const char *sv_workload_desc(size_t i)
{
	return i < G_N_ELEMENTS(workloads) ? workloads[i].desc : NULL;
}

static int check_workload(sv_exec *ex, const sv_workload *w, unsigned id)
{
	if (id == SV_GW_FAULTS)
		return SV_OK;
	if (!w->size || w->gva & 7)
		return sv__err(ex->vm, SV_EINVAL, "workload %s: the region needs a "
						  "size and an 8-byte-aligned gva", w->name);
	if ((id == SV_GW_TOUCH || id == SV_GW_KPT || id == SV_GW_CHASE) &&
	    (w->stride < 8 || w->stride & 7 || w->stride > w->size))
		return sv__err(ex->vm, SV_EINVAL, "workload %s: stride %" PRIu64
						  " (expected a multiple of 8 up to the "
						  "region size)", w->name, w->stride);
	if ((id == SV_GW_CHASE && w->size / w->stride < 2) ||
	    (id == SV_GW_STREAM && w->size < 24 * ex->n))
		return sv__err(ex->vm, SV_EINVAL, "workload %s: region of %" PRIu64
						  " bytes is too small", w->name, w->size);
	if ((id == SV_GW_TOUCH || id == SV_GW_STREAM) && w->passes == 0)
		return sv__err(ex->vm, SV_EINVAL, "workload %s: passes must be at "
						  "least 1", w->name);
	if (id == SV_GW_RANDOM && !w->count)
		return sv__err(ex->vm, SV_EINVAL, "workload random: count must be "
						  "at least 1");
	return SV_OK;
}

int sv_exec_load_workload(sv_exec *ex, const sv_workload *w)
{
	struct sv_guest_params p;
	unsigned id = 0;
	size_t i;
	int rc;

	if (!ex || !w || !w->name)
		return sv__err(ex ? ex->vm : NULL, SV_EINVAL,
			       "sv_exec_load_workload: NULL argument");
	if (w->version != SV_WORKLOAD_VERSION)
		return sv__err(ex->vm, SV_EINVAL, "workload: version %u (expected %u)",
			       w->version, SV_WORKLOAD_VERSION);
	for (i = 0; i < G_N_ELEMENTS(workloads); i++)
		if (!strcmp(w->name, workloads[i].name))
			id = workloads[i].id;
	if (!id)
		return sv__err(ex->vm, SV_EINVAL, "workload \"%s\": unknown (expected "
						  "touch, stream, random, chase, kpt, "
						  "remap, faults or sites)", w->name);
	rc = check_workload(ex, w, id);
	if (rc != SV_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	p.magic = SV_GUEST_MAGIC;
	p.workload = id;
	p.vcpus = ex->n;
	p.gva = w->gva;
	p.size = w->size;
	p.stride = w->stride;
	p.passes = w->passes;
	p.write = w->write;
	p.seed = w->seed;
	p.count = w->count;
	p.sys_gpa = ex->sys_gpa;
	p.levels = sv_pt_levels(ex->gpt);
	rc = sv_exec_load_elf(ex, sv__guest_workloads, sv__guest_workloads_len);
	if (rc == SV_OK)
		rc = sv_gpa_write(ex->vm, ex->sys_gpa + SV_SYS_BOOT + 0x1000, &p,
				  sizeof(p));
	return rc;
}

int sv_exec_guest_result(uint64_t *out, sv_exec *ex, unsigned i)
{
	if (!out || !ex)
		return sv__err(NULL, SV_EINVAL, "sv_exec_guest_result: NULL argument");
	if (i >= SV_GUEST_MAX_VCPUS)
		return sv__err(ex->vm, SV_ERANGE, "guest result %u (expected < %u)",
			       i, SV_GUEST_MAX_VCPUS);
	return sv_gpa_read(ex->vm, ex->sys_gpa + SV_SYS_BOOT + 0x1000 +
					   offsetof(struct sv_guest_params, result) + 8 * i,
			   out, 8);
}

/* ---- traps and callbacks ------------------------------------------------------ */

int sv_exec_trap_add(sv_exec *ex, sv_trap_kind kind, uint64_t base,
		     uint64_t len, sv_trap_fn fn, void *payload)
{
	ex_trap t = {kind, base, len, fn, payload};
	guint i;

	if (!ex || !fn)
		return sv__err(ex ? ex->vm : NULL, SV_EINVAL, "sv_exec_trap_add: NULL argument");
	if ((unsigned)kind > SV_TRAP_MMIO || !len || base + len - 1 < base ||
	    (kind == SV_TRAP_PIO && base + len > 0x10000))
		return sv__err(ex->vm, SV_EINVAL, "trap: [0x%" PRIx64 ", +0x%" PRIx64
						  ") is not a %s range", base, len,
			       kind == SV_TRAP_PIO ? "port (< 0x10000)" : "GPA");
	if (kind == SV_TRAP_PIO && SV_PORT_SYNC - base < len)
		return sv__err(ex->vm, SV_EEXIST, "trap: port 0x%x is the sync port",
			       SV_PORT_SYNC);
	for (i = 0; i < ex->traps->len; i++) {
		const ex_trap *o = &g_array_index(ex->traps, ex_trap, i);

		if (o->kind == kind && base < o->base + o->len && o->base < base + len)
			return sv__err(ex->vm, SV_EOVERLAP, "trap: [0x%" PRIx64 ", +0x%"
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

/* ---- exception delivery ------------------------------------------------------- */

/* A 64-bit access the CPU makes while delivering an exception, through the
 * model and then Unicorn's memory.  False if it faults. */
static bool sys_access(ex_cpu *c, uint64_t gva, void *buf, uint32_t len,
		       sv_access acc)
{
	sv_xlate x;

	sv__exec_access(c, gva, len, acc, acc == SV_ACCESS_WRITE ? buf : NULL, &x);
	if (x.fault.kind != SV_FAULT_NONE)
		return false;
	return (acc == SV_ACCESS_WRITE ? uc_mem_write(c->uc, gva, buf, len)
				       : uc_mem_read(c->uc, gva, buf, len)) == UC_ERR_OK;
}

/*
 * Delivers the pending #PF to the guest's vector-14 gate (SDM Vol. 3A
 * "Interrupt and Exception Handling in 64-bit Mode": RSP aligned to 16,
 * then SS, RSP, RFLAGS, CS, RIP and the error code pushed).  Returns
 * false when it cannot: no IDT entry, or a fault on the way (the CPU would
 * raise #DF; simvirt reports the first fault instead).
 */
static bool deliver_pf(ex_cpu *c)
{
	uc_x86_mmr idtr;
	uint64_t gate[2], handler, rsp, rflags, cs, ss, frame[6];

	uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
	if (idtr.limit < 14 * 16 + 15 ||
	    !sys_access(c, idtr.base + 14 * 16, gate, 16, SV_ACCESS_READ))
		return false;
	if (!(gate[0] & (1ULL << 47)) || ((gate[0] >> 40) & 0xe) != 0xe)
		return false; /* not present, or not an interrupt/trap gate */
	handler = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ULL) |
		  (gate[1] << 32);
	uc_reg_read(c->uc, UC_X86_REG_RSP, &rsp);
	uc_reg_read(c->uc, UC_X86_REG_RFLAGS, &rflags);
	uc_reg_read(c->uc, UC_X86_REG_CS, &cs);
	uc_reg_read(c->uc, UC_X86_REG_SS, &ss);
	frame[0] = c->fault.error_code;
	frame[1] = c->fault_rip;
	frame[2] = cs;
	frame[3] = rflags;
	frame[4] = rsp;
	frame[5] = ss;
	rsp = (rsp & ~15ULL) - sizeof(frame);
	if (!sys_access(c, rsp, frame, sizeof(frame), SV_ACCESS_WRITE))
		return false;
	cs = (gate[0] >> 16) & 0xffff;
	if (!(gate[0] & (1ULL << 40)))
		rflags &= ~(1ULL << 9); /* an interrupt gate clears IF */
	rflags &= ~((1ULL << 8) | (1ULL << 16)); /* TF, RF */
	uc_reg_write(c->uc, UC_X86_REG_CR2, &c->fault.gva);
	uc_reg_write(c->uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(c->uc, UC_X86_REG_RFLAGS, &rflags);
	uc_reg_write(c->uc, UC_X86_REG_CS, &cs);
	c->rip = handler;
	sv__exec_stat_add(c, SV_VCPU_STAT_pf_delivered, 1);
	return true;
}

/* ---- the run loop ---------------------------------------------------------------- */

static void fault_result(sv_exec_result *out, ex_cpu *c)
{
	out->stop = SV_EXEC_FAULT;
	out->vcpu = c->index;
	out->rip = c->fault_rip;
	out->fault = c->fault;
}

static void apply_mode(sv_exec *ex)
{
	unsigned i;

	ex->mode = ex->mode_next;
	for (i = 0; i < ex->n; i++)
		sv__exec_set_detailed(&ex->cpus[i], ex->mode == SV_EXEC_DETAILED);
}

/* Regions, code hooks and mode brought up to date before anyone runs. */
static int settle(sv_exec *ex)
{
	unsigned i;
	int rc = SV_OK;

	if (ex->mode != ex->mode_next)
		apply_mode(ex);
	if (ex->resync || ex->mem_epoch != ex->vm->memslots.epoch)
		rc = sv__exec_regions_sync(ex);
	for (i = 0; i < ex->n && rc == SV_OK; i++)
		rc = sv__exec_sites_install(&ex->cpus[i]);
	return rc;
}

/*
 * One turn of vCPU c.  Returns 1 when the run must end with *out filled,
 * 0 to go on, or an error.
 */
static int turn(sv_exec *ex, ex_cpu *c, sv_exec_result *out)
{
	uint64_t before = c->v->stat[SV_VCPU_STAT_instructions], ran;
	uc_err e;

	c->budget = (int64_t)MIN(ex->opts.slice, c->left);
	c->stop = EX_STOP_NONE;
	c->pf_pending = false;
	c->resume = 0;
	c->started = true;
	e = uc_emu_start(c->uc, c->rip, 0, 0, 0);
	uc_reg_read(c->uc, UC_X86_REG_RIP, &c->rip);
	if (c->resume)
		c->rip = c->resume;
	ran = c->v->stat[SV_VCPU_STAT_instructions] - before;
	c->left -= MIN(ran, c->left);
	if (c->stop == EX_STOP_REPORT) {
		fault_result(out, c);
		return 1;
	}
	if (c->pf_pending) {
		if (e == UC_ERR_OK) {
			/* Unicorn did the access the model refused. */
			c->fault.stage = SV_STAGE_TLB;
			fault_result(out, c);
			return 1;
		}
		if (ex->mode == SV_EXEC_FAST_FORWARD || !deliver_pf(c)) {
			fault_result(out, c);
			return 1;
		}
		return 0;
	}
	if (e != UC_ERR_OK) {
		out->stop = SV_EXEC_FAULT;
		out->vcpu = c->index;
		out->rip = c->rip;
		return sv__err(ex->vm, SV_EINVAL, "exec: vCPU %u at 0x%" PRIx64
						  ": Unicorn stopped: %s",
			       c->index, c->rip, uc_strerror(e));
	}
	if (c->stop == EX_STOP_TRAP) {
		out->stop = SV_EXEC_STOPPED;
		out->code = c->trap_code;
		return 1;
	}
	if (c->stop == EX_STOP_NONE) {
		c->halted = true;
		sv_vcpu_leave_guest(c->v);
		sv__exec_record_event(ex, SV_TEV_LEAVE, c->index, 0);
	}
	return 0;
}

/* Step 3: releases the barrier when every running vCPU waits at it.
 * Returns 2 when it did, 1 when the handler stopped the run, 0 when some
 * vCPU does not wait yet, or an error. */
static int barrier(sv_exec *ex, sv_exec_result *out)
{
	uint32_t n = 0;
	bool waiting = false;
	unsigned i;
	int rc;

	for (i = 0; i < ex->n; i++) {
		const ex_cpu *c = &ex->cpus[i];

		if (c->halted)
			continue;
		if (!c->at_sync)
			return 0;
		if (waiting && c->sync_n != n)
			return sv__err(ex->vm, SV_EINVAL,
				       "exec: vCPUs wait at different sync points "
				       "(%u and %u): the guest's phases disagree",
				       n, c->sync_n);
		n = c->sync_n;
		waiting = true;
	}
	if (!waiting)
		return 0;
	for (i = 0; i < ex->n; i++)
		ex->cpus[i].at_sync = false;
	if (ex->opts.mode == SV_EXEC_FAST_FORWARD && ex->opts.detail_at_sync == n)
		ex->mode_next = SV_EXEC_DETAILED;
	rc = ex->sync_fn ? ex->sync_fn(ex, n, ex->sync_payload) : 0;
	if (rc > 0) {
		out->stop = SV_EXEC_STOPPED;
		out->code = rc;
		return 1;
	}
	return rc < 0 ? rc : 2;
}

int sv_exec_run(sv_exec *ex, uint64_t limit, sv_exec_result *out)
{
	sv_exec_result dummy;
	unsigned i;
	int rc;

	if (!ex)
		return sv__err(NULL, SV_EINVAL, "sv_exec_run: NULL handle");
	if (!ex->engines)
		return sv__err(ex->vm, SV_EINVAL, "sv_exec_run: a handle built "
						  "for replay has no engines");
	if (!out)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	if (!ex->loaded)
		return sv__err(ex->vm, SV_EINVAL, "exec run: no guest loaded "
						  "(sv_exec_load_elf or _workload)");
	for (i = 0; i < ex->n; i++)
		ex->cpus[i].left = limit ? limit : UINT64_MAX;
	for (;;) {
		bool ran = false, all_halted = true;

		rc = settle(ex);
		if (rc != SV_OK)
			return rc;
		for (i = 0; i < ex->n; i++) {
			ex_cpu *c = &ex->cpus[i];

			if (c->halted)
				continue;
			all_halted = false;
			if (c->at_sync || !c->left)
				continue;
			rc = turn(ex, c, out);
			if (rc)
				return rc > 0 ? SV_OK : rc;
			ran = true;
			/* A handler may have moved memslots, the guest its
			 * tables: the next vCPU must see the same memory. */
			rc = settle(ex);
			if (rc != SV_OK)
				return rc;
		}
		if (all_halted) {
			out->stop = SV_EXEC_HALTED;
			return SV_OK;
		}
		rc = barrier(ex, out);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return SV_OK;
		if (rc == 0 && !ran) {
			/* Nobody could run: the rest used up the limit. */
			out->stop = SV_EXEC_LIMIT;
			return SV_OK;
		}
	}
}

/* ---- recording and replay ------------------------------------------------------ */

void sv__exec_set_recorder(sv_exec *ex, sv_trace_writer *w)
{
	ex->rec = w;
}

void sv__exec_record_event(sv_exec *ex, sv_trace_kind kind, unsigned vcpu,
			   uint64_t addr)
{
	sv_trace_event ev = {.kind = kind, .vcpu = vcpu, .addr = addr};

	if (ex->rec)
		sv__trace_put(ex->rec, &ev);
}

/*
 * Feeds one recorded event back into the model as the execution side fed
 * it: the same call, and a write's bytes stored where Unicorn stored them
 * (the slot's bytes, unless the slot is read-only or the access faulted).
 */
int sv__exec_replay(sv_exec *ex, const sv_trace_event *ev)
{
	static const sv_access acc[] = {[SV_TEV_READ] = SV_ACCESS_READ,
					[SV_TEV_WRITE] = SV_ACCESS_WRITE,
					[SV_TEV_FETCH] = SV_ACCESS_FETCH};
	sv_vcpu *v;
	sv_xlate x;

	if (ev->vcpu >= ex->n)
		return sv__err(ex->vm, SV_ECONFIG, "trace: vCPU %u, but the scenario "
						   "has %u", ev->vcpu, ex->n);
	v = ex->cpus[ev->vcpu].v;
	switch (ev->kind) {
	case SV_TEV_READ:
	case SV_TEV_WRITE:
	case SV_TEV_FETCH:
		sv_vcpu_access(v, ev->addr, ev->size, acc[ev->kind], &x);
		if (ev->data_len && x.fault.kind == SV_FAULT_NONE) {
			sv_memslot *s = sv__memslot_find(&ex->vm->memslots, x.gpa);

			if (s && s->mem && !(s->flags & SV_MEMSLOT_READONLY) &&
			    x.gpa + ev->data_len <= s->gpa + s->size)
				memcpy(s->mem + (x.gpa - s->gpa), ev->data,
				       ev->data_len);
		}
		return SV_OK;
	case SV_TEV_STAT:
		v->stat[ev->n] += ev->value;
		return SV_OK;
	case SV_TEV_BLOCK:
		v->stat[SV_VCPU_STAT_instructions] += ev->n;
		v->stat[SV_VCPU_STAT_insn_cycles] += ev->value;
		v->stat[SV_VCPU_STAT_cycles] += ev->value;
		return SV_OK;
	case SV_TEV_INVLPG:
		return sv_vcpu_invlpg(v, ev->addr);
	case SV_TEV_CR3:
		return sv_vcpu_mov_cr3(v, ev->addr);
	case SV_TEV_LEAVE:
		sv_vcpu_leave_guest(v);
		return SV_OK;
	default:
		return sv__err(ex->vm, SV_EBUG, "trace: event %s is not the "
						"execution side's",
			       sv__trace_kind_name(ev->kind));
	}
}
