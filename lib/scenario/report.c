/*
 * lib/scenario/report.c - a run's counters, snapshot at each phase boundary, and
 * their three printed forms (docs/stats.md).
 *
 * A snapshot is one row of numbers: the VM's scope (VM counters, vCPU
 * counters summed, host counters, audit counts, and for a trace run the
 * guest kernel's counters and the records run) then each vCPU's counters.
 * Phase i is the change from snapshot i to snapshot i + 1; the totals are
 * the last snapshot.  Everything printed comes from these rows in a fixed
 * order, so equal runs print equal bytes.
 */
#include <errno.h>

#include "scenario/keyfile.h"
#include "scenario/report.h"

enum {
	N_VM = SV_VM_STAT__COUNT,
	N_VC = SV_VCPU_STAT__COUNT,
	N_HOST = SV_HOST_STAT__COUNT,
	N_AUDIT = SV_AUDIT__COUNT,
	N_GUEST = SV_GUESTMM_STAT__COUNT + 1, /* a trace run's: + records */
	N_PROG = SV_GUESTMM_STAT__COUNT + SV_PROGRAM_STAT__COUNT, /* a
						program's: + its counters */
	N_BASE = N_VM + N_VC + N_HOST + N_AUDIT, /* the VM's scope ... */
};

struct sv_report {
	char *scenario;
	char *end;
	unsigned nvcpu;
	size_t scope;        /* numbers in the VM's scope (N_BASE [+ N_GUEST
				or N_PROG]) */
	sv_report__kind kind;
	size_t row;          /* numbers in one snapshot */
	GPtrArray *names;    /* phase names (char *) */
	GPtrArray *config;   /* "group", "key", "value", ... or NULL */
	GArray *snaps;       /* uint64_t rows, one after another */
};

sv_report *sv_report__new(const char *scenario, unsigned nvcpu,
			  sv_report__kind kind)
{
	sv_report *r = g_new0(sv_report, 1);

	r->scenario = g_strdup(scenario);
	r->end = g_strdup("running");
	r->nvcpu = nvcpu;
	r->kind = kind;
	r->scope = N_BASE + (kind == SV_REPORT__TRACE	? N_GUEST
			     : kind == SV_REPORT__PROGRAM ? N_PROG
							  : 0);
	r->row = r->scope + (size_t)nvcpu * N_VC;
	r->names = g_ptr_array_new_with_free_func(g_free);
	r->snaps = g_array_new(FALSE, TRUE, sizeof(uint64_t));
	return r;
}

void sv_report_free(sv_report *r)
{
	if (!r)
		return;
	g_free(r->scenario);
	g_free(r->end);
	g_ptr_array_free(r->names, TRUE);
	if (r->config)
		g_ptr_array_free(r->config, TRUE);
	g_array_free(r->snaps, TRUE);
	g_free(r);
}

void sv_report__snap(sv_report *r, const char *next_phase, const sv_vm *vm,
		     const sv_host *h, const sv_guestmm *gm, uint64_t records,
		     const sv_program *prog)
{
	guint base = r->snaps->len;
	uint64_t *p;
	unsigned i, c;

	g_array_set_size(r->snaps, base + (guint)r->row);
	p = &g_array_index(r->snaps, uint64_t, base);
	for (i = 0; i < N_VM; i++)
		*p++ = sv_vm_stat_get(vm, (sv_vm_stat)i);
	for (i = 0; i < N_VC; i++)
		*p++ = sv_vm_vcpu_stat_sum(vm, (sv_vcpu_stat)i);
	for (i = 0; i < N_HOST; i++)
		*p++ = h ? sv_host_stat_get(h, (sv_host_stat)i) : 0;
	for (i = 0; i < N_AUDIT; i++)
		*p++ = sv_audit_count(vm, (sv_audit_kind)i);
	if (r->scope > N_BASE)
		for (i = 0; i < SV_GUESTMM_STAT__COUNT; i++)
			*p++ = gm ? sv_guestmm_stat_get(gm, (sv_guestmm_stat)i) : 0;
	if (r->kind == SV_REPORT__TRACE)
		*p++ = records;
	if (r->kind == SV_REPORT__PROGRAM)
		for (i = 0; i < SV_PROGRAM_STAT__COUNT; i++)
			*p++ = sv_program_stat_get(prog, (sv_program_stat)i);
	for (c = 0; c < r->nvcpu; c++)
		for (i = 0; i < N_VC; i++)
			*p++ = sv_vcpu_stat_get(sv_vm_vcpu((sv_vm *)vm, c),
						(sv_vcpu_stat)i);
	if (next_phase)
		g_ptr_array_add(r->names, g_strdup(next_phase));
}

