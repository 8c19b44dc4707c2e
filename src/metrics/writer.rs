//! The background writer: drains the channel into a bounded in-memory buffer and commits it
//! to SQLite in transactions. If the DB is corrupt, locked or unwritable it keeps the events
//! (dropping the oldest beyond the bound, counted), reports the problem and retries.

use crate::metrics::event::{EventKind, SignStats, TimedEvent};
use crate::metrics::recorder::{set_problem, SharedHealth};
use crate::metrics::schema::{self, DbError};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events per transaction: large enough to be cheap, small enough that a commit is quick.
const BATCH_SIZE: usize = 5_000;
/// How long a write waits on another process's lock before it is retried later.
const BUSY_TIMEOUT: Duration = Duration::from_millis(250);
/// How long the writer sleeps when it has nothing to do.
const IDLE_WAIT: Duration = Duration::from_secs(1);

pub(crate) enum WriterMessage {
    Event(TimedEvent),
    /// A sign with both texts: the writer compares them off the UI thread and keeps only
    /// the numbers; the texts are dropped right after.
    SignTexts {
        event: TimedEvent,
        ai_draft: Option<String>,
        signed: String,
    },
    /// Write now and answer whether the buffer is empty.
    Flush(Sender<bool>),
}

pub(crate) struct WriterOptions {
    pub db_path: PathBuf,
    pub clinician: String,
    pub session_id: String,
    pub session_started_wall_ms: i64,
    pub buffer_capacity: usize,
    pub retry_interval: Duration,
}

struct Writer {
    options: WriterOptions,
    shared: Arc<SharedHealth>,
    pending: VecDeque<TimedEvent>,
    connection: Option<Connection>,
    /// Row ids already known in this connection (cleared when a transaction fails).
    session_row: Option<i64>,
    document_rows: HashMap<(String, String), i64>,
    next_seq: i64,
    next_attempt: Instant,
}

pub(crate) fn run(
    receiver: Receiver<WriterMessage>,
    options: WriterOptions,
    shared: Arc<SharedHealth>,
) {
    let mut writer = Writer {
        options,
        shared,
        pending: VecDeque::new(),
        connection: None,
        session_row: None,
        document_rows: HashMap::new(),
        next_seq: 0,
        next_attempt: Instant::now(),
    };
    loop {
        let wait = if writer.pending.is_empty() {
            IDLE_WAIT
        } else {
            writer
                .next_attempt
                .saturating_duration_since(Instant::now())
        };
        let mut flushes = Vec::new();
        match receiver.recv_timeout(wait) {
            Ok(message) => writer.accept(message, &mut flushes),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                writer.write_pending();
                return;
            }
        }
        // Take what has arrived, but not forever: under a flood, write between batches.
        for _ in 0..BATCH_SIZE {
            match receiver.try_recv() {
                Ok(message) => writer.accept(message, &mut flushes),
                Err(_) => break,
            }
        }
        if !flushes.is_empty() || Instant::now() >= writer.next_attempt {
            writer.write_pending();
        }
        for reply in flushes {
            let _ = reply.send(writer.pending.is_empty());
        }
    }
}

impl Writer {
    fn accept(&mut self, message: WriterMessage, flushes: &mut Vec<Sender<bool>>) {
        match message {
            WriterMessage::Event(event) => self.buffer(event),
            WriterMessage::SignTexts {
                mut event,
                ai_draft,
                signed,
            } => {
                event.kind = EventKind::Sign(SignStats::from_texts(ai_draft.as_deref(), &signed));
                self.buffer(event);
            }
            WriterMessage::Flush(reply) => flushes.push(reply),
        }
    }

