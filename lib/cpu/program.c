/*
 * lib/cpu/program.c - a static Linux program on Unicorn: the engine, its
 * hooks and the run loop.
 *
 * How it works:
 *  1. sv_program_new loads the ELF and builds the initial stack
 *     (elfload.c), opens the files (sysfile.c) and an engine in 64-bit
 *     mode without paging (Unicorn 2.0.1's paging does not translate), with
 *     CR4.OSFXSR so that SSE runs, and the regions over the VMAs
 *     (progmem.c).  The vCPU's model CPL is 3: user pages only.
 *  2. The block hook charges each block's base cycles (decoded once with
 *     Capstone, the built-in guests' cost table) and, in detailed mode,
 *     sends its bytes through the guest kernel as fetches.  It stops the
 *     engine before a block when the call's instructions are used up, the
 *     mode is to change, or the block holds an RDTSC not hooked yet.
 *  3. The memory hook (detailed mode) sends each access through
 *     sv_guestmm_access(): demand paging and guest THP first, then the
 *     TLBs, the 2D walk and the hypervisor MMU.  A fault the guest kernel
 *     does not resolve is the program's SIGSEGV (SIGBUS for an empty
 *     hugetlbfs pool).
 *  4. SYSCALL is hooked (syscall.c); RDTSC returns the vCPU's cycles.
 *     After a call that changed the VMAs the engine stops at the next
 *     instruction so the regions follow before it goes on.
 *     khugepaged wakes between blocks every khugepaged_period
 *     instructions.
 *  5. An exception Unicorn raises (#UD, #DE, #GP...) or hlt ends the run
 *     with the signal Linux would send.
 */
#include "cpu/exec.h"
#include "cpu/program.h"
#include "cpu/vcpu.h"

void sv_program_options_init(sv_program_options *o)
{
	static const sv_program_options d = SV_PROGRAM_OPTIONS_INIT;

	if (o)
		memcpy(o, &d, sizeof(d));
}

const char *sv_program_stop_name(sv_program_stop s)
{
	static const char *const names[] = {
		[SV_PROGRAM_EXITED] = "exited", [SV_PROGRAM_LIMIT] = "limit",
		[SV_PROGRAM_SIGSEGV] = "SIGSEGV", [SV_PROGRAM_SIGBUS] = "SIGBUS",
		[SV_PROGRAM_SIGILL] = "SIGILL", [SV_PROGRAM_SIGFPE] = "SIGFPE",
		[SV_PROGRAM_FAULT] = "fault",
	};

	return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "?";
}

void sv_prog__finish(sv_program *p, sv_program_stop stop, int status,
		     uint64_t addr)
{
	if (p->final)
		return;
	p->final = true;
	p->res.stop = stop;
	p->res.status = status;
	p->res.addr = addr;
	uc_reg_read(p->uc, UC_X86_REG_RIP, &p->res.rip);
	p->stop_now = true;
	uc_emu_stop(p->uc);
}

/* ---- blocks ------------------------------------------------------------------ */

static prog_block *block_slot(sv_program *p, uint64_t addr)
{
	return &p->blocks[(addr * 0x9e3779b97f4a7c15ULL) >> (64 - 14)];
}

/* An RDTSC ends the block (a code hook returns the cycles); the first
 * time, the block is hooked before it runs. */
static bool rdtsc_site(const cs_insn *in, void *payload)
{
	sv_program *p = payload;
	guint i;

	if (in->id != X86_INS_RDTSC)
		return false;
	for (i = 0; i < p->rdtsc_sites->len; i++)
		if (g_array_index(p->rdtsc_sites, uint64_t, i) == in->address)
			return true;
	p->rdtsc_new = in->address;
	return true;
}

static void decode(sv_program *p, uint64_t addr, uint32_t size, prog_block *b)
{
	p->rdtsc_new = 0;
	sv_exec__decode_block(p->cs, p->insn, &p->vm->opts.costs,
			      sv_prog__host(p, addr, size), addr, size, &b->b,
			      rdtsc_site, p);
	b->rdtsc = p->rdtsc_new;
}

