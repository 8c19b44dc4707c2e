//! Drafting for the draft pane: one `draft::DraftSession` per requested document (the model
//! runs on the engine's thread), its events forwarded to the screen as `Action::Draft`.

use crate::chart::{Chart, Source};
use crate::draft::{self, DocumentTemplate, DraftMode, DraftRequest, DraftSession, SectionKind};
use crate::llm::{Engine, Sampling};
use crate::nlp::Pipeline;
use crate::tui::action::Action;
use crate::tui::state::document_state::{DocRef, DocumentKind};
use crate::tui::state::draft_view::{DraftEvent, SectionStart};
use crate::tui::workers::{ActionSender, DraftService};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The text and source of each linked span of a drafted section (copied evidence first,
/// then the evidence a grounded sentence rewrites).
pub fn section_sources(section: &draft::DraftSection) -> Vec<(String, Source)> {
    section
        .provenance
        .iter()
        .chain(section.aligned.iter())
        .filter(|(range, _)| !range.is_empty())
        .map(|(range, source)| {
            let text: String = section
                .text
                .chars()
                .skip(range.start)
                .take(range.len())
                .collect();
            (text, source.clone())
        })
        .collect()
}

/// The `Evidence` event that follows a finished section.
fn evidence_event(index: usize, section: &draft::DraftSection) -> DraftEvent {
    DraftEvent::Evidence {
        section: index,
        sources: section_sources(section),
        mode: section.mode,
        replaced: section.fallbacks.len(),
    }
}

/// A drafter event as the draft pane's event; `Err` carries a status-bar message instead.
pub fn screen_event(event: draft::DraftEvent) -> Result<DraftEvent, String> {
    Ok(match event {
        draft::DraftEvent::Started { sections, .. } => DraftEvent::Started {
            sections: sections
                .into_iter()
                .map(|s| SectionStart {
                    generated: s.kind == SectionKind::Narrative,
                    title: s.title,
                    text: String::new(),
                })
                .collect(),
        },
        draft::DraftEvent::Truncated(truncation) => return Err(truncation.notice()),
        draft::DraftEvent::Notice { message } => return Err(message),
        draft::DraftEvent::SectionStarted { index, .. } => {
            DraftEvent::SectionStarted { section: index }
        }
        draft::DraftEvent::Token { index, text, .. } => DraftEvent::Text {
            section: index,
            text,
        },
        draft::DraftEvent::SectionDone { index, section } => DraftEvent::SectionDone {
            section: index,
            text: Some(section.text),
        },
        draft::DraftEvent::Finished(_) => DraftEvent::Finished,
        draft::DraftEvent::Cancelled(_) => DraftEvent::Cancelled,
        draft::DraftEvent::Failed { error } => DraftEvent::Failed { message: error },
    })
}

/// The copied spans of a finished section, as the event that follows its `SectionDone`.
pub fn provenance_event(event: &draft::DraftEvent) -> Option<DraftEvent> {
    match event {
        draft::DraftEvent::SectionDone { index, section } if !section.provenance.is_empty() => {
            Some(DraftEvent::SectionProvenance {
                section: *index,
                spans: section.provenance.clone(),
            })
        }
        _ => None,
    }
}

pub struct DraftWorker {
    engine: Arc<Engine>,
    /// Where user templates override the built-in ones (`<config_dir>/templates/`).
    config_dir: PathBuf,
    sampling: Sampling,
    /// Caps every narrative section (tests); `None` uses the templates' limits.
    max_tokens: Option<usize>,
    /// The latest session per (chart id, document), kept so it can be cancelled.
    sessions: HashMap<DocRef, DraftSession>,
    /// How narrative sections are written unless the clinician chose otherwise (the model
    /// manifest's mode).
    mode: DraftMode,
    /// The NLP pipeline for the guard that checks `grounded` sentences, loaded off the UI
    /// thread (until it is there, sentences are checked for numbers and the format example).
    pipeline: Arc<OnceLock<Arc<Pipeline>>>,
}

impl DraftWorker {
    pub fn new(engine: Arc<Engine>, config_dir: PathBuf, sampling: Sampling) -> Self {
        Self {
            engine,
            config_dir,
            sampling,
            max_tokens: None,
            sessions: HashMap::new(),
            mode: DraftMode::default(),
            pipeline: Arc::new(OnceLock::new()),
        }
    }

    /// Narrative sections are written in `mode` unless a section says otherwise.
    pub fn with_mode(mut self, mode: DraftMode) -> Self {
        self.mode = mode;
        self
    }

    /// Loads the dictionary at `ipadic_dir` in the background for the grounded-mode guard.
    pub fn with_guard_dictionary(self, ipadic_dir: &Path) -> Self {
        let slot = Arc::clone(&self.pipeline);
        let dir = ipadic_dir.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("karte-draft-guard".into())
            .spawn(move || match Pipeline::load(&dir) {
                Ok(p) => {
                    let _ = slot.set(Arc::new(p));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "grounded drafts are checked without the guard")
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no thread for the draft guard's dictionary");
        }
        self
    }

    fn request(&self, chart: &Chart, template: DocumentTemplate, mode: DraftMode) -> DraftRequest {
        let mut request = DraftRequest::new(chart.clone(), template, self.sampling.clone());
        request.max_tokens = self.max_tokens;
        request.mode = mode;
        request.pipeline = self.pipeline.get().cloned();
        request
    }

    pub fn with_max_tokens(mut self, max_tokens: Option<usize>) -> Self {
        self.max_tokens = max_tokens;
        self
    }
}

impl DraftService for DraftWorker {
    fn generate(&mut self, chart: Arc<Chart>, document: DocumentKind, actions: ActionSender) {
        let chart_id = chart.id.clone();
        let send = |event: DraftEvent| {
            let _ = actions.send(Action::Draft {
                chart_id: chart_id.clone(),
                document,
                event,
            });
        };
        let template = match DocumentTemplate::load(document, &self.config_dir) {
            Ok(template) => template,
            Err(error) => {
                send(DraftEvent::Failed {
                    message: error.to_string(),
                });
                return;
            }
        };
        let request = self.request(&chart, template, self.mode);
        let mut session = DraftSession::start(Arc::clone(&self.engine), request);
        // The forwarding task owns the events; the session stays here for `cancel`.
        let (_, placeholder) = tokio::sync::mpsc::unbounded_channel();
        let mut events = std::mem::replace(&mut session.events, placeholder);
        let task_actions = actions.clone();
        let task_chart_id = chart_id.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let evidence = match &event {
                    draft::DraftEvent::SectionDone { index, section }
                        if section.kind == SectionKind::Narrative =>
                    {
                        Some(evidence_event(*index, section))
                    }
                    _ => None,
                };
                let provenance = provenance_event(&event).map(|event| Action::Draft {
                    chart_id: task_chart_id.clone(),
                    document,
                    event,
                });
                let action = match screen_event(event) {
                    Ok(event) => Action::Draft {
                        chart_id: task_chart_id.clone(),
                        document,
                        event,
                    },
                    Err(message) => Action::Status(message),
                };
                if task_actions.send(action).is_err() {
                    break;
                }
                if let Some(event) = evidence {
                    let _ = task_actions.send(Action::Draft {
                        chart_id: task_chart_id.clone(),
                        document,
                        event,
                    });
                }
                if let Some(provenance) = provenance {
                    if task_actions.send(provenance).is_err() {
                        break;
                    }
                }
            }
        });
        if let Some(previous) = self
            .sessions
            .insert(DocRef::new(chart_id, document), session)
        {
            previous.cancel();
        }
    }

    fn cancel(&mut self, chart_id: &str, document: DocumentKind) {
        if let Some(session) = self
            .sessions
            .get(&DocRef::new(chart_id.to_string(), document))
        {
            session.cancel();
        }
    }

    /// A new session for just that section (`only_sections`), with a fresh seed so the
    /// text differs from the last one; its final text comes back as one action.
    fn regenerate_section(
        &mut self,
        chart: Arc<Chart>,
        document: DocumentKind,
        heading: String,
        mode: Option<DraftMode>,
        actions: ActionSender,
    ) {
        let chart_id = chart.id.clone();
        let title = heading.clone();
        let evidence_chart_id = chart.id.clone();
        let evidence_actions = actions.clone();
        let answer = move |result: Result<String, String>| Action::SectionRegenerated {
            chart_id: chart_id.clone(),
            document,
            heading: heading.clone(),
            result,
        };
        let template = match DocumentTemplate::load(document, &self.config_dir) {
            Ok(template) => template,
            Err(error) => {
                let _ = actions.send(answer(Err(error.to_string())));
                return;
            }
        };
        let Some(key) = template
            .sections
            .iter()
            .find(|s| s.title == title)
            .map(|s| s.key.clone())
        else {
            let _ = actions.send(answer(Err(
                "この見出しは様式にないため再生成できません".to_string()
            )));
            return;
        };
        let mut request = self.request(&chart, template, self.mode);
        request.only_sections = Some(vec![key.clone()]);
        if let Some(mode) = mode {
            request.section_modes.insert(key.clone(), mode);
        }
        request.seed = rand::random();
        let mut session = DraftSession::start(Arc::clone(&self.engine), request);
        let (_, placeholder) = tokio::sync::mpsc::unbounded_channel();
        let mut events = std::mem::replace(&mut session.events, placeholder);
        tokio::spawn(async move {
            let mut text = None;
            let result = loop {
                match events.recv().await {
                    Some(draft::DraftEvent::SectionDone { index, section })
                        if section.key == key =>
                    {
                        let _ = evidence_actions.send(Action::Draft {
                            chart_id: evidence_chart_id.clone(),
                            document,
                            event: evidence_event(index, &section),
                        });
                        text = Some(section.text);
                    }
                    Some(draft::DraftEvent::Finished(_)) => {
                        break text.ok_or_else(|| "モデルがこのセクションを書きませんでした".into())
                    }
                    Some(draft::DraftEvent::Cancelled(_)) => break Err("中止しました".into()),
                    Some(draft::DraftEvent::Failed { error }) => break Err(error),
                    Some(_) => {}
                    None => break Err("下書きの処理が終了しました".into()),
                }
            };
            let _ = actions.send(answer(result));
        });
        // Kept so that cancelling the document also stops this.
        if let Some(previous) = self
            .sessions
            .insert(DocRef::new(chart.id.clone(), document), session)
        {
            previous.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{EngineConfig, ModelManifest};
    use crate::paths::AppPaths;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_real_draft_streams_into_screen_events_and_finishes() {
        let model = AppPaths::discover()
            .unwrap()
            .models_dir()
            .join("gemma-3-270m-q4_k_m.gguf");
        let (engine, _load_events) = Engine::start(EngineConfig::new(model));
        let sampling = ModelManifest::default_model().sampling_defaults();
        let config_dir = tempfile::tempdir().unwrap();
        let mut service =
            DraftWorker::new(Arc::new(engine), config_dir.path().to_path_buf(), sampling)
                .with_max_tokens(Some(12));
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/01-naika-pneumonia.json");
        let chart = Arc::new(crate::chart::load(&path).unwrap());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        service.generate(Arc::clone(&chart), DocumentKind::Referral, tx);

        let mut started = None;
        let mut streamed = 0;
        let mut with_provenance = 0;
        loop {
            let action = tokio::time::timeout(Duration::from_secs(300), rx.recv())
                .await
                .expect("the draft progresses")
                .expect("the service is alive");
            let Action::Draft {
                chart_id,
                document,
                event,
            } = action
            else {
                continue; // a truncation notice
            };
            assert_eq!(
                (chart_id.as_str(), document),
                (chart.id.as_str(), DocumentKind::Referral)
            );
            match event {
                DraftEvent::Started { sections } => started = Some(sections),
                DraftEvent::Text { text, .. } => streamed += text.chars().count(),
                DraftEvent::SectionStarted { .. }
                | DraftEvent::SectionDone { .. }
                | DraftEvent::Evidence { .. } => {}
                DraftEvent::SectionProvenance { spans, .. } => {
                    assert!(!spans.is_empty());
                    with_provenance += 1;
                }
                DraftEvent::Finished => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        let sections = started.expect("Started comes first");
        assert!(
            sections.iter().any(|s| s.generated),
            "narrative sections stream"
        );
        assert!(
            sections.iter().any(|s| !s.generated),
            "factual sections come from the chart"
        );
        assert!(streamed > 0, "the model wrote something");
        assert!(
            with_provenance > 0,
            "factual sections come with the records they were copied from"
        );
    }
}
