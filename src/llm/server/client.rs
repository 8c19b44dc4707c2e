//! HTTP calls to an OpenAI-compatible server: what it serves (`/v1/models`, llama-server's
//! `/props`), token counts (`/tokenize`), and streamed generations (`/v1/completions`,
//! `/v1/chat/completions` with `stream: true`, server-sent events).
//!
//! HTTP is reqwest's, SSE framing is eventsource-stream's; the body's bytes go through
//! karte's own `Utf8Stream` first, so a character split between two network reads (or a
//! byte that is not UTF-8) never reaches the SSE parser half-made.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{json, Value};

use super::config::CheckedServer;
use crate::llm::error::LlmError;
use crate::llm::events::{EngineEvent, FinishReason, RequestId, Timing};
use crate::llm::request::{GenerateRequest, Prompt, RequestControl};
use crate::llm::stop::StopMatcher;
use crate::llm::utf8_stream::Utf8Stream;

/// How often a running request looks at its cancel flag while it waits for the server.
const CANCEL_POLL: Duration = Duration::from_millis(25);
/// Timeout of the small JSON calls (models, props, tokenize).
const SMALL_CALL: Duration = Duration::from_secs(10);
/// Longest wait between two attempts after a 429/503.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A client for one server. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ServerClient {
    pub(crate) server: Arc<CheckedServer>,
    http: reqwest::Client,
}

/// What the server serves, as learnt by [`ServerClient::probe`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Served {
    pub(crate) model: String,
    /// Context tokens of one request (llama-server: per slot; vLLM: `max_model_len`).
    pub(crate) n_ctx: Option<u32>,
    pub(crate) n_ctx_train: Option<u32>,
    pub(crate) n_params: Option<u64>,
    pub(crate) file_size: Option<u64>,
    /// llama-server's `model_path` (to find the same GGUF locally).
    pub(crate) model_path: Option<String>,
    pub(crate) slots: Option<u32>,
    pub(crate) tokenize: bool,
}

