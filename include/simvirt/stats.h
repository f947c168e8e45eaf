/*
 * simvirt/stats.h - the named counters.
 *
 * Counters are closed sets: X(name, description).  The enum, the names and
 * the keys of every output come from these lists.  Where a meaning is KVM's,
 * the name is KVM's (pf_guest, tlb_flush, ...).
 */
#ifndef SIMVIRT_STATS_H
#define SIMVIRT_STATS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per-vCPU counters. */
#define SV_VCPU_STAT_LIST(X)                                                   \
	X(accesses, "accesses translated (reads + writes + fetches)")          \
	X(reads, "data reads")                                                 \
	X(writes, "data writes")                                               \
	X(fetches, "instruction fetches")                                      \
	X(cycles, "cycles charged: instruction base costs (executed guests) "  \
		  "plus translation, exit and flush costs")             \
	X(l1i_hit_4k, "L1 ITLB hits on 4K entries")                            \
	X(l1i_hit_2m, "L1 ITLB hits on 2M entries")                            \
	X(l1d_hit_4k, "L1 DTLB hits on 4K entries")                            \
	X(l1d_hit_2m, "L1 DTLB hits on 2M entries")                            \
	X(l1d_hit_1g, "L1 DTLB hits on 1G entries")                            \
	X(stlb_hit_4k, "STLB hits on 4K entries")                              \
	X(stlb_hit_2m, "STLB hits on 2M entries")                              \
	X(stlb_hit_1g, "STLB hits on 1G entries")                              \
	X(tlb_miss, "accesses that missed every TLB level and walked")         \
	X(tlb_fill_4k, "combined entries filled with a 4K page size")          \
	X(tlb_fill_2m, "combined entries filled with a 2M page size")          \
	X(tlb_fill_1g, "combined entries filled with a 1G page size")          \
	X(tlb_splinter, "fills smaller than the guest page (nested page "      \
			"smaller)")                                            \
	X(tlb_host_larger, "fills of a guest page smaller than the nested "    \
			   "page under it (a 4K guest page over a 2M or 1G "   \
			   "host mapping)")                                    \
	X(tlb_conflicts, "lookups that matched entries of two page sizes")     \
	X(tlb_dirty_miss, "writes that hit an entry not yet dirty and walked") \
	X(psc_hit_pml5, "walks started below a cached PML5 entry")             \
	X(psc_hit_pml4, "walks started below a cached PML4 entry")             \
	X(psc_hit_pdpt, "walks started below a cached PDPT entry")             \
	X(psc_hit_pd, "walks started below a cached PD entry")                 \
	X(ntlb_hit, "guest-physical translations found in the nested TLB")     \
	X(ntlb_miss, "guest-physical translations that walked EPT/NPT")        \
	X(npwc_hit_l5, "nested walks started below a cached level-5 entry")    \
	X(npwc_hit_l4, "nested walks started below a cached level-4 entry")    \
	X(npwc_hit_l3, "nested walks started below a cached level-3 entry")    \
	X(npwc_hit_l2, "nested walks started below a cached level-2 entry")    \
	X(walk_refs, "paging-structure memory references (both dimensions)")  \
	X(guest_walk_refs, "references to guest paging structures")            \
	X(nested_walk_refs, "references to EPT/NPT paging structures")         \
	X(guest_ad_updates, "guest A/D flags set by the walk")                 \
	X(nested_ad_updates, "EPT A/D flags set by the walk")                  \
	X(pf_guest, "guest page faults raised (KVM's pf_guest)")              \
	X(gp_noncanonical, "#GP for a non-canonical address")                  \
	X(ept_violations, "EPT violations (or #NPF) raised")                   \
	X(ept_misconfigs, "EPT misconfigurations raised")                      \
	X(machine_checks, "machine checks from TLB conflicts")                 \
	X(conflict_aborts, "TLB conflict aborts")                              \
	X(invlpg, "INVLPG executed")                                           \
	X(invpcid, "INVPCID executed")                                         \
	X(mov_cr3, "MOV to CR3 executed")                                      \
	X(invvpid, "INVVPID executed")                                         \
	X(invept, "INVEPT executed")                                           \
	X(asid_flush, "SVM ASID flushes (TLB_CONTROL, INVLPGA)")               \
	X(tlb_flush, "whole-context TLB flushes of this vCPU (KVM's tlb_flush)") \
	X(tlb_entries_dropped, "cached entries removed by invalidations")   \
	X(exits, "VM exits the MMU handled (violations, misconfigs, PML)") \
	X(pf_taken, "TDP faults taken by the MMU (KVM's pf_taken)")          \
	X(pf_fixed, "faults that installed an SPTE (KVM's pf_fixed)")        \
	X(pf_fast, "faults fixed or found spurious locklessly (pf_fast)")    \
	X(pf_spurious, "faults that found nothing to do (pf_spurious)")      \
	X(pf_emulate, "faults sent to emulation (pf_emulate)")               \
	X(pf_mmio_spte_created, "MMIO SPTEs installed "                      \
				"(pf_mmio_spte_created)")                    \
	X(pf_retry, "faults retried: they raced an invalidation")            \
	X(pf_efault, "faults the host could not serve (-EFAULT to userspace)") \
	X(mmio_exits, "exits to userspace for MMIO emulation")               \
	X(pml_full_exits, "page-modification-log-full exits")                \
	X(pml_entries, "GPAs written to the page-modification log")          \
	X(instructions, "guest instructions executed (Unicorn)")             \
	X(insn_cycles, "base cycles of those instructions (Capstone classes)") \
	X(pio_exits, "exits for port I/O (the sync port included)")          \
	X(pf_delivered, "guest page faults delivered to the guest's handler") \
	X(trap_unclaimed, "port or MMIO accesses no trap handler claimed")   \
	X(rdtsc, "RDTSC executed (answered from the cycle counter)")        \
	X(events_delivered, "exceptions and software interrupts delivered " \
			    "through the guest's IDT")                       \
	X(exits_idt_vectoring, "exits during event delivery (IDT-vectoring " \
			       "information valid)")                         \
	X(event_reinjections, "events re-injected after such an exit")      \
	X(double_faults, "exceptions promoted to #DF (SDM Table 6-5)")      \
	X(triple_faults, "faults during #DF delivery: shutdown")            \
	X(exc_de, "#DE raised (vector 0)")                                   \
	X(exc_db, "#DB raised (vector 1)")                                   \
	X(exc_nmi, "NMIs raised (vector 2)")                                 \
	X(exc_bp, "#BP raised (vector 3)")                                   \
	X(exc_of, "#OF raised (vector 4)")                                   \
	X(exc_br, "#BR raised (vector 5)")                                   \
	X(exc_ud, "#UD raised (vector 6)")                                   \
	X(exc_nm, "#NM raised (vector 7)")                                   \
	X(exc_df, "#DF raised (vector 8)")                                   \
	X(exc_ts, "#TS raised (vector 10)")                                  \
	X(exc_np, "#NP raised (vector 11)")                                  \
	X(exc_ss, "#SS raised (vector 12)")                                  \
	X(exc_gp, "#GP raised (vector 13)")                                  \
	X(exc_pf, "#PF raised (vector 14)")                                  \
	X(exc_mf, "#MF raised (vector 16)")                                  \
	X(exc_ac, "#AC raised (vector 17)")                                  \
	X(exc_mc, "#MC raised (vector 18)")                                  \
	X(exc_xm, "#XM raised (vector 19)")                                  \
	X(exc_ve, "#VE raised (vector 20)")                                  \
	X(exc_cp, "#CP raised (vector 21)")                                  \
	X(exc_hv, "#HV raised (vector 28)")                                  \
	X(exc_vc, "#VC raised (vector 29)")                                  \
	X(exc_sx, "#SX raised (vector 30)")                                  \
	X(int_n, "software interrupts (INT n, n >= 32) raised")               \
	X(data_l1d, "cache model: data accesses that hit the L1D")           \
	X(data_l2, "cache model: data accesses that hit the L2")             \
	X(data_llc, "cache model: data accesses that hit the LLC")           \
	X(data_mem, "cache model: data accesses that went to memory")        \
	X(ref_l1d, "cache model: paging-structure references that hit the L1D") \
	X(ref_l2, "cache model: paging-structure references that hit the L2") \
	X(ref_llc, "cache model: paging-structure references that hit the LLC") \
	X(ref_mem, "cache model: paging-structure references that went to memory")

