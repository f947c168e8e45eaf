/*
 * bench/bench_trace.c - traces from elsewhere through the whole model.
 *
 * (a) Speed per format: two real programs traced here with valgrind
 *     lackey (busybox gzip over 64 KB of text, mostly L1 TLB hits; and
 *     bench/trace_chase, a dependent chase over 16,384 pages in random
 *     order, mostly TLB misses), each trace converted to simvirt's text
 *     format and to ChampSim's raw records (one record per lackey
 *     instruction, its loads and stores as the record's memory operands),
 *     then each file run through the guest kernel (guest THP never, so
 *     every page is 4K) and the translation model on a fresh machine:
 *     accesses per second, against the targets (text and ChampSim 10 M/s
 *     and lackey 3 M/s on the mostly-hitting trace).
 * (b) Memory: a synthetic trace (a reader of the benchmark's own) writes
 *     one byte in each 4K page of GiB gibibytes; the growth of the
 *     process's peak resident memory, per page touched, against the
 *     target of 100 bytes (the run holds no guest data bytes).
 * Usage: bench_trace [CASES [GiB]]: CASES a string of the letters a-b
 * (default both), GiB 64 by default.  (a) needs valgrind and busybox and
 * says so when they are missing.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "bench.h"

const char *bench_name = "bench_trace";

/* `mem` bytes of guest memory, its guest kernel with THP never (every
 * page 4K), one vCPU. */
static void machine_up(sv_trace_machine *m, uint64_t mem)
{
	sv_trace_machine_options o = SV_TRACE_MACHINE_OPTIONS_INIT;

	o.mem = mem;
	o.guest.thp = SV_GUEST_THP_NEVER;
	bench_check("machine", sv_trace_machine_new(m, &o));
}

/* ---- (a) formats ----------------------------------------------------------- */

/* Runs a shell command; false (with a message) if it fails. */
static bool sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "%s: '%s' failed (status %d)\n", bench_name, cmd, rc);
	return rc == 0;
}

/* 64 KB of text from a fixed word list, in a fixed order. */
static void make_text(const char *path)
{
	static const char *const words[] = {"page", "table", "walk", "guest",
					    "host", "huge", "split", "zap",
					    "dirty", "log", "flush", "entry"};
	FILE *f = fopen(path, "w");
	uint64_t x = 1;
	long n = 0;

	if (!f)
		exit(1);
	while (n < 64 * 1024) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		n += fprintf(f, "%s%c", words[(x >> 33) % 12],
			     (x >> 20) % 9 ? ' ' : '\n');
	}
	fclose(f);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The lackey trace as text and as ChampSim records. */
static void convert(const char *lackey, const char *text, const char *cs)
{
	sv_trace_reader *r;
	sv_trace_record rec;
	FILE *ft = fopen(text, "w"), *fc = fopen(cs, "wb");
	uint8_t buf[64] = {0};
	unsigned src = 0, dst = 0;
	bool end, open = false;

	if (!ft || !fc)
		exit(1);
	bench_check("open lackey", sv_trace_reader_open(&r, lackey, SV_TRACE_LACKEY));
	for (;;) {
		bench_check("read lackey", sv_trace_reader_next(r, &rec, &end));
		if (end)
			break;
		fprintf(ft, "%c 0x%" PRIx64 " %u\n",
			rec.access == SV_ACCESS_FETCH ? 'X'
			: rec.access == SV_ACCESS_WRITE ? 'W' : 'R', rec.addr, rec.size);
		if (rec.access == SV_ACCESS_FETCH ||
		    (rec.access == SV_ACCESS_READ && src == 4) ||
		    (rec.access == SV_ACCESS_WRITE && dst == 2) || !open) {
			if (open)
				fwrite(buf, 1, sizeof(buf), fc);
			memset(buf, 0, sizeof(buf));
			put_le64(buf, rec.access == SV_ACCESS_FETCH ? rec.addr : 0x400000);
			src = dst = 0;
			open = true;
			if (rec.access == SV_ACCESS_FETCH)
				continue;
		}
		if (rec.access == SV_ACCESS_READ)
			put_le64(buf + 32 + 8 * src++, rec.addr);
		else
			put_le64(buf + 16 + 8 * dst++, rec.addr);
	}
	if (open)
		fwrite(buf, 1, sizeof(buf), fc);
	sv_trace_reader_close(r);
	fclose(ft);
	fclose(fc);
}

/* One file through a fresh machine: accesses per second. */
static double run_file(const char *path, sv_trace_format fmt, const char *what,
		       const char *trace, double target)
{
	sv_trace_machine m;
	sv_trace_reader *r;
	uint64_t done, misses, acc;
	double t0, dt, rate;

	machine_up(&m, 1ULL << 30);
	bench_check("open", sv_trace_reader_open(&r, path, fmt));
	t0 = bench_now();
	bench_check(path, sv_guestmm_run_trace(&done, m.guest, m.vcpu, r, 0));
	dt = bench_now() - t0;
	acc = sv_vcpu_stat_get(m.vcpu, SV_VCPU_STAT_accesses);
	misses = sv_vcpu_stat_get(m.vcpu, SV_VCPU_STAT_tlb_miss);
	rate = (double)done / dt;
	printf("  %-6s %-8s %10" PRIu64 " accesses %6.2f s  %6.2f M/s  "
	       "%.3f TLB misses per access",
	       trace, what, done, dt, rate / 1e6, (double)misses / (double)acc);
	if (target > 0)
		printf("  (target %.0f M/s: %s)", target / 1e6,
		       rate >= target ? "met" : "NOT met");
	printf("\n");
	sv_trace_reader_close(r);
	sv_trace_machine_free(&m);
	return rate;
}

