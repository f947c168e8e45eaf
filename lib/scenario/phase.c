/*
 * lib/scenario/phase.c - the [phase.N] groups: each phase's actions parsed
 * (verb, memslot, range), and the phases put in the order a run meets
 * them: sync points by N, then those bound to a count by the count.
 */
#include "scenario/schema.h"

static int bad(const sc_ctx *c, const char *group, const char *key,
	       const char *expected, const char *got)
{
	return sv_keyfile__bad(c->file, group, key, expected, got);
}

static const struct {
	const char *name, *args, *what;
} verbs[V__COUNT] = {
#define VERB_ROW(name, args, what) {#name, args, what},
	SC_VERB_LIST(VERB_ROW)
#undef VERB_ROW
};

const char *sv_scenario__verb_name(sc_verb v)
{
	return verbs[v].name;
}

const char *sv_scenario_action(size_t i, const char **args, const char **desc)
{
	if (i >= V__COUNT)
		return NULL;
	if (args)
		*args = verbs[i].args;
	if (desc)
		*desc = verbs[i].what;
	return verbs[i].name;
}

/* ---- phases --------------------------------------------------------------------------- */

/* Parses "verb args" of one action of [group]. */
static int parse_action(const sv_scenario *s, const sc_ctx *c,
			const char *group, const char *text, sc_action *a)
{
	g_auto(GStrv) tok = g_strsplit_set(text, " \t", -1);
	const char *w[6];
	unsigned n = 0, i, want_slot, extra = 0;
	int v;

	for (i = 0; tok[i]; i++)
		if (*tok[i] && n < G_N_ELEMENTS(w))
			w[n++] = tok[i];
		else if (*tok[i])
			n++;
	if (n == 0)
		return bad(c, group, "actions", "a verb (simvirt list shows them)",
			   text);
	for (v = 0; v < V__COUNT && strcmp(verbs[v].name, w[0]); v++)
		;
	if (v == V__COUNT)
		return bad(c, group, "actions", "a verb (dirty_log_enable, munmap, "
						"madvise, khugepaged, ...; simvirt "
						"list shows them all)",
			   w[0]);
	memset(a, 0, sizeof(*a));
	a->verb = (sc_verb)v;
	a->slot = -1;
	want_slot = verbs[v].args[0] == 'S';
	if (a->verb == V_mprotect || a->verb == V_madvise || a->verb == V_split_thp)
		extra = 1;
	if (a->verb == V_mode) {
		if (n != 2 || (strcmp(w[1], "detailed") && strcmp(w[1], "fast-forward")))
			return bad(c, group, "actions", "mode detailed|fast-forward",
				   text);
		a->arg = w[1][0] == 'f' ? SV_EXEC_FAST_FORWARD : SV_EXEC_DETAILED;
		return SV_OK;
	}
	if (n != 1 + want_slot + extra &&
	    !(strstr(verbs[v].args, "[OFF LEN]") && n == 3 + want_slot + extra)) {
		g_autofree char *what = g_strdup_printf("%s %s", verbs[v].name,
							verbs[v].args);
		return bad(c, group, "actions", what, text);
	}
	if (want_slot) {
		a->slot = sv_scenario__find_slot(s, w[1]);
		if (a->slot < 0)
			return bad(c, group, "actions",
				   "the name of a [memslot.NAME] group", w[1]);
	}
	if (a->verb == V_mprotect) {
		static const char *const p[] = {"none", "r", "rw"};
		static const unsigned bits[] = {0, SV_PROT_READ,
						SV_PROT_READ | SV_PROT_WRITE};
		int k = sv_keyfile__parse_name(w[2], p, 3);

		if (k < 0)
			return bad(c, group, "actions", "mprotect SLOT none|r|rw",
				   text);
		a->arg = bits[k];
	} else if (a->verb == V_madvise) {
		static const char *const adv[] = {"dontneed", "free", "hugepage",
						  "nohugepage", "collapse", "pageout"};
		static const sv_madvise m[] = {SV_MADV_DONTNEED, SV_MADV_FREE,
					       SV_MADV_HUGEPAGE, SV_MADV_NOHUGEPAGE,
					       SV_MADV_COLLAPSE, SV_MADV_PAGEOUT};
		int k = sv_keyfile__parse_name(w[2], adv, 6);

		if (k < 0)
			return bad(c, group, "actions",
				   "madvise SLOT dontneed|free|hugepage|"
				   "nohugepage|collapse|pageout",
				   text);
		a->arg = m[k];
	} else if (a->verb == V_split_thp && !sv_keyfile__parse_uint(w[2], true, &a->off)) {
		return bad(c, group, "actions", "split_thp SLOT OFFSET", text);
	}
	if (n == 1 + want_slot + extra + 2) {
		const sc_slot *sl = &g_array_index(s->slots, sc_slot, a->slot);

		if (!sv_keyfile__parse_uint(w[n - 2], true, &a->off) ||
		    !sv_keyfile__parse_uint(w[n - 1], true, &a->len) || !a->len ||
		    (a->off | a->len) & 0xfff || a->off > sl->size ||
		    a->len > sl->size - a->off)
			return bad(c, group, "actions", "OFF LEN: 4K multiples "
							     "inside the memslot",
				   text);
	}
	if (a->slot >= 0 && a->off >= g_array_index(s->slots, sc_slot, a->slot).size)
		return bad(c, group, "actions", "an offset inside the memslot", text);
	return SV_OK;
}

