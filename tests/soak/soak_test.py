#!/usr/bin/env python3
"""soak_test.py — run `ctxtrace soak` on one program and assert its verdict exactly.

    soak_test.py --ctxtrace PATH --workdir DIR --expect-exit N
                 [--grows METRIC,...] [--may-grow METRIC,...]
                 [--site FUNCTION@FILE:@TEXT ...] [--finding RULE@FUNCTION ...]
                 [--stderr REGEX] [--soak-args "..."] -- PROGRAM ARGS...

--grows lists exactly the quantities that must grow (none: nothing may grow), apart
from those named by --may-grow, whose verdict is not asserted (RSS, where how much a
leak's memory shows depends on the machine and the build). Each
--site names a growing site: FUNCTION, and the source line of FILE (a path) whose text
contains TEXT — resolved here, so the test follows the source when lines move. The JSON
output (--json) is what is checked; the text report must name each site as
"FUNCTION FILE:LINE" too. Each --finding names a finding the trace must have, by rule
and site function, in the JSON and in the text.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys


def line_of(path, text):
    with open(path) as f:
        hits = [i + 1 for i, l in enumerate(f) if text in l]
    if len(hits) != 1:
        sys.exit(f"soak_test: '{text}' is on {len(hits)} lines of {path}, not 1")
    return hits[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctxtrace", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--expect-exit", type=int, required=True)
    ap.add_argument("--grows", default="")
    ap.add_argument("--may-grow", default="")
    ap.add_argument("--site", action="append", default=[])
    ap.add_argument("--stderr", default=None)
    ap.add_argument("--finding", action="append", default=[],
                    help="RULE@FUNCTION: the trace has this finding (in the JSON and the text)")
    ap.add_argument("--soak-args", default="--duration 4 --warmup 1 --interval 50")
    ap.add_argument("program", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    prog = a.program[1:] if a.program[:1] == ["--"] else a.program
    os.makedirs(a.workdir, exist_ok=True)
    out_json = os.path.join(a.workdir, "soak.json")
    # A fresh start: the previous run's results (soak -o never replaces a trace).
    for old in ("soak.json", "soak.db", "soak.db-wal", "soak.db-shm"):
        if os.path.exists(os.path.join(a.workdir, old)):
            os.unlink(os.path.join(a.workdir, old))
    # --soak-args last: a test's own --json wins.
    cmd = [a.ctxtrace, "soak", "--json", out_json, *shlex.split(a.soak_args),
           "-o", os.path.join(a.workdir, "soak.db"), "--", *prog]
    print("$", " ".join(shlex.quote(c) for c in cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    fail = []
    if r.returncode != a.expect_exit:
        fail.append(f"exit status {r.returncode}, expected {a.expect_exit}")
    if a.stderr is not None and not re.search(a.stderr, r.stderr):
        fail.append(f"stderr does not match /{a.stderr}/")
    if a.expect_exit in (0, 1):
        with open(out_json) as f:
            doc = json.load(f)
        free = set(x for x in a.may_grow.split(",") if x)
        grown = sorted(m["name"] for m in doc["metrics"] if m["grows"] and m["name"] not in free)
        want = sorted(x for x in a.grows.split(",") if x)
        if grown != want:
            fail.append(f"growing quantities {grown}, expected {want}")
        if doc["decision"] != ("grows" if want else "steady"):
            fail.append(f"decision {doc['decision']}")
        if len(doc["samples"]) < 8:
            fail.append(f"only {len(doc['samples'])} samples judged")
        for spec in a.site:
            func, _, loc = spec.partition("@")
            path, _, text = loc.partition(":@")
            line = line_of(path, text)
            hits = [s for s in doc["sites"]
                    if s["site"]["function"] == func and s["site"]["line"] == line
                    and (s["site"]["file"] or "").endswith(os.path.basename(path))]
            if not hits:
                fail.append(f"no growing site {func} {os.path.basename(path)}:{line}; "
                            f"sites: {[s['site'] for s in doc['sites']]}")
            elif not all(h["slope_per_s"] > 0 and h["stack"] for h in hits):
                fail.append(f"site {func}: no growth or no stack")
            elif not re.search(rf"{re.escape(func)} \S*{re.escape(os.path.basename(path))}:{line}",
                               r.stdout):
                fail.append(f"the text report does not name {func} ...:{line}")
        for spec in a.finding:
            rule, _, func = spec.partition("@")
            if not any(f["rule"] == rule and f["site"]["function"] == func
                       for f in doc["findings"]):
                fail.append(f"no {rule} finding at {func}: {doc['findings']}")
            elif not re.search(rf"^{re.escape(rule)}: .* at {re.escape(func)} ", r.stdout,
                               re.M):
                fail.append(f"the text report does not show the {rule} finding at {func}")
        if not want and doc["sites"]:
            fail.append(f"sites named though nothing grows: {doc['sites']}")
    if fail:
        print("soak_test: FAIL: " + "; ".join(fail))
        return 1
    print("soak_test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
