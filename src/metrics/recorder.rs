//! The recorder the UI thread calls: `record` stamps the event and hands it to a bounded
//! channel without ever blocking; a background writer (see `writer`) puts it into SQLite.

use crate::metrics::event::{DocumentRef, EventKind, SignStats, TimedEvent};
use crate::metrics::writer::{self, WriterMessage, WriterOptions};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How to start a recorder.
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    /// The metrics DB (normally `AppPaths.data_dir/metrics.sqlite3`).
    pub db_path: PathBuf,
    /// Who is working (the OS user; pseudonymized in reports).
    pub clinician: String,
    /// Events kept in memory while the DB is unusable; beyond, the oldest are dropped and counted.
    pub buffer_capacity: usize,
    /// Time between attempts to write again after the DB failed.
    pub retry_interval: Duration,
}

impl RecorderOptions {
    /// Options from the config's `[metrics]` section, for the current OS user.
    pub fn from_config(db_path: PathBuf, config: &crate::metrics::MetricsConfig) -> Self {
        Self {
            db_path,
            clinician: current_clinician(),
            buffer_capacity: config.buffer_capacity.max(1),
            // A NaN or absurd value in the config falls back to the default.
            retry_interval: if config.retry_secs.is_finite() {
                Duration::from_secs_f64(config.retry_secs.clamp(0.01, 3600.0))
            } else {
                Duration::from_secs(5)
            },
        }
    }
}

/// The OS user running karte (`$USER`, else `$LOGNAME`, else the numeric uid).
pub fn current_clinician() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|name| !name.trim().is_empty())
        .unwrap_or_else(|| {
            // SAFETY: getuid has no preconditions and cannot fail.
            format!("uid-{}", unsafe { libc::getuid() })
        })
}

/// Counters shared between the recorder and its writer thread.
#[derive(Debug, Default)]
pub(crate) struct SharedHealth {
    pub buffered: AtomicUsize,
    pub dropped: AtomicU64,
    pub written: AtomicU64,
    pub problem: Mutex<Option<String>>,
}

/// What the status bar needs to know about the recorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderHealth {
    /// Why the DB is not being written right now (message names the file and the fix).
    pub problem: Option<String>,
    /// Events waiting in memory.
    pub buffered: usize,
    /// Events lost because the buffer was full (since start).
    pub dropped: u64,
    /// Events committed to the DB (since start).
    pub written: u64,
}

impl RecorderHealth {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none() && self.dropped == 0
    }

    /// A one-line warning for the status bar, or `None` when all is well.
    pub fn warning(&self) -> Option<String> {
        if self.is_ok() {
            return None;
        }
        let first_line = self
            .problem
            .as_deref()
            .and_then(|p| p.lines().next())
            .unwrap_or("metrics DB recovered");
        Some(format!(
            "metrics: {first_line} ({} buffered, {} dropped)",
            self.buffered, self.dropped
        ))
    }
}

/// Records one session's events. Create one per TUI session; drop it on quit (the writer
/// flushes what it can, then stops).
pub struct Recorder {
    sender: Option<SyncSender<WriterMessage>>,
    started: Instant,
    session_id: String,
    shared: Arc<SharedHealth>,
    writer: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Starts the background writer. Never fails: an unusable DB shows in `health()` and the
    /// writer keeps retrying while events are buffered.
    pub fn start(options: RecorderOptions) -> Self {
        let session_id = uuid::Uuid::new_v4().to_string();
        let shared = Arc::new(SharedHealth::default());
        let capacity = options.buffer_capacity.max(1);
        let (sender, receiver) = mpsc::sync_channel(capacity.min(65_536));
        let writer_options = WriterOptions {
            db_path: options.db_path,
            clinician: options.clinician,
            session_id: session_id.clone(),
            session_started_wall_ms: wall_clock_ms(),
            buffer_capacity: capacity,
            retry_interval: options.retry_interval,
        };
        let writer_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("karte-metrics".into())
            .spawn(move || writer::run(receiver, writer_options, writer_shared));
        let (sender, writer) = match writer {
            Ok(handle) => (Some(sender), Some(handle)),
            Err(error) => {
                set_problem(
                    &shared,
                    Some(format!("cannot start the metrics writer: {error}")),
                );
                (None, None)
            }
        };
        Self {
            sender,
            started: Instant::now(),
            session_id,
            shared,
            writer,
        }
    }

