//! A draft session: generates a document's sections one after another on its own thread
//! and streams what happens as `DraftEvent`s (for the TUI's draft pane and the CLI).
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use karte::draft::{DraftEvent, DraftRequest, DraftSession, DocumentKind, DocumentTemplate};
//! # fn demo(engine: Arc<karte::llm::Engine>, chart: karte::chart::Chart) {
//! let template = DocumentTemplate::builtin(DocumentKind::Discharge);
//! let sampling = karte::llm::ModelManifest::default_model().sampling_defaults();
//! let mut session = DraftSession::start(engine, DraftRequest::new(chart, template, sampling));
//! while let Some(event) = session.events.blocking_recv() {   // `.recv().await` in async code
//!     if let DraftEvent::Finished(draft) = event { println!("{}", draft.to_text()); }
//! }
//! # }
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::chart::Chart;
use crate::llm::{
    event_channel, CancelToken, Engine, EngineEvent, FinishReason, GenerateRequest, Prompt,
    RequestHandle, Sampling, Timing,
};
use crate::nlp::Pipeline;

use super::error::DraftError;
use super::evidence::{self, SectionEvidence, SectionedChart};
use super::factual;
use super::grounded::{self, GroundedText, SentenceJudge};
use super::mode::DraftMode;
use super::model::{Draft, DraftSection, Origin, SectionKind, Truncation};
use super::prompt::{section_stops, without_heading, PromptPlan};
use super::template::{Composer, DocumentTemplate, SectionTemplate};

/// The text of a narrative section when the chart has no notes to draw it from.
pub const NO_NOTES_TEXT: &str =
    "（記録（経過記録・サマリー等）が読み込まれていないため、この項目の根拠となる記載がありません。記入してください。）";

#[derive(Debug, Clone)]
pub struct DraftRequest {
    pub chart: Chart,
    pub template: DocumentTemplate,
    pub sampling: Sampling,
    /// Section `i` is sampled with `seed + i`: the same seed gives the same draft.
    pub seed: u32,
    /// Replaces every narrative section's `max_tokens` (CLI `--max-tokens`, tests).
    pub max_tokens: Option<usize>,
    /// Only these section keys (regenerating one section); `None` means all.
    pub only_sections: Option<Vec<String>>,
    /// How narrative sections are written (the model manifest's default).
    pub mode: DraftMode,
    /// Per-section modes chosen by the clinician (section key → mode).
    pub section_modes: BTreeMap<String, DraftMode>,
    /// The NLP pipeline for the provenance guard that checks `grounded` sentences; without
    /// it only numbers and the format example are checked.
    pub pipeline: Option<Arc<Pipeline>>,
}

impl DraftRequest {
    pub fn new(chart: Chart, template: DocumentTemplate, sampling: Sampling) -> Self {
        Self {
            chart,
            template,
            sampling,
            seed: 0,
            max_tokens: None,
            only_sections: None,
            mode: DraftMode::default(),
            section_modes: BTreeMap::new(),
            pipeline: None,
        }
    }

    /// The mode of one section.
    pub fn mode_of(&self, key: &str) -> DraftMode {
        self.section_modes.get(key).copied().unwrap_or(self.mode)
    }

