/*
 * lib/config.c - names of the closed sets (counters, TLB arrays, costs) and
 * the [tlb]/[cost] key-file loader.
 *
 * Loading works on a copy: every key of the two groups is checked (unknown
 * keys are errors, values must parse completely and be in range), and only
 * if all are good is the copy stored, so a bad file changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* ---- names of the closed sets ------------------------------------------ */

#define NAME(name, ...) #name,
#define DESC2(name, desc) desc,
#define DESC4(name, a, b, desc) desc,
#define DESC3(name, def, desc) desc,

static const char *const vcpu_stat_names[] = {SV_VCPU_STAT_LIST(NAME)};
static const char *const vcpu_stat_descs[] = {SV_VCPU_STAT_LIST(DESC2)};
static const char *const vm_stat_names[] = {SV_VM_STAT_LIST(NAME)};
static const char *const vm_stat_descs[] = {SV_VM_STAT_LIST(DESC2)};
static const char *const tlb_names[] = {SV_TLB_ARRAY_LIST(NAME)};
static const char *const tlb_descs[] = {SV_TLB_ARRAY_LIST(DESC4)};
static const char *const cost_names[] = {SV_COST_LIST(NAME)};
static const char *const cost_descs[] = {SV_COST_LIST(DESC3)};

#define N_COSTS G_N_ELEMENTS(cost_names)
_Static_assert(sizeof(sv_costs) == G_N_ELEMENTS(cost_names) * sizeof(uint32_t),
	       "sv_costs must be exactly its list of uint32_t costs");

const char *sv_vcpu_stat_name(sv_vcpu_stat id)
{
	return (unsigned)id < SV_VCPU_STAT__COUNT ? vcpu_stat_names[id] : NULL;
}

const char *sv_vcpu_stat_desc(sv_vcpu_stat id)
{
	return (unsigned)id < SV_VCPU_STAT__COUNT ? vcpu_stat_descs[id] : NULL;
}

const char *sv_vm_stat_name(sv_vm_stat id)
{
	return (unsigned)id < SV_VM_STAT__COUNT ? vm_stat_names[id] : NULL;
}

const char *sv_vm_stat_desc(sv_vm_stat id)
{
	return (unsigned)id < SV_VM_STAT__COUNT ? vm_stat_descs[id] : NULL;
}

