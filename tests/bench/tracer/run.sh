#!/usr/bin/env bash
# run.sh — what tracing costs, measured side by side in one run on the same binaries
# (docs/tracer-benchmarks.md). Builds nothing: give it a build directory.
#
#   tests/bench/tracer/run.sh BUILD_DIR [--requests N] [--memcheck-requests N]
#                             [--reps N] [--body BYTES] [--quick] [--keep]
#
# --quick: 20000 requests, one run of each, 10 lifecycle bursts (proves it runs).
# --keep: leave the work directory (trace files, outputs) in $TMPDIR.
#
# 1. request_loop (a server's request loop, 4 contexts per request) run untraced, under
#    `ctxtrace run` (full retention: a row per context), under `ctxtrace run --keep
#    summary`, under heaptrack and under valgrind memcheck (fewer requests: it is slow;
#    normalized per request) — twice: with --body BYTES of work per request (the
#    realistic loop) and with none (--body 0: the context-heavy loop, ~0.2 us of work per
#    context). Modes are interleaved, each --reps times (default 3), and the median is
#    reported. Every traced run's file is checked: complete, meta.events_dropped = 0, and
#    every context the program created counted once (a row, or in site_summary).
# 2. The same loop with more work per request (bigger bodies), untraced vs traced:
#    where the slowdown falls to 1.5x.
# 3. lifecycle: one context lifecycle on the application thread, untraced vs traced,
#    in bursts that fit the shim's ring (meta.ring_stalls shown), and the cost per
#    captured stack frame: the slope over CTXTRACE_STACK_DEPTH = 1, 8, 16, 32, 64.
# 4. The machine, and its load before and after (this is meant for shared machines
#    too: look at the load before trusting a number).
#
# heaptrack is installed with apt-get if missing and we are root; without it (or without
# valgrind) that row says n/a. Exit status: 0, or 1 if a trace check failed.
set -euo pipefail

usage() {
  sed -n '5,6p' "$0" | sed 's/^# *//' >&2
  exit 2
}

[ $# -ge 1 ] || usage
BUILD=$(cd "$1" && pwd)
shift
REQUESTS=200000
MEMCHECK_REQUESTS=""
REPS=3
BODY=4096
QUICK=0
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) REQUESTS=$2; shift 2 ;;
    --memcheck-requests) MEMCHECK_REQUESTS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --body) BODY=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --keep) KEEP=1; shift ;;
    *) usage ;;
  esac
done
if [ "$QUICK" = 1 ]; then
  REQUESTS=20000
  REPS=1
fi
[ -n "$MEMCHECK_REQUESTS" ] || MEMCHECK_REQUESTS=$((REQUESTS / 20))

