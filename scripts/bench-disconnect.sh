#!/usr/bin/env bash
# Real-disconnect run: karte in tmux, the pty closed under it (as a dropped SSH link does) at
# POINTS seeded random moments (queue, chart, edit mode, streaming, signing, exporting).
# Prints the points, panics, characters lost (typed > 1 s before the drop) and the slowest exit.
#   scripts/bench-disconnect.sh [POINTS] [SEED]      (default 200 points)
set -euo pipefail
cd "$(dirname "$0")/.."
POINTS="${1:-200}"
SEED="${2:-118259426289969}"
KARTE_DISCONNECT_POINTS="$POINTS" KARTE_DISCONNECT_SEED="$SEED" \
  nice -n 19 cargo test --quiet --test e2e_disconnect -- --nocapture 2>&1 | grep -E "disconnect points|lost|panicked|test result"
