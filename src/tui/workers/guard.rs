//! The provenance guard behind the draft pane, on its own thread: it takes the NLP pipeline
//! the entity worker loaded (one pipeline for the whole program), indexes each chart once,
//! keeps one incremental `ProvenanceGuard` per document, and answers every draft change with
//! `Action::GuardChecked`. Requests wait in the workers' latest-wins [`inbox`]: while it
//! works, a newer text of a document replaces the waiting one (only the newest is checked),
//! so typing never waits for it.
//!
//! [`inbox`]: crate::tui::workers::inbox

use crate::chart::Chart;
use crate::nlp::Pipeline;
use crate::review::{ChartIndex, ProvenanceGuard};
use crate::tui::action::Action;
use crate::tui::state::document_state::{DocRef, DocumentKind};
use crate::tui::workers::inbox::{inbox, Inbox, InboxSender, Stopped};
use crate::tui::workers::ActionSender;
use std::collections::HashMap;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Instant;

/// Check these sections (journal key, text) of `document` against `chart`.
#[derive(Debug, Clone)]
pub struct GuardRequest {
    pub chart: Arc<Chart>,
    pub document: DocumentKind,
    pub sections: Vec<(String, String)>,
    /// Per section key: spans copied from the chart (facts inside are supported).
    pub provenance: crate::review::SectionSpans,
}

/// The guard's state for every chart and document seen, without a thread (tests use it
/// directly; the worker thread owns one).
pub struct GuardRunner {
    pipeline: Arc<Pipeline>,
    /// Chart index by chart id, with the chart it was built from (a rescan rebuilds it).
    indexes: HashMap<String, (Arc<Chart>, Arc<ChartIndex>)>,
    guards: HashMap<DocRef, ProvenanceGuard>,
}

impl GuardRunner {
    pub fn new(pipeline: Arc<Pipeline>) -> Self {
        Self {
            pipeline,
            indexes: HashMap::new(),
            guards: HashMap::new(),
        }
    }

    /// Checks the request's text; the answer for the screen.
    pub fn check(&mut self, request: GuardRequest) -> Action {
        let GuardRequest {
            chart,
            document,
            sections,
            provenance,
        } = request;
        let key = DocRef::new(chart.id.clone(), document);
        let current = self
            .indexes
            .get(&chart.id)
            .filter(|(built_from, _)| Arc::ptr_eq(built_from, &chart))
            .map(|(_, index)| Arc::clone(index));
        let index = match current {
            Some(index) => index,
            None => {
                let started = Instant::now();
                let index = Arc::new(ChartIndex::build(&self.pipeline, &chart));
                tracing::debug!(
                    entities = index.entity_count,
                    ms = started.elapsed().as_millis() as u64,
                    "chart indexed for the guard"
                );
                self.indexes
                    .insert(chart.id.clone(), (Arc::clone(&chart), Arc::clone(&index)));
                for document in DocumentKind::ALL {
                    self.guards.remove(&DocRef::new(chart.id.clone(), document));
                }
                index
            }
        };
        let pipeline = Arc::clone(&self.pipeline);
        let guard = self
            .guards
            .entry(key.clone())
            .or_insert_with(|| ProvenanceGuard::new(pipeline, index));
        let started = Instant::now();
        let spans_of = |key: &str| {
            provenance
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&[][..], |(_, spans)| spans.as_slice())
        };
        guard.update_all_with_provenance(
            sections
                .iter()
                .map(|(k, t)| (k.as_str(), t.as_str(), spans_of(k))),
        );
        let report = guard.report();
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        Action::GuardChecked {
            chart_id: key.chart_id,
            document,
            sections,
            report,
            micros,
        }
    }
}

impl GuardRunner {
    /// The chart's structured summary (problems, medications, labs, allergies, procedures),
    /// for the summary panel.
    pub fn summarize(&self, chart: &Chart) -> Action {
        let started = Instant::now();
        let summary = Arc::new(self.pipeline.structure(chart));
        tracing::debug!(
            problems = summary.problems.len(),
            medications = summary.medications.len(),
            ms = started.elapsed().as_millis() as u64,
            "chart summarized"
        );
        Action::ChartSummary {
            chart_id: chart.id.clone(),
            summary,
        }
    }
}

