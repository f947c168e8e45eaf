"""The Python package over the library: scenarios and reports, errors,
pandas, the trace-driven API with numpy, and handles that free what they
hold.  Expected counts come from docs/kvm-reference.md, as in the C tests."""
import os

import pytest

import simvirt

SMALL = ["memslot.data.size=16M"]


def test_version_and_counters():
    assert simvirt.version().count(".") == 2
    names = {c.name: c for c in simvirt.counters()}
    assert names["pages_2m"].level and not names["pages_2m"].vcpu
    assert names["pf_taken"].vcpu and not names["pf_taken"].level


def test_default_scenario_6_12_and_6_13():
    old = simvirt.Scenario.default(SMALL).run()
    new = simvirt.Scenario.default(SMALL + ["vm.kernel_version=6.13"]).run()
    assert old.end == "halted"
    assert old.phases == ["start", "populate", "dirty-log", "re-touch", "done"]
    # 16M / 2M = 8 THPs: one 2M SPTE each after populate (scenario 1)
    assert old.value("pages_2m", phase="populate") == 8
    # re-touch (scenario 17): 6.12 zaps the 8 tables, 6.13 rebuilds in place
    assert old.value("zap_table", phase="re-touch") == 8
    assert new.value("recover_2m", phase="re-touch") == 8
    assert new.value("zap_table", phase=4) == 0
    assert new.config["vm"]["kernel_version"] == "6.13"
    # the same as the command prints
    assert '"schema": 2' in old.text("json")
    assert old.text("csv").startswith("# simvirt report schema 2")


def test_config_text_runs_to_the_same_report(tmp_path):
    s = simvirt.Scenario.default(SMALL)
    again = simvirt.Scenario.from_text(s.config_text, "again.ini")
    assert again.config_text == s.config_text
    assert again.run().text("json") == s.run().text("json")


def test_record_and_replay(tmp_path, scenarios):
    trace = tmp_path / "t.trace"
    s = simvirt.Scenario.load(os.path.join(scenarios, "kpt-thp.ini"),
                              sets=["memslot.data.size=8M"])
    run = s.run(record=trace)
    assert simvirt.replay(trace).text("json") == run.text("json")


def test_errors_carry_code_and_detail(tmp_path):
    with pytest.raises(simvirt.Error) as e:
        simvirt.Scenario.from_text("[vm]\nvcpus=0\n", "t.ini")
    assert e.value.name == "bad configuration (SV_ECONFIG)"
    assert e.value.code < 0
    assert "t.ini: [vm] vcpus: expected a whole number from 1 to 256" in e.value.detail
    with pytest.raises(simvirt.Error):
        simvirt.Scenario.load(tmp_path / "missing.ini")
    with pytest.raises(KeyError):
        simvirt.Scenario.default(SMALL).run().value("pf_taken", phase="nope")


def test_pandas_long_and_wide():
    pd = pytest.importorskip("pandas")
    r = simvirt.Scenario.default(SMALL).run()
    long = r.frame()
    assert list(long.columns) == ["phase", "phase_index", "scope", "counter",
                                  "value"]
    row = long[(long.phase == "populate") & (long.scope == "vm") &
               (long.counter == "pages_2m")]
    assert int(row.value.iloc[0]) == 8
    wide = r.frame(wide=True)
    vm = wide[(wide.phase == "populate") & (wide.scope == "vm")]
    assert int(vm["pages_2m"].iloc[0]) == 8
    # one row per (phase, scope): 6 phases (total included) x (vm, host,
    # audit, vcpu0)
    assert len(wide) == 6 * 4
    assert isinstance(wide, pd.DataFrame)


def machine(size=8 << 20):
    """A host, a VM with KVM's MMU, and size bytes of THP memory at 1G."""
    host = simvirt.Host()
    vm = simvirt.VM()
    vm.attach(host)
    hva = host.mmap(size)
    host.madvise(hva, size, "hugepage")
    vm.memslot(1, 0x40000000, size, hva)
    return host, vm


def test_trace_driven_single_accesses():
    host, vm = machine()
    v = vm.vcpu(0)
    for gpa in range(0x40000000, 0x40000000 + (8 << 20), 4096):
        x = v.access(gpa, write=True)
        assert x.fault is None
    # 8M / 2M = 4 huge SPTEs, one EPT violation each (scenario 1)
    assert vm.stat("pages_2m") == 4
    assert vm.stat("pf_taken") == 4
    assert v.stat("accesses") == 2048
    vm.stats_reset()
    assert vm.stat("pf_taken") == 0 and vm.stat("pages_2m") == 4
    # past the slot: the MMU cannot map it
    x = v.access(0x80000000)
    assert x.fault is not None