LOOP=$BUILD/tests/bench/tracer/request_loop
FLOOR=$BUILD/tests/bench/tracer/sqlite_floor
LIFE=$BUILD/tests/bench/tracer/lifecycle
CTXTRACE=$BUILD/preload/ctxtrace
for f in "$LOOP" "$LIFE" "$CTXTRACE" "$FLOOR"; do
  [ -x "$f" ] || { echo "run.sh: $f not built (cmake --build $BUILD --target bench-tracer)" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "run.sh: needs the sqlite3 shell" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ctxtrace-bench.XXXXXX")
if [ "$KEEP" = 1 ]; then
  echo "# work files kept in $WORK"
else
  trap 'rm -rf "$WORK"' EXIT
fi
STATUS=0

# ---- tools ---------------------------------------------------------------------------
HEAPTRACK=$(command -v heaptrack || true)
if [ -z "$HEAPTRACK" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "# installing heaptrack (apt-get install -y heaptrack)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq heaptrack >/dev/null 2>&1 || true
  HEAPTRACK=$(command -v heaptrack || true)
fi
VALGRIND=$(command -v valgrind || true)
NO_REPORT=""
if "$CTXTRACE" --help 2>&1 | grep -q -- '--no-report'; then
  NO_REPORT="--no-report" # the exit report is timed on its own (below)
fi

# ---- helpers -------------------------------------------------------------------------
now_ns() { date +%s%N; }
# median of the numbers on stdin ("nan" when there are none)
median() {
  sort -g | awk '{a[NR] = $1} END {
    if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2];
    else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# value of "KEY value" in FILE
key() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
meta() { sqlite3 "$1" "select value from meta where key = '$2'"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "n/a"; else printf "%.2fx\n", a / b }'; }
fail() {
  echo "TRACE CHECK FAILED: $*" >&2
  STATUS=1
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# check_trace DB EXPECTED_CONTEXTS WHAT: complete, nothing dropped, every context counted
# once (a row, or folded into site_summary by summary retention).
check_trace() {
  local db=$1 expected=$2 what=$3
  [ -f "$db" ] || { fail "$what: no trace file $db"; return; }
  local complete dropped rows
  complete=$(meta "$db" complete)
  dropped=$(meta "$db" events_dropped)
  rows=$(sqlite3 "$db" "select (select count(*) from contexts where id > 2) +
                              (select ifnull(sum(contexts), 0) from site_summary)")
  [ "$complete" = 1 ] || fail "$what: meta.complete = '$complete'"
  [ "$dropped" = 0 ] || fail "$what: meta.events_dropped = '$dropped'"
  [ "$rows" = "$expected" ] || fail "$what: $rows context rows, the program created $expected"
}

# ---- 1. request loop -----------------------------------------------------------------
# loop_run MODE REP REQUESTS BODY: one run; appends "<ns/request> <wall ns> <requests>
# <cpu ns> <app-thread cpu ns/request> <other threads' cpu ns/request>" to
# $WORK/<MODE>.<BODY>, and trace facts to $WORK/trace.<BODY> for ctxtrace.
loop_run() {
  local mode=$1 rep=$2 n=$3 body=$4
  local out=$WORK/loop.$mode.$body.$rep.out db=$WORK/loop.$body.$rep.db
  local -a cmd
  case "$mode" in
    untraced) cmd=("$LOOP" --requests "$n" --body "$body") ;;
    ctxtrace) cmd=("$CTXTRACE" run $NO_REPORT -o "$db" -- "$LOOP" --requests "$n" --body "$body") ;;
    summary) cmd=("$CTXTRACE" run $NO_REPORT --keep summary -o "$db" -- "$LOOP" --requests "$n" --body "$body") ;;
    heaptrack) cmd=("$HEAPTRACK" -o "$WORK/heaptrack-out.$body.$rep" "$LOOP" --requests "$n" --body "$body") ;;
    memcheck) cmd=("$VALGRIND" --tool=memcheck -q "$LOOP" --requests "$n" --body "$body") ;;
  esac
  local t0 t1 rc=0 TIMEFORMAT='%U %S'
  t0=$(now_ns)
  { time "${cmd[@]}" >"$out" 2>"$out.err" || rc=$?; } 2>"$out.time"
  t1=$(now_ns)
  if [ "$rc" != 0 ]; then
    echo "run.sh: $mode run failed (exit $rc):" >&2
    cat "$out" "$out.err" >&2
    exit 1
  fi
  # CPU: user + system of the whole command and its children (the shim's writer
  # thread, heaptrack's interpreter, valgrind), in ns.
  local cpu
  cpu=$(awk '{ printf "%.0f", ($1 + $2) * 1e9 }' "$out.time")
  echo "$(key "$out" ns_per_request) $((t1 - t0)) $n $cpu $(key "$out" app_cpu_ns_per_request)" \
    "$(key "$out" others_cpu_ns_per_request)" >>"$WORK/$mode.$body"
  if [ "$mode" = ctxtrace ] || [ "$mode" = summary ]; then
    local created
    created=$(key "$out" contexts_created)
    check_trace "$db" "$created" "request_loop --requests $n --body $body ($mode, run $rep)"
    echo "$(meta "$db" ring_stalls) $(meta "$db" events) $n $created $(meta "$db" ring_paces)" \
      "$(meta "$db" ring_stall_max_ns)" >>"$WORK/trace.$mode.$body"
    if [ "$rep" = 1 ]; then
      # The exit report `ctxtrace run` prints by default, timed on its own.
      t0=$(now_ns)
      "$CTXTRACE" report "$db" >/dev/null 2>&1 || true
      t1=$(now_ns)
      echo $((t1 - t0)) >"$WORK/report_ns.$mode.$body"
      du -k "$db" | cut -f1 >"$WORK/db_kib.$mode.$body"
    fi
    [ "$KEEP" = 1 ] || rm -f "$db" "$db"-wal "$db"-shm
  fi
  if [ "$mode" = heaptrack ] && [ "$KEEP" = 0 ]; then rm -f "$WORK"/heaptrack-out.*; fi
}

