//! The journal on a background thread: the UI hands over records and never waits for the
//! disk. The thread coalesces successive edits of one section, and writes + fsyncs when
//! typing pauses (idle) and at least once a second while it goes on. Errors (disk full,
//! read-only dir) are reported through `status()`; the records stay buffered and saving is
//! retried, so nothing is dropped while the process lives.

use super::document::SectionText;
use super::journal::{Journal, JournalRecord};
use chrono::Utc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Typing paused this long: save now.
pub const IDLE_FLUSH: Duration = Duration::from_millis(300);
/// Never leave an edit unsaved longer than this.
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
        self.records.push(record);
        self.received += 1;
        self.first_at.get_or_insert_with(Instant::now);
    }
}

fn run(mut journal: Journal, inbox: mpsc::Receiver<Command>, status: Arc<Mutex<JournalStatus>>) {
    let mut pending = Pending::default();
    let mut last_input = Instant::now();
    let mut retry_at: Option<Instant> = None;
    loop {
        let wait = match pending.first_at {
            Some(first) => {
                let due = (last_input + IDLE_FLUSH).min(first + MAX_FLUSH_DELAY);
                let due = retry_at.map_or(due, |r| due.max(r));
                due.saturating_duration_since(Instant::now())
            }
            None if journal.pending_records() > 0 => RETRY_AFTER_ERROR,
            None => Duration::from_secs(3600),
        };
        match inbox.recv_timeout(wait) {
            Ok(Command::Append(record)) => {
                pending.push(record);
                last_input = Instant::now();
            }
            Ok(Command::Flush(ack)) => {
                let result = save(&mut journal, &mut pending, &status);
                retry_at = result
                    .as_ref()
                    .err()
                    .map(|_| Instant::now() + RETRY_AFTER_ERROR);
                let _ = ack.send(result);
                continue;
            }
            Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                let _ = save(&mut journal, &mut pending, &status);
                return;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        let due = match pending.first_at {
            Some(first) => now >= last_input + IDLE_FLUSH || now >= first + MAX_FLUSH_DELAY,
            None => journal.pending_records() > 0,
        };
        if due && retry_at.is_none_or(|r| now >= r) {
            retry_at = save(&mut journal, &mut pending, &status)
                .err()
                .map(|_| Instant::now() + RETRY_AFTER_ERROR);
        }
    }
}

/// Moves pending records into the journal and fsyncs it.
fn save(
    journal: &mut Journal,
    pending: &mut Pending,
    status: &Mutex<JournalStatus>,
) -> Result<(), String> {
    for record in pending.records.drain(..) {
        if let Err(e) = journal.append(&record) {
            // Only an encoding failure can get here; it cannot succeed later either.
            lock_status(status).error = Some(e.to_string());
        }
    }
    pending.handled += std::mem::take(&mut pending.received);
    pending.first_at = None;
    let result = journal.flush_and_sync().map_err(|e| e.to_string());
    let mut s = lock_status(status);
    match &result {
        Ok(()) => {
            s.saved = pending.handled;
            s.last_sync = Some(Instant::now());
            s.error = None;
        }
        Err(message) => {
            s.error = Some(message.clone());
            tracing::warn!("journal save failed; the draft is kept in memory");
        }
    }
    result
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
