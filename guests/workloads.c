/*
 * guests/workloads.c - the guest workloads, one function each, chosen by
 * the parameter block.  Every vCPU runs main(cpu) on its own share of the
 * region; sync points mark the phases the host binds actions to.
 *
 * Accesses are volatile so that the compiler keeps each one: the point is
 * the exact stream of loads and stores the model sees.
 */
#include "guest.h"

#define V64(a) (*(volatile u64 *)(a))

/* Pass over this vCPU's share of the region, one 8-byte access per
 * stride; writes store `val`. */
static void pass(u64 cpu, int write, u64 val)
{
	u64 stride = PARAMS->stride, first, n, i;
	u64 base = PARAMS->gva;

	share(PARAMS->size / stride, cpu, PARAMS->vcpus, &first, &n);
	base += first * stride;
	if (write) {
		for (i = 0; i < n; i++)
			V64(base + i * stride) = val;
	} else {
		u64 sum = 0;

		for (i = 0; i < n; i++)
			sum += V64(base + i * stride);
		PARAMS->result[cpu] = sum;
	}
}

/* touch: sync N before pass N (N = 1..passes), sync passes+1 at the end. */
void touch(u64 cpu)
{
	u64 p;

	for (p = 1; p <= PARAMS->passes; p++) {
		sync_point((u32)p);
		pass(cpu, (PARAMS->write >> (p > 64 ? 63 : p - 1)) & 1, p);
	}
	sync_point((u32)PARAMS->passes + 1);
}

/*
 * kvm_page_table_test's guest_code: every vCPU works over the whole region,
 * whose large page (the backing's page size) is the stride; host pages are
 * 4K.  Each stage follows its sync point; sync 4 at the end.
 *  create  the first 8 bytes of each large page: even vCPUs write, odd
 *          ones read;
 *  update  4K backing: a write to every page; else, per large page, a
 *          write to its first page and a read of each page of its upper
 *          half;
 *  adjust  a read of every 4K page.
 */
void kpt(u64 cpu)
{
	u64 large = PARAMS->stride, n = PARAMS->size / large, i, j;
	u64 base = PARAMS->gva, sum = 0;

	sync_point(1);
	for (i = 0; i < n; i++) {
		if (cpu % 2 == 0)
			V64(base + i * large) = 0x0123456789abcdefULL;
		else
			sum += V64(base + i * large);
	}
	sync_point(2);
	for (i = 0; i < n; i++) {
		u64 lp = base + i * large;

		V64(lp) = 0x0123456789abcdefULL;
		for (j = large / 2; large > 4096 && j < large; j += 4096)
			sum += V64(lp + j);
	}
	sync_point(3);
	for (i = 0; i < PARAMS->size; i += 4096)
		sum += V64(base + i);
	PARAMS->result[cpu] = sum;
	sync_point(4);
}

/* STREAM: three arrays a, b, c of 8-byte words share the region; each pass
 * runs copy, scale, add and triad over this vCPU's part of them. */
void stream(u64 cpu)
{
	u64 n = PARAMS->size / 24, first, cnt, i, p;
	volatile u64 *a = (volatile u64 *)PARAMS->gva, *b = a + n, *c = b + n;

	share(n, cpu, PARAMS->vcpus, &first, &cnt);
	for (i = first; i < first + cnt; i++)
		a[i] = i;
	for (p = 1; p <= PARAMS->passes; p++) {
		sync_point((u32)p);
		for (i = first; i < first + cnt; i++)
			c[i] = a[i];
		for (i = first; i < first + cnt; i++)
			b[i] = 3 * c[i];
		for (i = first; i < first + cnt; i++)
			c[i] = a[i] + b[i];
		for (i = first; i < first + cnt; i++)
			a[i] = b[i] + 3 * c[i];
	}
	sync_point((u32)PARAMS->passes + 1);
}

/* GUPS-style: `count` read-modify-write updates of random 8-byte words of
 * the whole region, from a generator seeded per vCPU. */
void random_updates(u64 cpu)
{
	u64 words = PARAMS->size / 8, s = PARAMS->seed + cpu, i;
	volatile u64 *t = (volatile u64 *)PARAMS->gva;

	sync_point(1);
	for (i = 0; i < PARAMS->count; i++) {
		u64 r = rng_next(&s);

		t[r % words] ^= r;
	}
	sync_point(2);
}

/* Pointer chase: vCPU 0 links one node per stride into a single random
 * cycle (Sattolo's shuffle); after sync 1 each vCPU follows `count` links
 * (passes times the node count when count is 0); sync 2 at the end. */