impl ServerClient {
    /// `pooled`: keep connections open between calls (the generation client, on one
    /// runtime); off for clients used from short-lived runtimes.
    pub(crate) fn new(server: Arc<CheckedServer>, pooled: bool) -> Result<Self, LlmError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(server.settings.connect_timeout)
            // Prompts carry patient data: straight to the configured server, never through
            // a proxy taken from the environment.
            .no_proxy()
            .user_agent(concat!("karte/", env!("CARGO_PKG_VERSION")))
            .http1_only();
        if !pooled {
            builder = builder.pool_max_idle_per_host(0);
        }
        for certificate in &server.ca_certificates {
            builder = builder.add_root_certificate(certificate.clone());
        }
        let http = builder.build().map_err(|e| LlmError::ServerConfig {
            detail: format!("HTTP クライアントを作れません ({})", root_cause(&e)),
        })?;
        Ok(Self { server, http })
    }

    fn display(&self) -> String {
        self.server.display.clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.server.base.as_str().trim_end_matches('/'))
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match &self.server.api_key {
            Some(key) => builder.bearer_auth(key.expose()),
            None => builder,
        }
    }

    fn send_error(&self, e: &reqwest::Error) -> LlmError {
        let detail = if e.is_timeout() || e.is_connect() && root_cause(e).contains("timed out") {
            format!(
                "{:.0} 秒以内に応答がありません",
                self.server.settings.connect_timeout.as_secs_f64()
            )
        } else {
            root_cause(e)
        };
        LlmError::ServerUnreachable {
            server: self.display(),
            detail,
        }
    }

    /// The error for a non-success status (the body may hold the server's reason).
    fn status_error(&self, status: reqwest::StatusCode, body: &str, model: &str) -> LlmError {
        let server = self.display();
        match status.as_u16() {
            401 | 403 => LlmError::ServerAuth {
                server,
                status: status.as_u16(),
            },
            404 => LlmError::ServerModelNotFound {
                server,
                model: model.to_string(),
                available: String::new(),
            },
            code => LlmError::ServerHttp {
                server,
                status: code,
                detail: server_reason(body),
            },
        }
    }

    async fn get_json(&self, path: &str) -> Result<Option<Value>, LlmError> {
        let response = self
            .request(reqwest::Method::GET, path)
            .timeout(SMALL_CALL)
            .send()
            .await
            .map_err(|e| self.send_error(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = response.text().await.map_err(|e| self.send_error(&e))?;
        if !status.is_success() {
            return Err(self.status_error(status, &body, ""));
        }
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|e| LlmError::ServerMalformed {
                server: self.display(),
                detail: format!("{path}: {e}"),
            })
    }

    /// Which model the server serves (the configured one must be among them), its context
    /// and whether `/tokenize` exists.
    pub(crate) async fn probe(&self) -> Result<Served, LlmError> {
        let server = self.display();
        let models =
            self.get_json("v1/models")
                .await?
                .ok_or_else(|| LlmError::ServerMalformed {
                    server: server.clone(),
                    detail: "/v1/models がありません (HTTP 404)".into(),
                })?;
        let listed: Vec<&Value> = models["data"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let ids: Vec<String> = listed
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect();
        let model = match &self.server.settings.model {
            Some(wanted) if ids.is_empty() || ids.contains(wanted) => wanted.clone(),
            Some(wanted) => {
                return Err(LlmError::ServerModelNotFound {
                    server,
                    model: wanted.clone(),
                    available: format!("（提供中: {}）", ids.join(", ")),
                })
            }
            None => ids
                .first()
                .cloned()
                .ok_or_else(|| LlmError::ServerMalformed {
                    server: server.clone(),
                    detail: "/v1/models にモデルがありません".into(),
                })?,
        };
        let entry = listed.iter().find(|m| m["id"].as_str() == Some(&model));
        let meta = entry.map(|m| &m["meta"]);
        let as_u32 = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
        let mut served = Served {
            n_ctx: entry.and_then(|m| as_u32(&m["max_model_len"])),
            n_ctx_train: meta.and_then(|m| as_u32(&m["n_ctx_train"])),
            n_params: meta.and_then(|m| m["n_params"].as_u64()),
            file_size: meta.and_then(|m| m["size"].as_u64()),
            model,
            model_path: None,
            slots: None,
            tokenize: false,
        };
        // llama-server: the context of one slot, the model file, the slot count.
        if let Ok(Some(props)) = self.get_json("props").await {
            let settings = &props["default_generation_settings"];
            served.n_ctx = as_u32(&settings["n_ctx"]).or(served.n_ctx);
            served.model_path = props["model_path"].as_str().map(str::to_string);
            served.slots = as_u32(&props["total_slots"]);
        }
        served.tokenize = self.count_tokens("x", &served.model).await.is_ok();
        Ok(served)
    }

    /// Tokens of `text` without special tokens: llama-server's `content`/`add_special`,
    /// vLLM's `prompt`/`add_special_tokens` (each server ignores the other's fields).
    pub(crate) async fn count_tokens(&self, text: &str, model: &str) -> Result<usize, LlmError> {
        let body = json!({
            "content": text, "add_special": false,
            "prompt": text, "add_special_tokens": false, "model": model,
        });
        let response = self
            .request(reqwest::Method::POST, "tokenize")
            .timeout(SMALL_CALL)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.send_error(&e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| self.send_error(&e))?;
        if !status.is_success() {
            return Err(self.status_error(status, &body, model));
        }
        let value: Value = serde_json::from_str(&body).map_err(|e| LlmError::ServerMalformed {
            server: self.display(),
            detail: format!("/tokenize: {e}"),
        })?;
        value["tokens"]
            .as_array()
            .map(Vec::len)
            .or_else(|| value["count"].as_u64().map(|n| n as usize))
            .ok_or_else(|| LlmError::ServerMalformed {
                server: self.display(),
                detail: "/tokenize の応答に tokens がありません".into(),
            })
    }

    /// Runs one generation, streaming its text to `control`; returns how it ended.
    pub(crate) async fn generate(
        &self,
        id: RequestId,
        model: &str,
        request: &GenerateRequest,
        control: &RequestControl,
    ) -> Result<FinishReason, LlmError> {
        let started = Instant::now();
        let (path, body) = request_body(model, request)?;
        let mut attempt = 0u32;
        let (response, sent_at) = loop {
            let sent_at = Instant::now();
            let send = self.request(reqwest::Method::POST, path).json(&body).send();
            let response = match until_cancelled(control, send).await {
                None => return Ok(FinishReason::Cancelled),
                Some(result) => result.map_err(|e| self.send_error(&e))?,
            };
            let status = response.status();
            if status.is_success() {
                break (response, sent_at);
            }
            let busy = matches!(status.as_u16(), 429 | 503);
            if busy && attempt < self.server.settings.busy_retries {
                attempt += 1;
                let wait = retry_after(&response)
                    .unwrap_or(Duration::from_secs(1 << (attempt - 1).min(5)))
                    .min(MAX_BACKOFF);
                control.send(EngineEvent::Retrying {
                    id,
                    attempt,
                    wait_ms: wait.as_millis() as u64,
                    message: format!(
                        "推論サーバー {} が混み合っています (HTTP {}) — {:.0} 秒後に再試行します ({attempt}/{} 回目)",
                        self.display(),
                        status.as_u16(),
                        wait.as_secs_f64().ceil(),
                        self.server.settings.busy_retries
                    ),
                });
                tracing::info!(
                    status = status.as_u16(),
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "server busy; retrying"
                );
                if until_cancelled(control, tokio::time::sleep(wait))
                    .await
                    .is_none()
                {
                    return Ok(FinishReason::Cancelled);
                }
                continue;
            }
            if busy {
                return Err(LlmError::ServerBusy {
                    server: self.display(),
                    status: status.as_u16(),
                    attempts: attempt,
                });
            }
            let text = until_cancelled(control, response.text())
                .await
                .and_then(Result::ok)
                .unwrap_or_default();
            return Err(self.status_error(status, &text, model));
        };

        let dropped = Arc::new(AtomicUsize::new(0));
        let mut events = sse_events(response.bytes_stream(), Arc::clone(&dropped));
        let settings = &self.server.settings;
        let mut stops = StopMatcher::new(&request.stop);
        let mut report = StreamReport::default();
        let mut first_token_at: Option<Instant> = None;
        let mut finish: Option<FinishReason> = None;
        let mut done = false;
        while !done {
            let limit = match first_token_at {
                None => (sent_at + settings.first_token_timeout)
                    .saturating_duration_since(Instant::now()),
                Some(_) => settings.idle_timeout,
            };
            let next = tokio::time::timeout(limit, events.next());
            let event = match until_cancelled(control, next).await {
                None => return Ok(FinishReason::Cancelled),
                Some(Err(_elapsed)) => {
                    return Err(match first_token_at {
                        None => LlmError::ServerNoFirstToken {
                            server: self.display(),
                            seconds: settings.first_token_timeout.as_secs_f64(),
                        },
                        Some(_) => LlmError::ServerIdle {
                            server: self.display(),
                            seconds: settings.idle_timeout.as_secs_f64(),
                        },
                    })
                }
                Some(Ok(None)) => break,
                Some(Ok(Some(Err(e)))) => {
                    return Err(LlmError::ServerStreamCut {
                        server: self.display(),
                        detail: stream_error_detail(&e),
                    })
                }
                Some(Ok(Some(Ok(event)))) => event,
            };
            let data = event.data.trim();
            if data == "[DONE]" {
                break;
            }
            if data.is_empty() {
                continue;
            }
            let chunk: Value =
                serde_json::from_str(data).map_err(|e| LlmError::ServerMalformed {
                    server: self.display(),
                    detail: format!("SSE data が JSON ではありません: {e}"),
                })?;
            if event.event == "error" || chunk.get("error").is_some() {
                let error = chunk.get("error").unwrap_or(&chunk);
                return Err(LlmError::ServerHttp {
                    server: self.display(),
                    status: error["code"]
                        .as_u64()
                        .and_then(|c| u16::try_from(c).ok())
                        .unwrap_or(500),
                    detail: server_reason(&error.to_string()),
                });
            }
            report.read_usage(&chunk);
            let Some(choice) = chunk["choices"].as_array().and_then(|c| c.first()) else {
                if chunk.get("usage").is_some() || chunk.get("timings").is_some() {
                    continue;
                }
                return Err(LlmError::ServerMalformed {
                    server: self.display(),
                    detail: "choices がない SSE イベント".into(),
                });
            };
            let piece = choice["text"]
                .as_str()
                .or_else(|| choice["delta"]["content"].as_str())
                .unwrap_or("");
            if !piece.is_empty() {
                first_token_at.get_or_insert_with(Instant::now);
                report.chunks += 1;
                let check = stops.push(piece);
                if !check.emit.is_empty() {
                    control.send(EngineEvent::Token {
                        id,
                        text: check.emit,
                    });
                }
                if check.stopped {
                    finish = Some(FinishReason::StopString);
                    done = true;
                }
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                finish = finish.or(Some(match reason {
                    "length" => FinishReason::MaxTokens,
                    _ => FinishReason::Stop,
                }));
            }
        }
        let Some(reason) = finish else {
            // The stream ended without a finish reason: the connection was cut.
            return Err(LlmError::ServerStreamCut {
                server: self.display(),
                detail: "応答が終わりの印なしに途切れました".into(),
            });
        };
        if reason != FinishReason::StopString {
            let rest = stops.flush();
            if !rest.is_empty() {
                control.send(EngineEvent::Token { id, text: rest });
            }
        }
        let generated = report.completion_tokens.unwrap_or(report.chunks);
        let after_first = first_token_at.map(|t| t.elapsed()).unwrap_or_default();
        let timing = Timing {
            prompt_tokens: report.prompt_tokens.unwrap_or(0),
            reused_tokens: report.cached_tokens.unwrap_or(0),
            ttft_ms: first_token_at
                .map(|t| (t - started).as_secs_f64() * 1000.0)
                .unwrap_or(0.0),
            prompt_tokens_per_s: report.prompt_per_second.unwrap_or(0.0),
            generated_tokens: generated,
            tokens_per_s: Timing::rate(generated.saturating_sub(1), after_first),
            total_ms: started.elapsed().as_secs_f64() * 1000.0,
            dropped_invalid_bytes: dropped.load(Ordering::Relaxed),
            server_tokens_per_s: report.predicted_per_second,
        };
        control.send(EngineEvent::Timing { id, timing });
        Ok(reason)
    }
}

/// Server-sent events from a body's byte chunks: the bytes pass through `Utf8Stream`
/// (whole characters only; invalid bytes dropped and counted in `dropped`), then through
/// eventsource-stream's parser.
pub(crate) fn sse_events<S, B, E>(
    body: S,
    dropped: Arc<AtomicUsize>,
) -> impl futures::Stream<
    Item = Result<eventsource_stream::Event, eventsource_stream::EventStreamError<E>>,
> + Unpin
where
    S: futures::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    let mut utf8 = Utf8Stream::new();
    body.map(move |chunk| {
        chunk.map(|bytes| {
            let text = utf8.push(bytes.as_ref());
            dropped.store(utf8.dropped_bytes(), Ordering::Relaxed);
            text
        })
    })
    .eventsource()
}

