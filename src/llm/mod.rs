//! The engine: embedded llama.cpp (one worker thread owning model and context) or an
//! OpenAI-compatible server (`[llm] server`, see [`server`]), behind one handle; requests
//! in, token events out; UTF-8-safe streaming, cancel, prefix (KV / prompt cache) reuse;
//! model manifests.
//!
//! ```no_run
//! use karte::llm::{Engine, EngineConfig, GenerateRequest, Prompt, ModelManifest};
//! let (engine, _status) = Engine::start(EngineConfig::new("model.gguf".into()));
//! engine.wait_loaded()?;
//! let sampling = ModelManifest::default_model().sampling_defaults();
//! let out = engine.generate(GenerateRequest::new(Prompt::Text("診療".into()), sampling), |t| print!("{t}"))?;
//! # Ok::<(), karte::llm::LlmError>(())
//! ```

mod backend;
pub mod engine;
pub mod error;
pub mod events;
pub mod gguf_check;
pub mod manifest;
mod model_loader;
pub mod request;
pub mod server;
pub mod settings;
pub mod stop;
pub mod tokenizer;
pub mod utf8_stream;
mod worker;

pub use engine::{Engine, EngineConfig, Generation, RequestHandle};
pub use error::LlmError;
pub use events::{
    event_channel, EngineEvent, EventReceiver, EventSender, FinishReason, ModelInfo, RequestId,
    Timing,
};
pub use manifest::ModelManifest;
pub use request::{CancelToken, ChatMessage, ChatRole, GenerateRequest, Prompt, Sampling};
pub use server::ServerSettings;
pub use settings::LlmSettings;
pub use tokenizer::{TokenCounting, Tokenizer};
