"""The C library through cffi in ABI mode: no compiler needed.

CDEF declares the part of the public headers the package uses, in the
headers' own words; tests/python/test_abi.py checks every struct's size
and member offsets against a C compiler's view of the real headers.
"""
import ctypes.util
import os

import cffi

CDEF = r"""
typedef struct _IO_FILE FILE;
FILE *open_memstream(char **ptr, size_t *sizeloc);
int fclose(FILE *f);
void free(void *p);

int sv_version_number(void);
const char *sv_version_string(void);
const char *sv_strerror(int err);
const char *sv_error_detail(void);

/* counters */
typedef unsigned int sv_vm_stat;   /* enums of non-negative values */
typedef unsigned int sv_vcpu_stat;
typedef struct sv_stat_info {
	const char *name;
	const char *desc;
	bool vcpu;
	bool level;
	sv_vm_stat vm_id;
	sv_vcpu_stat vcpu_id;
} sv_stat_info;
bool sv_stat_info_get(size_t i, sv_stat_info *out);

/* scenarios and reports */
typedef struct sv_scenario sv_scenario;
typedef struct sv_report sv_report;
typedef struct sv_vm sv_vm;
typedef enum sv_report_format { SV_REPORT_TABLE, SV_REPORT_JSON, SV_REPORT_CSV } sv_report_format;
typedef int (*sv_phase_fn)(const char *phase, sv_vm *vm, void *payload);
typedef void (*sv_progress_fn)(const void *p, void *payload);
typedef struct sv_run_options {
	unsigned version;
	const char *record;
	sv_phase_fn on_phase;
	void *payload;
	sv_progress_fn on_progress;
	double progress_interval;
} sv_run_options;
int sv_scenario_load(sv_scenario **out, const char *path, const char *const *sets);
int sv_scenario_load_data(sv_scenario **out, const char *data, size_t len,
			  const char *name, const char *const *sets);
void sv_scenario_free(sv_scenario *s);
const char *sv_scenario_name(const sv_scenario *s);
const char *sv_scenario_config_text(sv_scenario *s);
const char *sv_scenario_default(void);
int sv_scenario_run(sv_report **out, const sv_scenario *s, const sv_run_options *opts);
int sv_trace_replay(sv_report **out, const char *path, const sv_run_options *opts);
int sv_report_write(const sv_report *r, FILE *f, sv_report_format fmt);
void sv_report_free(sv_report *r);

/* the trace-driven API */
typedef struct sv_host sv_host;
typedef struct sv_host_options sv_host_options;
typedef struct sv_mmu_options sv_mmu_options;
typedef struct sv_vm_options sv_vm_options;
typedef struct sv_vcpu sv_vcpu;
typedef enum sv_access { SV_ACCESS_READ = 0, SV_ACCESS_WRITE = 1, SV_ACCESS_FETCH = 2 } sv_access;
typedef enum sv_fault_kind { SV_FAULT_NONE = 0, SV_FAULT_PF, SV_FAULT_GP,
	SV_FAULT_EPT_VIOLATION, SV_FAULT_EPT_MISCONFIG, SV_FAULT_NPF, SV_FAULT_MCE,
	SV_FAULT_TLB_CONFLICT, SV_FAULT_MMIO, SV_FAULT_EFAULT, SV_FAULT_RETRY,
	SV_FAULT_SHADOW_PF } sv_fault_kind;
typedef enum sv_fault_stage { SV_STAGE_GUEST, SV_STAGE_NESTED_TABLE,
	SV_STAGE_NESTED_FINAL, SV_STAGE_TLB, SV_STAGE_SHADOW } sv_fault_stage;
typedef enum sv_xlate_source { SV_SRC_L1, SV_SRC_STLB, SV_SRC_WALK,
	SV_SRC_EMULATED } sv_xlate_source;
typedef struct sv_fault {
	sv_fault_kind kind;
	sv_fault_stage stage;
	unsigned level;
	uint64_t gva;
	uint64_t gpa;
	uint64_t error_code;
	uint64_t exit_qualification;
} sv_fault;
typedef struct sv_xlate {
	uint64_t gpa;
	uint64_t hpa;
	uint64_t page_size;
	uint32_t cycles;
	uint32_t refs;
	uint32_t exits;
	sv_xlate_source source;
	sv_fault fault;
} sv_xlate;
const char *sv_fault_kind_name(sv_fault_kind k);
const char *sv_fault_stage_name(sv_fault_stage s);

typedef enum sv_host_backing { SV_BACKING_ANON, SV_BACKING_HUGETLB_2M,
	SV_BACKING_HUGETLB_1G, SV_BACKING_DAX, SV_BACKING_PFNMAP, SV_BACKING_FILE,
	SV_BACKING_DRIVER } sv_host_backing;
typedef enum sv_madvise { SV_MADV_DONTNEED, SV_MADV_FREE, SV_MADV_HUGEPAGE,
	SV_MADV_NOHUGEPAGE, SV_MADV_COLLAPSE, SV_MADV_DONTFORK, SV_MADV_DOFORK,
	SV_MADV_PAGEOUT, SV_MADV_POPULATE_WRITE } sv_madvise;
typedef struct sv_host_mmap_args {
	unsigned version;
	uint64_t hva;
	uint64_t size;
	unsigned prot;
	unsigned flags;
	sv_host_backing backing;
	uint64_t align;
} sv_host_mmap_args;
typedef struct sv_memslot_region {
	unsigned version;
	uint32_t slot;
	uint32_t flags;
	uint64_t gpa;
	uint64_t size;
	uint64_t hva;
} sv_memslot_region;

int sv_host_new(sv_host **out, const sv_host_options *opts);
void sv_host_free(sv_host *h);
int sv_host_mmap(uint64_t *hva, sv_host *h, const sv_host_mmap_args *a);
int sv_host_munmap(sv_host *h, uint64_t hva, uint64_t len);
int sv_host_madvise(sv_host *h, uint64_t hva, uint64_t len, sv_madvise advice);
int sv_vm_new(sv_vm **out, const sv_vm_options *opts);
void sv_vm_free(sv_vm *vm);
sv_vcpu *sv_vm_vcpu(sv_vm *vm, unsigned i);
int sv_mmu_attach(sv_vm *vm, sv_host *host, const sv_mmu_options *opts);
int sv_memslot_set(sv_vm *vm, const sv_memslot_region *r);
int sv_vcpu_translate(sv_xlate *out, sv_vcpu *v, uint64_t gva, uint32_t size,
		      sv_access access);
int sv_vcpu_access_batch(sv_xlate *out, size_t *done, sv_vcpu *v,
			 const uint64_t *gvas, const uint8_t *kinds, size_t n,
			 uint32_t size, sv_access access);
/* sizing policies */
typedef struct sv_mmu_fault_info {
	uint64_t gfn;
	uint64_t hva;
	uint32_t slot;
	bool write, exec;
	bool slot_readonly;
	unsigned max_level;
	bool collapse;
	unsigned kernel_version;
	unsigned bugs;
	const sv_host *host;
	bool smm;
	bool as0_has_gfn;
	uint64_t as0_hva;
} sv_mmu_fault_info;
typedef unsigned int sv_host_event;
typedef unsigned int sv_mmu_inv_action;
typedef struct sv_mmu_policy {
	unsigned version;
	const char *name;
	unsigned (*level)(const sv_mmu_fault_info *info, void *payload);
	sv_mmu_inv_action (*on_invalidate)(sv_host_event event, uint64_t gfn_start,
					   uint64_t gfn_end, void *payload);
	void *payload;
} sv_mmu_policy;
int sv_mmu_policy_register(const sv_mmu_policy *p);
int sv_mmu_policy_unregister(const char *name);
const sv_mmu_policy *sv_mmu_policy_find(const char *name);

uint64_t sv_vcpu_stat_get(const sv_vcpu *v, sv_vcpu_stat id);
uint64_t sv_vm_stat_get(const sv_vm *vm, sv_vm_stat id);
uint64_t sv_vm_vcpu_stat_sum(const sv_vm *vm, sv_vcpu_stat id);
void sv_vm_stats_reset(sv_vm *vm);
"""

# The versions of the structs the package fills (simvirt/hostmm.h, vm.h).
SV_HOST_MMAP_VERSION = 1
SV_MEMSLOT_REGION_VERSION = 2
SV_PROT_READ, SV_PROT_WRITE, SV_PROT_EXEC = 1, 2, 4
SV_RUN_OPTIONS_VERSION = 2
SV_MMU_POLICY_VERSION = 1

ffi = cffi.FFI()
ffi.cdef(CDEF)


def _library_path():
    """SIMVIRT_LIBRARY, else the library this package was built or
    installed beside (_paths.py), else the loader's search."""
    env = os.environ.get("SIMVIRT_LIBRARY")
    if env:
        return env
    try:
        from . import _paths
    except ImportError:
        _paths = None
    if _paths is not None:
        path = _paths.LIBRARY
        if not os.path.isabs(path):
            path = os.path.join(os.path.dirname(os.path.abspath(__file__)), path)
        if os.path.exists(path):
            return path
    found = ctypes.util.find_library("simvirt")
    if found:
        return found
    raise OSError("libsimvirt not found: set SIMVIRT_LIBRARY to its path")


lib = ffi.dlopen(_library_path())
libc = ffi.dlopen(None)