static void on_rdtsc(uc_engine *uc, uint64_t addr, uint32_t size, void *payload)
{
	sv_program *p = payload;
	uint64_t t = p->v->stat[SV_VCPU_STAT_cycles], lo = t & 0xffffffffULL,
		 hi = t >> 32, next = addr + size;

	uc_reg_write(uc, UC_X86_REG_RAX, &lo);
	uc_reg_write(uc, UC_X86_REG_RDX, &hi);
	uc_reg_write(uc, UC_X86_REG_RIP, &next);
}

/* The block's RDTSC gets its code hook (before the block runs). */
static int hook_rdtsc(sv_program *p, prog_block *b)
{
	uc_hook h;

	if (uc_hook_add(p->uc, &h, UC_HOOK_CODE, on_rdtsc, p, b->rdtsc, b->rdtsc) !=
	    UC_ERR_OK)
		return sv_err__set(p->vm, SV_ENOMEM,
				   "program: Unicorn refused a code hook");
	g_array_append_val(p->rdtsc_sites, b->rdtsc);
	b->rdtsc = 0;
	/* code translated before the hook does not call it */
	uc_ctl_remove_cache(p->uc, b->b.addr, b->b.addr + b->b.size);
	return SV_OK;
}

static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *payload)
{
	sv_program *p = payload;
	prog_block *b = block_slot(p, addr);
	uint64_t a, end;

	if (SV_UNLIKELY(b->b.addr != addr || b->b.size != size))
		decode(p, addr, size, b);
	if (SV_UNLIKELY(b->rdtsc || p->mode_change || p->stop_now ||
			p->v->stat[SV_VCPU_STAT_instructions] >= p->stop_at)) {
		p->rip = addr; /* it has not run */
		p->stop_now = true;
		uc_emu_stop(uc);
		return;
	}
	p->v->stat[SV_VCPU_STAT_instructions] += b->b.ninsn;
	p->v->stat[SV_VCPU_STAT_insn_cycles] += b->b.cycles;
	p->v->stat[SV_VCPU_STAT_cycles] += b->b.cycles;
	if (!p->detailed)
		return;
	for (a = addr, end = addr + b->b.bytes; a < end; a = (a | 0xfff) + 1) {
		uint32_t n = (uint32_t)(MIN(end, (a | 0xfff) + 1) - a);
		sv_xlate x;

		int rc = sv_vcpu_translate(&x, p->v, a, n, SV_ACCESS_FETCH);

		if (SV_UNLIKELY(rc == SV_OK && x.fault.kind != SV_FAULT_NONE))
			rc = sv_guestmm_fault_in(&x, p->gm, p->v, a, n,
						 SV_ACCESS_FETCH);
		if (SV_UNLIKELY(rc != SV_OK)) {
			p->error = rc;
			p->stop_now = true;
			uc_emu_stop(uc);
			return;
		}
		if (SV_UNLIKELY(x.fault.kind != SV_FAULT_NONE)) {
			sv_prog__finish(p, x.fault.kind == SV_FAULT_PF
						   ? SV_PROGRAM_SIGSEGV
						   : SV_PROGRAM_FAULT, 0, a);
			p->res.fault = x.fault;
			return;
		}
	}
}

/* ---- memory ------------------------------------------------------------------ */

static void on_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		   int64_t value, void *payload)
{
	sv_program *p = payload;
	sv_access acc = type == UC_MEM_WRITE ? SV_ACCESS_WRITE : SV_ACCESS_READ;
	sv_xlate x;
	int rc;

	SV_UNUSED(uc);
	SV_UNUSED(value);
	/* the translation; the guest kernel only when it faulted */
	rc = sv_vcpu_translate(&x, p->v, addr, (uint32_t)size, acc);
	if (SV_LIKELY(rc == SV_OK && x.fault.kind == SV_FAULT_NONE))
		return;
	if (rc == SV_OK)
		rc = sv_guestmm_fault_in(&x, p->gm, p->v, addr, (uint32_t)size, acc);
	if (rc == SV_OK && x.fault.kind == SV_FAULT_NONE)
		return;
	sv_prog__finish(p, rc == SV_ESIGBUS ? SV_PROGRAM_SIGBUS
		       : x.fault.kind == SV_FAULT_PF ? SV_PROGRAM_SIGSEGV
						     : SV_PROGRAM_FAULT,
			0, addr);
	p->res.fault = x.fault;
}

