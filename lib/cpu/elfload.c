/*
 * lib/cpu/elfload.c - what execve does for a static program: its ELF
 * loaded through libelf, the heap placed after it, and the initial stack.
 *
 * How it works:
 *  1. The executable must be a static x86-64 ELF: ET_EXEC, or ET_DYN
 *     without PT_INTERP (a static PIE, loaded at 0x555555554000 as Linux
 *     does with ASLR off).  Each PT_LOAD becomes a VMA of the guest kernel
 *     with its permissions: a file mapping over the pages with file bytes
 *     (copied in: the page cache's part, no guest fault), anonymous memory
 *     over the rest of the bss.
 *  2. The heap starts at the first page past the highest segment.
 *  3. The stack is an 8 MiB read-write VMA below 0x7ffffffff000.  From its
 *     top down: the strings (execfn, environment, arguments), AT_RANDOM's
 *     16 bytes from the seed and the platform string, then, 16-aligned,
 *     argc, argv[], NULL, envp[], NULL and the auxiliary vector, which is
 *     where RSP points at the entry (the x86-64 psABI's process start).
 */
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include "cpu/program.h"
#include "simvirt/hostmm.h"

static int bad(sv_program *p, const char *why)
{
	return sv_err__set(p->vm, SV_EINVAL, "program: %s: %s", p->path, why);
}

static unsigned prot_of(GElf_Word flags)
{
	return (flags & PF_R ? SV_PROT_READ : 0) |
	       (flags & PF_W ? SV_PROT_WRITE : 0) |
	       (flags & PF_X ? SV_PROT_EXEC : 0);
}

typedef struct image {
	uint64_t base;             /* load bias: 0, or the PIE's base */
	uint64_t phdr, phnum, end;
} image;

static int segments(sv_program *p, Elf *e, const GElf_Ehdr *eh,
		    const uint8_t *file, size_t len, image *im)
{
	size_t n, i;
	bool have_phdr = false;
	int rc = SV_OK;

	if (elf_getphdrnum(e, &n) != 0 || n == 0)
		return bad(p, "no program headers");
	im->phnum = n;
	for (i = 0; i < n && rc == SV_OK; i++) {
		GElf_Phdr ph;
		uint64_t start, mid, end, got;

		if (!gelf_getphdr(e, (int)i, &ph))
			return bad(p, "a program header cannot be read");
		if (ph.p_type == PT_INTERP)
			return bad(p, "it is dynamically linked (PT_INTERP); "
				      "simvirt runs static executables");
		if (ph.p_type == PT_PHDR) {
			im->phdr = im->base + ph.p_vaddr;
			have_phdr = true;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset ||
		    ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return bad(p, "a PT_LOAD segment lies outside the file");
		start = (im->base + ph.p_vaddr) & ~4095ULL;
		end = (im->base + ph.p_vaddr + ph.p_memsz + 4095) & ~4095ULL;
		/* the pages with file bytes are a file mapping, the bss past
		 * them anonymous memory (as Linux's set_brk maps it) */
		mid = (im->base + ph.p_vaddr + ph.p_filesz + 4095) & ~4095ULL;
		if (start < 0x10000 || !sv_prog__host(p, start, end - start))
			return bad(p, "a PT_LOAD segment lies outside the address "
				      "ranges a program may use");
		if (mid > start)
			rc = sv_guestmm_mmap(&got, p->gm, start, mid - start,
					     prot_of(ph.p_flags),
					     SV_GMAP_FIXED | SV_GMAP_FILE);
		if (rc == SV_OK && end > mid)
			rc = sv_guestmm_mmap(&got, p->gm, mid, end - mid,
					     prot_of(ph.p_flags), SV_GMAP_FIXED);
		im->end = MAX(im->end, end);
		if (!have_phdr && ph.p_offset == 0)
			im->phdr = im->base + ph.p_vaddr + eh->e_phoff;
	}
	if (rc != SV_OK)
		return rc;
	/* the bytes once every VMA is there (segments may share a page) */
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		gelf_getphdr(e, (int)i, &ph);
		if (ph.p_type == PT_LOAD && ph.p_filesz)
			memcpy(sv_prog__host(p, im->base + ph.p_vaddr, ph.p_filesz),
			       file + ph.p_offset, ph.p_filesz);
	}
	return SV_OK;
}

/* ---- the initial stack ------------------------------------------------------ */

typedef struct stack {
	sv_program *p;
	uint64_t sp;
} stack;

static uint64_t push_bytes(stack *s, const void *b, size_t n)
{
	s->sp -= n;
	memcpy(sv_prog__host(s->p, s->sp, n), b, n);
	return s->sp;
}

static uint64_t push_str(stack *s, const char *str)
{
	return push_bytes(s, str, strlen(str) + 1);
}

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

enum {
	AT_NULL_ = 0, AT_PHDR_ = 3, AT_PHENT_ = 4, AT_PHNUM_ = 5, AT_PAGESZ_ = 6,
	AT_BASE_ = 7, AT_FLAGS_ = 8, AT_ENTRY_ = 9, AT_UID_ = 11, AT_EUID_ = 12,
	AT_GID_ = 13, AT_EGID_ = 14, AT_PLATFORM_ = 15, AT_HWCAP_ = 16,
	AT_CLKTCK_ = 17, AT_SECURE_ = 23, AT_RANDOM_ = 25, AT_HWCAP2_ = 26,
	AT_EXECFN_ = 31, AT_MINSIGSTKSZ_ = 51,
};

