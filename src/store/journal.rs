//! The edit journal: append-only, one file per (chart, document), in the user's data dir.
//!
//! On disk: an 8-byte header, then records framed as `[len: u32 LE][crc32: u32 LE][JSON]`.
//! Records carry whole section texts (a section is a few hundred characters), so recovery
//! is "replay and keep the last text of each section"; a damaged tail (power loss mid-write,
//! bad checksum) costs only the records after the last good one, and the damage is reported.
//! When the file grows past a threshold it is compacted into one snapshot record.

use super::document::{DocumentKind, DocumentStore, SectionText};
use crate::paths::{create_private_dir, open_private_append, write_private_atomic};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// File header: identifies a karte journal and its framing version.
pub const JOURNAL_HEADER: &[u8; 8] = b"KARTEJ1\n";
/// A record larger than this is treated as damage (a corrupt length), not allocated.
const MAX_RECORD_BYTES: u32 = 64 * 1024 * 1024;
/// Compact (rewrite as one snapshot) once the journal is larger than this.
const COMPACT_THRESHOLD_BYTES: u64 = 4 * 1024 * 1024;

/// One journaled event. Section texts are whole (not diffs): simple, and any single good
/// record after damage still gives a usable text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JournalRecord {
    /// A section as the model wrote it (what "revert to the AI draft" goes back to);
    /// it also becomes the section's current text.
    Generated {
        at: DateTime<Utc>,
        section: SectionText,
    },
    /// A section's full text after the clinician's edits.
    Edited {
        at: DateTime<Utc>,
        section: SectionText,
    },
    /// The whole document exactly as the editor holds it (every character, text above the
    /// first heading and under mistyped or repeated headings included), with its split into
    /// sections. It replaces the section list: a heading deleted since is gone from it.
    /// (Added after the first journals: those hold `edited` records only and still replay.)
    Document {
        at: DateTime<Utc>,
        text: String,
        sections: Vec<SectionText>,
    },
    /// A guard finding the clinician acknowledged (its stable id).
    Acknowledged { at: DateTime<Utc>, item_id: String },
    /// The clinician took an acknowledgement back (pressed by mistake).
    AcknowledgementWithdrawn { at: DateTime<Utc>, item_id: String },
    /// The clinician marked a section accepted, or took the mark back (its key).
    Accepted {
        at: DateTime<Utc>,
        section: String,
        accepted: bool,
    },
    /// The current text was signed as this version.
    Signed {
        at: DateTime<Utc>,
        version: u32,
        content_sha256: String,
    },
    /// The whole state at once (written by compaction).
    Snapshot {
        at: DateTime<Utc>,
        state: DraftState,
    },
}

/// The replayed state of a journal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DraftState {
    /// Current text of each section, in order of first appearance.
    pub sections: Vec<SectionText>,
    /// The editor's exact text, when the last change was journaled whole (`Document`);
    /// `None` for journals written before, or after a section was (re)generated alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The model's text of each section.
    pub ai_sections: Vec<SectionText>,
    pub acknowledged: BTreeSet<String>,
    /// Sections marked accepted (their keys); a section the model writes again loses it.
    #[serde(default)]
    pub accepted: BTreeSet<String>,
    pub last_change_at: Option<DateTime<Utc>>,
    /// Last version signed from this journal.
    pub signed_version: Option<u32>,
    /// Edits (or generations) after the last signature.
    pub unsigned_changes: bool,
}

impl DraftState {
    fn apply(&mut self, record: &JournalRecord) {
        match record {
            JournalRecord::Generated { at, section } => {
                self.accepted.remove(&section.key);
                upsert(&mut self.ai_sections, section);
                upsert(&mut self.sections, section);
                self.text = None; // the sections are the truth until the next `Document`
                self.last_change_at = Some(*at);
                self.unsigned_changes = true;
            }
            JournalRecord::Edited { at, section } => {
                upsert(&mut self.sections, section);
                self.text = None;
                self.last_change_at = Some(*at);
                self.unsigned_changes = true;
            }
            JournalRecord::Document { at, text, sections } => {
                self.sections.clone_from(sections);
                self.text = Some(text.clone());
                self.last_change_at = Some(*at);
                self.unsigned_changes = true;
            }
            JournalRecord::Acknowledged { item_id, .. } => {
                self.acknowledged.insert(item_id.clone());
            }
            JournalRecord::AcknowledgementWithdrawn { item_id, .. } => {
                self.acknowledged.remove(item_id);
            }
            JournalRecord::Accepted {
                section, accepted, ..
            } => {
                if *accepted {
                    self.accepted.insert(section.clone());
                } else {
                    self.accepted.remove(section);
                }
            }
            JournalRecord::Signed { version, .. } => {
                self.signed_version = Some(*version);
                self.unsigned_changes = false;
            }
            JournalRecord::Snapshot { state, .. } => *self = state.clone(),
        }
    }

