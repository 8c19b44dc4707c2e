//! What goes into the engine: a prompt (plain text, or chat messages for models with a
//! chat template), sampling parameters, bounds, stop strings, a seed; and the cancel token.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
    /// Keep going past end-of-generation tokens (benchmarks: exactly `max_tokens` tokens).
    pub ignore_eos: bool,
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
            ignore_eos: false,
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

/// One request's cancel flag and event sink. Cancelling ends the request's event stream at
/// once with `Finished { Cancelled }`, whatever the worker is doing; the worker then stops
/// computing at its next decode step and sends nothing more for this request.
pub(crate) struct RequestControl {
    id: super::events::RequestId,
    cancelled: AtomicBool,
    /// `None` once the final event was sent.
    sink: Mutex<Option<super::events::EventSender>>,
}

impl RequestControl {
    pub(crate) fn new(id: super::events::RequestId, sink: super::events::EventSender) -> Arc<Self> {
        Arc::new(Self {
            id,
            cancelled: AtomicBool::new(false),
            sink: Mutex::new(Some(sink)),
        })
    }

    pub(crate) fn id(&self) -> super::events::RequestId {
        self.id
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Sends a non-final event, unless the stream has ended.
    pub(crate) fn send(&self, event: super::events::EngineEvent) {
        if let Ok(sink) = self.sink.lock() {
            if let Some(sink) = sink.as_ref() {
                let _ = sink.send(event);
            }
        }
    }

    /// Sends the final event (`Finished` or `Error`), unless the stream has ended, and ends it.
    pub(crate) fn finish(&self, event: super::events::EngineEvent) {
        if let Ok(mut sink) = self.sink.lock() {
            if let Some(sink) = sink.take() {
                let _ = sink.send(event);
            }
        }
    }

    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.finish(super::events::EngineEvent::Finished {
            id: self.id,
            reason: super::events::FinishReason::Cancelled,
        });
    }
}
