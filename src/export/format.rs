//! One export, for every front end: the formats, the rendering of a signed document in a
//! format, the file names under `<data dir>/exports/`, and the writer (0600, atomic).
//! `karte export` and the review screen both go through here.

use crate::chart::Chart;
use crate::store::{chart_key, SignedDocument};
use std::path::{Path, PathBuf};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The letter / summary as plain text, ready to paste into the EHR.
    Text,
    /// A FHIR R4 document Bundle (JSON).
    Fhir,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Text, Format::Fhir];

    /// The name on the command line (`--format`) and in the audit log.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Fhir => "fhir",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Fhir => "fhir.json",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown export format \"{s}\" (text or fhir)"))
    }
}

/// `signed` rendered in `format` (the chart supplies the structured data).
pub fn render(
    signed: &SignedDocument,
    chart: &Chart,
    format: Format,
) -> Result<String, serde_json::Error> {
    Ok(match format {
        Format::Text => super::document_text(signed, chart),
        Format::Fhir => {
            let mut json = serde_json::to_string_pretty(&super::document_bundle(signed, chart))?;
            json.push('\n');
            json
        }
    })
}

/// Where the review screen's exports go: `<data_dir>/exports`.
pub fn exports_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("exports")
}

/// The export file name: which chart (made file-safe), document and version.
pub fn file_name(signed: &SignedDocument, format: Format) -> String {
    format!(
        "{}-{}-v{}.{}",
        chart_key(&signed.chart_id),
        signed.doc.as_str(),
        signed.version,
        format.extension()
    )
}

/// Writes an export: created 0600, replaced atomically.
pub fn write(path: &Path, body: &str) -> std::io::Result<()> {
    crate::paths::write_private_atomic(path, body.as_bytes())
}
