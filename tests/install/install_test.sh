#!/bin/sh
# install_test.sh — install this build into a scratch prefix and use it from outside.
#
# Run by ctest (tests/install/CMakeLists.txt sets the environment):
#   CMAKE CTEST CC GENERATOR BUILD_DIR PREFIX WORK SOURCE VERSION SOVERSION SAN_FLAGS
# Steps, each fatal on failure:
#   1. cmake --install BUILD_DIR --prefix PREFIX
#   2. the installed files: header (and not the internal tracer.h), its version macros, libctxtrace.so ->
#      .so.SOVERSION -> .so.VERSION, SONAME libctxtrace.so.SOVERSION, only ctx_* exported
#   3. pkg-config: cc consumer.c $(pkg-config --cflags --libs ctxtrace), run it
#   4. find_package(ctxtrace): configure, build and run consumer_cmake/
#   5. its soak tests (ctxtrace_add_soak_test from the package): fixed passes, leaky fails
# SAN_FLAGS (-fsanitize=…) is set in sanitizer builds: an instrumented library needs an
# instrumented program.
set -eu

fail() {
    echo "install test: FAIL: $*" >&2
    exit 1
}
step() {
    echo
    echo "== $*"
}
# The libctxtrace a program actually loads, from ldd.
loaded_lib() {
    ldd "$1" | awk '/libctxtrace\.so/ { print $3 }'
}

rm -rf "$PREFIX" "$WORK"
mkdir -p "$WORK"

step "1. cmake --install $BUILD_DIR --prefix $PREFIX"
"$CMAKE" --install "$BUILD_DIR" --prefix "$PREFIX" || fail "cmake --install failed"

