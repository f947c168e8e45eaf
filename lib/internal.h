/*
 * lib/internal.h - the bodies behind the public handles, shared by the
 * library's files only.  Nothing here is installed.
 */
#ifndef SV_INTERNAL_H
#define SV_INTERNAL_H

#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "simvirt/simvirt.h"
#include "pt.h"
#include "tlb/tlb.h"

/*
 * GLib, with one rule: no GHashTable, GTree, GList or GSList.  Unicorn
 * 2.0.1 exports its own copies of those functions (and of g_malloc and
 * g_free, which are plain malloc and free on both sides), so in a process
 * that loads both libraries some calls would reach one implementation and
 * some the other.  GArray, GByteArray and GPtrArray are GLib's alone.
 */
#define SV_UNUSED(x) (void)(x)
#define SV_LIKELY(x) __builtin_expect(!!(x), 1)
#define SV_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Keeps a slow path out of its caller, whose prologue then stays short. */
#define SV_NOINLINE __attribute__((noinline))
/* Tells the compiler that c holds (it is not checked). */
#define SV_ASSUME(c)                             \
	do {                                     \
		if (!(c))                        \
			__builtin_unreachable(); \
	} while (0)

/* ---- errors (lib/errors.c) ------------------------------------------- */

/*
 * Records the detail of an error (printf-style) on this thread and, when vm
 * is not NULL, on the VM; returns code so that callers can write
 * `return sv__err(vm, SV_EINVAL, "...")`.
 */
