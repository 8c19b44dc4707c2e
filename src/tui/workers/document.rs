//! The documents' storage side, for the event loop: opening a document takes the chart lock
//! (or finds who holds it) and recovers the journal; edits go to the journal writer thread
//! (the UI never waits for the disk); `tick` reports saving problems and ends edit bursts in
//! the audit log; `flush` saves before exit. One document is open at a time: opening
//! another closes the previous one (its journal saved, its chart lock released).

use crate::context::Context;
use crate::draft::DocumentTemplates;
use crate::store::{
    self, DocumentSession, DocumentStore, LockDir, Opened, Recovered, SectionText, SessionContext,
};
use crate::tui::action::{OpenedDocument, RecoveredDraft};
use crate::tui::state::document_edit::Access;
use crate::tui::state::document_state::DocumentKind;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long closing a document waits for its journal to reach the disk.
const CLOSE_FLUSH: Duration = Duration::from_secs(2);
/// Typing paused this long: the edit burst is recorded in the audit log.
const BURST_PAUSE: Duration = Duration::from_secs(3);

struct OpenSession {
    chart_id: String,
    document: DocumentKind,
    session: DocumentSession,
    /// Edits per section key since the last audit entry.
    burst: BTreeMap<String, u32>,
    last_edit: Instant,
    /// The lock was found taken over (reported once).
    lost: bool,
    /// The sections last journaled whole (to count edits per section).
    last_sections: Vec<SectionText>,
    /// Why saving does not work, from the session's warnings (until a save succeeds).
    warning: Option<String>,
}

pub struct DocumentService {
    context: SessionContext,
    /// The document templates (section keys of the accept marks).
    templates: DocumentTemplates,
    open: Option<OpenSession>,
    /// The health last reported (so only changes are sent to the screen).
    reported: Option<String>,
    /// `[hospital]` of the config, for exports (the letter, the JP-CLINS Bundle).
    hospital: crate::export::HospitalConfig,
}

impl OpenSession {
    fn is(&self, chart_id: &str, document: DocumentKind) -> bool {
        self.chart_id == chart_id && self.document == document
    }
}

impl DocumentService {
    pub fn new(context: SessionContext) -> Self {
        Self {
            context,
            templates: DocumentTemplates::default(),
            open: None,
            reported: None,
            hospital: Default::default(),
        }
    }

    /// Uses `templates` (the config dir's own) for section keys.
    pub fn with_templates(mut self, templates: DocumentTemplates) -> Self {
        self.templates = templates;
        self
    }

    pub fn templates(&self) -> &DocumentTemplates {
        &self.templates
    }

    /// Exports use these hospital settings.
    pub fn with_hospital(mut self, hospital: crate::export::HospitalConfig) -> Self {
        self.hospital = hospital;
        self
    }

    pub fn hospital(&self) -> &crate::export::HospitalConfig {
        &self.hospital
    }

    /// Data dir, lock dir (config `lock_dir`, else beside the queue), signer name, hospital
    /// settings, and the config dir's templates (the built-ins when they cannot be read: the
    /// screen says why).
    pub fn from_context(ctx: &Context) -> Self {
        let templates = DocumentTemplates::load(&ctx.paths.config_dir).unwrap_or_else(|error| {
            tracing::warn!("document templates: {error}");
            DocumentTemplates::default()
        });
        Self::new(SessionContext {
            data_dir: ctx.paths.data_dir.clone(),
            locks: LockDir::resolve(ctx.config.lock_dir.as_deref(), &ctx.queue_dir),
            user: store::signer_name(&ctx.config),
            session_id: store::new_session_id(),
        })
        .with_templates(templates)
        .with_hospital(ctx.config.hospital.clone())
    }

    /// Opens `document` of `chart_id` (closing the one open before).
    pub fn open(&mut self, chart_id: &str, document: DocumentKind) -> OpenedDocument {
        self.close();
        match DocumentSession::open(&self.context, chart_id, document) {
            Ok(opened) => self.opened(chart_id, document, opened),
            Err(error) => self.memory_only(chart_id, document, &error.to_string()),
        }
    }

    /// Takes over the stale lock of the open read-only document.
    pub fn take_over(&mut self, chart_id: &str, document: DocumentKind) -> OpenedDocument {
        let Some(open) = self.open.take().filter(|o| o.is(chart_id, document)) else {
            return self.open(chart_id, document);
        };
        match open.session.take_over() {
            Ok(opened) => self.opened(chart_id, document, opened),
            Err(error) => {
                // The lock changed (someone else took it, or its holder came back): look again.
                let mut again = self.open(chart_id, document);
                if let Access::ReadOnly { holder, stale } = &again.access {
                    again.access = Access::ReadOnly {
                        holder: format!("{holder} [{}]", one_line(&error.to_string())),
                        stale: *stale,
                    };
                }
                again
            }
        }
    }

