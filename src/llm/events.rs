//! What comes out of the engine, over a tokio unbounded channel (usable from async code
//! with `recv().await` and from plain threads with `blocking_recv()`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::LlmError;

/// Engine-assigned id of one generation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestId(pub u64);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub path: PathBuf,
    pub file_size: u64,
    pub n_ctx: u32,
    pub n_ctx_train: u32,
    pub n_threads: usize,
    pub n_params: u64,
    pub has_chat_template: bool,
    /// Bytes of KV cache (keys and values of every layer for the whole context).
    pub kv_cache_bytes: u64,
    pub load_ms: f64,
    /// The OpenAI-compatible server that serves this model (scheme, host, port); `None`:
    /// the embedded llama.cpp engine in this process.
    #[serde(default)]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its text (end-of-generation token).
    Stop,
    /// A stop string was reached (it is not part of the text).
    StopString,
    /// `max_tokens` reached: the model did not stop by itself.
    MaxTokens,
    /// The context window is full.
    ContextFull,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub prompt_tokens: usize,
    /// Prompt tokens whose KV cache was reused from the previous request.
    pub reused_tokens: usize,
    /// Time from the worker taking the request to the first sampled token.
    pub ttft_ms: f64,
    /// Prompt tokens decoded per second (reused tokens not counted).
    pub prompt_tokens_per_s: f64,
    pub generated_tokens: usize,
    /// Tokens generated per second after the first one.
    pub tokens_per_s: f64,
    pub total_ms: f64,
    /// Invalid UTF-8 bytes from the model that were dropped.
    pub dropped_invalid_bytes: usize,
    /// Generation speed as the server itself reported it (server engine only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_tokens_per_s: Option<f64>,
}

impl Timing {
    /// Tokens per second over `took` (0 when there are no tokens or no time): the one rate
    /// both engines and the drafter report.
    pub fn rate(tokens: usize, took: std::time::Duration) -> f64 {
        let secs = took.as_secs_f64();
        if tokens == 0 || secs <= 0.0 {
            0.0
        } else {
            tokens as f64 / secs
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// Model loading progress, 0.0 to 1.0.
    Loading {
        progress: f32,
    },
    Loaded(ModelInfo),
    LoadFailed(LlmError),
    /// Text of one or more tokens: whole characters only, never a stop string.
    Token {
        id: RequestId,
        text: String,
    },
    Timing {
        id: RequestId,
        timing: Timing,
    },
    /// The server is busy (HTTP 429/503): the request is sent again after `wait_ms`.
    /// `message` says so in Japanese, naming the server (for the status bar).
    Retrying {
        id: RequestId,
        attempt: u32,
        wait_ms: u64,
        message: String,
    },
    Finished {
        id: RequestId,
        reason: FinishReason,
    },
    Error {
        id: RequestId,
        error: LlmError,
    },
}

pub type EventSender = tokio::sync::mpsc::UnboundedSender<EngineEvent>;
pub type EventReceiver = tokio::sync::mpsc::UnboundedReceiver<EngineEvent>;

pub fn event_channel() -> (EventSender, EventReceiver) {
    tokio::sync::mpsc::unbounded_channel()
}
