#!/usr/bin/env bash
# Run the same Faiss benchmark against Debian's package build and the AVX2 build, one after
# the other on the same data, and print the package/avx2 ratios (docs/faiss.md).
# usage: bench/faiss-compare.sh [n] [nq] [passes]   (after ./bridgefeed build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/build/${BRIDGEFEED_PRESET:-release}/bin"
[ -x "$BIN/faiss_compare_avx2" ] || { echo "no $BIN/faiss_compare_avx2: the AVX2 Faiss build is not configured" >&2; exit 1; }

# Single-threaded: Faiss's OpenMP and OpenBLAS's own threads.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
for b in package avx2; do
  "$BIN/faiss_compare_$b" "$@" | tee "$out/$b"
done

# Pair the "result" lines by index and divide package by avx2 (higher = AVX2 faster).
echo "# package / avx2 (x times faster with avx2)"
paste -d'\n' <(grep '^result' "$out/package") <(grep '^result' "$out/avx2") | awk '
  function field(line, key,   i, n, kv) {
    n = split(line, kv, " ")
    for (i = 1; i <= n; i++) if (index(kv[i], key "=") == 1) return substr(kv[i], length(key) + 2)
  }
  NR % 2 == 1 { p = $0; next }
  { printf "ratio index=%s build=%.2f build_cpu=%.2f median=%.2f best_pass_median=%.2f cpu_median=%.2f p99=%.2f mean=%.2f\n",
      field($0, "index"), field(p, "build_s") / field($0, "build_s"),
      field(p, "build_cpu_s") / field($0, "build_cpu_s"), field(p, "median_ms") / field($0, "median_ms"),
      field(p, "best_pass_median_ms") / field($0, "best_pass_median_ms"),
      field(p, "cpu_median_ms") / field($0, "cpu_median_ms"),
      field(p, "p99_ms") / field($0, "p99_ms"), field(p, "mean_ms") / field($0, "mean_ms") }'
