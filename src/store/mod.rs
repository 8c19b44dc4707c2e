//! Per-user storage: edit journal and crash recovery, signed versions, chart locks, audit log.
//!
//! Everything lives under the user's data dir (0700 dirs, 0600 files) except the chart
//! locks, which sit in a directory shared by every clinician who works on the same queue.
//!
//! ```text
//! <data_dir>/documents/<chart>/<doc>/journal.log     edit journal (length + CRC32 framed JSON)
//! <data_dir>/documents/<chart>/<doc>/v0001.json      signed version 1 (never modified)
//! <data_dir>/audit.jsonl                             who did what, when (no chart text)
//! <queue_dir>/.karte-locks/<chart>.lock              who is editing a chart (shared)
//! ```

pub mod audit;
pub mod document;
pub mod document_text;
pub mod journal;
pub mod journal_writer;
pub mod lock;
pub mod session;
pub mod signed;
pub mod signer;

pub use audit::{AuditAction, AuditEntry, AuditError, AuditLog};
pub use document::{chart_key, DocKind, DocumentKind, DocumentStore, SectionText, PREAMBLE_KEY};
pub use document_text::{compose_sections, split_sections, SectionSpan};
pub use journal::{
    recover, DamageReason, DraftState, Journal, JournalDamage, JournalError, JournalRecord,
    Recovered,
};
pub use journal_writer::{JournalStatus, JournalWriter};
pub use lock::{ChartLock, HeldLock, LockAttempt, LockDir, LockError, LockHolder};
pub use session::{DocumentSession, Opened, SessionContext, SessionError};
pub use signed::{
    chart_fingerprint, AmendedVersion, SignError, SignRequest, SignedDocument, SignedStore,
    VerifyError,
};
pub use signer::{os_user_name, signer_name};

/// A fresh id for one run of karte (audit entries and locks carry it).
pub fn new_session_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
