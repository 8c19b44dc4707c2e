//! Why a chart file could not be loaded, said so a clinician or IT can act on it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A chart file that could not be loaded: which file, what is wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError {
    pub path: PathBuf,
    /// What is wrong, technically and verbatim (parser messages; the CLI and logs).
    pub problem: String,
    /// What is wrong, in Japanese for the clinician (the queue row, the chart pane).
    pub summary: String,
    /// What to do (Japanese; file, field and key names verbatim).
    pub hint: String,
}

impl ChartError {
    pub fn new(
        path: &Path,
        problem: impl Into<String>,
        summary: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            path: path.to_path_buf(),
            problem: problem.into(),
            summary: summary.into(),
            hint: hint.into(),
        }
    }

    /// The file name alone, for narrow places like a queue row.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} — {}",
            self.path.display(),
            self.problem,
            self.hint
        )
    }
}

impl std::error::Error for ChartError {}
