/*
 * tests/check_exec.c - execution-driven guests: the built-in workloads run
 * on Unicorn with every access through the model.  The machine is the
 * KVM selftests' shape: one user slot at GPA 0x40000000 backed by a
 * simulated host mapping (THP or 4K anonymous), identity-mapped in the
 * guest page tables, plus the library's own 4K-anonymous slot for code,
 * stacks and page tables.  Counters are compared per phase (from one sync
 * point to the next) so that the library's own pages stay out of the
 * derivations, except where they are counted explicitly.
 */
#include <string.h>

#include <glib.h>

#include "helpers.h"

#define SZ_4K 0x1000ULL
#define SZ_2M (2ULL << 20)
#define GPA 0x40000000ULL
#define VMS(vm, name) sv_vm_stat_get((vm), SV_VM_STAT_##name)
#define CPUS(vm, name) sv_vm_vcpu_stat_sum((vm), SV_VCPU_STAT_##name)

typedef struct fix {
	sv_host *h;
	sv_vm *vm;
	sv_exec *ex;
	uint64_t hva, size;
	/* data reads, writes, and the exits they took, inside [GPA, GPA +
	 * size), when counted */
	uint64_t reads, writes, exits;
	/* counters at each sync point, [n][0] EPT violations, [n][1]
	 * pages_4k, [n][2] pages_2m, and in the region [n][3] reads, [n][4]
	 * writes and [n][5] exits */
	uint64_t at[8][6];
	unsigned syncs;
	/* an action to run at a sync point */
	uint32_t act_at;
	void (*act)(struct fix *f);
} fix;

static int on_sync(sv_exec *ex, uint32_t n, void *payload)
{
	fix *f = payload;

	ck_assert_uint_lt(n, 8);
	f->at[n][0] = CPUS(f->vm, ept_violations);
	f->at[n][1] = VMS(f->vm, pages_4k);
	f->at[n][2] = VMS(f->vm, pages_2m);
	f->at[n][3] = f->reads;
	f->at[n][4] = f->writes;
	f->at[n][5] = f->exits;
	f->syncs++;
	if (f->act && n == f->act_at)
		f->act(f);
	return 0;
}

/* A VM of `vcpus` (vm_opts, or the defaults) with the MMU over a host
 * slot of `size` at GPA (THP or not), identity-mapped with guest pages of
 * gpage, and an exec handle. */
static void fix_up_vm(fix *f, unsigned vcpus, uint64_t size, bool thp,
		      uint64_t gpage, const sv_exec_options *eo,
		      const sv_vm_options *vm_opts)
{
	sv_host_options ho = SV_HOST_OPTIONS_INIT;
	sv_vm_options vo = vm_opts ? *vm_opts : (sv_vm_options)SV_VM_OPTIONS_INIT;
	sv_mmu_options mo = SV_MMU_OPTIONS_INIT;
	sv_host_mmap_args a = {SV_HOST_MMAP_VERSION, 0, size,
			       SV_PROT_READ | SV_PROT_WRITE, 0, SV_BACKING_ANON, 0};
	sv_memslot_region r = {SV_MEMSLOT_REGION_VERSION, 1, 0, GPA, size, 0};

	memset(f, 0, sizeof(*f));
	f->size = size;
	vo.vcpus = vcpus;
	T_OK(sv_host_new(&f->h, &ho));
	T_OK(sv_vm_new(&f->vm, &vo));
	T_OK(sv_mmu_attach(f->vm, f->h, &mo));
	T_OK(sv_host_mmap(&f->hva, f->h, &a));
	T_OK(sv_host_madvise(f->h, f->hva, size,
			     thp ? SV_MADV_HUGEPAGE : SV_MADV_NOHUGEPAGE));
	r.hva = f->hva;
	T_OK(sv_memslot_set(f->vm, &r));
	T_OK(sv_exec_new(&f->ex, f->vm, eo));
	T_OK(sv_exec_map(f->ex, GPA, GPA, size, gpage, SV_EXEC_MAP_WRITE));
	sv_exec_set_sync(f->ex, on_sync, f);
}

static void fix_up(fix *f, unsigned vcpus, uint64_t size, bool thp,
		   uint64_t gpage, const sv_exec_options *eo)
{
	fix_up_vm(f, vcpus, size, thp, gpage, eo, NULL);
}

static void fix_down(fix *f)
{
	sv_exec_free(f->ex);
	sv_vm_free(f->vm);
	sv_host_free(f->h);
}

static sv_workload touch_of(uint64_t size, unsigned passes)
{
	sv_workload w = SV_WORKLOAD_INIT;

	w.gva = GPA;
	w.size = size;
	w.passes = passes;
	return w;
}

static void run_halted(fix *f)
{
	sv_exec_result res;

	T_OK(sv_exec_run_until(&res, f->ex, 0));
	ck_assert_msg(res.stop == SV_EXEC_HALTED, "stop %d, vcpu %u rip 0x%llx "
			  "fault %d gva 0x%llx", res.stop, res.vcpu,
		      (unsigned long long)res.rip, res.fault.kind,
		      (unsigned long long)res.fault.gva);
}

/* ---- the first-principles counts --------------------------------- */

/* The workload's own data accesses: inside the region (the library's
 * pages, stack and parameter block stay out). */
