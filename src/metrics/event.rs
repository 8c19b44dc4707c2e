//! What the recorder records: one event per action that matters, about one document.
//! No chart text ever enters an event: only counts, lengths and hashes.

use crate::metrics::study::Arm;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How an edit changed the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EditKind {
    Typed,
    Deleted,
    Pasted,
    Undone,
    Redone,
}

/// Which pane has the keyboard: reading the chart or editing the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FocusTarget {
    Chart,
    Draft,
}

/// Numbers about the signed text compared with the AI draft (see `SignStats::from_texts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignStats {
    /// Length (chars) of the AI draft as generated; `None` when there was no AI draft (manual arm).
    pub ai_draft_chars: Option<u32>,
    /// Length (chars) of the signed text.
    pub signed_chars: u32,
    /// Character-level Levenshtein distance AI draft → signed text (`None` without AI draft).
    pub edit_distance: Option<u32>,
    /// Chars of the signed text kept from the AI draft (longest common subsequence).
    pub retained_chars: Option<u32>,
}

/// One action of the clinician (or of the system, for model waits and guard flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    OpenChart,
    /// An edit of the draft; `chars` is the number of characters it inserted or removed.
    Edit {
        kind: EditKind,
        chars: u32,
    },
    Focus(FocusTarget),
    Generate,
    Cancel,
    Regenerate,
    ModelWaitStart,
    ModelWaitEnd,
    AcceptSection,
    AcknowledgeFlag,
    /// The provenance guard raised `count` flags.
    FlagRaised {
        count: u32,
    },
    /// `count` flags went away after an edit.
    FlagFixed {
        count: u32,
    },
    Sign(SignStats),
    Export,
    Quit,
    /// The terminal went away (SIGHUP, SSH drop).
    Disconnect,
}

impl EventKind {
    /// Stable code stored in the DB (part of the schema: never renumber).
    pub fn code(&self) -> i64 {
        match self {
            EventKind::OpenChart => 1,
            EventKind::Edit { kind, .. } => match kind {
                EditKind::Typed => 2,
                EditKind::Deleted => 3,
                EditKind::Pasted => 4,
                EditKind::Undone => 5,
                EditKind::Redone => 6,
            },
            EventKind::Focus(FocusTarget::Chart) => 7,
            EventKind::Focus(FocusTarget::Draft) => 8,
            EventKind::Generate => 9,
            EventKind::Cancel => 10,
            EventKind::Regenerate => 11,
            EventKind::ModelWaitStart => 12,
            EventKind::ModelWaitEnd => 13,
            EventKind::AcceptSection => 14,
            EventKind::AcknowledgeFlag => 15,
            EventKind::FlagRaised { .. } => 16,
            EventKind::FlagFixed { .. } => 17,
            EventKind::Sign(_) => 18,
            EventKind::Export => 19,
            EventKind::Quit => 20,
            EventKind::Disconnect => 21,
        }
    }

    /// The count stored beside the code (chars of an edit, number of flags), else 0.
    pub fn count(&self) -> u32 {
        match self {
            EventKind::Edit { chars, .. } => *chars,
            EventKind::FlagRaised { count } | EventKind::FlagFixed { count } => *count,
            _ => 0,
        }
    }

    /// Rebuilds a kind from its stored code and count; sign stats live in their own table.
    pub fn from_code(code: i64, count: u32, sign: Option<SignStats>) -> Option<Self> {
        let edit = |kind| Some(EventKind::Edit { kind, chars: count });
        match code {
            1 => Some(EventKind::OpenChart),
            2 => edit(EditKind::Typed),
            3 => edit(EditKind::Deleted),
            4 => edit(EditKind::Pasted),
            5 => edit(EditKind::Undone),
            6 => edit(EditKind::Redone),
            7 => Some(EventKind::Focus(FocusTarget::Chart)),
            8 => Some(EventKind::Focus(FocusTarget::Draft)),
            9 => Some(EventKind::Generate),
            10 => Some(EventKind::Cancel),
            11 => Some(EventKind::Regenerate),
            12 => Some(EventKind::ModelWaitStart),
            13 => Some(EventKind::ModelWaitEnd),
            14 => Some(EventKind::AcceptSection),
            15 => Some(EventKind::AcknowledgeFlag),
            16 => Some(EventKind::FlagRaised { count }),
            17 => Some(EventKind::FlagFixed { count }),
            18 => Some(EventKind::Sign(sign.unwrap_or_default())),
            19 => Some(EventKind::Export),
            20 => Some(EventKind::Quit),
            21 => Some(EventKind::Disconnect),
            _ => None,
        }
    }

