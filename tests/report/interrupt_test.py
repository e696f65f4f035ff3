#!/usr/bin/env python3
"""ctxtrace run stays interruptible while it writes its exit report.

interrupt_test.py CTXTRACE PROGRAM WORKDIR

Runs PROGRAM (the tracer benchmark's request loop, 1.2M contexts: a report of a few
seconds) under `ctxtrace run`; as soon as ctxtrace says where the trace is — the
program has exited and been reaped, the report is starting — sends SIGTERM, then (a
second run) SIGINT. ctxtrace must stop within 2 s with 128+signal (143, 130), before
printing the report, and leave a complete trace behind.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import time

ctxtrace, program, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
    db = os.path.join(work, "loop-%d.db" % sig)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    p = subprocess.Popen([ctxtrace, "run", "-o", db, "--", program, "--requests", "300000"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in p.stderr:
        seen.append(line)
        if "trace written to" in line:
            break
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        rest = p.stderr.read()
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc, rest = None, ""
    took = time.monotonic() - t0
    name = signal.Signals(sig).name
    check(any("trace written to" in l for l in seen), "%s: ctxtrace said where the trace is" % name)
    check(rc == code, "%s during the report: exit status %s, expected %d" % (name, rc, code))
    check(took < 2.0, "%s: stopped within 2 s (%.2f s)" % (name, took))
    check("finding" not in rest, "%s: no report printed after the signal: %r" % (name, rest[:200]))
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    complete = con.execute("SELECT value FROM meta WHERE key = 'complete'").fetchone()
    con.close()
    check(complete is not None and complete[0] == 1, "%s: the trace is complete" % name)

print("%d failed" % failures if failures else "all passed")
sys.exit(1 if failures else 0)