/// Work for the guard thread.
enum Work {
    Check(GuardRequest),
    Summarize(Arc<Chart>),
}

/// The handle the event loop sends draft changes to; the thread owns a [`GuardRunner`].
pub struct GuardWorker {
    requests: InboxSender<DocRef, (Work, ActionSender)>,
}

impl GuardWorker {
    /// Starts the worker. It waits for the pipeline on `pipeline` (sent once the entity
    /// worker has loaded it); if that never comes, requests are answered with a message.
    pub fn start(pipeline: Receiver<Arc<Pipeline>>) -> std::io::Result<Self> {
        let (requests, received) = inbox();
        std::thread::Builder::new()
            .name("karte-guard".into())
            .spawn(move || run(pipeline, received))?;
        Ok(Self { requests })
    }

    /// Checks the request's text (answer: `Action::GuardChecked`); a newer request for the
    /// same document replaces this one while it waits.
    pub fn check(&self, request: GuardRequest, actions: ActionSender) {
        let key = DocRef::new(request.chart.id.clone(), request.document);
        self.send(Some(key), Work::Check(request), actions);
    }

    /// Structures `chart` for the summary panel (answer: `Action::ChartSummary`).
    pub fn summarize(&self, chart: Arc<Chart>, actions: ActionSender) {
        self.send(None, Work::Summarize(chart), actions);
    }

    fn send(&self, key: Option<DocRef>, work: Work, actions: ActionSender) {
        if let Err(Stopped { first: true }) = self.requests.send(key, (work, actions.clone())) {
            let _ = actions.send(Action::Status(
                "照合処理が停止しています — karte を再起動してください".into(),
            ));
        }
    }
}

fn run(pipeline: Receiver<Arc<Pipeline>>, inbox: Inbox<DocRef, (Work, ActionSender)>) {
    let Ok(pipeline) = pipeline.recv() else {
        // The pipeline did not load (the entity worker said why). Say so once: repeating it
        // on every keystroke would hide every other status message.
        let mut told = false;
        while let Some((_, actions)) = inbox.recv() {
            if !told {
                told = true;
                let _ = actions.send(Action::Status(
                    "根拠の照合ができません: 辞書を読み込めません — karte setup を実行してください"
                        .into(),
                ));
            }
        }
        return;
    };
    let mut runner = GuardRunner::new(pipeline);
    while let Some((work, actions)) = inbox.recv() {
        let answer = match work {
            Work::Check(request) => runner.check(request),
            Work::Summarize(chart) => runner.summarize(&chart),
        };
        if actions.send(answer).is_err() {
            return; // the screen has closed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn without_a_pipeline_the_guard_says_so_once() {
        let (share, pipeline) = std::sync::mpsc::channel::<Arc<Pipeline>>();
        drop(share); // the entity worker could not load the dictionary
        let worker = GuardWorker::start(pipeline).unwrap();
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/demo/01-naika-pneumonia.json");
        let chart = Arc::new(crate::chart::load(&path).unwrap());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for text in ["肺炎", "肺炎で入院", "肺炎で入院した"] {
            worker.check(
                GuardRequest {
                    chart: Arc::clone(&chart),
                    document: DocumentKind::Referral,
                    sections: vec![("purpose".into(), text.into())],
                    provenance: Vec::new(),
                },
                tx.clone(),
            );
        }
        worker.summarize(Arc::clone(&chart), tx);
        drop(worker); // the thread ends once every request is read
        let mut said = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match rx.try_recv() {
                Ok(action) => said.push(action),
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => break,
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                    assert!(Instant::now() < deadline, "the guard thread did not end");
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            matches!(&said[0], Action::Status(s) if s.contains("karte setup")),
            "{said:?}"
        );
    }
}
