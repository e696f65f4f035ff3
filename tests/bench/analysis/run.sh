#!/usr/bin/env bash
# run.sh BUILD_DIR [N] [BIG] — the analysis benchmark: `ctxtrace report` on traces of N
# contexts (default 1,000,000) in each tree shape — a deep chain (a derive-in-a-loop
# bug), a wide fan (one request with N children), a bushy random tree — and on a chain
# of BIG contexts (default 10,000,000). Prints, per trace: its size, the wall time of
# `ctxtrace report` and its CPU time (user + system: what the wall time would be on an
# idle core; the two differ when the machine is loaded), medians of 3, and its peak RSS
# (GNU time). A benchmark, not a test.
set -euo pipefail
build="${1:?usage: run.sh BUILD_DIR [N] [BIG]}"
n="${2:-1000000}"
big="${3:-10000000}"
gen="$build/tests/bench/analysis/gen_trace"
ctxtrace="$build/preload/ctxtrace"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %10s %10s %10s %10s %10s\n' shape contexts "file MiB" "wall s" "CPU s" "peak MiB"
bench() { # shape count
  local db="$work/$1-$2.db"
  "$gen" "$1" "$2" "$db"
  local times=() cpus=() rss=0
  for _ in 1 2 3; do
    local out
    # (exit status 1 is fine: the trace has findings)
    /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$ctxtrace" report "$db" >/dev/null 2>&1 || true
    read -r wall user sys kib < <(tail -1 "$work/time")
    times+=("$wall")
    cpus+=("$(echo "$user $sys" | awk '{printf "%.2f", $1 + $2}')")
    rss=$(( kib > rss ? kib : rss ))
  done
  local med cpu
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n 2p)
  printf '%-8s %10d %10d %10s %10s %10d\n' "$1" "$2" $(( $(stat -c %s "$db") / 1048576 )) "$med" "$cpu" $(( rss / 1024 ))
  rm -f "$db"
}
bench chain "$n"
bench fan "$n"
bench bushy "$n"
bench chain "$big"
