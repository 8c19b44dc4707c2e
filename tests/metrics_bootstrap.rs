//! Coverage check of the bootstrap: on simulated noisy active times with a known true
//! reduction, the 95 % CI must contain the true value in at least 93 % of 1,000 seeded
//! repetitions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::metrics::stats::{bootstrap_reduction_ci, reduction_of_means};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const REPETITIONS: usize = 1_000;
const RESAMPLES: usize = 400;
const DOCUMENTS_PER_ARM: usize = 30;
const MANUAL_MEAN: f64 = 600.0;
const ASSISTED_MEAN: f64 = 318.0;
/// Log-scale spread: right-skewed durations with a coefficient of variation of about 35 %.
const SIGMA: f64 = 0.34;

/// Log-normal draw with the given arithmetic mean (Box–Muller for the normal).
fn log_normal(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    let mu = mean.ln() - SIGMA * SIGMA / 2.0;
    (mu + SIGMA * normal).exp()
}

#[test]
fn bootstrap_ci_covers_the_true_reduction() {
    let truth = 1.0 - ASSISTED_MEAN / MANUAL_MEAN;
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut covered = 0;
    let mut width_sum = 0.0;
    for repetition in 0..REPETITIONS {
        let manual: Vec<f64> = (0..DOCUMENTS_PER_ARM)
            .map(|_| log_normal(&mut rng, MANUAL_MEAN))
            .collect();
        let assisted: Vec<f64> = (0..DOCUMENTS_PER_ARM)
            .map(|_| log_normal(&mut rng, ASSISTED_MEAN))
            .collect();
        let estimate = reduction_of_means(&manual, &assisted).unwrap();
        let ci = bootstrap_reduction_ci(&manual, &assisted, RESAMPLES, repetition as u64).unwrap();
        assert!(
            ci.low <= estimate && estimate <= ci.high,
            "{ci:?} {estimate}"
        );
        width_sum += ci.high - ci.low;
        if ci.contains(truth) {
            covered += 1;
        }
    }
    let coverage = covered as f64 / REPETITIONS as f64;
    println!(
        "coverage {:.1}% over {REPETITIONS} repetitions, mean CI width {:.1} points",
        coverage * 100.0,
        width_sum / REPETITIONS as f64 * 100.0
    );
    assert!(coverage >= 0.93, "coverage {coverage}");
    // An interval that covers by being uselessly wide would not help anyone.
    assert!(width_sum / (REPETITIONS as f64) < 0.25);
}
