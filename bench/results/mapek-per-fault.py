#!/usr/bin/env python3
"""Per-fault outages, loop off vs on, of one fault kind in mixed MAPE-K reports (the per-fault table in mapek-loop.txt).

bench/results/mapek-per-fault.py KIND R1.json R2.json ...

Outage as in mapek-pooled.py. "acted" lists the loop's applied decisions (from the report's sample_decisions, the
first 40 only) whose target names the fault's element, with their time relative to the injection.
"""
import json
import sys

def outage(f):
    if f["status"] == "not_broken":
        return 0.0
    return f["mttr_s"] if f["mttr_s"] is not None else f["end_s"] - f["start_s"]

kind = sys.argv[1]
for path in sys.argv[2:]:
    r = json.load(open(path))
    sc = r["scenario"]
    off = r["protocols"]["meshloop"]["faults"]
    on = r["protocols"]["meshloop+mapek"]["faults"]
    for a, b in zip(off, on):
        if a["kind"] != kind or (a["status"] == "not_broken" and b["status"] == "not_broken"):
            continue
        print(f"{sc['name']:<18} seed {sc['seed']:<3} {a['element']:<12} at {a['start_s']:7.2f} s  off {outage(a):6.2f} "
              f"({a['status']})  on {outage(b):6.2f} ({b['status']})  broken flows {a['broken_flows']}/{b['broken_flows']}")
