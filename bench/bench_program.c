/*
 * bench/bench_program.c - guest instructions per second of an unmodified
 * program: Debian's busybox gzip compressing a 4 MiB file made here, three
 * ways, measured in one run:
 *
 *   (a) bare Unicorn: the program loaded by simvirt, no hook but the
 *       system call hook it cannot run without;
 *   (b) (a) plus an empty block hook and empty memory hooks: the ceiling
 *       for exact per-access modelling in Unicorn 2.0.1;
 *   (c) simvirt, detailed: every access and fetch through the guest
 *       kernel and the translation model, block costs, system calls.
 *
 * The three run the same instructions ((c) counts them); they run in
 * turns, ROUNDS times, and each rate is that count over the
 * configuration's median time.  Target: (c) >= 0.6 (b).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "bench.h"
#include "cpu/program.h"
#include "simvirt/simvirt.h"

const char *bench_name = "bench_program";

#define ROUNDS 3
#define INPUT_BYTES (4u << 20)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Text-like input: words from a small vocabulary, in a fixed order. */
static void make_input(const char *path)
{
	static const char *const words[] = {
		"page", "table", "walk", "huge", "guest", "host", "tlb", "miss",
		"fault", "split", "collapse", "zap", "flush", "memory", "slot"};
	GString *s = g_string_sized_new(INPUT_BYTES + 16);
	uint64_t x = 1;

	while (s->len < INPUT_BYTES) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		g_string_append(s, words[(x >> 33) % G_N_ELEMENTS(words)]);
		g_string_append_c(s, (x >> 20) % 11 ? ' ' : '\n');
	}
	bench_check("writing the input", g_file_set_contents(path, s->str,
							     INPUT_BYTES, NULL)
						  ? SV_OK
						  : SV_EIO);
	g_string_free(s, TRUE);
}

/* One run: its seconds; *insns the instructions (c) counted. */
static double run(const char *input, int probe, uint64_t *insns, size_t *out_len)
{
	static const char *const argv[] = {"gzip", "-c", "/in", NULL};
	sv_trace_machine_options mo = SV_TRACE_MACHINE_OPTIONS_INIT;
	sv_program_options po = SV_PROGRAM_OPTIONS_INIT;
	sv_program_file f = {"/in", input};
	sv_trace_machine m;
	sv_program *p;
	sv_program_result res;
	double t;

	po.path = "/bin/busybox";
	po.argv = argv;
	po.files = &f;
	po.nfiles = 1;
	bench_check("machine", sv_trace_machine_new(&m, &mo));
	bench_check("program", sv_program_new(&p, m.guest, m.vcpu, &po));
	if (probe >= 0)
		bench_check("probe", sv_prog__probe(p, (prog_probe)probe));
	t = bench_now();
	bench_check("run", sv_program_run(&res, p, 0));
	t = bench_now() - t;
	if (res.stop != SV_PROGRAM_EXITED || res.status != 0) {
		fprintf(stderr, "%s: gzip stopped: %s\n", bench_name,
			sv_program_stop_name(res.stop));
		exit(1);
	}
	if (insns)
		*insns = sv_vcpu_stat_get(m.vcpu, SV_VCPU_STAT_instructions);
	sv_program_output(p, 1, out_len);
	sv_program_free(p);
	sv_trace_machine_free(&m);
	return t;
}

int main(void)
{
	g_autofree char *dir = g_dir_make_tmp("simvirt-bench-XXXXXX", NULL);
	g_autofree char *input = g_build_filename(dir, "in.txt", NULL);
	double ta[ROUNDS], tb[ROUNDS], tc[ROUNDS], a, b, c;
	uint64_t n = 0;
	size_t la, lb, lc;
	int r;

	if (access("/bin/busybox", X_OK) != 0) {
		printf("%s: /bin/busybox missing (busybox-static): skipped\n",
		       bench_name);
		return 0;
	}
	make_input(input);
	for (r = 0; r < ROUNDS; r++) {
		ta[r] = run(input, PROG_PROBE_BARE, NULL, &la);
		tb[r] = run(input, PROG_PROBE_EMPTY, NULL, &lb);
		tc[r] = run(input, -1, &n, &lc);
	}
	if (la != lc || lb != lc) {
		fprintf(stderr, "%s: the three runs wrote %zu, %zu, %zu bytes\n",
			bench_name, la, lb, lc);
		return 1;
	}
	qsort(ta, ROUNDS, sizeof(double), cmp_double);
	qsort(tb, ROUNDS, sizeof(double), cmp_double);
	qsort(tc, ROUNDS, sizeof(double), cmp_double);
	a = n / ta[ROUNDS / 2] / 1e6;
	b = n / tb[ROUNDS / 2] / 1e6;
	c = n / tc[ROUNDS / 2] / 1e6;
	printf("%s: busybox gzip -c of 4 MiB (%" PRIu64 " instructions, %zu bytes "
	       "out), median of %d rounds\n", bench_name, n, lc, ROUNDS);
	printf("  (a) bare Unicorn      %8.1f M insn/s\n", a);
	printf("  (b) empty hooks       %8.1f M insn/s  (b)/(a) %.2f\n", b, b / a);
	printf("  (c) simvirt detailed  %8.1f M insn/s  (c)/(b) %.2f (target "
	       ">= 0.6: %s)\n", c, c / b, c / b >= 0.6 ? "met" : "NOT met");
	unlink(input);
	rmdir(dir);
	return 0;
}
