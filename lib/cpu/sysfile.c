/*
 * lib/cpu/sysfile.c - a program's descriptors and files.
 *
 * How it works:
 *  1. Descriptor 0 reads the stdin file (or nothing), 1 and 2 write to the
 *     files the options name or to memory.  The files the program may open
 *     are read whole when it is loaded, each under the absolute path the
 *     program sees; a relative path is taken from "/", the working
 *     directory.  They are read-only: opening one for writing, or any
 *     other path for writing, is EROFS; any other path is ENOENT.
 *  2. The standard descriptors are pipes to the program (fstat says
 *     S_IFIFO, lseek is ESPIPE, ioctl is ENOTTY: not a terminal), so
 *     nothing it does depends on how the host started it.  Files are
 *     regular, mode 0444, owned by uid 1000, every time 0.
 *  3. dup, dup2, dup3 and fcntl's F_DUPFD share the open file (and its
 *     offset), as the kernel's struct file is shared.
 *  4. Every byte a call copies to or from the program goes through the
 *     user-copy path (progmem.c), so a read into a fresh buffer faults it
 *     in as on Linux.
 */
#define _GNU_SOURCE /* O_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cpu/program.h"

/* the x86-64 Linux ABI's values, as the program passes them */
#define AT_FDCWD_ (-100)
enum {
	GO_WRONLY = 01, GO_RDWR = 02, GO_CREAT = 0100, GO_TRUNC = 01000,
	GO_DIRECTORY = 0200000,
	GF_DUPFD = 0, GF_GETFD = 1, GF_SETFD = 2, GF_GETFL = 3, GF_SETFL = 4,
	GF_DUPFD_CLOEXEC = 1030,
};
#define S_IFIFO_ 0010000
#define S_IFREG_ 0100000
#define S_IFDIR_ 0040000

static prog_file *file_new(prog_fd_kind kind)
{
	prog_file *f = g_new0(prog_file, 1);

	f->refs = 1;
	f->kind = kind;
	f->host_fd = -1;
	return f;
}

static void file_put(prog_file *f)
{
	if (!f || --f->refs)
		return;
	if (f->host_fd >= 0)
		close(f->host_fd);
	if (f->buf)
		g_byte_array_free(f->buf, TRUE);
	g_free(f->data);
	g_free(f->guest_path);
	g_free(f);
}

static int out_open(sv_program *p, int fd, const char *path)
{
	prog_file *f = file_new(FD_OUT);

	p->fds[fd] = f;
	p->out[fd - 1] = f;
	f->refs++;
	if (!path) {
		f->buf = g_byte_array_new();
		return SV_OK;
	}
	f->host_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->host_fd < 0)
		return sv_err__set(p->vm, SV_EIO, "program: %s: %s", path,
				   g_strerror(errno));
	return SV_OK;
}

int sv_prog__files_init(sv_program *p)
{
	GError *err = NULL;
	size_t i;
	int rc;

	p->files = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; i < p->o.nfiles; i++) {
		const sv_program_file *pf = &p->o.files[i];

		if (!pf->guest_path || pf->guest_path[0] != '/' || !pf->host_path)
			return sv_err__set(p->vm, SV_EINVAL,
					   "program: file %zu: the path the program "
					   "sees must be absolute (\"%s\")", i,
					   pf->guest_path ? pf->guest_path : "");
		/* kept as "guest\nhost" */
		g_ptr_array_add(p->files, g_strconcat(pf->guest_path, "\n",
						      pf->host_path, NULL));
		if (!g_file_test(pf->host_path, G_FILE_TEST_IS_REGULAR))
			return sv_err__set(p->vm, SV_ENOENT, "program: file %s: "
							     "no such regular file",
					   pf->host_path);
	}
	p->fds[0] = file_new(FD_STDIN);
	if (p->o.stdin_path &&
	    !g_file_get_contents(p->o.stdin_path, (gchar **)&p->fds[0]->data,
				 &p->fds[0]->len, &err)) {
		rc = sv_err__set(p->vm, SV_ENOENT, "program: stdin: %s", err->message);
		g_error_free(err);
		return rc;
	}
	if ((rc = out_open(p, 1, p->o.stdout_path)) != SV_OK)
		return rc;
	return out_open(p, 2, p->o.stderr_path);
}

void sv_prog__files_free(sv_program *p)
{
	unsigned i;

	for (i = 0; i < PROG_MAX_FDS; i++)
		file_put(p->fds[i]);
	file_put(p->out[0]);
	file_put(p->out[1]);
	if (p->files)
		g_ptr_array_free(p->files, TRUE);
}

