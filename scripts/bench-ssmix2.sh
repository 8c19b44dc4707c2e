#!/usr/bin/env bash
# Benchmark of the SS-MIX2 queue source: writes a storage of N generated patients (default
# 10,000; each a demo chart under a new id), then measures the queue's first screen, reading
# every patient, and loading one patient's charts. Figures go in the README.
#   scripts/bench-ssmix2.sh [PATIENTS] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
patients="${1:-10000}"
dir="${2:-${TMPDIR:-/tmp}/karte-bench-ssmix2}"
if [ ! -f "$dir/.patients-$patients" ]; then
  python3 fixtures/ssmix2/generate.py --bench "$dir" --patients "$patients"
  touch "$dir/.patients-$patients"
fi
# Cold start as far as an unprivileged user can: the page cache is not dropped (that needs
# root); the first run after generating is warm.
# Dev profile (dependencies optimized, karte itself not): release would be faster.
cargo run --quiet --example bench_ssmix2 -- "$dir"
