#!/usr/bin/env python3
"""Plots the per-window false-positive rate of each detector from `meshloop sim --mapek-fp-csv` as an SVG.

Usage: scripts/plot_fp.py IN.csv OUT.svg [--shift START END] [--budget 0.01]
Standard library only: one polyline per detector, the false-positive budget as a dashed line, the regime change as a
shaded band.
"""
import csv
import sys

COLOURS = {"graphsage": "#1f77b4", "thresholds": "#d62728", "rules": "#7f7f7f", "static": "#2ca02c"}


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    src, dst = argv[1], argv[2]
    shift, budget = None, 0.01
    rest = argv[3:]
    while rest:
        if rest[0] == "--shift":
            shift = (float(rest[1]), float(rest[2]))
            rest = rest[3:]
        elif rest[0] == "--budget":
            budget = float(rest[1])
            rest = rest[2:]
        else:
            print("unknown argument " + rest[0])
            return 2
    with open(src) as f:
        rows = list(csv.DictReader(f))
    names = [k[: -len("_fp_rate")] for k in rows[0] if k.endswith("_fp_rate")]
    t = [float(r["t_s"]) for r in rows]
    w, h, left, right, top, bottom = 900, 420, 60, 150, 30, 50
    peak = max(float(r[n + "_fp_rate"]) for r in rows for n in names if n in ("graphsage", "thresholds"))
    ymax = max(0.02, min(0.25, peak * 1.1))
    x_of = lambda x: left + (x - t[0]) / max(1e-9, t[-1] - t[0]) * (w - left - right)
    y_of = lambda y: top + (1 - min(y, ymax) / ymax) * (h - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    if shift:
        out.append(f'<rect x="{x_of(shift[0]):.1f}" y="{top}" width="{x_of(shift[1]) - x_of(shift[0]):.1f}" '
                   f'height="{h - top - bottom}" fill="#fff3cd"/>')
        out.append(f'<text x="{x_of(shift[0]) + 4:.1f}" y="{top + 14}">regime change (+loss on every link)</text>')
    for i in range(6):
        y = ymax * i / 5
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{y_of(y):.1f}" y2="{y_of(y):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y_of(y) + 4:.1f}" text-anchor="end">{100 * y:.1f}%</text>')
    out.append(f'<line x1="{left}" x2="{w - right}" y1="{y_of(budget):.1f}" y2="{y_of(budget):.1f}" '
               f'stroke="black" stroke-dasharray="6,4"/>')
    out.append(f'<text x="{w - right + 4}" y="{y_of(budget) + 4:.1f}">budget {100 * budget:.0f}%</text>')
    for k, name in enumerate(names):
        pts = " ".join(f"{x_of(x):.1f},{y_of(float(r[name + '_fp_rate'])):.1f}" for x, r in zip(t, rows))
        colour = COLOURS.get(name, "#9467bd")
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
        out.append(f'<text x="{w - right + 4}" y="{top + 30 + 16 * k}" fill="{colour}">{name}</text>')
    for i in range(0, 11):
        x = t[0] + (t[-1] - t[0]) * i / 10
        out.append(f'<text x="{x_of(x):.1f}" y="{h - bottom + 18}" text-anchor="middle">{x:.0f}</text>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 10}" text-anchor="middle">virtual time (s)</text>')
    out.append(f'<text x="14" y="{top + (h - top - bottom) / 2}" transform="rotate(-90 14 {top + (h - top - bottom) / 2})" '
               f'text-anchor="middle">false positives / negative element-windows (rules/static clipped)</text>')
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