# libdir is lib, lib64 or lib/<multiarch>, whatever GNUInstallDirs chose.
pc=""
for f in "$PREFIX"/lib*/pkgconfig/ctxtrace.pc "$PREFIX"/lib/*/pkgconfig/ctxtrace.pc; do
    [ -f "$f" ] && { pc=$f; break; }
done
[ -n "$pc" ] || fail "no ctxtrace.pc under $PREFIX/lib*"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
echo "libdir: $libdir"

step "2. installed files"
[ -f "$PREFIX/include/ctxtrace/ctx.h" ] || fail "header include/ctxtrace/ctx.h not installed"
[ ! -e "$PREFIX/include/ctxtrace/tracer.h" ] || fail "internal header tracer.h was installed"
real="libctxtrace.so.$VERSION"
soname="libctxtrace.so.$SOVERSION"
[ -f "$libdir/$real" ] && [ ! -L "$libdir/$real" ] || fail "$libdir/$real missing or not a file"
[ -L "$libdir/$soname" ] && [ "$(readlink "$libdir/$soname")" = "$real" ] ||
    fail "$soname is not a symlink to $real"
[ -L "$libdir/libctxtrace.so" ] && [ "$(readlink "$libdir/libctxtrace.so")" = "$soname" ] ||
    fail "libctxtrace.so is not a symlink to $soname"
got=$(readelf -d "$libdir/$real" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$got" = "$soname" ] || fail "SONAME is '$got', expected $soname"
echo "$soname -> $real, SONAME $got"
if [ -z "$SAN_FLAGS" ]; then # sanitizers add their own symbols
    extra=$(nm -D --defined-only "$libdir/$real" | awk '{ print $NF }' |
        grep -v '^ctx_' | grep -Ev '^(_init|_fini|_edata|_end|__bss_start)$' || true)
    [ -z "$extra" ] || fail "exported symbols outside the ctx_ prefix: $(echo $extra)"
    echo "exports: $(nm -D --defined-only "$libdir/$real" | grep -c ' ctx_') ctx_* symbols, nothing else"
fi

step "3. pkg-config (PKG_CONFIG_PATH=$pcdir)"
export PKG_CONFIG_PATH="$pcdir"
version=$(pkg-config --modversion ctxtrace) || fail "pkg-config cannot find ctxtrace"
[ "$version" = "$VERSION" ] || fail "pkg-config version '$version', expected $VERSION"
flags=$(pkg-config --cflags --libs ctxtrace)
echo "pkg-config --cflags --libs ctxtrace: $flags"
# The paths must lead into the prefix we installed to, not wherever the build was
# configured to install.
for var in includedir libdir; do
    dir=$(pkg-config --variable=$var ctxtrace)
    real_dir=$(cd "$dir" 2>/dev/null && pwd -P) || fail "pkg-config $var '$dir' does not exist"
    case "$real_dir" in
    "$(cd "$PREFIX" && pwd -P)"/*) ;;
    *) fail "pkg-config $var is '$dir', not inside the install prefix $PREFIX" ;;
    esac
done
# shellcheck disable=SC2086 # $flags and $SAN_FLAGS are word lists
"$CC" -std=c17 -Wall -Wextra -Werror $SAN_FLAGS "$SOURCE/consumer.c" $flags \
    -o "$WORK/consumer_pc" || fail "compiling consumer.c with pkg-config flags failed"
out=$(LD_LIBRARY_PATH="$libdir" "$WORK/consumer_pc") || fail "consumer_pc exited $?"
[ "$out" = "OK" ] || fail "consumer_pc printed '$out', expected OK"
lib=$(LD_LIBRARY_PATH="$libdir" loaded_lib "$WORK/consumer_pc")
[ "$lib" -ef "$libdir/$soname" ] || fail "consumer_pc loads '$lib', not $libdir/$soname"
echo "consumer_pc: $out (loads $lib)"
# The version macros of the installed ctx.h are the project's version.
printf '#include <ctxtrace/ctx.h>\n#include <stdio.h>\nint main(void) { printf("%%d.%%d.%%d %%s\\n", CTX_VERSION_MAJOR, CTX_VERSION_MINOR, CTX_VERSION_PATCH, CTX_VERSION_STRING); return 0; }\n' >"$WORK/version.c"
# shellcheck disable=SC2086
"$CC" -std=c17 -Wall -Wextra -Werror $SAN_FLAGS "$WORK/version.c" $(pkg-config --cflags ctxtrace) \
    -o "$WORK/version" || fail "compiling against the installed ctx.h's version macros failed"
out=$("$WORK/version")
[ "$out" = "$VERSION $VERSION" ] || fail "ctx.h says version '$out', the project is $VERSION"
echo "ctx.h: CTX_VERSION_MAJOR.MINOR.PATCH and CTX_VERSION_STRING = $VERSION"

step "4. find_package(ctxtrace) (CMAKE_PREFIX_PATH=$PREFIX)"
unset PKG_CONFIG_PATH
"$CMAKE" -S "$SOURCE/consumer_cmake" -B "$WORK/consumer_cmake" -G "$GENERATOR" \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="$SAN_FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$SAN_FLAGS" \
    -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF ||
    fail "configuring consumer_cmake failed"
found=$(sed -n 's/^ctxtrace_DIR:PATH=//p' "$WORK/consumer_cmake/CMakeCache.txt")
case "$found" in
"$PREFIX"/*) ;;
*) fail "find_package found ctxtrace in '$found', not under $PREFIX" ;;
esac
"$CMAKE" --build "$WORK/consumer_cmake" || fail "building consumer_cmake failed"
out=$("$WORK/consumer_cmake/consumer") || fail "consumer (CMake) exited $?"
[ "$out" = "OK" ] || fail "consumer (CMake) printed '$out', expected OK"
lib=$(loaded_lib "$WORK/consumer_cmake/consumer")
[ "$lib" -ef "$libdir/$soname" ] || fail "consumer (CMake) loads '$lib', not $libdir/$soname"
echo "consumer (CMake): $out (loads $lib)"

step "5. ctxtrace_add_soak_test() from the package: the fixed loop passes, the leaky fails"
[ -x "$PREFIX/bin/ctxtrace" ] || fail "the ctxtrace command was not installed in $PREFIX/bin"
grep -q "$PREFIX/bin/ctxtrace" "$WORK/consumer_cmake/CTestTestfile.cmake" ||
    fail "the soak tests do not run $PREFIX/bin/ctxtrace: $(cat "$WORK/consumer_cmake/CTestTestfile.cmake")"
(cd "$WORK/consumer_cmake" && "$CTEST" --output-on-failure -R '^soak_fixed$') ||
    fail "soak_fixed failed: a loop that releases every context must pass"
if (cd "$WORK/consumer_cmake" && "$CTEST" --output-on-failure -R '^soak_leaky$'); then
    fail "soak_leaky passed: a loop that drops its timeouts must fail"
fi
grep -q '"decision": "grows"' "$WORK/consumer_cmake/soak_leaky.soak.json" ||
    fail "soak_leaky.soak.json does not say the program grows"
grep -q '"function": "handle"' "$WORK/consumer_cmake/soak_leaky.soak.json" ||
    fail "soak_leaky.soak.json does not name handle() as the growing site"
grep -q '"decision": "steady"' "$WORK/consumer_cmake/soak_fixed.soak.json" ||
    fail "soak_fixed.soak.json does not say steady"
grep 'add_test.*soak_growth_only' "$WORK/consumer_cmake/CTestTestfile.cmake" | grep -q -- '--no-findings' ||
    fail "NO_FINDINGS does not pass --no-findings: $(grep soak_growth_only "$WORK/consumer_cmake/CTestTestfile.cmake")"
grep 'add_test.*soak_fixed' "$WORK/consumer_cmake/CTestTestfile.cmake" | grep -q -- '--no-findings' &&
    fail "soak_fixed passes --no-findings without NO_FINDINGS"
echo "soak_fixed passed, soak_leaky failed naming handle()"

echo
echo "install test: PASS"