LOAD_BEFORE=$(loadavg)
MODES=(untraced ctxtrace summary)
[ -n "$HEAPTRACK" ] && MODES+=(heaptrack)
[ -n "$VALGRIND" ] && MODES+=(memcheck)
HEAVY_BODY=0
LOOP_BODIES=("$BODY" "$HEAVY_BODY")

for body in "${LOOP_BODIES[@]}"; do
  echo "# request loop, body $body B: ${MODES[*]}, $REPS run(s) each, interleaved" >&2
  for rep in $(seq 1 "$REPS"); do
    for mode in "${MODES[@]}"; do
      n=$REQUESTS
      [ "$mode" = memcheck ] && n=$MEMCHECK_REQUESTS
      loop_run "$mode" "$rep" "$n" "$body"
    done
  done
done

# ---- 2. more work per request ----------------------------------------------------------
SWEEP=()
[ "$QUICK" = 1 ] || SWEEP=(16384 65536)
for body in "${SWEEP[@]}"; do
  n=$((REQUESTS * BODY / body))
  [ "$n" -ge 1000 ] || n=1000
  echo "# request loop, body $body B: untraced vs ctxtrace, $n requests" >&2
  for rep in $(seq 1 "$REPS"); do
    loop_run untraced "$rep" "$n" "$body"
    loop_run ctxtrace "$rep" "$n" "$body"
  done
done

# ---- 3. lifecycle ----------------------------------------------------------------------
LIFE_BURSTS=50
LIFE_BURST=256  # 4 events of 64 B each: 64 KiB, a quarter of the ring
LIFE_PAUSE_MS=25
[ "$QUICK" = 1 ] && LIFE_BURSTS=10
LIFE_WARMUP=2
LIFE_CONTEXTS=$((1 + (LIFE_WARMUP + LIFE_BURSTS) * LIFE_BURST))

# life_run TRACED(0|1) VARIANT DEPTH STACK_DEPTH REP: appends "<median ns> <min ns>
# <frames captured> <ring stalls>" to $WORK/life.<traced>.<variant>.<depth>.<stack depth>
life_run() {
  local traced=$1 variant=$2 depth=$3 sdepth=$4 rep=$5
  local tag=$traced.$variant.$depth.$sdepth
  local out=$WORK/life.$tag.$rep.out db=$WORK/life.$tag.$rep.db
  local -a cmd=("$LIFE" --variant "$variant" --depth "$depth" --bursts "$LIFE_BURSTS"
                --burst "$LIFE_BURST" --warmup "$LIFE_WARMUP" --pause-ms "$LIFE_PAUSE_MS")
  [ "$traced" = 1 ] && cmd=(env CTXTRACE_STACK_DEPTH="$sdepth" "$CTXTRACE" run $NO_REPORT
                            -o "$db" -- "${cmd[@]}")
  if ! "${cmd[@]}" >"$out" 2>"$out.err"; then
    echo "run.sh: lifecycle run failed:" >&2
    cat "$out" "$out.err" >&2
    exit 1
  fi
  local frames=0 stalls=0
  if [ "$traced" = 1 ]; then
    check_trace "$db" "$LIFE_CONTEXTS" "lifecycle --variant $variant --depth $depth (stack depth $sdepth)"
    frames=$(sqlite3 "$db" "select max(depth) from stacks")
    stalls=$(meta "$db" ring_stalls)
    [ "$KEEP" = 1 ] || rm -f "$db" "$db"-wal "$db"-shm
  fi
  echo "$(key "$out" ns_per_lifecycle_median) $(key "$out" ns_per_lifecycle_min) $frames $stalls" \
    >>"$WORK/life.$tag"
}

LIFE_DEPTH=16 # frames of ours above main: the creation stack is ~25 frames in all
SLOPE_DEPTH=70
SLOPE_STACKS=(1 8 16 32 64)
echo "# lifecycle: untraced vs traced, release and cancel variants; per-frame slope" >&2
for rep in $(seq 1 "$REPS"); do
  for variant in release cancel; do
    life_run 0 "$variant" "$LIFE_DEPTH" 32 "$rep"
    life_run 1 "$variant" "$LIFE_DEPTH" 32 "$rep"
  done
  for s in "${SLOPE_STACKS[@]}"; do
    life_run 1 release "$SLOPE_DEPTH" "$s" "$rep"
  done
