#!/usr/bin/env bash
# Runs the simulator tests under valgrind memcheck: the add-in's core tests
# (the add-in loaded into the simulator as 1C would load it) and the
# simulator's own tests. Any invalid read, write or free on either side of
# the boundary fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Prints the executable of one test target.
test_binary() {
  cargo test --no-run "$@" --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*/deps/[^"]*"' | tail -1 | cut -d'"' -f4
}

for target in "-p telegram-addin --test core" "-p onec-simulator --test simulator"; do
  # shellcheck disable=SC2086
  bin=$(test_binary $target)
  [[ -x "$bin" ]] || { echo "test binary for '$target' not found"; exit 1; }
  echo "-- valgrind: $target"
  RUST_BACKTRACE=0 valgrind --quiet --error-exitcode=97 --leak-check=no \
    "$bin" --test-threads=1 -q
done
