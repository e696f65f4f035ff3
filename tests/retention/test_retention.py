#!/usr/bin/env python3
"""test_retention.py — summary retention (ctxtrace/core/summary.h; docs/trace-file.md
"Retention"), on a real busy program (churn.c) run under `ctxtrace run` three times: --keep
full, --keep summary sampling nothing (CTXTRACE_KEEP_SAMPLE=0), and --keep summary with
the default sampling:

  - every context is counted once: rows (roots excluded) + site_summary.contexts = the
    contexts the program says it created, in both files, and meta.contexts_summarized
    agrees with the aggregates;
  - the summary file keeps few rows (the findings' contexts, the live, the sampled) and
    is a fraction of the full one;
  - a context live for longer than the hold time has a row while it lives, and none once
    it ended cleanly (folded into its site);
  - the findings (report --format json) are identical, and so are the profile's counts
    per site (report --profile --format json, if any, else the text's site lines).

usage: test_retention.py CTXTRACE CHURN WORKDIR
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

HOLD_S = 1.0  # CT_KEEP_HOLD_NS
REQUESTS = 60000


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def q(db, sql):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def run(ctxtrace, churn, trace, keep, look_while_held, sample=None):
    """Run churn under ctxtrace run; while it holds its long-lived context, let
    look_while_held(trace) look at the trace. Returns (created, stderr)."""
    env = dict(os.environ)
    env.pop("CTXTRACE_KEEP_SAMPLE", None)
    if sample is not None:
        env["CTXTRACE_KEEP_SAMPLE"] = str(sample)
    p = subprocess.Popen([ctxtrace, "run", "--keep", keep, "-o", trace, "--", churn,
                          str(REQUESTS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    line = p.stdout.readline()
    check(line.strip() == "holding", "churn: expected 'holding', got %r" % line)
    # Past the hold time, and a few writer passes more.
    time.sleep(HOLD_S + 0.3)
    look_while_held(trace)
    out, err = p.communicate("go\n", timeout=120)
    check(p.returncode == 0, "ctxtrace run --keep %s: exit %d\n%s" % (keep, p.returncode, err))
    created = [int(l.split()[1]) for l in out.splitlines() if l.startswith("created ")]
    check(len(created) == 1, "churn printed no 'created N': %r" % out)
    return created[0], err


def findings(ctxtrace, trace):
    p = subprocess.run([ctxtrace, "report", "--format", "json", trace], capture_output=True,
                       text=True)
    check(p.returncode in (0, 1), "report %s: exit %d\n%s" % (trace, p.returncode, p.stderr))
    doc = json.loads(p.stdout)
    return sorted((f["rule"], f["count"], f["site"]["function"], f["site"]["line"])
                  for f in doc["findings"])


def profile_counts(ctxtrace, trace):
    p = subprocess.run([ctxtrace, "report", "--profile", trace], capture_output=True,
                       text=True)
    check(p.returncode in (0, 1), "report --profile %s: exit %d\n%s" %
          (trace, p.returncode, p.stderr))
    lines = p.stdout.splitlines()
    head = [l for l in lines if l.startswith("ctxtrace profile:")]
    check(len(head) == 1, "report --profile: no header line:\n" + p.stdout)
    # "  serve /path/churn.c:27" then "    60000  deadline  ..." : site -> (count, kind)
    sites = {}
    site = None
    for l in lines:
        if l.startswith("  ") and not l.startswith("    ") and ".c:" in l:
            site = l.split()[0] + " " + os.path.basename(l.split()[1])
        elif l.startswith("    ") and site is not None and l.split()[0].isdigit():
            sites[site] = (int(l.split()[0]), l.split()[1])
            site = None
    return head[0], sites


def main():
    if len(sys.argv) != 4:
        fail("usage: test_retention.py CTXTRACE CHURN WORKDIR")
    ctxtrace, churn, work = sys.argv[1:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    full, summ = os.path.join(work, "full.db"), os.path.join(work, "summary.db")

    seen = {}

    def live_rows(trace):
        # The long-lived context (made after REQUESTS/2 requests and one lost cancel) is
        # live and older than the hold time: it has a row now.
        seen[trace] = q(trace, "SELECT count(*) FROM contexts WHERE id > 2 AND "
                               "freed_ns IS NULL AND kind = 'cancel'")[0][0]

    sampled = os.path.join(work, "sampled.db")
    created_full, _ = run(ctxtrace, churn, full, "full", live_rows)
    # Nothing sampled: every clean context folded, only the findings' evidence kept.
    created_summ, err = run(ctxtrace, churn, summ, "summary", live_rows, sample=0)
    created_sampled, _ = run(ctxtrace, churn, sampled, "summary", lambda t: None)
    check(created_full == created_summ == created_sampled,
          "churn created %d, %d, %d contexts" % (created_full, created_summ, created_sampled))
    created = created_full

    # The server context and the held one, at least, were rows while the held one lived.
    check(seen[summ] >= 2, "summary: %d live cancellable rows while a context was held past "
                           "the hold time, expected >= 2 (the server's and the held one)"
          % seen[summ])

    for trace, keep in ((full, "full"), (summ, "summary"), (sampled, "summary")):
        rows = q(trace, "SELECT count(*) FROM contexts WHERE id > 2")[0][0]
        folded = q(trace, "SELECT ifnull(sum(contexts), 0) FROM site_summary")[0][0]
        meta = dict(q(trace, "SELECT key, value FROM meta"))
        check(meta.get("retention") == keep, "%s: meta.retention %r" % (trace, meta.get("retention")))
        check(rows + folded == created, "%s: %d rows + %d summarized != %d created" %
              (keep, rows, folded, created))
        check(int(meta.get("contexts_summarized", -1)) == folded,
              "%s: meta.contexts_summarized %s, the aggregates hold %d" %
              (keep, meta.get("contexts_summarized"), folded))
        check(int(meta.get("events_dropped", -1)) == 0, "%s: events dropped" % keep)
        check(int(meta.get("complete", 0)) == 1, "%s: not complete" % keep)
        if keep == "full":
            check(folded == 0, "full: %d contexts summarized" % folded)
        elif trace == summ:
            # Nothing sampled: the one row is the lost cancel's. The server and the held
            # context had rows while they lived past the hold time (seen above); they
            # went when those contexts ended cleanly, folded into their sites.
            kept = q(trace, "SELECT kind, released_live FROM contexts WHERE id > 2")
            check(kept == [("cancel", 1)], "summary without samples: rows %s, expected only "
                                           "the lost cancel's" % kept)
            check("summarized per site" in err, "run did not say the trace is a summary:\n" + err)
        else:
            # Sampled at the documented rate: of each creation stack and kind, the clean
            # contexts numbered k = 0, 1, ... as they end keep rows for k < 4 and every
            # k % 1024 == 0 until the site has 256, then for k a power of two (summary.h).
            groups = q(trace, "SELECT s.create_stack, s.kind, s.contexts, (SELECT count(*) "
                              "FROM contexts c WHERE c.create_stack = s.create_stack AND "
                              "c.kind = s.kind) "
                              "FROM site_summary s")
            for stack, kind, nfold, nrows in groups:
                n = nfold + nrows
                want = 0
                for k in range(n):
                    if (k < 4 or k % 1024 == 0) if want < 256 else (k & (k - 1)) == 0:
                        want += 1
                check(nrows == want, "sampling: %s at stack %d: %d rows of %d, expected %d" %
                      (kind, stack, nrows, n, want))
            # Alone at their stacks, hence in no aggregate: the lost cancel (a finding),
            # the server's context and the held one (each the first of its stack: sampled).
            check(sum(g[3] for g in groups) + 3 == rows,
                  "sampling: %d rows, %d sampled at the request sites + 3 alone at theirs" %
                  (rows, sum(g[3] for g in groups)))

    size_full, size_summ = os.path.getsize(full), os.path.getsize(summ)
    check(size_summ * 10 < size_full and os.path.getsize(sampled) * 10 < size_full, "summary file %d bytes, full %d: not a tenth" %
          (size_summ, size_full))

    ff, fs, fp = findings(ctxtrace, full), findings(ctxtrace, summ), findings(ctxtrace, sampled)
    check(ff == fs == fp, "findings differ:\nfull    %s\nsummary %s\nsampled %s" % (ff, fs, fp))
    check([f[:3] for f in ff] == [("lost-cancel", 1, "lose_a_cancel")],
          "expected one lost-cancel in lose_a_cancel, got %s" % ff)

    hf, sf, pf = (profile_counts(ctxtrace, full), profile_counts(ctxtrace, summ),
                  profile_counts(ctxtrace, sampled))
    check(hf == sf == pf, "profiles differ:\nfull    %s\nsummary %s\nsampled %s" % (hf, sf, pf))
    check(("%d contexts created" % created) in hf[0], "profile header: %s" % hf[0])
    print("ok: %d contexts; full %d bytes, summary %d bytes; findings %s; %d sites" %
          (created, size_full, size_summ, ff, len(hf[1])))


main()