done
# ---- 4. the writer's floor: SQLite's own cost per row ----------------------------------
echo "# sqlite_floor: SQLite per row, $REPS run(s)" >&2
for rep in $(seq 1 "$REPS"); do
  "$FLOOR" 200000 >"$WORK/floor.$rep"
done
LOAD_AFTER=$(loadavg)

# ---- report --------------------------------------------------------------------------
col() { awk -v c="$1" '{ print $c }'; }
echo
echo "== machine"
echo "cpu:     $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs online"
echo "kernel:  $(uname -r)"
echo "load:    before $LOAD_BEFORE, after $LOAD_AFTER (1/5/15 min)"
echo "tools:   $(sqlite3 --version | cut -d' ' -f1) sqlite3, $("$CTXTRACE" --version 2>&1 | head -1)," \
  "${HEAPTRACK:+$("$HEAPTRACK" --version 2>&1 | head -1),} ${VALGRIND:+$("$VALGRIND" --version)}"

for LB in "${LOOP_BODIES[@]}"; do
UNTRACED_NS=$(col 1 <"$WORK/untraced.$LB" | median)
UNTRACED_WALL=$(awk '{ print $2 / $3 }' "$WORK/untraced.$LB" | median)
UNTRACED_CPU=$(awk '{ print $4 / $3 }' "$WORK/untraced.$LB" | median)
echo
echo "== request loop: $REQUESTS requests (memcheck $MEMCHECK_REQUESTS), body $LB B," \
  "4 contexts/request, median of $REPS"
echo "   loop: the program's own clock around its request loop; e2e: the whole command"
echo "   (start, loop, exit, the tool's final flush or processing), per request"
printf "%-10s %8s %7s %11s %8s %11s %8s\n" mode requests "wall s" "loop ns/req" slowdown \
  "e2e ns/req" slowdown
for mode in untraced ctxtrace summary heaptrack memcheck; do
  f=$WORK/$mode.$LB
  if [ ! -f "$f" ]; then
    printf "%-10s %8s\n" "$mode" "n/a (not installed)"
    continue
  fi
  ns=$(col 1 <"$f" | median)
  wall=$(col 2 <"$f" | median)
  e2e=$(awk '{ print $2 / $3 }' "$f" | median)
  printf "%-10s %8s %7.2f %11.0f %8s %11.0f %8s\n" "$mode" "$(col 3 <"$f" | head -1)" \
    "$(awk -v w="$wall" 'BEGIN { print w / 1e9 }')" "$ns" "$(ratio "$ns" "$UNTRACED_NS")" \
    "$e2e" "$(ratio "$e2e" "$UNTRACED_WALL")"
done
echo
echo "   CPU per request: app = the request thread during the loop; others = the process's"
echo "   other threads during the loop (the shim's writer); all = user+sys of the whole"
echo "   command and its children (heaptrack's interpreter, valgrind, the final flush)"
printf "%-10s %11s %13s %11s %8s\n" mode "app ns/req" "others ns/req" "all ns/req" "all x"
for mode in untraced ctxtrace summary heaptrack memcheck; do
  f=$WORK/$mode.$LB
  [ -f "$f" ] || continue
  cpu=$(awk '{ print $4 / $3 }' "$f" | median)
  printf "%-10s %11.0f %13.0f %11.0f %8s\n" "$mode" "$(col 5 <"$f" | median)" \
    "$(col 6 <"$f" | median)" "$cpu" "$(ratio "$cpu" "$UNTRACED_CPU")"
done
for tm in ctxtrace summary; do
T=$WORK/trace.$tm.$LB
echo "$tm trace files: $(wc -l <"$T") checked (complete, events_dropped = 0, contexts counted" \
  "= created = $(col 4 <"$T" | head -1)); $(awk '{ print $2 / $3 }' "$T" | median) events/request;" \
  "meta.ring_stalls median $(col 1 <"$T" | median) (*); ring_paces median $(col 5 <"$T" | median);" \
  "longest wait (ring_stall_max_ns) median $(col 6 <"$T" | median | awk '{ printf "%.1f ms", $1 / 1e6 }')"
