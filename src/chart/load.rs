//! Loading one chart file: size check, decoding, control-character check, then the
//! format's own loader (project JSON, plain text, FHIR R4 Bundle).

use super::encoding::{self, DecodeError};
use super::error::ChartError;
use super::sanitize;
use super::{fhir, json, text, Chart};
use std::path::Path;

/// Larger files are refused: no single encounter is that big, and a huge file would stall
/// the queue (and the NLP and prompt stages after it).
pub const MAX_CHART_BYTES: u64 = 20 * 1024 * 1024;

/// The formats a chart file can have, chosen by extension and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFormat {
    KarteJson,
    FhirBundle,
    PlainText,
}

/// Whether the queue should try to load this file at all (by extension).
pub fn is_chart_file(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("json" | "txt")
    )
}

/// Loads one chart file. Every failure names the file, what is wrong and what to do.
pub fn load(path: &Path) -> Result<Chart, ChartError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        ChartError::new(
            path,
            format!("cannot read the file ({e})"),
            "ファイルを読めません",
            "ファイルがあること、読む権限があることを確認してください",
        )
    })?;
    if !meta.is_file() {
        return Err(ChartError::new(
            path,
            "not a regular file",
            "通常のファイルではありません",
            "カルテのファイル (.json, .txt) をキューのフォルダに直接置いてください",
        ));
    }
    if meta.len() > MAX_CHART_BYTES {
        return Err(ChartError::new(
            path,
            format!(
                "the file is {:.1} MB, larger than the {} MB limit for one chart",
                meta.len() as f64 / 1_048_576.0,
                MAX_CHART_BYTES / 1_048_576
            ),
            format!(
                "ファイルが大きすぎます ({:.1} MB、上限 {} MB)",
                meta.len() as f64 / 1_048_576.0,
                MAX_CHART_BYTES / 1_048_576
            ),
            "1 ファイルに 1 回の受診分を書き出してください",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        ChartError::new(
            path,
            format!("cannot read the file ({e})"),
            "ファイルを読めません",
            "読む権限があることを確認してください",
        )
    })?;
    load_bytes(path, &bytes)
}

/// Loads a chart from bytes already read (`path` names it in errors and picks the format).
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<Chart, ChartError> {
    let (text, _encoding) = encoding::decode(bytes).map_err(|e| match e {
        DecodeError::Binary => ChartError::new(
            path,
            "the file is binary (it contains NUL bytes), not a chart",
            "バイナリファイルです (NUL を含む)。カルテではありません",
            "カルテを JSON、FHIR JSON またはテキストで書き出してください",
        ),
        DecodeError::Undecodable => ChartError::new(
            path,
            "the text is not valid UTF-8, Shift_JIS (CP932) or EUC-JP",
            "文字コードが UTF-8、Shift_JIS (CP932)、EUC-JP のどれでもありません",
            "UTF-8 か CP932 で書き出し直してください",
        ),
    })?;
    if let Some((offset, c)) = sanitize::find_control(&text) {
        let line = text.chars().take(offset).filter(|&c| c == '\n').count() + 1;
        return Err(ChartError::new(
            path,
            format!(
                "contains a terminal control sequence ({} on line {line})",
                sanitize::describe_control(c)
            ),
            format!(
                "端末の制御文字 (U+{:04X}) を含みます ({line} 行目)",
                u32::from(c)
            ),
            "画面を書き換えられないよう読み込みを止めました。制御文字を除いて書き出し直してください",
        ));
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "chart".into());
    match detect_format(path, &text) {
        ChartFormat::PlainText => Ok(text::from_plain_text(&stem, &text, file_time(path))),
        ChartFormat::FhirBundle => fhir::from_bundle_json(&text, &stem)
            .map_err(|problem| ChartError::new(path, problem, fhir::SUMMARY, fhir::HINT)),
        ChartFormat::KarteJson => json::from_json(&text)
            .map_err(|problem| ChartError::new(path, problem, json::SUMMARY, json::HINT)),
    }
}

fn detect_format(path: &Path, text: &str) -> ChartFormat {
    let is_txt = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"));
    if is_txt {
        return ChartFormat::PlainText;
    }
    // Cheap sniff; the loader itself validates properly.
    let head: String = text.chars().take(4096).collect();
    if head.contains("\"resourceType\"") {
        ChartFormat::FhirBundle
    } else {
        ChartFormat::KarteJson
    }
}

/// The file's modification time, used as the date of a plain-text note.
fn file_time(path: &Path) -> Option<chrono::NaiveDateTime> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let utc: chrono::DateTime<chrono::Utc> = modified.into();
    // Charts are in Japan Standard Time.
    Some((utc + chrono::Duration::hours(9)).naive_utc())
}
