/*
 * lib/cpu/syscall.c - the system calls of a static Linux program: the
 * table, and the memory, process and time calls (the file calls are in
 * sysfile.c).
 *
 * How it works:
 *  1. The SYSCALL hook reads the number (RAX) and the arguments (RDI, RSI,
 *     RDX, R10, R8, R9), counts the call by number, charges its entry and
 *     return (syscall_cycles) and writes the result to RAX, with RCX and R11
 *     clobbered as the instruction does.  A call not emulated is -ENOSYS,
 *     counted apart.
 *  2. The memory calls are the guest kernel's (sv_guestmm_*): the VMAs and
 *     page tables change there, and the bytes follow (progmem.c); a call
 *     that changed the VMAs stops the engine after it so that the Unicorn
 *     regions follow before the next instruction.
 *  3. Nothing comes from the host: the clock is the vCPU's cycles at
 *     clock_mhz from 2026-01-01 (plus what nanosleep slept), random bytes
 *     come from the seed, every id is fixed (pid and tid 1000, uid and gid
 *     1000, the parent 1).
 *  4. Signals are never delivered: rt_sigaction and rt_sigprocmask accept
 *     and report the defaults; one thread: a futex wait whose value still
 *     matches returns EINTR (a spurious wake-up) rather than hang.
 */
#include <errno.h>

#include "cpu/program.h"
#include "cpu/vcpu.h"
#include "simvirt/hostmm.h"

#define EPOCH_2026 1767225600ULL /* 2026-01-01 00:00:00 UTC */
#define PROG_PID 1000

/* ---- names ---------------------------------------------------------------- */

typedef struct sc_info {
	const char *name;
	bool emulated;
} sc_info;

static const sc_info infos[PROG_SYSCALLS] = {
#define SC_INFO(n, name, emu) [n] = {#name, emu},
	SYSCALL_LIST(SC_INFO)
#undef SC_INFO
};

const char *sv_program_syscall_name(unsigned nr)
{
	return nr < PROG_SYSCALLS ? infos[nr].name : NULL;
}

bool sv_program_syscall_emulated(unsigned nr)
{
	return nr < PROG_SYSCALLS && infos[nr].emulated;
}

/* ---- time and randomness ------------------------------------------------------- */

uint64_t sv_prog__now_ns(const sv_program *p)
{
	uint64_t c = p->v->stat[SV_VCPU_STAT_cycles];

	/* cycles * 1000 / MHz without overflow for centuries of cycles */
	return c / p->o.clock_mhz * 1000 + c % p->o.clock_mhz * 1000 / p->o.clock_mhz +
	       p->sleep_ns;
}

static int64_t put_time(sv_program *p, uint64_t va, uint64_t ns, bool usec)
{
	uint64_t t[2] = {ns / 1000000000ULL, ns % 1000000000ULL};

	if (usec)
		t[1] /= 1000;
	return sv_prog__copy_out(p, va, t, sizeof(t)) ? 0 : -EFAULT;
}

static int64_t clock_now(sv_program *p, uint64_t clk, uint64_t va)
{
	uint64_t ns = sv_prog__now_ns(p);

	switch (clk) {
	case 0:  /* CLOCK_REALTIME */
	case 5:  /* CLOCK_REALTIME_COARSE */
	case 8:  /* CLOCK_REALTIME_ALARM */
	case 11: /* CLOCK_TAI */
		ns += EPOCH_2026 * 1000000000ULL;
		break;
	case 1: case 2: case 3: case 4: case 6: case 7: case 9:
		break; /* since boot: monotonic, CPU time, boottime */
	default:
		return -EINVAL;
	}
	return put_time(p, va, ns, false);
}

static int64_t sleep_for(sv_program *p, uint64_t va)
{
	uint64_t t[2];

	if (!sv_prog__copy_in(p, t, va, sizeof(t)))
		return -EFAULT;
	if ((int64_t)t[0] < 0 || t[1] >= 1000000000ULL)
		return -EINVAL;
	p->sleep_ns += t[0] * 1000000000ULL + t[1];
	return 0;
}

