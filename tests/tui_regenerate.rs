//! Regenerating one section of a document with the real default model: the draft service
//! runs a session for only that section's template key and answers with its new text; a
//! heading the template does not know is refused with a reason.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::llm::{Engine, EngineConfig, ModelManifest};
use karte::paths::AppPaths;
use karte::tui::Action;
use karte::tui::DocumentKind;
use karte::tui::DraftService;
use karte::tui::DraftWorker;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

async fn answer(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Action>,
) -> (String, Result<String, String>) {
    loop {
        let action = tokio::time::timeout(Duration::from_secs(300), rx.recv())
            .await
            .expect("the regeneration answers")
            .expect("the service is alive");
        if let Action::SectionRegenerated {
            heading, result, ..
        } = action
        {
            return (heading, result);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_section_is_written_again_by_the_model() {
    let model = AppPaths::discover()
        .unwrap()
        .models_dir()
        .join("gemma-3-270m-q4_k_m.gguf");
    let (engine, _load_events) = Engine::start(EngineConfig::new(model));
    let sampling = ModelManifest::default_model().sampling_defaults();
    let config_dir = tempfile::tempdir().unwrap();
    let mut service = DraftWorker::new(Arc::new(engine), config_dir.path().to_path_buf(), sampling)
        .with_max_tokens(Some(16));
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/01-naika-pneumonia.json");
    let chart = Arc::new(karte::chart::load(&path).unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();

    service.regenerate_section(
        Arc::clone(&chart),
        DocumentKind::Referral,
        "紹介目的".into(),
        None,
        tx.clone(),
    );
    let (heading, result) = answer(&mut rx).await;
    assert_eq!(heading, "紹介目的");
    let text = result.expect("the model wrote the section");
    assert!(!text.contains('【'), "only the section's body: {text:?}");

    // A factual section is filled from the chart again (no model needed for it).
    service.regenerate_section(
        Arc::clone(&chart),
        DocumentKind::Referral,
        "アレルギー".into(),
        None,
        tx.clone(),
    );
    let (heading, result) = answer(&mut rx).await;
    assert_eq!(heading, "アレルギー");
    assert!(result.is_ok(), "{result:?}");

    service.regenerate_section(
        chart,
        DocumentKind::Referral,
        "存在しない見出し".into(),
        None,
        tx,
    );
    let (_, result) = answer(&mut rx).await;
    assert!(result.unwrap_err().contains("様式にない"));
}
