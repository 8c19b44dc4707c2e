#!/usr/bin/env bash
# Builds llama.cpp's own `llama-server` (OpenAI-compatible HTTP server, continuous batching,
# prompt cache) once, with native CPU flags, and installs it under karte's data dir:
#
#   ${KARTE_HOME:+$KARTE_HOME/data}  or  ${XDG_DATA_HOME:-~/.local/share}/karte   + /bin/llama-server
#
# karte's server engine (`[llm] server = ...`) talks to it; the tests start one on 127.0.0.1.
#
# Sources: the llama-cpp-python sdist on PyPI vendors a full llama.cpp, including tools/server
# (the copy inside the llama-cpp-sys-2 crate has no server sources). Fetched with pip, like
# scripts/bench-llama-cpp.sh does for llama-bench.
#
# Idempotent: when the installed binary's stamp (sources version, build flags, this CPU's
# flags) matches and the binary runs, it does nothing (a fraction of a second). The web UI is
# left out (no npm, no download of prebuilt assets: the build needs no network besides PyPI).
#
#   scripts/build-llama-server.sh                  # prints the installed path
#   JOBS=4 scripts/build-llama-server.sh
set -euo pipefail

LLAMA_CPP_PYTHON=${LLAMA_CPP_PYTHON:-0.3.36}
JOBS=${JOBS:-2}
WORK=${WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/karte/llama-server}
if [ -n "${KARTE_HOME:-}" ]; then
    DATA_DIR="$KARTE_HOME/data"
else
    DATA_DIR="${XDG_DATA_HOME:-$HOME/.local/share}/karte"
fi
BIN_DIR="$DATA_DIR/bin"
SERVER="$BIN_DIR/llama-server"
STAMP="$SERVER.stamp"

CMAKE_FLAGS=(
    -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_OPENMP=ON -DBUILD_SHARED_LIBS=OFF
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF
    -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF
)
# Native flags: a binary built on another CPU may not run here, so the CPU is in the stamp.
cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-16 || echo unknown)
want_stamp="llama-cpp-python=$LLAMA_CPP_PYTHON cpu=$cpu_flags flags=$(printf '%s ' "${CMAKE_FLAGS[@]}" | sha256sum | cut -c1-16)"

if [ -x "$SERVER" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ] &&
    "$SERVER" --version >/dev/null 2>&1; then
    echo "$SERVER"
    exit 0
fi

command -v cmake >/dev/null || { echo "cmake not found: run scripts/setup-system.sh" >&2; exit 1; }
echo "building llama-server from llama-cpp-python $LLAMA_CPP_PYTHON's llama.cpp (once; takes many minutes on 2 cores)" >&2
mkdir -p "$WORK"
src="$WORK/llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp"
if [ ! -f "$src/tools/server/server.cpp" ]; then
    tarball="$WORK/sdist/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz"
    if [ ! -f "$tarball" ]; then
        # --no-build-isolation: pip only needs the file, not the package's build backend.
        python3 -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
            "llama-cpp-python==$LLAMA_CPP_PYTHON" -d "$WORK/sdist" 2>"$WORK/pip.log" ||
            python3 -m pip download --quiet --no-deps --no-binary :all: \
                "llama-cpp-python==$LLAMA_CPP_PYTHON" -d "$WORK/sdist"
    fi
    rm -rf "$WORK/llama_cpp_python-$LLAMA_CPP_PYTHON"
    tar -xzf "$tarball" -C "$WORK"
fi
[ -f "$src/tools/server/server.cpp" ] || { echo "no tools/server in $src" >&2; exit 1; }

cmake -S "$src" -B "$WORK/build" "${CMAKE_FLAGS[@]}" >"$WORK/cmake.log" 2>&1 ||
    { tail -n 30 "$WORK/cmake.log" >&2; echo "cmake failed: see $WORK/cmake.log" >&2; exit 1; }
cmake --build "$WORK/build" --target llama-server -j "$JOBS" >"$WORK/build.log" 2>&1 ||
    { tail -n 30 "$WORK/build.log" >&2; echo "build failed: see $WORK/build.log" >&2; exit 1; }

built="$WORK/build/bin/llama-server"
"$built" --version >/dev/null 2>&1 || { echo "$built does not run" >&2; exit 1; }
mkdir -p "$BIN_DIR"
chmod 700 "$DATA_DIR" "$BIN_DIR" 2>/dev/null || true
install -m 0700 "$built" "$SERVER.tmp"
mv -f "$SERVER.tmp" "$SERVER"
printf '%s\n' "$want_stamp" >"$STAMP"
chmod 600 "$STAMP"
echo "$SERVER"
