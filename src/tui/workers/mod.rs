//! The workers behind the screen (gitui's asyncgit idea): each gets `Effect`s from the event
//! loop and answers with `Action`s on a channel, never blocking the UI. The model engine is
//! started here so the draft pane can show its load state; drafting runs in `draft`, entity
//! extraction (highlights) in `entities`, the provenance guard in `guard`, chart locks and
//! journals in `document`, signing and exports in `review`, the queue scan in `queue`, the
//! Metrics report in `metrics_report`, the recorder in `metrics_hooks`.
//!
//! # The contract every worker keeps (a new one too)
//! - **start**: a constructor starts its thread or task and returns a handle at once; a
//!   worker that cannot start is `None` in [`Services`] and the screen says what is missing;
//! - **request**: a method on the handle sends one request and returns at once (the UI
//!   never waits); the `ActionSender` it answers on travels with the request;
//! - **answer**: every result comes back as an `Action` through `update`, which is the only
//!   code that changes the screen state;
//! - **stopped**: a worker that is gone (or never got what it needs) says so once, as a
//!   status message, not on every request; dropping the handle stops the worker;
//! - **latest wins** where only the newest request matters: the worker's requests wait in
//!   the one [`inbox`], keyed by what they are about (a document for the guard, a chart or
//!   a draft section for the entities); a newer request replaces the waiting one of its key
//!   (never one already started), and the inbox tells the handle, once, that the worker is
//!   gone ([`inbox::Stopped`]).
//!
//! # Names
//! A worker's handle is named after its file: `GuardWorker` (guard.rs), `EntitiesWorker`
//! (entities.rs), `DraftWorker` (draft.rs), `DocumentWorker` (document.rs). Where the work
//! itself is tested without a thread, it is a type of its own that the thread owns:
//! `GuardRunner` in the guard's thread, `DocumentService` (the open document's store
//! session) in the document thread. The traits [`DraftService`] and [`EntityService`] are
//! what the event loop holds for drafting and highlights.
//!
//! # Who coalesces what
//! - guard: latest wins per document (the inbox), chart summaries are never dropped;
//! - entities: latest wins per chart and per draft section (the inbox); a missing
//!   dictionary is said once, and highlights being optional, a gone worker says nothing
//!   more;
//! - drafting and section regeneration: the model engine queues them itself, so there is
//!   no waiting request to replace; `DraftWorker` keeps the newest session per document
//!   and cancels the one it replaces (a new draft or a regenerated section of the same
//!   document);
//! - documents (locks, journals): every request is done, in order (an edit is never
//!   dropped); a stopped document thread is written to the log (the journal's health
//!   reaches the screen while it runs); the queue scan, the metrics report and the recorder take no requests that
//!   could be replaced.

pub mod document;
pub mod draft;
pub mod entities;
pub mod guard;
pub mod inbox;
pub mod metrics_hooks;
pub mod metrics_report;
pub mod queue;
pub mod review;

use crate::chart::Chart;
use crate::context::Context;
use crate::llm::{Engine, EngineConfig, ModelManifest};
use crate::tui::action::{Action, EntityTarget};
use crate::tui::state::document_state::DocumentKind;
use crate::tui::state::model_status::ModelState;
use crate::tui::workers::document::{DocumentService, DocumentWorker};
use crate::tui::workers::draft::DraftWorker;
use crate::tui::workers::entities::EntitiesWorker;
use crate::tui::workers::metrics_report::MetricsReportLoader;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

pub type ActionSender = UnboundedSender<Action>;

/// Writes drafts. Implementations return at once and report through `actions` with
/// `Action::Draft` events: `Started` (the sections), `Text`/`SectionDone` as text streams,
/// then `Finished`, `Failed` or `Cancelled`.
///
/// With `karte::draft::DraftSession` (branch llm) an implementation is a forwarding task:
/// `Started { sections }` → `Started` (`generated` = narrative section), `Token { index,
/// text }` → `Text`, `SectionDone { index, section }` → `SectionDone { text:
/// Some(section.text) }`, `Truncated` → `Action::Status`, `Finished`/`Cancelled`/`Failed`
/// → the same; `cancel` calls `DraftSession::cancel`.
pub trait DraftService: Send {
    fn generate(&mut self, chart: Arc<Chart>, document: DocumentKind, actions: ActionSender);
    fn cancel(&mut self, chart_id: &str, document: DocumentKind);

