/*
 * lib/scenario/plan.h - a loaded scenario: everything its key file says,
 * checked, as the values the library's options take (the plan).  Loading
 * (load.c) fills it through the key schema (schema.c); the runner (run.c)
 * builds and runs from it alone.
 */
#ifndef SV_SCENARIO_PLAN_H
#define SV_SCENARIO_PLAN_H

#include "base.h"

typedef enum sc_backing {
	B_ANON, B_THP, B_HUGETLB_2M, B_HUGETLB_1G, B_DAX_PMD, B_DAX_PUD,
	B_PFNMAP, B_READONLY, B_PFNMAP_RAM, B__COUNT
} sc_backing;

extern const char *const sv_scenario__backing_names[B__COUNT];

typedef struct sc_slot {
	char *name;
	uint64_t gpa, size, hva_offset;
	uint64_t vma_align; /* the VMA widened to this alignment (0: the slot) */
	int backing;       /* sc_backing */
	bool readonly;
} sc_slot;

/* The phase actions: X(verb, its arguments, what it does). */
#define SC_VERB_LIST(X)                                                     \
	X(dirty_log_enable, "SLOT", "start dirty logging on a memslot")       \
	X(dirty_log_disable, "SLOT", "stop dirty logging on a memslot")       \
	X(dirty_log_get, "SLOT", "KVM_GET_DIRTY_LOG")                         \
	X(dirty_log_clear, "SLOT", "KVM_CLEAR_DIRTY_LOG of the last get's "   \
				   "bits (all pages if none)")                \
	X(munmap, "SLOT [OFF LEN]", "unmap the slot's host memory")           \
	X(mmap, "SLOT [OFF LEN]", "map fresh memory of the slot's backing "   \
				  "where it was unmapped")                    \
	X(mprotect, "SLOT none|r|rw [OFF LEN]", "change its host protection") \
	X(madvise, "SLOT ADVICE [OFF LEN]", "dontneed, free, hugepage, "      \
		   "nohugepage, collapse or pageout")                         \
	X(collapse, "SLOT [OFF LEN]", "MADV_COLLAPSE")                        \
	X(khugepaged, "", "one full khugepaged pass")                         \
	X(split_thp, "SLOT OFF", "split the THP at an offset")                \
	X(migrate, "SLOT [OFF LEN]", "migrate the pages to new frames")       \
	X(ksm, "SLOT [OFF LEN]", "KSM: merge identical pages")                \
	X(fork, "", "fork (private memory becomes copy-on-write)")            \
	X(fork_exit, "", "the forked child exits")                            \
	X(clear_refs, "", "clear_refs soft-dirty over the whole mm")          \
	X(age, "SLOT [OFF LEN]", "clear_flush_young over the range")          \
	X(age_noflush, "SLOT [OFF LEN]", "clear_young (no flush)")            \
	X(flush, "", "a remote TLB flush of every vCPU")                      \
	X(guest_khugepaged, "", "a trace run's: one full pass of the guest "  \
				"kernel's khugepaged")                        \
	X(mode, "detailed|fast-forward", "switch the execution mode")

typedef enum sc_verb {
#define SC_VERB_ENUM(name, args, what) V_##name,
	SC_VERB_LIST(SC_VERB_ENUM)
#undef SC_VERB_ENUM
	V__COUNT
} sc_verb;

const char *sv_scenario__verb_name(sc_verb v);

typedef struct sc_action {
	sc_verb verb;
	int slot;          /* index into the plan's slots, or -1 */
	uint64_t off, len; /* len 0: to the end of the slot */
	unsigned arg;      /* mprotect: SV_PROT_*; madvise: sv_madvise;
			      mode: sv_exec_mode */
} sc_action;

typedef struct sc_phase {
	uint32_t n;        /* the sync point, or the group's number */
	uint64_t insn;     /* bound to this instruction count (0: sync n) */
	uint64_t records;  /* a trace run's: bound to this record count */
	char *name;
	char *actions_text; /* actions= as written (blanks cut), or NULL */
	GArray *actions;   /* sc_action */
} sc_phase;

