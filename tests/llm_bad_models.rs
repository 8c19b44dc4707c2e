//! Every kind of bad model file gives its own clear error (naming the file), never a
//! crash or a hang: missing, empty, not GGUF, truncated header, truncated tensor data,
//! corrupt header, and a well-formed GGUF that llama.cpp cannot load.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use karte::llm::{Engine, EngineConfig, EngineEvent, LlmError};

fn real_model() -> PathBuf {
    karte::paths::AppPaths::discover()
        .unwrap()
        .models_dir()
        .join("gemma-3-270m-q4_k_m.gguf")
}

fn load(path: &Path) -> LlmError {
    let (engine, mut events) = Engine::start(EngineConfig::new(path.to_path_buf()));
    let err = engine.wait_loaded().unwrap_err();
    // The same error is reported on the event channel, for the TUI.
    loop {
        match events.blocking_recv() {
            Some(EngineEvent::LoadFailed(e)) => {
                assert_eq!(e, err);
                break;
            }
            Some(_) => continue,
            None => panic!("no LoadFailed event"),
        }
    }
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the message names the file: {message}"
    );
    err
}

/// The first `len` bytes of the real model, in a file of `size` bytes (sparse after `len`).
fn partial_copy(dir: &Path, name: &str, len: u64, size: u64) -> PathBuf {
    let mut head = Vec::new();
    std::fs::File::open(real_model())
        .unwrap()
        .take(len)
        .read_to_end(&mut head)
        .unwrap();
    let path = dir.join(name);
    let mut out = std::fs::File::create(&path).unwrap();
    out.write_all(&head).unwrap();
    out.set_len(size).unwrap();
    path
}

#[test]
fn missing_empty_and_non_gguf_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.gguf");
    assert!(matches!(load(&missing), LlmError::ModelMissing { .. }));
    assert!(load(&missing).to_string().contains("karte setup"));

    let empty = dir.path().join("empty.gguf");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(load(&empty), LlmError::NotGguf { .. }));

    let text = dir.path().join("notes.gguf");
    std::fs::write(&text, "これはモデルではありません\n".repeat(100)).unwrap();
    assert!(matches!(load(&text), LlmError::NotGguf { .. }));

    assert!(matches!(load(dir.path()), LlmError::NotGguf { .. }));
}

#[test]
fn truncated_and_corrupt_copies_of_the_real_model() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::metadata(real_model()).unwrap().len();

    // Cut inside the header (the tokenizer alone takes megabytes).
    let cut_header = partial_copy(dir.path(), "cut-header.gguf", 100_000, 100_000);
    assert!(matches!(load(&cut_header), LlmError::TruncatedGguf { .. }));

    // Whole header, but the last megabyte of tensor data missing.
    let cut_data = partial_copy(dir.path(), "cut-data.gguf", 8 << 20, full - (1 << 20));
    match load(&cut_data) {
        LlmError::TruncatedGguf { detail, .. } => assert!(detail.contains("tensor"), "{detail}"),
        other => panic!("{other}"),
    }

    // A header with an impossible version.
    let bad_version = partial_copy(dir.path(), "bad-version.gguf", 8 << 20, full);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&bad_version)
        .unwrap();
    f.write_all(b"GGUF\x07\x00\x00\x00").unwrap();
    drop(f);
    assert!(matches!(load(&bad_version), LlmError::CorruptGguf { .. }));
}

#[test]
fn a_well_formed_gguf_llama_cpp_cannot_load_is_an_error_not_a_crash() {
    // Valid GGUF (one f32 tensor) for an architecture llama.cpp does not know.
    let mut bytes = Vec::new();
    let string = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    bytes.extend_from_slice(b"GGUF");
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes());
    string(&mut bytes, "general.architecture");
    bytes.extend_from_slice(&8u32.to_le_bytes());
    string(&mut bytes, "no-such-architecture");
    string(&mut bytes, "w");
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&8u64.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&0u64.to_le_bytes());
    while bytes.len() % 32 != 0 {
        bytes.push(0);
    }
    bytes.extend_from_slice(&[0u8; 32]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unknown-arch.gguf");
    std::fs::write(&path, bytes).unwrap();
    assert!(matches!(load(&path), LlmError::LoadFailed { .. }));
}
