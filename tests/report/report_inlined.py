#!/usr/bin/env python3
"""report_inlined.py — inlined frames in the three report formats (test report.inlined).

tests/findings' inlined_sites program, built at -O0 and at -O2 -g, makes its leaks in two
static functions that -O2 inlines into `worker`. Checked:
  - the stacks' application frames, (function, line), are the same at both levels: the
    inlined calls are frames of their own, at their lines;
  - at -O2 exactly the frames the compiler inlined are marked — text "(inlined)", JSON
    "inlined": true, SARIF {"inlined": true} in the property bag of each location (the
    result's, codeFlow steps, related locations) — and at -O0 none is.
And tests/findings' tail_sites at -O2, whose constructor's frame a tail call removed:
that frame is back in the stack and marked — text "(tail call)", JSON "tail_call": true,
SARIF {"tailCall": true}.

usage: report_inlined.py --ctxtrace EXE --o0 EXE --o2 EXE --source FILE
                         --tail-o2 EXE --tail-source FILE --workdir DIR

Standard library only.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

ARGS = None
FAILURES = []
# The functions inlined_sites.c makes its leaks in; -O2 inlines both into worker.
INLINED = {"call_backend", "handle_request"}


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg)
    return cond


def line_of(text, source=None):
    """The line number of the one line of the source containing `text`."""
    source = source or ARGS.source
    with open(source) as f:
        hits = [i + 1 for i, line in enumerate(f) if text in line]
    if len(hits) != 1:
        print("FAIL: %r is on lines %s of %s, expected exactly one" % (text, hits, source))
        sys.exit(1)
    return hits[0]


def run(argv, cwd=None):
    return subprocess.run(argv, cwd=cwd or ARGS.workdir, capture_output=True, timeout=120)


def trace_of(program):
    path = os.path.join(ARGS.workdir, os.path.basename(program) + ".db")
    p = run([ARGS.ctxtrace, "run", "--no-report", "-o", path, "--", program])
    if not check(p.returncode == 0, "ctxtrace run %s: status %d: %s" %
                 (program, p.returncode, p.stderr.decode(errors="replace"))):
        sys.exit(1)
    return path


def report(trace, fmt, source=None):
    # From the source's directory, the source root: SARIF's codeFlows hold the frames
    # inside it.
    p = run([ARGS.ctxtrace, "report", "--format", fmt, trace],
            cwd=os.path.dirname(os.path.abspath(source or ARGS.source)))
    check(p.returncode == 1, "report --format %s %s: status %d, expected 1 (findings)" %
          (fmt, trace, p.returncode))
    return p.stdout.decode("utf-8")


def app_frames(stack, program):
    """The stack's frames in the program itself (not libc)."""
    return [f for f in stack if f.get("module") and
            os.path.basename(f["module"]) == os.path.basename(program)]


def stacks_of(doc):
    """(finding rule, stack key, frames) for every stack of a JSON report."""
    for f in doc["findings"]:
        for key in ("stack", "release_stack"):
            if key in f:
                yield f["rule"], key, f[key]


def check_json(o0_doc, o2_doc):
    o0 = {(r, k): app_frames(s, ARGS.o0) for r, k, s in stacks_of(o0_doc)}
    o2 = {(r, k): app_frames(s, ARGS.o2) for r, k, s in stacks_of(o2_doc)}
    check(sorted(o0) == sorted(o2), "the same stacks at -O0 and -O2: %s vs %s" %
          (sorted(o0), sorted(o2)))
    check(len(o2) == 4, "two findings, each with a creation and a release stack: %s" %
          sorted(o2))
    for key in sorted(set(o0) & set(o2)):
        plain = [(f["function"], f["line"]) for f in o0[key]]
        optimised = [(f["function"], f["line"]) for f in o2[key]]
        check(plain == optimised, "%s %s: -O0 frames %s, -O2 frames %s" %
              (key[0], key[1], plain, optimised))
        for f in o0[key]:
            check("inlined" not in f, "-O0 %s %s: frame %s marked inlined" %
                  (key[0], key[1], f))
        for f in o2[key]:
            want = f["function"] in INLINED
            check(f.get("inlined", False) == want,
                  "-O2 %s %s: frame %s: inlined should be %s" % (key[0], key[1], f, want))
            check(f.get("inlined", True) is True, "\"inlined\" is only ever true: %s" % f)
    site = {f["rule"]: f["site"] for f in o2_doc["findings"]}
    check(site.get("lost-cancel", {}).get("inlined") is True,
          "-O2 lost-cancel site (handle_request) is marked inlined: %s" % site)


