/*
 * lib/ept/nested.h - the nested dimension of a walk: GPA -> HPA through
 * EPT or NPT, and the page-modification log it writes (lib/ept/nested.c).
 */
#ifndef SV_EPT_NESTED_H
#define SV_EPT_NESTED_H

#include "cpu/vcpu.h"

/* Result of a nested (GPA -> HPA) translation. */
typedef struct sv_nxlate {
	uint64_t hpa;
	uint8_t shift;   /* page size of the nested leaf (or cached entry) */
	uint8_t perm;    /* SV_PERM_N* */
	bool dirty;      /* EPT D set (or A/D off) */
} sv_nxlate;

/* What a nested translation is for: the access and whether it is a guest
 * paging-structure access (which sets bit 33 of #NPF, clears bit 8 of the
 * EPT exit qualification, and is a write when EPT A/D is on). */
typedef enum sv_nacc_flags {
	SV_NACC_TABLE = 1 << 0,
	SV_NACC_AD_WRITE = 1 << 1, /* the write that sets a guest A/D flag */
} sv_nacc_flags;

/*
 * Translates gpa for vCPU v through the nested TLB, the page-walk cache
 * and the EPT/NPT tables.  Adds references and cycles to *refs and the
 * counters.  Returns true with *out filled, or false with *f describing
 * the EPT violation, misconfiguration or #NPF.
 */
bool sv_nested__translate(sv_vcpu *v, uint64_t gpa, sv_access acc,
			  unsigned flags, uint64_t gva, sv_nxlate *out,
			  sv_fault *f, uint32_t *refs);

/* Sets up the vCPU's nested walker for its VM. */
void sv_nested__setup(sv_vcpu *v);

/* Empties the vCPU's page-modification log into the memslots' dirty
 * bitmaps (KVM does it on every exit). */
void sv_nested__pml_drain(sv_vcpu *v);

#endif /* SV_EPT_NESTED_H */
