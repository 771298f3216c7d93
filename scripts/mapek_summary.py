#!/usr/bin/env python3
"""Summarises `meshloop sim --mapek` JSON reports (loop off vs on per run) as text: scripts/mapek_summary.py R1.json ..."""
import json, sys
def fmt(x, p=2):
    return "-" if x is None else f"{x:.{p}f}"
for path in sys.argv[1:]:
    j = json.load(open(path))
    m = j["mapek"]; off = m["off"]; on = m["on"]
    sc = j["scenario"]
    print(f"## {sc['name']} seed {sc['seed']}, loop detector {m['detector']} ({sc['nodes']} nodes, {sc['duration_s']:.0f} s, {sc['faults']} faults, {sc['flows']} flows) mode {m['mode']}")
    print(f"  PDR                      off {100*off['pdr']:.4f}%   {m['mode']} {100*on['pdr']:.4f}%")
    o1, o2 = off["outage_s"], on["outage_s"]
    print(f"  outage s p50/p95 (n)     off {fmt(o1['p50'])}/{fmt(o1['p95'])} ({o1['count']})   {m['mode']} {fmt(o2['p50'])}/{fmt(o2['p95'])} ({o2['count']})")
    t1, t2 = off["mttr_s"], on["mttr_s"]
    print(f"  MTTR s p50/p95 (n)       off {fmt(t1['p50'])}/{fmt(t1['p95'])} ({t1['count']})   {m['mode']} {fmt(t2['p50'])}/{fmt(t2['p95'])} ({t2['count']})")
    print(f"  unrecovered (+by routing) off {off['unrecovered_faults']}+{off['unrecovered_by_routing']}   {m['mode']} {on['unrecovered_faults']}+{on['unrecovered_by_routing']}")
    print(f"  control bytes/node/s     off {off['control_bytes_per_node_s']:.1f}   {m['mode']} {on['control_bytes_per_node_s']:.1f}")
    for kind in sorted(off["faults_by_kind"]):
        a = off["faults_by_kind"][kind]; b = on["faults_by_kind"].get(kind, {})
        st = lambda d: ",".join(f"{k}={v}" for k, v in sorted(d.items()) if k != "outage_mean_s" and k != "not_broken")
        print(f"    {kind:<12} mean outage s off {fmt(a.get('outage_mean_s'))} [{st(a)}]   {m['mode']} {fmt(b.get('outage_mean_s'))} [{st(b)}]")
    acts = ", ".join(f"{k}: " + "/".join(f"{o} {n}" for o, n in v.items()) for k, v in m["actions"].items())
    print(f"  actions: {acts or 'none'}; rollbacks {m['rollbacks']}, releases {m['releases']}, explored {m['explored']}, "
          f"rate-limited {m['rate_limited']}, remediations true {m['remediations']['true']} false {m['remediations']['false']}")
    print("  detection (mesh-wide, per element-window; ttd per fault):")
    for name, d in j["detection"].items():
        t = d["ttd_s"]
        print(f"    {name:<11} precision {d['precision']:.3f} recall {d['recall']:.3f} F1 {d['f1']:.3f} "
              f"ttd p50/p95 {fmt(t['p50'],1)}/{fmt(t['p95'],1)} s ({d['detected_faults']}/{d['faults']} faults)")
    print()
