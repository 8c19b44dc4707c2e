//! The queue: a directory of chart files, one entry per file, kept in step with the
//! directory (new files appear without a restart). Files that fail to load stay in the
//! queue as error rows, so nothing silently disappears.

use super::error::ChartError;
use super::load::{is_chart_file, load};
use super::Chart;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("cannot read the queue directory {path}: {source} — check the path (--queue or queue_dir in the config)")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot watch the queue directory {path}: {message} — new charts will appear only after a restart")]
    Watch { path: PathBuf, message: String },
}

impl QueueError {
    /// The same in Japanese, for the review screen (the path verbatim).
    pub fn japanese(&self) -> String {
        match self {
            QueueError::ReadDir { path, source } => format!(
                "キューのフォルダ {} を読めません ({source}) — パスを確認してください (--queue または設定の queue_dir)",
                path.display()
            ),
            QueueError::Watch { path, message } => format!(
                "キューのフォルダ {} の変更を監視できません ({message}) — 新しいカルテは再起動後に表示されます",
                path.display()
            ),
        }
    }
}

/// One chart file of the queue: the chart, or why it could not be loaded.
#[derive(Debug, Clone)]
pub struct QueueEntry {
    pub path: PathBuf,
    pub file_name: String,
    pub chart: Result<Arc<Chart>, ChartError>,
    /// (modification time, size) when loaded; a change triggers a reload.
    stamp: Option<(SystemTime, u64)>,
}

#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    entries: Vec<QueueEntry>,
    /// Set when the queue is an SS-MIX2 storage (`ssmix2:ROOT`).
    ssmix2: Option<Ssmix2Source>,
}

/// An SS-MIX2 storage as a queue: patients are listed from the folder tree (cheap), then
/// read in time-boxed batches, so the first screen does not wait for the whole storage.
#[derive(Debug)]
struct Ssmix2Source {
    root: PathBuf,
    patients: Vec<String>,
    /// Patients before this index are read.
    next: usize,
    /// The folder stamp of each patient read (see `ssmix2::patient_stamp`).
    stamps: HashMap<String, u64>,
    /// Where the next pass looking for changed patients goes on.
    refresh: usize,
}

/// How long one scan or rescan of an SS-MIX2 queue reads patients before it returns rows.
const SSMIX2_BATCH: std::time::Duration = std::time::Duration::from_millis(150);

impl Queue {
    /// Loads every chart file in `dir` (sorted by file name).
    /// A queue written `ssmix2:ROOT` is an SS-MIX2 storage: one entry per encounter, read
    /// in batches (see [`Queue::is_complete`]).
    pub fn scan(dir: &Path) -> Result<Queue, QueueError> {
        let mut queue = Queue {
            dir: dir.to_path_buf(),
            entries: Vec::new(),
            ssmix2: None,
        };
        if let Some(root) = super::ssmix2::storage_root(dir) {
            queue.ssmix2 = Some(Ssmix2Source {
                patients: list_patients(&root)?,
                root,
                next: 0,
                stamps: HashMap::new(),
                refresh: 0,
            });
            queue.read_ssmix2_batch();
            return Ok(queue);
        }
        queue.reload_changed()?;
        Ok(queue)
    }

    /// False while an SS-MIX2 storage still has patients to read: call [`Queue::rescan`]
    /// again (each call reads the next batch).
    pub fn is_complete(&self) -> bool {
        self.ssmix2
            .as_ref()
            .is_none_or(|s| s.next >= s.patients.len())
    }

    fn read_ssmix2_batch(&mut self) -> bool {
        let Some(source) = self.ssmix2.as_mut() else {
            return false;
        };
        let started = std::time::Instant::now();
        let mut changed = false;
        while source.next < source.patients.len() && started.elapsed() < SSMIX2_BATCH {
            let pid = &source.patients[source.next];
            source.next += 1;
            let dir = super::ssmix2::storage::patient_dir(&source.root, pid);
            source
                .stamps
                .insert(pid.clone(), super::ssmix2::patient_stamp(&dir));
            self.entries.extend(ssmix2_entries(&dir));
            changed = true;
        }
        changed
    }

