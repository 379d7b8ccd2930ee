#!/usr/bin/env bash
# CI entry point for the release package:
#   1. package/build.sh      — the four libraries and target/package/TelegramAddin-<version>.zip
#   2. package/check.sh      — architectures, manifest, imports, GLIBC, exports, sizes
#   3. tests/package_zip.rs  — the simulator loads the ZIP by its MANIFEST.XML; GetMe, SendMessage
#   4. package/wine-host/run.sh — the Windows x64 DLL under Wine against a local Bot API
# Prints the wall time of each stage. Exits non-zero on the first failure.
#
#   package/ci-package.sh [--no-wine] [--backend auto|sandbox|stub]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WINE=1
BACKEND=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --no-wine) WINE=0 ;;
    --backend) BACKEND=${2:?}; shift ;;
    *) echo "ci-package.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

stage() { printf '\n===== %s =====\n' "$*"; }
t0=$SECONDS

stage "build (package/build.sh)"
"$ROOT/package/build.sh"
t_build=$((SECONDS - t0))

ZIP=$ROOT/target/package/TelegramAddin.zip
stage "check (package/check.sh)"
"$ROOT/package/check.sh" "$ZIP"
t_check=$((SECONDS - t0 - t_build))

stage "the ZIP in the 1C platform simulator (tests/package_zip.rs)"
(cd "$ROOT" && TELEGRAM_ADDIN_ZIP="$ZIP" cargo test --test package_zip -- --include-ignored)
t_check=$((SECONDS - t0 - t_build))

t_wine=0
if [ "$WINE" = 1 ]; then
  stage "Wine smoke test (package/wine-host/run.sh)"
  "$ROOT/package/wine-host/run.sh" --backend "$BACKEND" "$ZIP"
  t_wine=$((SECONDS - t0 - t_build - t_check))
fi

stage "done"
echo "build ${t_build}s, check ${t_check}s, wine ${t_wine}s, total $((SECONDS - t0))s"
