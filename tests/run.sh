#!/usr/bin/env bash
# The project's test command (README): installs what a fresh Debian 12
# machine lacks, then runs every test through the stand-ins.
#   bash tests/run.sh          everything, the release package and Wine included
#   bash tests/run.sh --quick  the everyday suite: no release package
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

sudo=""
[[ "$(id -u)" == 0 ]] || sudo="sudo"

# command -> Debian package
declare -A wanted=(
  [g++]=g++
  [valgrind]=valgrind
  [nm]=binutils
  [chromium]=chromium
  [chromedriver]=chromium-driver
)
# Without rustup's toolchain, Debian's rustc-web/cargo-web (Rust 1.96) serve.
command -v cargo >/dev/null 2>&1 || wanted[cargo]="rustc-web cargo-web"
missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
done
[[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]] || missing+=(fonts-noto-color-emoji) # the web chat test's emoji
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  $sudo apt-get update -qq
  # shellcheck disable=SC2068 # a value may name two packages
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ${missing[@]}
fi

echo "== build"
cargo build --workspace --all-targets

echo "== tests"
cargo test --workspace

echo "== the simulator's own tests under valgrind (memcheck)"
bash tests/valgrind.sh

if ((quick == 0)) && [[ -f package/ci-package.sh ]]; then
  echo "== release package, checks and the Wine smoke test"
  bash package/ci-package.sh --backend sandbox
fi
