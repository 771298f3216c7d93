"""What the mapek-*.py table scripts share: reading a mixed MAPE-K report's faults, loop off vs on."""
import json


def outage(f):
    """A fault's outage: MTTR when routing repaired it, else its whole duration (a lower bound); 0 if not broken."""
    if f["status"] == "not_broken":
        return 0.0
    return f["mttr_s"] if f["mttr_s"] is not None else f["end_s"] - f["start_s"]


def broken_pairs(kind, paths):
    """Yields (scenario, fault off, fault on) for each fault of `kind` that broke flows in either run."""
    for path in paths:
        r = json.load(open(path))
        off = r["protocols"]["meshloop"]["faults"]
        on = r["protocols"]["meshloop+mapek"]["faults"]
        for a, b in zip(off, on):
            if a["kind"] == kind and not (a["status"] == "not_broken" and b["status"] == "not_broken"):
                yield r["scenario"], a, b