void chase(u64 cpu)
{
	u64 stride = PARAMS->stride, n = PARAMS->size / stride;
	u64 base = PARAMS->gva, steps = PARAMS->count, p, i;

	if (cpu == 0) {
		u64 s = PARAMS->seed;

		for (i = 0; i < n; i++)
			V64(base + i * stride) = base + i * stride;
		for (i = n - 1; i > 0; i--) {
			u64 j = rng_next(&s) % i, t = V64(base + i * stride);

			V64(base + i * stride) = V64(base + j * stride);
			V64(base + j * stride) = t;
		}
	}
	sync_point(1);
	if (!steps)
		steps = PARAMS->passes * n;
	p = base + (cpu * n / PARAMS->vcpus) * stride;
	for (i = 0; i < steps; i++)
		p = V64(p);
	PARAMS->result[cpu] = p;
	sync_point(2);
}

/* Where the guest reaches the table at gpa: the linear map of the tables'
 * pool when it has its own slot, else that of the library's memslot. */
static volatile u64 *table_va(u64 gpa)
{
	if (gpa - PARAMS->tables_gpa < PARAMS->tables_size)
		return (volatile u64 *)(SV_GUEST_TABLEMAP + gpa -
					PARAMS->tables_gpa);
	return (volatile u64 *)(SV_GUEST_PHYSMAP + gpa - PARAMS->sys_gpa);
}

/* The leaf entry mapping va in this guest's own tables. */
volatile u64 *leaf_entry(u64 va, u64 *level_out)
{
	u64 table = read_cr3() & 0x000ffffffffff000ULL;
	u64 level = PARAMS->levels;

	for (;; level--) {
		volatile u64 *e = table_va(table);

		e += (va >> (12 + 9 * (level - 1))) & 511;
		if (level == 1 || (*e & 0x80)) {
			*level_out = level;
			return e;
		}
		table = *e & 0x000ffffffffff000ULL;
	}
}

/*
 * remap with count = n >= 1: pages A_i (i < n) and B_i = page n + i of the
 * region hold their own words (A_i: i, B_i: n + i, each with a tag in the
 * high half).  vCPU 0 goes through these steps, each after its sync point,
 * and counts in result[k] how many of its reads saw B's word:
 *  1. writes every page's word, reads every A_i (result[1]);
 *  2. points each A_i's leaf at B_i's frame, no INVLPG; reads (result[2]);
 *  3. reads every A_i again (result[3]);
 *  4. INVLPG of each A_i, then reads (result[4]);
 *  5. points each leaf back at A_i's frame, each write followed by its
 *     INVLPG; reads (result[5]);
 *  6. points each leaf at B_i's frame again, no INVLPG, then a MOV to
 *     CR3 of the same CR3; reads (result[6]);
 * sync 7 at the end.
 */
#define REMAP_TAG 0x5a5a000000000000ULL

static u64 remap_reads(u64 va, u64 page, u64 n)
{
	u64 i, seen_b = 0;

	for (i = 0; i < n; i++)
		seen_b += V64(va + i * page) == (REMAP_TAG | (n + i));
	return seen_b;
}

static void remap_point(volatile u64 **e, const u64 *frame, u64 n, int flush,
			u64 va, u64 page)
{
	u64 i;

	/* a fresh entry, as a kernel writes one: A and D clear */
	for (i = 0; i < n; i++) {
		*e[i] = frame[i] & ~0x60ULL;
		if (flush)
			invlpg(va + i * page);
	}
}

#define REMAP_MAX 512

static void remap_steps(u64 va, u64 n)
{
	static volatile u64 *e[REMAP_MAX];
	static u64 a[REMAP_MAX], b[REMAP_MAX];
	u64 i, level, page;

	e[0] = leaf_entry(va, &level);
	page = 1ULL << (12 + 9 * (level - 1));
	sync_point(1);
	for (i = 0; i < 2 * n; i++)
		V64(va + i * page) = REMAP_TAG | i;
	for (i = 0; i < n; i++) {
		e[i] = leaf_entry(va + i * page, &level);
		a[i] = *e[i];
		b[i] = *leaf_entry(va + (n + i) * page, &level);
	}
	PARAMS->result[1] = remap_reads(va, page, n);
	sync_point(2);
	remap_point(e, b, n, 0, va, page);
	PARAMS->result[2] = remap_reads(va, page, n);
	sync_point(3);
	PARAMS->result[3] = remap_reads(va, page, n);
	sync_point(4);
	for (i = 0; i < n; i++)
		invlpg(va + i * page);
	PARAMS->result[4] = remap_reads(va, page, n);
	sync_point(5);
	remap_point(e, a, n, 1, va, page);
	PARAMS->result[5] = remap_reads(va, page, n);
	sync_point(6);
	remap_point(e, b, n, 0, va, page);
	write_cr3(read_cr3());
	PARAMS->result[6] = remap_reads(va, page, n);
	sync_point(7);
}