void sv_report__end(sv_report *r, const char *end)
{
	g_free(r->end);
	r->end = g_strdup(end);
}

void sv_report__config(sv_report *r, GPtrArray *config)
{
	if (r->config)
		g_ptr_array_free(r->config, TRUE);
	r->config = config;
}

/* The i-th setting's group, key and value. */
static const char *const *setting(const sv_report *r, guint i)
{
	return (const char *const *)&g_ptr_array_index(r->config, 3 * i);
}

static guint settings(const sv_report *r)
{
	return r->config ? r->config->len / 3 : 0;
}

size_t sv_report_phase_count(const sv_report *r)
{
	return r ? MIN(r->names->len, r->snaps->len / r->row - 1) : 0;
}

const char *sv_report_phase_name(const sv_report *r, size_t phase)
{
	return phase < sv_report_phase_count(r) ? g_ptr_array_index(r->names, phase)
						: NULL;
}

const char *sv_report_end(const sv_report *r)
{
	return r ? r->end : NULL;
}

static const uint64_t *snap(const sv_report *r, size_t i)
{
	return &g_array_index(r->snaps, uint64_t, i * r->row);
}

/* Column j of the total (phase SV_REPORT_TOTAL) or of a phase's change. */
static uint64_t value(const sv_report *r, size_t phase, size_t j)
{
	size_t last = r->snaps->len / r->row - 1;

	if (phase == SV_REPORT_TOTAL)
		return snap(r, last)[j];
	return snap(r, phase + 1)[j] - snap(r, phase)[j];
}

/* The name of column j of the VM's scope, with its prefix ("host.",
 * "audit.", "guest." or none) in *prefix. */
static const char *scope_name(const sv_report *r, size_t j, const char **prefix)
{
	*prefix = "";
	if (j < N_VM)
		return sv_vm_stat_name((sv_vm_stat)j);
	j -= N_VM;
	if (j < N_VC)
		return sv_vcpu_stat_name((sv_vcpu_stat)j);
	j -= N_VC;
	*prefix = "host.";
	if (j < N_HOST)
		return sv_host_stat_name((sv_host_stat)j);
	j -= N_HOST;
	*prefix = "audit.";
	if (j < N_AUDIT)
		return sv_audit_name((sv_audit_kind)j);
	j -= N_AUDIT;
	*prefix = "guest.";
	if (j < SV_GUESTMM_STAT__COUNT)
		return sv_guestmm_stat_name((sv_guestmm_stat)j);
	j -= SV_GUESTMM_STAT__COUNT;
	return r->kind == SV_REPORT__TRACE
		       ? "records"
		       : sv_program_stat_name((sv_program_stat)j);
}

int sv_report_get(uint64_t *out, const sv_report *r, size_t phase, int vcpu,
		  const char *name)
{
	const char *prefix;
	size_t j;

	sv_err__clear();
	if (!out || !r || !name)
		return sv_err__set(NULL, SV_EINVAL, "sv_report_get: NULL argument");
	if (r->snaps->len < r->row)
		return sv_err__set(NULL, SV_ERANGE, "report: no snapshot yet");
	if (phase != SV_REPORT_TOTAL && phase >= sv_report_phase_count(r))
		return sv_err__set(NULL, SV_ERANGE, "report: phase %zu (there are %zu)",
				   phase, sv_report_phase_count(r));
	if (vcpu != SV_REPORT_VM && (vcpu < 0 || (unsigned)vcpu >= r->nvcpu))
		return sv_err__set(NULL, SV_ERANGE, "report: vCPU %d (there are %u)",
				   vcpu, r->nvcpu);
	for (j = 0; j < (vcpu == SV_REPORT_VM ? r->scope : (size_t)N_VC); j++) {
		const char *n = vcpu == SV_REPORT_VM
					? scope_name(r, j, &prefix)
					: sv_vcpu_stat_name((sv_vcpu_stat)j);
		size_t pl = vcpu == SV_REPORT_VM ? strlen(prefix) : 0;

		if ((pl == 0 || strncmp(name, prefix, pl) == 0) &&
		    strcmp(name + pl, n) == 0) {
			*out = value(r, phase, vcpu == SV_REPORT_VM
						       ? j
						       : r->scope + (size_t)vcpu * N_VC + j);
			return SV_OK;
		}
	}
	return sv_err__set(NULL, SV_ENOENT, "report: no counter named '%s'", name);
}

