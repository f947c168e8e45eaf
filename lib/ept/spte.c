/*
 * lib/ept/spte.c - the SPTE bits of one VM's nested format (KVM's
 * kvm_mmu_set_ept_masks and the x86 defaults of spte.c).
 */
#include <string.h>

#include "ept/spte.h"

void sv_spte__bits_init(sv_spte_bits *b, bool ept, bool ept_ad, bool nx_huge)
{
	memset(b, 0, sizeof(*b));
	b->nx_huge = nx_huge;
	if (ept) {
		b->r = SV_EPT_R;
		b->w = SV_EPT_W;
		b->x = SV_EPT_X;
		b->hw_present = SV_EPT_RWX;
		b->a = ept_ad ? SV_EPT_A : 0;
		b->d = ept_ad ? SV_EPT_D : 0;
		b->ps = SV_EPT_PS;
		b->host_w = SPTE_EPT_HOST_WRITABLE;
		b->mmu_w = SPTE_EPT_MMU_WRITABLE;
		b->leaf_attr = (SV_EPT_MT_WB << SV_EPT_MT_SHIFT) | SV_EPT_IPAT;
		b->table = SV_EPT_RWX;
		b->mmio = SPTE_EPT_MMIO_MARK;
		b->saved_shift = SPTE_EPT_SAVED_SHIFT;
		return;
	}
	/* NPT entries are x86 entries: every nested access is a user access
	 * (U/S set everywhere), and they always have A/D flags. */
	b->r = SV_PTE_P;
	b->w = SV_PTE_RW;
	b->nx = SV_PTE_NX;
	b->hw_present = SV_PTE_P;
	b->a = SV_PTE_A;
	b->d = SV_PTE_D;
	b->ps = SV_PTE_PS;
	b->host_w = SPTE_X86_HOST_WRITABLE;
	b->mmu_w = SPTE_X86_MMU_WRITABLE;
	b->leaf_attr = SV_PTE_US;
	b->table = SV_PTE_P | SV_PTE_RW | SV_PTE_US;
	b->mmio = SPTE_NPT_MMIO_MARK;
}
