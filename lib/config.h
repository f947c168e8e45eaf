/*
 * lib/config.h - the [tlb] and [cost] groups of a key file (lib/config.c).
 */
#ifndef SV_CONFIG_H
#define SV_CONFIG_H

#include "base.h"

/* The [tlb] and [cost] groups of a key file into *tlb and *costs (either
 * may be NULL); all or nothing. */
int sv__config_load_keyfile(sv_tlb_config *tlb, sv_costs *costs, GKeyFile *kf,
			    const char *name);

#endif /* SV_CONFIG_H */
