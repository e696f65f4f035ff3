#!/usr/bin/env python3
"""export_test.py — `ctxtrace export` read back by real consumers (label "export"):

  chrome  the Trace Event JSON checked against the format's structure (an object with
          traceEvents; complete slices with ts/dur that nest on each track, as viewers
          require; flow arrows whose both ends sit in a slice of their track; instant
          events) and against the trace: one slice per context, one instant per finding
          of `ctxtrace report`, one arrow per cancellation that came from a parent;
  pprof   the gzipped profile read by `go tool pprof -top` for each sample type, whose
          totals must be the trace's: contexts created, live at the end, and the counts
          of `ctxtrace report`'s findings, at their sites.

  chrome_threads  a trace made on 4 threads at once (id order is not creation order):
          the structural checks above, slices in creation order, every arrow's parent,
          and the same export from a copy of the trace without its indexes (a trace cut
          short: the reader walks it without them).

  chrome_devtools  the same JSON loaded by Chrome DevTools' own trace engine (the
          Performance panel's parser, an npm package install-deps.sh fetches): its tracks,
          bound flows and time range must be the export's.

usage: export_test.py TEST --ctxtrace EXE --go GO --party EXE --jobs EXE --inlined EXE
                      --threads EXE --trace-engine DIR --workdir DIR

Standard library only.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys

ARGS = None
FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def run(argv, extra_env=None, **kw):
    env = dict(os.environ, **(extra_env or {}))
    env.pop("CTXTRACE_OUTPUT", None)
    env.pop("CTXTRACE_SUPPRESSIONS", None)
    env.setdefault("HOME", ARGS.workdir)  # go wants a home for its caches
    return subprocess.run(argv, capture_output=True, text=True, timeout=300,
                          cwd=ARGS.workdir, env=env, **kw)


def ctxtrace(*argv):
    return run([ARGS.ctxtrace, *argv])


def trace_of(program, name, keep="full"):
    """A trace of program; keep="summary": summary retention sampling nothing (every
    clean context folded into its site)."""
    path = os.path.join(ARGS.workdir, name)
    p = run([ARGS.ctxtrace, "run", "--no-report", "--keep", keep, "-o", path, "--", program],
            extra_env={"CTXTRACE_KEEP_SAMPLE": "0"})
    if not os.path.exists(path):
        sys.exit("no trace from %s: %s" % (program, p.stderr))
    return path


def report(trace):
    p = ctxtrace("report", "--format", "json", trace)
    return json.loads(p.stdout)


def contexts_in(trace):
    p = ctxtrace("report", "--profile", "--format", "json", trace)
    return json.loads(p.stdout)["contexts"]


def chrome_of(trace):
    out = trace + ".json"
    p = ctxtrace("export", "--format", "chrome", "-o", out, trace)
    check(p.returncode == 0 and p.stderr == "", "export chrome: %d %r" % (p.returncode, p.stderr))
    with open(out) as f:
        return json.load(f)


def nests(intervals):
    """Slices on one track must be disjoint or nested."""
    open_ends = []
    for start, end, _ in sorted(intervals, key=lambda i: (i[0], -i[1])):
        while open_ends and open_ends[-1] <= start:
            open_ends.pop()
        if open_ends and end > open_ends[-1]:
            return False
        open_ends.append(end)
    return True


def inside(slices, tid, ts):
    return any(s <= ts <= e for s, e, _ in slices.get(tid, []))


def check_chrome(trace):
    doc = chrome_of(trace)
    if not check(isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list),
                 "the JSON is an object with a traceEvents array"):
        return
    evs = doc["traceEvents"]
    for e in evs:
        if not check(all(k in e for k in ("ph", "pid", "tid", "name")),
                     "every event has ph, pid, tid, name: %r" % e):
            return
    names = {e["tid"]: e["args"]["name"] for e in evs
             if e["ph"] == "M" and e["name"] == "thread_name"}
    check(any(e["ph"] == "M" and e["name"] == "process_name" for e in evs), "a process name")
    slices = {}
    allx = [e for e in evs if e["ph"] == "X"]
    xs = [e for e in allx if e["cat"] != "cancellation"]  # contexts, not arrow ends
    for e in xs:
        ok = (isinstance(e["ts"], (int, float)) and isinstance(e["dur"], (int, float))
              and e["dur"] >= 0 and {"id", "kind", "state"} <= set(e["args"]))
        if not check(ok, "a slice with ts, dur >= 0 and its facts in args: %r" % e):
            return
        check(e["tid"] in names, "slice on a named track: %r" % e)
    for e in allx:
        slices.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"], e))
    check(len(xs) == contexts_in(trace), "one slice per context: %d slices, %d contexts"
          % (len(xs), contexts_in(trace)))
    check(len({e["args"]["id"] for e in xs}) == len(xs), "each context once")
    for tid, s in slices.items():
        check(nests(s), "the slices of track %s (%s) nest" % (tid, names.get(tid)))
    check(all(re.match(r"thread \d+( \(\d+\))?$", n) for n in names.values()),
          "tracks are named after threads: %s" % sorted(set(names.values())))
    # Flow arrows: pairs by id, each end inside a slice of its track.
    starts = {e["id"]: e for e in evs if e["ph"] == "s"}
    ends = {e["id"]: e for e in evs if e["ph"] == "f"}
    check(set(starts) == set(ends), "every flow has both ends")
    markers = {(e["tid"], e["ts"]) for e in allx
               if e["cat"] == "cancellation" and e["dur"] == 0}
    for i, f in ends.items():
        s = starts.get(i)
        if s is None:
            continue
        check(f.get("bp") == "e" and inside(slices, s["tid"], s["ts"])
              and inside(slices, f["tid"], f["ts"]),
              "flow %s: both ends inside a slice of their track" % i)
        check((s["tid"], s["ts"]) in markers and (f["tid"], f["ts"]) in markers,
              "flow %s: both ends on a 'cancel' marker of the same time and track" % i)
    by_parent = [e for e in xs if e["args"].get("cancel_why") == "parent"]
    check(len(ends) == len(by_parent),
          "one arrow per cancellation from a parent: %d arrows, %d such contexts"
          % (len(ends), len(by_parent)))
    # Findings: one instant each, as report says.
    instants = sorted((e["args"]["rule"], e["args"]["count"], e["args"]["site"].split(" ")[0])
                      for e in evs if e["ph"] == "i")
    want = sorted((f["rule"], f["count"], f["site"]["function"]) for f in report(trace)["findings"])
    check(instants == want, "instant events %s, report's findings %s" % (instants, want))
    return doc, ends


def test_chrome():
    jobs = trace_of(ARGS.jobs, "jobs.db")
    got = check_chrome(jobs)
    if got:
        check(any(e["ph"] == "i" for e in got[0]["traceEvents"]),
              "the leaky job processor's orphaned timers are instant events")
        x = [e for e in got[0]["traceEvents"] if e["ph"] == "X"]
        check(any(e["args"].get("site", "").startswith("run_job ") for e in x),
              "run_job's contexts carry their site")
    party = trace_of(ARGS.party, "party.db")
    got = check_chrome(party)
    if got:
        check(len(got[1]) >= 4, "the party's cancel reaches its errands: %d arrows" % len(got[1]))


def without_indexes(trace, name):
    """A copy of trace without its secondary indexes, as a trace cut short is."""
    path = os.path.join(ARGS.workdir, name)
    shutil.copyfile(trace, path)
    db = sqlite3.connect(path)
    names = [n for (n,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]
    check(len(names) > 0, "the trace has indexes to drop")
    for n in names:
        db.execute("DROP INDEX " + n)
    db.commit()
    db.close()
    return path


def test_chrome_threads():
    trace = trace_of(ARGS.threads, "threads.db")
    got = check_chrome(trace)
    if not got:
        return
    doc, ends = got
    db = sqlite3.connect(trace)
    rows = db.execute("SELECT id, ifnull(created_ns, 0), parent_id, cancel_why "
                      "FROM contexts WHERE id > 2").fetchall()
    db.close()
    by_id = sorted(r[0] for r in rows)
    by_time = [r[0] for r in sorted(rows, key=lambda r: (r[1], r[0]))]
    check(by_id != by_time, "the threads' trace is not in creation order by id")
    xs = [e for e in doc["traceEvents"] if e["ph"] == "X" and e["cat"] != "cancellation"]
    check([e["args"]["id"] for e in xs] == by_time, "slices in creation order")
    # Each arrow ends on its context's slice's track and starts on its parent's.
    tid = {e["args"]["id"]: e["tid"] for e in xs}
    starts = {e["id"]: e for e in doc["traceEvents"] if e["ph"] == "s"}
    parent = {r[0]: r[2] for r in rows}
    by_parent = [r[0] for r in rows if r[3] == "parent"]
    check(len(by_parent) >= 4 * 3000 * 2 and sorted(ends) == sorted(by_parent),
          "an arrow for each of the %d cancellations from a parent: %d" % (len(by_parent),
                                                                           len(ends)))
    bad = [i for i in ends if ends[i]["tid"] != tid[i] or starts[i]["tid"] != tid[parent[i]]]
    check(not bad, "arrows from the parent's track to the child's: %d wrong, e.g. %s"
          % (len(bad), bad[:3]))
    check(len({tid[i] for i in ends} - {tid[parent[i]] for i in ends}) > 0,
          "arrows across threads")
    # A trace cut short has no indexes: the same export.
    bare = without_indexes(trace, "threads-noindex.db")
    p = ctxtrace("export", "--format", "chrome", "-o", bare + ".json", bare)
    check(p.returncode == 0 and p.stderr == "", "export chrome without indexes: %d %r"
          % (p.returncode, p.stderr))
    with open(trace + ".json") as f:
        want = f.read().replace(json.dumps(trace), json.dumps(bare))
    with open(bare + ".json") as f:
        check(f.read() == want, "without indexes: the same export")


def test_chrome_devtools():
    """Chrome DevTools' own trace engine reads the export: the tracks it builds are the
    export's threads with every slice, it binds every cancellation arrow, and its time
    range is the trace's."""
    for program, name in ((ARGS.jobs, "jobs.db"), (ARGS.party, "party.db")):
        trace = trace_of(program, name)
        doc = chrome_of(trace)
        evs = doc["traceEvents"]
        p = run(["node", os.path.join(os.path.dirname(__file__), "devtools_check.mjs"),
                 ARGS.trace_engine, trace + ".json"])
        if not check(p.returncode == 0, "DevTools' trace engine rejects %s.json: %s"
                     % (name, p.stderr[-1000:])):
            continue
        got = json.loads(p.stdout)
        print("%s: DevTools' trace engine: %s" % (name, got))
        names = {e["tid"]: e["args"]["name"] for e in evs
                 if e["ph"] == "M" and e["name"] == "thread_name"}
        want = {}
        for e in evs:
            if e["ph"] == "X":
                want[names[e["tid"]]] = want.get(names[e["tid"]], 0) + 1
        check(got["threads"] == want, "%s: DevTools' tracks %s, the export's %s"
              % (name, got["threads"], want))
        starts = {e["id"]: e["ts"] for e in evs if e["ph"] == "s"}
        ends = {e["id"]: e["ts"] for e in evs if e["ph"] == "f"}
        # DevTools keys a flow's events by time: an arrow whose ends share one is dropped.
        arrows = sum(1 for i in ends if starts.get(i) is not None and starts[i] != ends[i])
        check(got["flows"] == arrows and arrows > 0, "%s: DevTools bound %d flows, the export "
              "has %d arrows" % (name, got["flows"], arrows))
        x = [e for e in evs if e["ph"] in ("X", "i")]
        span = max(e["ts"] + e.get("dur", 0) for e in x) - min(e["ts"] for e in x)
        check(abs(got["range_us"] - span) < 1, "%s: DevTools' range %.3f us, the export's %.3f"
              % (name, got["range_us"], span))