const void *sv_program_output(const sv_program *p, int fd, size_t *len)
{
	const prog_file *f = p && (fd == 1 || fd == 2) ? p->out[fd - 1] : NULL;

	if (!f || !f->buf)
		return NULL;
	if (len)
		*len = f->buf->len;
	return f->buf->data;
}

/* ---- paths ------------------------------------------------------------------ */

/* The host path of the file the program sees at path (absolute or from
 * "/"), its index in *ino; NULL when there is none. */
static const char *lookup(sv_program *p, const char *path, unsigned *ino)
{
	g_autofree char *abs = path[0] == '/' ? g_strdup(path)
					      : g_strconcat("/", path, NULL);
	guint i;

	for (i = 0; i < p->files->len; i++) {
		const char *e = g_ptr_array_index(p->files, i);
		const char *nl = strchr(e, '\n');

		if ((size_t)(nl - e) == strlen(abs) && !strncmp(e, abs, nl - e)) {
			*ino = i + 2;
			return nl + 1;
		}
	}
	return NULL;
}

static bool is_root(const char *path)
{
	return !strcmp(path, "/") || !strcmp(path, ".");
}

static int alloc_fd(sv_program *p, int from)
{
	int fd;

	for (fd = MAX(from, 0); fd < PROG_MAX_FDS; fd++)
		if (!p->fds[fd])
			return fd;
	return -EMFILE;
}

static int64_t open_(sv_program *p, int64_t dirfd, uint64_t path_va,
		     uint64_t flags)
{
	g_autofree char *path = sv_prog__string_in(p, path_va, 4096);
	const char *host;
	prog_file *f;
	unsigned ino;
	int fd;
	GError *err = NULL;

	if (!path)
		return -EFAULT;
	if (path[0] != '/' && dirfd != AT_FDCWD_)
		return -EBADF;
	if ((flags & (GO_WRONLY | GO_RDWR)) || (flags & (GO_CREAT | GO_TRUNC)))
		return -EROFS;
	if (!(host = lookup(p, path, &ino)))
		return -ENOENT;
	if (flags & GO_DIRECTORY)
		return -ENOTDIR;
	if ((fd = alloc_fd(p, 0)) < 0)
		return fd;
	f = file_new(FD_FILE);
	f->ino = ino;
	f->guest_path = g_strdup(path);
	if (!g_file_get_contents(host, (gchar **)&f->data, &f->len, &err)) {
		g_error_free(err);
		file_put(f);
		return -EIO;
	}
	p->fds[fd] = f;
	return fd;
}

/* ---- stat ------------------------------------------------------------------- */

static int64_t put_stat(sv_program *p, uint64_t va, uint32_t mode, uint64_t ino,
			uint64_t size)
{
	uint8_t st[144] = {0};
	uint64_t dev = 0x801, nlink = 1, blksize = 4096,
		 blocks = (size + 511) / 512;
	uint32_t id = 1000;

	memcpy(st, &dev, 8);
	memcpy(st + 8, &ino, 8);
	memcpy(st + 16, &nlink, 8);
	memcpy(st + 24, &mode, 4);
	memcpy(st + 28, &id, 4);
	memcpy(st + 32, &id, 4);
	memcpy(st + 48, &size, 8);
	memcpy(st + 56, &blksize, 8);
	memcpy(st + 64, &blocks, 8);
	return sv_prog__copy_out(p, va, st, sizeof(st)) ? 0 : -EFAULT;
}

static int64_t fstat_fd(sv_program *p, int fd, uint64_t va)
{
	const prog_file *f = fd >= 0 && fd < PROG_MAX_FDS ? p->fds[fd] : NULL;

	if (!f)
		return -EBADF;
	if (f->kind == FD_FILE)
		return put_stat(p, va, S_IFREG_ | 0444, f->ino, f->len);
	return put_stat(p, va, S_IFIFO_ | 0600, 100 + (uint64_t)fd, 0);
}

