//! One document under review: the chart lock, the journal (on its writer thread), signed
//! versions and the audit log behind one object, so the editor has one thing to talk to.
//! Opening takes the lock or falls back to read-only; a read-only session cannot write.

use super::audit::{AuditAction, AuditError, AuditLog};
use super::document::{DocumentKind, DocumentStore, SectionText};
use super::journal::{Journal, JournalError, JournalRecord, Recovered};
use super::journal_writer::{JournalStatus, JournalWriter};
use super::lock::{ChartLock, HeldLock, LockAttempt, LockDir, LockError};
use super::signed::{SignError, SignRequest, SignedDocument, SignedStore, VerifyError};
use chrono::Utc;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// How long signing waits for the journal to reach the disk.
const FLUSH_BEFORE_SIGN: Duration = Duration::from_secs(5);

/// Who is working, where.
#[derive(Debug, Clone)]
pub struct SessionContext {
    /// `AppPaths::data_dir`.
    pub data_dir: PathBuf,
    pub locks: LockDir,
    /// The signer name (`store::signer_name(&config)`).
    pub user: String,
    /// One id per karte run (`store::new_session_id()`).
    pub session_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("this chart is open read-only ({0}); nothing can be changed or signed here")]
    ReadOnly(String),
    #[error("cannot start the journal writer thread: {0}")]
    Thread(std::io::Error),
}

/// The result of opening a document.
pub enum Opened {
    /// This session holds the lock. `recovered` is what the journal held (offer it when it
    /// has unsigned changes; report `damage` if set).
    Editing {
        session: DocumentSession,
        recovered: Option<Recovered>,
    },
    /// Someone else holds the lock: show who and since when; offer `take_over` when stale.
    ReadOnly {
        session: DocumentSession,
        held: HeldLock,
    },
}

pub struct DocumentSession {
    chart_id: String,
    doc: DocumentKind,
    context: SessionContext,
    audit: AuditLog,
    signed: SignedStore,
    writer: Option<JournalWriter>,
    lock: Option<ChartLock>,
    held_by: Option<HeldLock>,
    /// Problems that did not stop the work (audit log or journal unwritable), to show once.
    warnings: Mutex<Vec<String>>,
}

impl DocumentSession {
    /// Opens `doc` of `chart_id`: takes the lock (else read-only), recovers the journal.
    pub fn open(
        context: &SessionContext,
        chart_id: &str,
        doc: DocumentKind,
    ) -> Result<Opened, SessionError> {
        let attempt = context
            .locks
            .try_acquire(chart_id, &context.user, &context.session_id)?;
        Self::from_attempt(context, chart_id, doc, attempt, None)
    }

    /// Takes over the stale lock this read-only session was shown.
    pub fn take_over(self) -> Result<Opened, SessionError> {
        let Some(held) = self.held_by.clone() else {
            return Ok(Opened::Editing {
                session: self,
                recovered: None,
            });
        };
        let attempt = self.context.locks.take_over(
            &self.chart_id,
            &held,
            &self.context.user,
            &self.context.session_id,
        )?;
        let previous = held.holder.as_ref().map(|h| h.user.clone());
        Self::from_attempt(&self.context, &self.chart_id, self.doc, attempt, previous)
    }

    fn from_attempt(
        context: &SessionContext,
        chart_id: &str,
        doc: DocumentKind,
        attempt: LockAttempt,
        took_over_from: Option<String>,
    ) -> Result<Opened, SessionError> {
        let audit = AuditLog::new(&context.data_dir, &context.user, &context.session_id);
        let mut session = DocumentSession {
            chart_id: chart_id.to_string(),
            doc,
            context: context.clone(),
            audit,
            signed: SignedStore::new(&context.data_dir),
            writer: None,
            lock: None,
            held_by: None,
            warnings: Mutex::new(Vec::new()),
        };
        match attempt {
            LockAttempt::Held(held) => {
                session.audit_or_warn(AuditAction::OpenedReadOnly {
                    lock_holder: held.describe(),
                });
                session.held_by = Some(held.clone());
                Ok(Opened::ReadOnly { session, held })
            }
            LockAttempt::Acquired(lock) => {
                if let Some(previous_holder) = took_over_from {
                    session.audit_or_warn(AuditAction::LockTakenOver { previous_holder });
                }
                let path = DocumentStore::new(&context.data_dir).journal_path(chart_id, doc);
                let (journal, recovered) = match Journal::open(&path) {
                    Ok(opened) => opened,
                    // Edit on in memory; the writer keeps retrying and reports the error.
                    Err(e) => {
                        session.warn(e.to_string());
                        (Journal::detached(&path), None)
                    }
                };
                session.writer = Some(JournalWriter::spawn(journal).map_err(SessionError::Thread)?);
                session.lock = Some(lock);
                session.audit_or_warn(AuditAction::Opened);
                if let Some(r) = recovered
                    .as_ref()
                    .filter(|r| r.state.unsigned_changes || r.damage.is_some())
                {
                    session.audit_or_warn(AuditAction::Recovered {
                        records: r.records,
                        damaged: r.damage.is_some(),
                    });
                }
                Ok(Opened::Editing { session, recovered })
            }
        }
    }

    fn warn(&self, message: String) {
        self.warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
    }

    /// Audits; a failure (audit log unwritable) becomes a warning instead of stopping work.
    fn audit_or_warn(&self, action: AuditAction) {
        if let Err(e) = self.audit.record(&self.chart_id, Some(self.doc), action) {
            self.warn(e.to_string());
        }
    }

    /// Problems that did not stop the work, once each (show them in the status area).
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn chart_id(&self) -> &str {
        &self.chart_id
    }

    pub fn doc(&self) -> DocumentKind {
        self.doc
    }

