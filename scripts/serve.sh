#!/usr/bin/env bash
# Builds the lorax binary (Release) and serves. With no arguments: the built-in demo model on
# http://127.0.0.1:8080. Any arguments go to `lorax serve` (e.g. --model DIR --adapter NAME=DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target lorax -j "$(nproc)"
exec build/lorax serve "$@"