    /// Whether this event comes from the system rather than from the clinician's input
    /// (it neither starts nor ends an interval of active time).
    pub fn is_system(&self) -> bool {
        matches!(
            self,
            EventKind::FlagRaised { .. } | EventKind::FlagFixed { .. }
        )
    }
}

/// The document an event is about: chart (hashed), document type and version, and its study arm.
/// Cheap to clone (shared), so that recording does not allocate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentRef(Arc<DocumentInfo>);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentInfo {
    /// `<chart hash>:<doc type>:v<version>`; the same in every session, so reconnects add up.
    pub document_id: String,
    /// First 16 hex digits of SHA-256 of the chart id (the chart id itself is never stored).
    pub chart_hash: String,
    pub doc_type: String,
    pub version: u32,
    /// Study name and arm when a study is configured.
    pub study: Option<String>,
    pub arm: Option<Arm>,
}

impl DocumentRef {
    /// A document outside any study.
    pub fn new(chart_id: &str, doc_type: &str, version: u32) -> Self {
        let chart_hash = chart_hash(chart_id);
        Self(Arc::new(DocumentInfo {
            document_id: format!("{chart_hash}:{doc_type}:v{version}"),
            chart_hash,
            doc_type: doc_type.to_string(),
            version,
            study: None,
            arm: None,
        }))
    }

    /// The same document, recorded as part of `study` in `arm`.
    pub fn in_study(self, study: &str, arm: Arm) -> Self {
        let mut info = (*self.0).clone();
        info.study = Some(study.to_string());
        info.arm = Some(arm);
        Self(Arc::new(info))
    }

    pub fn info(&self) -> &DocumentInfo {
        &self.0
    }

    pub fn document_id(&self) -> &str {
        &self.0.document_id
    }
}

/// Hash of a chart id as stored in the metrics DB: a chart can be followed across sessions
/// without its id (which may contain a patient number) appearing anywhere.
pub fn chart_hash(chart_id: &str) -> String {
    let digest = Sha256::digest(chart_id.as_bytes());
    hex::encode(&digest[..8])
}

/// An event with its times: `mono_us` is microseconds since the session started (monotonic
/// clock), `wall_ms` milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    pub document: Option<DocumentRef>,
    pub kind: EventKind,
    pub mono_us: i64,
    pub wall_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let kinds = [
            EventKind::OpenChart,
            EventKind::Edit {
                kind: EditKind::Pasted,
                chars: 42,
            },
            EventKind::Edit {
                kind: EditKind::Redone,
                chars: 1,
            },
            EventKind::Focus(FocusTarget::Draft),
            EventKind::ModelWaitEnd,
            EventKind::FlagFixed { count: 3 },
            EventKind::Disconnect,
        ];
        for kind in kinds {
            assert_eq!(
                EventKind::from_code(kind.code(), kind.count(), None),
                Some(kind)
            );
        }
        assert_eq!(EventKind::from_code(99, 0, None), None);
    }

    #[test]
    fn document_id_hides_the_chart_id() {
        let doc = DocumentRef::new("patient-000123-enc7", "discharge_summary", 2);
        assert!(!doc.document_id().contains("000123"));
        assert!(doc.document_id().ends_with(":discharge_summary:v2"));
        assert_eq!(
            doc,
            DocumentRef::new("patient-000123-enc7", "discharge_summary", 2)
        );
    }
}
