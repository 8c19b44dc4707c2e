//! Benchmark (issue 3: keystrokes handled < 50 ms while the model generates): the real
//! `karte` binary in tmux with the default model; a key (`?`, the help overlay) is sent and
//! the time until the screen shows its effect is measured, first with the model idle, then
//! while a referral letter streams. The figure includes tmux's own round trip (one
//! `send-keys` and the `capture-pane` polls), printed as the floor.
//!
//! Not part of the test suite (ignored): `scripts/bench-keys.sh` runs it on an optimized
//! build and prints the table in the README.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod e2e_support;

use e2e_support::{default_model, Karte, Tmux};
use std::time::{Duration, Instant};

const SESSION: &str = "bench";
const SAMPLES: usize = 40;
const HELP: &str = "キー操作";
const GENERATING: &str = "生成中…";

/// Sends `key` and polls until `done` holds for the screen: the latency.
fn latency(tmux: &Tmux, key: &str, done: impl Fn(&str) -> bool) -> Duration {
    let start = Instant::now();
    tmux.keys(SESSION, &[key]);
    loop {
        if done(&tmux.screen(SESSION)) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no reaction to {key}:\n{}",
            tmux.screen(SESSION)
        );
    }
}

/// One open-and-close of the help overlay: two latencies.
fn toggle_help(tmux: &Tmux) -> [Duration; 2] {
    let open = latency(tmux, "?", |s| s.contains(HELP));
    let close = latency(tmux, "?", |s| !s.contains(HELP));
    [open, close]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| ms(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    println!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} |",
        samples.len(),
        at(0.5),
        at(0.95),
        ms(*samples.last().unwrap())
    );
}

#[test]
#[ignore = "benchmark: scripts/bench-keys.sh"]
fn keystroke_latency_idle_and_while_generating() {
    let tmux = Tmux::new("bench-keys");
    tmux.start(
        SESSION,
        &Karte {
            home: &tmux.home.path().join("karte"),
            queue: &tmux.queue,
            model: &default_model(),
            size: (120, 30),
            tty_modes: false,
        },
    );
    tmux.wait_for(SESSION, "the model", |s| s.contains("モデル準備完了"));
    tmux.keys(SESSION, &["Enter"]);
    std::thread::sleep(Duration::from_millis(500));

    // The floor: what polling the screen alone costs.
    let floor: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            tmux.screen(SESSION);
            start.elapsed()
        })
        .collect();

    let mut idle = Vec::new();
    for _ in 0..SAMPLES / 2 {
        idle.extend(toggle_help(&tmux));
        std::thread::sleep(Duration::from_millis(100));
    }

    tmux.keys(SESSION, &["d"]);
    tmux.wait_for(SESSION, "the draft to stream", |s| s.contains(GENERATING));
    let mut generating = Vec::new();
    while generating.len() < SAMPLES {
        let pair = toggle_help(&tmux);
        // Only samples taken while the model was still generating count.
        if !tmux.screen(SESSION).contains(GENERATING) {
            break;
        }
        generating.extend(pair);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        generating.len() >= 10,
        "the draft ended before enough samples ({}); use a slower build or more tokens",
        generating.len()
    );

    println!("\n| keystroke → screen (`?` help open/close) | n | p50 ms | p95 ms | max ms |");
    println!("| --- | --- | --- | --- | --- |");
    summary("tmux capture alone (floor)", floor);
    summary("model idle", idle);
    summary("while a draft streams", generating);
    tmux.keys(SESSION, &["x"]);
}
