//! The worker thread: owns the llama.cpp model and context, runs one request at a time.
//!
//! Prefix reuse: the tokens whose keys/values sit in the KV cache are remembered; a new
//! prompt that starts with the same tokens only decodes the rest. Prompts are decoded on a
//! fixed grid of chunks (`[0, c)`, `[c, 2c)` … for a chunk size `c`), and the reused
//! length is rounded down to a grid line, so every prompt token is computed in exactly the
//! same batch, with or without reuse. (ggml picks kernels by batch size, so a token decoded
//! in another batch can differ in its last bits, and sampling can then diverge.) Only the
//! previous request's prompt is reused, never its generated tokens (decoded one by one).
//! A fixed seed therefore gives the same text either way.
//!
//! Cancel: acknowledged at once (the request's stream ends), and the worker stops at its
//! next decode call, so it is free again within one prompt chunk (64 tokens by default,
//! ~0.2 s on one core of this machine) or one generated token.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

use super::backend::backend;
use super::engine::{EngineConfig, Job, LoadState, Shared};
use super::error::LlmError;
use super::events::{EngineEvent, EventSender, FinishReason, ModelInfo, RequestId, Timing};
use super::gguf_check::{check_gguf, GgufSummary};
use super::model_loader::load_model;
use super::request::{GenerateRequest, Prompt, RequestControl, Sampling};
use super::stop::StopMatcher;
use super::tokenizer::Tokenizer;
use super::utf8_stream::Utf8Stream;

/// Prompt chunk sizes are multiples of this (ggml's CPU matmuls group batch columns by 4).
const POSITION_ALIGN: usize = 8;
const SEQ: i32 = 0;

pub(crate) fn run(
    config: EngineConfig,
    jobs: mpsc::Receiver<Job>,
    events: EventSender,
    shared: Arc<Shared>,
) {
    let started = Instant::now();
    let fail = |error: LlmError| {
        shared.set_state(LoadState::Failed(error.clone()));
        let _ = events.send(EngineEvent::LoadFailed(error));
    };
    let summary = match check_gguf(&config.model_path) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let backend = match backend() {
        Ok(b) => b,
        Err(detail) => {
            return fail(LlmError::LoadFailed {
                path: config.model_path.clone(),
                detail,
            })
        }
    };
    let progress_events = events.clone();
    let progress_shared = Arc::clone(&shared);
    let mut last_reported = -1.0f32;
    let on_progress = |progress: f32| {
        if progress >= 1.0 || progress - last_reported >= 0.05 {
            last_reported = progress;
            let _ = progress_events.send(EngineEvent::Loading { progress });
        }
        !progress_shared.shutdown.load(Ordering::Acquire)
    };
    let model = match load_model(
        backend,
        &config.model_path,
        config.weight_repack,
        on_progress,
    ) {
        Ok(m) => Arc::new(m),
        Err(detail) => {
            return fail(LlmError::LoadFailed {
                path: config.model_path.clone(),
                detail,
            })
        }
    };
    let threads = i32::try_from(config.n_threads).unwrap_or(1).max(1);
    let n_ctx = NonZeroU32::new(config.n_ctx.max(64));
    let ctx_params = LlamaContextParams::default()
        .with_n_ctx(n_ctx)
        .with_n_batch(config.n_batch)
        .with_n_ubatch(config.n_batch)
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
        // Full-size sliding-window cache: nothing is evicted, so any prefix can be reused.
        .with_swa_full(true)
        .with_flash_attention_policy(if config.flash_attention {
            llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED
        } else {
            llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED
        });
    let ctx = match model.new_context(backend, ctx_params) {
        Ok(c) => c,
        Err(_) => {
            return fail(LlmError::ContextFailed {
                path: config.model_path.clone(),
                n_ctx: config.n_ctx,
            })
        }
    };
    let info = model_info(&model, &ctx, &summary, &config, started.elapsed());
    let tokenizer = Tokenizer::new(Arc::clone(&model));
    shared.set_state(LoadState::Loaded(info.clone(), tokenizer));
    let _ = events.send(EngineEvent::Loaded(info));

    let mut worker = Worker {
        model: &model,
        ctx,
        batch: LlamaBatch::new(config.n_batch as usize, 1),
        chunk: prompt_chunk(config.prompt_chunk_tokens, config.n_batch as usize),
        cached: Vec::new(),
        cached_prompt_len: 0,
        shared: &shared,
    };
    while let Ok(job) = jobs.recv() {
        if shared.shutdown.load(Ordering::Acquire) {
            break;
        }
        worker.run_job(job);
    }
}

