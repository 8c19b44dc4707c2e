//! Builds the real IPADIC dictionary from Debian's mecab-ipadic sources and segments with it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::nlp::dictionary::{build_ipadic, is_built, load_ipadic, DEBIAN_IPADIC_SOURCE_DIR};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

#[test]
fn builds_ipadic_privately_and_loads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dictionary/ipadic");
    build_ipadic(Path::new(DEBIAN_IPADIC_SOURCE_DIR), &out).unwrap();
    assert!(is_built(&out));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&out.join("dict.trie")), 0o600);
    // Nothing of the staging directory is left beside it.
    let siblings: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().collect();
    assert_eq!(siblings.len(), 1);

    let dictionary = load_ipadic(&out).unwrap();
    let segmenter =
        lindera::segmenter::Segmenter::new(lindera::mode::Mode::Normal, dictionary, None);
    let tokens = segmenter
        .segment(std::borrow::Cow::Borrowed("本日肺炎を認めた"))
        .unwrap();
    let surfaces: Vec<&str> = tokens.iter().map(|t| t.surface.as_ref()).collect();
    assert_eq!(surfaces, ["本日", "肺炎", "を", "認め", "た"]);

    // Rebuilding over an existing dictionary replaces it.
    build_ipadic(Path::new(DEBIAN_IPADIC_SOURCE_DIR), &out).unwrap();
    assert!(is_built(&out));
}

/// Builds the dictionary into the user's data dir (what `karte setup` does), once:
/// `cargo test --test nlp_dictionary -- --ignored`.
#[test]
#[ignore = "writes into the user's data dir; run once to install the dictionary"]
fn install_into_user_data_dir() {
    let dir = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
    if !is_built(&dir) {
        build_ipadic(Path::new(DEBIAN_IPADIC_SOURCE_DIR), &dir).unwrap();
    }
    assert!(is_built(&dir));
    load_ipadic(&dir).unwrap();
}