[ -f "$WORK/report_ns.$tm.$LB" ] && echo "  $tm exit report (ctxtrace report on the file, after exit):" \
  "$(awk '{ printf "%.2f s", $1 / 1e9 }' "$WORK/report_ns.$tm.$LB"); trace file $(cat "$WORK/db_kib.$tm.$LB") KiB"
done
[ -n "$NO_REPORT" ] && echo "(ctxtrace rows ran with --no-report; add the exit report above for the default)"
echo "(*) meta.ring_stalls: times the application thread found its ring full and waited for"
echo "    the writer in one piece (backpressure, not loss); ring_paces: the short waits of a"
echo "    thread whose ring was over 3/4 full (preload/src/ring.c); the longest single wait"
echo "    of either kind is ring_stall_max_ns."

done

echo
echo "== the writer against its floor (sqlite_floor, median of $REPS; ns per context)"
fl() { for f in "$WORK"/floor.*; do key "$f" "$1"; done | median; }
echo "   SQLite alone: a bare 14-column INSERT $(fl bare_insert_ns); the trace core's row (its"
echo "   UPSERT, every column) $(fl store_row_ns); a clean context folded into its site $(fl summary_ns)"
for LB in "${LOOP_BODIES[@]}"; do
  for tm in ctxtrace summary; do
    f=$WORK/$tm.$LB
    [ -f "$f" ] || continue
    echo "   the writer thread's CPU, request loop body $LB B, $tm: $(col 6 <"$f" | median |
      awk '{ printf "%.0f", $1 / 4 }') ns per context (4 per request)"
  done
done