    /// Once every patient is read: looks, time-boxed and round-robin, for patients whose
    /// folders changed (a new or renamed file changes its folder's time) and reads them
    /// again in place.
    fn refresh_ssmix2_batch(&mut self) -> bool {
        let Some(source) = self.ssmix2.as_mut() else {
            return false;
        };
        let started = std::time::Instant::now();
        let total = source.next.min(source.patients.len());
        let mut changed = false;
        let mut checked = 0;
        while checked < total && started.elapsed() < SSMIX2_BATCH {
            let pid = &source.patients[source.refresh % total];
            source.refresh = (source.refresh + 1) % total;
            checked += 1;
            let dir = super::ssmix2::storage::patient_dir(&source.root, pid);
            let stamp = super::ssmix2::patient_stamp(&dir);
            if source.stamps.get(pid) == Some(&stamp) {
                continue;
            }
            source.stamps.insert(pid.clone(), stamp);
            let at = self.entries.iter().position(|e| e.path == dir);
            self.entries.retain(|e| e.path != dir);
            let fresh = ssmix2_entries(&dir);
            let at = at.unwrap_or(self.entries.len()).min(self.entries.len());
            self.entries.splice(at..at, fresh);
            changed = true;
        }
        changed
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn entries(&self) -> &[QueueEntry] {
        &self.entries
    }

    /// Picks up new, changed and removed files; true if anything changed. A directory
    /// that became unreadable keeps the entries already shown.
    pub fn rescan(&mut self) -> bool {
        if let Some(source) = &mut self.ssmix2 {
            if source.next >= source.patients.len() {
                // New patients appear after the ones already read.
                match list_patients(&source.root) {
                    Ok(listed) => {
                        let known: std::collections::HashSet<&String> =
                            source.patients.iter().collect();
                        let new: Vec<String> =
                            listed.into_iter().filter(|p| !known.contains(p)).collect();
                        source.patients.extend(new);
                    }
                    Err(e) => tracing::warn!("ss-mix2 queue rescan failed: {e}"),
                }
            }
            let complete = source.next >= source.patients.len();
            let read = self.read_ssmix2_batch();
            return if complete {
                self.refresh_ssmix2_batch() || read
            } else {
                read
            };
        }
        self.reload_changed().unwrap_or_else(|e| {
            tracing::warn!("queue rescan failed: {e}");
            false
        })
    }

    fn reload_changed(&mut self) -> Result<bool, QueueError> {
        let read_err = |source| QueueError::ReadDir {
            path: self.dir.clone(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(read_err)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| is_chart_file(p) && !is_hidden(p))
            .collect();
        paths.sort();

        let mut old: HashMap<PathBuf, QueueEntry> = self
            .entries
            .drain(..)
            .map(|e| (e.path.clone(), e))
            .collect();
        let mut changed = old.len() != paths.len();
        for path in paths {
            let stamp = file_stamp(&path);
            let entry = match old.remove(&path) {
                Some(entry) if entry.stamp == stamp && stamp.is_some() => entry,
                _ => {
                    changed = true;
                    load_entry(path, stamp)
                }
            };
            self.entries.push(entry);
        }
        Ok(changed || !old.is_empty())
    }
}

fn load_entry(path: PathBuf, stamp: Option<(SystemTime, u64)>) -> QueueEntry {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let chart = load(&path).map(Arc::new);
    if let Err(e) = &chart {
        // The problem, not the content: error messages never quote chart text.
        tracing::warn!(file = %file_name, "chart not loaded: {}", e.problem);
    }
    QueueEntry {
        path,
        file_name,
        chart,
        stamp,
    }
}

fn list_patients(root: &Path) -> Result<Vec<String>, QueueError> {
    let mut skipped = Vec::new();
    let patients = super::ssmix2::storage::list_patients(root, &mut skipped).map_err(|source| {
        QueueError::ReadDir {
            path: root.to_path_buf(),
            source,
        }
    })?;
    super::ssmix2::log_skipped(&skipped);
    Ok(patients)
}

/// The entries of one SS-MIX2 patient: one per encounter, or one error row.
fn ssmix2_entries(dir: &Path) -> Vec<QueueEntry> {
    let entry = |file_name: String, chart| QueueEntry {
        path: dir.to_path_buf(),
        file_name,
        chart,
        stamp: None,
    };
    match super::ssmix2::read_patient(dir) {
        Ok(record) => {
            super::ssmix2::log_skipped(&record.skipped);
            super::ssmix2::charts(&record)
                .into_iter()
                .map(|chart| entry(chart.id.clone(), Ok(Arc::new(chart))))
                .collect()
        }
        Err(e) => {
            tracing::warn!("ss-mix2 patient not loaded: {}", e.problem);
            let name = e.file_name();
            vec![entry(name, Err(e))]
        }
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Watches `dir` and sends `()` on every change; the receiver then calls [`Queue::rescan`].
/// Keep the returned watcher alive as long as events are wanted.
pub fn watch(
    dir: &Path,
    tx: tokio::sync::mpsc::UnboundedSender<()>,
) -> Result<notify::RecommendedWatcher, QueueError> {
    use notify::Watcher as _;
    let err = |e: notify::Error| QueueError::Watch {
        path: dir.to_path_buf(),
        message: e.to_string(),
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Opening or reading a file is no change; the rescan itself opens the directory,
        // so passing those on would make the queue rescan itself forever.
        use notify::event::{AccessKind, AccessMode, EventKind};
        let is_change = |kind: &EventKind| match kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            _ => true,
        };
        if event.is_ok_and(|e| is_change(&e.kind)) {
            let _ = tx.send(());
        }
    })
    .map_err(err)?;
    watcher
        .watch(dir, notify::RecursiveMode::NonRecursive)
        .map_err(err)?;
    Ok(watcher)
}
