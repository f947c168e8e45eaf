/*
 * lib/trace/replay.c - replaying a trace through the model, and printing
 * one (docs/trace.md).
 *
 * How a replay goes:
 *  1. The trace's header is the scenario's text: it is loaded as a
 *     scenario and built as the run built it, without Unicorn engines.
 *  2. Each event goes back into the model as the execution side fed it
 *     (lib/cpu/record.h); SYNC and PHASE events are the phase boundaries,
 *     where the scenario's actions run as they ran in the recording.
 *  3. The end chunk says how the recorded run ended; the report ends so.
 */
#include <sys/stat.h>

#include "scenario/run.h"

int sv_trace_replay(sv_report **out, const char *path,
		    const sv_run_options *opts)
{
	sc_run r = {.replay = true};
	sv_svt_reader *rd = NULL;
	g_autofree char *text = NULL;
	sv_scenario *s = NULL;
	sv_trace_event ev;
	uint64_t n = 0;
	struct stat st;
	int rc;

	sv_err__clear();
	if (out)
		*out = NULL;
	if (!out || !path)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_replay: NULL argument");
	rc = sv_scenario__options(&r, opts);
	if (rc != SV_OK)
		return rc;
	r.trace_size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	rc = sv_trace__open(&rd, path, &text);
	if (rc == SV_OK && g_str_has_prefix(text, SV_TRACE_STREAM_HEADER))
		rc = sv_err__set(NULL, SV_ECONFIG, "trace %s: an access stream, not "
						   "a recorded run: run it through "
						   "the guest kernel with format "
						   "simvirt (simvirt trace run "
						   "--format simvirt)", path);
	if (rc == SV_OK)
		rc = sv_scenario_load_data(&s, text, strlen(text), path, NULL);
	if (rc == SV_OK && s->trace_file)
		rc = sv_err__set(NULL, SV_ECONFIG, "trace %s: its scenario runs a "
						   "trace ([trace]), which no "
						   "recording holds", path);
	if (rc != SV_OK) {
		sv_scenario_free(s);
		sv_trace__free(rd);
		return rc;
	}
	r.s = s;
	rc = sv_scenario__build(&r);
	if (rc == SV_OK)
		rc = sv_scenario__start(&r);
	while (rc == SV_OK && !r.stopped && (rc = sv_trace__next(rd, &ev)) == 1) {
		if (ev.kind == SV_TEV_SYNC)
			rc = sv_scenario__sync_boundary(&r, ev.n);
		else if (ev.kind == SV_TEV_PHASE)
			rc = sv_scenario__insn_boundary(&r, ev.n);
		else
			rc = sv_exec__replay(r.ex, &ev);
		if (!(++n & 1023))
			sv_scenario__progress(&r, sv_trace__offset(rd));
		if (rc != SV_OK) {
			g_autofree char *d = g_strdup(sv_error_detail());

			rc = sv_err__set(NULL, rc, "trace %s: offset %" PRIu64 ": %s", path,
					 sv_trace__offset(rd), d);
		}
	}
	if (rc == SV_OK)
		sv_scenario__finish(&r, r.stopped ? "stopped" : sv_trace__end(rd));
	sv_scenario__run_free(&r);
	sv_trace__free(rd);
	sv_scenario_free(s);
	if (rc == SV_OK)
		*out = r.rep;
	else
		sv_report_free(r.rep);
	return rc;
}

int sv_trace_dump(const char *path, FILE *out)
{
	sv_svt_reader *rd = NULL;
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	sv_trace_event ev;
	uint64_t n = 0;
	unsigned i;
	int rc;

	sv_err__clear();
	if (!path || !out)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_dump: NULL argument");
	rc = sv_trace__open(&rd, path, &text);
	if (rc != SV_OK)
		return rc;
	lines = g_strsplit(text, "\n", -1);
	fprintf(out, "# scenario (the trace's header):\n");
	for (i = 0; lines[i]; i++)
		if (*lines[i])
			fprintf(out, "#   %s\n", lines[i]);
	while ((rc = sv_trace__next(rd, &ev)) == 1) {
		fprintf(out, "%10" PRIu64 "  ", n++);
		switch (ev.kind) {
		case SV_TEV_SYNC:
		case SV_TEV_PHASE:
			fprintf(out, "%-6s %u\n", sv_trace__kind_name(ev.kind), ev.n);
			break;
		case SV_TEV_STAT:
			fprintf(out, "vcpu %-3u stat   %s += %" PRIu64 "\n", ev.vcpu,
				sv_vcpu_stat_name((sv_vcpu_stat)ev.n), ev.value);
			break;
		case SV_TEV_BLOCK:
			fprintf(out, "vcpu %-3u block  %u instructions, %" PRIu64
				" cycles\n", ev.vcpu, ev.n, ev.value);
			break;
		case SV_TEV_LEAVE:
		case SV_TEV_STEAL:
			fprintf(out, "vcpu %-3u %s\n", ev.vcpu,
				sv_trace__kind_name(ev.kind));
			break;
		case SV_TEV_CPL:
			fprintf(out, "vcpu %-3u cpl    %u\n", ev.vcpu, ev.n);
			break;
		default:
			fprintf(out, "vcpu %-3u %-6s 0x%016" PRIx64, ev.vcpu,
				sv_trace__kind_name(ev.kind), ev.addr);
			if (ev.size)
				fprintf(out, " size %u", ev.size);
			for (i = 0; i < ev.data_len && i < 16; i++)
				fprintf(out, "%s%02x", i ? "" : " data ", ev.data[i]);
			fputc('\n', out);
		}
	}
	if (rc == 0)
		fprintf(out, "# end: %" PRIu64 " events; the run ended: %s\n", n,
			sv_trace__end(rd));
	sv_trace__free(rd);
	return rc < 0 ? rc : SV_OK;
}
