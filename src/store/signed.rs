//! Signed versions: one JSON file per version, written atomically (temp file, fsync, link
//! into place without replacing, fsync dir), made read-only and never modified. Each carries
//! the signer, UTC time, the text and a SHA-256 of its content, so a file edited by hand is
//! detected. Amending signs version n+1, linked to version n by number and hash.

use super::document::{DocumentKind, DocumentStore, SectionText};
use super::journal::io_hint;
use crate::chart::Chart;
use crate::paths::create_private_dir;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Version of the signed-file layout.
pub const SIGNED_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedDocument {
    pub format: u32,
    pub chart_id: String,
    pub doc: DocumentKind,
    /// 1, 2, … ; version n+1 amends version n.
    pub version: u32,
    pub amends: Option<AmendedVersion>,
    pub signer: String,
    pub signed_at: DateTime<Utc>,
    pub title: String,
    pub sections: Vec<SectionText>,
    /// Fingerprint of the chart the document was signed against (see `chart_fingerprint`).
    pub chart_sha256: Option<String>,
    /// Guard findings the signer acknowledged (stable ids).
    #[serde(default)]
    pub acknowledged: Vec<String>,
    /// SHA-256 of everything above (see `content_hash`).
    pub content_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmendedVersion {
    pub version: u32,
    pub content_sha256: String,
}

/// Everything that is hashed: the document less its own hash, in a fixed field order.
#[derive(Serialize)]
struct HashedContent<'a> {
    format: u32,
    chart_id: &'a str,
    doc: DocumentKind,
    version: u32,
    amends: &'a Option<AmendedVersion>,
    signer: &'a str,
    signed_at: &'a DateTime<Utc>,
    title: &'a str,
    sections: &'a [SectionText],
    chart_sha256: &'a Option<String>,
    acknowledged: &'a [String],
}

impl SignedDocument {
    pub fn content_hash(&self) -> String {
        let content = HashedContent {
            format: self.format,
            chart_id: &self.chart_id,
            doc: self.doc,
            version: self.version,
            amends: &self.amends,
            signer: &self.signer,
            signed_at: &self.signed_at,
            title: &self.title,
            sections: &self.sections,
            chart_sha256: &self.chart_sha256,
            acknowledged: &self.acknowledged,
        };
        // Serializing plain data into a Vec cannot fail.
        let bytes = serde_json::to_vec(&content).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }

    /// The text of the whole document (sections in order).
    pub fn section(&self, key: &str) -> Option<&SectionText> {
        self.sections.iter().find(|s| s.key == key)
    }
}

/// SHA-256 of the chart as loaded (to notice at export that the chart changed since signing).
pub fn chart_fingerprint(chart: &Chart) -> String {
    let bytes = serde_json::to_vec(chart).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// What to sign.
#[derive(Debug, Clone)]
pub struct SignRequest<'a> {
    pub chart_id: &'a str,
    pub doc: DocumentKind,
    pub signer: &'a str,
    pub title: &'a str,
    pub sections: &'a [SectionText],
    pub chart_sha256: Option<String>,
    pub acknowledged: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{hint}\n  cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        hint: &'static str,
        source: io::Error,
    },
    #[error("version {version} of this document was signed meanwhile (another session?): reopen the chart to see it")]
    VersionExists { version: u32 },
    #[error("cannot amend: the previous signed version is not intact: {0}")]
    PreviousInvalid(#[from] VerifyError),
    #[error("nothing to sign: the document has no text")]
    Empty,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read signed document {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("signed document {path} is not readable ({message}): it was damaged or edited by hand; restore it from backup")]
    Unreadable { path: PathBuf, message: String },
    #[error("signed document {path} was modified after signing: its content hash is {actual}, the signature recorded {recorded}; restore it from backup")]
    Tampered {
        path: PathBuf,
        recorded: String,
        actual: String,
    },
    #[error("signed document {path} does not belong here (it says chart {chart_id}, {doc} version {version})")]
    Misplaced {
        path: PathBuf,
        chart_id: String,
        doc: DocumentKind,
        version: u32,
    },
}

