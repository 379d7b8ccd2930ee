#!/usr/bin/env bash
# The demo bot: builds the add-in and the demo, then runs it. Open the address
# it prints and chat with @sandbox_bot; Ctrl+C stops it.
#   bash demo/run.sh [--port PORT] [--lib PATH | --zip PATH]
set -euo pipefail
cd "$(dirname "$0")/.."

# The simulator compiles its C++ host with the system compiler; without
# rustup's toolchain, Debian's rustc-web/cargo-web serve (as tests/run.sh).
missing=()
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v cargo >/dev/null 2>&1 || missing+=(rustc-web cargo-web)
if ((${#missing[@]})); then
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  echo "== installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

echo "== build"
cargo build -p telegram-addin --lib
cargo build -p telegram-demo

exec target/debug/telegram-demo "$@"
