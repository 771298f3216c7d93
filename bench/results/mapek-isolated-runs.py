#!/usr/bin/env python3
"""Prints the single-fault commands for the faults of KIND that broke flows (off or on) in mixed MAPE-K reports.

bench/results/mapek-isolated-runs.py KIND OUTDIR R1.json R2.json ...   (pipe into `xargs -P 2 -I{} sh -c {}`)

Each fault runs alone on its report's mesh and flows (same scenario file, seed; --faults 0), from its own start to
20 s after its end, with the report in OUTDIR/<scenario>-<seed>-<element>.json. The scenario file is found from the
report's name: bench/scenarios/<name>.yaml.
"""
import sys

from mapek_reports import broken_pairs

kind, outdir, reports = sys.argv[1], sys.argv[2], sys.argv[3:]
for sc, a, b in broken_pairs(kind, reports):
    element = a["element"].split(" ", 1)[1]
    start, duration = a["start_s"], a["end_s"] - a["start_s"]
    out = f"{outdir}/{sc['name']}-{sc['seed']}-{element.replace(':', '_')}.json"
    print(f"nice build/meshloop sim --quiet --scenario bench/scenarios/{sc['name']}.yaml --seed {sc['seed']} "
          f"--faults 0 --duration {int(a['end_s'] + 20)}s --fault-list \"{kind} {element} {start:.6f}s {duration:.6f}s\" "
          f"--report {out}")