    pub fn section(&self, key: &str) -> Option<&SectionText> {
        self.sections.iter().find(|s| s.key == key)
    }
}

fn upsert(sections: &mut Vec<SectionText>, section: &SectionText) {
    match sections.iter_mut().find(|s| s.key == section.key) {
        Some(existing) => {
            existing.text.clone_from(&section.text);
            if !section.heading.is_empty() {
                existing.heading.clone_from(&section.heading);
            }
        }
        None => sections.push(section.clone()),
    }
}

/// What recovery found.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    pub state: DraftState,
    /// Good records replayed.
    pub records: usize,
    /// Set when the file had a damaged tail (everything before it was recovered).
    pub damage: Option<JournalDamage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JournalDamage {
    pub path: PathBuf,
    /// Bytes of good records (header included); the file is sound up to here.
    pub good_bytes: u64,
    /// Bytes after the last good record that could not be used.
    pub discarded_bytes: u64,
    pub reason: DamageReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamageReason {
    /// The file ends in the middle of a record (crash or power loss while writing).
    Truncated,
    /// A record's checksum does not match its bytes.
    BadChecksum,
    /// A record announces an impossible length.
    BadLength,
    /// The checksum matches but the record is not a journal record (written by another version?).
    Unreadable(String),
    /// The file does not start with the journal header.
    NotAJournal,
}

impl std::fmt::Display for JournalDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match &self.reason {
            DamageReason::Truncated => "the file ends in the middle of a record".to_string(),
            DamageReason::BadChecksum => "a record's checksum does not match".to_string(),
            DamageReason::BadLength => "a record has an impossible length".to_string(),
            DamageReason::Unreadable(e) => format!("a record cannot be read ({e})"),
            DamageReason::NotAJournal => "the file is not a karte journal".to_string(),
        };
        write!(
            f,
            "journal {} is damaged: {why}; recovered everything before byte {}, {} bytes after it were unusable",
            self.path.display(),
            self.good_bytes,
            self.discarded_bytes
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{hint}\n  cannot {op} the edit journal {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        hint: &'static str,
        source: io::Error,
    },
    #[error("cannot encode a journal record: {0}")]
    Encode(#[from] serde_json::Error),
}

impl JournalError {
    fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        let hint = io_hint(&source);
        JournalError::Io {
            op,
            path: path.to_path_buf(),
            hint,
            source,
        }
    }
}

/// A short "what to do" for the I/O errors a clinician can act on.
pub(crate) fn io_hint(err: &io::Error) -> &'static str {
    match err.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => {
            "ディスクがいっぱいです — 下書きはメモリ上に保持し、空きができしだい保存し直します (the disk is full)"
        }
        Some(libc::EROFS) => {
            "データの保存先が読み取り専用です — 下書きはメモリ上に保持します。書き込める場所を KARTE_HOME に指定してください (the data directory is read-only)"
        }
        Some(libc::EACCES) | Some(libc::EPERM) => {
            "保存先に書き込む権限がありません — 下書きはメモリ上に保持します。データディレクトリの所有者と権限を確認してください (permission denied)"
        }
        _ => "保存できません — 下書きはメモリ上に保持し、保存を再試行します (saving is retried)",
    }
}

/// Encodes one record with its frame.
pub fn encode_record(record: &JournalRecord) -> Result<Vec<u8>, JournalError> {
    let payload = serde_json::to_vec(record)?;
    let mut framed = Vec::with_capacity(payload.len() + 8);
    framed.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    framed.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    framed.extend_from_slice(&payload);
    Ok(framed)
}

