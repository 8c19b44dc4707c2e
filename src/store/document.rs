//! Which document of which chart: the names and folders shared by the journal and signed versions.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The two documents karte drafts (one type for the whole crate; `DocKind` is the store's
/// historical name for it).
pub use crate::draft::DocumentKind;
/// The old name of [`DocumentKind`], kept for code written before it was unified.
pub use crate::draft::DocumentKind as DocKind;

/// The key of the text above a document's first heading (a section without a heading line).
pub const PREAMBLE_KEY: &str = "preamble";

/// One section of a document as the clinician sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionText {
    /// Stable key from the template, e.g. `hospital_course`.
    pub key: String,
    /// Heading shown and exported, e.g. 入院経過.
    #[serde(default)]
    pub heading: String,
    pub text: String,
}

impl SectionText {
    pub fn new(
        key: impl Into<String>,
        heading: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            key: key.into(),
            heading: heading.into(),
            text: text.into(),
        }
    }
}

/// A file-name-safe key for a chart id: the id itself when it is plain ASCII, else a hash.
/// (Chart ids come from files and may hold anything, including `/` or `..`.)
pub fn chart_key(chart_id: &str) -> String {
    let plain = !chart_id.is_empty()
        && chart_id.len() <= 100
        && !chart_id.starts_with('.')
        && chart_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if plain {
        chart_id.to_string()
    } else {
        let digest = Sha256::digest(chart_id.as_bytes());
        format!("h-{}", &hex::encode(digest)[..32])
    }
}

/// Where one user's documents live (below the data dir).
#[derive(Debug, Clone)]
pub struct DocumentStore {
    root: PathBuf,
}

impl DocumentStore {
    /// `data_dir` is `AppPaths::data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("documents"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Folder of one document of one chart (journal and signed versions).
    pub fn document_dir(&self, chart_id: &str, doc: DocKind) -> PathBuf {
        self.root.join(chart_key(chart_id)).join(doc.as_str())
    }

    pub fn journal_path(&self, chart_id: &str, doc: DocKind) -> PathBuf {
        self.document_dir(chart_id, doc).join("journal.log")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_keys_are_safe_file_names() {
        assert_eq!(chart_key("demo-001"), "demo-001");
        let odd = chart_key("../../etc/passwd");
        assert!(odd.starts_with("h-") && !odd.contains('/'), "{odd}");
        assert_ne!(chart_key("患者1"), chart_key("患者2"));
        assert!(chart_key("").starts_with("h-"));
    }

    #[test]
    fn doc_kinds_parse() {
        assert_eq!("discharge".parse::<DocKind>().unwrap(), DocKind::Discharge);
        assert_eq!("Referral".parse::<DocKind>().unwrap(), DocKind::Referral);
        assert!("letterx"
            .parse::<DocKind>()
            .unwrap_err()
            .contains("discharge or referral"));
    }
}
