//! The metrics DB: opening it privately (dir 0700, file 0600), WAL, the schema, and errors
//! that say which file is wrong and what to do.

use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// File name of the metrics DB inside the data dir.
pub const DB_FILE_NAME: &str = "metrics.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    clinician TEXT NOT NULL,
    started_wall_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL,
    chart_hash TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    version INTEGER NOT NULL,
    study TEXT NOT NULL DEFAULT '',
    arm TEXT NOT NULL DEFAULT '',
    UNIQUE (document_id, study)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    document INTEGER REFERENCES documents(id),
    kind INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    mono_us INTEGER NOT NULL,
    wall_ms INTEGER NOT NULL,
    UNIQUE (session, seq)
);
CREATE TABLE IF NOT EXISTS sign_stats (
    event INTEGER PRIMARY KEY REFERENCES events(id),
    ai_draft_chars INTEGER,
    signed_chars INTEGER NOT NULL,
    edit_distance INTEGER,
    retained_chars INTEGER
);
";

/// Why the metrics DB cannot be used right now.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("metrics DB {path} is not a valid SQLite database ({detail})\n  move it away (e.g. `mv {path} {path}.bad`); karte starts a new one")]
    Corrupt { path: PathBuf, detail: String },
    #[error("metrics DB {path} is locked by another process ({detail})\n  close the other karte or sqlite3 using it and try again")]
    Locked { path: PathBuf, detail: String },
    #[error("metrics DB {path} cannot be written ({detail})\n  check the disk space and that the file and its directory belong to you")]
    Unwritable { path: PathBuf, detail: String },
    #[error("no metrics recorded yet: {path} does not exist\n  metrics are recorded while you review documents in karte")]
    Missing { path: PathBuf },
}

impl DbError {
    /// Sorts a SQLite error into what the user can do about it.
    pub fn classify(path: &Path, error: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        let detail = error.to_string();
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
                DbError::Corrupt { path, detail }
            }
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
                DbError::Locked { path, detail }
            }
            _ => DbError::Unwritable { path, detail },
        }
    }

    pub fn is_locked(&self) -> bool {
        matches!(self, DbError::Locked { .. })
    }
}

/// Opens (creating if needed) the DB for writing: dir 0700, file 0600, WAL, schema.
pub fn open_for_writing(path: &Path, busy_timeout: Duration) -> Result<Connection, DbError> {
    let unwritable = |detail: String| DbError::Unwritable {
        path: path.to_path_buf(),
        detail,
    };
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir).map_err(|e| unwritable(e.to_string()))?;
    }
    // Create the file ourselves so SQLite never creates it with the umask's mode.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| unwritable(e.to_string()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| unwritable(e.to_string()))?;
        }
    }
    let classify = |e| DbError::classify(path, e);
    let conn = Connection::open(path).map_err(classify)?;
    conn.busy_timeout(busy_timeout).map_err(classify)?;
    // journal_mode answers with a row; it also fails early on a file that is not a DB.
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
        .map_err(classify)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError::Locked {
            path: path.to_path_buf(),
            detail: format!("could not switch to WAL (journal mode is {mode})"),
        });
    }
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        .map_err(classify)?;
    conn.execute_batch(SCHEMA).map_err(classify)?;
    Ok(conn)
}

/// Opens an existing DB for reading (reports); never creates one.
pub fn open_for_reading(path: &Path) -> Result<Connection, DbError> {
    if !path.exists() {
        return Err(DbError::Missing {
            path: path.to_path_buf(),
        });
    }
    let classify = |e| DbError::classify(path, e);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(classify)?;
    conn.busy_timeout(Duration::from_millis(2000))
        .map_err(classify)?;
    // Touch the schema so a corrupt or foreign file fails here, with a clear message.
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('sessions', 'documents', 'events', 'sign_stats')",
            [],
            |row| row.get(0),
        )
        .map_err(classify)?;
    if tables != 4 {
        return Err(DbError::Corrupt {
            path: path.to_path_buf(),
            detail: "it is not a karte metrics DB (tables missing)".into(),
        });
    }
    Ok(conn)
}
