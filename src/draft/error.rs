//! What can go wrong while drafting, with the file or setting to fix.

use std::path::PathBuf;

use crate::llm::LlmError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DraftError {
    #[error("cannot read template {path}: {message}")]
    TemplateUnreadable { path: PathBuf, message: String },

    #[error("template {path} is not valid: {message}\n  fix the file or remove it to use the built-in template")]
    TemplateInvalid { path: PathBuf, message: String },

    #[error("template {path} has no section \"{key}\"")]
    UnknownSection { path: PathBuf, key: String },

    #[error(transparent)]
    Llm(#[from] LlmError),

    #[error("the draft was cancelled")]
    Cancelled,
}