/// The counts a server reports along the stream (OpenAI `usage`, llama-server `timings`).
#[derive(Debug, Default)]
struct StreamReport {
    chunks: usize,
    prompt_tokens: Option<usize>,
    completion_tokens: Option<usize>,
    cached_tokens: Option<usize>,
    prompt_per_second: Option<f64>,
    predicted_per_second: Option<f64>,
}

impl StreamReport {
    fn read_usage(&mut self, chunk: &Value) {
        let n = |v: &Value| v.as_u64().map(|n| n as usize);
        let usage = &chunk["usage"];
        self.prompt_tokens = n(&usage["prompt_tokens"]).or(self.prompt_tokens);
        self.completion_tokens = n(&usage["completion_tokens"]).or(self.completion_tokens);
        self.cached_tokens =
            n(&usage["prompt_tokens_details"]["cached_tokens"]).or(self.cached_tokens);
        let timings = &chunk["timings"];
        if timings.is_object() {
            self.cached_tokens = n(&timings["cache_n"]).or(self.cached_tokens);
            if let (Some(cache), Some(prompt)) = (n(&timings["cache_n"]), n(&timings["prompt_n"])) {
                self.prompt_tokens = Some(cache + prompt);
            }
            self.completion_tokens = n(&timings["predicted_n"]).or(self.completion_tokens);
            self.prompt_per_second = timings["prompt_per_second"]
                .as_f64()
                .or(self.prompt_per_second);
            self.predicted_per_second = timings["predicted_per_second"]
                .as_f64()
                .or(self.predicted_per_second);
        }
    }
}

