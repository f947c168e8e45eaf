/*
 * lib/memslots.h - guest-physical memory: the memslots of one address
 * space and their bytes (lib/memslots.c).
 *
 * Without a hypervisor MMU each slot's bytes are the library's own
 * anonymous mapping.  With one, the MMU registers sv_memslot_ops when it
 * attaches: slots then take their bytes from the host process (the MMU
 * knows it) and tell the MMU of every change, as KVM's memslot updates
 * call kvm_arch_commit_memory_region.
 */
#ifndef SV_MEMSLOTS_H
#define SV_MEMSLOTS_H

#include "base.h"

typedef struct sv_memslot {
	uint32_t id;        /* as given: the address space in bits 16+ */
	uint8_t as;         /* address space: 0, or 1 for SMM */
	uint32_t flags;
	uint64_t gpa;
	uint64_t size;
	uint8_t *mem;       /* the bytes: our own MAP_NORESERVE mapping, or the
			       host process's at hva when one run of one
			       backing holds them all; else NULL, and
			       sv_memslots__run finds them piece by piece */
	uint64_t hva;       /* with a host attached */
	uint32_t *lpage[2]; /* disallow_lpage per 2M and 1G page (with a host) */
	uint64_t *dirty;    /* the dirty bitmap while logging */
	uint64_t *written;  /* auditor: pages the guest wrote since the last
			       harvest, while logging */
} sv_memslot;

struct sv_memslot_ops;

typedef struct sv_memslots {
	GArray *slots;       /* sv_memslot, sorted by gpa */
	guint last;          /* index of the last slot found (lookup hint) */
	uint64_t epoch;      /* moves whenever a slot or its bytes change */
	const struct sv_memslot_ops *ops; /* the MMU's, with its payload */
	void *ops_payload;
} sv_memslots;

/*
 * What the hypervisor MMU does with memslot changes; `mmu` is the payload
 * it registered.  Each is called after the slot array has the change.
 */
typedef struct sv_memslot_ops {
	/* The host process's bytes at hva, and in *run how far they go on
	 * within len; NULL for a hole, *run its length. */
	uint8_t *(*bytes)(void *mmu, uint64_t hva, uint64_t len, uint64_t *run);
	/* A slot was created or moved in (KVM_MR_CREATE, _MOVE). */
	int (*created)(void *mmu, sv_memslot *s);
	/* A slot was deleted or moved away (KVM_MR_DELETE, _MOVE). */
	void (*removed)(void *mmu, const sv_memslot *s);
	/* Only the flags changed (KVM_MR_FLAGS_ONLY): dirty logging on or
	 * off. */
	int (*flags_changed)(void *mmu, sv_memslot *s);
	/* The hypervisor wrote [gpa, gpa + len) of the slot itself
	 * (kvm_write_guest): mark_page_dirty_in_slot for each page. */
	void (*written)(void *mmu, sv_memslot *s, uint64_t gpa, uint64_t len);
} sv_memslot_ops;

int sv_memslots__init(sv_memslots *ms);
/* own: the slots' bytes are ours to unmap (no host attached). */
void sv_memslots__fini(sv_memslots *ms, bool own);
/* The slot holding gpa, or NULL. */
sv_memslot *sv_memslots__find(sv_memslots *ms, uint64_t gpa);
sv_memslot *sv_memslots__by_id(sv_memslots *ms, uint32_t id);
/* The GPA where the first slot above gpa starts, or ~0. */
uint64_t sv_memslots__next_start(const sv_memslots *ms, uint64_t gpa);
/* The end of the highest slot (0 without slots). */
uint64_t sv_memslots__end(const sv_memslots *ms);
/* Points each slot's bytes at the host's memory again (after the host
 * unmapped or moved some). */
void sv_memslots__rebind(sv_vm *vm);
/*
 * The slots, of both address spaces, whose host range overlaps [start,
 * end) (HVAs): each call returns the next from *cursor on (0 at first),
 * with the gfns [*gs, *ge) the overlap covers; NULL when there is none.
 */
const sv_memslot *sv_memslots__next_hva(sv_vm *vm, guint *cursor,
					uint64_t start, uint64_t end,
					uint64_t *gs, uint64_t *ge);
/* Registers the MMU's operations (before any slot exists). */
void sv_memslots__set_ops(sv_vm *vm, const sv_memslot_ops *ops, void *mmu);

static inline bool sv_memslots__empty(const sv_memslots *ms)
{
	return ms->slots->len == 0;
}

/* The hypervisor wrote [gpa, gpa + len) of slot s (mark_page_dirty): the
 * slot's dirty log has it while the slot logs. */
void sv_memslots__hv_written(sv_vm *vm, sv_memslot *s, uint64_t gpa,
			     uint64_t len);
/*
 * The bytes of slot s at gpa and in *run how far they go on within len;
 * NULL for a part the host does not map (*run its length).
 */
uint8_t *sv_memslots__run(const sv_memslots *ms, const sv_memslot *s,
			  uint64_t gpa, uint64_t len, uint64_t *run);

/* Host pointer to the byte at gpa, or NULL outside every slot (or where
 * the host maps nothing). */
static inline uint8_t *sv_memslots__ptr(sv_memslots *ms, uint64_t gpa)
{
	const sv_memslot *s = sv_memslots__find(ms, gpa);
	uint64_t run;

	if (!s)
		return NULL;
	if (SV_LIKELY(s->mem != NULL))
		return s->mem + (gpa - s->gpa);
	return sv_memslots__run(ms, s, gpa, 1, &run);
}

/* The host address of gfn in the slot. */
static inline uint64_t sv_memslot__hva(const sv_memslot *s, uint64_t gfn)
{
	return s->hva + ((gfn << 12) - s->gpa);
}

#endif /* SV_MEMSLOTS_H */
