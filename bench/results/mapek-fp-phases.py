#!/usr/bin/env python3
"""False-positive share per detector over phases of a `--mapek-fp-csv` file (the regime numbers in mapek-loop.txt).

bench/results/mapek-fp-phases.py FILE.csv A-B [C-D ...]   (phases in seconds, window end time t_s in [A, B))
Share = false positives / negative element-windows summed over the phase; "over" = windows above the 1 % budget.
"""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
names = [k[: -len("_fp_rate")] for k in rows[0] if k.endswith("_fp_rate")]
for phase in sys.argv[2:]:
    a, b = (float(x) for x in phase.split("-"))
    sel = [r for r in rows if a <= float(r["t_s"]) < b]
    parts = []
    for n in names:
        fp = sum(int(r[n + "_fp"]) for r in sel)
        neg = sum(int(r[n + "_negatives"]) for r in sel)
        over = sum(1 for r in sel if float(r[n + "_fp_rate"]) > 0.01)
        parts.append(f"{n} {100 * fp / max(neg, 1):.2f} % ({over} over)")
    print(f"{a:.0f}-{b:.0f} s ({len(sel)} windows): " + ", ".join(parts))
