/*
 * lib/trace/trace.c - writing and reading traces (the format is in trace.h and
 * docs/trace.md).
 *
 * Events are a tag byte (kind in the low 4 bits, the vCPU in the high 4,
 * or 15 and the vCPU as a varint after it) and LEB128 varints; a write
 * carries the length of its data (its size, or 0) and the bytes.  Guest
 * addresses are zigzag deltas from the same vCPU's previous data access
 * (or previous fetch, for a fetch), so a strided loop costs two or three
 * bytes an access.  The reader checks
 * every length and checksum before it decodes a byte of a chunk, and
 * reports the offset of the chunk where it went wrong.
 */
#include <errno.h>
#include <zlib.h>
#include <zstd.h>

#include "trace/trace.h"

#define MAGIC "SVTRACE\n"
/* Version 2 added the CPL and steal-time events; a version-1 trace has
 * neither, and reads as it always did.  Version 3 added zstd-compressed
 * events chunks ('C'). */
#define VERSION 3
#define VERSION_OLDEST 1
#define CHUNK_MAX (1U << 20)  /* the largest payload a reader accepts */
#define CHUNK_FLUSH (1U << 16) /* a writer's events chunk is about this */
#define ZSTD_LEVEL 3

static const char *const kind_names[SV_TEV__COUNT] = {
	"read", "write", "fetch", "stat", "invlpg", "cr3", "leave", "sync",
	"phase", "block", "cpl", "steal"};

const char *sv_trace__kind_name(sv_trace_kind k)
{
	return (unsigned)k < SV_TEV__COUNT ? kind_names[k] : "?";
}

/* ---- writing ------------------------------------------------------------- */

