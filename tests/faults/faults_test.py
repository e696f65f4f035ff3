#!/usr/bin/env python3
"""faults_test.py — the fault-injection suite (ctest label "faults").

A multi-threaded traced workload (fault_prog.c) is killed, crashed, exited, forked,
starved of disk and attacked from both sides of its live socket, many times over.
After every fault:
  - every trace file opens through the trace core (`ctxtrace report` exits 0 or 1);
  - a copy of it passes PRAGMA integrity_check;
  - for every worker thread, the contexts the trace holds are exactly the first k the
    program reported creating (a prefix, no holes), k at most one more than reported
    (a context is reported just after it is made);
  - a trace says complete=1 only if nothing the program reported is missing;
  - no file that is not a trace was removed or changed ("files destroyed": must be 0).
"Contexts lost" counts what the program reported creating and the trace lacks: the
events of the last few milliseconds before an unannounced death (SIGKILL, SIGSEGV,
abort, _exit), or made after the shim stopped recording at an announced one.

It prints one table: faults injected, traces valid, contexts lost, files destroyed.
"""
import argparse
import atexit
import collections
import hashlib
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

ARGS = None
FAILURES = []
# fault -> [injected, traces valid, traces checked, contexts lost, files destroyed]
TABLE = collections.OrderedDict()


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


def row(fault):
    return TABLE.setdefault(fault, [0, 0, 0, 0, 0])


def fresh(*parts):
    d = os.path.join(ARGS.workdir, *parts)
    if os.path.exists(d):
        subprocess.run(["umount", d], stderr=subprocess.DEVNULL)
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Sentinels:
    """Files of the user's beside the traces: a note, a SQLite file that is not a trace,
    an empty file. None may ever change or disappear."""

    def __init__(self, d):
        self.files = {}
        for name, data in (("notes.txt", b"my notes\n"), ("empty.db", b""),
                           ("other.db", None)):
            p = os.path.join(d, name)
            if data is None:
                con = sqlite3.connect(p)
                con.execute("CREATE TABLE mine(x)")
                con.commit()
                con.close()
            else:
                with open(p, "wb") as f:
                    f.write(data)
            self.files[p] = digest(p)

    def destroyed(self):
        n = 0
        for p, h in self.files.items():
            if not os.path.exists(p) or digest(p) != h:
                print("destroyed: " + p, flush=True)
                n += 1
        return n


def env(extra=None):
    e = dict(os.environ)
    e.update({"CTXTRACE_SOCKET": "off", "CTXTRACE_SAMPLE_MS": "20"})
    e.update(extra or {})
    return e


def wait_pid(report, timeout=20):
    """The program's pid, from the first line of its report."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(report) as f:
                first = f.readline().split()
            if len(first) == 3 and first[0] == "pid":
                return int(first[1])
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    raise SystemExit("the program never reported its pid (%s)" % report)


STARTED = []  # every traced run: none may outlive the suite, however it ends


@atexit.register
def stop_everything():
    # SIGTERM first: `ctxtrace run` passes it on to its program, so neither outlives us.
    for p in STARTED:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start(d, mode, threads, delay_ms, out="t.db", extra_env=None, force=False,
          report="report.txt"):
    report = os.path.join(d, report)
    cmd = [ARGS.ctxtrace, "run", "--no-report"] + (["--force"] if force else []) + \
          ["-o", os.path.join(d, out), "--", ARGS.prog, report, mode, str(threads),
           str(delay_ms)]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env(extra_env))
    STARTED.append(p)
    return p, report


def finish(p, timeout=120):
    _, err = p.communicate(timeout=timeout)
    return p.returncode, err.decode()


def report_lines(report):
    """(worker, sequence number, microseconds since the program started) per line."""
    lines = []
    with open(report) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] != "pid" and all(p.isdigit() for p in parts):
                lines.append(tuple(int(p) for p in parts))
    return lines


def started_us(report):
    """The program's start on CLOCK_MONOTONIC, in microseconds (its "start" line)."""
    with open(report) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4 and parts[0] == "start":
                return int(parts[1])
    return None