static int64_t getrandom_(sv_program *p, uint64_t va, uint64_t len)
{
	uint8_t buf[256];
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = MIN(len - done, sizeof(buf)), i;

		for (i = 0; i < n; i++)
			buf[i] = (uint8_t)(sv_rng__next(&p->rng) >> 56);
		if (!sv_prog__copy_out(p, va + done, buf, n))
			return done ? (int64_t)done : -EFAULT;
		done += n;
	}
	return (int64_t)done;
}

/* ---- memory ---------------------------------------------------------------------- */

static int64_t err_of(int rc)
{
	switch (rc) {
	case SV_OK:
		return 0;
	case SV_EINVAL:
	case SV_EALIGN:
		return -EINVAL;
	case SV_EFAULT:
		return -EFAULT;
	case SV_EEXIST:
	case SV_EOVERLAP:
		return -EEXIST;
	default:
		return -ENOMEM;
	}
}

static bool is_free(sv_program *p, uint64_t va, uint64_t len)
{
	sv_guestmm_vma m;

	return !sv_guestmm_vma_next(&m, p->gm, va) || m.start >= va + len;
}

enum {
	MAP_SHARED_ = 0x01, MAP_FIXED_ = 0x10, MAP_ANON_ = 0x20,
	MAP_HUGETLB_ = 0x40000, MAP_FIXED_NOREPLACE_ = 0x100000,
	MAP_HUGE_SHIFT_ = 26,
};

static int64_t mmap_(sv_program *p, const uint64_t *a)
{
	uint64_t addr = a[0], len = (a[1] + 4095) & ~4095ULL, flags = a[3];
	unsigned prot = (unsigned)a[2] & 7, gflags = 0;
	int fd = (int)a[4];
	const prog_file *f = NULL;
	uint64_t got;
	int rc;

	if (!a[1] || len < a[1] || (addr & 4095) || (a[5] & 4095))
		return -EINVAL;
	if (!(flags & MAP_ANON_)) {
		f = fd >= 0 && fd < PROG_MAX_FDS ? p->fds[fd] : NULL;
		if (!f)
			return -EBADF;
		if (f->kind != FD_FILE)
			return -EACCES;
		if ((flags & MAP_SHARED_) && (prot & SV_PROT_WRITE))
			return -EACCES; /* the files are read-only */
		gflags |= SV_GMAP_FILE;
	}
	if (flags & MAP_HUGETLB_) {
		unsigned shift = (unsigned)(flags >> MAP_HUGE_SHIFT_) & 0x3f;

		gflags |= shift == 30 ? SV_GMAP_HUGETLB_1G : SV_GMAP_HUGETLB_2M;
	}
	if (flags & (MAP_FIXED_ | MAP_FIXED_NOREPLACE_)) {
		if ((flags & MAP_FIXED_NOREPLACE_) && !is_free(p, addr, len))
			return -EEXIST;
		gflags |= SV_GMAP_FIXED;
	} else if (addr && sv_prog__host(p, addr, len) && is_free(p, addr, len)) {
		gflags |= SV_GMAP_FIXED; /* the hint is free: Linux takes it */
	}
	if ((gflags & SV_GMAP_FIXED) && !sv_prog__host(p, addr, len))
		return -ENOMEM;
	rc = sv_guestmm_mmap(&got, p->gm, addr, len, prot, gflags);
	if (rc != SV_OK)
		return err_of(rc);
	if (!sv_prog__host(p, got, len)) {
		sv_guestmm_munmap(p->gm, got, len);
		return -ENOMEM;
	}
	/* a fixed mapping replaced what was there: fresh pages read zero */
	if (gflags & SV_GMAP_FIXED)
		sv_prog__zero(p, got, len);
	if (f && a[5] < f->len)
		memcpy(sv_prog__host(p, got, len), f->data + a[5],
		       MIN(len, f->len - a[5]));
	p->regions_dirty = true;
	return (int64_t)got;
}

static int64_t munmap_(sv_program *p, uint64_t addr, uint64_t len)
{
	int rc;

	len = (len + 4095) & ~4095ULL;
	if ((addr & 4095) || !len || !sv_prog__host(p, addr, len))
		return -EINVAL;
	rc = sv_guestmm_munmap(p->gm, addr, len);
	if (rc == SV_OK) {
		sv_prog__zero(p, addr, len);
		p->regions_dirty = true;
	}
	return err_of(rc);
}

