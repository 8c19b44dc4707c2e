//! Pseudonymous ids for reports: a keyed hash (SHA-256 over a secret key kept in the user's
//! data dir, 0600), so ids are stable across reports but cannot be reversed by guessing names.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// File name of the key inside the data dir.
pub const KEY_FILE_NAME: &str = "metrics-pseudonym.key";

#[derive(Clone)]
pub struct PseudonymKey([u8; 32]);

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PseudonymKeyError {
    #[error(
        "cannot read the pseudonym key {path}: {source}\n  check that the file belongs to you"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the pseudonym key {path} is damaged (expected 64 hex digits)\n  move it away to make a new one (report ids will change)")]
    Damaged { path: PathBuf },
    #[error("cannot write the pseudonym key {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PseudonymKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads the key from `data_dir`, creating a random one (0600) the first time.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, PseudonymKeyError> {
        let path = data_dir.join(KEY_FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| PseudonymKeyError::Damaged { path: path.clone() })?;
                Ok(Self(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let bytes: [u8; 32] = rand::random();
                crate::paths::write_private_atomic(&path, hex::encode(bytes).as_bytes())
                    .map_err(|source| PseudonymKeyError::Write { path, source })?;
                Ok(Self(bytes))
            }
            Err(source) => Err(PseudonymKeyError::Read { path, source }),
        }
    }

    /// `prefix` + 12 hex digits of SHA-256(key ‖ kind ‖ value).
    pub fn pseudonym(&self, prefix: &str, value: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.0);
        hasher.update(prefix.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        format!("{prefix}{}", hex::encode(&hasher.finalize()[..6]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn key_is_private_stable_and_keyed() {
        let dir = tempfile::tempdir().unwrap();
        let key = PseudonymKey::load_or_create(dir.path()).unwrap();
        let again = PseudonymKey::load_or_create(dir.path()).unwrap();
        assert_eq!(key.pseudonym("c-", "sato"), again.pseudonym("c-", "sato"));
        assert_ne!(key.pseudonym("c-", "sato"), key.pseudonym("c-", "suzuki"));
        let other = PseudonymKey::from_bytes([7; 32]);
        assert_ne!(key.pseudonym("c-", "sato"), other.pseudonym("c-", "sato"));
        let mode = std::fs::metadata(dir.path().join(KEY_FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(dir.path().join(KEY_FILE_NAME), "zz").unwrap();
        assert!(PseudonymKey::load_or_create(dir.path()).is_err());
    }
}