fn model_info(
    model: &LlamaModel,
    ctx: &LlamaContext<'_>,
    summary: &GgufSummary,
    config: &EngineConfig,
    load_time: Duration,
) -> ModelInfo {
    let arch = summary.architecture.clone().unwrap_or_default();
    let meta_u64 = |key: String| {
        model
            .meta_val_str(&key)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let n_head = u64::from(model.n_head().max(1));
    let head_dim_default = u64::try_from(model.n_embd()).unwrap_or(0) / n_head;
    let key_len = meta_u64(format!("{arch}.attention.key_length")).unwrap_or(head_dim_default);
    let value_len = meta_u64(format!("{arch}.attention.value_length")).unwrap_or(key_len);
    let kv_cache_bytes = u64::from(model.n_layer())
        * u64::from(ctx.n_ctx())
        * u64::from(model.n_head_kv())
        * (key_len + value_len)
        * 2; // f16
    let name = summary.name.clone().unwrap_or_else(|| {
        config
            .model_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    ModelInfo {
        name,
        path: config.model_path.clone(),
        file_size: summary.file_size,
        n_ctx: ctx.n_ctx(),
        n_ctx_train: model.n_ctx_train(),
        n_threads: config.n_threads,
        n_params: model.n_params(),
        has_chat_template: model.chat_template(None).is_ok(),
        kv_cache_bytes,
        load_ms: load_time.as_secs_f64() * 1000.0,
        server: None,
    }
}

struct Worker<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    /// Prompt chunk size: the grid prompts are decoded on.
    chunk: usize,
    /// Tokens whose keys/values are in the KV cache, position by position.
    cached: Vec<LlamaToken>,
    /// How many of `cached` came from the last request's prompt (the rest was generated).
    cached_prompt_len: usize,
    shared: &'m Shared,
}

/// How a generation ended, before it is reported.
enum Outcome {
    Finished(FinishReason),
    Failed(LlmError),
}

impl Worker<'_> {
    fn stop_requested(&self, control: &RequestControl) -> bool {
        control.is_cancelled() || self.shared.shutdown.load(Ordering::Acquire)
    }

    fn run_job(&mut self, job: Job) {
        let Job { request, control } = job;
        let id = control.id();
        if self.stop_requested(&control) {
            return control.finish(EngineEvent::Finished {
                id,
                reason: FinishReason::Cancelled,
            });
        }
        match self.generate(id, &request, &control) {
            Outcome::Finished(reason) => control.finish(EngineEvent::Finished { id, reason }),
            Outcome::Failed(error) => control.finish(EngineEvent::Error { id, error }),
        }
    }

    fn prompt_tokens(&self, prompt: &Prompt) -> Result<Vec<LlamaToken>, LlmError> {
        let vocab = self.model.vocab();
        match prompt {
            Prompt::Text(text) => {
                if text.is_empty() {
                    return Err(LlmError::EmptyPrompt);
                }
                Ok(vocab.tokenize(text.as_bytes(), true, false))
            }
            Prompt::Chat(messages) => {
                if messages.is_empty() {
                    return Err(LlmError::EmptyPrompt);
                }
                let template = self
                    .model
                    .chat_template(None)
                    .map_err(|_| LlmError::NoChatTemplate)?;
                let messages = messages
                    .iter()
                    .map(|m| LlamaChatMessage::new(m.role.as_str().into(), m.content.clone()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| LlmError::ChatTemplate {
                        detail: e.to_string(),
                    })?;
                let text = self
                    .model
                    .apply_chat_template(&template, &messages, true)
                    .map_err(|e| LlmError::ChatTemplate {
                        detail: e.to_string(),
                    })?;
                // llama.cpp's built-in templates leave BOS to the tokenizer (as llama-server
                // does); a template that writes it itself must not get a second one.
                let bos_written = vocab.should_add_bos()
                    && vocab.bos().0 >= 0
                    && vocab.text(vocab.bos()).is_some_and(|bos| {
                        !bos.is_empty() && text.as_bytes().starts_with(bos.to_bytes())
                    });
                Ok(vocab.tokenize(
                    text.as_bytes(),
                    vocab.should_add_bos() && !bos_written,
                    true,
                ))
            }
        }
    }

    fn generate(
        &mut self,
        id: RequestId,
        request: &GenerateRequest,
        control: &RequestControl,
    ) -> Outcome {
        let started = Instant::now();
        let prompt = match self.prompt_tokens(&request.prompt) {
            Ok(p) => p,
            Err(e) => return Outcome::Failed(e),
        };
        let n_ctx = self.ctx.n_ctx() as usize;
        if prompt.len() >= n_ctx {
            return Outcome::Failed(LlmError::PromptTooLong {
                prompt_tokens: prompt.len(),
                n_ctx: n_ctx as u32,
            });
        }

        let reused = self.reuse_prefix(&prompt, request.reuse_prefix);
        let prompt_started = Instant::now();
        if let Err(outcome) = self.decode_prompt(&prompt, reused, control) {
            return outcome;
        }
        let prompt_time = prompt_started.elapsed();

        let mut sampler = build_sampler(&request.sampling, request.seed, self.model.n_vocab());
        let mut utf8 = Utf8Stream::new();
        let mut stops = StopMatcher::new(&request.stop);
        let budget = request.max_tokens.min(n_ctx - prompt.len());
        let mut generated = 0usize;
        let mut first_token_at: Option<Instant> = None;
        let vocab = self.model.vocab();
        let mut reason = if budget < request.max_tokens {
            FinishReason::ContextFull
        } else {
            FinishReason::MaxTokens
        };
        while generated < budget {
            if self.stop_requested(control) {
                reason = FinishReason::Cancelled;
                break;
            }
            let token = sampler.sample(&self.ctx, -1);
            first_token_at.get_or_insert_with(Instant::now);
            if vocab.is_eog(token) && !request.ignore_eos {
                reason = FinishReason::Stop;
                break;
            }
            generated += 1;
            let piece = vocab.token_to_piece(token, false, None);
            let check = stops.push(&utf8.push(&piece));
            if !check.emit.is_empty() {
                control.send(EngineEvent::Token {
                    id,
                    text: check.emit,
                });
            }
            if check.stopped {
                reason = FinishReason::StopString;
                break;
            }
            if generated == budget {
                break; // the last token need not be decoded
            }
            if let Err(e) = self.decode_one(token) {
                return Outcome::Failed(e);
            }
        }
        if matches!(
            reason,
            FinishReason::Stop | FinishReason::MaxTokens | FinishReason::ContextFull
        ) {
            utf8.finish();
            let rest = stops.flush();
            if !rest.is_empty() {
                control.send(EngineEvent::Token { id, text: rest });
            }
        }
        if utf8.dropped_bytes() > 0 {
            tracing::warn!(
                dropped = utf8.dropped_bytes(),
                "model produced invalid UTF-8; bytes dropped"
            );
        }
        let decoded_prompt = prompt.len() - reused;
        let after_first = first_token_at.map(|t| t.elapsed()).unwrap_or_default();
        let timing = Timing {
            prompt_tokens: prompt.len(),
            reused_tokens: reused,
            ttft_ms: first_token_at
                .map(|t| (t - started).as_secs_f64() * 1000.0)
                .unwrap_or(0.0),
            prompt_tokens_per_s: Timing::rate(decoded_prompt, prompt_time),
            generated_tokens: generated,
            tokens_per_s: Timing::rate(generated.saturating_sub(1), after_first),
            total_ms: started.elapsed().as_secs_f64() * 1000.0,
            dropped_invalid_bytes: utf8.dropped_bytes(),
            server_tokens_per_s: None,
        };
        control.send(EngineEvent::Timing { id, timing });
        Outcome::Finished(reason)
    }

    /// Keeps the cached prefix shared with `prompt` (aligned, and at least one prompt token
    /// left to decode for the logits); drops the rest of the cache. Returns the kept length.
    fn reuse_prefix(&mut self, prompt: &[LlamaToken], reuse: bool) -> usize {
        let common = if reuse {
            self.cached
                .iter()
                .zip(prompt)
                .take_while(|(a, b)| a == b)
                .count()
        } else {
            0
        };
        let keep =
            common.min(self.cached_prompt_len).min(prompt.len() - 1) / self.chunk * self.chunk;
        if keep == 0 {
            self.reset_cache();
            return 0;
        }
        let removed = u32::try_from(keep).ok().map(|p0| {
            self.ctx
                .clear_kv_cache_seq(Some(SEQ as u32), Some(p0), None)
        });
        match removed {
            Some(Ok(true)) => {
                self.cached.truncate(keep);
                self.cached_prompt_len = keep;
                keep
            }
            _ => {
                self.reset_cache();
                0
            }
        }
    }

    /// Decodes `prompt[from..]` (`from` on the grid) in grid chunks; checks for cancel
    /// before each.
    fn decode_prompt(
        &mut self,
        prompt: &[LlamaToken],
        from: usize,
        control: &RequestControl,
    ) -> Result<(), Outcome> {
        let mut pos = from;
        while pos < prompt.len() {
            if self.stop_requested(control) {
                return Err(Outcome::Finished(FinishReason::Cancelled));
            }
            let end = ((pos / self.chunk + 1) * self.chunk).min(prompt.len());
            self.batch.clear();
            for (i, token) in prompt[pos..end].iter().enumerate() {
                let p = pos + i;
                let logits = p + 1 == prompt.len();
                if let Err(e) = self.batch.add(*token, p as i32, &[SEQ], logits) {
                    return Err(Outcome::Failed(LlmError::Decode {
                        detail: e.to_string(),
                    }));
                }
            }
            if let Err(e) = self.ctx.decode(&mut self.batch) {
                self.reset_cache();
                return Err(Outcome::Failed(LlmError::Decode {
                    detail: e.to_string(),
                }));
            }
            self.cached.extend_from_slice(&prompt[pos..end]);
            self.cached_prompt_len = self.cached.len();
            pos = end;
        }
        Ok(())
    }

    fn decode_one(&mut self, token: LlamaToken) -> Result<(), LlmError> {
        let pos = self.cached.len();
        self.batch.clear();
        self.batch
            .add(token, pos as i32, &[SEQ], true)
            .map_err(|e| LlmError::Decode {
                detail: e.to_string(),
            })?;
        if let Err(e) = self.ctx.decode(&mut self.batch) {
            self.reset_cache();
            return Err(LlmError::Decode {
                detail: e.to_string(),
            });
        }
        self.cached.push(token);
        Ok(())
    }

    /// Forgets every cached position. Removing the sequence is enough (the cache buffers
    /// were zeroed when created and only ever hold finite values); clearing them all would
    /// write the whole KV cache on every cold start.
    fn reset_cache(&mut self) {
        if !matches!(self.ctx.clear_kv_cache_seq(None, None, None), Ok(true)) {
            self.ctx.clear_kv_cache();
        }
        self.cached.clear();
        self.cached_prompt_len = 0;
    }
}

/// The prompt chunk grid: `tokens` rounded to the alignment, at most a batch (0: a batch).
fn prompt_chunk(tokens: usize, n_batch: usize) -> usize {
    let tokens = if tokens == 0 {
        n_batch
    } else {
        tokens.min(n_batch)
    };
    (tokens / POSITION_ALIGN * POSITION_ALIGN).max(POSITION_ALIGN)
}

/// Top-k, then the repeat penalty, top-p, temperature and the seeded draw. (llama.cpp's
/// usual chain applies the penalty first, to every one of the 262k candidates of Gemma's
/// vocabulary on every token; after top-k it rescales only the k most likely, which can
/// no longer be displaced by a token outside them.)
fn build_sampler(s: &Sampling, seed: u32, n_vocab: i32) -> LlamaSampler {
    let mut chain = Vec::new();
    if s.top_k > 0 {
        chain.push(LlamaSampler::top_k(s.top_k));
    }
    if s.repeat_penalty > 0.0 && s.repeat_penalty != 1.0 && s.repeat_last_n != 0 {
        chain.push(LlamaSampler::penalties(
            n_vocab,
            s.repeat_last_n,
            s.repeat_penalty,
            0.0,
            0.0,
        ));
    }
    if s.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
    } else {
        if s.top_p > 0.0 && s.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(s.top_p, 1));
        }
        chain.push(LlamaSampler::temp(s.temperature));
        chain.push(LlamaSampler::dist(seed));
    }
    LlamaSampler::chain_simple(chain)
}