static int64_t stat_path(sv_program *p, int64_t dirfd, uint64_t path_va,
			 uint64_t va, uint64_t flags)
{
	g_autofree char *path = sv_prog__string_in(p, path_va, 4096);
	const char *host;
	unsigned ino;
	GStatBuf st;

	if (!path)
		return -EFAULT;
	if (!path[0] && (flags & 0x1000)) /* AT_EMPTY_PATH */
		return fstat_fd(p, (int)dirfd, va);
	if (path[0] != '/' && dirfd != AT_FDCWD_)
		return -EBADF;
	if (is_root(path))
		return put_stat(p, va, S_IFDIR_ | 0555, 1, 4096);
	if (!(host = lookup(p, path, &ino)))
		return -ENOENT;
	if (g_stat(host, &st) != 0)
		return -EIO;
	return put_stat(p, va, S_IFREG_ | 0444, ino, (uint64_t)st.st_size);
}

static int64_t access_(sv_program *p, int64_t dirfd, uint64_t path_va,
		       uint64_t mode)
{
	g_autofree char *path = sv_prog__string_in(p, path_va, 4096);
	unsigned ino;

	if (!path)
		return -EFAULT;
	if (path[0] != '/' && dirfd != AT_FDCWD_)
		return -EBADF;
	if (!is_root(path) && !lookup(p, path, &ino))
		return -ENOENT;
	return mode & 2 ? -EROFS : 0; /* W_OK */
}

static int64_t readlink_(sv_program *p, uint64_t path_va, uint64_t buf,
			 uint64_t size)
{
	g_autofree char *path = sv_prog__string_in(p, path_va, 4096);
	g_autofree char *exe = NULL;
	unsigned ino;
	size_t n;

	if (!path)
		return -EFAULT;
	if (strcmp(path, "/proc/self/exe"))
		return lookup(p, path, &ino) || is_root(path) ? -EINVAL : -ENOENT;
	/* the kernel's answer is absolute: a relative name is from "/" */
	exe = p->name[0] == '/' ? g_strdup(p->name) : g_strconcat("/", p->name, NULL);
	n = MIN(strlen(exe), size);
	return sv_prog__copy_out(p, buf, exe, n) ? (int64_t)n : -EFAULT;
}

/* ---- reading and writing ------------------------------------------------------ */

/* A descriptor argument: an int in the ABI, whatever the upper half of
 * its register holds. */
static prog_file *fd_get(sv_program *p, uint64_t arg)
{
	uint32_t fd = (uint32_t)arg;

	return fd < PROG_MAX_FDS ? p->fds[fd] : NULL;
}

static int64_t read_at(sv_program *p, prog_file *f, uint64_t va, uint64_t len,
		       uint64_t *off)
{
	uint64_t n;

	if (f->kind != FD_STDIN && f->kind != FD_FILE)
		return -EBADF;
	n = *off < f->len ? MIN(len, f->len - *off) : 0;
	if (!sv_prog__copy_out(p, va, f->data + *off, n))
		return -EFAULT;
	*off += n;
	p->stat[SV_PROGRAM_STAT_bytes_read] += n;
	return (int64_t)n;
}

static int64_t write_to(sv_program *p, prog_file *f, uint64_t va, uint64_t len)
{
	g_autofree uint8_t *b = NULL;

	if (f->kind != FD_OUT)
		return -EBADF;
	len = MIN(len, 1ULL << 30);
	b = g_malloc(len ? len : 1);
	if (!sv_prog__copy_in(p, b, va, len))
		return -EFAULT;
	if (f->buf)
		g_byte_array_append(f->buf, b, (guint)len);
	else if (len && write(f->host_fd, b, len) != (ssize_t)len) {
		p->error = sv_err__set(p->vm, SV_EIO, "program: writing its "
						      "output: %s",
				       g_strerror(errno));
		p->stop_now = true;
		uc_emu_stop(p->uc);
		return -EIO;
	}
	p->stat[SV_PROGRAM_STAT_bytes_written] += len;
	return (int64_t)len;
}

static int64_t vec(sv_program *p, prog_file *f, uint64_t iov, uint64_t cnt,
		   bool write)
{
	int64_t total = 0;
	uint64_t i;

	if (cnt > 1024)
		return -EINVAL;
	for (i = 0; i < cnt; i++) {
		uint64_t e[2];
		int64_t n;

		if (!sv_prog__copy_in(p, e, iov + 16 * i, sizeof(e)))
			return total ? total : -EFAULT;
		n = write ? write_to(p, f, e[0], e[1])
			  : read_at(p, f, e[0], e[1], &f->off);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((uint64_t)n < e[1])
			break;
	}
	return total;
}

