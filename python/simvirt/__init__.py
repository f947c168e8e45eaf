"""simvirt from Python: scenarios and their reports, and the trace-driven
API (a host, a VM, its memory, and accesses fed one by one or from numpy
arrays).

    import simvirt
    s = simvirt.Scenario.load("scenarios/kpt-thp.ini",
                              sets=["vm.kernel_version=6.13"])
    r = s.run()
    r.value("pf_fast", phase="update")
    r.frame()                      # a pandas DataFrame, where pandas is

Every handle frees what it holds when it is closed or collected; library
errors raise simvirt.Error with the library's code and detail.
"""
import collections
import json

from ._ffi import ffi, lib, libc
from . import _ffi

__all__ = ["Error", "version", "counters", "Scenario", "Report", "replay",
           "Host", "VM", "Vcpu", "Xlate", "FaultInfo", "register_policy",
           "unregister_policy", "policy_level"]


class Error(Exception):
    """A library error: code (SV_E*, negative), name and detail."""

    def __init__(self, code, detail):
        self.code = code
        self.name = ffi.string(lib.sv_strerror(code)).decode()
        self.detail = detail
        super().__init__(f"{detail or self.name} ({self.name})")


def _check(rc):
    if rc != 0:
        detail = ffi.string(lib.sv_error_detail()).decode("utf-8", "replace")
        raise Error(rc, detail)


def _str(p):
    return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else None


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _str(lib.sv_version_string())


Counter = collections.namedtuple("Counter", "name desc vcpu level")


def counters():
    """Every counter: the VM's, then the vCPU's (name, desc, vcpu, level)."""
    out, info, i = [], ffi.new("sv_stat_info *"), 0
    while lib.sv_stat_info_get(i, info):
        out.append(Counter(_str(info.name), _str(info.desc), bool(info.vcpu),
                           bool(info.level)))
        i += 1
    return out


def _ids():
    """name -> (is_vcpu, id), made once."""
    if _ids.table is None:
        table, info, i = {}, ffi.new("sv_stat_info *"), 0
        while lib.sv_stat_info_get(i, info):
            table[_str(info.name)] = (bool(info.vcpu),
                                      info.vcpu_id if info.vcpu else info.vm_id)
            i += 1
        _ids.table = table
    return _ids.table


_ids.table = None


def _stat_id(name, vcpu):
    try:
        is_vcpu, ident = _ids()[name]
    except KeyError:
        raise KeyError(f"no counter named {name!r} (simvirt.counters() "
                       "lists them)") from None
    return is_vcpu, ident


def _sets(sets):
    """A NULL-terminated char *[] of "group.key=value" (and what keeps it)."""
    keep = [ffi.new("char[]", s.encode()) for s in sets or ()]
    arr = ffi.new("char *[]", keep + [ffi.NULL])
    return arr, keep


# ---- scenarios and reports -------------------------------------------------

