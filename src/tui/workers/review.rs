//! The disk side of reviewing, for the event loop: acknowledging a guard finding, signing,
//! reading what is signed when a document opens, writing exports into the data dir's
//! `exports/` (through `crate::export`, as `karte export` does), and writing the OSC 52
//! clipboard sequence to the terminal. `update` never calls these; it asks with `Effect`s.

use crate::chart::Chart;
use crate::export::{self, osc52_for_terminal, Format, HospitalConfig};
use crate::store::{
    self, chart_fingerprint, AuditAction, DocumentSession, DocumentStore, SectionText,
    SessionError, SignedDocument,
};
use crate::tui::action::Action;
use crate::tui::state::document_state::DocumentKind;
use crate::tui::workers::document::DocumentService;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the review screen's exports go: `<data_dir>/exports`.
pub use crate::export::exports_dir;
/// The one [`Format`], under the name older callers (tests) know.
pub use crate::export::Format as ExportFormat;

/// Writes `signed` as `format` into `<data_dir>/exports/` (`export::render`, then
/// `export::write_into_exports`) and returns the file's path and the notice for the screen
/// (empty: none; for FHIR the required JP-CLINS items the chart lacked, for PDF the
/// characters the font lacks).
pub fn export_signed(
    data_dir: &Path,
    signed: &SignedDocument,
    chart: &Chart,
    format: Format,
    hospital: &HospitalConfig,
) -> Result<(PathBuf, String), String> {
    let rendered =
        export::render(format, signed, chart, hospital).map_err(|error| error.to_string())?;
    let path = export::write_into_exports(data_dir, signed, format, &rendered.bytes)
        .map_err(|error| error.to_string())?;
    let notice = rendered
        .notice
        .map_or_else(String::new, |notice| notice.to_string());
    Ok((path, notice))
}

/// Export for the event loop: the file, an audit entry, and the status message.
pub fn export(
    documents: Option<&DocumentService>,
    chart: &Chart,
    signed: &SignedDocument,
    format: Format,
) -> Action {
    let Some(documents) = documents else {
        return Action::Status("書き出し先 (データフォルダ) が設定されていません".into());
    };
    match export_signed(
        documents.data_dir(),
        signed,
        chart,
        format,
        documents.hospital(),
    ) {
        Ok((path, warning)) => {
            let document = signed.doc;
            if let Some(session) = documents.session(&signed.chart_id, document) {
                if let Err(error) = session.record(AuditAction::Exported {
                    version: signed.version,
                    format: format.name().into(),
                }) {
                    tracing::warn!("cannot record an export in the audit log: {error}");
                }
            }
            if warning.is_empty() {
                Action::Status(format!("書き出しました: {}", path.display()))
            } else {
                Action::Status(format!(
                    "書き出しました: {} — 注意: {warning}",
                    path.display()
                ))
            }
        }
        Err(message) => Action::Status(message),
    }
}

/// The audit entry of a copy to the clipboard (format `osc52`, the version copied).
pub fn record_clipboard_copy(
    service: &DocumentService,
    chart_id: &str,
    document: DocumentKind,
) -> Option<Action> {
    let session = service.session(chart_id, document)?;
    let version = session.latest_signed().ok().flatten()?.version;
    session
        .record(AuditAction::Exported {
            version,
            format: "osc52".into(),
        })
        .err()
        .map(|error| {
            tracing::warn!("cannot record a clipboard copy in the audit log: {error}");
            Action::Status(format!(
                "コピーを監査ログに記録できません: {}",
                one_line(&error.to_string())
            ))
        })
}

/// Records an acknowledgement or its withdrawal; `Some` is a message when it could not be
/// recorded.
pub fn acknowledge(
    documents: Option<&DocumentService>,
    chart_id: &str,
    document: DocumentKind,
    item_id: &str,
    withdraw: bool,
) -> Option<Action> {
    record_in_session(
        documents,
        chart_id,
        document,
        "確認の記録に失敗しました (画面上は確認済み)",
        |session| session.acknowledge(item_id, withdraw),
    )
}