static int64_t dup_to(sv_program *p, uint64_t old, int64_t fd)
{
	prog_file *f = fd_get(p, old);

	if (!f)
		return -EBADF;
	if (fd < 0 || fd >= PROG_MAX_FDS)
		return -EBADF;
	if ((uint64_t)fd == old)
		return fd;
	file_put(p->fds[fd]);
	f->refs++;
	p->fds[fd] = f;
	return fd;
}

bool sv_prog__file_call(sv_program *p, unsigned nr, const uint64_t *a,
			int64_t *ret)
{
	prog_file *f = fd_get(p, a[0]);
	int64_t r;

	switch (nr) {
	case SYS_read:
		r = f ? read_at(p, f, a[1], a[2], &f->off) : -EBADF;
		break;
	case SYS_pread64:
		r = !f ? -EBADF : f->kind != FD_FILE ? -ESPIPE
			 : read_at(p, f, a[1], a[2], &(uint64_t){a[3]});
		break;
	case SYS_readv:
		r = f ? vec(p, f, a[1], a[2], false) : -EBADF;
		break;
	case SYS_write:
		r = f ? write_to(p, f, a[1], a[2]) : -EBADF;
		break;
	case SYS_writev:
		r = f ? vec(p, f, a[1], a[2], true) : -EBADF;
		break;
	case SYS_pwrite64:
		r = !f ? -EBADF : f->kind == FD_OUT ? -ESPIPE : -EBADF;
		break;
	case SYS_open:
		r = open_(p, AT_FDCWD_, a[0], a[1]);
		break;
	case SYS_openat:
		r = open_(p, (int32_t)a[0], a[1], a[2]);
		break;
	case SYS_close:
		r = f ? 0 : -EBADF;
		if (f) {
			file_put(f);
			p->fds[(uint32_t)a[0]] = NULL;
		}
		break;
	case SYS_fstat:
		r = fstat_fd(p, (int32_t)a[0], a[1]);
		break;
	case SYS_stat:
	case SYS_lstat:
		r = stat_path(p, AT_FDCWD_, a[0], a[1], 0);
		break;
	case SYS_newfstatat:
		r = stat_path(p, (int32_t)a[0], a[1], a[2], a[3]);
		break;
	case SYS_lseek:
		if (!f)
			r = -EBADF;
		else if (f->kind != FD_FILE)
			r = -ESPIPE;
		else {
			int64_t base = a[2] == 0 ? 0 : a[2] == 1 ? (int64_t)f->off
				       : a[2] == 2 ? (int64_t)f->len : -1;

			r = base < 0 || base + (int64_t)a[1] < 0
				    ? -EINVAL
				    : (int64_t)(f->off = (uint64_t)(base + (int64_t)a[1]));
		}
		break;
	case SYS_ioctl: /* nothing is a terminal */
		r = f ? -ENOTTY : -EBADF;
		break;
	case SYS_access:
		r = access_(p, AT_FDCWD_, a[0], a[1]);
		break;
	case SYS_faccessat:
	case SYS_faccessat2:
		r = access_(p, (int32_t)a[0], a[1], a[2]);
		break;
	case SYS_readlink:
		r = readlink_(p, a[0], a[1], a[2]);
		break;
	case SYS_readlinkat:
		r = readlink_(p, a[1], a[2], a[3]);
		break;
	case SYS_getcwd:
		r = a[1] < 2 ? -ERANGE : sv_prog__copy_out(p, a[0], "/", 2) ? 2 : -EFAULT;
		break;
	case SYS_getdents64: /* no descriptor is a directory */
		r = f ? -ENOTDIR : -EBADF;
		break;
	case SYS_dup:
		r = f ? alloc_fd(p, 0) : -EBADF;
		if (r >= 0)
			r = dup_to(p, (uint32_t)a[0], r);
		break;
	case SYS_dup2:
	case SYS_dup3:
		r = dup_to(p, (uint32_t)a[0], (int32_t)a[1]);
		break;
	case SYS_fcntl:
		if (!f)
			r = -EBADF;
		else if ((uint32_t)a[1] == GF_DUPFD || a[1] == GF_DUPFD_CLOEXEC) {
			r = alloc_fd(p, (int)a[2]);
			if (r >= 0)
				r = dup_to(p, (uint32_t)a[0], r);
		} else if (a[1] == GF_GETFD || a[1] == GF_SETFD || a[1] == GF_SETFL)
			r = 0;
		else if (a[1] == GF_GETFL)
			r = f->kind == FD_OUT ? GO_WRONLY : 0;
		else
			r = -EINVAL;
		break;
	default:
		return false;
	}
	*ret = r;
	return true;
}
