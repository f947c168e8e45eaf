/*
 * guests/events.c - the workloads about exceptions and their delivery
 * (vCPU 0 only; the others return at once).
 *
 * exceptions: one of each class in turn -- #DE (div by zero, a fault),
 *   #UD (ud2, a fault), #BP (int3, a trap), #PF (a read of an unmapped
 *   page), #GP (a read of a non-canonical address), INT 0x80 (software)
 *   -- each through its own gate.  For case k, result[8k..8k+7] hold
 *   what the handler found in its frame (vector, error code, RIP, CS,
 *   RFLAGS, RSP, SS) and CR2, and result[64 + 4k..] what the guest knew
 *   before (the instruction's address, the address after it, RSP and
 *   RFLAGS), for the host to compare with the SDM.
 * reinject: vector 14 uses IST 1, whose stack is the region's last page,
 *   which nothing has touched: the #PF of a read of an unmapped page meets
 *   a stack page the hypervisor has not mapped.  result[0] = CR2,
 *   result[1] = the handler's runs.
 * triple: vectors 14 and 8 use IST 1 and IST 2, both on unmapped pages:
 *   the #PF's delivery faults (a #DF), and so does the #DF's (shutdown).
 * user: the region's page 0 becomes user code and page 1 a user stack
 *   (the guest sets U in their entries); iretq enters CPL 3 there, where
 *   a read of an unmapped page (#PF) and INT 0x80 each switch to the
 *   kernel stack in the TSS's RSP0.  result[8k..] as for exceptions (k =
 *   0 the #PF, 1 the INT), result[16] and [17] the frames' addresses,
 *   result[18] the kernel stack's top.
 */
#include "guest.h"

#define UNMAPPED 0x00007f0000000000ULL   /* no guest mapping reaches it */
#define NONCANONICAL 0x8000000000000000ULL

struct exc_frame {
	u64 r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	u64 vector, error_code, rip, cs, rflags, rsp, ss;
};

void vec0(void), vec3(void), vec6(void), vec8(void), vec13(void),
	vec14(void), vec128(void);
void exc_handler(struct exc_frame *f);

static u64 idt[2 * 129] __attribute__((aligned(16)));
static u64 gdt[7] __attribute__((aligned(16)));
static u64 tss[13] __attribute__((aligned(16))); /* 104 bytes */
static u64 ncase, skip_len, runs;
static u64 kstack[512] __attribute__((aligned(16)));
static u64 kernel_rsp; /* where user() left the kernel stack */
void back_to_kernel(void);

/* A 64-bit interrupt gate (or trap gate) for vector v, with IST ist. */
static void gate(unsigned v, void (*entry)(void), unsigned ist, int trap)
{
	u64 h = (u64)entry;

	idt[2 * v] = (h & 0xffff) | (0x08ULL << 16) | ((u64)ist << 32) |
		     ((trap ? 0x8fULL : 0x8eULL) << 40) | ((h >> 16 & 0xffff) << 48);
	idt[2 * v + 1] = h >> 32;
}

/* The boot GDT's code and data segments and a 64-bit TSS at 0x18, TR
 * loaded, the IDT loaded. */
