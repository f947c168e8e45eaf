/*
 * lib/config.c - names of the closed sets (counters, TLB arrays, costs) and
 * the checks of a TLB configuration.  Key files with [tlb] and [cost] are
 * read by lib/scenario (sv_config_load).
 */
#include "base.h"
#include "scenario/keyfile.h"
#include "tlb/tlb.h"

/* ---- names of the closed sets ------------------------------------------ */

#define NAME(name, ...) #name,
#define DESC2(name, desc) desc,
#define DESC4(name, a, b, desc) desc,
#define DESC3(name, def, desc) desc,

static const char *const vm_stat_names[] = {SV_VM_STAT_LIST(NAME)};
static const char *const vm_stat_descs[] = {SV_VM_STAT_LIST(DESC2)};
static const char *const tlb_names[] = {SV_TLB_ARRAY_LIST(NAME)};
static const char *const tlb_descs[] = {SV_TLB_ARRAY_LIST(DESC4)};
static const char *const cost_names[] = {SV_COST_LIST(NAME)};
static const char *const cost_descs[] = {SV_COST_LIST(DESC3)};

#define N_COSTS G_N_ELEMENTS(cost_names)
_Static_assert(sizeof(sv_costs) == G_N_ELEMENTS(cost_names) * sizeof(uint32_t),
	       "sv_costs must be exactly its list of uint32_t costs");

void sv_tlb_config_init(sv_tlb_config *t)
{
	static const sv_tlb_config d = SV_TLB_CONFIG_INIT;

	if (t)
		memcpy(t, &d, sizeof(d)); /* the padding too */
}

void sv_costs_init(sv_costs *c)
{
	static const sv_costs d = SV_COSTS_INIT;

	if (c)
		memcpy(c, &d, sizeof(d)); /* the padding too */
}

const char *sv_vm_stat_name(sv_vm_stat id)
{
	return (unsigned)id < SV_VM_STAT__COUNT ? vm_stat_names[id] : NULL;
}

const char *sv_vm_stat_desc(sv_vm_stat id)
{
	return (unsigned)id < SV_VM_STAT__COUNT ? vm_stat_descs[id] : NULL;
}

bool sv_vm_stat_is_level(sv_vm_stat id)
{
	switch (id) {
	case SV_VM_STAT_tdp_table_pages:
	case SV_VM_STAT_guest_table_pages:
	case SV_VM_STAT_memslots:
	case SV_VM_STAT_pages_4k:
	case SV_VM_STAT_pages_2m:
	case SV_VM_STAT_pages_1g:
	case SV_VM_STAT_mmu_unsync:
		return true;
	default:
		return false;
	}
}

bool sv_stat_info_get(size_t i, sv_stat_info *out)
{
	if (!out || i >= (size_t)SV_VM_STAT__COUNT + SV_VCPU_STAT__COUNT)
		return false;
	memset(out, 0, sizeof(*out));
	if (i < SV_VM_STAT__COUNT) {
		out->vm_id = (sv_vm_stat)i;
		out->name = vm_stat_names[i];
		out->desc = vm_stat_descs[i];
		out->level = sv_vm_stat_is_level(out->vm_id);
		return true;
	}
	i -= SV_VM_STAT__COUNT;
	out->vcpu = true;
	out->vcpu_id = (sv_vcpu_stat)i;
	out->name = sv_vcpu_stat_name(out->vcpu_id);
	out->desc = sv_vcpu_stat_desc(out->vcpu_id);
	return true;
}

int sv_vm_stat_lookup(sv_vm_stat *out, const char *name)
{
	int i = sv_keyfile__parse_name(name, vm_stat_names, SV_VM_STAT__COUNT);

	sv_err__clear();
	if (!out)
		return sv_err__set(NULL, SV_EINVAL, "sv_vm_stat_lookup: NULL out");
	if (i < 0)
		return sv_err__set(NULL, SV_ENOENT, "no VM counter named '%s'",
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
	return c && i < N_COSTS ? (uint32_t *)c + i : NULL;
}

/* ---- validation -------------------------------------------------------- */

int sv_tlb_config_validate(const sv_tlb_config *cfg)
{
	unsigned a;

	sv_err__clear();
	if (!cfg)
		return sv_err__set(NULL, SV_EINVAL, "tlb config: NULL");
	for (a = 0; a < SV_TLB__COUNT; a++) {
		uint32_t s = cfg->array[a].sets, w = cfg->array[a].ways;

		if (s > SV_TLB_MAX_SETS || (s & (s - 1)))
			return sv_err__set(NULL, SV_ECONFIG,
					   "tlb.%s_sets: expected 0 or a power of "
					   "two up to %u, got %u",
					   tlb_names[a], SV_TLB_MAX_SETS, s);
		if (w > SV_TLB_MAX_WAYS)
			return sv_err__set(NULL, SV_ECONFIG,
					   "tlb.%s_ways: expected 0 to %u, got %u",
					   tlb_names[a], SV_TLB_MAX_WAYS, w);
	}
	if ((unsigned)cfg->replacement > SV_TLB_RANDOM)
		return sv_err__set(NULL, SV_ECONFIG,
				   "tlb.replacement: expected lru, fifo or random");
	if ((unsigned)cfg->conflict > SV_TLB_CONFLICT_ABORT)
		return sv_err__set(NULL, SV_ECONFIG,
				   "tlb.conflict: expected smaller, larger, mce "
				   "or abort");
	return SV_OK;
}
