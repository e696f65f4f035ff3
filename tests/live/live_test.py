#!/usr/bin/env python3
"""live_test.py — the live socket end to end (label "live"): a traced program
(live_prog.c) under the shim, watched with `ctxtrace tail` / `ctxtrace ps`, and
attacked by hostile clients.

    live_test.py TEST --ctxtrace PATH --shim PATH --prog PATH --workdir DIR

Tests (one per invocation, named like the behaviour they check):
  tail_shows_snapshot_then_events   the snapshot (with its early findings and sites),
                                    then every event of the run, then BYE
  hostile_clients_change_nothing    garbage, truncated and oversize frames, a client
                                    that never reads, thousands of connects: same output,
                                    exit status and trace as an undisturbed run; no fd
                                    left behind; a real client still served
  slow_client_is_resynced           a client reading too slowly is resynced, never cut
                                    off; its last per-site counts are the trace's
  too_many_clients_get_bye          beyond the client cap, newcomers get BYE "busy"
  socket_is_private                 0700 directory, 0600 socket; a directory others
                                    could enter, or someone else's, is refused
  other_users_are_refused           SO_PEERCRED: a client of another uid is closed on
                                    without a byte (needs root to be another user)
  ps_lists_live_processes           ps lists the traced process, skips stale sockets;
                                    the socket is gone after exit and after SIGTERM;
                                    a killed process's socket is replaced by the next
  forked_child_serves_its_own       a forked child serves <pid>.sock of its own, never
                                    its parent's
  exec_says_bye_and_serves_again    exec: clients get BYE "exec"; the new image serves the
                                    same path anew
  usage_errors                      bad arguments, nothing to connect to, a socket that
                                    does not speak the format: one line, exit 2
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import sqlite3
import stat
import struct
import subprocess
import sys
import threading
import time

ARGS = None
FAILURES = 0

# Frame types and BYE reasons of libctxtrace/core/wire.h (docs/wire.md).
HELLO, SITE, CONTEXT, SNAPSHOT_END, CREATE, CANCEL = 1, 2, 3, 4, 5, 6
BYE = 13
RESYNC, SITE_COUNTS = 17, 18
BYE_EXIT, BYE_EXEC, BYE_SLOW, BYE_BUSY, BYE_PROTOCOL = range(5)


def fail(msg):
    global FAILURES
    FAILURES += 1
    print("FAIL: " + msg, flush=True)


def check(cond, msg):
    if cond:
        print("ok: " + msg, flush=True)
    else:
        fail(msg)
    return cond


def path(*parts):
    return os.path.join(ARGS.workdir, *parts)


def fresh(name):
    d = path(name)
    subprocess.run(["rm", "-rf", d], check=True)
    os.makedirs(d)
    return d


class Prog:
    """live_prog under the shim, started and waited for "ready"."""

    def __init__(self, args, env=None, name="run"):
        self.dir = fresh(name)
        self.db = os.path.join(self.dir, "trace.db")
        full = dict(os.environ)
        # With the gate (gate.c) first: its "ready" and wait come after the shim's start.
        preload = ARGS.shim if ARGS.gate is None else ARGS.gate + " " + ARGS.shim
        full.update({"LD_PRELOAD": preload, "CTXTRACE_OUTPUT": self.db,
                     "CTXTRACE_SAMPLE_MS": "50"})
        full.update(env or {})
        self.p = subprocess.Popen([ARGS.prog] + args, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full)
        line = self.p.stdout.readline()
        if line != b"ready\n":
            raise SystemExit("live_prog did not start: %r %r" % (line, self.p.stderr.read()))

    def go(self):
        self.p.stdin.write(b"go\n")
        self.p.stdin.flush()

    def finish(self, timeout=120):
        out, err = self.p.communicate(timeout=timeout)
        return self.p.returncode, "ready\n" + out.decode(), err.decode()

    def sockets(self):
        """The process's open sockets (its other descriptors — the trace file, the
        symbolizer's ELF files — come and go on their own)."""
        d = "/proc/%d/fd" % self.p.pid
        n = 0
        for f in os.listdir(d):
            try:
                n += os.readlink(os.path.join(d, f)).startswith("socket:")
            except FileNotFoundError:
                pass
        return n


def ctxtrace(*args, env=None, timeout=60):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([ARGS.ctxtrace] + list(args), capture_output=True, text=True,
                          env=full, timeout=timeout)


def lines_of(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def frames(data):
    """(type, body) of each whole frame in data."""
    out, off = [], 0
    while off + 8 <= len(data):
        length, ftype, _ = struct.unpack_from("<IHH", data, off)
        if off + 8 + length > len(data):
            break
        out.append((ftype, data[off + 8:off + 8 + length]))
        off += 8 + length
    return out


def bye_reason(body):
    return body[0]


def read_all(sock, timeout=30):
    """Everything the server sends until it closes, or until `timeout` seconds pass."""
    sock.setblocking(True)
    end = time.time() + timeout
    chunks = []
    try:
        while time.time() < end:
            sock.settimeout(max(0.01, end - time.time()))
            b = sock.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks)


def read_available(sock):
    """What has arrived so far, without waiting."""
    chunks = []
    try:
        while True:
            b = sock.recv(1 << 16, socket.MSG_DONTWAIT)
            if not b:
                break
            chunks.append(b)
    except (BlockingIOError, ConnectionResetError):
        pass
    return b"".join(chunks)


