/*
 * simvirt/config.h - TLB geometry and the cycle-cost table.
 *
 * Both are plain structs with defaults (SV_TLB_CONFIG_INIT, SV_COSTS_INIT)
 * and can be loaded from a key file's [tlb] and [cost] groups with
 * sv_config_load().  The keys are the names in the lists below.
 */
#ifndef SIMVIRT_CONFIG_H
#define SIMVIRT_CONFIG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The translation caches of one vCPU: X(name, sets, ways, what it is).
 * A cache with 0 sets or 0 ways is absent (every lookup misses).
 *
 * Defaults model an Intel Skylake core: Intel 64 and IA-32 Architectures
 * Optimization Reference Manual, table "TLB Parameters of the Skylake
 * Microarchitecture" (L1 ITLB 4K 128/8-way, 2M 8/fully associative; L1 DTLB
 * 4K 64/4-way, 2M 32/4-way, 1G 4/fully; STLB 4K+2M 1536/12-way, 1G 16/4-way).
 * Intel does not publish the paging-structure caches; the PML4/PDPT/PD sizes
 * 2/4/32 are those Bhattacharjee measured on Intel cores ("Large-reach memory
 * management unit caches", MICRO 2013), and the nested dimension (the
 * guest-physical TLB and the EPT page-walk cache) is given the same shape,
 * which is an assumption, not a published figure.
 */
#define SV_TLB_ARRAY_LIST(X)                                                 \
	X(l1i_4k, 16, 8, "L1 instruction TLB, 4K pages")                     \
	X(l1i_2m, 1, 8, "L1 instruction TLB, 2M pages")                      \
	X(l1d_4k, 16, 4, "L1 data TLB, 4K pages")                            \
	X(l1d_2m, 8, 4, "L1 data TLB, 2M pages")                             \
	X(l1d_1g, 1, 4, "L1 data TLB, 1G pages")                             \
	X(stlb, 128, 12, "second-level TLB, 4K and 2M pages")                \
	X(stlb_1g, 4, 4, "second-level TLB, 1G pages")                       \
	X(psc_pml5, 1, 2, "paging-structure cache, guest PML5 entries")      \
	X(psc_pml4, 1, 2, "paging-structure cache, guest PML4 entries")      \
	X(psc_pdpt, 1, 4, "paging-structure cache, guest PDPT entries")      \
	X(psc_pd, 8, 4, "paging-structure cache, guest PD entries")          \
	X(ntlb, 16, 4, "guest-physical (nested) TLB, GPA to HPA")            \
	X(npwc_l5, 1, 2, "nested page-walk cache, level-5 entries")          \
	X(npwc_l4, 1, 2, "nested page-walk cache, level-4 entries")          \
	X(npwc_l3, 1, 4, "nested page-walk cache, level-3 entries")          \
	X(npwc_l2, 8, 4, "nested page-walk cache, level-2 entries")

#define SV__TLB_ENUM(name, sets, ways, desc) SV_TLB_##name,
typedef enum sv_tlb_array { SV_TLB_ARRAY_LIST(SV__TLB_ENUM) SV_TLB__COUNT } sv_tlb_array;
#undef SV__TLB_ENUM

typedef struct sv_tlb_geometry {
	uint32_t sets; /* a power of two, 0 = cache absent */
	uint32_t ways; /* 0 = cache absent */
} sv_tlb_geometry;

/** Which entry of a set is replaced when a new one is filled. */
typedef enum sv_tlb_replacement {
	SV_TLB_LRU,    /* least recently used (the default) */
	SV_TLB_FIFO,   /* oldest fill */
	SV_TLB_RANDOM, /* a way from the VM's seeded generator */
} sv_tlb_replacement;

/**
 * What a lookup does when two entries of different page sizes match one
 * address (SDM Vol. 3A "Caching Translation Information": either may be
 * used; CVE-2018-12207 turns it into a machine check on some cores; ARM
 * raises a TLB conflict abort).  Every such lookup is counted.
 */
typedef enum sv_tlb_conflict {
	SV_TLB_CONFLICT_USE_SMALLER, /* use the smaller page (the default) */
	SV_TLB_CONFLICT_USE_LARGER,  /* use the larger page */
	SV_TLB_CONFLICT_MCE,         /* fault: machine check */
	SV_TLB_CONFLICT_ABORT,       /* fault: TLB conflict abort */
} sv_tlb_conflict;

typedef struct sv_tlb_config {
	sv_tlb_geometry array[SV_TLB__COUNT];
	sv_tlb_replacement replacement;
	sv_tlb_conflict conflict;
} sv_tlb_config;

