#!/usr/bin/env python3
"""Pools `meshloop sim --mapek on` reports per fault kind, loop off vs on (the table in mapek-loop.txt).

bench/results/mapek-pooled.py R1.json R2.json ...

A fault counts when it broke flows in either run. Its outage is its MTTR when routing repaired it, else its whole
duration (a lower bound: unrecovered, or healed before its flows recovered); a fault that broke nothing counts 0.
better/worse/equal compare the two outages of each fault (equal: within 0.01 s). PDR is the mean over the reports.
"""
import json
import sys

from mapek_reports import outage

kinds = {}
pdr = []
for path in sys.argv[1:]:
    r = json.load(open(path))
    pdr.append((r["mapek"]["off"]["pdr"], r["mapek"]["on"]["pdr"]))
    off = r["protocols"]["meshloop"]["faults"]
    on = r["protocols"]["meshloop+mapek"]["faults"]
    assert len(off) == len(on)
    for a, b in zip(off, on):
        assert (a["kind"], a["element"], a["start_s"]) == (b["kind"], b["element"], b["start_s"])
        if a["status"] == "not_broken" and b["status"] == "not_broken":
            continue
        kinds.setdefault(a["kind"], []).append((outage(a), outage(b)))
print(f"{len(sys.argv) - 1} reports; PDR mean off {100 * sum(p[0] for p in pdr) / len(pdr):.2f} % "
      f"on {100 * sum(p[1] for p in pdr) / len(pdr):.2f} % "
      f"(per report: {', '.join(f'{100 * a:.2f} -> {100 * b:.2f}' for a, b in pdr)})")
print(f"{'kind':<13} {'n':>3} {'mean outage off':>16} {'on':>8}   better/worse/equal")
for k in sorted(kinds):
    v = kinds[k]
    better = sum(1 for a, b in v if b < a - 0.01)
    worse = sum(1 for a, b in v if b > a + 0.01)
    print(f"{k:<13} {len(v):>3} {sum(a for a, _ in v) / len(v):>16.2f} {sum(b for _, b in v) / len(v):>8.2f}   "
          f"{better}/{worse}/{len(v) - better - worse}")