/* The count a phase is bound to: instructions, or a trace run's records
 * (one of them is 0); 0 for a sync phase. */
static uint64_t bound(const sc_phase *ph)
{
	return ph->insn | ph->records;
}

static gint phase_cmp(gconstpointer pa, gconstpointer pb)
{
	const sc_phase *a = *(sc_phase *const *)pa, *b = *(sc_phase *const *)pb;

	if ((bound(a) != 0) != (bound(b) != 0))
		return bound(a) ? 1 : -1;
	if (bound(a) != bound(b))
		return bound(a) < bound(b) ? -1 : 1;
	return a->n < b->n ? -1 : a->n > b->n;
}

void sv_scenario__phase_free(gpointer p)
{
	sc_phase *ph = p;

	g_free(ph->name);
	g_free(ph->actions_text);
	g_array_free(ph->actions, TRUE);
	g_free(ph);
}

int sv_scenario__load_phase(sv_scenario *s, const sc_ctx *c, const char *group)
{
	const char *num = group + strlen("phase.");
	g_autofree char *acts = NULL;
	sc_phase *ph;
	uint64_t n;
	guint i;
	int rc;

	if (!sv_keyfile__parse_uint(num, false, &n) || n == 0 || n > UINT32_MAX)
		return sv_err__set(NULL, SV_ECONFIG, "%s: [%s]: expected [phase.N] with "
						      "N a sync point from 1, got '%s'",
				    c->file, group, num);
	ph = g_new0(sc_phase, 1);
	ph->n = (uint32_t)n;
	ph->actions = g_array_new(FALSE, FALSE, sizeof(sc_action));
	g_ptr_array_add(s->phases, ph);
	rc = sv_scenario__load_group(c->kf, c->file, group, SC_G_phase, ph);
	if (rc)
		return rc;
	acts = sv_keyfile__value(c->kf, group, "actions");
	ph->actions_text = g_strdup(acts);
	if (acts) {
		g_auto(GStrv) list = g_strsplit(acts, ";", -1);

		for (i = 0; list[i]; i++) {
			sc_action a;

			g_strstrip(list[i]);
			if (!*list[i])
				continue;
			rc = parse_action(s, c, group, list[i], &a);
			if (rc)
				return rc;
			g_array_append_val(ph->actions, a);
		}
	}
	return SV_OK;
}

/* Sorts the phases; two bound to the same point are an error. */
int sv_scenario__sort_phases(sv_scenario *s)
{
	guint i;

	g_ptr_array_sort(s->phases, phase_cmp);
	for (i = 1; i < s->phases->len; i++) {
		const sc_phase *a = g_ptr_array_index(s->phases, i - 1);
		const sc_phase *b = g_ptr_array_index(s->phases, i);

		if (bound(a) && bound(a) == bound(b))
			return sv_err__set(NULL, SV_ECONFIG, "%s: [phase.%u] and "
							     "[phase.%u]: both bound to "
							     "%s count %" PRIu64,
					   s->file, MIN(a->n, b->n),
					   MAX(a->n, b->n),
					   a->insn ? "instruction" : "record",
					   bound(a));
		if (!bound(a) && !bound(b) && a->n == b->n)
			return sv_err__set(NULL, SV_ECONFIG, "%s: two [phase.N] groups "
							     "for sync point %u (the same N "
							     "written two ways?)",
					   s->file, a->n);
	}
	return SV_OK;
}