    fn buffer(&mut self, event: TimedEvent) {
        if self.pending.len() >= self.options.buffer_capacity {
            self.pending.pop_front();
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.pending.push_back(event);
        self.shared
            .buffered
            .store(self.pending.len(), Ordering::Relaxed);
    }

    /// Writes the buffer in batches until it is empty or the DB fails.
    fn write_pending(&mut self) {
        while !self.pending.is_empty() {
            if let Err(error) = self.write_one_batch() {
                if !error.is_locked() {
                    // Reopen from scratch next time: the file may have been replaced.
                    self.connection = None;
                }
                self.session_row = None;
                self.document_rows.clear();
                set_problem(&self.shared, Some(error.to_string()));
                self.next_attempt = Instant::now() + self.options.retry_interval;
                return;
            }
        }
        set_problem(&self.shared, None);
    }

    fn write_one_batch(&mut self) -> Result<(), DbError> {
        if self.connection.is_none() {
            self.connection = Some(schema::open_for_writing(
                &self.options.db_path,
                BUSY_TIMEOUT,
            )?);
        }
        let path = self.options.db_path.clone();
        let classify = |e| DbError::classify(&path, e);
        let Some(connection) = self.connection.as_mut() else {
            return Ok(());
        };
        let batch_len = self.pending.len().min(BATCH_SIZE);
        let transaction = connection.transaction().map_err(classify)?;
        let session_row = match self.session_row {
            Some(row) => row,
            None => {
                let row = session_row(&transaction, &self.options).map_err(classify)?;
                // Continue the sequence if this session already wrote (after a reopen).
                self.next_seq = transaction
                    .query_row(
                        "SELECT COALESCE(MAX(seq) + 1, 0) FROM events WHERE session = ?1",
                        [row],
                        |r| r.get(0),
                    )
                    .map_err(classify)?;
                row
            }
        };
        let mut seq = self.next_seq;
        {
            let mut insert_event = transaction
                .prepare_cached(
                    "INSERT INTO events (session, seq, document, kind, count, mono_us, wall_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(classify)?;
            let mut insert_sign = transaction
                .prepare_cached(
                    "INSERT INTO sign_stats (event, ai_draft_chars, signed_chars, edit_distance, retained_chars) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(classify)?;
            for event in self.pending.iter().take(batch_len) {
                let document_row = match &event.document {
                    None => None,
                    Some(document) => {
                        let info = document.info();
                        let key = (
                            info.document_id.clone(),
                            info.study.clone().unwrap_or_default(),
                        );
                        match self.document_rows.get(&key) {
                            Some(row) => Some(*row),
                            None => {
                                let row = document_row(&transaction, info).map_err(classify)?;
                                self.document_rows.insert(key, row);
                                Some(row)
                            }
                        }
                    }
                };
                insert_event
                    .execute(params![
                        session_row,
                        seq,
                        document_row,
                        event.kind.code(),
                        event.kind.count(),
                        event.mono_us,
                        event.wall_ms
                    ])
                    .map_err(classify)?;
                if let EventKind::Sign(stats) = event.kind {
                    insert_sign
                        .execute(params![
                            transaction.last_insert_rowid(),
                            stats.ai_draft_chars,
                            stats.signed_chars,
                            stats.edit_distance,
                            stats.retained_chars
                        ])
                        .map_err(classify)?;
                }
                seq += 1;
            }
        }
        transaction.commit().map_err(classify)?;
        self.session_row = Some(session_row);
        self.next_seq = seq;
        self.pending.drain(..batch_len);
        self.shared
            .buffered
            .store(self.pending.len(), Ordering::Relaxed);
        self.shared
            .written
            .fetch_add(batch_len as u64, Ordering::Relaxed);
        Ok(())
    }
}

fn session_row(connection: &Connection, options: &WriterOptions) -> rusqlite::Result<i64> {
    connection.execute(
        "INSERT OR IGNORE INTO sessions (uuid, clinician, started_wall_ms) VALUES (?1, ?2, ?3)",
        params![
            options.session_id,
            options.clinician,
            options.session_started_wall_ms
        ],
    )?;
    connection.query_row(
        "SELECT id FROM sessions WHERE uuid = ?1",
        [&options.session_id],
        |row| row.get(0),
    )
}

fn document_row(
    connection: &Connection,
    info: &crate::metrics::event::DocumentInfo,
) -> rusqlite::Result<i64> {
    let study = info.study.clone().unwrap_or_default();
    let found = connection
        .query_row(
            "SELECT id FROM documents WHERE document_id = ?1 AND study = ?2",
            params![info.document_id, study],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(row) = found {
        return Ok(row);
    }
    connection.execute(
        "INSERT INTO documents (document_id, chart_hash, doc_type, version, study, arm) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            info.document_id,
            info.chart_hash,
            info.doc_type,
            info.version,
            study,
            info.arm.map(|a| a.name()).unwrap_or("")
        ],
    )?;
    Ok(connection.last_insert_rowid())
}
