//! Loads the time-study report for the Metrics screen off the UI thread (SQLite reads and
//! the bootstrap take a moment) and hands it over as `Action::MetricsLoaded`.

use crate::metrics::{self, PseudonymKey, ReportOptions};
use crate::tui::action::Action;
use crate::tui::workers::ActionSender;
use std::path::PathBuf;
use std::sync::Arc;

/// What a report load needs; cheap to clone into a blocking task.
#[derive(Debug, Clone)]
pub struct MetricsReportLoader {
    pub db_path: PathBuf,
    /// The pseudonym key lives in the data dir (created on first use, 0600).
    pub data_dir: PathBuf,
    pub options: ReportOptions,
}

impl MetricsReportLoader {
    pub fn from_context(ctx: &crate::context::Context) -> Self {
        let study = ctx.config.study.as_ref().map(|s| s.name.as_str());
        Self {
            db_path: metrics::db_path(&ctx.paths),
            data_dir: ctx.paths.data_dir.clone(),
            options: ReportOptions::from_config(&ctx.config.metrics, study),
        }
    }

    /// The report, or the error's text (no DB yet, nothing signed, DB locked…).
    pub fn load(&self) -> Result<Arc<metrics::Report>, String> {
        let key = PseudonymKey::load_or_create(&self.data_dir).map_err(|e| e.to_string())?;
        metrics::load_report(&self.db_path, &self.options, &key)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    }

    /// Loads on a blocking thread and sends the result; returns at once.
    pub fn spawn(&self, actions: ActionSender) {
        let loader = self.clone();
        tokio::task::spawn_blocking(move || {
            let _ = actions.send(Action::MetricsLoaded(loader.load()));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_is_a_message_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let loader = MetricsReportLoader {
            db_path: dir.path().join("metrics.sqlite3"),
            data_dir: dir.path().to_path_buf(),
            options: ReportOptions::default(),
        };
        let message = loader.load().unwrap_err();
        assert!(!message.is_empty());
    }
}