static void case_formats(void)
{
	char dir[] = "/tmp/bench_trace-XXXXXX";
	g_autofree char *valgrind = g_find_program_in_path("valgrind");
	g_autofree char *busybox = g_find_program_in_path("busybox");
	static const char *const names[] = {"gzip", "chase"};
	unsigned t;

	printf("(a) real traces, each format (guest THP never, 4K pages)\n");
	if (!valgrind || !busybox) {
		printf("  skipped: needs valgrind and busybox (scripts/install-deps.sh "
		       "installs both)\n");
		return;
	}
	if (!mkdtemp(dir))
		exit(1);
	for (t = 0; t < 2; t++) {
		g_autofree char *in = g_strdup_printf("%s/in.txt", dir);
		g_autofree char *lk = g_strdup_printf("%s/%s.lackey", dir, names[t]);
		g_autofree char *tx = g_strdup_printf("%s/%s.txt", dir, names[t]);
		g_autofree char *cs = g_strdup_printf("%s/%s.champsim", dir, names[t]);
		g_autofree char *cmd = NULL;
		bool hits = t == 0;

		if (hits) {
			make_text(in);
			cmd = g_strdup_printf("%s -q --tool=lackey --trace-mem=yes "
					      "--log-file=%s %s gzip -c %s > /dev/null",
					      valgrind, lk, busybox, in);
		} else {
			cmd = g_strdup_printf("%s -q --tool=lackey --trace-mem=yes "
					      "--log-file=%s %s 200000 > /dev/null",
					      valgrind, lk, TRACE_CHASE);
		}
		if (!sh(cmd))
			exit(1);
		convert(lk, tx, cs);
		run_file(lk, SV_TRACE_LACKEY, "lackey", names[t], hits ? 3e6 : 0);
		run_file(tx, SV_TRACE_TEXT, "text", names[t], hits ? 10e6 : 0);
		run_file(cs, SV_TRACE_CHAMPSIM, "champsim", names[t], hits ? 10e6 : 0);
		g_unlink(lk);
		g_unlink(tx);
		g_unlink(cs);
		g_unlink(in);
	}
	g_rmdir(dir);
}

/* ---- (b) memory ------------------------------------------------------------ */

typedef struct synth {
	uint64_t next, end;
} synth;

static int synth_next(void *payload, sv_trace_record *rec, bool *end)
{
	synth *s = payload;

	*end = s->next >= s->end;
	if (!*end) {
		*rec = (sv_trace_record){s->next, 1, SV_ACCESS_WRITE};
		s->next += 4096;
	}
	return SV_OK;
}

static long peak_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void case_memory(uint64_t gib)
{
	uint64_t bytes = gib << 30, pages = bytes >> 12, done;
	/* the guest's memory: the data, the table pool (1/64) and room */
	uint64_t mem = bytes + bytes / 32 + (64ULL << 20);
	synth s = {0x100000000ULL, 0x100000000ULL + bytes};
	sv_trace_reader *r;
	long before = peak_kib(), after;
	double t0, dt, per;
	sv_trace_machine m;

	printf("(b) memory: one write in each 4K page of %" PRIu64 " GiB\n", gib);
	fflush(stdout);
	machine_up(&m, mem & ~((2ULL << 20) - 1));
	bench_check("reader", sv_trace_reader_custom(&r, synth_next, &s));
	t0 = bench_now();
	bench_check("run", sv_guestmm_run_trace(&done, m.guest, m.vcpu, r, 0));
	dt = bench_now() - t0;
	after = peak_kib();
	per = (double)(after - before) * 1024.0 / (double)pages;
	printf("  %" PRIu64 " pages touched in %.1f s (%.2f M/s); guest faults %"
	       PRIu64 "\n", done, dt, (double)done / dt / 1e6,
	       sv_guestmm_stat_get(m.guest, SV_GUESTMM_STAT_pgfault));
	printf("  peak resident memory grew by %.1f MiB: %.1f bytes per touched "
	       "page (target at most 100: %s)\n",
	       (double)(after - before) / 1024.0, per, per <= 100 ? "met" : "NOT met");
	sv_trace_reader_close(r);
	sv_trace_machine_free(&m);
}

int main(int argc, char **argv)
{
	const char *cases = argc > 1 ? argv[1] : "ab";
	uint64_t gib = argc > 2 ? strtoull(argv[2], NULL, 10) : 64;

	if (gib < 1 || gib > 512) {
		fprintf(stderr, "usage: bench_trace [CASES [GiB]] (GiB 1 to 512)\n");
		return 2;
	}
	if (strchr(cases, 'a'))
		case_formats();
	if (strchr(cases, 'b'))
		case_memory(gib);
	return 0;
}