struct sv_scenario {
	char *file, *name, *description, *text;
	sv_vm_options vm;
	sv_mmu_options mmu;
	char *policy;
	sv_host_options host;
	bool host_mem_set;    /* [host] mem given (else sized for the slots) */
	bool host_pools_set;  /* [host] hugetlb_*_pages given (else sized) */
	GArray *slots;     /* sc_slot, in the file's order (= slot ids) */
	sv_workload work;
	char *workload;
	char *region_name;
	int region;        /* slot index */
	char *tables_name; /* [guest] tables: the guest page tables' slot */
	uint64_t page_size;
	uint64_t limit;    /* [guest] instructions, 0 = none */
	sv_exec_options exec;
	sv_cache_config cache;    /* [cache] */
	bool steal_time;          /* [vm] steal_time */
	uint64_t steal_interval;  /* [vm] steal_time_interval */
	char *steal_slot_name;    /* [vm] steal_time_slot, or NULL */
	uint64_t steal_gpa;       /* its GPA, or 0: the library's slot */
	/* [trace] and [guestmm]: the workload is a trace run through the
	 * guest kernel's memory model (trace_file set; no [guest]). */
	char *trace_file;         /* as written */
	char *trace_path;         /* found from the scenario file's folder */
	int trace_format;         /* sv_trace_format */
	uint64_t trace_records;   /* stop after this many (0: the whole trace) */
	sv_guestmm_options gmm;
	char *gmm_slot_name;      /* [guestmm] slot: the memory it manages */
	int gmm_slot;
	uint64_t khugepaged_period; /* records (a program: instructions)
				       between wake-ups (0: none) */
	/* [program] and [guestmm]: the workload is a static Linux program
	 * on the guest kernel (prog_text set; no [guest], no [trace]). */
	char *prog_text;          /* [program] path, as written */
	char *prog_path;          /* found from the scenario file's folder */
	char *prog_args, *prog_env, *prog_stdin, *prog_files;
	char *prog_stdout, *prog_stderr;
	char *prog_stdin_path;    /* stdin found from the folder, or NULL */
	GPtrArray *prog_argv;     /* argv, NULL-terminated */
	GPtrArray *prog_envp;     /* envp, NULL-terminated */
	GArray *prog_file_list;   /* sv_program_file (strings in prog_strs) */
	GPtrArray *prog_strs;     /* what prog_file_list points into */
	sv_program_options prog;  /* seed, mode, detail_at, costs, clock */
	uint64_t prog_limit;      /* [program] instructions (0: none) */
	GPtrArray *phases; /* sc_phase *, sync phases by n then by count */
	char *config_text; /* sv_scenario_config_text(), made on first use */
};

/* [trace] and [guestmm] (lib/scenario/trace.c): read, and checked against
 * the rest of the plan, after [guest]; the phases' records checked after
 * they are read. */
typedef struct sc_ctx {
	GKeyFile *kf;
	const char *file;
} sc_ctx;
int sv_scenario__load_trace(sv_scenario *s, const sc_ctx *c);
/* [phase.N] groups (lib/scenario/phase.c): one read into s->phases, and
 * all of them sorted (two bound to one point are an error). */
int sv_scenario__load_phase(sv_scenario *s, const sc_ctx *c, const char *group);
int sv_scenario__sort_phases(sv_scenario *s);
void sv_scenario__phase_free(gpointer p);
int sv_scenario__check_trace_phases(const sv_scenario *s);
/* [program] (lib/scenario/program.c): read, paths found, checked against
 * the rest of the plan (after [trace]); its parts freed. */
int sv_scenario__load_program(sv_scenario *s, const sc_ctx *c);
void sv_scenario__program_free(sv_scenario *s);
/* [guestmm] slot: the memslot the guest kernel manages, checked. */
int sv_scenario__load_gmm_slot(sv_scenario *s, const sc_ctx *c);

/* The index of the slot of that name, or -1. */
int sv_scenario__find_slot(const sv_scenario *s, const char *name);
/*
 * The effective configuration: every key of every group the plan has
 * ([scenario], [vm], [host], each [memslot.NAME] in file order, [guest],
 * [tlb], [cost], each [phase.N] in plan order), defaults included, as a
 * file would write each value, with [host] as the runner sized it
 * (host).  A flat array of "group", "key", "value" strings.
 */
GPtrArray *sv_scenario__config(const sv_scenario *s, const sv_host_options *host);

#endif /* SV_SCENARIO_PLAN_H */