/* remap with count 0: page 0 and page 1 of the region (guest pages of any
 * size) hold different words; the guest points page 0's leaf at page 1's
 * frame, invalidates it with invlpg and reads page 0 again.  result[cpu]
 * holds what that read saw.  vCPU 0 only; sync 1 before, sync 2 after. */
void remap(u64 cpu)
{
	u64 va = PARAMS->gva, l0, l1;
	volatile u64 *e0, *e1;
	u64 page;

	if (PARAMS->count) {
		if (cpu == 0)
			remap_steps(va, PARAMS->count);
		else
			for (l0 = 1; l0 <= 7; l0++)
				sync_point((u32)l0);
		return;
	}
	sync_point(1);
	if (cpu == 0) {
		e0 = leaf_entry(va, &l0);
		page = 1ULL << (12 + 9 * (l0 - 1));
		e1 = leaf_entry(va + page, &l1);
		V64(va) = 0x1111111111111111ULL;
		V64(va + page) = 0x2222222222222222ULL;
		(void)V64(va);
		*e0 = *e1;
		invlpg(va);
		PARAMS->result[0] = V64(va);
	}
	sync_point(2);
}

/* faults: three accesses to unmapped pages in a row (read, write, read);
 * the #PF handler records CR2 and the error code of each in result[2k] and
 * result[2k+1] and steps over the 3-byte faulting instruction. */
struct pf_frame {
	u64 r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	u64 error_code, rip, cs, rflags, rsp, ss;
};

static u64 nfaults;
static u64 idt[2 * 15];

void pf_entry(void);
void pf_handler(struct pf_frame *f);

void pf_handler(struct pf_frame *f)
{
	PARAMS->result[2 * nfaults] = read_cr2();
	PARAMS->result[2 * nfaults + 1] = f->error_code;
	nfaults++;
	f->rip += 3;
}

void faults(u64 cpu)
{
	u64 h = (u64)pf_entry, va = PARAMS->gva;
	struct {
		unsigned short limit;
		u64 base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (u64)idt};

	if (cpu != 0)
		return;
	/* Interrupt gate, present, DPL 0, selector 0x08. */
	idt[2 * 14] = (h & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) |
		      ((h >> 16 & 0xffff) << 48);
	idt[2 * 14 + 1] = h >> 32;
	__asm__ volatile("lidt %0" : : "m"(idtr));
	sync_point(1);
	/* Each is 3 bytes: 48 8b 07 / 48 89 07. */
	__asm__ volatile("movq (%%rdi), %%rax" : : "D"(va) : "rax", "memory");
	__asm__ volatile("movq %%rax, (%%rdi)" : : "D"(va + 0x1000) : "memory");
	__asm__ volatile("movq (%%rdi), %%rax" : : "D"(va + 0x2000) : "rax", "memory");
	sync_point(2);
}

/* sites: the instructions the library answers itself.  vCPU 0 reads the
 * TSC twice, two register moves apart (result[0] and result[1]), writes
 * and reads back the region's first word; after sync 1 it loads CR3 with
 * its own value (dropping every non-global translation) and reads the
 * word again (result[2]); sync 2 at the end. */
void sites(u64 cpu)
{
	u32 lo0, hi0, lo1, hi1;
	volatile u64 *w = (volatile u64 *)PARAMS->gva;

	if (cpu == 0) {
		__asm__ volatile("rdtsc\n\t"
				 "movl %%eax, %%esi\n\t"
				 "movl %%edx, %%edi\n\t"
				 "rdtsc"
				 : "=a"(lo1), "=d"(hi1), "=S"(lo0), "=D"(hi0));
		PARAMS->result[0] = (u64)hi0 << 32 | lo0;
		PARAMS->result[1] = (u64)hi1 << 32 | lo1;
		*w = 0x5173;
		(void)*w;
	}
	sync_point(1);
	if (cpu == 0) {
		write_cr3(read_cr3());
		PARAMS->result[2] = *w;
	}
	sync_point(2);
}

int main(u64 cpu);

int main(u64 cpu)
{
	if (PARAMS->magic != SV_GUEST_MAGIC)
		return 1;
	switch (PARAMS->workload) {
	case SV_GW_TOUCH:
		touch(cpu);
		break;
	case SV_GW_STREAM:
		stream(cpu);
		break;
	case SV_GW_RANDOM:
		random_updates(cpu);
		break;
	case SV_GW_CHASE:
		chase(cpu);
		break;
	case SV_GW_KPT:
		kpt(cpu);
		break;
	case SV_GW_REMAP:
		remap(cpu);
		break;
	case SV_GW_FAULTS:
		faults(cpu);
		break;
	case SV_GW_SITES:
		sites(cpu);
		break;
	default:
		events(cpu);
	}
	return 0;
}