static void tables(void)
{
	struct {
		unsigned short limit;
		u64 base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (u64)idt},
				   gdtr = {sizeof(gdt) - 1, (u64)gdt};
	u64 t = (u64)tss;

	gdt[1] = 0x00af9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	gdt[5] = 0x00cff3000000ffffULL; /* 0x28: data, DPL 3 */
	gdt[6] = 0x00affb000000ffffULL; /* 0x30: 64-bit code, DPL 3 */
	gdt[3] = (sizeof(tss) - 1) | ((t & 0xffffff) << 16) | (0x89ULL << 40) |
		 ((t >> 24 & 0xff) << 56);
	gdt[4] = t >> 32;
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("ltr %w0" : : "r"(0x18));
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void exc_handler(struct exc_frame *f)
{
	volatile unsigned long long *r = &PARAMS->result[8 * ncase];

	if (PARAMS->workload == SV_GW_USER)
		PARAMS->result[16 + ncase] = (u64)&f->rip;
	if (PARAMS->workload == SV_GW_EVENTS || PARAMS->workload == SV_GW_USER) {
		r[0] = f->vector;
		r[1] = f->error_code;
		r[2] = f->rip;
		r[3] = f->cs;
		r[4] = f->rflags;
		r[5] = f->rsp;
		r[6] = f->ss;
		r[7] = read_cr2();
	} else {
		PARAMS->result[0] = read_cr2();
		PARAMS->result[1] = ++runs;
	}
	f->rip += skip_len;
	if (PARAMS->workload == SV_GW_USER && f->vector == 128) {
		/* the user code's end: back to the kernel, at CPL 0 */
		f->rip = (u64)back_to_kernel;
		f->cs = 0x08;
		f->ss = 0x10;
		f->rsp = kernel_rsp;
		f->rflags = 2;
	}
	if (PARAMS->workload == SV_GW_USER)
		ncase++;
}

/* Case k: before = the instruction's address, after = the next one's. */
static void known(u64 before, u64 after, u64 rsp, u64 rflags)
{
	volatile unsigned long long *r = &PARAMS->result[64 + 4 * ncase];

	r[0] = before;
	r[1] = after;
	r[2] = rsp;
	r[3] = rflags;
}

/* Runs the instruction at label 1 of `insn` (its length `len` skipped by
 * the handler for a fault, 0 for a trap) with RDI = arg. */
#define CASE(insn, len, arg)                                                   \
	do {                                                                   \
		u64 b, a, sp, fl;                                              \
		skip_len = (len);                                              \
		__asm__ volatile("lea 1f(%%rip), %0\n\t"                       \
				 "lea 2f(%%rip), %1\n\t"                       \
				 "movq %%rsp, %2\n\t"                          \
				 "movq %4, %%rdi\n\t"                          \
				 "xorl %%ecx, %%ecx\n\t"                       \
				 "pushfq; popq %3\n\t"                         \
				 "1: " insn "\n\t"                             \
				 "2:\n\t"                                      \
				 : "=&r"(b), "=&r"(a), "=&r"(sp), "=&r"(fl)    \
				 : "r"((u64)(arg))                             \
				 : "rax", "rcx", "rdx", "rdi", "memory");      \
		known(b, a, sp, fl);                                           \
		ncase++;                                                       \
	} while (0)

static void exceptions(void)
{
	gate(0, vec0, 0, 0);
	gate(3, vec3, 0, 1);
	gate(6, vec6, 0, 0);
	gate(13, vec13, 0, 0);
	gate(14, vec14, 0, 0);
	gate(128, vec128, 0, 1);
	tables();
	sync_point(1);
	CASE("divl %%ecx", 2, 0);
	CASE("ud2", 2, 0);
	CASE("int3", 0, 0);
	CASE("movq (%%rdi), %%rax", 3, UNMAPPED);
	CASE("movq (%%rdi), %%rax", 3, NONCANONICAL);
	CASE("int $0x80", 0, 0);
	sync_point(2);
}

static void reinject(void)
{
	tss[4] = (PARAMS->gva + PARAMS->size) << 32;  /* IST1 at 0x24 */
	tss[5] = (PARAMS->gva + PARAMS->size) >> 32;
	gate(14, vec14, 1, 0);
	tables();
	sync_point(1);
	skip_len = 3;
	__asm__ volatile("movq (%%rdi), %%rax" : : "D"(UNMAPPED) : "rax", "memory");
	sync_point(2);
}

static void triple(void)
{
	tss[4] = (UNMAPPED + 0x200000) << 32;   /* IST1 at 0x24 */
	tss[5] = (UNMAPPED + 0x200000) >> 32;   /* ... and IST2 at 0x2c */
	tss[5] |= (UNMAPPED + 0x400000) << 32;
	tss[6] = (UNMAPPED + 0x400000) >> 32;
	gate(14, vec14, 1, 0);
	gate(8, vec8, 2, 0);
	tables();
	sync_point(1);
	__asm__ volatile("movq (%%rdi), %%rax" : : "D"(UNMAPPED) : "rax", "memory");
	sync_point(2);
}

/* 48 8b 07: movq (%rdi), %rax (a #PF); cd 80: int $0x80; eb fe: jmp . */
static const unsigned char user_code[] = {0x48, 0x8b, 0x07, 0xcd, 0x80, 0xeb, 0xfe};

static void user(void)
{
	u64 va = PARAMS->gva, level;
	volatile u64 *e;
	unsigned i;

	for (i = 0; i < 2; i++) {
		e = leaf_entry(va + 0x1000 * i, &level);
		*e |= 4;                          /* U/S */
		if (i == 0)
			*e &= ~(1ULL << 63);      /* executable */
		invlpg(va + 0x1000 * i);
	}
	for (i = 0; i < sizeof(user_code); i++)
		((volatile unsigned char *)va)[i] = user_code[i];
	tss[0] = ((u64)&kstack[512]) << 32;       /* RSP0 at 4 */
	tss[1] = ((u64)&kstack[512]) >> 32;
	gate(14, vec14, 0, 0);
	gate(128, vec128, 0, 1);
	idt[2 * 128] |= 3ULL << 45;               /* DPL 3: INT from CPL 3 */
	tables();
	PARAMS->result[18] = (u64)&kstack[512];
	sync_point(1);
	skip_len = 3;
	__asm__ volatile("movq %%rsp, %0\n\t"
			 "pushq $0x2b\n\t"      /* SS: user data, RPL 3 */
			 "pushq %2\n\t"         /* RSP: top of page 1 */
			 "pushq $2\n\t"         /* RFLAGS */
			 "pushq $0x33\n\t"      /* CS: user code, RPL 3 */
			 "pushq %1\n\t"         /* RIP: page 0 */
			 "movq %3, %%rdi\n\t"
			 "iretq\n\t"
			 ".globl back_to_kernel\n"
			 "back_to_kernel:\n\t"
			 : "=m"(kernel_rsp)
			 : "r"(va), "r"(va + 0x2000), "r"(UNMAPPED)
			 : "rdi", "rax", "memory");
	sync_point(2);
}

void events(u64 cpu)
{
	if (cpu != 0)
		return;
	switch (PARAMS->workload) {
	case SV_GW_EVENTS:
		exceptions();
		break;
	case SV_GW_REINJECT:
		reinject();
		break;
	case SV_GW_TRIPLE:
		triple();
		break;
	case SV_GW_USER:
		user();
		break;
	}
}
