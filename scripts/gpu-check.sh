#!/usr/bin/env bash
# The GPU acceptance run of a CUDA build, one step after the other, each step's whole log kept in
# LOG_DIR and its tail printed:
#   info      the GPU, the driver, the libraries the binary loads
#   ops       the op harness (every op on CUDA f32 and bf16 against the CPU reference)
#   sanitize  compute-sanitizer memcheck and racecheck on the op harness
#   fixtures  every fixture case through `lorax generate --device cuda` (f32, bf16, FP8 KV)
#   e2e       the server's end-to-end test against `lorax serve --device cuda`
#   bench     `lorax bench --device cuda --shape llama-3-8b`: decode 1 and 32, 32 adapters,
#             prefill 4 x 2048, each beside its limit
# Usage: scripts/gpu-check.sh BUILD_DIR LOG_DIR [STEP...]   (no STEP: all of them)
# Each step is stopped after STEP_TIMEOUT seconds (default 300).
set -uo pipefail
if [ "${1:-}" = "--one" ]; then  # internal: run one step (under timeout)
  one=$2
  shift 2
fi
build=$(cd "$1" && pwd)
logs=$2
shift 2
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(info ops sanitize fixtures e2e bench)
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$logs"

run_step() {
  local name=$1
  echo "== $name"
  local start=$SECONDS
  timeout "${STEP_TIMEOUT:-300}" "$0" --one "$name" "$build" "$logs" >"$logs/$name.log" 2>&1
  local rc=$?
  tail -n "${TAIL_LINES:-12}" "$logs/$name.log"
  echo "== $name: exit $rc in $((SECONDS - start)) s"
}

info() {
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv
  ldd "$build/lorax" | grep -E "cuda|cublas|not found"
  "$build/lorax" --help | head -3
}
ops() { "$build/tests/backend/backend_tests" --gtest_filter='Devices/BackendOps.*cuda*' --gtest_brief=1; }
sanitize() {
  local filter='Devices/BackendOps.*cuda_bf16'
  compute-sanitizer --tool memcheck --error-exitcode 3 "$build/tests/backend/backend_tests" \
    --gtest_filter="$filter" --gtest_brief=1 && \
  compute-sanitizer --tool racecheck --error-exitcode 3 "$build/tests/backend/backend_tests" \
    --gtest_filter="$filter:-*Sampling*" --gtest_brief=1
}
fixtures() { "$build/tests/cli/cli_tests" --gtest_filter='*Gpu*'; }
e2e() {
  LORAX_E2E_SERVE_ARGS="--device cuda --kv-cache-tokens 65536" "$here/tests/e2e/run.sh" "$build" \
    "${LORAX_FIXTURES:-$here/../shared/fixtures}"
}
bench() {
  "$build/lorax" bench --device cuda --shape llama-3-8b --dtype bf16 --batch 1,32 --adapters 0,32 \
    --prompt-tokens 128 --decode-tokens 128 --prefill-batch 4 --prefill-tokens 2048 \
    --kv-cache-tokens 65536
}

if [ -n "${one:-}" ]; then
  "$one"
  exit
fi
for s in "${steps[@]}"; do run_step "$s"; done
