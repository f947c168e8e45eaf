/*
 * bench/bench_exec.c - guest instructions per second on Unicorn, four ways,
 * measured in one run, for the touch, stream, random and chase workloads:
 *
 *   (a) Unicorn alone, no hooks: the guest's image, parameters, stack and
 *       region mapped flat, as simvirt leaves them;
 *   (b) (a) plus empty memory hooks: the ceiling for exact per-access
 *       modelling in Unicorn 2.0.1 (any memory hook sends every access
 *       through its slow path);
 *   (c) simvirt, detailed: every access and fetch through the model, the
 *       hypervisor MMU over a THP-backed host slot, block costs;
 *   (d) simvirt, fast-forward: the block hook only.
 *
 * The four run the same guest code on the same parameters, so they execute
 * the same instructions: (c) counts them.  The four run in turns, ROUNDS
 * times; each rate is that count over the configuration's median time and
 * each ratio the median of the rounds' own ratios (a burst of load on the
 * machine then spoils one round, not the figure).
 * Targets: (c) >= 0.75 (b); (d) >= 0.5 (a).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <string.h>
#include <sys/mman.h>

#include <unicorn/unicorn.h>

#include "bench.h"
#include "abi.h"

const char *bench_name = "bench_exec";

#define ROUNDS 5 /* each figure is the median of this many rounds */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of ROUNDS values (sorted in place). */
static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp_double);
	return v[ROUNDS / 2];
}

#define GPA 0x40000000ULL
#define SYS 0x100000000ULL /* the library's slot, fixed so (a) can copy it */

typedef struct wl {
	const char *label;    /* the row's name */
	const char *name;     /* the workload */
	uint64_t size, stride, count;
	unsigned passes;
	bool populate;        /* the host writes the region before the run */
	bool target;          /* the row counts toward the targets */
} wl;

/*
 * random's table is populated first, as GUPS (HPCC RandomAccess) sets its
 * table before the updates.  "random0" runs the same updates on untouched
 * memory, for information: its first reads map the huge zero page, and
 * each first write to a 4K page then splits it and copies (16,384 host
 * COW faults, each zapping an SPTE and flushing the vCPU's TLB), so the
 * model's own work, not the cost of modelling an access, dominates.
 */
static const wl wls[] = {
	{"touch", "touch", 64ULL << 20, 64, 0, 4, false, true},
	{"stream", "stream", 48ULL << 20, 0, 0, 3, false, true},
	{"random", "random", 64ULL << 20, 0, 2000000, 1, true, true},
	{"chase", "chase", 16ULL << 20, 64, 2000000, 1, false, true},
	{"random0", "random", 64ULL << 20, 0, 2000000, 1, false, false},
};

typedef struct sim {
	sv_host *h;
	sv_vm *vm;
	sv_exec *ex;
} sim;

static void sim_up(sim *s, const wl *w, sv_exec_mode mode)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_vm_options vo = SV_VM_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
	sv_host_mmap_args a = {
		.version = SV_HOST_MMAP_VERSION,
		.size = w->size,
		.prot = SV_PROT_READ | SV_PROT_WRITE,
		.backing = SV_BACKING_ANON,
	};
	sv_memslot_region r = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = 1,
		.gpa = GPA,
		.size = w->size,
	};
	sv_workload g = SV_WORKLOAD_INIT;
	uint64_t i;

	bench_check("host", sv_host_new(&s->h, &ho));
	bench_check("vm", sv_vm_new(&s->vm, &vo));
	bench_check("mmu", sv_mmu_attach(s->vm, s->h, &mo));
	a.size = (w->size + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
	bench_check("mmap", sv_host_mmap(&r.hva, s->h, &a));
	bench_check("madvise", sv_host_madvise(s->h, r.hva, a.size, SV_MADV_HUGEPAGE));
	bench_check("memslot", sv_memslot_set(s->vm, &r));
	for (i = 0; w->populate && i < a.size; i += 2ULL << 20) {
		sv_host_leaf leaf;

		bench_check("populate", sv_host_fault(&leaf, s->h, r.hva + i, true));
	}
	eo.sys_gpa = SYS;
	eo.mode = mode;
	bench_check("exec", sv_exec_new(&s->ex, s->vm, &eo));
	bench_check("map", sv_exec_map(s->ex, GPA, GPA, w->size, 2ULL << 20,
				       SV_EXEC_MAP_WRITE));
	g.name = w->name;
	g.gva = GPA;
	g.size = w->size;
	g.stride = w->stride ? w->stride : 4096;
	g.passes = w->passes;
	g.count = w->count;
	bench_check("workload", sv_exec_load_workload(s->ex, &g));
}

