#!/usr/bin/env bash
# Builds the release package of the add-in: four libraries (Windows x86/x64,
# Linux x86/x64) and target/package/TelegramAddin-<version>.zip with a
# MANIFEST.XML stamped by build.rs.
#
#   package/build.sh [--check] [--no-install] [--only "win32 win64 linux32 linux64"]
#
#   --check       run package/check.sh on the ZIP afterwards
#   --no-install  do not install missing tools (fail instead)
#   --only LIST   build only these targets (the ZIP is written only when all four are built)
#
# Routes (see shared/build-targets.md):
#   win32/win64   Debian's rustc-web/cargo-web 1.96 + rust-web-src, -Z build-std,
#                 *-win7-windows-gnu, mingw-w64 gcc as linker
#   linux64       cargo-zigbuild, x86_64-unknown-linux-gnu.2.17 (rustup's toolchain when
#                 present, otherwise Debian's with -Z build-std), vendored OpenSSL
#   linux32       cargo-zigbuild with Debian's toolchain and -Z build-std,
#                 i686-unknown-linux-gnu.2.17, vendored OpenSSL
#
# Environment: PACKAGE_TARGET_DIR (default target/package-build) is the cargo
# target directory, kept apart from the developers' target/debug.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=TelegramAddin
BUILD_DIR=${PACKAGE_TARGET_DIR:-$ROOT/target/package-build}
OUT_DIR=$ROOT/target/package
LOG_DIR=$BUILD_DIR/logs
TOOLS_DIR=$BUILD_DIR/tools

RUN_CHECK=0
INSTALL=1
ONLY="win32 win64 linux32 linux64"
while [ $# -gt 0 ]; do
  case "$1" in
    --check) RUN_CHECK=1 ;;
    --no-install) INSTALL=0 ;;
    --only) ONLY=${2:?--only needs a list}; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[package] %s\n' "$*" >&2; }
die() { printf '[package] ERROR: %s\n' "$*" >&2; exit 1; }

# --- tools -----------------------------------------------------------------------------

APT_PACKAGES=(
  gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 binutils-mingw-w64-x86-64 binutils-mingw-w64-i686
  rustc-web cargo-web rust-web-src
  binutils file zip unzip perl make python3 python3-pip
)

apt_missing() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$p"
    fi
  done
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root (or sudo) to run: $*"
  fi
}

ensure_tools() {
  local missing
  missing=$(apt_missing)
  if [ -n "$missing" ]; then
    [ "$INSTALL" = 1 ] || die "missing Debian packages: $(echo "$missing" | tr '\n' ' ')"
    log "installing Debian packages: $(echo "$missing" | tr '\n' ' ')"
    as_root apt-get update -qq
    # shellcheck disable=SC2086  # one package per word
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
  if ! command -v cargo-zigbuild >/dev/null || ! python3 -m ziglang version >/dev/null 2>&1; then
    [ "$INSTALL" = 1 ] || die "missing cargo-zigbuild / ziglang (pip install ziglang cargo-zigbuild)"
    log "installing ziglang and cargo-zigbuild from PyPI"
    # Debian's own python refuses a system-wide pip install (PEP 668) unless told.
    python3 -m pip install -q ziglang cargo-zigbuild 2>/dev/null ||
      python3 -m pip install -q --break-system-packages ziglang cargo-zigbuild
    hash -r
    if ! command -v cargo-zigbuild >/dev/null; then
      PATH=$HOME/.local/bin:$PATH  # a --user style install
      command -v cargo-zigbuild >/dev/null || die "cargo-zigbuild not on PATH after pip install"
    fi
  fi
  if [ ! -x /usr/bin/cargo ] || [ ! -x /usr/bin/rustc ]; then
    die "Debian's cargo/rustc (cargo-web, rustc-web) not found"
  fi
  [ -d /usr/lib/rustlib/src/rust/library ] || die "rust-web-src is not installed (/usr/lib/rustlib/src/rust)"

  # cargo-zigbuild runs `cargo` from PATH. A private directory puts Debian's cargo first
  # without also putting /usr/bin's python3 (which may lack ziglang) first.
  mkdir -p "$TOOLS_DIR/debian-bin"
  ln -sf /usr/bin/cargo "$TOOLS_DIR/debian-bin/cargo"
  ln -sf /usr/bin/rustc "$TOOLS_DIR/debian-bin/rustc"
  # ...and finds zig through `python3 -m ziglang` with the python that has it.
  CARGO_ZIGBUILD_PYTHON_PATH=$(python3 -c 'import sys; print(sys.executable)')
  export CARGO_ZIGBUILD_PYTHON_PATH

  # The host toolchain (rustup) for linux64, when there is one with its own std.
  HOST_CARGO=""
  local c
  for c in "$HOME/.cargo/bin/cargo" "$(command -v cargo || true)"; do
    if [ -n "$c" ] && [ -x "$c" ] && [ "$(readlink -f "$c")" != /usr/bin/cargo ]; then
      HOST_CARGO=$c
      break
    fi
  done
}

