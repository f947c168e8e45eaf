"""The package's declarations match the real headers: every struct it
declares has the C compiler's size and member offsets."""
import os
import shutil
import subprocess

import pytest

from simvirt._ffi import ffi

STRUCTS = {
    "sv_fault": ["kind", "stage", "level", "gva", "gpa", "error_code",
                 "exit_qualification"],
    "sv_xlate": ["gpa", "hpa", "page_size", "cycles", "refs", "exits",
                 "source", "fault"],
    "sv_host_mmap_args": ["version", "hva", "size", "prot", "flags",
                          "backing", "align"],
    "sv_memslot_region": ["version", "slot", "flags", "gpa", "size", "hva"],
    "sv_stat_info": ["name", "desc", "vcpu", "level", "vm_id", "vcpu_id"],
    "sv_mmu_fault_info": ["gfn", "hva", "slot", "write", "exec",
                          "slot_readonly", "max_level", "collapse",
                          "kernel_version", "bugs", "host", "smm",
                          "as0_has_gfn", "as0_hva"],
    "sv_mmu_policy": ["version", "name", "level", "on_invalidate", "payload"],
    "sv_run_options": ["version", "record", "on_phase", "payload",
                       "on_progress", "progress_interval"],
}
ENUMS = ["SV_ACCESS_WRITE", "SV_FAULT_PF", "SV_FAULT_EPT_VIOLATION",
         "SV_FAULT_RETRY", "SV_STAGE_TLB", "SV_SRC_WALK",
         "SV_BACKING_HUGETLB_1G", "SV_MADV_HUGEPAGE",
         "SV_MADV_POPULATE_WRITE", "SV_REPORT_CSV"]


def test_layouts_match_headers(tmp_path, include_dir):
    cc = os.environ.get("CC") or shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler to read the headers with")
    lines = ["#include <stddef.h>", "#include <stdio.h>",
             "#include <simvirt/simvirt.h>", "int main(void) {"]
    for s, members in STRUCTS.items():
        lines.append(f'printf("{s} %zu\\n", sizeof({s}));')
        for m in members:
            lines.append(f'printf("{s}.{m} %zu\\n", offsetof({s}, {m}));')
    for e in ENUMS:
        lines.append(f'printf("{e} %d\\n", (int){e});')
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", "-I", include_dir, "-o", str(exe),
                    str(src)], check=True)
    want = dict(l.rsplit(" ", 1) for l in
                subprocess.run([str(exe)], check=True, capture_output=True,
                               text=True).stdout.splitlines())
    from simvirt._ffi import lib
    for s, members in STRUCTS.items():
        assert ffi.sizeof(s) == int(want[s]), s
        for m in members:
            assert ffi.offsetof(s, m) == int(want[f"{s}.{m}"]), f"{s}.{m}"
    for e in ENUMS:
        assert getattr(lib, e) == int(want[e]), e
