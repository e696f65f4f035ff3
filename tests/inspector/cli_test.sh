#!/usr/bin/env bash
# cli_test.sh INSPECTOR CTXTRACE SAMPLE WORKDIR SHIM LIVE_PROG — ctxtrace-inspector's
# command line: bad arguments, unreadable traces and --connect targets nobody serves are
# one-line errors with exit status 2; --version; --screenshot writes a PNG of the window
# (a traced sample, a live process followed with --connect, and the start page), exits
# 0 and leaves the recent files alone. Runs the inspector under xvfb-run.
set -euo pipefail
inspector="$1" ctxtrace="$2" sample="$3" work="$4" shim="$5" live_prog="$6"
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
xvfb() { xvfb-run -a -s "-screen 0 1400x900x24" "$@"; }

# expect_error STATUS PATTERN ARGS...: exit STATUS, and one stderr line matching PATTERN.
expect_error() {
  local want="$1" pattern="$2"; shift 2
  local rc=0
  "$inspector" "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "ctxtrace-inspector $*: exit $rc, expected $want"
  grep -q -- "$pattern" "$work/err" || fail "ctxtrace-inspector $*: stderr lacks '$pattern': $(cat "$work/err")"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "ctxtrace-inspector $*: more than one line: $(cat "$work/err")"
}

# --version: the program and its version, exit 0.
"$inspector" --version >"$work/version" || fail "--version failed"
grep -Eqx 'ctxtrace-inspector [0-9]+\.[0-9]+\.[0-9]+' "$work/version" || fail "--version printed: $(cat "$work/version")"

expect_error 2 "unknown option '--bogus'" --bogus
expect_error 2 "--after only goes with --screenshot" x.db --after 10
expect_error 2 "--after needs milliseconds" --screenshot x.png --after soon
expect_error 2 "--view takes tree, timeline, counts, findings or sites" --view graph
expect_error 2 "--select needs a context id" --select 0
expect_error 2 "one trace file at a time" a.db b.db
expect_error 2 "nothing.db: No such file or directory" "$work/nothing.db"
expect_error 2 "a trace file or --connect, not both" a.db --connect 1
expect_error 2 "--connect needs a PID or a socket path" --connect
expect_error 2 "cannot connect to $work/none.sock: No such file or directory" --connect "$work/none.sock"
echo "not a database" >"$work/text.db"
expect_error 2 "not a SQLite database" "$work/text.db"

# A real trace, shown and written to a PNG — and left out of the recent files.
"$ctxtrace" run --no-report -o "$work/fetch.db" -- "$sample" >/dev/null
XDG_DATA_HOME="$work/xdg" xvfb "$inspector" "$work/fetch.db" --view findings --screenshot "$work/fetch.png" --after 50 \
  2> >(grep -v -e dbus -e '^$' >&2) || fail "--screenshot of a trace failed"
if grep -qs fetch.db "$work/xdg/recently-used.xbel"; then fail "--screenshot added the trace to the recent files"; fi
[ "$(head -c 4 "$work/fetch.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "fetch.png is not a PNG"
[ "$(stat -c %s "$work/fetch.png")" -gt 10000 ] || fail "fetch.png is too small to be a window"

# A running process, followed through its socket: the screenshot after --after shows
# what arrived. live_prog waits for "go" on stdin, so it is alive while connected.
coproc LIVE { LD_PRELOAD="$shim" CTXTRACE_OUTPUT="$work/live.db" CTXTRACE_SOCKET="$work/live.sock" \
  exec "$live_prog" --wait-go 0 0; }
read -r ready <&"${LIVE[0]}"
[ "$ready" = ready ] || fail "live_prog did not start"
xvfb "$inspector" --connect "$work/live.sock" --screenshot "$work/live.png" --after 200 \
  2> >(grep -v -e dbus -e '^$' >&2) || fail "--screenshot of a live process failed"
echo go >&"${LIVE[1]}"
wait "$LIVE_PID" || fail "live_prog failed"
[ "$(stat -c %s "$work/live.png")" -gt 10000 ] || fail "live.png is too small to be a window"

# No file: the start page.
xvfb "$inspector" --screenshot "$work/start.png" 2> >(grep -v -e dbus -e '^$' >&2) \
  || fail "--screenshot of the start page failed"
[ -s "$work/start.png" ] || fail "start.png missing"
echo "inspector cli: all checks passed"
