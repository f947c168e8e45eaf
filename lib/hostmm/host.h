/*
 * lib/hostmm/host.h - what the rest of the library may ask of the host
 * model beyond the public API (simvirt/hostmm.h).
 */
#ifndef SV_HOSTMM_HOST_H
#define SV_HOSTMM_HOST_H

#include "base.h"

/*
 * The host process's bytes at hva, and in *run how far from hva they go on
 * within len (VMAs that continue one backing).  NULL where hva is not
 * mapped, with *run the length of the hole (up to the next VMA or len).
 */
uint8_t *sv_host__bytes(sv_host *h, uint64_t hva, uint64_t len, uint64_t *run);
/* A fault failed because the host RAM in use reached resident_limit. */
bool sv_host__over_limit(const sv_host *h);
/* sv_host_notifier_unregister() without touching the error detail (for
 * teardown, which must not hide the error that led to it). */
bool sv_host__notifier_remove(sv_host *h, const sv_host_notifier_ops *ops,
			      void *payload);

#endif /* SV_HOSTMM_HOST_H */
