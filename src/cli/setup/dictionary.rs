//! The lindera IPADIC dictionary, built from Debian's mecab-ipadic sources (EUC-JP CSVs)
//! into the user data dir. lindera's embed-ipadic feature would download it at build time
//! from a host that is not reachable, so it is built here instead.

use crate::paths::AppPaths;
use anyhow::bail;
use std::path::Path;

/// Where Debian's `mecab-ipadic` package puts the IPADIC sources.
pub const IPADIC_SOURCE_DIR: &str = "/usr/share/mecab/dic/ipadic";

pub fn ensure(paths: &AppPaths, check_only: bool) -> anyhow::Result<bool> {
    let out = paths.ipadic_dir();
    if crate::nlp::dictionary::is_built(&out) {
        println!("dictionary: IPADIC ok ({})", out.display());
        return Ok(true);
    }
    if check_only {
        println!("dictionary: IPADIC missing at {}", out.display());
        return Ok(false);
    }
    let source = Path::new(IPADIC_SOURCE_DIR);
    if !source.join("Noun.csv").is_file() {
        bail!(
            "the IPADIC sources are not in {IPADIC_SOURCE_DIR}; install Debian's mecab-ipadic \
             package (scripts/setup-system.sh does it)"
        );
    }
    println!("dictionary: building IPADIC from {IPADIC_SOURCE_DIR} (about a minute)…");
    crate::nlp::dictionary::build_ipadic(source, &out)?;
    println!("dictionary: built {}", out.display());
    Ok(true)
}
