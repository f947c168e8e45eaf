/*
 * guests/guest.h - what every guest workload uses: the parameter block,
 * the sync port, a seeded generator and the few privileged instructions.
 */
#ifndef SV_GUEST_H
#define SV_GUEST_H

#include "abi.h"

typedef unsigned long long u64;
typedef unsigned int u32;

#define PARAMS ((volatile struct sv_guest_params *)SV_GUEST_PARAMS)

/* Sync point n: the host runs what is bound to it, once every vCPU is
 * there. */
static inline void sync_point(u32 n)
{
	__asm__ volatile("outl %0, %w1" : : "a"(n), "Nd"(SV_PORT_SYNC) : "memory");
}

static inline void invlpg(u64 va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline u64 read_cr3(void)
{
	u64 v;

	__asm__ volatile("movq %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(u64 v)
{
	__asm__ volatile("movq %0, %%cr3" : : "r"(v) : "memory");
}

static inline u64 read_cr2(void)
{
	u64 v;

	__asm__ volatile("movq %%cr2, %0" : "=r"(v));
	return v;
}

/* splitmix64, as the library's own generator. */
static inline u64 rng_next(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The part of [0, n) vCPU i of `vcpus` works on, in units. */
static inline void share(u64 n, u64 i, u64 vcpus, u64 *first, u64 *count)
{
	u64 each = n / vcpus, extra = n % vcpus;

	*first = i * each + (i < extra ? i : extra);
	*count = each + (i < extra);
}

void touch(u64 cpu);
void stream(u64 cpu);
void random_updates(u64 cpu);
void chase(u64 cpu);
void kpt(u64 cpu);
void remap(u64 cpu);
void faults(u64 cpu);
void events(u64 cpu);
volatile u64 *leaf_entry(u64 va, u64 *level_out);

#endif
