#!/bin/bash
# Instructions per call of each send_message bench path, counted by callgrind:
# steady on a busy machine where wall time is not. Each path runs alone twice
# (100 and 600 calls) and the difference is divided by 500, which cancels the
# set-up. "client" is the calling thread (simulator + add-in, or the bare
# client); "process" adds the in-process sandbox's threads. Kernel time is not
# counted (see the CPU-time columns of `cargo bench --bench send_message`).
# Usage: bash benches/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
cargo build --release --lib -q
bin=$(cargo bench --bench send_message --no-run 2>&1 | sed -n 's/.*(\(target\/.*send_message-[0-9a-f]*\)).*/\1/p' | tail -1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() { # mode calls -> "client process"
  rm -f "$out"/cg.*
  BENCH_ONLY=$1 BENCH_CALLS=$2 valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$out/cg" "$bin" >/dev/null 2>&1
  local client all
  client=$(awk '/^totals:/ {print $2}' "$out/cg-01")
  all=$(cat "$out"/cg-* | awk '/^totals:/ {s += $2} END {print s}')
  echo "$client $all"
}
printf '| %-20s | %14s | %5s | %15s | %5s |\n' "path" "client Ir/call" "ratio" "process Ir/call" "ratio"
printf '|%s|%s|%s|%s|%s|\n' "----------------------" "---------------:" "------:" "----------------:" "------:"
for mode in bare bare-timeouts addin bare-getme bare-timeouts-getme addin-getme; do
  read -r c1 a1 < <(count "$mode" 100)
  read -r c2 a2 < <(count "$mode" 600)
  c=$(((c2 - c1) / 500)) a=$(((a2 - a1) / 500))
  case $mode in bare | bare-getme) bc=$c ba=$a ;; esac
  awk -v m="$mode" -v c="$c" -v a="$a" -v bc="$bc" -v ba="$ba" \
    'BEGIN { printf "| %-20s | %14d | %5.2f | %15d | %5.2f |\n", m, c, c / bc, a, a / ba }'
done
