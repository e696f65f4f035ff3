#!/bin/sh
# package_test.sh — the Debian package, as a user would get it.
#
# Run by ctest (tests/install/CMakeLists.txt sets the environment):
#   CPACK CMAKE CC BUILD_DIR WORK SOURCE VERSION HAVE_INSPECTOR
# Steps, each fatal on failure:
#   1. cpack -G DEB in the build directory: one ctxtrace_VERSION_ARCH.deb, with Depends
#   2. dpkg -x into a scratch root: the libraries, headers (with the version macros),
#      pkg-config and CMake files, the commands and the shim, the inspector with its
#      desktop files (when built), man pages and bash completion
#   3. an outside program built against the unpacked package with pkg-config, and run;
#      then traced by the packaged ctxtrace with the packaged shim
#   4. the man pages render, and name every command
#   5. the bash completion completes commands, options and formats
#   6. cmake --install then the uninstall target: nothing of the install is left
set -eu

fail() {
    echo "package test: FAIL: $*" >&2
    exit 1
}
step() {
    echo
    echo "== $*"
}

rm -rf "$WORK"
mkdir -p "$WORK"
root="$WORK/root"

step "1. cpack -G DEB"
(cd "$BUILD_DIR" && "$CPACK" -G DEB -B "$WORK/cpack" >"$WORK/cpack.log" 2>&1) ||
    fail "cpack failed: $(tail -20 "$WORK/cpack.log")"
deb=$(ls "$WORK"/cpack/ctxtrace_"$VERSION"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no ctxtrace_${VERSION}_*.deb in $WORK/cpack"
depends=$(dpkg-deb -f "$deb" Depends)
echo "$deb; Depends: $depends"
for dep in libsqlite3-0 libunwind8 libdw1 zlib1g; do
    echo "$depends" | grep -q "$dep" || fail "Depends lacks $dep: $depends"
done

step "2. dpkg -x $deb $root"
dpkg -x "$deb" "$root" || fail "dpkg -x failed"
usr="$root/usr"
for f in bin/ctxtrace lib/ctxtrace/libctxtrace_preload.so lib/libctxtrace.so.$VERSION \
    include/ctxtrace/ctx.h include/ctxtrace/ctx_version.h lib/pkgconfig/ctxtrace.pc \
    lib/cmake/ctxtrace/ctxtraceConfig.cmake share/man/man1/ctxtrace.1.gz \
    share/bash-completion/completions/ctxtrace; do
    [ -e "$usr/$f" ] || fail "the package lacks /usr/$f"
done
if [ "$HAVE_INSPECTOR" = ON ]; then
    for f in bin/ctxtrace-inspector share/man/man1/ctxtrace-inspector.1.gz \
        share/bash-completion/completions/ctxtrace-inspector \
        share/applications/org.ctxtrace.Inspector.desktop \
        share/metainfo/org.ctxtrace.Inspector.metainfo.xml \
        share/icons/hicolor/scalable/apps/org.ctxtrace.Inspector.svg; do
        [ -e "$usr/$f" ] || fail "the package lacks /usr/$f"
    done
fi
[ ! -e "$usr/include/ctxtrace/tracer.h" ] || fail "the internal tracer.h is packaged"
echo "$(dpkg-deb -c "$deb" | grep -vc '/$') files, all expected ones present"

step "3. an outside program against the package"
export PKG_CONFIG_PATH="$usr/lib/pkgconfig"
[ "$(pkg-config --modversion ctxtrace)" = "$VERSION" ] || fail "pkg-config version"
# shellcheck disable=SC2046 # pkg-config's flags are a word list
"$CC" -std=c17 -Wall -Wextra -Werror "$SOURCE/consumer.c" $(pkg-config --cflags --libs ctxtrace) \
    -o "$WORK/consumer" || fail "building consumer.c against the package failed"
out=$(LD_LIBRARY_PATH="$usr/lib" "$WORK/consumer") || fail "consumer exited $?"
[ "$out" = OK ] || fail "consumer printed '$out'"
got=$("$usr/bin/ctxtrace" --version) || fail "the packaged ctxtrace --version failed"
[ "$got" = "ctxtrace $VERSION" ] || fail "ctxtrace --version says '$got'"
(cd "$WORK" && LD_LIBRARY_PATH="$usr/lib" "$usr/bin/ctxtrace" run --no-report -o "$WORK/t.db" \
    -- "$WORK/consumer" >"$WORK/run.out" 2>"$WORK/run.err") ||
    fail "the packaged ctxtrace run failed: $(cat "$WORK/run.err")"
grep -q "trace written to $WORK/t.db" "$WORK/run.err" ||
    fail "the packaged shim wrote no trace: $(cat "$WORK/run.err")"
echo "consumer: OK; $(cat "$WORK/run.err")"

step "4. man pages"
text=$(MANWIDTH=100 man -l "$usr/share/man/man1/ctxtrace.1.gz" 2>/dev/null) ||
    fail "man -l ctxtrace.1.gz failed"
for cmd in run report soak tail ps export; do
    echo "$text" | grep -q "ctxtrace $cmd" || fail "ctxtrace(1) does not describe '$cmd'"
done
echo "$text" | grep -q -- "--no-findings" || fail "ctxtrace(1) lacks soak's --no-findings"
if [ "$HAVE_INSPECTOR" = ON ]; then
    MANWIDTH=100 man -l "$usr/share/man/man1/ctxtrace-inspector.1.gz" 2>/dev/null |
        grep -q -- "--screenshot" || fail "ctxtrace-inspector(1) lacks --screenshot"
fi
echo "ctxtrace(1): $(echo "$text" | wc -l) lines, every command"

step "5. bash completion"
complete_line() { # the completions of a command line (the last word is completed)
    PATH="$usr/bin:$PATH" bash -c '
        . /usr/share/bash-completion/bash_completion
        . "$1"
        shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _ctxtrace ctxtrace "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"' sh "$usr/share/bash-completion/completions/ctxtrace" "$@"
}
complete_line ctxtrace ex | grep -qx export || fail "completing 'ctxtrace ex' does not give export"
complete_line ctxtrace soak --no | grep -qx -- --no-findings ||
    fail "completing 'ctxtrace soak --no' does not give --no-findings"
complete_line ctxtrace export --format p | grep -qx pprof ||
    fail "completing 'ctxtrace export --format p' does not give pprof"
echo "commands, options and formats complete"

step "6. cmake --install, then the uninstall target"
prefix="$WORK/prefix"
"$CMAKE" --install "$BUILD_DIR" --prefix "$prefix" >/dev/null || fail "cmake --install failed"
[ -x "$prefix/bin/ctxtrace" ] || fail "nothing installed"
"$CMAKE" --build "$BUILD_DIR" --target uninstall >"$WORK/uninstall.log" ||
    fail "the uninstall target failed: $(cat "$WORK/uninstall.log")"
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || fail "left after uninstall: $left"
grep "uninstalled" "$WORK/uninstall.log"

echo
echo "package test: PASS"