def reported(report):
    """worker -> the highest sequence number the program reported."""
    last = collections.Counter()
    for w, n, _ in report_lines(report):
        last[w] = max(last[w], n)
    return last


def opens_through_core(path):
    r = subprocess.run([ARGS.ctxtrace, "report", path], capture_output=True, text=True,
                       env=env(), timeout=120)
    # 2 with the report printed: a trace the tracer could not finish writing (disk full).
    return check(r.returncode in (0, 1) or
                 (r.returncode == 2 and "the tracer could not write it" in r.stderr and
                  r.stdout.startswith("ctxtrace: ")),
                 "%s does not open through the core: exit %d %s" % (path, r.returncode,
                                                                     r.stderr.strip()))


def copy_of(path):
    """A copy of the trace with its -wal and -shm, for SQLite's own checks: checking
    the original with a read-write connection would change it."""
    d = os.path.join(ARGS.workdir, "scratch")
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            shutil.copyfile(path + suffix, os.path.join(d, "t.db" + suffix))
    return os.path.join(d, "t.db")


def integrity(path):
    con = sqlite3.connect(copy_of(path))
    try:
        result = con.execute("PRAGMA integrity_check").fetchall()
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        causes = [c for (c,) in con.execute(
            "SELECT cancel_cause FROM contexts WHERE kind = 'cancel' AND cancel_cause >= 1000000")]
    finally:
        con.close()
    ok = check(result == [("ok",)], "%s: integrity_check says %r" % (path, result[:3]))
    return ok, meta, causes


