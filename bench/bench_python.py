#!/usr/bin/env python3
"""The Python package's trace-driven rate beside the C one, in one run.

The L1-hit stream of bench_access (a): 8-byte reads sweeping one 4K page,
then the next of 16, round and round; every access hits the L1 DTLB.
C: bench_access calls sv_vcpu_translate once per access.  Python: numpy
arrays of addresses go through Vcpu.access_many (sv_vcpu_access_batch),
a million at a time.  Target: Python reaches at least 0.5 of C's rate.

Usage: PYTHONPATH=BUILD/python bench/bench_python.py BUILD/bench/bench_access
"""
import re
import subprocess
import sys
import time

import numpy as np

import simvirt


def python_rate(total=20_000_000, chunk=1_000_000):
    host = simvirt.Host()
    vm = simvirt.VM()
    vm.attach(host)
    hva = host.mmap(2 << 20)
    vm.memslot(1, 0x40000000, 2 << 20, hva)
    v = vm.vcpu(0)
    # bench_access (a)'s stream: 8-byte reads sweeping one 4K page, then
    # the next of 16 (the L1 DTLB holds them all), round and round
    for p in range(16):
        v.access(0x40000000 + p * 4096)
    i = np.arange(chunk, dtype=np.uint64)
    gvas = 0x40000000 + ((i >> 9) & 15) * 4096 + (i & 511) * 8
    v.access_many(gvas)  # warm
    vm.stats_reset()
    t0 = time.perf_counter()
    for _ in range(total // chunk):
        done, last = v.access_many(gvas)
        assert done == chunk and last.fault is None
    secs = time.perf_counter() - t0
    hits = v.stat("l1d_hit_4k")
    assert hits == total, f"{hits} L1 hits of {total}"
    return total / secs


def c_rate(bench_access):
    out = subprocess.run([bench_access, "1", "a"], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"\(a\) L1-hit stream\s+(\d+) acc/s", out)
    if not m:
        sys.exit("bench_python: no (a) line in bench_access's output:\n" + out)
    return float(m.group(1))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    c = c_rate(sys.argv[1])
    py = python_rate()
    ratio = py / c
    print(f"simvirt {simvirt.version()} Python trace-driven rate, L1-hit stream")
    print(f"C (bench_access (a), one call an access)  {c:14.0f} acc/s  {1e9 / c:6.2f} ns/access")
    print(f"Python (access_many, numpy, 1M a call)     {py:14.0f} acc/s  {1e9 / py:6.2f} ns/access")
    print(f"Python / C: {ratio:.2f}  target >= 0.5: {'met' if ratio >= 0.5 else 'MISSED'}")
    return 0 if ratio >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
