#!/usr/bin/env bash
# compare.sh — libctxtrace against Go's context, side by side in one run.
#
# Runs bench_ctx (C) and bench_go (Go) on the same machine, one after the other (never
# at the same time: they would compete for cores), and prints a table of ns/op, the
# C/Go ratio and the target for every operation, then the memory per context, then the
# machine. The two programs alternate --rounds times (default 3) and the best of each
# operation is kept: on a shared or virtual machine the noise comes in bursts of seconds,
# and alternating gives both the same chances.
#
# On a machine shared with other work one comparison is not enough: --repeat N runs N
# independent comparisons (each its own --rounds alternation, the load average read
# before each) and prints, per operation, the median over the N of C, Go and C/Go, with
# the range of C/Go. The verdicts and the exit status then judge the medians.
#
# Exit status: 0 when every C/Go ratio is within the 0.5 floor, 1 when one is not, 2 on
# error (a program failed or an operation is missing). This is a benchmark, not a test:
# ctest never runs it (the bench-smoke test only checks that bench_ctx runs).
#
# usage: compare.sh [--c-bench PATH] [--go-bench PATH] [--work-dir DIR] [--rounds N]
#                   [--repeat N] [-- BENCH OPTIONS...]
#   --c-bench   bench_ctx to run (default: $BENCH_CTX, else build/tests/bench/bench_ctx)
#   --go-bench  bench_go to run; when absent it is built (go build) into the work dir,
#               with GOCACHE and GOPATH there too, so nothing outside it is written
#   --work-dir  where the Go binary, its caches and the raw outputs go
#               (default: the directory of bench_ctx)
#   --rounds    how many times to alternate C and Go (default 3)
#   --repeat    independent comparisons to take the median of (default 1)
#   options after -- go to both programs: --benchtime=SECONDS --count=N --quick
#                                         --filter=SUBSTRING
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

c_bench=${BENCH_CTX:-}
go_bench=
work_dir=
rounds=3
repeat=1
bench_args=()

die() { echo "compare.sh: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --c-bench) c_bench=$2; shift 2 ;;
    --go-bench) go_bench=$2; shift 2 ;;
    --work-dir) work_dir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --) shift; bench_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
done

[[ -n $c_bench ]] || c_bench=$repo/build/tests/bench/bench_ctx
[[ -x $c_bench ]] || die "no bench_ctx at $c_bench (build it, or pass --c-bench PATH)"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive integer"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "--repeat wants a positive integer"
[[ -n $work_dir ]] || work_dir=$(dirname "$c_bench")
mkdir -p "$work_dir"
work_dir=$(cd "$work_dir" && pwd)

# ---- The Go program ------------------------------------------------------------------
if [[ -z $go_bench ]]; then
  command -v go >/dev/null || die "go not found (install Go >= 1.19 or pass --go-bench)"
  go_bench=$work_dir/bench_go
  src=$here/bench_go
  if [[ ! -x $go_bench || $src/main.go -nt $go_bench || $src/go.mod -nt $go_bench ]]; then
    echo "building $go_bench" >&2
    (cd "$src" &&
      GOCACHE=$work_dir/go-cache GOPATH=$work_dir/go-path GOFLAGS=-buildvcs=false \
      GOPROXY=off GO111MODULE=on CGO_ENABLED=0 go build -o "$go_bench" .) ||
      die "go build failed"
  fi
fi
[[ -x $go_bench ]] || die "no bench_go at $go_bench"

# ---- Run -----------------------------------------------------------------------------
# Comparison k writes bench_c.K.out and bench_go.K.out (all rounds of that comparison).
loads=()
for ((k = 1; k <= repeat; k++)); do
  loads+=("$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)")
  : >"$work_dir/bench_c.$k.out"
  : >"$work_dir/bench_go.$k.out"
  for ((r = 1; r <= rounds; r++)); do
    echo "comparison $k/$repeat, round $r/$rounds: C ($c_bench)" >&2
    "$c_bench" "${bench_args[@]}" >>"$work_dir/bench_c.$k.out" || die "bench_ctx failed"
    echo "comparison $k/$repeat, round $r/$rounds: Go ($go_bench)" >&2
    "$go_bench" "${bench_args[@]}" >>"$work_dir/bench_go.$k.out" || die "bench_go failed"
  done
done

# ---- Report --------------------------------------------------------------------------
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
go_out=$work_dir/bench_go.1.out
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
gcc_v=$(gcc --version 2>/dev/null | head -n1 || echo unknown)
go_v=$(sed -n 's/^# bench_go .*runtime=\([^ ]*\).*/Go \1/p' "$go_out" | head -n1)

awk -v dir="$work_dir" -v repeat="$repeat" \
    -v machine="${cpu:-unknown CPU}, $(nproc) cores, Linux $(uname -r)" \
    -v gcc_v="$gcc_v" -v go_v="$go_v" -v args="${bench_args[*]:-}" -v rounds="$rounds" \
    -v loadinfo="load average (1/5/15 min) before each comparison: $(IFS=';'; echo "${loads[*]}"); after: $load_after" '
