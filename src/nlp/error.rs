//! Errors of the NLP pipeline: each names the file or directory and says what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NlpError {
    #[error(
        "the IPADIC dictionary is missing or incomplete in {dir}: run `karte setup` to build it"
    )]
    DictionaryMissing { dir: PathBuf },

    #[error(
        "cannot build the IPADIC dictionary from {source_dir} into {out_dir}: {detail} \
         (is Debian's `mecab-ipadic` installed? `apt-get install mecab-ipadic`)"
    )]
    DictionaryBuild {
        source_dir: PathBuf,
        out_dir: PathBuf,
        detail: String,
    },

    #[error(
        "cannot load the IPADIC dictionary from {dir}: {detail} \
         (rebuild it with `karte setup`)"
    )]
    DictionaryLoad { dir: PathBuf, detail: String },

    #[error("cannot build the medical user dictionary from the lexicon: {detail}")]
    UserDictionary { detail: String },

    #[error("lexicon file {file}, line {line}: {detail}")]
    Lexicon {
        file: &'static str,
        line: usize,
        detail: String,
    },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
