#!/usr/bin/env bash
# report_bench.sh BUILD_DIR [CONTEXTS] — how long `ctxtrace report` takes on a large trace
# (issue bar: 1,000,000 contexts in <= 3 s). Makes the trace with the tracer benchmark's
# request loop (4 contexts per request) under `ctxtrace run --no-report`, then times
# `ctxtrace report` (text; findings and all checks, quick_check included) and
# `ctxtrace report --profile`, best of 3 each. A benchmark, not a test.
set -euo pipefail
build="${1:?usage: report_bench.sh BUILD_DIR [CONTEXTS]}"
contexts="${2:-1000000}"
ctxtrace="$build/preload/ctxtrace"
loop="$build/tests/bench/tracer/request_loop"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$ctxtrace" run --no-report -o "$work/t.db" -- "$loop" --requests $((contexts / 4)) >/dev/null
rows=$(sqlite3 "$work/t.db" "select count(*) from contexts where id > 2")
size=$(du -k "$work/t.db" | cut -f1)
best() { # best wall seconds of 3 runs of "$@" (exit status 0 or 1 is fine: findings)
  local b=""
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null || [ $? -eq 1 ]; e=$(date +%s.%N)
    b=$(echo "$s $e ${b:-999}" | awk '{d=$2-$1; print (d<$3)?d:$3}')
  done
  echo "$b"
}
echo "trace: $rows contexts, $size KiB; machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ctxtrace report            $(best "$ctxtrace" report "$work/t.db") s"
echo "ctxtrace report --profile  $(best "$ctxtrace" report --profile "$work/t.db") s"