static int lookup(const char *const *names, unsigned n, const char *name)
{
	unsigned i;

	for (i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

int sv_vcpu_stat_lookup(sv_vcpu_stat *out, const char *name)
{
	int i = lookup(vcpu_stat_names, SV_VCPU_STAT__COUNT, name);

	if (i < 0)
		return sv__err(NULL, SV_ENOENT, "no vCPU counter named '%s'",
			       name ? name : "(null)");
	*out = (sv_vcpu_stat)i;
	return SV_OK;
}

int sv_vm_stat_lookup(sv_vm_stat *out, const char *name)
{
	int i = lookup(vm_stat_names, SV_VM_STAT__COUNT, name);

	if (i < 0)
		return sv__err(NULL, SV_ENOENT, "no VM counter named '%s'",
			       name ? name : "(null)");
	*out = (sv_vm_stat)i;
	return SV_OK;
}

const char *sv_tlb_array_name(sv_tlb_array a)
{
	return (unsigned)a < SV_TLB__COUNT ? tlb_names[a] : NULL;
}

const char *sv_tlb_array_desc(sv_tlb_array a)
{
	return (unsigned)a < SV_TLB__COUNT ? tlb_descs[a] : NULL;
}

size_t sv_cost_count(void)
{
	return N_COSTS;
}

const char *sv_cost_name(size_t i)
{
	return i < N_COSTS ? cost_names[i] : NULL;
}

const char *sv_cost_desc(size_t i)
{
	return i < N_COSTS ? cost_descs[i] : NULL;
}

uint32_t *sv_cost_slot(sv_costs *c, size_t i)
{
	return i < N_COSTS ? (uint32_t *)c + i : NULL;
}

/* ---- validation -------------------------------------------------------- */

#define SV_TLB_MAX_SETS 65536
#define SV_TLB_MAX_WAYS 64

int sv_tlb_config_validate(const sv_tlb_config *cfg)
{
	unsigned a;

	if (!cfg)
		return sv__err(NULL, SV_EINVAL, "tlb config: NULL");
	for (a = 0; a < SV_TLB__COUNT; a++) {
		uint32_t s = cfg->array[a].sets, w = cfg->array[a].ways;

		if (s > SV_TLB_MAX_SETS || (s & (s - 1)))
			return sv__err(NULL, SV_ECONFIG,
				       "tlb.%s_sets: expected 0 or a power of "
				       "two up to %u, got %u",
				       tlb_names[a], SV_TLB_MAX_SETS, s);
		if (w > SV_TLB_MAX_WAYS)
			return sv__err(NULL, SV_ECONFIG,
				       "tlb.%s_ways: expected 0 to %u, got %u",
				       tlb_names[a], SV_TLB_MAX_WAYS, w);
	}
	if ((unsigned)cfg->replacement > SV_TLB_RANDOM)
		return sv__err(NULL, SV_ECONFIG,
			       "tlb.replacement: expected lru, fifo or random");
	if ((unsigned)cfg->conflict > SV_TLB_CONFLICT_ABORT)
		return sv__err(NULL, SV_ECONFIG,
			       "tlb.conflict: expected smaller, larger, mce "
			       "or abort");
	return SV_OK;
}

/* ---- key-file loading -------------------------------------------------- */

/* Parses a whole decimal number in [0, max]; false if it is anything else. */
static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !g_ascii_isdigit(*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int load_tlb_key(sv_tlb_config *t, GKeyFile *kf, const char *name,
			const char *key)
{
	g_autofree char *val = g_key_file_get_value(kf, "tlb", key, NULL);
	unsigned a;

	if (strcmp(key, "replacement") == 0) {
		static const char *const r[] = {"lru", "fifo", "random"};
		int i = lookup(r, G_N_ELEMENTS(r), val);

		if (i < 0)
			return sv__err(NULL, SV_ECONFIG,
				       "%s: [tlb] replacement: expected lru, "
				       "fifo or random, got '%s'",
				       name, val);
		t->replacement = (sv_tlb_replacement)i;
		return SV_OK;
	}
	if (strcmp(key, "conflict") == 0) {
		static const char *const c[] = {"smaller", "larger", "mce",
						"abort"};
		int i = lookup(c, G_N_ELEMENTS(c), val);

		if (i < 0)
			return sv__err(NULL, SV_ECONFIG,
				       "%s: [tlb] conflict: expected smaller, "
				       "larger, mce or abort, got '%s'",
				       name, val);
		t->conflict = (sv_tlb_conflict)i;
		return SV_OK;
	}
	for (a = 0; a < SV_TLB__COUNT; a++) {
		size_t n = strlen(tlb_names[a]);
		uint32_t v;

		if (strncmp(key, tlb_names[a], n) != 0 || key[n] != '_')
			continue;
		if (strcmp(key + n, "_sets") == 0) {
			if (!parse_u32(val, SV_TLB_MAX_SETS, &v) ||
			    (v & (v - 1)))
				return sv__err(NULL, SV_ECONFIG,
					       "%s: [tlb] %s: expected 0 or a "
					       "power of two up to %u, got '%s'",
					       name, key, SV_TLB_MAX_SETS, val);
			t->array[a].sets = v;
			return SV_OK;
		}
		if (strcmp(key + n, "_ways") == 0) {
			if (!parse_u32(val, SV_TLB_MAX_WAYS, &v))
				return sv__err(NULL, SV_ECONFIG,
					       "%s: [tlb] %s: expected a whole "
					       "number from 0 to %u, got '%s'",
					       name, key, SV_TLB_MAX_WAYS, val);
			t->array[a].ways = v;
			return SV_OK;
		}
	}
	return sv__err(NULL, SV_ECONFIG,
		       "%s: [tlb] %s: unknown key (expected <array>_sets, "
		       "<array>_ways, replacement or conflict; arrays: l1d_4k, "
		       "stlb, psc_pd, ntlb, ... see sv_tlb_array_name)",
		       name, key);
}

static int load_group(GKeyFile *kf, const char *group, const char *name,
		      sv_tlb_config *t, sv_costs *c)
{
	g_auto(GStrv) keys = NULL;
	gsize n = 0, i;
	int rc;

	if (!g_key_file_has_group(kf, group))
		return SV_OK;
	keys = g_key_file_get_keys(kf, group, &n, NULL);
	for (i = 0; i < n; i++) {
		if (t) {
			rc = load_tlb_key(t, kf, name, keys[i]);
		} else {
			g_autofree char *val =
				g_key_file_get_value(kf, group, keys[i], NULL);
			int k = lookup(cost_names, N_COSTS, keys[i]);
			uint32_t v;

			if (k < 0)
				return sv__err(NULL, SV_ECONFIG,
					       "%s: [cost] %s: unknown cost "
					       "(expected one of l1_hit, "
					       "stlb_hit, walk_ref, vmexit, ... "
					       "see sv_cost_name)",
					       name, keys[i]);
			if (!parse_u32(val, 1000000000u, &v))
				return sv__err(NULL, SV_ECONFIG,
					       "%s: [cost] %s: expected whole "
					       "cycles from 0 to 1000000000, "
					       "got '%s'",
					       name, keys[i], val);
			*sv_cost_slot(c, (size_t)k) = v;
			rc = SV_OK;
		}
		if (rc)
			return rc;
	}
	return SV_OK;
}

int sv__config_load_keyfile(sv_tlb_config *tlb, sv_costs *costs, GKeyFile *kf,
			     const char *name)
{
	sv_tlb_config t;
	sv_costs c;
	int rc;

	if (tlb) {
		t = *tlb;
		rc = load_group(kf, "tlb", name, &t, NULL);
		if (rc)
			return rc;
		rc = sv_tlb_config_validate(&t);
		if (rc)
			return rc;
	}
	if (costs) {
		c = *costs;
		rc = load_group(kf, "cost", name, NULL, &c);
		if (rc)
			return rc;
	}
	if (tlb)
		*tlb = t;
	if (costs)
		*costs = c;
	return SV_OK;
}

int sv_config_load_data(sv_tlb_config *tlb, sv_costs *costs, const char *data,
			size_t len, const char *name)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) gerr = NULL;

	if (!data)
		return sv__err(NULL, SV_EINVAL, "config data: NULL");
	if (!name)
		name = "(config)";
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr))
		return sv__err(NULL, SV_ECONFIG, "%s: %s", name, gerr->message);
	return sv__config_load_keyfile(tlb, costs, kf, name);
}

int sv_config_load(sv_tlb_config *tlb, sv_costs *costs, const char *path)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) gerr = NULL;

	if (!path)
		return sv__err(NULL, SV_EINVAL, "config path: NULL");
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr))
		return sv__err(NULL, gerr->domain == G_FILE_ERROR ? SV_EIO
								   : SV_ECONFIG,
			       "%s: %s", path, gerr->message);
	return sv__config_load_keyfile(tlb, costs, kf, path);
}