/// The endpoint and JSON body of a request: sampling, seed, stop strings and bounds pass
/// through; `cache_prompt` lets llama-server reuse the shared chart prefix.
pub(crate) fn request_body(
    model: &str,
    request: &GenerateRequest,
) -> Result<(&'static str, Value), LlmError> {
    let s = &request.sampling;
    let mut body = json!({
        "model": model,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": request.max_tokens,
        "temperature": if s.temperature <= 0.0 { 0.0 } else { s.temperature },
        "top_p": s.top_p,
        "seed": request.seed,
        "cache_prompt": request.reuse_prefix,
        // llama-server's default min_p (0.05) is not in karte's sampler chain.
        "min_p": 0.0,
        "ignore_eos": request.ignore_eos,
    });
    if s.top_k > 0 {
        body["top_k"] = json!(s.top_k);
    }
    if s.repeat_penalty > 0.0 && s.repeat_penalty != 1.0 && s.repeat_last_n != 0 {
        body["repeat_penalty"] = json!(s.repeat_penalty); // llama-server
        body["repeat_last_n"] = json!(s.repeat_last_n);
        body["repetition_penalty"] = json!(s.repeat_penalty); // vLLM, SGLang
    }
    let stops: Vec<&String> = request.stop.iter().filter(|s| !s.is_empty()).collect();
    if !stops.is_empty() {
        body["stop"] = json!(stops);
    }
    let path = match &request.prompt {
        Prompt::Text(text) => {
            if text.is_empty() {
                return Err(LlmError::EmptyPrompt);
            }
            body["prompt"] = json!(text);
            "v1/completions"
        }
        Prompt::Chat(messages) => {
            if messages.is_empty() {
                return Err(LlmError::EmptyPrompt);
            }
            body["messages"] = messages
                .iter()
                .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
                .collect();
            "v1/chat/completions"
        }
    };
    Ok((path, body))
}

