#!/usr/bin/env bash
# Entity-extraction benchmark (issue 4): karte's full extraction against MeCab tokenizing the
# same >= 5 MB corpus, a 20,000-character chart's latency, and the dictionary-loads-once check.
#
# karte's own code is compiled optimized (opt-level 3, no debug assertions) on top of the dev
# profile, whose dependencies are already optimized: the numbers are those of an optimized
# build without recompiling llama.cpp for the release profile. `cargo build --release`
# followed by `target/release/karte bench extract` measures the same code.
#
# Usage: scripts/bench-extract.sh [--corpus FILE] [--mb 5]
set -euo pipefail
cd "$(dirname "$0")/.."
opt=(--config 'profile.dev.package.karte.opt-level=3'
     --config 'profile.dev.package.karte.debug-assertions=false'
     --config 'profile.dev.package.karte.overflow-checks=false')
cargo build --quiet "${opt[@]}" --bin karte
target_dir="${CARGO_TARGET_DIR:-target}"
"$target_dir/debug/karte" bench extract "$@"
