//! Fuzzing every parser that reads what a clinician's machine hands karte: the chart loaders
//! (karte JSON, FHIR R4 Bundle, text in UTF-8 / CP932 / EUC-JP / ISO-2022-JP / UTF-16), the
//! GGUF header check, the journal decoder, the config and theme parsers, and the `karte
//! extract` pipeline. Stable Rust: a small mutational fuzzer on proptest (seeded from the
//! checked-in corpus in `fixtures/fuzz/<target>/`, byte flips, interesting values, token
//! insertion, deletion, duplication, truncation and splicing), which shrinks a crashing
//! input to a small one and writes it to `target/fuzz-crashes/` (crashes found become
//! regression seeds in the corpus). No input may panic; each parser answers Ok or an error.
//!
//! CI gives each target `KARTE_FUZZ_SECONDS` (default 2 s); `scripts/fuzz-long.sh` runs each
//! for 10 minutes or more (figures in the README, "Nothing lost").

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::nlp::Pipeline;
use karte::paths::AppPaths;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Byte strings worth inserting: JSON and TOML syntax, big and negative numbers, escapes,
/// encodings' lead bytes and escape sequences, GGUF-sized integers, control characters.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"0.0",
    b"18446744073709551615",
    b"\"\\u0000\"",
    b"\\ud800",
    b"=",
    b"[[",
    b"]]",
    b"\n",
    b"\r\n",
    b"#",
    b"'''",
    b"\x1b$B",
    b"\x1b(B",
    b"\x1b(J",
    b"\x82\xa0",
    b"\xa4\xa2",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xe3\x81",
    b"\x00",
    b"\x7f",
    b"\x1b[2J",
    "【".as_bytes(),
    "肺炎".as_bytes(),
    b"\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\x00\x00\x00\x00\x00\x00\x00\x80",
    b"\x08\x00\x00\x00",
    b"\x09\x00\x00\x00",
    b"GGUF",
    b"KARTEJ1\n",
    b"\"resourceType\"",
    b"\"Bundle\"",
    b"\"entry\"",
    b"\"type\":\"document\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Insert(usize, usize),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
    Splice(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        2 => (any::<usize>(), prop::sample::select(&[0u8, 0x7f, 0x80, 0xff, b'"', b'\\', b'\n', 0x1b][..]))
            .prop_map(|(i, b)| Mutation::SetByte(i, b)),
        4 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        2 => (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<usize>(), 1usize..256).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<usize>(), any::<usize>()).prop_map(|(s, i, n)| Mutation::Splice(s, i, n)),
    ]
}

fn apply(seeds: &[Vec<u8>], seed: usize, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seeds[seed % seeds.len()].clone();
    for m in mutations {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match *m {
            Mutation::FlipBit(i, bit) if len > 0 => bytes[i % len] ^= 1 << bit,
            Mutation::SetByte(i, b) if len > 0 => bytes[i % len] = b,
            Mutation::Insert(i, t) => {
                let i = at(i);
                bytes.splice(i..i, TOKENS[t].iter().copied());
            }
            Mutation::Delete(i, n) if len > 0 => {
                let i = i % len;
                bytes.drain(i..(i + n).min(len));
            }
            Mutation::Duplicate(i, n) if len > 0 => {
                let i = i % len;
                let part = bytes[i..(i + n).min(len)].to_vec();
                bytes.splice(i..i, part);
            }
            Mutation::Truncate(i) => bytes.truncate(at(i)),
            Mutation::Splice(s, i, n) => {
                let other = &seeds[s % seeds.len()];
                if !other.is_empty() {
                    let from = i % other.len();
                    let part = other[from..(from + n % 512).min(other.len())].to_vec();
                    let i = at(i);
                    bytes.splice(i..i, part);
                }
            }
            _ => {}
        }
    }
    bytes
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

fn budget() -> Duration {
    let seconds = std::env::var("KARTE_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(seconds)
}

/// Runs `check` on mutated corpus inputs for the time budget; a panic fails the test with
/// the shrunk input (saved under `target/fuzz-crashes/`).
fn fuzz(target: &str, check: impl Fn(&[u8])) {
    let seeds = corpus(target);
    // Every seed as it is, first.
    for seed in &seeds {
        check(seed);
    }
    let strategy = (any::<usize>(), prop::collection::vec(mutation(), 1..12));
    let started = Instant::now();
    let deadline = started + budget();
    let inputs = std::cell::Cell::new(seeds.len() as u64);
    let mut round = 0u64;
    while Instant::now() < deadline {
        round += 1;
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&round.to_le_bytes());
        key[8..8 + target.len().min(24)]
            .copy_from_slice(&target.as_bytes()[..target.len().min(24)]);
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 64,
                failure_persistence: None,
                max_shrink_iters: 20_000,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &key),
        );
        let result = runner.run(&strategy, |(seed, mutations)| {
            inputs.set(inputs.get() + 1);
            check(&apply(&seeds, seed, &mutations));
            Ok(())
        });
        match result {
            Ok(()) => {}
            Err(TestError::Fail(reason, (seed, mutations))) => {
                let input = apply(&seeds, seed, &mutations);
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join(format!("{target}-{:08x}", crc(&input)));
                std::fs::write(&path, &input).unwrap();
                panic!(
                    "{target}: input {} ({} bytes) fails: {reason}",
                    path.display(),
                    input.len()
                );
            }
            Err(other) => panic!("{target}: {other}"),
        }
    }
    println!(
        "fuzz {target}: {} inputs in {:.1} s, no crash",
        inputs.get(),
        started.elapsed().as_secs_f64()
    );
}

