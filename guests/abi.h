/*
 * guests/abi.h - what the library and its guest workloads agree on: where
 * things sit in the guest's virtual address space, the ports, and the
 * parameter block.  Included by the guests (freestanding) and by lib/cpu.
 *
 * The guest-virtual layout keeps everything of the library's own in the top
 * 2 GiB (the kernel code model), so any user region below 2^47 is free:
 *
 *   0xffffffff80000000  the image (ELF segments), at most 2 MiB
 *   0xffffffff80200000  boot page: the GDT
 *   0xffffffff80201000  the parameter block (struct sv_guest_params)
 *   0xffffffff80400000  stacks, SV_GUEST_STACK_SIZE per vCPU
 *   (the library's memslot also keeps the hypervisor's steal-time records
 *   at SV_SYS_STEAL, guest-physical only)
 *   0xffffffffc0000000  the library's memslot, mapped linearly (the guest
 *                       page tables are in it: a guest edits them here)
 *   0xffffff0000000000  the guest page tables' pool, mapped linearly, when
 *                       it lies in a memslot of the user's
 */
#ifndef SV_GUEST_ABI_H
#define SV_GUEST_ABI_H

#define SV_GUEST_IMAGE 0xffffffff80000000ULL
#define SV_GUEST_IMAGE_MAX 0x200000ULL
#define SV_GUEST_BOOT 0xffffffff80200000ULL
#define SV_GUEST_PARAMS 0xffffffff80201000ULL
#define SV_GUEST_STACKS 0xffffffff80400000ULL
#define SV_GUEST_STACK_SIZE 0x10000ULL
#define SV_GUEST_PHYSMAP 0xffffffffc0000000ULL
#define SV_GUEST_TABLEMAP 0xffffff0000000000ULL

/* The library's memslot, by offset from its base GPA. */
#define SV_SYS_IMAGE 0x0ULL
#define SV_SYS_BOOT 0x200000ULL
#define SV_SYS_STEAL 0x300000ULL /* steal-time records, 64 bytes per vCPU */
#define SV_SYS_STACKS 0x400000ULL

/* Ports: a write of N to SV_PORT_SYNC is sync point N. */
#define SV_PORT_SYNC 0x5e0

#define SV_GUEST_MAGIC 0x73696d7669727431ULL /* "simvirt1" */
#define SV_GUEST_MAX_VCPUS 256

/* Workload numbers (struct sv_guest_params.workload). */
#define SV_GW_TOUCH 1  /* passes over the region at a stride */
#define SV_GW_STREAM 2 /* copy, scale, add, triad over three arrays */
#define SV_GW_RANDOM 3 /* seeded read-modify-write updates (GUPS) */
#define SV_GW_CHASE 4  /* pointer chase through a random cycle */
#define SV_GW_KPT 5    /* kvm_page_table_test: create, update, adjust */
#define SV_GW_REMAP 6  /* rewrites its own page tables, with invlpg */
#define SV_GW_FAULTS 7 /* touches unmapped pages; its #PF handler skips */
#define SV_GW_SITES 8  /* RDTSC and MOV to CR3: the intercepted instructions */
#define SV_GW_EVENTS 9    /* one exception of each class, through the IDT */
#define SV_GW_REINJECT 10 /* a #PF whose IST stack the MMU has not mapped */
#define SV_GW_TRIPLE 11   /* a #PF and then a #DF whose delivery faults */
#define SV_GW_USER 12     /* CPL 3: a #PF and INT 0x80 from user mode */

/* Filled in by the library before the first instruction; the guest writes
 * only result[]. */
struct sv_guest_params {
	unsigned long long magic;
	unsigned long long workload;
	unsigned long long vcpus;
	unsigned long long gva;        /* the region the workload runs over */
	unsigned long long size;
	unsigned long long stride;
	unsigned long long passes;
	unsigned long long write;      /* touch: bit N-1 = pass N writes */
	unsigned long long seed;
	unsigned long long count;
	unsigned long long sys_gpa;    /* base GPA of the library's memslot */
	unsigned long long levels;     /* guest paging levels (4 or 5) */
	/* the page tables' pool when it is outside the library's slot
	 * (mapped at SV_GUEST_TABLEMAP), else 0 and 0 */
	unsigned long long tables_gpa;
	unsigned long long tables_size;
	unsigned long long result[SV_GUEST_MAX_VCPUS];
};

#endif
