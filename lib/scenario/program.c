/*
 * lib/scenario/program.c - scenarios whose workload is an unmodified
 * static Linux program (simvirt/program.h): the [program] group, and the
 * run, on vCPU 0 with the guest kernel of [guestmm] as its kernel.
 *
 * How a program run goes:
 *  1. Loading: [program] names the executable, its standard input and the
 *     host files it may open (each found from the scenario file's folder,
 *     and readable now), its arguments and environment (split as a shell
 *     splits words), where its output goes; [guestmm] the memslot the
 *     guest kernel manages.  A program scenario has no [guest] or [trace]
 *     group, one vCPU, and phases bound to instruction counts.
 *  2. Building: the machine as for any scenario, the guest kernel over its
 *     memslot, vCPU 0 on the kernel's CR3, and the program loaded (a
 *     check of the plan loads it too: a bad executable is bad input).
 *  3. Running: to each phase's instruction count (khugepaged woken every
 *     [guestmm] khugepaged_period instructions), then its snapshot and
 *     actions; the report's guest scope holds the guest kernel's and the
 *     program's counters, and its end says how the program ended.
 */
#include <unistd.h>

#include <glib/gstdio.h>

#include "scenario/run.h"
#include "scenario/schema.h"

static int prog_err(const sv_scenario *s, const char *key, const char *what)
{
	return sv_err__set(NULL, SV_ECONFIG, "%s: [program] %s: %s", s->file, key,
			   what);
}

/* path as written, from dir unless absolute; a readable regular file. */
static int find_file(char **out, const sv_scenario *s, const char *dir,
		     const char *key, const char *path)
{
	*out = g_path_is_absolute(path) || !strcmp(dir, ".")
		       ? g_strdup(path)
		       : g_build_filename(dir, path, NULL);
	if (!g_file_test(*out, G_FILE_TEST_IS_REGULAR) ||
	    g_access(*out, R_OK) != 0) {
		g_autofree char *w = g_strdup_printf("%s: no readable file there",
						     *out);

		return prog_err(s, key, w);
	}
	return SV_OK;
}

/* A list of words (shell rules); none for an empty text. */
static int words(GStrv *out, const sv_scenario *s, const char *key,
		 const char *text)
{
	GError *e = NULL;
	int argc;

	*out = NULL;
	if (!text || !*text || strspn(text, " \t") == strlen(text))
		return SV_OK;
	if (!g_shell_parse_argv(text, &argc, out, &e)) {
		int rc = prog_err(s, key, e->message);

		g_error_free(e);
		return rc;
	}
	return SV_OK;
}

static int load_files(sv_scenario *s, const char *dir)
{
	g_auto(GStrv) list = NULL;
	guint i;
	int rc = words(&list, s, "files", s->prog_files);

	for (i = 0; rc == SV_OK && list && list[i]; i++) {
		char *eq = strchr(list[i], '=');
		char *host = NULL;
		sv_program_file f;

		if (!eq || list[i][0] != '/' || !eq[1]) {
			g_autofree char *w = g_strdup_printf(
				"expected GUEST=HOST with GUEST an absolute "
				"path, got '%s'", list[i]);

			return prog_err(s, "files", w);
		}
		*eq = '\0';
		rc = find_file(&host, s, dir, "files", eq + 1);
		g_ptr_array_add(s->prog_strs, host);
		if (rc)
			return rc;
		f.guest_path = g_strdup(list[i]);
		f.host_path = host;
		g_ptr_array_add(s->prog_strs, (char *)f.guest_path);
		g_array_append_val(s->prog_file_list, f);
	}
	return rc;
}

int sv_scenario__load_program(sv_scenario *s, const sc_ctx *c)
{
	g_autofree char *dir = g_path_get_dirname(c->file);
	g_auto(GStrv) args = NULL, env = NULL;
	guint i;
	int rc;

	if (!g_key_file_has_group(c->kf, "program"))
		return SV_OK;
	if (g_key_file_has_group(c->kf, "guest") || g_key_file_has_group(c->kf, "trace"))
		return sv_err__set(NULL, SV_ECONFIG, "%s: [program]: a program is the "
						     "workload: expected no [guest] "
						     "and no [trace] group",
				   c->file);
	rc = sv_scenario__load_group(c->kf, c->file, "program", SC_G_program, s);
	if (!rc)
		rc = sv_scenario__load_group(c->kf, c->file, "guestmm", SC_G_guestmm, s);
	if (rc)
		return rc;
	if (!s->prog_text || !*s->prog_text)
		return sv_keyfile__bad(c->file, "program", "path", "a path", "");
	if (s->vm.vcpus != 1)
		return sv_err__set(NULL, SV_ECONFIG, "%s: [vm] vcpus: a program is "
						     "one thread: expected 1", c->file);
	s->prog_strs = g_ptr_array_new_with_free_func(g_free);
	s->prog_file_list = g_array_new(FALSE, FALSE, sizeof(sv_program_file));
	s->prog_argv = g_ptr_array_new_with_free_func(g_free);
	s->prog_envp = g_ptr_array_new_with_free_func(g_free);
	rc = find_file(&s->prog_path, s, dir, "path", s->prog_text);
	if (!rc && s->prog_stdin && *s->prog_stdin)
		rc = find_file(&s->prog_stdin_path, s, dir, "stdin", s->prog_stdin);
	if (!rc)
		rc = load_files(s, dir);
	if (!rc)
		rc = words(&args, s, "args", s->prog_args);
	if (!rc)
		rc = words(&env, s, "env", s->prog_env);
	if (rc)
		return rc;
	g_ptr_array_add(s->prog_argv, g_strdup(s->prog_text));
	for (i = 0; args && args[i]; i++)
		g_ptr_array_add(s->prog_argv, g_strdup(args[i]));
	g_ptr_array_add(s->prog_argv, NULL);
	for (i = 0; env && env[i]; i++) {
		if (!strchr(env[i], '=') || env[i][0] == '=') {
			g_autofree char *w = g_strdup_printf(
				"expected NAME=VALUE words, got '%s'", env[i]);

			return prog_err(s, "env", w);
		}
		g_ptr_array_add(s->prog_envp, g_strdup(env[i]));
	}
	g_ptr_array_add(s->prog_envp, NULL);
	return sv_scenario__load_gmm_slot(s, c);
}

