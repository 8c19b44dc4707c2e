//! The model's own tokenizer, usable from any thread while the worker generates (prompt
//! budgets are counted with it, never estimated).

use std::sync::Arc;

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

#[derive(Clone)]
pub struct Tokenizer {
    model: Arc<LlamaModel>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer").finish_non_exhaustive()
    }
}

impl Tokenizer {
    pub(crate) fn new(model: Arc<LlamaModel>) -> Self {
        Self { model }
    }

    /// Tokens of `text` as it appears inside a prompt (no BOS, special tokens not parsed).
    pub fn count(&self, text: &str) -> usize {
        self.tokenize(text, false).len()
    }

    pub(crate) fn tokenize(&self, text: &str, add_bos: bool) -> Vec<LlamaToken> {
        if text.is_empty() && !add_bos {
            return Vec::new();
        }
        self.model.vocab().tokenize(text.as_bytes(), add_bos, false)
    }
}
