#!/usr/bin/env bash
# Runs one fuzz target for a while: fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
#
# Needs the libFuzzer build (docs/fuzzing.md):
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#     -DLORAX_SANITIZE=address -DLORAX_FUZZ=ON
#   cmake --build build-fuzz --target fuzz_TARGET
# The corpus grows in build-fuzz/corpus/TARGET (seeded from fuzz/corpus/TARGET, which stays
# small); crashes land in build-fuzz/findings/TARGET. The log is build-fuzz/fuzz-TARGET.log.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
binary=build-fuzz/fuzz/fuzz_$target
[ -x "$binary" ] || { echo "no $binary: build it first (see docs/fuzzing.md)" >&2; exit 2; }
mkdir -p "build-fuzz/corpus/$target" "build-fuzz/findings/$target"
dict=()
[ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
"$binary" "build-fuzz/corpus/$target" "fuzz/corpus/$target" "${dict[@]}" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="build-fuzz/findings/$target/" "$@" \
  2>&1 | tee "build-fuzz/fuzz-$target.log"