def test_trace_driven_numpy_batch():
    np = pytest.importorskip("numpy")
    _, one = machine()
    _, many = machine()
    gvas = np.arange(0x40000000, 0x40000000 + (8 << 20), 4096, dtype=np.uint64)
    writes = (np.arange(gvas.size) % 2).astype(bool)
    v1 = one.vcpu(0)
    for g, w in zip(gvas.tolist(), writes.tolist()):
        v1.access(g, write=w)
    done, last = many.vcpu(0).access_many(gvas, write=writes)
    assert done == gvas.size and last.fault is None
    for c in simvirt.counters():
        assert one.stat(c.name) == many.stat(c.name), c.name
    # a batch stops after its first fault
    bad = np.array([0x40000000, 0x80000000, 0x40001000], dtype=np.uint64)
    done, last = many.vcpu(0).access_many(bad)
    assert done == 2 and last.fault is not None


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_handles_free_what_they_hold():
    # warm up, then 200 rounds of every kind of handle: the resident size
    # may not grow by more than a round's worth (each round holds a host,
    # a VM with 8M of guest memory, a scenario and a report)
    for _ in range(5):
        machine()[1].vcpu(0).access(0x40000000)
    before = rss_kib()
    for _ in range(200):
        host, vm = machine()
        vm.vcpu(0).access_many([0x40000000, 0x40200000])
        simvirt.Scenario.default(["memslot.data.size=4M"]).run().json()
        del host, vm
    grown = rss_kib() - before
    assert grown < 16 * 1024, f"resident size grew by {grown} KiB"


def test_the_worked_example_runs():
    """examples/python_sweep.py, as docs/python.md shows it."""
    pytest.importorskip("pandas")
    import subprocess
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, os.path.join(
        here, "..", "..", "examples", "python_sweep.py")], check=True,
        capture_output=True, text=True).stdout.splitlines()
    # docs/python.md shows this output: the same lines
    with open(os.path.join(here, "..", "..", "docs", "python.md")) as f:
        doc = f.read()
    shown = doc.split("examples/python_sweep.py sweep.png\n", 1)[1]
    shown = shown.split("```", 1)[0].splitlines()
    assert shown == out, "docs/python.md shows other output"
    assert out[0].split() == ["guest_page", "backing", "pages_2m", "pf_taken",
                              "cycles"]
    # 4 runs; each ends with 64M / 2M = 32 huge SPTEs (kpt's adjust stage
    # rebuilds them after logging: docs/kvm-reference.md scenario 30)
    assert len(out) == 5
    assert all(line.split()[2] == "32" for line in out[1:5])


def test_the_docs_trace_driven_snippet():
    """docs/python.md's trace-driven example: 64M / 2M = 32 huge SPTEs,
    one EPT violation each (scenario 1)."""
    np = pytest.importorskip("numpy")
    host = simvirt.Host()
    vm = simvirt.VM()
    vm.attach(host)
    hva = host.mmap(64 << 20)
    host.madvise(hva, 64 << 20, "hugepage")
    vm.memslot(1, 0x40000000, 64 << 20, hva)
    v = vm.vcpu(0)
    assert v.access(0x40000000, write=True).fault is None
    gvas = np.arange(0x40000000, 0x44000000, 4096, dtype=np.uint64)
    done, last = v.access_many(gvas, write=True)
    assert done == gvas.size
    assert (vm.stat("pages_2m"), vm.stat("pf_taken")) == (32, 32)


def test_a_sizing_policy_in_python():
    """A policy that never maps above 4K, and one that asks the built-in
    kvm policy: over 8M of THP the first gives 8M / 4K = 2048 4K SPTEs and
    no 2M one, the second the same report as kvm itself."""
    seen = []

    def only_4k(info):
        seen.append(info.max_level)
        return 1

    def like_kvm(info):
        return simvirt.policy_level("kvm", info)

    simvirt.register_policy("py-4k", only_4k)
    simvirt.register_policy("py-kvm", like_kvm)
    try:
        sets = ["memslot.data.size=8M", "vm.kernel_version=6.12"]
        r4k = simvirt.Scenario.default(sets + ["vm.policy=py-4k"]).run()
        assert r4k.value("pages_2m", phase="populate") == 0
        assert r4k.value("pages_4k", phase="populate") == 2048
        assert seen and max(seen) == 2   # THP allowed 2M; the policy said 4K
        mine = simvirt.Scenario.default(sets + ["vm.policy=py-kvm"]).run()
        kvm = simvirt.Scenario.default(sets + ["vm.policy=kvm"]).run()
        strip = lambda j: {k: v for k, v in j.items() if k != "config"}
        assert strip(mine.json()) == strip(kvm.json())
        with pytest.raises(simvirt.Error):
            simvirt.register_policy("py-4k", only_4k)  # the name is taken
    finally:
        simvirt.unregister_policy("py-4k")
        simvirt.unregister_policy("py-kvm")