/// Journals a section's accept mark; `Some` is a message when it could not be recorded.
pub fn mark_accepted(
    documents: Option<&DocumentService>,
    chart_id: &str,
    document: DocumentKind,
    heading: &str,
    accepted: bool,
) -> Option<Action> {
    record_in_session(
        documents,
        chart_id,
        document,
        "確認済みの印を記録できません (画面上は反映済み)",
        |session| {
            let key = documents.map_or_else(
                || heading.to_string(),
                |d| d.templates().get(document).section_key(heading),
            );
            session.mark_accepted(&key, accepted)
        },
    )
}

/// Runs `record` on the open document's session; a status message (`failure: why`) when
/// it is not open or the record fails.
fn record_in_session(
    documents: Option<&DocumentService>,
    chart_id: &str,
    document: DocumentKind,
    failure: &str,
    record: impl FnOnce(&DocumentSession) -> Result<(), SessionError>,
) -> Option<Action> {
    let result = match documents.and_then(|d| d.session(chart_id, document)) {
        Some(session) => record(session).map_err(|e| e.to_string()),
        None => Err("文書が開かれていません".into()),
    };
    result
        .err()
        .map(|error| Action::Status(format!("{failure}: {}", one_line(&error))))
}

/// Signs the open document; the answer for the screen.
pub fn sign(
    documents: Option<&DocumentService>,
    chart: &Chart,
    document: DocumentKind,
    sections: &[SectionText],
    acknowledged: Vec<String>,
) -> Action {
    let session = documents.and_then(|d| d.session(&chart.id, document));
    let result = match session {
        Some(session) => session
            .sign(
                document.title(),
                sections,
                Some(chart_fingerprint(chart)),
                acknowledged,
            )
            .map(Box::new)
            .map_err(|e| one_line(&e.to_string())),
        None => Err("文書が開かれていません (i で開いてから署名してください)".into()),
    };
    Action::Signed {
        chart_id: chart.id.clone(),
        document,
        result,
    }
}

/// What the store holds for a document just opened (newest signed version, journal state).
pub fn signed_version(
    documents: Option<&DocumentService>,
    chart_id: &str,
    document: DocumentKind,
) -> Option<Action> {
    let documents = documents?;
    let signed = match documents.session(chart_id, document) {
        Some(session) => session.latest_signed(),
        None => store::SignedStore::new(documents.data_dir()).load_latest(chart_id, document),
    };
    let signed = match signed {
        Ok(signed) => signed.map(Box::new),
        Err(error) => {
            return Some(Action::Status(format!(
                "署名済みの版を確認できません: {}",
                one_line(&error.to_string())
            )))
        }
    };
    let recovered = store::recover(
        &DocumentStore::new(documents.data_dir()),
        chart_id,
        document,
    )
    .ok()
    .flatten();
    let (unsigned_changes, acknowledged) = recovered.map_or((false, BTreeSet::new()), |r| {
        (r.state.unsigned_changes, r.state.acknowledged)
    });
    Some(Action::SignedVersion {
        chart_id: chart_id.to_string(),
        document,
        signed,
        unsigned_changes,
        acknowledged,
    })
}

/// Whether a `SignedVersion` answer found a signed version (others need not be sent).
pub fn has_signed_version(action: &Action) -> bool {
    matches!(
        action,
        Action::SignedVersion {
            signed: Some(_),
            ..
        }
    )
}

/// Writes the OSC 52 sequence for `text` straight to the terminal (`out`: the screen's
/// stdout) and flushes. ratatui's buffer is left as it is: the sequence draws nothing.
pub fn copy_to_clipboard(out: &mut impl Write, text: &str) -> String {
    let sequence = match osc52_for_terminal(text) {
        Ok(sequence) => sequence,
        Err(error) => return error.to_string(),
    };
    match out
        .write_all(sequence.as_bytes())
        .and_then(|()| out.flush())
    {
        Ok(()) => format!(
            "{}文字をクリップボードへ送りました (OSC 52 — 端末が許可している場合)",
            text.chars().count()
        ),
        Err(error) => format!("端末へ書き込めません: {error}"),
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_goes_to_the_writer_it_is_given() {
        let mut out = Vec::new();
        let message = copy_to_clipboard(&mut out, "退院時サマリー");
        let written = String::from_utf8(out).unwrap();
        assert!(written.contains("]52;c;"), "{written:?}");
        assert!(message.contains("7文字"), "{message}");
    }
}