static bool on_bad_access(uc_engine *uc, uc_mem_type type, uint64_t addr,
			  int size, int64_t value, void *payload)
{
	SV_UNUSED(uc);
	SV_UNUSED(type);
	SV_UNUSED(size);
	SV_UNUSED(value);
	sv_prog__finish(payload, SV_PROGRAM_SIGSEGV, 0, addr);
	return false;
}

static void on_intr(uc_engine *uc, uint32_t intno, void *payload)
{
	SV_UNUSED(uc);
	sv_prog__finish(payload, intno == 0 ? SV_PROGRAM_SIGFPE
			: intno == 6 ? SV_PROGRAM_SIGILL : SV_PROGRAM_SIGSEGV,
			0, 0);
}

static bool on_invalid(uc_engine *uc, void *payload)
{
	SV_UNUSED(uc);
	sv_prog__finish(payload, SV_PROGRAM_SIGILL, 0, 0);
	return false;
}

static void on_syscall(uc_engine *uc, void *payload)
{
	SV_UNUSED(uc);
	sv_prog__syscall(payload);
}

static void set_detailed(sv_program *p, bool on)
{
	if (on == p->detailed)
		return;
	if (on)
		uc_hook_add(p->uc, &p->h_mem, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
			    on_mem, p, 1, 0);
	else
		uc_hook_del(p->uc, p->h_mem);
	p->detailed = on;
	/* code translated before carries the old hooks */
	if (p->started)
		uc_ctl_flush_tlb(p->uc);
}

/* ---- set-up ------------------------------------------------------------------ */

static int engine_open(sv_program *p)
{
	uint64_t cr4 = SV_CR4_PAE | (1ULL << 9) | (1ULL << 10); /* OSFXSR,
								    OSXMMEXCPT */
	uint64_t cr0 = 0x33; /* PE, MP, ET, NE: no paging in Unicorn */
	uc_hook h;
	uc_err e;

	if ((e = uc_open(UC_ARCH_X86, UC_MODE_64, &p->uc)) != UC_ERR_OK)
		return sv_err__set(p->vm, SV_ENOMEM, "program: uc_open: %s",
				   uc_strerror(e));
	uc_reg_write(p->uc, UC_X86_REG_CR0, &cr0);
	uc_reg_write(p->uc, UC_X86_REG_CR4, &cr4);
	uc_reg_write(p->uc, UC_X86_REG_RSP, &p->rsp);
	e = uc_hook_add(p->uc, &p->h_block, UC_HOOK_BLOCK, on_block, p, 1, 0);
	if (e == UC_ERR_OK)
		e = uc_hook_add(p->uc, &h, UC_HOOK_INSN, on_syscall, p, 1, 0,
				UC_X86_INS_SYSCALL);
	if (e == UC_ERR_OK)
		e = uc_hook_add(p->uc, &h, UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT,
				on_bad_access, p, 1, 0);
	if (e == UC_ERR_OK)
		e = uc_hook_add(p->uc, &h, UC_HOOK_INTR, on_intr, p, 1, 0);
	if (e == UC_ERR_OK)
		e = uc_hook_add(p->uc, &h, UC_HOOK_INSN_INVALID, on_invalid, p, 1, 0);
	if (e != UC_ERR_OK)
		return sv_err__set(p->vm, SV_ENOMEM, "program: Unicorn hook: %s",
				   uc_strerror(e));
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &p->cs) != CS_ERR_OK)
		return sv_err__set(p->vm, SV_ENOMEM, "program: Capstone would not "
						     "open");
	cs_option(p->cs, CS_OPT_DETAIL, CS_OPT_ON);
	p->insn = cs_malloc(p->cs);
	p->blocks = g_new0(prog_block, PROG_BLOCKS);
	memset(p->blocks, 0xff, sizeof(prog_block) * PROG_BLOCKS);
	p->rdtsc_sites = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	set_detailed(p, p->o.mode == SV_EXEC_DETAILED);
	return SV_OK;
}

