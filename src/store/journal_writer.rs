//! The journal on a background thread: the UI hands over records and never waits for the
//! disk. The thread coalesces successive edits of one section, writes them to the file
//! within 100 ms, and fsyncs when typing pauses (idle) and at least once a second while it
//! goes on. Errors (disk full,
//! read-only dir) are reported through `status()`; the records stay buffered and saving is
//! retried, so nothing is dropped while the process lives.

use super::document::SectionText;
use super::journal::{Journal, JournalRecord};
use chrono::Utc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Edits are written to the file (not yet fsync'd) this soon: a killed process (SIGKILL,
/// SIGHUP from a dropped SSH connection) loses at most this much typing.
pub const WRITE_DELAY: Duration = Duration::from_millis(100);
/// Typing paused this long: fsync now.
pub const IDLE_FLUSH: Duration = Duration::from_millis(300);
/// Never leave an edit un-fsync'd longer than this (bounds the loss on power failure).
pub const MAX_FLUSH_DELAY: Duration = Duration::from_secs(1);
/// After a failed save, try again this often.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(2);

/// How far saving has got; polled by the UI to show "saved" / an error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalStatus {
    /// Records handed to the writer.
    pub received: u64,
    /// Records handed to the writer that are now on disk (fsync'd), coalesced ones included.
    pub saved: u64,
    /// When the last fsync completed.
    pub last_sync: Option<Instant>,
    /// The last save error, cleared by the next successful save.
    pub error: Option<String>,
}

impl JournalStatus {
    pub fn all_saved(&self) -> bool {
        self.saved == self.received && self.error.is_none()
    }
}

enum Command {
    Append(JournalRecord),
    Flush(mpsc::Sender<Result<(), String>>),
    Shutdown,
}

/// Owns a `Journal` on its own thread. Dropping it saves what is pending and stops the thread.
pub struct JournalWriter {
    commands: mpsc::Sender<Command>,
    status: Arc<Mutex<JournalStatus>>,
    thread: Option<JoinHandle<()>>,
}

impl JournalWriter {
    pub fn spawn(journal: Journal) -> std::io::Result<JournalWriter> {
        let (commands, inbox) = mpsc::channel();
        let status = Arc::new(Mutex::new(JournalStatus::default()));
        let thread_status = Arc::clone(&status);
        let thread = std::thread::Builder::new()
            .name("karte-journal".into())
            .spawn(move || run(journal, inbox, thread_status))?;
        Ok(JournalWriter {
            commands,
            status,
            thread: Some(thread),
        })
    }

    /// Hands a record to the writer (never blocks on I/O).
    pub fn append(&self, record: JournalRecord) {
        let mut status = lock_status(&self.status);
        status.received += 1;
        if self.commands.send(Command::Append(record)).is_err() {
            status.error = Some("the journal writer has stopped".into());
        }
    }

    /// Convenience for the editor: the full text of a section after an edit.
    pub fn section_edited(&self, section: SectionText) {
        self.append(JournalRecord::Edited {
            at: Utc::now(),
            section,
        });
    }

    /// The editor's whole text after an edit, with its sections.
    pub fn document_edited(&self, text: String, sections: Vec<SectionText>) {
        self.append(JournalRecord::Document {
            at: Utc::now(),
            text,
            sections,
        });
    }

    /// Saves everything now and waits (at most `timeout`) for the result: used on quit, on
    /// SIGHUP, and before signing.
    pub fn flush_blocking(&self, timeout: Duration) -> Result<(), String> {
        let (ack, done) = mpsc::channel();
        self.commands
            .send(Command::Flush(ack))
            .map_err(|_| "the journal writer has stopped".to_string())?;
        done.recv_timeout(timeout)
            .map_err(|_| "saving the journal did not finish in time".to_string())?
    }