static void sim_down(sim *s)
{
	sv_exec_free(s->ex);
	sv_vm_free(s->vm);
	sv_host_free(s->h);
}

static double run_sim(const wl *w, sv_exec_mode mode, uint64_t *insns)
{
	sv_exec_result res;
	sim s;
	double t;

	sim_up(&s, w, mode);
	t = bench_now();
	bench_check("run", sv_exec_run_until(&res, s.ex, 0));
	t = bench_now() - t;
	if (res.stop != SV_EXEC_HALTED) {
		fprintf(stderr, "%s: %s did not halt (stop %d)\n", bench_name,
			w->label, res.stop);
		exit(1);
	}
	*insns = sv_vm_vcpu_stat_sum(s.vm, SV_VCPU_STAT_instructions);
	sim_down(&s);
	return t;
}

static void empty_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		      int64_t value, void *payload)
{
}

static void *zeroed(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "%s: mmap failed\n", bench_name);
		exit(1);
	}
	return p;
}

/* (a) and (b): the same guest on a bare engine.  The image, GDT and
 * parameter block are copied out of a simvirt set-up (the library wrote
 * them), then mapped flat at the guest-virtual addresses simvirt uses. */
static double run_bare(const wl *w, bool hooks)
{
	const uint64_t boot = 2 * 4096;
	uint8_t *image = zeroed(SV_GUEST_IMAGE_MAX), *bp = zeroed(boot);
	uint8_t *stack = zeroed(SV_GUEST_STACK_SIZE), *data = zeroed(w->size);
	uint64_t rsp = SV_GUEST_STACKS + SV_GUEST_STACK_SIZE, rdi = 0;
	uint64_t cs = 0x08, ss = 0x10;
	uc_x86_mmr gdtr = {.base = SV_GUEST_BOOT, .limit = 23};
	uc_engine *uc;
	uc_hook h;
	uc_err e;
	sim s;
	double t;

	sim_up(&s, w, SV_EXEC_FAST_FORWARD);
	bench_check("copy image", sv_gpa_read(s.vm, SYS + SV_SYS_IMAGE, image,
					       SV_GUEST_IMAGE_MAX));
	bench_check("copy boot", sv_gpa_read(s.vm, SYS + SV_SYS_BOOT, bp, boot));
	sim_down(&s);
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK ||
	    uc_mem_map_ptr(uc, SV_GUEST_IMAGE, SV_GUEST_IMAGE_MAX, UC_PROT_ALL, image) ||
	    uc_mem_map_ptr(uc, SV_GUEST_BOOT, boot, UC_PROT_ALL, bp) ||
	    uc_mem_map_ptr(uc, SV_GUEST_STACKS, SV_GUEST_STACK_SIZE, UC_PROT_ALL,
			   stack) ||
	    uc_mem_map_ptr(uc, GPA, w->size, UC_PROT_ALL, data)) {
		fprintf(stderr, "%s: bare Unicorn set-up failed\n", bench_name);
		exit(1);
	}
	uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
	uc_reg_write(uc, UC_X86_REG_CS, &cs);
	uc_reg_write(uc, UC_X86_REG_SS, &ss);
	uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(uc, UC_X86_REG_RDI, &rdi);
	if (hooks)
		uc_hook_add(uc, &h, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
			    empty_mem, NULL, 1, 0);
	t = bench_now();
	e = uc_emu_start(uc, SV_GUEST_IMAGE, 0, 0, 0); /* runs to its hlt */
	t = bench_now() - t;
	if (e != UC_ERR_OK) {
		fprintf(stderr, "%s: bare %s: %s\n", bench_name, w->label,
			uc_strerror(e));
		exit(1);
	}
	uc_close(uc);
	munmap(image, SV_GUEST_IMAGE_MAX);
	munmap(bp, boot);
	munmap(stack, SV_GUEST_STACK_SIZE);
	munmap(data, w->size);
	return t;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [WORKLOAD [CONFIG]]\n"
			"  WORKLOAD: touch, stream, random, chase or random0 (default: "
			"all)\n"
			"  CONFIG:   one of a, b, c, d, to run only that one (for a "
			"profiler)\n", bench_name);
	exit(2);
}

