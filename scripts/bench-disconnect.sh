#!/usr/bin/env bash
# Real-disconnect run: karte in tmux, the pty closed under it (as a dropped SSH link does) at
# POINTS seeded random moments (queue, chart, edit mode, streaming, signing, exporting).
# Prints the points, panics, characters lost (typed > 1 s before the drop) and the slowest
# exit; the whole output is kept in target/bench-disconnect.log.
#   scripts/bench-disconnect.sh [POINTS] [SEED]      (default 200 points)
set -uo pipefail
cd "$(dirname "$0")/.."
POINTS="${1:-200}"
SEED="${2:-118259426289969}"
mkdir -p target
KARTE_DISCONNECT_POINTS="$POINTS" KARTE_DISCONNECT_SEED="$SEED" \
  nice -n 19 cargo test --quiet --test e2e_disconnect -- --nocapture > target/bench-disconnect.log 2>&1
status=$?
grep -E "disconnect points|lost|panicked|test result" -A2 target/bench-disconnect.log | head -n 40
exit $status