def connect(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    return s


def trace_facts(db):
    con = sqlite3.connect(db)
    meta = dict(con.execute("SELECT key, value FROM meta"))
    n = con.execute("SELECT count(*) FROM contexts").fetchone()[0]
    kinds = sorted(con.execute("SELECT kind, count(*) FROM contexts GROUP BY kind"))
    con.close()
    return int(meta.get("complete", 0)), n, kinds


def wait_for(cond, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


# ---- tests ------------------------------------------------------------------------------

def test_tail_shows_snapshot_then_events():
    sock = path("tail.sock")
    prog = Prog(["--wait-go", "300", "2000"], {"CTXTRACE_SOCKET": sock})
    tail = subprocess.Popen([ARGS.ctxtrace, "tail", "--seconds", "60", sock],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    head = []
    while True:
        line = tail.stdout.readline()
        if not line:
            break
        head.append(json.loads(line))
        if head[-1]["type"] == "snapshot_end":
            break
    prog.go()
    rest, err = tail.communicate(timeout=120)
    code, out, perr = prog.finish()
    check(tail.returncode == 0, "tail ends with status 0 at the BYE (%d, %s)" % (tail.returncode, err))
    check(code == 0 and out == "ready\ndone iterations=300 burst=0\n",
          "the program ran normally (%d, %r, %s)" % (code, out, perr))

    check(head and head[0]["type"] == "hello", "the stream starts with hello")
    check(head[0].get("pid") == prog.p.pid and head[0].get("version") == 4,
          "hello names the process and version 4: %s" % head[0])
    ctxs = [l for l in head if l["type"] == "context"]
    check(head[-1]["type"] == "snapshot_end" and head[-1]["contexts"] == len(ctxs) == 5,
          "the snapshot is the 5 live contexts, then snapshot_end: %s" % head[-1])
    by_fn = {c["site"].get("function"): c for c in ctxs if c["site"].get("function") != "main"}
    mains = [c for c in ctxs if c["site"].get("function") == "main"]
    check(sorted(c["kind"] for c in mains) == ["cancel", "deadline"],
          "server (cancel) and session (deadline) created in main")
    expect = {"make_lost_cancel": ("cancel", ["lost-cancel"]),
              "make_orphaned_timer": ("deadline", ["orphaned-timer"]),
              "make_ineffective_deadline": ("deadline", ["ineffective-deadline"])}
    for fn, (kind, findings) in expect.items():
        c = by_fn.get(fn)
        if not check(c is not None, "a snapshot context created in %s" % fn):
            continue
        check(c["kind"] == kind and c["findings"] == findings and c["state"] == "live",
              "%s: %s, live, findings %s: %s" % (fn, kind, findings, c))
        check(c["site"]["file"].endswith("live_prog.c") and c["site"]["line"] > 0,
              "%s: site file and line: %s" % (fn, c["site"]))
        check(c["age_ms"] >= 0 and c["created_ns"] > 0, "%s: created and age" % fn)
    server = [c for c in mains if c["kind"] == "cancel"][0]
    check(by_fn["make_lost_cancel"]["parent"] == server["id"], "parents are ids in the tree")
    check(by_fn["make_orphaned_timer"]["timer_armed"] and
          by_fn["make_orphaned_timer"]["owners_dropped"], "orphaned timer: armed, dropped")

    events = lines_of(rest)
    types = [e["type"] for e in events]
    check("context" not in types, "no context lines after the snapshot")
    check(types and types[-1] == "bye" and events[-1]["reason"] == "exit",
          "the stream ends with bye 'exit': %s" % (events[-1] if events else None))
    creates = [e for e in events if e["type"] == "create"
               and e.get("site", {}).get("function") == "handle_request"]
    check(len(creates) == 600, "600 creations in handle_request (%d)" % len(creates))
    reasons = [e for e in events if e["type"] == "cancel" and e.get("reason") == "client went away"]
    check(len(reasons) == 30, "30 cancels with the reason (%d)" % len(reasons))
    created_ids = {e["id"] for e in creates}
    freed = {e["id"] for e in events if e["type"] == "free"}
    check(created_ids <= freed, "every request context is freed")
    first = {}
    for i, e in enumerate(events):
        if "id" in e and e["type"] in ("create", "cancel", "release", "free", "timer"):
            first.setdefault((e["id"], e["type"]), i)
    check(all(first[(i, "create")] < first[(i, "free")] for i in created_ids),
          "each creation comes before its free")
    timers = {e["event"] for e in events if e["type"] == "timer"}
    check({"armed", "stopped"} <= timers, "timer armed and stopped events: %s" % timers)
    waits = [e["event"] for e in events if e["type"] == "wait"]
    check(waits == ["blocked", "woken"], "the worker blocked then woke: %s" % waits)
    threads = [e["event"] for e in events if e["type"] == "thread"]
    check("start" in threads and "exit" in threads, "thread start and exit: %s" % threads)
    check(any(e["type"] == "sample" and e["live_contexts"] >= 5 for e in events),
          "periodic samples with live counts")
    check(all(isinstance(e.get("ts_ns"), int) for e in events
              if e["type"] not in ("bye", "site_counts")),
          "every event has ts_ns")
    counts = [e for e in events if e["type"] == "site_counts"]
    check(counts and all(e["live"] == e["created"] - e["freed"] for e in counts),
          "site_counts lines follow the samples, live = created - freed")
    check(not os.path.exists(sock), "the socket is removed at exit")
    complete, _, _ = trace_facts(prog.db)
    check(complete == 1, "the trace file is complete")


def hostile_run(name, sock, hostile):
    prog = Prog(["--wait-go", "1000", "1000"], {"CTXTRACE_SOCKET": sock}, name=name)
    if hostile:
        base = prog.sockets()
        held = hostile(prog)
        t = ctxtrace("tail", "--seconds", "0.5", sock)
        got = [l["type"] for l in lines_of(t.stdout)]
        check(t.returncode == 0 and got[:1] == ["hello"] and "snapshot_end" in got,
              "after the abuse a real client is still served: %s" % got[:3])
        for s in held:
            s.close()
        check(base == 1 and wait_for(lambda: prog.sockets() == base) and prog.p.poll() is None,
              "every client's socket is closed again (%d -> %d)" % (base, prog.sockets()))
    prog.go()
    if hostile:
        for _ in range(1000):  # and more connects while it runs
            connect(sock).close()
    code, out, err = prog.finish()
    return code, out, err, trace_facts(prog.db)


def abuse(prog):
    sock = path("hostile.sock")
    held = []
    # garbage: gets BYE "protocol" and is closed
    g = connect(sock)
    g.sendall(b"GET / HTTP/1.1\r\nHost: ctxtrace\r\n\r\n" + os.urandom(65536))
    data = read_all(g)
    fr = frames(data)
    check(fr and fr[0][0] == HELLO, "a garbage sender still got a HELLO first")
    check(fr and fr[-1][0] == BYE and bye_reason(fr[-1][1]) == BYE_PROTOCOL,
          "a garbage sender is sent BYE 'protocol' and closed")
    g.close()
    # truncated frame, oversize length, random bytes: sent, then gone
    for payload in (b"\x10\x00", b"\xff\xff\xff\x7f\x05\x00\x00\x00" + b"\x00" * 64,
                    os.urandom(4096)):
        s = connect(sock)
        s.sendall(payload)
        s.close()
    # clients that connect and never read, and one that half-closes
    for _ in range(8):
        held.append(connect(sock))
    h = connect(sock)
    h.shutdown(socket.SHUT_WR)
    held.append(h)
    # thousands of connects
    for _ in range(2000):
        s = connect(sock)
        s.close()
    return held


def test_hostile_clients_change_nothing():
    code0, out0, err0, facts0 = hostile_run("reference", "off", None)
    code, out, err, facts = hostile_run("hostile", path("hostile.sock"), abuse)
    check(code == code0 == 0, "exit status unchanged (%d vs %d)" % (code, code0))
    check(out == out0, "output unchanged: %r vs %r" % (out, out0))
    check(err == err0 == "", "nothing on stderr: %r" % err)
    check(facts == facts0 and facts[0] == 1,
          "trace file complete with the same contexts: %s vs %s" % (facts, facts0))


def stack_id(v):
    """A stack id as the wire carries it (u64) from the trace's signed INTEGER."""
    return v & (2**64 - 1)


def test_slow_client_is_resynced():
    """A client reading far slower than a busy process (a 4 KiB receive buffer, 64 KiB
    per 50 ms until it is first resynced, then at full speed) is never cut off: it gets RESYNC frames,
    each followed by a whole snapshot, and the stream ends with BYE "exit". The last
    SITE_COUNTS of each stack are the trace's: contexts created and freed there, and the
    findings so far (lost-cancel, orphaned-timer, ineffective-deadline) as the report
    counts them at that site — lost cancels freed on another thread just after their
    release (--handed) included."""
    sock = path("slow.sock")
    prog = Prog(["--wait-go", "--burst", "300000", "--leak-every", "1000", "--handed", "20000",
                 "20", "100000"],
                {"CTXTRACE_SOCKET": sock})
    s = connect(sock)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    prog.go()
    chunks = []
    s.settimeout(60)
    t0 = time.time()
    # Slow until the first RESYNC has arrived (or 60 s): how long the process takes to
    # get 8 MiB ahead depends on the build (an ASan build makes contexts slower), so the
    # slow phase ends on what was received, not on a clock. Frames are scanned as they
    # come: u32 body length, u16 type, u16 reserved.
    pending, resynced = bytearray(), False
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        chunks.append(b)
        if resynced:
            continue
        pending += b
        while len(pending) >= 8:
            n, t = struct.unpack_from("<IH", pending)
            if len(pending) < 8 + n:
                break
            resynced = resynced or t == RESYNC
            del pending[:8 + n]
        if not resynced and time.time() - t0 < 60:
            time.sleep(0.05)
    code, out, err = prog.finish()
    fr = frames(b"".join(chunks))
    check(code == 0 and out.endswith("done iterations=20 burst=300000\n"),
          "the program finished normally (%d, %r, %s)" % (code, out, err))
    check(fr and fr[0][0] == HELLO, "the slow client got the HELLO")
    check(fr and fr[-1][0] == BYE and bye_reason(fr[-1][1]) == BYE_EXIT,
          "the slow client was followed to the end: BYE exit (last frame %s)"
          % ((fr[-1][0], fr[-1][1][:1]) if fr else None,))
    resyncs = [struct.unpack("<qQQQI", b) for t, b in fr if t == RESYNC]
    check(len(resyncs) >= 1 and all(0 < r[1] <= r[2] and r[3] > 0 for r in resyncs),
          "it was resynced, each time told how much it skipped (%d resyncs, first %s)"
          % (len(resyncs), resyncs[:1]))
    check([r[4] for r in resyncs] == list(range(1, len(resyncs) + 1)),
          "RESYNC numbers them 1, 2, ...")
    # Each RESYNC is followed by a whole snapshot: SITE / CONTEXT / SITE_COUNTS frames,
    # then SNAPSHOT_END, and nothing else in between.
    whole = True
    for i, (t, _) in enumerate(fr):
        if t != RESYNC:
            continue
        k = i + 1
        while k < len(fr) and fr[k][0] in (SITE, CONTEXT, SITE_COUNTS):
            k += 1
        whole = whole and k < len(fr) and fr[k][0] == SNAPSHOT_END
    check(whole, "every RESYNC is followed by a whole snapshot")
    functions, counts = {}, {}
    for t, b in fr:
        if t == SITE:
            stack, _line = struct.unpack_from("<QI", b)
            strs, off = [], 12
            for _ in range(3):
                (n,) = struct.unpack_from("<H", b, off)
                strs.append(b[off + 2:off + 1 + n].decode() if n else None)
                off += 2 + n
            functions[stack] = strs[1]
        elif t == SITE_COUNTS:
            v = struct.unpack("<Qqqqqqq", b)
            counts[v[0]] = v[1:]
    con = sqlite3.connect(prog.db)
    trace = {stack_id(st): (n, freed) for st, n, freed in con.execute(
        "SELECT create_stack, count(*), count(freed_ns) FROM contexts "
        "WHERE create_stack IS NOT NULL GROUP BY create_stack")}
    con.close()
    got = {st: (c[0], c[1]) for st, c in counts.items() if c[0] > 0}
    check(got == trace and sum(n for n, _ in got.values()) > 300000,
          "the last counts of every stack are the trace's: created and freed (%d stacks, "
          "%d contexts; differing: %s)" % (len(trace), sum(n for n, _ in trace.values()),
                                           {k: (got.get(k), trace.get(k)) for k in
                                            set(got) | set(trace) if got.get(k) != trace.get(k)}))
    check(all(c[2] == c[0] - c[1] for c in counts.values()), "live = created - freed")
    rep = ctxtrace("report", "--format", "json", prog.db)
    findings = {}
    live_rules = ("lost-cancel", "orphaned-timer", "ineffective-deadline")
    for f in json.loads(rep.stdout)["findings"]:
        if f["rule"] not in live_rules:  # --handed's roots are detached-root too
            continue
        key = (f["rule"], (f.get("site") or {}).get("function"))
        findings[key] = findings.get(key, 0) + f["count"]
    live = {}
    for st, c in counts.items():
        for rule, n in zip(live_rules, c[3:6]):
            if n:
                key = (rule, functions.get(st))
                live[key] = live.get(key, 0) + n
    check(live == findings and live.get(("lost-cancel", "make_burst_lost_cancel")) == 300 and
          live.get(("lost-cancel", "make_handed_lost_cancel")) == 20000,
          "the findings counted live are the report's, per rule and site: %s (report: %s)"
          % (live, findings))


def tail_exit_check(sig, args=("--wait-go", "--leak-at-exit", "20", "1000")):
    """Tailed until it exits (or, with `sig`, is stopped by that signal while it waits for
    "go"), a process's exit check arrives as exit_thread / exit_reach lines, then
    exit_check, then bye — exactly the trace's exit_threads / exit_reach / meta. Returns
    the exit_thread rows and the exit_reach rows, or None if the run failed."""
    sock = path("exit.sock")
    prog = Prog(list(args), {"CTXTRACE_SOCKET": sock})
    tail = subprocess.Popen([ARGS.ctxtrace, "tail", "--seconds", "60", sock],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    people = subprocess.Popen([ARGS.ctxtrace, "tail", "--format", "text", "--seconds", "60",
                               sock], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Both attached (the snapshot is in) before the program goes on.
    for t, last in ((tail, lambda l: json.loads(l)["type"] == "snapshot_end"),
                    (people, lambda l: "live contexts; events follow" in l)):
        while True:
            line = t.stdout.readline()
            if not line:
                fail("tail ended before the snapshot: %s" % t.stderr.read())
                return None
            if last(line):
                break
    if sig is None:
        prog.go()
    else:
        prog.p.send_signal(sig)
    rest, err = tail.communicate(timeout=120)
    text_out, _ = people.communicate(timeout=120)
    code, out, perr = prog.finish()
    check(tail.returncode == 0, "tail ends with status 0 at the BYE (%d, %s)" % (tail.returncode, err))
    check(code == (0 if sig is None else -sig), "the program ended as asked (%d, %s)" % (code, perr))
    bye = "exit" if sig is None else "signal " + signal.Signals(sig).name
    lines = lines_of(rest)
    types = [l["type"] for l in lines]
    check(types[-2:] == ["exit_check", "bye"] and lines[-1].get("text") == bye,
          "exit_check, then bye, end the stream: %s" % lines[-2:])
    first = min(i for i, t in enumerate(types) if t in ("exit_thread", "exit_reach"))
    check(set(types[first:-2]) <= {"exit_thread", "exit_reach", "site", "sample", "site_counts"},
          "the check's frames come together at the end: %s" % types[first:])
    check(lines[-2].get("status") == "done" and lines[-2].get("reach") == "done",
          "the check ran and judged reachability: %s" % lines[-2])

    con = sqlite3.connect(prog.db)
    meta = dict(con.execute("SELECT key, value FROM meta"))
    check(meta.get("exit_check") == lines[-2]["status"] and
          meta.get("exit_check_reach") == lines[-2]["reach"] and
          meta.get("exit_check_ns") == lines[-2]["ts_ns"],
          "exit_check is the trace's meta: %s" % lines[-2])
    got_threads = sorted((l.get("thread"), l["tid"], l["state"], l.get("syscall"),
                          int(l["stopped"]), l["site"]["stack"] if "site" in l else None)
                         for l in lines if l["type"] == "exit_thread")
    want_threads = sorted(con.execute(
        "SELECT thread, tid, state, syscall, stopped, stack FROM exit_threads"),
        key=lambda r: tuple((x is None, x) for x in r))
    got_threads.sort(key=lambda r: tuple((x is None, x) for x in r))
    check(got_threads == [tuple(r) for r in want_threads],
          "exit_thread lines are the trace's exit_threads rows:\n%s\n%s"
          % (got_threads, want_threads))
    got_reach = sorted((l["id"], l["reach"]) for l in lines if l["type"] == "exit_reach")
    want_reach = sorted(con.execute("SELECT context_id, reach FROM exit_reach"))
    check(got_reach == want_reach,
          "exit_reach lines are the trace's exit_reach rows:\n%s\n%s" % (got_reach, want_reach))
    # The same for people: a line per thread and per context, the check's status.
    text_lines = text_out.splitlines()
    check(sum(" at exit  " in l for l in text_lines) == len(got_threads) and
          sum(l.endswith(" at exit") for l in text_lines) == len(got_reach) and
          sum(l.endswith(" is unreachable at exit") for l in text_lines) ==
          sum(r[1] == "unreachable" for r in got_reach) and
          text_lines[-2:] == ["exit check: done, reachability: done", "bye: exit (%s)" % bye],
          "--format text shows the check: %s" % text_lines[-12:])
    con.close()
    return got_threads, got_reach


def test_tail_carries_the_exit_check():
    got = tail_exit_check(None)
    if got is None:
        return
    got_threads, got_reach = got
    # Not vacuous: a lost handle is unreachable (the scan is conservative: the other
    # may still be found in a stale register or stack slot), the watcher is blocked.
    check(any(r[1] == "unreachable" for r in got_reach),
          "an overwritten handle is unreachable: %s" % got_reach)
    check(any(t[0] is not None and t[2] == "blocked" for t in got_threads),
          "a registered thread is blocked at the check: %s" % got_threads)


def test_tail_exit_check_of_a_findings_program():
    """A tests/findings/exit program (--prog), held by the gate until tailed: its exit
    check on the stream is the trace's, and not vacuous — each of these programs leaves a
    lost handle (overwritten_handle) or a blocked thread (blocked_after_cancel)."""
    got = tail_exit_check(None, args=())
    if got is None:
        return
    got_threads, got_reach = got
    check(any(r[1] == "unreachable" for r in got_reach) or
          any(t[0] is not None and t[2] == "blocked" for t in got_threads),
          "the check found something: %s %s" % (got_threads, got_reach))


def test_tail_carries_the_exit_check_at_sigterm():
    got = tail_exit_check(signal.SIGTERM)
    if got is None:
        return
    check(len(got[1]) >= 3, "the check judged the live contexts: %s" % (got[1],))


def test_tail_text_for_people():
    """`tail --format text`: the same stream as lines for people — the process, its live
    contexts with their findings and sites, then one line per event, then the bye."""
    sock = path("text.sock")
    prog = Prog(["--wait-go", "20", "1000"], {"CTXTRACE_SOCKET": sock})
    tail = subprocess.Popen([ARGS.ctxtrace, "tail", "--format", "text", "--seconds", "60",
                             sock], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    head = []
    while True:
        line = tail.stdout.readline()
        if not line:
            break
        head.append(line.rstrip("\n"))
        if "live contexts; events follow" in line:
            break
    prog.go()
    rest, err = tail.communicate(timeout=120)
    prog.finish()
    lines = head + rest.splitlines()
    check(tail.returncode == 0 and err == "", "tail --format text: %d %r" % (tail.returncode, err))
    check(lines and lines[0].startswith("pid %d: " % prog.p.pid), "first the process: %r"
          % lines[:1])
    check(any(re.match(r"  #\d+ cancel, live, parent #\d+, age [\d.]+ s \[lost-cancel\] at "
                       r"make_lost_cancel live_prog\.c:\d+$", l) for l in head),
          "the snapshot shows the lost cancel with its site: %r" % head)
    check(len(head) >= 2 and head[-1] == "5 live contexts; events follow (times from the snapshot)",
          "the snapshot's end: %r" % head[-1:])
    events = [l for l in rest.splitlines() if re.match(r" *[+-]\d+\.\d{3} s  \w", l)]
    check(any(re.search(r"  create   #\d+ deadline \(parent #\d+, thread \d+\) at "
                        r"handle_request live_prog\.c:\d+$", l) for l in events),
          "creations with their sites: %r" % events[:5])
    check(any(re.search(r'  cancel   #\d+ explicit "client went away" at handle_request ', l)
              for l in events), "cancellations with their reasons: %r" % events[:5])
    check(lines[-1].startswith("bye: exit"), "last the bye: %r" % lines[-1:])
    check(not any(l.startswith("{") for l in lines), "no JSON in text mode")
    r = ctxtrace("tail", "--format", "xml", sock)
    check(r.returncode == 2 and "unknown format 'xml'" in r.stderr, "a bad format: %r" % r.stderr)


def test_counts_made_before_a_client_connects():
    """Contexts made while no client is connected are counted too (the model enters
    none created and freed within one drain, but counts them at their site, and judges
    every one released live): a client connecting after a burst gets, in its snapshot,
    every stack's counts since the start — the burst's, and its lost cancels, those freed
    on another thread just after their release (--handed) too."""
    sock = path("late.sock")
    prog = Prog(["--timing", "--burst", "20000", "--leak-every", "100", "--handed", "3000",
                 "30", "100000"],
                {"CTXTRACE_SOCKET": sock})
    line = prog.p.stderr.readline().decode()  # "burst_ns N": the burst is over
    check(line.startswith("burst_ns"), "the burst ran before anyone connected (%r)" % line)
    time.sleep(0.3)  # the writer has drained it
    s = connect(sock)
    data = b""
    s.settimeout(60)
    # Until the snapshot's end has come (events may follow it in the same read), or the
    # stream closed; the snapshot is what precedes its SNAPSHOT_END.
    while True:
        b = s.recv(1 << 16)
        data += b
        fr = frames(data)
        ends = [i for i, (t, _) in enumerate(fr) if t == SNAPSHOT_END]
        if ends or not b:
            fr = fr[:ends[0] + 1] if ends else fr
            break
    s.close()
    check(fr and fr[-1][0] == SNAPSHOT_END, "the client got the whole snapshot")
    code, _, err = prog.finish()
    check(code == 0, "the program finished normally (%d, %s)" % (code, err))
    counts = [struct.unpack("<Qqqqqqq", b) for t, b in fr if t == SITE_COUNTS]
    by_created = sorted(counts, key=lambda c: -c[1])
    check(len(by_created) >= 2 and by_created[0][1:4] == (19800, 19800, 0),
          "the burst's site: 19,800 created and freed, none live (%s)" % by_created[:2])
    lost = [c for c in counts if c[4] == 200]
    check(len(lost) == 1 and lost[0][1:4] == (200, 0, 200),
          "the lost cancels' site: 200 created, live, each counted a lost cancel (%s)" % counts)
    handed = [c for c in counts if c[4] == 3000]
    check(len(handed) == 1 and handed[0][1:4] == (3000, 3000, 0),
          "the handed lost cancels' site: 3000 created, freed, each counted a lost cancel (%s)"
          % counts)


def test_tail_is_resynced_when_behind():
    """`ctxtrace tail` that cannot keep up (its output read slowly) is resynced, not
    dropped: "resync" lines say how many frames it skipped, a fresh snapshot follows
    each, and it ends with status 0 at the BYE; its last site_counts line for the burst's
    site counts every context made there."""
    sock = path("tailslow.sock")
    prog = Prog(["--wait-go", "--burst", "150000", "20", "100000"], {"CTXTRACE_SOCKET": sock})
    t = subprocess.Popen([ARGS.ctxtrace, "tail", sock], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    chunks = []

    def read_slowly():
        # ~64 KiB per 20 ms until tail prints its first resync line (or 60 s): tail
        # blocks on its output and falls behind. The slow phase ends on what was read,
        # not on a clock (an ASan build makes contexts slower, so falling behind takes
        # longer there). Only resync lines carry "skipped_events".
        t0, seen, tail_end = time.time(), False, b""
        while True:
            b = t.stdout.read1(1 << 16)
            if not b:
                return
            chunks.append(b)
            seen = seen or b'"skipped_events"' in tail_end + b
            tail_end = b[-64:]
            if not seen and time.time() - t0 < 60:
                time.sleep(0.02)

    reader = threading.Thread(target=read_slowly)
    reader.start()
    time.sleep(0.5)  # connected, snapshot sent
    prog.go()
    code, _, err = prog.finish()
    check(code == 0, "the program finished normally (%d, %s)" % (code, err))
    reader.join(timeout=120)
    t.wait(timeout=60)
    err = t.stderr.read().decode()
    lines = lines_of(b"".join(chunks).decode())
    check(t.returncode == 0 and err == "", "tail ends with status 0 (%d, %r)" % (t.returncode, err))
    resyncs = [l for l in lines if l["type"] == "resync"]
    check(len(resyncs) >= 1 and all(0 < l["skipped_events"] <= l["skipped_frames"] for l in resyncs),
          "tail printed resync lines with what it skipped (%d)" % len(resyncs))
    check(lines and lines[-1]["type"] == "bye" and lines[-1]["reason"] == "exit",
          "tail's last line is the bye of the exit: %r" % (lines[-1] if lines else None))
    last = {}  # stack -> its last site_counts line
    for l in lines:
        if l["type"] == "site_counts":
            last[(l.get("site") or {}).get("stack")] = l
    burst = max(last.values(), key=lambda l: l["created"], default=None)
    check(burst and burst["created"] == 150000 and burst["freed"] == 150000
          and burst["site"]["function"] == "main",
          "the burst's site counts every context (%s)" % burst)


def test_tail_says_what_it_cannot_follow():
    """A trace file, a pid nobody serves, a socket nobody listens on: each its reason."""
    prog = Prog(["0", "0"])
    prog.finish()
    r = ctxtrace("tail", prog.db)
    check(r.returncode == 2 and "is a trace file, not a live socket" in r.stderr
          and r.stderr.count("\n") == 1, "tail FILE.db: %r" % r.stderr)
    r = ctxtrace("tail", "999999999")
    check(r.returncode == 2 and "no traced process 999999999 serves a live socket"
          in r.stderr, "tail PID-nobody-serves: %r" % r.stderr)
    dead = path("dead.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(dead)
    srv.close()  # the file stays, nobody listens: a killed process's leftover
    r = ctxtrace("tail", dead)
    check(r.returncode == 2 and "nobody serves %s any more" % dead in r.stderr,
          "tail on a dead socket: %r" % r.stderr)


def test_too_many_clients_get_bye():
    sock = path("busy.sock")
    prog = Prog(["--wait-go", "0", "0"], {"CTXTRACE_SOCKET": sock})
    held = [connect(sock) for _ in range(80)]
    time.sleep(1)  # several drain periods: every connection accepted and answered
    reasons = []
    for s in held:
        fr = frames(read_available(s))
        reasons.append(fr[-1] if fr else None)
    busy = [r for r in reasons if r and r[0] == BYE and bye_reason(r[1]) == BYE_BUSY]
    check(len(busy) == 16, "the 16 clients beyond 64 get BYE 'busy' (%d)" % len(busy))
    for s in held:
        s.close()
    prog.go()
    code, _, _ = prog.finish()
    check(code == 0, "the program finished normally")


def test_socket_is_private():
    xdg = fresh("xdg")
    os.chmod(xdg, 0o755)
    env = {"XDG_RUNTIME_DIR": xdg}
    prog = Prog(["--wait-go", "0", "0"], env, name="private")
    d = os.path.join(xdg, "ctxtrace")
    sock = os.path.join(d, "%d.sock" % prog.p.pid)
    st_d, st_s = os.lstat(d), os.lstat(sock)
    check(stat.S_ISDIR(st_d.st_mode) and stat.S_IMODE(st_d.st_mode) == 0o700,
          "the directory is 0700 (%o)" % stat.S_IMODE(st_d.st_mode))
    check(stat.S_ISSOCK(st_s.st_mode) and stat.S_IMODE(st_s.st_mode) == 0o600,
          "the socket is 0600 (%o)" % stat.S_IMODE(st_s.st_mode))
    check(st_d.st_uid == os.getuid() and st_s.st_uid == os.getuid(), "both are the user's")
    prog.go()
    prog.finish()
    check(not os.path.exists(sock), "the socket is removed at exit")

    os.chmod(d, 0o755)
    prog = Prog(["0", "0"], env, name="open_dir")
    code, out, err = prog.finish()
    check(code == 0 and out.endswith("done iterations=0 burst=0\n"),
          "with a directory others can enter the program still runs normally")
    check("no live socket" in err and "mode 755" in err and err.count("\n") == 1,
          "one line says why there is no socket: %r" % err)
    check(os.listdir(d) == [], "and no socket is created")
    if os.getuid() == 0:
        os.chmod(d, 0o700)
        os.chown(d, 65534, 65534)
        prog = Prog(["0", "0"], env, name="foreign_dir")
        code, _, err = prog.finish()
        check(code == 0 and "belongs to uid 65534" in err,
              "someone else's directory is refused: %r" % err)


def test_other_users_are_refused():
    if os.getuid() != 0:
        print("not root: cannot act as a second user here", flush=True)
        sys.exit(77)
    d = fresh("shared")
    os.chmod(d, 0o777)
    sock = os.path.join(d, "p.sock")
    prog = Prog(["--wait-go", "0", "0"], {"CTXTRACE_SOCKET": sock})
    os.chmod(sock, 0o666)  # only the peer check stands between a stranger and the stream
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setgid(65534)
        os.setuid(65534)
        s = connect(sock)
        n = len(read_all(s, timeout=10))
        os.write(w, str(n).encode())
        os._exit(0)
    os.close(w)
    got = os.read(r, 64).decode()
    os.waitpid(pid, 0)
    check(got == "0", "a client of another uid is closed on without a byte (%s bytes)" % got)
    mine = frames(connect(sock).recv(1 << 16))
    check(mine and mine[0][0] == HELLO, "the owner's client is served")
    prog.go()
    code, _, _ = prog.finish()
    check(code == 0, "the program finished normally")


def test_ps_lists_live_processes():
    xdg = fresh("xdg_ps")
    env = {"XDG_RUNTIME_DIR": xdg}
    prog = Prog(["--wait-go", "0", "0"], env, name="ps")
    d = os.path.join(xdg, "ctxtrace")
    stale = os.path.join(d, "999999999.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()  # a socket file nobody serves: a killed process's leftover
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not a socket\n")
    r = ctxtrace("ps", env=env)
    rows = [l.split() for l in r.stdout.splitlines()[1:]]
    sock = os.path.join(d, "%d.sock" % prog.p.pid)
    check(r.returncode == 0 and rows == [[str(prog.p.pid), ARGS.prog, sock]],
          "ps lists exactly the live process: %r" % r.stdout)
    t = ctxtrace("tail", "--seconds", "0.3", str(prog.p.pid), env=env)
    check(t.returncode == 0 and lines_of(t.stdout)[0]["pid"] == prog.p.pid,
          "tail PID finds the default socket")
    prog.p.send_signal(signal.SIGTERM)
    prog.p.wait(timeout=30)
    check(not os.path.exists(sock), "the socket is removed when SIGTERM ends the program")

    # A stale socket is replaced only in a private (0700) directory of this user's.
    private = fresh("private")
    os.chmod(private, 0o700)
    named = os.path.join(private, "named.sock")
    prog = Prog(["--wait-go", "0", "0"], {"CTXTRACE_SOCKET": named}, name="killed")
    prog.p.kill()
    prog.p.wait()
    check(os.path.exists(named), "SIGKILL leaves the socket file behind")
    prog = Prog(["--wait-go", "0", "0"], {"CTXTRACE_SOCKET": named}, name="next")
    t = ctxtrace("tail", "--seconds", "0.3", named)
    check(t.returncode == 0 and lines_of(t.stdout)[0]["pid"] == prog.p.pid,
          "the next process replaces the stale socket and serves it")
    prog.go()
    prog.finish()

    # Elsewhere, a stale socket is left alone: one line says so, the program runs.
    shared = fresh("shared")
    os.chmod(shared, 0o755)
    named = os.path.join(shared, "named.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(named)
    s.close()
    prog = Prog(["--wait-go", "0", "0"], {"CTXTRACE_SOCKET": named}, name="shared_next")
    prog.go()
    code, _, err = prog.finish()
    check(code == 0 and os.path.exists(named) and
          ("ctxtrace: no live socket: %s is a stale socket outside this user's private "
           "directory" % named) in err,
          "a stale socket outside a private directory is kept: %d %r" % (code, err))


def test_forked_child_serves_its_own():
    xdg = fresh("xdg_fork")
    env = {"XDG_RUNTIME_DIR": xdg, "LD_PRELOAD": ARGS.shim,
           "CTXTRACE_OUTPUT": path("xdg_fork", "t.db")}
    full = dict(os.environ)
    full.update(env)
    # A forked child deliberately abandons the parent's SQLite connection and
    # symbolizer (neither may be used or closed across fork): not leaks to report.
    asan = full.get("ASAN_OPTIONS")
    full["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
    p = subprocess.Popen([ARGS.fork_prog], env=full, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stdout.readline().decode().split()
    check(line[:1] == ["forked"], "the fork helper forked: %s" % line)
    parent, child = int(line[1]), int(line[2])
    d = os.path.join(xdg, "ctxtrace")
    check(wait_for(lambda: os.path.exists(os.path.join(d, "%d.sock" % child))),
          "the child serves its own socket")
    hello = lambda sp: frames(connect(sp).recv(1 << 16))
    for pid in (parent, child):
        fr = hello(os.path.join(d, "%d.sock" % pid))
        got = struct.unpack_from("<QII", fr[0][1])[2] if fr and fr[0][0] == HELLO else None
        check(got == pid, "%d.sock is served by %d itself (%s)" % (pid, pid, got))
    p.stdin.write(b"go\n")
    p.stdin.close()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    check(p.returncode == 0, "the fork helper finished normally (%d, %r)" % (p.returncode, err))
    check(wait_for(lambda: os.listdir(d) == []), "both sockets removed at exit")


def test_exec_says_bye_and_serves_again():
    sock = path("exec.sock")
    prog = Prog(["--wait-go", "--exec", "5", "1000"], {"CTXTRACE_SOCKET": sock})
    c = connect(sock)
    check(frames(c.recv(1 << 16))[:1] != [], "the first image serves the socket")
    prog.go()
    fr = frames(read_all(c))
    check(fr and fr[-1][0] == BYE and bye_reason(fr[-1][1]) == BYE_EXEC,
          "its client's stream ends with BYE 'exec' (last frame type %s)"
          % (fr[-1][0] if fr else None))
    lines = [prog.p.stdout.readline(), prog.p.stdout.readline()]
    check(lines == [b"done iterations=5 burst=0\n", b"ready\n"],
          "the new image started: %r" % lines)
    fr = frames(connect(sock).recv(1 << 16))
    pid = struct.unpack_from("<QII", fr[0][1])[2] if fr and fr[0][0] == HELLO else None
    check(pid == prog.p.pid, "the new image serves the same path (pid %s)" % pid)
    prog.go()
    code, out, err = prog.finish()
    check(code == 0 and out.endswith("done iterations=0 burst=0\n"),
          "the new image finished normally (%d, %r, %s)" % (code, out, err))
    check(not os.path.exists(sock), "and removed the socket")


def test_usage_errors():
    cases = [(["tail"], "usage"), (["tail", "--seconds", "x", "1"], "--seconds"),
             (["tail", "--bogus", "1"], "unknown option"),
             (["tail", path("missing.sock")], "cannot connect"),
             (["ps", "extra"], "usage")]
    liar = path("liar.sock")
    if os.path.exists(liar):
        os.unlink(liar)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(liar)
    srv.listen(4)
    for argv, want in cases:
        r = ctxtrace(*argv)
        check(r.returncode == 2 and want in r.stderr and r.stderr.count("\n") <= 1
              or (want == "usage" and r.returncode == 2 and "usage" in r.stderr),
              "ctxtrace %s: exit 2, says %r: %r" % (" ".join(argv), want, r.stderr))
    t = subprocess.Popen([ARGS.ctxtrace, "tail", liar], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    conn, _ = srv.accept()
    conn.sendall(b"HTTP/1.1 200 OK\r\n\r\nhello")
    out, err = t.communicate(timeout=30)
    check(t.returncode == 2 and "not a ctxtrace live stream" in err and out == "",
          "a server that does not speak the format: exit 2, one line: %r" % err)
    conn.close()
    srv.close()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("test")
    ap.add_argument("--ctxtrace", required=True)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--prog", required=True)
    ap.add_argument("--fork-prog", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--gate", help="gate.c's preload: --prog is held before main")
    ARGS = ap.parse_args()
    subprocess.run(["rm", "-rf", ARGS.workdir], check=True)
    os.makedirs(ARGS.workdir)
    random.seed(6)
    globals()["test_" + ARGS.test]()
    print("%s: %s" % (ARGS.test, "FAILED (%d)" % FAILURES if FAILURES else "passed"))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