/* Runs one configuration of one workload alone, for profiling. */
static int run_one(const wl *w, char config)
{
	uint64_t n;
	double t;

	switch (config) {
	case 'a':
	case 'b':
		run_sim(w, SV_EXEC_FAST_FORWARD, &n); /* the count to report */
		t = run_bare(w, config == 'b');
		break;
	case 'c':
	case 'd':
		t = run_sim(w, config == 'c' ? SV_EXEC_DETAILED : SV_EXEC_FAST_FORWARD,
			    &n);
		break;
	default:
		usage();
	}
	printf("%s (%c): %llu instructions, %.1f M insn/s\n", w->label, config,
	       (unsigned long long)n, n / t / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t i;
	bool met = true, any = false;

	if (argc > 3 || (argc == 3 && strlen(argv[2]) != 1))
		usage();
	for (i = 0; only && i < sizeof(wls) / sizeof(wls[0]); i++)
		if (!strcmp(wls[i].label, only))
			break;
	if (only && i == sizeof(wls) / sizeof(wls[0]))
		usage();
	if (argc == 3)
		return run_one(&wls[i], argv[2][0]);

	printf("guest instructions per second (millions), median of %d "
	       "interleaved rounds; each ratio the median of the rounds' "
	       "ratios\n", ROUNDS);
	printf("%-8s %12s %9s %9s %9s %9s  %8s %8s\n", "workload", "insns",
	       "(a) bare", "(b) hooks", "(c) model", "(d) ff", "(c)/(b)",
	       "(d)/(a)");
	for (i = 0; i < sizeof(wls) / sizeof(wls[0]); i++) {
		const wl *w = &wls[i];
		uint64_t n, n_ff;
		double ta[ROUNDS], tb[ROUNDS], tc[ROUNDS], td[ROUNDS];
		double cbr[ROUNDS], dar[ROUNDS], cb, da;
		unsigned r;

		if (only && strcmp(w->label, only))
			continue;

		/* the four in turns, round after round, so that a burst of
		 * load on the machine hits one round rather than one
		 * configuration */
		for (r = 0; r < ROUNDS; r++) {
			tc[r] = run_sim(w, SV_EXEC_DETAILED, &n);
			td[r] = run_sim(w, SV_EXEC_FAST_FORWARD, &n_ff);
			ta[r] = run_bare(w, false);
			tb[r] = run_bare(w, true);
			cbr[r] = tb[r] / tc[r];
			dar[r] = ta[r] / td[r];
		}
		cb = median(cbr);
		da = median(dar);

		if (n != n_ff) {
			fprintf(stderr, "%s: %s: detailed and fast-forward "
					"counted %llu and %llu instructions\n",
				bench_name, w->label, (unsigned long long)n,
				(unsigned long long)n_ff);
			return 1;
		}
		printf("%-8s %12llu %9.1f %9.1f %9.1f %9.1f  %8.2f %8.2f%s\n",
		       w->label, (unsigned long long)n, n / median(ta) / 1e6,
		       n / median(tb) / 1e6, n / median(tc) / 1e6,
		       n / median(td) / 1e6, cb, da,
		       w->target ? "" : "  (information)");
		if (w->target) {
			met &= cb >= 0.75 && da >= 0.5;
			any = true;
		}
	}
	if (any)
		printf("targets (c)/(b) >= 0.75 and (d)/(a) >= 0.5: %s\n",
		       met ? "met" : "NOT met");
	return 0;
}