/* A total is a count; a phase's change may be negative (pages_2m after a
 * zap). */
static void put_value(FILE *f, const sv_report *r, size_t phase, size_t j)
{
	uint64_t v = value(r, phase, j);

	if (phase == SV_REPORT_TOTAL)
		fprintf(f, "%" PRIu64, v);
	else
		fprintf(f, "%" PRId64, (int64_t)v);
}

/* ---- JSON ----------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* One object of counters: columns [from, to) of the VM's scope with the
 * names that have no prefix, or one group of them. */
static void json_counters(FILE *f, const sv_report *r, size_t phase,
			  size_t from, size_t to, bool vcpu_names, size_t off,
			  int indent)
{
	const char *prefix;
	size_t j;

	fputc('{', f);
	for (j = from; j < to; j++) {
		const char *n = vcpu_names ? sv_vcpu_stat_name((sv_vcpu_stat)(j - from))
					   : scope_name(r, j, &prefix);

		fprintf(f, "%s\n%*s\"%s\": ", j > from ? "," : "", indent + 2, "", n);
		put_value(f, r, phase, off + j);
	}
	fprintf(f, "\n%*s}", indent, "");
}

/* "vm", "host", "audit", "guest" (a trace run's) and "vcpus" of one phase
 * or of the totals. */
static void json_scopes(FILE *f, const sv_report *r, size_t phase, int indent)
{
	unsigned c;

	fprintf(f, "%*s\"vm\": ", indent, "");
	json_counters(f, r, phase, 0, N_VM + N_VC, false, 0, indent);
	fprintf(f, ",\n%*s\"host\": ", indent, "");
	json_counters(f, r, phase, N_VM + N_VC, N_VM + N_VC + N_HOST, false, 0,
		      indent);
	fprintf(f, ",\n%*s\"audit\": ", indent, "");
	json_counters(f, r, phase, N_VM + N_VC + N_HOST, N_BASE, false, 0,
		      indent);
	if (r->scope > N_BASE) {
		fprintf(f, ",\n%*s\"guest\": ", indent, "");
		json_counters(f, r, phase, N_BASE, r->scope, false, 0, indent);
	}
	fprintf(f, ",\n%*s\"vcpus\": [", indent, "");
	for (c = 0; c < r->nvcpu; c++) {
		fprintf(f, "%s\n%*s", c ? "," : "", indent + 2, "");
		json_counters(f, r, phase, 0, N_VC, true,
			      r->scope + (size_t)c * N_VC, indent + 2);
	}
	fprintf(f, "\n%*s]", indent, "");
}

/* "config": {"GROUP": {"KEY": "VALUE", ...}, ...}, groups in plan order. */
static void json_config(FILE *f, const sv_report *r)
{
	const char *group = NULL;
	guint i;

	if (!settings(r))
		return;
	fprintf(f, ",\n  \"config\": {");
	for (i = 0; i < settings(r); i++) {
		const char *const *s = setting(r, i);

		if (!group || strcmp(group, s[0])) {
			fprintf(f, "%s\n    ", group ? "\n    }," : "");
			json_string(f, s[0]);
			fprintf(f, ": {");
			group = s[0];
		} else {
			fputc(',', f);
		}
		fprintf(f, "\n      ");
		json_string(f, s[1]);
		fprintf(f, ": ");
		json_string(f, s[2]);
	}
	fprintf(f, "\n    }\n  }");
}

static void write_json(const sv_report *r, FILE *f)
{
	size_t p, n = sv_report_phase_count(r);

	fprintf(f, "{\n  \"schema\": %d,\n  \"simvirt\": ", SV_REPORT_SCHEMA);
	json_string(f, sv_version_string());
	fprintf(f, ",\n  \"scenario\": ");
	json_string(f, r->scenario);
	fprintf(f, ",\n  \"end\": ");
	json_string(f, r->end);
	json_config(f, r);
	fprintf(f, ",\n");
	json_scopes(f, r, SV_REPORT_TOTAL, 2);
	fprintf(f, ",\n  \"phases\": [");
	for (p = 0; p < n; p++) {
		fprintf(f, "%s\n    {\n      \"name\": ", p ? "," : "");
		json_string(f, g_ptr_array_index(r->names, p));
		fprintf(f, ",\n");
		json_scopes(f, r, p, 6);
		fprintf(f, "\n    }");
	}
	fprintf(f, "\n  ]\n}\n");
}

