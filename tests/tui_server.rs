//! The TUI drafting through a real llama-server: the status bar names the server and the
//! model; the server killed mid-draft gives a Japanese message naming the server and what
//! to do, and the text streamed so far stays on screen.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod server_support;
mod tui_support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use karte::llm::{Engine, EngineConfig, ModelManifest, ServerSettings};
use karte::tui::action::Action;
use karte::tui::state::draft_view::{DraftEvent, DraftPhase};
use karte::tui::update::update;
use karte::tui::DraftService;
use karte::tui::DraftWorker;
use karte::tui::ModelState;
use karte::tui::{DocRef, DocumentKind};
use server_support::{model_path, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_draft_gives_a_japanese_message_and_keeps_the_text() {
    let mut server = TestServer::start(1, &[]);
    let url = server.url();
    let mut config = EngineConfig::new(model_path());
    config.server = Some(ServerSettings::new(&url));
    let (engine, mut load_events) = Engine::start(config);
    let ready = loop {
        let event = tokio::time::timeout(Duration::from_secs(60), load_events.recv())
            .await
            .expect("the engine reports")
            .expect("the engine is alive");
        match ModelState::from_engine_event(&event) {
            Some(state @ ModelState::Ready { .. }) => break state,
            Some(ModelState::Failed { message }) => panic!("{message}"),
            _ => {}
        }
    };
    let mut app = tui_support::app(200, 40, ready);
    let screen = tui_support::screen(&tui_support::draw(&app));
    let bar = screen.lines().last().unwrap().to_string();
    assert!(
        bar.contains(&format!("サーバー {url}")) && bar.contains("gemma-3-270m"),
        "the status bar names the engine and the model: {bar}"
    );

    let config_dir = tempfile::tempdir().unwrap();
    let sampling = ModelManifest::default_model().sampling_defaults();
    let mut service = DraftWorker::new(Arc::new(engine), config_dir.path().to_path_buf(), sampling)
        .with_max_tokens(Some(2000));
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/01-naika-pneumonia.json");
    let chart = Arc::new(karte::chart::load(&path).unwrap());
    let chart_id = chart.id.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    service.generate(chart, DocumentKind::Discharge, tx);
    let mut streamed = String::new();
    loop {
        let action = tokio::time::timeout(Duration::from_secs(300), rx.recv())
            .await
            .expect("the draft reports")
            .expect("the service is alive");
        let end = match &action {
            Action::Draft { event, .. } => {
                if let DraftEvent::Text { text, .. } = event {
                    streamed.push_str(text);
                    if streamed.chars().count() >= 3 {
                        server.kill();
                    }
                }
                matches!(
                    event,
                    DraftEvent::Failed { .. } | DraftEvent::Finished | DraftEvent::Cancelled
                )
            }
            _ => false,
        };
        update(&mut app, action);
        if end {
            break;
        }
    }
    let view = &app.drafts[&DocRef::new(chart_id, DocumentKind::Discharge)];
    let DraftPhase::Failed(message) = &view.phase else {
        panic!("the draft must fail: {:?}", view.phase);
    };
    assert!(
        message.contains(&format!("推論サーバー {url}"))
            && (message.contains("途中で切れました") || message.contains("接続できません"))
            && message.contains("下書きは残っています"),
        "{message}"
    );
    let kept: String = view
        .sections
        .iter()
        .filter(|s| s.generated)
        .map(|s| s.text.as_str())
        .collect();
    assert!(
        !streamed.is_empty() && kept.contains(streamed.trim()),
        "the streamed text {streamed:?} is kept: {kept:?}"
    );
    let status = app.status.clone().unwrap_or_default();
    assert!(
        status.contains("下書きに失敗") && status.contains("推論サーバー"),
        "{status}"
    );
}
