#!/usr/bin/env bash
# Long fuzzing runs: every target of tests/fuzz_parsers.rs for SECONDS each (default 600),
# JOBS at a time (default 2), at the lowest priority (the machine is shared).
#   scripts/fuzz-long.sh [SECONDS] [JOBS]
# A crash fails that target and leaves the shrunk input in target/fuzz-crashes/: add it to
# fixtures/fuzz/<target>/ (a regression seed) once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-600}"
JOBS="${2:-2}"
TARGETS="fuzz_chart_json fuzz_chart_fhir fuzz_chart_text_in_every_encoding fuzz_gguf_header_check \
fuzz_journal_decoder fuzz_config_parser fuzz_theme_parser fuzz_extract_pipeline"
cargo test --quiet --test fuzz_parsers --no-run
export KARTE_FUZZ_SECONDS="$SECONDS_PER_TARGET"
printf '%s\n' $TARGETS | xargs -P "$JOBS" -I{} sh -c \
  'nice -n 19 cargo test --quiet --test fuzz_parsers {} -- --exact --nocapture 2>&1 | grep -E "^fuzz |panicked|test result: FAILED" || true'