# --- building ----------------------------------------------------------------------------

VERSION=$(python3 - "$ROOT/Cargo.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print(tomllib.load(f)["package"]["version"])
EOF
)

# Reads cargo's JSON messages: prints "<library path>\t<build script OUT_DIR>".
artifacts() {
  python3 - "$1" <<'EOF'
import json, sys
lib = out = ""
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if not line.startswith("{"):
        continue
    try:
        m = json.loads(line)
    except ValueError:
        continue
    pid = m.get("package_id", "")
    if "telegram-addin" not in pid and "telegram_addin" not in pid:
        continue
    if m.get("reason") == "build-script-executed":
        out = m.get("out_dir", "")
    elif m.get("reason") == "compiler-artifact" and m["target"]["name"] == "telegram_addin":
        for f in m.get("filenames", []):
            if f.endswith((".so", ".dll")):
                lib = f
print(f"{lib}\t{out}")
EOF
}

declare -A LIB=()
declare -A SECONDS_TAKEN=()
MANIFEST_SRC=""

# build <key> <triple> <command...>
build() {
  local key=$1 triple=$2
  shift 2
  local json=$LOG_DIR/$key.json err=$LOG_DIR/$key.log start=$SECONDS
  log "building $key ($triple) ... log: ${err#"$ROOT"/}"
  if ! (cd "$ROOT" && CARGO_TARGET_DIR=$BUILD_DIR "$@" --release --locked -p telegram-addin --lib \
      --message-format=json-render-diagnostics >"$json" 2>"$err"); then
    tail -n 40 "$err" >&2
    die "build of $key failed (full log: $err)"
  fi
  SECONDS_TAKEN[$key]=$((SECONDS - start))
  local lib out
  IFS=$'\t' read -r lib out < <(artifacts "$json")
  if [ -z "$lib" ] || [ ! -f "$lib" ]; then die "no library found in cargo's output for $key ($json)"; fi
  if [ -z "$out" ] || [ ! -f "$out/MANIFEST.XML" ]; then die "build.rs did not write MANIFEST.XML for $key"; fi
  LIB[$key]=$lib
  MANIFEST_SRC=$out/MANIFEST.XML
  log "$key: ${lib#"$ROOT"/} ($(stat -c %s "$lib") bytes, ${SECONDS_TAKEN[$key]} s)"
}


build_win() {
  local key=$1 triple=$2 linker=$3 var
  var=CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_LINKER
  build "$key" "$triple" env "$var=$linker" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    /usr/bin/cargo build -Z build-std=std,panic_unwind --target "$triple"
}

OPENSSL_CFLAGS="-Oz -fno-unwind-tables -fno-asynchronous-unwind-tables"