/* ---- CSV and the table ------------------------------------------------------ */

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_phase(const sv_report *r, FILE *f, size_t phase,
		      const char *name)
{
	const char *prefix;
	size_t j;
	unsigned c;

	for (j = 0; j < r->scope; j++) {
		const char *n = scope_name(r, j, &prefix);

		csv_field(f, name);
		fprintf(f, ",vm,%s%s,", prefix, n);
		put_value(f, r, phase, j);
		fputc('\n', f);
	}
	for (c = 0; c < r->nvcpu; c++)
		for (j = 0; j < N_VC; j++) {
			csv_field(f, name);
			fprintf(f, ",vcpu%u,%s,", c,
				sv_vcpu_stat_name((sv_vcpu_stat)j));
			put_value(f, r, phase, r->scope + (size_t)c * N_VC + j);
			fputc('\n', f);
		}
}

/* A value as a key file writes it (sv_keyfile__escape). */
static void keyfile_value(FILE *f, const char *v)
{
	g_autoptr(GString) e = g_string_new("");

	sv_keyfile__escape(e, v);
	fputs(e->str, f);
}

static void write_csv(const sv_report *r, FILE *f)
{
	size_t p;
	guint i;

	/* '#' lines first (pandas: read_csv(..., comment='#')) */
	fprintf(f, "# simvirt report schema %d, simvirt %s\n# scenario ",
		SV_REPORT_SCHEMA, sv_version_string());
	keyfile_value(f, r->scenario);
	fprintf(f, "\n# end ");
	keyfile_value(f, r->end);
	fputc('\n', f);
	for (i = 0; i < settings(r); i++) {
		const char *const *s = setting(r, i);

		fprintf(f, "# config %s.%s=", s[0], s[1]);
		keyfile_value(f, s[2]);
		fputc('\n', f);
	}
	fprintf(f, "phase,scope,counter,value\n");
	csv_phase(r, f, SV_REPORT_TOTAL, "total");
	for (p = 0; p < sv_report_phase_count(r); p++)
		csv_phase(r, f, p, g_ptr_array_index(r->names, p));
}

static void write_table(const sv_report *r, FILE *f)
{
	size_t p, n = sv_report_phase_count(r), j;
	const char *prefix;

	fprintf(f, "scenario %s: %s, %zu phase%s\n\n", r->scenario, r->end, n,
		n == 1 ? "" : "s");
	fprintf(f, "%-30s %14s", "counter", "total");
	for (p = 0; p < n; p++)
		fprintf(f, " %14.14s", (const char *)g_ptr_array_index(r->names, p));
	fputc('\n', f);
	for (j = 0; j < r->scope; j++) {
		g_autofree char *full = NULL;
		const char *name = scope_name(r, j, &prefix);
		bool any = value(r, SV_REPORT_TOTAL, j) != 0;

		for (p = 0; p < n && !any; p++)
			any = value(r, p, j) != 0;
		if (!any)
			continue;
		full = g_strconcat(prefix, name, NULL);
		fprintf(f, "%-30s %14" PRIu64, full, value(r, SV_REPORT_TOTAL, j));
		for (p = 0; p < n; p++) {
			fputs("  ", f);
			fprintf(f, "%13" PRId64, (int64_t)value(r, p, j));
		}
		fputc('\n', f);
	}
	fprintf(f, "\n(phases show the change of each counter from one phase "
		   "boundary to the next; counters that stay 0 are left out; "
		   "--format json has every counter and each vCPU)\n");
}

int sv_report_write(const sv_report *r, FILE *f, sv_report_format fmt)
{
	sv_err__clear();
	if (!r || !f)
		return sv_err__set(NULL, SV_EINVAL, "sv_report_write: NULL argument");
	if (r->snaps->len < 2 * r->row)
		return sv_err__set(NULL, SV_EINVAL, "report: the run has not ended");
	switch (fmt) {
	case SV_REPORT_TABLE:
		write_table(r, f);
		break;
	case SV_REPORT_JSON:
		write_json(r, f);
		break;
	case SV_REPORT_CSV:
		write_csv(r, f);
		break;
	default:
		return sv_err__set(NULL, SV_EINVAL, "report format %d (expected table, "
						    "json or csv)", (int)fmt);
	}
	if (fflush(f) != 0 || ferror(f))
		return sv_err__set(NULL, SV_EIO, "report: write failed: %s",
				   g_strerror(errno));
	return SV_OK;
}
