#!/usr/bin/env bash
# Embedded engines vs one llama-server, side by side: for N = 1, 2, 4, 8 concurrent drafts of
# different demo charts,
#   (a) N `karte draft` processes, each with its own embedded llama.cpp (threads split fairly
#       over the cores: max(1, cores / N) each);
#   (b) N `karte draft` processes as clients of one llama-server started with --parallel N
#       (all cores, --ctx-size N × CTX so each slot has CTX tokens).
# Reported per arm: aggregate generated tokens/s (all sections of all drafts, over the time
# from the first draft's start to the last draft's end), p50/p95 time to first token of each
# section, p95 gap between two streamed pieces (as the client saw them), and the peak of the
# total PSS of every process of the arm (karte processes, plus llama-server for (b);
# PSS, not RSS: the model file is shared through mmap).
#
#   scripts/bench-server.sh                    # N="1 2 4 8" MAX_TOKENS=64
#   N="1 8" MAX_TOKENS=32 scripts/bench-server.sh
#   ARMS=b N=8 scripts/bench-server.sh        # only the server arm
#   SERVER_ARGS="--cache-ram 0" scripts/bench-server.sh   # more llama-server flags (here: no
#                                             # host-memory prompt cache, llama-server's 8 GiB default)
set -euo pipefail

cd "$(dirname "$0")/.."
MODEL=${MODEL:-${XDG_DATA_HOME:-$HOME/.local/share}/karte/models/gemma-3-270m-q4_k_m.gguf}
N_LIST=${N:-1 2 4 8}
MAX_TOKENS=${MAX_TOKENS:-64}
# The narrative sections of the discharge summary each draft writes (the first one is cold,
# the next ones reuse the cached chart prefix); empty: the whole document.
SECTIONS=${SECTIONS:-hospital_course discharge_condition}
CTX=${CTX:-8192}
KARTE=${KARTE:-target/release/karte}

[ -f "$MODEL" ] || { echo "model $MODEL not found: run \`karte setup\`" >&2; exit 1; }
SERVER=$(scripts/build-llama-server.sh)
if [ ! -x "$KARTE" ]; then
    echo "building karte (release)" >&2
    cargo build --release --quiet
fi

python3 - "$KARTE" "$SERVER" "$MODEL" "$MAX_TOKENS" "$CTX" "$SECTIONS" $N_LIST <<'EOF'
import functools, json, os, selectors, socket, statistics, subprocess, sys, tempfile, time, urllib.request

print = functools.partial(print, flush=True)
karte, server_bin, model, max_tokens, ctx = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
sections = sys.argv[6].split()
arms = os.environ.get("ARMS", "ab")
n_list = [int(n) for n in sys.argv[7:]]
cores = os.cpu_count() or 1
charts = sorted(os.path.join("fixtures/demo", f) for f in os.listdir("fixtures/demo") if f.endswith(".json"))

def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)

def home_with(config):
    home = tempfile.mkdtemp(prefix="karte-bench-")
    os.makedirs(os.path.join(home, "config"), mode=0o700)
    with open(os.path.join(home, "config", "config.toml"), "w") as f:
        f.write(config)
    return home

