//! The lindera IPADIC dictionary: built once by `karte setup` from Debian's mecab-ipadic
//! sources (EUC-JP CSVs in /usr/share/mecab/dic/ipadic), then memory-mapped at load.
//!
//! lindera's `embed-ipadic` feature is not used: it downloads the sources from a host that
//! is not reachable where karte is built. Debian ships the same IPADIC 2.7.0 sources.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use lindera::dictionary::{Dictionary, DictionaryBuilder, Metadata, Schema};

use super::NlpError;

/// Where Debian's `mecab-ipadic` package puts the dictionary sources.
pub const DEBIAN_IPADIC_SOURCE_DIR: &str = "/usr/share/mecab/dic/ipadic";

/// The files a built dictionary consists of (lindera 6 layout, format version 2).
const BUILT_FILES: [&str; 9] = [
    "metadata.json",
    "char_def.bin",
    "unk.bin",
    "matrix.mtx",
    "dict.trie",
    "dict.valsidx",
    "dict.vals",
    "dict.words",
    "dict.wordsidx",
];

/// Context id of `名詞,一般` in IPADIC's left-id.def / right-id.def.
pub const IPADIC_NOUN_GENERAL_CONTEXT_ID: u16 = 1285;

/// The metadata lindera needs to read IPADIC's sources: EUC-JP, 13 columns per entry.
pub fn ipadic_metadata() -> Metadata {
    Metadata::new(
        "ipadic".to_string(),
        "EUC-JP".to_string(),
        -10000,
        IPADIC_NOUN_GENERAL_CONTEXT_ID,
        IPADIC_NOUN_GENERAL_CONTEXT_ID,
        "*".to_string(),
        false,
        false,
        false,
        Schema::default(),
        Schema::new(vec![
            "surface".to_string(),
            "major_pos".to_string(),
            "reading".to_string(),
        ]),
    )
}

/// Builds the IPADIC dictionary from `source_dir` (mecab-ipadic's CSVs and .def files) into
/// `out_dir`. The build goes to a sibling temporary directory first and is renamed into
/// place, so `out_dir` never holds a half-built dictionary. Directories 0700, files 0600.
pub fn build_ipadic(source_dir: &Path, out_dir: &Path) -> Result<(), NlpError> {
    let build_error = |detail: String| NlpError::DictionaryBuild {
        source_dir: source_dir.to_path_buf(),
        out_dir: out_dir.to_path_buf(),
        detail,
    };
    for required in ["matrix.def", "char.def", "unk.def", "Noun.csv"] {
        if !source_dir.join(required).is_file() {
            return Err(build_error(format!("{required} is missing there")));
        }
    }
    let parent = out_dir
        .parent()
        .ok_or_else(|| build_error("the output directory has no parent".into()))?;
    crate::paths::create_private_dir(parent).map_err(|source| NlpError::Io {
        path: parent.to_path_buf(),
        source,
    })?;
    let staging = staging_dir(out_dir);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|source| NlpError::Io {
            path: staging.clone(),
            source,
        })?;
    }
    crate::paths::create_private_dir(&staging).map_err(|source| NlpError::Io {
        path: staging.clone(),
        source,
    })?;

    let result = DictionaryBuilder::new(ipadic_metadata())
        .build_dictionary(source_dir, &staging)
        .map_err(|err| build_error(err.to_string()))
        .and_then(|()| make_files_private(&staging))
        .and_then(|()| {
            if is_built(&staging) {
                Ok(())
            } else {
                Err(build_error("the build left files missing".into()))
            }
        })
        .and_then(|()| replace_dir(&staging, out_dir));
    if result.is_err() {
        // Best effort: a failed build leaves nothing behind.
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

/// Whether `dir` holds a complete dictionary this lindera version can read.
pub fn is_built(dir: &Path) -> bool {
    if !BUILT_FILES.iter().all(|name| dir.join(name).is_file()) {
        return false;
    }
    fs::read(dir.join("metadata.json"))
        .ok()
        .and_then(|bytes| Metadata::load(&bytes).ok())
        .is_some_and(|metadata| metadata.validate_format_version().is_ok())
}

/// How many times this process has opened the dictionary (the benchmark checks it stays 1).
static LOADS: AtomicUsize = AtomicUsize::new(0);

pub fn load_count() -> usize {
    LOADS.load(Ordering::Relaxed)
}

/// Opens the built dictionary memory-mapped (the pages are shared and loaded lazily).
pub fn load_ipadic(dir: &Path) -> Result<Dictionary, NlpError> {
    LOADS.fetch_add(1, Ordering::Relaxed);
    if !is_built(dir) {
        return Err(NlpError::DictionaryMissing {
            dir: dir.to_path_buf(),
        });
    }
    lindera::dictionary::load_fs_dictionary(dir).map_err(|err| NlpError::DictionaryLoad {
        dir: dir.to_path_buf(),
        detail: err.to_string(),
    })
}

fn staging_dir(out_dir: &Path) -> PathBuf {
    let name = out_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ipadic".into());
    out_dir.with_file_name(format!(".{name}.building.{}", std::process::id()))
}

fn make_files_private(dir: &Path) -> Result<(), NlpError> {
    let io_error = |path: &Path, source| NlpError::Io {
        path: path.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let path = entry.map_err(|e| io_error(dir, e))?.path();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
            .map_err(|e| io_error(&path, e))?;
    }
    Ok(())
}

/// Swaps `staging` into `out_dir`, moving an older dictionary aside first.
fn replace_dir(staging: &Path, out_dir: &Path) -> Result<(), NlpError> {
    let io_error = |path: &Path, source| NlpError::Io {
        path: path.to_path_buf(),
        source,
    };
    if out_dir.exists() {
        let old = out_dir.with_file_name(format!(".ipadic.old.{}", std::process::id()));
        fs::rename(out_dir, &old).map_err(|e| io_error(out_dir, e))?;
        fs::rename(staging, out_dir).map_err(|e| io_error(out_dir, e))?;
        fs::remove_dir_all(&old).map_err(|e| io_error(&old, e))?;
    } else {
        fs::rename(staging, out_dir).map_err(|e| io_error(out_dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_dictionary_names_the_dir_and_setup() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(!is_built(tmp.path()));
        let err = load_ipadic(tmp.path()).err().unwrap().to_string();
        assert!(err.contains(&tmp.path().display().to_string()), "{err}");
        assert!(err.contains("karte setup"), "{err}");
    }

    #[test]
    fn build_refuses_a_directory_without_sources() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out/ipadic");
        let err = build_ipadic(tmp.path(), &out).err().unwrap().to_string();
        assert!(err.contains("matrix.def"), "{err}");
        assert!(!out.exists());
    }
}
