//! Edit-time metrics: event recorder (background writer), SQLite schema, per-document measures,
//! studies, report.
//!
//! - `Recorder` (recorder.rs, writer.rs, schema.rs): the UI thread records `EventKind`s about a
//!   `DocumentRef`; a background thread commits them to `metrics.sqlite3` in the data dir.
//! - `measures`: active time, reading/editing/waiting, keystrokes, characters, flags.
//! - `Study` (study.rs): arms and the seeded assignment of documents to arms.
//! - `report*`: the report (text, de-identified CSV, SVG figure) built from the DB.

pub mod config;
pub mod event;
pub mod measures;
pub mod pseudonym;
pub mod recorder;
pub mod report;
pub mod report_csv;
pub mod report_plot;
pub mod report_text;
pub mod schema;
pub mod stats;
pub mod study;
pub mod text_diff;
mod writer;

pub use config::{MetricsConfig, StudyConfig};
pub use event::{DocumentRef, EditKind, EventKind, FocusTarget, SignStats};
pub use pseudonym::PseudonymKey;
pub use recorder::{Recorder, RecorderHealth, RecorderOptions};
pub use report::{load_report, load_report_from, Report, ReportError, ReportOptions};
pub use schema::DB_FILE_NAME;
pub use study::{Arm, Study, StudyError};

/// Where the metrics DB lives for these paths.
pub fn db_path(paths: &crate::paths::AppPaths) -> std::path::PathBuf {
    paths.data_dir.join(DB_FILE_NAME)
}