    fn opened(&mut self, chart_id: &str, document: DocumentKind, opened: Opened) -> OpenedDocument {
        let result = match &opened {
            Opened::Editing {
                recovered, session, ..
            } => OpenedDocument {
                problem: warnings(session),
                access: Access::Editing,
                recovered: recovered.as_ref().and_then(offer),
                damage: recovered
                    .as_ref()
                    .and_then(|r| r.damage.as_ref())
                    .map(ToString::to_string),
            },
            Opened::ReadOnly { held, .. } => {
                // Show what this user's journal holds (another session of the same user).
                let recovered = self.read_journal(chart_id, document);
                OpenedDocument {
                    access: Access::ReadOnly {
                        holder: held.describe(),
                        stale: held.stale,
                    },
                    recovered: recovered.as_ref().and_then(offer),
                    damage: None,
                    problem: None,
                }
            }
        };
        let session = match opened {
            Opened::Editing { session, .. } | Opened::ReadOnly { session, .. } => session,
        };
        self.open = Some(OpenSession {
            chart_id: chart_id.to_string(),
            document,
            session,
            burst: BTreeMap::new(),
            last_edit: Instant::now(),
            lost: false,
            last_sections: Vec::new(),
            warning: result.problem.clone(),
        });
        result
    }

    /// The lock or the journal cannot be used: edit in memory, say why, offer what the
    /// journal holds if it can at least be read.
    fn memory_only(
        &mut self,
        chart_id: &str,
        document: DocumentKind,
        problem: &str,
    ) -> OpenedDocument {
        tracing::warn!("document opened in memory only: storage unusable");
        let recovered = self.read_journal(chart_id, document);
        OpenedDocument {
            access: Access::MemoryOnly {
                problem: one_line(problem),
            },
            recovered: recovered.as_ref().and_then(offer),
            damage: recovered
                .as_ref()
                .and_then(|r| r.damage.as_ref())
                .map(ToString::to_string),
            problem: None,
        }
    }

    fn read_journal(&self, chart_id: &str, document: DocumentKind) -> Option<Recovered> {
        let store = DocumentStore::new(&self.context.data_dir);
        store::recover(&store, chart_id, document).ok().flatten()
    }

    /// Hands sections to the journal writer; `Err` says why they cannot be journaled.
    pub fn journal(
        &mut self,
        chart_id: &str,
        document: DocumentKind,
        sections: Vec<SectionText>,
        generated: bool,
    ) -> Result<(), String> {
        let open = self.open_mut(chart_id, document)?;
        for section in sections {
            let key = section.key.clone();
            let result = if generated {
                open.session.generated(section, None)
            } else {
                *open.burst.entry(key).or_default() += 1;
                open.last_edit = Instant::now();
                open.session.edited(section)
            };
            result.map_err(|e| one_line(&e.to_string()))?;
        }
        Ok(())
    }

    /// Hands the whole text of the document to the journal writer; `Err` says why it cannot
    /// be journaled.
    pub fn journal_document(
        &mut self,
        chart_id: &str,
        document: DocumentKind,
        text: String,
        sections: Vec<SectionText>,
    ) -> Result<(), String> {
        let open = self.open_mut(chart_id, document)?;
        // The audit log counts edits per section: those whose text changed.
        for section in sections.iter().filter(|s| !open.last_sections.contains(s)) {
            *open.burst.entry(section.key.clone()).or_default() += 1;
        }
        open.last_sections.clone_from(&sections);
        open.last_edit = Instant::now();
        open.session
            .document_edited(text, sections)
            .map_err(|e| one_line(&e.to_string()))
    }

    /// Periodic check: the journal's saving state and the lock. Returns the health only
    /// when it changed (`Some(None)`: fine again).
    pub fn tick(&mut self) -> Option<Option<String>> {
        let open = self.open.as_mut()?;
        if !open.burst.is_empty() && open.last_edit.elapsed() >= BURST_PAUSE {
            for (section, edits) in std::mem::take(&mut open.burst) {
                if let Err(error) = open.session.edit_burst_ended(&section, edits) {
                    tracing::warn!("cannot record an edit burst in the audit log: {error}");
                }
            }
        }
        if let Some(more) = warnings(&open.session) {
            open.warning = Some(more);
        }
        let status = open.session.journal_status();
        if status
            .as_ref()
            .is_some_and(|s| s.error.is_none() && s.last_sync.is_some())
        {
            open.warning = None; // saving works (again)
        }
        let health = if open.session.lock_lost() {
            Some("チャートのロックが他のセッションに引き継がれました — 編集は保存されません".into())
        } else {
            status
                .and_then(|s| s.error)
                .map(|e| one_line(&e))
                .or_else(|| open.warning.clone())
        };
        if health == self.reported {
            return None;
        }
        self.reported.clone_from(&health);
        Some(health)
    }

