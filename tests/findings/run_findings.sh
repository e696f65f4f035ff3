#!/bin/sh
# run_findings.sh — one exact-findings test: run a sample under `ctxtrace run`, judge
# the trace with the findings driver, and compare its output EXACTLY with the sample's
# expectation file.
#
#   run_findings.sh CTXTRACE FINDINGS PROGRAM EXPECTED WORKDIR SOURCE_DIR...
#
# The expectation file has one line per finding, in the driver's canonical form, except
# that the line number is given by the text of the call:
#
#   RULE COUNT FUNCTION FILE:@TEXT
#
# FILE is a basename found in exactly one SOURCE_DIR; TEXT (the rest of the line, spaces
# included) must occur on exactly one line of it, and that line's number replaces @TEXT.
# So an edit of a sample moves the expectation with it, and an edit that removes or
# duplicates the call fails loudly instead of rotting. Blank lines and lines starting
# with '#' are comments. An expectation without findings means: no finding at all, and
# the driver exits 0; with findings it must exit 1.
set -u
if [ $# -lt 6 ]; then
    echo "usage: run_findings.sh CTXTRACE FINDINGS PROGRAM EXPECTED WORKDIR SOURCE_DIR..." >&2
    exit 2
fi
ctxtrace=$1 findings=$2 program=$3 expected=$4 workdir=$5
shift 5
LC_ALL=C
export LC_ALL

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# ---- resolve the expectation ----------------------------------------------------------
rm -rf "$workdir" && mkdir -p "$workdir" || fail "cannot create $workdir"
resolved=$workdir/expected.txt
: >"$resolved.unsorted"
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    case $line in '' | '#'*) continue ;; esac
    where="$expected:$lineno"
    # RULE COUNT FUNCTION FILE:@TEXT — the first three fields contain no spaces.
    head=$(printf '%s\n' "$line" | cut -d' ' -f1-3)
    rest=$(printf '%s\n' "$line" | cut -d' ' -f4-)
    [ "$(printf '%s\n' "$head" | wc -w)" -eq 3 ] || fail "$where: expected 'RULE COUNT FUNCTION FILE:@TEXT'"
    case $rest in
        *:@?*) ;;
        *) fail "$where: the site must be FILE:@TEXT (the text of the call), got '$rest'" ;;
    esac
    file=${rest%%:@*}
    text=${rest#*:@}
    case $file in */*|'') fail "$where: FILE must be a basename: '$file'" ;; esac
    found= nfound=0
    for dir in "$@"; do
        if [ -f "$dir/$file" ]; then
            found=$dir/$file
            nfound=$((nfound + 1))
        fi
    done
    [ "$nfound" -eq 1 ] || fail "$where: $file is in $nfound of the source directories ($*), expected exactly 1"
    matches=$(grep -n -F -- "$text" "$found" | cut -d: -f1)
    nmatch=$(printf '%s' "$matches" | grep -c .)
    [ "$nmatch" -eq 1 ] || fail "$where: '$text' occurs on $nmatch lines of $found (lines: $(printf '%s' "$matches" | tr '\n' ' ')), expected exactly 1"
    printf '%s %s:%s\n' "$head" "$file" "$matches" >>"$resolved.unsorted"
done <"$expected"
sort "$resolved.unsorted" >"$resolved"
if [ -s "$resolved" ]; then want_status=1; else want_status=0; fi

# ---- run the sample under the tracer, and judge it ------------------------------------
trace=$workdir/trace.db
"$ctxtrace" run -o "$trace" -- "$program" >"$workdir/program.out" 2>"$workdir/program.err"
status=$?
if [ "$status" -ne 0 ]; then
    cat "$workdir/program.out" "$workdir/program.err" >&2
    fail "ctxtrace run -- $program: exit status $status, expected 0"
fi
[ -f "$trace" ] || fail "no trace file $trace"
# A summary run (CTXTRACE_KEEP=summary, findings.summary.*) must have made a summary trace.
if [ "${CTXTRACE_KEEP:-full}" = summary ]; then
    grep -q "summarized per site" "$workdir/program.err" ||
        fail "CTXTRACE_KEEP=summary, but ctxtrace run did not report a summary trace: $(grep 'trace written' "$workdir/program.err")"
fi

"$findings" "$trace" >"$workdir/observed.txt" 2>"$workdir/findings.err"
status=$?
if [ "$status" -eq 2 ]; then
    cat "$workdir/findings.err" >&2
    fail "findings $trace: error"
fi
if ! cmp -s "$resolved" "$workdir/observed.txt" || [ "$status" -ne "$want_status" ]; then
    echo "--- expected ($expected, resolved)" >&2
    cat "$resolved" >&2
    echo "--- observed (findings $trace, exit status $status, expected $want_status)" >&2
    cat "$workdir/observed.txt" >&2
    echo "--- diff" >&2
    diff "$resolved" "$workdir/observed.txt" >&2
    echo "--- details (findings -v)" >&2
    "$findings" -v "$trace" 2>&1 >/dev/null | head -200 >&2
    fail "the findings of $program differ from $expected"
fi
echo "ok: $(basename "$program"): $(wc -l <"$resolved") finding(s), as expected"
cat "$resolved"
exit 0
