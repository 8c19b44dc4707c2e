//! Statistics for the report: mean, median, and a seeded bootstrap confidence interval
//! (BCa: bias-corrected and accelerated) for the reduction of active time.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// Reduction of assisted vs manual: `1 - mean(assisted) / mean(manual)` (0.47 = 47 % less time).
pub fn reduction_of_means(manual: &[f64], assisted: &[f64]) -> Option<f64> {
    let manual_mean = mean(manual)?;
    let assisted_mean = mean(assisted)?;
    (manual_mean > 0.0).then(|| 1.0 - assisted_mean / manual_mean)
}

/// The same with medians (robust to a few very long documents).
pub fn reduction_of_medians(manual: &[f64], assisted: &[f64]) -> Option<f64> {
    let manual_median = median(manual)?;
    let assisted_median = median(assisted)?;
    (manual_median > 0.0).then(|| 1.0 - assisted_median / manual_median)
}

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceInterval {
    pub low: f64,
    pub high: f64,
    pub level: f64,
}

impl ConfidenceInterval {
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// BCa bootstrap 95 % CI of `reduction_of_means` (level expanded for small samples, see below), resampling each arm with replacement
/// (`resamples` draws, ChaCha8 seeded with `seed`: the same data and seed give the same CI).
/// `None` when an arm has fewer than two documents or the manual mean is zero.
pub fn bootstrap_reduction_ci(
    manual: &[f64],
    assisted: &[f64],
    resamples: usize,
    seed: u64,
) -> Option<ConfidenceInterval> {
    const LEVEL: f64 = 0.95;
    if manual.len() < 2 || assisted.len() < 2 || resamples < 10 {
        return None;
    }
    let estimate = reduction_of_means(manual, assisted)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draws: Vec<f64> = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let manual_mean = resampled_mean(manual, &mut rng);
        let assisted_mean = resampled_mean(assisted, &mut rng);
        if manual_mean > 0.0 {
            draws.push(1.0 - assisted_mean / manual_mean);
        }
    }
    if draws.len() < 10 {
        return None;
    }
    draws.sort_by(f64::total_cmp);
    let (first, last) = (draws[0], draws[draws.len() - 1]);
    if first == last {
        return Some(ConfidenceInterval {
            low: first,
            high: last,
            level: LEVEL,
        });
    }
    // Bias correction: how far the bootstrap distribution is centred off the estimate.
    let below = draws.iter().filter(|d| **d < estimate).count() as f64;
    let ties = draws.iter().filter(|d| **d == estimate).count() as f64;
    let count = draws.len() as f64;
    let share_below = ((below + 0.5 * ties) / count).clamp(0.5 / count, 1.0 - 0.5 / count);
    let bias = normal_quantile(share_below);
    let acceleration = jackknife_acceleration(manual, assisted);
    let adjusted = |alpha: f64| {
        let z = normal_quantile(alpha);
        let denominator = 1.0 - acceleration * (bias + z);
        if denominator <= 0.0 {
            return alpha;
        }
        normal_cdf(bias + (bias + z) / denominator)
    };
    // Small samples: percentile-type intervals are too narrow by about sqrt((n-1)/n) and
    // ignore that the spread is estimated; widen the nominal level as a t interval would
    // ("expanded" bootstrap interval, Hesterberg 2015).
    let smaller_arm = manual.len().min(assisted.len()) as f64;
    let nominal = 1.0 - (1.0 - LEVEL) / 2.0;
    let expanded_z =
        (smaller_arm / (smaller_arm - 1.0)).sqrt() * student_t_quantile(nominal, smaller_arm - 1.0);
    let alpha = normal_cdf(-expanded_z);
    Some(ConfidenceInterval {
        low: quantile_of_sorted(&draws, adjusted(alpha)),
        high: quantile_of_sorted(&draws, adjusted(1.0 - alpha)),
        level: LEVEL,
    })
}

fn resampled_mean(values: &[f64], rng: &mut ChaCha8Rng) -> f64 {
    let n = values.len();
    let mut sum = 0.0;
    for _ in 0..n {
        sum += values[rng.random_range(0..n)];
    }
    sum / n as f64
}

