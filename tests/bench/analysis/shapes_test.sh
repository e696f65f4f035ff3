#!/bin/sh
# shapes_test.sh GEN_TRACE FINDINGS WORKDIR — each tree shape of gen_trace analysed
# with exactly the findings it was written with: 20,000 contexts, every 64th released
# live (lost-cancel), alternating cancel/deadline kinds at 4 sites. The deadline ones
# had their timers armed, so they are orphaned timers; the rest lost cancels.
set -eu
gen=$1 findings=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
status=0
for shape in chain fan bushy; do
    "$gen" "$shape" 20000 "$work/$shape.db"
    "$findings" "$work/$shape.db" >"$work/$shape.txt" || [ $? -eq 1 ]
    # 20000 / 64 = 312 lost ones (i % 64 == 63: odd i, so all deadline kinds: timers
    # armed), at sites 1 + i % 4 = 4 (i = 63 mod 4 = 3): render, server.c:23.
    printf 'orphaned-timer 312 render server.c:23\n' >"$work/expected.txt"
    if ! diff -u "$work/expected.txt" "$work/$shape.txt"; then
        echo "FAIL: $shape: findings differ" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "ok: chain, fan and bushy trees give the same findings"
exit $status
