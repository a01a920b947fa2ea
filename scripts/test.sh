#!/usr/bin/env bash
# Builds (Release) and runs every test. Tests read ../shared/fixtures in place.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j "$(nproc)"
echo "== end-to-end client checks (build/e2e-report.txt) =="
cat build/e2e-report.txt