fn crc(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[test]
fn fuzz_chart_json() {
    fuzz("chart_json", |bytes| {
        let _ = karte::chart::load_bytes(Path::new("fuzz.json"), bytes);
    });
}

#[test]
fn fuzz_chart_fhir() {
    fuzz("chart_fhir", |bytes| {
        let _ = karte::chart::load_bytes(Path::new("fuzz-bundle.json"), bytes);
        if let Ok(text) = std::str::from_utf8(bytes) {
            let _ = karte::chart::fhir::from_bundle_json(text, "fuzz");
        }
    });
}

#[test]
fn fuzz_chart_text_in_every_encoding() {
    fuzz("chart_text", |bytes| {
        if let Ok((text, _)) = karte::chart::encoding::decode(bytes) {
            assert!(!text.contains('\u{0}') || bytes.contains(&0));
        }
        let _ = karte::chart::load_bytes(Path::new("fuzz.txt"), bytes);
    });
}

#[test]
fn fuzz_gguf_header_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.gguf");
    fuzz("gguf", |bytes| {
        std::fs::write(&path, bytes).unwrap();
        let _ = karte::llm::gguf_check::check_gguf(&path);
    });
}

#[test]
fn fuzz_journal_decoder() {
    fuzz("journal", |bytes| {
        let recovered = karte::store::journal::decode_journal(Path::new("fuzz.log"), bytes);
        // What is reported lost and what was replayed add up to the file.
        if let Some(damage) = &recovered.damage {
            assert_eq!(
                damage.good_bytes + damage.discarded_bytes,
                bytes.len() as u64
            );
            let _ = damage.to_string();
        }
    });
}

#[test]
fn fuzz_config_parser() {
    fuzz("config", |bytes| {
        if let Ok(text) = std::str::from_utf8(bytes) {
            if let Ok(config) = karte::config::Config::parse(text) {
                let _ = karte::tui::Keymap::with_overrides(&config.keys);
            }
        }
    });
}

#[test]
fn fuzz_theme_parser() {
    let dir = tempfile::tempdir().unwrap();
    fuzz("theme", |bytes| {
        std::fs::write(dir.path().join("fuzz.toml"), bytes).unwrap();
        let _ = karte::tui::Theme::load("fuzz", Some(dir.path()));
    });
}

fn pipeline() -> Arc<Pipeline> {
    static PIPELINE: OnceLock<Arc<Pipeline>> = OnceLock::new();
    Arc::clone(PIPELINE.get_or_init(|| {
        Arc::new(Pipeline::load(&AppPaths::discover().unwrap().ipadic_dir()).unwrap())
    }))
}

#[test]
fn fuzz_extract_pipeline() {
    let pipeline = pipeline();
    fuzz("extract", |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let entities = pipeline.extract(&text);
        let chars = text.chars().count();
        for entity in &entities {
            assert!(
                entity.start <= entity.end && entity.end <= chars,
                "offsets {}..{} in a text of {chars} characters",
                entity.start,
                entity.end
            );
        }
        serde_json::to_string(&entities).unwrap();
    });
}

/// The fuzzer itself can fail: a planted defect (a parser that panics on a 0xFF byte, which
/// no seed holds) is found from
/// the JSON seeds within the budget, and the crash is reported with its input.
#[test]
fn the_fuzzer_finds_a_planted_crash() {
    let found = std::panic::catch_unwind(|| {
        fuzz("chart_json", |bytes| {
            assert!(!bytes.contains(&0xff), "planted");
        })
    });
    let message = found.expect_err("the planted crash is found");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        text.contains("fails") && text.contains("fuzz-crashes"),
        "{text}"
    );
}

/// Found by the fuzzer: a tensor offset near u64::MAX overflowed while the error message was
/// written (a panic in debug builds). Now a truncated-file error.
#[test]
fn gguf_with_a_tensor_offset_near_the_top_of_u64_is_an_error() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz/gguf/crash-offset-overflow.gguf");
    let error = karte::llm::gguf_check::check_gguf(&path).unwrap_err();
    assert!(
        error.to_string().contains("needs the file to be at least"),
        "{error}"
    );
}