#define SV__STAT_ENUM(name, desc) SV_VCPU_STAT_##name,
typedef enum sv_vcpu_stat { SV_VCPU_STAT_LIST(SV__STAT_ENUM) SV_VCPU_STAT__COUNT } sv_vcpu_stat;
#undef SV__STAT_ENUM

/* Per-VM counters. */
#define SV_VM_STAT_LIST(X)                                                  \
	X(tdp_table_pages, "EPT/NPT table pages in use")                    \
	X(guest_table_pages, "guest page-table pages built by the library") \
	X(memslots, "memslots in use")                                      \
	X(pages_4k, "4K leaf SPTEs present (KVM's pages_4k)")               \
	X(pages_2m, "2M leaf SPTEs present (pages_2m)")                     \
	X(pages_1g, "1G leaf SPTEs present (pages_1g)")                     \
	X(nx_lpage_splits, "tables made because NX forbade a huge page")    \
	X(remote_tlb_flush_requests, "remote TLB flushes asked for")        \
	X(remote_tlb_flush, "remote TLB flushes that kicked a vCPU")        \
	X(base_only_flushes, "flushes of one block's base address only "   \
	  "(switch SV_BUG_BASE_FLUSH)")                                    \
	X(zap_leaf_4k, "4K leaf SPTEs zapped")                              \
	X(zap_leaf_2m, "2M leaf SPTEs zapped")                              \
	X(zap_leaf_1g, "1G leaf SPTEs zapped")                              \
	X(zap_table, "non-leaf SPTEs zapped with their tables")             \
	X(split_2m, "2M SPTEs split into 512 4K SPTEs")                     \
	X(split_1g, "1G SPTEs split into 512 2M SPTEs")                     \
	X(recover_2m, "2M SPTEs rebuilt in place from 4K tables")           \
	X(recover_1g, "1G SPTEs rebuilt in place from 2M tables")           \
	X(spte_prefetch, "4K SPTEs prefetched beside a fault (tdp_mmu off)") \
	X(wrprot, "leaf SPTEs write-protected (or D cleared) for logging")  \
	X(dirty_marked, "pages marked dirty in a dirty bitmap")             \
	X(invalidations, "MMU-notifier invalidations received")             \
	X(age_young, "aging calls that found a young SPTE")                 \
	X(memslot_updates, "memslot changes (each moves the generation)")   \
	X(mmio_gen_wraps, "MMIO generation wraps (zap all, fast)")         \
	X(kvm_maps, "guest pages the hypervisor mapped for itself "         \
	  "(kvm_vcpu_map, gfn-to-pfn cache refreshes)")                    \
	X(kvm_unmaps, "guest pages the hypervisor unmapped "                \
	  "(kvm_vcpu_unmap, cache invalidations)")                         \
	X(pfncache_refreshes, "gfn-to-pfn caches mapped again on use")     \
	X(pfncache_invalidations, "gfn-to-pfn caches a notifier event "    \
	  "dropped")                                                          \
	X(mmu_cache_miss, "shadow MMU: shadow pages created (KVM's "         \
	  "mmu_cache_miss)")                                                  \
	X(spte_install_4k, "shadow MMU: 4K leaf SPTEs installed by faults "  \
	  "and prefetch (tracepoint kvm_mmu_set_spte)")                       \
	X(spte_install_2m, "shadow MMU: 2M leaf SPTEs installed")            \
	X(mmu_unsync, "shadow MMU: shadow pages unsync now (mmu_unsync)")    \
	X(sp_unsynced, "shadow MMU: shadow pages made unsync (the guest "    \
	  "writes their table freely until a sync)")                         \
	X(sp_synced, "shadow MMU: unsync shadow pages synced with the "      \
	  "guest's table (INVLPG, MOV to CR3)")                               \
	X(mmu_pte_write, "shadow MMU: emulated guest writes to its "         \
	  "write-protected page tables (mmu_pte_write)")                      \
	X(mmu_pde_zapped, "shadow MMU: links to shadow pages zapped by such " \
	  "writes (mmu_pde_zapped)")                                          \
	X(mmu_shadow_zapped, "shadow MMU: shadow pages zapped "               \
	  "(mmu_shadow_zapped)")                                              \
	X(mmu_flooded, "shadow MMU: shadow pages zapped because the guest "  \
	  "kept writing their table (mmu_flooded)")                           \
	X(mmu_recycled, "shadow MMU: shadow pages zapped to stay under the " \
	  "limit (mmu_recycled)")

