/*
 * tools/simvirt/calnative.h - the native side of `simvirt calibrate`: the
 * machine's clock and caches, dependent chases over real memory, and the
 * probes that find what the STLB and the last-level cache hold for this
 * process (docs/calibration.md).
 */
#ifndef SIMVIRT_CALNATIVE_H
#define SIMVIRT_CALNATIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <simvirt/simvirt.h>

/* TSC ticks per ns over 100 ms (0 where there is no TSC). */
double cal_tsc_ghz(void);

/* The core's clock in GHz, from a chain of dependent register adds (one
 * cycle each on every x86-64 core of the last two decades), over 30 ms,
 * the best of three; 0 off x86-64.  A VM's TSC ticks at a nominal rate,
 * not the core's: the costs are core cycles. */
double cal_core_ghz(void);

/* MemAvailable in bytes (0 when /proc/meminfo does not say). */
uint64_t cal_mem_available(void);

/* The L1D and L2 from sysfs, else from CPUID, else Skylake's; *from
 * names the source.  The LLC is left as the same source says; the probe
 * below replaces it. */
sv_cache_config cal_machine_cache(const char **from);

/* A random cyclic order of n nodes (Fisher-Yates, seeded): the same
 * natively and in the model. */
uint32_t *cal_chase_order(uint64_t n);

/* Where node p of a chase with one node per 4K page sits: one of the
 * page's 64 lines, picked by a hash of p. */
uint64_t cal_node_offset(uint64_t p);

/* The loads a timing counts: every node twice, at least two million. */
uint64_t cal_chase_loads(uint64_t nodes);

/*
 * The guest's page size alone: one placement of a chase over 4K pages'
 * nodes (one per page, at cal_node_offset) on THP memory, timed as it is
 * ([1]), then again over the same frames after every 2M mapping is split
 * into 512 4K ones ([0]).  huge_kb[i] is what /proc/self/smaps saw each
 * time.  False with errno when the map fails.
 */
bool cal_chase_pair(uint64_t size, double ns[2], uint64_t huge_kb[2]);

/* One placement of the chase over hugetlbfs 2M pages (MAP_HUGETLB);
 * false with errno when they cannot be had. */
bool cal_chase_hugetlb(uint64_t size, double *ns);

/* Bytes of free hugetlbfs 2M pages (0 where the default huge page size
 * is not 2M, or none are reserved). */
uint64_t cal_hugetlb_free(void);

/*
 * The STLB's reach: chases over 4K pages, one line per page, from 256 to
 * 16,384 pages, and the knee (cal_knee) against 1,024 pages (past every
 * first-level TLB, within every STLB of the last decade).  Each point is
 * logged as a comment line.
 */
uint32_t cal_probe_stlb(GString *log);

/*
 * The last-level cache this process gets (a VM's share of a shared cache,
 * a partition): chases over every line of a THP buffer from twice the L2
 * to 64 times it, and the knee against twice the L2; 0 where no step
 * shows.
 */
uint32_t cal_probe_llc_kb(uint32_t l2_kb, GString *log);

/*
 * Where a latency curve steps up: the largest of sizes[0..n), in order,
 * whose time t stays at or below the geometric mean of t[ref] and t[n-1]
 * (a step by a factor f is crossed at sqrt(f), whatever the two levels'
 * latencies).  0 when t[n-1] is not 1.5 times t[ref]: no step in range.
 */
uint64_t cal_knee(const uint64_t *sizes, const double *t, size_t n, size_t ref);

/* The set-associative geometry (sets a power of two, ways 4 to 16) with
 * the most entries that `entries` holds. */
void cal_geometry(uint64_t entries, uint32_t *sets, uint32_t *ways);

#endif