static int check(const sv_program_options *o)
{
	if (o->version != SV_PROGRAM_OPTIONS_VERSION)
		return sv_err__set(NULL, SV_EINVAL, "program options: version %u "
						    "(expected %u)", o->version,
				   SV_PROGRAM_OPTIONS_VERSION);
	if (!o->path || !*o->path)
		return sv_err__set(NULL, SV_EINVAL, "program options: no path");
	if (o->mode != SV_EXEC_DETAILED && o->mode != SV_EXEC_FAST_FORWARD)
		return sv_err__set(NULL, SV_EINVAL, "program options: mode %d",
				   (int)o->mode);
	if (o->clock_mhz == 0)
		return sv_err__set(NULL, SV_EINVAL, "program options: clock_mhz "
						    "0 (expected at least 1)");
	if (o->nfiles && !o->files)
		return sv_err__set(NULL, SV_EINVAL, "program options: nfiles %zu "
						    "without files", o->nfiles);
	return SV_OK;
}

int sv_program_new(sv_program **out, sv_guestmm *gm, sv_vcpu *v,
		   const sv_program_options *o)
{
	sv_program *p;
	sv_guestmm_vma m;
	sv_vcpu_regs r;
	int rc;

	sv_err__clear();
	if (!out || !gm || !v || !o)
		return sv_err__set(NULL, SV_EINVAL, "sv_program_new: NULL argument");
	*out = NULL;
	if ((rc = check(o)) != SV_OK)
		return rc;
	if (sv_guestmm_vma_next(&m, gm, 0))
		return sv_err__set(NULL, SV_EBUSY, "sv_program_new: the process "
						   "already has mappings");
	p = g_new0(sv_program, 1);
	p->gm = gm;
	p->v = v;
	p->vm = v->vm;
	p->o = *o;
	p->path = g_strdup(o->path);
	p->name = g_strdup(o->name ? o->name : o->path);
	p->regions = g_array_new(FALSE, FALSE, sizeof(prog_region));
	p->rng = o->seed;
	sv_vcpu_get_regs(v, &r);
	r.cpl = 3;
	rc = sv_vcpu_set_regs(v, &r);
	if (rc == SV_OK)
		rc = sv_prog__zones_init(p);
	if (rc == SV_OK)
		rc = sv_prog__files_init(p);
	if (rc == SV_OK)
		rc = sv_prog__load(p);
	if (rc == SV_OK)
		rc = engine_open(p);
	if (rc == SV_OK)
		rc = sv_prog__regions_sync(p);
	if (rc != SV_OK) {
		sv_program_free(p);
		return rc;
	}
	p->rip = p->entry;
	p->khugepaged_at = o->khugepaged_period ? o->khugepaged_period : UINT64_MAX;
	p->detail_at = o->mode == SV_EXEC_FAST_FORWARD && o->detail_at ? o->detail_at
									: UINT64_MAX;
	*out = p;
	return SV_OK;
}

void sv_program_free(sv_program *p)
{
	if (!p)
		return;
	if (p->uc)
		uc_close(p->uc);
	if (p->insn)
		cs_free(p->insn, 1);
	if (p->cs)
		cs_close(&p->cs);
	sv_prog__files_free(p);
	sv_prog__zones_free(p);
	g_free(p->blocks);
	if (p->rdtsc_sites)
		g_array_free(p->rdtsc_sites, TRUE);
	g_array_free(p->regions, TRUE);
	g_free(p->path);
	g_free(p->name);
	g_free(p);
}

static void empty_block(uc_engine *uc, uint64_t addr, uint32_t size, void *payload)
{
	SV_UNUSED(uc);
	SV_UNUSED(addr);
	SV_UNUSED(size);
	SV_UNUSED(payload);
}

static void empty_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		      int64_t value, void *payload)
{
	SV_UNUSED(uc);
	SV_UNUSED(type);
	SV_UNUSED(addr);
	SV_UNUSED(size);
	SV_UNUSED(value);
	SV_UNUSED(payload);
}

int sv_prog__probe(sv_program *p, prog_probe k)
{
	uc_hook h;

	if (p->started)
		return sv_err__set(p->vm, SV_EBUSY, "program: it has run");
	set_detailed(p, false);
	uc_hook_del(p->uc, p->h_block);
	if (k == PROG_PROBE_EMPTY &&
	    (uc_hook_add(p->uc, &h, UC_HOOK_BLOCK, empty_block, p, 1, 0) ||
	     uc_hook_add(p->uc, &h, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, empty_mem,
			 p, 1, 0)))
		return sv_err__set(p->vm, SV_ENOMEM, "program: Unicorn hook");
	return SV_OK;
}

