#!/usr/bin/env python3
"""report_test.py — tests of `ctxtrace report` and of the exit report of `ctxtrace run`
(label "report"): the three output formats checked structurally, suppressions, exit
statuses and every kind of bad input. Exact findings per sample are tested elsewhere;
here the traces only need to have findings (sample_party_leaky) or none
(sample_party_fixed).

usage: report_test.py TEST --ctxtrace EXE --leaky EXE --fixed EXE --workdir DIR
                      --source-root DIR

Standard library only (CI runs Debian's python3 without extras).
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys

RULES = {"leaked-waiter", "orphaned-timer", "lost-cancel", "derived-from-done",
         "value-chain-growth", "detached-root", "ineffective-deadline",
         "leaked-thread"}
SARIF_LEVELS = {"none", "note", "warning", "error"}
ARGS = None
FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def run(argv, env=None, cwd=None, timeout=120):
    full_env = dict(os.environ)
    full_env.pop("CTXTRACE_SUPPRESSIONS", None)
    full_env.update(env or {})
    p = subprocess.run(argv, cwd=cwd or ARGS.workdir, env=full_env, capture_output=True,
                       timeout=timeout)
    if p.returncode < 0:
        fail("%s was killed by signal %d; stderr:\n%s" % (argv, -p.returncode,
                                                          p.stderr.decode(errors="replace")))
    return p


def report(*args, env=None, cwd=None):
    return run([ARGS.ctxtrace, "report", *args], env=env, cwd=cwd)


def trace_of(program, name):
    """A real trace: `ctxtrace run -o NAME -- PROGRAM` in the work directory."""
    path = os.path.join(ARGS.workdir, name)
    p = run([ARGS.ctxtrace, "run", "--no-report", "-o", path, "--", program])
    if not check(p.returncode == 0 and os.path.exists(path),
                 "ctxtrace run %s: status %d, stderr:\n%s" %
                 (program, p.returncode, p.stderr.decode(errors="replace"))):
        sys.exit(1)
    return path


def json_of(p, what):
    try:
        text = p.stdout.decode("utf-8")  # strict: the output must be UTF-8
        return json.loads(text)
    except (UnicodeDecodeError, ValueError) as e:
        fail("%s: not valid JSON/UTF-8: %s\n%s" % (what, e, p.stdout[:2000]))
        sys.exit(1)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


# ---- JSON -------------------------------------------------------------------------------

def check_frame(fr, what, module=True):
    if not check(isinstance(fr, dict), "%s: frame is not an object" % what):
        return
    keys = ["function", "file", "line"] + (["module"] if module else [])
    for k in keys:
        check(k in fr, "%s: frame lacks %r: %r" % (what, k, fr))
    for k in ("function", "file") + (("module",) if module else ()):
        v = fr.get(k)
        check(v is None or (isinstance(v, str) and v != ""),
              "%s: %s must be a non-empty string or null: %r" % (what, k, v))
    line = fr.get("line")
    check(line is None or (is_int(line) and line >= 1),
          "%s: line must be null or >= 1: %r" % (what, line))


def check_json_doc(d, trace, what):
    check(isinstance(d, dict), what + ": not an object")
    check(d.get("version") == 1, what + ": version != 1")
    check(d.get("trace") == trace, what + ": trace %r != %r" % (d.get("trace"), trace))
    check(is_int(d.get("contexts")) and d["contexts"] >= 0, what + ": contexts")
    check(isinstance(d.get("complete"), bool), what + ": complete is not a bool")
    check(is_int(d.get("suppressed")) and d["suppressed"] >= 0, what + ": suppressed")
    check(isinstance(d.get("findings"), list), what + ": findings is not an array")
    order = ["leaked-waiter", "orphaned-timer", "lost-cancel", "detached-root",
             "ineffective-deadline"]
    last = -1
    for i, f in enumerate(d.get("findings", [])):
        w = "%s: findings[%d]" % (what, i)
        check(f.get("rule") in RULES, w + ": rule %r" % f.get("rule"))
        if f.get("rule") in RULES:
            check(order.index(f["rule"]) >= last, w + ": not ordered most severe first")
            last = order.index(f["rule"])
        check(is_int(f.get("count")) and f["count"] >= 1, w + ": count")
        check(isinstance(f.get("summary"), str) and f["summary"], w + ": summary")
        check(isinstance(f.get("site"), dict), w + ": site")
        check_frame(f.get("site", {}), w + ".site", module=False)
        check(isinstance(f.get("stack"), list), w + ": stack is not an array")
        for k, fr in enumerate(f.get("stack", [])):
            check_frame(fr, "%s.stack[%d]" % (w, k))
        if f.get("stack"):
            top = f["stack"][0]
            for k in ("function", "file", "line"):
                check(f["site"].get(k) == top.get(k),
                      w + ": site.%s differs from the stack's innermost frame" % k)
        for extra in ("release_stack", "thread_stack", "context_stack"):
            if extra in f:
                check(isinstance(f[extra], list) and f[extra], w + ": " + extra)
                for k, fr in enumerate(f[extra]):
                    check_frame(fr, "%s.%s[%d]" % (w, extra, k))
        ex = f.get("examples")
        check(isinstance(ex, list) and 1 <= len(ex) <= 5 and all(is_int(x) for x in ex),
              w + ": examples %r" % ex)
        check(isinstance(ex, list) and len(ex) <= f.get("count", 0), w + ": more examples than count")
        dur = f.get("durations_ns")
        check(isinstance(dur, dict) and is_int(dur.get("p50")) and is_int(dur.get("max"))
              and 0 <= dur["p50"] <= dur["max"], w + ": durations_ns %r" % dur)
        check(("fired" in f) == (f.get("rule") == "orphaned-timer"),
              w + ": 'fired' present exactly for orphaned-timer")
        if "fired" in f:
            check(is_int(f["fired"]) and 0 <= f["fired"] <= f["count"], w + ": fired")
        check(isinstance(f.get("detail"), str), w + ": detail")


def test_json():
    leaky = trace_of(ARGS.leaky, "leaky.db")
    p = report("--format", "json", leaky)
    check(p.returncode == 1, "json, leaky: exit %d, expected 1" % p.returncode)
    check(p.stderr == b"", "json, leaky: stderr not empty: %r" % p.stderr)
    d = json_of(p, "json, leaky")
    check_json_doc(d, leaky, "json, leaky")
    check(d["findings"], "json, leaky: no findings in sample_party_leaky")
    check(d["complete"] is True, "json, leaky: complete trace reported incomplete")
    check(d["contexts"] > 0, "json, leaky: no contexts")
    # --format=json spelling, and the same document.
    p2 = report("--format=json", leaky)
    check(json_of(p2, "--format=json") == d, "--format=json differs from --format json")

    fixed = trace_of(ARGS.fixed, "fixed.db")
    p = report("--format", "json", fixed)
    check(p.returncode == 0, "json, fixed: exit %d, expected 0" % p.returncode)
    d = json_of(p, "json, fixed")
    check_json_doc(d, fixed, "json, fixed")
    check(d["findings"] == [], "json, fixed: findings in sample_party_fixed: %r" % d["findings"])

    # An incomplete trace (killed program) says so.
    cut = os.path.join(ARGS.workdir, "incomplete.db")
    shutil.copy(leaky, cut)
    with sqlite3.connect(cut) as db:
        db.execute("UPDATE meta SET value = 0 WHERE key = 'complete'")
    db.close()
    d = json_of(report("--format", "json", cut), "json, incomplete")
    check(d["complete"] is False, "json, incomplete: complete is not false")
    t = report(cut).stdout.decode()
    check("incomplete" in t, "text, incomplete: no note that the trace is incomplete")


def test_json_escaping():
    """Symbols and paths are input: quotes, backslashes, control characters, UTF-8 and
    invalid bytes must all come out as valid JSON (invalid bytes as U+FFFD)."""
    leaky = trace_of(ARGS.leaky, "leaky.db")
    base = json_of(report("--format", "json", leaky), "json")
    site = base["findings"][0]["site"]
    weird = os.path.join(ARGS.workdir, "weird.db")
    shutil.copy(leaky, weird)
    raw_fn = b'f"q\\b\n\t\x01\x1f\x7f \xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80 \xff\xc3 end'
    raw_file = b'/src/dir "x"/\xe6\x97\xa5\xe6\x9c\xac.c'
    with sqlite3.connect(weird) as db:
        n = db.execute("UPDATE frames SET function = CAST(? AS TEXT), file = CAST(? AS TEXT) "
                       "WHERE function = ? AND file = ? AND line = ?",
                       (raw_fn, raw_file, site["function"], site["file"], site["line"])).rowcount
    db.close()
    check(n >= 1, "escaping: no frame updated")
    p = report("--format", "json", weird)
    d = json_of(p, "json, weird symbols")
    check_json_doc(d, weird, "json, weird symbols")
    want_fn = 'f"q\\b\n\t\x01\x1f\x7f \u00fc\u20ac\U0001F600 \ufffd\ufffd end'
    want_file = '/src/dir "x"/\u65e5\u672c.c'
    got = d["findings"][0]["site"]
    check(got["function"] == want_fn, "escaping: function %r != %r" % (got["function"], want_fn))
    check(got["file"] == want_file, "escaping: file %r != %r" % (got["file"], want_file))
    # Control characters never appear raw in the output.
    check(not re.search(rb"[\x00-\x1f]", p.stdout.replace(b"\n", b"")),
          "escaping: raw control characters in the JSON")
    s = report("--format", "sarif", weird)
    json_of(s, "sarif, weird symbols")
    t = report(weird)
    check(t.returncode == 1 and b"\x01" not in t.stdout and b"\x1f" not in t.stdout,
          "text: control characters printed raw")


# ---- SARIF ------------------------------------------------------------------------------

def check_sarif(d, what, source_root):
    check(d.get("$schema") == "https://json.schemastore.org/sarif-2.1.0.json", what + ": $schema")
    check(d.get("version") == "2.1.0", what + ": version")
    runs = d.get("runs")
    if not check(isinstance(runs, list) and len(runs) == 1, what + ": runs"):
        return []
    r = runs[0]
    drv = r.get("tool", {}).get("driver", {})
    check(drv.get("name") == "ctxtrace", what + ": tool.driver.name")
    check(isinstance(drv.get("version"), str) and drv["version"], what + ": driver.version")
    rules = drv.get("rules")
    check(isinstance(rules, list) and {x.get("id") for x in rules} == RULES,
          what + ": driver.rules must describe every rule")
    ids = [x.get("id") for x in rules or []]
    check(len(ids) == len(set(ids)), what + ": duplicate rule ids")
    for x in rules or []:
        w = "%s: rule %s" % (what, x.get("id"))
        for k in ("shortDescription", "fullDescription"):
            check(isinstance(x.get(k), dict) and isinstance(x[k].get("text"), str) and x[k]["text"],
                  w + ": " + k + ".text")
        check(x.get("defaultConfiguration", {}).get("level") in SARIF_LEVELS, w + ": level")
        if "helpUri" in x:
            check(re.match(r"^https?://", x["helpUri"]), w + ": helpUri")
    bases = r.get("originalUriBaseIds", {})
    if "%SRCROOT%" in bases:
        u = bases["%SRCROOT%"].get("uri", "")
        check(u.startswith("file:///") and u.endswith("/"), what + ": %SRCROOT% uri " + u)
    results = r.get("results")
    check(isinstance(results, list), what + ": results")
    fps = set()
    for i, res in enumerate(results or []):
        w = "%s: results[%d]" % (what, i)
        check(isinstance(res.get("ruleId"), str), w + ": ruleId")
        idx = res.get("ruleIndex")
        check(is_int(idx) and 0 <= idx < len(rules or []) and rules[idx].get("id") == res.get("ruleId"),
              w + ": ruleIndex %r does not name ruleId %r" % (idx, res.get("ruleId")))
        check(res.get("level") in SARIF_LEVELS, w + ": level")
        msg = res.get("message", {}).get("text")
        check(isinstance(msg, str) and msg, w + ": message.text")
        locs = res.get("locations")
        if not check(isinstance(locs, list) and locs, w + ": GitHub needs a location"):
            continue
        pl = locs[0].get("physicalLocation", {})
        art = pl.get("artifactLocation", {})
        uri = art.get("uri")
        check(isinstance(uri, str) and uri, w + ": artifactLocation.uri")
        if art.get("uriBaseId") == "%SRCROOT%":
            check(not uri.startswith("/") and ":" not in uri.split("/")[0],
                  w + ": a %SRCROOT% uri must be relative: " + uri)
            check(os.path.isfile(os.path.join(source_root, uri)),
                  w + ": %s is not a file under the source root" % uri)
        else:
            check(uri.startswith("file:///"), w + ": an absolute uri must be file:///: " + uri)
        line = pl.get("region", {}).get("startLine")
        check(is_int(line) and line >= 1, w + ": region.startLine %r" % line)
        pf = res.get("partialFingerprints")
        check(isinstance(pf, dict) and pf and all(isinstance(v, str) for v in pf.values()),
              w + ": partialFingerprints")
        key = json.dumps(pf, sort_keys=True)
        check(key not in fps, w + ": fingerprint not unique")
        fps.add(key)
        for cf in res.get("codeFlows", []):
            for tf in cf.get("threadFlows", []):
                for tl in tf.get("locations", []):
                    l2 = tl.get("location", {}).get("physicalLocation", {}).get("region", {})
                    check(is_int(l2.get("startLine")) and l2["startLine"] >= 1,
                          w + ": codeFlow startLine")
    return results or []


def test_sarif():
    leaky = trace_of(ARGS.leaky, "leaky.db")
    # From the source root, as CI runs it: paths relative, with %SRCROOT%.
    p = report("--format", "sarif", leaky, cwd=ARGS.source_root)
    check(p.returncode == 1, "sarif, leaky: exit %d, expected 1" % p.returncode)
    d = json_of(p, "sarif")
    results = check_sarif(d, "sarif", ARGS.source_root)
    n = len(json_of(report("--format", "json", leaky), "json")["findings"])
    check(len(results) == n, "sarif: %d results for %d findings" % (len(results), n))
    check(any(r["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId") ==
              "%SRCROOT%" for r in results), "sarif: no location relative to the source root")
    # Fingerprints are stable from run to run.
    again = trace_of(ARGS.leaky, "leaky2.db")
    d2 = json_of(report("--format", "sarif", again, cwd=ARGS.source_root), "sarif again")
    fp = lambda doc: sorted(json.dumps(r["partialFingerprints"]) for r in doc["runs"][0]["results"])
    check(fp(d) == fp(d2), "sarif: fingerprints differ between two runs of one program")
    # Elsewhere (outside the source tree): absolute file:/// uris, still valid.
    p = report("--format", "sarif", "--source-root", "/nonexistent", leaky)
    check_sarif(json_of(p, "sarif, no root"), "sarif, no root", ARGS.source_root)
    p = report("--format", "sarif", "--source-root", ARGS.source_root, leaky)
    check(json_of(p, "sarif --source-root") == d, "sarif: --source-root differs from cwd")
    # No findings: still a complete log.
    fixed = trace_of(ARGS.fixed, "fixed.db")
    p = report("--format", "sarif", fixed)
    check(p.returncode == 0, "sarif, fixed: exit %d" % p.returncode)
    check(check_sarif(json_of(p, "sarif fixed"), "sarif fixed", ARGS.source_root) == [],
          "sarif, fixed: results")


# ---- text -------------------------------------------------------------------------------

SUMMARY = re.compile(r"^ctxtrace: (\d+) findings? in (\d+) contexts?: (.+)$")


def test_text():
    leaky = trace_of(ARGS.leaky, "leaky.db")
    d = json_of(report("--format", "json", leaky), "json")
    p = report(leaky, cwd=ARGS.source_root)
    check(p.returncode == 1, "text, leaky: exit %d" % p.returncode)
    lines = p.stdout.decode().splitlines()
    m = SUMMARY.match(lines[0]) if lines else None
    if check(m, "text: first line is not the summary: %r" % (lines[:1],)):
        check(int(m.group(1)) == len(d["findings"]), "text: summary count")
        check(int(m.group(2)) == d["contexts"], "text: summary contexts")
        per_rule = {}
        for f in d["findings"]:
            per_rule[f["rule"]] = per_rule.get(f["rule"], 0) + 1
        want = ", ".join("%d %s" % (n, r) for r, n in per_rule.items())
        check(m.group(3) == want, "text: summary by rule %r != %r" % (m.group(3), want))
    check(lines and lines[-1].startswith("SUMMARY: ctxtrace: "), "text: no final SUMMARY line")
    for f in d["findings"]:
        check(any(l.startswith(f["rule"] + ": %d " % f["count"]) for l in lines),
              "text: no heading for %s x%d" % (f["rule"], f["count"]))
    out = p.stdout.decode()
    check("samples/party_supplies/" in out and ARGS.source_root + "/samples" not in out,
          "text: paths under the current directory are not shortened")
    check(re.search(r"^    #0 +\S+ samples/party_supplies/\S+\.c:\d+ \(sample_party_leaky\)$",
                    out, re.M), "text: no symbolized frame 'function file:line (module)'")
    fixed = trace_of(ARGS.fixed, "fixed.db")
    p = report(fixed)
    check(p.returncode == 0, "text, fixed: exit %d" % p.returncode)
    check(re.match(r"^ctxtrace: no findings in \d+ contexts\n$", p.stdout.decode()),
          "text, fixed: %r" % p.stdout)


# ---- suppressions ----------------------------------------------------------------------

def write(name, text):
    path = os.path.join(ARGS.workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_suppressions():
    leaky = trace_of(ARGS.leaky, "leaky.db")
    d = json_of(report("--format", "json", leaky), "json")
    findings = d["findings"]
    if not check(findings, "suppressions: no findings to suppress"):
        return
    # One suppression naming exactly one finding (rule, site file and line) removes it
    # and nothing else.
    for i, f in enumerate(findings):
        site = f["site"]
        if not site["file"] or not site["line"]:
            continue
        s = write("one%d.supp" % i, "# just this one\n\n%s:site-file=%s:%d   # inline comment\n" %
                  (f["rule"], os.path.basename(site["file"]), site["line"]))
        p = report("--format", "json", "--suppressions", s, leaky)
        e = json_of(p, "json with %s" % s)
        check(e["findings"] == findings[:i] + findings[i + 1:],
              "suppressions: removing finding %d changed the others" % i)
        check(e["suppressed"] == 1, "suppressions: suppressed %r != 1" % e["suppressed"])
        check([x["hits"] for x in e.get("suppressions", [])] == [1], "suppressions: hits")
        check(p.returncode == (1 if len(findings) > 1 else 0),
              "suppressions: exit %d with %d left" % (p.returncode, len(findings) - 1))
        t = report("--suppressions", s, leaky).stdout.decode()
        check("(1 suppressed)" in t.splitlines()[0], "text: suppressed count in the summary")
    # Everything: exit 0; by function glob over the stack, by file glob, by rule glob.
    fns = {fr["function"] for f in findings for fr in f["stack"] if fr["function"]}
    everything = ["*:function=*", "*:file=*", "*:module=*", "%s:*" % findings[0]["rule"]]
    if "main" in fns:
        everything.append("*:function=main")  # any frame of the stack, not only the site
    for rule in everything:
        s = write("all.supp", rule + "\n")
        p = report("--format", "json", "--suppressions", s, leaky)
        e = json_of(p, "json with " + rule)
        if rule.startswith("*"):
            check(p.returncode == 0 and e["findings"] == [] and e["suppressed"] == len(findings),
                  "suppressions: %r should remove everything (exit %d)" % (rule, p.returncode))
        else:
            left = [f for f in findings if f["rule"] != findings[0]["rule"]]
            check(e["findings"] == left, "suppressions: %r should remove its rule's findings" % rule)
    # site-function matches the site only.
    outer = [fr["function"] for f in findings for fr in f["stack"][1:]
             if fr["function"] and fr["function"] not in {g["site"]["function"] for g in findings}]
    if outer:
        s = write("site.supp", "*:site-function=%s\n" % outer[0])
        e = json_of(report("--format", "json", "--suppressions", s, leaky), "site-function")
        check(e["findings"] == findings, "suppressions: site-function matched an outer frame")
        s = write("frame.supp", "*:function=%s\n" % outer[0])
        e = json_of(report("--format", "json", "--suppressions", s, leaky), "function")
        check(e["suppressed"] >= 1, "suppressions: function= did not match an outer frame")
    # Nothing matching: nothing removed.
    s = write("none.supp", "*:function=no_such_function_anywhere\n")
    e = json_of(report("--format", "json", "--suppressions", s, leaky), "none")
    check(e["findings"] == findings and e["suppressed"] == 0, "suppressions: removed too much")
    # From the environment; --suppressions wins over it.
    s = write("env.supp", "*:function=*\n")
    p = report("--format", "json", leaky, env={"CTXTRACE_SUPPRESSIONS": s})
    check(p.returncode == 0 and json_of(p, "env")["suppressed"] == len(findings),
          "CTXTRACE_SUPPRESSIONS is not applied")
    p = report("--format", "json", "--suppressions", write("n.supp", "# nothing\n"), leaky,
               env={"CTXTRACE_SUPPRESSIONS": s})
    check(p.returncode == 1, "--suppressions should replace CTXTRACE_SUPPRESSIONS")

    # Bad files: exit 2, one line naming file and line.
    bad = {
        "unknown rule": ("# ok\nlost-cancels:function=x\n", 2),
        "unknown key": ("lost-cancel:funtion=x\n", 1),
        "no colon": ("\n\nlost-cancel\n", 3),
        "empty pattern": ("lost-cancel:function=\n", 1),
        "rule glob matching nothing": ("zzz*:function=x\n", 1),
        "empty rule": (":function=x\n", 1),
        "bad line number": ("*:file=x.c:0\n", 1),
    }
    for what, (text, line) in bad.items():
        s = write("bad.supp", text)
        for argv, env in ((["report", "--suppressions", s, leaky], None),
                          (["report", leaky], {"CTXTRACE_SUPPRESSIONS": s})):
            p = run([ARGS.ctxtrace, *argv], env=env)
            err = p.stderr.decode()
            check(p.returncode == 2, "bad suppressions (%s): exit %d" % (what, p.returncode))
            check(p.stdout == b"", "bad suppressions (%s): output on stdout" % what)
            check(err.count("\n") == 1 and err.startswith("ctxtrace: ") and
                  ("%s:%d:" % (s, line)) in err,
                  "bad suppressions (%s): message %r should be one line naming %s:%d" %
                  (what, err, s, line))
    for what, path in (("missing", os.path.join(ARGS.workdir, "no-such.supp")),
                       ("directory", ARGS.workdir)):
        p = report("--suppressions", path, leaky)
        check(p.returncode == 2 and p.stderr.decode().count("\n") == 1 and path in p.stderr.decode(),
              "suppressions file %s: exit %d, %r" % (what, p.returncode, p.stderr))


# ---- ctxtrace run's exit report --------------------------------------------------------

def test_run_exit():
    out = os.path.join(ARGS.workdir, "run.db")
    p = run([ARGS.ctxtrace, "run", "-o", out, "--", ARGS.leaky])
    err = p.stderr.decode()
    check(p.returncode == 0, "run: the program's status (0) was not kept: %d" % p.returncode)
    lines = err.splitlines()
    w = [i for i, l in enumerate(lines) if l.startswith("ctxtrace: trace written to %s" % out)]
    s = [i for i, l in enumerate(lines) if SUMMARY.match(l)]
    check(w and s and s[0] == w[0] + 1,
          "run: the summary line must follow 'trace written to':\n" + err)
    check("created at:" in err, "run: no stacks in the exit report")

    p = run([ARGS.ctxtrace, "run", "--force", "-o", out, "--exitcode", "23", "--", ARGS.leaky])
    check(p.returncode == 23, "run --exitcode 23 with findings: exit %d" % p.returncode)
    p = run([ARGS.ctxtrace, "run", "--force", "-o", out, "--exitcode=23", "--", ARGS.fixed])
    check(p.returncode == 0, "run --exitcode 23 without findings: exit %d" % p.returncode)
    check(re.search(r"^ctxtrace: no findings in \d+ contexts$", p.stderr.decode(), re.M),
          "run, fixed: no 'no findings' line:\n" + p.stderr.decode())

    s = write("run-all.supp", "*:function=*\n")
    p = run([ARGS.ctxtrace, "run", "--force", "-o", out, "--exitcode", "23", "--suppressions", s, "--",
             ARGS.leaky])
    check(p.returncode == 0, "run --suppressions (all) --exitcode 23: exit %d" % p.returncode)
    check("suppressed" in p.stderr.decode(), "run: suppressed findings not mentioned")
    p = run([ARGS.ctxtrace, "run", "--force", "-o", out, "--exitcode", "23", "--", ARGS.leaky],
            env={"CTXTRACE_SUPPRESSIONS": s})
    check(p.returncode == 0, "run with CTXTRACE_SUPPRESSIONS (all): exit %d" % p.returncode)

    p = run([ARGS.ctxtrace, "run", "--force", "-o", out, "--no-report", "--exitcode", "23", "--",
             ARGS.leaky])
    check(p.returncode == 0 and not any(SUMMARY.match(l) for l in p.stderr.decode().splitlines()),
          "run --no-report: exit %d, stderr %r" % (p.returncode, p.stderr))

    # A bad suppressions file is refused before the program runs.
    fresh = os.path.join(ARGS.workdir, "never.db")
    s = write("run-bad.supp", "lost-cancel\n")
    p = run([ARGS.ctxtrace, "run", "-o", fresh, "--suppressions", s, "--", ARGS.leaky])
    check(p.returncode == 2 and not os.path.exists(fresh) and b"party:" not in p.stdout,
          "run with a bad suppressions file: exit %d, ran the program anyway?" % p.returncode)
    for argv in (["--exitcode", "256"], ["--exitcode", "x"], ["--threshold", "0"],
                 ["--threshold"], ["--suppressions"]):
        p = run([ARGS.ctxtrace, "run", "-o", fresh, *argv, "--", ARGS.leaky])
        check(p.returncode == 2 and not os.path.exists(fresh),
              "run %s: exit %d" % (" ".join(argv), p.returncode))


# ---- bad input -------------------------------------------------------------------------

def expect_error(path, what, contains=None):
    for fmt in ("text", "json", "sarif"):
        p = report("--format", fmt, path)
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 2, "%s (%s): exit %d, expected 2; stderr %r" %
              (what, fmt, p.returncode, err))
        check(p.stdout == b"", "%s (%s): something on stdout" % (what, fmt))
        check(err.startswith("ctxtrace: ") and err.count("\n") == 1 and err.endswith("\n"),
              "%s (%s): not a one-line message: %r" % (what, fmt, err))
        check(path in err, "%s: the message does not name the file: %r" % (what, err))
        if contains:
            check(contains in err, "%s: message %r lacks %r" % (what, err, contains))


def test_bad_input():
    leaky = trace_of(ARGS.leaky, "leaky.db")
    size = os.path.getsize(leaky)
    w = ARGS.workdir
    j = lambda n: os.path.join(w, n)

    with open(j("text.db"), "w") as f:
        f.write("this is not a database\n")
    expect_error(j("text.db"), "a text file", "not a SQLite database")
    open(j("empty.db"), "w").close()
    expect_error(j("empty.db"), "an empty file", "not a SQLite database")
    with open(j("header.db"), "wb") as f:  # the magic, then garbage
        f.write(b"SQLite format 3\0" + bytes(range(256)) * 64)
    expect_error(j("header.db"), "a SQLite header on garbage")
    with sqlite3.connect(j("other.db")) as db:
        db.execute("CREATE TABLE t (a)")
    db.close()
    expect_error(j("other.db"), "a SQLite file that is not a trace", "not a ctxtrace trace")
    with sqlite3.connect(j("nometa.db")) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value)")
    db.close()
    expect_error(j("nometa.db"), "a meta table without schema_version")
    for v in (99, 0):
        path = j("v%d.db" % v)
        shutil.copy(leaky, path)
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (v,))
        db.close()
        expect_error(path, "schema_version %d" % v, "version %d" % v)
    path = j("nocontexts.db")
    shutil.copy(leaky, path)
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE contexts")
    db.close()
    expect_error(path, "a trace without its contexts table")

    shutil.copy(leaky, j("truncated.db"))
    os.truncate(j("truncated.db"), size // 2)
    expect_error(j("truncated.db"), "a trace truncated to half")

    shutil.copy(leaky, j("corrupt.db"))
    with open(j("corrupt.db"), "r+b") as f:  # garbage over the middle of the file
        f.seek(size // 2)
        f.write(bytes((i * 167 + 13) & 0xff for i in range(size // 4)))
    expect_error(j("corrupt.db"), "a trace overwritten in the middle")

    expect_error(j("does-not-exist.db"), "a nonexistent path", "No such file")
    os.makedirs(j("adir.db"), exist_ok=True)
    expect_error(j("adir.db"), "a directory")
    if os.geteuid() != 0:
        shutil.copy(leaky, j("unreadable.db"))
        os.chmod(j("unreadable.db"), 0)
        expect_error(j("unreadable.db"), "an unreadable file", "Permission denied")

    # Damage anywhere never crashes the report: it is reported (2) or, when the damage
    # does not touch what the rules read and the b-trees still check out, judged (0/1).
    for k in range(1, 24):
        path = j("fuzz.db")
        shutil.copy(leaky, path)
        off = size * k // 24
        with open(path, "r+b") as f:
            f.seek(off)
            f.write(bytes(((i + k) * 131) & 0xff for i in range(64 + 37 * k)))
        for fmt in ("text", "json", "sarif"):
            p = report("--format", fmt, path)
            check(p.returncode in (0, 1, 2), "fuzz at %d (%s): exit %d" % (off, fmt, p.returncode))
            if p.returncode == 2:
                check(p.stderr.count(b"\n") == 1 and p.stdout == b"",
                      "fuzz at %d (%s): error not one line" % (off, fmt))
            elif fmt != "text":
                json_of(p, "fuzz at %d (%s)" % (off, fmt))
        os.truncate(path, size * k // 24)
        p = report(path)
        check(p.returncode in (0, 1, 2), "truncated at %d: exit %d" % (size * k // 24, p.returncode))


def test_usage():
    leaky = trace_of(ARGS.leaky, "leaky.db")
    cases = [
        ([], "no trace file given"),
        (["--format", "xml", leaky], "unknown format 'xml'"),
        (["--format"], "--format needs a value"),
        (["--bogus", leaky], "unknown option '--bogus'"),
        ([leaky, leaky], "one trace file at a time"),
        (["--threshold", "-3", leaky], "--threshold"),
        (["--threshold", "many", leaky], "--threshold"),
    ]
    for argv, msg in cases:
        p = report(*argv)
        check(p.returncode == 2 and msg in p.stderr.decode(),
              "report %s: exit %d, stderr %r" % (" ".join(argv), p.returncode, p.stderr))
    p = report("--help")
    check(p.returncode == 0 and b"Usage: ctxtrace report" in p.stdout, "report --help")
    p = run([ARGS.ctxtrace, "--help"])
    check(p.returncode == 0 and b"--format=FORMAT" in p.stdout
          and b"Usage: ctxtrace report [OPTIONS] FILE.db" in p.stdout,
          "ctxtrace --help does not list report")
    # --threshold reaches the analysis (detached-root: a huge threshold never fires).
    p = report("--format", "json", "--threshold", "1000000", leaky)
    d = json_of(p, "--threshold")
    check(all(f["rule"] != "detached-root" for f in d["findings"]), "--threshold ignored")
    # `--` before the file name.
    check(report("--", leaky).returncode == 1, "report -- FILE")


def test_profile():
    """report --profile: per creation site, checked on the fixed party sample, whose
    numbers are deterministic: 15 contexts at 3 sites; main's one cancel of the party
    reaches the 4 errands still on the road (samples/README.md)."""
    fixed = trace_of(ARGS.fixed, "fixed.db")
    p = report("--profile", "--format", "json", fixed)
    check(p.returncode == 0, "--profile --format json: status %d" % p.returncode)
    d = json_of(p, "--profile")
    check(d.get("version") == 1 and d.get("contexts") == 15, "header: %r" % d.get("contexts"))
    sites = d.get("sites", [])
    check(len(sites) == 3, "3 creation sites, got %d" % len(sites))
    check(sum(s["created"] for s in sites) == 15, "created adds up to 15")
    check([s["created"] for s in sites] == sorted((s["created"] for s in sites), reverse=True),
          "most contexts first")
    party = [s for s in sites if s["site"]["function"] == "main"]
    if check(len(party) == 1, "one site in main (the party): %r" % [s["site"] for s in sites]):
        m = party[0]
        check(m["kind"] == "cancel" and m["created"] == 1, "party: %r" % m)
        check(m["ended_explicit"] == 1 and m["cancel_origins"] == 1, "party cancelled once")
        check(m["fanout_max"] == 4 and m["fanout_mean_milli"] == 4000,
              "the party's cancel reaches the 4 errands on the road: %r" % m)
    for s in sites:
        check(s["lifetime_p50_ns"] <= s["lifetime_p99_ns"] <= s["lifetime_max_ns"],
              "lifetime percentiles ordered: %r" % s)
        check(s["ended_explicit"] + s["ended_parent"] + s["ended_deadline"] + s["ended_never"]
              == s["created"], "every context ended one way: %r" % s)
    t = report("--profile", fixed)
    out = t.stdout.decode()
    check(t.returncode == 0 and out.startswith("ctxtrace profile: 15 contexts created at 3 sites"),
          "text profile header: %r" % out[:120])
    check("errands.c:" in out, "text profile names the party's site")
    # Readable at 100 columns, its numbers aligned under the header's.
    lines = out.splitlines()
    check(max(len(l) for l in lines) <= 100,
          "text profile wider than 100 columns: %r" % max(lines, key=len))
    head = next((l for l in lines if l.lstrip().startswith("contexts")), "")
    rows = [l for l in lines if re.match(r"^ +\d+  \w", l)]
    check(len(rows) == 3 and all(r.index(r.split()[1]) == head.index("kind") for r in rows),
          "3 rows, each kind under 'kind': %r" % ([head] + rows))
    check(report("--profile", "--format", "sarif", fixed).returncode == 2,
          "--profile with sarif is an error")


TESTS = {
    "profile": test_profile,
    "json": test_json,
    "json_escaping": test_json_escaping,
    "sarif": test_sarif,
    "text": test_text,
    "suppressions": test_suppressions,
    "run_exit": test_run_exit,
    "bad_input": test_bad_input,
    "usage": test_usage,
}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("test", choices=sorted(TESTS))
    for opt in ("--ctxtrace", "--leaky", "--fixed", "--workdir", "--source-root"):
        ap.add_argument(opt, required=True)
    ARGS = ap.parse_args()
    ARGS.source_root = os.path.realpath(ARGS.source_root)
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    TESTS[ARGS.test]()
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("report.%s: passed" % ARGS.test)
    shutil.rmtree(ARGS.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
