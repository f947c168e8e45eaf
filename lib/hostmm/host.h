/*
 * lib/hostmm/host.h - what the rest of the library may ask of the host
 * model beyond the public API (simvirt/hostmm.h).
 */
#ifndef SV_HOSTMM_HOST_H
#define SV_HOSTMM_HOST_H

#include "base.h"

/* The host process's bytes behind [hva, hva + len) when one VMA's backing
 * holds all of them, else NULL. */
uint8_t *sv_host__bytes(sv_host *h, uint64_t hva, uint64_t len);

#endif /* SV_HOSTMM_HOST_H */
