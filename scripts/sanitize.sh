#!/usr/bin/env bash
# The test suite under sanitizers, failing on any report:
#   - AddressSanitizer + UndefinedBehaviorSanitizer (leaks too): every test, clang, build-asan/;
#   - ThreadSanitizer: the engine (scheduler, service threads, thread pool), server tests
#     (concurrent clients, disconnects, overload) and reliability tests (the HTTP layer's I/O
#     threads under connection abuse), gcc, build-tsan/.
# Both build at -O1 with line tables only, so a report has file:line and CI stays quick.
# TSan is built with gcc (quicker here for these binaries). Debian's libcpp-httplib (the tests'
# HTTP client) is not instrumented; tests/tsan.supp silences what TSan cannot see inside it,
# and nothing of ours.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --sanitizers
jobs=$(nproc)

CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" -DLORAX_SANITIZE=address
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

CC=gcc CXX=g++ cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DLORAX_SANITIZE=thread
cmake --build build-tsan -j "$jobs" --target engine_tests server_tests reliability_tests
# A test process with any report exits 66 and fails.
TSAN_OPTIONS=second_deadlock_stack=1:exitcode=66:suppressions=$PWD/tests/tsan.supp \
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L "^(engine_tests|server_tests|reliability_tests)$"