int sv__err(sv_vm *vm, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The [tlb] and [cost] groups of a key file into *tlb and *costs (either
 * may be NULL); all or nothing (lib/config.c). */
int sv__config_load_keyfile(sv_tlb_config *tlb, sv_costs *costs, GKeyFile *kf,
			    const char *name);

/* ---- deterministic random numbers (splitmix64) ------------------------ */

static inline uint64_t sv__rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- memslots (lib/memslots.c) ----------------------------------------- */

typedef struct sv_memslot {
	uint32_t id;        /* as given: the address space in bits 16+ */
	uint8_t as;         /* address space: 0, or 1 for SMM */
	uint32_t flags;
	uint64_t gpa;
	uint64_t size;
	uint8_t *mem;       /* the bytes: our own MAP_NORESERVE mapping, or the
			       host process's at hva (NULL while unmapped) */
	uint64_t hva;       /* with a host attached */
	uint32_t *lpage[2]; /* disallow_lpage per 2M and 1G page (with a host) */
	uint64_t *dirty;    /* the dirty bitmap while logging */
	uint64_t *written;  /* auditor: pages the guest wrote since the last
			       harvest, while logging */
} sv_memslot;

typedef struct sv_memslots {
	GArray *slots;       /* sv_memslot, sorted by gpa */
	guint last;          /* index of the last slot found (lookup hint) */
	uint64_t epoch;      /* moves whenever a slot or its bytes change */
} sv_memslots;

int sv__memslots_init(sv_memslots *ms);
/* own: the slots' bytes are ours to unmap (no host attached). */
void sv__memslots_fini(sv_memslots *ms, bool own);
/* The slot holding gpa, or NULL. */
sv_memslot *sv__memslot_find(sv_memslots *ms, uint64_t gpa);
sv_memslot *sv__memslot_by_id(sv_memslots *ms, uint32_t id);
/* Points each slot's bytes at the host's memory again (after the host
 * unmapped or moved some). */
void sv__memslots_rebind(sv_vm *vm);
/* Host pointer to the byte at gpa, or NULL outside every slot. */
static inline uint8_t *sv__gpa_ptr(sv_memslots *ms, uint64_t gpa)
{
	const sv_memslot *s = sv__memslot_find(ms, gpa);

	return s && s->mem ? s->mem + (gpa - s->gpa) : NULL;
}

/* lib/hostmm: the host process's bytes behind [hva, hva + len) when one
 * VMA's backing holds all of them, else NULL. */
uint8_t *sv__host_bytes(sv_host *h, uint64_t hva, uint64_t len);

/* ---- table frames in host-physical memory (lib/frames.c) ------------- */

/*
 * Host-physical 4K frames that hold nested (and, later, host) page tables.
 * Frame i has HPA base + i * 4K and its bytes sit at mem + i * 4K in one
 * reserved, lazily backed range, so the walker turns an HPA into a pointer
 * with one subtraction and one comparison.  Frames below `used` have been
 * handed out at least once; live[i] says whether frame i is allocated now.
 * Freed frames are reused last-in first-out, so the HPAs a run gets depend
 * only on the order of its operations.
 */
typedef struct sv_frames {
	uint64_t base;
	uint64_t limit;       /* frames the range can hold */
	uint64_t used;        /* high-water mark */
	uint8_t *mem;         /* limit * 4K bytes, MAP_NORESERVE */
	GByteArray *live;     /* one byte per frame below used */
	GArray *free_list;    /* guint frame indices */
} sv_frames;

/* Reserves room for up to `limit` frames; SV_ENOMEM if it cannot. */
int sv__frames_init(sv_frames *f, uint64_t base, uint64_t limit);
void sv__frames_fini(sv_frames *f);
/* Allocates a zeroed frame; returns its HPA or 0 when out of memory. */
uint64_t sv__frames_alloc(sv_frames *f);
void sv__frames_free(sv_frames *f, uint64_t hpa);
/*
 * The bytes of the frame at hpa: NULL (or `outside`) outside every frame
 * ever handed out.
 * A frame freed since reads as all-ones (it is poisoned on free), which
 * no format accepts as an entry, so a stale pointer to it is caught.
 */
static inline uint64_t *sv__frames_ptr_or(const sv_frames *f, uint64_t hpa,
					  uint64_t *outside)
{
	uint64_t off = hpa - f->base;

	if (SV_UNLIKELY((off >> 12) >= f->used))
		return outside;
	return (uint64_t *)(f->mem + (off & ~0xfffULL));
}
static inline uint64_t *sv__frames_ptr(const sv_frames *f, uint64_t hpa)
{
	return sv__frames_ptr_or(f, hpa, NULL);
}
/* Is the frame at hpa allocated now? */
static inline bool sv__frames_live(const sv_frames *f, uint64_t hpa)
{
	uint64_t i = (hpa - f->base) >> 12;

	return i < f->used && f->live->data[i];
}

/* ---- the VM ------------------------------------------------------------ */

struct sv_pt {
	sv_vm *vm;
	sv_pt_kind kind;
	const sv_pt_format *fmt;
	uint64_t root;        /* physical address of the root table */
	uint64_t pages;       /* table pages in the tree */
	bool vm_owned;        /* the VM's default nested tree */
	/* SV_PT_GUEST: the pool table pages come from */
	uint64_t pool_gpa, pool_size, pool_next;
	GArray *pool_free;    /* uint64_t GPAs of freed pool pages */
};

struct sv_vm {
	sv_vm_options opts;
	sv_vcpu **vcpus;
	sv_memslots memslots;  /* address space 0 */
	sv_memslots memslots_smm; /* address space 1 (SMM), with an MMU */
	sv_frames tdp_frames;  /* nested table pages */
	sv_pt *tdp;            /* default nested tree */
	const sv_pt_format *tdp_fmt;
	/* The nested entries' A and D flags: NPT's, EPT's with EPTP bit 6,
	 * else 0 (no A/D). */
	uint64_t tdp_abit, tdp_dbit;
	uint64_t *ones_table;  /* what unbacked guest-physical memory reads as */
	struct sv_mmu *mmu;    /* the hypervisor MMU, once a host is attached */
	uint64_t stat[SV_VM_STAT__COUNT];
	char errbuf[256];
};

/* ---- the vCPU ---------------------------------------------------------- */

/* Guest and nested permissions kept in a walk and in a TLB entry. */
enum {
	SV_PERM_W = 1 << 0,  /* guest: R/W set at every level */
	SV_PERM_U = 1 << 1,  /* guest: U/S set at every level */
	SV_PERM_X = 1 << 2,  /* guest: no XD at any level */
	SV_PERM_NR = 1 << 3, /* nested: readable */
	SV_PERM_NW = 1 << 4, /* nested: writable */
	SV_PERM_NX = 1 << 5, /* nested: executable */
	SV_PERM_NU = 1 << 6, /* nested (NPT): user at every level */
};

/*
 * An L1 hit remembered for the page it was on, so that the next access to
 * that page is counted without a lookup.  Two kinds, for data and for
 * fetches:
 *  - fast[]: the last L1 hit, by 4K page.  A repeat hit on the most
 *    recently used entry changes no replacement state, so it is counted
 *    inline, without touching the entry.
 *  - recent[]: the last few 4K pages hit, and huge[]: 2M ranges that a 2M
 *    or 1G entry maps with no L1 entry of another size anywhere in them,
 *    direct-mapped.  Both out of line: a hit there touches the entry as
 *    the array's own lookup would (streams that take turns over a few
 *    pages, and random accesses over huge pages, hit here).
 * An entry of another size that also maps a remembered page would make a
 * conflict; it can appear only with a fill, and every change to the L1
 * arrays (fill, drop, invalidation) or to the vCPU's mode forgets them
 * all: fast[] by its page, recent[] and huge[] by a new epoch.
 */
typedef struct sv_fast {
	uint64_t page;       /* gva >> 12 (huge[]: gva >> 21); fast[]: ~0 when empty */
	uint64_t gpa_base;   /* gpa of that page */
	uint64_t hpa_base;   /* hpa of that page */
	uint64_t page_size;  /* of the entry */
	sv_tlbe *entry;      /* the L1 entry that maps it */
	uint32_t epoch;      /* recent[] and huge[]: valid while the vCPU's */
	uint8_t allow;       /* 1 << sv_access for the kinds that may hit */
	uint8_t stat;        /* sv_vcpu_stat of the hit */
} sv_fast;
#define SV_FAST_RECENT 4
#define SV_FAST_HUGE 32

struct sv_vcpu {
	sv_vm *vm;
	unsigned index;
	sv_vcpu_regs regs;
	/* derived from regs */
	bool paging, wp, smep, smap, nxe, pge, pcide, user, ac, lma;
	uint16_t pcid;
	uint64_t ep4ta;        /* EPTP/nCR3 address bits */
	sv_pt_walker gwalker;  /* guest format and reserved bits for the mode */
	sv_pt_walker nwalker;  /* nested format and reserved bits */
	void *gwalk;           /* the guest walk in progress (gwalk.c) */
	uint64_t nwalk_gpa;    /* the GPA of the nested walk in progress */
	sv_walk_observer_fn observer;
	void *observer_payload;
	sv_tlb tlb;
	sv_fast fast[2];       /* [0] data, [1] fetch */
	sv_fast recent[2][SV_FAST_RECENT]; /* the same two kinds */
	sv_fast huge[2][SV_FAST_HUGE];
	uint8_t recent_next[2]; /* the slot the next one takes */
	uint32_t fast_epoch;   /* of recent[] and huge[]; never 0 */
	bool slow_only;        /* observer or auditor: no fast path */
	/* Hypervisor MMU state (lib/ept/mmu.c). */
	bool in_guest;         /* a remote flush must kick it */
	bool req_flush;        /* KVM_REQ_TLB_FLUSH pending */
	bool pml_on;           /* log GPAs whose EPT D flag gets set */
	bool smm;              /* in SMM: address space 1, its own root */
	unsigned pml_n;        /* entries in the page-modification log */
	uint64_t *pml;         /* 512 GPAs */
	uint64_t stat[SV_VCPU_STAT__COUNT];
};

/* May a translation whose nested permissions are `perm` serve the access?
 * Every NPT access is a user access (APM "Nested Paging"), so NPT also
 * needs U/S at every level; EPT translations always carry SV_PERM_NU. */
static inline bool sv__nested_allows(uint8_t perm, sv_access acc)
{
	static const uint8_t need[3] = {
		SV_PERM_NR | SV_PERM_NU, SV_PERM_NW | SV_PERM_NU,
		SV_PERM_NX | SV_PERM_NU,
	};

	return (perm & need[acc]) == need[acc];
}

/* lib/tlb/invalidate.c: drops the vCPU's cached entries that f selects,
 * counts them and forgets the fast-path entry. */
void sv__vcpu_drop(sv_vcpu *v, const sv_tlb_filter *f);

/* lib/cpu/vcpu.c */
int sv__vcpu_new(sv_vcpu **out, sv_vm *vm, unsigned index);
void sv__vcpu_free(sv_vcpu *v);
/* Forgets the last hits only (the entries stay remembered as recent). */
static inline void sv__fast_forget_last(sv_vcpu *v)
{
	v->fast[0].page = ~0ULL;
	v->fast[1].page = ~0ULL;
}

/* Forgets every remembered hit. */
static inline void sv__fast_clear(sv_vcpu *v)
{
	sv__fast_forget_last(v);
	if (SV_UNLIKELY(++v->fast_epoch == 0)) {
		/* a wrap: entries of epoch 1 could match again */
		memset(v->recent, 0, sizeof(v->recent));
		memset(v->huge, 0, sizeof(v->huge));
		v->fast_epoch = 1;
	}
}

/* The memslots of address space `as` (KVM's as_id; 1 is SMM's). */
static inline sv_memslots *sv__memslots_as(sv_vm *vm, unsigned as)
{
	return as ? &vm->memslots_smm : &vm->memslots;
}

/* The memslots the vCPU sees: SMRAM's address space while in SMM. */
static inline sv_memslots *sv__vcpu_memslots(sv_vcpu *v)
{
	return sv__memslots_as(v->vm, v->smm);
}

/* Charges cycles to a vCPU. */
static inline void sv__charge(sv_vcpu *v, uint64_t cycles)
{
	v->stat[SV_VCPU_STAT_cycles] += cycles;
}

/* ---- the two dimensions of a walk --------------------------------------- */

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
 * lib/ept/nested.c: translates gpa for vCPU v through the nested TLB, the
 * page-walk cache and the EPT/NPT tables.  Adds references and cycles to
 * *refs and the counters.  Returns true with *out filled, or false with *f
 * describing the EPT violation, misconfiguration or #NPF.
 */
bool sv__nested_translate(sv_vcpu *v, uint64_t gpa, sv_access acc,
			  unsigned flags, uint64_t gva, sv_nxlate *out,
			  sv_fault *f, uint32_t *refs);

/*
 * lib/cpu/gwalk.c: the full two-dimensional walk after a TLB miss.  On
 * success fills *entry with the combined TLB entry to cache (page size =
 * the smaller of the guest and nested pages) and returns true; otherwise
 * fills *f.  Adds the references it made to *refs.
 */
bool sv__walk2d(sv_vcpu *v, uint64_t gva, sv_access acc, sv_tlbe *entry,
		uint32_t *refs, sv_fault *f);

/* Does the guest part of a translation (SV_PERM_W/U/X) allow the access
 * in the vCPU's current mode (CPL, CR0.WP, CR4.SMEP/SMAP, RFLAGS.AC)? */
bool sv__guest_allows(const sv_vcpu *v, uint8_t perm, sv_access acc);

/* Set up the vCPU's walkers for its mode (guest) and VM (nested). */
void sv__guest_walker_setup(sv_vcpu *v);
void sv__nested_walker_setup(sv_vcpu *v);

/* Reports a walk step to the vCPU's observer, if it has one. */
static inline void sv__observe(sv_vcpu *v, sv_walk_event_kind kind,
			       unsigned level, uint64_t addr, uint64_t table,
			       uint64_t entry)
{
	if (SV_UNLIKELY(v->observer != NULL)) {
		sv_walk_event ev = {kind, level, addr, table, entry};

		v->observer(&ev, v->observer_payload);
	}
}

#endif /* SV_INTERNAL_H */