def check_text(o0_text, o2_text):
    req = line_of("ctx_t *req = ctx_with_cancel(server);")
    call = line_of("ctx_t *call = ctx_with_timeout(req, 10 * CTX_SECOND);")
    name = os.path.basename(ARGS.o2)
    frame = r"#\d+ +%s \S*inlined_sites\.c:%d \(%s\)( \(inlined\))?$"
    for fn, line, inlined in (("handle_request", req, True), ("call_backend", call, True)):
        m = [x for x in re.finditer(frame % (fn, line, re.escape(name)), o2_text, re.M)]
        if check(m, "-O2 text: a frame '%s inlined_sites.c:%d (%s)':\n%s" %
                 (fn, line, name, o2_text)):
            check(all(bool(x.group(1)) == inlined for x in m),
                  "-O2 text: %s:%d marked (inlined): %s" % (fn, line, [x.group(0) for x in m]))
    workers = re.findall(r"#\d+ +worker \S+ \(%s\)(.*)$" % re.escape(name), o2_text, re.M)
    check(workers and all(rest == "" for rest in workers),
          "-O2 text: worker frames present and not marked inlined: %s" % workers)
    check("(inlined)" not in o0_text, "-O0 text: nothing marked (inlined)")


def check_sarif(o0_doc, o2_doc):
    def locations(doc):
        for res in doc["runs"][0]["results"]:
            for loc in res.get("locations", []):
                yield res["ruleId"], "result", loc
            for loc in res.get("relatedLocations", []):
                yield res["ruleId"], "related", loc
            for flow in res.get("codeFlows", []):
                for tf in flow["threadFlows"]:
                    for tfl in tf["locations"]:
                        yield res["ruleId"], "codeFlow", tfl["location"]

    def function(loc):
        if "logicalLocations" in loc:
            return loc["logicalLocations"][0]["name"]
        return loc["message"]["text"].split()[-1]  # a related location: "LABEL FUNCTION"

    seen = 0
    for rule, where, loc in locations(o2_doc):
        fn = function(loc)
        want = {"inlined": True} if fn in INLINED else None
        check(loc.get("properties") == want, "-O2 SARIF %s %s location of %s: properties %s" %
              (rule, where, fn, loc.get("properties")))
        seen += fn in INLINED
    # Each finding: its result location, two codeFlow steps or more, its release site.
    check(seen >= 6, "-O2 SARIF: the inlined frames appear in locations (%d seen)" % seen)
    for rule, where, loc in locations(o0_doc):
        check("properties" not in loc, "-O0 SARIF %s %s location: %s" % (rule, where, loc))


def check_tail():
    trace = trace_of(ARGS.tail_o2)
    line = line_of("return ctx_with_timeout(parent, 10 * CTX_SECOND);", ARGS.tail_source)
    doc = json.loads(report(trace, "json", ARGS.tail_source))
    stacks = [app_frames(f["stack"], ARGS.tail_o2) for f in doc["findings"]]
    want = [("new_call_ctx", line, True), ("main", False)]
    got = [[(f["function"], f["line"], f.get("tail_call", False))
            if f["function"] == "new_call_ctx" else (f["function"], f.get("tail_call", False))
            for f in s if f["function"] != "_start"] for s in stacks]
    check(got == [want], "-O2 tail_sites JSON: the creation stack's frames (function, line, "
          "tail_call) %s, expected [%s]" % (got, want))
    text = report(trace, "text", ARGS.tail_source)
    check(re.search(r"#0 +new_call_ctx \S*constructors\.c:%d \(%s\) \(tail call\)$" %
                    (line, re.escape(os.path.basename(ARGS.tail_o2))), text, re.M),
          "-O2 tail_sites text: '#0  new_call_ctx constructors.c:%d (...) (tail call)':\n%s" %
          (line, text))
    sarif = json.loads(report(trace, "sarif", ARGS.tail_source))
    marked = [loc.get("properties") for res in sarif["runs"][0]["results"]
              for loc in res.get("locations", [])]
    check(marked == [{"tailCall": True}], "-O2 tail_sites SARIF: the result's location "
          "(new_call_ctx) has properties {'tailCall': True}: %s" % marked)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    for opt in ("--ctxtrace", "--o0", "--o2", "--source", "--tail-o2", "--tail-source",
                "--workdir"):
        ap.add_argument(opt, required=True)
    ARGS = ap.parse_args()
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    o0, o2 = trace_of(ARGS.o0), trace_of(ARGS.o2)
    check_json(json.loads(report(o0, "json")), json.loads(report(o2, "json")))
    check_text(report(o0, "text"), report(o2, "text"))
    check_sarif(json.loads(report(o0, "sarif")), json.loads(report(o2, "sarif")))
    check_tail()
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("report.inlined: passed")
    shutil.rmtree(ARGS.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
