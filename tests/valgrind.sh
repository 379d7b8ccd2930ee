#!/usr/bin/env bash
# Runs the add-in's simulator tests under valgrind memcheck: the add-in is
# loaded into the simulator exactly as 1C would load it, so any invalid read,
# write or free on either side of the boundary fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --no-run --test core 2>&1 | tail -1
bin=$(cargo test --no-run --test core --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
[[ -x "$bin" ]] || { echo "core test binary not found"; exit 1; }
valgrind --quiet --error-exitcode=97 --leak-check=no --errors-for-leak-kinds=none \
  "$bin" --test-threads=1 -q
