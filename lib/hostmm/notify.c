/*
 * lib/hostmm/notify.c - the MMU-notifier chain.
 *
 * Every invalidation goes through sv_host__ev_start/ev_end, which count the
 * event and call each notifier in registration order (as mmu_notifier's
 * invalidate_range_start and _end); the notifiers are what KVM registers.
 */
#include "hostmm.h"
#include "mm.h"

static const sv_host_stat event_stat[SV_HOST_EVENT__COUNT] = {
	SV_HOST_STAT_event_unmap,           SV_HOST_STAT_event_clear,
	SV_HOST_STAT_event_protection_vma,  SV_HOST_STAT_event_protection_page,
	SV_HOST_STAT_event_soft_dirty,      SV_HOST_STAT_event_release,
};

void sv_host__ev_start(sv_host *h, const sv_host_range *r)
{
	guint i;

	h->stat[event_stat[r->event]]++;
	for (i = 0; i < h->notifiers->len; i++) {
		const sv_notifier *n = &g_array_index(h->notifiers, sv_notifier, i);

		if (n->ops->invalidate_start)
			n->ops->invalidate_start(r, n->payload);
	}
}

void sv_host__ev_end(sv_host *h, const sv_host_range *r)
{
	guint i;

	for (i = 0; i < h->notifiers->len; i++) {
		const sv_notifier *n = &g_array_index(h->notifiers, sv_notifier, i);

		if (n->ops->invalidate_end)
			n->ops->invalidate_end(r, n->payload);
	}
}

void sv_host__event(sv_host *h, sv_host_event ev, uint64_t start, uint64_t end)
{
	sv_host_range r = {ev, start, end};

	sv_host__ev_start(h, &r);
	sv_host__ev_end(h, &r);
}

int sv_host_notifier_register(sv_host *h, const sv_host_notifier_ops *ops,
			      void *payload)
{
	sv_notifier n = {ops, payload};

	sv_err__clear();
	if (!h || !ops)
		return sv_err__set(NULL, SV_EINVAL, "sv_host_notifier_register: "
						    "NULL host or ops");
	if (ops->version != SV_HOST_NOTIFIER_VERSION)
		return sv_err__set(NULL, SV_EINVAL,
				   "sv_host_notifier_register: ops version %u, "
				   "expected %u",
				   ops->version, SV_HOST_NOTIFIER_VERSION);
	g_array_append_val(h->notifiers, n);
	return SV_OK;
}

bool sv_host__notifier_remove(sv_host *h, const sv_host_notifier_ops *ops,
			      void *payload)
{
	guint i;

	for (i = 0; h && i < h->notifiers->len; i++) {
		const sv_notifier *n = &g_array_index(h->notifiers, sv_notifier, i);

		if (n->ops == ops && n->payload == payload) {
			g_array_remove_index(h->notifiers, i);
			return true;
		}
	}
	return false;
}

int sv_host_notifier_unregister(sv_host *h, const sv_host_notifier_ops *ops,
				void *payload)
{
	sv_err__clear();
	if (sv_host__notifier_remove(h, ops, payload))
		return SV_OK;
	return sv_err__set(NULL, SV_ENOENT, "sv_host_notifier_unregister: "
					    "not registered");
}
