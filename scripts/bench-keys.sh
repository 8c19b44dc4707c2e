#!/usr/bin/env bash
# Keystroke-latency benchmark (issue 3: < 50 ms while generating): the real binary in tmux
# with the default model, a key's effect on screen timed with the model idle and while a
# draft streams (tests/bench_keystrokes.rs). karte's own code is compiled optimized on top
# of the dev profile (whose dependencies are already optimized), as in bench-extract.sh.
#
# Usage: scripts/bench-keys.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --quiet \
    --config 'profile.dev.package.karte.opt-level=3' \
    --config 'profile.dev.package.karte.debug-assertions=false' \
    --config 'profile.dev.package.karte.overflow-checks=false' \
    --test bench_keystrokes -- --ignored --nocapture --test-threads 1