#define SV__TLB_INIT(name, s, w, desc) \
	[SV_TLB_##name] = {.sets = (s), .ways = (w)},
#define SV_TLB_CONFIG_INIT                                      \
	{                                                       \
		.array = {SV_TLB_ARRAY_LIST(SV__TLB_INIT)},     \
		.replacement = SV_TLB_LRU,                      \
		.conflict = SV_TLB_CONFLICT_USE_SMALLER,        \
	}

/*
 * Cycle costs: X(name, default cycles, what it is and where the default
 * comes from).  Defaults are for a Skylake-class core at a nominal clock;
 * they are approximations meant to be calibrated, not measurements of this
 * machine.
 */
#define SV_COST_LIST(X)                                                       \
	X(l1_hit, 0, "L1 TLB hit; the lookup overlaps the L1D access (Intel "   \
		      "Optimization Manual, load-to-use latency)")              \
	X(stlb_hit, 9, "L1 TLB miss, STLB hit (7-cpu.com, Skylake: 9 cycles)")  \
	X(psc_hit, 1, "paging-structure-cache hit that shortens a walk "        \
		       "(not published; 1 assumed)")                            \
	X(ntlb_hit, 1, "guest-physical TLB hit inside a 2D walk (not "          \
			"published; 1 assumed)")                                \
	X(pwc_hit, 1, "nested page-walk-cache hit (not published; 1 assumed)")  \
	X(splinter, 0, "a 2D walk whose TLB fill is smaller than the guest's "  \
			"page (a guest 2M page over 4K nested pages), beyond "  \
			"its references (not published; 0 assumed, fitted by "  \
			"simvirt calibrate)")                                   \
	X(walk_ref, 14, "one paging-structure memory reference; walk loads go " \
			 "through the data caches, 14 = Skylake L2 hit "        \
			 "(7-cpu.com)")                                         \
	X(ad_update, 20, "locked update of an A or D flag (Agner Fog's tables: " \
			  "LOCK CMPXCHG about 18-20 cycles on Skylake)")        \
	X(vmexit, 600, "VM exit: half of the ~1,200-cycle VMCALL round trip "   \
			"that kvm-unit-tests' vmexit test reports on "          \
			"Skylake-class cores")                                  \
	X(vmentry, 600, "VM entry: the other half of that round trip")          \
	X(pf_fast, 300, "an EPT violation/#NPF fixed or found spurious by the " \
			 "lockless fast path: a walk and one cmpxchg (assumed)") \
	X(pf_slow, 1500, "the full fault path without host work: memslot "     \
			  "lookup, GUP of a present page, the walk under "       \
			  "mmu_lock, the SPTE install (assumed)")               \
	X(pf_split, 2500, "a huge SPTE split in the fault path: a table page " \
			   "and 512 child SPTEs (assumed)")                     \
	X(host_fault, 1000, "a host page fault taken during fault-in "         \
			     "(handle_mm_fault: page tables, rmap), the page "  \
			     "fill aside (assumed)")                            \
	X(host_fill_4k, 400, "zeroing or copying one 4K page for a host "      \
			      "fault: about 10 bytes per cycle with REP STOSB " \
			      "on Skylake (assumed from its bandwidth)")        \
	X(kvm_map, 150, "the hypervisor maps a guest page that has a struct "   \
			 "page (kvm_vcpu_map: kmap, a page-table walk; assumed)") \
	X(kvm_memremap, 3000, "the hypervisor maps a guest page without a "    \
			       "struct page (PFNMAP, DAX device memory): "      \
			       "memremap builds a kernel mapping and flushes "  \
			       "(assumed: an order of magnitude over kmap)")    \
	X(invlpg, 200, "INVLPG (uops.info order of magnitude, Skylake)")        \
	X(invpcid, 200, "INVPCID (uops.info order of magnitude, Skylake)")      \
	X(mov_cr3, 150, "MOV to CR3 (uops.info order of magnitude, Skylake)")   \
	X(invvpid, 250, "INVVPID (same order as INVPCID; assumed)")             \
	X(invept, 400, "INVEPT (drops two kinds of mappings; assumed)")         \
	X(asid_flush, 400, "SVM TLB_CONTROL flush on VMRUN (assumed as INVEPT)") \
	X(insn_alu, 1, "an instruction's base cost: register ALU, moves, "     \
			"lea (Agner Fog's tables, Skylake: latency 1)")         \
	X(insn_load, 4, "added per memory source operand: L1D load-to-use "    \
			 "latency (7-cpu.com, Skylake: 4 cycles)")              \
	X(insn_store, 1, "added per memory destination operand: one store "   \
			  "retires into the store buffer (Agner Fog)")         \
	X(insn_mul, 3, "integer multiply (Agner Fog, Skylake IMUL r64: 3)")     \
	X(insn_div, 40, "integer divide (Agner Fog, Skylake DIV r64: 35-88)")  \
	X(insn_branch, 1, "jump, call or return, predicted (Agner Fog)")        \
	X(insn_rdtsc, 25, "RDTSC (Agner Fog, Skylake: about 25 cycles)")       \
	X(cache_l2, 8, "with the cache model: a reference or data access "     \
		       "that misses the L1D and hits the L2, beyond an L1D "   \
		       "hit (7-cpu.com, Skylake: L2 12 cycles, L1D 4)")        \
	X(cache_llc, 38, "... that hits the last-level cache (7-cpu.com, "     \
			 "Skylake i7-6700: L3 42 cycles)")                     \
	X(cache_mem, 240, "... that goes to memory (7-cpu.com, Skylake "       \
			  "i7-6700: 42 cycles + 51 ns at 4 GHz)")

#define SV__COST_FIELD(name, def, desc) uint32_t name;
typedef struct sv_costs {
	SV_COST_LIST(SV__COST_FIELD)
} sv_costs;
#undef SV__COST_FIELD

#define SV__COST_INIT(name, def, desc) .name = (def),
#define SV_COSTS_INIT {SV_COST_LIST(SV__COST_INIT)}

/*
 * The data caches a vCPU's paging-structure references and data accesses
 * go through when the cache model is on (sv_vm_set_cache, scenario group
 * [cache]): sizes in KiB, 0 for a level that is absent; 64-byte lines,
 * LRU.  The model only decides what each reference costs ([cost]
 * cache_l2, cache_llc, cache_mem on top of an L1D hit); every count of the
 * translation model stays the same.  Off by default.
 */
typedef struct sv_cache_config {
	uint32_t l1d_kb, l1d_ways;
	uint32_t l2_kb, l2_ways;
	uint32_t llc_kb, llc_ways;
} sv_cache_config;

#define SV_CACHE_CONFIG_INIT                                            \
	{                                                               \
		.l1d_kb = 0, .l1d_ways = 8, .l2_kb = 0, .l2_ways = 16,  \
		.llc_kb = 0, .llc_ways = 16,                            \
	}

/** Checks a cache configuration: each level present has 1-64 ways and a
 *  power-of-two number of 64-byte-line sets; the detail names the level. */
SV_API int sv_cache_config_validate(const sv_cache_config *cfg);

/** Fill *t and *c with the defaults (SV_TLB_CONFIG_INIT, SV_COSTS_INIT). */
SV_API void sv_tlb_config_init(sv_tlb_config *t);
SV_API void sv_costs_init(sv_costs *c);

/** Names and descriptions of the TLB arrays and the costs. */
SV_API const char *sv_tlb_array_name(sv_tlb_array a);
SV_API const char *sv_tlb_array_desc(sv_tlb_array a);
SV_API size_t sv_cost_count(void);
SV_API const char *sv_cost_name(size_t i);
SV_API const char *sv_cost_desc(size_t i);
/** Pointer to cost i in a table, or NULL past the end or for a NULL c. */
SV_API uint32_t *sv_cost_slot(sv_costs *c, size_t i);

/**
 * Checks a TLB configuration: every array's sets a power of two (or 0) up to
 * 65,536, ways up to 64, known enums.  On error the detail names the key.
 */
SV_API int sv_tlb_config_validate(const sv_tlb_config *cfg);

/**
 * Reads the [tlb] and [cost] groups of a key file into *tlb and *costs
 * (either may be NULL to ignore that group), overriding only the keys the
 * file names.  Keys: "<array>_sets", "<array>_ways", "replacement"
 * (lru|fifo|random), "conflict" (smaller|larger|mce|abort); costs by name.
 * An unknown key or a bad value is SV_ECONFIG with a detail naming the file,
 * group, key and what was expected; *tlb and *costs are then unchanged.
 */
SV_API int sv_config_load(sv_tlb_config *tlb, sv_costs *costs, const char *path);
/** The same from a string holding key-file text (name is used in messages). */
SV_API int sv_config_load_data(sv_tlb_config *tlb, sv_costs *costs,
			       const char *data, size_t len, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_CONFIG_H */