def verify(fault, path, report, complete=None, cut=None):
    """All the checks of one trace against the report of the program that wrote it.
    complete: True/False when the outcome is promised, None when either is honest.
    cut: True when recording was cut while workers ran (SIGTERM, exit from a worker, a
    full disk): the trace must count what it missed; False: it must say it missed
    nothing; None: a death without a flush (no count)."""
    r = row(fault)
    r[2] += 1
    if not check(os.path.exists(path), "%s: %s: no trace" % (fault, path)):
        return
    ok = opens_through_core(path)
    good, meta, causes = integrity(path)
    ok = ok and good
    have = collections.defaultdict(list)
    for c in causes:
        have[c // 1000000 - 1].append(c % 1000000)
    said = reported(report)
    # Reported before the trace's end (meta.end_ns, taken before the counts of what came
    # after the cut): those the trace lacks must be counted. A context made after the
    # file closed, while the process was still dying, cannot be (docs/trace-file.md).
    start = started_us(report)
    end_us = int(meta["end_ns"]) // 1000 if meta.get("end_ns") not in (None, "") else None
    before_end = collections.Counter()
    if start is not None and end_us is not None:
        for w, n, us in report_lines(report):
            if start + us <= end_us:
                before_end[w] = max(before_end[w], n)
    lost = lost_before_end = 0
    for w in set(have) | set(said):
        ns = sorted(have[w])
        ok = check(ns == list(range(1, len(ns) + 1)),
                   "%s: %s: worker %d's contexts are not a prefix (%d held, first hole "
                   "after %s)" % (fault, path, w, len(ns),
                                  next((i for i, n in enumerate(ns, 1) if n != i), None))) and ok
        ok = check(len(ns) <= said[w] + 1, "%s: %s: worker %d: %d contexts traced, %d reported"
                   % (fault, path, w, len(ns), said[w])) and ok
        lost += max(0, said[w] - len(ns))
        lost_before_end += max(0, (before_end[w] if end_us is not None else said[w]) - len(ns))
    is_complete = str(meta.get("complete")) == "1"
    if cut is not None:
        ok = check_cut(fault, path, meta, lost, lost_before_end, len(said), cut) and ok
    if complete is not None:
        ok = check(is_complete == complete, "%s: %s: complete=%s, expected %s"
                   % (fault, path, meta.get("complete"), int(complete))) and ok
    if is_complete and complete is None:
        ok = check(lost == 0, "%s: %s: complete=1 but %d contexts missing"
                   % (fault, path, lost)) and ok
    r[1] += ok
    r[3] += lost


def check_cut(fault, path, meta, lost, lost_before_end, workers, cut):
    """What the trace says it did not see against what the program reported. Every
    iteration creates two contexts; a context the program reported before the trace's
    end and the trace lacks was created after the cut, so the count (taken as the file
    closes, after end_ns) covers every such one; it counts at most the lost iterations
    and each worker's unreported last one."""
    after = int(meta.get("contexts_after_cut", -1))
    events = int(meta.get("events_after_cut", -1))
    ok = check(int(meta.get("events_dropped", -1)) == 0,
               "%s: %s: events_dropped=%s" % (fault, path, meta.get("events_dropped")))
    if not cut:
        return check(after == 0 and events == 0 and lost == 0,
                     "%s: %s: a clean end, yet contexts_after_cut=%d events_after_cut=%d "
                     "(%d reported contexts missing)" % (fault, path, after, events, lost)) and ok
    ok = check(after >= lost_before_end, "%s: %s: %d reported contexts missing (%d of them "
               "reported before the trace's end), the trace counts %d created after the cut"
               % (fault, path, lost, lost_before_end, after)) and ok
    ok = check(after <= 2 * (lost + workers), "%s: %s: contexts_after_cut=%d, more than "
               "the %d lost iterations and %d workers made" % (fault, path, after, lost,
                                                              workers)) and ok
    return check(events >= after, "%s: %s: events_after_cut=%d < contexts_after_cut=%d"
                 % (fault, path, events, after)) and ok


def cleanup(d):
    for f in os.listdir(d):
        if f.endswith((".db", ".db-wal", ".db-shm")) and f not in ("empty.db", "other.db"):
            os.unlink(os.path.join(d, f))
    if os.path.exists(os.path.join(d, "report.txt")):
        os.unlink(os.path.join(d, "report.txt"))


# ---- signals from outside and deaths from inside ----------------------------------------

def killed_from_outside(fault, sig, runs, rng):
    d = fresh(fault)
    s = Sentinels(d)
    for _ in range(runs):
        p, report = start(d, "run", 4, 0)
        pid = wait_pid(report)
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(pid, sig)
        code, err = finish(p)
        row(fault)[0] += 1
        check(code == 128 + sig, "%s: ctxtrace run exited %d: %s" % (fault, code, err))
        verify(fault, os.path.join(d, "t.db"), report,
               complete=(sig == signal.SIGTERM),
               cut=True if sig == signal.SIGTERM else None)
        cleanup(d)
    row(fault)[4] += s.destroyed()


def died_inside(fault, mode, status, complete, runs, rng, cut=None):
    d = fresh(fault.replace(" ", "_"))
    s = Sentinels(d)
    for _ in range(runs):
        p, report = start(d, mode, 4, rng.randint(0, 300))
        code, err = finish(p)
        row(fault)[0] += 1
        check(code == status, "%s: ctxtrace run exited %d, expected %d: %s"
              % (fault, code, status, err))
        verify(fault, os.path.join(d, "t.db"), report, complete=complete, cut=cut)
        cleanup(d)
    row(fault)[4] += s.destroyed()


def early_crash(runs):
    """A crash 40 ms in leaves those 40 ms, up to the last drains: the writer commits rows
    every 5 ms from the start and symbolizes stacks only later (the symbolizer's first
    look at the C library takes ~50 ms, and used to hold the first commit: such a trace
    was empty). Every context the program reported more than SLACK_MS before the crash
    must be in the trace: 30 ms of slack, for a loaded machine's scheduling (with 20, one
    run in a parallel ctest at load 8 held nothing of two workers)."""
    fault = "crash 40 ms in"
    SLACK_MS = 30
    d = fresh("early_crash")
    for _ in range(runs):
        p, report = start(d, "segv", 4, 40)
        code, err = finish(p)
        row(fault)[0] += 1
        check(code == 128 + signal.SIGSEGV, "%s: ctxtrace run exited %d: %s"
              % (fault, code, err))
        path = os.path.join(d, "t.db")
        verify(fault, path, report, complete=False)
        lines = report_lines(report)
        crash_us = max((us for _, _, us in lines), default=0)
        old = collections.Counter()
        for w, n, us in lines:
            if us < crash_us - SLACK_MS * 1000:
                old[w] = max(old[w], n)
        con = sqlite3.connect(copy_of(path))
        held = collections.Counter()
        for (c,) in con.execute("SELECT cancel_cause FROM contexts WHERE kind = 'cancel' "
                                "AND cancel_cause >= 1000000"):
            held[c // 1000000 - 1] = max(held[c // 1000000 - 1], c % 1000000)
        con.close()
        check(sum(old.values()) > 0, "%s: the program reported nothing %d ms before its "
              "crash (%.1f ms in)" % (fault, SLACK_MS, crash_us / 1000))
        for w in old:
            check(held[w] >= old[w], "%s: worker %d reported %d contexts more than %d ms "
                  "before the crash (%.1f ms in); the trace holds %d"
                  % (fault, w, old[w], SLACK_MS, crash_us / 1000, held[w]))
        print("%s: crash at %.1f ms, trace holds %d of %d reported contexts"
              % (fault, crash_us / 1000, sum(held.values()), len(lines)), flush=True)
        cleanup(d)


def fork_storm(fault, mode, files_per_child, runs):
    d = fresh(fault.replace(" ", "_"))
    s = Sentinels(d)
    for _ in range(runs):
        p, report = start(d, mode, 2, 100)
        code, err = finish(p)
        row(fault)[0] += 1
        check(code == 0, "%s: ctxtrace run exited %d: %s" % (fault, code, err))
        traces = sorted(f for f in os.listdir(d)
                        if f.endswith(".db") and f not in ("empty.db", "other.db"))
        check(len(traces) == 1 + 16 * files_per_child,
              "%s: %d trace files, expected %d" % (fault, len(traces), 1 + 16 * files_per_child))
        verify(fault, os.path.join(d, "t.db"), report, complete=True, cut=False)
        for t in traces:
            if t == "t.db":
                continue
            row(fault)[2] += 1
            path = os.path.join(d, t)
            ok = opens_through_core(path)
            good, meta, _ = integrity(path)
            ok = check(str(meta.get("complete")) == "1", "%s: %s is incomplete" % (fault, t)) \
                and ok and good
            row(fault)[1] += ok
        cleanup(d)
    row(fault)[4] += s.destroyed()


# ---- the disk filling up ---------------------------------------------------------------

def disk_full():
    fault = "disk full"
    if os.geteuid() != 0:
        print("SKIP disk full: mounting a small tmpfs needs root (CI runs as root)", flush=True)
        return
    d = fresh("disk_full")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=384k", "tmpfs", d]).returncode != 0:
        print("SKIP disk full: cannot mount a tmpfs here", flush=True)
        return
    try:
        s = Sentinels(d)
        report = os.path.join(ARGS.workdir, "disk_full.report.txt")
        if os.path.exists(report):
            os.unlink(report)
        cmd = [ARGS.ctxtrace, "run", "--no-report", "-o", os.path.join(d, "t.db"), "--",
               ARGS.prog, report, "stop", "4", "1500"]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=120)
        row(fault)[0] += 1
        check(p.returncode == 2 and "the trace is incomplete: the tracer could not write it "
              "(commit: database or disk is full)" in p.stderr,
              "disk full: ctxtrace run should warn and exit 2: %d %r" % (p.returncode, p.stderr))
        path = os.path.join(d, "t.db")
        _, meta, _ = integrity(path)
        # write_error, then the end meta (exit_reason, the counts), are written in the
        # space the shim's ballast gives back at the error (preload/src/ballast.h): both
        # must be there, and the trace must count what it missed.
        verify(fault, path, report, complete=False, cut=True)
        check(meta.get("write_error") == "commit: database or disk is full" and
              meta.get("exit_reason") == "exit",
              "disk full: meta says write_error=%r exit_reason=%r" % (meta.get("write_error"),
                                                                     meta.get("exit_reason")))
        r = subprocess.run([ARGS.ctxtrace, "report", path], capture_output=True, text=True,
                           env=env(), timeout=120)
        check(r.returncode == 2 and r.stderr.count("\n") == 1 and
              "the trace is incomplete: the tracer could not write it" in r.stderr and
              "note: the trace is incomplete: the tracer could not write it" in r.stdout and
              "came after recording stopped (at the write error)" in r.stdout,
              "disk full: report should print the report, warn and exit 2: %d %r %r"
              % (r.returncode, r.stdout, r.stderr))
        row(fault)[4] += s.destroyed()
    finally:
        subprocess.run(["umount", d])


# ---- two runs on one -o, and -o on a user's file ----------------------------------------

def one_output():
    fault = "two runs, one -o"
    d = fresh("one_output")
    s = Sentinels(d)
    a, report = start(d, "stop", 2, 1500, out="a.db")
    wait_pid(report)
    time.sleep(0.1)
    b_report = os.path.join(d, "b.txt")
    for extra in ([], ["--force"]):
        b = subprocess.run([ARGS.ctxtrace, "run", "--no-report"] + extra +
                           ["-o", os.path.join(d, "a.db"), "--", ARGS.prog, b_report, "stop", "1",
                            "10"], capture_output=True, text=True, env=env(), timeout=60)
        row(fault)[0] += 1
        check(b.returncode == 2 and len(b.stderr.splitlines()) == 1 and
              not os.path.exists(b_report),
              "a second run %s on a live trace must be refused before it starts: %d %r"
              % (" ".join(extra), b.returncode, b.stderr))
    code, err = finish(a)
    check(code == 0, "run A exited %d: %s" % (code, err))
    verify(fault, os.path.join(d, "a.db"), report, complete=True, cut=False)
    # -o naming files that are not traces: refused, untouched.
    for name in ("notes.txt", "empty.db", "other.db", "."):
        r = subprocess.run([ARGS.ctxtrace, "run", "--force", "-o", os.path.join(d, name), "--",
                            ARGS.prog, b_report, "stop", "1", "10"],
                           capture_output=True, text=True, env=env(), timeout=60)
        row(fault)[0] += 1
        check(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and
              ("not a ctxtrace trace" in r.stderr or "it is a directory" in r.stderr),
              "-o %s (not a trace) must be refused: %d %r" % (name, r.returncode, r.stderr))
    # Four runs started at once on one new name: exactly one gets it.
    os.unlink(report)
    runs = [start(d, "stop", 1, 200, out="race.db") for _ in range(4)]
    codes = [finish(p)[0] for p, _ in runs]
    row(fault)[0] += 1
    check(sorted(codes) == [0, 2, 2, 2], "four runs on one new -o: exits %s" % codes)
    verify(fault, os.path.join(d, "race.db"), report, complete=True)
    row(fault)[4] += s.destroyed()


# ---- reading a trace on read-only media -------------------------------------------------

def read_only():
    fault = "read-only trace"
    d = fresh("read_only")
    # A complete trace, and one killed mid-run (its -wal and -shm beside it).
    p, report = start(d, "stop", 2, 200, out="done.db", report="done.txt")
    finish(p)
    p, report = start(d, "run", 2, 0, out="killed.db", report="killed.txt")
    pid = wait_pid(report)
    time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    finish(p)
    check(os.path.exists(os.path.join(d, "killed.db-wal")), "a killed trace keeps its -wal")
    # And the same killed trace with its -wal but no -shm.
    for suffix in ("", "-wal"):
        shutil.copyfile(os.path.join(d, "killed.db" + suffix),
                        os.path.join(d, "walonly.db" + suffix))
    ro = fresh("read_only_media")
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", ro]).returncode == 0
    for f in os.listdir(d):
        if f.endswith((".db", "-wal", "-shm")):
            shutil.copyfile(os.path.join(d, f), os.path.join(ro, f))
    try:
        if mounted:
            check(subprocess.run(["mount", "-o", "remount,ro", ro]).returncode == 0,
                  "remounting the tmpfs read-only")
        else:
            for f in os.listdir(ro):
                os.chmod(os.path.join(ro, f), 0o444)
            os.chmod(ro, 0o555)
        before = {f: digest(os.path.join(ro, f)) for f in os.listdir(ro)}
        for t in ("done.db", "killed.db"):
            row(fault)[0] += 1
            row(fault)[2] += 1
            r = subprocess.run([ARGS.ctxtrace, "report", os.path.join(ro, t)],
                               capture_output=True, text=True, env=env(), timeout=60)
            ok = check(r.returncode in (0, 1), "report %s on read-only media: %d %r"
                       % (t, r.returncode, r.stderr))
            row(fault)[1] += ok
        # A -wal without its -shm cannot be read without creating the -shm: a clear
        # one-line error, not a write.
        row(fault)[0] += 1
        r = subprocess.run([ARGS.ctxtrace, "report", os.path.join(ro, "walonly.db")],
                           capture_output=True, text=True, env=env(), timeout=60)
        check(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and
              "copy the -shm along with it" in r.stderr,
              "report on a -wal without its -shm: %d %r" % (r.returncode, r.stderr))
        after = {f: digest(os.path.join(ro, f)) for f in os.listdir(ro)}
        destroyed = len(set(before) ^ set(after)) + sum(before[f] != after.get(f)
                                                          for f in before)
        check(destroyed == 0, "reading changed the read-only directory: %s -> %s"
              % (sorted(before), sorted(after)))
        row(fault)[4] += destroyed
        # In a writable directory too, reading leaves nothing beside the file.
        w = fresh("read_writable")
        shutil.copyfile(os.path.join(d, "done.db"), os.path.join(w, "done.db"))
        for suffix in ("", "-wal"):
            shutil.copyfile(os.path.join(d, "killed.db" + suffix),
                            os.path.join(w, "walonly.db" + suffix))
        before = sorted(os.listdir(w))
        for t in ("done.db", "walonly.db"):
            subprocess.run([ARGS.ctxtrace, "report", os.path.join(w, t)],
                           capture_output=True, env=env(), timeout=60)
        check(sorted(os.listdir(w)) == before, "reading left files behind: %s -> %s"
              % (before, sorted(os.listdir(w))))
    finally:
        if mounted:
            subprocess.run(["umount", ro])
        else:
            os.chmod(ro, 0o755)


# ---- hostile peers on both sides of the socket ------------------------------------------

def hostile_clients():
    fault = "hostile clients"
    d = fresh("hostile_clients")
    os.chmod(d, 0o700)
    s = Sentinels(d)
    sock = os.path.join(d, "s.sock")
    p, report = start(d, "stop", 4, 1500, extra_env={"CTXTRACE_SOCKET": sock})
    wait_pid(report)
    end = time.monotonic() + 5
    while not os.path.exists(sock) and time.monotonic() < end:
        time.sleep(0.01)
    held = []
    for i in range(80):  # connect and never read
        c = socket.socket(socket.AF_UNIX)
        try:
            c.connect(sock)
            held.append(c)
        except OSError:
            break
    for i in range(200):  # garbage, and connect/disconnect churn
        c = socket.socket(socket.AF_UNIX)
        try:
            c.connect(sock)
            if i % 2 == 0:
                c.sendall(os.urandom(4096))
        except OSError:
            pass
        c.close()
    row(fault)[0] += 1
    code, err = finish(p)
    for c in held:
        c.close()
    check(code == 0, "hostile clients: the program exited %d: %s" % (code, err))
    verify(fault, os.path.join(d, "t.db"), report, complete=True, cut=False)
    row(fault)[4] += s.destroyed()


def hostile_server():
    fault = "hostile server"
    d = fresh("hostile_server")
    os.chmod(d, 0o700)
    for mode, want_code, want_err in (("sites", 0, "distinct sites"), ("garbage", 2, "")):
        sock = os.path.join(d, mode + ".sock")
        srv = subprocess.Popen([ARGS.hostile, sock, mode], stdout=subprocess.PIPE)
        STARTED.append(srv)
        check(srv.stdout.readline() == b"listening\n", "the hostile server did not start")
        t = subprocess.Popen([ARGS.ctxtrace, "tail", "--seconds", "3", sock],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = t.stderr.read().decode()
        _, status, usage = os.wait4(t.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if srv.poll() is None:
            srv.kill()
        srv.wait(timeout=30)
        row(fault)[0] += 1
        rss_mb = usage.ru_maxrss / 1024
        ok = check(code == want_code and want_err in err,
                   "tail against a hostile server (%s): exit %d %r" % (mode, code, err))
        ok = check(rss_mb < 200, "tail kept %.0f MB from a hostile server (%s)"
                   % (rss_mb, mode)) and ok
        print("tail vs hostile server (%s): exit %d, peak RSS %.1f MB" % (mode, code, rss_mb),
              flush=True)
    if not ARGS.live_source_flood:
        print("SKIP the inspector's live source: built without the inspector", flush=True)
        return
    sock = os.path.join(d, "inspector.sock")
    srv = subprocess.Popen([ARGS.hostile, sock, "sites", "20000"], stdout=subprocess.PIPE)
    STARTED.append(srv)
    check(srv.stdout.readline() == b"listening\n", "the hostile server did not start")
    try:
        r = subprocess.run([ARGS.live_source_flood, sock, "20000"], capture_output=True,
                           text=True, timeout=120)
    finally:
        if srv.poll() is None:  # the client never came, or left early: stop the server
            srv.kill()
        srv.wait(timeout=30)
    row(fault)[0] += 1
    sys.stdout.write(r.stdout)
    check(r.returncode == 0, "the inspector's live source against a hostile server: exit %d %s"
          % (r.returncode, r.stderr))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    for a in ("--ctxtrace", "--shim", "--prog", "--hostile", "--workdir"):
        ap.add_argument(a, required=True)
    ap.add_argument("--live-source-flood", default=None)
    ap.add_argument("--seed", type=int, default=16)
    ARGS = ap.parse_args()
    os.makedirs(ARGS.workdir, exist_ok=True)
    rng = random.Random(ARGS.seed)
    t0 = time.monotonic()

    killed_from_outside("SIGKILL", signal.SIGKILL, 50, rng)
    killed_from_outside("SIGTERM", signal.SIGTERM, 10, rng)
    died_inside("SIGSEGV", "segv", 128 + signal.SIGSEGV, False, 8, rng)
    died_inside("abort", "abort", 128 + signal.SIGABRT, False, 8, rng)
    died_inside("_exit", "_exit", 3, False, 8, rng)
    died_inside("exit from a thread", "exit", 4, True, 8, rng, cut=True)
    early_crash(5)
    fork_storm("fork storm", "fork", 1, 3)
    fork_storm("fork+exec storm", "forkexec", 2, 3)
    disk_full()
    one_output()
    read_only()
    hostile_clients()
    hostile_server()

    print("\n%-20s %8s %13s %14s %15s" % ("fault", "injected", "traces valid",
                                          "contexts lost", "files destroyed"))
    total = [0, 0, 0, 0, 0]
    for fault, (inj, valid, checked, lost, destroyed) in TABLE.items():
        print("%-20s %8d %6d of %-4d %14d %15d" % (fault, inj, valid, checked, lost, destroyed))
        total = [a + b for a, b in zip(total, (inj, valid, checked, lost, destroyed))]
    print("%-20s %8d %6d of %-4d %14d %15d" % ("total", total[0], total[1], total[2], total[3],
                                              total[4]))
    print("(%.1f s)" % (time.monotonic() - t0))
    check(total[4] == 0, "files destroyed: %d" % total[4])
    check(total[1] == total[2], "traces valid: %d of %d" % (total[1], total[2]))
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