    /// The session of the open document, if `chart_id`'s `document` is the one open
    /// (signing, acknowledging and exporting go through it: `workers::review`).
    pub fn session(&self, chart_id: &str, document: DocumentKind) -> Option<&DocumentSession> {
        self.open
            .as_ref()
            .filter(|o| o.is(chart_id, document))
            .map(|o| &o.session)
    }

    /// The open document if it is this one; else why its text cannot be journaled.
    fn open_mut(
        &mut self,
        chart_id: &str,
        document: DocumentKind,
    ) -> Result<&mut OpenSession, String> {
        self.open
            .as_mut()
            .filter(|o| o.is(chart_id, document))
            .ok_or_else(|| "この文書は開いていません".to_string())
    }

    /// The user's data dir (exports go under it).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.context.data_dir
    }

    /// The open document's lock was taken over by another session (this one was suspended
    /// and seen as dead): the document turns read-only, showing the new holder. Once.
    pub fn lock_taken_over(&mut self) -> Option<(String, DocumentKind, OpenedDocument)> {
        let open = self.open.as_mut().filter(|o| !o.lost)?;
        if !open.session.lock_lost() {
            return None;
        }
        open.lost = true;
        let holder = self
            .context
            .locks
            .holder(&open.chart_id)
            .ok()
            .flatten()
            .map_or_else(|| "another session".to_string(), |h| h.describe());
        Some((
            open.chart_id.clone(),
            open.document,
            OpenedDocument {
                access: Access::ReadOnly {
                    holder,
                    stale: false,
                },
                recovered: None,
                damage: None,
                problem: None,
            },
        ))
    }

    /// The session ends (`how`: quit, disconnect, signal): one audit line for the open
    /// document, so the log shows how an editing session ended.
    pub fn session_ended(&self, how: &str) {
        if let Some(open) = &self.open {
            let action = store::AuditAction::SessionEnded {
                how: how.to_string(),
            };
            if let Err(error) = open.session.record(action) {
                tracing::warn!("cannot record the end of the session in the audit log: {error}");
            }
        }
    }

    /// Saves the open document's journal now, waiting at most `timeout`.
    pub fn flush(&self, timeout: Duration) -> Result<(), String> {
        match &self.open {
            Some(open) => open.session.flush(timeout),
            None => Ok(()),
        }
    }

    /// Saves and closes the open document (releases its chart lock).
    pub fn close(&mut self) {
        if let Some(open) = self.open.take() {
            if let Err(error) = open.session.flush(CLOSE_FLUSH) {
                tracing::warn!("closing a document: {error}");
            }
            for (section, edits) in open.burst {
                let _ = open.session.edit_burst_ended(&section, edits);
            }
        }
    }
}

/// A journaled draft worth offering: it has changes that were not signed.
fn offer(recovered: &Recovered) -> Option<RecoveredDraft> {
    let has_text = !recovered.state.sections.is_empty()
        || recovered
            .state
            .text
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
    (recovered.state.unsigned_changes && has_text).then(|| RecoveredDraft {
        text: recovered.state.text.clone(),
        sections: recovered.state.sections.clone(),
        ai_sections: recovered.state.ai_sections.clone(),
        accepted: recovered.state.accepted.clone(),
        last_change_at: recovered.state.last_change_at,
    })
}