/// Replays journal bytes; never fails, damage is reported in the result.
pub fn decode_journal(path: &Path, bytes: &[u8]) -> Recovered {
    let mut state = DraftState::default();
    let mut records = 0;
    let damage = |good: usize, reason| {
        Some(JournalDamage {
            path: path.to_path_buf(),
            good_bytes: good as u64,
            discarded_bytes: (bytes.len() - good) as u64,
            reason,
        })
    };
    if bytes.len() < JOURNAL_HEADER.len() || &bytes[..JOURNAL_HEADER.len()] != JOURNAL_HEADER {
        let reason = if JOURNAL_HEADER.starts_with(bytes) {
            DamageReason::Truncated
        } else {
            DamageReason::NotAJournal
        };
        let damage = if bytes.is_empty() {
            None
        } else {
            damage(0, reason)
        };
        return Recovered {
            state,
            records,
            damage,
        };
    }
    let mut pos = JOURNAL_HEADER.len();
    let mut found_damage = None;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.len() < 8 {
            found_damage = damage(pos, DamageReason::Truncated);
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD_BYTES {
            found_damage = damage(pos, DamageReason::BadLength);
            break;
        }
        let Some(payload) = rest.get(8..8 + len as usize) else {
            found_damage = damage(pos, DamageReason::Truncated);
            break;
        };
        if crc32fast::hash(payload) != crc {
            found_damage = damage(pos, DamageReason::BadChecksum);
            break;
        }
        match serde_json::from_slice::<JournalRecord>(payload) {
            Ok(record) => {
                state.apply(&record);
                records += 1;
            }
            Err(e) => {
                found_damage = damage(pos, DamageReason::Unreadable(e.to_string()));
                break;
            }
        }
        pos += 8 + len as usize;
    }
    Recovered {
        state,
        records,
        damage: found_damage,
    }
}

/// Reads and replays a journal file; `Ok(None)` when there is none.
pub fn recover_file(path: &Path) -> Result<Option<Recovered>, JournalError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => f
            .read_to_end(&mut bytes)
            .map_err(|e| JournalError::io("read", path, e))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(JournalError::io("read", path, e)),
    };
    Ok(Some(decode_journal(path, &bytes)))
}

/// The last good state of a document's journal, with a damage report; `None` if never journaled.
pub fn recover(
    store: &DocumentStore,
    chart_id: &str,
    doc: DocumentKind,
) -> Result<Option<Recovered>, JournalError> {
    recover_file(&store.journal_path(chart_id, doc))
}

