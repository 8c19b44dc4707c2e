//! Where karte keeps its files (XDG), and how it creates them: user-only,
//! directories 0700 and files 0600, because drafts and journals hold patient data.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The per-user directories. Overridable as a whole with `KARTE_HOME` (tests, multi-site installs).
#[derive(Debug, Clone)]
pub struct AppPaths {
    /// config.toml, keymap, user themes and templates.
    pub config_dir: PathBuf,
    /// Dictionary, models, drafts, journals, signed documents, metrics DB.
    pub data_dir: PathBuf,
    /// Logs.
    pub state_dir: PathBuf,
}

impl AppPaths {
    pub fn discover() -> io::Result<Self> {
        if let Some(home) = std::env::var_os("KARTE_HOME") {
            return Ok(Self::under(Path::new(&home)));
        }
        let dirs = directories::ProjectDirs::from("", "", "karte").ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "no home directory: set HOME or KARTE_HOME",
            )
        })?;
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
            state_dir: dirs
                .state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .to_path_buf(),
        })
    }

    /// All directories below one root (used by `KARTE_HOME` and tests).
    pub fn under(root: &Path) -> Self {
        Self {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            state_dir: root.join("state"),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
    /// The lindera IPADIC dictionary built by `karte setup`.
    pub fn ipadic_dir(&self) -> PathBuf {
        self.data_dir.join("dictionary").join("ipadic")
    }
    pub fn models_dir(&self) -> PathBuf {
        self.data_dir.join("models")
    }
    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("log")
    }
}

/// Creates `dir` and its missing parents with mode 0700.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // An existing directory keeps its mode from before; tighten it.
    let mode = fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens `path` for appending, creating it 0600 (journals, logs, audit).
pub fn open_private_append(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent() {
        create_private_dir(parent)?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Writes `bytes` to `path` atomically: a 0600 temp file beside it, fsync, rename, fsync dir.
/// Readers see the old file or the new one, never a torn one.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    create_private_dir(parent)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    // A write killed half-way (power cut, SIGKILL) left its temp file: never renamed, so
    // never seen as the file; remove it now.
    crate::fault::remove_stale_temp_files(parent);
    let tmp = parent.join(format!(".{file_name}.tmp.{}", std::process::id()));
    {
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        crate::fault::point("atomic:temp-written");
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    crate::fault::point("atomic:renamed");
    File::open(parent)?.sync_all()?;
    crate::fault::point("atomic:dir-synced");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_and_dirs_are_user_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let file = dir.join("x.json");
        write_private_atomic(&file, b"one").unwrap();
        write_private_atomic(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let log = dir.join("log.txt");
        open_private_append(&log).unwrap().write_all(b"x").unwrap();
        assert_eq!(
            fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
