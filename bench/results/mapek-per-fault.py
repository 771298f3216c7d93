#!/usr/bin/env python3
"""Per-fault outages, loop off vs on, of one fault kind in mixed MAPE-K reports (the per-fault table in mapek-loop.txt).

bench/results/mapek-per-fault.py KIND R1.json R2.json ...

Outage as in mapek-pooled.py; "resumed" is the report's resume_s when both runs repaired the fault (the worst broken
flow's first delivery after its break: routing's repair, before a lossy path's windows reach 90%). "acted" lists the loop's applied decisions (from the report's sample_decisions, the
first 40 only) whose target names the fault's element, with their time relative to the injection.
"""
import sys

from mapek_reports import broken_pairs, outage

kind = sys.argv[1]
for sc, a, b in broken_pairs(kind, sys.argv[2:]):
    print(f"{sc['name']:<18} seed {sc['seed']:<3} {a['element']:<12} at {a['start_s']:7.2f} s  off {outage(a):6.2f} "
          f"({a['status']})  on {outage(b):6.2f} ({b['status']})  broken flows {a['broken_flows']}/{b['broken_flows']}"
          + (f"  resumed {a['resume_s']:.2f} / {b['resume_s']:.2f}" if a.get("resume_s") is not None and b.get("resume_s") is not None else ""))