static void count_region(sv_exec *ex, unsigned vcpu, uint64_t gva,
			 uint32_t size, sv_access acc, const sv_xlate *x,
			 void *payload)
{
	fix *f = payload;

	if (gva - GPA >= f->size)
		return;
	f->reads += acc == SV_ACCESS_READ;
	f->writes += acc == SV_ACCESS_WRITE;
	f->exits += x->exits;
}


/* The library's slot over a slot of the caller's: one message that says
 * what the library tried and why KVM refused it, each part once. */
START_TEST(sys_slot_overlap_message)
{
	sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
	sv_memslot_region r = {.version = SV_MEMSLOT_REGION_VERSION,
			       .size = 4ULL << 30};
	const char *d, *first;
	sv_exec *ex = NULL;
	sv_vm *vm;

	T_OK(sv_vm_new(&vm, NULL));
	T_OK(sv_memslot_set(vm, &r));
	eo.sys_gpa = 1ULL << 30;
	ck_assert_int_eq(sv_exec_new(&ex, vm, &eo), SV_EOVERLAP);
	ck_assert_ptr_null(ex);
	d = sv_error_detail();
	first = strstr(d, "the library's memslot");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_null(strstr(first + 1, "the library's memslot"));
	ck_assert_ptr_nonnull(strstr(d, "overlaps slot 0 (KVM: EEXIST)"));
	sv_vm_free(vm);
}
END_TEST

START_TEST(touch_thp_2m_guest_pages)
{
	sv_workload w = touch_of(256ULL << 20, 1);
	fix f;

	fix_up(&f, 1, 256ULL << 20, true, SZ_2M, NULL);
	T_OK(sv_exec_load_workload(f.ex, &w));
	sv_exec_set_access_hook(f.ex, count_region, &f);
	run_halted(&f);
	ck_assert_uint_eq(f.syncs, 2); /* sync 1 before the pass, 2 after */
	/* Pass 1 writes every 4K page of 256 MiB.  Each 2M guest page lies
	 * in one host THP, so the first write to it is one EPT violation and
	 * one 2M SPTE: 256M / 2M = 128.  The guest's own table pages are in
	 * the library's slot, resident before the run (sv_exec prefaults
	 * its pages in use): no exit and no 4K SPTE for them. */
	ck_assert_uint_eq(f.at[2][0] - f.at[1][0], 128);
	ck_assert_uint_eq(f.at[2][2] - f.at[1][2], 128);
	ck_assert_uint_eq(f.at[2][1] - f.at[1][1], 0);
	/* 65,536 writes into the region, one per 4K page, and no read:
	 * all through the model. */
	ck_assert_uint_eq(f.at[2][4] - f.at[1][4], 65536);
	ck_assert_uint_eq(f.at[2][3] - f.at[1][3], 0);
	fix_down(&f);
}
END_TEST

START_TEST(touch_anon_4k_backing)
{
	sv_workload w = touch_of(256ULL << 20, 1);
	fix f;

	fix_up(&f, 1, 256ULL << 20, false, SZ_2M, NULL);
	T_OK(sv_exec_load_workload(f.ex, &w));
	run_halted(&f);
	/* With MADV_NOHUGEPAGE every host page is 4K, so the SPTE level is
	 * capped at 4K: 256M / 4K = 65,536 violations and 4K SPTEs (the
	 * guest's table pages are resident, as above). */
	ck_assert_uint_eq(f.at[2][0] - f.at[1][0], 65536);
	ck_assert_uint_eq(f.at[2][1] - f.at[1][1], 65536);
	ck_assert_uint_eq(f.at[2][2] - f.at[1][2], 0);
	fix_down(&f);
}
END_TEST

/* Runs workload `name` over size bytes of THP with 2M guest pages,
 * counting its region accesses per phase (the exits of the library's own
 * pages, such as a first write to the parameter block, stay out).  With
 * `populate`, the host writes the region first: every THP is in place and
 * writable before the guest starts. */
static void run_counted(fix *f, sv_workload *w, const char *name, uint64_t size,
			bool populate)
{
	uint64_t a;

	fix_up(f, 1, size, true, SZ_2M, NULL);
	for (a = 0; populate && a < size; a += SZ_2M) {
		sv_host_leaf leaf;

		T_OK(sv_host_fault(&leaf, f->h, f->hva + a, true));
		ck_assert_uint_eq(leaf.level, 2);
	}
	w->name = name;
	w->gva = GPA;
	w->size = size;
	T_OK(sv_exec_load_workload(f->ex, w));
	sv_exec_set_access_hook(f->ex, count_region, f);
	run_halted(f);
}

#define PHASE(f, n, col) ((f).at[(n) + 1][col] - (f).at[n][col])

START_TEST(stream_counts)
{
	sv_workload w = SV_WORKLOAD_INIT;
	const uint64_t n = (6ULL << 20) / 24; /* words per array */
	fix f;

	/* Three arrays of 2M each: a, b and c are one THP each. */
	w.passes = 2;
	run_counted(&f, &w, "stream", 6ULL << 20, false);
	ck_assert_uint_eq(f.syncs, 3);
	/* before sync 1, a[i] = i: n writes; a's first write makes its 2M
	 * SPTE */
	ck_assert_uint_eq(f.at[1][4], n);
	ck_assert_uint_eq(f.at[1][3], 0);
	ck_assert_uint_eq(f.at[1][2], 1);
	/* pass 1: copy (n reads, n writes), scale (n, n), add (2n, n),
	 * triad (2n, n) = 6n reads, 4n writes; c's and b's first writes make
	 * their 2M SPTEs: 2 violations, nothing else new */
	ck_assert_uint_eq(PHASE(f, 1, 3), 6 * n);
	ck_assert_uint_eq(PHASE(f, 1, 4), 4 * n);
	ck_assert_uint_eq(PHASE(f, 1, 5), 2);
	ck_assert_uint_eq(PHASE(f, 1, 2), 2);
	/* pass 2: the same accesses, every SPTE already in place */
	ck_assert_uint_eq(PHASE(f, 2, 3), 6 * n);
	ck_assert_uint_eq(PHASE(f, 2, 4), 4 * n);
	ck_assert_uint_eq(PHASE(f, 2, 5), 0);
	fix_down(&f);
}
END_TEST

