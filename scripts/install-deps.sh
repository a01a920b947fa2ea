#!/usr/bin/env bash
# Installs the Debian 12 packages the build and tests need, if any are missing.
# --sanitizers adds clang and its sanitizer/libFuzzer runtimes (scripts/sanitize.sh, fuzz/).
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config nlohmann-json3-dev libpcre2-dev libcli11-dev
          libutf8proc-dev zlib1g-dev libboost-dev libcpp-httplib-dev libgtest-dev libgmock-dev curl python3 python3-venv)
if [ "${1:-}" = "--sanitizers" ]; then
  packages+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}"