build_linux() {
  local key=$1 triple=$2 cflags
  # The vendored OpenSSL makes ~5 MB of the x86_64 .so. Its C code is built for size:
  # -Oz (appended after OpenSSL's own -O3, so it wins) and no unwind tables (no Rust
  # panic can unwind through C frames: extern "C" is nounwind, so .eh_frame for OpenSSL
  # is dead weight). The cc crate passes CFLAGS_<target triple with underscores> on.
  cflags=CFLAGS_$(echo "${triple%.2.17}" | tr '-' '_')
  if [ "$key" = linux64 ] && [ -n "$HOST_CARGO" ]; then
    build "$key" "$triple" env "$cflags=$OPENSSL_CFLAGS" PATH="$(dirname "$HOST_CARGO"):$PATH" \
      cargo-zigbuild zigbuild --features vendored-openssl --target "$triple"
  else
    build "$key" "$triple" env "$cflags=$OPENSSL_CFLAGS" PATH="$TOOLS_DIR/debian-bin:$PATH" \
      RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
      cargo-zigbuild zigbuild -Z build-std=std,panic_unwind --features vendored-openssl --target "$triple"
  fi
}

main() {
  local total_start=$SECONDS
  ensure_tools
  mkdir -p "$LOG_DIR" "$OUT_DIR"
  log "TelegramAddin $VERSION; cargo target dir ${BUILD_DIR#"$ROOT"/}"
  local k
  for k in $ONLY; do
    case "$k" in
      win64) build_win win64 x86_64-win7-windows-gnu x86_64-w64-mingw32-gcc ;;
      win32) build_win win32 i686-win7-windows-gnu i686-w64-mingw32-gcc ;;
      linux64) build_linux linux64 x86_64-unknown-linux-gnu.2.17 ;;
      linux32) build_linux linux32 i686-unknown-linux-gnu.2.17 ;;
      *) die "unknown target '$k' (win32 win64 linux32 linux64)" ;;
    esac
  done

  for k in win32 win64 linux32 linux64; do
    if [ -z "${LIB[$k]:-}" ]; then
      log "not all four libraries were built (--only): no ZIP written"
      return 0
    fi
  done

  local stage=$OUT_DIR/stage zip=$OUT_DIR/$NAME-$VERSION.zip
  rm -rf "$stage" && mkdir -p "$stage"
  cp "${LIB[win32]}" "$stage/${NAME}_Windows_x86.dll"
  cp "${LIB[win64]}" "$stage/${NAME}_Windows_x64.dll"
  cp "${LIB[linux32]}" "$stage/${NAME}_Linux_x86.so"
  cp "${LIB[linux64]}" "$stage/${NAME}_Linux_x64.so"
  cp "$MANIFEST_SRC" "$stage/MANIFEST.XML"
  # Every path named in the manifest must be staged (check.sh verifies the ZIP again).
  local p
  while read -r p; do
    [ -f "$stage/$p" ] || die "MANIFEST.XML names $p, which was not built"
  done < <(grep -o 'path="[^"]*"' "$stage/MANIFEST.XML" | cut -d'"' -f2)
  rm -f "$zip"
  (cd "$stage" && touch -d '2000-01-01 00:00:00' ./* &&
    zip -q -X -9 "$zip" MANIFEST.XML "${NAME}_Windows_x86.dll" "${NAME}_Windows_x64.dll" \
      "${NAME}_Linux_x86.so" "${NAME}_Linux_x64.so")
  cp "$zip" "$OUT_DIR/$NAME.zip"
  log "wrote ${zip#"$ROOT"/} ($(stat -c %s "$zip") bytes) and ${OUT_DIR#"$ROOT"/}/$NAME.zip"
  log "times: $(for k in $ONLY; do printf '%s %ss  ' "$k" "${SECONDS_TAKEN[$k]}"; done)total $((SECONDS - total_start))s"
  if [ "$RUN_CHECK" = 1 ]; then
    "$ROOT/package/check.sh" "$zip"
  fi
}

main
