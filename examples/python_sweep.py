#!/usr/bin/env python3
"""A sweep from Python: guest page size x host backing over kpt-thp.

For each guest page size (4K, 2M) and each backing (THP, hugetlbfs 2M),
run kvm_page_table_test's stages and collect the huge SPTEs KVM builds and
the faults it takes, as a pandas DataFrame; draw them with matplotlib where
it is installed.

Run from the source tree after a build:
    PYTHONPATH=build/python python3 examples/python_sweep.py [OUT.png]
"""
import itertools
import os
import sys

import simvirt

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "..", "scenarios", "kpt-thp.ini")


def main():
    rows = []
    for page, backing in itertools.product(["4K", "2M"], ["thp", "hugetlb-2m"]):
        report = simvirt.Scenario.load(SCENARIO, sets=[
            "memslot.data.size=64M",
            f"guest.page_size={page}",
            f"memslot.data.backing={backing}",
        ]).run()
        rows.append({"guest_page": page, "backing": backing,
                     "pages_2m": report.value("pages_2m"),
                     "pf_taken": report.value("pf_taken"),
                     "cycles": report.value("cycles")})
    try:
        import pandas as pd
    except ImportError:
        for r in rows:
            print(r)
        return 0
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if len(sys.argv) > 1:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("(matplotlib is not installed: no picture)")
            return 0
        ax = table.pivot(index="guest_page", columns="backing",
                         values="pf_taken").plot.bar(rot=0)
        ax.set_ylabel("EPT violations taken (pf_taken)")
        ax.set_title("kpt-thp over 64 MiB: guest page size x backing")
        plt.tight_layout()
        plt.savefig(sys.argv[1])
        print(f"drew {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
