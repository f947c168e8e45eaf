/*
 * lib/trace/reader.c - memory traces as workloads (simvirt/tracein.h):
 * the text and lackey formats, read a line at a time; ChampSim's records
 * (champsim.c); the accesses of simvirt's own traces (trace.c), and the
 * recorder that writes an access stream in that format; and readers of
 * the caller's own.
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base.h"
#include "simvirt/tracein.h"
#include "trace/champsim.h"
#include "trace/trace.h"

struct sv_trace_reader {
	FILE *f;
	char *path;
	sv_trace_format fmt;
	uint64_t line;
	char *buf;
	size_t cap;
	bool store_next;          /* lackey M: the store after the load */
	sv_trace_record pending;
	sv_trace_next_fn next;    /* a reader of the caller's own */
	void *payload;
	sv_svt_reader *svt;       /* simvirt's own format */
	sv_champsim *cs;          /* ChampSim: the decoder, and the accesses */
	sv_trace_record queue[7]; /* of its last record not yet handed out */
	unsigned queued, taken;
};

int sv_trace_format_parse(sv_trace_format *out, const char *name)
{
	sv_err__clear();
	if (!out || !name)
		return sv_err__set(NULL, SV_EINVAL, "trace format: NULL argument");
	if (!strcmp(name, "text"))
		*out = SV_TRACE_TEXT;
	else if (!strcmp(name, "lackey"))
		*out = SV_TRACE_LACKEY;
	else if (!strcmp(name, "champsim"))
		*out = SV_TRACE_CHAMPSIM;
	else if (!strcmp(name, "simvirt"))
		*out = SV_TRACE_SIMVIRT;
	else
		return sv_err__set(NULL, SV_EINVAL, "trace format \"%s\": expected "
						    "text, lackey, champsim or simvirt",
				   name);
	return SV_OK;
}

int sv_trace_reader_open(sv_trace_reader **out, const char *path,
			 sv_trace_format fmt)
{
	sv_trace_reader *r;
	FILE *f;

	sv_err__clear();
	if (!out || !path)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_reader_open: NULL argument");
	*out = NULL;
	if ((unsigned)fmt > SV_TRACE_SIMVIRT)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_reader_open: format %d",
				   (int)fmt);
	if (fmt == SV_TRACE_SIMVIRT) {
		g_autofree char *header = NULL;
		sv_svt_reader *svt;
		int rc = sv_trace__open(&svt, path, &header);

		if (rc)
			return rc;
		r = g_new0(sv_trace_reader, 1);
		r->svt = svt;
		r->path = g_strdup(path);
		r->fmt = fmt;
		*out = r;
		return SV_OK;
	}
	if (fmt == SV_TRACE_CHAMPSIM) {
		sv_champsim *cs;
		int rc = sv_champsim__open(&cs, path);

		if (rc)
			return rc;
		r = g_new0(sv_trace_reader, 1);
		r->cs = cs;
		r->path = g_strdup(path);
		r->fmt = fmt;
		*out = r;
		return SV_OK;
	}
	f = fopen(path, "r");
	if (!f)
		return sv_err__set(NULL, SV_ENOENT, "%s: %s", path, g_strerror(errno));
	r = g_new0(sv_trace_reader, 1);
	r->f = f;
	r->path = g_strdup(path);
	r->fmt = fmt;
	*out = r;
	return SV_OK;
}

int sv_trace_reader_custom(sv_trace_reader **out, sv_trace_next_fn next,
			   void *payload)
{
	sv_err__clear();
	if (!out || !next)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_reader_custom: NULL argument");
	*out = g_new0(sv_trace_reader, 1);
	(*out)->next = next;
	(*out)->payload = payload;
	return SV_OK;
}

void sv_trace_reader_close(sv_trace_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	sv_champsim__close(r->cs);
	sv_trace__free(r->svt);
	free(r->buf); /* getline's */
	g_free(r->path);
	g_free(r);
}

uint64_t sv_trace_reader_line(const sv_trace_reader *r)
{
	return r ? r->line : 0;
}

uint64_t sv_trace_reader_offset(const sv_trace_reader *r)
{
	if (!r)
		return 0;
	if (r->cs)
		return sv_champsim__offset(r->cs);
	if (r->svt)
		return sv_trace__offset(r->svt);
	return r->f ? (uint64_t)MAX(ftell(r->f), 0L) : 0;
}

