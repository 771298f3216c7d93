#!/usr/bin/env python3
"""Per-fault table of single-fault runs (one degradation alone on its run's mesh and flows), loop off vs on.

bench/results/mapek-isolated.py DIR [DIR2]   (DIR: reports of one binary; DIR2: the same runs with another binary)
"""
import glob
import json
import os
import sys

def rows(d):
    out = {}
    for p in sorted(glob.glob(os.path.join(d, "*.json"))):
        r = json.load(open(p))
        ks = list(r["protocols"])
        a, b = r["protocols"][ks[0]]["faults"][0], r["protocols"][ks[1]]["faults"][0]
        o = lambda f: 0.0 if f["status"] == "not_broken" else (f["mttr_s"] if f["mttr_s"] is not None else f["end_s"] - f["start_s"])
        acts = sum(1 for x in r["mapek"].get("action_decisions", r["mapek"]["sample_decisions"]) if x["outcome"] == "pending")
        out[os.path.basename(p)[:-5]] = (o(a), o(b), r["mapek"]["off"]["pdr"], r["mapek"]["on"]["pdr"], acts)
    return out

dirs = sys.argv[1:]
tables = [rows(d) for d in dirs]
print(f"{'run':<32}" + "".join(f"{'off':>7} {'on':>7} {'PDR off':>8} {'on':>8} {'acts':>4} |" for _ in dirs))
for k in tables[0]:
    line = f"{k:<32}"
    for t in tables:
        if k in t:
            a, b, pa, pb, n = t[k]
            line += f"{a:7.2f} {b:7.2f} {100*pa:8.3f} {100*pb:8.3f} {n:4d} |"
        else:
            line += " " * 42 + "|"
    print(line)
for t, d in zip(tables, dirs):
    v = [t[k] for k in tables[0] if k in t]
    if not v: continue
    better = sum(1 for a, b, *_ in v if b < a - 0.01); worse = sum(1 for a, b, *_ in v if b > a + 0.01)
    print(f"{d}: n {len(v)} mean outage off {sum(x[0] for x in v)/len(v):.2f} on {sum(x[1] for x in v)/len(v):.2f} "
          f"better/worse/equal {better}/{worse}/{len(v)-better-worse}; PDR better/worse/equal "
          f"{sum(1 for x in v if x[3] > x[2])}/{sum(1 for x in v if x[3] < x[2])}/{sum(1 for x in v if x[3] == x[2])}")
