#!/usr/bin/env bash
# run.sh BUILD_DIR [N] [BIG] — the analysis benchmark: `ctxtrace report` on traces of N
# contexts (default 1,000,000) in each tree shape — a deep chain (a derive-in-a-loop
# bug), a wide fan (one request with N children), a bushy random tree — and on a chain
# of BIG contexts (default 10,000,000). Prints, per trace: its size, the wall time of
# `ctxtrace report` (median of 3) and its peak RSS (GNU time). A benchmark, not a test.
set -euo pipefail
build="${1:?usage: run.sh BUILD_DIR [N] [BIG]}"
n="${2:-1000000}"
big="${3:-10000000}"
gen="$build/tests/bench/analysis/gen_trace"
ctxtrace="$build/preload/ctxtrace"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %10s %10s %12s %12s\n' shape contexts "file MiB" "report s" "peak MiB"
bench() { # shape count
  local db="$work/$1-$2.db"
  "$gen" "$1" "$2" "$db"
  local times=() rss=0
  for _ in 1 2 3; do
    local out
    out=$( { /usr/bin/time -f '%e %M' "$ctxtrace" report "$db" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
    times+=("${out% *}")
    rss=$(( ${out#* } > rss ? ${out#* } : rss ))
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  printf '%-8s %10d %10d %12s %12d\n' "$1" "$2" $(( $(stat -c %s "$db") / 1048576 )) "$med" $(( rss / 1024 ))
  rm -f "$db"
}
bench chain "$n"
bench fan "$n"
bench bushy "$n"
bench chain "$big"
