//! The model's own tokenizer, usable from any thread while the engine generates (prompt
//! budgets are counted with it).
//!
//! With the embedded engine it is llama.cpp's vocabulary of the loaded model. With a server
//! engine it is, in order of preference: the server's `/tokenize` (llama-server, vLLM); the
//! local GGUF file's vocabulary when the server serves that same file; else an estimate
//! that never undercounts: one token per UTF-8 byte (byte-fallback BPE and SentencePiece
//! vocabularies never need more; Japanese text usually needs about a third of that, so
//! fewer notes fit, but none overflows the server's context).

use std::sync::Arc;

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use super::server::ServerTokenizer;

#[derive(Clone)]
pub struct Tokenizer {
    source: Source,
}

#[derive(Clone)]
enum Source {
    Local(Arc<LlamaModel>),
    Server(Arc<ServerTokenizer>),
    Estimate,
}

/// Where the counts come from (shown by `karte bench`/logs; the drafter does not care).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCounting {
    /// The GGUF vocabulary in this process (embedded engine, or the server's model file).
    LocalVocabulary,
    /// The server's `/tokenize` endpoint.
    Server,
    /// One token per UTF-8 byte (an upper bound).
    ByteEstimate,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("counting", &self.counting())
            .finish_non_exhaustive()
    }
}

impl Tokenizer {
    pub(crate) fn new(model: Arc<LlamaModel>) -> Self {
        Self {
            source: Source::Local(model),
        }
    }

    pub(crate) fn server(tokenizer: Arc<ServerTokenizer>) -> Self {
        Self {
            source: Source::Server(tokenizer),
        }
    }

    /// The stated conservative estimate (see the module doc).
    pub fn byte_estimate() -> Self {
        Self {
            source: Source::Estimate,
        }
    }

    pub fn counting(&self) -> TokenCounting {
        match self.source {
            Source::Local(_) => TokenCounting::LocalVocabulary,
            Source::Server(_) => TokenCounting::Server,
            Source::Estimate => TokenCounting::ByteEstimate,
        }
    }

    /// Tokens of `text` as it appears inside a prompt (no BOS, special tokens not parsed).
    pub fn count(&self, text: &str) -> usize {
        match &self.source {
            Source::Local(_) => self.tokenize(text, false).len(),
            // A server that stops answering mid-plan: the estimate, never an undercount.
            Source::Server(server) => server.count(text).unwrap_or_else(|| estimate(text)),
            Source::Estimate => estimate(text),
        }
    }

    /// The local vocabulary's tokens (empty for a server or estimated count).
    pub(crate) fn tokenize(&self, text: &str, add_bos: bool) -> Vec<LlamaToken> {
        let Source::Local(model) = &self.source else {
            return Vec::new();
        };
        if text.is_empty() && !add_bos {
            return Vec::new();
        }
        model.vocab().tokenize(text.as_bytes(), add_bos, false)
    }
}

/// One token per UTF-8 byte.
pub fn estimate(text: &str) -> usize {
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_counts_bytes() {
        let t = Tokenizer::byte_estimate();
        assert_eq!(t.count("退院"), 6);
        assert_eq!(t.count("ab"), 2);
        assert_eq!(t.counting(), TokenCounting::ByteEstimate);
        assert!(t.tokenize("ab", false).is_empty());
    }
}
