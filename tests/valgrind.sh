#!/usr/bin/env bash
# Runs tests under valgrind memcheck: the add-in's core tests and its
# receiving tests (the add-in loaded into the simulator as 1C would load it,
# with its polling threads) and the simulator's own tests. The run fails on
#   - any invalid read, write or free on either side of the boundary;
#   - any "definitely lost" block, whoever allocated it;
#   - any "possibly lost" block not listed in tests/valgrind.supp (which lists
#     only the test process's own caches, each with the reason).
# "Still reachable" blocks (statics alive at exit) are not reported.
# Prints the wall time of each target and the total.
set -euo pipefail
cd "$(dirname "$0")/.."

# Prints the executable of one test target.
test_binary() {
  cargo test --no-run "$@" --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*/deps/[^"]*"' | tail -1 | cut -d'"' -f4
}

start=$SECONDS
for target in "-p telegram-addin --test core" "-p telegram-addin --test receiving_events" \
  "-p onec-simulator --test simulator"; do
  # shellcheck disable=SC2086
  bin=$(test_binary $target)
  [[ -x "$bin" ]] || { echo "test binary for '$target' not found"; exit 1; }
  echo "-- valgrind: $target"
  t0=$SECONDS
  # --num-callers=40: deep enough for the suppressions to see whose block it is.
  RUST_BACKTRACE=0 valgrind --quiet --error-exitcode=97 \
    --leak-check=full --show-leak-kinds=definite,possible \
    --errors-for-leak-kinds=definite,possible \
    --suppressions=tests/valgrind.supp --num-callers=40 \
    "$bin" --test-threads=1 -q
  echo "-- valgrind: $target: clean in $((SECONDS - t0)) s"
done
echo "-- valgrind: all clean in $((SECONDS - start)) s"