static int64_t brk_(sv_program *p, uint64_t addr)
{
	uint64_t old, now;

	sv_guestmm_brk(&old, p->gm, 0);
	if (addr && !sv_prog__host(p, old, addr > old ? addr - old : 1))
		return (int64_t)old; /* past the zone: the break stays */
	if (sv_guestmm_brk(&now, p->gm, addr) != SV_OK)
		return (int64_t)old;
	if (now < old)
		sv_prog__zero(p, now, old - now);
	if (now != old)
		p->regions_dirty = true;
	return (int64_t)now;
}

enum { MREMAP_MAYMOVE_ = 1, MREMAP_FIXED_ = 2 };

static int64_t mremap_(sv_program *p, const uint64_t *a)
{
	uint64_t old = a[0], old_len = (a[1] + 4095) & ~4095ULL,
		 new_len = (a[2] + 4095) & ~4095ULL, got;
	unsigned flags = 0;
	int rc;

	if ((old & 4095) || !new_len || (a[3] & ~3ULL))
		return -EINVAL;
	if (a[3] & MREMAP_MAYMOVE_)
		flags |= SV_GMREMAP_MAYMOVE;
	if (a[3] & MREMAP_FIXED_) {
		if (!(a[3] & MREMAP_MAYMOVE_) || !sv_prog__host(p, a[4], new_len))
			return -EINVAL;
		flags |= SV_GMREMAP_FIXED;
		sv_prog__zero(p, a[4], new_len); /* what was there goes */
	}
	rc = sv_guestmm_mremap(&got, p->gm, old, old_len, new_len, flags, a[4]);
	if (rc != SV_OK)
		return err_of(rc);
	if (!sv_prog__host(p, got, new_len)) {
		sv_guestmm_munmap(p->gm, got, new_len);
		sv_prog__zero(p, old, old_len);
		p->regions_dirty = true;
		return -ENOMEM;
	}
	if (got != old)
		sv_prog__move(p, old, got, MIN(old_len, new_len));
	else if (new_len < old_len)
		sv_prog__zero(p, old + new_len, old_len - new_len);
	p->regions_dirty = true;
	return (int64_t)got;
}

static int64_t madvise_(sv_program *p, uint64_t addr, uint64_t len,
			uint64_t advice)
{
	unsigned collapsed;
	int rc;

	len = (len + 4095) & ~4095ULL;
	if (addr & 4095)
		return -EINVAL;
	switch (advice) {
	case 0: case 1: case 2: case 3: /* NORMAL, RANDOM, SEQUENTIAL, WILLNEED */
		return 0;
	case 4: /* MADV_DONTNEED */
		rc = sv_guestmm_madvise(p->gm, addr, len, SV_GMADV_DONTNEED);
		if (rc == SV_OK)
			sv_prog__zero(p, addr, len);
		return err_of(rc);
	case 8: /* MADV_FREE: no reclaim, the bytes stay */
		return err_of(sv_guestmm_madvise(p->gm, addr, len, SV_GMADV_FREE));
	case 14:
		return err_of(sv_guestmm_madvise(p->gm, addr, len, SV_GMADV_HUGEPAGE));
	case 15:
		return err_of(sv_guestmm_madvise(p->gm, addr, len,
						 SV_GMADV_NOHUGEPAGE));
	case 25: /* MADV_COLLAPSE */
		return err_of(sv_guestmm_collapse(p->gm, p->v, addr, len, &collapsed));
	default:
		return -EINVAL;
	}
}

/* ---- process ------------------------------------------------------------------- */

static int64_t arch_prctl_(sv_program *p, uint64_t code, uint64_t arg)
{
	switch (code) {
	case 0x1001: /* ARCH_SET_GS */
		p->gs_base = arg;
		uc_reg_write(p->uc, UC_X86_REG_GS_BASE, &arg);
		return 0;
	case 0x1002: /* ARCH_SET_FS */
		p->fs_base = arg;
		uc_reg_write(p->uc, UC_X86_REG_FS_BASE, &arg);
		return 0;
	case 0x1003: /* ARCH_GET_FS */
		return sv_prog__copy_out(p, arg, &p->fs_base, 8) ? 0 : -EFAULT;
	case 0x1004: /* ARCH_GET_GS */
		return sv_prog__copy_out(p, arg, &p->gs_base, 8) ? 0 : -EFAULT;
	default:
		return -EINVAL;
	}
}