void sv_scenario__program_free(sv_scenario *s)
{
	g_free(s->prog_text);
	g_free(s->prog_path);
	g_free(s->prog_args);
	g_free(s->prog_env);
	g_free(s->prog_stdin);
	g_free(s->prog_files);
	g_free(s->prog_stdout);
	g_free(s->prog_stderr);
	g_free(s->prog_stdin_path);
	if (s->prog_argv)
		g_ptr_array_free(s->prog_argv, TRUE);
	if (s->prog_envp)
		g_ptr_array_free(s->prog_envp, TRUE);
	if (s->prog_file_list)
		g_array_free(s->prog_file_list, TRUE);
	if (s->prog_strs)
		g_ptr_array_free(s->prog_strs, TRUE);
}

/* ---- building -------------------------------------------------------------------- */

int sv_scenario__build_program(sc_run *r)
{
	const sv_scenario *s = r->s;
	sv_program_options po = s->prog;
	int rc = sv_scenario__build_guestmm(r);

	if (rc)
		return rc;
	po.path = s->prog_path;
	po.name = s->prog_text;
	po.argv = (const char *const *)s->prog_argv->pdata;
	po.envp = (const char *const *)s->prog_envp->pdata;
	po.stdin_path = s->prog_stdin_path;
	po.stdout_path = r->dry || !s->prog_stdout || !*s->prog_stdout
				 ? NULL : s->prog_stdout;
	po.stderr_path = r->dry || !s->prog_stderr || !*s->prog_stderr
				 ? NULL : s->prog_stderr;
	po.files = (const sv_program_file *)s->prog_file_list->data;
	po.nfiles = s->prog_file_list->len;
	po.khugepaged_period = s->khugepaged_period;
	rc = sv_program_new(&r->prog, r->gm, r->v, &po);
	if (rc) {
		g_autofree char *d = sv_scenario__user_words(sv_error_detail());

		return sv_err__set(NULL, rc == SV_EIO ? SV_EIO : SV_ECONFIG,
				   "%s: [program]: %s", s->file, d);
	}
	return SV_OK;
}

/* ---- running --------------------------------------------------------------------- */

static char *ending(const sv_program_result *res, uint64_t insns)
{
	if (res->stop == SV_PROGRAM_EXITED)
		return g_strdup_printf("exited with status %d after %" PRIu64
				       " instructions", res->status, insns);
	if (res->stop == SV_PROGRAM_LIMIT)
		return g_strdup_printf("limit after %" PRIu64 " instructions",
				       insns);
	return g_strdup_printf("%s at rip 0x%" PRIx64 " (address 0x%" PRIx64
			       ") after %" PRIu64 " instructions",
			       sv_program_stop_name(res->stop), res->rip, res->addr,
			       insns);
}

int sv_scenario__run_program(sc_run *r, char **end)
{
	const sv_scenario *s = r->s;
	guint next = 0;

	for (;;) {
		const sc_phase *ph = next < s->phases->len
					     ? g_ptr_array_index(s->phases, next) : NULL;
		uint64_t done = sv_vcpu_stat_get(r->v, SV_VCPU_STAT_instructions);
		uint64_t stop = ph ? ph->insn : 0;
		sv_program_result res;
		int rc = SV_OK;

		if (s->prog_limit && (!stop || stop > s->prog_limit))
			stop = s->prog_limit;
		if (stop && done >= stop) /* passed already (a block's overrun) */
			res = (sv_program_result){.stop = SV_PROGRAM_LIMIT};
		else
			rc = sv_program_run(&res, r->prog, stop ? stop - done : 0);
		if (rc != SV_OK) {
			g_autofree char *d = g_strdup(sv_error_detail());

			return sv_err__set(NULL, rc, "%s: [program] %s", s->file, d);
		}
		done = sv_vcpu_stat_get(r->v, SV_VCPU_STAT_instructions);
		if (res.stop != SV_PROGRAM_LIMIT || !ph ||
		    (s->prog_limit && done >= s->prog_limit)) {
			*end = ending(&res, done);
			return SV_OK;
		}
		rc = sv_scenario__next_phase(r, next++, end);
		if (rc || *end)
			return rc;
	}
}
