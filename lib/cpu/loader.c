/*
 * lib/cpu/loader.c - putting a guest in: a freestanding ELF image into the
 * library's memslot, or the built-in workloads with their parameters.
 *
 * How an image is loaded (sv_exec_load_elf):
 *  1. The ELF header and program headers are checked: a little-endian
 *     x86-64 executable whose PT_LOAD segments lie in the top 2G (link
 *     with guests/guest.ld).
 *  2. Each segment's pages are zeroed in the image range of the library's
 *     slot, its bytes copied in, and its pages mapped in the guest tables
 *     with the segment's permissions.
 *  3. Every vCPU starts at the entry point with its own stack, its index
 *     in RDI.
 */
#include <elf.h>

#include "cpu/exec.h"

extern const unsigned char sv_guests__image[];
extern const size_t sv_guests__image_len;

static int bad_elf(sv_exec *ex, const char *why)
{
	return sv_err__set(ex->vm, SV_EINVAL, "exec load: not a guest image: %s", why);
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
	mem = sv_memslots__ptr(&ex->vm->memslots, gpa);
	if (!mem)
		return sv_err__set(ex->vm, SV_EFAULT, "exec load: the library's memslot "
						      "has no bytes");
	memset(mem, 0, last - first);
	memcpy(mem + (ph->p_vaddr - first), img + ph->p_offset, ph->p_filesz);
	ex->image_end = MAX(ex->image_end, SV_SYS_IMAGE + (last - SV_GUEST_IMAGE));
	if (ph->p_flags & PF_W)
		flags |= SV_PTE_RW;
	if (!(ph->p_flags & PF_X))
		flags |= SV_PTE_NX;
	return sv_pt_map(ex->gpt, first, gpa, last - first, SV_PAGE_4K, flags);
}

static uint64_t stack_top(unsigned i)
{
	return SV_GUEST_STACKS + (uint64_t)(i + 1) * SV_GUEST_STACK_SIZE;
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
	c->raised = false;
	c->intno = -1;
	c->pending.valid = c->injected.valid = false;
	sv_exec__set_cpl(c, 0);
}

int sv_exec_load_elf(sv_exec *ex, const void *image, size_t len)
{
	const uint8_t *img = image;
	const Elf64_Ehdr *eh = image;
	unsigned i;
	int rc;

	sv_err__clear();
	if (!ex || !image)
		return sv_err__set(ex ? ex->vm : NULL, SV_EINVAL, "sv_exec_load_elf: NULL argument");
	if (ex->loaded)
		return sv_err__set(ex->vm, SV_EBUSY, "exec load: an image is loaded "
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
	return sv_exec__prefault(ex);
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
	{"kpt", SV_GW_KPT, "kvm_page_table_test's stages over the whole region, "
			   "stride = the large page: create, update (dirty "
			   "logging), adjust"},
	{"remap", SV_GW_REMAP, "rewrites its own page table entry, invlpg, "
			       "reads the new page; with count N, N entries "
			       "in six steps (rewrites with and without "
			       "invlpg, rereads, MOV to CR3), counting the "
			       "reads that see the new pages"},
	{"faults", SV_GW_FAULTS, "three accesses to unmapped pages, each a #PF "
				 "its handler steps over"},
	{"sites", SV_GW_SITES, "RDTSC twice, then MOV to CR3 between two reads "
			       "of one word"},
	{"exceptions", SV_GW_EVENTS, "#DE, #UD, #BP, #PF, #GP and INT 0x80 in "
				     "turn, each through its IDT gate"},
	{"reinject", SV_GW_REINJECT, "a #PF whose IST stack (the region's last "
				     "page) the MMU has not mapped yet"},
	{"triple", SV_GW_TRIPLE, "a #PF, then a #DF, whose IST stacks are "
				 "unmapped: shutdown"},
	{"user", SV_GW_USER, "CPL 3 code in the region's first page: a #PF and "
			     "INT 0x80, each onto the kernel stack of the TSS"},
};

const char *sv_workload_name(size_t i)
{
	return i < G_N_ELEMENTS(workloads) ? workloads[i].name : NULL;
}

const char *sv_workload_desc(size_t i)
{
	return i < G_N_ELEMENTS(workloads) ? workloads[i].desc : NULL;
}

/* vm: where the error goes (NULL: no VM); n: the vCPUs. */
static int check_workload(sv_vm *vm, const sv_workload *w, unsigned id,
			  unsigned n)
{
	if (id == SV_GW_FAULTS || id == SV_GW_EVENTS || id == SV_GW_TRIPLE)
		return SV_OK;
	if (id == SV_GW_USER && (w->size < 2 * SV_PAGE_4K || w->gva & 0xfff))
		return sv_err__set(vm, SV_EINVAL, "workload user: the region (user code "
						  "and stack) needs two 4K-aligned pages");
	if (id == SV_GW_REINJECT && (w->size < SV_PAGE_4K || (w->gva + w->size) & 15))
		return sv_err__set(vm, SV_EINVAL, "workload reinject: the region (its "
						  "end is the IST stack's top) needs at "
						  "least 4K and a 16-byte-aligned end");
	if (!w->size || w->gva & 7)
		return sv_err__set(vm, SV_EINVAL, "workload %s: the region needs a "
						      "size and an 8-byte-aligned gva", w->name);
	if ((id == SV_GW_TOUCH || id == SV_GW_KPT || id == SV_GW_CHASE) &&
	    (w->stride < 8 || w->stride & 7 || w->stride > w->size))
		return sv_err__set(vm, SV_EINVAL, "workload %s: stride %" PRIu64
						      " (expected a multiple of 8 up to the "
						      "region size)", w->name, w->stride);
	if (id == SV_GW_KPT && (w->stride & 0xfff || w->size % w->stride))
		return sv_err__set(vm, SV_EINVAL,
				   "workload kpt: stride %" PRIu64 " is its large "
				   "page: a multiple of 4K that divides the "
				   "region (%" PRIu64 " bytes)",
				   w->stride, w->size);
	if (id == SV_GW_REMAP && (w->count > 512 || w->size < 2 * w->count * SV_PAGE_4K))
		return sv_err__set(vm, SV_EINVAL, "workload remap: count %" PRIu64
						  " (expected at most 512 entries, "
						  "with 2 x count guest pages in the "
						  "region)", w->count);
	if ((id == SV_GW_CHASE && w->size / w->stride < 2) ||
	    (id == SV_GW_STREAM && w->size < 24 * n))
		return sv_err__set(vm, SV_EINVAL, "workload %s: region of %" PRIu64
						      " bytes is too small", w->name, w->size);
	if ((id == SV_GW_TOUCH || id == SV_GW_STREAM) && w->passes == 0)
		return sv_err__set(vm, SV_EINVAL, "workload %s: passes must be at "
						      "least 1", w->name);
	if (id == SV_GW_RANDOM && !w->count)
		return sv_err__set(vm, SV_EINVAL, "workload random: count must be "
						      "at least 1");
	return SV_OK;
}

void sv_workload_init(sv_workload *w)
{
	static const sv_workload d = SV_WORKLOAD_INIT;

	if (w)
		memcpy(w, &d, sizeof(d)); /* the padding too */
}

static unsigned workload_id(const char *name)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(workloads); i++)
		if (!strcmp(name, workloads[i].name))
			return workloads[i].id;
	return 0;
}

