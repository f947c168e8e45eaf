/*
 * guests/programs/memcheck.c - the memory system calls' effects on a
 * program's bytes, printed, so that a run as a guest (`simvirt exec`) can
 * be compared with a native one; and the ways a program ends.
 * Usage: memcheck [mem | segv | ud | div | enosys | exit N | regions N |
 *                  rdtsc N]
 *   mem: mmap, writes, munmap and a new mmap at the same place (zeros),
 *   MADV_DONTNEED (zeros), mremap growing and moving (the bytes follow),
 *   mprotect, brk growing and shrinking; one line per check.
 *   segv, ud, div: a store to address 16, ud2, a division by zero.
 *   enosys: system call 511 (no such call) and its errno.
 *   exit N: exit status N.
 *   regions N: N pages mapped, every other one made read-only (N
 *   mappings of alternating permissions), then "regions N ok".
 *   rdtsc N: a loop of N iterations of five instructions (rdtsc, two
 *   adds, dec, jnz), then whether the time stamp moved forward.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long sum(const unsigned char *p, size_t n)
{
	unsigned long s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

static int mem(void)
{
	const size_t len = 8u << 20;
	unsigned char *a, *b, *c;
	void *brk0, *brk1;
	size_t i;

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (a == MAP_FAILED)
		return 1;
	for (i = 0; i < len; i += 4096)
		a[i] = (unsigned char)(i >> 12);
	printf("written %lu\n", sum(a, len));
	munmap(a, len);
	b = mmap(a, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("remapped at the same place %d, zero %lu\n", b == a, sum(b, len));
	memset(b, 0x5a, len);
	madvise(b + 4096, 2u << 20, MADV_DONTNEED);
	printf("after MADV_DONTNEED %lu %d %d\n", sum(b, len), b[4096], b[0]);
	madvise(b, len, MADV_HUGEPAGE);
	c = mremap(b, len, 3 * len, MREMAP_MAYMOVE);
	printf("mremap grew: %lu, tail zero %lu\n", sum(c, len), sum(c + len, 2 * len));
	c = mremap(c, 3 * len, len / 2, 0);
	printf("mremap shrank: %lu\n", sum(c, len / 2));
	mprotect(c, 4096, PROT_READ);
	printf("read-only still reads %d\n", c[100]);
	mprotect(c, 4096, PROT_READ | PROT_WRITE);
	c[100] = 1;
	munmap(c, len / 2);
	brk0 = sbrk(0);
	sbrk(1 << 20);
	memset(brk0, 0x33, 1 << 20);
	sbrk(-(1 << 20));
	sbrk(1 << 20);
	brk1 = sbrk(0);
	printf("brk grew %ld, after a shrink and regrowth %lu\n",
	       (long)((char *)brk1 - (char *)brk0), sum(brk0, 1 << 20));
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "mem";
	if (!strcmp(what, "mem"))
		return mem();
	if (!strcmp(what, "segv"))
		*(volatile int *)16 = 1;
	if (!strcmp(what, "ud"))
		__asm__ volatile("ud2");
	if (!strcmp(what, "div")) {
		unsigned long q, zero = (unsigned long)argc - 2; /* 0 here */

		__asm__ volatile("xor %%edx, %%edx\n\tdiv %2"
				 : "=a"(q)
				 : "a"(7UL), "r"(zero)
				 : "rdx");
		printf("%lu\n", q);
	}
	if (!strcmp(what, "enosys")) {
		long r = syscall(511);

		printf("syscall 511: %ld errno %d\n", r, errno);
		return 0;
	}
	if (!strcmp(what, "exit") && argc > 2)
		return atoi(argv[2]);
	if (!strcmp(what, "rdtsc") && argc > 2) {
		unsigned long n = strtoul(argv[2], NULL, 10), lo, hi, t0, t1;

		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		t0 = hi << 32 | lo;
		__asm__ volatile("1: rdtsc\n\t"
				 "add $1, %%rsi\n\t"
				 "add $1, %%rsi\n\t"
				 "dec %%rcx\n\t"
				 "jnz 1b"
				 : "+c"(n)
				 :
				 : "rax", "rdx", "rsi", "cc");
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		t1 = hi << 32 | lo;
		printf("time stamp moved forward: %d\n", t1 > t0);
		return 0;
	}
	if (!strcmp(what, "regions") && argc > 2) {
		long n = atol(argv[2]), i;
		char *p = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return 1;
		for (i = 1; i < n; i += 2)
			mprotect(p + i * 4096, 4096, PROT_READ);
		printf("regions %ld ok\n", n);
		return 0;
	}
	return 99;
}
