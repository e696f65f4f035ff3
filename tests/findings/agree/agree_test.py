#!/usr/bin/env python3
"""The inspector, the live stream and the report agree on every context's state.

agree_test.py CTXTRACE AGREE SHAPES WORKDIR

Runs SHAPES (every rule's shape: shapes.c) under `ctxtrace run`; while it waits, with
all its contexts in place, takes the live snapshot with `ctxtrace tail` (the shim's live
model: its lost-cancel/orphaned-timer flags are the verdict on what it has seen); lets
it exit; then reads the trace with AGREE (the reader's state filter, the rules' counts,
and every context's verdict as the inspector's tree and timeline compute it) and with
`ctxtrace report --format json`. Every path must call the same contexts leaked, and
every rule must have its finding.
"""
import json
import os
import subprocess
import sys
import time

ctxtrace, agree, shapes, work = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
db = os.path.join(work, "shapes.db")
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(db + suffix):
        os.remove(db + suffix)
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


run = subprocess.Popen([ctxtrace, "run", "--no-report", "-o", db, "--", shapes],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
check(run.stdout.readline().strip() == "ready", "shapes has every context in place")
# The traced program is ctxtrace's child.
pid = None
for _ in range(100):
    try:
        with open("/proc/%d/task/%d/children" % (run.pid, run.pid)) as f:
            kids = f.read().split()
        if kids:
            pid = int(kids[0])
            break
    except OSError:
        pass
    time.sleep(0.05)
check(pid is not None, "found the traced process")
tail = subprocess.run([ctxtrace, "tail", "--seconds", "1", str(pid)], capture_output=True,
                      text=True, timeout=60)
run.stdin.write("go\n")
run.stdin.close()
run.wait(timeout=60)
check(run.returncode == 0, "ctxtrace run exited 0 (%s)" % run.stderr.read().strip()[-300:])

snapshot = {}
for line in tail.stdout.splitlines():
    msg = json.loads(line)
    if msg["type"] == "snapshot_end":
        break
    if msg["type"] == "context":
        leaks = [r for r in msg.get("findings", []) if r in ("lost-cancel", "orphaned-timer")]
        snapshot[msg["id"]] = leaks[0] if leaks else "none"
check(len(snapshot) > 20, "the live snapshot has the program's contexts (%d)" % len(snapshot))

out = subprocess.run([agree, db], capture_output=True, text=True)
check(out.returncode == 0, "agree read the trace (%s)" % out.stderr.strip())
lines = out.stdout.splitlines()
counts = dict(l.split() for l in lines if not l.startswith("ctx "))
verdict = {}
for l in lines:
    if l.startswith("ctx "):
        _, cid, state, leak = l.split()
        verdict[int(cid)] = (state, leak)
leaked = sum(1 for s, leak in verdict.values() if leak != "none")
check(leaked > 0, "the trace has leaked contexts (%d)" % leaked)
check(int(counts["filter"]) == leaked,
      "the inspector's state filter selects the contexts the verdict calls leaked (%s vs %d)"
      % (counts["filter"], leaked))
check(int(counts["findings"]) == leaked,
      "the rules count exactly them (%s vs %d)" % (counts["findings"], leaked))
check(all((s == "leaked") == (leak != "none") for s, leak in verdict.values()),
      "a context is in state leaked exactly when the verdict names its leak")

disagree = []
for cid, live_leak in snapshot.items():
    if cid not in verdict:
        continue
    leak = verdict[cid][1]
    if leak == "lost-at-exit":
        leak = "none"  # only the end of the trace can tell; the snapshot came before
    if live_leak != leak:
        disagree.append((cid, live_leak, verdict[cid]))
check(not disagree, "the live stream's flags match the trace's verdict on every context: %s" % disagree[:5])
check(any(v == "lost-cancel" for v in snapshot.values()) and
      any(v == "orphaned-timer" for v in snapshot.values()),
      "the live snapshot flags a lost cancel and an orphaned timer")

rep = subprocess.run([ctxtrace, "report", "--format", "json", db], capture_output=True, text=True)
doc = json.loads(rep.stdout)
rules = {f["rule"] for f in doc["findings"]}
report_leaked = sum(f["count"] for f in doc["findings"]
                    if f["rule"] in ("lost-cancel", "orphaned-timer"))
check(report_leaked == leaked, "ctxtrace report counts the same contexts (%d vs %d)" % (report_leaked, leaked))
want = {"lost-cancel", "orphaned-timer", "leaked-waiter", "derived-from-done",
        "value-chain-growth", "detached-root", "ineffective-deadline"}
check(want <= rules, "every rule's shape has its finding: missing %s" % sorted(want - rules))

print("%d failed" % failures if failures else "all passed")
sys.exit(1 if failures else 0)