START_TEST(random_counts)
{
	sv_workload w = SV_WORKLOAD_INIT;
	fix f;

	w.count = 10000;
	run_counted(&f, &w, "random", 4ULL << 20, true);
	ck_assert_uint_eq(f.syncs, 2);
	ck_assert_uint_eq(f.at[1][3] + f.at[1][4], 0); /* nothing before sync 1 */
	/* each update reads and writes one word */
	ck_assert_uint_eq(PHASE(f, 1, 3), 10000);
	ck_assert_uint_eq(PHASE(f, 1, 4), 10000);
	/* The host THPs are present and writable, so the first access to
	 * each 2M, read or write, maps it writable at 2M: 4M / 2M = 2 exits
	 * and 2 SPTEs (10,000 uniform updates all land in one half with
	 * probability 2^-9999); the guest's table pages are resident (as in
	 * touch_thp_2m_guest_pages). */
	ck_assert_uint_eq(PHASE(f, 1, 5), 2);
	ck_assert_uint_eq(PHASE(f, 1, 2), 2);
	fix_down(&f);
}
END_TEST

START_TEST(chase_counts)
{
	sv_workload w = SV_WORKLOAD_INIT;
	const uint64_t n = (4ULL << 20) / 64; /* nodes */
	fix f;

	w.stride = 64;
	w.passes = 1;
	run_counted(&f, &w, "chase", 4ULL << 20, false);
	ck_assert_uint_eq(f.syncs, 2);
	/* before sync 1: n writes link each node to itself, then Sattolo's
	 * shuffle swaps n - 1 pairs (2 reads, 2 writes each); the first
	 * writes make the region's two 2M SPTEs */
	ck_assert_uint_eq(f.at[1][4], n + 2 * (n - 1));
	ck_assert_uint_eq(f.at[1][3], 2 * (n - 1));
	ck_assert_uint_eq(f.at[1][2], 2);
	/* the chase, count 0 and 1 pass: n links followed, one read each */
	ck_assert_uint_eq(PHASE(f, 1, 3), n);
	ck_assert_uint_eq(PHASE(f, 1, 4), 0);
	ck_assert_uint_eq(PHASE(f, 1, 5), 0);
	fix_down(&f);
}
END_TEST

/* ---- the instructions the library answers -------------------------------- */

typedef struct sources {
	unsigned n;
	sv_xlate_source src[8]; /* of the region's data accesses, in order */
} sources;

static void on_source(sv_exec *ex, unsigned vcpu, uint64_t gva, uint32_t size,
		      sv_access acc, const sv_xlate *x, void *payload)
{
	sources *s = payload;

	if (acc != SV_ACCESS_FETCH && gva - GPA < SZ_2M && s->n < 8)
		s->src[s->n++] = x->source;
}

/* Runs the sites workload with every cost 0 but an ALU instruction's (1)
 * and RDTSC's (1000); returns the two TSCs the guest read. */
static void run_sites(uint64_t tsc[2], sources *s)
{
	sv_vm_options vo = SV_VM_OPTIONS_INIT;
	sv_workload w = touch_of(SZ_2M, 1);
	uint64_t word;
	size_t i;
	fix f;

	for (i = 0; i < sv_cost_count(); i++)
		*sv_cost_slot(&vo.costs, i) = 0;
	vo.costs.insn_alu = 1;
	vo.costs.insn_rdtsc = 1000;
	fix_up_vm(&f, 1, SZ_2M, true, SZ_2M, NULL, &vo);
	w.name = "sites";
	T_OK(sv_exec_load_workload(f.ex, &w));
	memset(s, 0, sizeof(*s));
	sv_exec_set_access_hook(f.ex, on_source, s);
	run_halted(&f);
	T_OK(sv_exec_guest_result(&tsc[0], f.ex, 0));
	T_OK(sv_exec_guest_result(&tsc[1], f.ex, 1));
	T_OK(sv_exec_guest_result(&word, f.ex, 2));
	ck_assert_uint_eq(word, 0x5173);
	ck_assert_uint_eq(CPUS(f.vm, rdtsc), 2);
	ck_assert_uint_eq(CPUS(f.vm, mov_cr3), 1);
	/* the TSC is the cycle counter: it never runs ahead of it */
	ck_assert_uint_le(tsc[1], CPUS(f.vm, cycles));
	fix_down(&f);
}

