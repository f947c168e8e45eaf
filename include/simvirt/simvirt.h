/*
 * simvirt/simvirt.h - the whole public API.
 *
 * simvirt models two-stage address translation (guest page tables over EPT
 * or NPT, TLBs and paging-structure caches) deterministically, counting and
 * costing every event.  See docs/guide.md.
 */
#ifndef SIMVIRT_SIMVIRT_H
#define SIMVIRT_SIMVIRT_H

#include "common.h"
#include "config.h"
#include "ept.h"
#include "exec.h"
#include "guestmm.h"
#include "tracein.h"
#include "hostmm.h"
#include "mmu.h"
#include "program.h"
#include "pt.h"
#include "scenario.h"
#include "stats.h"
#include "vcpu.h"
#include "vm.h"
#include "x86.h"

#endif /* SIMVIRT_SIMVIRT_H */