#define SV__STAT_ENUM(name, desc) SV_VM_STAT_##name,
typedef enum sv_vm_stat { SV_VM_STAT_LIST(SV__STAT_ENUM) SV_VM_STAT__COUNT } sv_vm_stat;
#undef SV__STAT_ENUM

/** Name and one-line description of a counter; NULL if out of range. */
SV_API const char *sv_vcpu_stat_name(sv_vcpu_stat id);
SV_API const char *sv_vcpu_stat_desc(sv_vcpu_stat id);
SV_API const char *sv_vm_stat_name(sv_vm_stat id);
SV_API const char *sv_vm_stat_desc(sv_vm_stat id);
/**
 * A level (what is in use now: table pages, memslots, SPTEs of each size),
 * not a count of events.  A level can go down; a report's phase holds its
 * change, and its value at a phase's end is the total less the later
 * changes.
 */
SV_API bool sv_vm_stat_is_level(sv_vm_stat id);
/** One counter, for callers that list them all (other languages, tools). */
typedef struct sv_stat_info {
	const char *name;
	const char *desc;
	bool vcpu;          /* a per-vCPU counter (vcpu_id), else the VM's (vm_id) */
	bool level;         /* what is there now, not a count of events */
	sv_vm_stat vm_id;
	sv_vcpu_stat vcpu_id;
} sv_stat_info;

/** Counter i: the VM's counters first, then the vCPU's; false past the
 *  end (or for a NULL out). */
SV_API bool sv_stat_info_get(size_t i, sv_stat_info *out);

/** Counter id by name; SV_ENOENT if there is none. */
SV_API int sv_vcpu_stat_lookup(sv_vcpu_stat *out, const char *name);
SV_API int sv_vm_stat_lookup(sv_vm_stat *out, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* SIMVIRT_STATS_H */