START_TEST(rdtsc_is_the_cycle_counter)
{
	uint64_t a[2], b[2];
	sources s;

	run_sites(a, &s);
	/* The first RDTSC ends its block (the hook answers it and moves RIP
	 * past it), so the two moves and the second RDTSC are one block,
	 * charged when it starts: 2 x 1 + 1000. */
	ck_assert_uint_eq(a[1] - a[0], 2 + 1000);
	/* ...and the first one's own cost was charged before it read. */
	ck_assert_uint_ge(a[0], 1000);
	/* no host time anywhere: a second run reads the same values */
	run_sites(b, &s);
	ck_assert_uint_eq(a[0], b[0]);
	ck_assert_uint_eq(a[1], b[1]);
}
END_TEST

START_TEST(mov_cr3_drops_translations)
{
	uint64_t tsc[2];
	sources s;

	run_sites(tsc, &s);
	/* the write walks (the first touch), the read-back hits L1, and
	 * after MOV CR3 (PCIDs off, no global pages) the read walks again */
	ck_assert_uint_eq(s.n, 3);
	ck_assert_int_eq(s.src[0], SV_SRC_WALK);
	ck_assert_int_eq(s.src[1], SV_SRC_L1);
	ck_assert_int_eq(s.src[2], SV_SRC_WALK);
}
END_TEST

/* ---- the model's GPA is where the bytes are ------------------------------- */

typedef struct seen {
	sv_vm *vm;
	uint64_t last_gpa;
	unsigned writes, wrong;
} seen;

/* Every data write: the model's GPA must hold the value just written
 * (the hook runs before Unicorn stores it, so check the previous one). */
static void on_access(sv_exec *ex, unsigned vcpu, uint64_t gva, uint32_t size,
		      sv_access acc, const sv_xlate *x, void *payload)
{
	seen *s = payload;
	uint64_t v = 0;

	if (acc != SV_ACCESS_WRITE || gva < 0x10000000ULL ||
	    gva >= 0x10000000ULL + (16ULL << 20))
		return;
	if (s->writes++) {
		sv_gpa_read(s->vm, s->last_gpa, &v, 8);
		s->wrong += v != 1;
	}
	s->last_gpa = x->gpa;
	s->wrong += x->gpa != gva - 0x10000000ULL + GPA;
}

START_TEST(model_gpa_holds_the_bytes)
{
	sv_workload w = touch_of(16ULL << 20, 1);
	seen s = {0};
	fix f;

	/* The region at GVA 0x10000000 maps GPA 0x40000000: not identity. */
	fix_up(&f, 1, 16ULL << 20, false, SZ_4K, NULL);
	T_OK(sv_exec_map(f.ex, 0x10000000ULL, GPA, 16ULL << 20, SZ_4K,
			 SV_EXEC_MAP_WRITE));
	w.gva = 0x10000000ULL;
	T_OK(sv_exec_load_workload(f.ex, &w));
	s.vm = f.vm;
	sv_exec_set_access_hook(f.ex, on_access, &s);
	run_halted(&f);
	ck_assert_uint_eq(s.writes, 4096); /* 16M / 4K, one write each */
	ck_assert_uint_eq(s.wrong, 0);
	fix_down(&f);
}
END_TEST

/* ---- faults --------------------------------------------------------------- */

START_TEST(three_page_faults_in_a_row)
{
	sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
	sv_workload w = SV_WORKLOAD_INIT;
	uint64_t r[6];
	unsigned i;
	fix f;

	/* _i: detailed, then fast-forward */
	eo.mode = _i ? SV_EXEC_FAST_FORWARD : SV_EXEC_DETAILED;
	fix_up(&f, 1, 16ULL << 20, false, SZ_4K, &eo);
	w.name = "faults";
	w.gva = 0x80000000ULL; /* mapped by nothing */
	T_OK(sv_exec_load_workload(f.ex, &w));
	run_halted(&f);
	for (i = 0; i < 6; i++)
		T_OK(sv_exec_guest_result(&r[i], f.ex, i));
	/* Each access is a #PF delivered to the guest's handler (Unicorn's
	 * own exception path, whose second fault is a #DF, is never used).
	 * In fast-forward mode too: Unicorn's RIP is the block's start
	 * there, and of the two `mov (%rdi),%rax` of the block only the
	 * first agrees with the registers (the `lea 0x2000(%rcx),%rdi`
	 * before the second would give rdi another value). */
	ck_assert_uint_eq(CPUS(f.vm, pf_delivered), 3);
	ck_assert_uint_eq(CPUS(f.vm, pf_guest), 3);
	/* CR2 is each faulting address; the error codes are the SDM's for a
	 * not-present supervisor data access: 0 for a read, W (bit 1) = 2
	 * for the write. */
	ck_assert_uint_eq(r[0], 0x80000000ULL);
	ck_assert_uint_eq(r[1], 0);
	ck_assert_uint_eq(r[2], 0x80001000ULL);
	ck_assert_uint_eq(r[3], 2);
	ck_assert_uint_eq(r[4], 0x80002000ULL);
	ck_assert_uint_eq(r[5], 0);
	fix_down(&f);
}
END_TEST

/*
 * One exception of each class through its IDT gate (workload exceptions):
 * the frame each handler finds, against the SDM (Vol. 3A 6.14.2, Table
 * 6-1).  _i: detailed, then fast-forward.
 */
