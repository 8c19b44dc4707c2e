//! What goes into the engine: a prompt (plain text, or chat messages for models with a
//! chat template), sampling parameters, bounds, stop strings, a seed; and the cancel token.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// 0 or below means greedy (always the most likely token).
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    /// 1.0 disables the repeat penalty.
    pub repeat_penalty: f32,
    pub repeat_last_n: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

impl ChatRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Prompt {
    /// Plain completion: the text is tokenized as is (special tokens in it are not parsed).
    Text(String),
    /// Messages formatted with the model's chat template (GGUF metadata).
    Chat(Vec<ChatMessage>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenerateRequest {
    pub prompt: Prompt,
    pub sampling: Sampling,
    /// Generation stops after this many tokens (finish reason `MaxTokens`).
    pub max_tokens: usize,
    /// Generation stops before the first of these strings; it is not part of the output.
    pub stop: Vec<String>,
    pub seed: u32,
    /// Reuse the KV cache of the longest prompt prefix shared with the previous request
    /// (the output is the same either way; off only to measure or test a cold start).
    pub reuse_prefix: bool,
}

impl GenerateRequest {
    pub fn new(prompt: Prompt, sampling: Sampling) -> Self {
        Self {
            prompt,
            sampling,
            max_tokens: 256,
            stop: Vec::new(),
            seed: 0,
            reuse_prefix: true,
        }
    }
}

/// Shared flag that stops a generation between two decode steps.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