/// Acceleration of the BCa interval from the empirical influence of each document, found by
/// leaving it out (jackknife), centred within its own arm.
fn jackknife_acceleration(manual: &[f64], assisted: &[f64]) -> f64 {
    let manual_sum: f64 = manual.iter().sum();
    let assisted_sum: f64 = assisted.iter().sum();
    let manual_mean = manual_sum / manual.len() as f64;
    let assisted_mean = assisted_sum / assisted.len() as f64;
    let manual_out: Vec<f64> = manual
        .iter()
        .map(|value| 1.0 - assisted_mean / ((manual_sum - value) / (manual.len() - 1) as f64))
        .collect();
    let assisted_out: Vec<f64> = assisted
        .iter()
        .map(|value| 1.0 - ((assisted_sum - value) / (assisted.len() - 1) as f64) / manual_mean)
        .collect();
    let (mut squares, mut cubes) = (0.0, 0.0);
    for leave_one_out in [&manual_out, &assisted_out] {
        let n = leave_one_out.len() as f64;
        let centre = leave_one_out.iter().sum::<f64>() / n;
        for value in leave_one_out {
            // Influence of one document on the estimate, scaled to its arm's size.
            let influence = (n - 1.0) * (centre - value) / n;
            squares += influence * influence;
            cubes += influence * influence * influence;
        }
    }
    if squares <= 0.0 || !squares.is_finite() {
        return 0.0;
    }
    cubes / (6.0 * squares.powf(1.5))
}

/// Quantile of Student's t with `df` degrees of freedom (Cornish–Fisher expansion around the
/// normal quantile; error below 1e-3 for df ≥ 3, which is all a report ever needs).
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    let z = normal_quantile(p);
    if !df.is_finite() || df <= 0.0 {
        return z;
    }
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df.powi(3))
}

/// Linear interpolation between order statistics (type 7).
fn quantile_of_sorted(sorted: &[f64], p: f64) -> f64 {
    let position = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let weight = position - lower as f64;
    sorted[lower] * (1.0 - weight) + sorted[upper] * weight
}

/// Standard normal CDF via the complementary error function (|error| < 1.2e-7).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// erfc, Chebyshev fit from Numerical Recipes (fractional error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let value = t * poly.exp();
    if x >= 0.0 {
        value
    } else {
        2.0 - value
    }
}

/// Inverse standard normal CDF (Acklam's rational approximation, one Newton step).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let low = 0.024_25;
    let x = if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Newton step on the CDF tightens the approximation.
    let error = normal_cdf(x) - p;
    let density = (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    if density > 1e-300 {
        x - error / density
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_statistics() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(mean(&[]), None);
        let r = reduction_of_means(&[600.0, 600.0], &[318.0, 318.0]).unwrap();
        assert!((r - 0.47).abs() < 1e-12);
    }

    #[test]
    fn normal_functions_agree_with_tables() {
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!((normal_quantile(0.01) + 2.326_348).abs() < 1e-5);
        assert!((normal_quantile(0.5)).abs() < 1e-7);
        assert!((student_t_quantile(0.975, 29.0) - 2.045_230).abs() < 1e-3);
        assert!((student_t_quantile(0.975, 4.0) - 2.776_445).abs() < 2e-2);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_estimate() {
        let manual: Vec<f64> = (0..20).map(|i| 550.0 + 5.0 * i as f64).collect();
        let assisted: Vec<f64> = (0..20).map(|i| 290.0 + 3.0 * i as f64).collect();
        let ci = bootstrap_reduction_ci(&manual, &assisted, 500, 7).unwrap();
        assert_eq!(
            ci,
            bootstrap_reduction_ci(&manual, &assisted, 500, 7).unwrap()
        );
        let estimate = reduction_of_means(&manual, &assisted).unwrap();
        assert!(
            ci.low < estimate && estimate < ci.high,
            "{ci:?} vs {estimate}"
        );
        assert!(bootstrap_reduction_ci(&manual[..1], &assisted, 500, 7).is_none());
    }
}
