#!/usr/bin/env python3
"""The report's machine formats against their schemas.

schema_test.py --ctxtrace CTXTRACE --json-schema docs/report.schema.json
               --sarif-schema SARIF_2_1_0.json --workdir DIR PROGRAM...

Runs each PROGRAM (leaky samples: between them every rule with findings) under
`ctxtrace run`, then validates `ctxtrace report --format json` against the repository's
JSON Schema and `--format sarif` against the OASIS SARIF 2.1.0 schema (rtm.5, the one
GitHub code scanning validates against; scripts/install-deps.sh puts it in place), and
checks what the schemas cannot say: every finding carries its fix, and a finding with a
second stack (release, thread creation, context creation) has it as a SARIF related
location.
"""
import argparse
import json
import os
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("schema_test: python3-jsonschema is missing: run scripts/install-deps.sh")

ap = argparse.ArgumentParser()
ap.add_argument("--ctxtrace", required=True)
ap.add_argument("--json-schema", required=True)
ap.add_argument("--sarif-schema", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--source-root", required=True)
ap.add_argument("programs", nargs="+")
args = ap.parse_args()
if not os.path.exists(args.sarif_schema):
    sys.exit("schema_test: %s: no SARIF 2.1.0 schema: run scripts/install-deps.sh" % args.sarif_schema)

with open(args.json_schema) as f:
    report_schema = json.load(f)
with open(args.sarif_schema) as f:
    sarif_schema = json.load(f)
jsonschema.Draft7Validator.check_schema(report_schema)
report_validator = jsonschema.Draft7Validator(report_schema)
sarif_validator = jsonschema.Draft4Validator(sarif_schema)

os.makedirs(args.workdir, exist_ok=True)
failures = 0
rules_seen = set()


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def errors(validator, doc):
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message)
            for e in validator.iter_errors(doc)]


for prog in args.programs:
    name = os.path.basename(prog)
    db = os.path.join(args.workdir, name + ".db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    run = subprocess.run([args.ctxtrace, "run", "--no-report", "-o", db, "--", prog],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    check(run.returncode == 0 and os.path.exists(db), "%s ran under ctxtrace (%s)" % (name, run.stderr.strip()[-200:]))

    out = subprocess.run([args.ctxtrace, "report", "--format", "json", "--show-reachable", db],
                         capture_output=True, text=True)
    check(out.returncode == 1, "%s: json report exits 1 (findings): %d %s" % (name, out.returncode, out.stderr))
    doc = json.loads(out.stdout)
    errs = errors(report_validator, doc)
    check(not errs, "%s: the JSON report is valid against docs/report.schema.json %s" % (name, errs[:3]))
    for f in doc.get("findings", []):
        rules_seen.add(f["rule"])
        check(f.get("fix", "").strip() != "", "%s: %s has its fix" % (name, f["rule"]))

    out = subprocess.run([args.ctxtrace, "report", "--format", "sarif", "--source-root",
                          args.source_root, db], capture_output=True, text=True)
    check(out.returncode == 1, "%s: sarif report exits 1 (findings)" % name)
    sarif = json.loads(out.stdout)
    errs = errors(sarif_validator, sarif)
    check(not errs, "%s: the SARIF report is valid SARIF 2.1.0 %s" % (name, errs[:3]))
    results = sarif["runs"][0].get("results", [])
    for r, f in zip(results, doc["findings"]):
        check("Fix:" in r["message"]["text"], "%s: SARIF %s message ends with its fix" % (name, r["ruleId"]))
        others = [k for k in ("release_stack", "thread_stack", "context_stack") if k in f]
        if others:
            rel = r.get("relatedLocations", [])
            check(len(rel) >= 1, "%s: SARIF %s has related locations for %s" % (name, r["ruleId"], others))

check({"lost-cancel", "orphaned-timer", "leaked-waiter", "derived-from-done",
       "value-chain-growth", "detached-root", "ineffective-deadline"} <= rules_seen,
      "every rule was validated at least once: %s" % sorted(rules_seen))
print("%d failed" % failures if failures else "all passed")
sys.exit(1 if failures else 0)
