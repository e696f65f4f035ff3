#!/usr/bin/env python3
"""same_stacks.py — findings.same_stacks_at_every_level: every stack of every finding
(creation, release, waiting thread's creation, waited context's creation) lists the same
application frames — function, file, line — whether the program was built at -O0, -O1,
-O2 -g or the build type's flags. The exact-findings tests compare sites only; this
compares whole stacks, where inlined calls and tail calls change the physical frames.

usage: same_stacks.py FINDINGS WORKDIR PROGRAM...

Reads the traces the findings tests left in WORKDIR/PROGRAM{,_O0,_O1,_O2}/trace.db (the
test requires them as a fixture). Standard library only.
"""
import os
import re
import subprocess
import sys

LEVELS = ("_O0", "_O1", "_O2", "")
# "    FUNCTION FILE:LINE (MODULE)" — a frame of `findings -v`.
FRAME = re.compile(r"^    (\S+) (\S+) \((.*)\)$")


def stacks(findings, trace, program):
    """{finding line: [(label, [(function, file:line)...])...]}, application frames only.

    In `findings -v`, a finding's line is unindented; its detail, examples and stack
    labels are indented by two spaces; frames by four, under their label."""
    p = subprocess.run([findings, "-v", trace], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit("FAIL: findings -v %s: status %d: %s" % (trace, p.returncode, p.stderr))
    out, finding = {}, None
    for line in p.stderr.splitlines():
        m = FRAME.match(line)
        if m:
            if finding is not None and re.sub(r"_O[012]$", "", m.group(3)) == program:
                out[finding][-1][1].append((m.group(1), m.group(2)))
        elif line.startswith("  ") and finding is not None:
            out[finding].append((line.strip(), []))
        elif re.match(r"^[a-z-]+ \d+ ", line):
            finding = line
            out[finding] = []
    # Only the labels with frames under them: the detail and examples lines have none.
    return {f: [(label, frames) for label, frames in groups if frames]
            for f, groups in out.items()}


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: same_stacks.py FINDINGS WORKDIR PROGRAM...")
    findings, work, programs = sys.argv[1], sys.argv[2], sys.argv[3:]
    failures, compared = 0, 0
    for program in programs:
        seen = {}
        for level in LEVELS:
            trace = os.path.join(work, program + level, "trace.db")
            if not os.path.exists(trace):
                sys.exit("FAIL: no trace %s (the findings test of %s%s did not run)" %
                         (trace, program, level))
            seen[level] = stacks(findings, trace, program)
        for level in LEVELS[1:]:
            if seen[level] != seen["_O0"]:
                failures += 1
                print("FAIL: %s%s: stacks differ from -O0's" % (program, level or " (build type)"))
                for key in sorted(set(seen["_O0"]) | set(seen[level])):
                    a, b = seen["_O0"].get(key), seen[level].get(key)
                    if a != b:
                        print("  %s\n    -O0: %s\n    %s: %s" % (key, a, level or "build type", b))
        compared += sum(len(frames) for st in seen["_O0"].values() for _, frames in st)
    if failures:
        sys.exit("%d program build(s) with different stacks" % failures)
    if compared == 0:
        sys.exit("FAIL: no application frame compared at all")
    print("same stacks at every level: %d programs, %d application frames at -O0" %
          (len(programs), compared))


if __name__ == "__main__":
    main()
