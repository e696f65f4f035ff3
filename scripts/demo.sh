#!/usr/bin/env bash
# The main job, from a clean clone: install dependencies, build, then trace a leaky
# sample with `ctxtrace run` — it prints the findings when the program exits and
# writes the trace file — and show the fixed variant coming out clean.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j "$(nproc)"

ctxtrace="$root/build/preload/ctxtrace"
out="$root/build/demo"
mkdir -p "$out"
for sample in sample_party_leaky sample_party_fixed; do
  echo
  echo "=== ctxtrace run -o $out/$sample.db -- $sample"
  "$ctxtrace" run -o "$out/$sample.db" -- "$root/build/samples/$sample"
done
echo
echo "Trace files: $out/*.db (sqlite3; see docs/trace-file.md)."
echo "Report again: $ctxtrace report $out/sample_party_leaky.db"
echo "Look at it:   $root/build/inspector/ctxtrace-inspector $out/sample_party_leaky.db"
