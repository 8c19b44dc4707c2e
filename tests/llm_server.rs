//! The server engine against a real llama-server (built by scripts/build-llama-server.sh)
//! that each test starts on 127.0.0.1 on a free port with the default model: a draft
//! streams through it, a fixed seed repeats, a cancel frees the server's slot, a
//! regeneration hits the prompt cache, a server killed mid-stream gives the message and
//! keeps the text, a wrong API key gives the 401 message, a closed port the unreachable
//! message, and two concurrent drafts both finish.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod server_support;

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use karte::chart::Chart;
use karte::draft::{
    run_blocking, DocumentKind, DocumentTemplate, DraftEvent, DraftRequest, DraftSession,
    SectionKind,
};
use karte::llm::{
    event_channel, Engine, EngineConfig, EngineEvent, FinishReason, GenerateRequest, LlmError,
    ModelManifest, Prompt, ServerSettings, TokenCounting,
};
use server_support::{model_path, TestServer};

fn server_engine(settings: ServerSettings) -> Arc<Engine> {
    let mut config = EngineConfig::new(model_path());
    config.server = Some(settings);
    let (engine, _events) = Engine::start(config);
    Arc::new(engine)
}

fn chart() -> Chart {
    serde_json::from_str(include_str!("draft_chart.json")).unwrap()
}

fn draft_request(seed: u32, max_tokens: usize) -> DraftRequest {
    let mut r = DraftRequest::new(
        chart(),
        DocumentTemplate::builtin(DocumentKind::Discharge),
        ModelManifest::default_model().sampling_defaults(),
    );
    r.seed = seed;
    r.max_tokens = Some(max_tokens);
    r
}

fn long_request(prompt: &str, max_tokens: usize) -> GenerateRequest {
    let mut request = GenerateRequest::new(
        Prompt::Text(prompt.to_string()),
        ModelManifest::default_model().sampling_defaults(),
    );
    request.max_tokens = max_tokens;
    request.ignore_eos = true;
    request
}

#[test]
fn a_draft_streams_and_a_fixed_seed_repeats() {
    let server = TestServer::start(1, &[]);
    let engine = server_engine(ServerSettings::new(&server.url()));
    let info = engine.wait_loaded().unwrap();
    assert_eq!(info.server.as_deref(), Some(server.url().as_str()));
    assert!(info.n_ctx >= 4096, "{info:?}");
    // Budgets are counted by the server's own tokenizer.
    let tokenizer = engine.tokenizer().unwrap();
    assert_eq!(tokenizer.counting(), TokenCounting::Server);
    let text = "退院時サマリー：肺炎は軽快した。";
    let n = tokenizer.count(text);
    assert!(n >= 3 && n < text.len(), "{n}");

    // Two narrative sections (and the factual ones) keep the test short.
    let two_sections = || {
        let mut r = draft_request(7, 16);
        let narrative: Vec<String> = r
            .template
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Narrative)
            .map(|s| s.key.clone())
            .take(2)
            .collect();
        r.only_sections = Some(narrative);
        r
    };
    let mut tokens = 0;
    let first = run_blocking(Arc::clone(&engine), two_sections(), |e| {
        if matches!(e, DraftEvent::Token { .. }) {
            tokens += 1;
        }
    })
    .unwrap();
    assert!(tokens >= 2, "{tokens} token events");
    let narrative: Vec<_> = first
        .sections
        .iter()
        .filter(|s| s.timing.is_some())
        .collect();
    assert!(!narrative.is_empty());
    for s in &narrative {
        let t = s.timing.as_ref().unwrap();
        assert!(t.generated_tokens > 0 && t.prompt_tokens > 0, "{t:?}");
        assert!(t.server_tokens_per_s.is_some(), "{t:?}");
    }
    assert_eq!(narrative.len(), 2);
    // llama-server computes a cold prompt in other batches than a cached one, so the
    // first (cold) draft of a chart may differ in its last bits; once the chart's prefix is
    // cached, the same seed gives the same draft, again and again.
    let again = run_blocking(Arc::clone(&engine), two_sections(), |_| {}).unwrap();
    let third = run_blocking(Arc::clone(&engine), two_sections(), |_| {}).unwrap();
    assert_eq!(again.to_text(), third.to_text(), "same seed, same draft");
    let mut other_seed = two_sections();
    other_seed.seed = 8;
    let other = run_blocking(Arc::clone(&engine), other_seed, |_| {}).unwrap();
    assert_ne!(
        other.to_text(),
        third.to_text(),
        "the seed reaches the server"
    );
}

#[test]
fn a_regeneration_hits_the_prompt_cache() {
    let server = TestServer::start(1, &[]);
    let engine = server_engine(ServerSettings::new(&server.url()));
    engine.wait_loaded().unwrap();
    let prefix = "■診療記録\n".to_string()
        + &"[2025-01-01 経過] 発熱と咳が続き、抗菌薬で加療した。\n".repeat(40);
    let mut request = GenerateRequest::new(
        Prompt::Text(format!("{prefix}【経過】\n")),
        ModelManifest::default_model().sampling_defaults(),
    );
    request.max_tokens = 4;
    let cold = engine.generate(request.clone(), |_| {}).unwrap();
    let cold = cold.timing.unwrap();
    request.seed = 99; // a regeneration: another seed, the same prompt
    let warm = engine
        .generate(request.clone(), |_| {})
        .unwrap()
        .timing
        .unwrap();
    assert!(cold.prompt_tokens > 400, "{cold:?}");
    assert!(
        warm.reused_tokens + 8 >= warm.prompt_tokens,
        "the server reused {} of {} prompt tokens",
        warm.reused_tokens,
        warm.prompt_tokens
    );
    // Another section: the same chart prefix, another header.
    request.prompt = Prompt::Text(format!("{prefix}【退院時処方】\n"));
    let other = engine.generate(request, |_| {}).unwrap().timing.unwrap();
    assert!(
        other.reused_tokens + 16 >= cold.prompt_tokens,
        "{other:?} vs {cold:?}"
    );
}