START_TEST(each_exception_class_delivered)
{
	sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
	sv_workload w = SV_WORKLOAD_INIT;
	/* vector, an error code pushed by the CPU, a trap (RIP after) */
	static const struct {
		unsigned vector;
		bool trap;
	} want[] = {
		{0, false},   /* #DE, div by zero: a fault, no error code */
		{6, false},   /* #UD, ud2: a fault, no error code */
		{3, true},    /* #BP, int3: a trap */
		{14, false},  /* #PF, a read of an unmapped page */
		{13, false},  /* #GP, a read of a non-canonical address */
		{128, true},  /* INT 0x80: software, RIP after it */
	};
	uint64_t r[8], k4[4];
	unsigned k, i;
	fix f;

	eo.mode = _i ? SV_EXEC_FAST_FORWARD : SV_EXEC_DETAILED;
	fix_up(&f, 1, 16ULL << 20, false, SZ_4K, &eo);
	w.name = "exceptions";
	T_OK(sv_exec_load_workload(f.ex, &w));
	run_halted(&f);
	for (k = 0; k < G_N_ELEMENTS(want); k++) {
		for (i = 0; i < 8; i++)
			T_OK(sv_exec_guest_result(&r[i], f.ex, 8 * k + i));
		for (i = 0; i < 4; i++)
			T_OK(sv_exec_guest_result(&k4[i], f.ex, 64 + 4 * k + i));
		ck_assert_uint_eq(r[0], want[k].vector);
		/* the error code slot: the #PF's error code is 0 (not
		 * present, read, supervisor), the #GP's 0 (a non-canonical
		 * address); the other entries push a 0 of their own */
		ck_assert_uint_eq(r[1], 0);
		/* a fault returns to its instruction, a trap past it */
		ck_assert_uint_eq(r[2], want[k].trap ? k4[1] : k4[0]);
		/* same CPL, no IST: CS and SS as they were (0x08 and 0x10),
		 * RFLAGS and RSP as the instruction found them */
		ck_assert_uint_eq(r[3], 0x08);
		ck_assert_uint_eq(r[4], k4[3]);
		ck_assert_uint_eq(r[5], k4[2]);
		ck_assert_uint_eq(r[6], 0x10);
		/* CR2: loaded by the #PF (case 3) and left as it was after */
		if (k >= 3)
			ck_assert_uint_eq(r[7], 0x00007f0000000000ULL);
	}
	/* one of each: five exceptions and a software interrupt */
	ck_assert_uint_eq(CPUS(f.vm, events_delivered), 6);
	ck_assert_uint_eq(CPUS(f.vm, exc_de), 1);
	ck_assert_uint_eq(CPUS(f.vm, exc_ud), 1);
	ck_assert_uint_eq(CPUS(f.vm, exc_bp), 1);
	ck_assert_uint_eq(CPUS(f.vm, exc_pf), 1);
	ck_assert_uint_eq(CPUS(f.vm, exc_gp), 1);
	ck_assert_uint_eq(CPUS(f.vm, int_n), 1);
	ck_assert_uint_eq(CPUS(f.vm, pf_delivered), 1);
	/* none made another: no #DF */
	ck_assert_uint_eq(CPUS(f.vm, double_faults), 0);
	fix_down(&f);
}
END_TEST

/*
 * CPL 3 (workload user): user code in the region's first page takes a
 * #PF and then INT 0x80; each is delivered on the kernel stack from the
 * TSS's RSP0 (SDM Vol. 3A 6.14.4), and IRETQ returns to CPL 3 and then
 * to the kernel.  _i: detailed, then fast-forward.
 */
START_TEST(user_mode_delivery_switches_stacks)
{
	sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
	sv_workload w = SV_WORKLOAD_INIT;
	uint64_t r[19], va = GPA;
	unsigned i;
	fix f;

	eo.mode = _i ? SV_EXEC_FAST_FORWARD : SV_EXEC_DETAILED;
	fix_up(&f, 1, 16ULL << 20, false, SZ_4K, &eo);
	w.name = "user";
	w.gva = va;
	w.size = 16ULL << 20;
	T_OK(sv_exec_load_workload(f.ex, &w));
	run_halted(&f);
	for (i = 0; i < 19; i++)
		T_OK(sv_exec_guest_result(&r[i], f.ex, i));
	/* the #PF: a user-mode read of a page not present, error code U/S
	 * = 4 (SDM 4.7), at the user code's first instruction, CR2 the
	 * address read */
	ck_assert_uint_eq(r[0], 14);
	ck_assert_uint_eq(r[1], 4);
	ck_assert_uint_eq(r[2], va);
	ck_assert_uint_eq(r[7], 0x00007f0000000000ULL);
	/* INT 0x80: RIP past it (3-byte mov, 2-byte int), no error code */
	ck_assert_uint_eq(r[8], 128);
	ck_assert_uint_eq(r[9], 0);
	ck_assert_uint_eq(r[10], va + 5);
	for (i = 0; i < 2; i++) {
		/* the frame holds the user state: CS 0x33 and SS 0x2b (RPL
		 * 3), the user RSP (top of page 1), RFLAGS 2 */
		ck_assert_uint_eq(r[8 * i + 3], 0x33);
		ck_assert_uint_eq(r[8 * i + 4], 2);
		ck_assert_uint_eq(r[8 * i + 5], va + 0x2000);
		ck_assert_uint_eq(r[8 * i + 6], 0x2b);
		/* ... on the kernel stack: RSP0 (16-aligned) less SS, RSP,
		 * RFLAGS, CS and RIP: RIP at RSP0 - 40 */
		ck_assert_uint_eq(r[16 + i], r[18] - 40);
	}
	ck_assert_uint_eq(CPUS(f.vm, exc_pf), 1);
	ck_assert_uint_eq(CPUS(f.vm, int_n), 1);
	ck_assert_uint_eq(CPUS(f.vm, events_delivered), 2);
	ck_assert_uint_eq(CPUS(f.vm, exc_gp), 0);
	fix_down(&f);
}
END_TEST