/// Runs `future` until it finishes or the request is cancelled (`None`). Dropping the
/// future closes its connection, which makes the server stop the generation.
async fn until_cancelled<T>(
    control: &RequestControl,
    future: impl std::future::Future<Output = T>,
) -> Option<T> {
    let cancelled = async {
        loop {
            if control.is_cancelled() {
                return;
            }
            tokio::time::sleep(CANCEL_POLL).await;
        }
    };
    tokio::select! {
        value = future => Some(value),
        () = cancelled => None,
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let secs: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.max(1)))
}

/// The innermost cause of a reqwest error ("Connection refused (os error 111)").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn stream_error_detail<E: std::error::Error + 'static>(error: &E) -> String {
    root_cause(error)
}

/// The server's own reason from an error body, short and on one line.
fn server_reason(body: &str) -> String {
    let value: Option<Value> = serde_json::from_str(body).ok();
    let message = value
        .as_ref()
        .and_then(|v| {
            v["error"]["message"]
                .as_str()
                .or_else(|| v["message"].as_str())
                .or_else(|| v["error"].as_str())
                .or_else(|| v["detail"].as_str())
        })
        .unwrap_or(body);
    let one_line: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    one_line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::manifest::ModelManifest;
    use crate::llm::request::{ChatMessage, ChatRole};

    #[test]
    fn sampling_seed_stops_and_bounds_pass_through() {
        let sampling = ModelManifest::default_model().sampling_defaults();
        let mut request = GenerateRequest::new(Prompt::Text("【経過】\n".into()), sampling.clone());
        request.max_tokens = 77;
        request.seed = 42;
        request.stop = vec!["【".into(), String::new()];
        let (path, body) = request_body("m", &request).unwrap();
        assert_eq!(path, "v1/completions");
        assert_eq!(body["prompt"], "【経過】\n");
        assert_eq!(body["max_tokens"], 77);
        assert_eq!(body["seed"], 42);
        assert_eq!(body["stop"], json!(["【"]));
        assert_eq!(body["top_k"], sampling.top_k);
        assert_eq!(body["cache_prompt"], true);
        assert_eq!(body["stream"], true);
        request.prompt = Prompt::Chat(vec![ChatMessage {
            role: ChatRole::User,
            content: "a".into(),
        }]);
        request.sampling.temperature = -1.0;
        let (path, body) = request_body("m", &request).unwrap();
        assert_eq!(path, "v1/chat/completions");
        assert_eq!(body["messages"][0]["role"], "user");
        assert_eq!(body["temperature"], 0.0);
        request.prompt = Prompt::Text(String::new());
        assert!(request_body("m", &request).is_err());
    }

    #[test]
    fn usage_and_llama_server_timings_are_read() {
        let mut report = StreamReport::default();
        report.read_usage(
            &json!({"usage": {"prompt_tokens": 10, "completion_tokens": 3,
            "prompt_tokens_details": {"cached_tokens": 8}}}),
        );
        assert_eq!(report.cached_tokens, Some(8));
        report.read_usage(
            &json!({"timings": {"cache_n": 9, "prompt_n": 2, "predicted_n": 4,
            "predicted_per_second": 50.0}}),
        );
        assert_eq!(report.prompt_tokens, Some(11));
        assert_eq!(report.completion_tokens, Some(4));
        assert_eq!(report.predicted_per_second, Some(50.0));
    }

    /// The events of `bytes` cut into pieces at `cuts` (byte offsets, any order).
    fn events_of(bytes: &[u8], cuts: &[usize]) -> Vec<(String, String)> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut pieces = Vec::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            pieces.push(Ok::<Vec<u8>, std::io::Error>(bytes[from..cut].to_vec()));
            from = cut;
        }
        let dropped = Arc::new(AtomicUsize::new(0));
        let stream = sse_events(futures::stream::iter(pieces), dropped);
        futures::executor::block_on(stream.collect::<Vec<_>>())
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                (e.event, e.data)
            })
            .collect()
    }

    proptest::proptest! {
        /// However the network splits the body (inside a character, a line ending, a
        /// field name), the same events with the same whole-character text come out.
        #[test]
        fn events_survive_any_split(
            texts in proptest::collection::vec("[あ-んア-ン退院経過a-z\\n ]{0,12}", 1..5),
            cuts in proptest::collection::vec(0usize..4096, 0..12),
        ) {
            let mut body = String::new();
            let mut expected = Vec::new();
            for text in &texts {
                let data = json!({"choices": [{"text": text}]}).to_string();
                body.push_str(&format!("data: {data}\r\n\r\n"));
                expected.push((String::from("message"), data));
            }
            body.push_str("data: [DONE]\n\n");
            expected.push(("message".into(), "[DONE]".into()));
            proptest::prop_assert_eq!(events_of(body.as_bytes(), &cuts), expected);
        }
    }

    #[test]
    fn a_character_cut_between_reads_stays_whole() {
        let body = "data: {\"choices\":[{\"text\":\"退院\"}]}\n\n".as_bytes();
        let at = body.iter().position(|&b| b >= 0x80).unwrap() + 1; // inside 退
        let events = events_of(body, &[at, at + 1]);
        let chunk: Value = serde_json::from_str(&events[0].1).unwrap();
        assert_eq!(chunk["choices"][0]["text"], "退院");
    }

    #[test]
    fn server_reasons_are_short_single_lines() {
        assert_eq!(
            server_reason(r#"{"error":{"message":"bad\nthing"}}"#),
            "bad thing"
        );
        assert_eq!(server_reason("plain"), "plain");
        assert_eq!(server_reason(&"x".repeat(500)).len(), 200);
    }
}
