//! Entity extraction for the chart pane's highlights, on its own thread: loads the NLP
//! pipeline (IPADIC + lexicon) once, then extracts every note of each chart it is sent and
//! reports `Action::Entities` per note. The UI never waits for it. Requests wait in the
//! workers' latest-wins inbox: a newer request for the same chart or the same draft
//! section replaces the waiting one.

use crate::chart::Chart;
use crate::nlp::Pipeline;
use crate::tui::action::{Action, EntityTarget};
use crate::tui::workers::inbox::{inbox, Inbox, InboxSender};
use crate::tui::workers::{ActionSender, EntityService};
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::Arc;

/// Work for the extraction thread.
enum Request {
    /// Every note of a chart.
    Chart(Arc<Chart>),
    /// One text (a draft section).
    Text { target: EntityTarget, text: String },
}

impl Request {
    /// What a newer request replaces a waiting one of: the same chart, the same text.
    fn key(&self) -> RequestKey {
        match self {
            Request::Chart(chart) => RequestKey::Chart(chart.id.clone()),
            Request::Text { target, .. } => RequestKey::Text(target.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RequestKey {
    Chart(String),
    Text(EntityTarget),
}

/// Requests go to the worker thread through this.
pub struct EntitiesWorker {
    requests: InboxSender<RequestKey, (Request, ActionSender)>,
}

impl EntitiesWorker {
    /// Starts the worker; the pipeline loads from `ipadic_dir` in the background. If it
    /// cannot load, the first chart sent gets a status message saying why, and no highlights.
    pub fn start(ipadic_dir: PathBuf) -> std::io::Result<Self> {
        Self::start_sharing(ipadic_dir, None)
    }

    /// Like `start`, and hands the loaded pipeline to `share` (the provenance guard's
    /// worker uses the same one; it is loaded once).
    pub fn start_sharing(
        ipadic_dir: PathBuf,
        share: Option<Sender<Arc<Pipeline>>>,
    ) -> std::io::Result<Self> {
        let (requests, received) = inbox();
        std::thread::Builder::new()
            .name("karte-nlp".into())
            .spawn(move || run(ipadic_dir, received, share))?;
        Ok(Self { requests })
    }
}

impl EntitiesWorker {
    fn send(&self, request: Request, actions: ActionSender) {
        // A gone worker has said why (the dictionary did not load); highlights are optional,
        // so nothing more is said.
        let _ = self.requests.send(Some(request.key()), (request, actions));
    }
}

impl EntityService for EntitiesWorker {
    fn analyze(&mut self, chart: Arc<Chart>, actions: ActionSender) {
        self.send(Request::Chart(chart), actions);
    }

    fn analyze_text(&mut self, target: EntityTarget, text: String, actions: ActionSender) {
        self.send(Request::Text { target, text }, actions);
    }
}

fn run(
    ipadic_dir: PathBuf,
    requests: Inbox<RequestKey, (Request, ActionSender)>,
    share: Option<Sender<Arc<Pipeline>>>,
) {
    let pipeline = match Pipeline::load(&ipadic_dir) {
        Ok(pipeline) => Arc::new(pipeline),
        Err(error) => {
            drop(share); // the guard worker learns there will be no pipeline
            tracing::warn!("no highlights: the NLP pipeline did not load: {error}");
            if let Some((_, actions)) = requests.recv() {
                let _ = actions.send(Action::Status(format!(
                    "強調表示なし: 辞書を読み込めません ({error}) — karte setup を実行してください"
                )));
            }
            return;
        }
    };
    if let Some(share) = share {
        let _ = share.send(Arc::clone(&pipeline));
    }
    while let Some((request, actions)) = requests.recv() {
        let answered = match request {
            Request::Chart(chart) => extract_chart(&pipeline, &chart, &actions),
            Request::Text { target, text } => {
                let entities = pipeline.extract(&text);
                actions.send(Action::Entities { target, entities }).is_ok()
            }
        };
        if !answered {
            return; // the screen has closed
        }
    }
}

/// Sends the entities of every note; false when the screen is gone.
fn extract_chart(pipeline: &Pipeline, chart: &Chart, actions: &ActionSender) -> bool {
    let started = std::time::Instant::now();
    let mut count = 0;
    for note in &chart.notes {
        let entities = pipeline.extract(&note.text);
        count += entities.len();
        let target = EntityTarget::Note {
            chart_id: chart.id.clone(),
            note_id: note.id.clone(),
        };
        if actions.send(Action::Entities { target, entities }).is_err() {
            return false;
        }
    }
    // Counts and timings only: chart text never goes to the log.
    tracing::debug!(
        notes = chart.notes.len(),
        entities = count,
        ms = started.elapsed().as_millis() as u64,
        "chart analyzed"
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::AppPaths;
    use std::time::Duration;

    fn demo_chart() -> Arc<Chart> {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/01-naika-pneumonia.json");
        Arc::new(crate::chart::load(&path).unwrap())
    }

    #[test]
    fn every_note_of_a_chart_gets_its_entities_from_the_real_pipeline() {
        let ipadic = AppPaths::discover().unwrap().ipadic_dir();
        let mut service = EntitiesWorker::start(ipadic).unwrap();
        let chart = demo_chart();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        service.analyze(Arc::clone(&chart), tx);
        let mut seen = 0;
        let mut total = 0;
        while seen < chart.notes.len() {
            let action = rx.blocking_recv().expect("one answer per note");
            let Action::Entities { target, entities } = action else {
                panic!("unexpected {action:?}");
            };
            let EntityTarget::Note { note_id, .. } = target else {
                panic!("note target expected");
            };
            let note = chart.note(&note_id).unwrap();
            for e in &entities {
                let slice: String = note
                    .text
                    .chars()
                    .skip(e.start)
                    .take(e.end - e.start)
                    .collect();
                assert_eq!(slice, e.text, "offsets are char offsets into the note");
            }
            total += entities.len();
            seen += 1;
        }
        assert!(
            total > 10,
            "a pneumonia chart has findings, drugs, tests: {total}"
        );
    }

    #[test]
    fn a_missing_dictionary_is_said_once_in_the_status_bar() {
        let dir = tempfile::tempdir().unwrap();
        let mut service = EntitiesWorker::start(dir.path().join("nope")).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        service.analyze(demo_chart(), tx);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let answer = loop {
            if let Ok(action) = rx.try_recv() {
                break action;
            }
            assert!(std::time::Instant::now() < deadline, "no answer");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            matches!(answer, Action::Status(ref s) if s.contains("karte setup")),
            "{answer:?}"
        );
    }
}