def run_drafts(n, home, threads, extra_pids):
    env = dict(os.environ, KARTE_HOME=home, RUST_LOG="warn")
    procs = []
    sel = selectors.DefaultSelector()
    for i in range(n):
        # `free`: the whole-chart prompt, so the second section reuses the cached chart
        # prefix (grounded prompts carry one section's evidence; the course is composed).
        cmd = [karte, "draft", charts[i % len(charts)], "--doc", "discharge", "--json",
               "--mode", "free", "--seed", str(i), "--max-tokens", str(max_tokens)]
        if threads:
            cmd += ["--threads", str(threads)]
        for key in sections:
            cmd += ["--section", key]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        procs.append(p)
        sel.register(p.stdout, selectors.EVENT_READ, i)
    buffers = [b""] * n
    last_piece = [None] * n
    gaps, ttfts, generated, server_tps, client_tps = [], [], 0, [], []
    cold_ttfts, warm_ttfts, seen_sections = [], [], [0] * n
    first_start, last_end, open_count, peak_pss = None, None, n, 0
    errors = []
    next_sample = 0
    while open_count:
        now = time.monotonic()
        if now >= next_sample:
            total = sum(pss_kib(p.pid) for p in procs if p.poll() is None) + sum(pss_kib(pid) for pid in extra_pids)
            peak_pss = max(peak_pss, total)
            next_sample = now + 0.2
        for key, _ in sel.select(timeout=0.05):
            i = key.data
            chunk = os.read(key.fileobj.fileno(), 65536)
            t = time.monotonic()
            if not chunk:
                sel.unregister(key.fileobj)
                open_count -= 1
                continue
            buffers[i] += chunk
            *lines, buffers[i] = buffers[i].split(b"\n")
            for line in lines:
                if not line.strip():
                    continue
                e = json.loads(line)
                kind = e.get("event")
                if kind == "started":
                    first_start = t if first_start is None else min(first_start, t)
                elif kind == "token":
                    if last_piece[i] is not None:
                        gaps.append((t - last_piece[i]) * 1000)
                    last_piece[i] = t
                elif kind == "section":
                    last_piece[i] = None
                    timing = e.get("timing")
                    if timing:
                        generated += timing["generated_tokens"]
                        ttfts.append(timing["ttft_ms"])
                        (warm_ttfts if seen_sections[i] else cold_ttfts).append(timing["ttft_ms"])
                        seen_sections[i] += 1
                        client_tps.append(timing["tokens_per_s"])
                        if timing.get("server_tokens_per_s"):
                            server_tps.append(timing["server_tokens_per_s"])
                elif kind == "finished":
                    last_end = t
    for p in procs:
        p.wait()
        if p.returncode != 0:
            errors.append(p.stderr.read().decode(errors="replace").strip()[-300:])
    span = (last_end or time.monotonic()) - (first_start or 0)
    return dict(tps=generated / span if span > 0 else 0, generated=generated, span=span,
                ttft50=pct(ttfts, 50), ttft95=pct(ttfts, 95), gap95=pct(gaps, 95),
                pss_mib=peak_pss / 1024, errors=errors, cold=pct(cold_ttfts, 50), warm=pct(warm_ttfts, 50), server_tps=server_tps, client_tps=client_tps)

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def start_server(n):
    port = free_port()
    p = subprocess.Popen([server_bin, "-m", model, "--host", "127.0.0.1", "--port", str(port),
                          "--parallel", str(n), "--ctx-size", str(ctx * n), "--threads", str(cores),
                          "--no-webui", "--no-repack", *os.environ.get("SERVER_ARGS", "").split()],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return p, port
        except Exception:
            time.sleep(0.2)
    p.kill()
    raise SystemExit("llama-server did not start")

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
print(f"CPU {cpu} ({cores} cores{', AMX' if 'amx_tile' in flags else ''}), model {os.path.basename(model)}, "
      f"{max_tokens} tokens per section, {ctx} context tokens per draft")
print(f"{'N':>2} {'arm':<26} {'tok/s':>7} {'TTFT p50':>9} {'TTFT p95':>9} {'gap p95':>8} {'PSS MiB':>8}  TTFT cold / cached prefix (p50)")
rows = {}
for n in n_list:
    threads = max(1, cores // n)
    home = home_with(f'model = "{model}"\n[llm]\ncontext_length = {ctx}\n')
    a = run_drafts(n, home, threads, []) if "a" in arms else None
    server, port = start_server(n)
    try:
        # Eight cold chart prompts at once on a busy 2-core machine take minutes to the first token.
        home = home_with(f'model = "{model}"\n[llm]\nserver = "http://127.0.0.1:{port}"\n'
                         'first_token_timeout_s = 3600\nidle_timeout_s = 600\n')
        b = run_drafts(n, home, None, [server.pid])
    finally:
        server.kill()
        server.wait()
    rows[n] = (a, b)
    for name, r in ((f"(a) {n} embedded × {threads} thr", a), (f"(b) llama-server -np {n}", b)):
        if r is None:
            continue
        print(f"{n:>2} {name:<26} {r['tps']:7.1f} {r['ttft50']:7.0f}ms {r['ttft95']:7.0f}ms {r['gap95']:6.0f}ms {r['pss_mib']:8.0f}  {r['cold']:.0f} / {r['warm']:.0f} ms"
              + (f"  ERRORS: {r['errors']}" if r["errors"] else ""))
if 8 in rows and rows[8][0]:
    a, b = rows[8]
    print(f"N=8: (b)/(a) tokens/s {b['tps'] / a['tps']:.2f}× (target ≥ 1.5×), PSS {b['pss_mib'] / a['pss_mib']:.2f} of (a) (target ≤ 0.33)")
if 1 in rows:
    b = rows[1][1]
    if b["server_tps"]:
        ratio = statistics.mean(b["client_tps"]) / statistics.mean(b["server_tps"])
        print(f"N=1: karte's tokens/s through the server = {ratio:.1%} of what llama-server reports (target ≥ 95%)")
EOF
