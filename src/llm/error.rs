//! What can go wrong in the engine, each with the file, the problem and what to do.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("model file {path} does not exist\n  run `karte setup` to install the default model, or set `model` in the config / pass --model")]
    ModelMissing { path: PathBuf },

    #[error("cannot read model file {path}: {message}\n  check the file's permissions")]
    ModelUnreadable { path: PathBuf, message: String },

    #[error("model file {path} is not a GGUF model ({detail})\n  point karte at a .gguf file (`karte setup` installs the default one)")]
    NotGguf { path: PathBuf, detail: String },

    #[error("model file {path} is truncated: {detail}\n  the download or copy was cut short; delete the file and run `karte setup` again")]
    TruncatedGguf { path: PathBuf, detail: String },

    #[error("model file {path} is corrupt: {detail}\n  delete the file and run `karte setup` again, or use another model")]
    CorruptGguf { path: PathBuf, detail: String },

    #[error("llama.cpp could not load model {path} ({detail})\n  the file may be for an architecture this llama.cpp does not know; try the default model")]
    LoadFailed { path: PathBuf, detail: String },

    #[error("llama.cpp could not create a context of {n_ctx} tokens for {path}\n  lower `context_length` in the [llm] config section")]
    ContextFailed { path: PathBuf, n_ctx: u32 },

    #[error("the model is not loaded yet")]
    NotLoaded,

    #[error("the engine has stopped (its worker thread ended)")]
    EngineStopped,

    #[error("the prompt has {prompt_tokens} tokens but the context holds {n_ctx}\n  shorten the prompt or raise `context_length` in the [llm] config section")]
    PromptTooLong { prompt_tokens: usize, n_ctx: u32 },

    #[error("the context of {n_ctx} tokens is too small for the document template: it needs at least {needed}\n  raise `context_length` in the [llm] config section")]
    ContextTooSmall { n_ctx: u32, needed: usize },

    #[error("the prompt is empty")]
    EmptyPrompt,

    #[error("the model has no chat template, but a chat prompt was given")]
    NoChatTemplate,

    #[error("the model's chat template could not be applied: {detail}")]
    ChatTemplate { detail: String },

    #[error("llama.cpp failed to decode: {detail}")]
    Decode { detail: String },
}
