#!/usr/bin/env python3
"""cli_test.py — the command-line conventions of DESIGN.md's "The command line", for
every command (label "cli"): `--help` on each (usage on stdout, exit 0), `--version` on
both programs, and bad input as one line on stderr with exit status 2.

usage: cli_test.py TEST --ctxtrace EXE --version V [--inspector EXE] --workdir DIR
                   [--sample EXE] [--asan-sample EXE] [--soak-prog EXE]

Standard library only.
"""
import argparse
import os
import pty
import re
import shutil
import socket
import subprocess
import sys

ARGS = None
FAILURES = []
COMMANDS = ["run", "report", "soak", "tail", "ps", "export"]


def fail(msg):
    FAILURES.append(msg)
    print("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def run(argv, env=None, timeout=120, cwd=None):
    full_env = dict(os.environ)
    for k in ("CTXTRACE_OUTPUT", "CTXTRACE_SUPPRESSIONS"):
        full_env.pop(k, None)
    full_env.update(env or {})
    return subprocess.run(argv, env=full_env, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or ARGS.workdir)


def ctxtrace(*argv, **kw):
    return run([ARGS.ctxtrace, *argv], **kw)


def expect_error(argv, says, **kw):
    """`ctxtrace ARGV` fails with exit status 2 and one line on stderr containing `says`,
    nothing on stdout."""
    p = ctxtrace(*argv, **kw)
    check(p.returncode == 2 and p.stdout == "" and p.stderr.count("\n") == 1
          and says in p.stderr,
          "ctxtrace %s: want exit 2, one line saying %r; got exit %d, stdout %r, stderr %r"
          % (" ".join(argv), says, p.returncode, p.stdout, p.stderr))
    return p


def test_help_on_every_command():
    for argv in [["--help"], ["-h"]] + [[c, h] for c in COMMANDS for h in ("--help", "-h")]:
        p = ctxtrace(*argv)
        check(p.returncode == 0 and p.stdout.startswith("Usage: ctxtrace") and p.stderr == "",
              "ctxtrace %s: exit %d, stdout %r..., stderr %r"
              % (" ".join(argv), p.returncode, p.stdout[:60], p.stderr))
    # --help wins wherever it is, and nothing runs (no program, no trace).
    p = ctxtrace("run", "--help", "--", "/bin/false")
    check(p.returncode == 0 and "Usage: ctxtrace run" in p.stdout, "run --help -- PROG")
    check(os.listdir(ARGS.workdir) == [], "run --help wrote %s" % os.listdir(ARGS.workdir))
    # The overview carries every command's options (it is what the man page is made of).
    top = ctxtrace("--help").stdout
    for c in COMMANDS:
        own = ctxtrace(c, "--help").stdout
        check(own in top, "ctxtrace --help lacks `ctxtrace %s --help`'s text" % c)
    for opt in ("--profile", "--grace", "--source-root", "--suppressions", "--exitcode",
                "--seconds", "--interval"):
        check(opt in top, "ctxtrace --help does not mention %s" % opt)
    wide = [l for l in top.splitlines() if len(l) > 80]
    check(not wide, "ctxtrace --help fits 80 columns: %r" % wide)


def test_version():
    p = ctxtrace("--version")
    check(p.returncode == 0 and p.stdout == "ctxtrace %s\n" % ARGS.version,
          "ctxtrace --version: exit %d, %r (project version %s)"
          % (p.returncode, p.stdout, ARGS.version))
    if ARGS.inspector:
        p = run([ARGS.inspector, "--version"])
        check(p.returncode == 0 and p.stdout == "ctxtrace-inspector %s\n" % ARGS.version,
              "ctxtrace-inspector --version: exit %d, %r" % (p.returncode, p.stdout))


def test_errors_are_one_line():
    expect_error([], "no command given")
    expect_error(["frobnicate"], "unknown command 'frobnicate'")
    for c in COMMANDS:
        expect_error([c, "--bogus"], "%s: unknown option '--bogus'" % c)
        expect_error([c, "-Q"], "%s: unknown option '-Q'" % c)
    expect_error(["run", "-o"], "run: -o needs a value")
    expect_error(["run", "--output"], "run: --output needs a value")
    expect_error(["run", "--exitcode", "300", "--", "true"], "--exitcode needs a status")
    expect_error(["run"], "run: no program given")
    expect_error(["report", "--format"], "report: --format needs a value")
    expect_error(["report", "--format", "xml", "x.db"], "unknown format 'xml'")
    expect_error(["report"], "report: no trace file given")
    expect_error(["soak", "--duration", "soon", "--", "true"], "bad value 'soon' for --duration")
    expect_error(["soak", "--interval"], "soak: --interval needs a value")
    expect_error(["soak"], "soak: no program given")
    expect_error(["tail", "--seconds", "-1", "1"], "--seconds wants a positive number")
    expect_error(["tail"], "tail: no PID or socket given")
    expect_error(["tail", "1", "2"], "tail: one process at a time")
    expect_error(["ps", "extra"], "ps: takes no arguments")
    # Options are the program's own after PROGRAM: `run PROG -o x` passes -o to PROG.
    p = ctxtrace("run", "--no-report", "-o", "echo.db", "--", "/bin/echo", "-o", "x")
    check(p.stdout == "-o x\n", "run: the program's own options: %r %r" % (p.stdout, p.stderr))


def test_run_output_unwritable():
    """A trace that cannot be written is an error before the program runs, not a
    misleading "never loaded libctxtrace.so" and exit 0 after it."""
    p = expect_error(["run", "-o", "/nonexistent/x.db", "--", ARGS.sample],
                     "run: cannot write the trace to /nonexistent/x.db: no directory "
                     "/nonexistent")
    os.mkdir(os.path.join(ARGS.workdir, "d.db"))
    expect_error(["run", "-o", "d.db", "--", ARGS.sample], "d.db: it is a directory")
    expect_error(["soak", "-o", "/nonexistent/x.db", "--", ARGS.sample],
                 "soak: cannot write the trace to /nonexistent/x.db")


def test_run_honours_ctxtrace_output():
    """Without -o, run writes where CTXTRACE_OUTPUT says, as a direct LD_PRELOAD does."""
    want = os.path.join(ARGS.workdir, "from-env.db")
    p = ctxtrace("run", "--no-report", "--", ARGS.sample, env={"CTXTRACE_OUTPUT": want})
    check(p.returncode == 0 and os.path.exists(want)
          and "trace written to %s" % want in p.stderr,
          "run with CTXTRACE_OUTPUT=%s: exit %d, files %s, stderr %r"
          % (want, p.returncode, os.listdir(ARGS.workdir), p.stderr))
    check(not any(f.startswith("ctxtrace.") for f in os.listdir(ARGS.workdir)),
          "a default-named trace was written too: %s" % os.listdir(ARGS.workdir))
    # -o still wins over the variable.
    other = os.path.join(ARGS.workdir, "from-o.db")
    p = ctxtrace("run", "--no-report", "-o", other, "--", ARGS.sample,
                 env={"CTXTRACE_OUTPUT": want})
    check(p.returncode == 0 and os.path.exists(other), "-o beside CTXTRACE_OUTPUT: %r"
          % p.stderr)


def test_run_says_why_a_program_cannot_run():
    script = os.path.join(ARGS.workdir, "not-executable.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    os.chmod(script, 0o644)
    expect_error(["run", "--", script], "run: %s is not executable" % script)
    expect_error(["run", "--", ARGS.workdir], "run: %s is a directory" % ARGS.workdir)
    expect_error(["run", "--", "no-such-program-here"], "no-such-program-here: no such executable")
    expect_error(["soak", "--", script], "soak: %s is not executable" % script)


def test_run_traces_asan_programs():
    """An ASan-built program is traced out of the box (run turns off ASan's link-order
    check, which the preloaded shim would trip), keeping the user's ASAN_OPTIONS."""
    trace = os.path.join(ARGS.workdir, "asan.db")
    p = ctxtrace("run", "-o", trace, "--", ARGS.asan_sample,
                 env={"ASAN_OPTIONS": "detect_leaks=0:exitcode=42"})
    check(p.returncode == 0 and "ASan runtime does not come first" not in p.stderr
          and "trace written to %s" % trace in p.stderr and "lost-cancel" in p.stderr,
          "ctxtrace run on an ASan program: exit %d, stderr %r" % (p.returncode, p.stderr))


def test_soak_shows_progress():
    """soak is not silent while it runs: --verbose prints one line per sample on stderr;
    on a terminal, one line is rewritten in place (\\r ... erase to end of line)."""
    args = ["soak", "--duration", "2", "--warmup", "0.5", "--interval", "100",
            "--no-findings", "--force", "-o", "p.db"]  # one trace, written three times
    p = ctxtrace(*args, "--verbose", "--", ARGS.soak_prog, "pool")
    lines = [l for l in p.stderr.splitlines()
             if re.match(r"soak: +\d+\.\d s: \d+ live contexts, \d+ armed timers, \d+ "
                         r"blocked waiters, \d+ threads, \d+ open fds, [\d.]+ MiB RSS$", l)]
    check(p.returncode == 0 and len(lines) >= 10 and "\r" not in p.stderr,
          "soak --verbose: exit %d, %d sample lines (want >= 10 in 2 s at 100 ms): %r"
          % (p.returncode, len(lines), p.stderr[-400:]))
    check("SOAK: PASS" in p.stdout, "soak --verbose: the report is on stdout: %r" % p.stdout)
    # Not a terminal, not verbose: nothing but the report.
    p = ctxtrace(*args, "--", ARGS.soak_prog, "pool")
    check(p.returncode == 0 and p.stderr == "", "soak to a pipe: stderr %r" % p.stderr)
    # A terminal on stderr: the progress line.
    master, slave = pty.openpty()
    proc = subprocess.Popen([ARGS.ctxtrace, *args, "--", ARGS.soak_prog, "pool"],
                            stdout=subprocess.PIPE, stderr=slave, cwd=ARGS.workdir)
    os.close(slave)
    seen = b""
    while True:
        try:
            b = os.read(master, 4096)
        except OSError:  # EIO: the terminal's last writer is gone
            break
        if not b:
            break
        seen += b
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    text = seen.decode(errors="replace")
    shown = re.findall(r"\rsoak: [\d.]+/2\.0 s: \d+ live contexts, \d+ armed timers, "
                       r"\d+ threads\x1b\[K", text)
    check(proc.returncode == 0 and len(shown) >= 5 and text.endswith("\r\x1b[K"),
          "soak on a terminal: exit %d, %d progress lines, the line erased at the end: %r"
          % (proc.returncode, len(shown), text[-300:]))


def wal_mode(path):
    """The file format bytes of a SQLite header (offsets 18, 19): 2 in WAL mode."""
    with open(path, "rb") as f:
        h = f.read(20)
    return h[18] == 2 or h[19] == 2


def test_no_wal_left_beside_a_trace():
    """A finished trace is one file: no -wal/-shm after run, after report reads it,
    after soak (whose progress reads it while it is written)."""
    trace = os.path.join(ARGS.workdir, "t.db")
    p = ctxtrace("run", "-o", trace, "--", ARGS.sample)
    check(os.path.exists(trace), "run wrote no trace: %r" % p.stderr)
    check(sorted(os.listdir(ARGS.workdir)) == ["t.db"],
          "after run: %s" % sorted(os.listdir(ARGS.workdir)))
    check(not wal_mode(trace), "the finished trace is still in WAL mode")
    ctxtrace("report", trace)
    ctxtrace("report", "--profile", trace)
    check(sorted(os.listdir(ARGS.workdir)) == ["t.db"],
          "after report: %s" % sorted(os.listdir(ARGS.workdir)))
    p = ctxtrace("soak", "--duration", "2", "--warmup", "0.5", "--no-findings", "--verbose",
                 "-o", "s.db", "--", ARGS.soak_prog, "pool")
    check(p.returncode == 0, "soak: %d %r" % (p.returncode, p.stderr[-300:]))
    check(sorted(os.listdir(ARGS.workdir)) == ["s.db", "t.db"],
          "after soak: %s" % sorted(os.listdir(ARGS.workdir)))


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_stale_sockets_are_swept():
    """Sockets of dead processes in the socket directory are removed by the shim's next
    start, `ctxtrace ps` and `ctxtrace tail`; a live listener's socket, a dead pid's
    socket someone still listens on, and files that are not sockets stay."""
    xdg = os.path.join(ARGS.workdir, "xdg")
    sockdir = os.path.join(xdg, "ctxtrace")
    os.makedirs(sockdir, mode=0o700)
    os.chmod(xdg, 0o700)
    env = {"XDG_RUNTIME_DIR": xdg}
    keep = []

    def stale(pid):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(sockdir, "%d.sock" % pid))
        s.close()  # the file stays, nobody listens

    def listening(pid):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(sockdir, "%d.sock" % pid))
        s.listen(1)
        keep.append(s)

    def plant():
        stale(dead_pid())
        listening(os.getpid())             # alive
        listening(dead_pid())              # dead pid, but it serves (another pid namespace)
        with open(os.path.join(sockdir, "%d.sock" % dead_pid()), "w"):
            pass                           # not a socket: not ours to judge
        return set(os.listdir(sockdir))

    for how, argv in (("ps", ["ps"]), ("tail", ["tail", "1"]),
                      ("the shim", ["run", "--no-report", "-o", "r.db", "--", ARGS.sample])):
        before = plant()
        ctxtrace(*argv, env=env)
        after = set(os.listdir(sockdir))
        check(len(before) - len(after) == 1 and after < before,
              "%s: removed %s, want exactly the stale socket (before %s)"
              % (how, sorted(before - after), sorted(before)))
        for s in keep:
            s.close()
        keep.clear()
        for f in os.listdir(sockdir):
            os.unlink(os.path.join(sockdir, f))


TESTS = {
    "no_wal_left_beside_a_trace": test_no_wal_left_beside_a_trace,
    "stale_sockets_are_swept": test_stale_sockets_are_swept,
    "soak_shows_progress": test_soak_shows_progress,
    "run_output_unwritable": test_run_output_unwritable,
    "run_honours_ctxtrace_output": test_run_honours_ctxtrace_output,
    "run_says_why_a_program_cannot_run": test_run_says_why_a_program_cannot_run,
    "run_traces_asan_programs": test_run_traces_asan_programs,
    "help_on_every_command": test_help_on_every_command,
    "version": test_version,
    "errors_are_one_line": test_errors_are_one_line,
}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("test", choices=sorted(TESTS))
    ap.add_argument("--ctxtrace", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--inspector")
    ap.add_argument("--sample")
    ap.add_argument("--asan-sample")
    ap.add_argument("--soak-prog")
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
