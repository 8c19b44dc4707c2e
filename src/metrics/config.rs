//! The `[metrics]` and `[study]` sections of config.toml.

use serde::{Deserialize, Serialize};

/// `[metrics]`: how events are measured and buffered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Record events at all (a clinician may opt out outside a study).
    pub enabled: bool,
    /// A pause between two input events longer than this counts only this long (seconds).
    pub idle_threshold_secs: f64,
    /// Events kept in memory while the DB cannot be written (oldest dropped beyond).
    pub buffer_capacity: usize,
    /// Seconds between attempts to reopen an unusable DB.
    pub retry_secs: f64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            idle_threshold_secs: 30.0,
            buffer_capacity: 50_000,
            retry_secs: 5.0,
        }
    }
}

/// `[study]`: a time study comparing arms (see `metrics::Study`, which validates it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudyConfig {
    /// Name under which documents are recorded and reported (`karte report --study NAME`).
    pub name: String,
    /// Arms taking part: `manual` and `assisted`.
    pub arms: Vec<String>,
    /// What is randomized: `document` (default) or `chart` (all documents of a chart alike).
    pub unit: Option<String>,
    /// Seed of the assignment; required so the assignment is reproducible.
    pub seed: Option<u64>,
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn sections_parse_and_default() {
        let config = Config::parse(
            "[metrics]\nidle_threshold_secs = 45\n[study]\nname = \"pilot\"\narms = [\"manual\", \"assisted\"]\nseed = 7\n",
        )
        .unwrap();
        assert_eq!(config.metrics.idle_threshold_secs, 45.0);
        assert_eq!(config.metrics.buffer_capacity, 50_000);
        let study = config.study.unwrap();
        assert_eq!(study.seed, Some(7));
        assert_eq!(study.arms, ["manual", "assisted"]);
        assert!(Config::parse("").unwrap().study.is_none());
        assert!(Config::parse("[metrics]\nidle = 3").is_err());
    }
}