    pub fn is_read_only(&self) -> bool {
        self.writer.is_none()
    }

    /// The lock was taken over while this session was away (suspended): turn read-only.
    pub fn lock_lost(&self) -> bool {
        self.lock.as_ref().is_some_and(ChartLock::is_lost)
    }

    pub fn data_dir(&self) -> &Path {
        &self.context.data_dir
    }

    fn writer(&self) -> Result<&JournalWriter, SessionError> {
        match (&self.writer, &self.held_by) {
            (Some(w), _) if !self.lock_lost() => Ok(w),
            (_, Some(held)) => Err(SessionError::ReadOnly(held.describe())),
            _ => Err(SessionError::ReadOnly(
                "the lock was taken over by another session".into(),
            )),
        }
    }

    /// The model wrote (or rewrote) a section.
    pub fn generated(
        &self,
        section: SectionText,
        model_sha256: Option<String>,
    ) -> Result<(), SessionError> {
        let key = section.key.clone();
        self.writer()?.append(JournalRecord::Generated {
            at: Utc::now(),
            section,
        });
        self.audit.record(
            &self.chart_id,
            Some(self.doc),
            AuditAction::Generated {
                section: Some(key),
                model_sha256,
            },
        )?;
        Ok(())
    }

    /// The clinician changed a section (call on every edit; the writer coalesces).
    pub fn edited(&self, section: SectionText) -> Result<(), SessionError> {
        self.writer()?.section_edited(section);
        Ok(())
    }

    /// The clinician changed the document: its exact text and its sections (call on every
    /// edit; the writer keeps only the latest of a burst).
    pub fn document_edited(
        &self,
        text: String,
        sections: Vec<SectionText>,
    ) -> Result<(), SessionError> {
        self.writer()?.document_edited(text, sections);
        Ok(())
    }

    /// Records the end of an editing burst in the audit log (counts only).
    pub fn edit_burst_ended(&self, section: &str, edits: u32) -> Result<(), SessionError> {
        self.writer()?;
        self.audit.record(
            &self.chart_id,
            Some(self.doc),
            AuditAction::Edited {
                section: section.to_string(),
                edits,
            },
        )?;
        Ok(())
    }

    /// The clinician acknowledged a guard finding, or took that back (`withdraw`):
    /// journaled and audited.
    pub fn acknowledge(&self, item_id: &str, withdraw: bool) -> Result<(), SessionError> {
        let at = Utc::now();
        let item_id = item_id.to_string();
        let (record, action) = if withdraw {
            (
                JournalRecord::AcknowledgementWithdrawn {
                    at,
                    item_id: item_id.clone(),
                },
                AuditAction::AcknowledgementWithdrawn { item_id },
            )
        } else {
            (
                JournalRecord::Acknowledged {
                    at,
                    item_id: item_id.clone(),
                },
                AuditAction::Acknowledged { item_id },
            )
        };
        self.writer()?.append(record);
        self.audit.record(&self.chart_id, Some(self.doc), action)?;
        Ok(())
    }

    /// The clinician marked a section accepted, or took the mark back (journaled, so a
    /// recovered draft keeps its marks).
    pub fn mark_accepted(&self, section_key: &str, accepted: bool) -> Result<(), SessionError> {
        self.writer()?.append(JournalRecord::Accepted {
            at: Utc::now(),
            section: section_key.to_string(),
            accepted,
        });
        Ok(())
    }

    /// Saving progress (poll for the status line); `None` when read-only.
    pub fn journal_status(&self) -> Option<JournalStatus> {
        self.writer.as_ref().map(JournalWriter::status)
    }

    /// Saves now and waits (quit, SIGHUP).
    pub fn flush(&self, timeout: Duration) -> Result<(), String> {
        match &self.writer {
            Some(w) => w.flush_blocking(timeout),
            None => Ok(()),
        }
    }

    /// Signs the sections as the next version (an amendment when one exists). The caller
    /// checks the guard first (`GuardReport::can_sign`) and passes the acknowledged ids.
    pub fn sign(
        &self,
        title: &str,
        sections: &[SectionText],
        chart_sha256: Option<String>,
        acknowledged: Vec<String>,
    ) -> Result<SignedDocument, SessionError> {
        let writer = self.writer()?;
        // The journal is best effort here: a failure is already shown, and the signed
        // file below is written (and fsync'd) on its own.
        let _ = writer.flush_blocking(FLUSH_BEFORE_SIGN);
        let signed = self.signed.sign(&SignRequest {
            chart_id: &self.chart_id,
            doc: self.doc,
            signer: &self.context.user,
            title,
            sections,
            chart_sha256,
            acknowledged,
        })?;
        writer.append(JournalRecord::Signed {
            at: signed.signed_at,
            version: signed.version,
            content_sha256: signed.content_sha256.clone(),
        });
        let _ = writer.flush_blocking(FLUSH_BEFORE_SIGN);
        crate::fault::point("sign:journaled");
        // The version is signed and on disk: an audit failure must not look like a failed
        // signature.
        self.audit_or_warn(AuditAction::Signed {
            version: signed.version,
            content_sha256: signed.content_sha256.clone(),
        });
        Ok(signed)
    }

    /// The newest signed version, verified (a hand-edited file is an error).
    pub fn latest_signed(&self) -> Result<Option<SignedDocument>, VerifyError> {
        self.signed.load_latest(&self.chart_id, self.doc)
    }

    pub fn signed_versions(&self) -> Result<Vec<u32>, VerifyError> {
        self.signed.versions(&self.chart_id, self.doc)
    }

    /// Any other audit entry (exports, generation of the whole draft …).
    pub fn record(&self, action: AuditAction) -> Result<(), SessionError> {
        self.audit.record(&self.chart_id, Some(self.doc), action)?;
        Ok(())
    }
}
