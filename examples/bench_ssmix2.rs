//! Benchmark of the SS-MIX2 queue source (see scripts/bench-ssmix2.sh, which writes the
//! storage): how long the queue takes to show its first screen, to read every patient, and
//! how long one patient's charts take to load.
//!
//!     cargo run --example bench_ssmix2 -- ROOT [SAMPLES]

use karte::chart::ssmix2::{self, storage};
use karte::chart::Queue;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next().map(PathBuf::from) else {
        eprintln!("usage: bench_ssmix2 ROOT [SAMPLES]");
        std::process::exit(2);
    };
    let samples: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200);

    let spec = PathBuf::from(format!("ssmix2:{}", root.display()));
    let started = Instant::now();
    let mut queue = match Queue::scan(&spec) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let first_screen = started.elapsed();
    let first_rows = queue.entries().len();
    while !queue.is_complete() {
        queue.rescan();
    }
    let all = started.elapsed();
    let rows = queue.entries().len();

    let mut skipped = Vec::new();
    let listing = Instant::now();
    let patients = storage::list_patients(&root, &mut skipped).unwrap_or_default();
    let listing = listing.elapsed();
    let step = (patients.len() / samples.max(1)).max(1);
    let mut times: Vec<Duration> = Vec::new();
    for pid in patients.iter().step_by(step).take(samples) {
        let t = Instant::now();
        let record = ssmix2::read_patient(&storage::patient_dir(&root, pid));
        let charts = record.map(|r| ssmix2::charts(&r)).unwrap_or_default();
        times.push(t.elapsed());
        std::hint::black_box(charts);
    }
    times.sort();
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "patients                  {} (listing the folders: {:.0} ms, done again on each rescan)",
        patients.len(),
        ms(listing)
    );
    println!(
        "first screen              {:.0} ms ({first_rows} rows)",
        ms(first_screen)
    );
    println!("every patient read        {:.0} ms ({rows} rows)", ms(all));
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.trim_start_matches("VmRSS:").trim().to_owned())
        })
        .unwrap_or_else(|| "?".into());
    println!("memory with every row     {rss} (resident)");
    println!(
        "one patient's charts      median {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} samples)",
        ms(pct(0.5)),
        ms(pct(0.95)),
        ms(pct(1.0)),
        times.len()
    );
}