if [ ${#SWEEP[@]} -gt 0 ]; then
  echo
  echo "== request loop with more work per request: untraced vs ctxtrace, median of $REPS"
  printf "%-8s %15s %14s %9s %11s %12s\n" "body B" "untraced ns/req" "traced ns/req" slowdown \
    "CPU ratio" "ring_stalls*"
  for body in "$BODY" "${SWEEP[@]}"; do
    u=$(col 1 <"$WORK/untraced.$body" | median)
    t=$(col 1 <"$WORK/ctxtrace.$body" | median)
    uc=$(awk '{ print $4 / $3 }' "$WORK/untraced.$body" | median)
    tc=$(awk '{ print $4 / $3 }' "$WORK/ctxtrace.$body" | median)
    printf "%-8s %15.0f %14.0f %9s %11s %12s\n" "$body" "$u" "$t" "$(ratio "$t" "$u")" \
      "$(ratio "$tc" "$uc")" "$(col 1 <"$WORK/trace.ctxtrace.$body" | median)"
  done
fi

echo
echo "== lifecycle on the application thread: bursts of $LIFE_BURST, $LIFE_BURSTS bursts, median of $REPS runs' medians"
printf "%-8s %-9s %8s %10s %12s %12s %8s\n" variant mode frames "ns/cycle" "(min burst)" "traced-untr." stalls*
for variant in release cancel; do
  u=$(col 1 <"$WORK/life.0.$variant.$LIFE_DEPTH.32" | median)
  for traced in 0 1; do
    f=$WORK/life.$traced.$variant.$LIFE_DEPTH.32
    ns=$(col 1 <"$f" | median)
    mn=$(col 2 <"$f" | median)
    if [ "$traced" = 1 ]; then
      mode=traced
      frames=$(col 3 <"$f" | median)
      extra=$(awk -v a="$ns" -v b="$u" 'BEGIN { printf "+%.0f", a - b }')
      stalls=$(col 4 <"$f" | sort -g | tail -1)
    else
      mode=untraced frames=- extra=- stalls=-
    fi
    printf "%-8s %-9s %8s %10.0f %12.0f %12s %8s\n" "$variant" "$mode" "$frames" "$ns" "$mn" "$extra" "$stalls"
  done
done
echo "(release: ctx_with_cancel + ctx_release = 2 stack walks, 4 events; cancel: + ctx_cancel = 3 walks, 4 events)"

echo
echo "== per captured frame: lifecycle --variant release --depth $SLOPE_DEPTH, traced, CTXTRACE_STACK_DEPTH varied"
printf "%-12s %8s %10s\n" "stack depth" frames "ns/cycle"
: >"$WORK/slope"
for s in "${SLOPE_STACKS[@]}"; do
  f=$WORK/life.1.release.$SLOPE_DEPTH.$s
  ns=$(col 1 <"$f" | median)
  frames=$(col 3 <"$f" | median)
  echo "$frames $ns" >>"$WORK/slope"
  printf "%-12s %8s %10.0f\n" "$s" "$frames" "$ns"
done
# Least squares ns = a + b * frames; two walks per lifecycle.
read -r SLOPE INTERCEPT < <(awk '{ n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
  END { b = (n * sxy - sx * sy) / (n * sxx - sx * sx); printf "%.2f %.0f\n", b, (sy - b * sx) / n }' \
  "$WORK/slope")
PER_FRAME=$(awk -v b="$SLOPE" 'BEGIN { printf "%.1f", b / 2 }')
echo "slope $SLOPE ns per frame per lifecycle = $PER_FRAME ns per captured frame (stack walk +" \
  "hash); intercept $INTERCEPT ns per lifecycle"

# ---- against the targets -------------------------------------------------------------
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 <= t + 0) ? "met" : "MISSED" }'; }
# slowdown MODE BODY: the loop's median ns/request over the untraced one's, same body.
slowdown() {
  awk -v a="$(col 1 <"$WORK/$1.$2" | median)" -v b="$(col 1 <"$WORK/untraced.$2" | median)" \
    'BEGIN { printf "%.2f", a / b }'
}
LIFE_NS=$(col 1 <"$WORK/life.1.release.$LIFE_DEPTH.32" | median)
echo
echo "== against the targets (issue 13's; slowdowns: loop time over untraced, medians)"
HEAP_B=n/a HEAP_H=n/a
[ -f "$WORK/heaptrack.$BODY" ] && HEAP_B=$(slowdown heaptrack "$BODY")
[ -f "$WORK/heaptrack.$HEAVY_BODY" ] && HEAP_H=$(slowdown heaptrack "$HEAVY_BODY")
# target LABEL VALUE GOAL-TEXT GOAL-NUMBER
target() {
  printf "%-52s %-9s %-16s %s\n" "$1" "${2}x" "$3" \
    "$( [ "$4" = n/a ] && echo "n/a" || verdict "$2" "$4")"
}
HALF_HEAP=$(awk -v h="$HEAP_H" 'BEGIN { if (h == "n/a") print "n/a"; else printf "%.2f", 1 + (h - 1) / 2 }')
target "context-heavy loop (body $HEAVY_BODY), summary" "$(slowdown summary "$HEAVY_BODY")" \
  "<= 2x" 2
target "context-heavy loop (body $HEAVY_BODY), summary vs half heaptrack's" \
  "$(slowdown summary "$HEAVY_BODY")" "<= ${HALF_HEAP}x" "$HALF_HEAP"
target "context-heavy loop (body $HEAVY_BODY), full" "$(slowdown ctxtrace "$HEAVY_BODY")" \
  "<= heaptrack ${HEAP_H}x" "$HEAP_H"
target "realistic loop (body $BODY), summary" "$(slowdown summary "$BODY")" "<= 1.2x" 1.2
target "realistic loop (body $BODY), full" "$(slowdown ctxtrace "$BODY")" "<= 1.5x" 1.5
echo "  (heaptrack: ${HEAP_B}x on the realistic loop, ${HEAP_H}x on the context-heavy one)"
printf "%-52s %-9s %-16s %s\n" "events lost, trace checks (all traced runs)" "$( [ "$STATUS" = 0 ] && echo 0 || echo "see above")" \
  "0" "$( [ "$STATUS" = 0 ] && echo met || echo MISSED)"
printf "%-52s %-9s %-16s %s\n" "stack capture + interning, per frame" "$PER_FRAME ns" "<= 25 ns" \
  "$(verdict "$PER_FRAME" 25)"
printf "%-52s %-9s %-16s %s\n" "traced lifecycle on the app thread (release)" \
  "$(printf %.0f "$LIFE_NS") ns" "< 1000 ns" "$(verdict "$LIFE_NS" 999)"

if [ "$STATUS" != 0 ]; then
  echo
  echo "SOME TRACE CHECKS FAILED (see above)"
fi
exit "$STATUS"
