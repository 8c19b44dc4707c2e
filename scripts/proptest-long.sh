#!/usr/bin/env bash
# The update-loop property test with a large budget: CASES random sequences of up to 60
# steps (keys, pastes, resizes, commands, engine and worker answers). Prints the steps run.
#   scripts/proptest-long.sh [CASES]      (default 40000 cases, about 1.2 million steps)
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${1:-40000}"
start=$(date +%s)
KARTE_PROPTEST_CASES="$CASES" nice -n 19 cargo test --quiet --test tui_update_property -- --nocapture 2>&1 \
  | grep -E "update-loop steps|test result|panicked|minimal failing" | tail -n 5
echo "wall time: $(( $(date +%s) - start )) s"
