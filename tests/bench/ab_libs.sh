#!/usr/bin/env bash
# ab_libs.sh — two builds of libctxtrace, side by side: bench_ctx run on library A, then on
# library B, alternating, N rounds, then the median of each operation for A and B and B/A.
#
# On a shared machine one run each is not a comparison: the noise comes in bursts of
# seconds, so the two libraries alternate round by round (same bench_ctx binary, the
# library chosen with LD_LIBRARY_PATH: its RUNPATH gives way), and the load average is
# printed before each round. The raw outputs stay in OUTDIR (A.K, B.K).
#
# usage: ab_libs.sh LIBDIR_A LIBDIR_B ROUNDS OUTDIR [BENCH_CTX [BENCH OPTIONS...]]
#   LIBDIR_*  directories holding a libctxtrace.so.0 (e.g. a copy of an older build's)
#   BENCH_CTX default: build-rel/tests/bench/bench_ctx
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -ge 4 ]] || { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
lib_a=$1 lib_b=$2 rounds=$3 out=$4
shift 4
bench=${1:-$here/../../build-rel/tests/bench/bench_ctx}
[[ $# -gt 0 ]] && shift
for d in "$lib_a" "$lib_b"; do
  [[ -e $d/libctxtrace.so.0 ]] || { echo "ab_libs.sh: no libctxtrace.so.0 in $d" >&2; exit 2; }
done
[[ -x $bench ]] || { echo "ab_libs.sh: no bench_ctx at $bench" >&2; exit 2; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "ab_libs.sh: ROUNDS wants a positive integer" >&2; exit 2; }
mkdir -p "$out"
rm -f "$out"/A.* "$out"/B.*

for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  LD_LIBRARY_PATH=$lib_a "$bench" "$@" >"$out/A.$r"
  LD_LIBRARY_PATH=$lib_b "$bench" "$@" >"$out/B.$r"
done
echo "after: load average $(cut -d' ' -f1-3 /proc/loadavg)"

awk '
FNR == 1 { n = split(FILENAME, p, "/"); side = substr(p[n], 1, 1) }
/^#/ || NF < 3 { next }
{ v[side, $1] = v[side, $1] " " $2; unit[$1] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
function median(s,   a, n, i, j, t) {
  n = split(s, a, " ")
  for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
  printf "%-31s %10s %14s %14s %7s\n", "operation", "unit", "A median", "B median", "B/A"
  for (i = 1; i <= k; i++) {
    op = order[i]; a = median(v["A", op]); b = median(v["B", op])
    printf "%-31s %10s %14.2f %14.2f %7s\n", op, unit[op], a, b, (a > 0 ? sprintf("%.3f", b / a) : "-")
  }
}' "$out"/A.* "$out"/B.*
