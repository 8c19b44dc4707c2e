//! The house rules of DESIGN.md, enforced by the build: the domain modules never reach up
//! into a front end (`cli`, `tui`), and the terminal and command-line crates (ratatui,
//! crossterm, clap) appear only in the front ends (`src/tui/`, `src/cli/`, `src/main.rs`).
//! The `tui` front end never uses the `cli` one. gitui and helix get this from separate
//! crates; we read the source.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, sorted, as (path relative to src/, text).
fn sources(dir: &Path, src: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            sources(&path, src, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let relative = path.strip_prefix(src).unwrap_or(&path);
            out.push((relative.to_string_lossy().replace('\\', "/"), text));
        }
    }
}

/// The code of a line, without its `//` comment (doc comments may name anything).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// Whether `needle` occurs in `haystack` as a whole path segment (not inside `foo_cli`).
fn mentions(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        let is_ident = |c: char| c.is_alphanumeric() || c == '_';
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[derive(PartialEq)]
enum Room {
    /// `src/tui/`
    Tui,
    /// `src/cli/`, `src/main.rs`
    Cli,
    /// `src/lib.rs`: only declares the modules.
    CrateRoot,
    /// everything else: chart, nlp, llm, draft, review, editor, store, metrics, export,
    /// context, paths, config.
    Domain,
}

fn room(path: &str) -> Room {
    if path.starts_with("tui/") {
        Room::Tui
    } else if path.starts_with("cli/") || path == "main.rs" {
        Room::Cli
    } else if path == "lib.rs" {
        Room::CrateRoot
    } else {
        Room::Domain
    }
}

/// What a file in `room` must not use.
fn forbidden(room: &Room) -> &'static [&'static str] {
    const FRONT_ENDS: [&str; 4] = ["crate::cli", "crate::tui", "karte::cli", "karte::tui"];
    match room {
        Room::Domain => &[
            "crate::cli",
            "crate::tui",
            "karte::cli",
            "karte::tui",
            "ratatui",
            "crossterm",
            "clap",
        ],
        Room::Tui => &FRONT_ENDS[..1],
        Room::Cli | Room::CrateRoot => &[],
    }
}

/// Every line of `src/` that breaks a rule, as `file:line: what`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, src, &mut files);
    assert!(
        files.len() > 20,
        "found only {} source files under {}",
        files.len(),
        src.display()
    );
    let mut found = Vec::new();
    for (path, text) in &files {
        let room = room(path);
        for (number, line) in text.lines().enumerate() {
            let line = code(line);
            // `super::cli` from a direct child of the crate root is the same as `crate::cli`.
            let line = line.replace("super::", "crate::");
            for needle in forbidden(&room) {
                if mentions(&line, needle) {
                    found.push(format!("src/{path}:{}: uses `{needle}`", number + 1));
                }
            }
        }
    }
    found
}

#[test]
fn domain_modules_never_reach_into_a_front_end_or_a_terminal_crate() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "DESIGN.md: domain modules must not import `cli`/`tui`, ratatui/crossterm/clap belong \
         to the front ends (src/tui/, src/cli/, src/main.rs), and `tui` must not use `cli`:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_rules_see_a_wrong_import() {
    // The checker itself, on a file it must reject and on one it must accept.
    let dir = std::env::temp_dir().join(format!("karte-architecture-{}", std::process::id()));
    let review = dir.join("review");
    let tui = dir.join("tui");
    fs::create_dir_all(&review).unwrap();
    fs::create_dir_all(&tui).unwrap();
    for i in 0..21 {
        fs::write(dir.join(format!("filler{i}.rs")), "pub fn f() {}\n").unwrap();
    }
    fs::write(
        review.join("mod.rs"),
        "//! uses ratatui only in this comment\nuse crate::tui::App;\nuse ratatui::text::Line;\n",
    )
    .unwrap();
    fs::write(
        tui.join("mod.rs"),
        "use ratatui::Frame;\nuse super::cli::Context;\n",
    )
    .unwrap();
    let found = violations(&dir);
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        found,
        vec![
            "src/review/mod.rs:2: uses `crate::tui`".to_string(),
            "src/review/mod.rs:3: uses `ratatui`".to_string(),
            "src/tui/mod.rs:2: uses `crate::cli`".to_string(),
        ]
    );
}