    /// The recorder for this user as configured: `None` when `[metrics] enabled = false`.
    /// The DB is `metrics.sqlite3` in the data dir.
    pub fn start_for(
        paths: &crate::paths::AppPaths,
        config: &crate::metrics::MetricsConfig,
    ) -> Option<Self> {
        config.enabled.then(|| {
            Self::start(RecorderOptions::from_config(
                crate::metrics::db_path(paths),
                config,
            ))
        })
    }

    /// Records an action on a document. Costs well under a microsecond; never blocks.
    pub fn record(&self, document: &DocumentRef, kind: EventKind) {
        self.send(Some(document.clone()), kind, self.now_us(), wall_clock_ms());
    }

    /// Records the sign of a document from its texts: the AI draft as generated (`None` in the
    /// manual arm) and the signed text. The comparison (edit distance, retained share) runs on
    /// the writer thread; only the numbers are stored, never the texts.
    pub fn record_sign(&self, document: &DocumentRef, ai_draft: Option<String>, signed: String) {
        let event = TimedEvent {
            document: Some(document.clone()),
            kind: EventKind::Sign(SignStats::default()),
            mono_us: self.now_us(),
            wall_ms: wall_clock_ms(),
        };
        self.deliver(WriterMessage::SignTexts {
            event,
            ai_draft,
            signed,
        });
    }

    /// Records a session-wide action (quit, disconnect) not tied to one document.
    pub fn record_session(&self, kind: EventKind) {
        self.send(None, kind, self.now_us(), wall_clock_ms());
    }

    /// Records an event with given times (replaying or importing a log; tests).
    pub fn record_at(
        &self,
        document: Option<&DocumentRef>,
        kind: EventKind,
        mono_us: i64,
        wall_ms: i64,
    ) {
        self.send(document.cloned(), kind, mono_us, wall_ms);
    }

    fn now_us(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX)
    }

    fn send(&self, document: Option<DocumentRef>, kind: EventKind, mono_us: i64, wall_ms: i64) {
        let event = TimedEvent {
            document,
            kind,
            mono_us,
            wall_ms,
        };
        self.deliver(WriterMessage::Event(event));
    }

    fn deliver(&self, message: WriterMessage) {
        let delivered = match &self.sender {
            Some(sender) => match sender.try_send(message) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        if !delivered {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The state of the DB and the buffer (for the status bar).
    pub fn health(&self) -> RecorderHealth {
        let problem = match self.shared.problem.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        RecorderHealth {
            problem,
            buffered: self.shared.buffered.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            written: self.shared.written.load(Ordering::Relaxed),
        }
    }

    /// Asks the writer to write everything recorded so far and waits up to `timeout` for the
    /// answer (quit, tests). Returns whether everything is in the DB.
    pub fn flush(&self, timeout: Duration) -> bool {
        let Some(sender) = &self.sender else {
            return false;
        };
        let (reply, answer) = mpsc::channel();
        if sender.send(WriterMessage::Flush(reply)).is_err() {
            return false;
        }
        answer.recv_timeout(timeout).unwrap_or(false)
    }

    /// The random id of this session (one per recorder).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Closing the channel tells the writer to write what is left and stop.
        self.sender.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

pub(crate) fn set_problem(shared: &SharedHealth, problem: Option<String>) {
    match shared.problem.lock() {
        Ok(mut guard) => *guard = problem,
        Err(poisoned) => *poisoned.into_inner() = problem,
    }
}

/// Milliseconds since the Unix epoch (UTC); 0 if the clock is before 1970.
pub fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