static int64_t rlimit(sv_program *p, uint64_t resource, uint64_t old_va)
{
	uint64_t lim[2] = {UINT64_MAX, UINT64_MAX};

	if (resource >= 16)
		return -EINVAL;
	if (resource == 3) /* RLIMIT_STACK */
		lim[0] = PROG_STACK_SIZE;
	else if (resource == 7) /* RLIMIT_NOFILE */
		lim[0] = lim[1] = PROG_MAX_FDS;
	if (old_va && !sv_prog__copy_out(p, old_va, lim, sizeof(lim)))
		return -EFAULT;
	return 0;
}

static int64_t uname_(sv_program *p, uint64_t va)
{
	static const char *const f[6] = {"Linux", "simvirt", "6.1.0",
					 "#1 SMP simvirt", "x86_64", "(none)"};
	char u[6][65];
	unsigned i;

	memset(u, 0, sizeof(u));
	for (i = 0; i < 6; i++)
		g_strlcpy(u[i], f[i], sizeof(u[i]));
	return sv_prog__copy_out(p, va, u, sizeof(u)) ? 0 : -EFAULT;
}

static int64_t sysinfo_(sv_program *p, uint64_t va)
{
	/* struct sysinfo: uptime, loads[3], totalram, freeram, sharedram,
	 * bufferram, totalswap, freeswap, procs (u16) ..., mem_unit (u32) */
	uint8_t s[112] = {0};
	uint64_t up = sv_prog__now_ns(p) / 1000000000ULL,
		 total = 1ULL << 30,
		 used = 4096 * (sv_guestmm_stat_get(p->gm, SV_GUESTMM_STAT_pgalloc) -
				sv_guestmm_stat_get(p->gm, SV_GUESTMM_STAT_pgfree)),
		 free = total - MIN(total, used);
	uint16_t procs = 1;
	uint32_t unit = 1;

	memcpy(s, &up, 8);
	memcpy(s + 32, &total, 8);
	memcpy(s + 40, &free, 8);
	memcpy(s + 80, &procs, 2);
	memcpy(s + 104, &unit, 4);
	return sv_prog__copy_out(p, va, s, sizeof(s)) ? 0 : -EFAULT;
}

static int64_t futex_(sv_program *p, const uint64_t *a)
{
	uint32_t now;

	switch (a[1] & 0x7f) {
	case 0: /* FUTEX_WAIT */
	case 9: /* FUTEX_WAIT_BITSET */
		if (!sv_prog__copy_in(p, &now, a[0], 4))
			return -EFAULT;
		return now != (uint32_t)a[2] ? -EAGAIN : -EINTR;
	case 1:  /* FUTEX_WAKE */
	case 10: /* FUTEX_WAKE_BITSET */
		return 0; /* nobody else waits */
	default:
		return -ENOSYS;
	}
}

static int64_t zeros_out(sv_program *p, uint64_t va, size_t n)
{
	uint8_t z[128] = {0};

	return !va || sv_prog__copy_out(p, va, z, MIN(n, sizeof(z))) ? 0 : -EFAULT;
}