/// The signed versions of every document of one user.
#[derive(Debug, Clone)]
pub struct SignedStore {
    documents: DocumentStore,
}

impl SignedStore {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            documents: DocumentStore::new(data_dir),
        }
    }

    pub fn version_path(&self, chart_id: &str, doc: DocumentKind, version: u32) -> PathBuf {
        self.documents
            .document_dir(chart_id, doc)
            .join(format!("v{version:04}.json"))
    }

    /// Version numbers signed so far, ascending.
    pub fn versions(&self, chart_id: &str, doc: DocumentKind) -> Result<Vec<u32>, VerifyError> {
        let dir = self.documents.document_dir(chart_id, doc);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(VerifyError::Read { path: dir, source }),
        };
        let mut versions: Vec<u32> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_prefix('v')?.strip_suffix(".json")?.parse().ok()
            })
            .collect();
        versions.sort_unstable();
        Ok(versions)
    }

    pub fn latest_version(
        &self,
        chart_id: &str,
        doc: DocumentKind,
    ) -> Result<Option<u32>, VerifyError> {
        Ok(self.versions(chart_id, doc)?.last().copied())
    }

    /// Reads and verifies one version.
    pub fn load(
        &self,
        chart_id: &str,
        doc: DocumentKind,
        version: u32,
    ) -> Result<SignedDocument, VerifyError> {
        let path = self.version_path(chart_id, doc, version);
        let signed = load_verified(&path)?;
        if signed.chart_id != chart_id || signed.doc != doc || signed.version != version {
            return Err(VerifyError::Misplaced {
                path,
                chart_id: signed.chart_id,
                doc: signed.doc,
                version: signed.version,
            });
        }
        Ok(signed)
    }

    /// The newest signed version, verified; `None` when nothing is signed.
    pub fn load_latest(
        &self,
        chart_id: &str,
        doc: DocumentKind,
    ) -> Result<Option<SignedDocument>, VerifyError> {
        match self.latest_version(chart_id, doc)? {
            Some(v) => self.load(chart_id, doc, v).map(Some),
            None => Ok(None),
        }
    }

    /// Signs the sections as the next version (amending the latest one, if any).
    pub fn sign(&self, request: &SignRequest<'_>) -> Result<SignedDocument, SignError> {
        if request.sections.iter().all(|s| s.text.trim().is_empty()) {
            return Err(SignError::Empty);
        }
        let previous = self.load_latest(request.chart_id, request.doc)?;
        let version = previous.as_ref().map_or(1, |p| p.version + 1);
        let mut signed = SignedDocument {
            format: SIGNED_FORMAT,
            chart_id: request.chart_id.to_string(),
            doc: request.doc,
            version,
            amends: previous.map(|p| AmendedVersion {
                version: p.version,
                content_sha256: p.content_sha256,
            }),
            signer: request.signer.to_string(),
            signed_at: Utc::now(),
            title: request.title.to_string(),
            sections: request.sections.to_vec(),
            chart_sha256: request.chart_sha256.clone(),
            acknowledged: request.acknowledged.clone(),
            content_sha256: String::new(),
        };
        signed.content_sha256 = signed.content_hash();
        let path = self.version_path(request.chart_id, request.doc, version);
        let mut bytes = serde_json::to_vec_pretty(&signed).unwrap_or_default();
        bytes.push(b'\n');
        write_new_read_only(&path, &bytes).map_err(|(op, source)| {
            if source.kind() == io::ErrorKind::AlreadyExists {
                SignError::VersionExists { version }
            } else {
                SignError::Io {
                    op,
                    hint: io_hint(&source),
                    path: path.clone(),
                    source,
                }
            }
        })?;
        Ok(signed)
    }
}