#define PROG_ID 1000 /* every uid and gid */

static int build_stack(sv_program *p, const image *im)
{
	const char *const *argv = p->o.argv;
	const char *const own[] = {p->name, NULL};
	size_t argc, envc, i, words;
	stack s = {.p = p, .sp = PROG_STACK_TOP};
	uint64_t execfn, random, platform, *envp_at, *argv_at, sp;
	uint8_t rnd[16];
	GArray *w;
	int rc;

	rc = sv_guestmm_mmap(&sp, p->gm, PROG_STACK_TOP - PROG_STACK_SIZE,
			     PROG_STACK_SIZE, SV_PROT_READ | SV_PROT_WRITE,
			     SV_GMAP_FIXED);
	if (rc != SV_OK)
		return rc;
	if (!argv)
		argv = own;
	argc = count(argv);
	envc = count(p->o.envp);
	s.sp -= 8; /* the NULL word at the very top */
	execfn = push_str(&s, p->name);
	envp_at = g_new(uint64_t, envc + 1);
	argv_at = g_new(uint64_t, argc + 1);
	for (i = envc; i-- > 0;)
		envp_at[i] = push_str(&s, p->o.envp[i]);
	for (i = argc; i-- > 0;)
		argv_at[i] = push_str(&s, argv[i]);
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)(sv_rng__next(&p->rng) >> 56);
	s.sp &= ~15ULL;
	random = push_bytes(&s, rnd, sizeof(rnd));
	platform = push_str(&s, "x86_64");

	w = g_array_new(FALSE, FALSE, sizeof(uint64_t));
#define WORD(x) do { uint64_t w_ = (x); g_array_append_val(w, w_); } while (0)
	WORD(argc);
	for (i = 0; i < argc; i++)
		WORD(argv_at[i]);
	WORD(0);
	for (i = 0; i < envc; i++)
		WORD(envp_at[i]);
	WORD(0);
#define AUX(k, v) do { WORD(k); WORD(v); } while (0)
	AUX(AT_PHDR_, im->phdr);
	AUX(AT_PHENT_, sizeof(Elf64_Phdr));
	AUX(AT_PHNUM_, im->phnum);
	AUX(AT_PAGESZ_, 4096);
	AUX(AT_BASE_, 0);
	AUX(AT_FLAGS_, 0);
	AUX(AT_ENTRY_, p->entry);
	AUX(AT_UID_, PROG_ID);
	AUX(AT_EUID_, PROG_ID);
	AUX(AT_GID_, PROG_ID);
	AUX(AT_EGID_, PROG_ID);
	AUX(AT_SECURE_, 0);
	AUX(AT_CLKTCK_, 100);
	AUX(AT_HWCAP_, 0);
	AUX(AT_HWCAP2_, 0);
	AUX(AT_RANDOM_, random);
	AUX(AT_PLATFORM_, platform);
	AUX(AT_EXECFN_, execfn);
	AUX(AT_MINSIGSTKSZ_, 2048);
	AUX(AT_NULL_, 0);
#undef AUX
#undef WORD
	words = w->len;
	s.sp = (s.sp - words * 8) & ~15ULL;
	memcpy(sv_prog__host(p, s.sp, words * 8), w->data, words * 8);
	p->rsp = s.sp;
	g_array_free(w, TRUE);
	g_free(envp_at);
	g_free(argv_at);
	return SV_OK;
}

int sv_prog__load(sv_program *p)
{
	g_autofree uint8_t *file = NULL;
	gsize len = 0;
	GError *err = NULL;
	GElf_Ehdr eh;
	image im = {0};
	Elf *e;
	int rc;

	if (!g_file_get_contents(p->path, (gchar **)&file, &len, &err)) {
		rc = sv_err__set(p->vm, SV_ENOENT, "program: %s", err->message);
		g_error_free(err);
		return rc;
	}
	if (elf_version(EV_CURRENT) == EV_NONE)
		return sv_err__set(p->vm, SV_EBUG, "program: libelf: %s",
				   elf_errmsg(-1));
	e = elf_memory((char *)file, len);
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
		if (e)
			elf_end(e);
		return bad(p, "not an ELF file");
	}
	if (gelf_getclass(e) != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB)
		rc = bad(p, "not an x86-64 ELF executable");
	else if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		rc = bad(p, "not an executable (ET_EXEC or a static PIE)");
	else {
		im.base = eh.e_type == ET_DYN ? PROG_PIE_BASE : 0;
		p->entry = im.base + eh.e_entry;
		rc = segments(p, e, &eh, file, len, &im);
	}
	elf_end(e);
	if (rc == SV_OK)
		rc = sv_guestmm_set_brk(p->gm, im.end);
	if (rc == SV_OK)
		rc = build_stack(p, &im);
	return rc;
}
