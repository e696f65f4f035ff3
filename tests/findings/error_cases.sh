#!/bin/sh
# error_cases.sh — the findings driver on what is not a trace: exit status 2, nothing on
# standard output, exactly one line on standard error.
#
#   error_cases.sh FINDINGS WORKDIR [SQLITE3]
set -u
findings=$1 workdir=$2 sqlite3=${3:-}
rm -rf "$workdir" && mkdir -p "$workdir" || exit 1
failures=0

check() { # check DESCRIPTION ARGS...
    what=$1
    shift
    "$findings" "$@" >"$workdir/out" 2>"$workdir/err"
    status=$?
    lines=$(wc -l <"$workdir/err")
    if [ "$status" -ne 2 ] || [ -s "$workdir/out" ] || [ "$lines" -ne 1 ]; then
        echo "FAIL: $what: exit status $status (expected 2), $(wc -c <"$workdir/out") bytes on stdout (expected 0), $lines lines on stderr (expected 1):" >&2
        cat "$workdir/out" "$workdir/err" >&2
        failures=$((failures + 1))
    else
        echo "ok: $what: $(cat "$workdir/err")"
    fi
}

printf 'this is not a trace\n' >"$workdir/text.db"
check "a text file" "$workdir/text.db"
: >"$workdir/empty.db"
check "an empty file" "$workdir/empty.db"
head -c 4096 /dev/zero >"$workdir/zeros.db"
check "a file of zeros" "$workdir/zeros.db"
check "a missing file" "$workdir/missing.db"
check "a directory" "$workdir"
if [ -n "$sqlite3" ]; then
    "$sqlite3" "$workdir/other.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1);'
    check "a SQLite database that is not a trace" "$workdir/other.db"
    "$sqlite3" "$workdir/nometa.db" "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
    check "a SQLite database with an empty meta table" "$workdir/nometa.db"
    "$sqlite3" "$workdir/future.db" "CREATE TABLE meta(key TEXT PRIMARY KEY, value); INSERT INTO meta VALUES ('schema_version', 999999);"
    check "a trace of another schema version" "$workdir/future.db"
fi
check "no arguments"
check "two files" "$workdir/text.db" "$workdir/empty.db"
check "a bad threshold" --threshold zero "$workdir/text.db"
[ "$failures" -eq 0 ]