class Report:
    """A run's report: how it ended, its phases, and every counter, in
    total and per phase (docs/stats.md)."""

    def __init__(self, ptr):
        self._ptr = ffi.gc(ptr, lib.sv_report_free)
        self._json = None

    def _text(self, fmt):
        buf, size = ffi.new("char **"), ffi.new("size_t *")
        f = libc.open_memstream(buf, size)
        if f == ffi.NULL:
            raise MemoryError("open_memstream")
        try:
            _check(lib.sv_report_write(self._ptr, f, fmt))
        finally:
            libc.fclose(f)
        try:
            return ffi.string(buf[0], size[0]).decode()
        finally:
            libc.free(buf[0])

    def text(self, fmt="table"):
        """The report as `simvirt run --format` prints it."""
        formats = {"table": lib.SV_REPORT_TABLE, "json": lib.SV_REPORT_JSON,
                   "csv": lib.SV_REPORT_CSV}
        return self._text(formats[fmt])

    def json(self):
        """The JSON report as Python objects."""
        if self._json is None:
            self._json = json.loads(self._text(lib.SV_REPORT_JSON))
        return self._json

    @property
    def end(self):
        """How the run ended: "halted", "limit", "stopped", "fault: ..."."""
        return self.json()["end"]

    @property
    def config(self):
        """The effective configuration: {"group": {"key": "value"}}."""
        return self.json()["config"]

    @property
    def phases(self):
        """The phases' names, in order."""
        return [p["name"] for p in self.json()["phases"]]

    def value(self, counter, phase="total", scope="vm"):
        """A counter's total (phase "total"), or its change during a phase
        (by name or by position from 1); scope "vm", "host", "audit",
        "guest" (a trace run's guest kernel) or "vcpuN"."""
        j = self.json()
        if phase == "total":
            node = j
        elif isinstance(phase, int):
            node = j["phases"][phase - 1]
        else:
            matches = [p for p in j["phases"] if p["name"] == phase]
            if not matches:
                raise KeyError(f"no phase {phase!r} (phases: {self.phases})")
            node = matches[0]
        if scope.startswith("vcpu"):
            return node["vcpus"][int(scope[4:])][counter]
        return node[scope][counter]

    def records(self):
        """One dict per (phase, scope, counter): the long form."""
        j = self.json()
        rows = []
        nodes = [("total", 0, j)] + [(p["name"], i + 1, p)
                                     for i, p in enumerate(j["phases"])]
        for name, index, node in nodes:
            scopes = [(s, node[s]) for s in ("vm", "host", "audit", "guest")
                      if s in node]
            scopes += [(f"vcpu{i}", v) for i, v in enumerate(node["vcpus"])]
            for scope, values in scopes:
                for counter, value in values.items():
                    rows.append({"phase": name, "phase_index": index,
                                 "scope": scope, "counter": counter,
                                 "value": value})
        return rows

    def frame(self, wide=False):
        """A pandas DataFrame: long (phase, phase_index, scope, counter,
        value), or wide (a row per phase and scope, a column per
        counter)."""
        import pandas as pd
        long = pd.DataFrame(self.records())
        if not wide:
            return long
        w = long.pivot_table(index=["phase_index", "phase", "scope"],
                             columns="counter", values="value", aggfunc="first")
        w.columns.name = None
        return w.reset_index()


class Scenario:
    """A scenario file (docs/scenarios.md), with overrides."""

    def __init__(self, ptr):
        self._ptr = ffi.gc(ptr, lib.sv_scenario_free)

    @classmethod
    def load(cls, path, sets=()):
        """From a file; sets: "group.key=value" overrides (as --set)."""
        out = ffi.new("sv_scenario **")
        arr, keep = _sets(sets)
        _check(lib.sv_scenario_load(out, str(path).encode(), arr))
        return cls(out[0])

    @classmethod
    def from_text(cls, text, name="(text)", sets=()):
        """From key-file text; name is used in messages."""
        out = ffi.new("sv_scenario **")
        data = text.encode()
        arr, keep = _sets(sets)
        _check(lib.sv_scenario_load_data(out, data, len(data), name.encode(), arr))
        return cls(out[0])

    @classmethod
    def default(cls, sets=()):
        """The built-in default scenario."""
        return cls.from_text(_str(lib.sv_scenario_default()),
                             "(default scenario)", sets)

    @property
    def name(self):
        return _str(lib.sv_scenario_name(self._ptr))

    @property
    def config_text(self):
        """The effective configuration as a key file."""
        return _str(lib.sv_scenario_config_text(self._ptr))

    def run(self, record=None):
        """Runs it to the end; its Report.  record: a path to write the
        run's trace to (simvirt.replay and `simvirt replay` take it)."""
        out = ffi.new("sv_report **")
        o = ffi.new("sv_run_options *")
        o.version = _ffi.SV_RUN_OPTIONS_VERSION
        path = ffi.new("char[]", str(record).encode()) if record else ffi.NULL
        o.record = path
        _check(lib.sv_scenario_run(out, self._ptr, o))
        return Report(out[0])


def replay(trace):
    """Replays a trace of `simvirt run --record`; its Report."""
    out = ffi.new("sv_report **")
    _check(lib.sv_trace_replay(out, str(trace).encode(), ffi.NULL))
    return Report(out[0])


# ---- the trace-driven API --------------------------------------------------

Xlate = collections.namedtuple(
    "Xlate", "gpa hpa page_size cycles refs exits source fault fault_stage "
             "fault_gva fault_gpa error_code")


