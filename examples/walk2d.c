/*
 * walk2d - one two-dimensional page walk, step by step.
 *
 * Under EPT (or NPT) every guest-physical address the guest walk produces
 * -- the address of each guest page-table entry and the final data address
 * -- must itself be translated through the nested tables.  With 4-level
 * guest paging and 4-level EPT that is up to 4 x (4 + 1) + 4 = 24 memory
 * references for one TLB miss.  This program builds both table trees
 * through the API, then prints every step of one read: which guest level
 * is read, which nested references it needs, and which cache saved a
 * reference.  It walks twice: cold (everything flushed) and warm.
 *
 * Build: cc walk2d.c $(pkg-config --cflags --libs simvirt)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <simvirt/simvirt.h>

#include "example_check.h"

#define RAM (64ULL << 20)         /* guest-physical memory [0, 64M) */
#define PT_POOL 0x100000ULL       /* guest page tables live at 1M.. */
#define PT_POOL_SIZE 0x100000ULL
#define GVA UINT64_C(0x00007f0000001000) /* the address walked */
#define DATA_GPA 0x2000000ULL     /* where the guest maps it: 32M */

static const char *step_name(sv_walk_event_kind k)
{
	switch (k) {
	case SV_WEV_TLB_HIT:
		return "TLB hit: no walk";
	case SV_WEV_PSC_HIT:
		return "guest paging-structure cache hit";
	case SV_WEV_GUEST_REF:
		return "read guest entry";
	case SV_WEV_NTLB_HIT:
		return "guest-physical TLB hit";
	case SV_WEV_NPWC_HIT:
		return "nested walk-cache hit";
	case SV_WEV_NESTED_REF:
		return "read EPT entry";
	case SV_WEV_FAULT:
		return "fault";
	case SV_WEV_SHADOW_REF: /* shadow paging only; this guest runs on EPT */
		return "read shadow entry";
	}
	return "?";
}

/* The walk observer: one line per step; nested steps are indented under
 * the guest-physical address they translate. */
static void print_step(const sv_walk_event *ev, void *payload)
{
	unsigned *refs = payload;
	bool nested = ev->kind == SV_WEV_NTLB_HIT || ev->kind == SV_WEV_NPWC_HIT ||
		      ev->kind == SV_WEV_NESTED_REF;
	bool ref = ev->kind == SV_WEV_GUEST_REF || ev->kind == SV_WEV_NESTED_REF;

	if (ref)
		++*refs;
	printf("  %s%-34s level %u  %s 0x%012" PRIx64, nested ? "    " : "",
	       step_name(ev->kind), ev->level, nested ? "gpa" : "gva", ev->addr);
	if (ref)
		printf("  -> entry 0x%016" PRIx64 "  (reference %u)", ev->entry,
		       *refs);
	putchar('\n');
}

static void walk(sv_vcpu *v, const char *title)
{
	unsigned refs = 0;
	sv_xlate x;

	printf("%s read of gva 0x%" PRIx64 ":\n", title, GVA);
	sv_vcpu_set_walk_observer(v, print_step, &refs);
	CHECK(sv_vcpu_translate(&x, v, GVA, 8, SV_ACCESS_READ));
	sv_vcpu_set_walk_observer(v, NULL, NULL);
	if (x.fault.kind != SV_FAULT_NONE) {
		printf("  => %s at the %s\n", sv_fault_kind_name(x.fault.kind),
		       sv_fault_stage_name(x.fault.stage));
		return;
	}
	printf("  => gpa 0x%" PRIx64 ", hpa 0x%" PRIx64 ", %" PRIu64
	       "K entry, %u references, %u cycles\n\n",
	       x.gpa, x.hpa, x.page_size >> 10, x.refs, x.cycles);
}

int main(void)
{
	sv_memslot_region ram = {
		.version = SV_MEMSLOT_REGION_VERSION,
		.slot = 0,
		.gpa = 0,
		.size = RAM,
	};
	sv_pt_options gpo = {
		.version = SV_PT_OPTIONS_VERSION,
		.kind = SV_PT_GUEST,
		.pool_gpa = PT_POOL,
		.pool_size = PT_POOL_SIZE,
	};
	sv_vm *vm = NULL;
	sv_pt *gpt = NULL;
	sv_vcpu *v;
	sv_vcpu_regs r;

	/* A VM with default options: EPT, 4-level guest and EPT paging, the
	 * Skylake-like TLBs.  Without a host the VM owns its memory. */
	CHECK(sv_vm_new(&vm, NULL));
	CHECK(sv_memslot_set(vm, &ram));
	/* EPT: identity map of guest RAM with 4K pages, read/write/execute. */
	CHECK(sv_pt_map(sv_vm_tdp(vm), 0, 0, RAM, SV_PAGE_4K, SV_EPT_RWX));
	/* Guest page tables: one 4K page at GVA, writable, user. */
	CHECK(sv_pt_new(&gpt, vm, &gpo));
	CHECK(sv_pt_map(gpt, GVA, DATA_GPA, SV_PAGE_4K, SV_PAGE_4K,
			SV_PTE_RW | SV_PTE_US));

	/* Long mode with paging on, CR3 at the guest tables. */
	v = sv_vm_vcpu(vm, 0);
	sv_vcpu_get_regs(v, &r);
	r.cr0 = SV_CR0_PE | SV_CR0_PG;
	r.cr3 = sv_pt_root(gpt);
	CHECK(sv_vcpu_set_regs(v, &r));

	/* Cold: INVEPT all-context empties every TLB and walk cache. */
	CHECK(sv_vcpu_invept(v, 2, 0));
	walk(v, "cold");
	walk(v, "warm");

	sv_pt_free(gpt);
	sv_vm_free(vm);
	return 0;
}
