#!/usr/bin/env bash
# The whole test suite, from a clean clone: install dependencies, then build and run
# ctest in three configurations:
#   build/        normal (-Wall -Wextra -Werror): every test, and the live wire
#                 decoder's libFuzzer target (CTXTRACE_FUZZ=ON, built with clang with
#                 its own ASan+UBSan)
#                 (every configuration requires the GTK inspector: CTXTRACE_REQUIRE_INSPECTOR,
#                 so a missing GTK fails here instead of silently skipping its tests)
#   build-asan/   ASan + UBSan: every test (the inspector's GUI tests with LeakSanitizer off:
#                 GLib/GTK keep their caches until exit) except the install test (an installed
#                 sanitizer-built library cannot be loaded by a plain outside program)
#                 and the tracer's 10M-context stress (minutes under ASan; the normal
#                 build runs it, and the runtime's own stress test runs here), and the
#                 tests that assert the exit check judged reachability (reach = done):
#                 tracer.exit_from_thread, the live stream's exit-check tests and
#                 inspector.live (whose live tree must find a context lost at exit) —
#                 under ASan the heap is the sanitizer's, whose objects the scan cannot
#                 know, so reachability is recorded as unknown by design (docs/rules.md)
#                 and no finding is made on it (tests/findings leaves its two reachability
#                 programs out of an ASan build for the same reason); the stop, the
#                 threads and leaked-thread run here as usual, and every one of those
#                 tests runs in the normal build
#   build-tsan/   ThreadSanitizer: the runtime's unit and stress tests and the samples
# Exits non-zero if any build or any test fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/install-deps.sh"

jobs="$(nproc)"
build_and_test() {
  local dir="$1" sanitizer="$2" fuzz="$3"; shift 3
  echo "=== $dir (sanitizer: ${sanitizer:-none})"
  cmake -S "$root" -B "$root/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCTXTRACE_SANITIZER="$sanitizer" -DCTXTRACE_FUZZ="$fuzz" \
        -DCTXTRACE_REQUIRE_INSPECTOR=ON >/dev/null
  cmake --build "$root/$dir" -j "$jobs"
  (cd "$root/$dir" && ctest --output-on-failure -j "$jobs" "$@")
}

build_and_test build "" ON
build_and_test build-asan address OFF -LE install \
  -E "^tracer[.](stress|exit_from_thread)$|^live[.]tail_(carries_the_exit_check|carries_the_exit_check_at_sigterm|exit_check_of_.*)$|^inspector[.]live$"
build_and_test build-tsan thread OFF -L "unit|sample"
echo "=== all test configurations passed"