static int unknown_workload(sv_vm *vm, const char *name)
{
	return sv_err__set(vm, SV_EINVAL, "workload \"%s\": unknown (expected "
					  "touch, stream, random, chase, kpt, remap, "
					  "faults, sites, exceptions, reinject, "
					  "triple or user)", name);
}

int sv_workload_check(const sv_workload *w, unsigned vcpus)
{
	unsigned id;

	sv_err__clear();
	if (!w || !w->name)
		return sv_err__set(NULL, SV_EINVAL, "sv_workload_check: NULL argument");
	if (w->version < 1 || w->version > SV_WORKLOAD_VERSION)
		return sv_err__set(NULL, SV_EINVAL, "workload: version %u (expected 1 "
						    "to %u)", w->version, SV_WORKLOAD_VERSION);
	id = workload_id(w->name);
	return id ? check_workload(NULL, w, id, MAX(vcpus, 1))
		  : unknown_workload(NULL, w->name);
}

int sv_exec_load_workload(sv_exec *ex, const sv_workload *w)
{
	struct sv_guest_params p;
	unsigned id = 0;
	int rc;

	sv_err__clear();
	if (!ex || !w || !w->name)
		return sv_err__set(ex ? ex->vm : NULL, SV_EINVAL,
				   "sv_exec_load_workload: NULL argument");
	if (w->version < 1 || w->version > SV_WORKLOAD_VERSION)
		return sv_err__set(ex->vm, SV_EINVAL, "workload: version %u (expected "
						      "1 to %u)", w->version,
				   SV_WORKLOAD_VERSION);
	id = workload_id(w->name);
	if (!id)
		return unknown_workload(ex->vm, w->name);
	rc = check_workload(ex->vm, w, id, ex->n);
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
	/* the passes that write: a version-1 struct ends before
	 * write_passes */
	p.write = !w->write ? 0 : w->version >= 2 ? w->write_passes
						  : SV_WRITE_EVERY_PASS;
	p.seed = w->seed;
	p.count = w->count;
	p.sys_gpa = ex->sys_gpa;
	p.levels = sv_pt_levels(ex->gpt);
	if (ex->opts.table_pool_gpa) {
		p.tables_gpa = ex->opts.table_pool_gpa;
		p.tables_size = ex->opts.table_pool;
	}
	rc = sv_exec_load_elf(ex, sv_guests__image, sv_guests__image_len);
	if (rc == SV_OK)
		rc = sv_gpa_write(ex->vm, ex->sys_gpa + SV_SYS_BOOT + 0x1000, &p,
				  sizeof(p));
	return rc;
}

int sv_exec_guest_result(uint64_t *out, sv_exec *ex, unsigned i)
{
	sv_err__clear();
	if (!out || !ex)
		return sv_err__set(NULL, SV_EINVAL, "sv_exec_guest_result: NULL argument");
	if (i >= SV_GUEST_MAX_VCPUS)
		return sv_err__set(ex->vm, SV_ERANGE, "guest result %u (expected < %u)",
				   i, SV_GUEST_MAX_VCPUS);
	return sv_gpa_read(ex->vm, ex->sys_gpa + SV_SYS_BOOT + 0x1000 +
					   offsetof(struct sv_guest_params, result) + 8 * i,
			   out, 8);
}