static int bad_line(const sv_trace_reader *r, const char *expected)
{
	return sv_err__set(NULL, SV_EINVAL, "%s:%" PRIu64 ": expected %s",
			   r->path, r->line, expected);
}

/* "ADDR[,SIZE]" or "ADDR [SIZE]" at s, ADDR in `base`; false if not. */
static bool parse_addr_size(const char *s, unsigned base, char sep,
			    sv_trace_record *rec, bool size_needed)
{
	char *end;
	guint64 v;

	errno = 0;
	v = g_ascii_strtoull(s, &end, base);
	if (errno || end == s)
		return false;
	rec->addr = v;
	rec->size = 8;
	while (*end == ' ' || *end == '\t' || (sep == ',' && *end == ','))
		end++;
	if (!*end || *end == '\n')
		return !size_needed;
	s = end;
	v = g_ascii_strtoull(s, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (end == s || *end || v < 1 || v > 4096)
		return false;
	rec->size = (uint32_t)v;
	return true;
}

/* One text line: false with *skip for a blank or comment line. */
static bool text_line(char *s, sv_trace_record *rec, bool *skip)
{
	char *hash = strchr(s, '#');

	if (hash)
		*hash = '\0';
	s = g_strstrip(s);
	*skip = !*s;
	if (*skip)
		return false;
	switch (s[0]) {
	case 'R': rec->access = SV_ACCESS_READ; break;
	case 'W': rec->access = SV_ACCESS_WRITE; break;
	case 'X': rec->access = SV_ACCESS_FETCH; break;
	default: return false;
	}
	if (s[1] != ' ' && s[1] != '\t')
		return false;
	return parse_addr_size(s + 2, 0, ' ', rec, false);
}

/* One lackey line; *skip for valgrind's own lines; *modify for M. */
static bool lackey_line(const char *s, sv_trace_record *rec, bool *skip,
			bool *modify)
{
	*skip = s[0] == '=' || s[0] == '\n' || s[0] == '\0';
	*modify = false;
	if (*skip)
		return false;
	if (s[0] == 'I' && s[1] == ' ') {
		rec->access = SV_ACCESS_FETCH;
	} else if (s[0] == ' ' && s[2] == ' ') {
		switch (s[1]) {
		case 'L': rec->access = SV_ACCESS_READ; break;
		case 'S': rec->access = SV_ACCESS_WRITE; break;
		case 'M':
			rec->access = SV_ACCESS_READ;
			*modify = true;
			break;
		default: return false;
		}
	} else {
		return false;
	}
	s += 2;
	while (*s == ' ')
		s++;
	return parse_addr_size(s, 16, ',', rec, true);
}

/* The next line into r->buf, whatever its length: 1, or 0 at the end, or
 * -1 on a read error; 2 for a line holding a NUL byte. */
static int read_line(sv_trace_reader *r)
{
	ssize_t n;

	errno = 0;
	n = getline(&r->buf, &r->cap, r->f);
	if (n < 0)
		return ferror(r->f) ? -1 : 0;
	return memchr(r->buf, 0, (size_t)n) ? 2 : 1;
}

/* simvirt's own format: its next access (other events pass); `line`
 * counts events. */
static int svt_next(sv_trace_reader *r, sv_trace_record *rec, bool *end)
{
	sv_trace_event ev;
	int rc;

	for (;;) {
		rc = sv_trace__next(r->svt, &ev);
		if (rc < 0)
			return rc == SV_ECONFIG ? sv_err__set(NULL, SV_EINVAL, "%s",
							      sv_error_detail())
						: rc;
		if (rc == 0) {
			*end = true;
			return SV_OK;
		}
		r->line++;
		/* a recorded run's guest kernel (the upper half) is left out:
		 * the guest memory model is the kernel there */
		if ((ev.kind != SV_TEV_READ && ev.kind != SV_TEV_WRITE &&
		     ev.kind != SV_TEV_FETCH) || ev.addr >> 47)
			continue;
		if (ev.size < 1 || ev.size > 4096)
			return sv_err__set(NULL, SV_EINVAL, "%s: event %" PRIu64
							    ": an access of %u bytes "
							    "(expected 1 to 4096)",
					   r->path, r->line, ev.size);
		rec->addr = ev.addr;
		rec->size = ev.size;
		rec->access = ev.kind == SV_TEV_READ	? SV_ACCESS_READ
			      : ev.kind == SV_TEV_WRITE ? SV_ACCESS_WRITE
							: SV_ACCESS_FETCH;
		return SV_OK;
	}
}

int sv_trace_reader_next(sv_trace_reader *r, sv_trace_record *rec, bool *end)
{
	sv_err__clear();
	if (!r || !rec || !end)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_reader_next: NULL argument");
	*end = false;
	if (r->next)
		return r->next(r->payload, rec, end);
	if (r->svt)
		return svt_next(r, rec, end);
	if (r->cs) {
		int rc;

		while (r->taken == r->queued) {
			r->taken = 0;
			rc = sv_champsim__next(r->cs, r->path, r->line + 1, r->queue,
					       &r->queued, end);
			if (rc || *end)
				return rc;
			r->line++; /* for ChampSim: the record's number */
		}
		*rec = r->queue[r->taken++];
		return SV_OK;
	}
	if (r->store_next) {
		r->store_next = false;
		*rec = r->pending;
		rec->access = SV_ACCESS_WRITE;
		return SV_OK;
	}
	for (;;) {
		bool skip, modify = false, ok;
		int got = read_line(r);

		if (got < 0)
			return sv_err__set(NULL, SV_EIO, "%s: %s", r->path,
					   g_strerror(errno));
		if (!got) {
			*end = true;
			return SV_OK;
		}
		r->line++;
		if (got == 2)
			return bad_line(r, "text (the line holds a NUL byte)");
		ok = r->fmt == SV_TRACE_TEXT
			     ? text_line(r->buf, rec, &skip)
			     : lackey_line(r->buf, rec, &skip, &modify);
		if (skip)
			continue;
		if (!ok)
			return bad_line(r, r->fmt == SV_TRACE_TEXT
						   ? "R, W or X, an address and "
						     "an optional size of 1 to 4096"
						   : "I, L, S or M, a hex address, "
						     "a comma and a size of 1 to "
						     "4096");
		if (modify) {
			r->store_next = true;
			r->pending = *rec;
		}
		return SV_OK;
	}
}

/* ---- the recorder ------------------------------------------------------------- */

struct sv_trace_recorder {
	sv_trace_writer *w;
	char *path;
};

int sv_trace_recorder_open(sv_trace_recorder **out, const char *path)
{
	sv_trace_writer *w;
	int rc;

	sv_err__clear();
	if (!out || !path)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_recorder_open: NULL "
						    "argument");
	*out = NULL;
	rc = sv_trace__create(&w, path, SV_TRACE_STREAM_HEADER);
	if (rc)
		return rc;
	*out = g_new0(sv_trace_recorder, 1);
	(*out)->w = w;
	(*out)->path = g_strdup(path);
	return SV_OK;
}

int sv_trace_recorder_put(sv_trace_recorder *r, const sv_trace_record *rec)
{
	sv_trace_event ev = {0};

	sv_err__clear();
	if (!r || !rec)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_recorder_put: NULL "
						    "argument");
	if (rec->size < 1 || rec->size > 4096 || (unsigned)rec->access > SV_ACCESS_FETCH)
		return sv_err__set(NULL, SV_EINVAL, "sv_trace_recorder_put: size %u, "
						    "access %d (expected 1 to 4096; "
						    "read, write or fetch)",
				   rec->size, (int)rec->access);
	ev.kind = rec->access == SV_ACCESS_READ	   ? SV_TEV_READ
		  : rec->access == SV_ACCESS_WRITE ? SV_TEV_WRITE
						   : SV_TEV_FETCH;
	ev.addr = rec->addr;
	ev.size = rec->size;
	sv_trace__put(r->w, &ev);
	return SV_OK;
}

int sv_trace_recorder_close(sv_trace_recorder *r)
{
	int rc;

	if (!r)
		return SV_OK;
	rc = sv_trace__close(r->w, "end of stream");
	g_free(r->path);
	g_free(r);
	return rc;
}
