//! One export, for every front end: the formats, the rendering of a signed document in a
//! format, the file names under `<data dir>/exports/`, and the writer (0600, atomic).
//! `karte export` and the review screen both go through here; they differ only in where
//! the bytes go (`-o FILE` or standard output; the exports dir) and in how they word a
//! [`Notice`].

use super::fhir::ClinsError;
use super::hospital::{HospitalConfig, HospitalError};
use super::pdf::{self, PdfError};
use crate::chart::Chart;
use crate::store::{chart_key, SignedDocument};
use std::path::{Path, PathBuf};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The letter / summary as plain text, ready to paste into the EHR.
    Text,
    /// A JP-CLINS FHIR R4 document Bundle (JSON).
    Fhir,
    /// The printable A4 letter (別紙様式11 / 退院時サマリー).
    Pdf,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Text, Format::Fhir, Format::Pdf];

    /// The name on the command line (`karte export --format`) and in the audit log.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Fhir => "fhir",
            Format::Pdf => "pdf",
        }
    }

    /// The file extension of an export in this format (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Fhir => "fhir.json",
            Format::Pdf => "pdf",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown export format \"{s}\" (text, fhir or pdf)"))
    }
}

/// A document rendered in a format, and what the clinician should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub notice: Option<Notice>,
}

/// Something the export could not carry as written (the document is still exported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// PDF: characters the font lacks, printed as [`pdf::REPLACEMENT`] (in order of first use).
    UnprintedChars(String),
    /// FHIR: the JP-CLINS required items the chart lacks (`ClinsExport::missing_summary`).
    MissingClinsData(String),
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::UnprintedChars(chars) => write!(
                f,
                "フォントにない文字を {} で印字しました: {chars}",
                pdf::REPLACEMENT
            ),
            Notice::MissingClinsData(summary) => write!(
                f,
                "JP-CLINS の必須コードがカルテにありません（送信前に確認）: {summary}"
            ),
        }
    }
}

/// Why a signed document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// FHIR and PDF need the `[hospital]` settings.
    #[error(transparent)]
    Hospital(HospitalError),
    /// PDF: no usable Japanese font.
    #[error(transparent)]
    Font(PdfError),
    /// PDF: the letter cannot be laid out (e.g. no addressee).
    #[error(transparent)]
    Print(PdfError),
    /// FHIR: the Bundle cannot be built (e.g. no addressee).
    #[error(transparent)]
    Clins(ClinsError),
    #[error("FHIR JSON を作れません: {0}")]
    Json(serde_json::Error),
}

/// `signed` rendered in `format`; the chart supplies the structured data, `hospital` the
/// sender (resolved only for the formats that need it). The PDF font is found with
/// [`pdf::find_font`] (before the hospital settings are checked).
pub fn render(
    format: Format,
    signed: &SignedDocument,
    chart: &Chart,
    hospital: &HospitalConfig,
) -> Result<Rendered, RenderError> {
    Ok(match format {
        Format::Text => Rendered {
            bytes: super::document_text(signed, chart).into_bytes(),
            notice: None,
        },
        Format::Pdf => {
            let font = pdf::find_font().map_err(RenderError::Font)?;
            let hospital = hospital.resolve().map_err(RenderError::Hospital)?;
            let letter =
                pdf::letter_pdf(signed, chart, &hospital, &font).map_err(RenderError::Print)?;
            Rendered {
                notice: (!letter.replaced.is_empty())
                    .then(|| Notice::UnprintedChars(letter.replaced.iter().collect())),
                bytes: letter.bytes,
            }
        }
        Format::Fhir => {
            let hospital = hospital.resolve().map_err(RenderError::Hospital)?;
            let export =
                super::document_bundle(signed, chart, &hospital).map_err(RenderError::Clins)?;
            let missing = export.missing_summary();
            let mut json =
                serde_json::to_string_pretty(&export.bundle).map_err(RenderError::Json)?;
            json.push('\n');
            Rendered {
                bytes: json.into_bytes(),
                notice: (!missing.is_empty()).then_some(Notice::MissingClinsData(missing)),
            }
        }
    })
}

/// Where the review screen's exports go: `<data_dir>/exports`.
pub fn exports_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("exports")
}

/// The export file name: which chart (made file-safe), document and version, and the
/// format's extension.
pub fn file_name(signed: &SignedDocument, format: Format) -> String {
    format!(
        "{}-{}-v{}.{}",
        chart_key(&signed.chart_id),
        signed.doc.as_str(),
        signed.version,
        format.extension()
    )
}

/// Writes an export to `path`: created 0600 (its folder 0700), replaced atomically, so a
/// reader never sees a partial file.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::paths::write_private_atomic(path, bytes)
}

/// Why an export could not be written into the exports dir.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("書き出し先 {} を作れません: {source}", .dir.display())]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{} に書き出せません: {source}", .path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes `bytes` (`signed` rendered in `format`) into `<data_dir>/exports/` under
/// [`file_name`]; returns the file's path.
pub fn write_into_exports(
    data_dir: &Path,
    signed: &SignedDocument,
    format: Format,
    bytes: &[u8],
) -> Result<PathBuf, WriteError> {
    let dir = exports_dir(data_dir);
    crate::paths::create_private_dir(&dir).map_err(|source| WriteError::Dir {
        dir: dir.clone(),
        source,
    })?;
    let path = dir.join(file_name(signed, format));
    write(&path, bytes).map_err(|source| WriteError::File {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_extensions_differ() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
        }
        assert!("docx".parse::<Format>().is_err());
        let extensions: std::collections::BTreeSet<_> =
            Format::ALL.iter().map(|f| f.extension()).collect();
        assert_eq!(extensions.len(), Format::ALL.len());
    }
}