def _xlate(x):
    fault = None
    if x.fault.kind != lib.SV_FAULT_NONE:
        fault = _str(lib.sv_fault_kind_name(x.fault.kind))
    return Xlate(x.gpa, x.hpa, x.page_size, x.cycles, x.refs, x.exits,
                 ("l1", "stlb", "walk")[x.source], fault,
                 _str(lib.sv_fault_stage_name(x.fault.stage)) if fault else None,
                 x.fault.gva, x.fault.gpa, x.fault.error_code)


_BACKINGS = {"anon": lib.SV_BACKING_ANON, "hugetlb-2m": lib.SV_BACKING_HUGETLB_2M,
             "hugetlb-1g": lib.SV_BACKING_HUGETLB_1G}
_ADVICE = {"dontneed": lib.SV_MADV_DONTNEED, "free": lib.SV_MADV_FREE,
           "hugepage": lib.SV_MADV_HUGEPAGE, "nohugepage": lib.SV_MADV_NOHUGEPAGE,
           "collapse": lib.SV_MADV_COLLAPSE, "pageout": lib.SV_MADV_PAGEOUT,
           "populate_write": lib.SV_MADV_POPULATE_WRITE}


class Host:
    """A simulated host kernel (its defaults: 16 GiB, THP for madvised
    memory)."""

    def __init__(self):
        out = ffi.new("sv_host **")
        _check(lib.sv_host_new(out, ffi.NULL))
        self._ptr = ffi.gc(out[0], lib.sv_host_free)

    def mmap(self, size, backing="anon"):
        """Maps size bytes (backing anon, hugetlb-2m or hugetlb-1g); the
        address."""
        a = ffi.new("sv_host_mmap_args *")
        a.version = _ffi.SV_HOST_MMAP_VERSION
        a.size = size
        a.prot = _ffi.SV_PROT_READ | _ffi.SV_PROT_WRITE
        a.backing = _BACKINGS[backing]
        hva = ffi.new("uint64_t *")
        _check(lib.sv_host_mmap(hva, self._ptr, a))
        return hva[0]

    def munmap(self, hva, size):
        _check(lib.sv_host_munmap(self._ptr, hva, size))

    def madvise(self, hva, size, advice):
        """advice: dontneed, free, hugepage, nohugepage, collapse, pageout,
        populate_write."""
        _check(lib.sv_host_madvise(self._ptr, hva, size, _ADVICE[advice]))


class Vcpu:
    def __init__(self, vm, ptr):
        self._vm = vm  # keeps the VM alive
        self._ptr = ptr
        self._x = ffi.new("sv_xlate *")

    def access(self, gva, size=8, write=False):
        """One access; its Xlate (fault is None when it completed)."""
        _check(lib.sv_vcpu_translate(
            self._x, self._ptr, gva, size,
            lib.SV_ACCESS_WRITE if write else lib.SV_ACCESS_READ))
        return _xlate(self._x)

    def access_many(self, gvas, size=8, write=False):
        """Accesses every address of gvas (a numpy uint64 array, or any
        sequence of ints) in order, in one call into the library; write
        is a bool for all, or an array of bools.  Stops after the first
        fault.  Returns (accesses made, the last access's Xlate)."""
        try:
            import numpy as np
        except ImportError:
            np = None
        if np is not None:
            arr = np.ascontiguousarray(gvas, dtype=np.uint64)
            buf = ffi.from_buffer("uint64_t[]", arr)
            n = arr.size
        else:
            buf = ffi.new("uint64_t[]", list(gvas))
            n = len(buf)
        kinds = ffi.NULL
        access = lib.SV_ACCESS_READ
        if isinstance(write, bool):
            access = lib.SV_ACCESS_WRITE if write else lib.SV_ACCESS_READ
        elif np is not None:
            kw = np.ascontiguousarray(write, dtype=np.uint8)
            kinds = ffi.from_buffer("uint8_t[]", kw)
        else:
            kinds = ffi.new("uint8_t[]", [1 if w else 0 for w in write])
        done = ffi.new("size_t *")
        _check(lib.sv_vcpu_access_batch(self._x, done, self._ptr, buf, kinds, n,
                                        size, access))
        return done[0], _xlate(self._x)

    def stat(self, name):
        is_vcpu, ident = _stat_id(name, True)
        if not is_vcpu:
            raise KeyError(f"{name!r} is a VM counter: use VM.stat")
        return lib.sv_vcpu_stat_get(self._ptr, ident)