/// Reads a signed file and checks its hash.
pub fn load_verified(path: &Path) -> Result<SignedDocument, VerifyError> {
    let bytes = fs::read(path).map_err(|source| VerifyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let signed: SignedDocument =
        serde_json::from_slice(&bytes).map_err(|e| VerifyError::Unreadable {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let actual = signed.content_hash();
    if actual != signed.content_sha256 {
        return Err(VerifyError::Tampered {
            path: path.to_path_buf(),
            recorded: signed.content_sha256,
            actual,
        });
    }
    Ok(signed)
}

/// Creates `path` with `bytes`, atomically and never replacing an existing file: a temp file
/// is written, fsync'd and made read-only, then hard-linked to `path` (fails if it exists).
fn write_new_read_only(path: &Path, bytes: &[u8]) -> Result<(), (&'static str, io::Error)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(|e| ("create the directory for", e))?;
    // A signature killed half-way left its temp file: it was never linked, or is linked
    // already; either way it is not a version.
    crate::fault::remove_stale_temp_files(dir);
    let tmp = dir.join(format!(
        ".sign.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let written = (|| {
        let mut f = OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        crate::fault::point("sign:temp-written");
        f.sync_all()?;
        crate::fault::point("sign:temp-synced");
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o400))?;
        Ok(())
    })();
    let linked = written.and_then(|_| fs::hard_link(&tmp, path));
    crate::fault::point("sign:linked");
    let _ = fs::remove_file(&tmp);
    crate::fault::point("sign:temp-removed");
    linked.map_err(|e| ("write", e))?;
    let synced = File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ("sync the directory of", e));
    crate::fault::point("sign:dir-synced");
    synced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(sections: &'a [SectionText]) -> SignRequest<'a> {
        SignRequest {
            chart_id: "demo-001",
            doc: DocumentKind::Discharge,
            signer: "山田 花子",
            title: "退院時サマリー",
            sections,
            chart_sha256: None,
            acknowledged: vec![],
        }
    }

    #[test]
    fn sign_verify_amend_and_detect_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let store = SignedStore::new(dir.path());
        let sections = vec![SectionText::new("course", "入院経過", "軽快退院。")];
        let v1 = store.sign(&request(&sections)).unwrap();
        assert_eq!(v1.version, 1);
        assert!(v1.amends.is_none());
        let path = store.version_path("demo-001", DocumentKind::Discharge, 1);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o400
        );
        assert_eq!(
            store.load("demo-001", DocumentKind::Discharge, 1).unwrap(),
            v1
        );

        let amended = vec![SectionText::new("course", "入院経過", "軽快退院した。")];
        let v2 = store.sign(&request(&amended)).unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(
            v2.amends.as_ref().unwrap().content_sha256,
            v1.content_sha256
        );
        assert_eq!(
            store.versions("demo-001", DocumentKind::Discharge).unwrap(),
            vec![1, 2]
        );

        // Edit version 2 by hand.
        let text =
            fs::read_to_string(store.version_path("demo-001", DocumentKind::Discharge, 2)).unwrap();
        let edited = text.replace("軽快退院した。", "死亡退院した。");
        let p2 = store.version_path("demo-001", DocumentKind::Discharge, 2);
        fs::set_permissions(&p2, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&p2, edited).unwrap();
        let err = store
            .load_latest("demo-001", DocumentKind::Discharge)
            .unwrap_err();
        assert!(matches!(err, VerifyError::Tampered { .. }), "{err}");
        assert!(err.to_string().contains("modified after signing"));
        // Amending on top of a tampered version is refused.
        assert!(matches!(
            store.sign(&request(&amended)).unwrap_err(),
            SignError::PreviousInvalid(_)
        ));
    }

    #[test]
    fn an_existing_version_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v0001.json");
        write_new_read_only(&path, b"first").unwrap();
        let err = write_new_read_only(&path, b"second").unwrap_err();
        assert_eq!(err.1.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "temp file left behind");
    }

    #[test]
    fn empty_documents_are_not_signed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SignedStore::new(dir.path());
        let sections = vec![SectionText::new("course", "入院経過", "  ")];
        assert!(matches!(
            store.sign(&request(&sections)),
            Err(SignError::Empty)
        ));
    }
}
