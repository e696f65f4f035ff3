#!/bin/sh
# run.sh — the exit check's cost: time and memory at exit for 10, 100 and 1,000 blocked
# threads, and for a 1 GiB heap (docs/rules.md, "The exit check").
#
#   run.sh CTXTRACE EXIT_COST WORKDIR
#
# Prints one line per case from the trace's meta: how long the world stayed stopped
# (stop + reachability scan), the whole check (drain, prepare, stop, scan, record), the
# checking thread's CPU time (on a busy machine the wall times mostly measure waiting for
# a core), the words scanned and the resident memory the check added.
set -eu
ctxtrace=$1 prog=$2 work=$3
mkdir -p "$work"
printf '%-22s %11s %9s %12s %14s %8s\n' case stopped_ms check_ms checker_cpu_ms words_scanned rss_MiB
for c in "10 0" "100 0" "1000 0" "10 1024"; do
    set -- $c
    db=$work/t$1_$2.db
    rm -f "$db"
    "$ctxtrace" run -o "$db" -- "$prog" "$1" "$2" >/dev/null 2>"$work/err"
    sqlite3 "$db" "SELECT printf('%-22s %11.1f %9.1f %12.1f %14d %8.1f', '$1 threads, $2 MiB',
        (SELECT value FROM meta WHERE key = 'exit_check_us') / 1000.0,
        (SELECT value FROM meta WHERE key = 'exit_check_total_us') / 1000.0,
        (SELECT value FROM meta WHERE key = 'exit_check_cpu_us') / 1000.0,
        (SELECT value FROM meta WHERE key = 'exit_check_scan_words'),
        (SELECT value FROM meta WHERE key = 'exit_check_rss_kb') / 1024.0)"
    sqlite3 "$db" "SELECT '  exit_check: ' || value FROM meta WHERE key = 'exit_check'
                   UNION ALL SELECT '  reach: ' || value FROM meta WHERE key = 'exit_check_reach'"
done