def pprof_top(profile, index):
    p = run([ARGS.go, "tool", "pprof", "-top", "-sample_index=" + index, profile])
    check(p.returncode == 0, "go tool pprof -top -sample_index=%s: %d %s"
          % (index, p.returncode, p.stderr))
    m = re.search(r"Total samples = (\d+)", p.stdout)
    total = int(m.group(1)) if m else None
    flat = {}
    for line in p.stdout.splitlines():
        m = re.match(r"\s*(\d+)\s+\S+%\s+\S+%\s+(\d+)\s+\S+%\s+(.+)$", line)
        if m:
            flat[m.group(3)] = int(m.group(1))
    print("$ go tool pprof -top -sample_index=%s %s\n%s" % (index, profile, p.stdout))
    return total, flat


def check_pprof(trace):
    out = trace + ".pb.gz"
    p = ctxtrace("export", "--format", "pprof", "-o", out, trace)
    if not check(p.returncode == 0 and p.stderr == "", "export pprof: %r" % p.stderr):
        return
    with open(out, "rb") as f:
        check(f.read(2) == b"\x1f\x8b", "the profile is gzipped")
    gzip.open(out).read()
    total, flat = pprof_top(out, "contexts_created")
    check(total == contexts_in(trace), "contexts_created totals %s, the trace has %d"
          % (total, contexts_in(trace)))
    rep = report(trace)["findings"]
    total, flat = pprof_top(out, "named_by_findings")
    check(total == sum(f["count"] for f in rep), "named_by_findings totals %s, findings %s"
          % (total, [(f["rule"], f["count"]) for f in rep]))
    for f in rep:
        fn = f["site"]["function"]
        check(flat.get(fn, 0) >= f["count"], "%s's %d at %s in the profile: %s"
              % (f["rule"], f["count"], fn, flat))
    total, _ = pprof_top(out, "live_at_end")
    check(total is not None, "live_at_end is a sample type")