#[test]
fn a_cancel_frees_the_servers_slot() {
    let server = TestServer::start(1, &[]);
    let engine = server_engine(ServerSettings::new(&server.url()));
    engine.wait_loaded().unwrap();
    let (sink, mut events) = event_channel();
    let handle = engine.submit(long_request("経過：", 4000), sink);
    let mut text = String::new();
    while text.chars().count() < 5 {
        match events.blocking_recv() {
            Some(EngineEvent::Token { text: t, .. }) => text.push_str(&t),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        server.busy_slots(),
        1,
        "the slot generates before the cancel"
    );
    handle.cancel();
    loop {
        match events.blocking_recv() {
            Some(EngineEvent::Finished { reason, .. }) => {
                assert_eq!(reason, FinishReason::Cancelled);
                break;
            }
            Some(EngineEvent::Token { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.busy_slots() > 0 {
        assert!(
            Instant::now() < deadline,
            "the server still generates 5 s after the cancel"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_server_killed_mid_stream_gives_the_message_and_keeps_the_text() {
    let mut server = TestServer::start(1, &[]);
    let url = server.url();
    let engine = server_engine(ServerSettings::new(&url));
    engine.wait_loaded().unwrap();
    let (sink, mut events) = event_channel();
    let _handle = engine.submit(long_request("経過：", 4000), sink);
    let mut text = String::new();
    let error = loop {
        match events.blocking_recv() {
            Some(EngineEvent::Token { text: t, .. }) => {
                text.push_str(&t);
                if text.chars().count() >= 5 && server.child.try_wait().unwrap().is_none() {
                    server.kill();
                }
            }
            Some(EngineEvent::Error { error, .. }) => break error,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(text.chars().count() >= 5, "the text so far is still here");
    assert!(
        matches!(error, LlmError::ServerStreamCut { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&url) && message.contains("途中で切れました"),
        "{message}"
    );
    assert!(message.contains("下書きは残っています"), "{message}");

    // A draft through the dead server: the TUI's message, naming the server.
    let failed = run_blocking(engine, draft_request(1, 8), |_| {}).unwrap_err();
    let message = failed.to_string();
    assert!(
        message.contains("接続できません") && message.contains(&url),
        "{message}"
    );
}

#[test]
fn a_wrong_api_key_gives_the_401_message_and_the_right_one_works() {
    let server = TestServer::start(1, &["--api-key", "right-key-1234"]);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "wrong-key-5678\n").unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut settings = ServerSettings::new(&server.url());
    settings.api_key_file = Some(key_file.clone());
    let engine = server_engine(settings.clone());
    let outcome = engine
        .wait_loaded()
        .and_then(|_| engine.generate(long_request("経過：", 4), |_| {}));
    let error = outcome.unwrap_err();
    assert!(
        matches!(error, LlmError::ServerAuth { status: 401, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("API キー") && message.contains(&server.url()),
        "{message}"
    );
    assert!(!message.contains("wrong-key"), "{message}");

    std::fs::write(&key_file, "right-key-1234\n").unwrap();
    let engine = server_engine(settings);
    engine.wait_loaded().unwrap();
    let done = engine.generate(long_request("経過：", 4), |_| {}).unwrap();
    assert_eq!(done.reason, FinishReason::MaxTokens);
}

#[test]
fn a_closed_port_gives_the_unreachable_message() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let engine = server_engine(ServerSettings::new(&url));
    let error = engine.wait_loaded().unwrap_err();
    assert!(
        matches!(error, LlmError::ServerUnreachable { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("接続できません") && message.contains(&url),
        "{message}"
    );
    // A request meanwhile gets the same message, at once.
    let started = Instant::now();
    let error = engine.generate(long_request("a", 4), |_| {}).unwrap_err();
    assert!(
        matches!(error, LlmError::ServerUnreachable { .. }),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn two_concurrent_drafts_through_one_server_both_finish() {
    let server = TestServer::start(2, &[]);
    let engine = server_engine(ServerSettings::new(&server.url()));
    engine.wait_loaded().unwrap();
    let mut a = DraftSession::start(Arc::clone(&engine), draft_request(1, 16));
    let mut b = DraftSession::start(Arc::clone(&engine), draft_request(2, 16));
    let finish = |session: &mut DraftSession| loop {
        match session.events.blocking_recv() {
            Some(DraftEvent::Finished(draft)) => return draft,
            Some(DraftEvent::Failed { error }) => panic!("{error}"),
            Some(_) => {}
            None => panic!("the session ended without a result"),
        }
    };
    let (da, db) = std::thread::scope(|s| {
        let ta = s.spawn(|| finish(&mut a));
        let tb = s.spawn(|| finish(&mut b));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert!(da.sections.iter().any(|s| s.timing.is_some()));
    assert!(db.sections.iter().any(|s| s.timing.is_some()));
}
