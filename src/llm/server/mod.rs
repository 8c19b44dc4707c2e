//! The server engine: the same `Engine` handle, requests and events as the embedded
//! llama.cpp engine, served by an OpenAI-compatible HTTP server (llama-server, vLLM,
//! SGLang) instead of a model in this process.
//!
//! One dispatcher thread takes the jobs; each runs as a task on a small tokio runtime of
//! its own, so drafts run concurrently (the server batches them). A cancel drops the
//! request's stream, which closes its connection: llama-server then stops that slot.
//! "Loading" means asking the server what it serves; while it cannot be reached the
//! engine asks again every few seconds, and reports `Loaded` once it answers.

pub(crate) mod client;
pub mod config;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::{Served, ServerClient};
pub use config::{CheckedServer, ServerSettings};

use super::engine::{EngineConfig, Job, LoadState, Shared};
use super::error::LlmError;
use super::events::{EngineEvent, EventSender, FinishReason, ModelInfo};
use super::tokenizer::Tokenizer;

/// How often an unreachable server is asked again.
const REPROBE_EVERY: Duration = Duration::from_secs(5);
/// Token counts remembered per text (the same notes are counted for every section).
const COUNT_CACHE_ENTRIES: usize = 4096;

pub(crate) fn run(
    config: EngineConfig,
    settings: ServerSettings,
    jobs: mpsc::Receiver<Job>,
    events: EventSender,
    shared: Arc<Shared>,
) {
    let fail_all = |error: LlmError, jobs: mpsc::Receiver<Job>| {
        shared.set_state(LoadState::Failed(error.clone()));
        let _ = events.send(EngineEvent::LoadFailed(error.clone()));
        while let Ok(job) = jobs.recv() {
            let id = job.control.id();
            job.control.finish(EngineEvent::Error {
                id,
                error: error.clone(),
            });
        }
    };
    let checked = match config::check(&settings) {
        Ok(c) => Arc::new(c),
        Err(e) => return fail_all(e, jobs),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("karte-llm-http")
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return fail_all(
                LlmError::ServerConfig {
                    detail: format!("非同期ランタイムを起動できません ({e})"),
                },
                jobs,
            )
        }
    };
    // A fresh connection per request: a pooled keep-alive connection that the server has
    // closed made one of eight concurrent drafts fail ("connection closed before message
    // completed") in the benchmark; a connect costs little next to a section's generation.
    let client = match ServerClient::new(Arc::clone(&checked), false) {
        Ok(c) => c,
        Err(e) => return fail_all(e, jobs),
    };
    tracing::info!(server = %checked.display, "server engine started");
    let mut model: Option<String> = None;
    let mut last_error: Option<LlmError> = None;
    let probe = |model: &mut Option<String>, last_error: &mut Option<LlmError>| {
        let started = Instant::now();
        match runtime.block_on(client.probe()) {
            Ok(served) => {
                let (info, tokenizer) = loaded(&config, &checked, &served, started.elapsed());
                tracing::info!(
                    server = %checked.display,
                    n_ctx = info.n_ctx,
                    counting = ?tokenizer.counting(),
                    "server answers"
                );
                *model = Some(served.model.clone());
                *last_error = None;
                shared.set_state(LoadState::Loaded(info.clone(), tokenizer));
                let _ = events.send(EngineEvent::Loaded(info));
            }
            Err(error) => {
                if last_error.as_ref() != Some(&error) {
                    tracing::warn!(server = %checked.display, "server does not answer: {error}");
                    shared.set_state(LoadState::Failed(error.clone()));
                    let _ = events.send(EngineEvent::LoadFailed(error.clone()));
                }
                *last_error = Some(error);
            }
        }
    };
    probe(&mut model, &mut last_error);
    loop {
        if shared.shutdown.load(Ordering::Acquire) {
            break;
        }
        match jobs.recv_timeout(REPROBE_EVERY) {
            Ok(job) => {
                if model.is_none() {
                    probe(&mut model, &mut last_error);
                }
                let id = job.control.id();
                let Some(name) = model.clone() else {
                    let error = last_error.clone().unwrap_or(LlmError::NotLoaded);
                    job.control.finish(EngineEvent::Error { id, error });
                    continue;
                };
                if job.control.is_cancelled() {
                    job.control.finish(EngineEvent::Finished {
                        id,
                        reason: FinishReason::Cancelled,
                    });
                    continue;
                }
                let client = client.clone();
                runtime.spawn(async move {
                    let Job { request, control } = job;
                    let outcome = client.generate(id, &name, &request, &control).await;
                    match outcome {
                        Ok(reason) => control.finish(EngineEvent::Finished { id, reason }),
                        Err(error) => {
                            tracing::warn!(server = %client.server.display, "generation failed: {error}");
                            control.finish(EngineEvent::Error { id, error })
                        }
                    }
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                let permanent = matches!(last_error, Some(LlmError::ServerConfig { .. }));
                if model.is_none() && !permanent {
                    probe(&mut model, &mut last_error);
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    // Running requests are dropped with the runtime: their connections close.
    runtime.shutdown_background();
}

/// The model info and the tokenizer for what the server serves.
fn loaded(
    config: &EngineConfig,
    checked: &Arc<CheckedServer>,
    served: &Served,
    took: Duration,
) -> (ModelInfo, Tokenizer) {
    let n_ctx = served.n_ctx.unwrap_or(config.n_ctx);
    let tokenizer = if served.tokenize {
        match ServerTokenizer::new(Arc::clone(checked), served.model.clone()) {
            Ok(t) => Tokenizer::server(Arc::new(t)),
            Err(_) => Tokenizer::byte_estimate(),
        }
    } else {
        local_tokenizer(&config.model_path, served).unwrap_or_else(Tokenizer::byte_estimate)
    };
    let info = ModelInfo {
        name: served.model.clone(),
        path: served
            .model_path
            .clone()
            .map(Into::into)
            .unwrap_or_default(),
        file_size: served.file_size.unwrap_or(0),
        n_ctx,
        n_ctx_train: served.n_ctx_train.unwrap_or(n_ctx),
        n_threads: 0,
        n_params: served.n_params.unwrap_or(0),
        // Prompts go to /v1/completions as plain text (what the default model wants and
        // every OpenAI-compatible server serves); chat prompts, if asked for, to
        // /v1/chat/completions.
        has_chat_template: false,
        kv_cache_bytes: 0,
        load_ms: took.as_secs_f64() * 1000.0,
        server: Some(checked.display.clone()),
    };
    (info, tokenizer)
}

/// The local GGUF's vocabulary, when the server serves that same file (same file name).
fn local_tokenizer(model_path: &Path, served: &Served) -> Option<Tokenizer> {
    let local_name = model_path.file_name()?.to_str()?;
    let served_name = served
        .model_path
        .as_deref()
        .and_then(|p| Path::new(p).file_name()?.to_str().map(str::to_string))
        .unwrap_or_else(|| served.model.clone());
    if served_name != local_name || !model_path.is_file() {
        return None;
    }
    let backend = super::backend::backend().ok()?;
    let params = llama_cpp_2::model::params::LlamaModelParams::default().with_vocab_only(true);
    let model =
        llama_cpp_2::model::LlamaModel::load_from_file(backend, model_path, &params).ok()?;
    Some(Tokenizer::new(Arc::new(model)))
}

/// Counts tokens with the server's `/tokenize`, from any thread (also inside an async
/// runtime): each call runs on a short-lived thread with its own small runtime.
pub struct ServerTokenizer {
    client: ServerClient,
    model: String,
    cache: Mutex<HashMap<u64, usize>>,
}

impl ServerTokenizer {
    fn new(server: Arc<CheckedServer>, model: String) -> Result<Self, LlmError> {
        Ok(Self {
            client: ServerClient::new(server, false)?,
            model,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// `None` when the server does not answer.
    pub(crate) fn count(&self, text: &str) -> Option<usize> {
        if text.is_empty() {
            return Some(0);
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        let key = hasher.finish();
        if let Some(n) = self.cache.lock().ok().and_then(|c| c.get(&key).copied()) {
            return Some(n);
        }
        let counted = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    runtime
                        .block_on(self.client.count_tokens(text, &self.model))
                        .ok()
                })
                .join()
                .ok()
                .flatten()
        })?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= COUNT_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key, counted);
        }
        Some(counted)
    }
}
