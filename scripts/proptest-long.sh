#!/usr/bin/env bash
# The update-loop property test with a large budget: CASES random sequences of up to 60
# steps (keys, pastes, resizes, commands, engine and worker answers), at most MINUTES long.
# Prints the steps run every 10 000 and the result; the whole output is kept in
# target/proptest-long.log.
#   scripts/proptest-long.sh [CASES] [MINUTES]      (default 40000 cases, 120 minutes)
#   RELEASE=1 scripts/proptest-long.sh …            (built optimized, karte's debug assertions and overflow checks on)
set -uo pipefail
cd "$(dirname "$0")/.."
CASES="${1:-40000}"
MINUTES="${2:-120}"
profile=()
# Optimized, with karte's own debug assertions and overflow checks kept (what the test hunts).
[ -n "${RELEASE:-}" ] && profile=(--release
  --config 'profile.release.package.karte.debug-assertions=true'
  --config 'profile.release.package.karte.overflow-checks=true')
cargo test "${profile[@]}" --quiet --test tui_update_property --no-run
binary=$(cargo test "${profile[@]}" --quiet --test tui_update_property --no-run --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*tui_update_property[^"]*"' | tail -n 1 | cut -d'"' -f4)
start=$(date +%s)
KARTE_PROPTEST_CASES="$CASES" timeout "${MINUTES}m" nice -n 19 "$binary" the_update_loop --nocapture \
  > target/proptest-long.log 2>&1
status=$?
grep -E "update-loop steps|test result|minimal failing" target/proptest-long.log | tail -n 3
echo "exit $status (124: the time limit ended the run), wall time: $(( $(date +%s) - start )) s"