static int64_t call(sv_program *p, unsigned nr, const uint64_t *a)
{
	int64_t ret;
	uint64_t one = 1;

	if (sv_prog__file_call(p, nr, a, &ret))
		return ret;
	switch (nr) {
	case SYS_brk: return brk_(p, a[0]);
	case SYS_mmap: return mmap_(p, a);
	case SYS_munmap: return munmap_(p, a[0], a[1]);
	case SYS_mprotect:
		if (a[0] & 4095)
			return -EINVAL;
		ret = err_of(sv_guestmm_mprotect(p->gm, a[0], (a[1] + 4095) & ~4095ULL,
						 (unsigned)a[2] & 7));
		p->regions_dirty |= ret == 0;
		return ret;
	case SYS_mremap: return mremap_(p, a);
	case SYS_madvise: return madvise_(p, a[0], a[1], a[2]);
	case SYS_exit:
	case SYS_exit_group:
		sv_prog__finish(p, SV_PROGRAM_EXITED, (int)(a[0] & 0xff), 0);
		return 0;
	case SYS_arch_prctl: return arch_prctl_(p, a[0], a[1]);
	case SYS_set_tid_address: return PROG_PID;
	case SYS_set_robust_list: return 0;
	case SYS_prlimit64:
		return a[0] && a[0] != PROG_PID ? -ESRCH : rlimit(p, a[1], a[3]);
	case SYS_getrlimit: return rlimit(p, a[0], a[1]);
	case SYS_getpid: case SYS_gettid: case SYS_getpgrp: return PROG_PID;
	case SYS_getppid: return 1;
	case SYS_getuid: case SYS_geteuid: case SYS_getgid: case SYS_getegid:
		return 1000;
	case SYS_umask: return 022;
	case SYS_uname: return uname_(p, a[0]);
	case SYS_sysinfo: return sysinfo_(p, a[0]);
	case SYS_getrandom: return getrandom_(p, a[0], a[1]);
	case SYS_clock_gettime: return clock_now(p, a[0], a[1]);
	case SYS_clock_getres:
		return a[1] ? put_time(p, a[1], 1, false) : 0;
	case SYS_gettimeofday:
		return a[0] ? put_time(p, a[0], sv_prog__now_ns(p) +
						      EPOCH_2026 * 1000000000ULL, true)
			    : 0;
	case SYS_time:
		ret = (int64_t)(EPOCH_2026 + sv_prog__now_ns(p) / 1000000000ULL);
		return !a[0] || sv_prog__copy_out(p, a[0], &ret, 8) ? ret : -EFAULT;
	case SYS_nanosleep: return sleep_for(p, a[0]);
	case SYS_clock_nanosleep: return a[1] & 1 ? 0 : sleep_for(p, a[2]);
	case SYS_sched_yield: return 0;
	case SYS_sched_getaffinity:
		if (a[1] < 8)
			return -EINVAL;
		return sv_prog__copy_out(p, a[2], &one, 8) ? 8 : -EFAULT;
	case SYS_futex: return futex_(p, a);
	case SYS_rt_sigaction: return zeros_out(p, a[2], 32);
	case SYS_rt_sigprocmask: return zeros_out(p, a[2], 8);
	case SYS_sigaltstack: return zeros_out(p, a[1], 24);
	case SYS_prctl:
		if (a[0] == 15) /* PR_SET_NAME */
			return 0;
		if (a[0] == 16) /* PR_GET_NAME */
			return sv_prog__copy_out(p, a[1], "program\0\0\0\0\0\0\0\0",
						 16) ? 0 : -EFAULT;
		return -EINVAL;
	default:
		p->stat[SV_PROGRAM_STAT_syscalls_enosys]++;
		return -ENOSYS;
	}
}

void sv_prog__syscall(sv_program *p)
{
	static const int regs[6] = {UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX,
				    UC_X86_REG_R10, UC_X86_REG_R8, UC_X86_REG_R9};
	uint64_t a[6], nr, rip, flags, ret;
	unsigned i;

	uc_reg_read(p->uc, UC_X86_REG_RAX, &nr);
	uc_reg_read(p->uc, UC_X86_REG_RIP, &rip);
	uc_reg_read(p->uc, UC_X86_REG_EFLAGS, &flags);
	for (i = 0; i < 6; i++)
		uc_reg_read(p->uc, regs[i], &a[i]);
	p->stat[SV_PROGRAM_STAT_syscalls]++;
	if (nr < PROG_SYSCALLS)
		p->calls[nr]++;
	p->stat[SV_PROGRAM_STAT_syscall_cycles] += p->o.syscall_cycles;
	p->v->stat[SV_VCPU_STAT_cycles] += p->o.syscall_cycles;
	ret = (uint64_t)(nr < PROG_SYSCALLS ? call(p, (unsigned)nr, a)
					    : (p->stat[SV_PROGRAM_STAT_syscalls_enosys]++,
					       -ENOSYS));
	uc_reg_write(p->uc, UC_X86_REG_RAX, &ret);
	rip += 2; /* Unicorn steps past SYSCALL after the hook */
	uc_reg_write(p->uc, UC_X86_REG_RCX, &rip);
	uc_reg_write(p->uc, UC_X86_REG_R11, &flags);
	if (p->regions_dirty && !p->final) {
		p->rip = rip;
		p->stop_now = true;
		uc_emu_stop(p->uc);
	}
}