    /// Whether any requested narrative section asks the model.
    pub fn needs_model(&self) -> bool {
        // Without notes there is nothing to write from (the sections say so).
        !self.chart.notes.is_empty()
            && self.template.sections.iter().any(|s| {
                s.kind == SectionKind::Narrative
                    && self
                        .only_sections
                        .as_ref()
                        .is_none_or(|keys| keys.contains(&s.key))
                    && self.mode_of(&s.key).needs_model()
                    && !(self.mode_of(&s.key) == DraftMode::Grounded
                        && s.composer != Composer::Sentences)
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionOutline {
    pub key: String,
    pub title: String,
    pub kind: SectionKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DraftEvent {
    /// The sections that will follow, in order.
    Started {
        doc: super::model::DocumentKind,
        title: String,
        chart_id: String,
        sections: Vec<SectionOutline>,
    },
    /// Some notes did not fit the context and were not shown to the model.
    Truncated(Truncation),
    /// Something the clinician should know while the draft goes on (Japanese): the model
    /// could not be loaded and the narrative sections were written from the evidence alone,
    /// or the server is busy and the request will be retried.
    Notice {
        message: String,
    },
    SectionStarted {
        index: usize,
        key: String,
    },
    /// Generated text of a narrative section, as it streams.
    Token {
        index: usize,
        key: String,
        text: String,
    },
    /// The finished section (its `text` is final: trimmed of surrounding blank lines).
    SectionDone {
        index: usize,
        section: DraftSection,
    },
    Finished(Draft),
    /// Cancelled: the sections finished so far.
    Cancelled(Draft),
    Failed {
        error: String,
    },
}

/// A running draft. Dropping it does not stop it; call `cancel`.
pub struct DraftSession {
    pub events: tokio::sync::mpsc::UnboundedReceiver<DraftEvent>,
    cancel: CancelToken,
    current: Arc<Mutex<Option<RequestHandle>>>,
    /// The drafting thread (it holds the engine until it ends).
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DraftSession {
    pub fn start(engine: Arc<Engine>, request: DraftRequest) -> Self {
        Self::start_with(Some(engine), request)
    }

    /// Waits for the drafting thread to end, and with it its hold on the engine. A draft
    /// can finish while the engine still computes the token after a request the drafter
    /// stopped (grounded mode stops the model once a section is complete): a process that
    /// exits right after its last draft calls this first, so llama.cpp is not torn down
    /// under a running decode.
    pub fn wait_ended(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// A draft with no model at all: narrative sections are written in `evidence` mode.
    pub fn start_without_model(mut request: DraftRequest) -> Self {
        request.mode = DraftMode::Evidence;
        request.section_modes.clear();
        Self::start_with(None, request)
    }

    fn start_with(engine: Option<Arc<Engine>>, request: DraftRequest) -> Self {
        let (sender, events) = tokio::sync::mpsc::unbounded_channel();
        let cancel = CancelToken::new();
        let current = Arc::new(Mutex::new(None));
        let driver = Driver {
            engine,
            request,
            sender: sender.clone(),
            cancel: cancel.clone(),
            current: Arc::clone(&current),
        };
        let spawned = std::thread::Builder::new()
            .name("karte-draft".into())
            .spawn(move || driver.run());
        let thread = match spawned {
            Ok(thread) => Some(thread),
            Err(e) => {
                let _ = sender.send(DraftEvent::Failed {
                    error: format!("cannot start the draft thread: {e}"),
                });
                None
            }
        };
        Self {
            events,
            cancel,
            current,
            thread,
        }
    }

    /// Stops the draft: the running section ends at the engine's next decode step.
    pub fn cancel(&self) {
        self.cancel.cancel();
        if let Ok(current) = self.current.lock() {
            if let Some(handle) = current.as_ref() {
                handle.cancel();
            }
        }
    }
}

/// Runs a draft to the end on the calling thread (not inside an async runtime), passing
/// every event to `on_event`.
pub fn run_blocking(
    engine: Arc<Engine>,
    request: DraftRequest,
    mut on_event: impl FnMut(&DraftEvent),
) -> Result<Draft, DraftError> {
    let mut session = DraftSession::start(engine, request);
    let result = loop {
        let Some(event) = session.events.blocking_recv() else {
            break Err(DraftError::Llm(crate::llm::LlmError::EngineStopped));
        };
        on_event(&event);
        match event {
            DraftEvent::Finished(draft) => break Ok(draft),
            DraftEvent::Cancelled(_) => break Err(DraftError::Cancelled),
            DraftEvent::Failed { error } => {
                break Err(DraftError::Llm(crate::llm::LlmError::Decode {
                    detail: error,
                }))
            }
            _ => {}
        }
    };
    session.wait_ended();
    result
}

/// Mixed into the seed when an empty section is generated again.
const RETRY_SEED: u32 = 0x9E37_79B9;
/// The second attempt's text starts with this (completion prompts only).
const RETRY_PRIMER: &str = "・";

struct Driver {
    engine: Option<Arc<Engine>>,
    request: DraftRequest,
    sender: tokio::sync::mpsc::UnboundedSender<DraftEvent>,
    cancel: CancelToken,
    current: Arc<Mutex<Option<RequestHandle>>>,
}

#[allow(clippy::large_enum_variant)] // one per section, moved once
enum SectionOutcome {
    Done(DraftSection),
    Cancelled,
    Failed(String),
}

/// What the engine offers a draft, once loaded.
struct Loaded {
    tokenizer: crate::llm::Tokenizer,
    info: crate::llm::ModelInfo,
}

impl Driver {
    fn emit(&self, event: DraftEvent) {
        let _ = self.sender.send(event);
    }

    fn run(mut self) {
        let mut loaded = None;
        if self.request.needs_model() {
            match self.load() {
                Ok(l) => loaded = Some(l),
                Err(error) => {
                    // No model: the narrative sections are quoted from the chart instead.
                    tracing::warn!(%error, "draft falls back to evidence mode");
                    self.emit(DraftEvent::Notice {
                        message: format!(
                            "モデルを使えないため、叙述の項目はカルテの記載から抜粋しました（{error}）"
                        ),
                    });
                    self.request.mode = DraftMode::Evidence;
                    self.request.section_modes.clear();
                }
            }
        }
        let r = &self.request;
        let wanted = |s: &SectionTemplate| {
            r.only_sections
                .as_ref()
                .is_none_or(|keys| keys.contains(&s.key))
        };
        let needs_plan = r.template.sections.iter().any(|s| {
            wanted(s) && s.kind == SectionKind::Narrative && r.mode_of(&s.key) == DraftMode::Free
        });
        let plan = match (&loaded, needs_plan) {
            (Some(l), true) => match PromptPlan::build(
                &r.chart,
                &r.template,
                &l.tokenizer,
                l.info.n_ctx,
                l.info.has_chat_template,
                r.max_tokens,
            ) {
                Ok(plan) => Some(plan),
                Err(e) => {
                    return self.emit(DraftEvent::Failed {
                        error: e.to_string(),
                    })
                }
            },
            _ => None,
        };
        let sectioned = SectionedChart::new(&r.chart);
        let judge = SentenceJudge::new(&r.chart, r.pipeline.clone(), &r.template.example);
        let model_name = loaded
            .as_ref()
            .map(|l| l.info.name.clone())
            .unwrap_or_default();
        tracing::info!(
            sections = r.template.sections.len(),
            notes = r.chart.notes.len(),
            included = plan.as_ref().map(|p| p.included_notes.len()),
            "draft started"
        );
        let mut draft = Draft {
            doc: r.template.doc,
            title: r.template.title.clone(),
            chart_id: r.chart.id.clone(),
            sections: Vec::new(),
            truncation: plan.as_ref().and_then(|p| p.truncation.clone()),
            seed: r.seed,
            model: model_name,
        };
        self.emit(DraftEvent::Started {
            doc: r.template.doc,
            title: r.template.title.clone(),
            chart_id: r.chart.id.clone(),
            sections: r
                .template
                .sections
                .iter()
                .filter(|s| wanted(s))
                .map(|s| SectionOutline {
                    key: s.key.clone(),
                    title: s.title.clone(),
                    kind: s.kind,
                })
                .collect(),
        });
        if let Some(t) = &draft.truncation {
            self.emit(DraftEvent::Truncated(t.clone()));
        }
        for (index, section) in r.template.sections.iter().enumerate() {
            if !wanted(section) {
                continue;
            }
            if self.cancel.is_cancelled() {
                return self.emit(DraftEvent::Cancelled(draft));
            }
            self.emit(DraftEvent::SectionStarted {
                index,
                key: section.key.clone(),
            });
            let mode = r.mode_of(&section.key);
            let outcome = match (section.kind, section.source, mode) {
                (SectionKind::Factual, Some(source), _) => {
                    let (text, provenance) = factual::fill(&r.chart, source);
                    SectionOutcome::Done(DraftSection {
                        key: section.key.clone(),
                        title: section.title.clone(),
                        kind: SectionKind::Factual,
                        text,
                        provenance,
                        origin: Origin::Factual,
                        finish: None,
                        timing: None,
                        mode: None,
                        aligned: Vec::new(),
                        fallbacks: Vec::new(),
                    })
                }
                // A chart with structured records only (e.g. SS-MIX2 without notes): the
                // model is not asked, the section says it has no evidence.
                (SectionKind::Narrative, _, _) if r.chart.notes.is_empty() => {
                    // Streamed like generated text, so every front end shows it.
                    self.emit(DraftEvent::Token {
                        index,
                        key: section.key.clone(),
                        text: NO_NOTES_TEXT.to_owned(),
                    });
                    SectionOutcome::Done(DraftSection {
                        key: section.key.clone(),
                        title: section.title.clone(),
                        kind: SectionKind::Narrative,
                        text: NO_NOTES_TEXT.to_owned(),
                        provenance: Vec::new(),
                        origin: Origin::Evidence,
                        finish: None,
                        timing: None,
                        mode: None,
                        aligned: Vec::new(),
                        fallbacks: Vec::new(),
                    })
                }
                (SectionKind::Narrative, _, DraftMode::Free) => match &plan {
                    Some(plan) => match self.generate(index, section, plan, r.seed, "") {
                        // The model ended at once (it likes to open with a header): one more
                        // try that starts the text with a bullet, with a derived seed.
                        SectionOutcome::Done(s) if s.text.is_empty() => {
                            match self.generate(
                                index,
                                section,
                                plan,
                                r.seed ^ RETRY_SEED,
                                RETRY_PRIMER,
                            ) {
                                // Still nothing (or only the format example, removed): the
                                // section's evidence, marked as a fallback.
                                SectionOutcome::Done(mut s) if s.text.is_empty() => {
                                    let evidence = evidence::select(&sectioned, section);
                                    if !evidence.is_empty() {
                                        let (text, provenance) = evidence.compose();
                                        s.fallbacks =
                                            provenance.iter().map(|(r, _)| r.clone()).collect();
                                        s.text = text;
                                        s.provenance = provenance;
                                    }
                                    SectionOutcome::Done(s)
                                }
                                other => other,
                            }
                        }
                        other => other,
                    },
                    None => SectionOutcome::Failed(crate::llm::LlmError::NotLoaded.to_string()),
                },
                (SectionKind::Narrative, _, mode) => {
                    let evidence = evidence::select(&sectioned, section);
                    match (mode, &loaded) {
                        (DraftMode::Grounded, Some(l))
                            if section.composer == Composer::Sentences && !evidence.is_empty() =>
                        {
                            self.ground(index, section, &evidence, l, &judge)
                        }
                        _ => {
                            let done = self.quote(section, &sectioned, &evidence);
                            self.emit(DraftEvent::Token {
                                index,
                                key: section.key.clone(),
                                text: done.text.clone(),
                            });
                            SectionOutcome::Done(done)
                        }
                    }
                }
                _ => SectionOutcome::Failed(format!(
                    "section \"{}\" cannot be filled (factual without source)",
                    section.key
                )),
            };
            match outcome {
                SectionOutcome::Done(done) => {
                    draft.sections.push(done.clone());
                    self.emit(DraftEvent::SectionDone {
                        index,
                        section: done,
                    });
                }
                SectionOutcome::Cancelled => return self.emit(DraftEvent::Cancelled(draft)),
                SectionOutcome::Failed(error) => return self.emit(DraftEvent::Failed { error }),
            }
        }
        self.emit(DraftEvent::Finished(draft));
    }

    fn generate(
        &self,
        index: usize,
        section: &SectionTemplate,
        plan: &PromptPlan,
        seed: u32,
        primer: &str,
    ) -> SectionOutcome {
        let r = &self.request;
        let (prompt, primer) = match plan.section_prompt(&r.template, section) {
            Prompt::Text(text) => (Prompt::Text(format!("{text}{primer}")), primer),
            chat => (chat, ""),
        };
        let mut request = GenerateRequest::new(prompt, r.sampling.clone());
        request.max_tokens = r.max_tokens.unwrap_or(section.max_tokens).max(1);
        request.stop = section_stops(plan.chat)
            .iter()
            .map(|s| s.to_string())
            .collect();
        request.seed = seed.wrapping_add(index as u32);
        if !primer.is_empty() {
            self.emit(DraftEvent::Token {
                index,
                key: section.key.clone(),
                text: primer.to_string(),
            });
        }
        let (text, reason, timing) = match self.stream(index, &section.key, request, |_| true) {
            Streamed::Done {
                text,
                finish,
                timing,
            } => (format!("{primer}{text}"), finish, timing),
            Streamed::Enough { text, timing } => {
                (format!("{primer}{text}"), FinishReason::Stop, timing)
            }
            Streamed::Cancelled => return SectionOutcome::Cancelled,
            Streamed::Failed(e) => return SectionOutcome::Failed(e),
        };
        // A primer with nothing after it is no text; the format example is never copied.
        let text = match without_heading(&text, &section.title).trim() {
            t if t == primer.trim() => String::new(),
            t => without_example(t, &self.request.template.example),
        };
        SectionOutcome::Done(DraftSection {
            key: section.key.clone(),
            title: section.title.clone(),
            kind: SectionKind::Narrative,
            text,
            provenance: Vec::new(),
            origin: Origin::Generated,
            finish: Some(reason),
            timing,
            mode: Some(DraftMode::Free),
            aligned: Vec::new(),
            fallbacks: Vec::new(),
        })
    }

    /// Sends one request to the engine and streams its text as `Token` events (each piece
    /// also to `on_piece`, which returns false to stop the model: it has what it needs)
    /// until it ends.
    fn stream(
        &self,
        index: usize,
        key: &str,
        request: GenerateRequest,
        mut on_piece: impl FnMut(&str) -> bool,
    ) -> Streamed {
        let Some(engine) = &self.engine else {
            return Streamed::Failed(crate::llm::LlmError::NotLoaded.to_string());
        };
        let (sink, mut events) = event_channel();
        let requested = std::time::Instant::now();
        let handle = engine.submit(request, sink);
        if let Ok(mut current) = self.current.lock() {
            *current = Some(handle.clone());
        }
        if self.cancel.is_cancelled() {
            handle.cancel();
        }
        let mut text = String::new();
        let mut timing: Option<Timing> = None;
        let mut finish = None;
        let mut enough = false;
        let mut first_piece: Option<std::time::Instant> = None;
        let mut pieces = 0usize;
        while let Some(event) = events.blocking_recv() {
            match event {
                EngineEvent::Token { text: piece, .. } => {
                    if enough {
                        continue; // asked to stop: what is still on its way is not drafted
                    }
                    first_piece.get_or_insert_with(std::time::Instant::now);
                    pieces += 1;
                    text.push_str(&piece);
                    let go_on = on_piece(&piece);
                    self.emit(DraftEvent::Token {
                        index,
                        key: key.to_string(),
                        text: piece,
                    });
                    if !go_on {
                        enough = true;
                        handle.cancel();
                    }
                }
                EngineEvent::Timing { timing: t, .. } => timing = Some(t),
                EngineEvent::Retrying { message, .. } => self.emit(DraftEvent::Notice { message }),
                EngineEvent::Finished { reason, .. } => {
                    finish = Some(reason);
                    break;
                }
                EngineEvent::Error { error, .. } => return Streamed::Failed(error.to_string()),
                _ => {}
            }
        }
        if let Ok(mut current) = self.current.lock() {
            *current = None;
        }
        match finish {
            // The user's cancel wins over a stop asked by `on_piece`.
            Some(FinishReason::Cancelled) if !enough || self.cancel.is_cancelled() => {
                Streamed::Cancelled
            }
            Some(_) if enough => Streamed::Enough {
                text,
                // A stopped request reports no timing of its own (the engine ends its events
                // at the cancel): what the drafter saw, so the model's time is still recorded.
                timing: timing.or_else(|| Some(observed_timing(requested, first_piece, pieces))),
            },
            None => Streamed::Failed(crate::llm::LlmError::EngineStopped.to_string()),
            Some(finish) => Streamed::Done {
                text,
                finish,
                timing,
            },
        }
    }

    /// Waits for the engine and its tokenizer.
    fn load(&self) -> Result<Loaded, String> {
        let engine = self
            .engine
            .as_ref()
            .ok_or_else(|| crate::llm::LlmError::NotLoaded.to_string())?;
        let info = engine.wait_loaded().map_err(|e| e.to_string())?;
        let tokenizer = engine
            .tokenizer()
            .ok_or_else(|| crate::llm::LlmError::NotLoaded.to_string())?;
        Ok(Loaded { tokenizer, info })
    }

    /// `evidence` mode (and record-composed sections): the chart's own sentences.
    fn quote(
        &self,
        section: &SectionTemplate,
        sectioned: &SectionedChart,
        evidence: &SectionEvidence,
    ) -> DraftSection {
        let (text, provenance) = match section.composer {
            Composer::Sentences => evidence.compose(),
            Composer::Dated => evidence.compose_dated(),
            Composer::Course => {
                super::course::compose(&self.request.chart, sectioned, section, evidence)
            }
        };
        DraftSection {
            key: section.key.clone(),
            title: section.title.clone(),
            kind: SectionKind::Narrative,
            text,
            provenance,
            origin: Origin::Evidence,
            finish: None,
            timing: None,
            mode: Some(DraftMode::Evidence),
            aligned: Vec::new(),
            fallbacks: Vec::new(),
        }
    }

    /// `grounded` mode: the model rewrites the evidence; each finished sentence is judged.
    fn ground(
        &self,
        index: usize,
        section: &SectionTemplate,
        evidence: &SectionEvidence,
        loaded: &Loaded,
        judge: &SentenceJudge,
    ) -> SectionOutcome {
        let r = &self.request;
        let prompt = grounded::prompt(
            &r.template,
            section,
            evidence,
            loaded.info.has_chat_template,
        );
        let evidence_tokens = loaded.tokenizer.count(&evidence.prompt_lines());
        let mut request = GenerateRequest::new(prompt, r.sampling.clone());
        request.max_tokens = r
            .max_tokens
            .unwrap_or_else(|| grounded::max_tokens(section, evidence_tokens))
            .max(1);
        request.stop = section_stops(loaded.info.has_chat_template)
            .iter()
            .map(|s| s.to_string())
            .collect();
        request.seed = r.seed.wrapping_add(index as u32);
        let mut assembled = GroundedText::new(evidence);
        let mut pending = String::new();
        let streamed = self.stream(index, &section.key, request, |piece| {
            pending.push_str(piece);
            for sentence in grounded::take_sentences(&mut pending) {
                assembled.push_sentence(&sentence, evidence, judge);
            }
            if assembled.unfinished_is_doomed(&pending) {
                // Rejected however it ends: replaced by its evidence now, and the model
                // stopped (what follows a run-on list of invented values is more of it).
                assembled.push_sentence(&std::mem::take(&mut pending), evidence, judge);
                return false;
            }
            // Stopped once more text cannot change the section (the evidence is all in).
            !assembled.is_complete()
        });
        let (finish, timing, stopped_early) = match streamed {
            Streamed::Done { finish, timing, .. } => (finish, timing, false),
            Streamed::Enough { timing, .. } => (FinishReason::Stop, timing, true),
            Streamed::Cancelled => return SectionOutcome::Cancelled,
            Streamed::Failed(e) => return SectionOutcome::Failed(e),
        };
        // The unfinished last sentence is judged too, unless the model was cut short in it.
        if finish != FinishReason::MaxTokens && !stopped_early {
            let rest = std::mem::take(&mut pending);
            assembled.push_sentence(&rest, evidence, judge);
        }
        if stopped_early {
            assembled.fill_from_evidence(evidence);
        }
        if assembled.text.is_empty() {
            // Nothing usable: the evidence as it is.
            let (text, provenance) = evidence.compose();
            assembled.fallbacks = provenance.iter().map(|(r, _)| r.clone()).collect();
            assembled.text = text;
            assembled.provenance = provenance;
        }
        tracing::debug!(
            section = %section.key,
            rejected = assembled.rejected,
            guard = judge.has_guard(),
            "grounded section checked"
        );
        SectionOutcome::Done(DraftSection {
            key: section.key.clone(),
            title: section.title.clone(),
            kind: SectionKind::Narrative,
            text: assembled.text,
            provenance: assembled.provenance,
            origin: Origin::Generated,
            finish: Some(finish),
            timing,
            mode: Some(DraftMode::Grounded),
            aligned: assembled.aligned,
            fallbacks: assembled.fallbacks,
        })
    }
}

/// The timing of a request the drafter stopped, as the drafter saw it: pieces streamed
/// (one per token from either engine), time to the first, total time; the prompt figures
/// are the engine's to know and stay 0.
fn observed_timing(
    requested: std::time::Instant,
    first_piece: Option<std::time::Instant>,
    pieces: usize,
) -> Timing {
    let after_first = first_piece.map(|t| t.elapsed()).unwrap_or_default();
    Timing {
        prompt_tokens: 0,
        reused_tokens: 0,
        ttft_ms: first_piece
            .map(|t| (t - requested).as_secs_f64() * 1000.0)
            .unwrap_or(0.0),
        prompt_tokens_per_s: 0.0,
        generated_tokens: pieces,
        tokens_per_s: Timing::rate(pieces.saturating_sub(1), after_first),
        total_ms: requested.elapsed().as_secs_f64() * 1000.0,
        dropped_invalid_bytes: 0,
        server_tokens_per_s: None,
    }
}

/// How one request to the engine ended.
enum Streamed {
    Done {
        text: String,
        finish: FinishReason,
        timing: Option<Timing>,
    },
    /// The caller had what it needed and stopped the model (not the user's cancel).
    Enough {
        text: String,
        timing: Option<Timing>,
    },
    Cancelled,
    Failed(String),
}

/// `text` without the sentences of the template's format example.
fn without_example(text: &str, example: &str) -> String {
    let example_keys = super::evidence::example_sentences(example);
    let mut out = String::new();
    let mut rest = text.to_string();
    let mut sentences = grounded::take_sentences(&mut rest);
    sentences.push(rest);
    for s in sentences {
        let key = super::evidence::dedup_key(&s);
        let copied = !key.is_empty()
            && example_keys
                .iter()
                .any(|e| e.chars().count() >= 4 && (key.contains(e.as_str()) || e.contains(&key)));
        if !copied {
            out.push_str(&s);
            if s.ends_with(|c: char| !matches!(c, '。' | '！' | '？')) && !s.is_empty() {
                out.push('\n');
            }
        }
    }
    out.trim().to_string()
}