class VM:
    """A VM with its defaults (1 vCPU, 4-level EPT, 4-level guest paging)."""

    def __init__(self):
        out = ffi.new("sv_vm **")
        _check(lib.sv_vm_new(out, ffi.NULL))
        self._ptr = ffi.gc(out[0], lib.sv_vm_free)
        self._host = None

    def attach(self, host):
        """KVM's MMU over this host (sv_mmu_attach with its defaults)."""
        _check(lib.sv_mmu_attach(self._ptr, host._ptr, ffi.NULL))
        self._host = host  # the host outlives the VM

    def memslot(self, slot, gpa, size, hva=0, flags=0):
        r = ffi.new("sv_memslot_region *")
        r.version = _ffi.SV_MEMSLOT_REGION_VERSION
        r.slot, r.flags, r.gpa, r.size, r.hva = slot, flags, gpa, size, hva
        _check(lib.sv_memslot_set(self._ptr, r))

    def vcpu(self, i=0):
        p = lib.sv_vm_vcpu(self._ptr, i)
        if p == ffi.NULL:
            raise IndexError(f"no vCPU {i}")
        return Vcpu(self, p)

    def stat(self, name):
        """A VM counter, or a vCPU counter summed over the vCPUs."""
        is_vcpu, ident = _stat_id(name, False)
        if is_vcpu:
            return lib.sv_vm_vcpu_stat_sum(self._ptr, ident)
        return lib.sv_vm_stat_get(self._ptr, ident)

    def stats_reset(self):
        """Counts to 0, levels kept (sv_vm_stats_reset)."""
        lib.sv_vm_stats_reset(self._ptr)


# ---- huge-page sizing policies in Python -----------------------------------

FaultInfo = collections.namedtuple(
    "FaultInfo", "gfn hva slot write exec slot_readonly max_level collapse "
                 "kernel_version smm")

_policies = {}  # name -> (struct, callback, name buffer): kept alive


def _info(i):
    return FaultInfo(i.gfn, i.hva, i.slot, bool(i.write), bool(i.exec),
                     bool(i.slot_readonly), i.max_level, bool(i.collapse),
                     i.kernel_version, bool(i.smm))


def register_policy(name, level):
    """Registers a huge-page sizing policy: level(info) gets a FaultInfo and
    returns the largest level the gfn may be mapped at (1 = 4K, 2 = 2M,
    3 = 1G), at most info.max_level.  VMs and scenarios made afterwards use
    it by name ([vm] policy=NAME).  A level that raises counts as 1 (4K);
    Python prints the traceback."""
    raw = {}

    def call(info_ptr, payload):
        raw["ptr"] = info_ptr
        try:
            return int(level(_info(info_ptr)))
        finally:
            raw.pop("ptr", None)

    cb = ffi.callback("unsigned(const sv_mmu_fault_info *, void *)", call,
                      error=1)
    p = ffi.new("sv_mmu_policy *")
    cname = ffi.new("char[]", name.encode())
    p.version = _ffi.SV_MMU_POLICY_VERSION
    p.name = cname
    p.level = cb
    _check(lib.sv_mmu_policy_register(p))
    _policies[name] = (p, cb, cname, raw)


def unregister_policy(name):
    _check(lib.sv_mmu_policy_unregister(name.encode()))
    _policies.pop(name, None)


def policy_level(builtin, info):
    """What a built-in (or registered) policy answers for info, so that a
    Python policy can refine it: policy_level("kvm", info)."""
    p = lib.sv_mmu_policy_find(builtin.encode())
    if p == ffi.NULL:
        raise KeyError(f"no policy named {builtin!r}")
    for entry in _policies.values():
        if "ptr" in entry[3]:
            return p.level(entry[3]["ptr"], p.payload)
    raise RuntimeError("policy_level is for use inside a policy's level()")
