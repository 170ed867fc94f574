#!/usr/bin/env bash
# Build Debian's own Faiss source package with FAISS_OPT_LEVEL=avx2 into a per-machine
# cache, so bridgefeed can link a Faiss built for this CPU instead of the package's generic
# SSE build (same version, same Debian patches; see docs/faiss.md).
#
# usage: tools/build-faiss-avx2.sh [--print-prefix] [--force]
#   (none)          build if needed; on success print the install prefix on stdout
#   --print-prefix  only print the prefix this machine would use (no build, no network)
#   --force         retry even if an earlier build failed for this version
# Exit codes: 0 usable build at the printed prefix; 1 build failed (message printed);
# 2 CPU lacks AVX2/FMA; 3 an earlier build of this version failed (not retried).
#
# Faiss's source is fetched from Debian at build time and never committed.
set -euo pipefail

print_only=0 force=0
for a in "$@"; do
  case "$a" in
    --print-prefix) print_only=1 ;;
    --force) force=1 ;;
    *) echo "usage: $0 [--print-prefix] [--force]" >&2; exit 64 ;;
  esac
done

say() { printf '\033[1mbridgefeed:\033[0m %s\n' "$*" >&2; }

# The Debian *source* version of the installed package (no binNMU suffix like +b1), so the
# cache follows Debian's updates and the headers match the package's.
source_version() {
  local v
  v="$(dpkg-query -W -f='${source:Version}' libfaiss-dev 2>/dev/null || true)"
  if [ -z "$v" ]; then
    v="$(apt-cache policy libfaiss-dev 2>/dev/null | awk '/Candidate:/ {print $2}')"
    v="${v%+b[0-9]*}"
  fi
  [ -n "$v" ] && [ "$v" != "(none)" ] || return 1
  printf '%s\n' "$v"
}

home="${HOME:-$(cd ~ && pwd)}"  # CI may run without HOME
cache_root="${BRIDGEFEED_FAISS_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/bridgefeed}"
version="$(source_version)" || { say "libfaiss-dev is not known to apt; cannot pick a Faiss version"; exit 1; }
prefix="$cache_root/faiss-${version//:/_}-avx2"
if [ "$print_only" -eq 1 ]; then
  printf '%s\n' "$prefix"
  exit 0
fi

# faiss_avx2 runs AVX2 and FMA instructions unconditionally: without both it would crash.
if ! grep -qw avx2 /proc/cpuinfo || ! grep -qw fma /proc/cpuinfo; then
  exit 2
fi

stamp="$prefix/bridgefeed-stamp"
if [ -f "$stamp" ] && [ -f "$prefix/lib/libfaiss_avx2.a" ]; then
  printf '%s\n' "$prefix"
  exit 0
fi

work="$prefix.work"
log="$work/build.log"
failed="$prefix.failed"
mkdir -p "$work"

# One build per machine at a time (clones and CI may run setup together).
exec 9>"$work/lock"
flock 9
if [ -f "$stamp" ]; then printf '%s\n' "$prefix"; exit 0; fi
if [ -f "$failed" ] && [ "$force" -eq 0 ]; then exit 3; fi
rm -f "$failed"

fail() {
  if [ "${BRIDGEFEED_FAISS:-auto}" = avx2 ]; then  # asked for explicitly: no fallback
    say "building Faiss with AVX2 failed (see $log)"
  else
    say "building Faiss with AVX2 failed (see $log); using Debian's generic libfaiss"
  fi
  cp -f "$log" "$failed" 2>/dev/null || touch "$failed"
  exit 1
}

# Reuse the Debian mirror host this machine's apt already uses (the deb822 URIs: field or a
# one-line "deb URL suite" entry); deb.debian.org when none is found.
mirror() {
  local m
  m="$(grep -hsE '^[[:space:]]*(URIs:|deb[[:space:]])' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | grep -oE '(https?)://[^[:space:]]+/debian/?([[:space:]]|$)' | head -n1 | tr -d '[:space:]')"
  printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

run_build() {
  local started=$SECONDS

  # A private apt configuration: its own sources list, lists and cache folders, so the
  # system's apt state is never touched.
  local apt="$work/apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) bookworm main" \
    >"$apt/sources.list"
  local aptopts=(
    -o Dir::Etc::SourceList="$apt/sources.list"
    -o Dir::Etc::SourceParts="$apt/sources.list.d"
    -o Dir::State::Lists="$apt/lists"
    -o Dir::Cache="$apt/cache"
    -o APT::Sandbox::User=root
  )
  apt-get "${aptopts[@]}" -q update || return 1

  rm -rf "$work/src" "$work/build"
  mkdir -p "$work/src"
  (cd "$work/src" && apt-get "${aptopts[@]}" -q source "faiss=$version") || return 1
  local src
  src="$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'faiss-*' | head -n1)"
  [ -f "$src/CMakeLists.txt" ] || { echo "no CMakeLists.txt in $src"; return 1; }

  # Only the C++ libraries: no GPU, Python, C API or tests. OpenBLAS explicitly, because the
  # reference BLAS is far slower for training and batch search.
  cmake -S "$src" -B "$work/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_SHARED_LIBS=OFF \
    -DFAISS_ENABLE_GPU=OFF -DFAISS_ENABLE_PYTHON=OFF -DFAISS_ENABLE_C_API=OFF \
    -DBUILD_TESTING=OFF -DFAISS_OPT_LEVEL=avx2 -DBLA_VENDOR=OpenBLAS || return 1
  # Only faiss_avx2: bridgefeed links it or Debian's own libfaiss, never the generic `faiss`
  # this source also builds (half the compile time). Faiss's install rule wants both, so the
  # library and the headers (what its install rule puts there) are copied by hand.
  cmake --build "$work/build" --target faiss_avx2 -- -j"$(nproc)" || return 1
  rm -rf "$prefix"
  mkdir -p "$prefix/lib" "$prefix/include"
  cp "$work/build/faiss/libfaiss_avx2.a" "$prefix/lib/" || return 1
  (cd "$src" && find faiss -name '*.h' -not -path 'faiss/gpu/*' -not -path 'faiss/python/*' -not -path 'faiss/cppcontrib/*' \
     -exec cp --parents {} "$prefix/include/" \;) || return 1
  [ -f "$prefix/lib/libfaiss_avx2.a" ] && [ -f "$prefix/include/faiss/IndexIVFFlat.h" ] ||
    { echo "libfaiss_avx2.a or the headers were not installed"; return 1; }

  # The stamp is written last: its presence means the prefix is complete.
  {
    echo "source_version=$version"
    echo "opt_level=avx2"
    echo "compiler=$(c++ --version | head -n1)"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "build_seconds=$((SECONDS - started))"
  } >"$stamp"
  say "Faiss $version with AVX2 built in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
}

say "building Faiss $version with AVX2 once into $prefix (several minutes; log: $log)"
if run_build >"$log" 2>&1; then
  # The source and objects are only needed to build; keep the log.
  rm -rf "$work/src" "$work/build" "$work/apt"
  grep -h 'built in' "$log" | sed 's/\x1b\[[0-9;]*m//g' >&2 || true
  printf '%s\n' "$prefix"
else
  fail
fi