    pub fn status(&self) -> JournalStatus {
        lock_status(&self.status).clone()
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock_status(status: &Mutex<JournalStatus>) -> std::sync::MutexGuard<'_, JournalStatus> {
    status
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records not yet handed to the journal, with successive edits of one section merged.
#[derive(Default)]
struct Pending {
    records: Vec<JournalRecord>,
    /// Records received since the last save (merged ones count).
    received: u64,
    /// Records received before the last save (on disk once that save succeeded).
    handled: u64,
    first_at: Option<Instant>,
}

impl Pending {
    fn push(&mut self, record: JournalRecord) {
        if let (
            Some(JournalRecord::Edited { section: last, .. }),
            JournalRecord::Edited { section: new, .. },
        ) = (self.records.last(), &record)
        {
            if last.key == new.key {
                self.records.pop();
            }
        }
        // A whole document supersedes the one just before it.
        if matches!(
            (self.records.last(), &record),
            (
                Some(JournalRecord::Document { .. }),
                JournalRecord::Document { .. }
            )
        ) {
            self.records.pop();
        }
        self.records.push(record);
        self.received += 1;
        self.first_at.get_or_insert_with(Instant::now);
    }
}

/// The writer thread's state: records not yet in the journal, and what is not yet durable.
struct Writer {
    journal: Journal,
    pending: Pending,
    status: Arc<Mutex<JournalStatus>>,
    last_input: Instant,
    /// Oldest record handed to the journal that is not yet fsync'd.
    unsynced_since: Option<Instant>,
    /// After a failure, nothing is tried before this.
    retry_at: Option<Instant>,
}

fn run(journal: Journal, inbox: mpsc::Receiver<Command>, status: Arc<Mutex<JournalStatus>>) {
    let mut w = Writer {
        journal,
        pending: Pending::default(),
        status,
        last_input: Instant::now(),
        unsynced_since: None,
        retry_at: None,
    };
    loop {
        let wait = w.next_due().map_or(Duration::from_secs(3600), |due| {
            due.saturating_duration_since(Instant::now())
        });
        match inbox.recv_timeout(wait) {
            Ok(Command::Append(record)) => {
                w.pending.push(record);
                w.last_input = Instant::now();
            }
            Ok(Command::Flush(ack)) => {
                let result = w.save();
                let _ = ack.send(result);
                continue;
            }
            Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                let _ = w.save();
                return;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        w.act_if_due();
    }
}

impl Writer {
    fn oldest_unsaved(&self) -> Option<Instant> {
        match (self.pending.first_at, self.unsynced_since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn sync_due_at(&self) -> Option<Instant> {
        self.oldest_unsaved()
            .map(|oldest| (self.last_input + IDLE_FLUSH).min(oldest + MAX_FLUSH_DELAY))
    }

    fn write_due_at(&self) -> Option<Instant> {
        self.pending.first_at.map(|first| first + WRITE_DELAY)
    }

    fn next_due(&self) -> Option<Instant> {
        let due = match (self.write_due_at(), self.sync_due_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }?;
        Some(self.retry_at.map_or(due, |r| due.max(r)))
    }

    fn act_if_due(&mut self) {
        let now = Instant::now();
        if self.retry_at.is_some_and(|r| now < r) {
            return;
        }
        if self.sync_due_at().is_some_and(|due| now >= due) {
            let _ = self.save();
        } else if self.write_due_at().is_some_and(|due| now >= due) {
            let _ = self.write();
        }
    }

    /// Moves pending records into the journal and writes them (no fsync): a killed
    /// process loses at most `WRITE_DELAY` of typing.
    fn write(&mut self) -> Result<(), String> {
        if let Some(first) = self.pending.first_at.take() {
            self.unsynced_since = Some(self.unsynced_since.map_or(first, |u| u.min(first)));
        }
        for record in self.pending.records.drain(..) {
            if let Err(e) = self.journal.append(&record) {
                // Only an encoding failure can get here; it cannot succeed later either.
                lock_status(&self.status).error = Some(e.to_string());
            }
        }
        self.pending.handled += std::mem::take(&mut self.pending.received);
        let result = self.journal.write_pending().map_err(|e| e.to_string());
        self.note(&result, false);
        result
    }

    /// Writes and fsyncs everything: durable even across a power loss.
    fn save(&mut self) -> Result<(), String> {
        let result = self
            .write()
            .and_then(|_| self.journal.sync().map_err(|e| e.to_string()));
        self.note(&result, true);
        if result.is_ok() {
            self.unsynced_since = None;
        }
        result
    }

    fn note(&mut self, result: &Result<(), String>, synced: bool) {
        let mut s = lock_status(&self.status);
        match result {
            Ok(()) => {
                self.retry_at = None;
                if synced {
                    s.saved = self.pending.handled;
                    s.last_sync = Some(Instant::now());
                    s.error = None;
                }
            }
            Err(message) => {
                self.retry_at = Some(Instant::now() + RETRY_AFTER_ERROR);
                s.error = Some(message.clone());
                tracing::warn!("journal save failed; the draft is kept in memory");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::journal::recover_file;

    #[test]
    fn saves_within_a_second_while_typing_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.log");
        let (journal, _) = Journal::open(&path).unwrap();
        let writer = JournalWriter::spawn(journal).unwrap();
        let start = Instant::now();
        let mut text = String::new();
        // Type a character every 50 ms for 1.6 s: idle never happens, the 1 s limit must.
        while start.elapsed() < Duration::from_millis(1600) {
            text.push('あ');
            writer.section_edited(SectionText::new("course", "", text.clone()));
            std::thread::sleep(Duration::from_millis(50));
        }
        let rec = recover_file(&path).unwrap().unwrap();
        let saved = rec.state.section("course").unwrap().text.chars().count();
        let typed = text.chars().count();
        // At most ~1 s (20 chars) + scheduling slack behind.
        assert!(typed - saved <= 26, "typed {typed}, saved {saved}");
        assert!(rec.records < typed, "edits were not coalesced");
        writer.flush_blocking(Duration::from_secs(5)).unwrap();
        assert!(writer.status().all_saved());
        let rec = recover_file(&path).unwrap().unwrap();
        assert_eq!(rec.state.section("course").unwrap().text, text);
    }

    #[test]
    fn drop_saves_pending_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.log");
        let (journal, _) = Journal::open(&path).unwrap();
        let writer = JournalWriter::spawn(journal).unwrap();
        writer.section_edited(SectionText::new("a", "", "最後"));
        drop(writer);
        let rec = recover_file(&path).unwrap().unwrap();
        assert_eq!(rec.state.section("a").unwrap().text, "最後");
    }
}
