#!/usr/bin/env bash
# Install what building and testing ctxtrace needs on Debian 12, and nothing when it is
# all there already (so a developer's repeated runs stay fast). Needs root or sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config   # toolchain and the install test's pkg-config
  libsqlite3-dev sqlite3             # the trace file (and the shell to inspect it)
  libunwind-dev libdw-dev            # the tracer: stack capture and symbolization
  libcmocka-dev                      # unit tests
  python3 python3-jsonschema         # the report tests (tests/report: JSON/SARIF schemas)
  golang-go                          # the benchmark against Go's context; go tool pprof reads exports
  clang libclang-rt-14-dev           # the live wire decoder's libFuzzer target
  libgtk-4-dev libglib2.0-dev-bin    # ctxtrace-inspector (GTK 4; glib-compile-resources)
  xvfb xauth                         # the inspector's GUI tests run in a real window under Xvfb
  zlib1g-dev                         # ctxtrace export --format pprof (gzip)
  help2man gzip                      # the man pages, generated from --help at build time
  dpkg-dev                           # cpack -G DEB's dependencies (dpkg-shlibdeps); the package test
  bash-completion                    # the package test loads the completion script
  desktop-file-utils appstream       # the inspector's .desktop and AppStream files are validated
)

# The OASIS SARIF 2.1.0 schema the report tests validate against: shipped in an npm
# package (MIT), fetched once with npm (node's, or Debian's npm when there is none).
sarif_schema=/usr/local/share/ctxtrace-dev/sarif-2.1.0-rtm.5.json
sarif_package=@microsoft/jest-sarif@1.0.0-beta.0
# Chrome DevTools' own trace engine (the Performance panel's parser, BSD), which the
# export tests load `ctxtrace export --format chrome` into: a real consumer of the format.
trace_engine_dir=/usr/local/share/ctxtrace-dev/trace_engine
trace_engine_package=@paulirish/trace_engine@0.0.65

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null ||
  { [ -f "$sarif_schema" ] && [ -d "$trace_engine_dir/node_modules" ]; } || missing+=(npm)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$sarif_schema" ]; then
  echo "install-deps: fetching the SARIF 2.1.0 schema ($sarif_package)" >&2
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$sarif_package" >/dev/null && tar xzf ./*.tgz)
  $sudo install -D -m 0644 "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$sarif_schema"
  rm -rf "$tmp"
fi

if [ ! -f "$trace_engine_dir/node_modules/@paulirish/trace_engine/package.json" ]; then
  echo "install-deps: fetching Chrome DevTools' trace engine ($trace_engine_package)" >&2
  $sudo mkdir -p "$trace_engine_dir"
  $sudo npm install --silent --no-audit --no-fund --prefix "$trace_engine_dir" "$trace_engine_package"
fi
