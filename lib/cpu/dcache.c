/*
 * lib/cpu/dcache.c - the data-cache model: set-associative levels with
 * LRU replacement, non-inclusive (a miss fills every level it missed, an
 * eviction touches only its own level), private to the vCPU.  What it
 * leaves out: coherence and sharing between vCPUs, prefetchers,
 * write-backs, and the overlap of misses (each reference is paid in
 * full, as a dependent pointer chase pays it).
 */
#include "cpu/dcache.h"

static int level_check(uint32_t kb, uint32_t ways, const char *name)
{
	uint64_t lines = (uint64_t)kb * 1024 / 64;

	if (kb && (!ways || ways > 64 || lines % ways ||
		   (lines / ways) & (lines / ways - 1)))
		return sv_err__set(NULL, SV_EINVAL, "cache: %s of %u K in %u ways "
						    "(expected 1-64 ways and a power-of-two "
						    "number of 64-byte-line sets)",
				   name, kb, ways);
	return SV_OK;
}

int sv_cache_config_validate(const sv_cache_config *cfg)
{
	int rc;

	sv_err__clear();
	if (!cfg)
		return sv_err__set(NULL, SV_EINVAL, "sv_cache_config_validate: NULL");
	rc = level_check(cfg->l1d_kb, cfg->l1d_ways, "l1d");
	if (rc == SV_OK)
		rc = level_check(cfg->l2_kb, cfg->l2_ways, "l2");
	if (rc == SV_OK)
		rc = level_check(cfg->llc_kb, cfg->llc_ways, "llc");
	return rc;
}

static void level_init(sv_dcache_level *l, uint32_t kb, uint32_t ways)
{
	uint64_t lines = (uint64_t)kb * 1024 / 64;

	if (!kb)
		return;
	l->sets = (uint32_t)(lines / ways);
	l->ways = ways;
	l->line = g_new0(uint64_t, lines);
	l->stamp = g_new0(uint64_t, lines);
}

int sv_dcache__new(sv_dcache **out, const sv_cache_config *cfg)
{
	sv_dcache *c;
	int rc;

	*out = NULL;
	if (!cfg || (!cfg->l1d_kb && !cfg->l2_kb && !cfg->llc_kb))
		return SV_OK;
	rc = sv_cache_config_validate(cfg);
	if (rc != SV_OK)
		return rc;
	c = g_new0(sv_dcache, 1);
	level_init(&c->lv[0], cfg->l1d_kb, cfg->l1d_ways);
	level_init(&c->lv[1], cfg->l2_kb, cfg->l2_ways);
	level_init(&c->lv[2], cfg->llc_kb, cfg->llc_ways);
	*out = c;
	return SV_OK;
}

void sv_dcache__free(sv_dcache *c)
{
	unsigned i;

	if (!c)
		return;
	for (i = 0; i < SV_DCACHE_LEVELS; i++) {
		g_free(c->lv[i].line);
		g_free(c->lv[i].stamp);
	}
	g_free(c);
}

/* Looks line up in l; on a miss fills it over the least recently used
 * way.  True on a hit. */
static bool level_access(sv_dcache_level *l, uint64_t key, uint64_t now)
{
	uint64_t *line = l->line + (size_t)(key & (l->sets - 1)) * l->ways;
	uint64_t *stamp = l->stamp + (line - l->line);
	uint32_t w, victim = 0;

	for (w = 0; w < l->ways; w++) {
		if (line[w] == key) {
			stamp[w] = now;
			return true;
		}
		if (stamp[w] < stamp[victim])
			victim = w;
	}
	line[victim] = key;
	stamp[victim] = now;
	return false;
}

unsigned sv_dcache__access(sv_dcache *c, uint64_t line)
{
	uint64_t key = line + 1; /* 0 marks an empty way */
	unsigned i, hit = SV_DCACHE_LEVELS;

	c->clock++;
	for (i = 0; i < SV_DCACHE_LEVELS; i++) {
		if (!c->lv[i].ways)
			continue;
		if (level_access(&c->lv[i], key, c->clock)) {
			hit = i;
			break;
		}
	}
	return hit;
}
