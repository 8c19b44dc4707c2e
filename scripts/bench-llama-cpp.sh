#!/usr/bin/env bash
# Measures karte's engine against llama.cpp's own llama-bench, same model, same threads.
#
# llama-bench is built from the llama.cpp sources that karte itself links (vendored in the
# llama-cpp-sys-2 crate), so both run the same kernels. That crate ships no llama-bench
# source, so the tool's two files are taken from the llama-cpp-python sdist on PyPI
# (fetched with pip). Built once into $WORK; later runs reuse it.
#
# Both sides use: flash attention off and no weight repacking (`--repack 0`), which is
# what karte runs with (see src/llm/model_loader.rs and src/llm/worker.rs).
#
#   scripts/bench-llama-cpp.sh            # THREADS=$(nproc) REPS=5
#   THREADS=2 REPS=3 scripts/bench-llama-cpp.sh
set -euo pipefail

cd "$(dirname "$0")/.."
MODEL=${MODEL:-${XDG_DATA_HOME:-$HOME/.local/share}/karte/models/gemma-3-270m-q4_k_m.gguf}
THREADS=${THREADS:-$(nproc)}
REPS=${REPS:-5}
WORK=${WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/karte/llama-bench}
LLAMA_CPP_PYTHON=${LLAMA_CPP_PYTHON:-0.3.36}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

[ -f "$MODEL" ] || { echo "model $MODEL not found: run \`karte setup\`" >&2; exit 1; }
mkdir -p "$WORK"

sys_version=$(grep -A1 '^name = "llama-cpp-sys-2"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
vendored=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"llama-cpp-sys-2-$sys_version"/llama.cpp | head -n1)
[ -d "$vendored" ] || { echo "llama.cpp sources of llama-cpp-sys-2 $sys_version not found: run cargo build first" >&2; exit 1; }

bench="$WORK/build/bin/llama-bench"
if [ ! -x "$bench" ]; then
    echo "building llama-bench from $vendored (once; takes minutes)" >&2
    if [ ! -d "$WORK/llama-cpp-python-$LLAMA_CPP_PYTHON" ]; then
        pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_CPP_PYTHON" -d "$WORK/sdist"
        tar -xzf "$WORK/sdist/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz" -C "$WORK"
        mv "$WORK/llama_cpp_python-$LLAMA_CPP_PYTHON" "$WORK/llama-cpp-python-$LLAMA_CPP_PYTHON"
    fi
    rm -rf "$WORK/llama.cpp"
    cp -r "$vendored" "$WORK/llama.cpp"
    chmod -R u+w "$WORK/llama.cpp"
    cp "$WORK/llama-cpp-python-$LLAMA_CPP_PYTHON"/vendor/llama.cpp/tools/llama-bench/* "$WORK/llama.cpp/tools/llama-bench/"
    # Only llama-bench among the tools (the crate does not ship the others' sources).
    echo 'add_subdirectory(llama-bench)' > "$WORK/llama.cpp/tools/CMakeLists.txt"
    cmake -S "$WORK/llama.cpp" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release \
        -DGGML_NATIVE=ON -DGGML_OPENMP=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
        -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF >"$WORK/cmake.log"
    cmake --build "$WORK/build" --target llama-bench -j "$(nproc)" >"$WORK/build.log"
fi

echo "building karte (release)" >&2
cargo build --release --quiet

echo "llama-bench: tg128, pp512, $THREADS threads, $REPS repetitions" >&2
"$bench" -m "$MODEL" -t "$THREADS" -p 512 -n 128 -r "$REPS" -fa 0 --repack 0 -o json >"$WORK/llama-bench.json"
echo "karte bench model: $THREADS threads, $REPS repetitions" >&2
"$TARGET_DIR/release/karte" --model "$MODEL" bench model --threads "$THREADS" --repetitions "$REPS" --json >"$WORK/karte-bench.json"

python3 - "$WORK/llama-bench.json" "$WORK/karte-bench.json" <<'EOF'
import json, sys
lb = json.load(open(sys.argv[1]))
k = json.load(open(sys.argv[2]))
tg = next(r for r in lb if r["n_gen"] > 0 and r["n_prompt"] == 0)
pp = next(r for r in lb if r["n_prompt"] > 0 and r["n_gen"] == 0)
mib = lambda b: b / 2**20
rows = [
    ("generation tg128 (tokens/s)", tg["avg_ts"], tg["stddev_ts"], k["generation_tokens_per_s"], 0.95),
    ("prompt pp512 (tokens/s)", pp["avg_ts"], pp["stddev_ts"], k["prompt_tokens_per_s"], 0.90),
]
print(f"model {k['model']}, {k['threads']} threads, llama.cpp build {tg.get('build_commit', '?')}, CPU {tg.get('cpu_info', '?')}")
print(f"{'':30} {'llama-bench':>16} {'karte':>16} {'ratio':>7} {'target':>7}")
for name, lb_mean, lb_sd, ks, target in rows:
    ratio = ks["mean"] / lb_mean
    print(f"{name:30} {lb_mean:9.1f} ± {lb_sd:4.1f} {ks['mean']:9.1f} ± {ks['stddev']:4.1f} {ratio:7.1%} {'≥' + format(target, '.0%'):>7} {'ok' if ratio >= target else 'MISSED'}")
r = k["regenerate_over_cold"]
print(f"time to first token, {k['chart']} ({k['chart_context_tokens']} context tokens): cold {k['ttft_cold_ms']['mean']:.0f} ms, "
      f"regenerate {k['ttft_regenerate_ms']['mean']:.0f} ms = {r:.1%} of cold (target ≤ 25%: {'ok' if r <= 0.25 else 'MISSED'}), "
      f"other section {k['ttft_other_section_ms']['mean']:.0f} ms")
budget = k["rss_budget_bytes"]
print(f"peak RSS {mib(k['peak_rss_bytes']):.0f} MiB, budget model {mib(k['model_file_bytes']):.0f} + KV {mib(k['kv_cache_bytes']):.0f} + 200 = {mib(budget):.0f} MiB "
      f"({'ok' if k['peak_rss_bytes'] <= budget else 'MISSED'})")
EOF