function load(file, best, unit,   line, f) {
  while ((getline line < file) > 0) {
    if (line ~ /^#/ || line ~ /^[ \t]*$/) continue
    split(line, f, " ")
    if (f[2] == "nan") { if (!(f[1] in best)) best[f[1]] = "nan"; unit[f[1]] = f[3]; continue }
    if (!(f[1] in best) || best[f[1]] == "nan" || f[2] + 0 < best[f[1]] + 0) best[f[1]] = f[2]
    unit[f[1]] = f[3]
  }
  close(file)
}
# The median of the n numbers v[1..n] (sorted here, in place).
function median(v, n,   i, j, t) {
  for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
  return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
# Per operation, the median over the comparisons of C, Go and C/Go (C[op], G[op], R[op])
# and the range of C/Go (RLO[op], RHI[op]). An operation missing or nan in any
# comparison is missing (absent) or nan in the result.
function combine(   k, op, c1, g1, n, vr, ops_seen) {
  for (k = 1; k <= repeat; k++) {
    delete c1; delete g1
    load(dir "/bench_c." k ".out", c1, CU); load(dir "/bench_go." k ".out", g1, GU)
    for (op in c1) { ops_seen[op] = 1; PC[k, op] = c1[op] }
    for (op in g1) { ops_seen[op] = 1; PG[k, op] = g1[op] }
  }
  for (op in ops_seen) {
    median_of(PC, op, C)
    median_of(PG, op, G)
    n = 0
    delete vr
    for (k = 1; k <= repeat; k++)
      if ((k, op) in PC && (k, op) in PG && PC[k, op] != "nan" && PG[k, op] != "nan" && PG[k, op] + 0 > 0)
        vr[++n] = PC[k, op] / PG[k, op]
    if (n < repeat) continue  # no ratio unless every comparison has both numbers
    RLO[op] = vr[1]; RHI[op] = vr[1]
    for (k = 2; k <= n; k++) { if (vr[k] < RLO[op]) RLO[op] = vr[k]; if (vr[k] > RHI[op]) RHI[op] = vr[k] }
    R[op] = median(vr, n)
  }
}
# out[op]: the median of per[k, op] over the comparisons; "nan" when a comparison has
# it as nan; absent when a comparison does not have it at all.
function median_of(per, op, out,   k, n, v) {
  n = 0
  for (k = 1; k <= repeat; k++) {
    if (!((k, op) in per)) return
    if (per[k, op] == "nan") { out[op] = "nan"; return }
    v[++n] = per[k, op] + 0
  }
  out[op] = median(v, n)
}
function num(v) { return v == "nan" || v == "" ? "n/a" : v }
BEGIN {
  combine()
  n = split("with_cancel with_cancel_child with_timeout done_check value_depth8 " \
            "tree_cancel_1000x100 tree_cancel_1000x100_per_node two_threads_shared_parent", ops, " ")
  split("0.3 0.3 0.2 0.3 0.2 0.2 0.2 0.3", target, " ")
  floor = 0.5; status = 0
  printf "%-31s %8s %14s %14s %7s %13s %7s  %s\n", "operation", "unit", "C", "Go", "C/Go", "C/Go range", "target", "verdict"
  for (i = 1; i <= n; i++) {
    op = ops[i]
    if (!(op in C) && !(op in G)) continue  # filtered out (--filter)
    shown++
    if (!(op in R)) {
      printf "%-31s missing from %s\n", op, (op in C) ? "Go output" : "C output"
      status = 2; continue
    }
    ratio = R[op]
    verdict = ratio <= target[i] ? "ok" : ratio <= floor ? "above target" : "OVER FLOOR"
    if (ratio > floor && status == 0) status = 1
    printf "%-31s %8s %14.2f %14.2f %7.3f %13s %7s  %s\n", op, CU[op], C[op], G[op], ratio, sprintf("%.3f-%.3f", RLO[op], RHI[op]), "<=" target[i], verdict
  }
  print ""
  printf "%-14s %12s %12s %12s %12s %12s  %s\n", "memory/ctx", "C heap B", "C req B", "C allocs", "Go heap B", "Go allocs", "target (C: 1 alloc, <= 96 B)"
  m = split("cancel child timeout", kinds, " ")
  for (i = 1; i <= m; i++) {
    k = kinds[i]; b = "bytes_per_" k "_ctx"; rq = "reqbytes_per_" k "_ctx"; a = "allocs_per_" k "_ctx"
    if (!(b in C) && !(b in G)) continue  # filtered out
    shown++
    if (!(b in C) || !(b in G)) { printf "%-14s missing\n", k; status = 2; continue }
    verdict = "-"
    if (k != "timeout") {
      if (C[a] == "nan" || C[rq] == "nan") verdict = "n/a (no malloc counter)"
      else verdict = (C[a] + 0 <= 1.0 && C[rq] + 0 <= 96) ? "ok" : "MISSED"
    }
    printf "%-14s %12s %12s %12s %12s %12s  %s\n", k, num(C[b]), num(C[rq]), num(C[a]), num(G[b]), num(G[a]), verdict
  }
  if (shown == 0) { print "no results: nothing ran (check --filter)"; status = 2 }
  print ""
  print "machine: " machine
  print "compilers: " gcc_v "; " go_v
  print loadinfo " (the benchmarks use up to 2 cores; other load skews them)"
  print "run: " (repeat > 1 ? "medians over " repeat " comparisons, each the " : "") "best of " rounds " round(s) x each program'\''s own best-of-count" (args != "" ? "; options: " args : "")
  print "floor: every C/Go ratio <= " floor "; targets as listed"
  exit status
}'