START_TEST(fault_without_idt_shuts_down)
{
	sv_workload w = touch_of(16ULL << 20, 1);
	sv_exec_result res;
	fix f;

	fix_up(&f, 1, 16ULL << 20, false, SZ_4K, NULL);
	w.size = 32ULL << 20; /* twice what is mapped */
	T_OK(sv_exec_load_workload(f.ex, &w));
	T_OK(sv_exec_run_until(&res, f.ex, 0));
	/* The guest loaded no IDT (limit 0): the #PF's gate is past the
	 * limit, #GP; #PF then contributory is a #DF (SDM Table 6-5); its
	 * gate is past the limit too, and a fault during a #DF is a triple
	 * fault: shutdown, the result naming the #PF that began it. */
	ck_assert_int_eq(res.stop, SV_EXEC_SHUTDOWN);
	ck_assert_int_eq(res.fault.kind, SV_FAULT_PF);
	ck_assert_int_eq(res.code, 14);
	/* the first page past the mapping, written: not present, W = 2 */
	ck_assert_uint_eq(res.fault.gva, GPA + (16ULL << 20));
	ck_assert_uint_eq(res.fault.error_code, 2);
	ck_assert_uint_eq(CPUS(f.vm, pf_delivered), 0);
	ck_assert_uint_eq(CPUS(f.vm, exc_pf), 1);
	ck_assert_uint_eq(CPUS(f.vm, exc_gp), 2);     /* for vector 14, then 8 */
	ck_assert_uint_eq(CPUS(f.vm, double_faults), 1);
	ck_assert_uint_eq(CPUS(f.vm, exc_df), 1);
	ck_assert_uint_eq(CPUS(f.vm, triple_faults), 1);
	ck_assert_uint_eq(CPUS(f.vm, events_delivered), 0);
	fix_down(&f);
}
END_TEST

/* ---- host events and guest remaps ------------------------------------------ */

static void dontneed_first_2m(fix *f)
{
	T_OK(sv_host_madvise(f->h, f->hva, SZ_2M, SV_MADV_DONTNEED));
}

START_TEST(dontneed_page_reads_zero)
{
	sv_workload w = touch_of(16ULL << 20, 1);
	uint64_t sum;
	fix f;

	fix_up(&f, 1, 16ULL << 20, false, SZ_4K, NULL);
	w.name = "kpt";
	w.stride = SZ_4K; /* kpt over 4K backing: every page */
	T_OK(sv_exec_load_workload(f.ex, &w));
	f.act_at = 3; /* before the adjust stage, which reads every page */
	f.act = dontneed_first_2m;
	run_halted(&f);
	T_OK(sv_exec_guest_result(&sum, f.ex, 0));
	/* vCPU 0 wrote 0x0123456789abcdef into each of the 4,096 pages (create
	 * and update read nothing with a 4K stride); DONTNEED of the first 2M
	 * makes its 512 pages read as 0 in adjust: the sum, modulo 2^64, of
	 * 4096 - 512 copies of that word. */
	ck_assert_uint_eq(sum, 0x0123456789abcdefULL * (4096 - 512));
	fix_down(&f);
}
END_TEST

static void munmap_second_2m(fix *f)
{
	T_OK(sv_host_munmap(f->h, f->hva + SZ_2M, SZ_2M));
}

/* A munmap of part of the slot leaves the rest working: the guest's pass
 * writes the first 2M, then meets the unmapped 2M, which the host cannot
 * fault in: EFAULT at its first byte. */
START_TEST(partial_munmap_keeps_the_rest)
{
	sv_workload w = touch_of(8ULL << 20, 1);
	sv_exec_result res;
	fix f;

	fix_up(&f, 1, 8ULL << 20, false, SZ_4K, NULL);
	T_OK(sv_exec_load_workload(f.ex, &w));
	sv_exec_set_access_hook(f.ex, count_region, &f);
	f.act_at = 1; /* before the pass */
	f.act = munmap_second_2m;
	T_OK(sv_exec_run_until(&res, f.ex, 0));
	ck_assert_int_eq(res.stop, SV_EXEC_FAULT);
	ck_assert_int_eq(res.fault.kind, SV_FAULT_EFAULT);
	ck_assert_uint_eq(res.fault.gva, GPA + SZ_2M);
	/* 2M / 4K = 512 writes went through, and the 513th faulted */
	ck_assert_uint_eq(f.writes, 512 + 1);
	ck_assert_uint_eq(CPUS(f.vm, pf_efault), 1);
	fix_down(&f);
}
END_TEST

static void fork_now(fix *f)
{
	T_OK(sv_host_fork(f->h));
}

/* fork between two write passes over 4K memory: private pages become
 * copy-on-write, and the guest goes on.  Pass 2's first write to each of
 * the 8M / 4K = 2,048 pages breaks COW in the host (a CLEAR invalidation
 * of that page during the fault's own fault-in), so that fault retries
 * once (pf_retry) and then maps the new page; the run halts.  EPT A/D is
 * off here, so the guest walk's table reads are reads for EPT too (with
 * it on they are writes, and each guest table page would break COW as
 * well). */
