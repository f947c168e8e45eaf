/*
 * lib/trace/champsim.c - ChampSim's binary instruction traces: 64-byte
 * little-endian records (input_instr: ip, is_branch, branch_taken, two
 * destination and four source register ids, two destination and four
 * source memory addresses), raw, gzip- or xz-compressed (told apart by
 * their magic bytes), decompressed as they are read.
 *
 * A record becomes the fetch of its ip, a read of each non-zero source
 * address and a write of each non-zero destination address, in that
 * order.  The format has no sizes: fetches are 4 bytes and data accesses
 * 8, the usual assumptions.
 */
#include <errno.h>
#include <lzma.h>
#include <stdio.h>
#include <zlib.h>

#include "base.h"
#include "trace/champsim.h"

#define RECORD 64
#define CHUNK (64 * 1024)

struct sv_champsim {
	gzFile gz;           /* raw or gzip */
	FILE *xzf;           /* xz */
	lzma_stream xz;
	uint8_t *in;
	bool xz_eof;
};

static const uint8_t xz_magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0};

int sv_champsim__open(sv_champsim **out, const char *path)
{
	uint8_t magic[6] = {0};
	sv_champsim *c;
	FILE *f = fopen(path, "rb");
	size_t got;

	*out = NULL;
	if (!f)
		return sv_err__set(NULL, SV_ENOENT, "%s: %s", path, g_strerror(errno));
	got = fread(magic, 1, sizeof(magic), f);
	c = g_new0(sv_champsim, 1);
	if (got == sizeof(magic) && !memcmp(magic, xz_magic, sizeof(magic))) {
		lzma_stream init = LZMA_STREAM_INIT;

		rewind(f);
		c->xzf = f;
		c->xz = init;
		c->in = g_malloc(CHUNK);
		if (lzma_stream_decoder(&c->xz, UINT64_MAX, 0) != LZMA_OK) {
			sv_champsim__close(c);
			return sv_err__set(NULL, SV_ENOMEM, "%s: no memory for the xz "
							    "decoder", path);
		}
	} else {
		fclose(f);
		c->gz = gzopen(path, "rb"); /* reads raw files as they are */
		if (!c->gz) {
			g_free(c);
			return sv_err__set(NULL, SV_EIO, "%s: cannot open", path);
		}
	}
	*out = c;
	return SV_OK;
}

uint64_t sv_champsim__offset(const sv_champsim *c)
{
	if (c->gz)
		return (uint64_t)MAX(gzoffset(c->gz), 0);
	return c->xzf ? (uint64_t)MAX(ftell(c->xzf), 0L) : 0;
}

void sv_champsim__close(sv_champsim *c)
{
	if (!c)
		return;
	if (c->gz)
		gzclose(c->gz);
	if (c->xzf) {
		lzma_end(&c->xz);
		fclose(c->xzf);
	}
	g_free(c->in);
	g_free(c);
}

/* Up to len bytes of the decompressed stream into buf: how many (0 at
 * the end), or -1 for damaged input. */
static long read_bytes(sv_champsim *c, uint8_t *buf, size_t len)
{
	if (c->gz) {
		int n = gzread(c->gz, buf, (unsigned)len);
		int err;

		if (n < 0 || (n == 0 && (gzerror(c->gz, &err), err != Z_OK &&
						     err != Z_BUF_ERROR)))
			return -1;
		return n;
	}
	c->xz.next_out = buf;
	c->xz.avail_out = len;
	while (c->xz.avail_out) {
		lzma_ret r;

		if (!c->xz.avail_in && !c->xz_eof) {
			c->xz.next_in = c->in;
			c->xz.avail_in = fread(c->in, 1, CHUNK, c->xzf);
			c->xz_eof = c->xz.avail_in < CHUNK;
		}
		r = lzma_code(&c->xz, c->xz_eof ? LZMA_FINISH : LZMA_RUN);
		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK)
			return -1;
	}
	return (long)(len - c->xz.avail_out);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int sv_champsim__next(sv_champsim *c, const char *path, uint64_t index,
		      sv_trace_record *recs, unsigned *n, bool *end)
{
	uint8_t r[RECORD];
	long got = 0, m;
	unsigned i;

	*n = 0;
	*end = false;
	while (got < RECORD) {
		m = read_bytes(c, r + got, (size_t)(RECORD - got));
		if (m < 0)
			return sv_err__set(NULL, SV_EINVAL, "%s: record %" PRIu64
							    ": the compressed data "
							    "is damaged", path, index);
		if (m == 0)
			break;
		got += m;
	}
	if (got == 0) {
		*end = true;
		return SV_OK;
	}
	if (got < RECORD)
		return sv_err__set(NULL, SV_EINVAL, "%s: record %" PRIu64 ": expected "
						    "64 bytes, the file ends after %ld",
				   path, index, got);
	recs[(*n)++] = (sv_trace_record){le64(r), 4, SV_ACCESS_FETCH};
	for (i = 0; i < 4; i++) { /* source_memory[4] at 32 */
		uint64_t a = le64(r + 32 + 8 * i);

		if (a)
			recs[(*n)++] = (sv_trace_record){a, 8, SV_ACCESS_READ};
	}
	for (i = 0; i < 2; i++) { /* destination_memory[2] at 16 */
		uint64_t a = le64(r + 16 + 8 * i);

		if (a)
			recs[(*n)++] = (sv_trace_record){a, 8, SV_ACCESS_WRITE};
	}
	return SV_OK;
}