struct sv_trace_writer {
	FILE *f;
	char *path;
	GByteArray *buf;            /* the events chunk being filled */
	uint8_t *zbuf;              /* ... compressed */
	uint64_t events;
	uint64_t last[SV_MAX_VCPUS][2]; /* previous data, fetch gva per vCPU */
	bool failed;
};

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_varint(GByteArray *b, uint64_t v)
{
	uint8_t tmp[10];
	guint n = 0;

	do {
		tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	g_byte_array_append(b, tmp, n);
}

static void write_chunk(sv_trace_writer *w, uint8_t type, const uint8_t *p,
			uint32_t len)
{
	uint8_t head[5], tail[4];
	uLong crc;

	head[0] = type;
	put_u32(head + 1, len);
	crc = crc32(0L, head, sizeof(head));
	crc = crc32(crc, p, len);
	put_u32(tail, (uint32_t)crc);
	if (fwrite(head, 1, sizeof(head), w->f) != sizeof(head) ||
	    (len && fwrite(p, 1, len, w->f) != len) ||
	    fwrite(tail, 1, sizeof(tail), w->f) != sizeof(tail))
		w->failed = true;
}

/* The events chunk, zstd-compressed ('C') when that is smaller. */
static void flush_events(sv_trace_writer *w)
{
	size_t bound, n;

	if (!w->buf->len)
		return;
	bound = ZSTD_compressBound(w->buf->len);
	w->zbuf = g_realloc(w->zbuf, bound);
	n = ZSTD_compress(w->zbuf, bound, w->buf->data, w->buf->len, ZSTD_LEVEL);
	if (!ZSTD_isError(n) && n < w->buf->len)
		write_chunk(w, 'C', w->zbuf, (uint32_t)n);
	else
		write_chunk(w, 'E', w->buf->data, w->buf->len);
	g_byte_array_set_size(w->buf, 0);
	memset(w->last, 0, sizeof(w->last));
}

int sv_trace__create(sv_trace_writer **out, const char *path,
		     const char *header)
{
	sv_trace_writer *w;
	uint8_t head[16];
	size_t len = strlen(header);

	*out = NULL;
	if (len > CHUNK_MAX)
		return sv_err__set(NULL, SV_ERANGE, "trace %s: header of %zu bytes "
						    "(at most %u)", path, len, CHUNK_MAX);
	w = g_new0(sv_trace_writer, 1);
	w->f = fopen(path, "wb");
	if (!w->f) {
		int e = errno;

		g_free(w);
		return sv_err__set(NULL, SV_EIO, "trace %s: %s", path, g_strerror(e));
	}
	w->path = g_strdup(path);
	w->buf = g_byte_array_sized_new(CHUNK_FLUSH + 64);
	memcpy(head, MAGIC, 8);
	put_u32(head + 8, VERSION);
	put_u32(head + 12, 0);
	if (fwrite(head, 1, sizeof(head), w->f) != sizeof(head))
		w->failed = true;
	write_chunk(w, 'H', (const uint8_t *)header, (uint32_t)len);
	*out = w;
	return SV_OK;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void sv_trace__put(sv_trace_writer *w, const sv_trace_event *ev)
{
	uint8_t tag = (uint8_t)ev->kind | (uint8_t)(MIN(ev->vcpu, 15U) << 4);
	uint64_t *last = &w->last[ev->vcpu][ev->kind == SV_TEV_FETCH];

	g_byte_array_append(w->buf, &tag, 1);
	if (ev->vcpu >= 15)
		put_varint(w->buf, ev->vcpu);
	switch (ev->kind) {
	case SV_TEV_READ:
	case SV_TEV_WRITE:
	case SV_TEV_FETCH:
		put_varint(w->buf, zigzag((int64_t)(ev->addr - *last)));
		put_varint(w->buf, ev->size);
		*last = ev->addr;
		if (ev->kind == SV_TEV_WRITE) {
			uint32_t d = ev->data_len == ev->size ? ev->data_len : 0;

			put_varint(w->buf, d);
			g_byte_array_append(w->buf, ev->data, d);
		}
		break;
	case SV_TEV_STAT:
	case SV_TEV_BLOCK:
		put_varint(w->buf, ev->n);
		put_varint(w->buf, ev->value);
		break;
	case SV_TEV_INVLPG:
	case SV_TEV_CR3:
		put_varint(w->buf, ev->addr);
		break;
	case SV_TEV_SYNC:
	case SV_TEV_PHASE:
	case SV_TEV_CPL:
		put_varint(w->buf, ev->n);
		break;
	default:
		break;
	}
	w->events++;
	if (w->buf->len >= CHUNK_FLUSH)
		flush_events(w);
}

int sv_trace__close(sv_trace_writer *w, const char *end)
{
	GByteArray *tail;
	int rc = SV_OK;

	if (!w)
		return SV_OK;
	flush_events(w);
	tail = g_byte_array_new();
	put_varint(tail, w->events);
	g_byte_array_append(tail, (const uint8_t *)end, (guint)strlen(end));
	write_chunk(w, 'Z', tail->data, tail->len);
	g_byte_array_free(tail, TRUE);
	if (fclose(w->f) != 0)
		w->failed = true;
	if (w->failed)
		rc = sv_err__set(NULL, SV_EIO, "trace %s: write failed", w->path);
	g_byte_array_free(w->buf, TRUE);
	g_free(w->zbuf);
	g_free(w->path);
	g_free(w);
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

struct sv_svt_reader {
	FILE *f;
	char *path;
	uint64_t off;       /* file offset of the current chunk */
	uint64_t next_off;  /* ... and of the next one */
	uint8_t *chunk;     /* the current events chunk's payload */
	uint32_t len, pos;
	uint32_t version;
	uint64_t events;
	uint64_t last[SV_MAX_VCPUS][2];
	char *end;          /* how the run ended, from the end chunk */
	uint8_t *plain;     /* a 'C' chunk decompressed, swapped with chunk */
};

static int damaged(sv_svt_reader *r, const char *what)
{
	return sv_err__set(NULL, SV_ECONFIG, "trace %s: offset %" PRIu64 ": %s",
			   r->path, r->off, what);
}

/* Reads the next chunk into r->chunk: its type, or an error. */
static int read_chunk(sv_svt_reader *r, uint8_t *type)
{
	uint8_t head[5], tail[4];
	uLong crc;

	r->off = r->next_off;
	if (fread(head, 1, sizeof(head), r->f) != sizeof(head))
		return damaged(r, "the trace ends without its end chunk "
				  "(cut short?)");
	r->len = get_u32(head + 1);
	if (r->len > CHUNK_MAX)
		return damaged(r, "chunk length past the 1 MiB limit");
	r->chunk = g_realloc(r->chunk, MAX(r->len, 1U));
	if ((r->len && fread(r->chunk, 1, r->len, r->f) != r->len) ||
	    fread(tail, 1, sizeof(tail), r->f) != sizeof(tail))
		return damaged(r, "the file ends inside a chunk (cut short?)");
	crc = crc32(crc32(0L, head, sizeof(head)), r->chunk, r->len);
	if ((uint32_t)crc != get_u32(tail))
		return damaged(r, "checksum mismatch (the chunk is corrupt)");
	r->next_off += sizeof(head) + r->len + sizeof(tail);
	r->pos = 0;
	*type = head[0];
	return SV_OK;
}

void sv_trace__free(sv_svt_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	g_free(r->chunk);
	g_free(r->plain);
	g_free(r->end);
	g_free(r->path);
	g_free(r);
}

const char *sv_trace__end(const sv_svt_reader *r)
{
	return r->end ? r->end : "";
}

int sv_trace__open(sv_svt_reader **out, const char *path, char **header)
{
	sv_svt_reader *r = g_new0(sv_svt_reader, 1);
	uint8_t head[16], type = 0;
	int rc;

	*out = NULL;
	*header = NULL;
	r->path = g_strdup(path);
	r->f = fopen(path, "rb");
	if (!r->f) {
		rc = sv_err__set(NULL, SV_EIO, "trace %s: %s", path, g_strerror(errno));
		goto fail;
	}
	if (fread(head, 1, sizeof(head), r->f) != sizeof(head) ||
	    memcmp(head, MAGIC, 8) != 0) {
		rc = damaged(r, "not a simvirt trace (bad magic)");
		goto fail;
	}
	if (get_u32(head + 8) < VERSION_OLDEST || get_u32(head + 8) > VERSION) {
		rc = sv_err__set(NULL, SV_ECONFIG, "trace %s: format version %u "
						   "(this simvirt reads %u to %u)",
				 path, get_u32(head + 8), VERSION_OLDEST, VERSION);
		goto fail;
	}
	if (get_u32(head + 12) != 0) {
		rc = damaged(r, "reserved header field not zero");
		goto fail;
	}
	r->version = get_u32(head + 8);
	r->next_off = sizeof(head);
	rc = read_chunk(r, &type);
	if (rc == SV_OK && type != 'H')
		rc = damaged(r, "expected the header chunk");
	if (rc == SV_OK && memchr(r->chunk, 0, r->len))
		rc = damaged(r, "the header holds a NUL byte");
	if (rc != SV_OK)
		goto fail;
	*header = g_strndup((const char *)r->chunk, r->len);
	r->len = r->pos = 0;
	*out = r;
	return SV_OK;
fail:
	sv_trace__free(r);
	return rc;
}

uint64_t sv_trace__offset(const sv_svt_reader *r)
{
	return r->off;
}

static bool get_varint(sv_svt_reader *r, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift;

	for (shift = 0; shift < 64 && r->pos < r->len; shift += 7) {
		uint8_t b = r->chunk[r->pos++];

		if (shift == 63 && (b & 0x7e))
			return false; /* past 64 bits */
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* Decodes one event of the current chunk; false if it is malformed. */
static bool decode(sv_svt_reader *r, sv_trace_event *ev)
{
	uint8_t tag = r->chunk[r->pos++];
	uint64_t a = 0, b = 0, *last;

	memset(ev, 0, sizeof(*ev));
	ev->kind = (sv_trace_kind)(tag & 0xf);
	ev->vcpu = tag >> 4;
	if (ev->vcpu == 15 && (!get_varint(r, &a) || a >= SV_MAX_VCPUS))
		return false;
	if (ev->vcpu == 15)
		ev->vcpu = (unsigned)a;
	switch (ev->kind) {
	case SV_TEV_READ:
	case SV_TEV_WRITE:
	case SV_TEV_FETCH:
		if (!get_varint(r, &a) || !get_varint(r, &b) || b == 0 ||
		    b > 4096)
			return false;
		last = &r->last[ev->vcpu][ev->kind == SV_TEV_FETCH];
		ev->addr = *last + (uint64_t)unzigzag(a);
		ev->size = (uint32_t)b;
		*last = ev->addr;
		if (ev->kind != SV_TEV_WRITE)
			return true;
		if (!get_varint(r, &a) || (a && a != b) || a > r->len - r->pos)
			return false;
		ev->data_len = (uint32_t)a;
		ev->data = r->chunk + r->pos;
		r->pos += (uint32_t)a;
		return true;
	case SV_TEV_STAT:
	case SV_TEV_BLOCK:
		if (!get_varint(r, &a) || !get_varint(r, &ev->value) ||
		    (ev->kind == SV_TEV_STAT ? a >= SV_VCPU_STAT__COUNT
					     : a > UINT32_MAX))
			return false;
		ev->n = (uint32_t)a;
		return true;
	case SV_TEV_INVLPG:
	case SV_TEV_CR3:
		return get_varint(r, &ev->addr);
	case SV_TEV_LEAVE:
	case SV_TEV_STEAL:
		return true;
	case SV_TEV_CPL:
		if (!get_varint(r, &a) || a > 3)
			return false;
		ev->n = (uint32_t)a;
		return true;
	case SV_TEV_SYNC:
	case SV_TEV_PHASE:
		if (!get_varint(r, &a) || a > UINT32_MAX)
			return false;
		ev->n = (uint32_t)a;
		return true;
	default:
		return false;
	}
}

/* A 'C' chunk's zstd frame, decompressed in its place: its stated size
 * checked against the chunk limit before a byte is written. */
static int inflate_chunk(sv_svt_reader *r)
{
	unsigned long long size = ZSTD_getFrameContentSize(r->chunk, r->len);
	size_t n;
	uint8_t *t;

	if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
	    size > CHUNK_MAX)
		return damaged(r, "a compressed chunk without a valid size of at "
				  "most 1 MiB");
	r->plain = g_realloc(r->plain, MAX(size, 1ULL));
	n = ZSTD_decompress(r->plain, (size_t)size, r->chunk, r->len);
	if (ZSTD_isError(n) || n != size)
		return damaged(r, "the compressed chunk does not decompress");
	t = r->chunk;
	r->chunk = r->plain;
	r->plain = t;
	r->len = (uint32_t)n;
	r->pos = 0;
	return SV_OK;
}

int sv_trace__next(sv_svt_reader *r, sv_trace_event *ev)
{
	uint8_t type = 0;
	uint64_t count;
	int rc;

	if (r->end)
		return 0;
	while (r->pos >= r->len) {
		rc = read_chunk(r, &type);
		if (rc != SV_OK)
			return rc;
		memset(r->last, 0, sizeof(r->last));
		if (type == 'Z') {
			if (!get_varint(r, &count) ||
			    memchr(r->chunk + r->pos, 0, r->len - r->pos))
				return damaged(r, "malformed end chunk");
			if (count != r->events)
				return damaged(r, "the end chunk counts a different "
						  "number of events");
			if (fgetc(r->f) != EOF) {
				r->off = r->next_off;
				return damaged(r, "bytes after the end chunk");
			}
			r->end = g_strndup((const char *)r->chunk + r->pos,
					   r->len - r->pos);
			return 0;
		}
		if (type == 'C' && r->version >= 3) {
			rc = inflate_chunk(r);
			if (rc != SV_OK)
				return rc;
		} else if (type != 'E') {
			return damaged(r, "unknown chunk type");
		}
	}
	if (!decode(r, ev))
		return sv_err__set(NULL, SV_ECONFIG, "trace %s: offset %" PRIu64
						     ": malformed event at byte %u of the chunk",
				   r->path, r->off, r->pos);
	r->events++;
	return 1;
}
