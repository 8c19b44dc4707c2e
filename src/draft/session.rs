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

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::chart::Chart;
use crate::llm::{
    event_channel, CancelToken, Engine, EngineEvent, FinishReason, GenerateRequest, Prompt,
    RequestHandle, Sampling, Timing,
};

use super::error::DraftError;
use super::factual;
use super::model::{Draft, DraftSection, Origin, SectionKind, Truncation};
use super::prompt::{section_stops, without_heading, PromptPlan};
use super::template::{DocumentTemplate, SectionTemplate};

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
        }
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
    /// Something the clinician should know while the draft goes on (the server is busy
    /// and the request will be retried), in Japanese.
    Notice {
        message: String,
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
}

impl DraftSession {
    pub fn start(engine: Arc<Engine>, request: DraftRequest) -> Self {
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
        if let Err(e) = spawned {
            let _ = sender.send(DraftEvent::Failed {
                error: format!("cannot start the draft thread: {e}"),
            });
        }
        Self {
            events,
            cancel,
            current,
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
    while let Some(event) = session.events.blocking_recv() {
        on_event(&event);
        match event {
            DraftEvent::Finished(draft) => return Ok(draft),
            DraftEvent::Cancelled(_) => return Err(DraftError::Cancelled),
            DraftEvent::Failed { error } => {
                return Err(DraftError::Llm(crate::llm::LlmError::Decode {
                    detail: error,
                }))
            }
            _ => {}
        }
    }
    Err(DraftError::Llm(crate::llm::LlmError::EngineStopped))
}

/// Mixed into the seed when an empty section is generated again.
const RETRY_SEED: u32 = 0x9E37_79B9;
/// The second attempt's text starts with this (completion prompts only).
const RETRY_PRIMER: &str = "・";

struct Driver {
    engine: Arc<Engine>,
    request: DraftRequest,
    sender: tokio::sync::mpsc::UnboundedSender<DraftEvent>,
    cancel: CancelToken,
    current: Arc<Mutex<Option<RequestHandle>>>,
}

enum SectionOutcome {
    Done(DraftSection),
    Cancelled,
    Failed(String),
}

impl Driver {
    fn emit(&self, event: DraftEvent) {
        let _ = self.sender.send(event);
    }

    fn run(self) {
        let info = match self.engine.wait_loaded() {
            Ok(info) => info,
            Err(e) => {
                return self.emit(DraftEvent::Failed {
                    error: e.to_string(),
                })
            }
        };
        let Some(tokenizer) = self.engine.tokenizer() else {
            return self.emit(DraftEvent::Failed {
                error: crate::llm::LlmError::NotLoaded.to_string(),
            });
        };
        let r = &self.request;
        let wanted = |s: &SectionTemplate| {
            r.only_sections
                .as_ref()
                .is_none_or(|keys| keys.contains(&s.key))
        };
        let needs_model = r
            .template
            .sections
            .iter()
            .any(|s| wanted(s) && s.kind == SectionKind::Narrative);
        let plan = if needs_model {
            match PromptPlan::build(
                &r.chart,
                &r.template,
                &tokenizer,
                info.n_ctx,
                info.has_chat_template,
                r.max_tokens,
            ) {
                Ok(plan) => Some(plan),
                Err(e) => {
                    return self.emit(DraftEvent::Failed {
                        error: e.to_string(),
                    })
                }
            }
        } else {
            None
        };
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
            model: info.name.clone(),
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
            let outcome = match (section.kind, section.source, &plan) {
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
                    })
                }
                (SectionKind::Narrative, _, Some(plan)) => {
                    match self.generate(index, section, plan, r.seed, "") {
                        // The model ended at once (it likes to open with a header): one more
                        // try that starts the text with a bullet, with a derived seed.
                        SectionOutcome::Done(s) if s.text.is_empty() => {
                            self.generate(index, section, plan, r.seed ^ RETRY_SEED, RETRY_PRIMER)
                        }
                        other => other,
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
        let (sink, mut events) = event_channel();
        let handle = self.engine.submit(request, sink);
        if let Ok(mut current) = self.current.lock() {
            *current = Some(handle.clone());
        }
        if self.cancel.is_cancelled() {
            handle.cancel();
        }
        let mut text = primer.to_string();
        if !primer.is_empty() {
            self.emit(DraftEvent::Token {
                index,
                key: section.key.clone(),
                text: primer.to_string(),
            });
        }
        let mut timing: Option<Timing> = None;
        let mut finish = None;
        while let Some(event) = events.blocking_recv() {
            match event {
                EngineEvent::Token { text: piece, .. } => {
                    text.push_str(&piece);
                    self.emit(DraftEvent::Token {
                        index,
                        key: section.key.clone(),
                        text: piece,
                    });
                }
                EngineEvent::Timing { timing: t, .. } => timing = Some(t),
                EngineEvent::Retrying { message, .. } => self.emit(DraftEvent::Notice { message }),
                EngineEvent::Finished { reason, .. } => {
                    finish = Some(reason);
                    break;
                }
                EngineEvent::Error { error, .. } => {
                    return SectionOutcome::Failed(error.to_string())
                }
                _ => {}
            }
        }
        if let Ok(mut current) = self.current.lock() {
            *current = None;
        }
        match finish {
            Some(FinishReason::Cancelled) => SectionOutcome::Cancelled,
            None => SectionOutcome::Failed(crate::llm::LlmError::EngineStopped.to_string()),
            Some(reason) => SectionOutcome::Done(DraftSection {
                key: section.key.clone(),
                title: section.title.clone(),
                kind: SectionKind::Narrative,
                // A primer with nothing after it is no text.
                text: match without_heading(&text, &section.title).trim() {
                    t if t == primer.trim() => String::new(),
                    t => t.to_string(),
                },
                provenance: Vec::new(),
                origin: Origin::Generated,
                finish: Some(reason),
                timing,
            }),
        }
    }
}