def test_pprof():
    check_pprof(trace_of(ARGS.jobs, "jobs.db"))
    check_pprof(trace_of(ARGS.party, "party.db"))
    # A summary trace: contexts_created counts the folded contexts at their stacks too.
    check_pprof(trace_of(ARGS.party, "party_summary.db", keep="summary"))


def test_pprof_inlined():
    """Inlined calls are Lines of their physical frame's Location (profile.proto's
    convention), which pprof shows as "(inline)": the -O2 build of inlined_sites, whose
    leaks are made in functions inlined into worker()."""
    trace = trace_of(ARGS.inlined, "inlined.db")
    out = trace + ".pb.gz"
    p = ctxtrace("export", "--format", "pprof", "-o", out, trace)
    if not check(p.returncode == 0, "export pprof: %r" % p.stderr):
        return
    p = run([ARGS.go, "tool", "pprof", "-traces", "-sample_index=named_by_findings", out])
    print(p.stdout)
    text = "\n".join(l.strip() for l in p.stdout.splitlines())
    check(p.returncode == 0 and
          re.search(r"call_backend \(inline\)\nhandle_request \(inline\)\nworker\n", text),
          "call_backend and handle_request inlined into worker: %s %s" % (text, p.stderr))


def test_errors():
    trace = trace_of(ARGS.party, "party.db")
    for argv, says in ((["export", trace], "--format chrome or --format pprof is required"),
                       (["export", "--format", "svg", trace], "unknown format 'svg'"),
                       (["export", "--format", "chrome"], "no trace file given"),
                       (["export", "--format", "chrome", "missing.db"], "missing.db"),
                       (["export", "--format", "pprof", "-o", "/nonexistent/p.pb.gz", trace],
                        "cannot write /nonexistent/p.pb.gz.tmp")):
        p = ctxtrace(*argv)
        check(p.returncode == 2 and p.stderr.count("\n") == 1 and says in p.stderr
              and p.stdout == "", "ctxtrace %s: exit %d, %r" % (argv, p.returncode, p.stderr))
    # To stdout: the same bytes as -o.
    p = run([ARGS.ctxtrace, "export", "--format", "chrome", trace])
    check(p.returncode == 0 and json.loads(p.stdout)["traceEvents"], "chrome to stdout")


TESTS = {"chrome": test_chrome, "chrome_devtools": test_chrome_devtools,
         "chrome_threads": test_chrome_threads, "pprof": test_pprof,
         "pprof_inlined": test_pprof_inlined, "errors": test_errors}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("test", choices=sorted(TESTS))
    ap.add_argument("--ctxtrace", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--party", required=True)
    ap.add_argument("--jobs", required=True)
    ap.add_argument("--inlined", required=True)
    ap.add_argument("--threads", required=True)
    ap.add_argument("--trace-engine", required=True)
    ap.add_argument("--workdir", required=True)
    ARGS = ap.parse_args()
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    TESTS[ARGS.test]()
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        return 1
    print("ok: " + ARGS.test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
