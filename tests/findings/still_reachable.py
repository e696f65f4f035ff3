#!/usr/bin/env python3
"""still_reachable.py — findings.still_reachable: `ctxtrace report --show-reachable` lists
exactly the contexts the exit check found still reachable, and they are not findings.

exit/kept_at_exit.c keeps three contexts to exit — one in a global, one in a heap object
a global points to, one held by the function that calls exit(): each is listed once, at
its creation site (function and line, found by the call's text in the source), never
cancelled, and the report has no finding. exit/overwritten_handle.c loses two handles
(lost-cancel): those are findings and not listed.

usage: still_reachable.py CTXTRACE KEPT_AT_EXIT OVERWRITTEN_HANDLE SOURCE_DIR WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys


def fail(msg):
    sys.exit("FAIL: " + msg)


def line_of(path, text):
    with open(path) as f:
        hits = [i + 1 for i, l in enumerate(f) if text in l]
    if len(hits) != 1:
        fail("%s: %r on %d lines" % (path, text, len(hits)))
    return hits[0]


def report(ctxtrace, prog, work, name):
    db = os.path.join(work, name + ".db")
    p = subprocess.run([ctxtrace, "run", "--no-report", "-o", db, "--", prog],
                       capture_output=True, text=True)
    if not os.path.exists(db):
        fail("%s under ctxtrace run: no trace (%s)" % (name, p.stderr))
    p = subprocess.run([ctxtrace, "report", "--show-reachable", "--format", "json", db],
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        fail("report --show-reachable %s: exit %d %s" % (db, p.returncode, p.stderr))
    text = subprocess.run([ctxtrace, "report", "--show-reachable", db], capture_output=True,
                          text=True).stdout
    return json.loads(p.stdout), text


def main():
    if len(sys.argv) != 6:
        fail("usage: still_reachable.py CTXTRACE KEPT_AT_EXIT OVERWRITTEN_HANDLE SOURCE_DIR WORKDIR")
    ctxtrace, kept, overwritten, src, work = sys.argv[1:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    doc, text = report(ctxtrace, kept, work, "kept")
    source = os.path.join(src, "kept_at_exit.c")
    want = sorted([
        ("main", line_of(source, "global_ctx = ctx_with_cancel(")),
        ("main", line_of(source, "svc->ctx = ctx_with_cancel(")),
        ("serve", line_of(source, "ctx_with_timeout(ctx_background(), 60")),
    ])
    if doc["findings"]:
        fail("kept_at_exit: findings %s" % doc["findings"])
    listed = doc.get("still_reachable")
    if listed is None:
        fail("kept_at_exit: no still_reachable in the JSON report: %s" % doc)
    got = sorted((s["site"]["function"], s["site"]["line"]) for s in listed)
    if got != want:
        fail("kept_at_exit: still reachable at %s, expected %s" % (got, want))
    if any(s["count"] != 1 or s["never_cancelled"] != 1 for s in listed):
        fail("kept_at_exit: counts %s" % listed)
    if "still reachable at exit (not findings): 3 contexts" not in text:
        fail("kept_at_exit: the text report says %r" % text)

    doc, _ = report(ctxtrace, overwritten, work, "overwritten")
    lost = sum(f["count"] for f in doc["findings"] if f["rule"] == "lost-cancel")
    examples = {e for f in doc["findings"] for e in f.get("examples", [])}
    listed = {s["example"] for s in doc.get("still_reachable", [])}
    if lost != 2:
        fail("overwritten_handle: %d lost-cancel, expected 2" % lost)
    if examples & listed:
        fail("overwritten_handle: lost contexts %s also listed as still reachable" %
             sorted(examples & listed))
    print("ok: kept_at_exit lists %s; overwritten_handle's 2 lost cancels are not listed" % want)


main()
