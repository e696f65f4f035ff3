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
# Exit status: 0 when every C/Go ratio is within the 0.5 floor, 1 when one is not, 2 on
# error (a program failed or an operation is missing). This is a benchmark, not a test:
# ctest never runs it (the bench-smoke test only checks that bench_ctx runs).
#
# usage: compare.sh [--c-bench PATH] [--go-bench PATH] [--work-dir DIR] [--rounds N]
#                   [-- BENCH OPTIONS...]
#   --c-bench   bench_ctx to run (default: $BENCH_CTX, else build/tests/bench/bench_ctx)
#   --go-bench  bench_go to run; when absent it is built (go build) into the work dir,
#               with GOCACHE and GOPATH there too, so nothing outside it is written
#   --work-dir  where the Go binary, its caches and the raw outputs go
#               (default: the directory of bench_ctx)
#   --rounds    how many times to alternate C and Go (default 3)
#   options after -- go to both programs: --benchtime=SECONDS --count=N --quick
#                                         --filter=SUBSTRING
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

c_bench=${BENCH_CTX:-}
go_bench=
work_dir=
rounds=3
bench_args=()

die() { echo "compare.sh: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --c-bench) c_bench=$2; shift 2 ;;
    --go-bench) go_bench=$2; shift 2 ;;
    --work-dir) work_dir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --) shift; bench_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
done

[[ -n $c_bench ]] || c_bench=$repo/build/tests/bench/bench_ctx
[[ -x $c_bench ]] || die "no bench_ctx at $c_bench (build it, or pass --c-bench PATH)"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive integer"
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
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
c_out=$work_dir/bench_c.out
go_out=$work_dir/bench_go.out
: >"$c_out"
: >"$go_out"
for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds: C ($c_bench)" >&2
  "$c_bench" "${bench_args[@]}" >>"$c_out" || die "bench_ctx failed"
  echo "round $r/$rounds: Go ($go_bench)" >&2
  "$go_bench" "${bench_args[@]}" >>"$go_out" || die "bench_go failed"
done

# ---- Report --------------------------------------------------------------------------
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
gcc_v=$(gcc --version 2>/dev/null | head -n1 || echo unknown)
go_v=$(sed -n 's/^# bench_go .*runtime=\([^ ]*\).*/Go \1/p' "$go_out" | head -n1)

awk -v c_file="$c_out" -v go_file="$go_out" \
    -v machine="${cpu:-unknown CPU}, $(nproc) cores, Linux $(uname -r)" \
    -v gcc_v="$gcc_v" -v go_v="$go_v" -v args="${bench_args[*]:-}" -v rounds="$rounds" \
    -v loadinfo="load average (1/5/15 min) before: $load_before, after: $load_after" '
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
function num(v) { return v == "nan" || v == "" ? "n/a" : v }
BEGIN {
  load(c_file, C, CU); load(go_file, G, GU)
  n = split("with_cancel with_cancel_child with_timeout done_check value_depth8 " \
            "tree_cancel_1000x100 tree_cancel_1000x100_per_node two_threads_shared_parent", ops, " ")
  split("0.3 0.3 0.2 0.3 0.2 0.2 0.2 0.3", target, " ")
  floor = 0.5; status = 0
  printf "%-31s %8s %14s %14s %7s %7s  %s\n", "operation", "unit", "C", "Go", "C/Go", "target", "verdict"
  for (i = 1; i <= n; i++) {
    op = ops[i]
    if (!(op in C) && !(op in G)) continue  # filtered out (--filter)
    shown++
    if (!(op in C) || !(op in G) || C[op] == "nan" || G[op] == "nan" || G[op] + 0 <= 0) {
      printf "%-31s missing from %s\n", op, (op in C) ? "Go output" : "C output"
      status = 2; continue
    }
    ratio = C[op] / G[op]
    verdict = ratio <= target[i] ? "ok" : ratio <= floor ? "above target" : "OVER FLOOR"
    if (ratio > floor && status == 0) status = 1
    printf "%-31s %8s %14.2f %14.2f %7.3f %7s  %s\n", op, CU[op], C[op], G[op], ratio, "<=" target[i], verdict
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
  print "run: best of " rounds " round(s) x each program'\''s own best-of-count" (args != "" ? "; options: " args : "")
  print "floor: every C/Go ratio <= " floor "; targets as listed"
  exit status
}'