/// The session's problems that did not stop editing (journal or audit log unwritable).
fn warnings(session: &DocumentSession) -> Option<String> {
    let warnings: Vec<String> = session
        .take_warnings()
        .iter()
        .map(|w| one_line(w))
        .collect();
    (!warnings.is_empty()).then(|| warnings.join(" / "))
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the event loop asks of the document thread.
enum Request {
    Open {
        chart_id: String,
        document: DocumentKind,
    },
    TakeOver {
        chart_id: String,
        document: DocumentKind,
    },
    Journal {
        chart_id: String,
        document: DocumentKind,
        sections: Vec<SectionText>,
        generated: bool,
    },
    JournalDocument {
        chart_id: String,
        document: DocumentKind,
        text: String,
        sections: Vec<SectionText>,
    },
    Flush(Duration, std::sync::mpsc::Sender<Result<(), String>>),
    /// Other work on the open document (sign, acknowledge, export: `workers::review`).
    Run(DocumentJob),
}

/// Work run on the document thread with the service; its answer goes to the screen.
pub type DocumentJob =
    Box<dyn FnOnce(&DocumentService) -> Option<crate::tui::action::Action> + Send + 'static>;

/// A [`DocumentService`] on its own thread, so that a slow disk or a hung network lock
/// directory never stalls the screen: requests go in, answers come back as `Action`s.
pub struct DocumentWorker {
    requests: Option<std::sync::mpsc::Sender<Request>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often the thread looks at the journal's health when nothing else happens.
const HEALTH_EVERY: Duration = Duration::from_millis(500);

impl DocumentWorker {
    pub fn spawn(
        mut service: DocumentService,
        actions: crate::tui::workers::ActionSender,
    ) -> std::io::Result<Self> {
        use crate::tui::action::Action;
        let (requests, inbox) = std::sync::mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("karte-documents".into())
            .spawn(move || loop {
                let answer = match inbox.recv_timeout(HEALTH_EVERY) {
                    Ok(Request::Open { chart_id, document }) => {
                        let opened = service.open(&chart_id, document);
                        Some(Action::DocumentOpened {
                            chart_id,
                            document,
                            opened,
                        })
                    }
                    Ok(Request::TakeOver { chart_id, document }) => {
                        let opened = service.take_over(&chart_id, document);
                        Some(Action::DocumentOpened {
                            chart_id,
                            document,
                            opened,
                        })
                    }
                    Ok(Request::Journal {
                        chart_id,
                        document,
                        sections,
                        generated,
                    }) => service
                        .journal(&chart_id, document, sections, generated)
                        .err()
                        .map(|problem| Action::JournalHealth(Some(problem))),
                    Ok(Request::JournalDocument {
                        chart_id,
                        document,
                        text,
                        sections,
                    }) => service
                        .journal_document(&chart_id, document, text, sections)
                        .err()
                        .map(|problem| Action::JournalHealth(Some(problem))),
                    Ok(Request::Flush(timeout, done)) => {
                        let _ = done.send(service.flush(timeout));
                        None
                    }
                    Ok(Request::Run(job)) => job(&service),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        service.close();
                        return;
                    }
                };
                let health = service.tick().map(Action::JournalHealth);
                let lost = service
                    .lock_taken_over()
                    .map(|(chart_id, document, opened)| Action::DocumentOpened {
                        chart_id,
                        document,
                        opened,
                    });
                for action in answer.into_iter().chain(health).chain(lost) {
                    if actions.send(action).is_err() {
                        service.close();
                        return;
                    }
                }
            })?;
        Ok(Self {
            requests: Some(requests),
            thread: Some(thread),
        })
    }

    fn send(&self, request: Request) {
        if let Some(requests) = &self.requests {
            if requests.send(request).is_err() {
                tracing::warn!("the document thread has stopped");
            }
        }
    }

    pub fn open(&self, chart_id: String, document: DocumentKind) {
        self.send(Request::Open { chart_id, document });
    }

    pub fn take_over(&self, chart_id: String, document: DocumentKind) {
        self.send(Request::TakeOver { chart_id, document });
    }

    pub fn journal(
        &self,
        chart_id: String,
        document: DocumentKind,
        sections: Vec<SectionText>,
        generated: bool,
    ) {
        self.send(Request::Journal {
            chart_id,
            document,
            sections,
            generated,
        });
    }

    pub fn journal_document(
        &self,
        chart_id: String,
        document: DocumentKind,
        text: String,
        sections: Vec<SectionText>,
    ) {
        self.send(Request::JournalDocument {
            chart_id,
            document,
            text,
            sections,
        });
    }

    /// Runs `job` on the document thread, after the requests sent before it.
    pub fn run(&self, job: DocumentJob) {
        self.send(Request::Run(job));
    }

    /// Saves the open document's journal and waits (at most about `timeout`): on quit,
    /// SIGTERM and SIGHUP, before the process ends.
    pub fn flush(&self, timeout: Duration) -> Result<(), String> {
        let (done, result) = std::sync::mpsc::channel();
        self.send(Request::Flush(timeout, done));
        result
            .recv_timeout(timeout + Duration::from_millis(200))
            .map_err(|_| "saving the journal did not finish in time".to_string())?
    }
}

impl Drop for DocumentWorker {
    /// Closes the open document (journal saved, chart lock released) and stops the thread.
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