START_TEST(fork_then_writes_break_cow)
{
	sv_vm_options vo = SV_VM_OPTIONS_INIT;
	sv_workload w = touch_of(8ULL << 20, 2);
	uint64_t cow0, retry0;
	fix f;

	vo.tdp_ad = false;
	fix_up_vm(&f, 1, 8ULL << 20, false, SZ_4K, NULL, &vo);
	T_OK(sv_exec_load_workload(f.ex, &w));
	f.act_at = 2; /* between the passes */
	f.act = fork_now;
	run_halted(&f);
	cow0 = sv_host_stat_get(f.h, SV_HOST_STAT_cow);
	retry0 = CPUS(f.vm, pf_retry);
	/* the region's 2,048 pages; the guest's own pages are not written
	 * after the fork */
	ck_assert_uint_eq(cow0, 2048);
	ck_assert_uint_eq(retry0, 2048);
	fix_down(&f);
}
END_TEST

START_TEST(remap_reads_new_page_after_invlpg)
{
	sv_workload w = touch_of(16ULL << 20, 1);
	uint64_t v;
	fix f;

	fix_up(&f, 1, 16ULL << 20, false, SZ_2M, NULL);
	w.name = "remap";
	T_OK(sv_exec_load_workload(f.ex, &w));
	run_halted(&f);
	T_OK(sv_exec_guest_result(&v, f.ex, 0));
	ck_assert_uint_eq(v, 0x2222222222222222ULL); /* page 1's word */
	ck_assert_uint_eq(CPUS(f.vm, invlpg), 1);
	fix_down(&f);
}
END_TEST

/* ---- several vCPUs, determinism, modes ------------------------------------- */

static void counters(fix *f, GArray *out)
{
	unsigned i, v;

	for (i = 0; i < SV_VM_STAT__COUNT; i++) {
		uint64_t x = sv_vm_stat_get(f->vm, (sv_vm_stat)i);

		g_array_append_val(out, x);
	}
	for (v = 0; v < sv_vm_vcpu_count(f->vm); v++)
		for (i = 0; i < SV_VCPU_STAT__COUNT; i++) {
			uint64_t x = sv_vcpu_stat_get(sv_vm_vcpu(f->vm, v),
						      (sv_vcpu_stat)i);

			g_array_append_val(out, x);
		}
}

static GArray *run_kpt_4(void)
{
	sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
	sv_workload w = touch_of(64ULL << 20, 1);
	GArray *out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	fix f;

	eo.slice = 1000;
	fix_up(&f, 4, 64ULL << 20, true, SZ_2M, &eo);
	w.name = "kpt";
	w.stride = SZ_2M; /* the THPs */
	T_OK(sv_exec_load_workload(f.ex, &w));
	run_halted(&f);
	/* The barrier runs each of kpt's four sync points once. */
	ck_assert_uint_eq(f.syncs, 4);
	/* 64M of THP: 32 2M SPTEs, made in the create stage by whichever
	 * vCPU reaches each 2M first (each goes over the whole region). */
	ck_assert_uint_eq(VMS(f.vm, pages_2m), 32);
	counters(&f, out);
	fix_down(&f);
	return out;
}

START_TEST(four_vcpus_repeat_exactly)
{
	GArray *a = run_kpt_4(), *b = run_kpt_4();

	ck_assert_uint_eq(a->len, b->len);
	ck_assert_int_eq(memcmp(a->data, b->data, a->len * sizeof(uint64_t)), 0);
	g_array_free(a, TRUE);
	g_array_free(b, TRUE);
}
END_TEST

START_TEST(fast_forward_then_detailed)
{
	sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
	sv_workload w = touch_of(32ULL << 20, 2);
	uint64_t insns_ff;
	fix f;

	eo.mode = SV_EXEC_FAST_FORWARD;
	eo.detail_at_sync = 2;
	fix_up(&f, 1, 32ULL << 20, true, SZ_2M, &eo);
	T_OK(sv_exec_load_workload(f.ex, &w));
	run_halted(&f);
	insns_ff = CPUS(f.vm, instructions);
	/* Pass 1 ran without the model: no access reached it. */
	ck_assert_uint_eq(f.at[2][0], f.at[1][0]);
	/* Pass 2, detailed, is the model's first sight of the region: 32M /
	 * 2M = 16 THP-backed 2M guest pages.  The library's pages the guest
	 * uses (code, parameters, stack, its page tables) are resident
	 * before the run. */
	ck_assert_uint_eq(f.at[3][0] - f.at[2][0], 16);
	fix_down(&f);

	/* The same guest in detailed mode throughout executes exactly the
	 * same instructions: the block hook counts both. */
	fix_up(&f, 1, 32ULL << 20, true, SZ_2M, NULL);
	T_OK(sv_exec_load_workload(f.ex, &w));
	run_halted(&f);
	ck_assert_uint_eq(CPUS(f.vm, instructions), insns_ff);
	fix_down(&f);
}
END_TEST

/* ---- the trap bus ----------------------------------------------------------- */

typedef struct mmio_log {
	unsigned writes;
	uint64_t addr[16];
	unsigned size[16];
	uint64_t value[16];
} mmio_log;