/// An open journal. `append` only buffers; `flush_and_sync` writes and fsyncs. On a write
/// error the torn tail is cut off and the records stay buffered, so nothing is lost while
/// the process lives and a later flush can succeed (disk freed, permissions fixed).
pub struct Journal {
    path: PathBuf,
    file: Option<File>,
    /// Length of the file up to the last record known to be written whole.
    good_len: u64,
    pending: Vec<u8>,
    pending_records: usize,
    state: DraftState,
    /// The file's directory entry is durable (fsync'd dir) — false for a new file.
    entry_durable: bool,
    /// Written to the file but not yet fsync'd.
    unsynced: bool,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`. Returns what was recovered from an
    /// existing file. A damaged tail is preserved in a side file and cut off, so new records
    /// follow the last good one.
    pub fn open(path: &Path) -> Result<(Journal, Option<Recovered>), JournalError> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(|e| JournalError::io("create", path, e))?;
        }
        let recovered = recover_file(path)?;
        let mut state = DraftState::default();
        let mut good_len = 0;
        if let Some(rec) = &recovered {
            state = rec.state.clone();
            good_len = rec
                .damage
                .as_ref()
                .map(|d| d.good_bytes)
                .unwrap_or_else(|| file_len(path));
            if let Some(damage) = &rec.damage {
                preserve_damaged_copy(path).map_err(|e| JournalError::io("repair", path, e))?;
                if damage.good_bytes == 0 {
                    std::fs::remove_file(path).map_err(|e| JournalError::io("repair", path, e))?;
                } else {
                    let f = std::fs::OpenOptions::new()
                        .write(true)
                        .open(path)
                        .map_err(|e| JournalError::io("repair", path, e))?;
                    f.set_len(damage.good_bytes)
                        .and_then(|_| f.sync_all())
                        .map_err(|e| JournalError::io("repair", path, e))?;
                }
                tracing::warn!(
                    good_bytes = damage.good_bytes,
                    discarded_bytes = damage.discarded_bytes,
                    "journal damaged; recovered up to the last good record"
                );
            }
        }
        let mut journal = Journal {
            path: path.to_path_buf(),
            file: None,
            good_len,
            pending: Vec::new(),
            pending_records: 0,
            state,
            entry_durable: good_len > 0,
            unsynced: false,
        };
        if journal.good_len == 0 {
            journal.pending.extend_from_slice(JOURNAL_HEADER);
        }
        Ok((journal, recovered))
    }

    /// Opens the journal of one document of one chart.
    pub fn open_for(
        store: &DocumentStore,
        chart_id: &str,
        doc: DocumentKind,
    ) -> Result<(Journal, Option<Recovered>), JournalError> {
        Self::open(&store.journal_path(chart_id, doc))
    }

    /// A journal that could not be opened (data dir missing, unwritable, unreadable): it
    /// keeps records in memory and tries to create the file at every flush, so editing goes
    /// on and nothing is lost while the process lives.
    pub fn detached(path: &Path) -> Journal {
        Journal {
            path: path.to_path_buf(),
            file: None,
            good_len: 0,
            pending: JOURNAL_HEADER.to_vec(),
            pending_records: 0,
            state: DraftState::default(),
            entry_durable: false,
            unsynced: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state after every appended record (written or not).
    pub fn state(&self) -> &DraftState {
        &self.state
    }

    /// Records appended but not yet on disk.
    pub fn pending_records(&self) -> usize {
        self.pending_records
    }

    /// Buffers a record (no I/O).
    pub fn append(&mut self, record: &JournalRecord) -> Result<(), JournalError> {
        let framed = encode_record(record)?;
        self.pending.extend_from_slice(&framed);
        self.pending_records += 1;
        self.state.apply(record);
        Ok(())
    }

    /// Writes the buffered records to the file without fsync: they survive the process
    /// being killed (SIGKILL, SIGHUP), not a power loss. Compacts a large journal.
    pub fn write_pending(&mut self) -> Result<(), JournalError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.good_len + self.pending.len() as u64 > COMPACT_THRESHOLD_BYTES {
            return self.compact();
        }
        if self.file_lost() {
            // Its directory was removed (or the file replaced) while open: appending would
            // go to a file nobody can find. Write everything again, whole, where it belongs.
            tracing::warn!("the journal file disappeared while open; writing it again whole");
            self.file = None;
            return self.compact();
        }
        if self.file.is_none() {
            let file = open_private_append(&self.path)
                .map_err(|e| JournalError::io("open", &self.path, e))?;
            self.file = Some(file);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        match file.write_all(&self.pending) {
            Ok(()) => {
                self.good_len += self.pending.len() as u64;
                self.pending.clear();
                self.pending_records = 0;
                self.unsynced = true;
                Ok(())
            }
            Err(e) => {
                // Cut the torn tail so that later records are not hidden behind it.
                if file.set_len(self.good_len).is_err() {
                    self.file = None;
                }
                Err(JournalError::io("write", &self.path, e))
            }
        }
    }

    /// Whether what was written before is no longer at `path` (removed, or replaced by
    /// another file).
    fn file_lost(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(&self.path) {
            Err(e) => e.kind() == io::ErrorKind::NotFound && self.good_len > 0,
            Ok(on_disk) => self.file.as_ref().is_some_and(|file| {
                file.metadata()
                    .map(|open| (open.dev(), open.ino()) != (on_disk.dev(), on_disk.ino()))
                    .unwrap_or(true)
            }),
        }
    }

    /// Makes what was written durable (fsync; the directory too for a new file).
    pub fn sync(&mut self) -> Result<(), JournalError> {
        if !self.unsynced {
            return Ok(());
        }
        if let Some(file) = self.file.as_mut() {
            file.sync_data()
                .map_err(|e| JournalError::io("sync", &self.path, e))?;
        }
        if !self.entry_durable {
            // A new file survives power loss only once its directory is synced.
            let dir = self.path.parent().unwrap_or(Path::new("."));
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| JournalError::io("sync the directory of", &self.path, e))?;
            self.entry_durable = true;
        }
        self.unsynced = false;
        Ok(())
    }

    /// Writes the buffered records and fsyncs.
    pub fn flush_and_sync(&mut self) -> Result<(), JournalError> {
        self.write_pending()?;
        self.sync()
    }

    /// Rewrites the journal as one snapshot of the current state (atomically).
    pub fn compact(&mut self) -> Result<(), JournalError> {
        let mut bytes = JOURNAL_HEADER.to_vec();
        bytes.extend_from_slice(&encode_record(&JournalRecord::Snapshot {
            at: Utc::now(),
            state: self.state.clone(),
        })?);
        write_private_atomic(&self.path, &bytes)
            .map_err(|e| JournalError::io("compact", &self.path, e))?;
        self.file = None;
        self.good_len = bytes.len() as u64;
        self.pending.clear();
        self.pending_records = 0;
        self.entry_durable = true;
        self.unsynced = false;
        Ok(())
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Keeps the damaged journal as it was, beside it, before it is repaired.
fn preserve_damaged_copy(path: &Path) -> io::Result<()> {
    let bytes = std::fs::read(path)?;
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let name = format!(
        "{}.damaged-{stamp}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "journal".into())
    );
    write_private_atomic(&path.with_file_name(name), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edited(key: &str, text: &str) -> JournalRecord {
        JournalRecord::Edited {
            at: Utc::now(),
            section: SectionText::new(key, "", text),
        }
    }

    #[test]
    fn replays_last_text_of_each_section() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j/journal.log");
        let (mut j, rec) = Journal::open(&path).unwrap();
        assert!(rec.is_none());
        j.append(&JournalRecord::Generated {
            at: Utc::now(),
            section: SectionText::new("course", "入院経過", "AI文"),
        })
        .unwrap();
        j.append(&edited("course", "修正1")).unwrap();
        j.append(&edited("plan", "方針")).unwrap();
        j.append(&edited("course", "修正2")).unwrap();
        j.flush_and_sync().unwrap();
        let rec = recover_file(&path).unwrap().unwrap();
        assert_eq!(rec.records, 4);
        assert!(rec.damage.is_none());
        assert_eq!(rec.state.section("course").unwrap().text, "修正2");
        assert_eq!(rec.state.section("course").unwrap().heading, "入院経過");
        assert_eq!(rec.state.ai_sections[0].text, "AI文");
        assert_eq!(rec.state.sections.len(), 2);
    }

    #[test]
    fn every_truncation_point_recovers_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.log");
        let (mut j, _) = Journal::open(&path).unwrap();
        for i in 0..5 {
            j.append(&edited("s", &format!("版{i}"))).unwrap();
        }
        j.flush_and_sync().unwrap();
        let full = std::fs::read(&path).unwrap();
        let mut last_records = 0;
        for cut in 0..full.len() {
            let rec = decode_journal(&path, &full[..cut]);
            assert!(rec.records >= last_records);
            last_records = rec.records;
            if cut > 0 && rec.damage.is_none() {
                // Only exact record boundaries are clean.
                assert_eq!(encode_len_prefix_sum(&full[..cut]), cut);
            }
            if rec.records > 0 {
                let text = &rec.state.section("s").unwrap().text;
                assert_eq!(text, &format!("版{}", rec.records - 1));
            }
        }
    }

    fn encode_len_prefix_sum(bytes: &[u8]) -> usize {
        let mut pos = JOURNAL_HEADER.len();
        while pos + 8 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
            pos += 8 + len;
        }
        pos
    }

    #[test]
    fn bad_checksum_stops_replay_and_open_repairs_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.log");
        let (mut j, _) = Journal::open(&path).unwrap();
        j.append(&edited("s", "一")).unwrap();
        j.flush_and_sync().unwrap();
        let good = std::fs::metadata(&path).unwrap().len();
        j.append(&edited("s", "二")).unwrap();
        j.flush_and_sync().unwrap();
        drop(j);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x55;
        std::fs::write(&path, &bytes).unwrap();

        let (mut j, rec) = Journal::open(&path).unwrap();
        let rec = rec.unwrap();
        let damage = rec.damage.unwrap();
        assert_eq!(damage.reason, DamageReason::BadChecksum);
        assert_eq!(damage.good_bytes, good);
        assert_eq!(rec.state.section("s").unwrap().text, "一");
        assert!(damage.to_string().contains("damaged"));
        // New records land after the good ones and are recovered next time.
        j.append(&edited("s", "三")).unwrap();
        j.flush_and_sync().unwrap();
        let again = recover_file(&path).unwrap().unwrap();
        assert!(again.damage.is_none());
        assert_eq!(again.state.section("s").unwrap().text, "三");
        let copies = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("damaged")
            })
            .count();
        assert_eq!(copies, 1);
    }

    #[test]
    fn compaction_keeps_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.log");
        let (mut j, _) = Journal::open(&path).unwrap();
        j.append(&edited("a", "x")).unwrap();
        for item_id in ["g-1", "g-2"] {
            j.append(&JournalRecord::Acknowledged {
                at: Utc::now(),
                item_id: item_id.into(),
            })
            .unwrap();
        }
        j.append(&JournalRecord::AcknowledgementWithdrawn {
            at: Utc::now(),
            item_id: "g-2".into(),
        })
        .unwrap();
        for (section, accepted) in [("a", true), ("c", true), ("c", false)] {
            j.append(&JournalRecord::Accepted {
                at: Utc::now(),
                section: section.into(),
                accepted,
            })
            .unwrap();
        }
        j.compact().unwrap();
        j.append(&edited("b", "y")).unwrap();
        j.flush_and_sync().unwrap();
        let rec = recover_file(&path).unwrap().unwrap();
        assert_eq!(rec.records, 2);
        assert_eq!(rec.state.section("a").unwrap().text, "x");
        assert_eq!(rec.state.section("b").unwrap().text, "y");
        assert!(rec.state.acknowledged.contains("g-1"));
        assert!(!rec.state.acknowledged.contains("g-2"), "withdrawn");
        assert_eq!(rec.state.accepted, BTreeSet::from(["a".to_string()]));
    }

    #[test]
    fn a_journal_whose_directory_is_removed_is_written_again_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc/journal.log");
        let (mut j, _) = Journal::open(&path).unwrap();
        j.append(&edited("a", "一")).unwrap();
        j.flush_and_sync().unwrap();
        std::fs::remove_dir_all(dir.path().join("doc")).unwrap();
        j.append(&edited("b", "二")).unwrap();
        j.flush_and_sync().unwrap();
        let rec = recover_file(&path).unwrap().expect("the journal is back");
        assert!(rec.damage.is_none());
        assert_eq!(rec.state.section("a").unwrap().text, "一");
        assert_eq!(rec.state.section("b").unwrap().text, "二");
        // And appending goes on in the new file.
        j.append(&edited("a", "三")).unwrap();
        j.flush_and_sync().unwrap();
        let rec = recover_file(&path).unwrap().unwrap();
        assert_eq!(rec.state.section("a").unwrap().text, "三");
    }

    #[test]
    fn document_records_replace_the_sections_and_keep_the_exact_text() {
        let mut s = DraftState::default();
        s.apply(&edited("old", "消えた見出し"));
        s.apply(&JournalRecord::Document {
            at: Utc::now(),
            text: "前文\n【宛先】\n内科".into(),
            sections: vec![
                SectionText::new(super::super::document::PREAMBLE_KEY, "", "前文"),
                SectionText::new("addressee", "宛先", "内科"),
            ],
        });
        assert_eq!(s.text.as_deref(), Some("前文\n【宛先】\n内科"));
        assert_eq!(s.sections.len(), 2, "a heading deleted since is gone");
        assert!(s.unsigned_changes);
        // A section generated alone makes the sections the truth again.
        s.apply(&JournalRecord::Generated {
            at: Utc::now(),
            section: SectionText::new("addressee", "宛先", "AI"),
        });
        assert_eq!(s.text, None);
        assert_eq!(s.section("addressee").unwrap().text, "AI");
    }

    #[test]
    fn signed_clears_unsigned_changes() {
        let mut s = DraftState::default();
        s.apply(&edited("a", "x"));
        assert!(s.unsigned_changes);
        s.apply(&JournalRecord::Signed {
            at: Utc::now(),
            version: 1,
            content_sha256: "00".into(),
        });
        assert!(!s.unsigned_changes);
        assert_eq!(s.signed_version, Some(1));
    }
}