    /// Writes one section (by heading) again and answers with one
    /// `Action::SectionRegenerated`. With `karte::draft` this is a `DraftSession` whose
    /// request has `only_sections = Some(vec![key])` (the key: `DocumentTemplate::section_key`).
    /// A drafter that cannot do this says so (the default).
    fn regenerate_section(
        &mut self,
        chart: Arc<Chart>,
        document: DocumentKind,
        heading: String,
        mode: Option<crate::draft::DraftMode>,
        actions: ActionSender,
    ) {
        let _ = mode;
        let _ = actions.send(Action::SectionRegenerated {
            chart_id: chart.id.clone(),
            document,
            heading,
            result: Err("この下書きサービスはセクション単位の再生成に対応していません".into()),
        });
    }
}

/// Finds entities off the UI thread and reports `Action::Entities`: one per note of a chart
/// (`EntityTarget::Note`), or one for a single text such as a draft section.
pub trait EntityService: Send {
    fn analyze(&mut self, chart: Arc<Chart>, actions: ActionSender);
    fn analyze_text(&mut self, target: EntityTarget, text: String, actions: ActionSender);
}

/// What the event loop can hand work to. A missing service is reported in the status bar
/// when its work is asked for.
#[derive(Default)]
pub struct Services {
    /// The model, loading in the background from startup (shared with a `DraftService`).
    pub engine: Option<Arc<Engine>>,
    pub drafts: Option<Box<dyn DraftService>>,
    pub entities: Option<Box<dyn EntityService>>,
    /// Chart locks, journals and recovery of the documents being edited.
    pub documents: Option<DocumentWorker>,
    /// The metrics recorder, fed by the event loop after each action.
    pub metrics_hooks: crate::tui::workers::metrics_hooks::MetricsHooks,
    pub metrics: Option<MetricsReportLoader>,
    /// The provenance guard (re-checks the draft on every change).
    pub guard: Option<crate::tui::workers::guard::GuardWorker>,
}

impl Services {
    /// Starts the model engine (it loads in the background; its load events become
    /// `Action::Model`) and the entity worker. Must run inside the tokio runtime.
    pub fn connect(ctx: &Context, actions: &ActionSender) -> Self {
        let manifest = ModelManifest::default_model();
        let config =
            EngineConfig::from_settings(ctx.model_path.clone(), &ctx.config.llm, &manifest);
        let (engine, mut events) = Engine::start(config);
        let model_actions = actions.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let Some(state) = ModelState::from_engine_event(&event) {
                    if model_actions.send(Action::Model(state)).is_err() {
                        break;
                    }
                }
            }
        });
        let (share_pipeline, shared_pipeline) = std::sync::mpsc::channel();
        let guard = crate::tui::workers::guard::GuardWorker::start(shared_pipeline)
            .map_err(|error| tracing::warn!("no guard worker thread: {error}"))
            .ok();
        let entities =
            match EntitiesWorker::start_sharing(ctx.paths.ipadic_dir(), Some(share_pipeline)) {
                Ok(service) => Some(Box::new(service) as Box<dyn EntityService>),
                Err(error) => {
                    tracing::warn!("no entity worker thread: {error}");
                    None
                }
            };
        let engine = Arc::new(engine);
        let drafts = DraftWorker::new(
            Arc::clone(&engine),
            ctx.paths.config_dir.clone(),
            ctx.config.llm.sampling(&manifest.sampling),
        )
        .with_mode(manifest.draft.mode.parse().unwrap_or_default())
        .with_guard_dictionary(&ctx.paths.ipadic_dir());
        Self {
            engine: Some(engine),
            drafts: Some(Box::new(drafts)),
            entities,
            documents: DocumentWorker::spawn(DocumentService::from_context(ctx), actions.clone())
                .map_err(|e| tracing::warn!("no document thread: {e}"))
                .ok(),
            metrics_hooks: crate::tui::workers::metrics_hooks::MetricsHooks::start(ctx),
            metrics: Some(MetricsReportLoader::from_context(ctx)),
            guard,
        }
    }
}