static int on_mmio(sv_exec *ex, sv_trap *t, void *payload)
{
	mmio_log *l = payload;

	if (t->write && l->writes < 16) {
		l->addr[l->writes] = t->addr;
		l->size[l->writes] = t->size;
		l->value[l->writes] = t->value;
	}
	l->writes += t->write;
	return 0;
}

START_TEST(mmio_writes_reach_the_trap_bus)
{
	sv_workload w = touch_of(4 * SZ_4K, 1);
	const uint64_t dev = 0xfe000000ULL; /* no memslot there */
	mmio_log l = {0};
	unsigned i;
	fix f;

	fix_up(&f, 1, 16ULL << 20, false, SZ_4K, NULL);
	T_OK(sv_exec_map(f.ex, 0x20000000ULL, dev, 4 * SZ_4K, SZ_4K,
			 SV_EXEC_MAP_WRITE));
	T_OK(sv_exec_trap_add(f.ex, SV_TRAP_MMIO, dev, 4 * SZ_4K, on_mmio, &l));
	w.gva = 0x20000000ULL;
	T_OK(sv_exec_load_workload(f.ex, &w));
	run_halted(&f);
	/* One 8-byte write of the pass number (1) per 4K page of the 16K
	 * device window.  Unicorn 2.0.1 hands an 8-byte MMIO store to the
	 * bus as two 4-byte halves, low first: 8 traps. */
	ck_assert_uint_eq(l.writes, 8);
	for (i = 0; i < 8; i++) {
		ck_assert_uint_eq(l.addr[i], dev + i / 2 * SZ_4K + i % 2 * 4);
		ck_assert_uint_eq(l.size[i], 4);
		ck_assert_uint_eq(l.value[i], i % 2 ? 0 : 1);
	}
	/* Each page made the MMU install an MMIO SPTE (a GPA with no
	 * memslot) and exit to userspace once. */
	ck_assert_uint_eq(CPUS(f.vm, pf_mmio_spte_created), 4);
	ck_assert_uint_eq(CPUS(f.vm, mmio_exits), 4);
	fix_down(&f);
}
END_TEST

/* ---- bad input -------------------------------------------------------------- */

START_TEST(bad_input_is_refused)
{
	sv_exec_options eo = SV_EXEC_OPTIONS_INIT;
	sv_workload w = touch_of(16ULL << 20, 1);
	static const unsigned char junk[64] = {0x7f, 'E', 'L', 'F'};
	fix f;

	fix_up(&f, 1, 16ULL << 20, false, SZ_4K, NULL);
	eo.slice = 999;
	ck_assert_int_eq(sv_exec_new(&f.ex, f.vm, &eo), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "slice"));
	f.ex = NULL;
	fix_down(&f);

	fix_up(&f, 1, 16ULL << 20, false, SZ_4K, NULL);
	ck_assert_int_eq(sv_exec_map(f.ex, 0xffffffff90000000ULL, GPA, SZ_4K,
				     SZ_4K, 0), SV_ERANGE);
	ck_assert_int_eq(sv_exec_load_elf(f.ex, junk, sizeof(junk)), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "x86-64"));
	w.name = "nope";
	ck_assert_int_eq(sv_exec_load_workload(f.ex, &w), SV_EINVAL);
	ck_assert_ptr_nonnull(strstr(sv_error_detail(), "touch, stream"));
	w.name = "touch";
	w.stride = 12;
	ck_assert_int_eq(sv_exec_load_workload(f.ex, &w), SV_EINVAL);
	ck_assert_int_eq(sv_exec_run_until(NULL, f.ex, 0), SV_EINVAL); /* nothing loaded */
	w.stride = SZ_4K;
	T_OK(sv_exec_load_workload(f.ex, &w));
	ck_assert_int_eq(sv_exec_load_workload(f.ex, &w), SV_EBUSY);
	ck_assert_int_eq(sv_exec_trap_add(f.ex, SV_TRAP_PIO, 0x5e0, 1, on_mmio,
					  NULL), SV_EEXIST);
	fix_down(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("exec");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sys_slot_overlap_message);
	tcase_add_test(tc, touch_thp_2m_guest_pages);
	tcase_add_test(tc, touch_anon_4k_backing);
	tcase_add_test(tc, stream_counts);
	tcase_add_test(tc, random_counts);
	tcase_add_test(tc, chase_counts);
	tcase_add_test(tc, rdtsc_is_the_cycle_counter);
	tcase_add_test(tc, mov_cr3_drops_translations);
	tcase_add_test(tc, model_gpa_holds_the_bytes);
	tcase_add_loop_test(tc, three_page_faults_in_a_row, 0, 2);
	tcase_add_test(tc, fault_without_idt_shuts_down);
	tcase_add_loop_test(tc, each_exception_class_delivered, 0, 2);
	tcase_add_loop_test(tc, user_mode_delivery_switches_stacks, 0, 2);
	tcase_add_test(tc, dontneed_page_reads_zero);
	tcase_add_test(tc, remap_reads_new_page_after_invlpg);
	tcase_add_test(tc, partial_munmap_keeps_the_rest);
	tcase_add_test(tc, fork_then_writes_break_cow);
	tcase_add_test(tc, four_vcpus_repeat_exactly);
	tcase_add_test(tc, fast_forward_then_detailed);
	tcase_add_test(tc, mmio_writes_reach_the_trap_bus);
	tcase_add_test(tc, bad_input_is_refused);
	suite_add_tcase(s, tc);
	return t_run(s);
}