/* ---- running ------------------------------------------------------------------ */

void sv_program_set_mode(sv_program *p, sv_exec_mode mode)
{
	p->mode_next = mode;
	p->mode_change = true;
}

/* What a stop between blocks needs before the engine goes on: the events
 * due, then the next stop. */
static int settle(sv_program *p)
{
	uint64_t now = p->v->stat[SV_VCPU_STAT_instructions];
	prog_block *b = block_slot(p, p->rip);
	int rc = SV_OK;

	if (now >= p->detail_at) {
		p->detail_at = UINT64_MAX;
		p->mode_next = SV_EXEC_DETAILED;
		p->mode_change = true;
	}
	if (p->mode_change) {
		p->mode_change = false;
		set_detailed(p, p->mode_next == SV_EXEC_DETAILED);
	}
	if (now >= p->khugepaged_at) {
		unsigned n;

		p->khugepaged_at += p->o.khugepaged_period;
		rc = sv_guestmm_khugepaged(p->gm, p->v, &n);
	}
	if (rc == SV_OK && p->regions_dirty)
		rc = sv_prog__regions_sync(p);
	if (rc == SV_OK && b->b.addr == p->rip && b->rdtsc)
		rc = hook_rdtsc(p, b);
	p->stop_at = MIN(p->limit_at, MIN(p->khugepaged_at, p->detail_at));
	return rc;
}

int sv_program_run(sv_program_result *out, sv_program *p, uint64_t limit)
{
	uint64_t now;

	sv_err__clear();
	if (!out || !p)
		return sv_err__set(NULL, SV_EINVAL, "sv_program_run: NULL argument");
	now = p->v->stat[SV_VCPU_STAT_instructions];
	p->limit_at = limit && limit <= UINT64_MAX - now ? now + limit : UINT64_MAX;
	while (!p->final) {
		uc_err e;
		int rc = settle(p);

		if (rc != SV_OK)
			return rc;
		if (p->v->stat[SV_VCPU_STAT_instructions] >= p->limit_at) {
			*out = (sv_program_result){.stop = SV_PROGRAM_LIMIT,
						   .rip = p->rip};
			return SV_OK;
		}
		p->stop_now = false;
		p->started = true;
		e = uc_emu_start(p->uc, p->rip, 0, 0, 0);
		if (p->error)
			return p->error;
		if (p->final)
			break;
		if (!p->stop_now) {
			/* Unicorn ended by itself: hlt (a #GP at CPL 3) or an
			 * error of its own */
			uc_reg_read(p->uc, UC_X86_REG_RIP, &p->rip);
			sv_prog__finish(p, e == UC_ERR_INSN_INVALID
						   ? SV_PROGRAM_SIGILL
						   : SV_PROGRAM_SIGSEGV, 0, 0);
		}
	}
	*out = p->res;
	return SV_OK;
}

/* ---- what it reports ---------------------------------------------------------- */

uint64_t sv_program_stat_get(const sv_program *p, sv_program_stat s)
{
	return p && (unsigned)s < SV_PROGRAM_STAT__COUNT ? p->stat[s] : 0;
}

#define PSTAT_NAME(name, desc) #name,
#define PSTAT_DESC(name, desc) desc,
static const char *const stat_names[] = {SV_PROGRAM_STAT_LIST(PSTAT_NAME)};
static const char *const stat_descs[] = {SV_PROGRAM_STAT_LIST(PSTAT_DESC)};

const char *sv_program_stat_name(sv_program_stat s)
{
	return (unsigned)s < SV_PROGRAM_STAT__COUNT ? stat_names[s] : NULL;
}

const char *sv_program_stat_desc(sv_program_stat s)
{
	return (unsigned)s < SV_PROGRAM_STAT__COUNT ? stat_descs[s] : NULL;
}

uint64_t sv_program_syscall_count(const sv_program *p, unsigned nr)
{
	return p && nr < PROG_SYSCALLS ? p->calls[nr] : 0;
}
